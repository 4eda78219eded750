//! Highlighting: the words of a field that a query matched, wrapped in the highlight tags, and
//! for long text a window around the first match.

use crate::fuzzy::{allowed_edits, prefix_distance};
use crate::query::{POST_TAG, PRE_TAG};
use crate::tokenize::{cut, tokens};

/// Characters of context kept before the first match in a text window, and the window's length.
const BEFORE: usize = 60;
const WINDOW: usize = 220;

/// Whether `word` (as written) starts with `prefix` (lower case), compared ignoring case
/// without allocating: this runs for every word of a page's text.
fn starts_with_lower(word: &str, prefix: &[char]) -> bool {
    let mut it = word.chars().flat_map(char::to_lowercase);
    prefix.iter().all(|&p| it.next() == Some(p))
}

/// Whether a word of the text matches one of the query's words: it starts with it, or (typos
/// allowed) is within the edits its length allows.
fn matches(word: &str, words: &[Vec<char>], typos: bool) -> bool {
    words.iter().any(|w| {
        starts_with_lower(word, w)
            || (typos && {
                let edits = allowed_edits(w.len());
                edits > 0 && prefix_distance(w, &word.to_lowercase(), edits).is_some()
            })
    })
}

/// Byte ranges of the matched words of `text[from..to]`: a whole word, or else its camelCase
/// parts (`list[Accounts]`). With `first`, stops at the first match.
fn marks(
    text: &str,
    (from, to): (usize, usize),
    words: &[Vec<char>],
    typos: bool,
    first: bool,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let check = |s: usize, e: usize, out: &mut Vec<(usize, usize)>| {
        let w = &text[s..e];
        if matches(w, words, typos) {
            out.push((s, e));
            return;
        }
        // Only a word with a capital or a digit inside can have parts: most words skip this.
        if w.chars()
            .skip(1)
            .any(|c| c.is_uppercase() || c.is_numeric())
        {
            for t in tokens(w).into_iter().skip(1) {
                if matches(&t.term, words, typos) {
                    out.push((s + t.start, s + t.end));
                }
            }
        }
    };
    let mut start = None;
    for (i, c) in text[from..to].char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            check(from + s, from + i, &mut out);
            if first && !out.is_empty() {
                return out;
            }
        }
    }
    if let Some(s) = start {
        check(from + s, to, &mut out);
    }
    out
}

fn tag(text: &str, offset: usize, marks: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len() + marks.len() * 45);
    let mut at = 0;
    for &(s, e) in marks {
        let (s, e) = (s - offset, e - offset);
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
    let m = marks(text, (0, text.len()), words, true, false);
    (!m.is_empty()).then(|| tag(text, 0, &m))
}

/// A window of `text` around its first match, matches tagged, `…` where it was cut; `None`
/// without a match (typos do not count in text). Only the window is scanned past the first
/// match.
pub fn window(text: &str, words: &[Vec<char>]) -> Option<String> {
    let &(first_start, first_end) = marks(text, (0, text.len()), words, false, true).first()?;
    let mut start = floor_char(text, first_start.saturating_sub(BEFORE));
    if start > 0 {
        // Begin at a word.
        if let Some(sp) = text[start..first_start].find(char::is_whitespace) {
            start += sp + 1;
        }
    }
    let rest = cut(&text[start..], WINDOW);
    let mut end = start + rest.len();
    if end < text.len()
        && let Some(sp) = rest.rfind(char::is_whitespace)
        && start + sp > first_end
    {
        end = start + sp;
    }
    let inside = marks(text, (start, end), words, false, false);
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
