//! `stagedoor discover`: scans directory trees of git repositories offline and prints what it
//! found and, for each repository without a catalog file, the entity it proposes; `--write`
//! commits each proposal on a new branch of its repository.

use std::path::{Path, PathBuf};

use discovery::{Directory, Limits, Proposal, Repository};
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct DiscoverArgs {
    /// Directories holding git repositories (working trees or bare), searched six levels deep;
    /// a path may itself be a repository.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format: `json` prints one JSON object per repository, one per line.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Commit each proposal as catalog-info.yaml on a new branch `stagedoor/catalog-info` of its
    /// repository (the working tree and the default branch are left alone).
    #[arg(long)]
    write: bool,
    /// Catalog files or directories whose Users and Groups map CODEOWNERS handles and
    /// contributors' emails to owners (repeatable).
    #[arg(long)]
    catalog: Vec<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Returns the exit code: 0 when every repository was read (and written, with `--write`), 1
/// otherwise.
pub fn run(args: &DiscoverArgs) -> anyhow::Result<i32> {
    let directory = Directory::from_entities(&read_catalog(&args.catalog));
    let now = chrono::Utc::now().timestamp();
    let scan = discovery::scan(&args.paths, &[], &Limits::default(), now);
    let mut failed = !scan.errors.is_empty();
    for repo in &scan.repositories {
        let proposal = (!repo.is_cataloged()).then(|| discovery::propose(repo, &directory));
        let written = match (&proposal, args.write) {
            (Some(Ok(p)), true) => Some(discovery::commit_proposal(&repo.path, &p.to_yaml(), now)),
            _ => None,
        };
        failed |= matches!(proposal, Some(Err(_))) || matches!(written, Some(Err(_)));
        match args.format {
            Format::Json => println!(
                "{}",
                repository_json(repo, proposal.as_ref(), written.as_ref())
            ),
            Format::Text => print_text(repo, proposal.as_ref(), written.as_ref()),
        }
    }
    for e in &scan.errors {
        match args.format {
            Format::Json => println!("{}", json!({"path": e.path, "error": e.message})),
            Format::Text => eprintln!("{}: {}", e.path.display(), e.message),
        }
    }
    let cataloged = scan
        .repositories
        .iter()
        .filter(|r| r.is_cataloged())
        .count();
    eprintln!(
        "{} repositories, {cataloged} cataloged, {} unreadable",
        scan.repositories.len(),
        scan.errors.len()
    );
    Ok(i32::from(failed))
}

type Proposed = Result<Proposal, discovery::ProposalError>;
type WriteResult = Result<discovery::Written, discovery::WriteError>;

fn repository_json(
    repo: &Repository,
    proposal: Option<&Proposed>,
    written: Option<&WriteResult>,
) -> Value {
    let mut v = json!({
        "path": repo.path,
        "name": repo.name,
        "cataloged": repo.is_cataloged(),
        "catalogFiles": repo.catalog_files,
        "defaultBranch": repo.default_branch,
        "head": repo.head,
        "bare": repo.bare,
        "archived": repo.archived,
        "lastCommit": repo.last_commit,
        "languages": repo.languages.iter().map(|(l, b)| json!({"language": l, "bytes": b})).collect::<Vec<_>>(),
        "ci": repo.ci,
        "codeowners": repo.codeowners.as_ref().map(|c| &c.path),
        "contributors": repo.contributors,
        "problems": repo.problems,
        "proposal": null,
    });
    match proposal {
        Some(Ok(p)) => v["proposal"] = json!({"entity": p.entity, "guesses": p.guesses}),
        Some(Err(e)) => v["proposalError"] = json!(e.to_string()),
        None => {}
    }
    match written {
        Some(Ok(w)) => v["written"] = json!(w),
        Some(Err(e)) => v["writeError"] = json!(e.to_string()),
        None => {}
    }
    v
}

fn print_text(repo: &Repository, proposal: Option<&Proposed>, written: Option<&WriteResult>) {
    let path = repo.path.display();
    if repo.is_cataloged() {
        println!("{path}: cataloged ({})", repo.catalog_files.join(", "));
    }
    for p in &repo.problems {
        println!("{path}: warning: {p}");
    }
    match proposal {
        Some(Ok(p)) => {
            println!("{path}: not cataloged; proposes component {}", p.name());
            for g in &p.guesses {
                println!(
                    "    {} = {} (guessed: {})",
                    g.field,
                    g.value,
                    g.evidence.join("; ")
                );
            }
        }
        Some(Err(e)) => println!("{path}: not cataloged; no proposal: {e}"),
        None => {}
    }
    match written {
        Some(Ok(w)) => println!(
            "{path}: wrote {} on branch {} ({})",
            w.file, w.branch, w.commit
        ),
        Some(Err(e)) => println!("{path}: not written: {e}"),
        None => {}
    }
}

/// Users and Groups from catalog files, read offline (documents that do not parse are skipped:
/// `stagedoor validate` is the tool that reports them).
fn read_catalog(paths: &[PathBuf]) -> Vec<Value> {
    let mut files = Vec::new();
    for p in paths {
        collect_yaml(p, 0, &mut files);
    }
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            eprintln!("{}: cannot read", f.display());
            continue;
        };
        for doc in model::yaml::parse_documents(&text) {
            if let Ok(v) = doc.result
                && matches!(
                    v.get("kind").and_then(Value::as_str),
                    Some("User" | "Group")
                )
            {
                out.push(v);
            }
        }
    }
    out
}

fn collect_yaml(path: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let hidden = e.file_name().to_string_lossy().starts_with('.');
        if e.file_type().is_ok_and(|t| t.is_dir()) && !hidden && depth < 8 {
            collect_yaml(&p, depth + 1, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}
