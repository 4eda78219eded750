//! Proposals from real repositories (type, tags, owner from CODEOWNERS or from contributors
//! mapped through catalog Users and Groups, each with evidence) and accepting one: a commit on a
//! new branch while the working tree, index and default branch stay as they were.

use discovery::testing::*;
use discovery::{Directory, Limits, ProposalError, commit_proposal, propose, sanitise_name, scan};
use serde_json::json;

fn org() -> Directory {
    let entities = [
        json!({"kind": "Group", "metadata": {"name": "payments"}, "spec": {"type": "team", "children": []}}),
        json!({"kind": "Group", "metadata": {"name": "web"}, "spec": {"type": "team", "children": [], "members": ["erin"]}}),
        json!({"kind": "User", "metadata": {"name": "alice"}, "spec": {"profile": {"email": "Alice@example.com"}, "memberOf": ["payments"]}}),
        json!({"kind": "User", "metadata": {"name": "erin"}, "spec": {"profile": {"email": "erin@example.com"}}}),
        json!({"kind": "User", "metadata": {"name": "frank"}, "spec": {"profile": {"email": "frank@example.com"}}}),
    ];
    Directory::from_entities(entities.iter())
}

#[test]
fn proposals_guess_each_field_with_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    repo_with(
        &root.join("Payments API"),
        &[
            ("Dockerfile", "FROM x\n"),
            ("src/main.rs", "fn main(){}\n"),
            ("CODEOWNERS", "* @acme/payments\n"),
        ],
        ("Zed", "zed@example.com"),
    );
    let site = repo_with(
        &root.join("www"),
        &[("index.html", "<p>\n"), ("app.ts", "let a = 1;\n")],
        ("Erin", "erin@example.com"),
    );
    commit_files(&site, &[("b.ts", "\n")], ("Erin", "erin@example.com"), "b");
    commit_files(
        &site,
        &[("c.ts", "\n")],
        ("Frank", "frank@example.com"),
        "c",
    );
    repo_with(
        &root.join("solo"),
        &[("setup.py", "\n"), ("m.py", "\n")],
        ("Frank", "frank@example.com"),
    );
    repo_with(
        &root.join("nobody"),
        &[("README.md", "\n")],
        ("X", "x@example.com"),
    );
    repo_with(&root.join("--"), &[("a.c", "\n")], ("X", "x@example.com"));
    let out = scan(&[root.to_path_buf()], &[], &Limits::default(), now());
    assert_eq!(out.repositories.len(), 5, "{:?}", out.errors);
    let dir = org();
    let find = |n: &str| out.repositories.iter().find(|r| r.name == n).unwrap();

    let p = propose(find("Payments API"), &dir).unwrap();
    assert_eq!(p.entity["metadata"]["name"], "payments-api");
    assert_eq!(p.entity["spec"]["type"], "service");
    assert_eq!(p.entity["spec"]["owner"], "group:default/payments");
    assert_eq!(p.entity["metadata"]["tags"], json!(["rust"]));
    let tags = p
        .guesses
        .iter()
        .find(|g| g.field == "metadata.tags")
        .unwrap();
    assert_eq!(
        tags.evidence.len(),
        1,
        "the Dockerfile is no tag and no evidence: {:?}",
        tags.evidence
    );
    assert!(
        tags.evidence[0].starts_with("Rust: 12 of 19 bytes"),
        "{:?}",
        tags.evidence
    );
    let owner = p.guesses.iter().find(|g| g.field == "spec.owner").unwrap();
    assert_eq!(
        owner.evidence,
        vec!["CODEOWNERS:1: * @acme/payments (@acme/payments is group:default/payments)"]
    );
    let kind = p.guesses.iter().find(|g| g.field == "spec.type").unwrap();
    assert!(
        kind.evidence.iter().any(|e| e.starts_with("Dockerfile")),
        "{:?}",
        kind.evidence
    );
    let source = p.entity["metadata"]["annotations"]["backstage.io/source-location"]
        .as_str()
        .unwrap();
    assert!(
        source.starts_with("dir:/") && source.ends_with("Payments API/"),
        "{source}"
    );

    // Website; owner from contributors: erin (2 commits, member of web through the group's
    // members list) outweighs frank (1 commit, no group).
    let p = propose(find("www"), &dir).unwrap();
    assert_eq!(p.entity["spec"]["type"], "website");
    assert_eq!(p.entity["spec"]["owner"], "group:default/web");
    let owner = p.guesses.iter().find(|g| g.field == "spec.owner").unwrap();
    assert!(
        owner.evidence[0]
            .starts_with("erin@example.com (2 commits in 90 days) is user:default/erin"),
        "{:?}",
        owner.evidence
    );

    // A contributor with no group owns it as a User; a library by its packaging.
    let p = propose(find("solo"), &dir).unwrap();
    assert_eq!(p.entity["spec"]["owner"], "user:default/frank");
    assert_eq!(p.entity["spec"]["type"], "library");

    let p = propose(find("nobody"), &dir).unwrap();
    assert_eq!(p.entity["spec"]["owner"], "unknown");

    // A name with nothing usable in it is a clear error.
    assert_eq!(
        propose(find("--"), &dir),
        Err(ProposalError::NoName("--".into()))
    );
    assert_eq!(sanitise_name("My__Repo..v2!").unwrap(), "my_repo.v2");
    assert_eq!(sanitise_name(&"a".repeat(80)).unwrap().len(), 63);

    // The YAML is a valid entity once read back.
    let p = propose(find("Payments API"), &dir).unwrap();
    let docs = model::yaml::parse_documents(&p.to_yaml());
    let read = docs[0].result.clone().unwrap();
    assert_eq!(read, p.entity);
    assert!(model::validate::validate(read.as_object().unwrap()).is_empty());
    // An owner's edit that makes the name invalid is refused.
    let mut edited = p.clone();
    assert!(matches!(
        edited.edit("metadata.name", "bad name!"),
        Err(ProposalError::InvalidName(_))
    ));
    edited.edit("spec.type", "library").unwrap();
    assert!(
        edited.guesses.iter().all(|g| g.field != "spec.type"),
        "an edited field is no guess"
    );
}

