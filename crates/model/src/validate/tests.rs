//! Tests of the field rules against Backstage's.

use super::*;
use serde_json::json;

fn check(v: Value) -> Vec<Problem> {
    validate(v.as_object().expect("test entities are objects"))
}

fn paths(v: Value) -> Vec<String> {
    check(v).into_iter().map(|p| p.path).collect()
}

fn component(metadata: Value, spec: Value) -> Value {
    json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": metadata, "spec": spec})
}

fn spec() -> Value {
    json!({"type": "service", "lifecycle": "production", "owner": "team-a"})
}

/// Entities a stock Backstage catalog accepts.
fn valid_corpus() -> Vec<Value> {
    vec![
        component(json!({"name": "a"}), spec()),
        component(
            json!({
                "name": "My_Svc.v2--x", "namespace": "prod-1", "title": "T", "description": "",
                "labels": {"tier": "", "example.com/tier": "Gold", "a.b-c/x_y": "v.1"},
                "annotations": {"backstage.io/techdocs-ref": "dir:.", "x": "any text at all"},
                "tags": ["java", "c++", "c#", "k8s:prod", "a-b-c"],
                "links": [{"url": "https://example.com/a b", "title": "Docs", "icon": "docs", "type": "doc"},
                          {"url": "mailto:a@b.c"}, {"url": "http://[::1]:8080/"}],
                "uid": "u", "etag": "e"
            }),
            json!({"type": "service", "lifecycle": "x", "owner": "user:bob", "system": "s",
                   "subcomponentOf": "c", "providesApis": ["a"], "consumesApis": [], "dependsOn": ["resource:db"],
                   "somethingElse": {"free": "form"}}),
        ),
        json!({"apiVersion": "backstage.io/v1beta1", "kind": "API", "metadata": {"name": "api"},
               "spec": {"type": "openapi", "lifecycle": "prod", "owner": "o", "definition": "openapi: 3.0.0"}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Resource", "metadata": {"name": "db"},
               "spec": {"type": "database", "owner": "o", "dependsOn": ["resource:disk"], "system": "s"}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "System", "metadata": {"name": "s"}, "spec": {"owner": "o", "domain": "d"}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Domain", "metadata": {"name": "d"}, "spec": {"owner": "o", "subdomainOf": "top"}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "g"},
               "spec": {"type": "team", "children": [], "profile": {"displayName": "G"}, "parent": "org", "members": ["u"]}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "u"}, "spec": {"memberOf": []}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Location", "metadata": {"name": "l"}, "spec": {}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Location", "metadata": {"name": "l"},
               "spec": {"type": "url", "targets": ["./a.yaml"], "presence": "optional"}}),
        json!({"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "t"},
               "spec": {"type": "service", "owner": "o", "parameters": [{"title": "x"}],
                        "steps": [{"id": "a", "action": "fetch:template", "input": {}, "if": true}],
                        "output": {"links": [{"title": "Repo", "url": "https://x"}], "note": "text"}}}),
        // Unknown kinds get envelope and metadata checks only.
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"anything": 1}}),
        json!({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}),
    ]
}

#[test]
fn valid_corpus_has_no_problems() {
    for e in valid_corpus() {
        assert_eq!(check(e.clone()), vec![], "{e}");
    }
}

