//! Where the publish actions may publish: `publish:git`'s root directory, the commit author and
//! message defaults (Backstage's `scaffolder.defaultAuthor` and `scaffolder.defaultCommitMessage`),
//! and what runs after a local git publish (the binary hooks discovery in, so a created
//! repository is scanned and cataloged at once). Also Backstage's `repoUrl` format
//! (`host?owner=o&repo=r`), read the way its publish actions read it, for the actions and the
//! RepoUrlPicker. Hangs on the catalog (`Catalog::state::<Publishing>()`).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use crate::error::ScaffolderError;

/// The `repoUrl` host that means `publish:git`'s root directory.
pub const LOCAL_HOST: &str = "local";

/// Backstage's defaults when neither the action's input nor the config names an author.
pub const DEFAULT_AUTHOR_NAME: &str = "Scaffolder";
pub const DEFAULT_AUTHOR_EMAIL: &str = "scaffolder@backstage.io";
pub const DEFAULT_COMMIT_MESSAGE: &str = "initial commit";

/// The publish settings, from config (`docs/configuration.md`).
#[derive(Debug, Clone, Default)]
pub struct PublishSettings {
    /// `scaffolder.git.root`: `publish:git` creates repositories only under here.
    pub git_root: Option<PathBuf>,
    /// `scaffolder.defaultAuthor.name` / `.email`.
    pub default_author_name: Option<String>,
    pub default_author_email: Option<String>,
    /// `scaffolder.defaultCommitMessage`.
    pub default_commit_message: Option<String>,
    /// `integrations.github[]` and `integrations.gitlab[]`, as Backstage's app-config has them.
    pub integrations: Vec<Integration>,
}

/// The kind of code host an integration is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    GitHub,
    GitLab,
}

/// One code host the publish actions can create repositories on.
#[derive(Debug, Clone)]
pub struct Integration {
    pub kind: HostKind,
    /// `github.com`, `ghe.example.com`, `gitlab.example.com` (the `repoUrl` host).
    pub host: String,
    /// `https://api.github.com`, `https://HOST/api/v3`, `https://HOST/api/v4`.
    pub api_base_url: String,
    /// Never printed (`forge::Secret`).
    pub token: Option<forge::Secret>,
}

impl Integration {
    /// Backstage's implicit integrations: github.com and gitlab.com exist without config.
    fn defaults() -> [Integration; 2] {
        [
            Integration {
                kind: HostKind::GitHub,
                host: "github.com".into(),
                api_base_url: forge::github::API.into(),
                token: None,
            },
            Integration {
                kind: HostKind::GitLab,
                host: "gitlab.com".into(),
                api_base_url: forge::gitlab::API.into(),
                token: None,
            },
        ]
    }
}

impl PublishSettings {
    /// The configured integrations, then github.com and gitlab.com unless configured.
    pub fn integrations(&self) -> Vec<Integration> {
        let mut all = self.integrations.clone();
        for d in Integration::defaults() {
            if !all.iter().any(|i| i.host.eq_ignore_ascii_case(&d.host)) {
                all.push(d);
            }
        }
        all
    }

    /// The integration for `host` of `kind`, or Backstage's error for a host without one.
    pub fn integration(&self, host: &str, kind: HostKind) -> Result<Integration, ScaffolderError> {
        self.integrations()
            .into_iter()
            .find(|i| i.kind == kind && i.host.eq_ignore_ascii_case(host))
            .ok_or_else(|| {
                ScaffolderError::Input(format!(
                    "No matching integration configuration for host {host}, please check your integrations config"
                ))
            })
    }
}

/// Called with a repository `publish:git` just created; answers what it did, for the step's log.
pub type AfterGitPublish = Arc<
    dyn Fn(PathBuf) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>> + Send + Sync,
>;

/// The publish settings on the catalog.
#[derive(Default)]
pub struct Publishing {
    settings: OnceLock<PublishSettings>,
    after_git: OnceLock<AfterGitPublish>,
}

impl Publishing {
    pub fn of(catalog: &::catalog::Catalog) -> Arc<Publishing> {
        catalog.state::<Publishing>()
    }

