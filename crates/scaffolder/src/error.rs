//! The scaffolder's errors, each named as Backstage names it so the API edge can answer with
//! Backstage's envelope and status code.

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ScaffolderError {
    /// Bad request or bad action input: 400 `InputError`.
    #[error("{0}")]
    Input(String),
    /// Values that fail the parameter schema: 400 with `{errors: [...]}`.
    #[error("values do not match the template's parameters")]
    Values(Vec<Value>),
    /// A path outside the workspace or the template's directory: 403 `NotAllowedError`.
    #[error("{0}")]
    NotAllowed(String),
    /// An unknown action, template or task: 404 `NotFoundError`.
    #[error("{0}")]
    NotFound(String),
    /// A template that fails to parse or render: 500 `TemplateRenderError`.
    #[error("{0}")]
    Render(String),
    /// A task in a state the request cannot apply to: 409 `ConflictError`.
    #[error("{0}")]
    Conflict(String),
    /// Anything else (IO, the database): 500 `Error`.
    #[error("{0}")]
    Internal(String),
}

impl ScaffolderError {
    /// Backstage's error name.
    pub fn name(&self) -> &'static str {
        match self {
            ScaffolderError::Input(_) | ScaffolderError::Values(_) => "InputError",
            ScaffolderError::NotAllowed(_) => "NotAllowedError",
            ScaffolderError::NotFound(_) => "NotFoundError",
            ScaffolderError::Render(_) => "TemplateRenderError",
            ScaffolderError::Conflict(_) => "ConflictError",
            ScaffolderError::Internal(_) => "Error",
        }
    }

    /// The HTTP status Backstage answers with.
    pub fn status(&self) -> u16 {
        match self {
            ScaffolderError::Input(_) | ScaffolderError::Values(_) => 400,
            ScaffolderError::NotAllowed(_) => 403,
            ScaffolderError::NotFound(_) => 404,
            ScaffolderError::Conflict(_) => 409,
            ScaffolderError::Render(_) | ScaffolderError::Internal(_) => 500,
        }
    }
}

impl From<std::io::Error> for ScaffolderError {
    fn from(e: std::io::Error) -> Self {
        ScaffolderError::Internal(e.to_string())
    }
}

impl From<crate::expr::RenderError> for ScaffolderError {
    fn from(e: crate::expr::RenderError) -> Self {
        ScaffolderError::Render(e.0)
    }
}

impl From<store::StoreError> for ScaffolderError {
    fn from(e: store::StoreError) -> Self {
        ScaffolderError::Internal(e.to_string())
    }
}
