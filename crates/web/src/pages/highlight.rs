//! Light syntax highlighting for API definitions (YAML/JSON, GraphQL SDL, Protocol Buffers)
//! done on the server: the text is cut into tokens and each token is printed escaped inside a
//! `<span class>`, so highlighting can never turn definition text into markup.

/// A run of text and its CSS class (empty for plain text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok {
    pub class: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Yaml,
    Json,
    GraphQl,
    Proto,
    Plain,
}

impl Lang {
    /// From `spec.type` of an API entity and the definition's first character.
    pub fn of(api_type: &str, text: &str) -> Lang {
        match api_type.to_lowercase().as_str() {
            "graphql" => Lang::GraphQl,
            "grpc" => Lang::Proto,
            "openapi" | "asyncapi" if text.trim_start().starts_with('{') => Lang::Json,
            "openapi" | "asyncapi" => Lang::Yaml,
            _ => Lang::Plain,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::Yaml => "yaml",
            Lang::Json => "json",
            Lang::GraphQl => "graphql",
            Lang::Proto => "protobuf",
            Lang::Plain => "text",
        }
    }

    fn keywords(self) -> &'static [&'static str] {
        match self {
            Lang::GraphQl => &[
                "type",
                "query",
                "mutation",
                "subscription",
                "schema",
                "input",
                "enum",
                "interface",
                "union",
                "scalar",
                "extend",
                "implements",
                "fragment",
                "on",
                "directive",
            ],
            Lang::Proto => &[
                "syntax", "package", "import", "option", "service", "rpc", "returns", "message",
                "enum", "repeated", "optional", "stream", "oneof", "map", "reserved",
            ],
            Lang::Json | Lang::Yaml => &["true", "false", "null"],
            Lang::Plain => &[],
        }
    }

    fn line_comment(self) -> Option<&'static str> {
        match self {
            Lang::Yaml | Lang::GraphQl => Some("#"),
            Lang::Proto => Some("//"),
            Lang::Json | Lang::Plain => None,
        }
    }
}

/// Largest definition highlighted; a longer one is shown plain (still escaped).
pub const MAX_HIGHLIGHT: usize = 256 * 1024;

pub fn highlight(lang: Lang, text: &str) -> Vec<Tok> {
    if lang == Lang::Plain || text.len() > MAX_HIGHLIGHT {
        return vec![Tok {
            class: "",
            text: text.to_owned(),
        }];
    }
    let mut out: Vec<Tok> = Vec::new();
    let mut push = |class: &'static str, s: &str| {
        if s.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(t) if t.class == class => t.text.push_str(s),
            _ => out.push(Tok {
                class,
                text: s.to_owned(),
            }),
        }
    };
    for line in text.split_inclusive('\n') {
        let mut rest = line;
        // A YAML key at the start of the line (after indentation and list dashes).
        if lang == Lang::Yaml {
            let indent = rest.len() - rest.trim_start_matches([' ', '-']).len();
            let after = &rest[indent..];
            if let Some(colon) = after.find(':')
                && colon > 0
                && !after.starts_with(['#', '"', '\''])
                && after[..colon]
                    .chars()
                    .all(|c| !c.is_whitespace() || c == ' ')
                && (after[colon + 1..].starts_with([' ', '\n', '\r']) || colon + 1 == after.len())
            {
                push("", &rest[..indent]);
                push("k", &after[..colon]);
                rest = &after[colon..];
            }
        }
        while !rest.is_empty() {
            let c = rest.chars().next().unwrap_or(' ');
            if lang.line_comment().is_some_and(|m| rest.starts_with(m)) {
                let end = rest.find('\n').unwrap_or(rest.len());
                push("c", &rest[..end]);
                rest = &rest[end..];
            } else if c == '"' || (c == '\'' && lang != Lang::GraphQl) {
                let end = string_end(rest, c);
                // A JSON string followed by a colon is a key.
                let class = if lang == Lang::Json && rest[end..].trim_start().starts_with(':') {
                    "k"
                } else {
                    "s"
                };
                push(class, &rest[..end]);
                rest = &rest[end..];
            } else if c.is_ascii_digit() {
                let end = rest
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.'))
                    .unwrap_or(rest.len());
                push("n", &rest[..end]);
                rest = &rest[end..];
            } else if c.is_alphabetic() || c == '_' {
                let end = rest
                    .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                    .unwrap_or(rest.len());
                let word = &rest[..end];
                let class = if lang.keywords().contains(&word) {
                    "kw"
                } else if matches!(lang, Lang::GraphQl | Lang::Proto)
                    && word.starts_with(char::is_uppercase)
                {
                    "t"
                } else {
                    ""
                };
                push(class, word);
                rest = &rest[end..];
            } else {
                let len = c.len_utf8();
                push("", &rest[..len]);
                rest = &rest[len..];
            }
        }
    }
    out
}

/// The byte just past a string literal starting at `s[0]` (quote `q`), or the end of the line.
fn string_end(s: &str, q: char) -> usize {
    let mut escaped = false;
    for (i, ch) in s.char_indices().skip(1) {
        if ch == '\n' {
            return i;
        }
        if escaped {
            escaped = false;
        } else if ch == '\\' && q == '"' {
            escaped = true;
        } else if ch == q {
            return i + ch.len_utf8();
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(t: &[Tok]) -> String {
        t.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn tokens_cover_the_text_exactly() {
        for (lang, text) in [
            (
                Lang::Yaml,
                "openapi: 3.0.0\n# c\npaths:\n  /a: {x: \"y\"}\n - b: 'c'\n",
            ),
            (
                Lang::GraphQl,
                "type Query {\n  a(id: ID!): [Int] # note\n}\n",
            ),
            (
                Lang::Proto,
                "syntax = \"proto3\";\n// c\nservice S { rpc A(B) returns (C); }\n",
            ),
            (Lang::Json, "{\"a\": [1, \"<script>\"], \"b\": null}"),
        ] {
            assert_eq!(joined(&highlight(lang, text)), text, "{lang:?}");
        }
    }

    #[test]
    fn classes_mark_keys_strings_comments_and_keywords() {
        let t = highlight(Lang::Yaml, "title: \"Pets\" # name\n");
        assert_eq!(
            t[0],
            Tok {
                class: "k",
                text: "title".into()
            }
        );
        assert!(t.iter().any(|x| x.class == "s" && x.text == "\"Pets\""));
        assert!(t.iter().any(|x| x.class == "c" && x.text == "# name"));
        let g = highlight(Lang::GraphQl, "type Query { a: Int }");
        assert_eq!(
            g[0],
            Tok {
                class: "kw",
                text: "type".into()
            }
        );
        assert!(g.iter().any(|x| x.class == "t" && x.text == "Query"));
        let j = highlight(Lang::Json, "{\"a\": \"b\"}");
        assert!(j.iter().any(|x| x.class == "k" && x.text == "\"a\""));
        assert!(j.iter().any(|x| x.class == "s" && x.text == "\"b\""));
    }
}
