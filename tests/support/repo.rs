//! A repository of ConfigMap manifests, and the command line run on it with
//! an environment that starts empty.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::fake_connect::FakeConnect;

pub const BIN: &str = env!("CARGO_BIN_EXE_connect-operator");

/// A temporary repository with a `config/` properties directory holding
/// `db.password=pr0perty-s3cret`.
pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("config")).unwrap();
        std::fs::write(dir.path().join("config/db.properties"), "db.password=pr0perty-s3cret\n").unwrap();
        Repo { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.path().join(file), text).unwrap();
    }

    /// The binary with `args` then `--config-dir config`, against `fake`.
    pub fn cli(&self, fake: &FakeConnect, args: &[&str]) -> Output {
        self.cli_env(fake, args, &[])
    }

    pub fn cli_env(&self, fake: &FakeConnect, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args)
            .env("CONNECT_URL", fake.url())
            .env("RETRY_BUDGET", "2s")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// The binary with `args` then `--config-dir config`, and no environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.args(args).arg("--config-dir").arg(self.file("config")).current_dir(self.path()).env_clear();
        command
    }
}

/// A ConfigMap manifest in namespace `team`, labelled `destination: connect`
/// plus `labels` (YAML flow-map entries, each starting with `, `).
pub fn manifest(name: &str, labels: &str, data: &[(&str, &str)]) -> String {
    let data: Vec<String> = data.iter().map(|(k, v)| format!("  {k}: '{v}'")).collect();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: team\n  labels: {{destination: connect{labels}}}\ndata:\n{}\n",
        data.join("\n")
    )
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
