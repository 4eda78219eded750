//! A corpus of `mkdocs.yml` files, good and broken: what is read from each, and for each fault
//! the line and a message that says what to fix.

use docs::mkdocs::{self, NavEntry};
use docs::site::{self, Urls};

#[test]
fn good_configs_are_read() {
    let (c, problems) = mkdocs::parse(
        "site_name: Payments\ndocs_dir: handbook/\nnav:\n  - index.md\n  - 'Run book': ops/runbook.md\n  - Ops:\n      - Alerts: ops/alerts.md\n      - Dashboards: https://grafana.example/d/x\n",
    )
    .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(c.site_name.as_deref(), Some("Payments"));
    assert_eq!(c.docs_dir, "handbook");
    let nav = c.nav.unwrap();
    assert_eq!(nav.len(), 3);
    assert_eq!(
        nav[1],
        NavEntry::Page {
            title: Some("Run book".into()),
            path: "ops/runbook.md".into(),
            line: 5
        }
    );
    let NavEntry::Section { title, children } = &nav[2] else {
        panic!("{:?}", nav[2])
    };
    assert_eq!(title, "Ops");
    assert_eq!(
        children[1],
        NavEntry::Link {
            title: "Dashboards".into(),
            url: "https://grafana.example/d/x".into()
        }
    );

    let (c, _) = mkdocs::parse("site_name: Bare\n").unwrap();
    assert_eq!(c.docs_dir, "docs");
    assert_eq!(c.nav, None);
}

/// (file, line of the fault, words the message must hold)
const BROKEN: &[(&str, usize, &str)] = &[
    ("site_name: [unclosed\n", 1, "invalid YAML"),
    (
        "site_name: ok\nnav:\n  - a.md\n    b: c\n",
        4,
        "invalid YAML",
    ),
    ("- just\n- a list\n", 1, "must be a mapping"),
    ("site_name: x\ndocs_dir: ../outside\n", 2, "docs_dir"),
    ("site_name: x\ndocs_dir: /etc\n", 2, "docs_dir"),
    (
        "site_name:\n  nested: map\n",
        1,
        "site_name must be a string",
    ),
    ("site_name: x\nnav: index.md\n", 2, "nav must be a list"),
    ("site_name: x\nsite_name: y\n", 2, "invalid YAML"),
];

#[test]
fn broken_configs_name_the_line() {
    for (text, line, words) in BROKEN {
        let err = mkdocs::parse(text).expect_err(text);
        assert_eq!(err.line, *line, "{text:?}: {err:?}");
        assert!(err.message.contains(words), "{text:?}: {err:?}");
    }
}

#[test]
fn bad_nav_entries_are_problems_and_the_rest_is_kept() {
    let text = "site_name: x\nnav:\n  - index.md\n  - Two: a.md\n    Keys: b.md\n  - Section:\n      - 42\n  - Weird: {a: 1}\n  - last.md\n";
    let (c, problems) = mkdocs::parse(text).unwrap();
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![4, 7, 8], "{problems:?}");
    assert!(problems[0].message.contains("single `Title: page` pair"));
    let nav = c.nav.unwrap();
    assert_eq!(nav.len(), 3, "index.md, Section (empty), last.md: {nav:?}");
}

#[test]
fn missing_files_and_folders_fail_the_build_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let urls = Urls::for_entity("default", "component", "x");
    let err = site::build(tmp.path(), &urls, "x", None).unwrap_err();
    assert_eq!(err.file, "mkdocs.yml");
    assert!(err.message.contains("no mkdocs.yml"), "{err}");

    std::fs::write(tmp.path().join("mkdocs.yml"), "site_name: x\n").unwrap();
    let err = site::build(tmp.path(), &urls, "x", None).unwrap_err();
    assert!(
        err.message.contains("docs_dir \"docs\" does not exist"),
        "{err}"
    );

    std::fs::write(tmp.path().join("mkdocs.yml"), "site_name: x\nnav:\n  - [\n").unwrap();
    let err = site::build(tmp.path(), &urls, "x", None).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(
        err.to_string().starts_with("mkdocs.yml:3: invalid YAML"),
        "{err}"
    );

    // docs_dir through a symlink to outside the folder is refused.
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), tmp.path().join("docs")).unwrap();
    std::fs::write(tmp.path().join("mkdocs.yml"), "site_name: x\n").unwrap();
    let err = site::build(tmp.path(), &urls, "x", None).unwrap_err();
    assert!(err.message.contains("is not a folder inside"), "{err}");

    // A config too large to be one is refused without being read.
    std::fs::write(
        tmp.path().join("mkdocs.yml"),
        "#".repeat(site::MAX_CONFIG_BYTES as usize + 1),
    )
    .unwrap();
    let err = site::build(tmp.path(), &urls, "x", None).unwrap_err();
    assert!(err.message.contains("larger than"), "{err}");
}
