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
    /// Processing the file failed inside Stagedoor (a panic, caught): not the file's fault.
    #[error("{0}")]
    Internal(String),
}

impl ReadError {
    pub fn name(&self) -> &'static str {
        match self {
            ReadError::NotFound(_) => "NotFoundError",
            ReadError::Denied(_) => "NotAllowedError",
            ReadError::Invalid(_) => "InputError",
            ReadError::Internal(_) => "Error",
        }
    }
}

/// A file's identity for change detection: modification time and length.
pub type FileSig = (SystemTime, u64);

pub fn file_sig(path: &Path) -> Option<FileSig> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Walking a directory or glob target stops with an error past this depth below its base...
pub const MAX_WALK_DEPTH: usize = 32;
/// ...or after visiting this many entries (files and directories): a target such as `/` must
/// not walk the whole host file system every round.
pub const MAX_WALK_ENTRIES: usize = 200_000;

/// Where the files a target names may lie.
#[derive(Debug, Clone, Copy)]
pub enum Confine<'a> {
    /// A configured root location (settings, `POST /locations`): anywhere.
    Anywhere,
    /// A target named inside a catalog file: under this real (canonical) directory only,
    /// through links or `..` included.
    Under(&'a Path),
}

/// The files a `file` target names: the file itself, every match of a glob, or every
/// `catalog-info.yaml` under a directory (sorted, so ingestion order is stable). Globs and
/// directories yield regular files only and never follow links while walking.
pub fn expand_file_target(target: &str, confine: Confine<'_>) -> Result<Vec<PathBuf>, ReadError> {
    if target.contains(['*', '?', '[']) {
        let pattern = glob::Pattern::new(target)
            .map_err(|e| ReadError::Invalid(format!("bad glob {target:?}: {e}")))?;
        let base = glob_base(target);
        if let Confine::Under(root) = confine {
            confined(&base, root, target)?;
        }
        // Deep only when the pattern itself can match any depth.
        let depth = if target.contains("**") {
            usize::MAX
        } else {
            Path::new(target).components().count() - base.components().count()
        };
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..Default::default()
        };
        let files = walk(&base, target, depth, false, |e| {
            pattern.matches_path_with(e.path(), options)
        })?;
        if files.is_empty() {
            return Err(ReadError::NotFound(format!("no files match {target}")));
        }
        return Ok(files);
    }
    let path = Path::new(target);
    let real = match confine {
        Confine::Under(root) => Some(confined(path, root, target)?),
        Confine::Anywhere => None,
    };
    let is_dir = real.as_deref().unwrap_or(path).is_dir();
    if is_dir {
        return walk(path, target, usize::MAX, true, |e| {
            matches!(
                e.file_name().to_str(),
                Some("catalog-info.yaml" | "catalog-info.yml")
            )
        });
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(vec![path.to_path_buf()]),
        Ok(_) => Err(ReadError::Invalid(format!(
            "{target} is not a regular file or a directory"
        ))),
        Err(_) => Err(ReadError::NotFound(format!("{target} does not exist"))),
    }
}

/// The directory a glob's matches all lie under: its components before the first pattern.
pub fn glob_base(target: &str) -> PathBuf {
    Path::new(target)
        .components()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        .collect()
}

/// The regular files at most `depth` levels under `dir` that `keep` accepts, sorted. Links are
/// not followed; with `skip_hidden`, hidden and vendored folders are skipped (a glob matches
/// them as written). Deeper than [`MAX_WALK_DEPTH`] or larger than [`MAX_WALK_ENTRIES`] is an
/// error, not a silent cut.
fn walk(
    dir: &Path,
    target: &str,
    depth: usize,
    skip_hidden: bool,
    keep: impl Fn(&walkdir::DirEntry) -> bool,
) -> Result<Vec<PathBuf>, ReadError> {
    walk_bounded(
        dir,
        target,
        (depth, skip_hidden),
        (MAX_WALK_DEPTH, MAX_WALK_ENTRIES),
        keep,
    )
}

/// [`walk`] with its bounds given (tests use small ones).
fn walk_bounded(
    dir: &Path,
    target: &str,
    (depth, skip_hidden): (usize, bool),
    (max_depth, max_entries): (usize, usize),
    keep: impl Fn(&walkdir::DirEntry) -> bool,
) -> Result<Vec<PathBuf>, ReadError> {
    let mut files = Vec::new();
    let entries = walkdir::WalkDir::new(dir)
        .follow_links(false)
        // One level past the cap, to tell a tree that is too deep from one that just fits.
        .max_depth(depth.min(max_depth + 1))
        .into_iter()
        .filter_entry(|e| {
            !skip_hidden
                || e.depth() == 0
                || !is_hidden_or_vendored(e.file_name().to_str().unwrap_or(""))
        })
        .filter_map(Result::ok);
    for (n, e) in entries.enumerate() {
        if n == max_entries {
            return Err(ReadError::Invalid(format!(
                "{target}: stopped after {max_entries} files and folders under {}; \
                 point the location at a smaller directory or a narrower glob",
                dir.display()
            )));
        }
        if e.depth() > max_depth {
            return Err(ReadError::Invalid(format!(
                "{target}: {} is more than {max_depth} levels below {}; \
                 point the location at a smaller directory",
                e.path().display(),
                dir.display()
            )));
        }
        if e.file_type().is_file() && keep(&e) {
            files.push(e.into_path());
        }
    }
    files.sort();
    Ok(files)
}

