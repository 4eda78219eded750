//! The built-in facts a check sees as `facts.<name>`, computed from the snapshot and, for entities
//! read from local files, from the file and the repository it lives in. Their names are listed in
//! `model::validate::stagedoor_kinds::FACTS` and `REPO_FACTS` (so validation can refuse unknown
//! ones) and described in docs/api.md.
//!
//! Reading the disk is cached per snapshot ([`Snapshot::derived`]): each source file is looked at
//! once and each repository walked once, however many entities (and scorecards) share them. The
//! disk is read when an entity is evaluated, which (scores being kept while the entity, its
//! pushed facts and the day are unchanged) is after the entity changes or once a day: a
//! repository edited without any catalog change is seen by the next day's evaluation.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::SystemTime;

use catalog::read::{Entity, Snapshot};
use chrono::{DateTime, FixedOffset};
use model::relations;

/// The annotation that says which file an entity was read from (`file:/abs/path` or `url:…`).
const MANAGED_BY_LOCATION: &str = "backstage.io/managed-by-location";
/// How many directories up from the source file a `.git` is looked for.
const MAX_ROOT_LEVELS: usize = 20;
/// Most files a repository walk looks at; the rest of the repository is not seen.
const MAX_FILES: usize = 20_000;
/// Deepest directory a repository walk enters, counted from the repository root.
const MAX_DEPTH: usize = 12;
/// Most dependency manifests read per repository.
const MAX_MANIFESTS: usize = 200;
/// Largest manifest read; bigger ones count as present but are not parsed.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// Directories a repository walk does not enter (besides every hidden one, `.git` included):
/// dependencies, build output and virtual environments, which are not the repository's code.
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "target",
    "vendor",
    "dist",
    "build",
    "__pycache__",
    "venv",
];
/// The dependency manifests `facts.repo.manifests` reports, by file name.
const MANIFESTS: &[&str] = &[
    "Cargo.toml",
    "package.json",
    "go.mod",
    "pom.xml",
    "pyproject.toml",
    "requirements.txt",
    "build.gradle",
];
/// Dependencies whose major version `facts.repo.frameworks` reports, per manifest kind. Every
/// `@backstage/…` package of a package.json is reported too.
const NPM_FRAMEWORKS: &[&str] = &[
    "react",
    "next",
    "express",
    "vue",
    "@angular/core",
    "typescript",
];
const CARGO_FRAMEWORKS: &[&str] = &["tokio", "axum", "actix-web"];
const PYTHON_FRAMEWORKS: &[&str] = &["django", "flask", "fastapi"];

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
    /// Whole days since the entity's source file last changed (its modification time), or -1
    /// when unknown: not read from a local file, or the file cannot be read.
    pub days_since_change: i64,
    /// The repository the entity's source file is in.
    #[serde(serialize_with = "serialize_arc")]
    pub repo: Arc<RepoFacts>,
}

/// What one repository holds, as `facts.repo.<name>`. Every field is present for every entity;
/// when the repository could not be read (`known` false) each has its neutral value.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RepoFacts {
    /// The entity was read from a local file and its repository's directory could be read.
    pub known: bool,
    /// A `README*` file at the repository root.
    pub has_readme: bool,
    /// A `CODEOWNERS` file at the root, in `.github/` or in `docs/`.
    pub has_codeowners: bool,
    /// A `LICENSE*`, `LICENCE*` or `COPYING*` file at the root.
    pub has_license: bool,
    /// A CI definition: `.github/workflows/*.yml` (or `.yaml`), `.gitlab-ci.yml`, `Jenkinsfile`,
    /// `.circleci/config.yml`, `azure-pipelines.yml` or `bitbucket-pipelines.yml`.
    pub has_ci: bool,
    /// A `Dockerfile` (or `Containerfile`, `Dockerfile.*`, `*.dockerfile`) anywhere in the walk.
    pub has_dockerfile: bool,
    /// Programming languages by file extension, the most bytes first.
    pub languages: Vec<String>,
    /// The dependency manifests found anywhere in the walk (file names, sorted, once each).
    pub manifests: Vec<String>,
    /// Major versions of major frameworks and dependencies, read from the manifests; the lowest
    /// when several manifests name one. `go` is the minor of go.mod's `go 1.N` directive.
    pub frameworks: BTreeMap<String, i64>,
}

