//! API errors in Backstage's envelope: `{error: {name, message}, request: {method, url}, response: {statusCode}}`.

use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use catalog::CatalogError;
use serde_json::json;

/// An error the catalog API answers with; `name` is Backstage's error class name.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub name: &'static str,
    pub message: String,
    /// Boxed: errors travel through every handler's `Result`, so they are kept small.
    pub request: Option<Box<(Method, Uri)>>,
}

impl ApiError {
    pub fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            name,
            message: message.into(),
            request: None,
        }
    }
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InputError", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFoundError", message)
    }
    /// Attaches the request so the envelope can echo it.
    pub fn on(mut self, method: &Method, uri: &Uri) -> Self {
        self.request = Some(Box::new((method.clone(), uri.clone())));
        self
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
        let (method, url) = self
            .request
            .map(|r| (r.0.to_string(), r.1.to_string()))
            .unwrap_or_default();
        let body = json!({
            "error": {"name": self.name, "message": self.message},
            "request": {"method": method, "url": url},
            "response": {"statusCode": self.status.as_u16()},
        });
        (self.status, axum::Json(body)).into_response()
    }
}
