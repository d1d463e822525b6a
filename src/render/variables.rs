//! Template variables: Java properties files under the config directory, the
//! process environment, and the Kafka credentials derived from `sasl.jaas.config`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use log::{debug, warn};

/// Everything a template can read: `$NAME` variables and `env` / `$ENV`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Variables {
    /// Variable name (without `$`) to value.
    pub vars: BTreeMap<String, String>,
    /// What `env` and `$ENV` return.
    pub env: BTreeMap<String, String>,
    /// Names whose values are not secret (`CONNECT_OPERATOR_PUBLIC_VARIABLES`),
    /// as variables and in the environment.
    pub public: BTreeSet<String>,
    /// The environment variables of this program's own settings whose values
    /// are not secret, as its command line defines them.
    #[serde(default)]
    pub settings: BTreeSet<String>,
    /// The environment variables templates may read (`TEMPLATE_ENV`), when
    /// it is set: `env` holds no others, and an error can say why one is null.
    #[serde(default)]
    pub template_env: Option<TemplateEnv>,
}

/// The names of the environment variables templates may read, from
/// `TEMPLATE_ENV`; without it, they read them all.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TemplateEnv(BTreeSet<String>);

impl TemplateEnv {
    /// Comma-separated names (`MYSQL_CONNECTION_USER,MYSQL_CONNECTION_PASSWORD`);
    /// a `$` before a name and blanks around it are dropped.
    pub fn parse(text: &str) -> Result<TemplateEnv, String> {
        let names = text.split(',').map(|n| n.trim().trim_start_matches('$')).filter(|n| !n.is_empty());
        let mut list = BTreeSet::new();
        for name in names {
            if name.contains(|c: char| c == '=' || c.is_whitespace() || c.is_control()) {
                return Err(format!("`{name}` is not an environment variable name"));
            }
            list.insert(name.to_string());
        }
        Ok(TemplateEnv(list))
    }

    /// Whether templates may read environment variable `name`.
    #[must_use]
    pub fn allows(&self, name: &str) -> bool {
        self.0.contains(name)
    }
}

/// Comma-separated names of variables whose values may be shown.
pub const PUBLIC_VARIABLES: &str = "CONNECT_OPERATOR_PUBLIC_VARIABLES";

impl Variables {
    /// Reads the shared `*.properties` files under `dir` (when it exists; see
    /// [`properties_files`] and [`read_all`]) and takes the given environment:
    /// what a namespace without variables of its own reads.
    pub fn load(dir: &Path, env: impl IntoIterator<Item = (String, String)>) -> Variables {
        let variables = Variables::from_parts(read_all(&properties_files(dir)), env.into_iter().collect());
        for name in variables.undefined_public() {
            warn!("{PUBLIC_VARIABLES} names {name}, which no properties file or environment variable defines");
        }
        variables
    }

    /// Adds the credentials of `sasl.jaas.config`, as the streaming-ops hook
    /// did: `$KAFKA_API_KEY` / `$KAFKA_API_SECRET` unless a property already
    /// defines them, and `env.KAFKA_API_KEY` / `env.KAFKA_API_SECRET` unless the
    /// environment already has them.
    #[must_use]
    pub fn from_parts(mut vars: BTreeMap<String, String>, mut env: BTreeMap<String, String>) -> Variables {
        if let Some((user, password)) = vars.get("SASL_JAAS_CONFIG").and_then(|j| jaas_credentials(j)) {
            for (name, value) in [("KAFKA_API_KEY", user), ("KAFKA_API_SECRET", password)] {
                vars.entry(name.to_string()).or_insert_with(|| value.clone());
                env.entry(name.to_string()).or_insert(value);
            }
        }
        let public: BTreeSet<String> = env
            .get(PUBLIC_VARIABLES)
            .into_iter()
            .flat_map(|list| list.split(','))
            .map(|name| name.trim().trim_start_matches('$').to_string())
            .filter(|name| !name.is_empty())
            .collect();
        Variables { vars, env, public, settings: BTreeSet::new(), template_env: None }
    }

