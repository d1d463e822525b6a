//! How much of the cluster a run knows.

/// What a run knows of the declared ConfigMaps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    /// Only those its events name: nothing can be pruned, and no drift told.
    #[default]
    Event,
    /// Every one (a Synchronization, Schedule or Group context, or a command
    /// given the whole repository): what none declares is pruned as the
    /// policy says.
    Full,
}
