//! Which namespaces may use a cluster, and what the connector names of
//! each must start with: so that one operator serving every namespace
//! shares a Connect cluster between teams without lending each the others'
//! connectors or credentials.

use std::collections::BTreeSet;
use std::fmt;

use serde::Deserialize;

use crate::model::connector::Connector;
use crate::render::error::{Located, RenderError, Templates};

/// The namespaces whose ConfigMaps may use a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Namespaces {
    /// Every namespace: a single-namespace install, and anyone's default.
    #[default]
    All,
    /// These only.
    Only(BTreeSet<String>),
}

impl Namespaces {
    /// From a list as written: `*` anywhere in it means all.
    #[must_use]
    pub fn from_list<S: AsRef<str>>(list: &[S]) -> Namespaces {
        let names: BTreeSet<String> =
            list.iter().map(|s| s.as_ref().trim().to_string()).filter(|s| !s.is_empty()).collect();
        if names.is_empty() || names.contains("*") {
            Namespaces::All
        } else {
            Namespaces::Only(names)
        }
    }

    fn admits(&self, namespace: &str) -> bool {
        match self {
            Namespaces::All => true,
            Namespaces::Only(names) => names.contains(namespace),
        }
    }
}

impl<'de> Deserialize<'de> for Namespaces {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Namespaces, D::Error> {
        Ok(Namespaces::from_list(&Vec::<String>::deserialize(deserializer)?))
    }
}

impl fmt::Display for Namespaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Namespaces::All => f.write_str("every namespace"),
            Namespaces::Only(names) => f.write_str(&names.iter().map(String::as_str).collect::<Vec<_>>().join(", ")),
        }
    }
}

/// Who may use a cluster, and the setting that says so (named when a
/// ConfigMap is refused, so that the one who reads the refusal knows what
/// to change).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tenancy {
    /// The namespaces whose ConfigMaps may use it.
    pub namespaces: Namespaces,
    /// What its connector names must start with, `{namespace}` replaced by
    /// the ConfigMap's namespace.
    pub name_prefix: Option<String>,
    /// Where these are set.
    pub set_by: SetBy,
}

/// Where a cluster's tenancy is set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SetBy {
    /// `CONNECT_NAMESPACES` and `CONNECT_NAME_PREFIX`, for the default cluster.
    #[default]
    Environment,
    /// An entry of the clusters file.
    ClustersFile {
        /// The file.
        path: String,
        /// The entry's name.
        cluster: String,
    },
}

impl SetBy {
    /// The setting that says who may use the cluster.
    fn namespaces(&self) -> String {
        match self {
            SetBy::Environment => "CONNECT_NAMESPACES".into(),
            SetBy::ClustersFile { path, cluster } => format!("`namespaces` of cluster {cluster} in {path}"),
        }
    }

    /// The setting that says how names start.
    fn name_prefix(&self) -> String {
        match self {
            SetBy::Environment => "CONNECT_NAME_PREFIX".into(),
            SetBy::ClustersFile { path, cluster } => format!("`namePrefix` of cluster {cluster} in {path}"),
        }
    }
}

/// Why a ConfigMap may not declare a connector where it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Its namespace may not use the cluster.
    Namespace {
        /// The ConfigMap's namespace.
        namespace: String,
        /// The cluster it names.
        cluster: String,
        /// Who may.
        allowed: Namespaces,
        /// The setting that says so.
        set_by: String,
    },
    /// A connector's name does not start as its namespace's names must.
    Name {
        /// The connector name declared.
        name: String,
        /// What it must start with.
        prefix: String,
        /// The cluster it names.
        cluster: String,
        /// The setting that says so.
        set_by: String,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Namespace { namespace, cluster, allowed, set_by } => write!(
                f,
                "namespace {namespace} may not use cluster {cluster}: {set_by} allows {allowed} (nothing of this \
                 ConfigMap is sent to it)"
            ),
            Refusal::Name { name, prefix, cluster, set_by } => write!(
                f,
                "connector name {name:?} does not start with {prefix:?}, as names from this namespace must on \
                 cluster {cluster} ({set_by}); it is not applied"
            ),
        }
    }
}

