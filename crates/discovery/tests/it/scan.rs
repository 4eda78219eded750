//! Scanning real repositories: working trees and bare ones, branches, CODEOWNERS (good and
//! malformed), nested catalog files, contributors in the window, an unreadable repository, a
//! repository deleted between scans, and reuse of unchanged ones.

use discovery::testing::*;
use discovery::{Limits, Repository, scan};

fn by_name<'a>(repos: &'a [Repository], name: &str) -> &'a Repository {
    repos
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{name} not found in {repos:#?}"))
}

#[test]
fn scans_a_tree_of_repositories_and_reuses_the_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repos");
    let payments = repo_with(
        &root.join("team-a/payments-api"),
        &[
            ("Dockerfile", "FROM scratch\n"),
            ("src/main.rs", "fn main() {}\n// padding padding padding\n"),
            ("web/app.ts", "export {}\n"),
            (".github/workflows/ci.yml", "on: push\n"),
            (".github/CODEOWNERS", "# team\n* @acme/payments\n"),
            (
                "node_modules/x/index.js",
                "vendored();\n".repeat(100).as_str(),
            ),
        ],
        ("Alice", "alice@example.com"),
    );
    // Old history: outside the 90-day window, so not a recent contributor.
    git_as(
        &payments,
        ("Old", "old@example.com"),
        Some("2020-01-01T00:00:00Z"),
        &["commit", "-q", "--allow-empty", "-m", "old"],
    );
    commit_files(
        &payments,
        &[("README.md", "# hi\n")],
        ("Carol", "Carol@Example.com"),
        "docs",
    );
    commit_files(
        &payments,
        &[("src/x.rs", "\n")],
        ("Alice", "alice@example.com"),
        "more",
    );
    // A catalog file on another branch only: the default branch is what counts.
    git(&payments, &["checkout", "-q", "-b", "feature"]);
    commit_files(
        &payments,
        &[("catalog-info.yaml", "kind: Component\n")],
        ("Alice", "alice@example.com"),
        "wip",
    );
    git(&payments, &["checkout", "-q", "main"]);

    let site = bare_repo_with(
        &root.join("team-b/site.git"),
        &[
            ("index.html", "<html></html>\n"),
            ("catalog-info.yaml", "kind: System\n"),
            ("services/api/catalog-info.yaml", "kind: Component\n"),
            ("Jenkinsfile", "pipeline {}\n"),
        ],
    );
    let lib = repo_with(
        &root.join("Lib_Utils!!"),
        &[
            ("src/lib.rs", "pub fn f() {}\n"),
            ("Cargo.toml", "[package]\n"),
            ("CODEOWNERS", "* @acme/libs\n/src not_an_owner\n"),
            ("ARCHIVED", "moved elsewhere\n"),
        ],
        ("Dan", "dan@example.com"),
    );
    // Unreadable: a `.git` that is not a repository.
    let broken = root.join("broken");
    std::fs::create_dir_all(broken.join(".git")).unwrap();
    std::fs::write(broken.join(".git/HEAD"), "garbage\n").unwrap();

    let limits = Limits::default();
    let first = scan(std::slice::from_ref(&root), &[], &limits, now());
    assert_eq!(first.repositories.len(), 3, "{:#?}", first.errors);
    assert_eq!((first.read, first.reused), (3, 0));
    assert_eq!(first.errors.len(), 1, "{:?}", first.errors);
    assert!(first.errors[0].path.ends_with("broken"));
    assert!(
        first.errors[0]
            .message
            .contains("not a readable git repository"),
        "{}",
        first.errors[0].message
    );

    let p = by_name(&first.repositories, "payments-api");
    assert!(!p.bare);
    assert_eq!(p.default_branch, "main");
    assert!(
        !p.is_cataloged(),
        "the feature branch's file must not count"
    );
    assert_eq!(p.ci, vec![".github/workflows/ci.yml"]);
    assert_eq!(p.main_language(), Some("Rust"));
    assert!(p.languages.iter().any(|(l, _)| l == "TypeScript"));
    assert!(
        !p.languages.iter().any(|(l, _)| l == "JavaScript"),
        "node_modules is vendored"
    );
    assert_eq!(p.codeowners.as_ref().unwrap().path, ".github/CODEOWNERS");
    let emails: Vec<(&str, u32)> = p
        .contributors
        .iter()
        .map(|c| (c.email.as_str(), c.commits))
        .collect();
    // The walk stops at the first commit older than the window (like `git log --since`): the
    // initial commit behind the 2020 one is not reached, and Old is not counted.
    assert_eq!(
        emails,
        vec![("alice@example.com", 1), ("carol@example.com", 1)]
    );
    assert_eq!(p.contributors[1].name, "Carol");
    assert!(p.markers.contains(&"Dockerfile".to_string()));
    assert!(p.last_commit > now() - 3600);
    assert!(!p.archived);

    let s = by_name(&first.repositories, "site");
    assert!(s.bare);
    assert_eq!(
        s.catalog_files,
        vec!["catalog-info.yaml", "services/api/catalog-info.yaml"]
    );
    assert_eq!(s.ci, vec!["Jenkinsfile"]);
    assert_eq!(s.path, std::fs::canonicalize(&site).unwrap());

    let l = by_name(&first.repositories, "Lib_Utils!!");
    assert!(l.archived, "ARCHIVED at the root");
    assert_eq!(l.problems.len(), 1, "{:?}", l.problems);
    assert!(
        l.problems[0].starts_with("CODEOWNERS:2: \"not_an_owner\""),
        "{}",
        l.problems[0]
    );
    assert_eq!(
        l.codeowners.as_ref().unwrap().rules.len(),
        2,
        "the good rules still count"
    );

    // Unchanged: nothing is read again.
    let second = scan(
        std::slice::from_ref(&root),
        &first.repositories,
        &limits,
        now(),
    );
    assert_eq!((second.read, second.reused), (0, 3));
    assert_eq!(second.repositories, first.repositories);

    // A new commit on the default branch is read again; a deleted repository is gone.
    commit_files(
        &lib,
        &[("src/more.rs", "\n")],
        ("Dan", "dan@example.com"),
        "more",
    );
    std::fs::remove_dir_all(&site).unwrap();
    let third = scan(
        std::slice::from_ref(&root),
        &second.repositories,
        &limits,
        now(),
    );
    assert_eq!((third.read, third.reused), (1, 1));
    assert_eq!(third.repositories.len(), 2);
    assert!(third.repositories.iter().all(|r| r.name != "site"));
}

