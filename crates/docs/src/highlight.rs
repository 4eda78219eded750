//! Code highlighting for fenced blocks in docs, done while rendering: the code is cut into
//! comments, strings, numbers and keywords, and each token is printed escaped inside a
//! `<span class="tk-…">` (the classes the portal already styles for API definitions), so
//! highlighting can never turn code into markup. A small lexer per family of languages, not a
//! grammar: docs show snippets, and a wrong colour is harmless where a slow page is not.

use crate::blocks::escape_into;

/// How one language's tokens look.
struct Syntax {
    line_comments: &'static [&'static str],
    block_comment: Option<(&'static str, &'static str)>,
    quotes: &'static [char],
    keywords: &'static [&'static str],
    /// SQL's keywords are matched in any case.
    any_case: bool,
}

const C_LIKE_COMMENTS: Option<(&str, &str)> = Some(("/*", "*/"));

const RUST: Syntax = Syntax {
    line_comments: &["//"],
    block_comment: C_LIKE_COMMENTS,
    quotes: &['"'],
    keywords: &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
        "true", "type", "unsafe", "use", "where", "while",
    ],
    any_case: false,
};

const PYTHON: Syntax = Syntax {
    line_comments: &["#"],
    block_comment: None,
    quotes: &['"', '\''],
    keywords: &[
        "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "False", "finally", "for", "from", "global", "if", "import",
        "in", "is", "lambda", "None", "nonlocal", "not", "or", "pass", "raise", "return", "True",
        "try", "while", "with", "yield",
    ],
    any_case: false,
};

const JAVASCRIPT: Syntax = Syntax {
    line_comments: &["//"],
    block_comment: C_LIKE_COMMENTS,
    quotes: &['"', '\'', '`'],
    keywords: &[
        "async",
        "await",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "default",
        "delete",
        "do",
        "else",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "from",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "interface",
        "let",
        "new",
        "null",
        "return",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "type",
        "typeof",
        "undefined",
        "var",
        "void",
        "while",
        "yield",
    ],
    any_case: false,
};

const GO: Syntax = Syntax {
    line_comments: &["//"],
    block_comment: C_LIKE_COMMENTS,
    quotes: &['"', '`'],
    keywords: &[
        "break",
        "case",
        "chan",
        "const",
        "continue",
        "default",
        "defer",
        "else",
        "false",
        "for",
        "func",
        "go",
        "if",
        "import",
        "interface",
        "map",
        "nil",
        "package",
        "range",
        "return",
        "select",
        "struct",
        "switch",
        "true",
        "type",
        "var",
    ],
    any_case: false,
};

const JAVA_LIKE: Syntax = Syntax {
    line_comments: &["//"],
    block_comment: C_LIKE_COMMENTS,
    quotes: &['"', '\''],
    keywords: &[
        "abstract",
        "bool",
        "boolean",
        "break",
        "case",
        "catch",
        "char",
        "class",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extends",
        "false",
        "final",
        "finally",
        "float",
        "for",
        "fun",
        "if",
        "implements",
        "import",
        "int",
        "interface",
        "long",
        "namespace",
        "new",
        "null",
        "package",
        "private",
        "protected",
        "public",
        "return",
        "static",
        "struct",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "val",
        "var",
        "void",
        "while",
    ],
    any_case: false,
};

const SHELL: Syntax = Syntax {
    line_comments: &["#"],
    block_comment: None,
    quotes: &['"', '\''],
    keywords: &[
        "case", "do", "done", "elif", "else", "esac", "export", "fi", "for", "function", "if",
        "in", "local", "return", "then", "while",
    ],
    any_case: false,
};

const YAML: Syntax = Syntax {
    line_comments: &["#"],
    block_comment: None,
    quotes: &['"', '\''],
    keywords: &["true", "false", "null", "yes", "no"],
    any_case: false,
};

const JSON: Syntax = Syntax {
    line_comments: &[],
    block_comment: None,
    quotes: &['"'],
    keywords: &["true", "false", "null"],
    any_case: false,
};

const SQL: Syntax = Syntax {
    line_comments: &["--"],
    block_comment: C_LIKE_COMMENTS,
    quotes: &['\''],
    keywords: &[
        "alter",
        "and",
        "as",
        "by",
        "create",
        "delete",
        "drop",
        "from",
        "group",
        "having",
        "index",
        "inner",
        "insert",
        "into",
        "join",
        "key",
        "left",
        "limit",
        "not",
        "null",
        "on",
        "or",
        "order",
        "outer",
        "primary",
        "references",
        "right",
        "select",
        "set",
        "table",
        "update",
        "values",
        "where",
    ],
    any_case: true,
};

const DOCKERFILE: Syntax = Syntax {
    line_comments: &["#"],
    block_comment: None,
    quotes: &['"', '\''],
    keywords: &[
        "FROM",
        "RUN",
        "COPY",
        "ADD",
        "CMD",
        "ENTRYPOINT",
        "ENV",
        "ARG",
        "WORKDIR",
        "EXPOSE",
        "USER",
        "LABEL",
        "VOLUME",
        "AS",
    ],
    any_case: false,
};

/// Longer code is shown escaped but not highlighted: the lexer is linear, but a page with a
/// huge generated block should not pay for colours nobody reads.
const MAX_HIGHLIGHTED: usize = 256 * 1024;

fn syntax(lang: &str) -> Option<&'static Syntax> {
    Some(match lang.to_ascii_lowercase().as_str() {
        "rust" | "rs" => &RUST,
        "python" | "py" => &PYTHON,
        "js" | "javascript" | "jsx" | "ts" | "typescript" | "tsx" | "mjs" => &JAVASCRIPT,
        "go" | "golang" => &GO,
        "java" | "kotlin" | "kt" | "c" | "cpp" | "c++" | "cs" | "csharp" | "scala" => &JAVA_LIKE,
        "sh" | "bash" | "shell" | "console" | "zsh" => &SHELL,
        "yaml" | "yml" | "toml" | "ini" => &YAML,
        "json" => &JSON,
        "sql" => &SQL,
        "dockerfile" | "docker" => &DOCKERFILE,
        _ => return None,
    })
}

