//! The connectors this operator applied, each with the ConfigMap it
//! applied it for, as the ownership record keeps them.

use std::collections::BTreeMap;

use crate::model::configmap::CmId;

/// The ConfigMap a connector was applied for, as the ownership record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// This ConfigMap applied it last.
    ConfigMap(CmId),
    /// Recorded before owners were (a list of names): treated as if no
    /// ConfigMap owned it, which refuses every declaration of a shared name.
    Unknown,
}

/// The connectors this operator applied on one cluster, each with its owner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owned {
    /// Connector name -> owner.
    pub by_name: BTreeMap<String, Owner>,
}

impl Owned {
    /// Whether the operator applied `name` (for `PRUNE=owned`).
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The ConfigMap `name` was applied for, when the record knows it.
    #[must_use]
    pub fn owner(&self, name: &str) -> Option<&CmId> {
        match self.by_name.get(name)? {
            Owner::ConfigMap(id) => Some(id),
            Owner::Unknown => None,
        }
    }
}
