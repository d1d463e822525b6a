//! What the deploy manifests and their documentation tell an operator,
//! checked against what the binary does.

use std::path::Path;
use std::process::Command;

use crate::support::repo::BIN;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The built-in CONNECT_URL was `http://connect` (port 80) while the
/// Deployment sets `http://connect:8083`: a Deployment without the variable
/// would have reached for another port.
#[test]
fn the_default_connect_url_is_the_deployments() {
    let deployment = read("manifests/base/deployment.yaml");
    let lines: Vec<&str> = deployment.lines().map(str::trim).collect();
    let at = lines.iter().position(|l| *l == "- name: CONNECT_URL").expect("the Deployment sets CONNECT_URL");
    let url = lines[at + 1].strip_prefix("value: ").expect("as a value");
    let dir = tempfile::tempdir().unwrap();
    // A named folder: the default, `.`, would walk target/, where e2e/up
    // keeps containerd's snapshots of whole images.
    let out = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["status", "manifests/examples", "--config-dir"])
        .arg(dir.path())
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("GET {url}/connectors?")), "not {url}: {stderr}");
    assert!(
        read("docs/operate.md").contains(&format!("| `CONNECT_URL` | `{url}`")),
        "docs/operate.md's table says {url}"
    );
}

/// The cluster-wide variant did not say what it grants in every namespace.
#[test]
fn the_cluster_wide_variant_warns_what_it_grants() {
    let kustomization = read("manifests/cluster-wide/kustomization.yaml");
    let warning: String = kustomization.lines().take_while(|l| l.starts_with('#')).collect::<Vec<_>>().join("\n");
    assert!(warning.starts_with("# WARNING: what this grants"), "{warning}");
    assert!(warning.contains("EVERY"), "{warning}");
    let role = read("manifests/cluster-wide/clusterrole.yaml");
    for verb in ["list", "watch", "create", "patch"] {
        assert!(role.contains(&format!("\"{verb}\"")), "{verb} is granted");
        assert!(warning.contains(verb), "the warning names {verb}: {warning}");
    }
    // The deploy page's bullet on the variant names every resource the
    // ClusterRole grants something on.
    let page = read("docs/operate.md");
    let bullet = page
        .split("- `manifests/cluster-wide` is the variant")
        .nth(1)
        .and_then(|s| s.split("\n   - ").next())
        .expect("docs/operate.md has a bullet on manifests/cluster-wide")
        .to_lowercase();
    let role: serde_json::Value = serde_yaml_ng::from_str(&role).unwrap();
    for rule in role["rules"].as_array().unwrap() {
        for resource in rule["resources"].as_array().unwrap() {
            let singular = resource.as_str().unwrap().trim_end_matches('s');
            assert!(bullet.contains(singular), "the cluster-wide bullet does not name {singular}: {bullet}");
        }
    }
}

/// Setting the image needed `kustomize edit set image`, a tool kubectl does not include.
#[test]
fn setting_the_image_needs_kubectl_alone() {
    for file in [
        "README.md",
        "docs/operate.md",
        "manifests/README.md",
        "manifests/kustomization.yaml",
        "manifests/cluster-wide/kustomization.yaml",
    ] {
        assert!(!read(file).contains("kustomize edit"), "{file} asks for the kustomize binary");
    }
    assert!(read("docs/operate.md")
        .contains("kubectl -n connect-operator set image deployment/connect-operator connect-operator="));
}

/// shell-operator's HTTP server also serves Go's profiler under
/// `/debug/pprof/`, so it listens on 127.0.0.1 and the metrics Service's
/// port is the `metrics` container's, which passes on
/// shell-operator's metrics only (tests/it/metrics_port.rs; the end-to-end suite
/// against the real shell-operator).
#[test]
fn the_metrics_service_reaches_shell_operator_only_through_the_metrics_port() {
    let deployment: serde_json::Value = serde_yaml_ng::from_str(&read("manifests/base/deployment.yaml")).unwrap();
    let containers = deployment["spec"]["template"]["spec"]["containers"].as_array().unwrap();
    let named = |name: &str| containers.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no {name}"));
    let env = |container: &serde_json::Value, name: &str| {
        container["env"].as_array().unwrap().iter().find(|e| e["name"] == name).map(|e| e["value"].clone())
    };
    let operator = named("connect-operator");
    assert_eq!(env(operator, "SHELL_OPERATOR_LISTEN_ADDRESS"), Some("127.0.0.1".into()));
    assert!(operator["ports"].is_null(), "shell-operator's container exposes no port");
    let port = env(operator, "SHELL_OPERATOR_LISTEN_PORT").unwrap();

    let metrics = named("metrics");
    assert_eq!(metrics["image"], operator["image"], "the same image, rewritten by the same images: entry");
    assert_eq!(metrics["command"], serde_json::json!(["/usr/local/bin/connect-operator", "serve-metrics"]));
    assert_eq!(env(metrics, "SHELL_OPERATOR_URL"), Some(format!("http://127.0.0.1:{}", port.as_str().unwrap()).into()));
    assert_eq!(metrics["ports"][0]["name"], "http-metrics");
    assert_eq!(
        env(metrics, "METRICS_LISTEN"),
        Some(format!("0.0.0.0:{}", metrics["ports"][0]["containerPort"]).into())
    );

    let service: serde_json::Value = serde_yaml_ng::from_str(&read("manifests/base/service.yaml")).unwrap();
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "http-metrics");
    assert!(read("docs/operate.md").contains(
        "set image deployment/connect-operator connect-operator=registry.example.com/platform/connect-operator:0.1.0 metrics="
    ));
    assert!(read("docs/operate.md")
        .contains(" wait-for-predecessors=registry.example.com/platform/connect-operator:0.1.0`"));
}

/// A deleted Pod's replacement ran its first hook while the old Pod still
/// stopped: the init container holds shell-operator back until the Pods
/// its defaults select, those of this Deployment, have stopped, and gives up
/// only after the old Pod's grace period.
#[test]
fn the_init_container_waits_for_the_deployments_own_pods() {
    let deployment: serde_json::Value = serde_yaml_ng::from_str(&read("manifests/base/deployment.yaml")).unwrap();
    let pod = &deployment["spec"]["template"];
    let init = &pod["spec"]["initContainers"][0];
    assert_eq!(init["command"], serde_json::json!(["/usr/local/bin/connect-operator", "wait-for-predecessors"]));
    assert_eq!(init["image"], pod["spec"]["containers"][0]["image"]);
    let env = init["env"].as_array().unwrap();
    assert!(env.iter().any(|e| e["name"] == "POD_NAME" && e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"));

    let help = Command::new(BIN).args(["wait-for-predecessors", "--help"]).env_clear().output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let default = |flag: &str| {
        let line = help.lines().find(|l| l.trim_start().starts_with(flag)).unwrap_or_else(|| panic!("{flag}: {help}"));
        line.split("[default: ").nth(1).and_then(|d| d.split(']').next()).unwrap().to_string()
    };
    let (label, value) = default("--selector").split_once('=').map(|(l, v)| (l.to_string(), v.to_string())).unwrap();
    assert_eq!(
        pod["metadata"]["labels"][&label],
        value.as_str(),
        "the default --selector selects this Deployment's Pods"
    );
    let timeout = humantime::parse_duration(&default("--timeout")).unwrap();
    let grace = pod["spec"]["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(timeout.as_secs() > grace, "--timeout {timeout:?} within the grace period of {grace} s");
    let role = read("manifests/base/role.yaml");
    assert!(
        role.contains("name: connect-operator-pods") && role.contains("resources: [\"pods\"]\n    verbs: [\"list\"]")
    );
}