    /// The names listed as public that neither a property nor the
    /// environment defines: a typo, most likely.
    pub fn undefined_public(&self) -> impl Iterator<Item = &str> {
        self.public.iter().filter(|n| !self.vars.contains_key(*n) && !self.env.contains_key(*n)).map(String::as_str)
    }

    /// Whether `$name` may be shown.
    #[must_use]
    pub fn is_public_var(&self, name: &str) -> bool {
        self.public.contains(name)
    }

    /// Whether `env.name` may be shown: this hook's own settings and those of
    /// its surroundings, and the names listed as public.
    #[must_use]
    pub fn is_public_env(&self, name: &str) -> bool {
        self.settings.contains(name) || crate::redact::is_public_env(name) || self.public.contains(name)
    }

    /// The public variables from properties files, by name: what a
    /// connector name may be computed from, besides the environment.
    #[must_use]
    pub fn public_properties(&self) -> BTreeMap<&str, &str> {
        self.vars.iter().filter(|(k, _)| self.is_public_var(k)).map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    /// Every secret value a template could have read, for scrubbing messages.
    pub fn secret_values(&self) -> impl Iterator<Item = &str> {
        let vars = self.vars.iter().filter(|(k, _)| !self.is_public_var(k)).map(|(_, v)| v);
        let env = self.env.iter().filter(|(k, _)| !self.is_public_env(k)).map(|(_, v)| v);
        vars.chain(env).map(String::as_str)
    }
}

/// The variables of `files`, in order: a later file wins, with a warning.
///
/// A file that cannot be read or parsed is skipped with an error in the
/// log: templates that need its variables then fail with an "undefined
/// variable" error naming them, and the others still render.
#[must_use]
pub fn read_all(files: &[PathBuf]) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let mut origin: BTreeMap<String, &PathBuf> = BTreeMap::new();
    for path in files {
        let props = match read_properties(path) {
            Ok(props) => props,
            Err(e) => {
                log::error!("skipping properties file: {e:#}");
                continue;
            }
        };
        for (key, value) in props {
            let Some(name) = variable_name(&key) else {
                warn!(
                    "{}: property `{key}` cannot be a template variable (after upper-casing \
                     and turning `.` and `-` into `_` it must be a jq identifier); skipped",
                    path.display()
                );
                continue;
            };
            if let Some(earlier) = origin.insert(name.clone(), path) {
                if earlier != path {
                    warn!(
                        "${name} is defined in {} and again in {}; the later file wins",
                        earlier.display(),
                        path.display()
                    );
                }
            }
            vars.insert(name, value);
        }
    }
    vars
}

/// The folder of the config directory whose subfolders, one per namespace,
/// hold the properties files of that namespace alone (see
/// [`crate::render::namespaces`]); the shared variables leave it out.
pub const NAMESPACES_DIR: &str = "namespaces";

/// `*.properties` files under `dir`, recursively, following symbolic links,
/// in path order, but for [`NAMESPACES_DIR`]. Kubernetes mounts a Secret or ConfigMap volume as
/// `key -> ..data/key` with `..data -> ..2024_01_01_00_00_00.123`: entries
/// whose name starts with `..` are skipped so each file is read once.
#[must_use]
pub fn properties_files(dir: &Path) -> Vec<PathBuf> {
    if !dir.exists() {
        // Said at info by the hook, where the directory is a mount; on a laptop it is simply absent.
        debug!("no properties directory at {}: templates see only the environment", dir.display());
        return Vec::new();
    }
    let walk = walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name().into_iter().filter_entry(|e| {
        let name = e.file_name().to_string_lossy();
        e.depth() == 0 || !(name.starts_with("..") || (e.depth() == 1 && name == NAMESPACES_DIR))
    });
    let mut files = Vec::new();
    for entry in walk {
        match entry {
            Ok(e) if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "properties") => {
                files.push(e.into_path());
            }
            Ok(_) => {}
            Err(e) => warn!("cannot read under {}: {e}", dir.display()),
        }
    }
    debug!("properties files: {files:?}");
    files
}

