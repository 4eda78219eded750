//! The expression engine: Backstage's typed values, Nunjucks filters and statements, the
//! Backstage filters, and the bounds on untrusted templates.

use scaffolder::expr::Engine;
use serde_json::{Value, json};

fn ctx() -> Value {
    json!({
        "parameters": {"name": "My Service", "count": 3, "flag": false, "tags": ["b", "a", "c"],
            "repoUrl": "github.com?owner=acme&repo=payments", "owner": "group:default/team-a",
            "nested": {"deep": {"x": 1}}, "people": [{"n": "z"}, {"n": "y"}]},
        "steps": {"fetch": {"output": {"files": ["a", "b"]}}},
        "secrets": {"token": "s3cret"},
        "user": {"ref": "user:default/jane", "entity": {"metadata": {"name": "jane"}}},
        "context": {"task": {"id": "t-1"}},
    })
}

fn render(src: &str) -> String {
    Engine::new().render_str(src, &ctx()).unwrap()
}

fn value(src: &str) -> Option<Value> {
    Engine::new().render_value(&json!(src), &ctx()).unwrap()
}

#[test]
fn a_single_expression_keeps_its_type() {
    assert_eq!(value("${{ parameters.count }}"), Some(json!(3)));
    assert_eq!(value("${{ parameters.flag }}"), Some(json!(false)));
    assert_eq!(
        value("${{ parameters.tags }}"),
        Some(json!(["b", "a", "c"]))
    );
    assert_eq!(
        value("${{ parameters.nested }}"),
        Some(json!({"deep": {"x": 1}}))
    );
    // Text around it makes a string.
    assert_eq!(value("n=${{ parameters.count }}"), Some(json!("n=3")));
    assert_eq!(
        value("${{ parameters.count }}${{ parameters.count }}"),
        Some(json!("33"))
    );
    // Only undefined is absent (the scaffolder drops the key); empty text stays, as nunjitsu's
    // renderValue keeps it.
    assert_eq!(value("${{ parameters.missing }}"), None);
    assert_eq!(
        value("${{ parameters.missing | default('') }}"),
        Some(json!(""))
    );
    assert_eq!(value(""), Some(json!("")));
}

#[test]
fn context_names() {
    assert_eq!(
        render("${{ steps['fetch'].output.files | join(',') }}"),
        "a,b"
    );
    assert_eq!(render("${{ steps.fetch.output.files[1] }}"), "b");
    assert_eq!(
        render("${{ user.ref }} ${{ user.entity.metadata.name }}"),
        "user:default/jane jane"
    );
    assert_eq!(render("${{ secrets.token }}"), "s3cret");
    assert_eq!(render("${{ context.task.id }}"), "t-1");
    // Nunjucks: a lookup through something missing is empty, not an error.
    assert_eq!(render("[${{ parameters.nope.deeper.still }}]"), "[]");
}

