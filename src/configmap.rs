//! The ConfigMaps that declare connectors: what they say, and reading them
//! from manifests on disk for `render`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// The label that selects ConfigMaps.
pub const SELECTOR_LABEL: &str = "destination";
pub const SELECTOR_VALUE: &str = "connect";
/// `"false"` removes the ConfigMap's connectors; absent or `"true"` applies them.
pub const ENABLED_LABEL: &str = "enabled";
/// streaming-ops' Confluent Cloud destination.
pub const CLOUD_LABEL: &str = "destination.cc";
/// Setting it to a new value restarts the ConfigMap's connectors and their tasks once.
pub const RESTART_ANNOTATION: &str = "connect-operator.io/restart";
/// Annotations the hook writes on ConfigMaps start with this; changes to
/// them never count as a modification (see the binding's jqFilter).
pub const STATUS_ANNOTATION_PREFIX: &str = "status.connect-operator.io/";

/// `namespace/name`, or just `name` for a manifest without a namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CmId {
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for CmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigMap {
    pub id: CmId,
    /// Set by the API server; Events refer to it.
    pub uid: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Data key to template text.
    pub data: BTreeMap<String, String>,
    /// `binaryData` keys, which cannot hold templates.
    pub binary_keys: Vec<String>,
}

/// What a ConfigMap asks for, from its labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Apply,
    Remove,
}

#[derive(Deserialize)]
struct Raw {
    metadata: Metadata,
    #[serde(default)]
    data: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "binaryData")]
    binary_data: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Metadata {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

impl ConfigMap {
    pub fn from_json(value: &serde_json::Value) -> Result<ConfigMap> {
        if let Some(kind) = value.get("kind").and_then(|k| k.as_str()).filter(|k| *k != "ConfigMap") {
            bail!("a {kind}, not a ConfigMap");
        }
        let raw = Raw::deserialize(value).context("not a ConfigMap (metadata.name and string data expected)")?;
        Ok(ConfigMap {
            id: CmId { namespace: raw.metadata.namespace.filter(|ns| !ns.is_empty()), name: raw.metadata.name },
            uid: raw.metadata.uid,
            labels: raw.metadata.labels.unwrap_or_default(),
            annotations: raw.metadata.annotations.unwrap_or_default(),
            data: raw.data.unwrap_or_default(),
            binary_keys: raw.binary_data.unwrap_or_default().into_keys().collect(),
        })
    }

    pub fn is_selected(&self) -> bool {
        self.labels.get(SELECTOR_LABEL).map(String::as_str) == Some(SELECTOR_VALUE)
    }

    /// The `enabled` label: absent or `"true"` applies, `"false"` removes,
    /// anything else is an error so a typo never deletes connectors.
    pub fn intent(&self) -> Result<Intent> {
        match self.labels.get(ENABLED_LABEL).map(String::as_str) {
            None | Some("true") => Ok(Intent::Apply),
            Some("false") => Ok(Intent::Remove),
            Some(other) => bail!("label `{ENABLED_LABEL}` is {other:?}; it must be \"true\" or \"false\""),
        }
    }
}

/// A ConfigMap read from a manifest file, with where it came from.
pub struct Manifest {
    pub file: PathBuf,
    pub configmap: ConfigMap,
}

/// What reading manifests found: the selected ConfigMaps, the files that
/// could not be read, and counts for saying what was read when nothing was
/// selected.
#[derive(Default)]
pub struct Read {
    pub manifests: Vec<Manifest>,
    pub errors: Vec<anyhow::Error>,
    pub files: usize,
    pub documents: usize,
    /// ConfigMaps, selected or not.
    pub configmaps: usize,
    /// Skipped documents that look like mistakes, each with a "did you mean".
    pub near_misses: Vec<String>,
}

impl Read {
    /// `3 files, 5 documents, 2 ConfigMaps`, as `kubectl apply` says what it read.
    pub fn counts(&self) -> String {
        let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {}, {}",
            plural(self.files, "file"),
            plural(self.documents, "document"),
            plural(self.configmaps, "ConfigMap")
        )
    }
}

