//! `publish:git` against real repositories on disk, read back with the `git` program: the
//! commit's files, executable bit, branch, author, committer and message; `sourcePath`; the
//! config's default author; and the refusals (an existing non-empty target, a host that is not
//! `local`, names that climb out of the root, no root configured, a bad branch name).

use crate::support;

use scaffolder::publishing::PublishSettings;
use serde_json::json;
use store::testing::TestDb;
use support::{catalog, git, no_secrets, run_action, workspace};

async fn commits_the_workspace_into_a_new_bare_repository(db: TestDb) {
    let root = tempfile::tempdir().unwrap();
    let catalog = catalog(
        &db,
        PublishSettings {
            git_root: Some(root.path().join("repos")),
            ..Default::default()
        },
    )
    .await;
    let ws = workspace();
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:git",
        json!({
            "repoUrl": "local?owner=payments&repo=ledger",
            "description": "The ledger",
            "defaultBranch": "trunk",
            "gitCommitMessage": "Create ledger from a template",
            "gitAuthorName": "Grace Mbeki",
            "gitAuthorEmail": "grace@example.com"
        }),
        no_secrets(),
    )
    .await;
    ran.result.unwrap();
    let repo = root
        .path()
        .join("repos/payments/ledger.git")
        .canonicalize()
        .unwrap();
    let remote = format!("file://{}", repo.display());
    assert_eq!(ran.output["remoteUrl"], json!(remote));
    assert_eq!(ran.output["repoContentsUrl"], json!(remote));
    let hash = ran.output["commitHash"].as_str().unwrap().to_owned();
    assert_eq!(git(&repo, &["rev-parse", "refs/heads/trunk"]), hash);
    assert_eq!(git(&repo, &["symbolic-ref", "HEAD"]), "refs/heads/trunk");
    assert_eq!(git(&repo, &["rev-parse", "--is-bare-repository"]), "true");
    assert_eq!(
        git(
            &repo,
            &["log", "--format=%an <%ae>|%cn <%ce>|%s|%P", "trunk"]
        ),
        "Grace Mbeki <grace@example.com>|Grace Mbeki <grace@example.com>|Create ledger from a template|"
    );
    assert_eq!(
        git(&repo, &["ls-tree", "-r", "--name-only", "trunk"]),
        "README.md\napp/bin/start\napp/catalog-info.yaml"
    );
    assert!(git(&repo, &["ls-tree", "trunk", "app/bin/start"]).starts_with("100755"));
    assert_eq!(git(&repo, &["show", "trunk:README.md"]), "# payments");
    assert_eq!(
        std::fs::read_to_string(repo.join("description")).unwrap(),
        "The ledger\n"
    );
    assert!(ran.log.contains(&hash), "{}", ran.log);
    // A clone works and checks out the default branch.
    let clone = root.path().join("clone");
    git(
        root.path(),
        &["clone", "-q", &remote, clone.to_str().unwrap()],
    );
    assert_eq!(git(&clone, &["branch", "--show-current"]), "trunk");
    assert!(clone.join("app/catalog-info.yaml").is_file());

    // The same target again: refused, the repository untouched.
    let again = run_action(
        &catalog,
        ws.path(),
        "publish:git",
        json!({"repoUrl": "local?owner=payments&repo=ledger"}),
        no_secrets(),
    )
    .await;
    let err = again.result.unwrap_err();
    assert_eq!(err.name(), "ConflictError");
    assert!(
        err.to_string().contains("already exists and is not empty"),
        "{err}"
    );
    assert_eq!(git(&repo, &["rev-parse", "trunk"]), hash);

    // sourcePath, no owner, and the defaults (Backstage's author and message, branch main).
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:git",
        json!({"repoUrl": "local?repo=app-only", "sourcePath": "app"}),
        no_secrets(),
    )
    .await;
    ran.result.unwrap();
    let repo = root.path().join("repos/app-only.git");
    assert_eq!(
        git(&repo, &["log", "--format=%an <%ae>|%s", "main"]),
        "Scaffolder <scaffolder@backstage.io>|initial commit"
    );
    assert_eq!(
        git(&repo, &["ls-tree", "-r", "--name-only", "main"]),
        "bin/start\ncatalog-info.yaml"
    );
    // An empty directory already there is fine.
    std::fs::create_dir_all(root.path().join("repos/empty.git")).unwrap();
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:git",
        json!({"repoUrl": "local?repo=empty"}),
        no_secrets(),
    )
    .await;
    ran.result.unwrap();
}

async fn refuses_what_it_must_not_publish(db: TestDb) {
    let root = tempfile::tempdir().unwrap();
    let catalog = catalog(
        &db,
        PublishSettings {
            git_root: Some(root.path().join("repos")),
            default_author_name: Some("Platform Bot".into()),
            default_author_email: Some("bot@example.com".into()),
            default_commit_message: Some("Scaffolded".into()),
            ..Default::default()
        },
    )
    .await;
    let ws = workspace();
    let cases = [
        (
            json!({"repoUrl": "github.com?owner=o&repo=r"}),
            "InputError",
            "not github.com",
        ),
        (
            json!({"repoUrl": "local?owner=..&repo=r"}),
            "InputError",
            "Invalid owner",
        ),
        (
            json!({"repoUrl": "local?repo=../../x"}),
            "InputError",
            "Invalid repo",
        ),
        (
            json!({"repoUrl": "local?owner=o"}),
            "InputError",
            "missing repo",
        ),
        (
            json!({"repoUrl": "local?repo=r", "sourcePath": "../.."}),
            "NotAllowedError",
            "outside",
        ),
        (
            json!({"repoUrl": "local?repo=r", "sourcePath": "nope"}),
            "InputError",
            "not a directory",
        ),
        (
            json!({"repoUrl": "local?repo=r2", "defaultBranch": "a..b"}),
            "InputError",
            "branch name",
        ),
        (
            json!({"repoUrl": "local?repo=r", "branch": "x"}),
            "InputError",
            "Invalid input passed to action publish:git",
        ),
    ];
    for (input, name, text) in cases {
        let ran = run_action(
            &catalog,
            ws.path(),
            "publish:git",
            input.clone(),
            no_secrets(),
        )
        .await;
        let err = ran.result.unwrap_err();
        assert_eq!(err.name(), name, "{input}: {err}");
        assert!(err.to_string().contains(text), "{input}: {err}");
    }
    // A refused branch leaves nothing behind.
    assert!(!root.path().join("repos/r2.git").exists());
    // The config's defaults apply when the inputs name none.
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:git",
        json!({"repoUrl": "local?repo=ok"}),
        no_secrets(),
    )
    .await;
    ran.result.unwrap();
    assert_eq!(
        git(
            &root.path().join("repos/ok.git"),
            &["log", "--format=%an <%ae>|%s"]
        ),
        "Platform Bot <bot@example.com>|Scaffolded"
    );
    // No root configured: nothing is written anywhere.
    let bare = support::catalog(&db, PublishSettings::default()).await;
    let ran = run_action(
        &bare,
        ws.path(),
        "publish:git",
        json!({"repoUrl": "local?repo=x"}),
        no_secrets(),
    )
    .await;
    let err = ran.result.unwrap_err();
    assert_eq!(err.name(), "NotAllowedError");
    assert!(err.to_string().contains("scaffolder.git.root"), "{err}");
}

store::on_each_database!(
    commits_the_workspace_into_a_new_bare_repository,
    refuses_what_it_must_not_publish
);
