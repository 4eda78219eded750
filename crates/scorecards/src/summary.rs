//! Counts for one scorecard: over everything it applies to and per owning team, how many
//! entities reached each level and how many pass each check; and the same counts rolled up
//! along the group hierarchy (team → department → organisation).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use catalog::read::Snapshot;

use crate::definition::Scorecard;
use crate::evaluate::EntityScore;

/// Passing and failing entities of one check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassFail {
    pub passing: usize,
    pub failing: usize,
}

/// Counts over a set of entities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    /// Entities that reached no level.
    pub none: usize,
    /// Per level (the scorecard's order): entities whose highest level is that one.
    pub levels: Vec<usize>,
    /// Per check (the scorecard's order).
    pub checks: Vec<PassFail>,
}

/// The counts of one team: the owner the entities' `ownedBy` relation names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamCounts {
    /// `None` for entities without an owner.
    pub owner: Option<String>,
    pub counts: Counts,
}

/// Everything the scorecard applies to, then per team in ref order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub all: Counts,
    pub teams: Vec<TeamCounts>,
}

impl Counts {
    fn new(card: &Scorecard) -> Counts {
        Counts {
            levels: vec![0; card.levels.len()],
            checks: vec![PassFail::default(); card.checks.len()],
            ..Counts::default()
        }
    }

    /// Adds every count of `other` (counts of the same scorecard).
    fn absorb(&mut self, other: &Counts) {
        self.total += other.total;
        self.none += other.none;
        for (a, b) in self.levels.iter_mut().zip(&other.levels) {
            *a += b;
        }
        for (a, b) in self.checks.iter_mut().zip(&other.checks) {
            a.passing += b.passing;
            a.failing += b.failing;
        }
    }

    fn add(&mut self, score: &EntityScore) {
        self.total += 1;
        match score.level {
            Some(l) => self.levels[l] += 1,
            None => self.none += 1,
        }
        for (pf, r) in self.checks.iter_mut().zip(&score.checks) {
            if r.passed {
                pf.passing += 1;
            } else {
                pf.failing += 1;
            }
        }
    }
}

impl Summary {
    pub fn of(card: &Scorecard, scores: &[Arc<EntityScore>]) -> Summary {
        let mut all = Counts::new(card);
        let mut teams: BTreeMap<Option<&str>, Counts> = BTreeMap::new();
        for s in scores {
            all.add(s);
            teams
                .entry(s.owner.as_deref())
                .or_insert_with(|| Counts::new(card))
                .add(s);
        }
        Summary {
            all,
            teams: teams
                .into_iter()
                .map(|(owner, counts)| TeamCounts {
                    owner: owner.map(str::to_owned),
                    counts,
                })
                .collect(),
        }
    }
}

/// One node of a [`RollUp`]: an owner with what it owns itself and, for a group, everything its
/// sub-groups own, transitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCounts {
    /// The owner's ref (as relations name it); `None` for the entities without an owner.
    pub owner: Option<String>,
    /// The group it sits under in the tree (`None` for a root).
    pub parent: Option<String>,
    /// 0 for a root, its parent's depth + 1 otherwise.
    pub depth: usize,
    /// Its entities and those of every group below it, each counted once.
    pub counts: Counts,
    /// The entities it owns itself.
    pub own: Counts,
}

/// Counts per group including everything below it in the group hierarchy (`childOf`), as a
/// tree: every owner of something scored and every ancestor group of one, each parent before its
/// children, roots and siblings in ref order, then the entities without an owner. Owners that
/// are not groups (users, refs to nothing) are roots. A group with several parents sits under
/// the first and counts in all of them; a cycle in `childOf` is cut at its smallest ref, and
/// every entity counts at most once in any group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollUp {
    pub all: Counts,
    pub groups: Vec<GroupCounts>,
}

