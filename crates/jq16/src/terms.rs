//! The parts of a parsed template, for the checks that look for something
//! anywhere in it (builtins.rs, path_exprs.rs).

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Pattern, Term};
use jaq_core::path::Part;

type T<'s> = Term<&'s str>;

/// The terms directly inside `t`, in the order they are written: operands,
/// arguments, string interpolations, path indices, the keys of patterns and
/// of objects, and the bodies of definitions.
#[must_use]
pub fn children<'a, 's>(t: &'a T<'s>) -> Vec<&'a T<'s>> {
    let mut out = Vec::new();
    match t {
        Term::Call(_, args) => out.extend(args),
        Term::Def(defs, body) => {
            out.extend(defs.iter().map(|d| &d.body));
            out.push(body);
        }
        Term::Str(_, parts) => out.extend(parts.iter().filter_map(|p| match p {
            StrPart::Term(t) => Some(t),
            _ => None,
        })),
        Term::Arr(t) => out.extend(t.as_deref()),
        Term::Obj(entries) => {
            for (k, v) in entries {
                out.push(k);
                out.extend(v);
            }
        }
        Term::Neg(t) | Term::Label(_, t) => out.push(t),
        Term::BinOp(l, op, r) => {
            if let BinaryOp::Pipe(Some(p)) = op {
                pattern_keys(p, &mut out);
            }
            out.push(l);
            out.push(r);
        }
        Term::Fold(_, xs, p, args) => {
            out.push(xs);
            pattern_keys(p, &mut out);
            out.extend(args);
        }
        Term::TryCatch(t, c) => {
            out.push(t);
            out.extend(c.as_deref());
        }
        Term::IfThenElse(arms, els) => {
            for (c, t) in arms {
                out.push(c);
                out.push(t);
            }
            out.extend(els.as_deref());
        }
        Term::Path(t, path) => {
            out.push(t);
            for (part, _) in &path.0 {
                match part {
                    Part::Index(i) => out.push(i),
                    Part::Range(from, to) => out.extend(from.iter().chain(to)),
                }
            }
        }
        Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) | Term::Var(_) => {}
    }
    out
}

fn pattern_keys<'a, 's>(p: &'a Pattern<&'s str>, out: &mut Vec<&'a T<'s>>) {
    match p {
        Pattern::Var(_) => {}
        Pattern::Arr(ps) => ps.iter().for_each(|p| pattern_keys(p, out)),
        Pattern::Obj(kps) => {
            for (k, p) in kps {
                out.push(k);
                pattern_keys(p, out);
            }
        }
    }
}
