//! Catalog completeness: of the repositories found, how many are in the catalog, per owning team,
//! per department and for the whole organisation; and the catalog's ownership gaps (entities
//! whose owner is missing or an empty group, entities orphaned by a repository that went away).

use std::collections::{BTreeMap, HashMap, HashSet};

use catalog::read::Snapshot;
use serde::Serialize;

use crate::directory::Directory;
use crate::inventory::Repository;
use crate::propose::{Proposal, ProposalError, propose};
use crate::sync::{Inventory, Settings, mirror_file};

/// Repositories found and cataloged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub found: u32,
    pub cataloged: u32,
}

impl Counts {
    /// Cataloged share in percent (100 when nothing was found: nothing is missing).
    pub fn percent(&self) -> u32 {
        (self.cataloged * 100)
            .checked_div(self.found)
            .unwrap_or(100)
    }

    fn add(&mut self, cataloged: bool) {
        self.found += 1;
        self.cataloged += u32::from(cataloged);
    }
}

/// One repository's place in the count.
#[derive(Debug, Clone, Serialize)]
pub struct RepositoryStatus {
    pub repository: Repository,
    pub cataloged: bool,
    /// The owner: of its cataloged entities, or the proposal's guess.
    pub owner: Option<String>,
    /// Entities its catalog files produce.
    pub entities: Vec<String>,
    #[serde(skip)]
    pub proposal: Option<Result<Proposal, ProposalError>>,
}

/// One group's row: its own repositories and, in `total`, its sub-groups' too.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    pub group: String,
    pub name: String,
    /// `spec.type`: team, department, ...
    pub kind: String,
    pub parent: Option<String>,
    pub depth: usize,
    pub own: Counts,
    pub total: Counts,
}

/// An entity whose owner does not lead to people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerGap {
    pub entity: String,
    /// `None` when the entity names no owner.
    pub owner: Option<String>,
    /// `missing` (no owner, or one not in the catalog) or `empty group`.
    pub problem: &'static str,
}

/// Completeness over one snapshot and one inventory.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Completeness {
    pub org: Counts,
    /// Groups that own a repository and their ancestors, each parent before its children.
    pub groups: Vec<GroupRow>,
    /// Repositories whose owner is unknown or not a group (counted in the org only).
    pub unowned: Counts,
    pub repositories: Vec<RepositoryStatus>,
    pub owner_gaps: Vec<OwnerGap>,
    /// Entities orphaned because their repository or catalog file went away.
    pub orphans: Vec<String>,
    pub missing_repositories: Vec<(String, i64)>,
}

impl Completeness {
    pub fn compute(
        snapshot: &Snapshot,
        inventory: &Inventory,
        settings: &Settings,
    ) -> Completeness {
        let directory = Directory::of(snapshot);
        // Entities by the mirrored file they came from.
        let mut by_file: HashMap<String, Vec<(String, Option<String>)>> = HashMap::new();
        let mut orphans = Vec::new();
        let mirror_prefix = format!("file:{}", settings.mirror.display());
        for e in snapshot.entities(None) {
            let Some(location) = e.annotation("backstage.io/managed-by-location") else {
                continue;
            };
            // The Location entity generated for each registered file names itself: not content.
            if !location.starts_with(&mirror_prefix) || e.kind().eq_ignore_ascii_case("location") {
                continue;
            }
            if e.annotation("backstage.io/orphan") == Some("true") {
                orphans.push(e.entity_ref().to_owned());
            }
            by_file
                .entry(location.trim_start_matches("file:").to_owned())
                .or_default()
                .push((e.entity_ref().to_owned(), e.owner().map(str::to_owned)));
        }
        orphans.sort();

        let mut out = Completeness {
            orphans,
            missing_repositories: inventory
                .missing
                .iter()
                .map(|(r, at)| (r.path.display().to_string(), *at))
                .collect(),
            ..Default::default()
        };
        let mut own: BTreeMap<String, Counts> = BTreeMap::new();
        for repo in &inventory.repositories {
            let mut entities = Vec::new();
            let mut owner = None;
            for f in &repo.catalog_files {
                let path = mirror_file(settings, repo, f).display().to_string();
                for (entity, o) in by_file.get(&path).into_iter().flatten() {
                    entities.push(entity.clone());
                    if owner.is_none() {
                        owner.clone_from(o);
                    }
                }
            }
            let cataloged = repo.is_cataloged();
            let proposal = (!cataloged).then(|| propose(repo, &directory));
            if let Some(Ok(p)) = &proposal {
                owner = p.entity["spec"]["owner"].as_str().map(str::to_owned);
            }
            out.org.add(cataloged);
            match owner
                .as_deref()
                .filter(|o| o.starts_with("group:") && snapshot.entity(o).is_some())
            {
                Some(group) => own.entry(group.to_owned()).or_default().add(cataloged),
                None => out.unowned.add(cataloged),
            }
            out.repositories.push(RepositoryStatus {
                repository: repo.clone(),
                cataloged,
                owner,
                entities,
                proposal,
            });
        }
        out.groups = roll_up(snapshot, &own);
        out.owner_gaps = owner_gaps(snapshot);
        out
    }

