//! What processing hands to stitching: a processed entity as JSON text, the errors recorded
//! on it, the well-known annotations, and the content hash. Its own module so that `process`
//! and `stitch` both depend on it and not on each other.

use model::Entity;
use serde_json::Value;
use sha1::{Digest, Sha1};

pub const ANNOTATION_LOCATION: &str = "backstage.io/managed-by-location";
pub const ANNOTATION_ORIGIN_LOCATION: &str = "backstage.io/managed-by-origin-location";
pub const ANNOTATION_VIEW_URL: &str = "backstage.io/view-url";
pub const ANNOTATION_EDIT_URL: &str = "backstage.io/edit-url";
/// What a `javascript:` view or edit URL is replaced with, as Backstage does.
pub const REJECTED_URL: &str = "https://backstage.io/annotation-rejected-for-security-reasons";
pub const ANNOTATION_SOURCE_LOCATION: &str = "backstage.io/source-location";
pub const ANNOTATION_ORPHAN: &str = "backstage.io/orphan";

/// A processing error as it appears in `status.items[].error`: Backstage's `{name, message}`
/// plus, when known, where in which file it happened.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ProcessingError {
    pub name: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<usize>,
}

impl ProcessingError {
    pub fn new(name: &str, message: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            message: message.into(),
            file: None,
            line: None,
            column: None,
        }
    }

    pub fn at(mut self, file: &str, line: usize, column: usize) -> Self {
        self.file = Some(file.to_owned());
        self.line = Some(line);
        self.column = Some(column);
        self
    }
}

/// A processed entity kept as JSON text, with the position where its `metadata` object closes,
/// so stitching can splice in uid, etag, relations and status without parsing it again. Text is
/// about a fifth of the memory of a parsed value, which matters while a whole catalog is in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub json: String,
    /// Byte offset of the `}` closing `metadata`.
    pub(crate) meta_end: usize,
    /// Whether the entity has a `status` of its own (rare), which stitching must merge into.
    pub(crate) has_status: bool,
}

impl Processed {
    pub fn new(entity: &Entity) -> Self {
        let mut json = String::with_capacity(1024);
        let mut meta_end = 0;
        json.push('{');
        for (i, (k, v)) in entity.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&serde_json::to_string(k).expect("strings serialise"));
            json.push(':');
            json.push_str(&serde_json::to_string(v).expect("JSON values serialise"));
            if k == "metadata" && v.is_object() {
                meta_end = json.len() - 1;
            }
        }
        json.push('}');
        // Every entity of a catalog is held like this between the walk and stitching, so the
        // room the first guess left (up to half of a 2 KiB buffer) counts: about 10 MiB of the
        // ingestion peak at 117,000 entities.
        json.shrink_to_fit();
        Self {
            json,
            meta_end,
            has_status: entity.contains_key("status"),
        }
    }

    pub fn to_entity(&self) -> Entity {
        match serde_json::from_str(&self.json) {
            Ok(Value::Object(m)) => m,
            _ => Entity::new(),
        }
    }
}

pub fn sha1_bytes(bytes: &[u8]) -> [u8; 20] {
    Sha1::digest(bytes).into()
}

pub fn hash_json(entity: &Entity) -> [u8; 20] {
    let mut h = Sha1::new();
    let mut w = HashWriter(&mut h);
    serde_json::to_writer(&mut w, entity).expect("JSON values always serialise");
    h.finalize().into()
}

struct HashWriter<'a>(&'a mut Sha1);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
