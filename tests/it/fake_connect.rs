//! The fake Connect server against Kafka Connect's REST API as Apache Kafka 4.1 documents and behaves, over real
//! HTTP with ureq. Every assertion pins an exact status and body, so a drift from the reference fails here.

use std::time::{Duration, Instant};

use crate::support::fake_connect::{FakeConnect, Fault, Match};
use serde_json::{json, Value};

const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
const VALIDATE_HINT: &str =
    "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`";

struct Resp {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string())
    }
    #[track_caller]
    fn assert_error(&self, status: u16, message: &str) {
        assert_eq!((self.status, self.json()), (status, json!({"error_code": status, "message": message})));
    }
}

fn try_send(
    fake: &FakeConnect,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Resp, ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut rq = ureq::http::Request::builder().method(method).uri(format!("{}{path}", fake.url()));
    for (name, value) in headers {
        rq = rq.header(*name, *value);
    }
    let mut resp = match body {
        Some(body) => agent.run(rq.body(body.to_string()).unwrap())?,
        None => agent.run(rq.body(()).unwrap())?,
    };
    Ok(Resp {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.body_mut().read_to_string()?,
    })
}

/// A request with `Content-Type: application/json` when there is a body.
fn call(fake: &FakeConnect, method: &str, path: &str, body: Option<&str>) -> Resp {
    let headers: &[(&str, &str)] = if body.is_some() { &[("Content-Type", "application/json")] } else { &[] };
    try_send(fake, method, path, body, headers).expect("transport")
}

fn get(fake: &FakeConnect, path: &str) -> Resp {
    call(fake, "GET", path, None)
}

fn send_json(fake: &FakeConnect, method: &str, path: &str, body: &Value) -> Resp {
    call(fake, method, path, Some(&body.to_string()))
}

fn invalid(errors: &[&str]) -> String {
    format!(
        "Connector configuration is invalid and contains the following {} error(s):\n{}\n{VALIDATE_HINT}",
        errors.len(),
        errors.join("\n")
    )
}

fn fake_with(name: &str, config: &[(&str, &str)]) -> FakeConnect {
    let fake = FakeConnect::start();
    fake.insert_connector(name, config);
    fake
}

// ----- create / update ----------------------------------------------------------------------------------

#[test]
fn put_config_creates_with_201_then_updates_with_200() {
    let fake = FakeConnect::start();
    let r = send_json(&fake, "PUT", "/connectors/sink-a/config", &json!({"connector.class": FILE_SINK, "topics": "t"}));
    assert_eq!(r.status, 201);
    assert_eq!(r.header("location"), Some(format!("{}/connectors/sink-a", fake.url())));
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    let config = json!({"connector.class": FILE_SINK, "topics": "t", "name": "sink-a"});
    assert_eq!(r.json(), json!({"name": "sink-a", "config": config, "tasks": [], "type": "sink"}));

    let r = send_json(&fake, "PUT", "/connectors/sink-a/config", &json!({"connector.class": FILE_SINK, "topics": "u"}));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("location"), None);
    let config = json!({"connector.class": FILE_SINK, "topics": "u", "name": "sink-a"});
    assert_eq!(
        r.json(),
        json!({"name": "sink-a", "config": config, "tasks": [{"connector": "sink-a", "task": 0}], "type": "sink"})
    );
    assert_eq!(get(&fake, "/connectors/sink-a/config").json(), config);
    assert_eq!(fake.config("sink-a").unwrap()["name"], "sink-a");
    assert_eq!(fake.names(), vec!["sink-a"]);
}

#[test]
fn put_config_name_mismatch_and_body_shape() {
    let fake = FakeConnect::start();
    let r = send_json(&fake, "PUT", "/connectors/a/config", &json!({"connector.class": FILE_SINK, "name": "b"}));
    r.assert_error(400, "Connector name configuration (b) doesn't match connector name in the URL (a)");
    // A JSON null name counts as absent: the path name is put in.
    let r = send_json(&fake, "PUT", "/connectors/a/config", &json!({"connector.class": FILE_SINK, "name": null}));
    assert_eq!(r.status, 201);
    assert_eq!(fake.config("a").unwrap()["name"], "a");

    let r = call(&fake, "PUT", "/connectors/a/config", Some("[]"));
    assert_eq!(r.status, 500);
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("Cannot deserialize value of type `java.util.Map<java.lang.String,java.lang.String>` from Array value (token `JsonToken.START_ARRAY`)\n at [Source: "), "{message}");
    let r = call(&fake, "PUT", "/connectors/a/config", Some(""));
    r.assert_error(500, "Cannot invoke \"java.util.Map.get(Object)\" because \"connectorConfig\" is null");
}

