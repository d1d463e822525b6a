//! How things are said: long texts cut short, sizes, time limits and URLs
//! as people write them, digests in hexadecimal.

use std::time::Duration;

/// The first `chars` characters of `text`, and `…` when there was more.
/// Every message that quotes something unbounded (a Connect answer, an
/// error recorded in an annotation) is cut here, the same way.
#[must_use]
pub fn truncate(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", text.get(..i).unwrap_or(text)),
        None => text.to_string(),
    }
}

/// `128 MiB`, `1 GiB`, `512 bytes`.
#[must_use]
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    match UNITS.iter().find(|(_, size)| bytes >= *size && bytes % size == 0) {
        Some((unit, size)) => format!("{} {unit}", bytes / size),
        None => format!("{bytes} bytes"),
    }
}

/// What is wrong with a value read from outside (a size, a connector name,
/// a ConfigMap's field, an annotation, an answer of Connect), said for the
/// person who can fix it. Nothing branches on what it says: one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

impl From<String> for Invalid {
    fn from(message: String) -> Invalid {
        Invalid(message)
    }
}

impl From<&str> for Invalid {
    fn from(message: &str) -> Invalid {
        Invalid(message.to_string())
    }
}

/// Why clap refuses a setting's value; it names the flag or the variable
/// that gave it.
#[derive(Debug)]
pub enum BadValue {
    /// A URL Connect cannot be reached at.
    NotHttp,
    /// Not a duration such as `2s`.
    Duration(humantime::DurationError),
    /// A time limit of zero, in which nothing could finish.
    Zero,
}

impl std::fmt::Display for BadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadValue::NotHttp => f.write_str("must start with http:// or https://"),
            BadValue::Duration(e) => write!(f, "{e}"),
            BadValue::Zero => f.write_str("must be longer than 0s"),
        }
    }
}

impl std::error::Error for BadValue {}

/// A Connect URL: HTTP or HTTPS.
pub fn http_url(text: &str) -> Result<String, BadValue> {
    if text.starts_with("http://") || text.starts_with("https://") {
        Ok(text.to_string())
    } else {
        Err(BadValue::NotHttp)
    }
}

/// A time limit: a duration longer than zero.
pub fn positive_duration(text: &str) -> Result<Duration, BadValue> {
    match humantime::parse_duration(text).map_err(BadValue::Duration)? {
        Duration::ZERO => Err(BadValue::Zero),
        limit => Ok(limit),
    }
}

/// `1 error`, `2 errors`: a count and its noun, in the plural when not one.
#[must_use]
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// `128Mi`, `128MiB`, `1Gi`, `65536`: sizes as Kubernetes and people write them.
pub fn parse_size(text: &str) -> Result<u64, Invalid> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().map_err(|_| Invalid(format!("{text:?} is not a size such as 128MiB")))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "Ki" | "KiB" => 1 << 10,
        "Mi" | "MiB" => 1 << 20,
        "Gi" | "GiB" => 1 << 30,
        other => return Err(Invalid(format!("unknown unit {other:?} in {text:?}; use Ki, Mi or Gi (KiB, MiB, GiB)"))),
    };
    number.checked_mul(factor).ok_or_else(|| Invalid(format!("{text:?} is too large")))
}

/// Each text to `write`, its length first: what a digest of several texts
/// hashes, so that no two lists of texts give the same bytes.
pub fn framed<'a>(texts: impl IntoIterator<Item = &'a str>, mut write: impl FnMut(&[u8])) {
    for text in texts {
        write(&(text.len() as u64).to_le_bytes());
        write(text.as_bytes());
    }
}

/// Bytes as lowercase hexadecimal, two digits each.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    let digit = |n: u8| char::from_digit(u32::from(n), 16).unwrap_or('0');
    let mut hex = String::with_capacity(2 * bytes.len());
    for b in bytes {
        hex.push(digit(b >> 4));
        hex.push(digit(b & 0xf));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("128MiB"), Ok(128 << 20));
        assert_eq!(parse_size("64Mi"), Ok(64 << 20));
        assert_eq!(parse_size("1 GiB"), Ok(1 << 30));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("12MB").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999999Gi").is_err());
        assert_eq!(format_size(128 << 20), "128 MiB");
        assert_eq!(format_size(1000), "1000 bytes");
    }

    #[test]
    fn long_texts_are_cut_the_same_way_everywhere() {
        let long = "x".repeat(5000);
        assert_eq!(truncate(&long, 1024).chars().count(), 1025);
        assert_eq!(truncate(&truncate(&long, 1024), 1024), truncate(&long, 1024), "a cut text compares equal");
        assert_eq!(truncate("short", 1024), "short");
        assert_eq!(truncate("ééé", 2), "éé…");
    }

    #[test]
    fn hex_is_two_lowercase_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[]), "");
    }
}
