//! Field formats: Kubernetes-style names, labels, annotations and tags, as Backstage checks them.

use super::*;

/// `[a-z0-9]+(-+[a-z0-9]+)*`, 1-63 characters (RFC 1123 label; Backstage allows repeated dashes).
pub fn is_valid_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Dot-separated DNS labels, at most 253 characters.
pub fn is_valid_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_valid_dns_label)
}

/// Entity names and label values: `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, 1-63 characters.
/// Note that separators may repeat (`a--b`, `a._b`); only the ends must be alphanumeric.
pub fn is_valid_object_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `kind`: a letter then letters and digits, 1-63 characters.
pub fn is_valid_kind(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(u8::is_ascii_alphanumeric)
}

/// `apiVersion`: `[<dns-subdomain>/]<1-63 alphanumerics>`.
pub fn is_valid_api_version(s: &str) -> bool {
    prefix_and_suffix(s, |v| {
        !v.is_empty() && v.len() <= 63 && v.bytes().all(|c| c.is_ascii_alphanumeric())
    })
}

/// Label and annotation keys: `[<dns-subdomain>/]<object name>`.
pub fn is_valid_prefixed_name(s: &str) -> bool {
    prefix_and_suffix(s, is_valid_object_name)
}

pub(super) fn prefix_and_suffix(s: &str, suffix_ok: impl Fn(&str) -> bool) -> bool {
    let mut parts = s.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(only), None, _) => suffix_ok(only),
        (Some(prefix), Some(suffix), None) => is_valid_dns_subdomain(prefix) && suffix_ok(suffix),
        _ => false,
    }
}

/// Tags: runs of `[a-z0-9:+#]` separated by single dashes, 1-63 characters.
pub fn is_valid_tag(s: &str) -> bool {
    let b = s.as_bytes();
    let run_char =
        |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b':' | b'+' | b'#');
    !b.is_empty()
        && b.len() <= 63
        && b.split(|&c| c == b'-')
            .all(|run| !run.is_empty() && run.iter().all(|&c| run_char(c)))
}

/// Whether a WHATWG URL parser (what Backstage uses) would accept `s` without a base: a scheme,
/// and for the special network schemes a non-empty host without forbidden characters and a
/// numeric port. A close approximation, not a full URL parser.
pub fn is_valid_url(s: &str) -> bool {
    let s = s.trim_matches(|c: char| c <= ' ');
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    let sb = scheme.as_bytes();
    if sb.is_empty()
        || !sb[0].is_ascii_alphabetic()
        || !sb
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return false;
    }
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "ws" | "wss" | "ftp") {
        // Opaque and file URLs accept nearly anything after the scheme.
        return true;
    }
    let rest: String = s[colon + 1..]
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let rest = rest.trim_start_matches(['/', '\\']);
    let authority = &rest[..rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if host_port.starts_with('[') {
        match host_port.find(']') {
            Some(end) => (&host_port[..=end], host_port[end + 1..].strip_prefix(':')),
            None => return false,
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if let Some(p) = port
        && !(p.is_empty()
            || (p.bytes().all(|c| c.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= 65535)))
    {
        return false;
    }
    if host.starts_with('[') {
        let inner = &host[1..host.len() - 1];
        return !inner.is_empty()
            && inner
                .bytes()
                .all(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.'));
    }
    // Hosts are percent-decoded before their characters are checked.
    let host = percent_decode(host);
    !host.is_empty()
        && !host.chars().any(|c| {
            c <= ' '
                || c == '\u{7f}'
                || matches!(
                    c,
                    '#' | '/' | ':' | '<' | '>' | '?' | '@' | '[' | '\\' | ']' | '^' | '|' | '%'
                )
        })
}
