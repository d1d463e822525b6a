//! Rendering connector templates: jq programs, run by jaq on `null`.
//!
//! Each template is rendered twice: once with the real variables and once
//! with every variable replaced by a unique marker. A config value that
//! differs between the two was computed from a variable (a properties value or
//! the environment), so it is treated as secret wherever it is printed.
//!
//! Compiling jaq's standard library dominates the cost of a small template,
//! so all templates of a run are compiled together, once: each becomes a
//! definition of one program that picks the template by index. Errors are
//! still reported per template, with positions inside that template.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::rc::Rc;

use jaq_core::load::{self, lex, parse, Arena, File, Loader};
use jaq_core::{compile, data::JustLut, Compiler, Ctx, Filter, Vars};
use jaq_json::Val;

use crate::connector::{self, Connector, TargetState};
use crate::properties::Variables;

type Defs = Vec<parse::Def<&'static str>>;
type Program = Rc<Filter<JustLut<Val>>>;
/// A compiled template: the program that holds it and its index there.
type Compiled = Result<(Program, usize), String>;

/// The global variable that selects a template in the combined program.
const SELECTOR: &str = "$__connect_operator_template";

/// What template rendering says as it goes: that the batch compiled, then
/// each template's result, in order. Errors are not scrubbed yet.
pub enum Event {
    Compiled,
    Rendered(Result<Connector, String>),
}

/// What a template yields with the real variables and with markers, before
/// the name and config are checked.
struct Rendered {
    real: Result<Output, String>,
    marked: Result<Output, String>,
}

struct Output {
    name: String,
    state: Option<String>,
    config: BTreeMap<String, String>,
}

/// Compiles the templates as one program, then renders them one after the
/// other, saying each result as soon as it is known (so that whoever
/// watches knows which template is running). Stops at the first error of
/// `emit`. Nothing here bounds time or memory: [`crate::sandbox`] does, by
/// running this in a child process.
pub fn render_each<E>(
    variables: &Variables,
    codes: &[String],
    mut emit: impl FnMut(Event) -> Result<(), E>,
) -> Result<(), E> {
    let engine = Engine::new(variables);
    let batch = engine.compile_batch(codes);
    emit(Event::Compiled)?;
    for compiled in batch {
        let result = compiled.and_then(|(filter, index)| into_connector(engine.run(&filter, index)));
        emit(Event::Rendered(result))?;
    }
    Ok(())
}

/// Definitions and the two sets of global values, made once per batch
/// (jaq values are not `Send`).
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
        // Public values stay as they are, so what is computed from them alone is not secret.
        let shown = |public: bool, value: &String, i: usize| if public { value.clone() } else { marker(i) };
        let mut marked: Vec<Val> = (variables.vars.iter().enumerate())
            .map(|(i, (k, v))| Val::from(shown(variables.is_public_var(k), v, i)))
            .collect();
        let offset = variables.vars.len();
        let env = variables.env.iter().enumerate();
        marked.push(object(env.map(|(i, (k, v))| (k.clone(), shown(variables.is_public_env(k), v, offset + i)))));
        Engine { defs, names, real, marked }
    }

    /// Compiles the templates as one program. Templates that do not parse,
    /// or whose names do not resolve, get their own error and are left out
    /// of the program, which is then compiled again without them.
    fn compile_batch(&self, codes: &[String]) -> Vec<Compiled> {
        let mut results: Vec<Result<usize, String>> =
            codes.iter().map(|c| self.parse(c)).enumerate().map(|(i, r)| r.map(|_| i)).collect();
        loop {
            let members: Vec<usize> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
            if members.is_empty() {
                // Every template failed on its own: `results` holds only errors.
                let reason = || "internal error: the template was left out".to_string();
                return results.into_iter().map(|r| r.and_then(|_| Err(reason()))).collect();
            }
            let (program, spans) = combine(codes, &members);
            match self.compile(&program) {
                Ok(filter) => {
                    let filter = Rc::new(filter);
                    return results.into_iter().map(|r| r.map(|i| (filter.clone(), i))).collect();
                }
                Err(errors) => {
                    let mut attributed = false;
                    for (at, message) in errors {
                        let Some((i, span)) = spans.iter().find(|(_, span)| span.contains(&at)) else { continue };
                        let (Some(code), Some(entry)) = (program.get(span.clone()), results.get_mut(*i)) else {
                            continue;
                        };
                        let (line, col) = line_col(code, at.saturating_sub(span.start));
                        let line = format!("{line}:{col}: {message}");
                        *entry = Err(match entry {
                            Err(earlier) => format!("{earlier}\n{line}"),
                            Ok(_) => line,
                        });
                        attributed = true;
                    }
                    if !attributed {
                        // A bug in the combined program, not in a template: say so for each.
                        return results
                            .into_iter()
                            .map(|r| r.and_then(|_| Err("internal error compiling templates".to_string())))
                            .collect();
                    }
                }
            }
        }
    }

    /// Lexes and parses one template alone, for errors with its own positions.
    fn parse(&self, code: &str) -> Result<(), String> {
        let arena = Arena::default();
        Loader::new([])
            .load(&arena, File { code, path: () })
            .map(|_| ())
            .map_err(|errs| errs.into_iter().flat_map(|(_, e)| load_errors(code, e)).collect::<Vec<_>>().join("\n"))
    }

    /// Compile errors as (byte offset in `program`, message).
    fn compile(&self, program: &str) -> Result<Filter<JustLut<Val>>, Vec<(usize, String)>> {
        let arena = Arena::default();
        let modules = Loader::new(self.defs.iter().cloned())
            .load(&arena, File { code: program, path: () })
            .map_err(|_| Vec::new())?;
        let funs = jaq_core::funs().chain(jaq_std::funs().filter(|(name, ..)| *name != "env")).chain(jaq_json::funs());
        let known: Vec<&str> = self.names.iter().map(String::as_str).filter(|n| *n != "$ENV").collect();
        Compiler::default()
            .with_funs(funs)
            .with_global_vars(self.names.iter().map(String::as_str).chain([SELECTOR]))
            .compile(modules)
            .map_err(|errs| {
                errs.into_iter()
                    .flat_map(|(_, undefined)| undefined)
                    .map(|(found, u)| (offset(program, found), undefined_message(found, u, &known)))
                    .collect()
            })
    }

    fn run(&self, filter: &Filter<JustLut<Val>>, index: usize) -> Rendered {
        Rendered { real: run_once(filter, &self.real, index), marked: run_once(filter, &self.marked, index) }
    }
}

