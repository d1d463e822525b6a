//! What templates rendered, kept between hook runs, so that a resync renders
//! only what may have changed.
//!
//! Rendering is most of what a resync costs, and almost every template
//! renders what it rendered the run before. The hook keeps, in a file in its
//! pod (on the `/tmp` emptyDir), what each template rendered: the name,
//! state and secret keys of its connector, and a keyed digest of its config,
//! never a value. A template is not rendered again when
//! - its inputs are those of the kept render: the ConfigMap's source digest
//!   (its data, labels and the public properties), its data key, every
//!   variable and environment value its namespace's templates read (as a
//!   keyed digest), and this build; and
//! - the config Connect holds for that connector has the kept digest, so it
//!   is exactly what the template rendered.
//!
//! Then the connector the template renders is the live one, and the plan is
//! the one rendering would give. Everything else is rendered, and kept.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};

use log::warn;
use ring::hmac;
use serde::{Deserialize, Serialize};
use siphasher::sip128::{Hasher128, SipHasher24};

use crate::model::configmap::CmId;
use crate::model::connector::{Connector, TargetState};
use crate::redact::PER_RUN;
use crate::render::namespaces::ByNamespace;
use crate::render::variables::Variables;
use crate::text::{framed, hex};

/// Another build may render differently: its file is not read.
const FORMAT: &str = concat!("connect-operator ", env!("CARGO_PKG_VERSION"), ", render cache 2");

/// A connector's config as Connect stores it.
type Config = BTreeMap<String, String>;

/// The file.
#[derive(Serialize, Deserialize)]
struct Stored {
    format: String,
    /// The HMAC key of the digests, hex: made with the file, never logged.
    key: String,
    entries: Vec<CachedRender>,
}

/// What one template rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CachedRender {
    /// Its ConfigMap, `namespace/name`.
    configmap: String,
    /// Its data key.
    key: String,
    /// Digest of everything it was rendered from.
    input: String,
    name: String,
    state: TargetState,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    secret: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    renamed_from: Option<String>,
    /// Keyed digest of the config (SipHash-2-4, 128 bits).
    config: String,
}

/// The digests of what templates read, by namespace: a namespace with
/// variables of its own renders from other inputs than the rest, so a render
/// kept for it is never reused with another namespace's variables.
struct Digests {
    shared: Vec<u8>,
    own: HashMap<String, Vec<u8>>,
}

impl Digests {
    fn of(&self, namespace: &str) -> &[u8] {
        self.own.get(namespace).map_or(&self.shared, Vec::as_slice)
    }
}

/// The renders kept by earlier runs, and those this run keeps.
pub struct Cache {
    path: PathBuf,
    key_hex: String,
    /// The key of the config digests, from `key`.
    config_key: [u8; 16],
    /// HMAC of every variable and environment value but [`PER_RUN`], of each namespace.
    variables: Digests,
    /// By ConfigMap and data key. Flat: a map per ConfigMap would hold a
    /// whole B-tree node (1.4 kB) for its one template, 14 MB at 10,000.
    kept: HashMap<(String, String), CachedRender>,
    next: Vec<CachedRender>,
    /// Whether `next` holds an entry `kept` did not (what is left in
    /// `kept` after the run is gone from the file as well).
    changed: bool,
}

