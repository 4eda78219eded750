//! Languages by file extension (and a few well-known file names), counted in bytes like
//! GitHub's linguist does at its simplest. Files that are not code (images, data, lock files)
//! and vendored folders count for nothing.

/// The language a path is written in, or `None` for files that are not source code.
pub fn of(path: &str) -> Option<&'static str> {
    let file = path.rsplit('/').next().unwrap_or(path);
    match file {
        "Dockerfile" => return Some("Dockerfile"),
        "Makefile" | "makefile" | "GNUmakefile" => return Some("Makefile"),
        _ => {}
    }
    let ext = file.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "rs" => "Rust",
        "go" => "Go",
        "java" => "Java",
        "kt" | "kts" => "Kotlin",
        "scala" => "Scala",
        "groovy" | "gradle" => "Groovy",
        "py" => "Python",
        "rb" => "Ruby",
        "php" => "PHP",
        "js" | "mjs" | "cjs" | "jsx" => "JavaScript",
        "ts" | "tsx" | "mts" | "cts" => "TypeScript",
        "vue" => "Vue",
        "svelte" => "Svelte",
        "html" | "htm" => "HTML",
        "css" | "scss" | "sass" | "less" => "CSS",
        "c" | "h" => "C",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" => "C++",
        "cs" => "C#",
        "fs" | "fsx" => "F#",
        "swift" => "Swift",
        "m" | "mm" => "Objective-C",
        "ex" | "exs" => "Elixir",
        "erl" | "hrl" => "Erlang",
        "hs" => "Haskell",
        "clj" | "cljs" => "Clojure",
        "dart" => "Dart",
        "lua" => "Lua",
        "pl" | "pm" => "Perl",
        "r" => "R",
        "sh" | "bash" | "zsh" => "Shell",
        "ps1" => "PowerShell",
        "sql" => "SQL",
        "tf" | "hcl" => "HCL",
        "proto" => "Protocol Buffer",
        "md" | "markdown" => "Markdown",
        _ => return None,
    })
}

/// Folders whose contents are someone else's code and would drown the repository's own.
pub fn is_vendored(dir_name: &str) -> bool {
    matches!(
        dir_name,
        "node_modules" | "vendor" | "third_party" | "third-party" | ".git" | "dist" | "target"
    )
}

/// The tag Backstage conventions use for a language: lower case, `+`/`#` spelled out, spaces as
/// dashes (tags allow `[a-z0-9:+#-]`, but a `#` in a URL query needs escaping).
pub fn tag(language: &str) -> String {
    language
        .to_ascii_lowercase()
        .replace("c++", "cpp")
        .replace("c#", "csharp")
        .replace("f#", "fsharp")
        .replace(' ', "-")
}

#[cfg(test)]
mod tests {
    #[test]
    fn extensions_names_and_tags() {
        assert_eq!(super::of("src/main.rs"), Some("Rust"));
        assert_eq!(super::of("web/App.TSX"), Some("TypeScript"));
        assert_eq!(super::of("Dockerfile"), Some("Dockerfile"));
        assert_eq!(super::of("logo.png"), None);
        assert_eq!(super::of("README"), None);
        assert_eq!(super::tag("C++"), "cpp");
        assert_eq!(super::tag("Protocol Buffer"), "protocol-buffer");
    }
}