#[test]
fn bounds_stop_a_large_tree_and_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let files: Vec<(String, String)> = (0..50)
        .map(|i| (format!("d/f{i}.py"), "x\n".into()))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    repo_with(&tmp.path().join("big"), &refs, ("A", "a@example.com"));
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let out = scan(&[tmp.path().to_path_buf()], &[], &limits, now());
    let r = &out.repositories[0];
    assert!(r.truncated);
    assert!(
        r.problems[0].contains("more than 10 entries"),
        "{:?}",
        r.problems
    );
    let bytes: u64 = r.languages.iter().map(|(_, b)| b).sum();
    assert!(bytes < 50 * 2, "stopped early: {bytes}");
}

#[test]
fn a_missing_root_is_an_error_and_other_roots_still_scan() {
    let tmp = tempfile::tempdir().unwrap();
    repo_with(
        &tmp.path().join("one"),
        &[("a.go", "package a\n")],
        ("A", "a@example.com"),
    );
    let out = scan(
        &[tmp.path().join("nope"), tmp.path().to_path_buf()],
        &[],
        &Limits::default(),
        now(),
    );
    assert_eq!(out.repositories.len(), 1);
    assert_eq!(out.errors.len(), 1);
    assert!(
        out.errors[0].message.starts_with("cannot read"),
        "{:?}",
        out.errors
    );
}
