//! Reading location targets: files, globs, directories and allow-listed URLs, all size-bounded.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::settings::{AllowedHost, CatalogSettings, LocationSpec};

/// Why a target could not be read. The name is Backstage's error name for the same case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    Invalid(String),
}

impl ReadError {
    pub fn name(&self) -> &'static str {
        match self {
            ReadError::NotFound(_) => "NotFoundError",
            ReadError::Denied(_) => "NotAllowedError",
            ReadError::Invalid(_) => "InputError",
        }
    }
}

/// A file's identity for change detection: modification time and length.
pub type FileSig = (SystemTime, u64);

pub fn file_sig(path: &Path) -> Option<FileSig> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The files a `file` target names: the file itself, every match of a glob, or every
/// `catalog-info.yaml` under a directory (sorted, so ingestion order is stable).
pub fn expand_file_target(target: &str) -> Result<Vec<PathBuf>, ReadError> {
    if target.contains(['*', '?', '[']) {
        let paths = glob::glob(target)
            .map_err(|e| ReadError::Invalid(format!("bad glob {target:?}: {e}")))?;
        let mut files: Vec<PathBuf> = paths
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(ReadError::NotFound(format!("no files match {target}")));
        }
        return Ok(files);
    }
    let path = Path::new(target);
    if path.is_dir() {
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0 || !is_hidden_or_vendored(e.file_name().to_str().unwrap_or(""))
            })
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter(|e| {
                matches!(
                    e.file_name().to_str(),
                    Some("catalog-info.yaml" | "catalog-info.yml")
                )
            })
            .map(walkdir::DirEntry::into_path)
            .collect();
        files.sort();
        return Ok(files);
    }
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    Err(ReadError::NotFound(format!("{target} does not exist")))
}

fn is_hidden_or_vendored(name: &str) -> bool {
    (name.starts_with('.') && name.len() > 1 && name != "..")
        || name == "node_modules"
        || name == "target"
}

/// Reads a file as UTF-8, refusing anything larger than `max_bytes`.
pub fn read_file(path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| ReadError::NotFound(format!("cannot read {}: {e}", path.display())))?;
    if meta.len() > max_bytes {
        return Err(ReadError::Invalid(format!(
            "{} is {} bytes, more than the limit of {max_bytes}",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| ReadError::NotFound(format!("cannot read {}: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| ReadError::Invalid(format!("{} is not UTF-8 text", path.display())))
}

/// Resolves a target written inside the file at `base` (a nested Location's `target`, or a
/// `$text` reference): relative paths against the file's directory, relative URLs against the URL.
pub fn resolve(base: &LocationSpec, kind: &str, target: &str) -> LocationSpec {
    let resolved = match (base.kind.as_str(), kind) {
        ("file", "file") => {
            let t = Path::new(target);
            if t.is_absolute() {
                target.to_owned()
            } else {
                let dir = Path::new(&base.target).parent().unwrap_or(Path::new("/"));
                normalize(&dir.join(t)).to_string_lossy().into_owned()
            }
        }
        ("url", _) if !target.contains("://") => {
            match reqwest::Url::parse(&base.target).and_then(|u| u.join(target)) {
                Ok(u) => u.to_string(),
                Err(_) => target.to_owned(),
            }
        }
        _ => target.to_owned(),
    };
    LocationSpec {
        kind: kind.to_owned(),
        target: resolved,
    }
}

/// Removes `.` and `..` components without touching the file system (the file may not exist).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Fetches URL targets: only `http`/`https`, only allow-listed hosts (also across redirects),
/// bounded in time and size.
#[derive(Clone)]
pub struct UrlReader {
    client: reqwest::Client,
    allowed: Vec<AllowedHost>,
    max_bytes: u64,
}

impl UrlReader {
    pub fn new(settings: &CatalogSettings) -> Self {
        let allowed = settings.allowed_hosts.clone();
        let for_redirects = allowed.clone();
        let client = reqwest::Client::builder()
            .timeout(settings.http_timeout)
            .connect_timeout(settings.http_timeout)
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                let ok =
                    attempt.previous().len() < 5 && host_allowed(&for_redirects, attempt.url());
                if ok { attempt.follow() } else { attempt.stop() }
            }))
            .user_agent(concat!("stagedoor/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client settings are static and valid");
        Self {
            client,
            allowed,
            max_bytes: settings.max_file_bytes,
        }
    }

    /// Reads `url`; error messages never carry its credentials (they are served in
    /// `status.items` and logged).
    pub async fn read(&self, url: &str) -> Result<String, ReadError> {
        self.read_unmasked(url).await.map_err(|e| match e {
            ReadError::NotFound(m) => ReadError::NotFound(model::redact::text(&m)),
            ReadError::Denied(m) => ReadError::Denied(model::redact::text(&m)),
            ReadError::Invalid(m) => ReadError::Invalid(model::redact::text(&m)),
        })
    }

    async fn read_unmasked(&self, url: &str) -> Result<String, ReadError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| ReadError::Invalid(format!("invalid URL {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ReadError::Invalid(format!(
                "unsupported URL scheme in {url}"
            )));
        }
        if !host_allowed(&self.allowed, &parsed) {
            return Err(ReadError::Denied(format!(
                "reading from {} is not allowed; add the host to backend.reading.allow",
                parsed.host_str().unwrap_or("?")
            )));
        }
        let mut response = self
            .client
            .get(parsed)
            .send()
            .await
            .map_err(|e| ReadError::NotFound(format!("could not read {url}: {e}")))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(ReadError::NotFound(format!(
                "{url} was not found (HTTP 404)"
            )));
        }
        if response.status().is_redirection() {
            // The redirect policy stopped here: the target is not allowed (or too many hops).
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| response.url().join(l).ok());
            let host = to.as_ref().and_then(|u| u.host_str()).unwrap_or("?");
            return Err(ReadError::Denied(format!(
                "could not read {url}: HTTP {} redirects to {host}, which is not allowed \
                 (add the host to backend.reading.allow), or too many redirects",
                response.status()
            )));
        }
        if !response.status().is_success() {
            return Err(ReadError::NotFound(format!(
                "could not read {url}: HTTP {}",
                response.status()
            )));
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes)
        {
            return Err(self.too_large(url));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ReadError::NotFound(format!("could not read {url}: {e}")))?
        {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > self.max_bytes {
                return Err(self.too_large(url));
            }
        }
        String::from_utf8(body).map_err(|_| ReadError::Invalid(format!("{url} is not UTF-8 text")))
    }

    fn too_large(&self, url: &str) -> ReadError {
        ReadError::Invalid(format!(
            "{url} is larger than the limit of {} bytes",
            self.max_bytes
        ))
    }
}

