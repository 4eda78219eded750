//! The catalog: reading locations, processing and stitching entities, and the in-memory read
//! index every query is answered from.
//!
//! Public are the read seam ([`read`]), the settings ([`settings`]) and the [`Catalog`] with its
//! write operations (`add_location`, `refresh`, ...); everything else is the engine's own.

mod engine;
mod fetch;
mod index;
mod packed;
mod process;
mod processed;
mod query;
pub mod read;
mod search;
pub mod settings;
mod source;
mod stitch;

#[cfg(test)]
mod never_panics;

pub use engine::{
    Catalog, CatalogError, Location, RoundStats, generated_location_ref, off_async_workers,
};
/// Everything that stops an entity from entering the catalog (`stagedoor validate` uses it).
pub use process::problems as entity_problems;
pub use settings::{CatalogSettings, LocationSpec};
/// The bounded, allow-listed URL reader, for capabilities that read files by URL (docs sources).
pub use source::{ReadError, UrlReader};
