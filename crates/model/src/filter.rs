//! Backstage's entity filters, parsed once: the `filter=` query syntax and the POST by-query
//! predicate form. Keys and values are lower-cased here because matching is case-insensitive.

/// A parsed filter. Matching is done by the catalog index against its flattened search keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Any of these (sets from repeated `filter` parameters are ORed).
    Any(Vec<Filter>),
    /// All of these (comma-separated conditions are ANDed).
    All(Vec<Filter>),
    Not(Box<Filter>),
    /// The key has one of these values (lower-cased).
    Eq { key: String, values: Vec<String> },
    /// The key is present, whatever its value.
    Exists { key: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

/// Parses the values of repeated `filter` query parameters; `None` when there are none.
pub fn parse_query(filters: &[String]) -> Result<Option<Filter>, FilterError> {
    let _ = filters;
    todo!("model helper")
}

/// Parses the `query` predicate of `POST /entities/by-query`.
pub fn parse_predicate(query: &serde_json::Value) -> Result<Filter, FilterError> {
    let _ = query;
    todo!("model helper")
}
