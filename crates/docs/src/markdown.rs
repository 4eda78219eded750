//! One Markdown page to safe HTML: GitHub-flavoured Markdown (tables, task lists, strikethrough,
//! autolinks, footnotes), techdocs-core's admonitions and tabs ([`crate::blocks`]), heading ids
//! and the page's headings for a table of contents, fenced code highlighted ([`crate::highlight`]), Mermaid
//! left as `<pre class="mermaid">` for the page to enhance, relative links and images rewritten
//! to portal URLs (broken ones reported with their line), and the result sanitised.

use std::collections::{HashMap, HashSet};

use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

use crate::blocks::{self, escape};
use crate::paths;
use crate::sanitize;

/// What a page's links resolve against.
#[derive(Debug, Clone, Copy)]
pub struct LinkContext<'a> {
    /// The page's path inside the docs folder (`guide/setup.md`).
    pub page: &'a str,
    /// Every file of the docs folder (`/`-separated, relative to it).
    pub files: &'a HashSet<String>,
    /// The reader URL of the site's root page, ending in `/`.
    pub page_base: &'a str,
    /// The URL files of the docs folder are served under, ending in `/`.
    pub asset_base: &'a str,
}

/// A heading of a page: its level (1–6), its anchor id and its text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// A rendered page.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Sanitised HTML.
    pub html: String,
    /// The text of the first level-1 heading.
    pub title: Option<String>,
    pub headings: Vec<Heading>,
    /// The page's words without markup (for search).
    pub text: String,
    /// (1-based source line, message) of each link or image that does not resolve.
    pub problems: Vec<(usize, String)>,
}

/// At most this many problems are reported per page; the rest are counted in one line.
const MAX_PROBLEMS: usize = 50;

/// A page's broken links: the first [`MAX_PROBLEMS`] with their line, and how many in all.
#[derive(Default)]
struct Problems {
    list: Vec<(usize, String)>,
    total: usize,
}

impl Problems {
    fn push(&mut self, line: impl FnOnce() -> usize, message: String) {
        self.total += 1;
        if self.list.len() < MAX_PROBLEMS {
            self.list.push((line(), message));
        }
    }

