//! Where an entity's docs are: its `backstage.io/techdocs-ref` annotation resolved against the
//! file the entity came from (`backstage.io/managed-by-location`), as Backstage resolves it.

use std::path::{Path, PathBuf};

use catalog::read::Entity;
use catalog::settings::AllowedHost;

pub const TECHDOCS_REF: &str = "backstage.io/techdocs-ref";
const MANAGED_BY_LOCATION: &str = "backstage.io/managed-by-location";

/// A docs source: a folder on disk or a base URL, each holding `mkdocs.yml`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    Dir(PathBuf),
    Url(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Dir(p) => write!(f, "dir:{}", p.display()),
            Source::Url(u) => write!(f, "url:{u}"),
        }
    }
}

/// The entity's docs source: `None` without the annotation, `Err` (with why) when the
/// annotation cannot be used.
pub fn of(entity: &Entity, allowed: &[AllowedHost]) -> Option<Result<Source, String>> {
    let reference = entity.annotation(TECHDOCS_REF)?;
    Some(resolve(
        reference,
        entity.annotation(MANAGED_BY_LOCATION),
        allowed,
    ))
}

/// Resolves a techdocs-ref value (`dir:.`, `dir:../docs`, `url:https://…`) against the location
/// the entity was read from (`file:/srv/repo/catalog-info.yaml`, `url:https://…/catalog-info.yaml`).
pub fn resolve(
    reference: &str,
    location: Option<&str>,
    allowed: &[AllowedHost],
) -> Result<Source, String> {
    let reference = reference.trim();
    if let Some(url) = reference.strip_prefix("url:") {
        return allowed_url(url.trim(), allowed).map(Source::Url);
    }
    let Some(rel) = reference.strip_prefix("dir:") else {
        return Err(format!(
            "{TECHDOCS_REF} {reference:?} must start with dir: or url:"
        ));
    };
    let rel = rel.trim();
    let location = location.ok_or_else(|| {
        format!("{TECHDOCS_REF} dir: needs {MANAGED_BY_LOCATION}, which this entity lacks")
    })?;
    if let Some(file) = location.strip_prefix("file:") {
        if Path::new(rel).is_absolute() {
            return Err(format!(
                "{TECHDOCS_REF} dir:{rel} must be relative to the entity's file"
            ));
        }
        let base = Path::new(file).parent().unwrap_or(Path::new("/"));
        return Ok(Source::Dir(normalize(&base.join(rel))));
    }
    if let Some(url) = location.strip_prefix("url:") {
        let joined = join_url(url, rel)?;
        return allowed_url(&joined, allowed).map(Source::Url);
    }
    Err(format!(
        "{TECHDOCS_REF} dir: cannot be resolved against location {location:?}"
    ))
}

/// Lexical normalisation (`a/./b/../c` → `a/c`): the folder may not exist yet.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// `rel` joined to the folder of the file at `url`.
fn join_url(url: &str, rel: &str) -> Result<String, String> {
    let (origin_end, path) = split_origin(url)?;
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.len() <= 1 {
                    return Err(format!("dir:{rel} climbs above {url}"));
                }
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    Ok(format!("{}{}", &url[..origin_end], parts.join("/")))
}

/// The byte index where the path starts, and the path.
fn split_origin(url: &str) -> Result<(usize, &str), String> {
    let after_scheme = url
        .find("://")
        .map(|i| i + 3)
        .ok_or_else(|| format!("{url:?} is not a URL"))?;
    let path_at = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    Ok((path_at, &url[path_at..]))
}

/// The URL, if it is http(s) to a host of the read allow-list (the catalog's `reading.allow`).
fn allowed_url(url: &str, allowed: &[AllowedHost]) -> Result<String, String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{url:?}: only http(s) URLs can be read"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => {
            (h, p.parse::<u16>().ok())
        }
        _ => (authority, None),
    };
    if allowed.iter().any(|a| a.matches(host, port)) {
        Ok(url.to_owned())
    } else {
        Err(format!(
            "{url}: host {host} is not in the read allow-list (catalog reading.allow)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &str) -> AllowedHost {
        AllowedHost {
            host: h.into(),
            port: None,
        }
    }

    #[test]
    fn dir_is_relative_to_the_entity_file() {
        let loc = Some("file:/srv/repos/pay/catalog-info.yaml");
        assert_eq!(
            resolve("dir:.", loc, &[]),
            Ok(Source::Dir("/srv/repos/pay".into()))
        );
        assert_eq!(
            resolve("dir:../shared-docs", loc, &[]),
            Ok(Source::Dir("/srv/repos/shared-docs".into()))
        );
        assert!(resolve("dir:/etc", loc, &[]).is_err());
        assert!(resolve("dir:.", None, &[]).is_err());
        assert!(resolve("s3:bucket", loc, &[]).is_err());
    }

    #[test]
    fn dir_under_a_url_location_is_a_url_in_the_allow_list() {
        let loc = Some("url:https://git.example.com/org/repo/raw/main/catalog-info.yaml");
        assert_eq!(
            resolve("dir:./site", loc, &[host("git.example.com")]),
            Ok(Source::Url(
                "https://git.example.com/org/repo/raw/main/site".into()
            ))
        );
        assert!(resolve("dir:.", loc, &[host("other.example.com")]).is_err());
    }

    #[test]
    fn url_must_be_allowed() {
        let allowed = [host("*.example.com")];
        assert!(resolve("url:https://docs.example.com/x", None, &allowed).is_ok());
        let err = resolve("url:https://evil.test/x", None, &allowed).unwrap_err();
        assert!(err.contains("evil.test"), "{err}");
        assert!(resolve("url:file:///etc/passwd", None, &allowed).is_err());
        assert!(resolve("url:https://evil.test@docs.example.com/", None, &allowed).is_ok());
        assert!(resolve("url:https://docs.example.com@evil.test/", None, &allowed).is_err());
    }
}
