//! View-model pieces shared by the pages: entity rows parsed from stitched JSON, links to
//! entities, external links filtered to safe schemes, and annotations that name known tools.
//!
//! Everything here is plain data; templates escape it when they print it. The one decision a
//! template cannot make safely is whether a catalog-supplied URL may become an `href`, so
//! [`safe_href`] makes it here, once.

use catalog::read::{Snapshot, Stitched};
use model::EntityRef;
use model::relations as rel;
use serde_json::Value;

/// The status item type that carries processing errors.
pub const PROCESSING: &str = "backstage.io/catalog-processing";

/// Parses a stitched body; a body that does not parse (never expected) renders as empty.
pub fn parse(st: &Stitched) -> Value {
    serde_json::from_str(&st.body()).unwrap_or(Value::Null)
}

/// The string at a JSON pointer, if it is one.
pub fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encodes a query-string value.
pub fn query_value(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The portal path of an entity.
pub fn entity_href(r: &EntityRef) -> String {
    format!(
        "/catalog/{}/{}/{}",
        segment(&r.namespace.to_lowercase()),
        segment(&r.kind.to_lowercase()),
        segment(&r.name)
    )
}

/// A link to another entity, which may or may not be in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefLink {
    pub href: String,
    /// Short label: the name, prefixed by the namespace when it is not `default`.
    pub label: String,
    /// The full canonical reference, for tooltips and facets.
    pub full: String,
    pub kind: String,
    /// False when the reference dangles; such links are shown but marked.
    pub exists: bool,
}

impl RefLink {
    pub fn new(snap: &Snapshot, r: &EntityRef) -> Self {
        let exists = snap.get(&r.key()).is_some();
        Self::with(r, exists)
    }

    pub fn with(r: &EntityRef, exists: bool) -> Self {
        let label = if r
            .namespace
            .eq_ignore_ascii_case(model::entity_ref::DEFAULT_NAMESPACE)
        {
            r.name.clone()
        } else {
            format!("{}/{}", r.namespace, r.name)
        };
        RefLink {
            href: entity_href(r),
            label,
            full: r.key(),
            kind: r.kind.to_lowercase(),
            exists,
        }
    }

    /// From a relation target or spec reference.
    pub fn parse(snap: &Snapshot, target: &str, default_kind: Option<&str>) -> Option<Self> {
        EntityRef::parse(target, default_kind, "default")
            .ok()
            .map(|r| Self::new(snap, &r))
    }
}

/// How a person or team is called: `spec.profile.displayName`, else `metadata.title`. Kept per
/// snapshot: a team's JSON holds every `ownerOf` relation, and pages name the same teams over
/// and over (a campaign page at 50,000 components names a thousand teams).
pub fn display_name(snap: &Snapshot, key: &str) -> Option<String> {
    #[derive(Default)]
    struct Names(std::sync::Mutex<std::collections::HashMap<String, Option<String>>>);
    let names = snap.derived(|_| Names::default());
    if let Some(n) = names.0.lock().unwrap_or_else(|e| e.into_inner()).get(key) {
        return n.clone();
    }
    let name = snap.get(key).and_then(|st| {
        let e = parse(st);
        str_at(&e, "/spec/profile/displayName")
            .or_else(|| str_at(&e, "/metadata/title"))
            .map(str::to_owned)
    });
    names
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key.to_owned(), name.clone());
    name
}

/// The relation targets of one type, in body order.
pub fn targets<'a>(entity: &'a Value, relation: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    entity
        .get("relations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |r| r.get("type").and_then(Value::as_str) == Some(relation))
        .filter_map(|r| r.get("targetRef").and_then(Value::as_str))
}