impl Tenancy {
    /// The default cluster's, from `CONNECT_NAMESPACES` and `CONNECT_NAME_PREFIX`.
    #[must_use]
    pub fn from_environment(namespaces: &[String], name_prefix: Option<&str>) -> Tenancy {
        let name_prefix = name_prefix.filter(|p| !p.is_empty()).map(str::to_string);
        Tenancy { namespaces: Namespaces::from_list(namespaces), name_prefix, set_by: SetBy::Environment }
    }

    /// Whether a ConfigMap in `namespace` may use cluster `cluster`.
    pub fn admit(&self, namespace: &str, cluster: &str) -> Result<(), Refusal> {
        if self.namespaces.admits(namespace) {
            return Ok(());
        }
        Err(Refusal::Namespace {
            namespace: namespace.to_string(),
            cluster: cluster.to_string(),
            allowed: self.namespaces.clone(),
            set_by: self.set_by.namespaces(),
        })
    }

    /// Whether a ConfigMap in `namespace` may name a connector `name` on cluster `cluster`.
    pub fn check_name(&self, namespace: &str, name: &str, cluster: &str) -> Result<(), Refusal> {
        let Some(pattern) = &self.name_prefix else { return Ok(()) };
        let prefix = pattern.replace("{namespace}", namespace);
        if name.starts_with(&prefix) {
            return Ok(());
        }
        Err(Refusal::Name {
            name: name.to_string(),
            prefix,
            cluster: cluster.to_string(),
            set_by: self.set_by.name_prefix(),
        })
    }

    /// What the templates of a ConfigMap in `namespace` rendered (by data
    /// key), each connector whose name lacks the prefix refused: such a
    /// name is not declared at all, so it can neither change nor keep
    /// another namespace's connector.
    #[must_use]
    pub fn refuse_names(&self, namespace: &str, cluster: &str, templates: Templates) -> Templates {
        if self.name_prefix.is_none() {
            return templates;
        }
        // A name renamed from is taken over, so it must be the namespace's too.
        let check = |c: Connector| {
            let names = std::iter::once(&c.name).chain(&c.renamed_from);
            match names.map(|name| self.check_name(namespace, name, cluster)).find_map(Result::err) {
                None => Ok(c),
                Some(refusal) => Err(RenderError::Refused(Located::nowhere(refusal.to_string()))),
            }
        };
        templates.into_iter().map(|(key, rendered)| (key, rendered.and_then(check))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(names: &[&str]) -> Tenancy {
        Tenancy {
            namespaces: Namespaces::from_list(names),
            name_prefix: Some("{namespace}-".into()),
            set_by: SetBy::Environment,
        }
    }

    #[test]
    fn a_namespace_not_listed_is_refused_with_the_setting_that_lists() {
        let t = only(&["team-a"]);
        assert!(t.admit("team-a", "shared").is_ok());
        let refused = t.admit("team-b", "shared").unwrap_err().to_string();
        assert_eq!(
            refused,
            "namespace team-b may not use cluster shared: CONNECT_NAMESPACES allows team-a (nothing of this \
             ConfigMap is sent to it)"
        );
        assert!(only(&["team-a", "*"]).admit("team-b", "shared").is_ok());
        assert!(Tenancy::default().admit("anyone", "shared").is_ok());
    }

    #[test]
    fn names_start_with_the_namespace_prefix() {
        let t = only(&["*"]);
        assert!(t.check_name("team-a", "team-a-orders", "shared").is_ok());
        let refused = t.check_name("team-b", "team-a-orders", "shared").unwrap_err().to_string();
        assert!(refused.contains("does not start with \"team-b-\""), "{refused}");
        assert!(Tenancy::default().check_name("team-b", "anything", "shared").is_ok());
    }
}
