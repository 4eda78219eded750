//! Backstage's entity validation rules: the envelope, metadata formats and each built-in kind's spec.

use crate::Entity;

/// One thing wrong with an entity. `path` is the dotted JSON path of the offending field
/// (`metadata.name`, `spec.owner`; empty for the whole entity) so callers can map it to a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// Every problem Backstage's validators would report for this entity (empty when valid).
pub fn validate(entity: &Entity) -> Vec<Problem> {
    let _ = entity;
    todo!("model helper")
}
