//! A search request and its answer: term, types, filters and page in; ranked hits with
//! highlighted fields, the total and the cursors out. Cursors are Backstage's: the page number,
//! base64-encoded.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::document::{DocType, Document};

/// Results per page unless the request says otherwise (Backstage's default).
pub const DEFAULT_PAGE_LIMIT: usize = 25;
/// The most results one page may ask for.
pub const MAX_PAGE_LIMIT: usize = 100;
/// Longer terms are refused: nobody types them, and each word costs a pass over the terms.
pub const MAX_TERM_CHARS: usize = 200;
/// At most this many words of a term are matched; the rest are ignored.
pub const MAX_WORDS: usize = 16;
/// Around each highlighted match in `highlight.fields`. Not HTML, so a client cannot confuse
/// them with markup in the text; pages escape the text and turn them into `<mark>`.
pub const PRE_TAG: &str = "<stagedoor-highlight>";
pub const POST_TAG: &str = "</stagedoor-highlight>";

/// One search request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub term: String,
    /// Only these types; all when empty.
    pub types: Vec<DocType>,
    /// Each facet must have one of its values (ignoring case); a facet a document does not
    /// have excludes it.
    pub filters: Vec<(String, Vec<String>)>,
    /// 0-based page.
    pub page: usize,
    /// Results per page, at most [`MAX_PAGE_LIMIT`].
    pub limit: usize,
}

/// Why a request cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    TermTooLong,
    UnknownType(String),
    BadCursor(String),
    BadLimit(String),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::TermTooLong => write!(
                f,
                "The term length exceeds the maximum length of {MAX_TERM_CHARS} characters"
            ),
            QueryError::UnknownType(t) => write!(
                f,
                "Unknown search type '{t}'; known types are {}",
                DocType::ALL.map(DocType::as_str).join(", ")
            ),
            QueryError::BadCursor(c) => write!(f, "Invalid pageCursor '{c}'"),
            QueryError::BadLimit(l) => write!(
                f,
                "Invalid pageLimit '{l}': expected a whole number from 1 to {MAX_PAGE_LIMIT}"
            ),
        }
    }
}

impl std::error::Error for QueryError {}

impl Query {
    /// A query for `term` over every type, first page, default page size.
    pub fn new(term: impl Into<String>) -> Self {
        Query {
            term: term.into(),
            limit: DEFAULT_PAGE_LIMIT,
            ..Default::default()
        }
    }

    /// Checks the parts a caller may have taken from a request.
    pub fn check(&self) -> Result<(), QueryError> {
        if self.term.chars().count() > MAX_TERM_CHARS {
            return Err(QueryError::TermTooLong);
        }
        if self.limit == 0 || self.limit > MAX_PAGE_LIMIT {
            return Err(QueryError::BadLimit(self.limit.to_string()));
        }
        Ok(())
    }
}

/// A cursor for `page` (Backstage's encoding: the number in base64).
pub fn encode_cursor(page: usize) -> String {
    STANDARD.encode(page.to_string())
}

/// The page a cursor names.
pub fn decode_cursor(cursor: &str) -> Result<usize, QueryError> {
    let bad = || QueryError::BadCursor(cursor.chars().take(64).collect());
    let bytes = STANDARD.decode(cursor.trim()).map_err(|_| bad())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
    // A page past any real result set is refused rather than answered empty forever.
    text.parse::<usize>()
        .ok()
        .filter(|&p| p <= 1_000_000)
        .ok_or_else(bad)
}

/// One ranked result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub document: Document,
    /// 1-based position in the whole result list (Backstage's `rank`).
    pub rank: usize,
    pub score: f32,
    /// Highlighted fields (`title`, `text`), each with [`PRE_TAG`]/[`POST_TAG`] around matches;
    /// `text` is a window around the first match.
    pub highlight: Vec<(&'static str, String)>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub hits: Vec<Hit>,
    /// Results over all pages.
    pub total: usize,
    /// Results per type with the same term and filters but any type (types with none left
    /// out), in [`DocType::ALL`] order.
    pub by_type: Vec<(DocType, usize)>,
    pub page: usize,
    pub next_page: Option<usize>,
    pub previous_page: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_match_backstage() {
        assert_eq!(encode_cursor(1), "MQ==");
        assert_eq!(decode_cursor(&encode_cursor(7)), Ok(7));
        assert!(decode_cursor("not base64!").is_err());
        assert!(decode_cursor(&STANDARD.encode("x")).is_err());
    }

    #[test]
    fn limits_are_checked() {
        let mut q = Query::new("a".repeat(MAX_TERM_CHARS + 1));
        assert_eq!(q.check(), Err(QueryError::TermTooLong));
        q.term = "ok".into();
        q.limit = MAX_PAGE_LIMIT + 1;
        assert!(matches!(q.check(), Err(QueryError::BadLimit(_))));
    }
}
