//! Where jq 1.6 and jaq give different answers to the same syntax, the
//! template's parsed program is rewritten to call definitions that answer
//! as jq 1.6 does. The prelude is not rewritten: it is ours or jaq's.
//!
//! - `a / b` and `a % b`: jq 1.6 refuses a zero divisor (jaq gives
//!   infinity) and truncates both sides of `%` to integers.
//! - `-a`: jq 1.6's error names the value.
//! - `"\(a)"`: written as jq 1.6 writes values (`2`, not `2.0`).
//! - `{(k): v}`: jq 1.6 takes only strings as keys; jaq takes any value.
//! - `.[a:b]` of null is null in jq 1.6; jaq fails.
//! - `try f catch g`: `g` receives jaq's error messages as jq 1.6 words
//!   them (errors.rs).
//! - `l = r`, `l |= f`, `l += r`, ...: through `setpath`, which pads
//!   arrays with nulls as jq 1.6 does (jaq refuses).

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Def, Pattern, Term};
use jaq_core::ops::{Cmp, Math};
use jaq_core::path::{Part, Path};

type T<'s> = Term<&'s str>;

fn call<'s>(name: &'s str, args: Vec<T<'s>>) -> T<'s> {
    Term::Call(name, args)
}

fn pipe<'s>(l: T<'s>, r: T<'s>) -> T<'s> {
    Term::BinOp(Box::new(l), BinaryOp::Pipe(None), Box::new(r))
}

/// The term with every construct above made to answer as jq 1.6 does.
#[must_use]
pub fn term<'s>(t: T<'s>) -> T<'s> {
    let b = |t: Box<T<'s>>| Box::new(term(*t));
    match t {
        Term::BinOp(l, BinaryOp::Math(Math::Div), r) => call("_jq16_div", vec![term(*l), term(*r)]),
        Term::BinOp(l, BinaryOp::Math(Math::Rem), r) => call("_jq16_mod", vec![term(*l), term(*r)]),
        Term::BinOp(l, BinaryOp::Assign, r) => call("_jq16_assign", vec![term(*l), term(*r)]),
        Term::BinOp(l, BinaryOp::Update, r) => call("_jq16_modify", vec![term(*l), term(*r)]),
        Term::BinOp(l, BinaryOp::UpdateMath(op), r) => update_with(*l, BinaryOp::Math(op), *r),
        Term::BinOp(l, BinaryOp::UpdateAlt, r) => update_with(*l, BinaryOp::Alt, *r),
        Term::BinOp(l, op, r) => Term::BinOp(b(l), op_(op), b(r)),
        Term::Neg(t) => pipe(term(*t), call("_jq16_negate", Vec::new())),
        Term::Str(fmt, parts) => {
            let interpolated = parts.iter().any(|p| matches!(p, StrPart::Term(_)));
            let fmt = if fmt.is_none() && interpolated { Some("@text") } else { fmt };
            Term::Str(fmt, parts.into_iter().map(str_part).collect())
        }
        Term::Obj(entries) => Term::Obj(entries.into_iter().map(|(k, v)| entry(k, v)).collect()),
        Term::Arr(t) => Term::Arr(t.map(b)),
        Term::Label(x, t) => Term::Label(x, b(t)),
        Term::Fold(name, xs, pat, args) => Term::Fold(name, b(xs), pattern(pat), args.into_iter().map(term).collect()),
        Term::TryCatch(t, Some(c)) => {
            Term::TryCatch(b(t), Some(Box::new(pipe(call("_jq16_error_text", Vec::new()), term(*c)))))
        }
        Term::TryCatch(t, None) => Term::TryCatch(b(t), None),
        Term::IfThenElse(arms, els) => {
            Term::IfThenElse(arms.into_iter().map(|(c, t)| (term(c), term(t))).collect(), els.map(b))
        }
        Term::Def(defs, t) => Term::Def(defs.into_iter().map(def).collect(), b(t)),
        Term::Call(name, args) => Term::Call(name, args.into_iter().map(term).collect()),
        Term::Path(t, p) if p.0.iter().any(|(part, _)| is_slice(part)) => sliced(term(*t), p),
        Term::Path(t, p) => Term::Path(b(t), path(p)),
        t @ (Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) | Term::Var(_)) => t,
    }
}

