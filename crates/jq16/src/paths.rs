//! `setpath` and `delpaths` as jq 1.6 has them: setting past the end of
//! an array pads it with nulls, a negative index counts from the end, and
//! deleting several paths deletes what each named before any was deleted.
//! jaq refuses the first and deletes one path after the other.

// jq 1.6 turns a number into an array index as C does, `(int)d`: the
// casts below truncate on purpose.
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

use jaq_core::{Error, ValR};
use jaq_json::Val;

use crate::dump::kind;
use crate::number::to_f64;

fn fail<T>(message: String) -> Result<T, Error<Val>> {
    Err(Error::str(message))
}

fn items(v: &Val) -> Option<Vec<Val>> {
    match v {
        Val::Arr(a) => Some(a.iter().cloned().collect()),
        _ => None,
    }
}

/// `setpath($path; $value)`.
pub fn setpath(root: Val, path: &Val, value: Val) -> ValR<Val> {
    let Some(path) = items(path) else { return fail("Path must be specified as an array".into()) };
    set_in(root, &path, value)
}

fn set_in(t: Val, path: &[Val], value: Val) -> ValR<Val> {
    let Some((key, rest)) = path.split_first() else { return Ok(value) };
    let child = get(&t, key)?;
    let child = set_in(child, rest, value)?;
    set(t, key, child)
}

/// `t[key]` as jq 1.6 reads it while setting: null below null.
fn get(t: &Val, key: &Val) -> ValR<Val> {
    match (t, key) {
        (Val::Null, Val::TStr(_) | Val::Num(_) | Val::Obj(_)) => Ok(Val::Null),
        (Val::Obj(o), Val::TStr(_)) => Ok(o.get(key).cloned().unwrap_or(Val::Null)),
        (Val::Arr(a), Val::Num(n)) => {
            Ok(index(a.len(), to_f64(n)).and_then(|i| a.get(i)).cloned().unwrap_or(Val::Null))
        }
        (Val::Arr(a), Val::Obj(_)) => {
            let (start, end) = slice(a.len(), key)?;
            Ok(Val::Arr(a.iter().skip(start).take(end - start).cloned().collect::<Vec<_>>().into()))
        }
        (t, Val::TStr(k)) if k.len() < 30 => {
            fail(format!("Cannot index {} with string \"{}\"", kind(t), String::from_utf8_lossy(k)))
        }
        (t, k) => fail(format!("Cannot index {} with {}", kind(t), kind(k))),
    }
}

/// An array index, counted from the end when negative; None when before the start.
fn index(len: usize, n: f64) -> Option<usize> {
    let i = n as i64;
    let i = if i < 0 { i + len as i64 } else { i };
    usize::try_from(i).ok()
}

/// The bounds of a slice key `{"start": s, "end": e}` within `len`.
fn slice(len: usize, key: &Val) -> Result<(usize, usize), Error<Val>> {
    let Val::Obj(o) = key else { return fail("Start and end indices of an array slice must be numbers".into()) };
    let bound = |name: &str, default: usize| match o.get(&Val::from(name.to_string())) {
        None | Some(Val::Null) => Ok(default),
        Some(Val::Num(n)) => {
            let i = to_f64(n).floor() as i64;
            let i = if i < 0 { i + len as i64 } else { i };
            Ok(i.clamp(0, len as i64) as usize)
        }
        Some(_) => fail("Start and end indices of an array slice must be numbers".into()),
    };
    let start = bound("start", 0)?;
    let end = bound("end", len)?.max(start);
    Ok((start, end))
}

