//! Whole builds of a corpus of MkDocs features (`tests/fixtures/features`), snapshotted page by
//! page; link rewriting, broken links with file and line, sanitising, files refused outside the
//! docs folder (traversal, symlinks), the nav without `nav:`, and incremental rebuilds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use docs::paths::Refused;
use docs::site::{self, NavNode, Site, Urls};

/// A copy of a fixture folder in a temporary directory, so tests can change it.
fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join(name);
    copy_dir(&src, &dest);
    (tmp, dest)
}

fn copy_dir(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dest.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

fn urls() -> Urls {
    Urls::for_entity("default", "Component", "corpus")
}

fn build(root: &Path) -> Arc<Site> {
    site::build(root, &urls(), "Fallback", None).unwrap()
}

fn nav_text(nav: &[NavNode], depth: usize, out: &mut String) {
    for n in nav {
        out.push_str(&format!(
            "{}- {} -> {}\n",
            "  ".repeat(depth),
            n.title,
            n.url.as_deref().unwrap_or("(section)")
        ));
        nav_text(&n.children, depth + 1, out);
    }
}

#[test]
fn feature_corpus_renders_as_snapshotted() {
    let (_tmp, root) = fixture("features");
    let site = build(&root);
    assert_eq!(site.site_name, "Feature corpus");
    for page in &site.pages {
        let name = page.path.replace(['/', '.'], "_");
        let toc: Vec<String> = page
            .headings
            .iter()
            .map(|h| format!("{} #{} {}", h.level, h.id, h.text))
            .collect();
        insta::assert_snapshot!(
            name,
            format!(
                "title: {}\nurl: {}\ntoc:\n{}\n---\n{}",
                page.title,
                page.url,
                toc.join("\n"),
                page.html
            )
        );
    }
    let mut nav = String::new();
    nav_text(&site.nav, 0, &mut nav);
    insta::assert_snapshot!("nav", nav);
    let problems: Vec<String> = site.problems.iter().map(|p| p.to_string()).collect();
    insta::assert_snapshot!("problems", problems.join("\n"));
}

#[test]
fn relative_links_become_portal_urls() {
    let (_tmp, root) = fixture("features");
    let site = build(&root);
    let index = site.page("").unwrap();
    assert!(
        index
            .html
            .contains(r#"href="/docs/default/component/corpus/guide/setup/#install""#),
        "{}",
        index.html
    );
    assert!(
        index
            .html
            .contains(r#"href="/docs/default/component/corpus/guide/""#)
    );
    let setup = site.page("guide/setup").unwrap();
    assert!(setup.html.contains(
        r#"src="/api/techdocs/static/docs/default/component/corpus/guide/img/diagram.png""#
    ));
    assert!(
        setup
            .html
            .contains(r#"href="/docs/default/component/corpus/""#)
    );
    // Pages outside the nav are built and reachable.
    assert!(site.page("orphan/").is_some());
}

#[test]
fn broken_links_are_reported_with_file_and_line() {
    let (_tmp, root) = fixture("features");
    let site = build(&root);
    let problems: Vec<String> = site.problems.iter().map(|p| p.to_string()).collect();
    let has = |s: &str| problems.iter().any(|p| p.starts_with(s));
    assert!(
        has("docs/index.md:4: broken link: nowhere.md"),
        "{problems:#?}"
    );
    assert!(
        has("docs/guide/setup.md:21: broken image: img/nope.png"),
        "{problems:#?}"
    );
    assert!(has("mkdocs.yml:11: nav names missing.md"), "{problems:#?}");
    assert!(
        has("docs/safety.md:11: ../../../etc/passwd: leads outside the docs folder"),
        "{problems:#?}"
    );
}

#[test]
fn unsafe_html_and_urls_are_removed() {
    let (_tmp, root) = fixture("features");
    let site = build(&root);
    let html = &site.page("safety").unwrap().html;
    for bad in [
        "<script",
        "alert('x')",
        "onclick",
        "onerror",
        "javascript:",
        "vbscript:",
        "data:text",
        "<iframe",
        "<form",
        "<input",
        "style=",
        "evil-class",
        "Nav",
    ] {
        assert!(!html.contains(bad), "{bad} survived in {html}");
    }
    assert!(html.contains(r#"href="mailto:team@example.com""#));
    assert!(html.contains(r#"class="admonition""#), "{html}");
    // The traversal image has no source at all; an absolute path stays a portal path.
    assert!(!html.contains("../"), "{html}");
    assert!(html.contains(r#"<img src="" alt="escape">"#), "{html}");
}

#[test]
fn files_are_served_from_the_docs_folder_only() {
    let (tmp, root) = fixture("features");
    let secret = tmp.path().join("secret.txt");
    std::fs::write(&secret, "top secret").unwrap();
    std::os::unix::fs::symlink(&secret, root.join("docs/leak.txt")).unwrap();
    std::os::unix::fs::symlink(&secret, root.join("docs/leak.md")).unwrap();
    std::os::unix::fs::symlink(tmp.path(), root.join("docs/up")).unwrap();
    std::fs::write(
        root.join("docs/links.md"),
        "[leak](leak.txt) [up](up/secret.txt)\n",
    )
    .unwrap();
    let site = build(&root);

    assert!(site.asset("guide/img/diagram.png").is_ok());
    assert_eq!(site.asset("leak.txt"), Err(Refused::Outside));
    assert_eq!(site.asset("up/secret.txt"), Err(Refused::Outside));
    assert_eq!(site.asset("../mkdocs.yml"), Err(Refused::BadPath));
    assert_eq!(site.asset("/etc/passwd"), Err(Refused::BadPath));
    assert_eq!(site.asset("guide/../../mkdocs.yml"), Err(Refused::BadPath));
    assert_eq!(site.asset("nothing.png"), Err(Refused::Missing));
    // A symlinked page pointing outside is not part of the site, and links to outside files
    // are reported, not resolved.
    assert!(site.page("leak/").is_none());
    assert!(site.pages.iter().all(|p| !p.text.contains("top secret")));
    let problems: Vec<String> = site.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("docs/links.md:1: broken link: leak.txt")),
        "{problems:#?}"
    );
}

#[test]
fn without_nav_the_folder_makes_the_nav() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(root.join("mkdocs.yml"), "site_name: Plain\n").unwrap();
    std::fs::create_dir_all(root.join("docs/ops")).unwrap();
    std::fs::write(root.join("docs/b-page.md"), "# Bee\n").unwrap();
    std::fs::write(root.join("docs/a-page.md"), "no heading\n").unwrap();
    std::fs::write(root.join("docs/index.md"), "# Start\n").unwrap();
    std::fs::write(root.join("docs/ops/README.md"), "# Ops\n").unwrap();
    std::fs::write(root.join("docs/ops/alerts.md"), "# Alerts\n").unwrap();
    let site = build(root);
    let mut nav = String::new();
    nav_text(&site.nav, 0, &mut nav);
    assert_eq!(
        nav,
        "- Start -> /docs/default/component/corpus/\n\
         - A page -> /docs/default/component/corpus/a-page/\n\
         - Bee -> /docs/default/component/corpus/b-page/\n\
         - Ops -> (section)\n  \
           - Ops -> /docs/default/component/corpus/ops/\n  \
           - Alerts -> /docs/default/component/corpus/ops/alerts/\n"
    );
}

#[test]
fn a_rebuild_renders_only_changed_pages() {
    let (_tmp, root) = fixture("features");
    let first = build(&root);
    assert_eq!(first.rendered, first.pages.len());
    let same = site::build(&root, &urls(), "Fallback", Some(&first)).unwrap();
    assert!(
        Arc::ptr_eq(&first, &same),
        "nothing changed: the same build"
    );

    std::fs::write(
        root.join("docs/guide/tabs.md"),
        "# Tabs, edited\n\nNew words.\n",
    )
    .unwrap();
    let second = site::build(&root, &urls(), "Fallback", Some(&first)).unwrap();
    assert_eq!(second.rendered, 1);
    assert_eq!(second.page("guide/tabs/").unwrap().title, "Tabs, edited");
    let kept = |s: &Site| Arc::as_ptr(s.page("guide/setup/").unwrap());
    assert_eq!(kept(&first), kept(&second));

    // A new file can fix a broken link on another page: every page renders again.
    std::fs::write(root.join("docs/nowhere.md"), "# Found\n").unwrap();
    let third = site::build(&root, &urls(), "Fallback", Some(&second)).unwrap();
    assert_eq!(third.rendered, third.pages.len());
    assert!(
        !third
            .problems
            .iter()
            .any(|p| p.message.contains("nowhere.md"))
    );
}