fn host_allowed(allowed: &[AllowedHost], url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    allowed
        .iter()
        .any(|a| a.matches(host, url.port_or_known_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_targets_resolve_against_the_file() {
        let base = LocationSpec::new("file", "/srv/catalog/all.yaml");
        assert_eq!(
            resolve(&base, "file", "./teams/a.yaml").target,
            "/srv/catalog/teams/a.yaml"
        );
        assert_eq!(
            resolve(&base, "file", "../other/b.yaml").target,
            "/srv/other/b.yaml"
        );
        assert_eq!(resolve(&base, "file", "/abs.yaml").target, "/abs.yaml");
        let url = LocationSpec::new(
            "url",
            "https://git.example.com/org/repo/blob/main/catalog-info.yaml",
        );
        assert_eq!(
            resolve(&url, "url", "./docs/api.yaml").target,
            "https://git.example.com/org/repo/blob/main/docs/api.yaml"
        );
    }

    #[test]
    fn directories_yield_catalog_info_files_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::create_dir_all(dir.path().join("node_modules/x")).unwrap();
        std::fs::write(dir.path().join("a/catalog-info.yaml"), "x").unwrap();
        std::fs::write(dir.path().join("a/b/catalog-info.yml"), "x").unwrap();
        std::fs::write(dir.path().join("a/other.yaml"), "x").unwrap();
        std::fs::write(dir.path().join("node_modules/x/catalog-info.yaml"), "x").unwrap();
        let files = expand_file_target(dir.path().to_str().unwrap()).unwrap();
        assert_eq!(files.len(), 2, "{files:?}");
        let glob = format!("{}/a/*.yaml", dir.path().display());
        assert_eq!(expand_file_target(&glob).unwrap().len(), 2);
        assert!(matches!(
            expand_file_target("/nonexistent/x.yaml"),
            Err(ReadError::NotFound(_))
        ));
    }

    #[test]
    fn oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big.yaml");
        std::fs::write(&f, vec![b'a'; 2048]).unwrap();
        assert!(matches!(read_file(&f, 1024), Err(ReadError::Invalid(_))));
        assert_eq!(read_file(&f, 4096).unwrap().len(), 2048);
    }
}
