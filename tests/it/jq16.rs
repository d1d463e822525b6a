//! jq 1.6's own test suite, run through the template engine as the hook
//! runs it, against what jq 1.6 itself gives.
//!
//! Each case becomes a template whose config value holds the case's outputs,
//! `{"name": .., "config": {"out": ([INPUT | (PROGRAM)] | tojson)}}`, so
//! that what is compared is exactly what would be sent to Connect: the
//! numbers' text, error texts exposed by `catch`, and whether the template
//! fails at all. All cases are rendered by one `connect-operator render`,
//! one ConfigMap per suite file, as the hook renders a batch. jq 1.6's
//! answers for the same templates are recorded in
//! `tests/jq16/jq-1.6-outputs.json` and checked against jq when jq 1.6 is on
//! the machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::support::repo::BIN;
const SUITES: &[&str] = &["jq.test", "onig.test", "optional.test", "base64.test", "extra.test"];

/// What `render` says when a template uses a construct it cannot give as
/// jq 1.6 does; such a case is refused, never answered differently.
const REFUSED: &str = "is not supported in templates";

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jq16")
}

/// One case of a suite file: a program, its input (none for `%%FAIL`
/// cases, which must not compile), and where it is.
struct Case {
    id: String,
    suite: &'static str,
    line: usize,
    program: String,
    input: String,
}

/// Cases that cannot be templates, with the reason. A template has no input
/// stream, no modules and no file name, and its environment is the
/// template environment, not jq's.
fn cannot_be_a_template(program: &str, input: &str) -> Option<&'static str> {
    let uses = |w: &str| program.contains(w);
    if uses("import ") || uses("include ") || uses("modulemeta") || uses("get_search_list") || uses("%::") {
        Some("modules: a template cannot load modules")
    } else if uses("input") {
        Some("reads the input stream: a template runs on null, with no input")
    } else if uses("$ENV") || uses("env.") || uses("env|") || uses("env |") {
        Some("the environment: a template's is the template environment")
    } else if input.starts_with('\u{feff}') {
        Some("a byte-order mark in the input: a template has no input text")
    } else {
        None
    }
}

fn parse_suite(suite: &'static str) -> Vec<Case> {
    let text = std::fs::read_to_string(data().join(suite)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut cases = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim().is_empty() || line.starts_with('#') {
            i += 1;
            continue;
        }
        let must_fail = line.starts_with("%%FAIL");
        if must_fail {
            i += 1;
        }
        let start = i;
        let program = lines[i].to_string();
        let input = if must_fail { "null".to_string() } else { lines.get(i + 1).unwrap_or(&"null").to_string() };
        // The case ends at the next blank line: outputs or the error text.
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
        let id = format!("{}-{:04}", suite.trim_end_matches(".test"), start + 1);
        cases.push(Case { id, suite, line: start + 1, program, input });
    }
    cases
}

fn all_cases() -> Vec<Case> {
    SUITES.iter().flat_map(|s| parse_suite(s)).collect()
}

/// The template for a case. The program keeps line 1; a newline before the
/// closing parenthesis keeps a trailing comment from swallowing it.
fn template(case: &Case) -> String {
    format!(
        "{{\"name\": \"{}\", \"config\": {{\"out\": ([{} | ({}\n)] | tojson)}}}}",
        case.id, case.input, case.program
    )
}

/// jq 1.6's answer for one template: the config value, or the error.
fn jq(template: &str, dir: &Path) -> Value {
    let file = dir.join("t.jq");
    std::fs::write(&file, template).unwrap();
    let out = Command::new("jq").args(["-c", "-n", "-f"]).arg(&file).env_clear().output().unwrap();
    if out.status.success() {
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        json!({"value": v["config"]["out"]})
    } else {
        let message = String::from_utf8_lossy(&out.stderr);
        json!({"error": message.trim()})
    }
}

fn jq_is_1_6() -> bool {
    Command::new("jq").arg("--version").output().is_ok_and(|o| o.stdout.starts_with(b"jq-1.6\n"))
}

fn recording() -> PathBuf {
    data().join("jq-1.6-outputs.json")
}

/// jq 1.6's answers, by case id: from jq when it is here (and then the
/// recording must agree, or is written anew with `JQ16_RECORD=1`), else
/// from the recording.
fn reference(cases: &[&Case]) -> BTreeMap<String, Value> {
    let recorded: Option<BTreeMap<String, Value>> =
        std::fs::read(recording()).ok().map(|b| serde_json::from_slice(&b).unwrap());
    if !jq_is_1_6() {
        eprintln!("jq 1.6 is not on this machine: comparing with its recorded answers");
        return recorded.expect("no jq 1.6 here and no recording of its answers");
    }
    let dir = tempfile::tempdir().unwrap();
    let live: BTreeMap<String, Value> = cases.iter().map(|c| (c.id.clone(), jq(&template(c), dir.path()))).collect();
    if std::env::var_os("JQ16_RECORD").is_some() {
        std::fs::write(recording(), serde_json::to_string_pretty(&live).unwrap() + "\n").unwrap();
    } else {
        assert_eq!(
            recorded.as_ref(),
            Some(&live),
            "jq 1.6 answers differently from the recording; JQ16_RECORD=1 writes it"
        );
    }
    live
}

