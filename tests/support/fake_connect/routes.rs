//! Routing as Jersey does it: path and method to an operation, 404/405/415 without a body.
use super::*;

/// What Jersey resolved from the path; the connector (or plugin) name and task id travel in `Call`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op {
    Plugins,
    Validate,
    List,
    Create,
    Delete,
    GetConfig,
    PutConfig,
    Status,
    TaskRestart,
    Pause,
    Resume,
    Stop,
    Restart,
    Offsets,
    AlterOffsets,
    ResetOffsets,
}

pub(crate) struct Call<'a> {
    pub(crate) name: String,
    /// Task id on task routes (`resolve` has checked that it is an Integer).
    pub(crate) task: i32,
    pub(crate) query: &'a str,
    pub(crate) body: &'a str,
    pub(crate) host: &'a str,
}

impl Call<'_> {
    /// Location of a created connector: absolute against the request's base URI, name percent-encoded.
    pub(crate) fn location(&self, name: &str) -> String {
        const PATH: &AsciiSet = &CONTROLS
            .add(b' ')
            .add(b'"')
            .add(b'#')
            .add(b'%')
            .add(b'<')
            .add(b'>')
            .add(b'?')
            .add(b'`')
            .add(b'{')
            .add(b'}');
        format!("http://{}/connectors/{}", self.host, utf8_percent_encode(name, PATH))
    }
}

pub(crate) fn handle(state: &Mutex<State>, rq: &Request, content_type: Option<&str>, host: &str) -> Reply {
    let (path, query) = rq.path.split_once('?').unwrap_or((rq.path.as_str(), ""));
    if path.to_ascii_lowercase().contains("%2f") {
        return jetty_ambiguous_separator();
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    let segs: Vec<String> = match path {
        "" => vec![],
        _ => path.split('/').map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned()).collect(),
    };
    let op = match resolve(&rq.method, &segs) {
        Ok(op) => op,
        Err(reply) => return reply,
    };
    // @Consumes(APPLICATION_JSON) is part of Jersey's method selection: checked before any filter.
    let json_body = content_type.is_none_or(|ct| ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(JSON));
    if !json_body {
        return Reply::unmatched(415);
    }
    let mut st = lock(state);
    if let Some(reply) = st.check_auth(rq.authorization.as_deref()) {
        return reply;
    }
    let task = segs.get(3).and_then(|t| t.parse::<i32>().ok()).unwrap_or_default();
    let call = Call { name: segs.get(1).cloned().unwrap_or_default(), task, query, body: &rq.body, host };
    st.execute(op, &call).unwrap_or_else(|e| e)
}

pub(crate) fn resolve(method: &str, segs: &[String]) -> Result<Op, Reply> {
    use Op::*;
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    if s.iter().any(|seg| seg.is_empty()) {
        return Err(Reply::unmatched(404)); // a {param} never matches an empty segment
    }
    let ops: &[(&str, Op)] = match s.as_slice() {
        ["connector-plugins"] => &[("GET", Plugins)],
        ["connector-plugins", _, "config", "validate"] => &[("PUT", Validate)],
        ["connectors"] => &[("GET", List), ("POST", Create)],
        ["connectors", _] => &[("DELETE", Delete)],
        ["connectors", _, "config"] => &[("GET", GetConfig), ("PUT", PutConfig)],
        ["connectors", _, "status"] => &[("GET", Status)],
        ["connectors", _, "tasks", _, "restart"] => &[("POST", TaskRestart)],
        ["connectors", _, "pause"] => &[("PUT", Pause)],
        ["connectors", _, "resume"] => &[("PUT", Resume)],
        ["connectors", _, "stop"] => &[("PUT", Stop)],
        ["connectors", _, "restart"] => &[("POST", Restart)],
        ["connectors", _, "offsets"] => &[("GET", Offsets), ("PATCH", AlterOffsets), ("DELETE", ResetOffsets)],
        _ => return Err(Reply::unmatched(404)),
    };
    let method = if method == "HEAD" { "GET" } else { method }; // Jersey serves HEAD from GET methods
    let op = ops.iter().find(|(m, _)| *m == method).map(|(_, op)| *op).ok_or_else(|| Reply::unmatched(405))?;
    let bad_task = matches!(op, TaskRestart) && s[3].parse::<i32>().is_err();
    if bad_task {
        return Err(Reply::unmatched(404)); // Integer conversion of the path parameter failed
    }
    Ok(op)
}

/// Jetty 12 (Kafka 4.x) rejects `%2F` in a path before Connect sees it (section 1.6).
pub(crate) fn jetty_ambiguous_separator() -> Reply {
    let page = "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=ISO-8859-1\"/>\n<title>Error 400 Ambiguous URI path separator</title>\n</head>\n<body>\n<h2>HTTP ERROR 400 Ambiguous URI path separator</h2>\n<table>\n<tr><th>URI:</th><td>/badURI</td></tr>\n<tr><th>STATUS:</th><td>400</td></tr>\n<tr><th>MESSAGE:</th><td>Ambiguous URI path separator</td></tr>\n</table>\n\n</body>\n</html>\n";
    Reply::new(400, Some("text/html;charset=iso-8859-1"), page)
}

// ---------------------------------------------------------------------------------------------------------