fn serialize_arc<S: serde::Serializer>(repo: &Arc<RepoFacts>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(repo.as_ref(), s)
}

/// The repository facts of an entity that is not read from a local file.
static UNKNOWN_REPO: LazyLock<Arc<RepoFacts>> = LazyLock::new(Arc::default);

impl Facts {
    /// The facts about `entity` at `now` (the evaluation's CEL timestamp; any other value means
    /// the clock's time).
    pub fn of(entity: &Entity, snapshot: &Snapshot, now: &cel::Value) -> Facts {
        // The owner's stored record is enough: parsing its JSON (a group's relations can run to
        // thousands) for every entity it owns was most of the evaluation's time.
        let owner = entity.owner().and_then(|o| snapshot.get(o));
        let dependents = entity
            .relations()
            .filter(|r| r.kind == relations::DEPENDENCY_OF || r.kind == relations::API_CONSUMED_BY)
            .count();
        let source = entity
            .annotation(MANAGED_BY_LOCATION)
            .and_then(|location| snapshot.derived(|_| Sources::default()).get(location));
        let now = match now {
            cel::Value::Timestamp(t) => *t,
            _ => chrono::Utc::now().fixed_offset(),
        };
        Facts {
            owner_exists: owner.is_some(),
            owner_kind: owner
                .and_then(|o| o.key().split_once(':'))
                .map(|(kind, _)| kind.to_owned())
                .unwrap_or_default(),
            has_docs: entity.annotation("backstage.io/techdocs-ref").is_some(),
            dependents: dependents as i64,
            days_since_change: source
                .as_ref()
                .and_then(|s| s.modified)
                .map_or(-1, |m| days_between(m, now)),
            repo: source.map_or_else(|| UNKNOWN_REPO.clone(), |s| s.repo.clone()),
        }
    }

    /// The facts as the CEL map `facts`, with `pushed` (`{source: {name: value}}`, empty when
    /// the entity has none) beside the built-in ones.
    pub(crate) fn to_cel_with(&self, pushed: Option<serde_json::Value>) -> cel::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        v["pushed"] = pushed.unwrap_or_else(|| serde_json::json!({}));
        cel::to_value(&v).unwrap_or(cel::Value::Null)
    }
}

/// Whole days from `then` to `now`; 0 when `then` is in the future.
fn days_between(then: SystemTime, now: DateTime<FixedOffset>) -> i64 {
    let then: DateTime<chrono::Utc> = then.into();
    (now.to_utc() - then).num_days().max(0)
}

/// One local source file: when it last changed and the repository it is in.
struct Source {
    modified: Option<SystemTime>,
    repo: Arc<RepoFacts>,
}

/// Values filled once per key: the threads of an evaluation that reach the same key wait for
/// the one computing it.
type Slots<K, V> = Mutex<HashMap<K, Arc<OnceLock<V>>>>;

/// What has been read from the disk for one snapshot.
#[derive(Default)]
struct Sources {
    /// By `managed-by-location` annotation; `None` for one that is not a local absolute path.
    files: Slots<String, Option<Arc<Source>>>,
    /// By the directory the repository root was looked for from.
    roots: Slots<PathBuf, PathBuf>,
    /// By repository root.
    repos: Slots<PathBuf, Arc<RepoFacts>>,
}

/// The slot for `key`, made empty on first use; the map is locked only to find it.
fn slot<K, Q, V>(map: &Slots<K, V>, key: &Q) -> Arc<OnceLock<V>>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: ToOwned<Owned = K> + std::hash::Hash + Eq + ?Sized,
{
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = map.get(key) {
        return s.clone();
    }
    map.entry(key.to_owned()).or_default().clone()
}

impl Sources {
    fn get(&self, location: &str) -> Option<Arc<Source>> {
        slot(&self.files, location)
            .get_or_init(|| self.read(location))
            .clone()
    }

