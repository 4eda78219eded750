//! The catalog: reading locations, processing and stitching entities, and the in-memory read
//! index every query is answered from.

pub mod engine;
mod fetch;
pub mod index;
pub mod process;
mod processed;
pub mod query;
pub mod read;
pub mod search;
pub mod settings;
pub mod source;
pub mod stitch;

pub use engine::{Catalog, CatalogError};
pub use settings::{CatalogSettings, LocationSpec};
