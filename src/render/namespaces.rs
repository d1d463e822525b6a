//! What templates may read, by namespace. One operator may serve every
//! namespace (`manifests/cluster-wide`): the properties files under
//! `namespaces/<namespace>/` of the config directory are variables for that
//! namespace's ConfigMaps alone, on top of the shared ones (every other file
//! of the directory), and `TEMPLATE_ENV` keeps the rest of the environment
//! from every template.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use log::{debug, warn};

use crate::render::variables::{self, TemplateEnv, Variables, NAMESPACES_DIR, PUBLIC_VARIABLES};

/// The variables of every namespace.
#[derive(Debug, Clone, Default)]
pub struct ByNamespace {
    /// What a namespace without a folder of its own reads.
    shared: Arc<Variables>,
    /// The namespaces with a folder of their own: the shared variables, and theirs on top.
    own: BTreeMap<String, Arc<Variables>>,
    /// Secret values of the environment `TEMPLATE_ENV` keeps from templates:
    /// none can read them, but a message (Connect's) may still quote one.
    withheld: Vec<String>,
}

/// What [`ByNamespace::load`] reads.
pub struct VariableSources<'a> {
    /// The config directory.
    pub dir: &'a Path,
    /// The environment, whole.
    pub env: Vec<(String, String)>,
    /// What of it templates may read; `None`, all of it.
    pub template_env: Option<&'a TemplateEnv>,
    /// The operator's own settings whose values are not secret.
    pub settings: BTreeSet<String>,
}

impl ByNamespace {
    /// The same variables for every namespace.
    #[must_use]
    pub fn shared(variables: Variables) -> ByNamespace {
        ByNamespace { shared: Arc::new(variables), ..ByNamespace::default() }
    }

    /// Reads the shared properties files, each namespace's folder under
    /// [`NAMESPACES_DIR`], and the environment templates may read.
    #[must_use]
    pub fn load(sources: VariableSources) -> ByNamespace {
        let (env, withheld) = split_env(sources.env, sources.template_env);
        let shared_vars = variables::read_all(&variables::properties_files(sources.dir));
        let make = |vars: BTreeMap<String, String>| {
            Arc::new(Variables {
                settings: sources.settings.clone(),
                template_env: sources.template_env.cloned(),
                ..Variables::from_parts(vars, env.clone())
            })
        };
        let mut own = BTreeMap::new();
        for (namespace, folder) in namespace_folders(&sources.dir.join(NAMESPACES_DIR)) {
            let theirs = variables::read_all(&variables::properties_files(&folder));
            debug!("namespace {namespace}: {} variables of its own, from {}", theirs.len(), folder.display());
            let mut vars = shared_vars.clone();
            vars.extend(theirs);
            own.insert(namespace, make(vars));
        }
        let shared = make(shared_vars);
        let withheld = withheld.into_iter().filter(|(k, _)| !shared.is_public_env(k)).map(|(_, v)| v).collect();
        let loaded = ByNamespace { shared, own, withheld };
        let defined = |name: &str| loaded.sets().any(|v| v.vars.contains_key(name) || v.env.contains_key(name));
        for name in loaded.shared.public.iter().filter(|n| !defined(n)) {
            warn!("{PUBLIC_VARIABLES} names {name}, which no properties file or environment variable defines");
        }
        loaded
    }

    /// What the templates of a ConfigMap in `namespace` may read.
    #[must_use]
    pub fn of(&self, namespace: &str) -> &Arc<Variables> {
        self.own_namespace(namespace).and_then(|ns| self.own.get(ns)).unwrap_or(&self.shared)
    }

    /// The namespace whose own variables a ConfigMap in `namespace` reads;
    /// `None` when it reads the shared ones.
    #[must_use]
    pub fn own_namespace<'a>(&self, namespace: &'a str) -> Option<&'a str> {
        Some(namespace).filter(|ns| self.own.contains_key(*ns))
    }

    /// The shared variables.
    #[must_use]
    pub fn shared_variables(&self) -> &Arc<Variables> {
        &self.shared
    }

    /// The namespaces with variables of their own, and theirs.
    pub fn own(&self) -> impl Iterator<Item = (&str, &Arc<Variables>)> {
        self.own.iter().map(|(ns, v)| (ns.as_str(), v))
    }

    /// Every set of variables: the shared one, then each namespace's.
    pub fn sets(&self) -> impl Iterator<Item = &Variables> {
        std::iter::once(&*self.shared).chain(self.own.values().map(|v| &**v))
    }

    /// Every secret value of every namespace, and of the environment
    /// templates may not read: what every message is scrubbed of, whichever
    /// namespace it is about.
    pub fn secret_values(&self) -> impl Iterator<Item = &str> {
        self.sets().flat_map(Variables::secret_values).chain(self.withheld.iter().map(String::as_str))
    }

    /// `TEMPLATE_ENV`, when it is set.
    #[must_use]
    pub fn template_env(&self) -> Option<&TemplateEnv> {
        self.shared.template_env.as_ref()
    }
}

