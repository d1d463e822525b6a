//! `export`: adopting the connectors a cluster already runs. Each becomes a
//! ConfigMap manifest whose template renders to the live config, key for key,
//! so that `diff` on the exported folder finds nothing to change.
//!
//! Secret values never land in a ConfigMap: a key Connect defines as
//! `PASSWORD` (the `config/validate` definitions of the connector's class,
//! asked once per class), or named like a secret, or whose value Connect
//! masks, becomes `env.NAME` in the template, and the value (or a
//! placeholder) goes to a Secret manifest, the `connect-operator-env` the
//! Deployment reads its environment from.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use log::warn;

use crate::connect::{Client, Failure};
use crate::day2::adopt::{self, Include, Passwords, Rules, SecretValue, CONNECTOR_CLASS, ENV_SECRET};
use crate::gitops::validate::passwords_of;
use crate::gitops::Verdict;
use crate::model::connector::TargetState;
use crate::model::live::Live;
use crate::redact::Scrubber;
use crate::settings::ConnectArgs;

/// The file the Secret manifest is written to.
pub const SECRET_FILE: &str = "connect-operator-env.secret.yaml";

/// `export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The connectors to export [default: every connector of the cluster]
    #[arg(value_name = "CONNECTOR")]
    pub connectors: Vec<String>,

    /// The cluster to read
    #[arg(long, default_value = "default")]
    pub cluster: String,

    /// The namespace the manifests name [default: none, so kubectl's]
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,

    /// Where to write the manifests (created if missing)
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub output_dir: PathBuf,

    /// Write the secret values into the Secret manifest instead of placeholders
    #[arg(long)]
    pub include_secrets: bool,

    /// Where the clusters are.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// A manifest to write.
struct OutputFile {
    path: PathBuf,
    text: String,
    /// Who may read it: the Secret's file is the owner's alone.
    private: bool,
}

/// `export`: writes a ConfigMap manifest per connector, and the Secret of
/// the values kept out of them; writes nothing when any file exists.
pub fn run(asked: &ExportArgs) -> Result<Verdict> {
    let clusters = asked.connect.clusters()?;
    let cluster = clusters.get(&asked.cluster)?;
    let scrubber = Scrubber::default();
    let client = Client::new(&cluster.settings, &scrubber)?;
    let live = read(&client, asked, &scrubber)?;
    let classes: BTreeSet<&str> =
        live.configs.values().filter_map(|c| c.get(CONNECTOR_CLASS)).map(String::as_str).collect();
    let passwords = passwords(&client, &classes, &asked.cluster, &scrubber);
    let unknown = Passwords::Unknown;
    let include = if asked.include_secrets { Include::Values } else { Include::Placeholders };
    let reserved = settings_variables();
    let mut env: BTreeMap<String, SecretValue> = BTreeMap::new();
    let mut stems: BTreeSet<String> = BTreeSet::from([SECRET_FILE.trim_end_matches(".yaml").to_string()]);
    let mut files = Vec::new();
    for (name, config) in &live.configs {
        let class = config.get(CONNECTOR_CLASS).map(String::as_str).unwrap_or_default();
        let declared = passwords.get(class).unwrap_or(&unknown);
        let state = state_of(&client, &live, name).map_err(|f| {
            anyhow!("cannot read the status of connector {name} (cluster {}): {}", asked.cluster, f.scrubbed(&scrubber))
        })?;
        let rules = Rules { passwords: declared, flavour: cluster.flavour, include, reserved: &reserved };
        let adopted = adopt::adopt(name, state, config, &rules, &mut env);
        let stem = adopt::unique(&adopt::dns_name(name), &mut stems, "-");
        let text = adopt::configmap(&adopted, &stem, asked.namespace.as_deref(), &asked.cluster)?;
        files.push(OutputFile { path: asked.output_dir.join(format!("{stem}.yaml")), text, private: false });
    }
    if !env.is_empty() {
        let text = adopt::secret(&env, asked.namespace.as_deref())?;
        files.push(OutputFile { path: asked.output_dir.join(SECRET_FILE), text, private: true });
    }
    write_all(&asked.output_dir, &files)?;
    for (file, name) in files.iter().zip(live.configs.keys()) {
        println!("wrote {} (connector {name})", file.path.display());
    }
    if !env.is_empty() {
        let placeholders = env.values().filter(|v| **v == SecretValue::Placeholder).count();
        let held = match include {
            Include::Values => "it holds secret values: keep it out of Git",
            Include::Placeholders => "set them before applying",
        };
        println!(
            "wrote {} (Secret {ENV_SECRET}: {}, {placeholders} of them placeholders; {held})",
            asked.output_dir.join(SECRET_FILE).display(),
            crate::text::count(env.len(), "variable")
        );
    }
    Ok(Verdict::Done)
}

