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

use std::rc::Rc;

use jaq_core::load::{self, parse, parse::Def, Arena, File, Loader};
use jaq_core::{data::JustLut, Compiler, Ctx, Filter, Vars};
use jaq_json::Val;

use crate::model::connector::Connector;
use crate::render::error::{Located, RenderError};
use crate::render::jaq_errors::{line_col, load_errors, offset, undefined_message};
use crate::render::shape::{into_connector, marker, to_output, Rendered, Yielded, NULL_CAUSE};
use crate::render::variables::Variables;

type Defs = Vec<parse::Def<&'static str>>;
type Program = Rc<Filter<JustLut<Val>>>;
/// A compiled template: the program that holds it and its index there.
type Compiled = Result<(Program, usize), RenderError>;

/// A name a template uses that is not defined: the template's index, the
/// byte offset there, and what to say.
type Unresolved = (usize, usize, String);

/// The global variable that selects a template in the combined program.
const SELECTOR: &str = "$__connect_operator_template";

/// What template rendering says as it goes: that the batch compiled, then
/// each template's result, in order. Errors are not scrubbed yet.
pub enum Event {
    /// The batch compiled.
    Compiled,
    /// One template's result, in order.
    Rendered(Result<Connector, RenderError>),
}

/// A template, and which of a batch's sets of variables it reads.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Job {
    /// Index of its variables in the batch's sets.
    pub set: usize,
    /// The template.
    pub code: String,
}

/// Compiles the templates that read the same variables as one program (one
/// for each set), then renders them one after the other, saying each
/// result as soon as it is known (so that whoever watches knows which
/// template is running). Stops at the first error of `emit`. Nothing here
/// bounds time or memory: [`crate::render::sandbox`] does, by running this
/// in a child process.
pub fn render_each<E>(
    sets: &[&Variables],
    jobs: &[Job],
    mut emit: impl FnMut(Event) -> Result<(), E>,
) -> Result<(), E> {
    // A template compiles against the names its own namespace defines, so
    // that another namespace's `$NAME` is undefined for it, as any unknown name is.
    let mut compiled: Vec<Option<Compiled>> = jobs.iter().map(|_| None).collect();
    let mut engines = Vec::with_capacity(sets.len());
    for (set, variables) in sets.iter().enumerate() {
        let members: Vec<(usize, &str)> = (jobs.iter().enumerate())
            .filter(|(_, job)| job.set == set)
            .map(|(i, job)| (i, job.code.as_str()))
            .collect();
        if members.is_empty() {
            engines.push(None);
            continue;
        }
        let engine = Engine::new(variables);
        let codes: Vec<&str> = members.iter().map(|(_, code)| *code).collect();
        for ((i, _), result) in members.iter().zip(engine.compile_batch(&codes)) {
            if let Some(slot) = compiled.get_mut(*i) {
                *slot = Some(result);
            }
        }
        engines.push(Some(engine));
    }
    emit(Event::Compiled)?;
    for (job, compiled) in jobs.iter().zip(compiled) {
        let (Some(Some(engine)), Some(variables), Some(compiled)) = (engines.get(job.set), sets.get(job.set), compiled)
        else {
            emit(Event::Rendered(Err(RenderError::Internal("internal error: a template without variables".into()))))?;
            continue;
        };
        let result = compiled.and_then(|(filter, index)| into_connector(engine.run(&filter, index)));
        emit(Event::Rendered(result.map_err(|e| name_unset_env(e, &job.code, variables))))?;
    }
    Ok(())
}

/// Definitions and the two sets of global values, made once per batch
/// (jaq values are not `Send`).
struct Engine {
    defs: Defs,
    /// What is built in, to refuse what jq 1.6 lacks.
    builtins: jq16::builtins::Builtins,
    names: Vec<String>,
    real: Vec<Val>,
    marked: Vec<Val>,
}

impl Engine {
    fn new(variables: &Variables) -> Engine {
        let defs: Defs = jq16::defs().into_iter().chain(own_defs()).collect();
        let builtins = defs.iter().map(|d| (d.name, d.args.len())).chain(funs().map(|(n, a, _)| (n, a.len())));
        let builtins = jq16::builtins::Builtins::new(builtins.collect());
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
        Engine { defs, builtins, names, real, marked }
    }

