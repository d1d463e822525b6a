//! Reading input files with a cap on their size and nesting, so that one
//! runaway file is refused with its name and the limit instead of
//! exhausting memory or time.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// shell-operator's binding contexts: each snapshot holds every watched
/// ConfigMap whole (data, labels and the status annotations the hook writes),
/// so the size grows with their number and size; the cap bounds a reading,
/// far above what a cluster's snapshot needs.
pub const BINDING_CONTEXT_MAX: u64 = 256 << 20;
/// A manifest file of the repository commands.
pub const MANIFEST_MAX: u64 = 64 << 20;
/// Properties files, env files, clusters files and credentials: Kubernetes
/// keeps a Secret or ConfigMap under 1 MiB.
pub const SMALL_MAX: u64 = 1 << 20;
/// YAML and JSON nesting. serde stops at 128 levels, but YAML's scanner
/// first walks all of a flow collection in time quadratic in its depth.
const NESTING_MAX: usize = 1000;

/// The file's text, if it is at most `max` bytes; `what` names it in errors
/// ("the binding context file").
pub fn read_capped(path: &Path, max: u64, what: &str) -> Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    let mut text = String::new();
    file.take(max.saturating_add(1))
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if text.len() as u64 > max {
        bail!("{what} {} is larger than {}, the most it may be", path.display(), crate::text::format_size(max));
    }
    Ok(text)
}

/// Refuses text whose brackets nest deeper than serde will go anyway, before
/// a YAML parser spends minutes finding out. Brackets inside strings count
/// too: no real manifest nests a thousand deep, quoted or not.
pub fn check_nesting(text: &str, what: &str) -> Result<()> {
    let mut depth: usize = 0;
    for byte in text.bytes() {
        match byte {
            b'[' | b'{' => {
                depth = depth.saturating_add(1);
                if depth > NESTING_MAX {
                    bail!("{what} nests brackets more than {NESTING_MAX} deep");
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_nesting_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "x".repeat(100)).unwrap();
        assert_eq!(read_capped(&path, 100, "the file").unwrap().len(), 100);
        let e = format!("{:#}", read_capped(&path, 99, "the file").unwrap_err());
        assert!(e.contains("is larger than 99 bytes"), "{e}");
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(check_nesting(&"[".repeat(1000), "x").is_ok());
        assert!(check_nesting(&format!("{}{}", "[]".repeat(5000), "{".repeat(1000)), "x").is_ok());
        let e = check_nesting(&"[".repeat(1001), "manifest m.yaml").unwrap_err().to_string();
        assert_eq!(e, "manifest m.yaml nests brackets more than 1000 deep");
    }
}
