//! Running the built binary as shell-operator does: a binding-context file
//! in, an environment that starts empty.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Writes `contexts` into `dir` and runs the hook on it with only `env`.
pub fn hook(dir: &Path, contexts: &Value, env: &[(&str, &str)]) -> Output {
    let path = dir.join("binding-context.json");
    std::fs::write(&path, contexts.to_string()).unwrap();
    Command::new(super::repo::BIN)
        .env_clear()
        .env("BINDING_CONTEXT_PATH", &path)
        .env("RENDER_CACHE", dir.join("render-cache.json"))
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// A run that could not read Connect and, its status not saying so yet,
/// wrote that it is unreachable and exited 0 so shell-operator applies it
/// (the run after, finding it said, fails and is retried).
pub fn reported_unreachable(out: &Output) -> bool {
    out.status.code() == Some(0)
        && String::from_utf8_lossy(&out.stderr).contains("now says Connect is unreachable; the hook runs again at once")
}
