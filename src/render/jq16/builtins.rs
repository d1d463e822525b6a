//! Templates may call jq 1.6's builtins and nothing else that is built in:
//! jaq's own additions (`pick`, `abs`, `@base32`, ...) would make a template
//! that jq 1.6 refuses render here, and some of them answer differently
//! from what jq 1.7 later gave the same names. `builtins.txt` is jq 1.6's
//! `builtins` output, each `name/arity`.

use std::collections::HashSet;

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Pattern, Term};
use jaq_core::path::Part;

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
    let mut within = |t: &T<'s>| first_refused(t, b, &mut scope.clone());
    match t {
        Term::Call(name, args) => {
            let local = scope.iter().any(|(n, a)| n == name && *a == args.len());
            if !local {
                if let Some(why) = b.why_refused(name, args.len()) {
                    return Some((name, why));
                }
            }
            args.iter().find_map(within)
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
            first_refused(body, b, &mut inner)
        }
        Term::Str(fmt, parts) => {
            if let Some(f) = fmt.filter(|f| !FORMATS.contains(f) && !scope.iter().any(|(n, a)| n == f && *a == 0)) {
                return Some((f, format!("`{f}` is not supported in templates: it is not a jq 1.6 format")));
            }
            parts.iter().find_map(|p| if let StrPart::Term(t) = p { within(t) } else { None })
        }
        Term::Arr(t) => t.as_deref().and_then(within),
        Term::Obj(entries) => entries.iter().find_map(|(k, v)| within(k).or_else(|| v.as_ref().and_then(&mut within))),
        Term::Neg(t) | Term::Label(_, t) => within(t),
        Term::BinOp(l, op, r) => {
            let pattern = if let BinaryOp::Pipe(Some(p)) = op { in_pattern(p, &mut within) } else { None };
            pattern.or_else(|| within(l)).or_else(|| within(r))
        }
        Term::Fold(_, xs, p, args) => {
            within(xs).or_else(|| in_pattern(p, &mut within)).or_else(|| args.iter().find_map(within))
        }
        Term::TryCatch(t, c) => within(t).or_else(|| c.as_deref().and_then(within)),
        Term::IfThenElse(arms, els) => {
            arms.iter().find_map(|(c, t)| within(c).or_else(|| within(t))).or_else(|| els.as_deref().and_then(within))
        }
        Term::Path(t, path) => within(t).or_else(|| {
            path.0.iter().find_map(|(part, _)| match part {
                Part::Index(i) => within(i),
                Part::Range(from, to) => {
                    from.as_ref().and_then(&mut within).or_else(|| to.as_ref().and_then(&mut within))
                }
            })
        }),
        Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) | Term::Var(_) => None,
    }
}

fn in_pattern<'s>(
    p: &Pattern<&'s str>,
    within: &mut impl FnMut(&T<'s>) -> Option<(&'s str, String)>,
) -> Option<(&'s str, String)> {
    match p {
        Pattern::Var(_) => None,
        Pattern::Arr(ps) => ps.iter().find_map(|p| in_pattern(p, within)),
        Pattern::Obj(kps) => kps.iter().find_map(|(k, p)| within(k).or_else(|| in_pattern(p, within))),
    }
}
