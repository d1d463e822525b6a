//! What a run reads: shell-operator's binding contexts, ConfigMap manifests
//! on disk, and the binding configuration it prints with `--config`. This
//! room owns every binding name.

pub mod bindings;
pub mod hook_config;
pub mod manifests;

/// Name of the ConfigMap binding; also the key of its snapshot.
pub const KUBERNETES_BINDING: &str = "connectors";
/// The periodic full resync.
pub const SCHEDULE_BINDING: &str = "resync";
/// The snapshot-only binding that watches the operator's state ConfigMap.
pub const STATE_BINDING: &str = "state";

/// The operator's namespace: `OPERATOR_NAMESPACE` (the Deployment sets it
/// from the Pod), else the service account's, else `default`.
#[must_use]
pub fn operator_namespace() -> String {
    std::env::var("OPERATOR_NAMESPACE")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace").ok())
        .map_or_else(|| "default".into(), |n| n.trim().to_string())
}