    /// The rows to record for a day: the org and every group.
    pub fn day_rows(&self, day: &str) -> Vec<store::CompletenessDay> {
        let row = |scope: &str, c: &Counts| store::CompletenessDay {
            scope: scope.to_owned(),
            day: day.to_owned(),
            found: i64::from(c.found),
            cataloged: i64::from(c.cataloged),
        };
        std::iter::once(row("org", &self.org))
            .chain(self.groups.iter().map(|g| row(&g.group, &g.total)))
            .collect()
    }

    /// The repositories a group (or any of its sub-groups) owns that are not in the catalog.
    pub fn uncatalogued<'a>(
        &'a self,
        group: Option<&'a str>,
    ) -> impl Iterator<Item = &'a RepositoryStatus> + 'a {
        let scope: Option<HashSet<&str>> = group.map(|g| {
            let mut set: HashSet<&str> = HashSet::from([g]);
            // Rows come parents first, so one pass collects every descendant.
            for row in &self.groups {
                if row.parent.as_deref().is_some_and(|p| set.contains(p)) {
                    set.insert(&row.group);
                }
            }
            set
        });
        self.repositories.iter().filter(move |r| {
            !r.cataloged
                && scope
                    .as_ref()
                    .is_none_or(|s| r.owner.as_deref().is_some_and(|o| s.contains(o)))
        })
    }
}

/// Each owning group and its ancestors (`childOf`), with counts summed upwards; cycles are cut
/// by visiting each group once per owner.
fn roll_up(snapshot: &Snapshot, own: &BTreeMap<String, Counts>) -> Vec<GroupRow> {
    let mut parent: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut total: BTreeMap<String, Counts> = BTreeMap::new();
    for (group, counts) in own {
        let mut seen = HashSet::new();
        let mut cur = Some(group.clone());
        while let Some(g) = cur {
            if !seen.insert(g.clone()) {
                break;
            }
            let t = total.entry(g.clone()).or_default();
            t.found += counts.found;
            t.cataloged += counts.cataloged;
            let p = snapshot
                .entity(&g)
                .and_then(|e| {
                    e.targets(model::relations::CHILD_OF)
                        .next()
                        .map(str::to_owned)
                })
                .filter(|p| !seen.contains(p));
            parent.insert(g.clone(), p.clone());
            cur = p;
        }
    }
    // Depth-first from the roots, children by name, so the table reads as a tree.
    let mut children: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    for (g, p) in &parent {
        children.entry(p.clone()).or_default().push(g.clone());
    }
    let mut rows = Vec::new();
    let mut stack: Vec<(String, usize)> = children
        .get(&None)
        .into_iter()
        .flatten()
        .rev()
        .map(|g| (g.clone(), 0))
        .collect();
    let mut placed = HashSet::new();
    while let Some((g, depth)) = stack.pop() {
        if !placed.insert(g.clone()) {
            continue;
        }
        let e = snapshot.entity(&g);
        rows.push(GroupRow {
            name: e
                .as_ref()
                .map(|e| e.title().unwrap_or(e.name()).to_owned())
                .unwrap_or_else(|| g.clone()),
            kind: e
                .as_ref()
                .and_then(|e| e.spec_type().map(str::to_owned))
                .unwrap_or_default(),
            parent: parent.get(&g).cloned().flatten(),
            depth,
            own: own.get(&g).copied().unwrap_or_default(),
            total: total.get(&g).copied().unwrap_or_default(),
            group: g.clone(),
        });
        for c in children.get(&Some(g)).into_iter().flatten().rev() {
            stack.push((c.clone(), depth + 1));
        }
    }
    rows
}

/// Software entities whose owner is absent, not in the catalog, or a group with no members.
fn owner_gaps(snapshot: &Snapshot) -> Vec<OwnerGap> {
    // Separate `filter` values are alternatives (Backstage's query semantics).
    let kinds = ["component", "api", "resource", "system", "domain"].map(|k| format!("kind={k}"));
    let filter = model::filter::parse_query(&kinds).ok().flatten();
    let mut empty: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for e in snapshot.entities(filter.as_ref()) {
        let owner = e.owner().map(str::to_owned);
        let problem = match owner.as_deref() {
            None => Some("missing"),
            Some(o) => match snapshot.entity(o) {
                None => Some("missing"),
                Some(g) if g.kind().eq_ignore_ascii_case("group") => {
                    let is_empty = *empty.entry(o.to_owned()).or_insert_with(|| {
                        g.targets(model::relations::HAS_MEMBER).next().is_none()
                            && g.targets(model::relations::PARENT_OF).next().is_none()
                    });
                    is_empty.then_some("empty group")
                }
                Some(_) => None,
            },
        };
        if let Some(problem) = problem {
            out.push(OwnerGap {
                entity: e.entity_ref().to_owned(),
                owner,
                problem,
            });
        }
    }
    out
}
