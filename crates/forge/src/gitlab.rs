//! GitLab's REST API (v4): typed calls on the [`rest`](crate::rest) core.