/// Reads one file with full Java properties syntax (comments, `=`, `:` and
/// blank separators, escapes, continuation lines). Keys repeated within the
/// file keep their last value, as `java.util.Properties` does.
pub fn read_properties(path: &Path) -> Result<Vec<(String, String)>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let max = crate::files::SMALL_MAX;
    if file.metadata().is_ok_and(|m| m.len() > max) {
        let limit = crate::text::format_size(max);
        anyhow::bail!("{} is larger than {limit}, the most a properties file may be", path.display());
    }
    // Bounded even if the file grows while it is read.
    parse_properties(std::io::Read::take(file, max))
        .with_context(|| format!("{} is not a valid properties file", path.display()))
}

/// Java properties, in order, as `java.util.Properties` reads them. The
/// text is UTF-8 (what Kubernetes Secrets hold), or ISO-8859-1 (Java's own
/// encoding for properties files) when it is not valid UTF-8.
///
/// The bytes are decoded here, not by java-properties: its decoder sniffs a
/// UTF-16 byte-order mark and then panics ("Must not use a decoder that has
/// finished") on a file of odd length, which the properties fuzz target found.
/// Fed valid UTF-8, it never finishes early.
pub fn parse_properties(mut reader: impl std::io::Read) -> Result<Vec<(String, String)>> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => e.into_bytes().iter().map(|&b| char::from(b)).collect(),
    };
    let mut props = Vec::new();
    java_properties::PropertiesIter::new_with_encoding(BufReader::new(text.as_bytes()), encoding_rs::UTF_8)
        .read_into(|k, v| props.push((k, v)))?;
    Ok(props)
}

/// `schema.registry.url` -> `SCHEMA_REGISTRY_URL`; `None` when the result is
/// not a jq identifier (or is `ENV`, which is the environment).
#[must_use]
pub fn variable_name(key: &str) -> Option<String> {
    let name: String = key
        .chars()
        .map(|c| match c {
            '.' | '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    (valid && name != "ENV").then_some(name)
}

/// The `username` and `password` options of a JAAS login module line such as
/// `org.apache...PlainLoginModule required username="KEY" password="SECRET";`.
/// Quoted values may contain spaces, `;` and `\"`.
#[must_use]
pub fn jaas_credentials(jaas: &str) -> Option<(String, String)> {
    let options = jaas_options(jaas);
    let get = |k: &str| options.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    Some((get("username")?, get("password")?))
}

fn jaas_options(jaas: &str) -> Vec<(String, String)> {
    let mut options = Vec::new();
    let mut rest = jaas;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].rsplit(|c: char| c.is_whitespace()).next().unwrap_or("").to_string();
        let after = rest[eq + 1..].trim_start();
        let (value, tail) = if let Some(q @ ('"' | '\'')) = after.chars().next() {
            quoted(&after[1..], q)
        } else {
            let end = after.find(|c: char| c.is_whitespace() || c == ';').unwrap_or(after.len());
            (after[..end].to_string(), &after[end..])
        };
        options.push((key, value));
        rest = tail;
    }
    options
}

