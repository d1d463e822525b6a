//! Kafka Connect: the REST client of one cluster (its HTTP, its errors, its
//! TLS, the endpoints used) and the named clusters of a clusters file.
//!
//! Behaviour follows the Kafka Connect REST reference: error bodies are
//! `{"error_code", "message"}` (parsed whatever the Content-Type), a 409 is
//! transient unless the connector "already exists", a 500 is transient when
//! a rebalance is expected or the herder timed out (a timed-out write may
//! still be applied, so writes re-read before they are retried).

pub mod api;
pub mod client;
pub mod clusters;
pub mod errors;
pub mod listing;
pub mod operations;
pub mod rename;
pub mod tenancy;
pub mod tls;

pub use api::{Applied, Plugin, PluginKind, Removed};
pub use client::{Auth, Caller, Client, Endpoint, RequestLimits, Settings};
pub use errors::{Failure, FailureKind};
pub use rename::Carried;
pub use tls::ClientCert;
