//! The allow-list every rendered page passes through (ammonia): the tags Markdown produces plus
//! `details`/`summary`, only `http`, `https` and `mailto` URLs, no styles, scripts, forms or
//! event handlers, and of `class` only the names our own rendering uses.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

/// Admonition types techdocs-core (Material for MkDocs) styles.
const ADMONITION_TYPES: &[&str] = &[
    "note",
    "abstract",
    "summary",
    "tldr",
    "info",
    "todo",
    "tip",
    "hint",
    "important",
    "success",
    "check",
    "done",
    "question",
    "help",
    "faq",
    "warning",
    "caution",
    "attention",
    "failure",
    "fail",
    "missing",
    "danger",
    "error",
    "bug",
    "example",
    "quote",
    "cite",
];

/// Class names the rendering emits (admonitions, tabs, tasks, Mermaid, footnotes).
const CLASSES: &[&str] = &[
    // Code highlighting (highlight.rs).
    "tk-c",
    "tk-s",
    "tk-n",
    "tk-kw",
    "admonition",
    "admonition-title",
    "tabbed-set",
    "tabbed-block",
    "tabbed-label",
    "task",
    "done",
    "mermaid",
    "footnote-definition",
    "footnote-definition-label",
    "footnote-reference",
    "inline",
    "end",
];

fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.add_generic_attributes(["class", "id"])
            .add_tag_attributes("details", ["open"])
            .add_tag_attributes("img", ["width", "height"])
            .add_tag_attributes("th", ["style"])
            .add_tag_attributes("td", ["style"])
            .url_schemes(HashSet::from(["http", "https", "mailto"]))
            .link_rel(Some("noopener noreferrer"))
            .strip_comments(true)
            .attribute_filter(|_element, attribute, value| match attribute {
                "class" => {
                    let kept: Vec<&str> = value.split_whitespace().filter(|c| allowed(c)).collect();
                    (!kept.is_empty()).then(|| Cow::Owned(kept.join(" ")))
                }
                // Anchors only: no characters that could break out of a selector or a URL.
                "id" => value
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
                    .then_some(Cow::Borrowed(value)),
                // Table column alignment is the one style Markdown writes.
                "style" => matches!(
                    value,
                    "text-align: left" | "text-align: right" | "text-align: center"
                )
                .then_some(Cow::Borrowed(value)),
                _ => Some(Cow::Borrowed(value)),
            });
        b
    })
}

/// A class is ours, an admonition type, or a code language.
fn allowed(class: &str) -> bool {
    if CLASSES.contains(&class) || ADMONITION_TYPES.contains(&class) {
        return true;
    }
    if let Some(lang) = class.strip_prefix("language-") {
        return !lang.is_empty()
            && lang
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+#-_.".contains(c));
    }
    false
}

/// `html` with everything outside the allow-list removed.
pub fn clean(html: &str) -> String {
    cleaner().clean(html).to_string()
}
