//! Configuration: a Stagedoor YAML file (which may also be a Backstage `app-config.yaml`),
//! then environment variables and flags on top. `${VAR}` in the file reads the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use catalog::settings::{AllowedHost, CatalogSettings, LocationSpec, OrphanStrategy, Rule};
use serde_json::Value;

/// The effective settings of `stagedoor serve`.
#[derive(Clone)]
pub struct Config {
    pub listen: String,
    pub db: String,
    pub catalog: CatalogSettings,
    pub discovery: crate::discovery_setup::DiscoveryConfig,
    /// How docs builds are kept up to date (`techdocs.refresh.*`); the allow-list is the catalog's.
    pub docs: docs::DocsSettings,
    /// Where scaffolder tasks work (`backend.workingDirectory`) and `publish:file` writes
    /// (`scaffolder.publishRoot`).
    pub scaffolder: scaffolder::Settings,
    /// `scaffolder.git.root`, `scaffolder.defaultAuthor`, `scaffolder.defaultCommitMessage`.
    pub publishing: scaffolder::publishing::PublishSettings,
    pub analytics: analytics::Settings,
    /// Org import sources (`ldap.providers`, `catalog.providers.{ldapOrg,okta,githubOrg}`,
    /// `orgImport`), see docs/configuration.md.
    pub org: org::Settings,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("db", &redact_url(&self.db))
            .field(
                "locations",
                &self
                    .catalog
                    .locations
                    .iter()
                    .map(|(l, _)| redact_url(&l.key()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Hides the password (userinfo or `?password=`) of a database or location URL.
pub fn redact_url(url: &str) -> String {
    model::redact::url(url)
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:7007";
pub const DEFAULT_DB: &str = "sqlite://stagedoor.db";

impl Config {
    /// Reads the file (if any). `base` is where relative file locations resolve: the file's directory.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let mut config = Config {
            listen: DEFAULT_LISTEN.into(),
            db: DEFAULT_DB.into(),
            catalog: CatalogSettings::default(),
            discovery: Default::default(),
            docs: docs::DocsSettings::default(),
            scaffolder: scaffolder::Settings::default(),
            publishing: Default::default(),
            analytics: analytics::Settings::default(),
            org: org::Settings::default(),
        };
        let Some(path) = path else { return Ok(config) };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let text =
            expand_env(&text).with_context(|| format!("in config file {}", path.display()))?;
        let docs = model::yaml::parse_documents(&text);
        let value = match docs.into_iter().next().map(|d| d.result) {
            None | Some(Ok(Value::Null)) => return Ok(config),
            Some(Ok(v)) => v,
            Some(Err(e)) => bail!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message),
        };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        config
            .apply(&value, &base)
            .with_context(|| format!("in config file {}", path.display()))?;
        Ok(config)
    }

    fn apply(&mut self, v: &Value, base: &Path) -> anyhow::Result<()> {
        if let Some(listen) = v.pointer("/server/listen").and_then(Value::as_str) {
            self.listen = listen.to_owned();
        }
        self.discovery = crate::discovery_setup::parse(v, base)?;
        self.org = org::config::parse(v, base).map_err(anyhow::Error::msg)?;
        if let Some(db) = v.pointer("/database/url").and_then(Value::as_str) {
            self.db = db.to_owned();
        }
        if let Some(dir) = v
            .pointer("/backend/workingDirectory")
            .and_then(Value::as_str)
        {
            self.scaffolder.work_dir = base.join(dir);
        }
        if let Some(dir) = v.pointer("/scaffolder/publishRoot").and_then(Value::as_str) {
            self.scaffolder.publish_root = Some(base.join(dir));
        }
        self.scaffolder.http_allow = allowed_hosts(v, "/scaffolder/httpRequest/allow")?;
        self.publishing = crate::publish_setup::parse(v, base)?;
        let c = &mut self.catalog;
        if let Some(locations) = v.pointer("/catalog/locations").and_then(Value::as_array) {
            for (i, l) in locations.iter().enumerate() {
                let kind = l.get("type").and_then(Value::as_str).unwrap_or("file");
                let target = l
                    .get("target")
                    .and_then(Value::as_str)
                    .with_context(|| format!("catalog.locations[{i}].target must be a string"))?;
                let rules = parse_rules(l.get("rules"))
                    .with_context(|| format!("catalog.locations[{i}].rules"))?;
                c.locations.push((location(kind, target, base), rules));
            }
        }
        c.rules = parse_rules(v.pointer("/catalog/rules")).context("catalog.rules")?;
        match v.pointer("/catalog/orphanStrategy").and_then(Value::as_str) {
            None | Some("keep") => {}
            Some("delete") => c.orphan_strategy = OrphanStrategy::Delete,
            Some(other) => bail!("catalog.orphanStrategy must be keep or delete, not {other:?}"),
        }
        if let Some(s) = v
            .pointer("/catalog/refresh/urlIntervalSeconds")
            .and_then(Value::as_f64)
        {
            c.url_refresh_interval = Duration::from_secs_f64(s.max(1.0));
        }
        if let Some(ms) = v
            .pointer("/catalog/refresh/watchIntervalMs")
            .and_then(Value::as_u64)
        {
            c.watch_interval = Duration::from_millis(ms.max(50));
        }
        if let Some(bytes) = v.pointer("/catalog/maxFileBytes").and_then(Value::as_u64) {
            c.max_file_bytes = bytes;
        }
        if let Some(ms) = v
            .pointer("/techdocs/refresh/watchIntervalMs")
            .and_then(Value::as_u64)
        {
            self.docs.watch_interval = Duration::from_millis(ms.max(50));
        }
        if let Some(s) = v
            .pointer("/techdocs/refresh/urlIntervalSeconds")
            .and_then(Value::as_f64)
        {
            self.docs.url_refresh_interval = Duration::from_secs_f64(s.max(1.0));
        }
        let reading = allowed_hosts(v, "/backend/reading/allow")?;
        self.catalog.allowed_hosts.extend(reading);
        self.apply_analytics(v).context("analytics")?;
        Ok(())
    }

    /// `analytics:` (docs/configuration.md): kThreshold, retentionDays, population (a Backstage
    /// filter over Users), ingest.maxBatch, ingest.maxEventsPerSecond.
    fn apply_analytics(&mut self, v: &Value) -> anyhow::Result<()> {
        let Some(a) = v.get("analytics") else {
            return Ok(());
        };
        let number = |pointer: &str| -> anyhow::Result<Option<u64>> {
            match a.pointer(pointer) {
                None | Some(Value::Null) => Ok(None),
                Some(n) => n.as_u64().filter(|n| *n > 0).map(Some).with_context(|| {
                    format!(
                        "analytics{} must be a positive whole number",
                        pointer.replace('/', ".")
                    )
                }),
            }
        };
        let s = &mut self.analytics;
        if let Some(k) = number("/kThreshold")? {
            s.k_threshold = usize::try_from(k)?;
        }
        if let Some(d) = number("/retentionDays")? {
            s.retention_days = u32::try_from(d)?;
        }
        if let Some(n) = number("/ingest/maxBatch")? {
            s.max_batch = usize::try_from(n)?;
        }
        if let Some(n) = number("/ingest/maxEventsPerSecond")? {
            s.max_events_per_second = n;
        }
        if let Some(steps) = a.get("checklist") {
            let steps = steps
                .as_array()
                .context("analytics.checklist must be a list of steps")?;
            s.checklist = steps
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    checklist_step(step).with_context(|| format!("analytics.checklist[{i}]"))
                })
                .collect::<anyhow::Result<_>>()?;
        }
        if let Some(p) = a.get("population") {
            let text = p
                .as_str()
                .context("analytics.population must be a filter string")?;
            self.analytics = std::mem::take(&mut self.analytics)
                .with_population(text)
                .map_err(|e| anyhow::anyhow!("analytics.population: {e}"))?;
        }
        Ok(())
    }
}