    /// Compiles the templates as one program. Each template is parsed alone
    /// into a definition `__t{i}`, so none can reach into another's text;
    /// one that does not parse gets its own error. The definitions are then
    /// compiled together; one whose names do not resolve gets its error and
    /// is left out, and the rest are compiled again without it.
    fn compile_batch(&self, codes: &[&str]) -> Vec<Compiled> {
        let names: Vec<String> = (0..codes.len()).map(|i| format!("__t{i}")).collect();
        let mut results: Vec<Result<Def<&str>, RenderError>> =
            codes.iter().zip(&names).map(|(code, name)| self.parse(code, name)).collect();
        loop {
            let members: Vec<usize> = (results.iter().enumerate()).filter(|(_, r)| r.is_ok()).map(|(i, _)| i).collect();
            if members.is_empty() {
                // Every template failed on its own: `results` holds only errors.
                let reason = || RenderError::Internal("internal error: the template was left out".into());
                return results.into_iter().map(|r| r.and_then(|_| Err(reason()))).collect();
            }
            let mut main = String::new();
            pick(&members, &mut main);
            let defs = results.iter().filter_map(|r| r.as_ref().ok().cloned());
            match self.compile(defs, &main, codes) {
                Ok(filter) => {
                    let filter = Rc::new(filter);
                    return results.into_iter().enumerate().map(|(i, r)| r.map(|_| (filter.clone(), i))).collect();
                }
                Err(errors) => {
                    let mut attributed = false;
                    for (i, at, message) in errors {
                        let (Some(code), Some(entry)) = (codes.get(i), results.get_mut(i)) else { continue };
                        let (line, col) = line_col(code, at);
                        let located = Located::at(line, col, message);
                        match entry {
                            Err(RenderError::Parse(earlier)) => earlier.push(located),
                            _ => *entry = Err(RenderError::Parse(vec![located])),
                        }
                        attributed = true;
                    }
                    if !attributed {
                        // A bug in the combined program, not in a template: say so for each.
                        return results
                            .into_iter()
                            .map(|r| {
                                r.and_then(|_| Err(RenderError::Internal("internal error compiling templates".into())))
                            })
                            .collect();
                    }
                }
            }
        }
    }

    /// Parses one template alone into the definition `name`, or says why it
    /// does not parse, with positions inside it.
    fn parse<'s>(&self, code: &'s str, name: &'s str) -> Result<Def<&'s str>, RenderError> {
        if let Some(body) = load::parse(code, |p| p.term()) {
            let refused = self.builtins.refused(&body).or_else(|| jq16::path_exprs::refused(&body));
            if let Some((found, why)) = refused {
                let (line, col) = line_col(code, offset(code, found));
                return Err(RenderError::Refused(Located::at(line, col, why)));
            }
            return Ok(Def { name, args: Vec::new(), body: jq16::rewrite::term(body) });
        }
        if let Some(refused) = jq16::refuse::construct(code) {
            return Err(RenderError::Refused(Located::nowhere(refused)));
        }
        // The loader says why, as jaq says it (`include` and `import` too).
        let arena = Arena::default();
        match Loader::new([]).load(&arena, File { code, path: () }) {
            Err(errs) => Err(RenderError::Parse(errs.into_iter().flat_map(|(_, e)| load_errors(code, e)).collect())),
            Ok(_) => Err(RenderError::Refused(Located::nowhere(
                "a template is a jq program; `module` directives cannot be used in one",
            ))),
        }
    }

    /// Compiles the definitions with `main`; on failure, each undefined name
    /// as (index of the template that uses it, byte offset there, message).
    fn compile<'s>(
        &self,
        defs: impl Iterator<Item = Def<&'s str>>,
        main: &'s str,
        codes: &[&str],
    ) -> Result<Filter<JustLut<Val>>, Vec<Unresolved>> {
        let arena = Arena::default();
        let prelude = self.defs.iter().cloned().chain(defs);
        // The prelude and `main` are ours: they always parse.
        let Ok(modules) = Loader::new(prelude).load(&arena, File { code: main, path: () }) else {
            return Err(Vec::new());
        };
        let known: Vec<&str> = self.names.iter().map(String::as_str).filter(|n| *n != "$ENV").collect();
        Compiler::default()
            .with_funs(funs())
            .with_global_vars(self.names.iter().map(String::as_str).chain([SELECTOR]))
            .compile(modules)
            .map_err(|errs| {
                let undefined = errs.into_iter().flat_map(|(_, undefined)| undefined);
                // An undefined name lies in the text of the template that uses it.
                let place = |found: &str| codes.iter().enumerate().find(|(_, c)| offset(c, found) < c.len());
                undefined
                    .filter_map(|(found, u)| {
                        let (i, code) = place(found)?;
                        Some((i, offset(code, found), undefined_message(found, u, &known)))
                    })
                    .collect()
            })
    }

    fn run(&self, filter: &Filter<JustLut<Val>>, index: usize) -> Rendered {
        Rendered { real: run_once(filter, &self.real, index), marked: run_once(filter, &self.marked, index) }
    }
}

