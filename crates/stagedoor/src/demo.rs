//! The demo company shipped inside the binary, written out to a directory so it can be served
//! (and edited, to watch the catalog follow).

use std::path::{Path, PathBuf};

mod files {
    include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));
}

/// Writes the demo catalog under `dir` (files already there are left alone, so edits survive a
/// restart) and returns the path of its root `all.yaml`.
pub fn extract(dir: &Path) -> std::io::Result<PathBuf> {
    for (rel, bytes) in files::FILES {
        let path = dir.join(rel);
        if path.exists() {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(
            &path,
            with_moved_dates(bytes, chrono::Utc::now().date_naive()),
        )?;
    }
    Ok(dir.join("all.yaml"))
}

/// Once the demo catalog is in, gives its campaigns a history from their start to yesterday
/// (stored as demo data, so pages label it), so the burndown shows progress on first start.
pub async fn seed_history(
    progress: scorecards::Progress,
    catalog: std::sync::Arc<catalog::Catalog>,
) {
    while !catalog.is_ready() {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let snap = catalog.snapshot();
    let eval = catalog::off_async_workers(|| scorecards::evaluation(&catalog, &snap));
    if let Err(e) = progress
        .seed_demo_history(&eval, eval.now.date_naive())
        .await
    {
        tracing::warn!(error = %e, "could not write the demo campaign history");
    }
}

/// Once the demo catalog is in, gives its engineers about 90 days of generated use of the
/// portal (stored as demo data, so the dashboard labels it), with one team in the chasm and
/// one past it.
pub async fn seed_usage(usage: analytics::Recorder, catalog: std::sync::Arc<catalog::Catalog>) {
    while !catalog.is_ready() {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let snap = catalog.snapshot();
    match usage
        .seed_demo(&snap, chrono::Utc::now().date_naive())
        .await
    {
        Ok(n) => tracing::info!(events = n, "generated demo usage history"),
        Err(e) => tracing::warn!(error = %e, "could not write the demo usage history"),
    }
}

/// The file with every date marked `# demo: moved to N days ago` (or `from now`) set that far
/// from `today`, so the demo campaign is under way whenever the demo is first started.
fn with_moved_dates(bytes: &[u8], today: chrono::NaiveDate) -> Vec<u8> {
    const MARK: &str = "# demo: moved to ";
    let Ok(text) = std::str::from_utf8(bytes) else {
        return bytes.to_vec();
    };
    if !text.contains(MARK) {
        return bytes.to_vec();
    }
    let moved = |line: &str| -> Option<String> {
        let (value, mark) = line.split_once(MARK)?;
        let (days, direction) = mark.trim().split_once(" days ")?;
        let days = chrono::Days::new(days.parse().ok()?);
        let date = match direction {
            "ago" => today.checked_sub_days(days)?,
            "from now" => today.checked_add_days(days)?,
            _ => return None,
        };
        let (key, old) = value.rsplit_once(": ")?;
        Some(format!(
            "{key}: {date}{}{MARK}{}",
            &old[old.trim_end().len()..],
            mark
        ))
    };
    let mut out: String = text
        .lines()
        .map(|l| moved(l).unwrap_or_else(|| l.to_owned()))
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_has_a_root_location_and_entities() {
        let dir = tempfile::tempdir().unwrap();
        let root = super::extract(dir.path()).unwrap();
        let text = std::fs::read_to_string(root).unwrap();
        assert!(text.contains("kind: Location"));
        assert!(super::files::FILES.len() > 10);
    }

    /// Every demo service's docs build; the one problem is the broken link left on purpose.
    #[test]
    fn demo_docs_build_with_only_the_deliberate_broken_link() {
        let dir = tempfile::tempdir().unwrap();
        super::extract(dir.path()).unwrap();
        let mut problems = Vec::new();
        let mut sites = 0;
        for entry in std::fs::read_dir(dir.path().join("components")).unwrap() {
            let root = entry.unwrap().path();
            if !root.join("mkdocs.yml").is_file() {
                continue;
            }
            let root = root.as_path();
            let urls = docs::Urls::for_entity("default", "component", "demo");
            let site = docs::site::build(root, &urls, "demo", None)
                .unwrap_or_else(|e| panic!("{}: {e}", root.display()));
            assert!(site.pages.len() >= 3, "{}", root.display());
            sites += 1;
            problems.extend(site.problems.iter().map(|p| p.to_string()));
        }
        assert!(sites >= 4, "{sites} demo docs sites");
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0].starts_with("docs/local-development.md:")
                && problems[0].contains("pci-checklist.md"),
            "{problems:#?}"
        );
    }

    #[test]
    fn marked_dates_move_with_the_calendar() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let file = "spec:\n  start: 2026-09-01     # demo: moved to 21 days ago\n  deadline: 2026-09-21  # demo: moved to 9 days from now\n  other: 2026-01-01\n";
        let out = String::from_utf8(super::with_moved_dates(file.as_bytes(), today)).unwrap();
        assert_eq!(
            out,
            "spec:\n  start: 2026-11-13     # demo: moved to 21 days ago\n  deadline: 2026-12-13  # demo: moved to 9 days from now\n  other: 2026-01-01\n"
        );
    }
}
