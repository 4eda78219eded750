//! Counts for one scorecard: over everything it applies to and per owning team, how many
//! entities reached each level and how many pass each check.

use std::collections::BTreeMap;

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
    pub fn of(card: &Scorecard, scores: &[EntityScore]) -> Summary {
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
