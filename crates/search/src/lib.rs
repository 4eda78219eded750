//! Search over the catalog, its API definitions and docs pages: one compact in-memory index per
//! replica (see docs/architecture.md, "Search", for why this and not tantivy or the databases'
//! full text), built from the catalog snapshot and from documents other capabilities hand in.
//!
//! - [`Document`] is what gets indexed: a type (`software-catalog`, `techdocs`,
//!   `api-definition`), the source and entity it came from, searchable fields and facets.
//! - [`Index`] is one immutable build over documents: prefix and typo-tolerant matching,
//!   field-weighted ranking, filters, highlighting, paging ([`Query`] → [`Results`]).
//! - [`Search`] (kept in `Catalog::state`) holds the current index, refreshes it from the
//!   catalog (only changed entities are extracted again) and takes documents of other sources
//!   ([`Search::replace_source`], [`Search::replace_entity`]).

mod api_defs;
pub mod docs_feed;
mod document;
mod entities;
mod fuzzy;
mod index;
mod query;
mod snippet;
mod state;
mod tokenize;

pub use api_defs::{MAX_DEFINITION_BYTES, MAX_OPERATIONS, operations};
pub use document::{DocType, Document, SOURCE_CATALOG};
pub use entities::documents_of;
pub use index::{Index, MAX_STORED_TEXT};
pub use query::{
    DEFAULT_PAGE_LIMIT, Hit, MAX_PAGE_LIMIT, MAX_TERM_CHARS, POST_TAG, PRE_TAG, Query, QueryError,
    Results, decode_cursor, encode_cursor,
};
pub use state::{Search, index, run};