    fn read(&self, location: &str) -> Option<Arc<Source>> {
        let path = Path::new(location.strip_prefix("file:")?);
        if !path.is_absolute() {
            return None;
        }
        let dir = path.parent()?.to_path_buf();
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let root = slot(&self.roots, dir.as_path())
            .get_or_init(|| repository_root(&dir))
            .clone();
        let repo = slot(&self.repos, root.as_path())
            .get_or_init(|| Arc::new(RepoFacts::read(&root)))
            .clone();
        Some(Arc::new(Source { modified, repo }))
    }
}

/// The nearest directory at or above `dir` holding a `.git` (directory or file, as in a
/// worktree), at most [`MAX_ROOT_LEVELS`] up; `dir` itself when there is none.
fn repository_root(dir: &Path) -> PathBuf {
    dir.ancestors()
        .take(MAX_ROOT_LEVELS + 1)
        .find(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
        .unwrap_or(dir)
        .to_path_buf()
}

fn is_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

impl RepoFacts {
    /// Walks the repository at `root`, within the bounds above, never following a symlink.
    fn read(root: &Path) -> RepoFacts {
        let Ok(top) = std::fs::read_dir(root) else {
            return RepoFacts::default();
        };
        let mut facts = RepoFacts {
            known: true,
            ..RepoFacts::default()
        };
        let mut bytes_by_language: HashMap<&'static str, u64> = HashMap::new();
        let mut manifests: Vec<(PathBuf, &'static str)> = Vec::new();
        let mut seen = 0usize;
        let mut queue = VecDeque::from([(root.to_path_buf(), 0usize, Some(top))]);
        while let Some((dir, depth, listing)) = queue.pop_front() {
            let listing = match listing {
                Some(l) => l,
                None => match std::fs::read_dir(&dir) {
                    Ok(l) => l,
                    Err(_) => continue,
                },
            };
            // Sorted, so the files seen within the bound do not depend on the directory's order.
            let mut entries: Vec<_> = listing.filter_map(Result::ok).collect();
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let name = entry.file_name();
                let Some(name) = name.to_str() else {
                    continue;
                };
                if kind.is_dir() {
                    if depth < MAX_DEPTH && !name.starts_with('.') && !SKIPPED_DIRS.contains(&name)
                    {
                        queue.push_back((entry.path(), depth + 1, None));
                    }
                    continue;
                }
                if !kind.is_file() {
                    continue;
                }
                seen += 1;
                if seen > MAX_FILES {
                    break;
                }
                let lower = name.to_ascii_lowercase();
                if depth == 0 {
                    facts.has_readme |= lower.starts_with("readme");
                    facts.has_license |= ["license", "licence", "copying"]
                        .iter()
                        .any(|p| lower.starts_with(p));
                }
                facts.has_dockerfile |= lower == "dockerfile"
                    || lower == "containerfile"
                    || lower.starts_with("dockerfile.")
                    || lower.ends_with(".dockerfile");
                if let Some(m) = MANIFESTS.iter().find(|m| **m == name) {
                    manifests.push((entry.path(), m));
                }
                if let Some(language) = language(&lower) {
                    let size = entry.metadata().map_or(0, |m| m.len());
                    *bytes_by_language.entry(language).or_default() += size;
                }
            }
            if seen > MAX_FILES {
                break;
            }
        }
        facts.has_codeowners = ["CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"]
            .iter()
            .any(|p| is_file(&root.join(p)));
        facts.has_ci = [
            ".gitlab-ci.yml",
            "Jenkinsfile",
            ".circleci/config.yml",
            "azure-pipelines.yml",
            "bitbucket-pipelines.yml",
        ]
        .iter()
        .any(|p| is_file(&root.join(p)))
            || has_workflow(&root.join(".github/workflows"));
        let mut languages: Vec<(&str, u64)> = bytes_by_language.into_iter().collect();
        languages.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        facts.languages = languages.into_iter().map(|(l, _)| l.to_owned()).collect();
        let mut names: Vec<String> = manifests.iter().map(|(_, m)| (*m).to_owned()).collect();
        names.sort();
        names.dedup();
        facts.manifests = names;
        for (path, kind) in manifests.iter().take(MAX_MANIFESTS) {
            if let Some(text) = read_bounded(path) {
                for (name, major) in frameworks(kind, &text) {
                    facts
                        .frameworks
                        .entry(name)
                        .and_modify(|m| *m = (*m).min(major))
                        .or_insert(major);
                }
            }
        }
        facts
    }
}

/// A `.github/workflows` directory with at least one `.yml` or `.yaml` file.
fn has_workflow(dir: &Path) -> bool {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return false;
    };
    listing.filter_map(Result::ok).any(|e| {
        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
        (name.ends_with(".yml") || name.ends_with(".yaml"))
            && e.file_type().is_ok_and(|t| t.is_file())
    })
}

