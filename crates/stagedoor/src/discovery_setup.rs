//! Discovery's part of `stagedoor serve`: the `discovery` config key (repository sources,
//! interval, mirror folder) and the demo's generated repositories.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

/// `discovery:` as configured; no sources means discovery does not run.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryConfig {
    pub sources: Vec<PathBuf>,
    pub interval: Option<Duration>,
    pub mirror: Option<PathBuf>,
}

/// Reads `discovery.sources[] {type: local, target}`, `discovery.intervalSeconds` and
/// `discovery.mirrorDir`; relative paths resolve against `base` (the config file's folder).
pub fn parse(v: &Value, base: &Path) -> anyhow::Result<DiscoveryConfig> {
    let mut out = DiscoveryConfig::default();
    for (i, s) in v
        .pointer("/discovery/sources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let kind = s.get("type").and_then(Value::as_str).unwrap_or("local");
        if kind != "local" {
            bail!(
                "discovery.sources[{i}].type {kind:?} is not supported; use local (a directory of git repositories)"
            );
        }
        let target = s
            .get("target")
            .and_then(Value::as_str)
            .with_context(|| format!("discovery.sources[{i}].target must be a string"))?;
        out.sources
            .push(catalog::settings::normalize(&base.join(target)));
    }
    if let Some(secs) = v.pointer("/discovery/intervalSeconds") {
        let secs = secs
            .as_u64()
            .filter(|s| *s > 0)
            .context("discovery.intervalSeconds must be a positive integer")?;
        out.interval = Some(Duration::from_secs(secs));
    }
    if let Some(dir) = v.pointer("/discovery/mirrorDir") {
        let dir = dir
            .as_str()
            .context("discovery.mirrorDir must be a string")?;
        out.mirror = Some(catalog::settings::normalize(&base.join(dir)));
    }
    Ok(out)
}

/// The settings discovery runs with, or `None` when no source is configured.
pub fn settings(config: &DiscoveryConfig, data_dir: &Path) -> Option<discovery::Settings> {
    (!config.sources.is_empty()).then(|| discovery::Settings {
        sources: config.sources.clone(),
        interval: config.interval.unwrap_or(Duration::from_secs(300)),
        mirror: config
            .mirror
            .clone()
            .unwrap_or_else(|| data_dir.join("discovery-mirror")),
        limits: discovery::Limits::default(),
    })
}

/// The demo's repositories, as bare repositories under `dir` (made once; kept across restarts):
/// some with a catalog file, some without, some with CODEOWNERS, so completeness starts below
/// 100 % and there are proposals to accept.
pub fn demo_repositories(dir: &Path) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp() - 86_400;
    let component = |name: &str, kind: &str, owner: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  description: Found by discovery in the demo repositories\nspec:\n  type: {kind}\n  lifecycle: production\n  owner: {owner}\n"
        )
    };
    let loyalty = component("loyalty-points", "service", "checkout");
    let banner = component("promo-banner", "website", "storefront");
    let sim = component("warehouse-sim", "service", "inventory");
    let user = |n: &str| (n.to_owned(), format!("{n}@ridgelinesupply.example"));
    type Repo<'a> = (&'a str, Vec<(&'a str, &'a str)>, (String, String));
    let repos: Vec<Repo> = vec![
        (
            "loyalty-points",
            vec![
                ("catalog-info.yaml", &loyalty),
                ("Dockerfile", "FROM rust:1\n"),
                ("src/main.rs", "fn main() {}\n"),
            ],
            user("grace.mbeki"),
        ),
        (
            "promo-banner",
            vec![
                ("catalog-info.yaml", &banner),
                ("index.html", "<h1>Sale</h1>\n"),
                ("banner.ts", "export const banner = 1;\n"),
            ],
            user("priya.raman"),
        ),
        (
            "warehouse-sim",
            vec![
                ("services/sim/catalog-info.yaml", &sim),
                ("services/sim/main.go", "package main\n"),
                ("go.mod", "module sim\n"),
            ],
            user("ben.achterberg"),
        ),
        (
            "label-printer-agent",
            vec![
                (".github/CODEOWNERS", "* @ridgeline/fulfilment\n"),
                ("Dockerfile", "FROM python:3\n"),
                ("agent.py", "print('ok')\n"),
                (".github/workflows/ci.yml", "on: push\n"),
            ],
            user("mei.lin"),
        ),
        (
            "stock-sync",
            vec![
                ("main.go", "package main\n"),
                ("go.mod", "module stock\n"),
                ("Jenkinsfile", "pipeline {}\n"),
            ],
            user("nadia.kowalczyk"),
        ),
        (
            "search-tuning",
            vec![
                ("CODEOWNERS", "* @ridgeline/discovery\n"),
                ("pyproject.toml", "[project]\n"),
                ("tuning.py", "x = 1\n"),
            ],
            user("elena.petrova"),
        ),
        (
            "storefront-docs",
            vec![
                ("mkdocs.yml", "site_name: Storefront\n"),
                ("docs/index.md", "# Storefront\n"),
            ],
            user("jonah.feld"),
        ),
        (
            "old-reports",
            vec![
                ("ARCHIVED", "Replaced by the data platform.\n"),
                ("report.sql", "select 1;\n"),
            ],
            ("Someone".into(), "someone@example.com".into()),
        ),
    ];
    for (name, files, (author, email)) in &repos {
        discovery::generate::bare_repository(
            &dir.join(format!("{name}.git")),
            files,
            (author, email),
            now,
        )
        .map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_sources_interval_and_mirror_relative_to_the_file() {
        let v = serde_json::json!({"discovery": {"sources": [{"type": "local", "target": "repos"}], "intervalSeconds": 60, "mirrorDir": "/m"}});
        let c = super::parse(&v, std::path::Path::new("/etc/sd")).unwrap();
        assert_eq!(c.sources, vec![std::path::PathBuf::from("/etc/sd/repos")]);
        assert_eq!(c.interval, Some(std::time::Duration::from_secs(60)));
        let s = super::settings(&c, std::path::Path::new("/data")).unwrap();
        assert_eq!(s.mirror, std::path::PathBuf::from("/m"));
        let bad =
            serde_json::json!({"discovery": {"sources": [{"type": "github", "target": "acme"}]}});
        let e = super::parse(&bad, std::path::Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not supported"), "{e}");
        assert!(super::settings(&Default::default(), std::path::Path::new("/")).is_none());
    }

    #[test]
    fn demo_repositories_are_partly_cataloged() {
        let dir = tempfile::tempdir().unwrap();
        super::demo_repositories(dir.path()).unwrap();
        let scan = discovery::scan(
            &[dir.path().to_path_buf()],
            &[],
            &discovery::Limits::default(),
            chrono::Utc::now().timestamp(),
        );
        assert_eq!(scan.repositories.len(), 8, "{:?}", scan.errors);
        let cataloged = scan
            .repositories
            .iter()
            .filter(|r| r.is_cataloged())
            .count();
        assert_eq!(cataloged, 3);
        assert!(
            scan.repositories
                .iter()
                .all(|r| r.bare && r.default_branch == "main")
        );
        assert!(scan.repositories.iter().any(|r| r.archived));
        // Made once: a second call leaves them alone.
        super::demo_repositories(dir.path()).unwrap();
    }
}