/// Every variable the operator reads as a setting, and the process's own.
fn settings_variables() -> BTreeSet<String> {
    // Read with std::env beside the flags: streaming-ops' names, and the digest key.
    const READ_DIRECTLY: [&str; 3] = ["CONNECT_REST_KEY", "CONNECT_REST_SECRET", "CONNECT_OPERATOR_DIGEST_KEY"];
    let hook = crate::settings::HookArgs::augment_args(clap::Command::new("settings"));
    let flags = hook.get_arguments().filter_map(clap::Arg::get_env).map(|n| n.to_string_lossy().into_owned());
    flags.chain(READ_DIRECTLY.map(str::to_string)).collect()
}

/// The connectors asked for, with their configs: an unknown name is an error.
fn read(client: &Client, asked: &ExportArgs, scrubber: &Scrubber) -> Result<Live> {
    let failed = |f: Failure| anyhow!(f.reading(&asked.cluster, scrubber));
    if asked.connectors.is_empty() {
        let listed = client.read_listing(None).map_err(failed)?;
        let names = listed.names().clone();
        return client.complete(listed, &names).map_err(failed);
    }
    let wanted: BTreeSet<String> = asked.connectors.iter().cloned().collect();
    let mut live = client.read_live(&wanted).map_err(failed)?;
    let missing: Vec<&str> = wanted.iter().filter(|n| !live.configs.contains_key(*n)).map(String::as_str).collect();
    if !missing.is_empty() {
        bail!("Kafka Connect (cluster {}) has no connector {}: nothing written", asked.cluster, missing.join(", "));
    }
    live.configs.retain(|name, _| wanted.contains(name));
    Ok(live)
}

/// The state to declare: a paused or stopped connector stays so.
fn state_of(client: &Client, live: &Live, name: &str) -> Result<TargetState, Failure> {
    let status = match live.status.get(name) {
        Some(status) => Some(status.clone()),
        None => client.status(name)?,
    };
    Ok(status.map_or(TargetState::Running, |s| TargetState::of_live(s.connector.state)))
}

/// The `PASSWORD` keys of each class, one validate request per class. The
/// request holds the class alone: the definitions do not depend on the
/// values, and a full config would make some plugins connect to their
/// systems while validating.
fn passwords(
    client: &Client,
    classes: &BTreeSet<&str>,
    cluster: &str,
    scrubber: &Scrubber,
) -> BTreeMap<String, Passwords> {
    let classes: Vec<&str> = classes.iter().copied().filter(|c| !c.is_empty()).collect();
    let asked = crate::parallel::map(&classes, client.concurrency(), |class| {
        let config = BTreeMap::from([(CONNECTOR_CLASS.to_string(), (*class).to_string())]);
        let report = client.validate(class, &config).map_err(|f| f.scrubbed(scrubber))?;
        passwords_of(&report).map_err(|e| e.0)
    });
    classes
        .iter()
        .zip(asked)
        .map(|(class, answer)| {
            let passwords = match answer {
                Ok(declared) => Passwords::Declared(declared),
                Err(why) => {
                    warn!(
                        "cannot read which keys class {class} defines as passwords (cluster {cluster}): {why}; \
                         the keys of its connectors named like secrets are kept out of the ConfigMaps"
                    );
                    Passwords::Unknown
                }
            };
            ((*class).to_string(), passwords)
        })
        .collect()
}

/// Writes every file, or none: any that exists already is refused, so a
/// second run never overwrites what the first wrote (and someone edited).
fn write_all(dir: &Path, files: &[OutputFile]) -> Result<()> {
    let existing: Vec<String> = files
        .iter()
        .filter(|f| std::fs::symlink_metadata(&f.path).is_ok())
        .map(|f| f.path.display().to_string())
        .collect();
    if !existing.is_empty() {
        bail!(
            "refusing to overwrite {}: nothing written (move it away, or choose another --output-dir)",
            existing.join(", ")
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for file in files {
        let mode = if file.private { 0o600 } else { 0o644 };
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&file.path)
            .and_then(|mut out| out.write_all(file.text.as_bytes()))
            .with_context(|| format!("cannot write {}", file.path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::settings_variables;

    #[test]
    fn the_reserved_variables_are_the_operators_settings() {
        let reserved = settings_variables();
        for name in ["CONNECT_URL", "CONNECT_PASSWORD", "PRUNE", "CONNECT_REST_SECRET", "CONNECT_OPERATOR_DIGEST_KEY"] {
            assert!(reserved.contains(name), "{name}: {reserved:?}");
        }
    }
}