    fn into_list(mut self) -> Vec<(usize, String)> {
        if self.total > self.list.len() {
            let line = self.list.last().map_or(1, |p| p.0);
            let more = self.total - self.list.len();
            self.list
                .push((line, format!("and {more} more broken links")));
        }
        self.list
    }
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Renders `src`, resolving links against `ctx`.
pub fn render(src: &str, ctx: &LinkContext<'_>) -> Rendered {
    let prepared = blocks::prepare(src);
    let mut events: Vec<(Event<'_>, std::ops::Range<usize>)> = Vec::new();
    // Adjacent text runs are merged so that bare URLs and heading text are seen whole.
    for (event, range) in Parser::new_ext(&prepared.text, options()).into_offset_iter() {
        if let (Event::Text(t), Some((Event::Text(prev), prev_range))) = (&event, events.last_mut())
        {
            *prev = CowStr::from(format!("{prev}{t}"));
            prev_range.end = range.end;
            continue;
        }
        events.push((event, range));
    }

    let mut out: Vec<Event<'_>> = Vec::with_capacity(events.len());
    let mut problems = Problems::default();
    let mut headings = Vec::new();
    let mut title = None;
    let mut text = String::new();
    let mut used_ids: HashMap<String, usize> = HashMap::new();
    let mut in_link = 0usize;
    let mut in_code = false;
    let mut i = 0;
    while i < events.len() {
        let (event, range) = &events[i];
        match event {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                // Buffer the heading to learn its text, then open it with its id.
                let end = events[i..]
                    .iter()
                    .position(|(e, _)| matches!(e, Event::End(TagEnd::Heading(_))))
                    .map_or(events.len(), |p| i + p);
                let inner: String = events[i + 1..end]
                    .iter()
                    .filter_map(|(e, _)| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                let base = match id {
                    Some(id) => id.to_string(),
                    None => slug(&inner),
                };
                let id = unique(&base, &mut used_ids);
                let level_n = *level as u8;
                if level_n == 1 && title.is_none() {
                    title = Some(inner.clone());
                }
                text.push_str(&inner);
                text.push('\n');
                headings.push(Heading {
                    level: level_n,
                    id: id.clone(),
                    text: inner,
                });
                out.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(id)),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
                for (e, r) in &events[i + 1..end] {
                    rewrite(e.clone(), r, ctx, &prepared, &mut problems, &mut out);
                }
                if end < events.len() {
                    out.push(events[end].0.clone());
                }
                i = end + 1;
                continue;
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info.split_whitespace().next().unwrap_or(""),
                    CodeBlockKind::Indented => "",
                };
                let mermaid = lang.eq_ignore_ascii_case("mermaid");
                if mermaid || crate::highlight::supports(lang) {
                    // The whole block at once: its text is escaped or highlighted here.
                    let end = events[i..]
                        .iter()
                        .position(|(e, _)| matches!(e, Event::End(TagEnd::CodeBlock)))
                        .map_or(events.len(), |p| i + p);
                    let body: String = events[i + 1..end]
                        .iter()
                        .filter_map(|(e, _)| match e {
                            Event::Text(t) => Some(t.as_ref()),
                            _ => None,
                        })
                        .collect();
                    let html = if mermaid {
                        format!("<pre class=\"mermaid\">{}</pre>\n", escape(&body))
                    } else {
                        text.push_str(&body);
                        text.push('\n');
                        format!(
                            "<pre><code class=\"language-{}\">{}</code></pre>\n",
                            escape(lang),
                            crate::highlight::highlight(&body, lang)
                        )
                    };
                    out.push(Event::Html(CowStr::from(html)));
                    i = end + 1;
                    continue;
                }
                in_code = true;
                out.push(event.clone());
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                text.push('\n');
                out.push(event.clone());
            }
            Event::Start(Tag::Link { .. }) => {
                in_link += 1;
                rewrite(
                    event.clone(),
                    range,
                    ctx,
                    &prepared,
                    &mut problems,
                    &mut out,
                );
            }
            Event::End(TagEnd::Link) => {
                in_link = in_link.saturating_sub(1);
                out.push(event.clone());
            }
            Event::Text(t) => {
                text.push_str(t);
                if in_link == 0 && !in_code {
                    autolink(t, &mut out);
                } else {
                    out.push(event.clone());
                }
            }
            Event::Code(t) => {
                text.push_str(t);
                out.push(event.clone());
            }
            Event::TaskListMarker(done) => {
                // A glyph rather than a disabled <input>: the sanitiser allows no form controls.
                let (class, glyph) = if *done {
                    ("task done", "☑")
                } else {
                    ("task", "☐")
                };
                out.push(Event::Html(CowStr::from(format!(
                    "<span class=\"{class}\">{glyph}</span> "
                ))));
            }
            Event::End(
                TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell | TagEnd::BlockQuote(_),
            ) => {
                text.push('\n');
                out.push(event.clone());
            }
            Event::SoftBreak | Event::HardBreak => {
                text.push(' ');
                out.push(event.clone());
            }
            _ => rewrite(
                event.clone(),
                range,
                ctx,
                &prepared,
                &mut problems,
                &mut out,
            ),
        }
        i += 1;
    }

    let mut html = String::with_capacity(src.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    Rendered {
        html: sanitize::clean(&html),
        title,
        headings,
        text: collapse_blank(&text),
        problems: problems.into_list(),
    }
}

/// Rewrites a link or image destination; every other event passes through.
fn rewrite<'a>(
    event: Event<'a>,
    range: &std::ops::Range<usize>,
    ctx: &LinkContext<'_>,
    prepared: &blocks::Prepared,
    problems: &mut Problems,
    out: &mut Vec<Event<'a>>,
) {
    match event {
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest = resolve(&dest_url, false, ctx).unwrap_or_else(|why| {
                problems.push(|| prepared.source_line(range.start), why.message);
                why.fallback
            });
            out.push(Event::Start(Tag::Link {
                link_type,
                dest_url: CowStr::from(dest),
                title,
                id,
            }));
        }
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest = resolve(&dest_url, true, ctx).unwrap_or_else(|why| {
                problems.push(|| prepared.source_line(range.start), why.message);
                why.fallback
            });
            out.push(Event::Start(Tag::Image {
                link_type,
                dest_url: CowStr::from(dest),
                title,
                id,
            }));
        }
        e => out.push(e),
    }
}

