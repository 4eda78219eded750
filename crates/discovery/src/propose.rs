//! Proposals: a filled-in Component for a repository without a catalog file. Every field that is
//! guessed says so, with the evidence it was guessed from, so an owner can judge it before
//! accepting.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::directory::Directory;
use crate::inventory::Repository;
use crate::languages;

/// A guessed field: its dotted path in the entity, the value, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guess {
    pub field: String,
    pub value: Value,
    pub evidence: Vec<String>,
}

/// A proposed entity for one repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub entity: Value,
    pub guesses: Vec<Guess>,
}

/// Why no valid entity can be proposed or accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProposalError {
    #[error(
        "{0:?} is not a valid entity name: use letters, digits and single - _ . between them, at most 63 characters"
    )]
    InvalidName(String),
    #[error("repository name {0:?} gives no valid entity name")]
    NoName(String),
    #[error("the proposed entity is invalid: {0}")]
    Invalid(String),
}

/// Backstage's object-name rule made to fit: lower case, runs of other characters become one
/// `-`, separators trimmed from both ends, at most 63 characters.
pub fn sanitise_name(raw: &str) -> Result<String, ProposalError> {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with(['-', '_', '.']) {
            out.push(if matches!(c, '_' | '.') { c } else { '-' });
        }
    }
    out.truncate(63);
    let out = out.trim_end_matches(['-', '_', '.']).to_owned();
    if out.is_empty() {
        return Err(ProposalError::NoName(raw.to_owned()));
    }
    Ok(out)
}

/// The proposal for `repo`, with owners looked up in `directory`.
pub fn propose(repo: &Repository, directory: &Directory) -> Result<Proposal, ProposalError> {
    let name = sanitise_name(&repo.name)?;
    let mut guesses = vec![Guess {
        field: "metadata.name".into(),
        value: json!(name),
        evidence: vec![if name == repo.name {
            format!("repository name {:?}", repo.name)
        } else {
            format!("repository name {:?}, made a valid entity name", repo.name)
        }],
    }];
    let (kind, why) = guess_type(repo);
    guesses.push(Guess {
        field: "spec.type".into(),
        value: json!(kind),
        evidence: why,
    });
    let (lifecycle, why) = if repo.archived {
        ("deprecated", "the repository is archived".to_owned())
    } else {
        (
            "production",
            "the repository is active (not archived)".to_owned(),
        )
    };
    guesses.push(Guess {
        field: "spec.lifecycle".into(),
        value: json!(lifecycle),
        evidence: vec![why],
    });
    let (owner, why) = guess_owner(repo, directory);
    guesses.push(Guess {
        field: "spec.owner".into(),
        value: json!(owner),
        evidence: why,
    });
    // Build and documentation files say little about what the software is written in.
    let main: Vec<&(String, u64)> = repo
        .languages
        .iter()
        .filter(|(l, _)| !matches!(l.as_str(), "Markdown" | "Makefile" | "Dockerfile" | "Shell"))
        .filter(|(l, _)| model::validate::is_valid_tag(&languages::tag(l)))
        .take(3)
        .collect();
    let total: u64 = repo.languages.iter().map(|(_, b)| b).sum();
    let mut tags: Vec<String> = main.iter().map(|(l, _)| languages::tag(l)).collect();
    let mut evidence: Vec<String> = main
        .iter()
        .map(|(l, b)| format!("{l}: {b} of {total} {}", size_unit(repo)))
        .collect();
    // The host's topics are the repository's own labels; valid ones become tags too.
    for topic in &repo.topics {
        let tag = topic.to_ascii_lowercase();
        if model::validate::is_valid_tag(&tag) && !tags.contains(&tag) {
            evidence.push(format!("topic {topic:?} on the repository"));
            tags.push(tag);
        }
    }
    if !tags.is_empty() {
        guesses.push(Guess {
            field: "metadata.tags".into(),
            value: json!(tags),
            evidence,
        });
    }
    let source = source_location(repo);
    guesses.push(Guess {
        field: "metadata.annotations.backstage.io/source-location".into(),
        value: json!(source.0),
        evidence: vec![source.1],
    });
    let mut proposal = Proposal {
        entity: json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name, "annotations": {}},
            "spec": {},
        }),
        guesses,
    };
    let guesses = proposal.guesses.clone();
    for g in guesses {
        proposal.set(&g.field, g.value);
    }
    proposal.validate()?;
    Ok(proposal)
}

