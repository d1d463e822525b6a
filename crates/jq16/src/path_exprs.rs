//! A path expression (the argument of `path` or `del`, the left side of
//! `=`, `|=`, `+=`, ...) that goes through a builtin making a new array or
//! object, as in `(map(select(.a == 1))[].b) = 10`, fails at run time in jq
//! 1.6 and in jaq, but with other words: jq 1.6 names the new value and the
//! next step (`Invalid path expression near attempt to iterate through
//! [{"a":1}]`), jaq the value before the builtin. `catch` would expose the
//! difference, so such a template is refused when it is compiled, naming the
//! builtin and the rewrite.

use jaq_core::load::parse::{BinaryOp, Def, Term};

use super::terms::children;

type T<'s> = Term<&'s str>;

/// jq 1.6 builtins whose output is always a new array or object (or, for
/// `min`/`max`, an element: never the array at the path). Builtins that
/// may give back their input, such as `tostring` of a string, `length` of a
/// number or `map_values` of `[]`, are valid paths then, and not listed.
const NEW_VALUES: &[(&str, usize)] = &[
    ("map", 1),
    ("reverse", 0),
    ("sort", 0),
    ("sort_by", 1),
    ("group_by", 1),
    ("unique", 0),
    ("unique_by", 1),
    ("min", 0),
    ("max", 0),
    ("min_by", 1),
    ("max_by", 1),
    ("keys", 0),
    ("keys_unsorted", 0),
    ("to_entries", 0),
    ("from_entries", 0),
    ("with_entries", 1),
    ("flatten", 0),
    ("flatten", 1),
];

/// Builtins whose output is a path when this argument's is: `(name, arity, argument)`.
const PATHS_THROUGH: &[(&str, usize, usize)] = &[("first", 1, 0), ("limit", 2, 1), ("recurse", 1, 0)];

/// What a name means where it is called.
#[derive(Clone, Copy)]
enum Name<'a, 's> {
    Def(&'a Def<&'s str, T<'s>>),
    /// A closure parameter: what it is depends on the caller, and is not followed.
    Param(&'s str),
}

/// The first builtin in a path expression of `t` that makes a new value:
/// its name as written (for its position) and why it is refused.
#[must_use]
pub fn refused<'s>(t: &T<'s>) -> Option<(&'s str, String)> {
    contexts(t, &[])
}

/// Finds each path expression in `t`, with the definitions in scope.
fn contexts<'a, 's>(t: &'a T<'s>, scope: &[Name<'a, 's>]) -> Option<(&'s str, String)> {
    match t {
        Term::Call(name, args)
            if matches!(*name, "path" | "del") && args.len() == 1 && lookup(scope, name, 1).is_none() =>
        {
            if let Some(found) = args.first().and_then(|f| in_path(f, scope, &mut Vec::new())) {
                return Some(found);
            }
        }
        Term::BinOp(l, BinaryOp::Assign | BinaryOp::Update | BinaryOp::UpdateMath(_) | BinaryOp::UpdateAlt, _) => {
            if let Some(found) = in_path(l, scope, &mut Vec::new()) {
                return Some(found);
            }
        }
        Term::Def(defs, body) => {
            let mut inner = scope.to_vec();
            for d in defs {
                inner.push(Name::Def(d));
                if let Some(found) = contexts(&d.body, &with_params(&inner, d)) {
                    return Some(found);
                }
            }
            return contexts(body, &inner);
        }
        _ => {}
    }
    children(t).into_iter().find_map(|t| contexts(t, scope))
}

/// What the body of `d`, defined in `scope`, sees: `scope` and its parameters.
fn with_params<'a, 's>(scope: &[Name<'a, 's>], d: &'a Def<&'s str, T<'s>>) -> Vec<Name<'a, 's>> {
    scope.iter().copied().chain(d.args.iter().map(|a| Name::Param(a))).collect()
}

/// The innermost definition or parameter `name/arity` means, and the scope
/// its body sees.
fn lookup<'a, 's, 'n>(
    scope: &'n [Name<'a, 's>],
    name: &str,
    arity: usize,
) -> Option<(Name<'a, 's>, &'n [Name<'a, 's>])> {
    scope.iter().enumerate().rev().find_map(|(i, n)| {
        let found = match n {
            Name::Def(d) => d.name == name && d.args.len() == arity,
            Name::Param(p) => *p == name && arity == 0,
        };
        found.then(|| (*n, scope.get(..=i).unwrap_or(scope)))
    })
}