/// A destination that does not resolve: what to report, and what to link to instead.
struct Broken {
    message: String,
    fallback: String,
}

/// The portal URL for a link or image destination written in a page.
fn resolve(dest: &str, image: bool, ctx: &LinkContext<'_>) -> Result<String, Broken> {
    let dest = dest.trim();
    if dest.is_empty() || dest.starts_with('#') || dest.starts_with('/') || has_scheme(dest) {
        // Absolute and external: left as written; the sanitiser drops unsafe schemes.
        return Ok(dest.to_owned());
    }
    let (path, fragment) = match dest.find(['#', '?']) {
        Some(at) => (&dest[..at], &dest[at..]),
        None => (dest, ""),
    };
    let fragment = if fragment.starts_with('?') {
        ""
    } else {
        fragment
    };
    let decoded = paths::percent_decode(path);
    let Some(target) = paths::join(ctx.page, &decoded) else {
        return Err(Broken {
            message: format!("{dest}: leads outside the docs folder"),
            fallback: String::new(),
        });
    };
    let is_dir = decoded.ends_with('/') || target.is_empty();
    let page_of_dir = |dir: &str| {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        ["index.md", "README.md"]
            .iter()
            .map(|f| format!("{prefix}{f}"))
            .find(|p| ctx.files.contains(p))
    };
    if !image {
        let page = if target.ends_with(".md") {
            ctx.files.contains(&target).then(|| target.clone())
        } else if is_dir || !ctx.files.contains(&target) {
            page_of_dir(&target)
        } else {
            None
        };
        if let Some(page) = page {
            return Ok(format!(
                "{}{}{fragment}",
                ctx.page_base,
                paths::route(&page)
            ));
        }
        if target.ends_with(".md") {
            return Err(Broken {
                message: format!("broken link: {dest} (no page {target})"),
                fallback: format!("{}{}{fragment}", ctx.page_base, paths::route(&target)),
            });
        }
    }
    let url = format!("{}{}", ctx.asset_base, url_path(&target));
    if ctx.files.contains(&target) {
        Ok(url)
    } else {
        Err(Broken {
            message: format!(
                "broken {}: {dest} (no file {target})",
                if image { "image" } else { "link" }
            ),
            fallback: url,
        })
    }
}

