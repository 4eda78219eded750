//! Reading users and groups from an LDAP directory with `ldap3` (async, on tokio; `ldaps://` and
//! StartTLS through rustls, the server's certificate checked against the system's roots unless
//! `tls.rejectUnauthorized: false`): an optional simple bind, then each configured search with the paged-results control (500 entries a page),
//! bounded by a per-operation timeout and a cap on entries. Entries map to [`UserEntry`] and
//! [`GroupEntry`] through the configured `map` (Backstage's attribute defaults); an entry
//! without the attribute its name comes from is an error naming its DN, and the rest are read.

use std::collections::BTreeMap;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{LdapConnAsync, LdapConnSettings, Scope as LdapScope, SearchEntry};

use crate::config::{LdapQuery, LdapSource, Scope};
use crate::directory::{Directory, GroupEntry, UserEntry};

/// Backstage's annotations for where an LDAP entity came from.
const DN_ANNOTATION: &str = "backstage.io/ldap-dn";
const RDN_ANNOTATION: &str = "backstage.io/ldap-rdn";
const UUID_ANNOTATION: &str = "backstage.io/ldap-uuid";

/// The first value of `attr` (attribute names are case-insensitive in LDAP).
fn first<'a>(entry: &'a SearchEntry, attr: &str) -> Option<&'a str> {
    all(entry, attr).first().map(String::as_str)
}

fn all<'a>(entry: &'a SearchEntry, attr: &str) -> &'a [String] {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map(|(_, v)| v.as_slice())
        .unwrap_or_default()
}

fn mapped<'a>(entry: &'a SearchEntry, q: &LdapQuery, field: &str) -> Option<&'a str> {
    q.map.get(field).and_then(|a| first(entry, a))
}

fn mapped_all(entry: &SearchEntry, q: &LdapQuery, field: &str) -> Vec<String> {
    q.map
        .get(field)
        .map(|a| all(entry, a).to_vec())
        .unwrap_or_default()
}

/// The DN as memberships compare it: LDAP DNs are case-insensitive and the spaces after commas
/// vary between servers.
fn dn_key(dn: &str) -> String {
    dn.split(',')
        .map(|p| p.trim().to_lowercase())
        .collect::<Vec<_>>()
        .join(",")
}

fn annotations(entry: &SearchEntry, q: &LdapQuery) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert(DN_ANNOTATION.to_owned(), entry.dn.clone());
    if let Some(rdn) = mapped(entry, q, "rdn") {
        a.insert(RDN_ANNOTATION.to_owned(), rdn.to_owned());
    }
    if let Some(uuid) = first(entry, "entryUUID").or_else(|| first(entry, "objectGUID")) {
        a.insert(UUID_ANNOTATION.to_owned(), uuid.to_owned());
    }
    a
}

/// The entry's name, or an error naming its DN and the attribute it lacks.
fn name_of(entry: &SearchEntry, q: &LdapQuery, what: &str) -> Result<String, String> {
    let attr = q.map.get("name").map_or("(none)", String::as_str);
    mapped(entry, q, "name").map(str::to_owned).ok_or_else(|| {
        format!(
            "{what} {}: missing required attribute {attr} (map.name); left out",
            entry.dn
        )
    })
}

fn user(entry: &SearchEntry, q: &LdapQuery) -> Result<UserEntry, String> {
    Ok(UserEntry {
        key: dn_key(&entry.dn),
        name: name_of(entry, q, "user")?,
        display_name: mapped(entry, q, "displayName").map(str::to_owned),
        email: mapped(entry, q, "email").map(str::to_owned),
        picture: mapped(entry, q, "picture").map(str::to_owned),
        description: mapped(entry, q, "description").map(str::to_owned),
        member_of: mapped_all(entry, q, "memberOf")
            .iter()
            .map(|d| dn_key(d))
            .collect(),
        annotations: annotations(entry, q),
    })
}

