//! Rendering a connector template: a jq program, run by jaq on `null`.
//!
//! Each template is rendered twice: once with the real variables and once
//! with every variable replaced by a unique marker. A config value that
//! differs between the two was computed from a variable (a properties value or
//! the environment), so it is treated as secret wherever it is printed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use jaq_core::load::{self, lex, parse, Arena, File, Loader};
use jaq_core::{compile, data::JustLut, Compiler, Ctx, Filter, Vars};
use jaq_json::Val;

use crate::connector::{self, Connector};
use crate::properties::Variables;

type Defs = Vec<parse::Def<&'static str>>;

/// Renders templates on a worker thread so a template that never finishes
/// can be abandoned after the time limit without stopping the run.
pub struct Renderer {
    variables: Arc<Variables>,
    timeout: Duration,
    worker: Option<Worker>,
}

struct Worker {
    jobs: Sender<String>,
    results: Receiver<Result<Rendered, String>>,
}

/// What a template yields, before the name and config are checked.
struct Rendered {
    real: Output,
    /// `None` when the marker run failed: then every value counts as secret.
    marked: Option<Output>,
}

struct Output {
    name: String,
    config: BTreeMap<String, String>,
}

impl Renderer {
    pub fn new(variables: Arc<Variables>, timeout: Duration) -> Renderer {
        Renderer { variables, timeout, worker: None }
    }

    /// Renders one template into a connector. The error is one line (or a
    /// few, for several parse errors) with `line:column` where jaq gives one.
    pub fn render(&mut self, code: &str) -> Result<Connector, String> {
        let worker = self.worker.get_or_insert_with(|| Worker::spawn(self.variables.clone()));
        worker.jobs.send(code.to_string()).map_err(|_| "template worker stopped".to_string())?;
        match worker.results.recv_timeout(self.timeout) {
            Ok(result) => result.and_then(into_connector),
            Err(RecvTimeoutError::Timeout) => {
                // The thread cannot be interrupted; it is left to finish or
                // to end with the process, and the next template gets a new one.
                self.worker = None;
                Err(format!("did not finish within {}", humantime::format_duration(self.timeout)))
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.worker = None;
                Err("template worker crashed (see the log)".to_string())
            }
        }
    }
}

impl Worker {
    fn spawn(variables: Arc<Variables>) -> Worker {
        let (jobs, job_rx) = mpsc::channel::<String>();
        let (result_tx, results) = mpsc::channel();
        std::thread::Builder::new()
            .name("template".into())
            .spawn(move || {
                let engine = Engine::new(&variables);
                for code in job_rx {
                    if result_tx.send(engine.run(&code)).is_err() {
                        break;
                    }
                }
            })
            .expect("cannot start the template thread");
        Worker { jobs, results }
    }
}

/// Compiled definitions and the two sets of global values, made once per
/// worker thread (jaq values are not `Send`).
struct Engine {
    defs: Defs,
    names: Vec<String>,
    real: Vec<Val>,
    marked: Vec<Val>,
}

