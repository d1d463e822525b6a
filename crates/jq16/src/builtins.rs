//! Templates may call jq 1.6's builtins and nothing else that is built in:
//! jaq's own additions (`pick`, `abs`, `@base32`, ...) would make a template
//! that jq 1.6 refuses render here, and some of them answer differently
//! from what jq 1.7 later gave the same names. `builtins.txt` is jq 1.6's
//! `builtins` output, each `name/arity`.

use std::collections::HashSet;

use jaq_core::load::parse::Term;

use super::terms::children;

type T<'s> = Term<&'s str>;

/// jq 1.6's formats, which `builtins` does not list (jaq's parser gives `true`,
/// `false` and `null` as calls, and a format alone as one).
const FORMATS: &[&str] = &["@text", "@json", "@html", "@uri", "@csv", "@tsv", "@sh", "@base64", "@base64d"];

/// jq 1.6 builtins a template has no use for: they read input or modules.
const INPUT: &[&str] = &[
    "input/0",
    "inputs/0",
    "input_filename/0",
    "input_line_number/0",
    "modulemeta/0",
    "get_search_list/0",
    "get_jq_origin/0",
    "get_prog_origin/0",
];

/// What the engine has built in (`name`, arity) and which of it jq 1.6 has.
pub struct Builtins {
    engine: HashSet<(&'static str, usize)>,
    jq16: HashSet<&'static str>,
}

impl Builtins {
    /// `engine`: every definition and native the templates are compiled with.
    #[must_use]
    pub fn new(engine: HashSet<(&'static str, usize)>) -> Self {
        Builtins { engine, jq16: listed().into_iter().collect() }
    }

    /// The first call in `t` to something built in that a jq 1.6 template
    /// cannot call: the name as written (for its position) and why. A name
    /// nothing defines is left for the compiler to call undefined.
    #[must_use]
    pub fn refused<'s>(&self, t: &T<'s>) -> Option<(&'s str, String)> {
        first_refused(t, self, &mut Vec::new())
    }

    fn why_refused(&self, name: &str, arity: usize) -> Option<String> {
        let signature = format!("{name}/{arity}");
        if INPUT.contains(&signature.as_str()) {
            return Some(format!(
                "`{signature}` is not supported in templates: a template runs on null, with no input and no modules"
            ));
        }
        let keyword = matches!(name, "true" | "false" | "null") || FORMATS.contains(&name);
        if !self.engine.contains(&(name, arity)) || self.jq16.contains(signature.as_str()) || keyword && arity == 0 {
            return None;
        }
        Some(format!(
            "`{signature}` is not supported in templates: it is not a jq 1.6 builtin (define it in the template if you need it)"
        ))
    }
}

/// jq 1.6's `builtins`: its list, as jq 1.6 gives it.
#[must_use]
pub fn listed() -> Vec<&'static str> {
    include_str!("builtins.txt").lines().collect()
}

fn first_refused<'s>(t: &T<'s>, b: &Builtins, scope: &mut Vec<(&'s str, usize)>) -> Option<(&'s str, String)> {
    match t {
        Term::Call(name, args) => {
            let local = scope.iter().any(|(n, a)| n == name && *a == args.len());
            if !local {
                if let Some(why) = b.why_refused(name, args.len()) {
                    return Some((name, why));
                }
            }
        }
        Term::Def(defs, body) => {
            let mut inner = scope.clone();
            for d in defs {
                inner.push((d.name, d.args.len()));
                let mut own = inner.clone();
                own.extend(d.args.iter().filter(|a| !a.starts_with('$')).map(|a| (*a, 0)));
                if let Some(found) = first_refused(&d.body, b, &mut own) {
                    return Some(found);
                }
            }
            return first_refused(body, b, &mut inner);
        }
        Term::Str(Some(f), _) if !FORMATS.contains(f) && !scope.iter().any(|(n, a)| n == f && *a == 0) => {
            return Some((f, format!("`{f}` is not supported in templates: it is not a jq 1.6 format")));
        }
        _ => {}
    }
    children(t).into_iter().find_map(|t| first_refused(t, b, &mut scope.clone()))
}