fn group(entry: &SearchEntry, q: &LdapQuery) -> Result<GroupEntry, String> {
    Ok(GroupEntry {
        key: dn_key(&entry.dn),
        name: name_of(entry, q, "group")?,
        group_type: mapped(entry, q, "type").unwrap_or("team").to_owned(),
        display_name: mapped(entry, q, "displayName").map(str::to_owned),
        email: mapped(entry, q, "email").map(str::to_owned),
        picture: mapped(entry, q, "picture").map(str::to_owned),
        description: mapped(entry, q, "description").map(str::to_owned),
        member_of: mapped_all(entry, q, "memberOf")
            .iter()
            .map(|d| dn_key(d))
            .collect(),
        members: mapped_all(entry, q, "members")
            .iter()
            .map(|d| dn_key(d))
            .collect(),
        annotations: annotations(entry, q),
    })
}

/// Runs one configured search and returns its entries.
async fn search(
    ldap: &mut ldap3::Ldap,
    q: &LdapQuery,
    src: &LdapSource,
) -> Result<Vec<SearchEntry>, String> {
    let scope = match q.scope {
        Scope::Base => LdapScope::Base,
        Scope::One => LdapScope::OneLevel,
        Scope::Sub => LdapScope::Subtree,
    };
    // The mapped attributes (memberOf is operational on OpenLDAP: it must be asked for by
    // name), the identifiers, and whatever the config adds.
    let mut attrs: Vec<String> = q.map.values().cloned().collect();
    attrs.extend(["entryUUID".to_owned(), "objectGUID".to_owned()]);
    attrs.extend(q.attributes.iter().cloned());
    attrs.sort();
    attrs.dedup();
    let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(500)),
    ];
    let fail = |e: ldap3::LdapError| format!("search {} {}: {e}", q.dn, q.filter);
    let mut stream = ldap
        .with_timeout(src.timeout)
        .streaming_search_with(adapters, &q.dn, scope, &q.filter, attrs)
        .await
        .map_err(fail)?;
    let mut out = Vec::new();
    while let Some(entry) = stream.next().await.map_err(fail)? {
        if out.len() >= src.max_entries {
            let _ = stream.finish().await;
            return Err(format!(
                "search {} {}: more than {} entries; narrow the filter",
                q.dn, q.filter, src.max_entries
            ));
        }
        out.push(SearchEntry::construct(entry));
    }
    stream.finish().await.success().map_err(fail)?;
    Ok(out)
}

/// Reads every configured search of `src`. A connection, bind or search failure is an error
/// (nothing is imported from a directory read only in part); entries that cannot be used are
/// listed in [`Directory::errors`].
pub async fn read_ldap(src: &LdapSource) -> Result<Directory, String> {
    let settings = LdapConnSettings::new()
        .set_conn_timeout(src.timeout)
        .set_starttls(src.starttls)
        .set_no_tls_verify(!src.tls_verify);
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &src.target)
        .await
        .map_err(|e| format!("{}: cannot connect: {e}", src.target))?;
    ldap3::drive!(conn);
    if let Some((dn, secret)) = &src.bind {
        ldap.with_timeout(src.timeout)
            .simple_bind(dn, secret.expose())
            .await
            .and_then(|r| r.success())
            .map_err(|e| format!("{}: bind as {dn} failed: {e}", src.target))?;
    }
    let mut dir = Directory::default();
    for q in &src.users {
        for entry in search(&mut ldap, q, src).await? {
            match user(&entry, q) {
                Ok(u) => dir.users.push(u),
                Err(e) => dir.errors.push(e),
            }
        }
    }
    for q in &src.groups {
        for entry in search(&mut ldap, q, src).await? {
            match group(&entry, q) {
                Ok(g) => dir.groups.push(g),
                Err(e) => dir.errors.push(e),
            }
        }
    }
    let _ = ldap.unbind().await;
    Ok(dir)
}