/// `def __t0: <template 0>; def __t1: ...; <pick by $SELECTOR>`, and where
/// each template's text lies in it.
fn combine(codes: &[String], members: &[usize]) -> (String, Vec<(usize, Range<usize>)>) {
    let mut program = String::new();
    let mut spans = Vec::new();
    for (i, code) in members.iter().filter_map(|&i| Some((i, codes.get(i)?))) {
        program.push_str(&format!("def __t{i}:\n"));
        let start = program.len();
        program.push_str(code);
        spans.push((i, start..program.len()));
        // A comment on the template's last line must not swallow the `;`.
        program.push_str("\n\n;\n");
    }
    program.push_str(&pick(members));
    (program, spans)
}

/// A binary search over template indexes, so picking one is O(log n).
fn pick(members: &[usize]) -> String {
    let (low, high) = members.split_at(members.len() / 2);
    match (members, high.first()) {
        ([only], _) => format!("__t{only}"),
        (_, Some(middle)) => format!("if {SELECTOR} < {middle} then {} else {} end", pick(low), pick(high)),
        // No template: `combine` is never called with none.
        (_, None) => "empty".into(),
    }
}

/// `env` reads the template environment (the process environment plus the
/// derived Kafka credentials) instead of jaq's native, which reads only the
/// process environment.
fn own_defs() -> Defs {
    load::parse("def env: $ENV;", |p| p.defs()).unwrap_or_default()
}

fn marker(i: usize) -> String {
    format!("{MARK}var{i}{MARK}")
}

fn object(pairs: impl Iterator<Item = (String, String)>) -> Val {
    Val::obj(pairs.map(|(k, v)| (Val::from(k), Val::from(v))).collect())
}