/// A path for a URL: spaces and other unsafe bytes percent-encoded, slashes kept.
fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn has_scheme(s: &str) -> bool {
    if s.starts_with("//") {
        return true;
    }
    match s.find(':') {
        Some(at) => {
            let scheme = &s[..at];
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// Links bare `https://…`, `http://…` and `www.…` in text, as GitHub does.
fn autolink<'a>(t: &CowStr<'a>, out: &mut Vec<Event<'a>>) {
    let s: &str = t;
    let mut rest = s;
    let mut found = false;
    while let Some(start) = find_url_start(rest) {
        let tail = &rest[start..];
        let mut end = tail
            .find(|c: char| c.is_whitespace() || c == '<')
            .unwrap_or(tail.len());
        // Trailing punctuation belongs to the sentence; a closing paren only if unbalanced.
        while end > 0 {
            let last = tail[..end].chars().next_back().unwrap_or(' ');
            let unbalanced_paren =
                last == ')' && tail[..end].matches('(').count() < tail[..end].matches(')').count();
            if ".,:;!?*_~'\"".contains(last) || unbalanced_paren {
                end -= last.len_utf8();
            } else {
                break;
            }
        }
        let url = &tail[..end];
        let min = if url.starts_with("www.") { 5 } else { 9 };
        if url.len() < min {
            // Not a URL after all: keep the text up to and including the marker.
            out.push(Event::Text(CowStr::from(rest[..start + 1].to_owned())));
            rest = &rest[start + 1..];
            found = true;
            continue;
        }
        found = true;
        if start > 0 {
            out.push(Event::Text(CowStr::from(rest[..start].to_owned())));
        }
        let href = if url.starts_with("www.") {
            format!("https://{url}")
        } else {
            url.to_owned()
        };
        out.push(Event::Start(Tag::Link {
            link_type: LinkType::Autolink,
            dest_url: CowStr::from(href),
            title: CowStr::from(""),
            id: CowStr::from(""),
        }));
        out.push(Event::Text(CowStr::from(url.to_owned())));
        out.push(Event::End(TagEnd::Link));
        rest = &tail[end..];
    }
    if !found {
        out.push(Event::Text(t.clone()));
    } else if !rest.is_empty() {
        out.push(Event::Text(CowStr::from(rest.to_owned())));
    }
}

fn find_url_start(s: &str) -> Option<usize> {
    ["https://", "http://", "www."]
        .iter()
        .filter_map(|m| {
            s.match_indices(m)
                .find(|(at, _)| {
                    // Only at a word boundary: not inside `foo.www.bar`.
                    s[..*at]
                        .chars()
                        .next_back()
                        .is_none_or(|c| !c.is_alphanumeric() && c != '.' && c != '/')
                })
                .map(|(at, _)| at)
        })
        .min()
}

/// MkDocs' (Python-Markdown toc) slug: lower case, word characters and hyphens, spaces to `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '_' {
            out.push(c);
            dash = false;
        } else if (c == '-' || c.is_whitespace()) && !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("section");
    }
    out
}

/// `base`, or `base_1`, `base_2`… when already used on the page.
fn unique(base: &str, used: &mut HashMap<String, usize>) -> String {
    let mut n = used.get(base).copied().unwrap_or(0);
    let mut id = if n == 0 {
        base.to_owned()
    } else {
        format!("{base}_{n}")
    };
    while used.contains_key(&id) {
        n += 1;
        id = format!("{base}_{n}");
    }
    used.insert(base.to_owned(), n + 1);
    used.entry(id.clone()).or_insert(1);
    id
}

/// Blank lines and runs of spaces collapsed, for compact search text.
fn collapse_blank(s: &str) -> String {
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_links_beyond_the_limit_are_counted() {
        let files = HashSet::new();
        let ctx = LinkContext {
            page: "index.md",
            files: &files,
            page_base: "/docs/x/",
            asset_base: "/static/x/",
        };
        let src: String = (0..120).map(|i| format!("[l](p{i}.md)\n\n")).collect();
        let out = render(&src, &ctx);
        assert_eq!(out.problems.len(), MAX_PROBLEMS + 1);
        assert_eq!(out.problems[0].0, 1);
        assert_eq!(out.problems.last().unwrap().1, "and 70 more broken links");
    }

    #[test]
    fn slugs_follow_python_markdown() {
        assert_eq!(slug("Getting started!"), "getting-started");
        assert_eq!(slug("  A -- B  "), "a-b");
        assert_eq!(slug("Ünïcode ok"), "ünïcode-ok");
        assert_eq!(slug("???"), "section");
    }

    #[test]
    fn duplicate_headings_get_suffixes() {
        let mut used = HashMap::new();
        assert_eq!(unique("a", &mut used), "a");
        assert_eq!(unique("a", &mut used), "a_1");
        assert_eq!(unique("a", &mut used), "a_2");
    }

    #[test]
    fn schemes_are_recognised() {
        assert!(has_scheme("https://x"));
        assert!(has_scheme("javascript:alert(1)"));
        assert!(has_scheme("//evil.example"));
        assert!(!has_scheme("a/b:c.md"));
        assert!(!has_scheme("page.md"));
    }
}