impl Proposal {
    /// Sets a field by its dotted path; an annotation's key is everything after `annotations.`.
    fn set(&mut self, field: &str, value: Value) {
        let obj = self.entity.as_object_mut().expect("entity is an object");
        let (parent, key): (&mut Map<String, Value>, &str) =
            if let Some(k) = field.strip_prefix("metadata.annotations.") {
                (object(obj, &["metadata", "annotations"]), k)
            } else {
                let (path, key) = field.rsplit_once('.').unwrap_or(("", field));
                let path: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
                (object(obj, &path), key)
            };
        parent.insert(key.to_owned(), value);
    }

    /// Applies an owner's edits (`metadata.name`, `spec.type`, `spec.owner`, `spec.lifecycle`);
    /// an edited field is no longer a guess. The result must be a valid entity.
    pub fn edit(&mut self, field: &str, value: &str) -> Result<(), ProposalError> {
        let value = value.trim();
        if field == "metadata.name" && !model::validate::is_valid_object_name(value) {
            return Err(ProposalError::InvalidName(value.to_owned()));
        }
        self.set(field, json!(value));
        self.guesses.retain(|g| g.field != field);
        self.validate()
    }

    pub fn name(&self) -> &str {
        self.entity
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    fn validate(&self) -> Result<(), ProposalError> {
        let entity = self.entity.as_object().expect("entity is an object");
        let problems = model::validate::validate(entity);
        if problems.is_empty() {
            return Ok(());
        }
        if problems.iter().any(|p| p.path == "metadata.name") {
            return Err(ProposalError::InvalidName(self.name().to_owned()));
        }
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        Err(ProposalError::Invalid(list.join("; ")))
    }

    /// The entity as a `catalog-info.yaml` document, with a comment naming what was guessed.
    pub fn to_yaml(&self) -> String {
        let mut out = String::from("# Proposed by Stagedoor discovery. Guessed: ");
        let fields: Vec<&str> = self.guesses.iter().map(|g| g.field.as_str()).collect();
        out.push_str(if fields.is_empty() { "nothing" } else { "" });
        out.push_str(&fields.join(", "));
        out.push('\n');
        crate::yaml::write(&self.entity, 0, &mut out);
        out
    }
}

fn object<'a>(mut obj: &'a mut Map<String, Value>, path: &[&str]) -> &'a mut Map<String, Value> {
    for p in path {
        obj = obj
            .entry(p.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("proposal paths are objects");
    }
    obj
}

/// Service, website or library, from the files that say so; each rule that fired is evidence.
pub fn guess_type(repo: &Repository) -> (&'static str, Vec<String>) {
    let has = |p: &str| repo.markers.iter().any(|m| m == p);
    let mut score = [
        ("service", 0u32, Vec::new()),
        ("website", 0, Vec::new()),
        ("library", 0, Vec::new()),
    ];
    let mut add = |i: usize, weight: u32, why: String| {
        score[i].1 += weight;
        score[i].2.push(why);
    };
    for m in &repo.markers {
        let m = m.as_str();
        match m {
            "Dockerfile"
            | "Procfile"
            | "docker-compose.yml"
            | "docker-compose.yaml"
            | "compose.yaml" => add(0, 2, format!("{m} runs it as a process")),
            "openapi.yaml" | "openapi.json" => add(0, 2, format!("{m} describes an API it serves")),
            "src/main.rs" | "main.go" | "manage.py" | "app.py" => {
                add(0, 1, format!("{m} is an entry point"))
            }
            "index.html" | "public/index.html" | "src/index.html" => {
                add(1, 2, format!("{m} is a web page"))
            }
            "hugo.toml" | "_config.yml" | "gatsby-config.js" | "next.config.js"
            | "next.config.mjs" | "mkdocs.yml" => {
                add(1, 2, format!("{m} configures a site generator"))
            }
            "vite.config.ts" | "vite.config.js" => add(1, 1, format!("{m} bundles a front end")),
            "src/lib.rs" if !has("src/main.rs") => {
                add(2, 2, "src/lib.rs without src/main.rs".into())
            }
            "setup.py" | "pyproject.toml" | "Cargo.toml" | "package.json" | "go.mod"
            | "pom.xml" | "build.gradle" => add(2, 1, format!("{m} packages it")),
            _ if m.ends_with(".gemspec") => add(2, 2, format!("{m} packages a gem")),
            _ if m.ends_with("/Chart.yaml") => add(0, 2, format!("{m} deploys it with Helm")),
            _ if m.starts_with("cmd/") => add(0, 1, format!("{m} is an entry point")),
            _ => {}
        }
    }
    let best = score
        .iter()
        .max_by_key(|(_, s, _)| *s)
        .expect("three kinds");
    if best.1 == 0 {
        return (
            "service",
            vec!["no file says what it is; service is the default".into()],
        );
    }
    // `max_by_key` keeps the last of equals; ties go to the first listed (service, then website).
    let best = score
        .iter()
        .find(|(_, s, _)| *s == best.1)
        .expect("present");
    (best.0, best.2.clone())
}

