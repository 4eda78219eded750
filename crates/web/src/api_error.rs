//! API errors in Backstage's envelope: `{error: {name, message}, request: {method, url}, response: {statusCode}}`.
//!
//! Handlers return an [`ApiError`]; the [`echo_request`] middleware fills in the request part, so
//! no handler has to carry its method and URL around just for errors.

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
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

    fn envelope(&self, method: &str, url: &str) -> Value {
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
/// mounted, as Backstage reports it) into every error envelope.
pub async fn echo_request(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let url = request.uri().to_string();
    let mut response = next.run(request).await;
    match response.extensions_mut().remove::<ApiError>() {
        Some(e) => (e.status, Json(e.envelope(&method, &url))).into_response(),
        None => response,
    }
}