/// Reads ConfigMaps labelled `destination=connect` from files and
/// directories (recursively: `*.yaml`, `*.yml`, `*.json`), multi-document
/// YAML, JSON, and `List`s. Other kinds are skipped; unreadable files are
/// errors, reported together after reading the rest.
pub fn read_manifests(paths: &[PathBuf]) -> Read {
    let mut read = Read::default();
    for file in manifest_files(paths, &mut read.errors) {
        read.files += 1;
        if let Err(e) = read_file(&file, &mut read) {
            read.errors.push(e);
        }
    }
    read
}

fn manifest_files(paths: &[PathBuf], errors: &mut Vec<anyhow::Error>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        if !path.exists() {
            errors.push(anyhow::anyhow!("{}: no such file or directory", path.display()));
            continue;
        }
        for entry in walkdir::WalkDir::new(path).follow_links(true).sort_by_file_name() {
            match entry {
                Ok(e) if e.file_type().is_file() && is_manifest(e.path()) => files.push(e.into_path()),
                Ok(_) => {}
                Err(e) => errors.push(anyhow::anyhow!("cannot read {}: {e}", path.display())),
            }
        }
    }
    files
}

fn is_manifest(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
}

fn read_file(file: &Path, read: &mut Read) -> Result<()> {
    let text = crate::files::read_capped(file, crate::files::MANIFEST_MAX, "the manifest")?;
    read_text(&text, file, read)
}

/// Adds what one manifest file's text holds to `read`, as from `file`.
pub fn read_text(text: &str, file: &Path, read: &mut Read) -> Result<()> {
    crate::files::check_nesting(text, &format!("the manifest {}", file.display()))?;
    // YAML 1.2 is a superset of JSON, so one parser reads both.
    for (i, doc) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let value = serde_json::Value::deserialize(doc)
            .with_context(|| format!("{}: document {} is not valid YAML or JSON", file.display(), i + 1))?;
        if value.is_null() {
            continue; // an empty document, as after a trailing `---`
        }
        read.documents += 1;
        let place = format!("{} document {}", file.display(), i + 1);
        collect(&value, &place, file, read).with_context(|| place.clone())?;
    }
    Ok(())
}

fn collect(value: &serde_json::Value, place: &str, file: &Path, read: &mut Read) -> Result<()> {
    match value.get("kind").and_then(|k| k.as_str()) {
        Some("List") | Some("ConfigMapList") => {
            for item in value.get("items").and_then(|i| i.as_array()).into_iter().flatten() {
                collect(item, place, file, read)?;
            }
        }
        Some("ConfigMap") => {
            read.configmaps += 1;
            let configmap = ConfigMap::from_json(value)?;
            if configmap.is_selected() {
                read.manifests.push(Manifest { file: file.to_path_buf(), configmap });
            } else if let Some(hint) = configmap.selector_near_miss() {
                read.near_misses.push(format!("{place}: ConfigMap {} skipped: {hint}", configmap.id));
            }
        }
        Some(kind) if close_to(kind, "ConfigMap") => {
            read.near_misses.push(format!("{place}: kind `{kind}` skipped; did you mean `ConfigMap`?"));
        }
        _ => {}
    }
    Ok(())
}

/// One or two edits away, or the same but for case: a typo, not another word.
fn close_to(text: &str, wanted: &str) -> bool {
    text != wanted && (text.eq_ignore_ascii_case(wanted) || strsim::levenshtein(text, wanted) <= 2)
}