/// The owner: from CODEOWNERS mapped to a catalog Group (or a User and their group), else from
/// the main recent contributors mapped to catalog Users by email and to their groups.
fn guess_owner(repo: &Repository, directory: &Directory) -> (String, Vec<String>) {
    let mut unmapped: Option<(String, String)> = None;
    if let Some((owners, line)) = repo.codeowners.as_ref().and_then(|c| c.repository_owners()) {
        for handle in &owners {
            if let Some(found) = map_handle(handle, directory) {
                return (found.clone(), vec![format!("{line} ({handle} is {found})")]);
            }
        }
        if let Some(h) = owners.first() {
            let team = h.trim_start_matches('@').rsplit('/').next().unwrap_or(h);
            if let Ok(name) = sanitise_name(team) {
                unmapped = Some((format!("group:default/{name}"), line));
            }
        }
    }
    // Contributors' groups, weighted by their commits.
    let mut tally: Vec<(String, u32, Vec<String>)> = Vec::new();
    let mut users: Vec<(String, u32, String)> = Vec::new();
    for c in &repo.contributors {
        let Some((user, groups)) = directory.user_by_email(&c.email) else {
            continue;
        };
        users.push((user.to_owned(), c.commits, c.email.clone()));
        for g in groups {
            let why = format!(
                "{} ({} commits in 90 days) is {user}, a member",
                c.email, c.commits
            );
            match tally.iter_mut().find(|(r, _, _)| r == g) {
                Some(t) => {
                    t.1 += c.commits;
                    t.2.push(why);
                }
                None => tally.push((g.clone(), c.commits, vec![why])),
            }
        }
    }
    if let Some((group, n, why)) = tally
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
    {
        let mut evidence = why.clone();
        evidence.push(format!("{group}: {n} of the recent commits"));
        return (group.clone(), evidence);
    }
    if let Some((user, n, email)) = users.first() {
        return (
            user.clone(),
            vec![format!(
                "{email} ({n} commits in 90 days) is {user}, who belongs to no group"
            )],
        );
    }
    if let Some((group, line)) = unmapped {
        return (
            group,
            vec![format!("{line}, a team not in the catalog yet")],
        );
    }
    (
        "unknown".into(),
        vec!["no CODEOWNERS owner and no recent contributor is in the catalog".into()],
    )
}

/// `@org/team` → the Group named `team`; `@user` or an email → that User's first group (or the User).
fn map_handle(handle: &str, directory: &Directory) -> Option<String> {
    if let Some(h) = handle.strip_prefix('@') {
        if let Some((_, team)) = h.split_once('/') {
            return directory.group(team).map(str::to_owned);
        }
        if let Some((user, groups)) = directory.user_by_name(h) {
            return Some(groups.first().cloned().unwrap_or_else(|| user.to_owned()));
        }
        return directory.group(h).map(str::to_owned);
    }
    directory
        .user_by_email(handle)
        .map(|(user, groups)| groups.first().cloned().unwrap_or_else(|| user.to_owned()))
}

/// What the language sizes count: bytes, or GitLab's shares in hundredths of a percent.
fn size_unit(repo: &Repository) -> &'static str {
    match &repo.host {
        Some(h) if h.kind == "gitlab" => "hundredths of a percent of the code (GitLab)",
        _ => "bytes of source",
    }
}

/// `backstage.io/source-location`: the remote's URL when the repository has one, else the folder.
fn source_location(repo: &Repository) -> (String, String) {
    if let Some(h) = &repo.host {
        // GitLab's pages put `/-/` before `tree`; GitHub's do not.
        let dash = if h.kind == "gitlab" { "/-" } else { "" };
        return (
            format!(
                "url:{}{dash}/tree/{}/",
                repo.path.display(),
                repo.default_branch
            ),
            format!("the repository's page on {}", h.kind),
        );
    }
    match repo.remote_url.as_deref() {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => (
            format!(
                "url:{}/tree/{}/",
                url.trim_end_matches(".git"),
                repo.default_branch
            ),
            format!("remote.origin.url is {url}"),
        ),
        _ => (
            format!("dir:{}/", repo.path.display()),
            "the repository's folder (no http remote)".into(),
        ),
    }
}