#[test]
fn accepting_commits_on_a_new_branch_and_leaves_the_working_tree_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo_with(
        &tmp.path().join("svc"),
        &[("main.go", "package main\n")],
        ("A", "a@example.com"),
    );
    std::fs::write(repo.join("uncommitted.txt"), "local edit\n").unwrap();
    let head_before = git(&repo, &["rev-parse", "main"]);
    let status_before = git(&repo, &["status", "--porcelain"]);

    let out = scan(std::slice::from_ref(&repo), &[], &Limits::default(), now());
    let proposal = propose(&out.repositories[0], &Directory::default()).unwrap();
    let written = commit_proposal(&repo, &proposal.to_yaml(), 1_700_000_000).unwrap();
    assert_eq!(written.branch, "stagedoor/catalog-info");

    let file = git(&repo, &["show", "stagedoor/catalog-info:catalog-info.yaml"]);
    assert_eq!(file, proposal.to_yaml());
    assert_eq!(
        git(&repo, &["rev-parse", "stagedoor/catalog-info^"]),
        head_before,
        "parent is the tip"
    );
    assert_eq!(
        git(&repo, &["rev-parse", "stagedoor/catalog-info"]).trim(),
        written.commit
    );
    assert_eq!(
        git(&repo, &["ls-tree", "--name-only", "stagedoor/catalog-info"]),
        "catalog-info.yaml\nmain.go\n"
    );
    assert_eq!(
        git(&repo, &["rev-parse", "main"]),
        head_before,
        "default branch unmoved"
    );
    assert_eq!(
        git(&repo, &["status", "--porcelain"]),
        status_before,
        "working tree and index untouched"
    );
    assert_eq!(git(&repo, &["branch", "--show-current"]).trim(), "main");
    assert!(!repo.join("catalog-info.yaml").exists());
    git(&repo, &["fsck", "--strict"]);

    // A second accept does not overwrite the branch.
    let again = commit_proposal(&repo, "x", 1_700_000_000).unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");

    // A bare repository works the same way.
    let bare = bare_repo_with(&tmp.path().join("lib.git"), &[("lib.py", "\n")]);
    commit_proposal(&bare, &proposal.to_yaml(), 1_700_000_000).unwrap();
    assert!(
        git(&bare, &["ls-tree", "--name-only", "stagedoor/catalog-info"])
            .contains("catalog-info.yaml")
    );
    // A repository that already has the file is not given a second.
    let cataloged = repo_with(
        &tmp.path().join("c"),
        &[("catalog-info.yaml", "x\n")],
        ("A", "a@example.com"),
    );
    assert!(matches!(
        commit_proposal(&cataloged, "y", 0),
        Err(discovery::WriteError::AlreadyCataloged { .. })
    ));
}
