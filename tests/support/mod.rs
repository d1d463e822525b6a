#![allow(dead_code)]
pub mod argocd;
pub mod build;
pub mod cluster;
pub mod fake_api;
pub mod fake_connect;
pub mod latency;
pub mod real;
pub mod repo;
pub mod run;
pub mod shell_operator;
