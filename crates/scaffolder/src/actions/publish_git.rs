//! `publish:git`: a new bare git repository under the server's git root (`scaffolder.git.root`,
//! nowhere else), holding one commit of the workspace (or its `sourcePath`) on the default
//! branch, written with gix through the shared `gitwrite` crate. Inputs and outputs follow
//! Backstage's publish actions (`repoUrl` as `local?owner=o&repo=r`, `defaultBranch`,
//! `gitCommitMessage`, `gitAuthorName`/`Email`; `remoteUrl`, `repoContentsUrl`, `commitHash`).
//! Afterwards the binary's hook (discovery) may scan and catalog the new repository.

use std::path::Path;

use serde_json::{Value, json};

use super::{ActionContext, ActionSpec, str_input};
use crate::error::ScaffolderError;
use crate::publishing::{self, LOCAL_HOST, Publishing};

pub const GIT: ActionSpec = ActionSpec {
    id: "publish:git",
    description: "Initializes a git repository under the server's git root with the workspace's contents, committed on the default branch.",
    input: || {
        json!({"type": "object", "required": ["repoUrl"], "properties": {
            "repoUrl": {"type": "string", "title": "Repository Location", "description": "Accepts the format 'local?owner=owner&repo=repo'; owner is an optional folder under the git root."},
            "description": {"type": "string", "title": "Repository Description"},
            "defaultBranch": {"type": "string", "title": "Default Branch", "description": "Sets the default branch on the repository. The default value is 'main'"},
            "sourcePath": {"type": "string", "title": "Source Path", "description": "Path within the workspace that will be used as the repository root. If omitted, the entire workspace will be published as the repository."},
            "gitCommitMessage": {"type": "string", "title": "Git Commit Message", "description": "Sets the commit message on the repository. The default value is 'initial commit'"},
            "gitAuthorName": {"type": "string", "title": "Default Author Name", "description": "Sets the default author name for the commit. The default value is 'Scaffolder'"},
            "gitAuthorEmail": {"type": "string", "title": "Default Author Email", "description": "Sets the default author email for the commit."}
        }, "additionalProperties": false})
    },
    output: Some(publish_output),
    dry_run: false,
};

/// What every publish action gives back, as Backstage's publish actions describe it.
pub(super) fn publish_output() -> Value {
    json!({"type": "object", "properties": {
        "remoteUrl": {"type": "string", "title": "A URL to the repository with the provider"},
        "repoContentsUrl": {"type": "string", "title": "A URL to the root of the repository"},
        "commitHash": {"type": "string", "title": "The git commit hash of the initial commit"}
    }})
}

/// The author, committer and message of the one commit a publish action writes: the inputs,
/// else the config's defaults, else Backstage's.
pub(super) struct CommitInputs {
    pub name: String,
    pub email: String,
    pub message: String,
    pub branch: String,
}

pub(super) fn commit_inputs(ctx: &ActionContext<'_>, input: &Value) -> CommitInputs {
    let settings = ctx
        .services
        .catalog
        .as_ref()
        .map(|c| Publishing::of(c).settings())
        .unwrap_or_default();
    CommitInputs {
        name: str_input(input, "gitAuthorName")
            .map(str::to_owned)
            .or(settings.default_author_name)
            .unwrap_or_else(|| publishing::DEFAULT_AUTHOR_NAME.into()),
        email: str_input(input, "gitAuthorEmail")
            .map(str::to_owned)
            .or(settings.default_author_email)
            .unwrap_or_else(|| publishing::DEFAULT_AUTHOR_EMAIL.into()),
        message: str_input(input, "gitCommitMessage")
            .map(str::to_owned)
            .or(settings.default_commit_message)
            .unwrap_or_else(|| publishing::DEFAULT_COMMIT_MESSAGE.into()),
        branch: str_input(input, "defaultBranch")
            .unwrap_or("main")
            .to_owned(),
    }
}