/// `l op= r` is `r as $x | l |= . op $x`, for each output of `r`.
fn update_with<'s>(l: T<'s>, op: BinaryOp<&'s str>, r: T<'s>) -> T<'s> {
    const X: &str = "$__jq16_x";
    let update = term(Term::BinOp(Box::new(Term::Id), op, Box::new(Term::Var(X))));
    let modify = call("_jq16_modify", vec![term(l), update]);
    Term::BinOp(Box::new(term(r)), BinaryOp::Pipe(Some(Pattern::Var(X))), Box::new(modify))
}

fn op_(op: BinaryOp<&str>) -> BinaryOp<&str> {
    match op {
        BinaryOp::Pipe(Some(p)) => BinaryOp::Pipe(Some(pattern(p))),
        op => op,
    }
}

fn def(d: Def<&str>) -> Def<&str> {
    Def { name: d.name, args: d.args, body: term(d.body) }
}

fn str_part<'s>(p: StrPart<&'s str, T<'s>>) -> StrPart<&'s str, T<'s>> {
    match p {
        StrPart::Term(t) => StrPart::Term(term(t)),
        p => p,
    }
}

/// A key that is not written as a string (or `$name` alone) is checked
/// when it is made.
fn entry<'s>(k: T<'s>, v: Option<T<'s>>) -> (T<'s>, Option<T<'s>>) {
    let plain = matches!(k, Term::Str(..)) || (matches!(k, Term::Var(_)) && v.is_none());
    let k = if plain { term(k) } else { pipe(term(k), call("_jq16_key", Vec::new())) };
    (k, v.map(term))
}

fn pattern(p: Pattern<&str>) -> Pattern<&str> {
    match p {
        Pattern::Var(x) => Pattern::Var(x),
        Pattern::Arr(ps) => Pattern::Arr(ps.into_iter().map(pattern).collect()),
        Pattern::Obj(kps) => Pattern::Obj(kps.into_iter().map(|(k, p)| (term(k), pattern(p))).collect()),
    }
}

fn is_slice<T>(part: &Part<T>) -> bool {
    matches!(part, Part::Range(from, to) if from.is_some() || to.is_some())
}

/// jq 1.6 slices null to null; jaq fails. The path becomes
/// `. as $in | ... | if . == null then . else .[$in | F:$in | T] end`,
/// the bounds taken, as jq takes them, from the path's input.
fn sliced<'s>(base: T<'s>, p: Path<T<'s>>) -> T<'s> {
    const INPUT: &str = "$__jq16_in";
    let from_input = |bound: T<'s>| pipe(Term::Var(INPUT), term(bound));
    let mut acc = base;
    let mut run = Vec::new();
    for (part, opt) in p.0 {
        match part {
            Part::Range(from, to) if from.is_some() || to.is_some() => {
                if !run.is_empty() {
                    acc = Term::Path(Box::new(acc), Path(core::mem::take(&mut run)));
                }
                let slice = Part::Range(from.map(from_input), to.map(from_input));
                let slice = Term::Path(Box::new(Term::Id), Path(vec![(slice, opt)]));
                let null = Term::BinOp(Box::new(Term::Id), BinaryOp::Cmp(Cmp::Eq), Box::new(call("null", Vec::new())));
                acc = pipe(acc, Term::IfThenElse(vec![(null, Term::Id)], Some(Box::new(slice))));
            }
            part => run.push((path_part(part), opt)),
        }
    }
    if !run.is_empty() {
        acc = Term::Path(Box::new(acc), Path(run));
    }
    Term::BinOp(Box::new(Term::Id), BinaryOp::Pipe(Some(Pattern::Var(INPUT))), Box::new(acc))
}

fn path(p: Path<T<'_>>) -> Path<T<'_>> {
    Path(p.0.into_iter().map(|(p, opt)| (path_part(p), opt)).collect())
}

fn path_part(p: Part<T<'_>>) -> Part<T<'_>> {
    match p {
        Part::Index(i) => Part::Index(term(i)),
        Part::Range(from, to) => Part::Range(from.map(term), to.map(term)),
    }
}