/// The text of a file of at most [`MAX_MANIFEST_BYTES`]; `None` for a bigger or unreadable one.
fn read_bounded(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() > MAX_MANIFEST_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The programming language of a (lower-cased) file name, by its extension.
fn language(lower: &str) -> Option<&'static str> {
    let (_, ext) = lower.rsplit_once('.')?;
    Some(match ext {
        "rs" => "Rust",
        "ts" | "tsx" | "mts" | "cts" => "TypeScript",
        "js" | "jsx" | "mjs" | "cjs" => "JavaScript",
        "py" => "Python",
        "go" => "Go",
        "java" => "Java",
        "kt" | "kts" => "Kotlin",
        "scala" | "sc" => "Scala",
        "groovy" | "gradle" => "Groovy",
        "c" | "h" => "C",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => "C++",
        "cs" => "C#",
        "fs" | "fsx" => "F#",
        "rb" => "Ruby",
        "php" => "PHP",
        "swift" => "Swift",
        "m" | "mm" => "Objective-C",
        "dart" => "Dart",
        "ex" | "exs" => "Elixir",
        "erl" | "hrl" => "Erlang",
        "hs" => "Haskell",
        "clj" | "cljs" | "cljc" => "Clojure",
        "lua" => "Lua",
        "pl" | "pm" => "Perl",
        "r" => "R",
        "jl" => "Julia",
        "zig" => "Zig",
        "sh" | "bash" | "zsh" => "Shell",
        "ps1" => "PowerShell",
        "tf" | "hcl" => "HCL",
        "vue" => "Vue",
        "svelte" => "Svelte",
        "sql" => "SQL",
        "proto" => "Protocol Buffers",
        _ => return None,
    })
}

/// The (name, major version) pairs one manifest gives.
fn frameworks(kind: &str, text: &str) -> Vec<(String, i64)> {
    match kind {
        "package.json" => npm(text),
        "Cargo.toml" => cargo(text),
        "go.mod" => go(text).map(|v| ("go".to_owned(), v)).into_iter().collect(),
        "pyproject.toml" | "requirements.txt" => python(text),
        _ => Vec::new(),
    }
}

/// The major version a version requirement allows at least: `^18.2.0`, `~1.40`, `>= 4.0, < 5`,
/// `==4.2.1` and `1.x` give their first number; `<5`, `*`, `latest`, paths and URLs give none.
fn major(spec: &str) -> Option<i64> {
    let mut pending_op = String::new();
    for token in spec.split(|c: char| c == ',' || c == '|' || c.is_whitespace()) {
        if token.is_empty() {
            continue;
        }
        let digits_at = token
            .find(|c: char| !matches!(c, '=' | '<' | '>' | '~' | '^' | '!' | 'v'))
            .unwrap_or(token.len());
        let op = format!("{pending_op}{}", &token[..digits_at]);
        let rest = &token[digits_at..];
        if rest.is_empty() {
            // An operator written apart from its version (`>= 4.0`).
            pending_op = op;
            continue;
        }
        pending_op.clear();
        if op.contains('<') || op.contains('!') {
            continue;
        }
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        return rest[..end].parse().ok();
    }
    None
}