/// A quoted JAAS value up to the closing `quote`, with `\` escapes resolved.
fn quoted(s: &str, quote: char) -> (String, &str) {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            c if c == quote => return (value, &s[i + 1..]),
            c => value.push(c),
        }
    }
    (value, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn props(text: &str) -> Vec<(String, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.properties");
        fs::write(&path, text).unwrap();
        read_properties(&path).unwrap()
    }

    #[test]
    fn values_keep_equals_signs_spaces_quotes_and_hashes() {
        let p = props(
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"K\" password=\"a=b=c\";\n\
             url = http://x:8081/?a=b#frag\n",
        );
        assert_eq!(
            p[0].1,
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"K\" password=\"a=b=c\";"
        );
        assert_eq!(p[1], ("url".into(), "http://x:8081/?a=b#frag".into()));
    }

    #[test]
    fn comments_do_not_break_the_variables_after_them() {
        let p = props("# comment\n! other comment\na=1\n  # indented comment\nb:2\nc 3\n");
        assert_eq!(p, [("a", "1"), ("b", "2"), ("c", "3")].map(|(k, v)| (k.to_string(), v.to_string())));
    }

    #[test]
    fn escapes_and_continuation_lines() {
        let p = props("key\\ with\\ space = one \\\n    two\\tthree\\u0041\n");
        assert_eq!(p, [("key with space".to_string(), "one two\tthreeA".to_string())]);
    }

    #[test]
    fn names_are_upper_cased_identifiers() {
        assert_eq!(variable_name("schema.registry.url").as_deref(), Some("SCHEMA_REGISTRY_URL"));
        assert_eq!(variable_name("basic-auth.user").as_deref(), Some("BASIC_AUTH_USER"));
        assert_eq!(variable_name("1st.key"), None);
        assert_eq!(variable_name("a/b"), None);
        assert_eq!(variable_name("env"), None);
    }

    #[test]
    fn jaas_credentials_are_unquoted() {
        let jaas =
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="KEY" password="S3;cr\"et=";"#;
        assert_eq!(jaas_credentials(jaas), Some(("KEY".into(), "S3;cr\"et=".into())));
        let bare = "PlainLoginModule required username=bob password='x y';";
        assert_eq!(jaas_credentials(bare), Some(("bob".into(), "x y".into())));
        assert_eq!(jaas_credentials("PlainLoginModule required;"), None);
    }

    #[test]
    fn reads_mounted_volumes_once_and_later_files_win() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // The layout kubelet creates for a Secret volume.
        let stamp = root.join("secret/..2024_01_01_00_00_00.1");
        fs::create_dir_all(&stamp).unwrap();
        fs::write(stamp.join("jaas.properties"), "sasl.jaas.config=x required username=\"U\" password=\"P\";\n")
            .unwrap();
        std::os::unix::fs::symlink("..2024_01_01_00_00_00.1", root.join("secret/..data")).unwrap();
        std::os::unix::fs::symlink("..data/jaas.properties", root.join("secret/jaas.properties")).unwrap();
        fs::write(root.join("a.properties"), "x=first\n").unwrap();
        fs::write(root.join("b.properties"), "x=second\n").unwrap();
        fs::write(root.join("notes.txt"), "y=ignored\n").unwrap();

        let files = properties_files(root);
        assert_eq!(files.len(), 3, "{files:?}");
        let v = Variables::load(root, [("HOME".to_string(), "/root".to_string())]);
        assert_eq!(v.vars["X"], "second");
        assert_eq!(v.vars["KAFKA_API_KEY"], "U");
        assert_eq!(v.env["KAFKA_API_SECRET"], "P");
        assert!(!v.vars.contains_key("Y"));
    }

    #[test]
    fn explicit_environment_beats_derived_credentials() {
        let vars = BTreeMap::from([("SASL_JAAS_CONFIG".into(), "m required username=\"U\" password=\"P\";".into())]);
        let env = BTreeMap::from([("KAFKA_API_KEY".into(), "mine".into())]);
        let v = Variables::from_parts(vars, env);
        assert_eq!(v.env["KAFKA_API_KEY"], "mine");
        assert_eq!(v.env["KAFKA_API_SECRET"], "P");
        assert_eq!(v.vars["KAFKA_API_KEY"], "U");
    }

    #[test]
    fn missing_directory_is_no_error() {
        let v = Variables::load(Path::new("/nonexistent/connect-operator"), []);
        assert!(v.vars.is_empty());
    }

    /// Found by the properties fuzz target: a UTF-16 byte-order mark and an
    /// odd length made java-properties' own decoder panic.
    #[test]
    fn a_utf16_byte_order_mark_never_panics() {
        let mut input = vec![0xfe, 0xff, 0xff, 0xff];
        input.extend(std::iter::repeat_n(0, 111));
        input.extend(b"schema.registr\x8b.url=h\\tpsws.confluent.cloud\n");
        assert!(parse_properties(input.as_slice()).is_ok());
        assert!(parse_properties(&[0xff, 0xfe, b'a'][..]).is_ok());
    }

    #[test]
    fn utf8_first_then_latin1() {
        let utf8 = parse_properties("k=grüße\n".as_bytes()).unwrap();
        assert_eq!(utf8, [("k".to_string(), "grüße".to_string())]);
        let latin1 = parse_properties(&b"k=gr\xfc\xdfe\n"[..]).unwrap();
        assert_eq!(latin1, [("k".to_string(), "grüße".to_string())]);
    }
}