    /// Sets the settings (the first call wins).
    pub fn configure(&self, settings: PublishSettings) {
        let _ = self.settings.set(settings);
    }

    pub fn settings(&self) -> PublishSettings {
        self.settings.get().cloned().unwrap_or_default()
    }

    /// Sets what runs after each local git publish (the first call wins).
    pub fn after_git_publish(&self, hook: AfterGitPublish) {
        let _ = self.after_git.set(hook);
    }

    /// Runs the hook, if any, for `repo`.
    pub async fn git_published(&self, repo: &Path) -> Option<Result<String, String>> {
        let hook = self.after_git.get()?.clone();
        Some(hook(repo.to_path_buf()).await)
    }

    /// The `repoUrl` hosts this server can publish to, for the RepoUrlPicker: `local` when
    /// `publish:git` has a root, then every integration's host.
    pub fn hosts(&self) -> Vec<String> {
        let settings = self.settings();
        let mut hosts = Vec::new();
        if settings.git_root.is_some() {
            hosts.push(LOCAL_HOST.to_owned());
        }
        hosts.extend(settings.integrations().into_iter().map(|i| i.host));
        hosts
    }
}

/// A `repoUrl` read: its host and the parts publish actions use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoUrl {
    pub host: String,
    pub owner: Option<String>,
    pub repo: String,
}

/// Reads `host?owner=o&repo=r` as Backstage's publish actions do (`missing host`, `missing
/// repo` in its words), and refuses names that are not plain repository or owner names (so
/// none can climb out of a directory or smuggle a path into an API URL).
pub fn parse_repo_url(url: &str) -> Result<RepoUrl, ScaffolderError> {
    let (host, query) = crate::filters::repo_url_parts(url)
        .map_err(|e| ScaffolderError::Input(e.detail().unwrap_or_default().to_owned()))?;
    let get = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let repo = get("repo").ok_or_else(|| {
        ScaffolderError::Input(format!(
            "Invalid repo URL passed to publisher: {url}, missing repo"
        ))
    })?;
    let owner = get("owner");
    check_name("repo", &repo, false)?;
    if let Some(o) = &owner {
        // GitLab owners may be nested groups (`group/subgroup`).
        check_name("owner", o, true)?;
    }
    Ok(RepoUrl {
        host: host.to_ascii_lowercase(),
        owner,
        repo,
    })
}

/// Letters, digits, `.`, `_` and `-` (and `/` between parts when `nested`), not starting with
/// `.` or `-`, at most 100 characters a part.
pub fn check_name(what: &str, name: &str, nested: bool) -> Result<(), ScaffolderError> {
    let parts: Vec<&str> = if nested {
        name.split('/').collect()
    } else {
        vec![name]
    };
    let ok = parts.len() <= 20
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 100
                && !p.starts_with(['.', '-'])
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        });
    if ok {
        Ok(())
    } else {
        Err(ScaffolderError::Input(format!(
            "Invalid {what} {name:?}: use letters, digits, '.', '_' and '-', not starting with '.' or '-'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_urls_read_as_backstage_reads_them() {
        let u = parse_repo_url("GitHub.com?owner=acme&repo=svc-1").unwrap();
        assert_eq!(
            u,
            RepoUrl {
                host: "github.com".into(),
                owner: Some("acme".into()),
                repo: "svc-1".into()
            }
        );
        let nested = parse_repo_url("gitlab.com?owner=a%2Fb&repo=r").unwrap();
        assert_eq!(nested.owner.as_deref(), Some("a/b"));
        assert_eq!(parse_repo_url("local?repo=x").unwrap().owner, None);
        let e = parse_repo_url("github.com?owner=o")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "Invalid repo URL passed to publisher: github.com?owner=o, missing repo"
        );
        assert!(
            parse_repo_url("?repo=x")
                .unwrap_err()
                .to_string()
                .contains("missing host")
        );
        for bad in [
            "local?repo=..",
            "local?repo=a/b",
            "local?owner=..&repo=x",
            "local?repo=.git",
        ] {
            assert!(parse_repo_url(bad).is_err(), "{bad}");
        }
    }
}