/// Our answers, by case id: every case rendered by one `render`.
fn ours(cases: &[&Case]) -> BTreeMap<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    for suite in SUITES {
        let data: serde_json::Map<String, Value> = (cases.iter().filter(|c| c.suite == *suite))
            .map(|c| (format!("{}.json", c.id), Value::from(template(c))))
            .collect();
        let name = format!("jq16-{}", suite.trim_end_matches(".test"));
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "jq", "labels": {"destination": "connect"}}, "data": data});
        std::fs::write(dir.path().join(format!("{name}.yaml")), cm.to_string()).unwrap();
    }
    let out = Command::new(BIN)
        .arg("render")
        .arg(dir.path())
        .args(["--config-dir", dir.path().to_str().unwrap()])
        .env_clear()
        // Fidelity, not time limits: a debug build under load takes seconds on the date cases.
        .env("TEMPLATE_TIMEOUT", "120s")
        .output()
        .unwrap();
    let rendered: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut answers: BTreeMap<String, Value> = rendered
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), json!({"value": c["config"]["out"]})))
        .collect();
    // Errors: "error: ConfigMap jq/NAME (FILE) key ID.json: MESSAGE", the
    // message perhaps on several lines.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut current: Option<(String, String)> = None;
    let finish = |entry: Option<(String, String)>, answers: &mut BTreeMap<String, Value>| {
        if let Some((id, message)) = entry {
            answers.insert(id, json!({"error": message}));
        }
    };
    for line in stderr.lines() {
        let keyed = line.strip_prefix("error: ConfigMap ").and_then(|rest| rest.split_once(" key ")).map(|(_, r)| r);
        match keyed.and_then(|r| r.split_once(".json: ")) {
            Some((id, message)) => finish(current.replace((id.to_string(), message.to_string())), &mut answers),
            None => {
                if let Some((_, message)) = current.as_mut() {
                    message.push('\n');
                    message.push_str(line);
                }
            }
        }
    }
    finish(current, &mut answers);
    answers
}

#[test]
fn jq_1_6_test_suite() {
    let cases = all_cases();
    let mut skipped = Vec::new();
    let mut runnable = Vec::new();
    for case in &cases {
        match cannot_be_a_template(&case.program, &case.input) {
            Some(reason) => skipped.push(format!("{}:{}: {}  ({reason})", case.suite, case.line, case.program)),
            None => runnable.push(case),
        }
    }
    let jq = reference(&runnable);
    let ours = ours(&runnable);
    let (mut passed, mut refused, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for case in &runnable {
        let want = &jq[&case.id];
        let got = ours.get(&case.id).unwrap_or(&Value::Null);
        let place = format!("{}:{}: {}", case.suite, case.line, case.program);
        let got_error = got.get("error").and_then(Value::as_str);
        // Values must be equal; errors need only both be errors (jq's
        // top-level texts carry its own file and line).
        let agree = if want.get("value").is_some() { want == got } else { got_error.is_some() };
        if agree {
            passed.push(place);
        } else if got_error.is_some_and(|e| e.contains(REFUSED)) {
            refused.push(format!("{place}\n    {}", got_error.unwrap()));
        } else {
            failed.push(format!("{place}\n    input {}\n    jq 1.6: {want}\n    ours:   {got}", case.input));
        }
    }
    eprintln!("left out, cannot be a template ({}):\n  {}", skipped.len(), skipped.join("\n  "));
    eprintln!("refused at compile time ({}):\n  {}", refused.len(), refused.join("\n  "));
    eprintln!("failed ({}):\n  {}", failed.len(), failed.join("\n  "));
    eprintln!(
        "{} passed, {} refused, {} failed, {} left out",
        passed.len(),
        refused.len(),
        failed.len(),
        skipped.len()
    );
    let of_jq = |list: &[String]| list.iter().filter(|p| !p.starts_with("extra.test")).count();
    eprintln!(
        "of them jq 1.6's own suite: {} passed, {} refused, {} failed, {} left out",
        of_jq(&passed),
        of_jq(&refused),
        of_jq(&failed),
        of_jq(&skipped)
    );
    // Each case agrees or is refused by name: none answers otherwise.
    assert!(failed.is_empty(), "{} cases differ from jq 1.6", failed.len());
}
