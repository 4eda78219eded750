//! Highlighting: the words of a field that a query matched, wrapped in the highlight tags, and
//! for long text a window around the first match.

use crate::fuzzy::{allowed_edits, prefix_distance};
use crate::query::{POST_TAG, PRE_TAG};
use crate::tokenize::{Token, cut, tokens};

/// Characters of context kept before the first match in a text window, and the window's length.
const BEFORE: usize = 60;
const WINDOW: usize = 220;

/// Whether a word of the text matches one of the query's words: it starts with it, or (typos
/// allowed) is within the edits its length allows.
fn matches(term: &str, words: &[Vec<char>], typos: bool) -> bool {
    words.iter().any(|w| {
        let prefix: String = w.iter().collect();
        term.starts_with(&prefix)
            || (typos && {
                let edits = allowed_edits(w.len());
                edits > 0 && prefix_distance(w, term, edits).is_some()
            })
    })
}

/// The matched words of `text`, outermost first: a camelCase part inside a matched word is not
/// marked again.
fn marks(text: &str, words: &[Vec<char>], typos: bool) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    for t in tokens(text) {
        if out.last().is_some_and(|m| t.start < m.end) {
            continue;
        }
        if matches(&t.term, words, typos) {
            out.push(t);
        }
    }
    out
}

fn tag(text: &str, offset: usize, marks: &[Token]) -> String {
    let mut out = String::with_capacity(text.len() + marks.len() * 45);
    let mut at = 0;
    for m in marks {
        let (s, e) = (m.start - offset, m.end - offset);
        out.push_str(&text[at..s]);
        out.push_str(PRE_TAG);
        out.push_str(&text[s..e]);
        out.push_str(POST_TAG);
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

/// `text` whole with every match tagged (titles; typos count); `None` without a match.
pub fn mark_all(text: &str, words: &[Vec<char>]) -> Option<String> {
    let m = marks(text, words, true);
    (!m.is_empty()).then(|| tag(text, 0, &m))
}

/// A window of `text` around its first match, matches tagged, `…` where it was cut; `None`
/// without a match (typos do not count in text).
pub fn window(text: &str, words: &[Vec<char>]) -> Option<String> {
    let all = marks(text, words, false);
    let first = all.first()?;
    let mut start = floor_char(text, first.start.saturating_sub(BEFORE));
    if start > 0 {
        // Begin at a word.
        if let Some(sp) = text[start..first.start].find(char::is_whitespace) {
            start += sp + 1;
        }
    }
    let rest = cut(&text[start..], WINDOW);
    let mut end = start + rest.len();
    if end < text.len()
        && let Some(sp) = rest.rfind(char::is_whitespace)
        && start + sp > first.end
    {
        end = start + sp;
    }
    let inside: Vec<Token> = all
        .into_iter()
        .filter(|m| m.start >= start && m.end <= end)
        .collect();
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&tag(&text[start..end], start, &inside));
    if end < text.len() {
        out.push('…');
    }
    Some(out)
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(words: &[&str]) -> Vec<Vec<char>> {
        words.iter().map(|s| s.chars().collect()).collect()
    }

    fn h(s: &str) -> String {
        s.replace(PRE_TAG, "[").replace(POST_TAG, "]")
    }

    #[test]
    fn titles_mark_prefixes_and_typos() {
        let t = mark_all("Payments Gateway", &w(&["paymnts"])).unwrap();
        assert_eq!(h(&t), "[Payments] Gateway");
        assert_eq!(
            h(&mark_all("listAccounts", &w(&["acc"])).unwrap()),
            "list[Accounts]"
        );
        assert!(mark_all("Ledger", &w(&["pay"])).is_none());
    }

    #[test]
    fn text_windows_start_at_a_word_and_say_where_they_were_cut() {
        let text = format!(
            "{} the refund flow is here. {}",
            "lorem ".repeat(30),
            "ipsum ".repeat(60)
        );
        let s = h(&window(&text, &w(&["refund"])).unwrap());
        assert!(s.starts_with("…lorem"), "{s}");
        assert!(s.contains("[refund] flow"), "{s}");
        assert!(s.ends_with('…'), "{s}");
        assert!(s.chars().count() < 240, "{s}");
        assert!(window(&text, &w(&["refnd"])).is_none());
    }
}
