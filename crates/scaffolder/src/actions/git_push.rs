//! Pushing the one commit a hosted publish makes (`publish:github`, `publish:gitlab`): the
//! commit is written with gix (`gitwrite`, as `publish:git` writes it) into a scratch bare
//! repository, then pushed with the `git` program, since gix cannot push. The token travels in
//! an `http.extraHeader` set through `GIT_CONFIG_*` environment variables of the child alone:
//! never on a command line (which `ps` shows), never in the remote URL, never in the log, and
//! masked out of any error git prints. No user or system git configuration is read.

use std::path::Path;
use std::time::Duration;

use base64::Engine;

use crate::error::ScaffolderError;

/// Longest a push may take.
const PUSH_TIMEOUT: Duration = Duration::from_secs(120);

/// How to authenticate a push over HTTP: Basic `user:token`, as Backstage pushes
/// (`x-access-token` for GitHub, `oauth2` for GitLab).
pub(super) struct PushAuth<'a> {
    pub user: &'a str,
    pub token: &'a forge::Secret,
}

/// Checks that `url` is one this integration may push to: `https` on the integration's own
/// host (so the token goes nowhere else); `http` and local paths only when the integration's
/// API itself is on loopback (a test's recorded API, or a local fake).
pub(super) fn check_remote(
    url: &str,
    host: &str,
    api_base_url: &str,
) -> Result<(), ScaffolderError> {
    let loopback_api = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| api_base_url.starts_with(p));
    let url_host = url
        .strip_prefix("https://")
        .map(|rest| rest.split(['/', ':', '@']).next().unwrap_or_default());
    let ok = match url_host {
        Some(h) => h.eq_ignore_ascii_case(host),
        None => loopback_api && (url.starts_with("http://") || url.starts_with('/')),
    };
    if ok {
        Ok(())
    } else {
        Err(ScaffolderError::Internal(format!(
            "The host answered a clone URL that is not on {host}, refusing to push there: {url}"
        )))
    }
}

/// Pushes `refs/heads/<branch>` of the repository at `repo` to `url`.
pub(super) async fn push(
    repo: &Path,
    url: &str,
    branch: &str,
    auth: Option<PushAuth<'_>>,
) -> Result<(), ScaffolderError> {
    let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
    let mut cmd = std::process::Command::new("git");
    cmd.current_dir(repo)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ALLOW_PROTOCOL", "https:http:file")
        .args(["push", "--quiet", "--porcelain", url, &refspec])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut masks: Vec<String> = Vec::new();
    if let Some(a) = &auth {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            a.user,
            a.token.expose()
        ));
        cmd.env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "http.extraHeader")
            .env(
                "GIT_CONFIG_VALUE_0",
                format!("Authorization: Basic {basic}"),
            );
        masks.push(basic);
        masks.push(a.token.expose().to_owned());
    }
    let url_owned = url.to_owned();
    let out = tokio::task::spawn_blocking(move || run_bounded(cmd, &url_owned))
        .await
        .map_err(|e| ScaffolderError::Internal(e.to_string()))??;
    if out.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    for m in masks.iter().filter(|m| !m.is_empty()) {
        text = text.replace(m.as_str(), "***");
    }
    let text: String = text.trim().chars().take(1000).collect();
    Err(ScaffolderError::Internal(format!(
        "git push to {url} failed: {text}"
    )))
}

/// Runs `cmd` to its end, or kills it after [`PUSH_TIMEOUT`] (the blocking pool's thread waits;
/// the runtime's do not).
fn run_bounded(
    mut cmd: std::process::Command,
    url: &str,
) -> Result<std::process::Output, ScaffolderError> {
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ScaffolderError::Internal(
                "git is not installed on the server: publish:github and publish:gitlab push with the git program".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // Its output is small (porcelain lines, an error); read after it ends, or after the kill.
    let started = std::time::Instant::now();
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if started.elapsed() > PUSH_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ScaffolderError::Internal(format!(
                "git push to {url} took longer than {} s and was stopped",
                PUSH_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(child.wait_with_output()?)
}

#[cfg(test)]
mod tests {
    use super::check_remote;

    #[test]
    fn pushes_only_to_the_integration_host() {
        assert!(
            check_remote(
                "https://github.com/a/b.git",
                "github.com",
                "https://api.github.com"
            )
            .is_ok()
        );
        assert!(
            check_remote(
                "https://evil.example/a/b.git",
                "github.com",
                "https://api.github.com"
            )
            .is_err()
        );
        assert!(
            check_remote(
                "https://github.com.evil.example/a.git",
                "github.com",
                "https://api.github.com"
            )
            .is_err()
        );
        assert!(check_remote("/tmp/x.git", "github.com", "https://api.github.com").is_err());
        assert!(check_remote("/tmp/x.git", "github.com", "http://127.0.0.1:4000").is_ok());
        assert!(check_remote("ext::sh -c x", "github.com", "http://127.0.0.1:4000").is_err());
    }
}
