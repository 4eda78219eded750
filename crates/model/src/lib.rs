//! The catalog's pure data model: entity references, validation, relations, YAML documents and
//! query filters. No IO lives here, so everything in it is cheap to test and fuzz.

pub mod entity;
pub mod entity_ref;
pub mod filter;
pub mod html;
pub mod kinds;
pub mod redact;
pub mod relations;
pub mod validate;
pub mod yaml;

pub use entity::Entity;
pub use entity_ref::{EntityRef, RefError};