impl RollUp {
    pub fn of(card: &Scorecard, scores: &[Arc<EntityScore>], snapshot: &Snapshot) -> RollUp {
        let mut all = Counts::new(card);
        let mut no_owner: Option<Counts> = None;
        let mut own: BTreeMap<&str, Counts> = BTreeMap::new();
        for s in scores {
            all.add(s);
            let slot = match s.owner.as_deref() {
                Some(o) => own.entry(o).or_insert_with(|| Counts::new(card)),
                None => no_owner.get_or_insert_with(|| Counts::new(card)),
            };
            slot.add(s);
        }

        // Each group's parents as `childOf` names them, read once per group reached.
        let mut parents: HashMap<String, Vec<String>> = HashMap::new();
        let mut parents_of = |key: &str| -> Vec<String> {
            parents
                .entry(key.to_owned())
                .or_insert_with(|| {
                    snapshot
                        .entity(key)
                        .filter(|e| e.kind().eq_ignore_ascii_case(model::kinds::GROUP))
                        .map(|e| {
                            e.targets(model::relations::CHILD_OF)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .clone()
        };

        // Every owner's counts go to itself and to each of its ancestors once.
        let mut totals: BTreeMap<String, Counts> = BTreeMap::new();
        let mut placed_under: BTreeMap<String, Option<String>> = BTreeMap::new();
        for (owner, counts) in &own {
            let mut seen: BTreeSet<String> = BTreeSet::new();
            let mut stack = vec![(*owner).to_owned()];
            while let Some(key) = stack.pop() {
                if !seen.insert(key.clone()) {
                    continue;
                }
                let ps = parents_of(&key);
                placed_under
                    .entry(key.clone())
                    .or_insert_with(|| ps.first().cloned());
                stack.extend(ps.into_iter().rev());
                totals
                    .entry(key)
                    .or_insert_with(|| Counts::new(card))
                    .absorb(counts);
            }
        }
        cut_cycles(&mut placed_under);

        let mut children: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
        for (key, parent) in &placed_under {
            children
                .entry(parent.as_deref())
                .or_default()
                .push(key.as_str());
        }
        let mut groups = Vec::with_capacity(placed_under.len() + 1);
        // Preorder over the tree; the maps are in ref order, so siblings are too.
        let mut stack: Vec<(&str, usize)> = children
            .get(&None)
            .into_iter()
            .flatten()
            .rev()
            .map(|k| (*k, 0))
            .collect();
        while let Some((key, depth)) = stack.pop() {
            groups.push(GroupCounts {
                owner: Some(key.to_owned()),
                parent: placed_under[key].clone(),
                depth,
                counts: totals.remove(key).unwrap_or_else(|| Counts::new(card)),
                own: own.remove(key).unwrap_or_else(|| Counts::new(card)),
            });
            stack.extend(
                children
                    .get(&Some(key))
                    .into_iter()
                    .flatten()
                    .rev()
                    .map(|k| (*k, depth + 1)),
            );
        }
        if let Some(counts) = no_owner {
            groups.push(GroupCounts {
                owner: None,
                parent: None,
                depth: 0,
                own: counts.clone(),
                counts,
            });
        }
        RollUp { all, groups }
    }

    /// The node of this owner (its ref as relations name it).
    pub fn group(&self, owner: &str) -> Option<&GroupCounts> {
        self.groups
            .iter()
            .find(|g| g.owner.as_deref() == Some(owner))
    }
}

/// Makes the parent links a forest: each cycle loses the link of its smallest ref, which
/// becomes a root.
fn cut_cycles(parent: &mut BTreeMap<String, Option<String>>) {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let keys: Vec<String> = parent.keys().cloned().collect();
    for start in keys {
        let mut path: Vec<String> = Vec::new();
        let mut cur = Some(start);
        while let Some(key) = cur {
            if done.contains(&key) {
                break;
            }
            if let Some(at) = path.iter().position(|k| *k == key) {
                if let Some(smallest) = path[at..].iter().min().cloned() {
                    parent.insert(smallest, None);
                }
                break;
            }
            cur = parent.get(&key).cloned().flatten();
            path.push(key);
        }
        done.extend(path);
    }
}
