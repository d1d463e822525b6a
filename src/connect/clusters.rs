//! Several Connect clusters: the clusters file (`CONNECT_CLUSTERS_FILE`),
//! validated up front, beside the single `CONNECT_URL` setup, which stays the
//! cluster named `default`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use log::warn;
use serde::Deserialize;

use crate::connect::client::{Auth, Endpoint, RequestLimits, Settings};
use crate::connect::tenancy::{Namespaces, SetBy, Tenancy};
use crate::connect::tls::ClientCert;
use crate::model::configmap::ConfigMap;

/// The name of the cluster `CONNECT_URL` configures.
pub const DEFAULT: &str = "default";
/// Names the cluster of a ConfigMap.
pub const CLUSTER_ANNOTATION: &str = "connect-operator.io/cluster";
/// streaming-ops' label, naming a Confluent Cloud cluster entry.
pub const CLOUD_LABEL: &str = crate::model::configmap::CLOUD_LABEL;
const CLOUD_API: &str = "https://api.confluent.cloud/connect/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
/// The kind of Connect a cluster runs, which changes a few requests.
pub enum Flavour {
    #[default]
    /// Apache Kafka Connect (and Strimzi's).
    Apache,
    /// Confluent Platform: Apache's API, with masked secrets.
    ConfluentPlatform,
    /// Confluent Cloud's `connect/v1` API.
    ConfluentCloud,
}

#[derive(Debug, Clone)]
/// One Connect cluster.
pub struct Cluster {
    /// Its name, as ConfigMaps name it.
    pub name: String,
    /// What it runs.
    pub flavour: Flavour,
    /// How to reach it.
    pub settings: Settings,
    /// Which namespaces may use it, and the names each may give.
    pub tenancy: Tenancy,
}

#[derive(Debug, Clone)]
/// Every configured cluster, `default` included.
pub struct Clusters {
    /// By name.
    pub all: BTreeMap<String, Cluster>,
}

/// A clusters file as written, before any credential is read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    clusters: Vec<ClusterEntry>,
    #[serde(skip)]
    path: PathBuf,
}

/// How much of a clusters file to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolve {
    /// URLs and credentials: to talk to the clusters.
    All,
    /// Names and flavours only (`render`, which talks to no cluster).
    Names,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Entry")]
