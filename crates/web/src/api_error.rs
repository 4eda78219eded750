//! API errors in Backstage's envelope: `{error: {name, message}, request: {method, url}, response: {statusCode}}`.
//!
//! Handlers return an [`ApiError`]; the [`echo_request`] middleware fills in the request part, so
//! no handler has to carry its method and URL around just for errors.

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use catalog::CatalogError;
use serde_json::{Value, json};

/// An error the catalog API answers with; `name` is Backstage's error class name.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub name: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            name,
            message: message.into(),
        }
    }
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InputError", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFoundError", message)
    }

    pub(crate) fn envelope(&self, method: &str, url: &str) -> Value {
        json!({
            "error": {"name": self.name, "message": self.message},
            "request": {"method": method, "url": url},
            "response": {"statusCode": self.status.as_u16()},
        })
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::NotFound(m) => Self::not_found(m),
            CatalogError::Conflict(m) => Self::new(StatusCode::CONFLICT, "ConflictError", m),
            CatalogError::Input(m) => Self::input(m),
            CatalogError::Store(e) => {
                tracing::error!(error = %e, "store error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    "internal storage error",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.envelope("", ""))).into_response();
        // Kept for `echo_request`, which knows the request this answers.
        response.extensions_mut().insert(self);
        response
    }
}

/// Middleware that writes the request's method and URL (relative to where the router is
/// mounted, as Backstage reports it) into every error envelope, refuses JSON-less bodies, and
/// wraps errors answered by the framework itself (405, 413, ...) in the same envelope.
pub async fn echo_request(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let url = request.uri().to_string();
    if let Some(e) = unsupported_body(&request) {
        return (e.status, Json(e.envelope(&method, &url))).into_response();
    }
    let mut response = next.run(request).await;
    if let Some(e) = response.extensions_mut().remove::<ApiError>() {
        let mut out = (e.status, Json(e.envelope(&method, &url))).into_response();
        // A 429 says when to come back; the envelope must not lose that.
        if let Some(v) = response.headers().get(header::RETRY_AFTER) {
            out.headers_mut().insert(header::RETRY_AFTER, v.clone());
        }
        return out;
    }
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let e = ApiError::for_status(status);
        return (e.status, Json(e.envelope(&method, &url))).into_response();
    }
    response
}

/// A body that is not declared `application/json` (parameters such as `charset` allowed). A
/// browser sends `text/plain`, form and multipart bodies cross-site without a CORS preflight, so
/// accepting them would let any web page write to the catalog.
fn unsupported_body(request: &Request) -> Option<ApiError> {
    let h = request.headers();
    let has_body = h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    if !has_body {
        return None;
    }
    let essence = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match essence.as_deref() {
        Some("application/json") => None,
        // Backstage's body parser refuses other types with this 400 (browsers send text/plain
        // and forms cross-site without a CORS preflight, so such bodies must never be read).
        other => Some(ApiError::input(format!(
            "unsupported media type {}",
            other.unwrap_or("undefined")
        ))),
    }
}

impl ApiError {
    /// The error for a status the framework answered with an empty or plain-text body.
    pub fn for_status(status: StatusCode) -> Self {
        let name = match status {
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => "NotFoundError",
            StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLargeError",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaTypeError",
            s if s.is_client_error() => "InputError",
            _ => "Error",
        };
        Self::new(
            status,
            name,
            status.canonical_reason().unwrap_or("request failed"),
        )
    }
}

/// Unknown paths outside the API and pages: Backstage's envelope rather than an empty 404.
pub async fn unknown_route(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let e = ApiError::not_found(format!("No such endpoint: {method} {}", uri.path()));
    (
        e.status,
        Json(e.envelope(method.as_str(), &uri.to_string())),
    )
        .into_response()
}

/// `X-Content-Type-Options: nosniff` on every response, so no browser renders JSON (with
/// catalog-controlled strings in it) as HTML.
pub async fn nosniff(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    );
    response
}
