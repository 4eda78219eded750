//! The scaffolder's publish actions in `stagedoor serve`: the `scaffolder.git.root`,
//! `scaffolder.defaultAuthor`, `scaffolder.defaultCommitMessage` and `integrations` config
//! keys, and the hook
//! that has discovery scan a repository `publish:git` just created, so it is cataloged by the
//! time the task's next step runs (once, through discovery's mirror: a template need not, and
//! should not, register it again with `catalog:register`).

use std::path::Path;
use std::sync::{Arc, Weak};

use anyhow::Context;
use scaffolder::publishing::{AfterGitPublish, HostKind, Integration, PublishSettings};
use serde_json::Value;

/// Reads the publish keys of `scaffolder:`; relative paths resolve against `base`.
pub fn parse(v: &Value, base: &Path) -> anyhow::Result<PublishSettings> {
    let text = |pointer: &str| -> anyhow::Result<Option<String>> {
        match v.pointer(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => anyhow::bail!(
                "{} must be a string",
                pointer.trim_start_matches('/').replace('/', ".")
            ),
        }
    };
    Ok(PublishSettings {
        git_root: text("/scaffolder/git/root")?
            .map(|dir| catalog::settings::normalize(&base.join(dir))),
        default_author_name: text("/scaffolder/defaultAuthor/name")?,
        default_author_email: text("/scaffolder/defaultAuthor/email")?,
        default_commit_message: text("/scaffolder/defaultCommitMessage")?,
        integrations: integrations(v, &|name| forge::Secret::from_env(name))?,
    })
}

/// Looks a token up by variable name (the environment, or a map in tests).
type TokenLookup<'a> = dyn Fn(&str) -> Result<Option<forge::Secret>, String> + 'a;

/// `integrations.github[]` and `integrations.gitlab[]` as in Backstage's app-config: `host`,
/// `apiBaseUrl` (default `https://api.github.com` for github.com, `https://HOST/api/v3` for
/// GitHub Enterprise, `https://HOST/api/v4` for GitLab), and the token: `token` (usually
/// `${GITHUB_TOKEN}`, expanded when the file is read) or `tokenEnv`, a variable naming it (or
/// `<tokenEnv>_FILE` naming a file holding it). Tokens are never printed.
fn integrations(v: &Value, lookup: &TokenLookup<'_>) -> anyhow::Result<Vec<Integration>> {
    let mut out = Vec::new();
    for (key, kind) in [("github", HostKind::GitHub), ("gitlab", HostKind::GitLab)] {
        let list = match v.pointer(&format!("/integrations/{key}")) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(a)) => a,
            Some(_) => anyhow::bail!("integrations.{key} must be a list"),
        };
        for (i, entry) in list.iter().enumerate() {
            let at = format!("integrations.{key}[{i}]");
            let field = |name: &str| -> anyhow::Result<Option<String>> {
                match entry.get(name) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
                    Some(_) => anyhow::bail!("{at}.{name} must be a string"),
                }
            };
            let host = field("host")?
                .filter(|h| !h.is_empty())
                .with_context(|| format!("{at}.host must be a string"))?
                .to_ascii_lowercase();
            let api_base_url = match field("apiBaseUrl")? {
                Some(u) => u.trim_end_matches('/').to_owned(),
                None if kind == HostKind::GitHub && host == "github.com" => {
                    forge::github::API.into()
                }
                None if kind == HostKind::GitHub => format!("https://{host}/api/v3"),
                None => format!("https://{host}/api/v4"),
            };
            let token = match (field("token")?, field("tokenEnv")?) {
                (Some(t), _) if !t.is_empty() => Some(forge::Secret::new(t)),
                (_, Some(var)) => lookup(&var).map_err(|e| anyhow::anyhow!("{at}: {e}"))?,
                _ => None,
            };
            out.push(Integration {
                kind,
                host,
                api_base_url,
                token,
            });
        }
    }
    Ok(out)
}

/// After `publish:git`: a discovery scan when the new repository is under one of its sources
/// ([`discovery::scan_new_repository`]).
pub fn discovery_hook(catalog: &Arc<catalog::Catalog>) -> AfterGitPublish {
    // Weak: the hook lives in the catalog's own state.
    let weak: Weak<catalog::Catalog> = Arc::downgrade(catalog);
    Arc::new(move |repo| {
        let weak = weak.clone();
        Box::pin(async move {
            match weak.upgrade() {
                Some(catalog) => discovery::scan_new_repository(&catalog, &repo).await,
                None => Err("the server is stopping".into()),
            }
        })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_publish_keys() {
        let v = serde_json::json!({"scaffolder": {
            "git": {"root": "repos"},
            "defaultAuthor": {"name": "Bot", "email": "bot@example.com"},
            "defaultCommitMessage": "Scaffolded"
        }});
        let s = super::parse(&v, std::path::Path::new("/etc/sd")).unwrap();
        assert_eq!(s.git_root, Some(std::path::PathBuf::from("/etc/sd/repos")));
        assert_eq!(s.default_author_name.as_deref(), Some("Bot"));
        assert_eq!(s.default_author_email.as_deref(), Some("bot@example.com"));
        assert_eq!(s.default_commit_message.as_deref(), Some("Scaffolded"));
        let bad = serde_json::json!({"scaffolder": {"git": {"root": 3}}});
        let e = super::parse(&bad, std::path::Path::new("/")).unwrap_err();
        assert_eq!(e.to_string(), "scaffolder.git.root must be a string");
        assert!(
            super::parse(&serde_json::json!({}), std::path::Path::new("/"))
                .unwrap()
                .git_root
                .is_none()
        );
    }

    #[test]
    fn reads_integrations_with_tokens_never_printed() {
        let v = serde_json::json!({"integrations": {
            "github": [
                {"host": "github.com", "token": "ghp_literal"},
                {"host": "GHE.example.com", "tokenEnv": "GHE_TOKEN"}
            ],
            "gitlab": [{"host": "gitlab.example.com", "apiBaseUrl": "https://gl.example.com/api/v4/"}]
        }});
        let lookup = |name: &str| -> Result<Option<forge::Secret>, String> {
            Ok((name == "GHE_TOKEN").then(|| forge::Secret::new("ghe_from_env")))
        };
        let all = super::integrations(&v, &lookup).unwrap();
        let summary: Vec<_> = all
            .iter()
            .map(|i| {
                (
                    i.kind,
                    i.host.as_str(),
                    i.api_base_url.as_str(),
                    i.token.as_ref().map(|t| t.expose()),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    super::HostKind::GitHub,
                    "github.com",
                    "https://api.github.com",
                    Some("ghp_literal")
                ),
                (
                    super::HostKind::GitHub,
                    "ghe.example.com",
                    "https://ghe.example.com/api/v3",
                    Some("ghe_from_env")
                ),
                (
                    super::HostKind::GitLab,
                    "gitlab.example.com",
                    "https://gl.example.com/api/v4",
                    None
                ),
            ]
        );
        assert!(!format!("{all:?}").contains("ghp_literal"));
        let bad = serde_json::json!({"integrations": {"github": [{"token": "x"}]}});
        let e = super::integrations(&bad, &lookup).unwrap_err().to_string();
        assert_eq!(e, "integrations.github[0].host must be a string");
        let failing = |_: &str| -> Result<Option<forge::Secret>, String> {
            Err("GHE_TOKEN_FILE names /nope, which cannot be read".into())
        };
        let e = super::integrations(&v, &failing).unwrap_err().to_string();
        assert!(
            e.starts_with("integrations.github[1]: GHE_TOKEN_FILE"),
            "{e}"
        );
    }
}
