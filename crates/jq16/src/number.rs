//! Numbers as jq 1.6 has them: every number is a double, written in its
//! shortest form that reads back the same, laid out as jq 1.6's
//! `jvp_dtoa_fmt` lays it out (`1e+17`, `1e-05`, `100`, never `2.0`).
//! Infinities are written as the largest double and NaN as `null`, so what
//! jq 1.6 writes is always JSON.

// Digit counts and exponents are small: the casts between them cannot lose anything.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

use jaq_json::Num;

/// The double jq 1.6 would hold for a jaq number.
#[must_use]
pub fn to_f64(n: &Num) -> f64 {
    match n {
        Num::Int(i) => *i as f64,
        Num::Float(f) => *f,
        // Big integers and decimal literals keep their text; jq reads it as a double.
        Num::BigInt(b) => b.to_string().parse().unwrap_or(f64::NAN),
        Num::Dec(d) => d.parse().unwrap_or(f64::NAN),
    }
}

/// `x` written as jq 1.6 writes a number.
#[must_use]
pub fn format(x: f64) -> String {
    if x.is_nan() {
        return "null".into();
    }
    let x = x.clamp(f64::MIN, f64::MAX);
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` gives the shortest digits that read back: `d.ddde±x`.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exponent.parse::<i32>().unwrap_or(0) + 1;
    let n = digits.len() as i32;
    let mut out = String::from(if x < 0.0 { "-" } else { "" });
    if point <= -4 || point > n + 15 {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = point - 1;
        out.push_str(&format!("e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs()));
    } else if point <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat(point.unsigned_abs() as usize));
        out.push_str(&digits);
    } else if point >= n {
        out.push_str(&digits);
        out.push_str(&"0".repeat((point - n) as usize));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pair is what jq 1.6 printed for `jq -n -c X` on this machine.
    #[test]
    fn numbers_are_written_as_jq_1_6_writes_them() {
        for (x, jq) in [
            (1e17, "1e+17"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000"),
            (12345678901234567.0, "12345678901234568"),
            (123456789012345678.0, "123456789012345680"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (0.00001234, "1.234e-05"),
            (1.5, "1.5"),
            (3.0, "3"),
            (1e300, "1e+300"),
            (f64::INFINITY, "1.7976931348623157e+308"),
            (f64::NEG_INFINITY, "-1.7976931348623157e+308"),
            (f64::NAN, "null"),
            (-0.0, "-0"),
            (-1.5e-10, "-1.5e-10"),
            (5e-324, "5e-324"),
            (1e20, "1e+20"),
        ] {
            assert_eq!(format(x), jq, "{x}");
        }
    }
}