/// One processing error as the entity page shows it.
#[derive(Debug, Clone)]
pub struct ProblemView {
    pub name: String,
    pub message: String,
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

impl ProblemView {
    /// `file:line:column`, as an editor or terminal would take it.
    pub fn place(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }
}

/// The processing errors stitched into `status.items`.
pub fn problems(entity: &Value) -> Vec<ProblemView> {
    entity
        .pointer("/status/items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|i| i.get("type").and_then(Value::as_str) == Some(PROCESSING))
        .map(|i| {
            let e = i.get("error").unwrap_or(&Value::Null);
            ProblemView {
                name: str_at(e, "/name").unwrap_or("Error").to_owned(),
                message: str_at(e, "/message")
                    .or_else(|| str_at(i, "/message"))
                    .unwrap_or_default()
                    .to_owned(),
                file: str_at(e, "/file").unwrap_or_default().to_owned(),
                line: e.get("line").and_then(Value::as_u64),
                column: e.get("column").and_then(Value::as_u64),
            }
        })
        .collect()
}

/// One entity as a table row.
#[derive(Debug, Clone)]
pub struct Row {
    pub link: RefLink,
    /// `metadata.title`, or the name.
    pub title: String,
    pub kind: String,
    pub type_: String,
    pub lifecycle: String,
    pub owner: Option<RefLink>,
    pub system: Option<RefLink>,
    pub description: String,
    pub tags: Vec<String>,
    pub errors: usize,
}

impl Row {
    pub fn of(snap: &Snapshot, st: &Stitched) -> Row {
        Self::from_value(snap, st, &parse(st))
    }

    pub fn from_value(snap: &Snapshot, st: &Stitched, e: &Value) -> Row {
        let me = EntityRef::parse(st.entity_ref(), None, "default")
            .unwrap_or_else(|_| EntityRef::new("unknown", "default", st.entity_ref()));
        let name = str_at(e, "/metadata/name").unwrap_or(&me.name);
        let owner = targets(e, rel::OWNED_BY)
            .next()
            .and_then(|t| RefLink::parse(snap, t, None));
        let system = targets(e, rel::PART_OF)
            .find(|t| t.starts_with("system:"))
            .and_then(|t| RefLink::parse(snap, t, None));
        Row {
            link: RefLink::with(&me, true),
            title: str_at(e, "/metadata/title")
                .or_else(|| str_at(e, "/spec/profile/displayName"))
                .unwrap_or(name)
                .to_owned(),
            kind: str_at(e, "/kind").unwrap_or(&me.kind).to_owned(),
            type_: str_at(e, "/spec/type").unwrap_or_default().to_owned(),
            lifecycle: str_at(e, "/spec/lifecycle").unwrap_or_default().to_owned(),
            owner,
            system,
            description: str_at(e, "/metadata/description")
                .unwrap_or_default()
                .to_owned(),
            tags: e
                .pointer("/metadata/tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            errors: problems(e).len(),
        }
    }

    pub fn initials(&self) -> String {
        initials(&self.title)
    }

    /// The description cut to a table cell's worth.
    pub fn short_description(&self) -> String {
        truncate(&self.description, 110)
    }
}

/// Up to two initials of a person's or team's name, for avatars.
pub fn initials(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c == '.' || c == '-')
        .filter_map(|w| w.chars().next())
        .filter(|c| c.is_alphanumeric())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// Cuts text to at most `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The URL itself when it may become an `href`: absolute `http`, `https` or `mailto` only.
///
/// Browsers strip leading spaces and control characters and ignore tabs and newlines inside a
/// scheme (`java\tscript:` runs), so any URL containing whitespace or a control character is
/// refused outright rather than normalised, and the scheme must be exactly one of the three.
pub fn safe_href(url: &str) -> Option<String> {
    if url.is_empty()
        || url.len() > 4096
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let ok = ["http", "https", "mailto"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s));
    if !ok {
        return None;
    }
    let rest = &url[colon + 1..];
    // An http(s) URL needs an authority; `https:foo` is relative in some parsers.
    if !scheme.eq_ignore_ascii_case("mailto") && !rest.starts_with("//") {
        return None;
    }
    Some(url.to_owned())
}

/// An external link from `metadata.links` or a tool annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtLink {
    pub label: String,
    /// Shown next to the label (the annotation value, or the URL).
    pub detail: String,
    /// `None` when the URL was refused or the tool has no well-known address.
    pub href: Option<String>,
}

/// `metadata.links`, each with a title (or its URL) and its URL only if safe.
pub fn links(entity: &Value) -> Vec<ExtLink> {
    entity
        .pointer("/metadata/links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let url = str_at(l, "/url")?;
            let title = str_at(l, "/title").filter(|t| !t.is_empty()).unwrap_or(url);
            Some(ExtLink {
                label: title.to_owned(),
                detail: url.to_owned(),
                href: safe_href(url),
            })
        })
        .collect()
}

/// `url:https://…` (Backstage's location form) to the URL.
fn location_url(value: &str) -> Option<String> {
    safe_href(value.strip_prefix("url:").unwrap_or(value))
}

/// Slugs like `org/repo`: refuse anything that could climb out of the tool's path.
fn slug(value: &str) -> Option<&str> {
    let ok = !value.is_empty()
        && !value.contains("..")
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
    ok.then_some(value)
}

