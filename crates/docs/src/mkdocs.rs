//! `mkdocs.yml`: the site name, the docs folder and the navigation, read the way MkDocs reads
//! them. Python-only YAML tags (`!!python/name:…`, `!ENV`) that techdocs configurations carry for
//! plugins are ignored rather than failing the file. Errors name the line.

use serde_json::Value;

/// The parts of `mkdocs.yml` a build needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteConfig {
    pub site_name: Option<String>,
    /// Relative to the directory of `mkdocs.yml`; `docs` unless set.
    pub docs_dir: String,
    /// `None` when the file has no `nav`: the docs folder's Markdown files make it.
    pub nav: Option<Vec<NavEntry>>,
}

/// One entry of `nav`, with the line it is written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NavEntry {
    Page {
        title: Option<String>,
        path: String,
        line: usize,
    },
    Link {
        title: String,
        url: String,
    },
    Section {
        title: String,
        children: Vec<NavEntry>,
    },
}

/// A fault in `mkdocs.yml` at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub line: usize,
    pub message: String,
}

/// Nav deeper or longer than this is cut, with a problem (bounds hostile input).
const MAX_NAV_DEPTH: usize = 8;
const MAX_NAV_ENTRIES: usize = 5_000;

/// Reads `mkdocs.yml`. A file that cannot be used at all is an `Err`; faults that leave a usable
/// site (a nav entry of the wrong shape) come back as problems beside the config.
pub fn parse(text: &str) -> Result<(SiteConfig, Vec<ConfigProblem>), ConfigProblem> {
    let cleaned = without_python_tags(text);
    let docs = model::yaml::parse_documents(&cleaned);
    let doc = docs.into_iter().next().ok_or(ConfigProblem {
        line: 1,
        message: "mkdocs.yml is empty".into(),
    })?;
    let value = doc.result.map_err(|e| ConfigProblem {
        line: e.line,
        message: format!("invalid YAML at column {}: {}", e.column, e.message),
    })?;
    let Value::Object(map) = value else {
        return Err(ConfigProblem {
            line: doc.line,
            message: "mkdocs.yml must be a mapping (site_name, nav, …)".into(),
        });
    };
    let lines = model::yaml::Lines::new(&cleaned);
    let at = |path: &str| lines.locate(doc.line, path).0;
    let site_name = match map.get("site_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(ConfigProblem {
                line: at("site_name"),
                message: "site_name must be a string".into(),
            });
        }
    };
    let docs_dir = match map.get("docs_dir") {
        None | Some(Value::Null) => "docs".to_owned(),
        Some(Value::String(s)) => {
            let trimmed = s.trim_end_matches('/');
            let bad = trimmed.is_empty()
                || trimmed.starts_with('/')
                || trimmed.contains('\\')
                || trimmed.split('/').any(|seg| seg == "..");
            if bad {
                return Err(ConfigProblem {
                    line: at("docs_dir"),
                    message: format!(
                        "docs_dir {s:?} must be a folder inside the one holding mkdocs.yml"
                    ),
                });
            }
            trimmed.to_owned()
        }
        Some(_) => {
            return Err(ConfigProblem {
                line: at("docs_dir"),
                message: "docs_dir must be a string".into(),
            });
        }
    };
    let mut problems = Vec::new();
    let nav = match map.get("nav") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut count = 0;
            Some(entries(items, "nav", 0, &at, &mut count, &mut problems))
        }
        Some(_) => {
            return Err(ConfigProblem {
                line: at("nav"),
                message: "nav must be a list".into(),
            });
        }
    };
    Ok((
        SiteConfig {
            site_name,
            docs_dir,
            nav,
        },
        problems,
    ))
}

fn entries(
    items: &[Value],
    path: &str,
    depth: usize,
    at: &dyn Fn(&str) -> usize,
    count: &mut usize,
    problems: &mut Vec<ConfigProblem>,
) -> Vec<NavEntry> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let here = format!("{path}.{i}");
        *count += 1;
        if *count > MAX_NAV_ENTRIES {
            problems.push(ConfigProblem {
                line: at(&here),
                message: format!(
                    "nav has more than {MAX_NAV_ENTRIES} entries; the rest are left out"
                ),
            });
            break;
        }
        match item {
            Value::String(target) => out.push(target_entry(None, target, at(&here))),
            Value::Object(map) if map.len() == 1 => {
                let (title, value) = map.iter().next().expect("one entry");
                let inner = format!("{here}.{title}");
                match value {
                    Value::String(target) => {
                        out.push(target_entry(Some(title.clone()), target, at(&inner)));
                    }
                    Value::Array(children) if depth + 1 < MAX_NAV_DEPTH => {
                        out.push(NavEntry::Section {
                            title: title.clone(),
                            children: entries(children, &inner, depth + 1, at, count, problems),
                        })
                    }
                    Value::Array(_) => problems.push(ConfigProblem {
                        line: at(&inner),
                        message: format!(
                            "nav section {title:?} is nested deeper than {MAX_NAV_DEPTH} levels; left out"
                        ),
                    }),
                    _ => problems.push(ConfigProblem {
                        line: at(&inner),
                        message: format!(
                            "nav entry {title:?} must name a page (a .md path), a URL or a list of entries"
                        ),
                    }),
                }
            }
            _ => problems.push(ConfigProblem {
                line: at(&here),
                message: "a nav entry must be a page path or a single `Title: page` pair".into(),
            }),
        }
    }
    out
}

fn target_entry(title: Option<String>, target: &str, line: usize) -> NavEntry {
    let external = target.contains("://") || target.starts_with("mailto:");
    match (external, title) {
        (true, title) => NavEntry::Link {
            title: title.unwrap_or_else(|| target.to_owned()),
            url: target.to_owned(),
        },
        (false, title) => NavEntry::Page {
            title,
            path: target.trim_start_matches("./").to_owned(),
            line,
        },
    }
}

/// Removes `!!python/…` and `!ENV` tags, keeping every line where it was.
fn without_python_tags(text: &str) -> String {
    if !text.contains("!!python/") && !text.contains("!ENV") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut line = line.to_owned();
        while let Some(at) = line.find("!!python/") {
            let end = line[at..]
                .find(|c: char| c.is_whitespace())
                .map_or(line.len(), |e| at + e);
            line.replace_range(at..end, "");
        }
        line = line.replace("!ENV ", "");
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_tags_are_ignored_in_place() {
        let text = "site_name: X\nmarkdown_extensions:\n  - pymdownx.superfences:\n      custom_fences:\n        - name: mermaid\n          format: !!python/name:pymdownx.superfences.fence_code_format\nnav:\n  - index.md\n";
        let (config, problems) = parse(text).unwrap();
        assert!(problems.is_empty());
        assert_eq!(
            config.nav,
            Some(vec![NavEntry::Page {
                title: None,
                path: "index.md".into(),
                line: 8
            }])
        );
    }
}
