//! Who counts and where: the engineer population (catalog Users, filtered) and, for every
//! Group, the engineers in it — members through `memberOf`, and everyone in its sub-groups
//! through `childOf` (`spec.parent`), however deep. Derived once per catalog snapshot.

use std::collections::{BTreeMap, HashMap, HashSet};

use catalog::read::Snapshot;
use model::filter::Filter;
use model::relations::{CHILD_OF, MEMBER_OF, OWNER_OF};

/// One Group with the engineers it counts.
#[derive(Debug, Clone)]
pub struct Group {
    pub key: String,
    /// Its title, or its name.
    pub name: String,
    /// `spec.type` (`team`, `department`, `organization`, …).
    pub kind: String,
    pub parent: Option<String>,
    /// Engineers in it or any group below it, sorted.
    pub members: Vec<String>,
}

/// The engineer population and the group hierarchy of one snapshot.
#[derive(Debug, Default)]
pub struct Org {
    /// Every engineer's User ref, sorted.
    pub engineers: Vec<String>,
    pub groups: BTreeMap<String, Group>,
    /// Each engineer's groups by direct `memberOf`.
    pub member_of: HashMap<String, Vec<String>>,
    /// Users and groups that own at least one entity.
    pub owners: HashSet<String>,
}

impl Org {
    pub fn build(snap: &Snapshot, population: Option<&Filter>) -> Org {
        let chosen: Option<HashSet<String>> =
            population.map(|f| snap.entities(Some(f)).map(|e| e.key().to_owned()).collect());
        let mut engineers = Vec::new();
        let mut member_of: Vec<(String, Vec<String>)> = Vec::new();
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        let mut owners = HashSet::new();
        // Users and groups only: a catalog of 100,000 components is not parsed for this, and
        // what they own shows on them as the inverse `ownerOf` relation.
        let people = model::filter::parse_query(&["kind=user,kind=group".to_owned()])
            .ok()
            .flatten();
        for e in snap.entities(people.as_ref()) {
            if e.targets(OWNER_OF).next().is_some() {
                owners.insert(e.key().to_owned());
            }
            match e.kind().to_ascii_lowercase().as_str() {
                "user" => {
                    if chosen.as_ref().is_some_and(|c| !c.contains(e.key())) {
                        continue;
                    }
                    engineers.push(e.key().to_owned());
                    member_of.push((
                        e.key().to_owned(),
                        e.targets(MEMBER_OF).map(str::to_owned).collect(),
                    ));
                }
                "group" => {
                    groups.insert(
                        e.key().to_owned(),
                        Group {
                            key: e.key().to_owned(),
                            name: e.title().unwrap_or(e.name()).to_owned(),
                            kind: e.spec_type().unwrap_or("group").to_owned(),
                            parent: e.targets(CHILD_OF).next().map(str::to_owned),
                            members: Vec::new(),
                        },
                    );
                }
                _ => {}
            }
        }
        engineers.sort();
        let parents: HashMap<String, Option<String>> = groups
            .iter()
            .map(|(k, g)| (k.clone(), g.parent.clone()))
            .collect();
        let direct_groups: HashMap<String, Vec<String>> = member_of.iter().cloned().collect();
        for (user, direct) in member_of {
            // Up from each group the user is a member of; a cycle in the hierarchy stops at the
            // first group seen twice.
            let mut seen = HashSet::new();
            for g in direct {
                let mut at = Some(g);
                while let Some(key) = at {
                    if !seen.insert(key.clone()) {
                        break;
                    }
                    at = parents.get(&key).cloned().flatten();
                }
            }
            for g in seen {
                if let Some(group) = groups.get_mut(&g) {
                    group.members.push(user.clone());
                }
            }
        }
        for g in groups.values_mut() {
            g.members.sort();
        }
        Org {
            engineers,
            groups,
            member_of: direct_groups,
            owners,
        }
    }

    /// True when the person, or a group they are a direct member of, owns an entity.
    pub fn owns(&self, user: &str) -> bool {
        self.owners.contains(user)
            || self
                .member_of
                .get(user)
                .is_some_and(|gs| gs.iter().any(|g| self.owners.contains(g)))
    }

    /// The engineers a group counts, or the whole population for `None`.
    pub fn members(&self, group: Option<&str>) -> Option<&[String]> {
        match group {
            None => Some(&self.engineers),
            Some(g) => self.groups.get(g).map(|g| g.members.as_slice()),
        }
    }

    /// The groups from `key` up to the top, nearest first.
    pub fn ancestors(&self, key: &str) -> Vec<&Group> {
        let mut out: Vec<&Group> = Vec::new();
        let mut at = self.groups.get(key).and_then(|g| g.parent.as_deref());
        while let Some(k) = at {
            let Some(g) = self.groups.get(k) else { break };
            if out.iter().any(|o| o.key == g.key) {
                break;
            }
            out.push(g);
            at = g.parent.as_deref();
        }
        out
    }
}
