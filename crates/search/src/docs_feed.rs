//! Docs pages into the index: every built page of every documented entity becomes a `techdocs`
//! document, handed in again whenever the docs builds change.

use std::sync::Arc;

use catalog::Catalog;
use catalog::read::Snapshot;

use crate::document::{DocType, Document};

/// The source name docs pages are indexed under.
pub const SOURCE_DOCS: &str = "docs";

/// The `techdocs` documents of `pages`, with Backstage's techdocs fields as facets (`kind`,
/// `namespace`, `name`, `path`, `entityTitle`, `lifecycle`, `owner`) taken from the entity.
pub fn documents_of_pages(pages: Vec<docs::DocPage>, snapshot: &Snapshot) -> Vec<Document> {
    pages
        .into_iter()
        .map(|page| {
            let entity = snapshot.entity(&page.entity_ref);
            let mut facets = Vec::new();
            if let Ok(r) = model::EntityRef::parse(&page.entity_ref, None, "") {
                facets.push(("kind".to_owned(), r.kind));
                facets.push(("namespace".to_owned(), r.namespace));
                facets.push(("name".to_owned(), r.name));
            }
            facets.push(("path".to_owned(), page.path.clone()));
            let mut owner = String::new();
            if let Some(e) = &entity {
                let title = e.title().unwrap_or(e.name());
                facets.push(("entityTitle".to_owned(), title.to_owned()));
                if let Some(l) = e.lifecycle() {
                    facets.push(("lifecycle".to_owned(), l.to_owned()));
                }
                if let Some(o) = e.owner() {
                    owner = o.to_owned();
                    facets.push(("owner".to_owned(), o.to_owned()));
                }
            }
            Document {
                doc_type: DocType::Techdocs,
                source: SOURCE_DOCS.to_owned(),
                entity: page.entity_ref,
                name: page.path,
                title: page.title,
                keywords: page.headings.into_iter().map(|h| h.text).collect(),
                owner,
                text: page.text,
                location: page.url,
                facets,
            }
        })
        .collect()
}

/// Keeps the docs pages in the index: hands in every page at once, then again after each change
/// of the docs builds. The whole source is replaced (one index rebuild), not entity by entity:
/// a first build brings thousands of entities at once, and each replacement rebuilds the index.
pub async fn run(catalog: Arc<Catalog>) {
    let docs = docs::Docs::of(&catalog);
    let mut seen = 0;
    loop {
        seen = docs.changed_since(seen).await;
        let c = catalog.clone();
        let pages = docs.pages();
        let _ = tokio::task::spawn_blocking(move || {
            let documents = documents_of_pages(pages, &c.snapshot());
            c.state::<crate::Search>()
                .replace_source(SOURCE_DOCS, documents);
        })
        .await;
    }
}
