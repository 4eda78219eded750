//! The built-in facts a check sees as `facts.<name>`, computed from the snapshot. Their names are
//! listed in `model::validate::stagedoor_kinds::FACTS` (so validation can refuse unknown ones) and
//! described in docs/api.md.

use catalog::read::{Entity, Snapshot};
use model::relations;

/// The facts about one entity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Facts {
    /// The entity has an owner (`ownedBy`) and that owner is an entity of the catalog.
    pub owner_exists: bool,
    /// The owner entity's kind, lower-cased (`group`, `user`); empty when there is none.
    pub owner_kind: String,
    /// The entity has a `backstage.io/techdocs-ref` annotation.
    pub has_docs: bool,
    /// How many entities depend on this one: its `dependencyOf` and `apiConsumedBy` relations.
    pub dependents: i64,
}

impl Facts {
    pub fn of(entity: &Entity, snapshot: &Snapshot) -> Facts {
        // The owner's stored record is enough: parsing its JSON (a group's relations can run to
        // thousands) for every entity it owns was most of the evaluation's time.
        let owner = entity.owner().and_then(|o| snapshot.get(o));
        let dependents = entity
            .relations()
            .filter(|r| r.kind == relations::DEPENDENCY_OF || r.kind == relations::API_CONSUMED_BY)
            .count();
        Facts {
            owner_exists: owner.is_some(),
            owner_kind: owner
                .and_then(|o| o.key.split_once(':'))
                .map(|(kind, _)| kind.to_owned())
                .unwrap_or_default(),
            has_docs: entity.annotation("backstage.io/techdocs-ref").is_some(),
            dependents: dependents as i64,
        }
    }

    /// The facts as the CEL map `facts`.
    pub(crate) fn to_cel(&self) -> cel::Value {
        cel::to_value(self).unwrap_or(cel::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fact_validation_knows_is_computed() {
        let facts = Facts {
            owner_exists: true,
            owner_kind: "group".into(),
            has_docs: false,
            dependents: 0,
        };
        let json = serde_json::to_value(&facts).unwrap();
        let names: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(names, model::validate::stagedoor_kinds::FACTS);
    }
}
