//! `http:request`: one HTTP call to another platform's API (accounts, networks, pipelines), with
//! a JSON body and the response as the step's output — only to hosts the configuration allows
//! (`scaffolder.httpRequest.allow`), so a template cannot reach into the network at large.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{ActionContext, ActionSpec, str_input};
use crate::error::ScaffolderError;

/// The most of a response kept as output; a larger one fails the step.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The default and the longest time one request may take.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_TIMEOUT_SECS: f64 = 120.0;

pub const REQUEST: ActionSpec = ActionSpec {
    id: "http:request",
    description: "Sends one HTTP request to an allowed host (scaffolder.httpRequest.allow) and \
                  returns its status, headers and body. Fails on a status of 400 or more.",
    input: || {
        json!({"type": "object", "required": ["method", "url"], "properties": {
            "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"],
                "description": "The HTTP method."},
            "url": {"type": "string", "description": "An absolute http or https URL on an allowed host."},
            "headers": {"type": "object", "additionalProperties": {"type": "string"},
                "description": "Request headers (their values are never logged)."},
            "body": {"description": "Sent as JSON."},
            "timeoutSeconds": {"type": "number", "minimum": 0, "maximum": MAX_TIMEOUT_SECS,
                "description": "How long the request may take (default 30)."}
        }, "additionalProperties": false})
    },
    output: Some(|| {
        json!({"type": "object", "properties": {
            "code": {"type": "number", "description": "The response status."},
            "headers": {"type": "object", "description": "The response headers (lower-case names)."},
            "body": {"description": "The response body: parsed when it is JSON, else text."}
        }})
    }),
    // Calling another platform is a side effect: a dry-run skips it, as Backstage does.
    dry_run: false,
};

pub async fn request(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let method = str_input(input, "method").unwrap_or("GET");
    let url_text = str_input(input, "url").unwrap_or_default();
    let url = reqwest::Url::parse(url_text).map_err(|e| {
        ScaffolderError::Input(format!("http:request: invalid url {url_text:?}: {e}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ScaffolderError::Input(format!(
            "http:request: only http and https URLs are allowed, not {:?}",
            url.scheme()
        )));
    }
    let host = url.host_str().unwrap_or_default();
    if !ctx
        .services
        .http_allow
        .iter()
        .any(|a| a.matches(host, url.port_or_known_default()))
    {
        return Err(ScaffolderError::NotAllowed(format!(
            "http:request: {host} is not in scaffolder.httpRequest.allow"
        )));
    }
    let timeout = input
        .get("timeoutSeconds")
        .and_then(Value::as_f64)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64);
    // No redirects: one to a host off the list would escape it, so a 3xx is the answer.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| ScaffolderError::Internal(format!("http:request: {e}")))?;
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| ScaffolderError::Input(format!("http:request: invalid method {method:?}")))?;
    let mut req = client.request(method.clone(), url.clone());
    if let Some(headers) = input.get("headers").and_then(Value::as_object) {
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str().unwrap_or_default());
        }
    }
    if let Some(body) = input.get("body") {
        req = req.json(body);
    }
    let shown = format!("{method} {}", ctx.log.redact(url.as_str()));
    ctx.info(&format!("Sending {shown}"));
    let mut resp = req
        .send()
        .await
        .map_err(|e| ScaffolderError::Internal(format!("http:request: {shown} failed: {e}")))?;
    let code = resp.status().as_u16();
    let mut headers = Map::new();
    for (name, value) in resp.headers() {
        if let Ok(v) = value.to_str() {
            headers.insert(name.as_str().to_owned(), json!(v));
        }
    }
    let is_json = headers
        .get("content-type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.contains("json"));
    // Read in chunks so a huge or endless body fails at the bound, not after filling memory.
    let mut bytes = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ScaffolderError::Internal(format!("http:request: {shown}: {e}")))?
    {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ScaffolderError::Input(format!(
                "http:request: the response of {shown} is larger than {} KiB",
                MAX_RESPONSE_BYTES / 1024
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = if is_json {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    } else {
        Value::String(text)
    };
    ctx.info(&format!("{shown} answered {code}"));
    if code >= 400 {
        return Err(ScaffolderError::Input(format!(
            "http:request: {shown} answered {code}"
        )));
    }
    ctx.set_output("code", json!(code));
    ctx.set_output("headers", Value::Object(headers));
    ctx.set_output("body", body);
    Ok(())
}
