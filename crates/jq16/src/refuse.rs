//! jq 1.6 syntax that jaq cannot parse. A template that uses it is
//! refused, naming the construct and its rewrite, rather than failing
//! with a bare parse error.

/// Why the template cannot be run, when jaq failed to parse it because it
/// uses jq 1.6 syntax that jaq lacks.
#[must_use]
pub fn construct(code: &str) -> Option<String> {
    let code = outside_strings(code);
    let refused = |what: &str, rewrite: &str| Some(format!("{what} is not supported in templates; {rewrite}"));
    if code.contains("?//") {
        return refused(
            "the destructuring alternative `?//`",
            "bind each shape in its own `try (. as PATTERN | ...) catch ...`",
        );
    }
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    for (n, pair) in chars.windows(2).enumerate() {
        let [(at, c), (_, next)] = pair else { continue };
        let before = n.checked_sub(1).and_then(|m| chars.get(m)).map(|(_, b)| *b);
        let operand_before = before.is_some_and(|b| b.is_alphanumeric() || "_.)]}\"".contains(b));
        if *c == '.' && next.is_ascii_digit() && !operand_before {
            return refused("a number written with no digit before its point (`.5`)", "write `0.5`");
        }
        if *c == '$' && code.get(at + 1..).is_some_and(as_key_pattern) {
            return refused(
                "`{$name: pattern}` in a destructuring pattern",
                "bind it twice: `. as {$name} | . as {name: pattern}`",
            );
        }
    }
    None
}

/// After a `$`: `name:` followed by a pattern, as in `. as {$b: [$c]}`.
fn as_key_pattern(rest: &str) -> bool {
    let after_name = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    after_name.trim_start().strip_prefix(':').is_some_and(|p| p.trim_start().starts_with(['[', '{', '$']))
}

/// The `NAME`s of `env.NAME` and `$ENV.NAME` in the code, outside strings
/// and comments, each once, in order.
#[must_use]
pub fn env_names(code: &str) -> Vec<&str> {
    let blanked = outside_strings(code);
    let mut names: Vec<&str> = Vec::new();
    for (at, _) in blanked.match_indices("env.").chain(blanked.match_indices("ENV.")) {
        let before = blanked.get(..at).and_then(|b| b.chars().next_back());
        let word_start = match blanked.get(at..at + 1) {
            Some("E") => before == Some('$'),
            _ => before.is_none_or(|b| !(b.is_alphanumeric() || b == '_' || b == '$')),
        };
        let rest = code.get(at + 4..).unwrap_or("");
        let name = rest.get(..rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len()));
        let name = name.unwrap_or("");
        if word_start && !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The code with string literals and comments blanked, so that what they
/// hold is never taken for syntax.
fn outside_strings(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let (mut in_string, mut escaped, mut in_comment) = (false, false, false);
    for c in code.chars() {
        let blank = in_string || in_comment || c == '#';
        if in_comment {
            in_comment = c != '\n';
        } else if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_string = true;
        } else if c == '#' {
            in_comment = true;
        }
        // Blanked byte for byte, so offsets in the result are offsets in `code`.
        if blank && c != '\n' {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_construct_and_ignores_strings_and_comments() {
        assert!(construct(". as [$a] ?// $a | $a").unwrap().contains("`?//`"));
        assert!(construct(". as {$a, $b: [$c]} | $c").unwrap().contains("{$name: pattern}"));
        assert!(construct("select(. > .00005)").unwrap().contains("`0.5`"));
        assert_eq!(construct("\"?// .5 {$b: [1]}\" # ?//"), None);
        assert_eq!(construct(".a.b | .[0] | {$b} | {b: $c}"), None);
    }

    #[test]
    fn env_names_outside_strings() {
        let code = r#"{"a": env.A_1, "b": $ENV.B, "c": "env.NOT", "d": myenv.X, "e": env.A_1} # env.NOR"#;
        assert_eq!(env_names(code), ["A_1", "B"]);
    }
}