/// The environment templates may read, and the rest.
type Split = (BTreeMap<String, String>, Vec<(String, String)>);

fn split_env(env: Vec<(String, String)>, template_env: Option<&TemplateEnv>) -> Split {
    let (readable, withheld): (Vec<_>, Vec<_>) =
        env.into_iter().partition(|(k, _)| template_env.is_none_or(|list| list.allows(k)));
    (readable.into_iter().collect(), withheld)
}

/// The folders under `root`, by name, following symbolic links; Kubernetes'
/// `..data` entries are skipped, and anything else is said and left out.
fn namespace_folders(root: &Path) -> Vec<(String, PathBuf)> {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            warn!("cannot read {}: {e}; no namespace has variables of its own", root.display());
            return Vec::new();
        }
    };
    let mut folders = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                warn!("cannot read under {}: {e}", root.display());
                continue;
            }
        };
        let (path, name) = (entry.path(), entry.file_name().to_string_lossy().into_owned());
        if name.starts_with("..") {
            continue;
        }
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => folders.push((name, path)),
            Ok(_) => warn!(
                "{}: not a folder, so no namespace's; a namespace's properties files go in {}/<namespace>/",
                path.display(),
                root.display()
            ),
            Err(e) => warn!("cannot read {}: {e}", path.display()),
        }
    }
    folders.sort();
    folders
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn load(root: &Path, env: &[(&str, &str)], template_env: Option<&TemplateEnv>) -> ByNamespace {
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ByNamespace::load(VariableSources { dir: root, env, template_env, settings: BTreeSet::new() })
    }

    #[test]
    fn a_namespace_reads_the_shared_variables_and_its_own_and_no_other_namespaces() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("shared.properties"), "url=shared\nuser=everyone\n").unwrap();
        fs::create_dir_all(root.join("namespaces/team-a")).unwrap();
        fs::write(root.join("namespaces/team-a/a.properties"), "url=a\npassword=a-s3cret\n").unwrap();
        fs::create_dir_all(root.join("namespaces/team-c")).unwrap();
        fs::write(
            root.join("namespaces/team-c/jaas.properties"),
            "sasl.jaas.config=x required username=\"C\" password=\"c-s3cret\";\n",
        )
        .unwrap();
        let by = load(root, &[("HOME", "/root")], None);

        let a = by.of("team-a");
        assert_eq!((a.vars["URL"].as_str(), a.vars["USER"].as_str()), ("a", "everyone"));
        assert_eq!(a.vars["PASSWORD"], "a-s3cret");
        let b = by.of("team-b");
        assert_eq!(b.vars.get("URL").map(String::as_str), Some("shared"));
        assert!(!b.vars.contains_key("PASSWORD"), "team-a's own are not team-b's");
        assert!(!by.of("default").vars.contains_key("PASSWORD"));
        let c = by.of("team-c");
        assert_eq!(c.env["KAFKA_API_KEY"], "C", "derived from the namespace's own sasl.jaas.config");
        assert!(!a.env.contains_key("KAFKA_API_KEY"));

        let secrets: Vec<&str> = by.secret_values().collect();
        for secret in ["a-s3cret", "c-s3cret", "everyone"] {
            assert!(secrets.contains(&secret), "{secret}: {secrets:?}");
        }
    }

    #[test]
    fn template_env_keeps_the_rest_of_the_environment_from_templates_but_not_from_the_scrubber() {
        let dir = tempfile::tempdir().unwrap();
        let list = TemplateEnv::parse("DB_USER, $DB_PASSWORD,").unwrap();
        let env = [("DB_USER", "app"), ("DB_PASSWORD", "pw-s3cret"), ("AWS_SECRET", "aws-s3cret")];
        let by = load(dir.path(), &env, Some(&list));
        let shared = by.of("any");
        assert_eq!(shared.env.keys().collect::<Vec<_>>(), ["DB_PASSWORD", "DB_USER"]);
        assert!(by.secret_values().any(|s| s == "aws-s3cret"), "withheld, and scrubbed still");
        assert_eq!(by.template_env(), Some(&list));
        assert!(TemplateEnv::parse("A,B C").is_err());
        let all = load(dir.path(), &env, None);
        assert_eq!(all.of("default").env.len(), 3);
    }

    #[test]
    fn files_beside_the_namespace_folders_are_no_namespaces() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("namespaces")).unwrap();
        fs::write(dir.path().join("namespaces/stray.properties"), "x=1\n").unwrap();
        let by = load(dir.path(), &[], None);
        assert_eq!(by.own().count(), 0);
        assert!(!by.of("default").vars.contains_key("X"), "not shared either");
    }
}
