//! The scaffolder's publish actions in `stagedoor serve`: the `scaffolder.git.root`,
//! `scaffolder.defaultAuthor` and `scaffolder.defaultCommitMessage` config keys, and the hook
//! that has discovery scan a repository `publish:git` just created, so it is cataloged by the
//! time the task's next step runs (once, through discovery's mirror: a template need not, and
//! should not, register it again with `catalog:register`).

use std::path::Path;
use std::sync::{Arc, Weak};

use scaffolder::publishing::{AfterGitPublish, PublishSettings};
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
    })
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
}