/// (entity, the paths Stagedoor must report, in order).
fn invalid_corpus() -> Vec<(Value, Vec<&'static str>)> {
    let c = |metadata: Value| component(metadata, spec());
    let with_spec = |kind: &str, spec: Value| json!({"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": "x"}, "spec": spec});
    vec![
        (
            json!({"kind": "Component", "metadata": {"name": "a"}, "spec": spec()}),
            vec!["apiVersion"],
        ),
        (
            json!({"apiVersion": "a/b/c", "kind": "Widget", "metadata": {"name": "a"}}),
            vec!["apiVersion"],
        ),
        (
            json!({"apiVersion": "Example.com/v1", "kind": "Widget", "metadata": {"name": "a"}}),
            vec!["apiVersion"],
        ),
        (
            json!({"apiVersion": "v1", "kind": "1Widget", "metadata": {"name": "a"}}),
            vec!["kind"],
        ),
        (
            json!({"apiVersion": "v1", "kind": 3, "metadata": {"name": "a"}}),
            vec!["kind"],
        ),
        (
            json!({"apiVersion": "v1", "metadata": {"name": "a"}}),
            vec!["kind"],
        ),
        (
            json!({"apiVersion": "v1", "kind": "Widget"}),
            vec!["metadata"],
        ),
        (
            json!({"apiVersion": "v1", "kind": "Widget", "metadata": [], "spec": 1}),
            vec!["metadata", "spec"],
        ),
        (
            json!({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "a"}, "relations": [], "status": {}}),
            vec!["relations", "status"],
        ),
        (
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "component", "metadata": {"name": "a"}, "spec": spec()}),
            vec!["kind"],
        ),
        (
            json!({"apiVersion": "backstage.io/v2", "kind": "Component", "metadata": {"name": "a"}, "spec": spec()}),
            vec!["apiVersion"],
        ),
        (
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "a"}}),
            vec!["spec"],
        ),
        (c(json!({})), vec!["metadata.name"]),
        (c(json!({"name": ""})), vec!["metadata.name"]),
        (c(json!({"name": "a".repeat(64)})), vec!["metadata.name"]),
        (c(json!({"name": "-a"})), vec!["metadata.name"]),
        (c(json!({"name": "a_"})), vec!["metadata.name"]),
        (c(json!({"name": "a b"})), vec!["metadata.name"]),
        (
            c(json!({"name": "a", "namespace": "Prod"})),
            vec!["metadata.namespace"],
        ),
        (
            c(json!({"name": "a", "namespace": "a.b"})),
            vec!["metadata.namespace"],
        ),
        (
            c(json!({"name": "a", "namespace": ""})),
            vec!["metadata.namespace"],
        ),
        (
            c(json!({"name": "a", "title": "", "description": 5})),
            vec!["metadata.title", "metadata.description"],
        ),
        (
            c(json!({"name": "a", "labels": {"a/b/c": "x", "x/": "y", "k": "bad value", "n": 1}})),
            vec![
                "metadata.labels.a/b/c",
                "metadata.labels.x/",
                "metadata.labels.k",
                "metadata.labels.n",
            ],
        ),
        (
            c(json!({"name": "a", "labels": []})),
            vec!["metadata.labels"],
        ),
        (
            c(json!({"name": "a", "annotations": {"UPPER.com/x": "v", "ok": 1, "sp ace": "v"}})),
            vec![
                "metadata.annotations.UPPER.com/x",
                "metadata.annotations.ok",
                "metadata.annotations.sp ace",
            ],
        ),
        (
            c(json!({"name": "a", "tags": ["ok", "Java", "a--b", "", "x_y", 1, "t".repeat(64)]})),
            vec![
                "metadata.tags.1",
                "metadata.tags.2",
                "metadata.tags.3",
                "metadata.tags.4",
                "metadata.tags.5",
                "metadata.tags.6",
            ],
        ),
        (
            c(json!({"name": "a", "tags": "java"})),
            vec!["metadata.tags"],
        ),
        (
            c(
                json!({"name": "a", "links": [{"title": "x"}, {"url": "nope"}, {"url": "https://x", "title": " ", "icon": ""}, 3, {"url": "http://", "type": ""}]}),
            ),
            vec![
                "metadata.links.0.url",
                "metadata.links.1.url",
                "metadata.links.2.title",
                "metadata.links.2.icon",
                "metadata.links.3",
                "metadata.links.4.url",
                "metadata.links.4.type",
            ],
        ),
        (
            component(json!({"name": "a"}), json!({})),
            vec!["spec.type", "spec.lifecycle", "spec.owner"],
        ),
        (
            component(
                json!({"name": "a"}),
                json!({"type": 1, "lifecycle": "", "owner": "o", "system": 2, "dependsOn": "x", "providesApis": [""]}),
            ),
            vec![
                "spec.type",
                "spec.lifecycle",
                "spec.system",
                "spec.providesApis.0",
                "spec.dependsOn",
            ],
        ),
        (
            with_spec(
                "API",
                json!({"type": "openapi", "lifecycle": "p", "owner": "o", "definition": {"$text": "./x"}}),
            ),
            vec!["spec.definition"],
        ),
        (
            with_spec("API", json!({"type": "openapi", "owner": "o"})),
            vec!["spec.lifecycle", "spec.definition"],
        ),
        (
            with_spec("Resource", json!({})),
            vec!["spec.type", "spec.owner"],
        ),
        (
            with_spec("System", json!({"owner": "o", "domain": ""})),
            vec!["spec.domain"],
        ),
        (with_spec("Domain", json!({})), vec!["spec.owner"]),
        (
            with_spec("Group", json!({})),
            vec!["spec.type", "spec.children"],
        ),
        (
            with_spec(
                "Group",
                json!({"type": "t", "children": "x", "profile": {"email": ""}}),
            ),
            vec!["spec.profile.email", "spec.children"],
        ),
        (with_spec("User", json!({})), vec!["spec.memberOf"]),
        (
            with_spec("User", json!({"memberOf": "g"})),
            vec!["spec.memberOf"],
        ),
        (
            with_spec(
                "Location",
                json!({"type": "", "targets": "x", "presence": "maybe"}),
            ),
            vec!["spec.type", "spec.targets", "spec.presence"],
        ),
        (
            json!({"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "t"}, "spec": {}}),
            vec!["spec.type", "spec.steps"],
        ),
        (
            json!({"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "t"},
                "spec": {"type": "x", "parameters": "p", "steps": [{"name": "n"}, 1, {"action": "a", "if": 3}], "output": {"x": 1}}}),
            vec![
                "spec.parameters",
                "spec.steps.0.action",
                "spec.steps.1",
                "spec.steps.2.if",
                "spec.output.x",
            ],
        ),
        (
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Template", "metadata": {"name": "t"}, "spec": {"type": "x", "steps": []}}),
            vec!["apiVersion"],
        ),
    ]
}

