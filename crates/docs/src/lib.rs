//! Docs as code: `backstage.io/techdocs-ref` sources, `mkdocs.yml`, Markdown rendered and
//! sanitised by ourselves (no Python), and per-entity builds kept up to date in memory.
//!
//! The way in is [`Docs::of`] (the builds, hung on the catalog), [`Docs::run`] (keeps them up
//! to date) and, for the search index, [`Docs::pages`] with [`Docs::generation`].

pub mod blocks;
pub mod highlight;
pub mod markdown;
pub mod mkdocs;
pub mod paths;
pub mod remote;
mod sanitize;
pub mod site;
pub mod source;
mod state;

pub use markdown::Heading;
pub use site::{NavNode, Page, Problem, Site, Urls};
pub use source::Source;
pub use state::{DocPage, Docs, DocsSettings, EntityDocs, url_reader};
