//! The store's one error type: callers match on `Conflict` (an HTTP 409) and on configuration
//! mistakes; everything else is a database failure they report as it is.

/// Every failure the store can report. URLs inside it are always redacted.
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    /// A query failed after the database was reached.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),

    /// The database URL could not be understood; `url` has its password masked.
    #[error("invalid database URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },

    /// The database could not be opened or reached; `url` has its password masked.
    #[error("cannot open database `{url}`: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },

    /// A migration script failed; nothing of it was kept.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: &'static str,
        #[source]
        source: sqlx::Error,
    },

    /// The database was migrated by a newer Stagedoor; running older code against it could
    /// corrupt data, so we refuse to start.
    #[error(
        "database schema is at version {found}, newer than the {known} this Stagedoor knows; upgrade Stagedoor"
    )]
    SchemaTooNew { found: i64, known: i64 },

    /// A row with the same unique key already exists.
    #[error("{0}")]
    Conflict(String),
}

impl StoreError {
    /// Maps a unique-key violation to `Conflict` with `message`, anything else to `Sqlx`.
    pub(crate) fn conflict_or(err: sqlx::Error, message: impl FnOnce() -> String) -> Self {
        match err.as_database_error() {
            Some(db_err) if db_err.is_unique_violation() => StoreError::Conflict(message()),
            _ => StoreError::Sqlx(err),
        }
    }
}