#[test]
fn invalid_corpus_reports_each_problem_at_its_path() {
    for (e, want) in invalid_corpus() {
        let got = paths(e.clone());
        assert_eq!(got, want, "{e}");
    }
}

#[test]
fn dump_corpus_for_node() {
    let Ok(path) = std::env::var("DUMP_CORPUS") else {
        return;
    };
    let all = json!({"valid": valid_corpus(), "invalid": invalid_corpus().into_iter().map(|(e, _)| e).collect::<Vec<_>>()});
    std::fs::write(path, all.to_string()).unwrap();
}

#[test]
fn messages_are_specific() {
    let p = check(component(json!({"name": "bad name"}), spec()));
    assert!(
        p[0].message.contains("\"bad name\"") && p[0].message.contains("63"),
        "{}",
        p[0].message
    );
    let p = check(
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "component", "metadata": {"name": "a"}}),
    );
    assert!(p[0].message.contains("\"Component\""), "{}", p[0].message);
    let p = &check(component(
        json!({"name": "a"}),
        json!({"type": 1, "lifecycle": "l", "owner": "o"}),
    ))[0];
    assert_eq!(p.to_string(), "spec.type: must be a string, found a number");
    let p = Problem::new("spec", "is odd");
    assert_eq!(p.to_string(), "spec: is odd");
}

#[test]
fn format_checks() {
    assert!(
        is_valid_object_name("a")
            && is_valid_object_name("a-_.b")
            && is_valid_object_name(&"a".repeat(63))
    );
    assert!(!is_valid_object_name("") && !is_valid_object_name(".a") && !is_valid_object_name("é"));
    assert!(is_valid_dns_label("a--b") && !is_valid_dns_label("a_b") && !is_valid_dns_label("-a"));
    assert!(
        is_valid_dns_subdomain("a.b-c.d")
            && !is_valid_dns_subdomain("a..b")
            && !is_valid_dns_subdomain("")
    );
    assert!(is_valid_api_version("v1") && is_valid_api_version("backstage.io/v1alpha1"));
    assert!(
        !is_valid_api_version("backstage.io/v1-alpha")
            && !is_valid_api_version("/v1")
            && !is_valid_api_version("a/")
    );
    assert!(is_valid_kind("API") && !is_valid_kind("A-B") && !is_valid_kind(&"A".repeat(64)));
    assert!(
        is_valid_tag("a:b+c#-d")
            && !is_valid_tag("-a")
            && !is_valid_tag("a-")
            && !is_valid_tag("a b")
    );
    for ok in [
        "https://x.io",
        "HTTP://x:80/p?q#f",
        " https://x ",
        "mailto:x",
        "urn:isbn:1",
        "file:///etc",
        "https://u:p@h/",
        "ftp://h:65535",
        "http:x",
        "a:",
        "https://%41.com",
    ] {
        assert!(is_valid_url(ok), "{ok}");
    }
    for bad in [
        "",
        "x",
        "/rel/path",
        "://x",
        "1http://x",
        "http://",
        "https://a b",
        "https://h:99999",
        "https://h:8a",
        "http://[::1",
        "https://<x>",
        "http://x y/",
        "https://a%20b",
    ] {
        assert!(!is_valid_url(bad), "{bad}");
    }
}
