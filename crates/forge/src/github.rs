//! GitHub's REST API (v3): typed calls on the [`rest`](crate::rest) core.
