//! Nunjucks syntax that minijinja does not parse, rewritten into what it does before a template
//! is compiled: `===` and `!==`, `elseif`, bare object keys (`{a: 1}`), `.length`, regular
//! expression literals (`r/-/g`), `{% for k, v in object %}`, `{% switch %}`, and JavaScript's
//! truthiness in `{% if %}`. No newline is added or removed, so an error still names the
//! author's line.

use std::borrow::Cow;

/// A whole template: text is kept, code inside `${{ }}` (`var_open` is `{{` for cookiecutter
/// templates) and `{% %}` is rewritten, comments and `{% raw %}` blocks are left alone.
pub fn template<'a>(src: &'a str, var_open: &str) -> Cow<'a, str> {
    if !src.contains(var_open) && !src.contains("{%") {
        return Cow::Borrowed(src);
    }
    let mut out = String::with_capacity(src.len() + 16);
    let mut switches = Switches::default();
    let mut rest = src;
    while let Some(start) = next_open(rest, var_open) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if let Some(body) = rest.strip_prefix("{#") {
            let end = body.find("#}").map_or(rest.len(), |e| e + 4);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if let Some(body) = rest.strip_prefix(var_open) {
            let end = code_end(body, "}}");
            out.push_str(var_open);
            out.push_str(&expression(&body[..end]));
            rest = &body[end..];
        } else {
            let body = &rest[2..];
            let end = code_end(body, "%}");
            let inner = &body[..end];
            // Whitespace control marks stay where they are; only the tag's words change.
            let lead = inner.len() - inner.trim_start_matches(['-', '+']).len();
            let trail = inner.len() - inner.trim_end_matches(['-', '+']).len();
            let words = &inner[lead..inner.len() - trail];
            if words.trim() == "raw" {
                let close = raw_end(&body[end..]);
                out.push_str(&rest[..2 + end + close]);
                rest = &body[end + close..];
                continue;
            }
            out.push_str("{%");
            out.push_str(&inner[..lead]);
            out.push_str(&tag(words, &mut switches));
            out.push_str(&inner[inner.len() - trail..]);
            rest = &body[end..];
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Where the next variable, tag or comment opens. One pass over `s`: searching for each
/// delimiter separately would rescan the rest of the template after every tag.
fn next_open(s: &str, var_open: &str) -> Option<usize> {
    s.match_indices(['$', '{']).map(|(i, _)| i).find(|&i| {
        let t = &s[i..];
        t.starts_with(var_open) || t.starts_with("{%") || t.starts_with("{#")
    })
}

/// Where code ends: the first `close` outside string literals and brackets.
fn code_end(s: &str, close: &str) -> usize {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => i = string_end(b, i, q),
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            _ if s[i..].starts_with(close) => return i,
            _ => i += 1,
        }
    }
    s.len()
}

/// The length through `{% endraw %}` (any whitespace control), or all of `s`.
fn raw_end(s: &str) -> usize {
    let mut from = 0;
    while let Some(at) = s[from..].find("{%") {
        let tag_start = from + at;
        let body = &s[tag_start + 2..];
        let end = body.find("%}").unwrap_or(body.len());
        if body[..end].trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace()) == "endraw"
        {
            return tag_start + 2 + end;
        }
        from = tag_start + 2;
    }
    s.len()
}

/// Index just past a string literal opened by `q` at `i`.
fn string_end(b: &[u8], i: usize, q: u8) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            c if c == q => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

#[derive(Default)]
struct Switches {
    open: Vec<usize>,
    next: usize,
}

/// The words of one `{% %}` tag.
fn tag(words: &str, switches: &mut Switches) -> String {
    let body = words.trim();
    let pad = &words[..words.len() - words.trim_start().len()];
    let tail = &words[pad.len() + body.len()..];
    // The rest keeps its leading whitespace: it may be a newline, and lines must not move.
    let (name, rest) = body.split_at(body.find(char::is_whitespace).unwrap_or(body.len()));
    let (ws, arg) = rest.split_at(rest.len() - rest.trim_start().len());
    let out = match name {
        // JavaScript's truthiness decides an `if` (an empty list or object is true).
        "if" | "elif" | "elseif" => {
            let keyword = if name == "if" { "if" } else { "elif" };
            format!("{keyword}{ws}({}) | __truthy", expression(arg))
        }
        "for" => match rest.find(" in ") {
            Some(at) if rest[..at].contains(',') => format!(
                "for{} in ({}) | __pairs",
                &rest[..at],
                expression(&rest[at + 4..])
            ),
            _ => format!("for{}", expression(rest)),
        },
        "switch" => {
            switches.next += 1;
            switches.open.push(switches.next);
            let n = switches.next;
            format!("set __switch{n} ={ws}({}) %}}{{% if false", expression(arg))
        }
        "case" => match switches.open.last() {
            Some(n) => format!("elif __switch{n} =={ws}({})", expression(arg)),
            None => body.to_owned(),
        },
        "default" if rest.trim().is_empty() && !switches.open.is_empty() => "else".into(),
        "endswitch" if switches.open.pop().is_some() => "endif".into(),
        _ => format!("{name}{}", expression(&body[name.len()..])),
    };
    format!("{pad}{out}{tail}")
}