/// True when fenced blocks in `lang` are highlighted.
pub fn supports(lang: &str) -> bool {
    syntax(lang).is_some()
}

/// `code` as escaped HTML, with `tk-c` (comment), `tk-s` (string), `tk-n` (number) and
/// `tk-kw` (keyword) spans when `lang` is one we know; plainly escaped otherwise.
pub fn highlight(code: &str, lang: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 4);
    match syntax(lang).filter(|_| code.len() <= MAX_HIGHLIGHTED) {
        Some(s) => lex(code, s, &mut out),
        None => escape_into(&mut out, code),
    }
    out
}

fn lex(code: &str, s: &Syntax, out: &mut String) {
    let mut i = 0;
    let bytes = code.as_bytes();
    while i < code.len() {
        let rest = &code[i..];
        if let Some(marker) = s.line_comments.iter().find(|m| rest.starts_with(**m)) {
            // `#` starts a comment only at a word boundary (`a#b` in a shell word is not one).
            let boundary = i == 0 || !is_word(bytes[i - 1]) || marker.len() > 1;
            if boundary {
                let end = rest.find('\n').unwrap_or(rest.len());
                span(out, "c", &rest[..end]);
                i += end;
                continue;
            }
        }
        if let Some((open, close)) = s.block_comment
            && rest.starts_with(open)
        {
            let end = rest[open.len()..]
                .find(close)
                .map_or(rest.len(), |p| open.len() + p + close.len());
            span(out, "c", &rest[..end]);
            i += end;
            continue;
        }
        let c = rest.chars().next().unwrap_or_default();
        if s.quotes.contains(&c) {
            let end = string_end(rest, c);
            span(out, "s", &rest[..end]);
            i += end;
            continue;
        }
        if c.is_ascii_digit() && (i == 0 || !is_word(bytes[i - 1])) {
            let end = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '.'))
                .unwrap_or(rest.len());
            span(out, "n", &rest[..end]);
            i += end;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let end = rest
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            let keyword = if s.any_case {
                s.keywords.iter().any(|k| k.eq_ignore_ascii_case(word))
            } else {
                s.keywords.contains(&word)
            };
            if keyword {
                span(out, "kw", word);
            } else {
                escape_into(out, word);
            }
            i += end;
            continue;
        }
        escape_into(out, &rest[..c.len_utf8()]);
        i += c.len_utf8();
    }
}

/// Where a string opened by `quote` at the start of `rest` ends: after its closing quote (a
/// backslash escapes the next character), or at the end of the line for `"` and `'` left open
/// (a stray apostrophe must not colour the rest of the block).
fn string_end(rest: &str, quote: char) -> usize {
    let mut escaped = false;
    for (p, ch) in rest.char_indices().skip(1) {
        if escaped {
            escaped = false;
        } else if ch == '\\' {
            escaped = true;
        } else if ch == quote {
            return p + ch.len_utf8();
        } else if ch == '\n' && quote != '`' {
            return p;
        }
    }
    rest.len()
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn span(out: &mut String, class: &str, text: &str) {
    out.push_str("<span class=\"tk-");
    out.push_str(class);
    out.push_str("\">");
    escape_into(out, text);
    out.push_str("</span>");
}

#[cfg(test)]
mod tests {
    use super::highlight;

    #[test]
    fn rust_keywords_strings_comments_and_numbers() {
        let h = highlight("// hi\nlet x = \"a<b\"; fn f() -> u8 { 42 }", "rust");
        assert!(h.contains(r#"<span class="tk-c">// hi</span>"#), "{h}");
        assert!(h.contains(r#"<span class="tk-kw">let</span>"#), "{h}");
        assert!(
            h.contains(r#"<span class="tk-s">&quot;a&lt;b&quot;</span>"#),
            "{h}"
        );
        assert!(h.contains(r#"<span class="tk-n">42</span>"#), "{h}");
        // `u8` is a word, not a number; `->` is escaped.
        assert!(h.contains("-&gt; u8"), "{h}");
    }

    #[test]
    fn code_never_becomes_markup() {
        let h = highlight("echo '<script>alert(1)</script>' # <b>", "sh");
        assert!(!h.contains("<script>") && !h.contains("<b>"), "{h}");
        assert!(
            h.contains(r#"<span class="tk-c"># &lt;b&gt;</span>"#),
            "{h}"
        );
    }

    #[test]
    fn unknown_languages_are_only_escaped() {
        assert_eq!(highlight("if <x>", "brainfuck"), "if &lt;x&gt;");
    }

    #[test]
    fn an_open_quote_stops_at_the_line_end() {
        let h = highlight("it's\nlet y = 1", "python");
        assert!(h.contains("\nlet y = <span class=\"tk-n\">1</span>"), "{h}");
    }

    #[test]
    fn sql_keywords_in_any_case_and_dash_comments() {
        let h = highlight("SELECT id from t -- all", "sql");
        assert!(h.contains(r#"<span class="tk-kw">SELECT</span>"#), "{h}");
        assert!(h.contains(r#"<span class="tk-kw">from</span>"#), "{h}");
        assert!(h.contains(r#"<span class="tk-c">-- all</span>"#), "{h}");
    }

    #[test]
    fn a_hash_inside_a_word_is_not_a_comment() {
        let h = highlight("echo a#b", "sh");
        assert!(!h.contains("tk-c"), "{h}");
    }
}
