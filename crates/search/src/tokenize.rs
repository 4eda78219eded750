//! Splitting text into lower-cased terms, the same way for documents and queries, with byte
//! offsets so a match can be highlighted where it was found.
//!
//! Words are runs of letters and digits; `payments-api`, `payments_api` and `payments.api`
//! are two words each. A word written in camelCase (`listAccounts`, `getHTTPStatus`) is also
//! split into its parts, so an operation id is found by any of its words as well as whole.

/// One word of a text: its byte range and its lower-cased form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub term: String,
}

/// At most this many bytes of one field are indexed: a docs page longer than this is found by
/// its first 64 KiB (headings and title are separate fields).
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// The words of `text`, in order (camelCase parts follow their whole word).
pub fn tokens(text: &str) -> Vec<Token> {
    let text = cut(text, MAX_FIELD_BYTES);
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            word(text, s, i, &mut out);
        }
    }
    if let Some(s) = start {
        word(text, s, text.len(), &mut out);
    }
    out
}

/// The lower-cased terms of `text`, without offsets.
pub fn terms(text: &str) -> impl Iterator<Item = String> {
    tokens(text).into_iter().map(|t| t.term)
}

/// The words of a typed query: a camelCase word stands for its parts (`listAccounts` finds
/// documents with both `list` and `accounts`), any other word for itself; repeats dropped.
pub fn query_terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let toks = tokens(text);
    let mut i = 0;
    while i < toks.len() {
        let whole = &toks[i];
        let parts: Vec<&Token> = toks[i + 1..]
            .iter()
            .take_while(|p| p.end <= whole.end)
            .collect();
        let n = parts.len();
        let words: Vec<&Token> = if n > 0 { parts } else { vec![whole] };
        for w in words {
            if !out.contains(&w.term) {
                out.push(w.term.clone());
            }
        }
        i += 1 + n;
    }
    out
}

/// `text` cut to at most `max` bytes at a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn word(text: &str, start: usize, end: usize, out: &mut Vec<Token>) {
    let w = &text[start..end];
    out.push(Token {
        start,
        end,
        term: w.to_lowercase(),
    });
    let parts = camel_parts(w);
    if parts.len() > 1 {
        for (s, e) in parts {
            out.push(Token {
                start: start + s,
                end: start + e,
                term: w[s..e].to_lowercase(),
            });
        }
    }
}

/// Byte ranges of the camelCase parts of one word: a new part starts at an upper-case letter
/// after a lower-case one or a digit (`listAccounts`), at the last capital of a run followed by
/// a lower-case letter (`HTTPStatus` → `HTTP`, `Status`), and where letters and digits meet.
fn camel_parts(w: &str) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = w.char_indices().collect();
    let mut parts = Vec::new();
    let mut begin = 0;
    for i in 1..chars.len() {
        let (at, c) = chars[i];
        let prev = chars[i - 1].1;
        let next = chars.get(i + 1).map(|&(_, n)| n);
        let split = (c.is_uppercase() && (prev.is_lowercase() || prev.is_numeric()))
            || (c.is_uppercase() && prev.is_uppercase() && next.is_some_and(char::is_lowercase))
            || (c.is_numeric() != prev.is_numeric());
        if split {
            parts.push((begin, at));
            begin = at;
        }
    }
    parts.push((begin, w.len()));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Vec<String> {
        terms(text).collect()
    }

    #[test]
    fn words_split_on_punctuation_and_lower_case() {
        assert_eq!(
            t("Payments-API v2_beta"),
            ["payments", "api", "v2", "v", "2", "beta"]
        );
    }

    #[test]
    fn camel_case_words_keep_the_whole_and_add_parts() {
        assert_eq!(t("listAccounts"), ["listaccounts", "list", "accounts"]);
        assert_eq!(
            t("getHTTPStatus"),
            ["gethttpstatus", "get", "http", "status"]
        );
    }

    #[test]
    fn queries_use_camel_case_parts_once() {
        assert_eq!(query_terms("listAccounts list"), ["list", "accounts"]);
        assert_eq!(query_terms("pay"), ["pay"]);
    }

    #[test]
    fn offsets_point_into_the_text() {
        let text = "Über café";
        let toks = tokens(text);
        assert_eq!(&text[toks[1].start..toks[1].end], "café");
        assert_eq!(toks[0].term, "über");
    }

    #[test]
    fn long_fields_are_cut_at_a_char_boundary() {
        let s = "é".repeat(MAX_FIELD_BYTES);
        assert!(cut(&s, MAX_FIELD_BYTES).len() <= MAX_FIELD_BYTES);
        assert_eq!(tokens(&s).len(), 1);
    }
}
