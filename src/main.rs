//! connect-operator: a shell-operator hook that manages Kafka Connect
//! connectors declared in ConfigMaps labelled `destination=connect`.

mod bindings;
mod cli;
mod clusters;
mod configmap;
mod connect;
mod connector;
mod gitops;
mod hook_config;
mod logging;
mod ownership;
mod parallel;
mod plan;
mod properties;
mod reconcile;
mod redact;
mod report;
mod sandbox;
mod status;
mod template;
mod validate;

fn main() -> std::process::ExitCode {
    cli::main()
}
