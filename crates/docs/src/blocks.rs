//! The block extensions techdocs-core turns on that CommonMark has no syntax for: admonitions
//! (`!!! note "Title"`, collapsible `???` / `???+`) and content tabs (`=== "Tab"`).
//!
//! They are rewritten, before Markdown parsing, into HTML block wrappers around their (dedented)
//! Markdown body, so the body is parsed as ordinary Markdown by the one parser. Every output line
//! remembers the source line it came from, so a problem found while parsing (a broken link) is
//! reported at the line of the author's file, not of the rewritten text.

/// Markdown with the extensions rewritten, and where each of its lines came from.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub text: String,
    /// `lines[i]` is the 1-based source line of output line `i` (0-based).
    pub lines: Vec<usize>,
}

impl Prepared {
    /// The 1-based source line of a byte offset into [`Prepared::text`].
    pub fn source_line(&self, offset: usize) -> usize {
        let out_line = self.text.as_bytes()[..offset.min(self.text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.lines.get(out_line).copied().unwrap_or(1)
    }
}

/// Nesting deeper than this is left as written (bounds the recursion on hostile input).
const MAX_DEPTH: usize = 16;

/// Rewrites admonitions and tabs in `src`.
pub fn prepare(src: &str) -> Prepared {
    let input: Vec<(usize, &str)> = src.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    let mut out = Vec::with_capacity(input.len());
    expand(&input, &mut out, 0);
    let mut text = String::with_capacity(src.len() + out.len() * 8);
    let mut lines = Vec::with_capacity(out.len());
    for (line, content) in out {
        text.push_str(&content);
        text.push('\n');
        lines.push(line);
    }
    Prepared { text, lines }
}

/// A block opener: what kind, its type (`note`) and title.
enum Opener {
    Admonition {
        kind: String,
        title: Option<String>,
        collapsible: Option<bool>,
    },
    Tab {
        label: String,
    },
}

fn expand(input: &[(usize, &str)], out: &mut Vec<(usize, String)>, depth: usize) {
    let mut fence: Option<(char, usize)> = None;
    let mut i = 0;
    while i < input.len() {
        let (line_no, line) = input[i];
        if let Some((ch, len)) = fence {
            if closes_fence(line, ch, len) {
                fence = None;
            }
            out.push((line_no, line.to_owned()));
            i += 1;
            continue;
        }
        if let Some(open) = opens_fence(line) {
            fence = Some(open);
            out.push((line_no, line.to_owned()));
            i += 1;
            continue;
        }
        let found = if depth < MAX_DEPTH {
            opener(line)
        } else {
            None
        };
        match found {
            Some(Opener::Admonition {
                kind,
                title,
                collapsible,
            }) => {
                let (body, next) = body(input, i + 1);
                let class = format!("admonition {}", escape(&kind));
                match collapsible {
                    Some(open) => {
                        let open = if open { " open" } else { "" };
                        out.push((line_no, format!("<details class=\"{class}\"{open}>")));
                        let title = title.unwrap_or_else(|| capitalise(&kind));
                        out.push((line_no, format!("<summary>{}</summary>", escape(&title))));
                    }
                    None => {
                        out.push((line_no, format!("<div class=\"{class}\">")));
                        match title {
                            Some(t) if t.is_empty() => {}
                            t => out.push((
                                line_no,
                                format!(
                                    "<p class=\"admonition-title\">{}</p>",
                                    escape(&t.unwrap_or_else(|| capitalise(&kind)))
                                ),
                            )),
                        }
                    }
                }
                out.push((line_no, String::new()));
                expand(&body, out, depth + 1);
                let end = body.last().map_or(line_no, |b| b.0);
                out.push((end, String::new()));
                let close = if collapsible.is_some() {
                    "</details>"
                } else {
                    "</div>"
                };
                out.push((end, close.to_owned()));
                out.push((end, String::new()));
                i = next;
            }
            Some(Opener::Tab { .. }) => {
                out.push((line_no, "<div class=\"tabbed-set\">".to_owned()));
                out.push((line_no, String::new()));
                let mut at = i;
                let mut last = line_no;
                // Consecutive tabs (blank lines between them allowed) make one set.
                while let Some((tab_line, Some(Opener::Tab { label }))) =
                    input.get(at).map(|(n, l)| (*n, opener(l)))
                {
                    let (body, next) = body(input, at + 1);
                    out.push((tab_line, "<div class=\"tabbed-block\">".to_owned()));
                    out.push((
                        tab_line,
                        format!("<p class=\"tabbed-label\">{}</p>", escape(&label)),
                    ));
                    out.push((tab_line, String::new()));
                    expand(&body, out, depth + 1);
                    last = body.last().map_or(tab_line, |b| b.0);
                    out.push((last, String::new()));
                    out.push((last, "</div>".to_owned()));
                    out.push((last, String::new()));
                    at = next;
                    let mut peek = at;
                    while input.get(peek).is_some_and(|(_, l)| l.trim().is_empty()) {
                        peek += 1;
                    }
                    if input
                        .get(peek)
                        .is_some_and(|(_, l)| matches!(opener(l), Some(Opener::Tab { .. })))
                    {
                        at = peek;
                    } else {
                        break;
                    }
                }
                out.push((last, "</div>".to_owned()));
                out.push((last, String::new()));
                i = at;
            }
            None => {
                out.push((line_no, line.to_owned()));
                i += 1;
            }
        }
    }
}

/// The indented body following an opener at `start`, dedented one level, and the index after it.
/// Trailing blank lines are left to the surrounding text.
fn body<'a>(input: &[(usize, &'a str)], start: usize) -> (Vec<(usize, &'a str)>, usize) {
    let mut end = start;
    let mut last_content = start;
    while end < input.len() {
        let line = input[end].1;
        if line.trim().is_empty() {
            end += 1;
            continue;
        }
        if dedent(line).is_none() {
            break;
        }
        end += 1;
        last_content = end;
    }
    let body = input[start..last_content]
        .iter()
        .map(|&(n, l)| (n, dedent(l).unwrap_or("")))
        .collect();
    (body, last_content)
}

/// The line without one level of indentation (four spaces or a tab), if it has one.
fn dedent(line: &str) -> Option<&str> {
    line.strip_prefix("    ")
        .or_else(|| line.strip_prefix('\t'))
}

fn opener(line: &str) -> Option<Opener> {
    if let Some(rest) = line.strip_prefix("===") {
        let rest = rest.strip_prefix('+').unwrap_or(rest);
        if !rest.starts_with([' ', '\t']) {
            return None;
        }
        let label = quoted(rest.trim())?;
        return Some(Opener::Tab { label });
    }
    let (collapsible, rest) = if let Some(rest) = line.strip_prefix("???+") {
        (Some(true), rest)
    } else if let Some(rest) = line.strip_prefix("???") {
        (Some(false), rest)
    } else if let Some(rest) = line.strip_prefix("!!!") {
        (None, rest)
    } else {
        return None;
    };
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim();
    let (words, title) = match rest.find('"') {
        Some(q) => (&rest[..q], Some(quoted(&rest[q..])?)),
        None => (rest, None),
    };
    // `!!! note inline end "T"`: the first word is the type; the others are layout classes.
    let kind = words.split_whitespace().next()?;
    if !kind
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    Some(Opener::Admonition {
        kind: kind.to_ascii_lowercase(),
        title,
        collapsible,
    })
}

/// The text of a `"…"` string that makes up all of `s`.
fn quoted(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    Some(inner.to_owned())
}

fn opens_fence(line: &str) -> Option<(char, usize)> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let ch = trimmed.chars().next()?;
    if ch != '`' && ch != '~' {
        return None;
    }
    let len = trimmed.chars().take_while(|&c| c == ch).count();
    (len >= 3).then_some((ch, len))
}

