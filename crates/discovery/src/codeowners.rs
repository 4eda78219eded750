//! CODEOWNERS files (GitHub's and GitLab's format): which handles own which paths, read so a
//! proposal can name an owner. A malformed line is an error naming the file and line; the rules
//! before and after it still count.

use serde::Serialize;

/// Where GitHub looks for the file, in its order: the first that exists is the one that counts.
pub const LOCATIONS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// Larger files are refused rather than read: GitHub itself ignores CODEOWNERS over 3 MB, and a
/// repository's ownership never needs that many rules.
pub const MAX_BYTES: u64 = 3 * 1024 * 1024;

/// One `pattern owner...` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Rule {
    pub pattern: String,
    pub owners: Vec<String>,
    pub line: usize,
}

/// A parsed file: its rules in file order, and the lines that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Codeowners {
    /// Path inside the repository, e.g. `.github/CODEOWNERS`.
    pub path: String,
    pub rules: Vec<Rule>,
    /// `path:line: message` for each malformed line.
    pub errors: Vec<String>,
}

impl Codeowners {
    pub fn parse(path: &str, text: &str) -> Codeowners {
        let mut out = Codeowners {
            path: path.to_owned(),
            ..Default::default()
        };
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = strip_comment(raw).trim();
            // GitLab section headers (`[Section]`, `^[Optional]`, `[Section][2] @owner`) group rules;
            // their default owners are not per-path rules, so they are skipped.
            if content.is_empty() || content.starts_with('[') || content.starts_with("^[") {
                continue;
            }
            let mut tokens = content.split_whitespace();
            let pattern = tokens.next().unwrap_or_default().to_owned();
            let mut owners = Vec::new();
            for token in tokens {
                match owner_handle(token) {
                    Ok(h) => owners.push(h),
                    Err(why) => out.errors.push(format!("{path}:{line}: {why}")),
                }
            }
            // A pattern with no owners is valid: it removes ownership from the matching paths.
            out.rules.push(Rule {
                pattern,
                owners,
                line,
            });
        }
        out
    }

    /// The owners of the repository as a whole: the last rule matching every path (`*`, `/`,
    /// `/*`, `**`), as the last matching rule wins; failing that, the owner named on most rules.
    /// Returns the owners and the rule's line, for the evidence.
    pub fn repository_owners(&self) -> Option<(Vec<String>, String)> {
        if let Some(rule) = self
            .rules
            .iter()
            .rev()
            .find(|r| matches!(r.pattern.as_str(), "*" | "/" | "/*" | "**" | "/**"))
        {
            return (!rule.owners.is_empty()).then(|| {
                (
                    rule.owners.clone(),
                    format!(
                        "{}:{}: {} {}",
                        self.path,
                        rule.line,
                        rule.pattern,
                        rule.owners.join(" ")
                    ),
                )
            });
        }
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for owner in self.rules.iter().flat_map(|r| &r.owners) {
            match counts.iter_mut().find(|(o, _)| o == owner) {
                Some((_, n)) => *n += 1,
                None => counts.push((owner, 1)),
            }
        }
        let (top, n) = counts.iter().max_by_key(|(_, n)| *n)?;
        Some((
            vec![top.to_string()],
            format!(
                "{}: {top} owns {n} of {} rules",
                self.path,
                self.rules.len()
            ),
        ))
    }
}

fn strip_comment(line: &str) -> &str {
    // `#` starts a comment at the start of a line or after whitespace; `\#` is a literal `#`.
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// An owner is `@user`, `@org/team` or an email address.
fn owner_handle(token: &str) -> Result<String, String> {
    let valid_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if let Some(handle) = token.strip_prefix('@') {
        let ok = match handle.split_once('/') {
            Some((org, team)) => valid_name(org) && valid_name(team),
            None => valid_name(handle),
        };
        if ok {
            return Ok(token.to_owned());
        }
    } else if let Some((local, domain)) = token.split_once('@')
        && !local.is_empty()
        && domain.contains('.')
        && !domain.contains('@')
    {
        return Ok(token.to_ascii_lowercase());
    }
    Err(format!(
        "{token:?} is not an owner (expected @user, @org/team or an email address)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_comments_sections_and_reports_bad_owners_with_lines() {
        let text = "# owners\n* @acme/platform\n\n[Docs]\n/docs/ @acme/writers alice@example.com # trailing\n/x not-an-owner @ok\n";
        let c = Codeowners::parse(".github/CODEOWNERS", text);
        assert_eq!(c.rules.len(), 3);
        assert_eq!(
            c.rules[1].owners,
            vec!["@acme/writers", "alice@example.com"]
        );
        assert_eq!(c.rules[2].owners, vec!["@ok"]);
        assert_eq!(c.errors.len(), 1);
        assert!(
            c.errors[0].starts_with(".github/CODEOWNERS:6: \"not-an-owner\""),
            "{:?}",
            c.errors
        );
        let (owners, evidence) = c.repository_owners().unwrap();
        assert_eq!(owners, vec!["@acme/platform"]);
        assert_eq!(evidence, ".github/CODEOWNERS:2: * @acme/platform");
    }

    #[test]
    fn without_a_catch_all_the_most_named_owner_is_taken() {
        let c = Codeowners::parse("CODEOWNERS", "/a @x/one\n/b @x/two\n/c @x/two\n");
        let (owners, evidence) = c.repository_owners().unwrap();
        assert_eq!(owners, vec!["@x/two"]);
        assert!(evidence.contains("2 of 3"), "{evidence}");
        // The last catch-all wins, and one with no owners means nobody.
        let c = Codeowners::parse("CODEOWNERS", "* @x/one\n*\n");
        assert_eq!(c.repository_owners(), None);
    }
}