/// Writes `source` as the one commit of a new bare repository at `target` (which must not
/// exist, or be empty); returns the commit id. A failure leaves no half-made repository.
pub(super) fn commit_directory(
    source: &Path,
    target: &Path,
    commit: &CommitInputs,
    now: i64,
) -> Result<String, ScaffolderError> {
    let fail = |e: gitwrite::Error| {
        let _ = std::fs::remove_dir_all(target);
        ScaffolderError::Internal(e.0)
    };
    let repo = gitwrite::init_bare(target, &commit.branch).map_err(|e| {
        let _ = std::fs::remove_dir_all(target);
        ScaffolderError::Input(e.0)
    })?;
    let tree = gitwrite::tree_from_dir(&repo, source).map_err(fail)?;
    let who = gitwrite::Identity {
        name: &commit.name,
        email: &commit.email,
    };
    let info = gitwrite::CommitInfo {
        message: &commit.message,
        author: who,
        committer: who,
        time: now,
    };
    let reference = format!("refs/heads/{}", commit.branch);
    let id = gitwrite::commit(&repo, &reference, tree, &[], &info).map_err(|e| {
        let _ = std::fs::remove_dir_all(target);
        ScaffolderError::Input(e.0)
    })?;
    Ok(id.to_string())
}

/// Claims `target` for a new repository: creates it, or accepts it empty; anything else there
/// is a `ConflictError`.
fn claim(target: &Path) -> Result<(), ScaffolderError> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::create_dir(target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let empty = target.is_dir() && std::fs::read_dir(target)?.next().is_none();
            if empty {
                Ok(())
            } else {
                Err(ScaffolderError::Conflict(format!(
                    "{} already exists and is not empty: publish:git only creates new repositories",
                    target.display()
                )))
            }
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn git(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let url = publishing::parse_repo_url(str_input(input, "repoUrl").unwrap_or_default())?;
    if url.host != LOCAL_HOST {
        return Err(ScaffolderError::Input(format!(
            "publish:git publishes to the host '{LOCAL_HOST}' (the server's git root), not {}; use publish:github or publish:gitlab for hosted repositories",
            url.host
        )));
    }
    let publishing = ctx.services.catalog.as_ref().map(|c| Publishing::of(c));
    let root = publishing
        .as_ref()
        .and_then(|p| p.settings().git_root)
        .ok_or_else(|| {
            ScaffolderError::NotAllowed(
                "publish:git has no git root configured (scaffolder.git.root)".into(),
            )
        })?;
    std::fs::create_dir_all(&root)?;
    let rel = match &url.owner {
        Some(owner) => format!("{owner}/{}.git", url.repo),
        None => format!("{}.git", url.repo),
    };
    let target = crate::workspace::safe_child(&root, &rel)?;
    let source = ctx.workspace_dir(str_input(input, "sourcePath").unwrap_or("./"))?;
    if !source.is_dir() {
        return Err(ScaffolderError::Input(format!(
            "sourcePath {} is not a directory in the workspace",
            str_input(input, "sourcePath").unwrap_or("./")
        )));
    }
    let commit = commit_inputs(ctx, input);
    claim(&target)?;
    let now = chrono::Utc::now().timestamp();
    let hash = commit_directory(&source, &target, &commit, now)?;
    if let Some(d) = str_input(input, "description") {
        // git's own per-repository description file (what gitweb and cgit show).
        std::fs::write(target.join("description"), format!("{d}\n"))?;
    }
    let target = target.canonicalize()?;
    ctx.info(&format!(
        "Initialized a git repository at {} and committed {hash} on {}",
        target.display(),
        commit.branch
    ));
    let remote = format!("file://{}", target.display());
    ctx.set_output("remoteUrl", json!(remote));
    ctx.set_output("repoContentsUrl", json!(remote));
    ctx.set_output("commitHash", json!(hash));
    if let Some(p) = publishing
        && let Some(result) = p.git_published(&target).await
    {
        match result {
            Ok(done) => ctx.info(&done),
            // The repository is published; what follows (a scan) failing does not undo it.
            Err(e) => ctx.info(&format!("After publishing: {e}")),
        }
    }
    Ok(())
}