#[test]
fn put_config_keeps_the_target_state() {
    let fake = fake_with("a", &[("connector.class", FILE_SINK)]);
    assert_eq!(call(&fake, "PUT", "/connectors/a/pause", None).status, 202);
    let r = send_json(&fake, "PUT", "/connectors/a/config", &json!({"connector.class": FILE_SINK, "tasks.max": "2"}));
    assert_eq!(r.status, 200);
    assert_eq!(fake.connector_state("a").as_deref(), Some("PAUSED"));
    assert_eq!(fake.task_states("a"), vec!["PAUSED", "PAUSED"]);
}

#[test]
fn post_creates_in_connect_order_of_checks() {
    let fake = FakeConnect::start();
    let body = json!({"name": " src ", "config": {"connector.class": "FileStreamSource", "file": "/tmp/in"}});
    let r = send_json(&fake, "POST", "/connectors", &body);
    assert_eq!(r.status, 201);
    assert_eq!(r.header("location"), Some(format!("{}/connectors/src", fake.url())));
    let config = json!({"connector.class": "FileStreamSource", "file": "/tmp/in", "name": "src"});
    assert_eq!(r.json(), json!({"name": "src", "config": config, "tasks": [], "type": "source"}));
    assert_eq!(fake.config("src").unwrap()["connector.class"], "FileStreamSource", "alias stored as sent");

    let r =
        send_json(&fake, "POST", "/connectors", &json!({"name": "src", "config": {"connector.class": FILE_SOURCE}}));
    r.assert_error(409, "Connector src already exists");
    // Validation comes before the exists check: an invalid config for an existing name is a 400.
    let r = send_json(
        &fake,
        "POST",
        "/connectors",
        &json!({"name": "src", "config": {"connector.class": FILE_SOURCE, "tasks.max": "0"}}),
    );
    r.assert_error(400, &invalid(&["Invalid value 0 for configuration tasks.max: Value must be at least 1"]));
    // The name check compares with the trimmed body name.
    let r = send_json(
        &fake,
        "POST",
        "/connectors",
        &json!({"name": " x ", "config": {"connector.class": FILE_SOURCE, "name": " x "}}),
    );
    r.assert_error(400, "Connector name configuration ( x ) doesn't match connector name in the URL (x)");
    let r = send_json(&fake, "POST", "/connectors", &json!({"name": " ", "config": {"connector.class": FILE_SOURCE}}));
    r.assert_error(400, &invalid(&["Invalid value  for configuration name: String may not be empty"]));
    let r = send_json(
        &fake,
        "POST",
        "/connectors",
        &json!({"name": "src", "config": {"connector.class": FILE_SOURCE}, "tasks": []}),
    );
    assert_eq!(r.status, 500);
    assert!(r.json()["message"].as_str().unwrap().starts_with("Unrecognized field \"tasks\" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable"));
    let r = send_json(&fake, "POST", "/connectors", &json!({"name": "n"}));
    r.assert_error(500, "Cannot invoke \"java.util.Map.get(Object)\" because \"connectorConfig\" is null");
    assert_eq!(fake.names(), vec!["src"]);
}

#[test]
fn post_initial_state() {
    let fake = FakeConnect::start();
    for (name, initial, state, tasks) in
        [("p", "paused", "PAUSED", 1), ("s", "STOPPED", "STOPPED", 0), ("r", "RUNNING", "RUNNING", 1)]
    {
        let body = json!({"name": name, "config": {"connector.class": FILE_SINK}, "initial_state": initial});
        assert_eq!(send_json(&fake, "POST", "/connectors", &body).status, 201);
        let status = get(&fake, &format!("/connectors/{name}/status")).json();
        assert_eq!(status["connector"]["state"], state);
        assert_eq!(status["tasks"].as_array().unwrap().len(), tasks);
    }
    let body = json!({"name": "f", "config": {"connector.class": FILE_SINK}, "initial_state": "FOO"});
    let r = send_json(&fake, "POST", "/connectors", &body);
    assert_eq!(r.status, 500);
    assert!(r.json()["message"].as_str().unwrap().contains(
        "No enum constant org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest.InitialState.FOO"
    ));
}