fn closes_fence(line: &str, ch: char, len: usize) -> bool {
    let trimmed = line.trim();
    trimmed.chars().take_while(|&c| c == ch).count() >= len && trimmed.chars().all(|c| c == ch)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

pub use model::html::{escape, escape_into};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admonition_body_keeps_source_lines() {
        let p = prepare("intro\n\n!!! warning \"Careful\"\n    body [x](y.md)\n\nafter\n");
        assert!(p.text.contains("<div class=\"admonition warning\">"));
        assert!(p.text.contains("<p class=\"admonition-title\">Careful</p>"));
        let at = p.text.find("body").unwrap();
        assert_eq!(p.source_line(at), 4);
        let after = p.text.find("after").unwrap();
        assert_eq!(p.source_line(after), 6);
    }

    #[test]
    fn admonition_markers_inside_code_fences_are_text() {
        let p = prepare("```\n!!! note\n    x\n```\n");
        assert!(!p.text.contains("admonition"));
    }

    #[test]
    fn consecutive_tabs_form_one_set() {
        let p = prepare("=== \"A\"\n    a\n\n=== \"B\"\n    b\n\nend\n");
        assert_eq!(p.text.matches("tabbed-set").count(), 1);
        assert_eq!(p.text.matches("tabbed-block").count(), 2);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut src = String::new();
        for d in 0..40 {
            src.push_str(&"    ".repeat(d));
            src.push_str("!!! note\n");
        }
        let p = prepare(&src);
        assert_eq!(p.text.matches("<div class=\"admonition").count(), MAX_DEPTH);
    }
}