impl Cache {
    /// The renders kept in `path`; none when it does not exist, cannot be
    /// read or was written by another build (then it is started afresh).
    /// `None` when no key can be made for a new file.
    #[must_use]
    pub fn open(path: &Path, variables: &ByNamespace) -> Option<Cache> {
        let stored = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice::<Stored>(&bytes)
                .map_err(|e| warn!("render cache {}: {e}; starting afresh", path.display()))
                .ok()
                .filter(|s| s.format == FORMAT),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                warn!("render cache {}: {e}; starting afresh", path.display());
                None
            }
        };
        let (key_hex, kept) = match stored.filter(|s| unhex(&s.key).is_some_and(|k| k.len() == KEY_BYTES)) {
            Some(s) => (s.key, s.entries),
            None => (hex(&new_key()?), Vec::new()),
        };
        let key = hmac::Key::new(hmac::HMAC_SHA256, &unhex(&key_hex)?);
        let variables = Digests {
            shared: digest_variables(&key, variables.shared_variables()),
            own: variables.own().map(|(ns, v)| (ns.to_string(), digest_variables(&key, v))).collect(),
        };
        let mut config_key = [0u8; 16];
        config_key.copy_from_slice(hmac::sign(&key, b"config digest").as_ref().get(..16)?);
        Some(Cache {
            path: path.to_path_buf(),
            key_hex,
            config_key,
            variables,
            kept: kept.into_iter().map(|e| ((e.configmap.clone(), e.key.clone()), e)).collect(),
            next: Vec::new(),
            changed: false,
        })
    }

    /// Whether an earlier run kept anything.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The connector template `key` of ConfigMap `id` renders, without
    /// rendering it: when its inputs (`source`, see
    /// [`crate::model::status::source_digest`]) are those of a kept render
    /// and `live` gives, for the connector's name, the config that render had.
    pub fn reuse<'l>(
        &self,
        id: &CmId,
        key: &str,
        source: &str,
        live: impl FnOnce(&str) -> Option<&'l Config>,
    ) -> Option<Connector> {
        let entry = self.kept.get(&(id.to_string(), key.to_string()))?;
        if entry.input != self.input(id, source, key) {
            return None;
        }
        let config = live(&entry.name)?;
        (self.digest_config(config) == entry.config).then(|| Connector {
            name: entry.name.clone(),
            state: entry.state,
            config: config.clone(),
            secret_keys: entry.secret.clone(),
            // Said when this version of the ConfigMap was rendered; a reuse has nothing new to say.
            literal_secrets: BTreeSet::new(),
            renamed_from: entry.renamed_from.clone(),
        })
    }

    /// Keeps what template `key` (text `code`) of ConfigMap `id` rendered
    /// from `source`, for the next run. A template whose result could
    /// change with nothing else changing is not kept (see [`keepable`]).
    pub fn keep(&mut self, id: &CmId, key: &str, code: &str, source: &str, connector: &Connector) {
        let input = self.input(id, source, key);
        let slot = (id.to_string(), key.to_string());
        // Moved, not copied: at 10,000 templates the two are megabytes.
        let taken = self.kept.remove(&slot);
        let had = taken.is_some();
        // The same inputs (the same text) render the same connector: its digest is known.
        let entry = match taken.filter(|e| e.input == input && e.name == connector.name) {
            Some(entry) => entry,
            None if !keepable(code) => {
                self.changed |= had;
                return;
            }
            None => {
                self.changed = true;
                let (configmap, key) = slot;
                CachedRender {
                    configmap,
                    key,
                    input,
                    name: connector.name.clone(),
                    state: connector.state,
                    secret: connector.secret_keys.clone(),
                    renamed_from: connector.renamed_from.clone(),
                    config: self.digest_config(&connector.config),
                }
            }
        };
        self.next.push(entry);
    }

    /// Writes what this run kept, when it differs from what was read: to a
    /// file beside it, then renamed, so a run never reads half a file.
    pub fn save(self) {
        // Unchanged when every kept entry was kept again as it was.
        if !self.changed && self.kept.is_empty() {
            return;
        }
        let stored = Stored { format: FORMAT.into(), key: self.key_hex, entries: self.next };
        if let Err(e) = write(&self.path, &stored) {
            warn!("render cache {}: {e}; the next resync renders every template", self.path.display());
        }
    }

    fn input(&self, id: &CmId, source: &str, key: &str) -> String {
        let variables = self.variables.of(id.namespace());
        let mut bytes = Vec::with_capacity(variables.len() + source.len() + key.len() + 16);
        bytes.extend_from_slice(variables);
        framed([source, key], |b| bytes.extend_from_slice(b));
        // Keyed through `variables`: the secrets in it cannot be guessed from the file.
        hex(&xxhash_rust::xxh3::xxh3_128(&bytes).to_be_bytes())
    }

    /// A keyed digest of a config, computed for every connector on every
    /// resync: SipHash-2-4 is a MAC made for short inputs, about a quarter of
    /// the cost of HMAC-SHA256, and its 128-bit key is as secret as the file.
    fn digest_config(&self, config: &Config) -> String {
        let mut hasher = SipHasher24::new_with_key(&self.config_key);
        framed(config.iter().flat_map(pair), |b| hasher.write(b));
        hex(&hasher.finish128().as_bytes())
    }
}