/// One onboarding step: `{id, title, how?, href?, feature: <name>}` or `{…, owns: true}`.
fn checklist_step(v: &Value) -> anyhow::Result<analytics::checklist::Step> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let id = text("id").context("id must be a string")?;
    let detect = match (text("feature"), v.get("owns").and_then(Value::as_bool)) {
        (Some(f), None) => analytics::checklist::Detect::Feature(f),
        (None, Some(true)) => analytics::checklist::Detect::Owns,
        _ => bail!("a step needs either `feature: <name>` or `owns: true`"),
    };
    Ok(analytics::checklist::Step {
        title: text("title").unwrap_or_else(|| id.clone()),
        how: text("how").unwrap_or_default(),
        href: text("href").unwrap_or_else(|| "/".into()),
        id,
        detect,
    })
}

/// A location from config or the command line; relative file targets resolve against `base`.
pub fn location(kind: &str, target: &str, base: &Path) -> LocationSpec {
    if kind == "file" && !Path::new(target).is_absolute() {
        let abs: PathBuf = catalog::settings::normalize(&base.join(target));
        return LocationSpec::new("file", &abs.to_string_lossy());
    }
    LocationSpec::new(kind, target)
}

/// `--location` values: URLs are `url` locations, everything else a file path.
pub fn location_arg(arg: &str) -> LocationSpec {
    if arg.starts_with("http://") || arg.starts_with("https://") {
        LocationSpec::new("url", arg)
    } else {
        location("file", arg, &std::env::current_dir().unwrap_or_default())
    }
}