struct ClusterEntry {
    name: String,
    #[serde(default)]
    flavour: Flavour,
    /// A URL, or `{env: VAR}` / `{file: path}` for one that differs per environment.
    url: Option<Url>,
    /// Confluent Cloud environment and Kafka cluster ids: the URL is then the `connect/v1` API.
    environment: Option<String>,
    cluster: Option<String>,
    #[serde(default)]
    auth: EntryAuth,
    #[serde(default)]
    tls: EntryTls,
    concurrency: Option<usize>,
    /// The namespaces whose ConfigMaps may use it; all when left out.
    #[serde(default)]
    namespaces: Namespaces,
    /// What connector names must start with (`{namespace}` is the ConfigMap's).
    name_prefix: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EntryAuth {
    basic: Option<Basic>,
    bearer: Option<ValueSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Basic {
    username: ValueSource,
    password: ValueSource,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Url {
    Literal(String),
    From(ValueSource),
}

/// A credential: literal (only sensible for user names), from an
/// environment variable, or from a file (re-read every run).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Source")]
struct ValueSource {
    value: Option<String>,
    env: Option<String>,
    file: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EntryTls {
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    #[serde(default)]
    insecure_skip_verify: bool,
}

impl ValueSource {
    /// The credential; errors name where it should be, never its value.
    fn read(&self, cluster: &str, what: &str) -> Result<String> {
        let value = match (&self.value, &self.env, &self.file) {
            (Some(v), None, None) => v.clone(),
            (None, Some(var), None) => std::env::var(var)
                .ok()
                .with_context(|| format!("cluster {cluster}: {what} comes from ${var}, which is not set"))?,
            (None, None, Some(path)) => crate::files::read_capped(path, crate::files::SMALL_MAX, "the file")
                .with_context(|| format!("cluster {cluster}: cannot read {what}"))?
                .trim()
                .to_string(),
            _ => bail!("cluster {cluster}: {what} needs exactly one of `value`, `env` or `file`"),
        };
        if value.is_empty() {
            bail!("cluster {cluster}: {what} is empty");
        }
        Ok(value)
    }
}

impl File {
    /// Reads and checks the shape of a clusters file; credentials are read later.
    pub fn read(path: &Path) -> Result<File> {
        let text = crate::files::read_capped(path, crate::files::SMALL_MAX, "the clusters file")?;
        File::parse(&text, path)
    }

    /// A clusters file's text, as read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<File> {
        crate::files::check_nesting(text, &format!("the clusters file {}", path.display()))?;
        let mut file: File = serde_yaml_ng::from_str(text)
            .with_context(|| format!("the clusters file {} is not valid", path.display()))?;
        file.path = path.to_path_buf();
        Ok(file)
    }

    /// The environment variables its entries read credentials from: they
    /// belong to those clusters, and never to `default`.
    #[must_use]
    pub fn env_names(&self) -> BTreeSet<&str> {
        let auth = self.clusters.iter().map(|e| &e.auth);
        let basic = auth.clone().filter_map(|a| a.basic.as_ref()).flat_map(|b| [&b.username, &b.password]);
        let sources = basic.chain(auth.filter_map(|a| a.bearer.as_ref()));
        sources.filter_map(|s| s.env.as_deref()).collect()
    }
}

impl Clusters {
    /// The `default` cluster from the environment (its settings and who may
    /// use it), plus the clusters file.
    pub fn new(file: Option<File>, default: &Settings, tenancy: &Tenancy, resolve: Resolve) -> Result<Clusters> {
        let mut all = BTreeMap::new();
        all.insert(
            DEFAULT.to_string(),
            Cluster {
                name: DEFAULT.into(),
                flavour: Flavour::Apache,
                settings: default.clone(),
                tenancy: tenancy.clone(),
            },
        );
        let Some(file) = file else { return Ok(Clusters { all }) };
        let path = file.path.display().to_string();
        for entry in file.clusters {
            let mut cluster =
                entry.into_cluster(default, resolve).with_context(|| format!("the clusters file {path}"))?;
            cluster.tenancy.set_by = SetBy::ClustersFile { path: path.clone(), cluster: cluster.name.clone() };
            if all.insert(cluster.name.clone(), cluster.clone()).is_some() && cluster.name != DEFAULT {
                bail!("the clusters file {path}: cluster {} is defined twice", cluster.name);
            }
        }
        Ok(Clusters { all })
    }

    /// The cluster of this name.
    pub fn get(&self, name: &str) -> Result<&Cluster> {
        self.all.get(name).with_context(|| format!("cluster {name:?} is not configured"))
    }

    /// The cluster a ConfigMap names (annotation, or streaming-ops'
    /// `destination.cc` label), or an error for that ConfigMap.
    pub fn of(&self, cm: &ConfigMap) -> Result<&Cluster> {
        let annotated = cm.annotations.get(CLUSTER_ANNOTATION);
        let labelled = cm.labels.get(CLOUD_LABEL);
        let name = match (annotated, labelled) {
            (Some(a), Some(l)) if a != l => {
                bail!("annotation {CLUSTER_ANNOTATION}={a} and label {CLOUD_LABEL}={l} name different clusters")
            }
            (Some(name), _) | (None, Some(name)) => name.as_str(),
            (None, None) => DEFAULT,
        };
        let Some(cluster) = self.all.get(name) else {
            let known: Vec<&str> = self.all.keys().map(String::as_str).collect();
            bail!(
                "cluster {name:?} is not configured (known: {}; see --clusters-file or CONNECT_CLUSTERS_FILE)",
                known.join(", ")
            );
        };
        if labelled.is_some() && cluster.flavour != Flavour::ConfluentCloud {
            bail!("label {CLOUD_LABEL} names cluster {name}, which is not a confluent-cloud cluster");
        }
        Ok(cluster)
    }
}

impl ClusterEntry {
    fn into_cluster(self, default: &Settings, resolve: Resolve) -> Result<Cluster> {
        let name = self.name;
        // It becomes a data key of the state ConfigMap (`owned.<name>`).
        let key_safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || name.len() > 200 || !name.chars().all(key_safe) {
            bail!("cluster name {name:?} must be 1 to 200 letters, digits, `-`, `_` or `.`");
        }
        let url = match (self.url, self.environment, self.cluster, self.flavour) {
            (Some(Url::Literal(url)), None, None, _) => url,
            (Some(Url::From(_)), None, None, _) if resolve == Resolve::Names => String::from("http://unresolved"),
            (Some(Url::From(source)), None, None, _) => source.read(&name, "the url")?,
            (None, Some(env), Some(id), Flavour::ConfluentCloud) => {
                format!("{CLOUD_API}/environments/{env}/clusters/{id}")
            }
            (None, _, _, Flavour::ConfluentCloud) => {
                bail!("cluster {name}: a confluent-cloud cluster needs `url`, or both `environment` and `cluster`")
            }
            (None, ..) => bail!("cluster {name}: `url` is missing"),
            (Some(_), ..) => bail!("cluster {name}: give either `url` or `environment` and `cluster`, not both"),
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!("cluster {name}: url {url:?} must start with http:// or https://");
        }
        let auth = match (self.auth.basic, self.auth.bearer) {
            _ if resolve == Resolve::Names => Auth::None,
            (None, None) => Auth::None,
            (Some(b), None) => Auth::Basic {
                username: b.username.read(&name, "the user name")?,
                password: b.password.read(&name, "the password")?,
            },
            (None, Some(token)) => Auth::Bearer(token.read(&name, "the bearer token")?),
            (Some(_), Some(_)) => bail!("cluster {name}: give basic or bearer auth, not both"),
        };
        let client_cert = match (self.tls.cert_file, self.tls.key_file) {
            (Some(cert), Some(key)) => Some(ClientCert { cert, key }),
            (None, None) => None,
            _ => bail!("cluster {name}: mutual TLS needs both `certFile` and `keyFile`"),
        };
        if self.tls.insecure_skip_verify {
            warn!("cluster {name}: TLS certificates are NOT verified (insecureSkipVerify); anyone on the path can read its credentials");
        }
        let endpoint = Endpoint {
            url,
            auth,
            ca_file: self.tls.ca_file,
            client_cert,
            insecure_skip_verify: self.tls.insecure_skip_verify,
            comma_expand: self.flavour == Flavour::ConfluentCloud,
        };
        let concurrency = self.concurrency.unwrap_or(default.limits.concurrency).clamp(1, 64);
        let settings = Settings { endpoint, limits: RequestLimits { concurrency, ..default.limits } };
        let tenancy = Tenancy { namespaces: self.namespaces, name_prefix: self.name_prefix, set_by: SetBy::default() };
        Ok(Cluster { name, flavour: self.flavour, settings, tenancy })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn default() -> Settings {
        Settings {
            limits: RequestLimits { retry_budget: Duration::from_secs(60), ..RequestLimits::default() },
            ..Settings::default()
        }
    }

    fn load(text: &str) -> Result<Clusters> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clusters.yaml");
        std::fs::write(&path, text).unwrap();
        Clusters::new(Some(File::read(&path)?), &default(), &Tenancy::default(), Resolve::All)
    }

    #[test]
    fn flavours_urls_and_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "t0ken\n").unwrap();
        let clusters = load(&format!(
            r#"
clusters:
  - name: analytics
    url: https://connect-analytics:8083
    concurrency: 2
    auth: {{bearer: {{file: {}}}}}
  - name: cloud
    flavour: confluent-cloud
    environment: env-1
    cluster: lkc-2
    auth:
      basic: {{username: {{value: KEY}}, password: {{value: SECRET}}}}
"#,
            token.display()
        ))
        .unwrap();
        assert_eq!(clusters.all.len(), 3);
        let analytics = &clusters.all["analytics"].settings;
        assert_eq!(analytics.limits.concurrency, 2);
        assert!(matches!(&analytics.endpoint.auth, Auth::Bearer(t) if t == "t0ken"));
        let cloud = &clusters.all["cloud"];
        assert_eq!(
            cloud.settings.endpoint.url,
            "https://api.confluent.cloud/connect/v1/environments/env-1/clusters/lkc-2"
        );
        assert!(cloud.settings.endpoint.comma_expand);
        assert_eq!(clusters.all[DEFAULT].settings.endpoint.url, "http://connect:8083");
    }

    #[test]
    fn bad_files_are_refused_with_the_cause_and_no_secret() {
        for (text, want) in [
            ("clusters: [{name: a}]", "cluster a: `url` is missing"),
            ("clusters: [{name: a, flavour: confluent-cloud}]", "needs `url`, or both `environment` and `cluster`"),
            ("clusters: [{name: a, url: ftp://x}]", "must start with http"),
            ("clusters: [{name: a, url: 'http://x'}, {name: a, url: 'http://y'}]", "defined twice"),
            ("clusters: [{name: a, url: 'http://x', flavour: kafka}]", "is not valid:"),
            (
                "clusters: [{name: a, url: 'http://x', auth: {bearer: {env: NO_SUCH_VAR_FOR_TEST}}}]",
                "$NO_SUCH_VAR_FOR_TEST, which is not set",
            ),
            ("clusters: [{name: a, url: 'http://x', tls: {certFile: /c}}]", "needs both `certFile` and `keyFile`"),
            ("clusters: [{name: a, url: 'http://x', colour: blue}]", "is not valid:"),
            ("clusters: [{name: 'my cluster', url: 'http://x'}]", "must be 1 to 200 letters"),
        ] {
            let e = format!("{:#}", load(text).unwrap_err());
            assert!(e.contains(want), "{text}: {e}");
        }
        let e = format!(
            "{:#}",
            load("clusters: [{name: a, url: 'http://x', auth: {basic: {username: {value: u}, password: {value: hunter2}}, bearer: {value: t}}}]").unwrap_err()
        );
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn a_configmap_picks_its_cluster() {
        let clusters = load(
            "clusters: [{name: cc.dev, flavour: confluent-cloud, url: 'http://cloud'}, {name: b, url: 'http://b'}]",
        )
        .unwrap();
        let cm = |labels: serde_json::Value, annotations: serde_json::Value| {
            ConfigMap::from_json(
                &serde_json::json!({"metadata": {"name": "c", "labels": labels, "annotations": annotations}}),
            )
            .unwrap()
        };
        assert_eq!(clusters.of(&cm(serde_json::json!({}), serde_json::json!({}))).unwrap().name, DEFAULT);
        assert_eq!(
            clusters.of(&cm(serde_json::json!({}), serde_json::json!({CLUSTER_ANNOTATION: "b"}))).unwrap().name,
            "b"
        );
        assert_eq!(
            clusters.of(&cm(serde_json::json!({CLOUD_LABEL: "cc.dev"}), serde_json::json!({}))).unwrap().name,
            "cc.dev"
        );
        let e = clusters.of(&cm(serde_json::json!({}), serde_json::json!({CLUSTER_ANNOTATION: "nope"}))).unwrap_err();
        assert!(e.to_string().contains("\"nope\" is not configured (known: b, cc.dev, default"), "{e}");
        assert!(clusters.of(&cm(serde_json::json!({CLOUD_LABEL: "b"}), serde_json::json!({}))).is_err());
    }

    #[test]
    fn urls_from_the_environment_and_names_without_credentials() {
        std::env::set_var("CLUSTERS_TEST_URL", "http://from-env:8083");
        let clusters = load("clusters: [{name: a, url: {env: CLUSTERS_TEST_URL}}]").unwrap();
        assert_eq!(clusters.all["a"].settings.endpoint.url, "http://from-env:8083");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clusters.yaml");
        let text = "clusters: [{name: a, url: {env: CLUSTERS_TEST_UNSET}, auth: {bearer: {env: CLUSTERS_TEST_UNSET}}}]";
        std::fs::write(&path, text).unwrap();
        let file = File::read(&path).unwrap();
        assert_eq!(file.env_names(), BTreeSet::from(["CLUSTERS_TEST_UNSET"]));
        let names = Clusters::new(Some(file), &default(), &Tenancy::default(), Resolve::Names).unwrap();
        assert!(names.all.contains_key("a"));
        assert!(format!("{:#}", load(text).unwrap_err()).contains("$CLUSTERS_TEST_UNSET, which is not set"));
    }
}
