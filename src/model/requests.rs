//! What people ask of the running operator through annotations on a
//! ConfigMap, each carried out once per value: an offsets reset, alter or
//! listing (`connect-operator.io/offsets`).

use serde_json::Value;

use crate::model::configmap::ConfigMap;
use crate::text::Invalid;

/// `reset`, `alter` or `list`; any text after the word makes a new request
/// (`reset 2026-12-02`), as a new value of the restart annotation does.
pub const OFFSETS_ANNOTATION: &str = "connect-operator.io/offsets";
/// The offsets an `alter` sets, as `PATCH .../offsets` takes them.
pub const OFFSETS_ALTER_ANNOTATION: &str = "connect-operator.io/offsets-alter";

/// A change of a connector's offsets (KIP-875); the connector must be STOPPED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetsChange {
    /// `DELETE .../offsets`: forget them, start over.
    Reset,
    /// `PATCH .../offsets` with this `offsets` array.
    Alter(Value),
}

/// What the offsets annotation asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetsAction {
    /// Change them around a stop.
    Change(OffsetsChange),
    /// Write them into the ConfigMap `<configmap>-offsets`.
    List,
}

/// An offsets request, and the annotation value that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetsRequest {
    /// The annotation's value: recorded once handled, so it is done once.
    pub value: String,
    /// What to do.
    pub action: OffsetsAction,
}

/// The offsets array of `{"offsets": [...]}` (as `GET` gives it) or of a
/// bare array, each entry with a `partition`.
pub fn offsets_list(value: Value) -> Result<Value, Invalid> {
    let offsets = match value {
        Value::Object(mut map) if map.contains_key("offsets") => map.remove("offsets").unwrap_or_default(),
        other => other,
    };
    match offsets.as_array() {
        Some(list) if !list.is_empty() && list.iter().all(|o| o.get("partition").is_some()) => Ok(offsets),
        _ => Err(Invalid(
            r#"it must hold {"offsets": [{"partition": {...}, "offset": {...}}]}, as `offsets get -o json` prints"#
                .into(),
        )),
    }
}

impl ConfigMap {
    /// The offsets request its annotations make, if any, or why it cannot be
    /// carried out.
    #[must_use]
    pub fn offsets_request(&self) -> Option<Result<OffsetsRequest, Invalid>> {
        let value = self.annotations.get(OFFSETS_ANNOTATION)?.trim().to_string();
        let word = value.split_whitespace().next().unwrap_or_default();
        let action = match word {
            "reset" => Ok(OffsetsAction::Change(OffsetsChange::Reset)),
            "list" => Ok(OffsetsAction::List),
            "alter" => match self.annotations.get(OFFSETS_ALTER_ANNOTATION) {
                None => {
                    Err(Invalid(format!("{OFFSETS_ANNOTATION}=alter needs the offsets in {OFFSETS_ALTER_ANNOTATION}")))
                }
                Some(text) => serde_json::from_str(text)
                    .map_err(|e| Invalid(format!("{OFFSETS_ALTER_ANNOTATION} is not JSON: {e}")))
                    .and_then(|v| offsets_list(v).map_err(|e| Invalid(format!("{OFFSETS_ALTER_ANNOTATION}: {e}"))))
                    .map(|offsets| OffsetsAction::Change(OffsetsChange::Alter(offsets))),
            },
            other => {
                Err(Invalid(format!("{OFFSETS_ANNOTATION} is {other:?}; it must start with reset, alter or list")))
            }
        };
        Some(action.map(|action| OffsetsRequest { value, action }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(annotations: Value) -> ConfigMap {
        ConfigMap::from_json(&json!({"metadata": {"name": "c", "annotations": annotations}})).unwrap()
    }

    #[test]
    fn offsets_requests() {
        assert_eq!(cm(json!({})).offsets_request(), None);
        let reset = cm(json!({OFFSETS_ANNOTATION: "reset 2"})).offsets_request().unwrap().unwrap();
        assert_eq!((reset.value.as_str(), reset.action), ("reset 2", OffsetsAction::Change(OffsetsChange::Reset)));
        assert_eq!(
            cm(json!({OFFSETS_ANNOTATION: "list"})).offsets_request().unwrap().unwrap().action,
            OffsetsAction::List
        );
        let offsets = json!([{"partition": {"filename": "/f"}, "offset": {"position": 3}}]);
        let alter =
            cm(json!({OFFSETS_ANNOTATION: "alter", OFFSETS_ALTER_ANNOTATION: json!({"offsets": offsets}).to_string()}));
        assert_eq!(
            alter.offsets_request().unwrap().unwrap().action,
            OffsetsAction::Change(OffsetsChange::Alter(offsets))
        );
        let e = cm(json!({OFFSETS_ANNOTATION: "alter"})).offsets_request().unwrap().unwrap_err();
        assert!(e.0.contains("needs the offsets in connect-operator.io/offsets-alter"), "{e}");
        let e = cm(json!({OFFSETS_ANNOTATION: "alter", OFFSETS_ALTER_ANNOTATION: "[{\"x\": 1}]"}))
            .offsets_request()
            .unwrap()
            .unwrap_err();
        assert!(e.0.contains("must hold"), "{e}");
        let e = cm(json!({OFFSETS_ANNOTATION: "rest"})).offsets_request().unwrap().unwrap_err();
        assert!(e.0.contains("must start with reset, alter or list"), "{e}");
    }
}