/// The real path of `path`, refused when it leaves the real directory `root` (through a link or
/// `..`). Messages name `shown` (the target as written), never the file's content.
pub fn confined(path: &Path, root: &Path, shown: &str) -> Result<PathBuf, ReadError> {
    let real = path
        .canonicalize()
        .map_err(|_| ReadError::NotFound(format!("{shown} does not exist")))?;
    if real.starts_with(root) {
        Ok(real)
    } else {
        Err(ReadError::Denied(format!(
            "{shown} resolves outside the location's directory {}; files named in a catalog \
             must stay under it",
            root.display()
        )))
    }
}

fn is_hidden_or_vendored(name: &str) -> bool {
    (name.starts_with('.') && name.len() > 1 && name != "..")
        || name == "node_modules"
        || name == "target"
}

/// Reads a regular file as UTF-8, refusing anything larger than `max_bytes`. The file is opened
/// without blocking (a FIFO with no writer would hang the round) and checked on the open handle,
/// so a link to `/dev/zero` or a pipe is refused instead of read without end.
pub fn read_file(path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    use std::io::Read;
    let cannot =
        |e: std::io::Error| ReadError::NotFound(format!("cannot read {}: {e}", path.display()));
    let file = open_nonblocking(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(ReadError::Invalid(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    let too_large = || {
        ReadError::Invalid(format!(
            "{} is more than the limit of {max_bytes} bytes",
            path.display()
        ))
    };
    if meta.len() > max_bytes {
        return Err(too_large());
    }
    // The length can change after the check: read one byte past the limit at most.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large());
    }
    String::from_utf8(bytes)
        .map_err(|_| ReadError::Invalid(format!("{} is not UTF-8 text", path.display())))
}

fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
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
            ReadError::Internal(m) => ReadError::Internal(model::redact::text(&m)),
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
        let files = expand_file_target(dir.path().to_str().unwrap(), Confine::Anywhere).unwrap();
        assert_eq!(files.len(), 2, "{files:?}");
        let glob = format!("{}/a/*.yaml", dir.path().display());
        assert_eq!(
            expand_file_target(&glob, Confine::Anywhere).unwrap().len(),
            2
        );
        assert!(matches!(
            expand_file_target("/nonexistent/x.yaml", Confine::Anywhere),
            Err(ReadError::NotFound(_))
        ));
    }

    #[test]
    fn walks_are_bounded_in_depth_and_size_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        // The file is 6 levels down: five folders, then itself.
        let deep: PathBuf = (0..5).map(|i| format!("d{i}")).collect();
        std::fs::create_dir_all(dir.path().join(&deep)).unwrap();
        std::fs::write(dir.path().join(&deep).join("catalog-info.yaml"), "x").unwrap();
        let all = |_: &walkdir::DirEntry| true;
        let ok = walk_bounded(dir.path(), "t", (usize::MAX, true), (6, 100), all).unwrap();
        assert_eq!(ok.len(), 1);
        let Err(ReadError::Invalid(m)) =
            walk_bounded(dir.path(), "t", (usize::MAX, true), (5, 100), all)
        else {
            panic!("too deep");
        };
        assert!(m.contains("more than 5 levels"), "{m}");
        let Err(ReadError::Invalid(m)) =
            walk_bounded(dir.path(), "t", (usize::MAX, true), (6, 3), all)
        else {
            panic!("too many");
        };
        assert!(m.contains("stopped after 3 files and folders"), "{m}");
        // A glob's own depth is a limit, not an error.
        let glob = format!("{}/*/catalog-info.yaml", dir.path().display());
        assert!(matches!(
            expand_file_target(&glob, Confine::Anywhere),
            Err(ReadError::NotFound(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn globs_and_directories_skip_links_and_special_files() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("catalog-info.yaml"), "x").unwrap();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/catalog-info.yaml"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("catalog-info.yaml"),
            dir.path().join("catalog-info.yml"),
        )
        .unwrap();
        let files = expand_file_target(dir.path().to_str().unwrap(), Confine::Anywhere).unwrap();
        assert_eq!(files, vec![dir.path().join("a/catalog-info.yaml")]);
        let glob = format!("{}/**/catalog-info.*", dir.path().display());
        assert_eq!(expand_file_target(&glob, Confine::Anywhere).unwrap(), files);
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_refused_on_the_open_handle() {
        let Err(ReadError::Invalid(m)) = read_file(Path::new("/dev/zero"), 1024) else {
            panic!("/dev/zero is refused");
        };
        assert!(m.contains("not a regular file"), "{m}");
    }

    /// The size on record can be wrong (here 0): at most one byte past the limit is read.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_limit_holds_when_the_size_on_record_is_wrong() {
        let status = Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(status).unwrap().len(), 0);
        let Err(ReadError::Invalid(m)) = read_file(status, 16) else {
            panic!("more than 16 bytes");
        };
        assert!(m.contains("limit of 16 bytes"), "{m}");
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