/// package.json: the dependencies, devDependencies and peerDependencies named in
/// [`NPM_FRAMEWORKS`] or under `@backstage/`.
fn npm(text: &str) -> Vec<(String, i64)> {
    let Ok(serde_json::Value::Object(doc)) = serde_json::from_str(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for section in ["dependencies", "devDependencies", "peerDependencies"] {
        let Some(serde_json::Value::Object(deps)) = doc.get(section) else {
            continue;
        };
        for (name, spec) in deps {
            if (NPM_FRAMEWORKS.contains(&name.as_str()) || name.starts_with("@backstage/"))
                && let Some(v) = spec.as_str().and_then(major)
            {
                out.push((name.clone(), v));
            }
        }
    }
    out
}

/// The first double- or single-quoted string in `s`.
fn quoted(s: &str) -> Option<&str> {
    let start = s.find(['"', '\''])?;
    let q = s[start..].chars().next()?;
    let rest = &s[start + 1..];
    Some(&rest[..rest.find(q)?])
}

/// The `version = "…"` of an inline table (`{ version = "1.40", features = [...] }`).
fn inline_version(s: &str) -> Option<&str> {
    let mut rest = s;
    while let Some(at) = rest.find("version") {
        let before_ok = at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric();
        let after = rest[at + "version".len()..].trim_start();
        if before_ok && let Some(value) = after.strip_prefix('=') {
            return quoted(value);
        }
        rest = &rest[at + "version".len()..];
    }
    None
}

/// Cargo.toml, line by line: `name = "1.40"`, `name = { version = "1.40" }` in any
/// `[…dependencies]` table, and `version = "…"` in a `[dependencies.name]` table.
fn cargo(text: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut in_deps = false;
    let mut table_dep: Option<&str> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_start_matches('[');
            let header = header.split(']').next().unwrap_or("").trim();
            in_deps = header.ends_with("dependencies");
            table_dep = header
                .rsplit_once("dependencies.")
                .map(|(_, name)| name.trim_matches(['"', '\'', ' ']))
                .filter(|name| CARGO_FRAMEWORKS.contains(name));
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().trim_matches(['"', '\'']);
        let value = value.trim();
        let (name, spec) = match table_dep {
            Some(name) if key == "version" => (name, quoted(value)),
            Some(_) => continue,
            None if in_deps && CARGO_FRAMEWORKS.contains(&key) => {
                let spec = if value.starts_with('{') {
                    inline_version(value)
                } else {
                    quoted(value)
                };
                (key, spec)
            }
            None => continue,
        };
        if let Some(v) = spec.and_then(major) {
            out.push((name.to_owned(), v));
        }
    }
    out
}

/// go.mod's `go 1.N` directive: N.
fn go(text: &str) -> Option<i64> {
    text.lines().find_map(|line| {
        let version = line.trim().strip_prefix("go ")?.trim();
        let (major, rest) = version.split_once('.')?;
        if major != "1" {
            return None;
        }
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..end].parse().ok()
    })
}

/// requirements.txt and pyproject.toml: requirement strings (`django>=4.2`, in a requirements
/// line or a quoted string of a PEP 621 list) and Poetry's `django = "^4.2"` lines.
fn python(text: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        // Poetry: `django = "^4.2"` or `django = { version = "^4.2" }`.
        if let Some((key, value)) = line.split_once('=')
            && let key = key.trim().trim_matches(['"', '\'']).to_ascii_lowercase()
            && PYTHON_FRAMEWORKS.contains(&key.as_str())
            && let spec = value.trim()
            && let Some(spec) = if spec.starts_with('{') {
                inline_version(spec)
            } else {
                quoted(spec)
            }
            && let Some(v) = major(spec)
        {
            out.push((key, v));
            continue;
        }
        // Every quoted string of the line, or the line itself (requirements.txt).
        let mut rest = line;
        let mut any_quoted = false;
        while let Some(start) = rest.find(['"', '\'']) {
            let q = rest[start..].chars().next().unwrap_or('"');
            let after = &rest[start + 1..];
            let Some(end) = after.find(q) else {
                break;
            };
            any_quoted = true;
            out.extend(python_requirement(&after[..end]));
            rest = &after[end + 1..];
        }
        if !any_quoted {
            out.extend(python_requirement(line.split('#').next().unwrap_or("")));
        }
    }
    out
}

