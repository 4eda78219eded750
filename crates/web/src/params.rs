//! Query-string parsing that keeps repeated keys (`filter=a&filter=b` are two sets, not one).

/// All `(key, value)` pairs of a query string, decoded, in order.
pub fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Every value of `key`.
pub fn all(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The last value of `key`.
pub fn one<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Values of `key`, each split on commas, trimmed, empties dropped (`fields=a,b&fields=c`).
pub fn comma_list(pairs: &[(String, String)], key: &str) -> Vec<String> {
    all(pairs, key)
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A non-negative integer parameter, with a clear error naming it.
pub fn number(pairs: &[(String, String)], key: &str) -> Result<Option<usize>, String> {
    match one(pairs, key) {
        None => Ok(None),
        // Worded as Backstage's request validator words them.
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n < 0 => Err(format!("request/query/{key} must be >= 0")),
            Ok(n) => Ok(Some(n as usize)),
            Err(_) => Err(format!("request/query/{key} must be integer")),
        },
    }
}