/// Whether a template renders the same from the same inputs: it does not
/// read the clock (`now`) or the files shell-operator names for each run
/// ([`PER_RUN`], left out of the inputs), and it reads the environment by
/// name (`env.NAME`, `$ENV.NAME`), not whole.
/// Errs on the side of rendering: a string that says "now" is enough.
#[must_use]
pub fn keepable(code: &str) -> bool {
    if PER_RUN.iter().any(|name| code.contains(name)) {
        return false;
    }
    let bytes = code.as_bytes();
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    for name in ["now", "env", "ENV"] {
        for (at, _) in code.match_indices(name) {
            let before = at.checked_sub(1).and_then(|i| bytes.get(i));
            let after = at + name.len();
            if before.is_some_and(word) || bytes.get(after).is_some_and(word) {
                continue;
            }
            let rest = code.get(after..).unwrap_or_default().trim_start();
            let by_name = rest
                .strip_prefix('.')
                .and_then(|r| r.bytes().next())
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
            match (name, before == Some(&b'$')) {
                ("now", false) => return false,
                ("env", false) | ("ENV", true) if !by_name => return false,
                _ => {}
            }
        }
    }
    true
}

fn digest_variables(key: &hmac::Key, variables: &Variables) -> Vec<u8> {
    let mut context = hmac::Context::with_key(key);
    context.update(FORMAT.as_bytes());
    let env = variables.env.iter().filter(|(k, _)| !PER_RUN.contains(&k.as_str()));
    // Each part after its number, so that no text moves from one to another unseen.
    context.update(&0u64.to_le_bytes());
    framed(variables.vars.iter().flat_map(pair), |b| context.update(b));
    context.update(&1u64.to_le_bytes());
    framed(env.flat_map(pair), |b| context.update(b));
    context.update(&2u64.to_le_bytes());
    framed(variables.public.iter().map(String::as_str), |b| context.update(b));
    context.sign().as_ref().to_vec()
}

/// A map entry as the two texts it hashes.
fn pair<'a>((k, v): (&'a String, &'a String)) -> [&'a str; 2] {
    [k.as_str(), v.as_str()]
}

const KEY_BYTES: usize = 32;

/// A random key; `None` (said in the log) when the system has no randomness
/// to give: a guessable key would let the file's digests be tested against
/// guessed secrets.
fn new_key() -> Option<[u8; KEY_BYTES]> {
    let mut key = [0u8; KEY_BYTES];
    let filled = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key);
    filled.map_err(|_| warn!("no randomness for the render cache's key; every template is rendered")).ok()?;
    Some(key)
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits.chunks(2).map(|pair| std::str::from_utf8(pair).ok().and_then(|p| u8::from_str_radix(p, 16).ok())).collect()
}