#[test]
fn nunjucks_filters() {
    assert_eq!(render("${{ parameters.name | lower }}"), "my service");
    assert_eq!(render("${{ parameters.name | upper }}"), "MY SERVICE");
    assert_eq!(
        render("${{ parameters.name | replace(' ', '-') | lower }}"),
        "my-service"
    );
    assert_eq!(render("${{ 'a.b.c' | replace('.', '/', 1) }}"), "a/b.c");
    assert_eq!(render("${{ parameters.tags | dump }}"), r#"["b","a","c"]"#);
    assert_eq!(
        render("${{ parameters.nested | dump(2) }}"),
        "{\n  \"deep\": {\n    \"x\": 1\n  }\n}"
    );
    assert_eq!(render("${{ 'x' | dump }}"), "\"x\"");
    assert_eq!(render("${{ parameters.tags | join('-') }}"), "b-a-c");
    assert_eq!(render("${{ parameters.people | join(',', 'n') }}"), "z,y");
    assert_eq!(
        render("${{ parameters.missing | default('dflt') }}"),
        "dflt"
    );
    assert_eq!(render("${{ '' | default('dflt', true) }}"), "dflt");
    assert_eq!(render("${{ '  x  ' | trim }}"), "x");
    assert_eq!(
        render("${{ 'the quick brown fox' | truncate(12) }}"),
        "the quick..."
    );
    assert_eq!(
        render("${{ 'the quick brown fox' | truncate(12, true) }}"),
        "the quick br..."
    );
    assert_eq!(render("${{ 'short' | truncate(12) }}"), "short");
    assert_eq!(render("${{ parameters.tags | sort | join }}"), "abc");
    assert_eq!(render("${{ parameters.tags | sort(true) | join }}"), "cba");
    assert_eq!(
        render("${{ parameters.people | sort(false, false, 'n') | join(',', 'n') }}"),
        "y,z"
    );
    assert_eq!(render("${{ [1, 2, 3, 4, 5] | batch(2) | length }}"), "3");
    assert_eq!(
        render("${{ [0, 1, 2, 3] | select('odd') | join(',') }}"),
        "1,3"
    );
    assert_eq!(
        render("${{ parameters.tags | length }} ${{ parameters.name | length }}"),
        "3 10"
    );
    assert_eq!(
        render("${{ parameters.tags | first }}${{ parameters.tags | last }}"),
        "bc"
    );
    assert_eq!(render("${{ 'abc' | first }}${{ 'abc' | last }}"), "ac");
    assert_eq!(render("${{ 'hello world' | capitalize }}"), "Hello world");
}

#[test]
fn backstage_filters() {
    assert_eq!(
        value("${{ parameters.repoUrl | parseRepoUrl }}"),
        Some(json!({"host": "github.com", "owner": "acme", "repo": "payments"}))
    );
    assert_eq!(
        render("${{ (parameters.repoUrl | parseRepoUrl).owner }}"),
        "acme"
    );
    assert_eq!(
        render("${{ parameters.repoUrl | projectSlug }}"),
        "acme/payments"
    );
    assert_eq!(
        value("${{ parameters.owner | parseEntityRef }}"),
        Some(json!({"kind": "group", "namespace": "default", "name": "team-a"}))
    );
    assert_eq!(
        value(
            "${{ 'team-b' | parseEntityRef({ 'defaultKind': 'group', 'defaultNamespace': 'ops' }) }}"
        ),
        Some(json!({"kind": "group", "namespace": "ops", "name": "team-b"}))
    );
    assert_eq!(render("${{ parameters | pick('nested.deep.x') }}"), "1");
    let err = Engine::new()
        .render_str("${{ 'no-kind' | parseEntityRef }}", &ctx())
        .unwrap_err();
    assert!(err.0.contains("missing or empty kind"), "{}", err.0);
    assert!(
        Engine::new()
            .render_str("${{ '?owner=a' | parseRepoUrl }}", &ctx())
            .is_err()
    );
}

#[test]
fn statements_loops_set_raw_whitespace() {
    assert_eq!(
        render("{% for t in parameters.tags %}${{ loop.index }}${{ t }} {% endfor %}"),
        "1b 2a 3c "
    );
    assert_eq!(render("{% set x = parameters.count + 1 %}${{ x }}"), "4");
    assert_eq!(
        render("{% if parameters.flag %}yes{% else %}no{% endif %}"),
        "no"
    );
    assert_eq!(
        render("{% raw %}${{ not rendered }}{% endraw %}"),
        "${{ not rendered }}"
    );
    assert_eq!(render("a  {%- if true -%}  b  {%- endif -%}  c"), "abc");
    assert_eq!(render("{# a comment #}x"), "x");
    assert_eq!(render("${{ 'a' ~ 'b' }}"), "ab");
    // Plain `{{ }}` is not an expression in Backstage templates (GitHub Actions use it).
    assert_eq!(
        render("run: ${{ '{{' }} github.sha }}"),
        "run: {{ github.sha }}"
    );
    assert_eq!(render("{{ github.sha }}"), "{{ github.sha }}");
    // A template's trailing newline is kept.
    assert_eq!(render("x\n"), "x\n");
}

#[test]
fn each_and_if_context() {
    let engine = Engine::new();
    let mut c = ctx();
    c["each"] = json!({"key": "0", "value": {"name": "svc"}});
    assert_eq!(
        engine
            .render_str("${{ each.key }}:${{ each.value.name }}", &c)
            .unwrap(),
        "0:svc"
    );
    assert!(
        !engine
            .is_truthy(&json!("${{ parameters.flag }}"), &c)
            .unwrap()
    );
    assert!(
        engine
            .is_truthy(&json!("${{ parameters.count > 2 }}"), &c)
            .unwrap()
    );
    assert!(!engine.is_truthy(&json!(false), &c).unwrap());
    assert!(!engine.is_truthy(&json!("${{ [] }}"), &c).unwrap());
}

#[test]
fn a_loop_without_bound_runs_out_of_fuel() {
    let started = std::time::Instant::now();
    let err = Engine::new()
        .render_str(
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            &ctx(),
        )
        .unwrap_err();
    assert!(err.0.contains("fuel"), "{}", err.0);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn output_is_capped() {
    let err = Engine::new()
        .render_str(
            "{% for a in range(1000) %}${{ 'x' * 10000 }}{% endfor %}",
            &ctx(),
        )
        .unwrap_err();
    assert!(err.0.contains("exceeds"), "{}", err.0);
    // namespace() (mutable state across iterations) is not available.
    assert!(
        Engine::new()
            .render_str("{% set ns = namespace(s='a') %}", &ctx())
            .is_err()
    );
}

#[test]
fn syntax_errors_name_the_line() {
    let err = Engine::new()
        .render_str("line one\n${{ parameters.x | nofilter }}", &ctx())
        .unwrap_err();
    assert!(
        err.0.contains("nofilter") && err.0.contains("at line 2"),
        "{}",
        err.0
    );
}

#[tokio::test]
async fn a_cookiecutter_skeleton_renders_with_its_own_delimiters() {
    let out = crate::support::dry_run(
        json!([{"id": "f", "action": "fetch:template", "input": {"url": "./s", "cookiecutterCompat": true,
            "values": {"name": "svc", "tags": ["a", "b"]}}}]),
        &[(
            "s/{{ cookiecutter.name }}/README.md",
            "# {{ cookiecutter.name | upper }}\ntags: {{ cookiecutter.tags | jsonify }}\nkept: ${{ values.name }}\n",
        )],
    )
    .await
    .unwrap();
    let file = &out["directoryContents"][0];
    assert_eq!(file["path"], "svc/README.md");
    let text = String::from_utf8(
        base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            file["base64Content"].as_str().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    // `${{` is plain text to a cookiecutter skeleton except for its `{{ }}` part, as nunjitsu.
    assert_eq!(text, "# SVC\ntags: [\"a\",\"b\"]\nkept: $\n");
}