fn parse_rules(v: Option<&Value>) -> anyhow::Result<Vec<Rule>> {
    let Some(v) = v else { return Ok(vec![]) };
    let list = v.as_array().context("must be a list")?;
    list.iter()
        .enumerate()
        .map(|(i, r)| {
            let allow = r
                .get("allow")
                .and_then(Value::as_array)
                .with_context(|| format!("[{i}].allow must be a list of kinds"))?
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            let locations = r
                .get("locations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|l| {
                    Some(LocationSpec::new(
                        l.get("type")?.as_str()?,
                        l.get("target").or(l.get("pattern"))?.as_str()?,
                    ))
                })
                .collect();
            Ok(Rule { allow, locations })
        })
        .collect()
}

/// Replaces `${NAME}` with the environment variable's value; an unset variable is an error.
fn expand_env(text: &str) -> anyhow::Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').context("unclosed ${ in config")?;
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            // Not a variable reference (e.g. a template expression): keep as written.
            out.push_str(&rest[start..start + 2 + end + 1]);
        } else {
            out.push_str(
                &std::env::var(name)
                    .with_context(|| format!("environment variable {name} is not set"))?,
            );
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A list of `{host: "host", "*.domain" or "host:port"}` at `pointer` (`/backend/reading/allow`,
/// `/scaffolder/httpRequest/allow`): the hosts Stagedoor may read from or call.
fn allowed_hosts(v: &Value, pointer: &str) -> anyhow::Result<Vec<AllowedHost>> {
    let key = pointer.trim_start_matches('/').replace('/', ".");
    let mut hosts = Vec::new();
    for (i, a) in v
        .pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let host = a
            .get("host")
            .and_then(Value::as_str)
            .with_context(|| format!("{key}[{i}].host must be a string"))?;
        let (host, port) = match host.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h, p.parse().ok()),
            _ => (host, None),
        };
        hosts.push(AllowedHost {
            host: host.to_owned(),
            port,
        });
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_backstage_app_config() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app-config.yaml");
        std::fs::write(
            &path,
            "app:\n  title: x\ncatalog:\n  rules:\n    - allow: [Component, API]\n  locations:\n    - type: file\n      target: ../catalog/all.yaml\n      rules:\n        - allow: [Group]\n    - type: url\n      target: https://git.example.com/a.yaml\nbackend:\n  reading:\n    allow:\n      - host: git.example.com\n      - host: localhost:8080\n",
        )
        .unwrap();
        let c = Config::load(Some(&path)).unwrap();
        let locs: Vec<String> = c.catalog.locations.iter().map(|(l, _)| l.key()).collect();
        let parent = dir.path().parent().unwrap().join("catalog/all.yaml");
        assert_eq!(
            locs,
            vec![
                format!("file:{}", parent.display()),
                "url:https://git.example.com/a.yaml".into()
            ]
        );
        assert_eq!(c.catalog.rules[0].allow, vec!["Component", "API"]);
        assert_eq!(c.catalog.locations[0].1[0].allow, vec!["Group"]);
        assert_eq!(
            c.catalog.allowed_hosts[1],
            AllowedHost {
                host: "localhost".into(),
                port: Some(8080)
            }
        );
    }

    #[test]
    fn reads_techdocs_refresh_intervals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app-config.yaml");
        std::fs::write(
            &path,
            "techdocs:\n  builder: local\n  refresh:\n    watchIntervalMs: 250\n    urlIntervalSeconds: 60\n",
        )
        .unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c.docs.watch_interval, Duration::from_millis(250));
        assert_eq!(c.docs.url_refresh_interval, Duration::from_secs(60));
        let defaults = Config::load(None).unwrap();
        assert_eq!(defaults.docs.watch_interval, Duration::from_secs(2));
    }

    #[test]
    fn reads_the_hosts_http_request_may_call() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app-config.yaml");
        std::fs::write(
            &path,
            "scaffolder:\n  httpRequest:\n    allow:\n      - host: api.example.com\n      - host: '*.ci.example.com:8443'\n",
        )
        .unwrap();
        let c = Config::load(Some(&path)).unwrap();
        let hosts: Vec<_> = c
            .scaffolder
            .http_allow
            .iter()
            .map(|h| (h.host.as_str(), h.port))
            .collect();
        assert_eq!(
            hosts,
            [("api.example.com", None), ("*.ci.example.com", Some(8443))]
        );
        // Not the catalog's reading allow-list: the two are separate.
        assert!(c.catalog.allowed_hosts.is_empty());
        std::fs::write(
            &path,
            "scaffolder:\n  httpRequest:\n    allow:\n      - {}\n",
        )
        .unwrap();
        let err = format!("{:#}", Config::load(Some(&path)).unwrap_err());
        assert!(
            err.contains("scaffolder.httpRequest.allow[0].host must be a string"),
            "{err}"
        );
    }

    #[test]
    fn env_references_expand_and_passwords_redact() {
        let home = std::env::var("HOME").unwrap();
        assert_eq!(
            expand_env("dir: ${HOME}/x").unwrap(),
            format!("dir: {home}/x")
        );
        assert!(expand_env("${STAGEDOOR_SURELY_UNSET_VAR}").is_err());
        assert_eq!(
            expand_env("x: ${{ values.name }}").unwrap(),
            "x: ${{ values.name }}"
        );
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        let c = Config {
            listen: "x".into(),
            db: "postgres://u:secret@h/db".into(),
            catalog: Default::default(),
            discovery: Default::default(),
            docs: Default::default(),
            scaffolder: Default::default(),
            publishing: Default::default(),
            analytics: Default::default(),
            org: Default::default(),
        };
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn analytics_settings_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(
            &path,
            "analytics:\n  kThreshold: 8\n  retentionDays: 90\n  population: kind=user,metadata.labels.role=engineer\n  ingest: { maxBatch: 50, maxEventsPerSecond: 2000 }\n",
        )
        .unwrap();
        let a = Config::load(Some(&path)).unwrap().analytics;
        assert_eq!(
            (
                a.k_threshold,
                a.retention_days,
                a.max_batch,
                a.max_events_per_second
            ),
            (8, 90, 50, 2000)
        );
        assert!(a.population.is_some());
        assert_eq!(Config::load(None).unwrap().analytics.k_threshold, 5);
        std::fs::write(
            &path,
            "analytics:\n  checklist:\n    - { id: k8s, title: Open Kubernetes, feature: plugin:kubernetes }\n    - { id: own, owns: true }\n",
        )
        .unwrap();
        let steps = Config::load(Some(&path)).unwrap().analytics.checklist;
        assert_eq!(steps.len(), 2);
        assert_eq!(
            steps[0].detect,
            analytics::checklist::Detect::Feature("plugin:kubernetes".into())
        );
        assert_eq!(
            (steps[1].title.as_str(), &steps[1].detect),
            ("own", &analytics::checklist::Detect::Owns)
        );
        std::fs::write(&path, "analytics:\n  checklist:\n    - { id: x }\n").unwrap();
        let err = format!("{:#}", Config::load(Some(&path)).unwrap_err());
        assert!(err.contains("analytics.checklist[0]"), "{err}");
        std::fs::write(&path, "analytics:\n  kThreshold: -1\n").unwrap();
        let err = format!("{:#}", Config::load(Some(&path)).unwrap_err());
        assert!(
            err.contains("analytics.kThreshold must be a positive whole number"),
            "{err}"
        );
    }
}