/// `Django[bcrypt]>=4.2,<5 ; python_version > "3"` → ("django", 4), for the names in
/// [`PYTHON_FRAMEWORKS`].
fn python_requirement(requirement: &str) -> Option<(String, i64)> {
    let requirement = requirement.split(';').next()?.trim();
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.len());
    let name = requirement[..end].to_ascii_lowercase().replace('_', "-");
    if !PYTHON_FRAMEWORKS.contains(&name.as_str()) {
        return None;
    }
    let mut spec = requirement[end..].trim_start();
    if let Some(extras) = spec.strip_prefix('[') {
        spec = extras.split_once(']')?.1;
    }
    let spec = spec.trim_start().trim_start_matches('(');
    if !spec.starts_with(['=', '<', '>', '~', '!']) {
        return None;
    }
    Some((name, major(spec)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::validate::stagedoor_kinds::{FACTS, REPO_FACTS};
    use serde_json::json;

    fn keys(v: &serde_json::Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    #[test]
    fn every_fact_validation_knows_is_computed() {
        let facts = Facts {
            owner_exists: true,
            owner_kind: "group".into(),
            has_docs: false,
            dependents: 0,
            days_since_change: -1,
            repo: UNKNOWN_REPO.clone(),
        };
        let json = serde_json::to_value(&facts).unwrap();
        assert_eq!(keys(&json), FACTS);
        assert_eq!(keys(&json["repo"]), REPO_FACTS);
    }

    /// A repository as a tempdir: `.git`, README, CODEOWNERS in .github, a Cargo workspace and a
    /// web app, with the catalog file two directories down.
    fn repository() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let files: &[(&str, &str)] = &[
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("README.md", "# Payments\n"),
            (".github/CODEOWNERS", "* @acme/payments\n"),
            (
                "Cargo.toml",
                "[package]\nname = \"payments\"\nversion = \"0.3.0\"\n\n[dependencies]\ntokio = { version = \"1.40\", features = [\"full\"] }\nserde = \"1\"\n",
            ),
            (
                "web/package.json",
                r#"{"name": "web", "dependencies": {"react": "^18.2.0", "@backstage/core-plugin-api": "^1.9.0", "left-pad": "1.0.0"}}"#,
            ),
            (
                "src/main.rs",
                "fn main() {\n    println!(\"payments\");\n}\n",
            ),
            ("src/lib.rs", "pub fn pay() {}\n"),
            ("web/src/app.ts", "export const app = 1;\n"),
            // Not the repository's code: never walked.
            ("node_modules/left-pad/index.js", &"x".repeat(10_000)),
            ("target/debug/build.rs", &"x".repeat(10_000)),
            ("catalog/services/catalog-info.yaml", "kind: Component\n"),
        ];
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn component(name: &str, location: &str) -> Arc<catalog::read::Stitched> {
        let json = json!({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": name, "namespace": "default",
                         "annotations": {MANAGED_BY_LOCATION: location}},
            "spec": {"type": "service", "owner": "team-a", "lifecycle": "production"},
        });
        Arc::new(catalog::read::Stitched::from_json(
            format!("component:default/{name}"),
            format!("uid-{name}"),
            "etag".into(),
            &json.to_string(),
        ))
    }

    fn now() -> cel::Value {
        cel::Value::Timestamp(chrono::Utc::now().fixed_offset())
    }

    #[test]
    fn a_local_entity_sees_its_file_and_repository() {
        let repo = repository();
        let file = repo.path().join("catalog/services/catalog-info.yaml");
        let snapshot = Snapshot::of(vec![component(
            "payments",
            &format!("file:{}", file.display()),
        )]);
        let entity = snapshot.entity("component:default/payments").unwrap();
        let facts = Facts::of(&entity, &snapshot, &now());
        assert_eq!(facts.days_since_change, 0, "written just now");
        let r = &facts.repo;
        assert!(r.known);
        assert!(r.has_readme && r.has_codeowners, "{r:?}");
        assert!(!r.has_license && !r.has_ci && !r.has_dockerfile, "{r:?}");
        assert_eq!(r.languages, ["Rust", "TypeScript"], "most bytes first");
        assert_eq!(r.manifests, ["Cargo.toml", "package.json"]);
        assert_eq!(
            r.frameworks,
            BTreeMap::from([
                ("@backstage/core-plugin-api".to_owned(), 1),
                ("react".to_owned(), 18),
                ("tokio".to_owned(), 1),
            ])
        );

        // Ten days on, the same file is ten days old.
        let later = chrono::Utc::now().fixed_offset() + chrono::Duration::days(10);
        let facts = Facts::of(&entity, &snapshot, &cel::Value::Timestamp(later));
        assert_eq!(facts.days_since_change, 10);
    }

    #[test]
    fn checks_read_repository_facts_naturally() {
        let repo = repository();
        let file = repo.path().join("catalog/services/catalog-info.yaml");
        let snapshot = Snapshot::of(vec![component(
            "payments",
            &format!("file:{}", file.display()),
        )]);
        let entity = snapshot.entity("component:default/payments").unwrap();
        let facts = Facts::of(&entity, &snapshot, &now()).to_cel_with(None);
        let mut ctx = cel::Context::default();
        ctx.add_variable_from_value("facts", facts);
        let passes = |expression: &str| {
            model::validate::stagedoor_kinds::check_expression(expression).unwrap();
            cel::Program::compile(expression)
                .unwrap()
                .execute(&ctx)
                .unwrap()
        };
        for expression in [
            "facts.repo.known && facts.repo.has_readme && facts.repo.has_codeowners",
            "!facts.repo.has_ci && !facts.repo.has_license && !facts.repo.has_dockerfile",
            "facts.repo.languages[0] == 'Rust' && 'TypeScript' in facts.repo.languages",
            "'Cargo.toml' in facts.repo.manifests && !('go.mod' in facts.repo.manifests)",
            "facts.repo.frameworks.react >= 18 && facts.repo.frameworks['tokio'] == 1",
            "!('django' in facts.repo.frameworks)",
            "facts.days_since_change >= 0 && facts.days_since_change < 1",
        ] {
            assert_eq!(passes(expression), cel::Value::Bool(true), "{expression}");
        }
    }

    #[test]
    fn an_entity_not_read_from_a_local_file_gets_neutral_values() {
        for location in [
            "url:https://github.com/acme/payments/blob/main/catalog-info.yaml",
            "file:relative/catalog-info.yaml",
            "file:/nonexistent/stagedoor/catalog-info.yaml",
        ] {
            let snapshot = Snapshot::of(vec![component("payments", location)]);
            let entity = snapshot.entity("component:default/payments").unwrap();
            let facts = Facts::of(&entity, &snapshot, &now());
            assert_eq!(facts.days_since_change, -1, "{location}");
            assert_eq!(*facts.repo, RepoFacts::default(), "{location}");
            // Every key is there, so expressions never fail on a missing one.
            let json = serde_json::to_value(&facts).unwrap();
            assert_eq!(keys(&json["repo"]), REPO_FACTS);
            assert_eq!(json["repo"]["frameworks"], json!({}));
        }
    }

    #[test]
    fn entities_of_one_repository_share_one_walk() {
        let repo = repository();
        let a = repo.path().join("catalog/services/catalog-info.yaml");
        let b = repo.path().join("web/catalog-info.yaml");
        std::fs::write(&b, "kind: Component\n").unwrap();
        let snapshot = Snapshot::of(vec![
            component("a", &format!("file:{}", a.display())),
            component("b", &format!("file:{}", b.display())),
            component("c", &format!("file:{}", a.display())),
        ]);
        let facts: Vec<Facts> = ["a", "b", "c"]
            .iter()
            .map(|n| {
                let entity = snapshot.entity(&format!("component:default/{n}")).unwrap();
                Facts::of(&entity, &snapshot, &now())
            })
            .collect();
        assert!(Arc::ptr_eq(&facts[0].repo, &facts[1].repo));
        assert!(Arc::ptr_eq(&facts[0].repo, &facts[2].repo));
    }

    #[test]
    fn without_git_the_source_directory_is_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("svc");
        std::fs::create_dir_all(sub.join(".github/workflows")).unwrap();
        std::fs::write(sub.join(".github/workflows/ci.yaml"), "on: push\n").unwrap();
        std::fs::write(sub.join("LICENSE"), "MIT\n").unwrap();
        std::fs::write(sub.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(sub.join("go.mod"), "module x\n\ngo 1.22.3\n").unwrap();
        std::fs::write(sub.join("main.go"), "package main\n").unwrap();
        // Beside the source directory, so not in its repository.
        std::fs::write(dir.path().join("README.md"), "# Up\n").unwrap();
        assert_eq!(repository_root(&sub), sub);
        let r = RepoFacts::read(&sub);
        assert!(
            r.known && r.has_ci && r.has_license && r.has_dockerfile,
            "{r:?}"
        );
        assert!(!r.has_readme && !r.has_codeowners, "{r:?}");
        assert_eq!(r.languages, ["Go"]);
        assert_eq!(r.manifests, ["go.mod"]);
        assert_eq!(r.frameworks, BTreeMap::from([("go".to_owned(), 22)]));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("big.py"), "x = 1\n".repeat(1000)).unwrap();
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir(repo.path().join(".git")).unwrap();
        std::fs::write(repo.path().join("main.rs"), "fn main() {}\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), repo.path().join("linked")).unwrap();
        std::os::unix::fs::symlink(repo.path(), repo.path().join("loop")).unwrap();
        let r = RepoFacts::read(repo.path());
        assert_eq!(r.languages, ["Rust"]);
    }

    #[test]
    fn versions_are_read_from_requirements() {
        for (spec, want) in [
            ("^18.2.0", Some(18)),
            ("~1.40", Some(1)),
            (">= 4.0, < 5", Some(4)),
            ("==4.2.1", Some(4)),
            ("1.x", Some(1)),
            ("v2", Some(2)),
            ("18 || 19", Some(18)),
            ("<5", None),
            ("*", None),
            ("latest", None),
            ("file:../lib", None),
            ("workspace:*", None),
            ("", None),
            ("99999999999999999999999", None),
        ] {
            assert_eq!(major(spec), want, "{spec:?}");
        }
        let cargo_toml = "[workspace.dependencies]\naxum = \"0.7\"\n\"actix-web\" = { version = \"4.4\" }\ntokio.workspace = true\n\n[dependencies.tokio]\nversion = \"1.38\"\n\n[package]\nversion = \"9.0.0\"\n";
        assert_eq!(
            cargo(cargo_toml),
            [
                ("axum".to_owned(), 0),
                ("actix-web".to_owned(), 4),
                ("tokio".to_owned(), 1)
            ]
        );
        let pyproject = "[project]\ndependencies = [\n  \"Django[bcrypt]>=4.2,<5\",\n  'fastapi ~= 0.110 ; python_version >= \"3.8\"',\n]\n\n[tool.poetry.dependencies]\nflask = { version = \"^3.0\", optional = true }\n";
        assert_eq!(
            python(pyproject),
            [
                ("django".to_owned(), 4),
                ("fastapi".to_owned(), 0),
                ("flask".to_owned(), 3)
            ]
        );
        let requirements = "# web\nFlask==2.3.3  # pinned\n-r base.txt\ndjango\nrequests>=2\n";
        assert_eq!(python(requirements), [("flask".to_owned(), 2)]);
        assert_eq!(go("module x\n\ngo 1.21\n"), Some(21));
        assert_eq!(
            npm(r#"{"devDependencies": {"typescript": "~5.4.0", "next": "latest"}}"#),
            [("typescript".to_owned(), 5)]
        );
    }

    #[test]
    fn garbage_manifests_give_nothing() {
        let garbage = [
            "",
            "\u{0}\u{1}{{{[[[",
            "[dependencies\ntokio = ",
            "tokio = { version = ",
            "{\"dependencies\": [1, 2]}",
            "go \ngo 2.0\ngo 1.",
            "django>=\n\"unterminated",
            "é = 'ü'\n[[\n",
        ];
        for text in garbage {
            for kind in MANIFESTS {
                let _ = frameworks(kind, text);
            }
        }
        assert!(cargo("[dependencies]\ntokio = { version = ").is_empty());
    }
}
