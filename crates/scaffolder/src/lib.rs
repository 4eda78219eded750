//! Software templates: Backstage `scaffolder.backstage.io/v1beta3` Template entities (read
//! through `catalog::read`), their expressions (`expr`, on minijinja), parameter validation
//! (`validate`) and conditional parameters (`conditions`), the built-in actions (`actions`), the
//! step runner (`runner`), dry-runs (`dryrun`) and background tasks stored in the database
//! (`tasks`). No HTTP and no HTML here.

pub mod actions;
pub mod conditions;
pub mod dryrun;
pub mod error;
pub mod expr;
pub mod files;
mod filters;
mod js;
pub mod log;
mod nunjucks;
pub mod publishing;
pub mod runner;
pub mod tasks;
pub mod template;
pub mod validate;
pub mod workspace;

pub use error::ScaffolderError;
pub use tasks::{Scaffolder, Settings};
pub use template::Template;

/// The template an entity was created from (Backstage's own annotation).
pub const ANNOTATION_SOURCE_TEMPLATE: &str = "backstage.io/source-template";
/// Stagedoor's: the version of the template an entity was created from (the template's own
/// `stagedoor.dev/template-version` annotation, else its etag), so lagging components can be found.
pub const ANNOTATION_TEMPLATE_VERSION: &str = "stagedoor.dev/template-version";

/// The one engine every render uses (its environments are built once).
pub fn engine() -> &'static expr::Engine {
    static ENGINE: std::sync::OnceLock<expr::Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(expr::Engine::new)
}
