//! A credential that cannot leak by accident: its `Debug` and `Display` print a placeholder, so
//! a token in a settings struct, an error or a log line shows as `***`.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it (the `Authorization` header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads `NAME` from the environment, or the file `NAME_FILE` names (trailing newline
    /// trimmed), as container secrets are mounted. Errors name the variable, never the value.
    pub fn from_env(name: &str) -> Result<Option<Secret>, String> {
        Secret::from_lookup(name, |n| std::env::var(n).ok())
    }

    /// As [`Secret::from_env`], with variables looked up by `var` (tests pass a map).
    pub fn from_lookup(
        name: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Secret>, String> {
        if let Some(v) = var(name)
            && !v.trim().is_empty()
        {
            return Ok(Some(Secret(v.trim().to_owned())));
        }
        let file_var = format!("{name}_FILE");
        match var(&file_var) {
            Some(path) if !path.is_empty() => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{file_var} names {path}, which cannot be read: {e}"))?;
                let v = text.trim();
                if v.is_empty() {
                    return Err(format!("{file_var} names {path}, which is empty"));
                }
                Ok(Some(Secret(v.to_owned())))
            }
            _ => Ok(None),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn never_printed() {
        let s = super::Secret::new("ghp_supersecret");
        assert!(!format!("{s:?} {s}").contains("supersecret"));
        assert_eq!(s.expose(), "ghp_supersecret");
    }
}