impl Engine {
    fn new(variables: &Variables) -> Engine {
        let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs()).chain(own_defs()).collect();
        let mut names: Vec<String> = variables.vars.keys().map(|k| format!("${k}")).collect();
        names.push("$ENV".into());
        let mut real: Vec<Val> = variables.vars.values().map(|v| Val::from(v.clone())).collect();
        real.push(object(variables.env.iter().map(|(k, v)| (k.clone(), v.clone()))));
        let mut marked: Vec<Val> = (0..variables.vars.len()).map(|i| Val::from(marker(i))).collect();
        let offset = variables.vars.len();
        marked.push(object(variables.env.keys().enumerate().map(|(i, k)| (k.clone(), marker(offset + i)))));
        Engine { defs, names, real, marked }
    }

    fn run(&self, code: &str) -> Result<Rendered, String> {
        let filter = self.compile(code)?;
        let real = run_once(&filter, &self.real)?;
        let marked = run_once(&filter, &self.marked).ok();
        Ok(Rendered { real, marked })
    }

    fn compile(&self, code: &str) -> Result<Filter<JustLut<Val>>, String> {
        let arena = Arena::default();
        let modules = Loader::new(self.defs.iter().cloned())
            .load(&arena, File { code, path: () })
            .map_err(|errs| errs.into_iter().flat_map(|(_, e)| load_errors(code, e)).collect::<Vec<_>>().join("\n"))?;
        let funs = jaq_core::funs().chain(jaq_std::funs().filter(|(name, ..)| *name != "env")).chain(jaq_json::funs());
        Compiler::default()
            .with_funs(funs)
            .with_global_vars(self.names.iter().map(String::as_str))
            .compile(modules)
            .map_err(|errs| {
                let known: Vec<&str> = self.names.iter().map(String::as_str).filter(|n| *n != "$ENV").collect();
                errs.into_iter()
                    .flat_map(|(_, undefined)| undefined)
                    .map(|(found, u)| at(code, found, &undefined_message(found, u, &known)))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
    }
}

/// `env` reads the template environment (the process environment plus the
/// derived Kafka credentials) instead of jaq's native, which reads only the
/// process environment.
fn own_defs() -> Defs {
    load::parse("def env: $ENV;", |p| p.defs()).expect("built-in definitions parse")
}

fn marker(i: usize) -> String {
    format!("\u{1}var{i}\u{1}")
}

fn object(pairs: impl Iterator<Item = (String, String)>) -> Val {
    Val::obj(pairs.map(|(k, v)| (Val::from(k), Val::from(v))).collect())
}

fn run_once(filter: &Filter<JustLut<Val>>, globals: &[Val]) -> Result<Output, String> {
    let ctx = Ctx::<JustLut<Val>>::new(&filter.lut, Vars::new(globals.iter().cloned()));
    let mut outputs = filter.id.run((ctx, Val::Null));
    let first = match outputs.next() {
        None => return Err("the template yielded no value; it must yield one {\"name\", \"config\"} object".into()),
        Some(result) => result.map_err(runtime_error)?,
    };
    if outputs.next().is_some() {
        return Err("the template yielded more than one value; it must yield exactly one".into());
    }
    to_output(&first)
}

fn runtime_error(exn: jaq_core::Exn<Val>) -> String {
    match exn.get_err() {
        Ok(e) => match e.into_val() {
            Val::TStr(b) => format!("error: {}", String::from_utf8_lossy(&b)),
            v => format!("error: {v}"),
        },
        Err(_) => "the template called halt".into(),
    }
}

/// Checks the shape `{"name": string, "config": {key: scalar}}`.
fn to_output(value: &Val) -> Result<Output, String> {
    let Val::Obj(obj) = value else {
        return Err(format!("the template must yield an object with `name` and `config`, not {}", kind(value)));
    };
    let mut name = None;
    let mut config = None;
    for (k, v) in obj.iter() {
        match (text(k).as_deref(), v) {
            (Some("name"), Val::TStr(b)) => name = Some(String::from_utf8_lossy(b).into_owned()),
            (Some("name"), v) => return Err(format!("`name` must be a string, not {}", kind(v))),
            (Some("config"), Val::Obj(c)) => config = Some(c),
            (Some("config"), v) => return Err(format!("`config` must be an object, not {}", kind(v))),
            (Some(other), _) => {
                return Err(format!("unexpected key `{other}`; a template yields only `name` and `config`"))
            }
            (None, _) => return Err("object keys must be strings".into()),
        }
    }
    let name = name.ok_or("the result has no `name`")?;
    let config = config.ok_or("the result has no `config` object")?;
    let mut out = BTreeMap::new();
    for (k, v) in config.iter() {
        let key = text(k).ok_or("config keys must be strings")?;
        let value = match v {
            Val::TStr(b) => String::from_utf8_lossy(b).into_owned(),
            // What Connect stores for a JSON number or boolean, so the next
            // comparison sees no change.
            Val::Num(_) | Val::Bool(_) => v.to_string(),
            Val::Null => {
                return Err(format!(
                "config key `{key}` is null (an undefined `env.NAME` or a missing field?); Connect rejects null values"
            ))
            }
            v => return Err(format!("config key `{key}` is {}; values must be strings, numbers or booleans", kind(v))),
        };
        out.insert(key, value);
    }
    Ok(Output { name, config: out })
}

fn text(v: &Val) -> Option<String> {
    match v {
        Val::TStr(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

fn kind(v: &Val) -> &'static str {
    match v {
        Val::Null => "null",
        Val::Bool(_) => "a boolean",
        Val::Num(_) => "a number",
        Val::TStr(_) | Val::BStr(_) => "a string",
        Val::Arr(_) => "an array",
        Val::Obj(_) => "an object",
    }
}

fn into_connector(r: Rendered) -> Result<Connector, String> {
    let Output { name, mut config } = r.real;
    connector::check_name(&name)?;
    match config.get("name") {
        Some(n) if *n != name => {
            return Err(format!("config.name {n:?} differs from name {name:?}; Connect would reject it"))
        }
        _ => {
            config.insert("name".into(), name.clone());
        }
    }
    let secret_keys = config
        .iter()
        .filter(|(k, v)| {
            k.as_str() != "name"
                && (crate::redact::is_secret_key(k) || r.marked.as_ref().is_none_or(|m| m.config.get(*k) != Some(*v)))
        })
        .map(|(k, _)| k.clone())
        .collect::<BTreeSet<_>>();
    Ok(Connector { name, config, secret_keys })
}

fn undefined_message(found: &str, u: compile::Undefined, known: &[&str]) -> String {
    match u {
        compile::Undefined::Var => {
            let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            format!(
                "undefined variable `{found}` (defined from properties files: {known}; the environment is `env.NAME` or `$ENV.NAME`)"
            )
        }
        compile::Undefined::Filter(arity) => format!("undefined filter `{found}/{arity}`"),
        u => format!("undefined {} `{found}`", u.as_str()),
    }
}

fn load_errors(code: &str, e: load::Error<&str>) -> Vec<String> {
    match e {
        load::Error::Io(errs) => errs.into_iter().map(|(path, e)| format!("cannot load `{path}`: {e}")).collect(),
        load::Error::Lex(errs) => errs.into_iter().map(|(expect, found)| lex_error(code, expect, found)).collect(),
        load::Error::Parse(errs) => errs
            .into_iter()
            .map(|(expect, found)| {
                let found_text = if found.is_empty() { "end of input".to_string() } else { format!("`{found}`") };
                at(code, found, &format!("expected {}, found {found_text}", expect.as_str()))
            })
            .collect(),
    }
}

fn lex_error(code: &str, expect: lex::Expect<&str>, found: &str) -> String {
    let message = match expect {
        lex::Expect::Delim(open) => {
            let (line, col) = position(code, open);
            format!("expected closing delimiter for `{open}` opened at {line}:{col}")
        }
        e => format!("expected {}", e.as_str()),
    };
    at(code, found, &message)
}

/// `line:column: message` for a sub-slice of `code`.
fn at(code: &str, found: &str, message: &str) -> String {
    let (line, col) = position(code, found);
    format!("{line}:{col}: {message}")
}

fn position(code: &str, part: &str) -> (usize, usize) {
    let start = part.as_ptr() as usize;
    let base = code.as_ptr() as usize;
    // `part` is a sub-slice of `code` for every jaq error; anything else
    // (which would be a jaq bug) points at the end rather than panicking.
    let offset = if start >= base && start <= base + code.len() { start - base } else { code.len() };
    let before = &code[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer() -> Renderer {
        let vars = BTreeMap::from([
            ("SCHEMA_REGISTRY_URL".to_string(), "http://sr:8081".to_string()),
            ("SASL_JAAS_CONFIG".to_string(), "m required username=\"KEY\" password=\"SECRET=x\";".to_string()),
        ]);
        let env = BTreeMap::from([("DB_PASSWORD".to_string(), "GoKafka".to_string())]);
        Renderer::new(Arc::new(Variables::from_parts(vars, env)), Duration::from_secs(2))
    }

    fn render(code: &str) -> Result<Connector, String> {
        renderer().render(code)
    }

    #[test]
    fn renders_variables_env_and_derived_credentials() {
        let c = render(
            r#"{"name": "c", "config": {"url": $SCHEMA_REGISTRY_URL, "pw": env.DB_PASSWORD, "k": env.KAFKA_API_KEY,
                "s": $KAFKA_API_SECRET, "e": $ENV.KAFKA_API_SECRET, "plain": "x", "tasks.max": 1, "ratio": 1.50, "on": true}}"#,
        )
        .unwrap();
        assert_eq!(c.name, "c");
        assert_eq!(c.config["url"], "http://sr:8081");
        assert_eq!(c.config["pw"], "GoKafka");
        assert_eq!(c.config["k"], "KEY");
        assert_eq!(c.config["s"], "SECRET=x");
        assert_eq!(c.config["e"], "SECRET=x");
        assert_eq!(c.config["tasks.max"], "1");
        assert_eq!(c.config["ratio"], "1.50");
        assert_eq!(c.config["on"], "true");
        assert_eq!(c.config["name"], "c", "name is always sent");
        let secret: Vec<&str> = c.secret_keys.iter().map(String::as_str).collect();
        assert_eq!(secret, ["e", "k", "pw", "s", "url"]);
    }

    #[test]
    fn interpolated_values_are_secret_too() {
        let c = render(r#"{"name": "c", "config": {"url": "jdbc:mysql://db/?password=\(env.DB_PASSWORD)", "n": ($SCHEMA_REGISTRY_URL | length | tostring)}}"#).unwrap();
        assert!(c.secret_keys.contains("url"));
        assert!(c.secret_keys.contains("n"));
    }

    #[test]
    fn null_array_and_object_values_name_the_key() {
        let e = render(r#"{"name": "c", "config": {"a": env.NOPE}}"#).unwrap_err();
        assert!(e.contains("`a` is null"), "{e}");
        let e = render(r#"{"name": "c", "config": {"b": [1]}}"#).unwrap_err();
        assert!(e.contains("`b` is an array"), "{e}");
        let e = render(r#"{"name": "c", "config": {"d": {}}}"#).unwrap_err();
        assert!(e.contains("`d` is an object"), "{e}");
    }

    #[test]
    fn shape_errors() {
        for (code, want) in [
            ("1", "must yield an object"),
            (r#"{"config": {}}"#, "no `name`"),
            (r#"{"name": "c"}"#, "no `config`"),
            (r#"{"name": "c", "config": {}, "extra": 1}"#, "unexpected key `extra`"),
            (r#"{"name": 1, "config": {}}"#, "`name` must be a string"),
            ("empty", "yielded no value"),
            (r#"{"name": ("a", "b"), "config": {}}"#, "more than one value"),
            (r#"{"name": "a", "config": {"name": "b"}}"#, "differs from name"),
            (r#"{"name": "a/b", "config": {}}"#, "`/`"),
            (r#"error("boom")"#, "error: boom"),
        ] {
            let e = render(code).unwrap_err();
            assert!(e.contains(want), "{code}: {e}");
        }
    }

    #[test]
    fn undefined_variable_lists_defined_names_not_values() {
        let e = render("{\"name\": \"c\",\n  \"config\": {\"a\": $NOPE}}").unwrap_err();
        assert!(e.starts_with("2:19: undefined variable `$NOPE`"), "{e}");
        assert!(e.contains("$SCHEMA_REGISTRY_URL"), "{e}");
        assert!(!e.contains("http://sr"), "{e}");
        assert!(!e.contains("SECRET=x"), "{e}");
    }

    #[test]
    fn parse_errors_have_line_and_column() {
        let e = render("{\"name\": \"c\",\n \"config\": {\"a\": [1 }}").unwrap_err();
        assert!(e.starts_with("2:"), "{e}");
        let e = render("{\"name\": \"c\", \"config\": nosuch(1)}").unwrap_err();
        assert_eq!(e, "1:25: undefined filter `nosuch/1`");
        let e = render("if true then 1").unwrap_err();
        assert!(e.contains("found end of input"), "{e}");
    }

    #[test]
    fn runaway_template_times_out_and_the_next_one_renders() {
        let mut r = Renderer::new(Arc::new(Variables::default()), Duration::from_millis(200));
        let e = r.render("last(repeat(1))").unwrap_err();
        assert!(e.contains("did not finish within 200ms"), "{e}");
        assert_eq!(r.render(r#"{"name": "ok", "config": {}}"#).unwrap().name, "ok");
    }

    #[test]
    fn includes_are_refused() {
        let e = render(r#"include "x"; {"name": "c", "config": {}}"#).unwrap_err();
        assert!(e.contains("cannot load"), "{e}");
    }
}