/// Annotations that name a tool, as links where the tool has a well-known public address.
pub fn tool_links(entity: &Value) -> Vec<ExtLink> {
    let Some(ann) = entity
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |label: &str, value: &str, href: Option<String>| {
        out.push(ExtLink {
            label: label.to_owned(),
            detail: value.to_owned(),
            href,
        })
    };
    for (key, value) in ann {
        let Some(value) = value.as_str() else {
            continue;
        };
        match key.as_str() {
            "github.com/project-slug" => push(
                "GitHub",
                value,
                slug(value).map(|s| format!("https://github.com/{s}")),
            ),
            "gitlab.com/project-slug" => push(
                "GitLab",
                value,
                slug(value).map(|s| format!("https://gitlab.com/{s}")),
            ),
            "circleci.com/project-slug" => push(
                "CircleCI",
                value,
                slug(value).map(|s| format!("https://app.circleci.com/pipelines/{s}")),
            ),
            "pagerduty.com/service-id" => push(
                "PagerDuty",
                value,
                slug(value).map(|s| format!("https://app.pagerduty.com/service-directory/{s}")),
            ),
            "pagerduty.com/integration-key" => push("PagerDuty integration", value, None),
            "sonarqube.org/project-key" => {
                // `instance/key` names a self-hosted server we do not know the address of.
                let href = (!value.contains('/')).then(|| {
                    format!(
                        "https://sonarcloud.io/project/overview?id={}",
                        query_value(value)
                    )
                });
                push("SonarQube", value, href)
            }
            "backstage.io/techdocs-ref" => push("TechDocs", value, location_url(value)),
            "backstage.io/source-location" => push("Source", value, location_url(value)),
            "backstage.io/view-url" => push("View source", value, safe_href(value)),
            "backstage.io/edit-url" => push("Edit", value, safe_href(value)),
            "backstage.io/kubernetes-id" => push("Kubernetes", value, None),
            "jira/project-key" => push("Jira project", value, None),
            "sentry.io/project-slug" => push("Sentry", value, None),
            "grafana/dashboard-selector" => push("Grafana", value, None),
            "argocd/app-name" => push("Argo CD", value, None),
            "lighthouse.com/website-url" => push("Lighthouse", value, safe_href(value)),
            _ => {}
        }
    }
    out
}

/// Where an entity was read from (`backstage.io/managed-by-location`), without the `file:`.
pub fn source_file(entity: &Value) -> Option<String> {
    let loc = entity
        .pointer("/metadata/annotations")
        .and_then(|a| a.get("backstage.io/managed-by-location"))
        .and_then(Value::as_str)?;
    Some(loc.split_once(':').map_or(loc, |(_, rest)| rest).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn safe_href_allows_only_web_and_mail_schemes() {
        assert_eq!(
            safe_href("https://x.example/a?b"),
            Some("https://x.example/a?b".into())
        );
        assert_eq!(
            safe_href("HTTP://x.example"),
            Some("HTTP://x.example".into())
        );
        assert_eq!(
            safe_href("mailto:a@b.example"),
            Some("mailto:a@b.example".into())
        );
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "\u{1}javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "//evil.example/x",
            "/relative",
            "https:evil",
            "https://x.example/a b",
            "",
        ] {
            assert_eq!(safe_href(bad), None, "{bad:?} must be refused");
        }
    }

    #[test]
    fn links_keep_unsafe_urls_as_text_only() {
        let e = json!({"metadata": {"links": [
            {"url": "javascript:alert(1)", "title": "click"},
            {"url": "https://ok.example"}
        ]}});
        let l = links(&e);
        assert_eq!(l[0].href, None);
        assert_eq!(l[0].detail, "javascript:alert(1)");
        assert_eq!(l[1].href.as_deref(), Some("https://ok.example"));
        assert_eq!(l[1].label, "https://ok.example");
    }

    #[test]
    fn tool_annotations_become_links_only_for_clean_values() {
        let e = json!({"metadata": {"annotations": {
            "github.com/project-slug": "acme/shop",
            "gitlab.com/project-slug": "../../javascript:x",
            "backstage.io/techdocs-ref": "url:javascript:alert(1)",
            "backstage.io/source-location": "url:https://git.example/acme/shop",
            "backstage.io/kubernetes-id": "shop",
            "unrelated/thing": "x"
        }}});
        let t = tool_links(&e);
        let by = |label: &str| t.iter().find(|l| l.label == label).unwrap().clone();
        assert_eq!(
            by("GitHub").href.as_deref(),
            Some("https://github.com/acme/shop")
        );
        assert_eq!(by("GitLab").href, None);
        assert_eq!(by("TechDocs").href, None);
        assert_eq!(
            by("Source").href.as_deref(),
            Some("https://git.example/acme/shop")
        );
        assert_eq!(by("Kubernetes").href, None);
        assert_eq!(t.len(), 5);
    }

    #[test]
    fn entity_paths_encode_every_segment() {
        let r = EntityRef::new("Component", "default", "a b/<x>");
        assert_eq!(
            entity_href(&r),
            "/catalog/default/component/a%20b%2F%3Cx%3E"
        );
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
