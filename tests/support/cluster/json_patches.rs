//! RFC 7386 merge patches and RFC 6902 JSON patches, as the API server applies them.

use super::*;

/// RFC 7386: objects merge recursively, `null` removes, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else { return *target = patch.clone() };
    if !target.is_object() {
        *target = json!({});
    }
    let target = target.as_object_mut().unwrap();
    for (key, value) in patch {
        match value {
            Value::Null => {
                target.remove(key);
            }
            _ => merge_patch(target.entry(key).or_insert(Value::Null), value),
        }
    }
}

/// RFC 6902: add, remove, replace, move, copy and test.
pub(crate) fn json_patch(document: &mut Value, operations: &Value) -> Result<(), String> {
    let operations = operations.as_array().ok_or("a JSON patch is an array")?;
    for operation in operations {
        let text = |field: &str| operation[field].as_str().ok_or_else(|| format!("{operation}: no {field}"));
        let value = || operation.get("value").cloned().ok_or_else(|| format!("{operation}: no value"));
        let path = text("path")?;
        match text("op")? {
            "add" => pointer_add(document, path, value()?)?,
            "remove" => {
                pointer_remove(document, path)?;
            }
            "replace" => {
                pointer_remove(document, path)?;
                pointer_add(document, path, value()?)?
            }
            "move" => {
                let moved = pointer_remove(document, text("from")?)?;
                pointer_add(document, path, moved)?
            }
            "copy" => {
                let copied =
                    document.pointer(text("from")?).cloned().ok_or_else(|| format!("{operation}: no such from"))?;
                pointer_add(document, path, copied)?
            }
            "test" if document.pointer(path) == Some(&value()?) => {}
            "test" => return Err(format!("{operation}: test failed")),
            other => return Err(format!("unknown JSON patch operation {other:?}")),
        }
    }
    Ok(())
}

pub(crate) fn split_pointer(path: &str) -> Result<(&str, String), String> {
    let (parent, last) = path.rsplit_once('/').ok_or_else(|| format!("{path:?} is not a JSON pointer"))?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

pub(crate) fn pointer_add(document: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *document = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    match document.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
        }
        Some(Value::Array(items)) if last == "-" => items.push(value),
        Some(Value::Array(items)) => match last.parse::<usize>() {
            Ok(i) if i <= items.len() => items.insert(i, value),
            _ => return Err(format!("add: index {last:?} out of range at {path:?}")),
        },
        _ => return Err(format!("add: no parent for {path:?}")),
    }
    Ok(())
}

pub(crate) fn pointer_remove(document: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    let removed = match document.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&last),
        Some(Value::Array(items)) => last.parse::<usize>().ok().filter(|i| *i < items.len()).map(|i| items.remove(i)),
        _ => None,
    };
    removed.ok_or_else(|| format!("no value at {path:?}"))
}