fn run_once(filter: &Filter<JustLut<Val>>, globals: &[Val], index: usize) -> Result<Output, String> {
    let globals = globals.iter().cloned().chain([Val::from(index)]);
    let ctx = Ctx::<JustLut<Val>>::new(&filter.lut, Vars::new(globals));
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
    let mut state = None;
    let mut config = None;
    for (k, v) in obj.iter() {
        match (text(k).as_deref(), v) {
            (Some("name"), Val::TStr(b)) => name = Some(String::from_utf8_lossy(b).into_owned()),
            (Some("name"), v) => return Err(format!("`name` must be a string, not {}", kind(v))),
            (Some("state"), Val::TStr(b)) => state = Some(String::from_utf8_lossy(b).into_owned()),
            (Some("state"), v) => return Err(format!("`state` must be a string, not {}", kind(v))),
            (Some("config"), Val::Obj(c)) => config = Some(c),
            (Some("config"), v) => return Err(format!("`config` must be an object, not {}", kind(v))),
            (Some(other), _) => {
                return Err(format!(
                    "unexpected key `{other}`; a template yields `name`, `config` and optionally `state`"
                ))
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
    Ok(Output { name, state, config: out })
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

/// What is said instead of an error that only the real values explain.
const WITHHELD: &str = "the template failed on a value computed from a variable (properties or environment); \
     the message is withheld because it would quote that value";

/// Turns the two runs into a connector. What is computed from variables
/// stays out of every message: an error is the marker run's (markers said as
/// `[redacted]`), and a name or config key computed from a secret is refused,
/// since names and keys are printed in plans, logs and Events.
fn into_connector(r: Rendered) -> Result<Connector, String> {
    let real = match r.real {
        Ok(real) => real,
        Err(e) => {
            return Err(match r.marked {
                Err(marked) if marked == e => marked,
                Err(marked) => unmark(&marked),
                Ok(_) => WITHHELD.into(),
            })
        }
    };
    let Output { name, state, mut config } = real;
    // `None` when the marker run failed: then every value counts as secret.
    let marked = r.marked.ok();
    if let Some(m) = &marked {
        if m.name != name {
            return Err(format!(
                "the connector name is computed from a variable (properties or environment); names are \
                 printed in plans, logs and Events, so it must be literal text or use only variables listed in \
                 {}",
                crate::properties::PUBLIC_VARIABLES
            ));
        }
        if let Some(key) = m.config.keys().find(|k| !config.contains_key(*k)) {
            return Err(format!(
                "config key {} is computed from a variable (properties or environment); keys are \
                 printed in plans and logs, so they must be literal text or use only variables listed in {}",
                unmark(&format!("{key:?}")),
                crate::properties::PUBLIC_VARIABLES
            ));
        }
    }
    connector::check_name(&name)?;
    let state_is_secret = marked.as_ref().is_some_and(|m| m.state != state);
    let state = match state.as_deref().map_or(Ok(TargetState::Running), TargetState::parse) {
        Err(_) if state_is_secret => {
            return Err("`state` is computed from a variable and is not running, paused or stopped".into())
        }
        other => other?,
    };
    let secret = |k: &String, v: &String| {
        crate::redact::is_secret_key(k) || marked.as_ref().is_none_or(|m| m.config.get(k) != Some(v))
    };
    match config.get("name") {
        Some(n) if *n != name && secret(&"name".to_string(), n) => {
            return Err(format!("config.name differs from name {name:?}; Connect would reject it"))
        }
        Some(n) if *n != name => {
            return Err(format!("config.name {n:?} differs from name {name:?}; Connect would reject it"))
        }
        _ => {
            config.insert("name".into(), name.clone());
        }
    }
    let secret_keys = config
        .iter()
        .filter(|(k, v)| k.as_str() != "name" && secret(k, v))
        .map(|(k, _)| k.clone())
        .collect::<BTreeSet<_>>();
    Ok(Connector { name, state, config, secret_keys })
}

/// What surrounds a marker's number.
const MARK: char = '\u{1}';

/// `\u{1}var3\u{1}` (a marker, as a message quotes it, possibly escaped) said as `[redacted]`.
fn unmark(text: &str) -> String {
    let escaped = text.replace("\\u{1}", "\u{1}").replace("\\u0001", "\u{1}");
    let mut out = String::new();
    let mut parts = escaped.split(MARK);
    out.push_str(parts.next().unwrap_or_default());
    while let Some(inside) = parts.next() {
        match (inside.strip_prefix("var").is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())), parts.next()) {
            (true, Some(after)) => {
                out.push_str(crate::redact::REDACTED);
                out.push_str(after);
            }
            (_, after) => {
                out.push_str(inside);
                if let Some(after) = after {
                    out.push_str(after);
                }
            }
        }
    }
    out
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

/// Where `part`, a sub-slice of `code` in every jaq error, starts in it;
/// anything else (a jaq bug) points at the end rather than panicking.
fn offset(code: &str, part: &str) -> usize {
    let (start, base) = (part.as_ptr() as usize, code.as_ptr() as usize);
    if start >= base && start <= base + code.len() {
        start - base
    } else {
        code.len()
    }
}

fn position(code: &str, part: &str) -> (usize, usize) {
    line_col(code, offset(code, part))
}

fn line_col(code: &str, offset: usize) -> (usize, usize) {
    let before = code.get(..offset).unwrap_or(code);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables() -> Variables {
        let vars = BTreeMap::from([
            ("SCHEMA_REGISTRY_URL".to_string(), "http://sr:8081".to_string()),
            ("SASL_JAAS_CONFIG".to_string(), "m required username=\"KEY\" password=\"SECRET=x\";".to_string()),
        ]);
        let env = BTreeMap::from([("DB_PASSWORD".to_string(), "GoKafka".to_string())]);
        Variables::from_parts(vars, env)
    }

    /// In this process, scrubbed as the sandbox scrubs: time and memory
    /// bounds are the sandbox's, tested through the binary.
    fn render_all(codes: &[&str]) -> Vec<Result<Connector, String>> {
        let variables = variables();
        let scrubber = crate::redact::Scrubber::new(variables.secret_values());
        let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        let mut results = Vec::new();
        render_each(&variables, &codes, |event| {
            if let Event::Rendered(result) = event {
                results.push(result.map_err(|e| scrubber.scrub(&e)));
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        results
    }

    fn render(code: &str) -> Result<Connector, String> {
        render_all(&[code]).pop().unwrap()
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
    fn a_batch_reports_each_error_at_its_own_position_and_renders_the_rest() {
        let results = render_all(&[
            r#"{"name": "a", "config": {}}"#,
            "{\"name\": \"b\",\n \"config\": {\"x\": $NOPE}}",
            "{\"name\": \"c\", \"config\": {",
            "def prefix: \"p-\";\n# a template may define filters\n{\"name\": (prefix + \"d\"), \"config\": {}} # trailing comment",
            "{\"name\": \"e\", \"config\": {\"y\": nosuch}}",
            r#"{"name": "f", "config": {"v": $SCHEMA_REGISTRY_URL}}"#,
        ]);
        let names: Vec<Result<&str, &str>> =
            results.iter().map(|r| r.as_ref().map(|c| c.name.as_str()).map_err(String::as_str)).collect();
        assert_eq!(names[0], Ok("a"));
        assert!(names[1].unwrap_err().starts_with("2:18: undefined variable `$NOPE`"), "{names:?}");
        assert!(names[2].unwrap_err().starts_with("1:"), "{names:?}");
        assert_eq!(names[3], Ok("p-d"));
        assert_eq!(names[4], Err("1:31: undefined filter `nosuch/0`"));
        assert_eq!(names[5], Ok("f"));
    }

    #[test]
    fn errors_never_quote_secret_values() {
        let e = render(r#"{"name": "c", "config": {"x": (env.DB_PASSWORD | tonumber)}}"#).unwrap_err();
        assert!(!e.contains("GoKafka"), "{e}");
        assert!(e.contains("[redacted]"), "{e}");
    }

    #[test]
    fn names_and_keys_computed_from_secrets_are_refused_and_errors_never_quote_them() {
        let e = render(r#"{"name": "c-\(env.DB_PASSWORD)", "config": {}}"#).unwrap_err();
        assert!(e.contains("the connector name is computed from a variable"), "{e}");
        let e = render(r#"{"name": "c", "config": {(env.DB_PASSWORD | ascii_downcase): "x"}}"#).unwrap_err();
        assert!(e.contains(r#"config key "[redacted]" is computed from a variable"#), "{e}");
        for code in [
            r#"{"name": "c", "config": {"x": (env.DB_PASSWORD | ascii_downcase | tonumber)}}"#,
            r#"{"name": "c", "config": {"x": (env.DB_PASSWORD | @base64 | error)}}"#,
            r#"{"name": "c", "state": (env.DB_PASSWORD | ascii_upcase), "config": {}}"#,
            r#"{"name": "c", "config": {"name": env.DB_PASSWORD}}"#,
        ] {
            let e = render(code).unwrap_err();
            for leak in ["GoKafka", "gokafka", "GOKAFKA", "R29LYWZrYQ=="] {
                assert!(!e.contains(leak), "{code}: {e}");
            }
        }
        let variables = Variables::from_parts(
            BTreeMap::new(),
            BTreeMap::from([
                ("ENVIRONMENT".to_string(), "staging".to_string()),
                (crate::properties::PUBLIC_VARIABLES.to_string(), "ENVIRONMENT".to_string()),
            ]),
        );
        let codes = [r#"{"name": "jdbc-\(env.ENVIRONMENT)", "config": {"topic": env.ENVIRONMENT}}"#.to_string()];
        let mut rendered = Vec::new();
        render_each(&variables, &codes, |e| {
            if let Event::Rendered(r) = e {
                rendered.push(r);
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        let c = rendered.pop().unwrap().unwrap();
        assert_eq!(c.name, "jdbc-staging", "a public variable may name a connector");
        assert!(c.secret_keys.is_empty(), "{:?}", c.secret_keys);
    }

    #[test]
    fn state_is_optional_and_checked() {
        assert_eq!(render(r#"{"name": "c", "config": {}}"#).unwrap().state, TargetState::Running);
        assert_eq!(render(r#"{"name": "c", "state": "paused", "config": {}}"#).unwrap().state, TargetState::Paused);
        assert_eq!(render(r#"{"name": "c", "state": "STOPPED", "config": {}}"#).unwrap().state, TargetState::Stopped);
        let e = render(r#"{"name": "c", "state": "asleep", "config": {}}"#).unwrap_err();
        assert!(e.contains("\"asleep\""), "{e}");
    }

    #[test]
    fn includes_are_refused() {
        let e = render(r#"include "x"; {"name": "c", "config": {}}"#).unwrap_err();
        assert!(e.contains("cannot load"), "{e}");
    }
}