fn set(t: Val, key: &Val, value: Val) -> ValR<Val> {
    match (t, key) {
        (Val::Null, Val::TStr(_)) => Ok(Val::obj([(key.clone(), value)].into_iter().collect())),
        (Val::Obj(o), Val::TStr(_)) => {
            let mut o = (*o).clone();
            o.insert(key.clone(), value);
            Ok(Val::obj(o))
        }
        (t @ (Val::Null | Val::Arr(_)), Val::Num(n)) => {
            let mut a = items(&t).unwrap_or_default();
            let Some(i) = index(a.len(), to_f64(n)) else {
                return fail("Out of bounds negative array index".into());
            };
            if i >= a.len() {
                a.resize(i, Val::Null);
                a.push(value);
            } else if let Some(slot) = a.get_mut(i) {
                *slot = value;
            }
            Ok(Val::Arr(a.into()))
        }
        (t @ (Val::Null | Val::Arr(_)), Val::Obj(_)) => {
            let mut a = items(&t).unwrap_or_default();
            let (start, end) = slice(a.len(), key)?;
            let Some(new) = items(&value) else {
                return fail("A slice of an array can only be assigned another array".into());
            };
            a.splice(start..end, new);
            Ok(Val::Arr(a.into()))
        }
        (t, k) => fail(format!("Cannot update field at {} index of {}", kind(k), kind(&t))),
    }
}

/// `delpaths($paths)`.
pub fn delpaths(root: Val, paths: &Val) -> ValR<Val> {
    let Some(mut paths) = items(paths) else { return fail("Paths must be specified as an array".into()) };
    paths.sort();
    let mut sorted = Vec::with_capacity(paths.len());
    for p in &paths {
        match items(p) {
            Some(p) => sorted.push(p),
            None => return fail("Path must be specified as an array".into()),
        }
    }
    match sorted.first() {
        None => Ok(root),
        Some(first) if first.is_empty() => Ok(Val::Null),
        Some(_) => delete_sorted(root, &sorted, 0),
    }
}

/// Deletes the sorted `paths` (each longer than `depth`) from `t`, where
/// `t` is what their first `depth` keys lead to.
fn delete_sorted(mut t: Val, paths: &[Vec<Val>], depth: usize) -> ValR<Val> {
    let mut keys = Vec::new();
    // Paths sharing their key at `depth` are neighbours, being sorted.
    for group in paths.chunk_by(|a, b| a.get(depth) == b.get(depth)) {
        let Some(key) = group.first().and_then(|p| p.get(depth)) else { continue };
        if group.iter().any(|p| p.len() == depth + 1) {
            keys.push(key.clone());
        } else {
            let child = get(&t, key)?;
            if child != Val::Null {
                let child = delete_sorted(child, group, depth + 1)?;
                t = set(t, key, child)?;
            }
        }
    }
    delete_keys(t, &keys)
}

/// Deletes `keys` (sorted) from `t` at once, so that each index means what
/// it meant before any deletion.
fn delete_keys(t: Val, keys: &[Val]) -> ValR<Val> {
    if keys.is_empty() {
        return Ok(t);
    }
    match t {
        Val::Null => Ok(Val::Null),
        Val::Arr(a) => {
            let len = a.len();
            let mut gone = vec![false; len];
            for key in keys {
                match key {
                    Val::Num(n) => {
                        if let Some(g) = index(len, to_f64(n)).and_then(|i| gone.get_mut(i)) {
                            *g = true;
                        }
                    }
                    Val::Obj(_) => {
                        let (start, end) = slice(len, key)?;
                        gone.iter_mut().skip(start).take(end - start).for_each(|g| *g = true);
                    }
                    k => return fail(format!("Cannot delete {} element of array", kind(k))),
                }
            }
            Ok(Val::Arr(a.iter().zip(gone).filter(|(_, g)| !g).map(|(x, _)| x.clone()).collect::<Vec<_>>().into()))
        }
        Val::Obj(o) => {
            let mut o = (*o).clone();
            for key in keys {
                if !matches!(key, Val::TStr(_)) {
                    return fail(format!("Cannot delete {} field of object", kind(key)));
                }
                o.shift_remove(key);
            }
            Ok(Val::obj(o))
        }
        t => fail(format!("Cannot delete fields from {}", kind(&t))),
    }
}
