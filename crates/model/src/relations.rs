//! The built-in relations an entity emits from its spec, and their inverses.

use crate::{Entity, EntityRef, validate::Problem};

/// Outgoing relations `(type, target)` this entity declares (ownedBy, partOf, dependsOn, …),
/// refs resolved with Backstage's default kinds and the entity's own namespace. Refs that do not
/// parse are reported as problems and skipped.
pub fn outgoing(entity: &Entity, me: &EntityRef) -> (Vec<(&'static str, EntityRef)>, Vec<Problem>) {
    let _ = (entity, me);
    todo!("model helper")
}

/// The inverse of a built-in relation type (`ownedBy` ↔ `ownerOf`, …).
pub fn inverse(relation: &str) -> Option<&'static str> {
    let _ = relation;
    todo!("model helper")
}
