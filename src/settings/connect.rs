//! How the commands reach the clusters: the default one from CONNECT_URL and
//! friends, the others from the clusters file, tried as hard as the caller
//! can wait.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{bail, Result};
use log::warn;

use crate::connect::clusters::{self, Clusters, Resolve};
use crate::connect::{client, Auth, Caller, ClientCert, Endpoint, RequestLimits, Settings};
use crate::files;
use crate::settings::{ConnectArgs, DEFAULT_CONCURRENCY, DEFAULT_CONNECT_URL};

/// How long the hook retries a Connect that does not answer: shell-operator
/// runs it again after that anyway.
const HOOK_BUDGET: Duration = Duration::from_secs(60);
/// How long a command at a terminal or in CI retries.
const COMMAND_LINE_BUDGET: Duration = Duration::from_secs(5);

impl ConnectArgs {
    /// The default cluster from CONNECT_URL and friends, plus the clusters
    /// file, for a command at a terminal or in CI: a person waits, so the
    /// retry budget is short and a URL where nothing answers fails at once.
    pub fn clusters(&self) -> Result<Clusters> {
        self.writing_clusters(DEFAULT_CONCURRENCY.into())
    }

    /// The same for a command that writes, `concurrency` writes at once.
    pub fn writing_clusters(&self, concurrency: usize) -> Result<Clusters> {
        self.clusters_for(Caller::Terminal, concurrency)
    }

    /// The same for the hook, which shell-operator runs again anyway: a
    /// Connect that is restarting is waited for.
    pub fn hook_clusters(&self, concurrency: usize) -> Result<Clusters> {
        self.clusters_for(Caller::Hook, concurrency)
    }

    fn clusters_for(&self, caller: Caller, concurrency: usize) -> Result<Clusters> {
        let file = self.clusters.clusters_file.as_deref().map(clusters::File::read).transpose()?;
        let claimed = file.as_ref().map(clusters::File::env_names).unwrap_or_default();
        let default = Settings { endpoint: self.default_endpoint(&claimed)?, limits: self.limits(caller, concurrency) };
        Clusters::new(file, &default, &self.clusters.tenancy(), Resolve::All)
    }

    /// The default cluster's endpoint. streaming-ops' CONNECT_REST_KEY /
    /// CONNECT_REST_SECRET stand in for CONNECT_USERNAME / CONNECT_PASSWORD
    /// only when no cluster of the clusters file `claimed` them: a Confluent
    /// Cloud key must never be sent to another cluster.
    fn default_endpoint(&self, claimed: &BTreeSet<&str>) -> Result<Endpoint> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let fallback = |name: &str| if claimed.contains(name) { None } else { env(name) };
        let url = match (&self.connect_url, env("BASE_URL")) {
            (Some(url), _) => url.clone(),
            (None, Some(url)) => crate::text::http_url(&url).map_err(|e| anyhow::anyhow!("BASE_URL={url}: {e}"))?,
            (None, None) => DEFAULT_CONNECT_URL.into(),
        };
        let username = self.connect_username.clone().or_else(|| fallback("CONNECT_REST_KEY"));
        let password = self.connect_password.clone().or_else(|| fallback("CONNECT_REST_SECRET"));
        let auth = Auth::from_settings(username, password, self.token()?)?;
        if url.starts_with("http://") && !matches!(auth, Auth::None) {
            warn!("credentials are sent to {url} without TLS");
        }
        let client_cert = match (&self.connect_client_cert, &self.connect_client_key) {
            (Some(cert), Some(key)) => Some(ClientCert { cert: cert.clone(), key: key.clone() }),
            (None, None) => None,
            _ => bail!("mutual TLS needs both CONNECT_CLIENT_CERT_FILE and CONNECT_CLIENT_KEY_FILE"),
        };
        Ok(Endpoint { url, auth, ca_file: self.connect_ca_file.clone(), client_cert, ..Endpoint::default() })
    }

    /// How hard every cluster of the run is tried: `caller` decides the
    /// retry budget unless CONNECT_RETRY_BUDGET says it.
    fn limits(&self, caller: Caller, concurrency: usize) -> RequestLimits {
        let default_budget = match caller {
            Caller::Terminal => COMMAND_LINE_BUDGET,
            Caller::Hook => HOOK_BUDGET,
        };
        RequestLimits {
            concurrency,
            retry_budget: self.retry_budget.unwrap_or(default_budget),
            read_timeout: client::READ_TIMEOUT,
            caller,
        }
    }

    /// The bearer token, from the flag or the environment, or from its file.
    fn token(&self) -> Result<Option<String>> {
        Ok(match (&self.connect_token, &self.connect_token_file) {
            (Some(_), Some(_)) => bail!("set either CONNECT_TOKEN or CONNECT_TOKEN_FILE, not both"),
            (Some(token), None) => Some(token.clone()).filter(|t| !t.is_empty()),
            (None, Some(file)) => {
                let token = files::read_capped(file, files::SMALL_MAX, "the token file")?;
                Some(token.trim().to_string()).filter(|t| !t.is_empty())
            }
            (None, None) => None,
        })
    }
}
