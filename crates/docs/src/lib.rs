//! Docs as code: `backstage.io/techdocs-ref` sources, `mkdocs.yml`, Markdown rendered and
//! sanitised by ourselves (no Python), and per-entity builds kept up to date in memory.

pub mod blocks;
pub mod markdown;
pub mod mkdocs;
pub mod paths;
mod sanitize;
