//! The values every stage shares: ConfigMaps, connectors, what Connect runs,
//! and the status recorded on ConfigMaps. No I/O.

pub mod configmap;
pub mod connector;
pub mod lenient;
pub mod live;
pub mod requests;
pub mod scope;
pub mod status;
