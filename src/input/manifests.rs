//! ConfigMap manifests on disk, for the repository commands: files and
//! directories, multi-document YAML, JSON and `List`s, with a "did you mean"
//! for documents that were probably meant to be selected.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::files;
use crate::model::configmap::{ConfigMap, SELECTOR_LABEL, SELECTOR_VALUE};

/// A ConfigMap read from a manifest file, with where it came from.
pub struct Manifest {
    /// The file it was read from.
    pub file: PathBuf,
    /// The ConfigMap.
    pub configmap: ConfigMap,
}

/// What reading manifests found: the selected ConfigMaps, the files that
/// could not be read, and counts for saying what was read when nothing was
/// selected.
#[derive(Default)]
pub struct Read {
    /// The selected ConfigMaps, in file order.
    pub manifests: Vec<Manifest>,
    /// Files that could not be read or parsed.
    pub errors: Vec<anyhow::Error>,
    /// Files read.
    pub files: usize,
    /// YAML or JSON documents read (empty ones left out).
    pub documents: usize,
    /// ConfigMaps, selected or not.
    pub configmaps: usize,
    /// Skipped documents that look like mistakes, each with a "did you mean".
    pub near_misses: Vec<String>,
}

impl Read {
    /// `3 files, 5 documents, 2 ConfigMaps`, as `kubectl apply` says what it read.
    #[must_use]
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
#[must_use]
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
    let text = files::read_capped(file, files::MANIFEST_MAX, "the manifest")?;
    read_text(&text, file, read)
}

/// Adds what one manifest file's text holds to `read`, as from `file`.
pub fn read_text(text: &str, file: &Path, read: &mut Read) -> Result<()> {
    files::check_nesting(text, &format!("the manifest {}", file.display()))?;
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
        Some("List" | "ConfigMapList") => {
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
