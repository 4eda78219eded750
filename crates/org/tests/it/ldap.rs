//! LDAP import against a real OpenLDAP `slapd` (Debian's `slapd` package) that each test starts
//! on a loopback port with a generated `slapd.conf` and an empty database, then fills with
//! `ldapadd` from `fixtures/org.ldif` (so the `memberof` overlay maintains `memberOf`): nested
//! groups, users with `memberOf` and groups with `member`, an entry missing its name attribute,
//! a duplicate name and a name invalid for the catalog. Without slapd these tests skip, except
//! under `CI=true`, where they fail.

use std::time::Duration;

use catalog::{Catalog, CatalogSettings};
use forge::Secret;
use org::config::{LdapQuery, LdapSource, Scope};
use org::{Settings, Source, SourceKind};
use serde_json::{Value, json};
use store::testing::TestDb;

use org::testing::{ADMIN, PASSWORD, SUFFIX, Slapd};

fn query(dn: &str, filter: &str, map: &[(&str, &str)]) -> LdapQuery {
    LdapQuery {
        dn: dn.into(),
        scope: Scope::One,
        filter: filter.into(),
        attributes: vec![],
        map: map
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn source(url: &str, password: &str) -> Source {
    Source {
        id: "corp-ldap".into(),
        kind: SourceKind::Ldap(LdapSource {
            target: url.into(),
            bind: Some((ADMIN.into(), Secret::new(password))),
            users: ["people", "contractors"]
                .iter()
                .map(|ou| {
                    query(
                        &format!("ou={ou},{SUFFIX}"),
                        "(objectClass=inetOrgPerson)",
                        &[
                            ("rdn", "uid"),
                            ("name", "uid"),
                            ("displayName", "cn"),
                            ("email", "mail"),
                            ("memberOf", "memberOf"),
                            ("description", "description"),
                        ],
                    )
                })
                .collect(),
            groups: vec![query(
                &format!("ou=groups,{SUFFIX}"),
                "(objectClass=groupOfNames)",
                &[
                    ("rdn", "cn"),
                    ("name", "cn"),
                    ("displayName", "cn"),
                    ("description", "description"),
                    ("memberOf", "memberOf"),
                    ("members", "member"),
                ],
            )],
            timeout: Duration::from_secs(10),
            max_entries: 1000,
            tls_verify: true,
            starttls: false,
        }),
    }
}

fn by_name<'a>(entities: &'a [Value], kind: &str, name: &str) -> &'a Value {
    entities
        .iter()
        .find(|e| e["kind"] == kind && e["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind} {name} not in {entities:#?}"))
}

#[tokio::test]
async fn reads_users_groups_nesting_and_reports_bad_entries() {
    let Some(slapd) = Slapd::start() else { return };
    let a = org::read_source(&source(&slapd.url, PASSWORD))
        .await
        .unwrap();
    let names: Vec<String> = a
        .entities
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap(),
                e["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "Group:engineering",
            "Group:payments",
            "Group:platform",
            "User:alice",
            "User:bob",
            "User:carol_chen"
        ]
    );
    let alice = by_name(&a.entities, "User", "alice");
    assert_eq!(alice["spec"]["memberOf"], json!(["platform"]));
    assert_eq!(
        alice["spec"]["profile"],
        json!({"displayName": "Alice Adams", "email": "alice@example.org"})
    );
    assert_eq!(alice["metadata"]["description"], "Platform lead");
    let ann = &alice["metadata"]["annotations"];
    assert_eq!(
        ann["backstage.io/ldap-dn"],
        format!("uid=alice,ou=people,{SUFFIX}")
    );
    assert_eq!(ann["backstage.io/ldap-rdn"], "alice");
    assert!(
        ann["backstage.io/ldap-uuid"]
            .as_str()
            .is_some_and(|u| u.len() == 36)
    );
    // "Carol Chen!" is not a valid catalog name: normalised, and still a member.
    assert_eq!(
        by_name(&a.entities, "User", "carol_chen")["spec"]["memberOf"],
        json!(["platform"])
    );
    let eng = by_name(&a.entities, "Group", "engineering");
    assert_eq!(eng["spec"]["children"], json!(["payments", "platform"]));
    assert_eq!(eng["spec"]["type"], "team");
    assert!(eng["spec"].get("parent").is_none());
    assert_eq!(
        by_name(&a.entities, "Group", "platform")["spec"]["parent"],
        "engineering"
    );
    // The entry without a uid and the second "alice": each a clear error, the rest imported.
    assert_eq!(a.errors.len(), 2, "{:#?}", a.errors);
    assert!(
        a.errors.iter().any(
            |e| e.contains("cn=Nameless Person,ou=people,dc=example,dc=org")
                && e.contains("missing required attribute uid")
        ),
        "{:#?}",
        a.errors
    );
    assert!(
        a.errors.iter().any(
            |e| e.contains("user uid=alice,ou=contractors,dc=example,dc=org")
                && e.contains("already used by uid=alice,ou=people")
        ),
        "{:#?}",
        a.errors
    );

    // A wrong password is an error that names the bind DN and never the password.
    let e = org::read_source(&source(&slapd.url, "wrong-password"))
        .await
        .unwrap_err();
    assert!(
        e.contains("bind as cn=admin,dc=example,dc=org failed"),
        "{e}"
    );
    assert!(!e.contains("wrong-password"));
}

