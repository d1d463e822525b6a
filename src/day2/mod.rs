//! The day-2 commands: what people do to running connectors during an
//! incident or a migration, beside the declarations rather than through
//! them. Each acts on one connector (`describe`, `pause`, `resume`, `stop`,
//! `restart`, `offsets`) or asks a cluster (`plugins`), and finds in the
//! repository's manifests what they declare about it; `export` turns what a
//! cluster runs into manifests.

pub mod adopt;
pub mod export;
pub mod offsets;
pub mod one;
pub mod plugins;