impl ConfigMap {
    /// A label that was probably meant to select this ConfigMap.
    fn selector_near_miss(&self) -> Option<String> {
        let wanted = format!("`{SELECTOR_LABEL}: {SELECTOR_VALUE}`");
        self.labels
            .iter()
            .find(|(key, value)| {
                close_to(key, SELECTOR_LABEL) || (*key == SELECTOR_LABEL && close_to(value, SELECTOR_VALUE))
            })
            .map(|(key, value)| format!("it has label `{key}: {value}`; did you mean {wanted}?"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(labels: serde_json::Value) -> ConfigMap {
        ConfigMap::from_json(
            &json!({"metadata": {"name": "c", "namespace": "ns", "labels": labels}, "data": {"k": "{}"}}),
        )
        .unwrap()
    }

    #[test]
    fn enabled_label() {
        assert_eq!(cm(json!({"destination": "connect"})).intent().unwrap(), Intent::Apply);
        assert_eq!(cm(json!({"enabled": "true"})).intent().unwrap(), Intent::Apply);
        assert_eq!(cm(json!({"enabled": "false"})).intent().unwrap(), Intent::Remove);
        let err = cm(json!({"enabled": "False"})).intent().unwrap_err().to_string();
        assert!(err.contains("\"False\""), "{err}");
    }

    #[test]
    fn reads_lists_multi_documents_and_json() {
        let dir = tempfile::tempdir().unwrap();
        let sel = r#"{"destination": "connect"}"#;
        std::fs::write(
            dir.path().join("a.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: one, labels: {sel}}}\ndata: {{k: '{{}}'}}\n---\n\
                 kind: Deployment\nmetadata: {{name: d}}\n---\nkind: List\nitems:\n- kind: ConfigMap\n  metadata: {{name: two, labels: {sel}}}\n\
                 - kind: ConfigMap\n  metadata: {{name: unlabelled}}\n"
            ),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("sub/b.json"),
            format!(r#"{{"kind": "ConfigMap", "metadata": {{"name": "three", "namespace": "ns", "labels": {sel}}}}}"#),
        )
        .unwrap();
        std::fs::write(dir.path().join("sub/README.md"), "not a manifest").unwrap();
        let read = read_manifests(&[dir.path().to_path_buf()]);
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        let names: Vec<String> = read.manifests.iter().map(|m| m.configmap.id.to_string()).collect();
        assert_eq!(names, ["one", "two", "ns/three"]);
        assert_eq!(read.counts(), "2 files, 4 documents, 4 ConfigMaps");
    }

    #[test]
    fn broken_file_is_reported_and_others_are_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.yaml"), "kind: ConfigMap\nmetadata: [\n").unwrap();
        std::fs::write(
            dir.path().join("good.yaml"),
            "kind: ConfigMap\nmetadata: {name: ok, labels: {destination: connect}}\n",
        )
        .unwrap();
        let read = read_manifests(&[dir.path().to_path_buf(), dir.path().join("missing")]);
        assert_eq!(read.manifests.len(), 1);
        assert_eq!(read.errors.len(), 2);
        let errors: Vec<String> = read.errors.iter().map(|e| format!("{e:#}")).collect();
        assert!(errors.iter().any(|e| e.contains("bad.yaml") && e.contains("document 1")), "{errors:?}");
        assert!(errors.iter().any(|e| e.ends_with("missing: no such file or directory")), "{errors:?}");
    }

    #[test]
    fn near_misses_are_named_and_real_neighbours_are_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.yaml"),
            "kind: Configmap\nmetadata: {name: one, labels: {destination: connect}}\n---\n\
             kind: ConfigMap\nmetadata: {name: two, labels: {destnation: connect}}\n---\n\
             kind: ConfigMap\nmetadata: {name: three, labels: {destination: conect}}\n---\n\
             kind: ConfigMap\nmetadata: {name: four, labels: {destination.cc: x, app: connect}}\n---\n\
             kind: Secret\nmetadata: {name: five}\n---\n",
        )
        .unwrap();
        let read = read_manifests(&[dir.path().to_path_buf()]);
        assert!(read.manifests.is_empty());
        assert_eq!(read.counts(), "1 file, 5 documents, 3 ConfigMaps");
        let misses = read.near_misses.join("\n");
        assert!(misses.contains("document 1: kind `Configmap` skipped; did you mean `ConfigMap`?"), "{misses}");
        assert!(
            misses.contains(
                "ConfigMap two skipped: it has label `destnation: connect`; did you mean `destination: connect`?"
            ),
            "{misses}"
        );
        assert!(misses.contains("ConfigMap three skipped: it has label `destination: conect`"), "{misses}");
        assert_eq!(read.near_misses.len(), 3, "{misses}");
    }
}
