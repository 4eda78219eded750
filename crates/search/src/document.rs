//! What the index holds: one searchable document (an entity, an API operation or message, a
//! docs page) with its searchable fields, the facets filters match on, and where it came from.

/// The source of documents the index extracts from the catalog itself; other capabilities use
/// their own source names (the docs builds: `"docs"`).
pub const SOURCE_CATALOG: &str = "catalog";

/// The kind of a document, named as Backstage's search names its document types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocType {
    // The discriminants index per-type counts, in `ALL` order.
    /// An entity (Backstage's catalog collator).
    SoftwareCatalog,
    /// A docs page (Backstage's TechDocs collator); `location` is its reader URL.
    Techdocs,
    /// One operation of an OpenAPI definition, or one channel or message of an AsyncAPI one
    /// (ours: Backstage has no such type).
    ApiDefinition,
}

impl DocType {
    pub const ALL: [DocType; 3] = [
        DocType::SoftwareCatalog,
        DocType::Techdocs,
        DocType::ApiDefinition,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocType::SoftwareCatalog => "software-catalog",
            DocType::Techdocs => "techdocs",
            DocType::ApiDefinition => "api-definition",
        }
    }

    pub fn parse(s: &str) -> Option<DocType> {
        DocType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// A short label for pages.
    pub fn label(self) -> &'static str {
        match self {
            DocType::SoftwareCatalog => "Catalog",
            DocType::Techdocs => "Docs",
            DocType::ApiDefinition => "API definitions",
        }
    }
}

/// One searchable document. Fields are weighted in this order: `name` and `title` first (and
/// only they are matched with typos), then `keywords`, then `owner`, then `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub doc_type: DocType,
    /// Who supplied it ([`SOURCE_CATALOG`], `"docs"`, …): [`crate::Search::replace_source`]
    /// replaces all documents of one source at once.
    pub source: String,
    /// The lower-cased ref of the entity it belongs to (`component:default/payments`).
    pub entity: String,
    /// The identifier people type: an entity's name, an operation id, a channel name, a page
    /// path.
    pub name: String,
    pub title: String,
    /// Tags, docs headings, operation method and path, message names.
    pub keywords: Vec<String>,
    /// The owner's ref, matched by its name (`group:default/team-a` → `team a`).
    pub owner: String,
    /// Description, summary, page text.
    pub text: String,
    /// Where the result opens: a local path (`/catalog/default/component/payments`,
    /// `/docs/default/component/payments/getting-started/`).
    pub location: String,
    /// Named values served with the document and matched by `filters[...]` (`kind`,
    /// `namespace`, `type`, `owner`, `lifecycle`, …), compared ignoring case.
    pub facets: Vec<(String, String)>,
}

impl Document {
    /// A facet's value.
    pub fn facet(&self, key: &str) -> Option<&str> {
        self.facets
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}