/// A null config value said with the `env.NAME`s the template reads that
/// are not set, when there are any (`env.ORDERS_BQ_SINK_KEYFILE is not set`),
/// or that `TEMPLATE_ENV` does not list.
fn name_unset_env(error: RenderError, code: &str, variables: &Variables) -> RenderError {
    if !error.to_string().contains(NULL_CAUSE) {
        return error;
    }
    let (withheld, unset): (Vec<&str>, Vec<&str>) = jq16::refuse::env_names(code)
        .into_iter()
        .filter(|n| !variables.env.contains_key(*n))
        .partition(|n| variables.template_env.as_ref().is_some_and(|list| !list.allows(n)));
    let [withheld, unset] = [withheld, unset].map(|names| names.iter().map(|n| format!("env.{n}")).collect::<Vec<_>>());
    let mut causes = Vec::new();
    match unset.as_slice() {
        [] => {}
        [one] => causes.push(format!("{one} is not set")),
        many => causes.push(format!("the template reads {}, which are not set", many.join(", "))),
    }
    match withheld.as_slice() {
        [] => {}
        [one] => causes.push(format!("{one} is not in TEMPLATE_ENV")),
        many => causes.push(format!("{} are not in TEMPLATE_ENV", many.join(", "))),
    }
    if causes.is_empty() {
        return error;
    }
    let cause = format!("({})", causes.join("; "));
    // streaming-ops' hook set these from a properties file, not from its Pod's environment.
    let derived = unset.iter().any(|n| n == "env.KAFKA_API_KEY" || n == "env.KAFKA_API_SECRET");
    let hint = if derived {
        "; env.KAFKA_API_KEY and env.KAFKA_API_SECRET come from the username and password of a \
         `sasl.jaas.config` property in the properties directory, as in streaming-ops"
    } else {
        ""
    };
    error.map_message(|m| m.replace(NULL_CAUSE, &format!("{cause}{hint}")))
}

/// A binary search over template indexes, so picking one is O(log n);
/// written into one buffer (formatting each level anew copied the text
/// once per level).
fn pick(members: &[usize], out: &mut String) {
    let (low, high) = members.split_at(members.len() / 2);
    match (members, high.first()) {
        ([only], _) => out.push_str(&format!("__t{only}")),
        (_, Some(middle)) => {
            out.push_str(&format!("if {SELECTOR} < {middle} then "));
            pick(low, out);
            out.push_str(" else ");
            pick(high, out);
            out.push_str(" end");
        }
        // No template: `combine` is never called with none.
        (_, None) => out.push_str("empty"),
    }
}

/// jaq's natives and ours, without jaq's `env` (see [`own_defs`]).
fn funs() -> impl Iterator<Item = jaq_core::native::Fun<JustLut<Val>>> {
    jaq_core::funs()
        .chain(jaq_std::funs().filter(|(name, ..)| *name != "env"))
        .chain(jaq_json::funs())
        .chain(jq16::natives::funs())
}

/// `env` reads the template environment (the process environment plus the
/// derived Kafka credentials) instead of jaq's native, which reads only the
/// process environment.
fn own_defs() -> Defs {
    load::parse("def env: $ENV;", |p| p.defs()).unwrap_or_default()
}

fn object(pairs: impl Iterator<Item = (String, String)>) -> Val {
    Val::obj(pairs.map(|(k, v)| (Val::from(k), Val::from(v))).collect())
}

fn run_once(filter: &Filter<JustLut<Val>>, globals: &[Val], index: usize) -> Result<Yielded, RenderError> {
    let globals = globals.iter().cloned().chain([Val::from(index)]);
    let ctx = Ctx::<JustLut<Val>>::new(&filter.lut, Vars::new(globals));
    let mut outputs = filter.id.run((ctx, Val::Null));
    let first = match outputs.next() {
        None => {
            return Err(RenderError::Shape(
                "the template yielded no value; it must yield one {\"name\", \"config\"} object".into(),
            ))
        }
        Some(result) => result.map_err(runtime_error)?,
    };
    if outputs.next().is_some() {
        return Err(RenderError::Shape("the template yielded more than one value; it must yield exactly one".into()));
    }
    to_output(&first)
}

