//! The documents of one catalog entity: the entity itself (`software-catalog`, with the fields
//! Backstage's catalog collator serves) and, for an API, one `api-definition` document per
//! operation, channel or message of its definition.

use catalog::read::Entity;

use crate::api_defs::operations;
use crate::document::{DocType, Document, SOURCE_CATALOG};

/// The portal page of an entity (Backstage's default collator location, lower-cased as our
/// routes are).
fn location(e: &Entity) -> String {
    format!(
        "/catalog/{}/{}/{}",
        e.namespace().to_lowercase(),
        e.kind().to_lowercase(),
        e.name()
    )
}

/// Every searchable document of `e`.
pub fn documents_of(e: &Entity) -> Vec<Document> {
    let name = e.name().to_owned();
    let title = e.title().unwrap_or(e.name()).to_owned();
    let spec_owner = e
        .spec("owner")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    let owner = e.owner().map(str::to_owned).unwrap_or(spec_owner.clone());
    let ty = e.spec_type().unwrap_or("other").to_owned();
    let lifecycle = e.lifecycle().unwrap_or_default().to_owned();
    let here = location(e);
    let mut facets = vec![
        ("kind".to_owned(), e.kind().to_owned()),
        ("namespace".to_owned(), e.namespace().to_owned()),
        ("name".to_owned(), name.clone()),
        ("lifecycle".to_owned(), lifecycle.clone()),
        ("owner".to_owned(), spec_owner.clone()),
    ];
    let mut entity_facets = facets.clone();
    entity_facets.push(("componentType".to_owned(), ty.clone()));
    entity_facets.push(("type".to_owned(), ty.clone()));
    let mut docs = vec![Document {
        doc_type: DocType::SoftwareCatalog,
        source: SOURCE_CATALOG.to_owned(),
        entity: e.key().to_owned(),
        name: name.clone(),
        title: title.clone(),
        keywords: e.tags().map(str::to_owned).collect(),
        owner: owner.clone(),
        text: e.description().unwrap_or_default().to_owned(),
        location: here.clone(),
        facets: entity_facets,
    }];
    if !e.kind().eq_ignore_ascii_case("api") {
        return docs;
    }
    let Some(definition) = e.spec("definition").and_then(|v| v.as_str()) else {
        return docs;
    };
    facets.push(("apiType".to_owned(), ty));
    facets.push(("entityTitle".to_owned(), title));
    for op in operations(definition) {
        let mut f = facets.clone();
        f.push(("what".to_owned(), op.what.to_owned()));
        if !op.method.is_empty() {
            f.push(("method".to_owned(), op.method));
        }
        if !op.path.is_empty() {
            f.push(("path".to_owned(), op.path));
        }
        docs.push(Document {
            doc_type: DocType::ApiDefinition,
            source: SOURCE_CATALOG.to_owned(),
            entity: e.key().to_owned(),
            name: op.name,
            title: op.title,
            keywords: op.keywords,
            owner: owner.clone(),
            text: op.text,
            location: format!("{here}#definition"),
            facets: f,
        });
    }
    docs
}