/// The first builtin making a new value where `t`'s output must be a path.
/// `followed`: the definitions already being looked into (recursion).
fn in_path<'a, 's>(t: &'a T<'s>, scope: &[Name<'a, 's>], followed: &mut Vec<&'a T<'s>>) -> Option<(&'s str, String)> {
    match t {
        Term::BinOp(l, BinaryOp::Pipe(None) | BinaryOp::Comma | BinaryOp::Alt, r) => {
            in_path(l, scope, followed).or_else(|| in_path(r, scope, followed))
        }
        // `f as $x | g`: f only binds.
        Term::BinOp(_, BinaryOp::Pipe(Some(_)), r) => in_path(r, scope, followed),
        Term::IfThenElse(arms, els) => arms
            .iter()
            .find_map(|(_, then)| in_path(then, scope, followed))
            .or_else(|| els.as_deref().and_then(|e| in_path(e, scope, followed))),
        Term::TryCatch(t, _) | Term::Label(_, t) | Term::Path(t, _) => in_path(t, scope, followed),
        Term::Def(defs, body) => {
            let mut inner = scope.to_vec();
            inner.extend(defs.iter().map(Name::Def));
            in_path(body, &inner, followed)
        }
        Term::Call(name, args) => match lookup(scope, name, args.len()) {
            Some((Name::Def(d), seen)) => {
                if followed.iter().any(|b| std::ptr::eq(*b, std::ptr::from_ref(&d.body))) {
                    return None;
                }
                followed.push(&d.body);
                in_path(&d.body, &with_params(seen, d), followed)
            }
            Some((Name::Param(_), _)) => None,
            None if NEW_VALUES.contains(&(*name, args.len())) => Some((name, why(name, args.len()))),
            None => PATHS_THROUGH
                .iter()
                .find(|(n, arity, _)| n == name && *arity == args.len())
                .and_then(|(_, _, at)| args.get(*at))
                .and_then(|arg| in_path(arg, scope, followed)),
        },
        _ => None,
    }
}

fn why(name: &str, arity: usize) -> String {
    format!(
        "`{name}/{arity}` in a path expression (the argument of `path` or `del`, the left side of `=`, `|=`, `+=`, ...) \
         is not supported in templates: it makes a new value, which has no path, and jq 1.6 fails on it at run time \
         (\"Invalid path expression\"); reach the values with `.[]`, `.key`, `.[n]` and `select` instead, as in \
         `(.[] | select(.a == 1) | .b) = 10`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_name(code: &str) -> Option<&str> {
        let t = jaq_core::load::parse(code, |p| p.term()).unwrap();
        refused(&t).map(|(name, _)| name)
    }

    #[test]
    fn a_new_value_where_a_path_must_be_is_refused() {
        for (code, name) in [
            ("path(.a | map(select(.b == 0)) | .[0])", "map"),
            ("(map(select(.a == 1))[].b) = 10", "map"),
            ("def x: reverse; x = 10", "reverse"),
            ("del(.a | sort)", "sort"),
            ("(keys[0]) |= 1", "keys"),
            ("(limit(1; to_entries)) += 1", "to_entries"),
            ("path(if .a then .b else min end | .c)", "min"),
            ("[paths] | path(.x // group_by(.))", "group_by"),
            ("def f: def g: flatten; g; . as $x | f = 1", "flatten"),
        ] {
            assert_eq!(refused_name(code), Some(name), "{code}");
        }
    }

    #[test]
    fn paths_and_new_values_elsewhere_are_not() {
        for code in [
            "path(..)",
            "del(.[] | select(. == 1))",
            ".a |= map(. + 1)",
            "(.a | first(.[])) = 1",
            "def f: .a; f = 1",
            "def map(f): .[] | f; path(map(.a))",
            "path(.a | tostring)",
            "(.a, .b) = 1",
            "path(.a | select(map(.) | length > 0))",
            "path(getpath([\"a\"]) | recurse(.[]?))",
            "map(.) as $m | path(.a)",
            "def f: f; path(f)",
            "def f(g): g; path(f(.a))",
            "to_entries | map(.key)",
        ] {
            assert_eq!(refused_name(code), None, "{code}");
        }
    }
}