fn runtime_error(exn: jaq_core::Exn<Val>) -> RenderError {
    RenderError::Runtime(match exn.get_err() {
        Ok(e) => match e.into_val() {
            Val::TStr(b) => {
                let message = String::from_utf8_lossy(&b);
                format!("error: {}", jq16::errors::jq_text(&message).unwrap_or_else(|| message.into_owned()))
            }
            v => format!("error: {}", jq16::dump::json(&v)),
        },
        Err(_) => "the template called halt".into(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::connector::TargetState;

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
    fn render_all(codes: &[&str]) -> Vec<Result<Connector, RenderError>> {
        let variables = variables();
        let scrubber = crate::redact::Scrubber::new(variables.secret_values());
        let jobs: Vec<Job> = codes.iter().map(|c| Job { set: 0, code: c.to_string() }).collect();
        let mut results = Vec::new();
        render_each(&[&variables], &jobs, |event| {
            if let Event::Rendered(result) = event {
                results.push(result.map_err(|e| e.map_message(|m| scrubber.scrub(m))));
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        results
    }

    fn render(code: &str) -> Result<Connector, RenderError> {
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
        assert_eq!(c.config["ratio"], "1.5", "as jq 1.6 writes 1.50");
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
        let e = render(r#"{"name": "c", "config": {"a": env.NOPE}}"#).unwrap_err().to_string();
        assert!(e.contains("`a` is null"), "{e}");
        let e = render(r#"{"name": "c", "config": {"b": [1]}}"#).unwrap_err().to_string();
        assert!(e.contains("`b` is an array"), "{e}");
        let e = render(r#"{"name": "c", "config": {"d": {}}}"#).unwrap_err().to_string();
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
            let e = render(code).unwrap_err().to_string();
            assert!(e.contains(want), "{code}: {e}");
        }
    }

    #[test]
    fn undefined_variable_lists_defined_names_not_values() {
        let e = render("{\"name\": \"c\",\n  \"config\": {\"a\": $NOPE}}").unwrap_err().to_string();
        assert!(e.starts_with("2:19: undefined variable `$NOPE`"), "{e}");
        assert!(e.contains("$SCHEMA_REGISTRY_URL"), "{e}");
        assert!(!e.contains("http://sr"), "{e}");
        assert!(!e.contains("SECRET=x"), "{e}");
    }

    #[test]
    fn parse_errors_have_line_and_column() {
        let e = render("{\"name\": \"c\",\n \"config\": {\"a\": [1 }}").unwrap_err().to_string();
        assert!(e.starts_with("2:"), "{e}");
        let e = render("{\"name\": \"c\", \"config\": nosuch(1)}").unwrap_err().to_string();
        assert_eq!(e, "1:25: undefined filter `nosuch/1`");
        let e = render("if true then 1").unwrap_err().to_string();
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
        let shown: Vec<String> = (results.iter())
            .map(|r| r.as_ref().map_or_else(ToString::to_string, |c| format!("renders {}", c.name)))
            .collect();
        assert_eq!(shown[0], "renders a");
        assert!(shown[1].starts_with("2:18: undefined variable `$NOPE`"), "{shown:?}");
        assert!(shown[2].starts_with("1:"), "{shown:?}");
        assert_eq!(shown[3], "renders p-d");
        assert_eq!(shown[4], "1:31: undefined filter `nosuch/0`");
        assert_eq!(shown[5], "renders f");
    }

    #[test]
    fn errors_never_quote_secret_values() {
        let e = render(r#"{"name": "c", "config": {"x": (env.DB_PASSWORD | tonumber)}}"#).unwrap_err().to_string();
        assert!(!e.contains("GoKafka"), "{e}");
        assert!(e.contains("[redacted]"), "{e}");
    }

    #[test]
    fn names_and_keys_computed_from_secrets_are_refused_and_errors_never_quote_them() {
        let e = render(r#"{"name": "c-\(env.DB_PASSWORD)", "config": {}}"#).unwrap_err().to_string();
        assert!(e.contains("the connector name is computed from a variable"), "{e}");
        let e =
            render(r#"{"name": "c", "config": {(env.DB_PASSWORD | ascii_downcase): "x"}}"#).unwrap_err().to_string();
        assert!(e.contains(r#"config key "[redacted]" is computed from a variable"#), "{e}");
        for code in [
            r#"{"name": "c", "config": {"x": (env.DB_PASSWORD | ascii_downcase | tonumber)}}"#,
            r#"{"name": "c", "config": {"x": (env.DB_PASSWORD | @base64 | error)}}"#,
            r#"{"name": "c", "state": (env.DB_PASSWORD | ascii_upcase), "config": {}}"#,
            r#"{"name": "c", "config": {"name": env.DB_PASSWORD}}"#,
        ] {
            let e = render(code).unwrap_err().to_string();
            for leak in ["GoKafka", "gokafka", "GOKAFKA", "R29LYWZrYQ=="] {
                assert!(!e.contains(leak), "{code}: {e}");
            }
        }
        let variables = Variables::from_parts(
            BTreeMap::new(),
            BTreeMap::from([
                ("ENVIRONMENT".to_string(), "staging".to_string()),
                (crate::render::variables::PUBLIC_VARIABLES.to_string(), "ENVIRONMENT".to_string()),
            ]),
        );
        let code = r#"{"name": "jdbc-\(env.ENVIRONMENT)", "config": {"topic": env.ENVIRONMENT}}"#.to_string();
        let mut rendered = Vec::new();
        render_each(&[&variables], &[Job { set: 0, code }], |e| {
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
    fn a_batch_of_two_namespaces_compiles_each_against_its_own_variables() {
        let own = variables();
        let other = Variables::from_parts(BTreeMap::new(), BTreeMap::new());
        let code = r#"{"name": "c", "config": {"url": $SCHEMA_REGISTRY_URL, "pw": ($ENV.DB_PASSWORD | tostring)}}"#;
        let jobs: Vec<Job> = [1, 0, 1].iter().map(|&set| Job { set, code: code.to_string() }).collect();
        let mut results = Vec::new();
        render_each(&[&own, &other], &jobs, |event| {
            if let Event::Rendered(result) = event {
                results.push(result);
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        let [first, second, third] = <[_; 3]>::try_from(results).unwrap();
        for undefined in [first, third] {
            let e = undefined.unwrap_err().to_string();
            assert!(e.contains("undefined variable `$SCHEMA_REGISTRY_URL`"), "{e}");
        }
        assert_eq!(second.unwrap().config["pw"], "GoKafka");
    }

    #[test]
    fn state_is_optional_and_checked() {
        assert_eq!(render(r#"{"name": "c", "config": {}}"#).unwrap().state, TargetState::Running);
        assert_eq!(render(r#"{"name": "c", "state": "paused", "config": {}}"#).unwrap().state, TargetState::Paused);
        assert_eq!(render(r#"{"name": "c", "state": "STOPPED", "config": {}}"#).unwrap().state, TargetState::Stopped);
        let e = render(r#"{"name": "c", "state": "asleep", "config": {}}"#).unwrap_err().to_string();
        assert!(e.contains("\"asleep\""), "{e}");
    }

    #[test]
    fn only_jq_1_6_builtins_and_syntax() {
        let e = render(r#"{"name": "c", "config": {"x": ([1] | pick(.[0]) | tojson)}}"#).unwrap_err().to_string();
        assert_eq!(e, "1:38: `pick/1` is not supported in templates: it is not a jq 1.6 builtin (define it in the template if you need it)");
        let c = render(r#"def pick(f): "mine"; {"name": "c", "config": {"x": pick(.), "n": (builtins | length)}}"#)
            .unwrap();
        assert_eq!(
            (c.config["x"].as_str(), c.config["n"].as_str()),
            ("mine", "217"),
            "a template's own definition is its own"
        );
        let e = render(r#"{"name": "c", "config": {"x": input}}"#).unwrap_err().to_string();
        assert!(e.contains("`input/0` is not supported in templates"), "{e}");
        let e = render(r#". as [$a] ?// $a | {"name": "c", "config": {}}"#).unwrap_err().to_string();
        assert!(e.contains("`?//` is not supported in templates"), "{e}");
    }

    #[test]
    fn includes_are_refused() {
        let e = render(r#"include "x"; {"name": "c", "config": {}}"#).unwrap_err().to_string();
        assert!(e.contains("cannot load"), "{e}");
    }
}
