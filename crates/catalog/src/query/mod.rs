//! Request-level catalog reads over a [`Snapshot`]: `GET /entities` paging, `by-query` cursors
//! and totals, full-text filtering, facets and field projection, with Backstage's semantics.
//!
//! Where Backstage breaks ties (and orders by-query results without an order field) by the
//! entity's database id, a random uuid, we use the lower-cased entity ref instead: a total,
//! stable order that also survives snapshot swaps, so cursors carry `(value, ref)`.

use std::sync::Arc;

use base64::Engine as _;
use model::filter::Filter;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::index::{Bits, KeyId, Snapshot, Stitched};
use crate::search;

/// Page size of `by-query` when the request names none.
pub const DEFAULT_QUERY_LIMIT: usize = 200;

/// One sort criterion: `order=asc:metadata.name` or `orderField=metadata.name,asc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub field: String,
    pub descending: bool,
}

/// `fullTextFilterTerm` and `fullTextFilterFields`; empty `fields` means "not given", which
/// searches the order field (or `metadata.uid` when there is none), as Backstage does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FullText {
    pub term: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRequest {
    pub filter: Option<Filter>,
    pub order: Vec<Order>,
    pub full_text: Option<FullText>,
    pub limit: usize,
    /// Honoured on a first-page request only, like Backstage.
    pub offset: Option<usize>,
    /// When set (and non-empty) everything but `limit` comes from the cursor.
    pub cursor: Option<String>,
}

impl Default for QueryRequest {
    fn default() -> Self {
        QueryRequest {
            filter: None,
            order: Vec::new(),
            full_text: None,
            limit: DEFAULT_QUERY_LIMIT,
            offset: None,
            cursor: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct QueryPage {
    pub items: Vec<Arc<Stitched>>,
    pub total_items: usize,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
}

/// Bad client input; the web layer answers these with 400 and the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("Malformed cursor: {0}")]
    BadCursor(String),
    #[error("Malformed after cursor, {0}")]
    BadAfter(String),
}

mod by_query;
mod facets;
mod list;
mod projection;
#[cfg(test)]
mod tests;
mod text;

use by_query::decode_base64;
pub use by_query::query;
pub use facets::facets;
pub use list::{decode_after, encode_after, list, list_all};
pub use projection::{project, project_value};
pub use text::like_contains;
use text::{text_matches, walk_field};
