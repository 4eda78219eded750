//! `http:request` against a real HTTP server on loopback: a JSON call with its response as
//! output (header values never logged), hosts off the allow-list refused, a failing status, a
//! response over the size bound, a redirect answered rather than followed, a non-HTTP URL.

use catalog::settings::AllowedHost;
use scaffolder::ScaffolderError;
use scaffolder::actions::{ActionContext, Services, find, run};
use scaffolder::log::Log;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves requests on a free port: `/echo` answers JSON describing the request, `/fail` a 500,
/// `/big` 2 MiB of text, `/redirect` a 302 to another host.
async fn server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = conn.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                        })
                        .unwrap_or_default()
                };
                let length: usize = header("content-length").parse().unwrap_or(0);
                while buf.len() < head_end + length {
                    let n = conn.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
                let mut first = head.split_whitespace();
                let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
                let (status, kind, extra, text) = match path {
                    "/echo" => {
                        let echo = json!({"method": method, "path": path,
                            "auth": header("authorization"),
                            "body": serde_json::from_str::<Value>(&body).unwrap_or(Value::Null)});
                        ("200 OK", "application/json", "", echo.to_string())
                    }
                    "/fail" => ("500 Internal Server Error", "text/plain", "", "boom".into()),
                    "/big" => ("200 OK", "text/plain", "", "x".repeat(2 * 1024 * 1024)),
                    "/redirect" => (
                        "302 Found",
                        "text/plain",
                        "location: http://elsewhere.example/\r\n",
                        String::new(),
                    ),
                    _ => ("404 Not Found", "text/plain", "", String::new()),
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = conn.write_all(reply.as_bytes()).await;
            });
        }
    });
    base
}

/// Runs `http:request` with `input`, allowing only 127.0.0.1; returns its outcome, its outputs
/// and its log.
async fn call(input: Value) -> (Result<(), ScaffolderError>, Map<String, Value>, String) {
    // http:request touches no file: an empty workspace in memory will do.
    let workspace = scaffolder::files::Files::memory("/workspace");
    let services = Services {
        http_allow: vec![AllowedHost {
            host: "127.0.0.1".into(),
            port: None,
        }],
        ..Default::default()
    };
    let mut log = Log::new(&json!({}), None);
    let mut ctx = ActionContext {
        engine: scaffolder::engine(),
        workspace: &workspace,
        template_dir: None,
        dry_run: false,
        services: &services,
        log: &mut log,
        step_id: "call",
        output: Map::new(),
        template_ref: "template:default/t",
        template_version: None,
    };
    let spec = find("http:request").expect("http:request is a built-in action");
    let result = run(spec, &mut ctx, &input).await;
    let output = std::mem::take(&mut ctx.output);
    let text = serde_json::to_string(&log.events).unwrap();
    (result, output, text)
}

#[tokio::test]
async fn a_json_call_returns_its_response_and_never_logs_header_values() {
    let base = server().await;
    let (result, out, log) = call(json!({
        "method": "POST",
        "url": format!("{base}/echo"),
        "headers": {"Authorization": "Bearer s3cret-token"},
        "body": {"name": "payments", "replicas": 2}
    }))
    .await;
    result.unwrap();
    assert_eq!(out["code"], 200);
    assert_eq!(out["headers"]["content-type"], "application/json");
    assert_eq!(out["body"]["method"], "POST");
    assert_eq!(out["body"]["auth"], "Bearer s3cret-token");
    assert_eq!(
        out["body"]["body"],
        json!({"name": "payments", "replicas": 2})
    );
    assert!(log.contains("answered 200"), "{log}");
    assert!(!log.contains("s3cret"), "a header value was logged: {log}");
}

#[tokio::test]
async fn hosts_off_the_allow_list_and_other_schemes_are_refused() {
    let base = server().await;
    // The same server by another name is another host.
    let other = base.replace("127.0.0.1", "localhost");
    let (result, out, _) = call(json!({"method": "GET", "url": format!("{other}/echo")})).await;
    assert!(
        matches!(&result, Err(ScaffolderError::NotAllowed(m)) if m.contains("localhost")),
        "{result:?}"
    );
    assert!(out.is_empty());
    let (result, _, _) = call(json!({"method": "GET", "url": "file:///etc/passwd"})).await;
    assert!(
        matches!(&result, Err(ScaffolderError::Input(m)) if m.contains("only http and https")),
        "{result:?}"
    );
    // A method outside the schema is an input error before anything is sent.
    let (result, _, _) = call(json!({"method": "TRACE", "url": format!("{base}/echo")})).await;
    assert!(
        matches!(result, Err(ScaffolderError::Input(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn failures_sizes_and_redirects_are_bounded() {
    let base = server().await;
    let (result, _, log) = call(json!({"method": "GET", "url": format!("{base}/fail")})).await;
    assert!(
        matches!(&result, Err(ScaffolderError::Input(m)) if m.contains("answered 500")),
        "{result:?}"
    );
    assert!(log.contains("answered 500"), "{log}");
    let (result, _, _) = call(json!({"method": "GET", "url": format!("{base}/big")})).await;
    assert!(
        matches!(&result, Err(ScaffolderError::Input(m)) if m.contains("larger than 1024 KiB")),
        "{result:?}"
    );
    // A redirect (here to a host off the list) is the answer, never followed.
    let (result, out, _) = call(json!({"method": "GET", "url": format!("{base}/redirect")})).await;
    result.unwrap();
    assert_eq!(out["code"], 302);
    assert_eq!(out["headers"]["location"], "http://elsewhere.example/");
}
