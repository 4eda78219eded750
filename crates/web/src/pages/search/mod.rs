//! The search pages: `/search` (a form that works without JavaScript; results by type with
//! highlighted snippets and paging), the header box's as-you-type suggestions
//! (`/search/suggest`, an htmx fragment), and `/search/open`, through which every result link
//! passes so that an opened result can be recorded with its query and rank.

pub mod pages;
pub mod record;