/// One expression: `===`, bare object keys, `.length` and regex literals rewritten; string
/// literals untouched.
pub fn expression(s: &str) -> Cow<'_, str> {
    if !s.contains("==") && !s.contains(':') && !s.contains(".length") && !s.contains("r/") {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 8);
    let mut brackets: Vec<u8> = Vec::new();
    // The last significant token: b'a' for a name or number, else the punctuation itself.
    let mut prev = b' ';
    let mut last_word = "";
    let mut i = 0;
    let value_end = |p: u8| matches!(p, b'a' | b')' | b']' | b'"' | b'}');
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\'' {
            let end = string_end(b, i, c);
            out.push_str(&s[i..end]);
            prev = b'"';
            i = end;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let end = i + s[i..]
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(s.len() - i);
            let word = &s[i..end];
            if word == "r" && b.get(end) == Some(&b'/') && !value_end(prev) {
                let (literal, next) = regex_literal(s, end);
                out.push_str(&literal);
                prev = b')';
                i = next;
                continue;
            }
            let after = s[end..].trim_start();
            if brackets.last() == Some(&b'{')
                && matches!(prev, b'{' | b',')
                && after.starts_with(':')
            {
                out.push('"');
                out.push_str(word);
                out.push('"');
                prev = b'"';
            } else {
                out.push_str(word);
                prev = b'a';
                last_word = word;
            }
            i = end;
        } else if c.is_ascii_digit() {
            let end = i + s[i..]
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '_'))
                .unwrap_or(s.len() - i);
            out.push_str(&s[i..end]);
            prev = b'a';
            i = end;
        } else if c == b'.'
            && value_end(prev)
            && last_word != "loop"
            && s[i + 1..].starts_with("length")
            && !s[i + 7..]
                .starts_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '_' || ch == '(')
        {
            out.push_str("|length");
            prev = b'a';
            i += 7;
        } else if s[i..].starts_with("===") || s[i..].starts_with("!==") {
            out.push_str(&s[i..i + 2]);
            prev = b'=';
            i += 3;
        } else {
            match c {
                b'(' | b'[' | b'{' => brackets.push(c),
                b')' | b']' | b'}' => {
                    brackets.pop();
                }
                _ => {}
            }
            let ch = s[i..].chars().next().expect("inside the string");
            out.push(ch);
            if !ch.is_whitespace() {
                prev = if ch.is_ascii() { c } else { b'a' };
                if ch != '.' {
                    last_word = "";
                }
            }
            i += ch.len_utf8();
        }
    }
    Cow::Owned(out)
}

/// `r/source/flags` starting at the `/` at `slash`: the `__regex("source", "flags")` call that
/// builds it, and where the literal ends.
fn regex_literal(s: &str, slash: usize) -> (String, usize) {
    let b = s.as_bytes();
    let mut j = slash + 1;
    let mut class = false;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 1,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => break,
            _ => {}
        }
        j += 1;
    }
    let source = &s[slash + 1..j.min(s.len())];
    let flags_end = (j + 1).min(s.len())
        + s[(j + 1).min(s.len())..]
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(s.len() - (j + 1).min(s.len()));
    let flags = &s[(j + 1).min(s.len())..flags_end];
    let quoted = source.replace('\\', "\\\\").replace('"', "\\\"");
    (format!("__regex(\"{quoted}\", \"{flags}\")"), flags_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_expressions() {
        assert_eq!(expression(" a === 1 "), " a == 1 ");
        assert_eq!(expression("a !== 'x === y'"), "a != 'x === y'");
        assert_eq!(
            expression("{a: 1, 'b': 2, c: {d: x}}"),
            r#"{"a": 1, 'b': 2, "c": {"d": x}}"#
        );
        assert_eq!(expression("tags.length > 0"), "tags|length > 0");
        assert_eq!(
            expression("name.toUpperCase().length"),
            "name.toUpperCase()|length"
        );
        assert_eq!(expression("loop.length"), "loop.length");
        assert_eq!(expression("x.lengths"), "x.lengths");
        assert_eq!(expression("a[1:2]"), "a[1:2]");
        assert_eq!(
            expression(r"id | replace(r/[\/-]+/gi, '_')"),
            r#"id | replace(__regex("[\\/-]+", "gi"), '_')"#
        );
        assert_eq!(expression("'ü' ~ {é: 1}"), "'ü' ~ {é: 1}");
    }

    #[test]
    fn rewrites_tags_and_keeps_lines() {
        assert_eq!(
            template("{%- if a %}x{% elseif b -%}y{% endif %}", "${{"),
            "{%- if (a) | __truthy %}x{% elif (b) | __truthy -%}y{% endif %}"
        );
        assert_eq!(
            template("{% for k, v in obj %}{% endfor %}", "${{"),
            "{% for k, v in (obj) | __pairs %}{% endfor %}"
        );
        assert_eq!(
            template(
                "{% switch n %}{% case 1 %}one{% default %}other{% endswitch %}",
                "${{"
            ),
            "{% set __switch1 = (n) %}{% if false %}{% elif __switch1 == (1) %}one{% else %}other{% endif %}"
        );
        assert_eq!(
            template("{% raw %}${{ a === b }}{% endraw %}", "${{"),
            "{% raw %}${{ a === b }}{% endraw %}"
        );
        assert_eq!(
            template("{# a === b #}${{ '}}' }}", "${{"),
            "{# a === b #}${{ '}}' }}"
        );
        let src = "a\n${{ x ===\n y }}\n{% if\n a === b %}\n";
        assert_eq!(template(src, "${{").lines().count(), src.lines().count());
    }
}