fn write(path: &Path, stored: &Stored) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}", std::process::id()));
    let partial = PathBuf::from(partial);
    // Only the hook's user reads it: the names and digests are nobody else's business.
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&partial)?;
    file.write_all(&serde_json::to_vec(stored)?)?;
    file.sync_all()?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables(secret: &str) -> Variables {
        let vars = BTreeMap::from([("PASSWORD".to_string(), secret.to_string())]);
        let env = BTreeMap::from([
            ("HOME".to_string(), "/home".to_string()),
            ("BINDING_CONTEXT_PATH".to_string(), format!("/tmp/run-{secret}.json")),
        ]);
        Variables::from_parts(vars, env)
    }

    fn connector(password: &str) -> Connector {
        let config = BTreeMap::from([
            ("name".to_string(), "c".to_string()),
            ("password".to_string(), password.to_string()),
            ("topic".to_string(), "t".to_string()),
        ]);
        Connector {
            name: "c".into(),
            state: TargetState::Paused,
            config,
            secret_keys: BTreeSet::from(["password".into()]),
            literal_secrets: BTreeSet::new(),
            renamed_from: None,
        }
    }

    fn id() -> CmId {
        CmId::new(Some("ns".into()), "cm".into())
    }

    const CODE: &str = r#"{"name": "c", "config": {"password": $PASSWORD, "topic": "t"}, "state": "paused"}"#;

    /// A cache in `dir` that kept connector `c` rendered with `secret`.
    fn kept(dir: &Path, secret: &str) -> PathBuf {
        let path = dir.join("cache").join("renders.json");
        let mut cache = Cache::open(&path, &ByNamespace::shared(variables(secret))).unwrap();
        assert!(cache.is_empty());
        cache.keep(&id(), "c.json", CODE, "source-1", &connector(secret));
        cache.save();
        path
    }

    #[test]
    fn a_kept_render_is_reused_while_its_inputs_and_the_live_config_are_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = kept(dir.path(), "s3cret");
        let live = connector("s3cret").config;
        // Another run: shell-operator's per-run paths differ, nothing else.
        let mut again = variables("s3cret");
        again.env.insert("BINDING_CONTEXT_PATH".into(), "/tmp/another.json".into());
        let cache = Cache::open(&path, &ByNamespace::shared(again)).unwrap();
        let reused = cache.reuse(&id(), "c.json", "source-1", |name| (name == "c").then_some(&live)).unwrap();
        assert_eq!(reused, connector("s3cret"));

        let mut drifted = live.clone();
        drifted.insert("topic".into(), "u".into());
        assert!(cache.reuse(&id(), "c.json", "source-1", |_| Some(&drifted)).is_none(), "changed in Connect");
        assert!(cache.reuse(&id(), "c.json", "source-1", |_| None).is_none(), "deleted in Connect");
        assert!(cache.reuse(&id(), "c.json", "source-2", |_| Some(&live)).is_none(), "the ConfigMap changed");
        assert!(cache.reuse(&id(), "d.json", "source-1", |_| Some(&live)).is_none(), "another key");
        let rotated = Cache::open(&path, &ByNamespace::shared(variables("n3w"))).unwrap();
        assert!(rotated.reuse(&id(), "c.json", "source-1", |_| Some(&live)).is_none(), "a variable changed");
    }

    #[test]
    fn the_file_holds_no_value_and_only_its_user_reads_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = kept(dir.path(), "s3cret");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("s3cret") && !text.contains("\"t\""), "{text}");
        assert!(text.contains("\"password\""), "secret keys are names, kept: {text}");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        // Nothing changed: the file is not written again.
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut cache = Cache::open(&path, &ByNamespace::shared(variables("s3cret"))).unwrap();
        cache.keep(&id(), "c.json", CODE, "source-1", &connector("s3cret"));
        cache.save();
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified);
    }

    #[test]
    fn a_template_no_run_keeps_again_leaves_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = kept(dir.path(), "s3cret");
        // The ConfigMap is gone, or its template now reads the clock: nothing is kept.
        let mut cache = Cache::open(&path, &ByNamespace::shared(variables("s3cret"))).unwrap();
        let clock = r#"{"name": "c", "config": {"at": now | tostring}}"#;
        cache.keep(&id(), "c.json", clock, "source-2", &connector("s3cret"));
        cache.save();
        let cache = Cache::open(&path, &ByNamespace::shared(variables("s3cret"))).unwrap();
        assert!(cache.is_empty(), "{}", std::fs::read_to_string(&path).unwrap());
    }

    #[test]
    fn a_file_that_is_not_ours_is_started_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = kept(dir.path(), "s3cret");
        let live = connector("s3cret").config;
        for text in ["{not json", r#"{"format": "another build", "key": "00", "entries": {}}"#] {
            std::fs::write(&path, text).unwrap();
            let cache = Cache::open(&path, &ByNamespace::shared(variables("s3cret"))).unwrap();
            assert!(cache.is_empty());
            assert!(cache.reuse(&id(), "c.json", "source-1", |_| Some(&live)).is_none());
        }
    }

    /// The config directory `dir/config` with `files`, read for a run.
    fn by_namespace(dir: &Path, files: &[(&str, &str)]) -> ByNamespace {
        use crate::render::namespaces::VariableSources;
        let config = dir.join("config");
        let _ = std::fs::remove_dir_all(&config);
        for (file, text) in files {
            let path = config.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let env = vec![("HOME".to_string(), "/home".to_string())];
        ByNamespace::load(VariableSources { dir: &config, env, template_env: None, settings: BTreeSet::new() })
    }

    #[test]
    fn a_render_is_reused_only_with_the_variables_of_its_own_namespace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("renders.json");
        let shared = [("shared.properties", "password=s3cret\n")];
        let (team_a, team_b) =
            (CmId::new(Some("team-a".into()), "cm".into()), CmId::new(Some("team-b".into()), "cm".into()));
        let mut cache = Cache::open(&path, &by_namespace(dir.path(), &shared)).unwrap();
        cache.keep(&team_a, "c.json", CODE, "source-1", &connector("s3cret"));
        cache.keep(&team_b, "c.json", CODE, "source-1", &connector("s3cret"));
        cache.save();
        let live = connector("s3cret").config;

        // team-a gets a folder of its own: what it rendered with the shared variables is not reused.
        let own = [shared[0], ("namespaces/team-a/a.properties", "password=a-s3cret\n")];
        let cache = Cache::open(&path, &by_namespace(dir.path(), &own)).unwrap();
        assert!(cache.reuse(&team_a, "c.json", "source-1", |_| Some(&live)).is_none());
        assert!(cache.reuse(&team_b, "c.json", "source-1", |_| Some(&live)).is_some(), "team-b reads what it read");

        // Another namespace's folder changing leaves team-b's renders alone.
        let mut cache = Cache::open(&path, &by_namespace(dir.path(), &own)).unwrap();
        cache.keep(&team_a, "c.json", CODE, "source-1", &connector("a-s3cret"));
        cache.keep(&team_b, "c.json", CODE, "source-1", &connector("s3cret"));
        cache.save();
        let rotated = [shared[0], ("namespaces/team-a/a.properties", "password=a-n3w\n")];
        let cache = Cache::open(&path, &by_namespace(dir.path(), &rotated)).unwrap();
        let a_live = connector("a-s3cret").config;
        assert!(cache.reuse(&team_a, "c.json", "source-1", |_| Some(&a_live)).is_none());
        assert!(cache.reuse(&team_b, "c.json", "source-1", |_| Some(&live)).is_some());
    }

    #[test]
    fn only_templates_that_render_the_same_from_the_same_inputs_are_kept() {
        for code in [CODE, r#"{"name": "c", "config": {"u": env.USER, "p": $ENV.PASSWORD, "k": "unknown"}}"#] {
            assert!(keepable(code), "{code}");
        }
        for code in [
            r#"{"name": "c", "config": {"at": now | tostring}}"#,
            r#"{"name": "c", "config": {"all": env | tojson}}"#,
            r#"{"name": "c", "config": {"all": ($ENV | keys | join(","))}}"#,
            r#"{"name": "c", "config": {"one": env["HOME"]}}"#,
            r#"{"name": "c", "config": {"file": env.BINDING_CONTEXT_PATH}}"#,
        ] {
            assert!(!keepable(code), "{code}");
        }
    }
}
