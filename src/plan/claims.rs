//! Who may act on a connector name: the ConfigMaps that declare it, and the
//! one the operator applied it for (its owner, from the ownership record).
//! A ConfigMap in another namespace that declares a name by mistake must not
//! take a running connector from its owner, nor stop the owner's own edits.

use std::collections::{BTreeMap, BTreeSet};

use crate::desired::{CmState, Declared};
use crate::model::configmap::CmId;
use crate::plan::steps::Origin;

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
    /// Connectors whose delete the brake held after their declaration was
    /// gone (a ConfigMap deleted, a key removed): nothing declares them to
    /// plan the delete again, so each full run does, until it is done.
    pub held: BTreeSet<String>,
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

/// One declaration of a connector name.
#[derive(Debug, Clone, Copy)]
struct Claim<'a> {
    configmap: &'a CmId,
    key: &'a String,
}

impl Claim<'_> {
    fn origin(self) -> Origin {
        Origin { configmap: self.configmap.clone(), key: Some(self.key.clone()) }
    }
}

/// What becomes of one declaration of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ruling {
    /// It is the one declaration that counts: planned as its ConfigMap asks.
    Planned,
    /// Not applied, and why.
    Refused(Rival),
    /// Its ConfigMap is gone, and another declaration keeps the connector.
    KeptBy(Origin),
}

/// Why a declaration is not applied: a rival declaration of the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rival {
    /// Another ConfigMap owns the name and still declares it.
    OwnedBy(CmId),
    /// Others declare the name too and none of them owns it: all refused.
    AlsoDeclared(Vec<Origin>),
}

impl Rival {
    /// Why the declaration of connector `name` is not applied, in words.
    #[must_use]
    pub fn message(&self, name: &str) -> String {
        match self {
            Rival::OwnedBy(owner) => format!(
                "connector {name} belongs to ConfigMap {owner}, which applied it; this declaration is not applied \
                 while that ConfigMap declares it"
            ),
            Rival::AlsoDeclared(others) => {
                let list: Vec<String> = others.iter().map(ToString::to_string).collect();
                format!(
                    "connector {name} is also declared by {}; neither declaration is applied until only one remains",
                    list.join(", ")
                )
            }
        }
    }
}

/// The declarations of every name among the ConfigMaps that still exist, and
/// their owners; borrowed, as an event run counts every ConfigMap for the
/// few it acts on.
pub struct Claims<'a> {
    declarations: BTreeMap<&'a str, Vec<Claim<'a>>>,
    /// By old name, the declarations that say they were renamed from it.
    renames: BTreeMap<&'a str, Vec<Claim<'a>>>,
    existing: BTreeMap<&'a CmId, &'a Declared>,
    owned: &'a Owned,
}