#[test]
fn scalar_values_are_stored_as_their_text() {
    let fake = FakeConnect::start();
    let body = r#"{"connector.class": "FileStreamSink", "tasks.max": 1, "ratio": 1.50, "flag": true, "big": 1e3}"#;
    assert_eq!(call(&fake, "PUT", "/connectors/a/config", Some(body)).status, 201);
    let r = get(&fake, "/connectors/a/config");
    let expected = json!({"connector.class": "FileStreamSink", "tasks.max": "1", "ratio": "1.50", "flag": "true", "big": "1e3", "name": "a"});
    assert_eq!(r.json(), expected);
    assert!(r.body.contains(r#""ratio":"1.50""#), "{}", r.body);
}

#[test]
fn config_value_object_or_array_is_a_500() {
    let fake = FakeConnect::start();
    let r = call(&fake, "PUT", "/connectors/a/config", Some(r#"{"connector.class":"FileStreamSink","k":{"x":1}}"#));
    r.assert_error(500, "Cannot deserialize value of type `java.lang.String` from Object value (token `JsonToken.START_OBJECT`)\n at [Source: (org.glassfish.jersey.message.internal.ReaderInterceptorExecutor$UnCloseableInputStream); line: 1, column: 42] (through reference chain: java.util.LinkedHashMap[\"k\"])");
    let r = call(&fake, "POST", "/connectors", Some(r#"{"name":"a","config":{"k":[1]}}"#));
    assert_eq!(r.status, 500);
    assert!(r.json()["message"].as_str().unwrap().starts_with(
        "Cannot deserialize value of type `java.lang.String` from Array value (token `JsonToken.START_ARRAY`)"
    ));
    assert!(r.json()["message"].as_str().unwrap().ends_with("(through reference chain: org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest[\"config\"]->java.util.LinkedHashMap[\"k\"])"));
    assert!(fake.names().is_empty());
}

#[test]
fn null_value_is_a_400_validation_error() {
    let fake = FakeConnect::start();
    let r = call(&fake, "PUT", "/connectors/a/config", Some(r#"{"connector.class":"FileStreamSink","topics":null}"#));
    r.assert_error(400, &invalid(&["Null value can not be supplied as the configuration value."]));
    assert!(fake.names().is_empty());
}

#[test]
fn validation_texts() {
    let fake = FakeConnect::start();
    let r = send_json(
        &fake,
        "PUT",
        "/connectors/a/config",
        &json!({"connector.class": FILE_SINK, "tasks.max": "abc", "x": null}),
    );
    r.assert_error(
        400,
        &invalid(&[
            "Invalid value abc for configuration tasks.max: Not a number of type INT",
            "Null value can not be supplied as the configuration value.",
        ]),
    );
    let r =
        send_json(&fake, "POST", "/connectors", &json!({"name": "a\u{1}b", "config": {"connector.class": FILE_SINK}}));
    r.assert_error(400, &invalid(&["Invalid value a\u{1}b for configuration name: String may not contain control sequences but had the following ASCII chars: 1"]));

    // The pre-Aug-2026 text carries the whole config, secrets included.
    let r = send_json(&fake, "PUT", "/connectors/a/config", &json!({"connection.password": "secret"}));
    r.assert_error(400, "Connector config {connection.password=secret, name=a} contains no connector type");

    let r = send_json(&fake, "PUT", "/connectors/a/config", &json!({"connector.class": "NoSuchConnector"}));
    assert_eq!(r.status, 400);
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("Failed to find any class that implements Connector and which name matches NoSuchConnector, available connectors are: PluginDesc{klass=class com.wepay.kafka.connect.bigquery.BigQuerySinkConnector, name='com.wepay.kafka.connect.bigquery.BigQuerySinkConnector', version='"), "{message}");
    assert!(message.contains("type=sink, typeName='sink', location='classpath'}, PluginDesc{"), "{message}");

    for alias in [
        "FileStreamSink",
        "FileStreamSinkConnector",
        FILE_SINK,
        "DatagenSource",
        "Datagen",
        "BigQuerySink",
        "JdbcSourceConnector",
    ] {
        let r = send_json(&fake, "PUT", "/connectors/alias/config", &json!({"connector.class": alias}));
        assert!(r.status == 200 || r.status == 201, "{alias}: {}", r.body);
        assert_eq!(fake.config("alias").unwrap()["connector.class"], alias);
    }
    assert!(fake.names().iter().all(|n| n == "alias"));
}

#[test]
fn malformed_json_is_a_500_with_jackson_text() {
    let fake = FakeConnect::start();
    let r = call(&fake, "POST", "/connectors", Some(r#"{"name":"a","config":{"k":"v",}}"#));
    r.assert_error(500, "Unexpected character ('}' (code 125)): was expecting double-quote to start field name\n at [Source: (org.glassfish.jersey.message.internal.ReaderInterceptorExecutor$UnCloseableInputStream); line: 1, column: 32]");
    let r = call(&fake, "PUT", "/connectors/a/config", Some(r#"{"a":"b" "c":"d"}"#));
    assert_eq!(r.status, 500);
    assert!(r.json()["message"].as_str().unwrap().starts_with(
        "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries\n at [Source: "
    ));
    let r = call(&fake, "PUT", "/connectors/a/config", Some(r#"{"a":"b""#));
    assert_eq!(r.status, 500);
    assert!(r.json()["message"].as_str().unwrap().starts_with("Unexpected end-of-input"));
    assert!(fake.names().is_empty());
}

#[test]
fn non_json_content_type_is_a_415() {
    let fake = FakeConnect::start();
    let body = json!({"connector.class": FILE_SINK}).to_string();
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    let r = try_send(&fake, "PUT", "/connectors/a/config", Some(&body), &headers).unwrap();
    assert_eq!((r.status, r.json()), (415, json!({"error_code": 415, "message": "HTTP 415 Unsupported Media Type"})));
    assert_eq!(r.header("content-type"), None);
    let headers = [("Content-Type", "application/json; charset=utf-8")];
    assert_eq!(try_send(&fake, "PUT", "/connectors/a/config", Some(&body), &headers).unwrap().status, 201);
}

// ----- reads, routing and error texts -------------------------------------------------------------------

#[test]
fn not_found_texts_per_endpoint_family() {
    let fake = FakeConnect::start();
    for (method, path) in
        [("GET", "/connectors/x/config"), ("GET", "/connectors/x/offsets"), ("DELETE", "/connectors/x")]
    {
        call(&fake, method, path, None).assert_error(404, "Connector x not found");
    }
    get(&fake, "/connectors/x/status").assert_error(404, "No status found for connector x");
    for action in ["pause", "resume", "stop"] {
        call(&fake, "PUT", &format!("/connectors/x/{action}"), None).assert_error(404, "Unknown connector x");
    }
    call(&fake, "POST", "/connectors/x/restart", None).assert_error(404, "Unknown connector: x");
    call(&fake, "POST", "/connectors/x/restart?includeTasks=true", None).assert_error(404, "Unknown connector: x");
    call(&fake, "POST", "/connectors/x/tasks/0/restart", None).assert_error(404, "Unknown connector: x");
    fake.insert_connector("x", &[("connector.class", FILE_SINK)]);
    call(&fake, "POST", "/connectors/x/tasks/5/restart", None).assert_error(404, "Unknown task: x-5");
}

#[test]
fn unknown_path_and_wrong_method_have_no_content_type() {
    let fake = FakeConnect::start();
    for path in ["/nope", "/connectors/x/tasks/abc/restart", "/connectors/x/tasks-config", "/connectors//config"] {
        let method = if path.ends_with("restart") { "POST" } else { "GET" };
        let r = call(&fake, method, path, None);
        assert_eq!(
            (r.status, r.body.as_str()),
            (404, r#"{"error_code":404,"message":"HTTP 404 Not Found"}"#),
            "{path}"
        );
        assert_eq!(r.header("content-type"), None);
    }
    for (method, path) in [("DELETE", "/connectors"), ("POST", "/connectors/x/config"), ("GET", "/connectors/x/pause")]
    {
        let r = call(&fake, method, path, None);
        assert_eq!((r.status, r.body.as_str()), (405, r#"{"error_code":405,"message":"HTTP 405 Method Not Allowed"}"#));
        assert_eq!(r.header("content-type"), None);
        assert_eq!(r.header("allow"), None);
    }
}

#[test]
fn percent_decoding_and_encoded_slash() {
    let fake = fake_with("my connector", &[("connector.class", FILE_SINK)]);
    assert_eq!(get(&fake, "/connectors/my%20connector/config").json()["name"], "my connector");
    fake.insert_connector("a/b", &[("connector.class", FILE_SINK)]);
    let r = get(&fake, "/connectors/a%2Fb/config");
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type").as_deref(), Some("text/html;charset=iso-8859-1"));
    assert!(r.body.contains("<h2>HTTP ERROR 400 Ambiguous URI path separator</h2>"), "{}", r.body);
}

#[test]
fn config_and_status() {
    let fake = fake_with("a", &[("connector.class", FILE_SOURCE), ("tasks.max", "2"), ("file", "/f")]);
    let config = json!({"connector.class": FILE_SOURCE, "tasks.max": "2", "file": "/f", "name": "a"});
    assert_eq!(get(&fake, "/connectors/a/config").json(), config);
    let running = |id: u32| json!({"id": id, "state": "RUNNING", "worker_id": "127.0.0.1:8083", "version": "4.1.0"});
    let status = json!({"name": "a", "connector": {"state": "RUNNING", "worker_id": "127.0.0.1:8083", "version": "4.1.0"}, "tasks": [running(0), running(1)], "type": "source"});
    assert_eq!(get(&fake, "/connectors/a/status").json(), status);

    fake.set_task_state("a", 1, "FAILED");
    let status = get(&fake, "/connectors/a/status").json();
    assert_eq!(status["tasks"][1]["state"], "FAILED");
    assert!(status["tasks"][1]["trace"]
        .as_str()
        .unwrap()
        .starts_with("org.apache.kafka.connect.errors.ConnectException"));
    assert!(status["tasks"][0].get("trace").is_none());
    fake.set_connector_state("a", "FAILED");
    assert!(get(&fake, "/connectors/a/status").json()["connector"]["trace"].is_string());
    assert_eq!(fake.connector_state("a").as_deref(), Some("FAILED"));
}

#[test]
fn plugins() {
    let fake = FakeConnect::start();
    let plugins = get(&fake, "/connector-plugins").json();
    let classes: Vec<&str> = plugins.as_array().unwrap().iter().map(|p| p["class"].as_str().unwrap()).collect();
    assert_eq!(classes.len(), 5);
    assert!(classes.contains(&FILE_SINK) && classes.contains(&"io.confluent.connect.jdbc.JdbcSourceConnector"));
    assert_eq!(plugins[0]["type"], "sink");
}

#[test]
fn validate_endpoint() {
    let fake = FakeConnect::start();
    let path = "/connector-plugins/FileStreamSinkConnector/config/validate";
    let r = send_json(&fake, "PUT", path, &json!({"connector.class": FILE_SINK, "name": "a", "topics": "t"}));
    assert_eq!(
        (r.status, r.json()["error_count"].clone(), r.json()["name"].clone()),
        (200, json!(0), json!(FILE_SINK))
    );
    let r = send_json(&fake, "PUT", path, &json!({"connector.class": FILE_SINK}));
    assert_eq!((r.status, r.json()["error_count"].clone()), (200, json!(1)));
    let name = r.json()["configs"].as_array().unwrap().iter().find(|c| c["value"]["name"] == "name").cloned().unwrap();
    assert_eq!(name["value"]["errors"], json!(["Missing required configuration \"name\" which has no default value."]));
    let r = send_json(
        &fake,
        "PUT",
        "/connector-plugins/FileStreamSource/config/validate",
        &json!({"connector.class": FILE_SINK}),
    );
    r.assert_error(400, &format!("Included connector type {FILE_SINK} does not match request type FileStreamSource"));
    let r = send_json(&fake, "PUT", path, &json!({"name": "a"}));
    r.assert_error(500, "org.apache.kafka.connect.runtime.rest.errors.BadRequestException: Connector config {name=a} contains no connector type");
    assert!(fake.names().is_empty());
}

#[test]
fn validate_reports_the_definitions_a_plugin_was_given_hiding_passwords() {
    let fake = FakeConnect::start();
    let jdbc = "io.confluent.connect.jdbc.JdbcSourceConnector";
    fake.define(jdbc, &[("connection.url", "PASSWORD"), ("connection.user", "STRING")]);
    let path = format!("/connector-plugins/{jdbc}/config/validate");
    let config = json!({"connector.class": jdbc, "name": "a", "connection.url": "jdbc:x", "connection.user": "u"});
    let r = send_json(&fake, "PUT", &path, &config);
    assert_eq!((r.status, r.json()["error_count"].clone()), (200, json!(0)));
    let configs = r.json()["configs"].as_array().unwrap().clone();
    let of = |key: &str| configs.iter().find(|c| c["definition"]["name"] == key).cloned().unwrap();
    assert_eq!(
        (of("connection.url")["definition"]["type"].clone(), of("connection.url")["value"]["value"].clone()),
        (json!("PASSWORD"), json!("[hidden]"))
    );
    assert_eq!(
        (of("connection.user")["definition"]["type"].clone(), of("connection.user")["value"]["value"].clone()),
        (json!("STRING"), json!("u"))
    );
}

// ----- expand ------------------------------------------------------------------------------------------

#[test]
fn expand_repeated_form_comma_form_and_unknown() {
    let fake = fake_with("a", &[("connector.class", FILE_SINK)]);
    fake.insert_connector("b", &[("connector.class", FILE_SOURCE)]);
    assert_eq!(get(&fake, "/connectors").json(), json!(["a", "b"]));

    let r = get(&fake, "/connectors?expand=info&expand=status");
    let v = r.json();
    assert_eq!(v.as_object().unwrap().len(), 2);
    assert_eq!(
        v["a"]["info"],
        json!({"name": "a", "config": {"connector.class": FILE_SINK, "name": "a"}, "tasks": [{"connector": "a", "task": 0}], "type": "sink"})
    );
    assert_eq!(v["b"]["status"]["connector"]["state"], "RUNNING");
    assert_eq!(v["b"]["status"]["type"], "source");

    assert_eq!(get(&fake, "/connectors?expand=status,info").json(), json!({"a": {}, "b": {}}));
    assert_eq!(get(&fake, "/connectors?expand=bogus&expand=status").json()["a"].as_object().unwrap().len(), 1);

    fake.set_expand(false);
    assert_eq!(get(&fake, "/connectors?expand=info&expand=status").json(), json!(["a", "b"]));
}

#[test]
fn expand_omits_connectors_without_status() {
    let fake = fake_with("a", &[("connector.class", FILE_SINK)]);
    fake.set_status_missing_after_create(1);
    assert_eq!(send_json(&fake, "PUT", "/connectors/b/config", &json!({"connector.class": FILE_SINK})).status, 201);
    let v = get(&fake, "/connectors?expand=status").json();
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["a"]);
    assert_eq!(get(&fake, "/connectors?expand=info").json().as_object().unwrap().len(), 2);
    assert_eq!(get(&fake, "/connectors?expand=status").json().as_object().unwrap().len(), 2);
}

#[test]
fn status_missing_after_create() {
    let fake = FakeConnect::start();
    fake.set_status_missing_after_create(2);
    assert_eq!(send_json(&fake, "PUT", "/connectors/a/config", &json!({"connector.class": FILE_SINK})).status, 201);
    get(&fake, "/connectors/a/status").assert_error(404, "No status found for connector a");
    call(&fake, "POST", "/connectors/a/restart?includeTasks=true", None)
        .assert_error(404, "Status for connector a not found");
    assert_eq!(get(&fake, "/connectors/a/status").status, 200);
}

// ----- lifecycle -----------------------------------------------------------------------------------------

#[test]
fn delete_204_then_404() {
    let fake = fake_with("a", &[("connector.class", FILE_SINK)]);
    let r = call(&fake, "DELETE", "/connectors/a", None);
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    call(&fake, "DELETE", "/connectors/a", None).assert_error(404, "Connector a not found");
    assert!(fake.names().is_empty());
}

#[test]
fn pause_resume_stop() {
    let fake = fake_with("a", &[("connector.class", FILE_SINK), ("tasks.max", "2")]);
    let r = call(&fake, "PUT", "/connectors/a/pause", None);
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    assert_eq!(get(&fake, "/connectors/a/status").json()["connector"]["state"], "PAUSED");
    assert_eq!(fake.task_states("a"), vec!["PAUSED", "PAUSED"]);
    let r = call(&fake, "PUT", "/connectors/a/resume", None);
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    assert_eq!(fake.connector_state("a").as_deref(), Some("RUNNING"));

    let r = call(&fake, "PUT", "/connectors/a/stop", None);
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    let status = get(&fake, "/connectors/a/status").json();
    assert_eq!((status["connector"]["state"].clone(), status["tasks"].clone()), (json!("STOPPED"), json!([])));
    // resume also starts a stopped connector
    assert_eq!(call(&fake, "PUT", "/connectors/a/resume", None).status, 202);
    assert_eq!(fake.task_states("a"), vec!["RUNNING", "RUNNING"]);
}

#[test]
fn offsets_need_a_stopped_connector() {
    let fake = fake_with("a", &[("connector.class", FILE_SINK)]);
    assert_eq!(get(&fake, "/connectors/a/offsets").json(), json!({"offsets": []}));
    let body =
        json!({"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"kafka_offset": 5}}]});
    let r = send_json(&fake, "PATCH", "/connectors/a/offsets", &body);
    r.assert_error(400, "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/a/stop' endpoint");
    send_json(&fake, "PATCH", "/connectors/a/offsets", &json!({"offsets": []}))
        .assert_error(400, "Partitions / offsets need to be provided for an alter offsets request");
    call(&fake, "PUT", "/connectors/a/stop", None);
    let r = send_json(&fake, "PATCH", "/connectors/a/offsets", &body);
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"message": "The offsets for this connector have been altered successfully"}))
    );
    let r = call(&fake, "DELETE", "/connectors/a/offsets", None);
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"message": "The offsets for this connector have been reset successfully"}))
    );
}

#[test]
fn restart_forms() {
    let fake = fake_with("a", &[("connector.class", FILE_SINK), ("tasks.max", "2")]);
    fake.set_connector_state("a", "FAILED");
    let r = call(&fake, "POST", "/connectors/a/restart", None);
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_eq!(fake.connector_state("a").as_deref(), Some("RUNNING"));

    fake.set_task_state("a", 1, "FAILED");
    let r = call(&fake, "POST", "/connectors/a/restart?includeTasks=true&onlyFailed=true", None);
    assert_eq!(r.status, 202);
    let plan = r.json();
    assert_eq!(plan["connector"]["state"], "RUNNING", "only failed instances restart");
    assert_eq!(plan["tasks"][0]["state"], "RUNNING");
    assert_eq!(plan["tasks"][1]["state"], "RESTARTING");
    assert_eq!(get(&fake, "/connectors/a/status").json()["tasks"][1]["state"], "RUNNING");

    let plan = call(&fake, "POST", "/connectors/a/restart?includeTasks=TRUE", None).json();
    assert_eq!(plan["connector"]["state"], "RESTARTING");
    assert_eq!(
        plan["tasks"],
        json!([
            {"id": 0, "state": "RESTARTING", "worker_id": "127.0.0.1:8083", "version": "4.1.0"},
            {"id": 1, "state": "RESTARTING", "worker_id": "127.0.0.1:8083", "version": "4.1.0"}
        ])
    );
    assert_eq!(fake.task_states("a"), vec!["RESTARTING", "RESTARTING"]);
    assert_eq!(get(&fake, "/connectors/a/status").json()["connector"]["state"], "RUNNING");

    // onlyFailed alone restarts nothing that is healthy and is not the plain (204) form.
    let plan = call(&fake, "POST", "/connectors/a/restart?onlyFailed=true", None);
    assert_eq!((plan.status, plan.json()["connector"]["state"].clone()), (202, json!("RUNNING")));
    // anything but "true" is false: the plain form
    assert_eq!(call(&fake, "POST", "/connectors/a/restart?includeTasks=yes", None).status, 204);

    fake.set_task_state("a", 0, "FAILED");
    let r = call(&fake, "POST", "/connectors/a/tasks/0/restart", None);
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_eq!(fake.task_states("a"), vec!["RUNNING", "RUNNING"]);
}

// ----- behaviour switches ------------------------------------------------------------------------------

#[test]
fn fault_texts() {
    let fake = FakeConnect::start();
    let cases = [
        (Fault::StaleConfig409, 409, "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"),
        (Fault::NoLeader409, 409, "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."),
        (Fault::Conflicting409, 409, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"),
        (Fault::RebalanceExpected500, 500, "Request cannot be completed because a rebalance is expected"),
        (Fault::Status(418, "teapot".into()), 418, "teapot"),
    ];
    for (fault, status, message) in cases {
        fake.inject(Match::any(), fault, 1);
        get(&fake, "/connectors").assert_error(status, message);
    }
    assert_eq!(get(&fake, "/connectors").status, 200);

    fake.inject(Match::any(), Fault::TooMany429 { retry_after_secs: 7 }, 1);
    let r = get(&fake, "/connectors");
    assert_eq!((r.status, r.header("retry-after")), (429, Some("7".into())));
    assert_eq!(r.json(), json!({"error": {"code": 429, "message": "Too Many Requests"}}));

    fake.inject(Match::any(), Fault::Unavailable(503), 1);
    let r = get(&fake, "/connectors");
    assert_eq!((r.status, r.header("content-type")), (503, Some("text/html".into())));
    assert!(r.body.contains("<title>503 Service Unavailable</title>"), "{}", r.body);
}

#[test]
fn fault_matching_and_times() {
    let fake = fake_with("a", &[("connector.class", FILE_SINK)]);
    fake.inject(Match::path("PUT", "/connectors/a/config"), Fault::StaleConfig409, 2);
    assert_eq!(get(&fake, "/connectors/a/config").status, 200, "GET is not matched");
    assert_eq!(call(&fake, "PUT", "/connectors/b/pause", None).status, 404, "other path is not matched");
    let put = || send_json(&fake, "PUT", "/connectors/a/config", &json!({"connector.class": FILE_SINK, "v": "2"}));
    assert_eq!(put().status, 409);
    assert_eq!(put().status, 409);
    assert_eq!(fake.config("a").unwrap().get("v"), None, "a faulted write is not applied");
    assert_eq!(put().status, 200);
    assert_eq!(fake.config("a").unwrap()["v"], "2");

    fake.inject(Match::method("DELETE"), Fault::Conflicting409, 1);
    assert_eq!(get(&fake, "/connectors").status, 200);
    assert_eq!(call(&fake, "DELETE", "/connectors/a", None).status, 409);
    assert_eq!(call(&fake, "DELETE", "/connectors/a", None).status, 204);
}

#[test]
fn timed_out_write_may_still_be_applied() {
    let fake = FakeConnect::start();
    let timed_out = "Request timed out. The worker is currently ";
    fake.inject(Match::method("PUT"), Fault::TimedOut500 { apply: false }, 1);
    let r = send_json(&fake, "PUT", "/connectors/a/config", &json!({"connector.class": FILE_SINK}));
    assert_eq!(r.status, 500);
    assert!(r.json()["message"].as_str().unwrap().starts_with(timed_out));
    assert!(fake.names().is_empty());

    fake.inject(Match::method("PUT"), Fault::TimedOut500 { apply: true }, 1);
    let r = send_json(&fake, "PUT", "/connectors/a/config", &json!({"connector.class": FILE_SINK}));
    assert_eq!(r.status, 500);
    assert!(r.json()["message"].as_str().unwrap().starts_with(timed_out));
    assert_eq!(fake.names(), vec!["a"]);
}

#[test]
fn dropped_connection_is_a_transport_error() {
    let fake = FakeConnect::start();
    fake.inject(Match::any(), Fault::Drop, 1);
    let started = Instant::now();
    let r = try_send(&fake, "GET", "/connectors", None, &[]);
    assert!(r.is_err(), "expected a transport error, got status {:?}", r.map(|r| r.status).ok());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(get(&fake, "/connectors").status, 200);
    assert_eq!(fake.request_count(), 2);
}

#[test]
fn latency_delays_every_answer() {
    let fake = FakeConnect::start();
    fake.set_latency(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(get(&fake, "/connectors").status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    fake.set_latency(Duration::ZERO);
    let started = Instant::now();
    assert_eq!(get(&fake, "/connectors").status, 200);
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[test]
fn concurrent_requests_are_served_in_parallel() {
    let fake = FakeConnect::start();
    fake.set_latency(Duration::from_millis(300));
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| assert_eq!(get(&fake, "/connectors").status, 200));
        }
    });
    assert!(started.elapsed() < Duration::from_millis(1200), "{:?}", started.elapsed());
}

#[test]
fn basic_auth() {
    let fake = FakeConnect::start();
    fake.require_basic_auth("admin", "s3cret");
    let r = get(&fake, "/connectors");
    assert_eq!((r.status, r.body.as_str()), (401, "User cannot access the resource."));
    let wrong = [("Authorization", "Basic YWRtaW46d3Jvbmc=")]; // admin:wrong
    assert_eq!(try_send(&fake, "GET", "/connectors", None, &wrong).unwrap().status, 401);
    let right = [("Authorization", "Basic YWRtaW46czNjcmV0")]; // admin:s3cret
    assert_eq!(try_send(&fake, "GET", "/connectors", None, &right).unwrap().status, 200);
    // Jersey 404s before the (post-matching) auth filter runs.
    assert_eq!(get(&fake, "/nope").status, 404);
}

#[test]
fn bearer_auth() {
    let fake = FakeConnect::start();
    fake.require_bearer("tok");
    let r = try_send(&fake, "GET", "/connectors", None, &[("Authorization", "Bearer nope")]).unwrap();
    r.assert_error(401, "Unauthorized");
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
    let r = try_send(&fake, "GET", "/connectors", None, &[("Authorization", "Bearer tok")]).unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn request_recording() {
    let fake = FakeConnect::start();
    fake.insert_connector("a", &[("connector.class", FILE_SINK)]);
    let _ = fake.config("a");
    assert_eq!(fake.request_count(), 0, "seeding and inspection are not requests");
    get(&fake, "/connectors?expand=status");
    try_send(&fake, "PUT", "/connectors/a/pause", None, &[("Authorization", "Bearer t")]).unwrap();
    call(&fake, "PUT", "/connectors/b/config", Some(r#"{"connector.class":"FileStreamSink"}"#));
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("GET", "/connectors?expand=status"));
    assert_eq!(requests[1].authorization.as_deref(), Some("Bearer t"));
    assert_eq!(requests[2].body, r#"{"connector.class":"FileStreamSink"}"#);
    let writes: Vec<String> = fake.writes().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(writes, vec!["PUT /connectors/a/pause", "PUT /connectors/b/config"]);
    fake.clear_requests();
    assert_eq!(fake.request_count(), 0);
}

#[test]
fn seeding_helpers() {
    let fake = FakeConnect::start();
    fake.insert_connector("b", &[("connector.class", FILE_SINK), ("tasks.max", "3")]);
    fake.insert_connector("a", &[("connector.class", "com.example.MySinkConnector")]);
    assert_eq!(fake.names(), vec!["a", "b"]);
    assert_eq!(fake.task_states("b"), vec!["RUNNING"; 3]);
    assert_eq!(get(&fake, "/connectors/a/status").json()["type"], "sink", "type from the class name");
    fake.set_connector_state("b", "STOPPED");
    assert!(fake.task_states("b").is_empty());
    assert_eq!(fake.connector_state("missing"), None);
}

#[test]
fn confluent_vendor_mode_masks_returned_secrets_and_adds_server_keys() {
    let fake = fake_with(
        "db",
        &[("connector.class", "FileStreamSource"), ("connection.password", "s3cret"), ("kafka.api.key", "K")],
    );
    fake.set_masking(Some("••••••••"));
    fake.set_added_keys(&[("__internal.config.version", "2")]);
    let shown = get(&fake, "/connectors/db/config").json();
    assert_eq!(shown["connection.password"], "••••••••");
    assert_eq!(shown["kafka.api.key"], "••••••••");
    assert_eq!(shown["connector.class"], "FileStreamSource");
    assert_eq!(shown["__internal.config.version"], "2");
    let expanded = get(&fake, "/connectors?expand=info").json();
    assert_eq!(expanded["db"]["info"]["config"]["connection.password"], "••••••••");
    // What is stored is untouched.
    assert_eq!(fake.config("db").unwrap()["connection.password"], "s3cret");
}

/// What Kafka Connect 4.1.2 answered while a worker started, polled with
/// curl: Jetty's own JSON error for GET (no `error_code`), nothing for PUT.
#[test]
fn a_starting_worker_answers_404_without_connects_error() {
    let fake = fake_with("a", &[("connector.class", FILE_SINK)]);
    fake.inject(Match::any(), Fault::Starting, 2);
    let r = get(&fake, "/connectors/a/config");
    assert_eq!((r.status, r.header("content-type").as_deref()), (404, Some("application/json")));
    assert_eq!(r.json()["message"], "Not Found");
    assert!(r.json().get("error_code").is_none(), "{}", r.body);
    let r = send_json(&fake, "PUT", "/connectors/a/config", &json!({"connector.class": FILE_SINK}));
    assert_eq!((r.status, r.body.as_str()), (404, ""));
    assert_eq!(get(&fake, "/connectors/a/config").status, 200, "then the resources answer");
}
