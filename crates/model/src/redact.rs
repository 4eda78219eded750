//! Masking credentials in URLs before they are logged or served: userinfo passwords
//! (`scheme://user:pw@host`) and the values of query parameters that carry secrets.

/// Query parameter names (compared case-insensitively) whose values are secrets.
const SECRET_PARAMS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "token",
    "access_token",
    "private_token",
    "refresh_token",
    "id_token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "client_secret",
    "sig",
    "signature",
    "auth",
    "authorization",
    "x-amz-signature",
    "x-amz-security-token",
    "code",
];

const MASK: &str = "***";

/// `url` with its userinfo password (or a lone userinfo token, as in `https://TOKEN@host`) and
/// every secret query value replaced by `***`. Text that is not a URL comes back unchanged, so
/// this is safe to call on any location target or database URL.
pub fn url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let (scheme, rest) = url.split_at(scheme_end + 3);
    // The authority ends at the first '/', '?' or '#'; a '@' after that is part of the path.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut out = String::with_capacity(url.len());
    out.push_str(scheme);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            // A userinfo without ':' is usually a token (`https://ghp_xxx@github.com`): mask it whole.
            match userinfo.split_once(':') {
                Some((user, _)) => out.push_str(&format!("{user}:{MASK}@{host}")),
                None => out.push_str(&format!("{MASK}@{host}")),
            }
        }
        None => out.push_str(authority),
    }
    let (before_fragment, fragment) = match tail.find('#') {
        Some(i) => tail.split_at(i),
        None => (tail, ""),
    };
    match before_fragment.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            out.push_str(&query_string(query));
        }
        None => out.push_str(before_fragment),
    }
    out.push_str(fragment);
    out
}

/// Replaces every URL found in free text (log and error messages) with [`url`] of it.
pub fn text(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("://") {
        // Walk back to the start of the scheme.
        let start = rest[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |p| p + 1);
        let end = rest[i..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(rest.len(), |p| i + p);
        // Sentence punctuation right after a URL ("... a.yaml: HTTP 404") is not part of it.
        let end = i + rest[i..end]
            .trim_end_matches(['.', ',', ';', ':', ')', ']'])
            .len();
        out.push_str(&rest[..start]);
        out.push_str(&url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn query_string(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !v.is_empty() && is_secret(k) => format!("{k}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn is_secret(key: &str) -> bool {
    let key = form_urlencoded::parse(format!("{key}=").as_bytes())
        .next()
        .map(|(k, _)| k.to_ascii_lowercase())
        .unwrap_or_default();
    SECRET_PARAMS.contains(&key.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens_are_masked() {
        assert_eq!(url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            url("postgres://u@h:5432/db?sslmode=require&password=pw"),
            "postgres://***@h:5432/db?sslmode=require&password=***"
        );
        assert_eq!(
            url("https://user:TOKEN@git.example.com/a.yaml"),
            "https://user:***@git.example.com/a.yaml"
        );
        assert_eq!(
            url(
                "https://h/a.yaml?ref=main&token=abc&Access_Token=x&private_token=y&key=k&secret=s#x"
            ),
            "https://h/a.yaml?ref=main&token=***&Access_Token=***&private_token=***&key=***&secret=***#x"
        );
        assert_eq!(url("https://h/p@x?a=1"), "https://h/p@x?a=1");
    }

    #[test]
    fn text_without_credentials_is_unchanged() {
        for s in [
            "sqlite://stagedoor.db",
            "sqlite::memory:",
            "./catalog/all.yaml",
            "not a url",
        ] {
            assert_eq!(url(s), s);
            assert_eq!(text(s), s);
        }
    }

    #[test]
    fn urls_inside_messages_are_masked() {
        assert_eq!(
            text("error reading https://u:pw@h/a.yaml?token=t: HTTP 404"),
            "error reading https://u:***@h/a.yaml?token=***: HTTP 404"
        );
    }
}