impl<'a> Claims<'a> {
    /// Indexes what `declared` declares.
    #[must_use]
    pub fn new(declared: &'a [Declared], owned: &'a Owned) -> Claims<'a> {
        let mut claims =
            Claims { declarations: BTreeMap::new(), renames: BTreeMap::new(), existing: BTreeMap::new(), owned };
        // A refused ConfigMap claims nothing: it cannot keep another's connector.
        let claiming = |d: &&Declared| d.state != CmState::Deleted && !matches!(d.state, CmState::Refused(_));
        for d in declared.iter().filter(claiming) {
            claims.existing.insert(&d.id, d);
            for (key, name) in d.declarations() {
                claims.declarations.entry(name).or_default().push(Claim { configmap: &d.id, key });
            }
            for (key, old) in d.renames() {
                claims.renames.entry(old).or_default().push(Claim { configmap: &d.id, key });
            }
        }
        claims
    }

    /// What becomes of `d`'s declaration of `name` under `key`.
    #[must_use]
    pub fn ruling(&self, d: &Declared, key: &String, name: &str) -> Ruling {
        let holder = self.holder(name);
        let others = self.declarations.get(name).into_iter().flatten().filter(|o| (o.configmap, o.key) != (&d.id, key));
        if d.state == CmState::Deleted {
            let mut others = others.copied();
            let by = match holder {
                Some(owner) => others.find(|o| o.configmap == owner).map_or_else(|| whole(owner), Claim::origin),
                None => match others.next() {
                    Some(other) => other.origin(),
                    None => return Ruling::Planned,
                },
            };
            return Ruling::KeptBy(by);
        }
        match holder {
            Some(owner) if *owner != d.id => Ruling::Refused(Rival::OwnedBy(owner.clone())),
            // The owner's own declarations compete only with one another.
            Some(owner) => rivals(others.filter(|o| o.configmap == owner)),
            None => rivals(others),
        }
    }

    /// Whether `d` may delete `name`, which it recorded and no longer
    /// declares: not when another ConfigMap declares it (that one keeps
    /// it), nor when another ConfigMap owns it and may still declare it.
    #[must_use]
    pub fn may_remove_leftover(&self, d: &Declared, name: &str) -> bool {
        let elsewhere = self.declarations.get(name).is_some_and(|o| o.iter().any(|o| *o.configmap != d.id));
        !elsewhere && !self.is_renamed(name) && self.holder(name).is_none_or(|owner| *owner == d.id)
    }

    /// Whether an applied declaration says it was renamed from `name`: then
    /// no one else deletes it (the rename does, once its offsets are carried
    /// over, or keeps it while the rename is refused).
    #[must_use]
    pub fn is_renamed(&self, name: &str) -> bool {
        self.renames.contains_key(name)
    }

    /// Why `d`'s declaration under `key` may not take over connector
    /// `old` (its `renamedFrom`), if it may not: a ConfigMap still declares
    /// `old`, or another declaration renames it too.
    #[must_use]
    pub fn rename_refusal(&self, d: &Declared, key: &String, old: &str) -> Option<String> {
        let origins = |claims: &[Claim<'_>]| claims.iter().map(|c| c.origin().to_string()).collect::<Vec<_>>();
        // Declared by a disabled ConfigMap, it is to go anyway: the rename deletes it.
        let applied = |c: &&Claim<'_>| self.existing.get(c.configmap).is_some_and(|d| d.state == CmState::Apply);
        let declared: Vec<Claim<'_>> =
            self.declarations.get(old).into_iter().flatten().filter(applied).copied().collect();
        if !declared.is_empty() {
            return Some(format!(
                "renamedFrom {old}: connector {old} is still declared by {}; it is taken over once no ConfigMap \
                 declares it",
                origins(&declared).join(", ")
            ));
        }
        let others: Vec<Claim<'_>> = (self.renames.get(old).into_iter().flatten())
            .filter(|o| (o.configmap, o.key) != (&d.id, key))
            .copied()
            .collect();
        (!others.is_empty()).then(|| {
            format!(
                "renamedFrom {old}: {} renames connector {old} too; neither takes it over until only one does",
                origins(&others).join(", ")
            )
        })
    }

    /// The known owner of `name`, while its ConfigMap exists and declares
    /// the name or may (one of its templates failed, so its recorded names
    /// still count).
    fn holder(&self, name: &str) -> Option<&'a CmId> {
        let owner = self.owned.owner(name)?;
        let d = self.existing.get(owner)?;
        let holds = d.declarations().any(|(_, n)| n == name)
            || (d.recorded.names.contains(name) && !d.leftovers().iter().any(|n| *n == name));
        holds.then_some(&d.id)
    }
}

fn rivals<'a>(others: impl Iterator<Item = &'a Claim<'a>>) -> Ruling {
    let others: Vec<Origin> = others.map(|o| o.origin()).collect();
    if others.is_empty() {
        Ruling::Planned
    } else {
        Ruling::Refused(Rival::AlsoDeclared(others))
    }
}

/// An owner that holds a name through its recorded names alone.
fn whole(owner: &CmId) -> Origin {
    Origin { configmap: owner.clone(), key: None }
}
