//! Discovery's part of `stagedoor serve`: the `discovery` config key (repository sources: local
//! directory trees, GitHub organisations, GitLab groups; interval, mirror folder) and the demo's
//! generated repositories.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

/// `discovery:` as configured; no sources means discovery does not run.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryConfig {
    pub sources: Vec<PathBuf>,
    /// GitHub organisations and GitLab groups, with their clients (tokens read at start).
    pub hosts: Vec<discovery::HostSource>,
    pub interval: Option<Duration>,
    pub mirror: Option<PathBuf>,
}

/// Reads `discovery.sources[] {type: local | github | gitlab, target, apiBaseUrl, tokenEnv}`,
/// `discovery.intervalSeconds` and `discovery.mirrorDir`; relative paths resolve against `base`
/// (the config file's folder). Tokens come from the environment (see [`parse_with`]).
pub fn parse(v: &Value, base: &Path) -> anyhow::Result<DiscoveryConfig> {
    parse_with(v, base, &|name| std::env::var(name).ok())
}

/// As [`parse`], with environment variables looked up by `env`. A host source's token is the
/// variable `tokenEnv` names (default `GITHUB_TOKEN` / `GITLAB_TOKEN`) or the file
/// `<tokenEnv>_FILE` names; it is never printed, and errors name the variable only.
pub fn parse_with(
    v: &Value,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<DiscoveryConfig> {
    let mut out = DiscoveryConfig::default();
    for (i, s) in v
        .pointer("/discovery/sources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let kind = s.get("type").and_then(Value::as_str).unwrap_or("local");
        let target = s
            .get("target")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .with_context(|| format!("discovery.sources[{i}].target must be a string"))?;
        match kind {
            "local" => out
                .sources
                .push(catalog::settings::normalize(&base.join(target))),
            "github" | "gitlab" => out.hosts.push(host_source(s, i, kind, target, env)?),
            _ => bail!(
                "discovery.sources[{i}].type {kind:?} is not supported; use local (a directory of git repositories), github (an organisation) or gitlab (a group)"
            ),
        }
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

/// A `github` or `gitlab` source: its API (`apiBaseUrl`, default the public one) and token.
fn host_source(
    s: &Value,
    i: usize,
    kind: &str,
    target: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<discovery::HostSource> {
    let api = match s.get("apiBaseUrl") {
        None => None,
        Some(u) => Some(
            u.as_str()
                .with_context(|| format!("discovery.sources[{i}].apiBaseUrl must be a string"))?,
        ),
    };
    if kind == "github"
        && let Some(app) = s.get("appId")
    {
        return github_app_source(s, i, app, api, target, env);
    }
    let default_var = if kind == "github" {
        "GITHUB_TOKEN"
    } else {
        "GITLAB_TOKEN"
    };
    let var = match s.get("tokenEnv") {
        None => default_var,
        Some(v) => v
            .as_str()
            .with_context(|| format!("discovery.sources[{i}].tokenEnv must be a string"))?,
    };
    let token = discovery::Secret::from_lookup(var, env)
        .map_err(|e| anyhow::anyhow!("discovery.sources[{i}]: {e}"))?;
    if token.is_none() {
        tracing::warn!(
            source = i,
            variable = var,
            "no token for a {kind} discovery source: only public repositories are seen, at the anonymous rate limit"
        );
    }
    let made = if kind == "github" {
        discovery::HostSource::github(api, token, target)
    } else {
        discovery::HostSource::gitlab(api, token, target)
    };
    made.map_err(|e| anyhow::anyhow!("discovery.sources[{i}]: {e}"))
}

/// A `github` source authenticated as a GitHub App: `appId`, `installationId` (optional; else
/// the app's installation on the organisation), the private key (PEM) from the variable
/// `privateKeyEnv` names (default `GITHUB_APP_PRIVATE_KEY`) or `<privateKeyEnv>_FILE`.
fn github_app_source(
    s: &Value,
    i: usize,
    app: &Value,
    api: Option<&str>,
    target: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<discovery::HostSource> {
    let app_id = app
        .as_u64()
        .with_context(|| format!("discovery.sources[{i}].appId must be a positive integer"))?;
    let installation = match s.get("installationId") {
        None => None,
        Some(v) => Some(v.as_u64().with_context(|| {
            format!("discovery.sources[{i}].installationId must be a positive integer")
        })?),
    };
    let var = match s.get("privateKeyEnv") {
        None => "GITHUB_APP_PRIVATE_KEY",
        Some(v) => v
            .as_str()
            .with_context(|| format!("discovery.sources[{i}].privateKeyEnv must be a string"))?,
    };
    let key = discovery::Secret::from_lookup(var, env)
        .map_err(|e| anyhow::anyhow!("discovery.sources[{i}]: {e}"))?
        .with_context(|| {
            format!(
                "discovery.sources[{i}]: a GitHub App needs its private key in {var} or {var}_FILE"
            )
        })?;
    discovery::HostSource::github_app(api, app_id, &key, installation, target)
        .map_err(|e| anyhow::anyhow!("discovery.sources[{i}]: {e}"))
}

/// The settings discovery runs with, or `None` when no source is configured.
pub fn settings(config: &DiscoveryConfig, data_dir: &Path) -> Option<discovery::Settings> {
    (!config.sources.is_empty() || !config.hosts.is_empty()).then(|| discovery::Settings {
        sources: config.sources.clone(),
        hosts: config.hosts.clone(),
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
        let bad = serde_json::json!({"discovery": {"sources": [{"type": "bitbucket", "target": "acme"}]}});
        let e = super::parse(&bad, std::path::Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not supported"), "{e}");
        assert!(super::settings(&Default::default(), std::path::Path::new("/")).is_none());
    }

    #[test]
    fn reads_github_and_gitlab_sources_with_tokens_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("gl-token");
        std::fs::write(&token_file, "glpat-from-file\n").unwrap();
        let file = token_file.to_string_lossy().into_owned();
        let env = move |name: &str| match name {
            "GITHUB_TOKEN" => Some("ghp_from_env".to_owned()),
            "ACME_GITLAB_FILE" => Some(file.clone()),
            _ => None,
        };
        let v = serde_json::json!({"discovery": {"sources": [
            {"type": "github", "target": "acme"},
            {"type": "gitlab", "target": "acme/platform", "apiBaseUrl": "https://gitlab.example/api/v4", "tokenEnv": "ACME_GITLAB"},
        ]}});
        let c = super::parse_with(&v, std::path::Path::new("/"), &env).unwrap();
        assert!(c.sources.is_empty());
        let labels: Vec<String> = c.hosts.iter().map(|h| h.label()).collect();
        assert_eq!(
            labels,
            [
                "github:acme@https://api.github.com",
                "gitlab:acme/platform@https://gitlab.example/api/v4"
            ]
        );
        // Tokens are never printed, not even in the settings' debug form.
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("ghp_from_env") && !shown.contains("glpat-from-file"),
            "{shown}"
        );
        assert!(super::settings(&c, std::path::Path::new("/data")).is_some());

        let missing_file = serde_json::json!({"discovery": {"sources": [{"type": "gitlab", "target": "g", "tokenEnv": "NOPE"}]}});
        let env = |name: &str| (name == "NOPE_FILE").then(|| "/nonexistent/token".to_owned());
        let e = super::parse_with(&missing_file, std::path::Path::new("/"), &env)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("NOPE_FILE") && e.contains("cannot be read"),
            "{e}"
        );
        // A GitHub App: its key from a file; a missing key is a clear error naming the variable.
        let key_file = dir.path().join("app.pem");
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../forge/tests/fixtures/github/app-test-key.pem"),
            &key_file,
        )
        .unwrap();
        let key_path = key_file.to_string_lossy().into_owned();
        let env =
            move |name: &str| (name == "GITHUB_APP_PRIVATE_KEY_FILE").then(|| key_path.clone());
        let app = serde_json::json!({"discovery": {"sources": [{"type": "github", "target": "acme", "appId": 99, "installationId": 4711}]}});
        let c = super::parse_with(&app, std::path::Path::new("/"), &env).unwrap();
        assert_eq!(c.hosts[0].label(), "github:acme@https://api.github.com");
        assert!(!format!("{c:?}").contains("PRIVATE KEY"));
        let e = super::parse_with(&app, std::path::Path::new("/"), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("GITHUB_APP_PRIVATE_KEY_FILE"), "{e}");
        let bad_url = serde_json::json!({"discovery": {"sources": [{"type": "github", "target": "a", "apiBaseUrl": "ftp://x"}]}});
        let e = super::parse_with(&bad_url, std::path::Path::new("/"), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("http or https"), "{e}");
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