#[tokio::test]
async fn ldaps_through_rustls() {
    let Some(slapd) = Slapd::start() else { return };
    let mut src = source(&slapd.ldaps_url, PASSWORD);
    // The test certificate is self-signed: refused while certificates are checked, …
    let e = org::read_source(&src).await.unwrap_err();
    assert!(
        e.contains("cannot connect") && e.to_lowercase().contains("certificate"),
        "{e}"
    );
    // … and read over TLS with `tls.rejectUnauthorized: false`.
    let SourceKind::Ldap(l) = &mut src.kind else {
        unreachable!()
    };
    l.tls_verify = false;
    let a = org::read_source(&src).await.unwrap();
    assert_eq!(a.entities.len(), 6, "{:?}", a.errors);
    // StartTLS on the plain port, too.
    let mut src = source(&slapd.url, PASSWORD);
    let SourceKind::Ldap(l) = &mut src.kind else {
        unreachable!()
    };
    (l.starttls, l.tls_verify) = (true, false);
    assert_eq!(org::read_source(&src).await.unwrap().entities.len(), 6);
}

store::on_each_database!(imports_previews_and_follows_changes);

async fn imports_previews_and_follows_changes(test: TestDb) {
    let Some(slapd) = Slapd::start() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("org-import");
    let catalog = Catalog::open(CatalogSettings::default(), test.connect().await)
        .await
        .unwrap();
    catalog.round().await.unwrap();
    let settings = Settings {
        sources: vec![source(&slapd.url, PASSWORD)],
        ..Default::default()
    };
    let state = org::OrgImport::of(&catalog);
    state.configure(settings.clone(), out.clone());

    // Dry run: everything is added, nothing is written.
    let preview = state.run_now(&catalog, true).await.unwrap();
    let s = &preview.sources[0];
    assert_eq!((s.users, s.groups, s.added.len()), (3, 3, 6), "{s:#?}");
    assert!(s.failed.is_none() && !s.written && !s.registered);
    assert!(!out.exists(), "a dry run writes nothing");
    assert!(catalog.snapshot().entity("user:default/alice").is_none());

    let done = state.run_now(&catalog, false).await.unwrap();
    let s = &done.sources[0];
    assert!(s.written && s.registered, "{s:#?}");
    assert_eq!(catalog.locations().await.len(), 1);
    let snap = catalog.snapshot();
    let alice = snap.entity("user:default/alice").expect("alice imported");
    assert!(alice.problems().is_empty(), "{:?}", alice.problems());
    assert_eq!(alice.spec("memberOf"), Some(&json!(["platform"])));
    let platform = snap.entity("group:default/platform").unwrap();
    assert_eq!(platform.spec("parent"), Some(&json!("engineering")));
    // The catalog's relations follow: memberOf and childOf resolve to imported entities.
    assert!(
        alice
            .targets("memberOf")
            .any(|t| t == "group:default/platform")
    );

    // Unchanged directory: a preview shows nothing to do, and a run writes nothing.
    let again = state.run_now(&catalog, true).await.unwrap();
    let s = &again.sources[0];
    assert_eq!(
        (s.added.len(), s.changed.len(), s.removed.len(), s.unchanged),
        (0, 0, 0, 6),
        "{s:#?}"
    );

    // The directory changes: bob's mail, carol leaves, a new team appears under engineering.
    slapd.ldif(
        "ldapmodify",
        &format!(
            "dn: uid=bob,ou=people,{SUFFIX}\nchangetype: modify\nreplace: mail\nmail: bob@payments.example.org\n\n\
             dn: cn=platform,ou=groups,{SUFFIX}\nchangetype: modify\ndelete: member\nmember: uid=Carol Chen!,ou=people,{SUFFIX}\n\n\
             dn: uid=Carol Chen!,ou=people,{SUFFIX}\nchangetype: delete\n\n\
             dn: cn=search,ou=groups,{SUFFIX}\nchangetype: add\nobjectClass: groupOfNames\ncn: search\nmember: uid=bob,ou=people,{SUFFIX}\n\n\
             dn: cn=engineering,ou=groups,{SUFFIX}\nchangetype: modify\nadd: member\nmember: cn=search,ou=groups,{SUFFIX}\n"
        ),
    );
    let preview = state.run_now(&catalog, true).await.unwrap();
    let s = &preview.sources[0];
    let refs = |c: &[org::Change]| c.iter().map(|c| c.entity_ref.clone()).collect::<Vec<_>>();
    assert_eq!(refs(&s.added), ["group:default/search"]);
    assert_eq!(refs(&s.removed), ["user:default/carol_chen"]);
    assert_eq!(
        refs(&s.changed),
        ["group:default/engineering", "user:default/bob"]
    );
    let bob = s.changed.iter().find(|c| c.name == "bob").unwrap();
    let email = bob
        .fields
        .iter()
        .find(|f| f.field == "spec.profile.email")
        .unwrap();
    assert_eq!(email.before, Some(json!("bob@example.org")));
    assert_eq!(email.after, Some(json!("bob@payments.example.org")));
    let member_of = bob
        .fields
        .iter()
        .find(|f| f.field == "spec.memberOf")
        .unwrap();
    assert_eq!(member_of.after, Some(json!(["payments", "search"])));
    let eng = &s.changed[0];
    assert_eq!(eng.fields.len(), 1, "{eng:#?}");
    assert_eq!(
        eng.fields[0].after,
        Some(json!(["payments", "platform", "search"]))
    );
    // The preview changed nothing yet.
    assert!(
        catalog
            .snapshot()
            .entity("user:default/carol_chen")
            .is_some()
    );

    state.run_now(&catalog, false).await.unwrap();
    let snap = catalog.snapshot();
    assert!(
        snap.entity("user:default/carol_chen").is_none(),
        "removed from the file, gone"
    );
    assert_eq!(
        snap.entity("user:default/bob")
            .unwrap()
            .spec("profile")
            .unwrap()["email"],
        "bob@payments.example.org"
    );
    assert!(snap.entity("group:default/search").is_some());
    assert_eq!(catalog.locations().await.len(), 1, "registered once");
    assert!(state.last_import().is_some() && state.last_preview().is_some());

    // The directory goes away: the run fails for that source and the catalog keeps everyone.
    drop(slapd);
    let failed = state.run_now(&catalog, false).await.unwrap();
    assert!(
        failed.sources[0]
            .failed
            .as_deref()
            .is_some_and(|e| e.contains("cannot connect")),
        "{failed:#?}"
    );
    assert!(catalog.snapshot().entity("user:default/alice").is_some());
}
