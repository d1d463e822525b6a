//! contrib/argocd/health.lua, the Argo CD health check of a connect-operator
//! ConfigMap, in a real Lua 5.1 interpreter (see `support::argocd`), on
//! each readiness the hook writes. `tests/it/operator.rs` runs it on
//! ConfigMaps as the hook left them.

use crate::support::argocd::health;
use serde_json::{json, Value};

fn configmap(annotations: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "orders", "labels": {"destination": "connect"}, "annotations": annotations}})
}

fn with(ready: &str, reason: &str, summary: &str) -> Value {
    configmap(json!({
        "status.connect-operator.io/ready": ready,
        "status.connect-operator.io/reason": reason,
        "status.connect-operator.io/summary": summary,
    }))
}

#[test]
fn argo_cd_health_follows_the_ready_annotations() {
    assert_eq!(health(&configmap(json!({}))).0, "Progressing", "not acted on yet");
    assert_eq!(
        health(&with("True", "AsDeclared", "a: RUNNING (1/1 tasks RUNNING)")),
        ("Healthy".into(), "a: RUNNING (1/1 tasks RUNNING)".into())
    );
    assert_eq!(health(&with("False", "Progressing", "a: PENDING")).0, "Progressing");
    assert_eq!(
        health(&with("False", "Failed", "a: RUNNING (0/1 tasks RUNNING, 1 FAILED)")),
        ("Degraded".into(), "Failed: a: RUNNING (0/1 tasks RUNNING, 1 FAILED)".into())
    );
    assert_eq!(health(&with("False", "Error", "a.json: error")).0, "Degraded");
    assert_eq!(health(&with("Unknown", "ConnectUnreachable", "Connect unreachable since ...")).0, "Unknown");
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    assert_eq!(health(&other).0, "Healthy", "any other ConfigMap is left as Argo CD sees it");
}

/// The page and section health.lua cites exist, and the section's
/// `argocd-cm` command, run up to the patch, installs health.lua unchanged
/// under the key Argo CD reads.
#[test]
fn the_docs_give_the_argocd_cm_patch_that_installs_health_lua() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let lua = std::fs::read_to_string(root.join("contrib/argocd/health.lua")).unwrap();
    let (page, rest) = lua.split_once("(see ").and_then(|(_, s)| s.split_once(", \"")).unwrap();
    let cited = rest.split('"').next().unwrap();
    let text = std::fs::read_to_string(root.join(page)).unwrap_or_else(|e| panic!("health.lua cites {page}: {e}"));
    let section = text
        .split(&format!("\n### {cited}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("health.lua cites a section of {page} that does not exist: {cited}"));
    let section = section.split("\n#").next().unwrap();

    let line =
        section.lines().map(str::trim).find(|l| l.starts_with("kubectl -n argocd patch configmap argocd-cm")).unwrap();
    let jq = line.split("-p \"$(").nth(1).and_then(|s| s.strip_suffix(")\"")).unwrap();
    let out = std::process::Command::new("sh").arg("-c").arg(jq).current_dir(root).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let patch: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(patch, json!({"data": {"resource.customizations.health.ConfigMap": lua}}));
}
