//! The scaffolder API over real HTTP on both databases: parameter schemas and task events
//! compared with answers recorded from Backstage's scaffolder 4.2.0
//! (`crates/scaffolder/tests/fixtures`), a task from form values to a registered entity that
//! carries its template and version, listing, events after an id, the event stream, cancel and
//! retry, and the error codes (400 values, 404 template/task, dry-run envelopes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::settings::{CatalogSettings, LocationSpec};
use serde_json::{Value, json};
use store::testing::TestDb;

use crate::common;

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scaffolder/tests/fixtures")
}

const SERVICE_TEMPLATE: &str = r#"
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: local-service
  title: Local service
  annotations:
    stagedoor.dev/template-version: "1.2.0"
spec:
  type: service
  parameters:
    - title: Service
      required: [name, owner]
      properties:
        name: {type: string, pattern: "^[a-z][a-z0-9-]*$"}
        owner: {type: string}
  steps:
    - id: fetch
      name: Render
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - id: write
      action: catalog:write
      input:
        entity:
          apiVersion: backstage.io/v1alpha1
          kind: Component
          metadata:
            name: ${{ parameters.name }}
          spec:
            type: service
            lifecycle: experimental
            owner: ${{ parameters.owner }}
    - id: publish
      action: publish:file
      input:
        path: ${{ parameters.name }}
    - id: register
      action: catalog:register
      input:
        repoContentsUrl: ${{ steps.publish.output.repoContentsUrl }}
        catalogInfoPath: /catalog-info.yaml
  output:
    links:
      - title: Open in catalog
        entityRef: ${{ steps.register.output.entityRef }}
"#;

struct Env {
    base: String,
    catalog: Arc<catalog::Catalog>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    published: std::path::PathBuf,
}

async fn start(db: &TestDb) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let tdir = dir.path().join("local-service");
    std::fs::create_dir_all(tdir.join("skeleton")).unwrap();
    std::fs::write(tdir.join("template.yaml"), SERVICE_TEMPLATE).unwrap();
    std::fs::write(tdir.join("skeleton/README.md"), "# ${{ values.name }}\n").unwrap();
    std::fs::copy(
        fixtures().join("templates.yaml"),
        dir.path().join("oracle.yaml"),
    )
    .unwrap();
    let settings = CatalogSettings {
        locations: ["local-service/template.yaml", "oracle.yaml"]
            .iter()
            .map(|f| {
                (
                    LocationSpec::new("file", &dir.path().join(f).to_string_lossy()),
                    vec![],
                )
            })
            .collect(),
        watch_interval: Duration::from_millis(200),
        ..Default::default()
    };
    let (base, catalog) = common::serve(settings, db).await;
    let published = dir.path().join("published");
    scaffolder::Scaffolder::of(&catalog).configure(scaffolder::Settings {
        work_dir: dir.path().join("work"),
        publish_root: Some(published.clone()),
        ..Default::default()
    });
    catalog.settle().await.unwrap();
    Env {
        base: format!("{base}/api/scaffolder/v2"),
        catalog,
        http: reqwest::Client::new(),
        _dir: dir,
        published,
    }
}

impl Env {
    async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }
    async fn wait_for(&self, id: &str, statuses: &[&str]) -> Value {
        let started = Instant::now();
        loop {
            let (_, task) = self.get(&format!("/tasks/{id}")).await;
            if statuses.contains(&task["status"].as_str().unwrap_or("")) {
                return task;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "task stuck: {task}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Event bodies and types, without ids, task ids and times.
fn normalized(events: &Value) -> Vec<Value> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!({"type": e["type"], "body": e["body"], "isTaskRecoverable": e["isTaskRecoverable"]}))
        .collect()
}

async fn parameter_schemas_match_backstage(db: TestDb) {
    let env = start(&db).await;
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("parameter-schema.expected.json")).unwrap(),
    )
    .unwrap();
    for name in ["paged", "single", "nope"] {
        let (status, body) = env
            .get(&format!(
                "/templates/default/template/{name}/parameter-schema"
            ))
            .await;
        let want = &expected[name];
        assert_eq!(status, want[0].as_u64().unwrap() as u16, "{name}");
        if status == 200 {
            assert_eq!(body, want[1], "{name}");
        } else {
            assert_eq!(body["error"], want[1]["error"], "{name}");
            assert_eq!(body["response"], want[1]["response"], "{name}");
        }
    }
    let (status, actions) = env.get("/actions").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    for id in [
        "fetch:template",
        "fetch:plain",
        "fs:rename",
        "catalog:register",
        "publish:file",
        "debug:log",
    ] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    assert_eq!(
        actions[0]["schema"]["input"]["$schema"],
        "http://json-schema.org/draft-07/schema#"
    );
}

async fn a_task_runs_like_backstage_and_registers_its_entity(db: TestDb) {
    let env = start(&db).await;
    // The oracle's `single` template: same events as Backstage recorded.
    let (status, created) = env
        .post(
            "/tasks",
            &json!({"templateRef": "template:default/single", "values": {"x": "hello"}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let task = env.wait_for(&id, &["completed", "failed"]).await;
    let recorded: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("task.single.expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(task["status"], "completed");
    assert_eq!(task["spec"]["steps"], recorded["spec"]["steps"]);
    assert_eq!(task["spec"]["parameters"], recorded["spec"]["parameters"]);
    assert_eq!(
        task["spec"]["templateInfo"]["entityRef"],
        recorded["spec"]["templateInfo"]["entityRef"]
    );
    let (_, events) = env.get(&format!("/tasks/{id}/events")).await;
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("task-events.single.expected.json")).unwrap(),
    )
    .unwrap();
    // The recording goes on with a retry (Backstage retries a completed task too, dropping
    // its completion): the first run is what precedes the `recovered` event, and the last
    // event.
    let want = normalized(&want);
    let recovered = want.iter().position(|e| e["type"] == "recovered").unwrap();
    let mut first_run = want[..recovered].to_vec();
    first_run.push(want.last().unwrap().clone());
    assert_eq!(normalized(&events), first_run);
    let ids: Vec<i64> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>());
    let (_, later) = env.get(&format!("/tasks/{id}/events?after=3")).await;
    assert_eq!(later.as_array().unwrap().len(), ids.len() - 3);
    assert_eq!(later[0]["id"], 4);
    // Retried, the whole sequence is Backstage's.
    let (status, _) = env.post(&format!("/tasks/{id}/retry"), &json!({})).await;
    assert_eq!(status, 201);
    env.wait_for(&id, &["completed", "failed"]).await;
    let mut events = env.get(&format!("/tasks/{id}/events")).await.1;
    for _ in 0..100 {
        if events.as_array().unwrap().last().unwrap()["type"] == "completion" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        events = env.get(&format!("/tasks/{id}/events")).await.1;
    }
    assert_eq!(normalized(&events), want);

    // A template that renders, writes, publishes and registers a new component.
    let started = Instant::now();
    let (status, created) = env
        .post(
            "/tasks",
            &json!({"templateRef": "template:default/local-service",
                    "values": {"name": "returns", "owner": "group:default/team-a"}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let task = env.wait_for(&id, &["completed", "failed"]).await;
    let elapsed = started.elapsed();
    assert_eq!(task["status"], "completed", "{task}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let readme = std::fs::read_to_string(env.published.join("returns/README.md")).unwrap();
    assert_eq!(readme, "# returns\n");
    let entity = env
        .catalog
        .snapshot()
        .entity("component:default/returns")
        .expect("registered");
    assert_eq!(
        entity.annotation("backstage.io/source-template"),
        Some("template:default/local-service")
    );
    assert_eq!(
        entity.annotation("stagedoor.dev/template-version"),
        Some("1.2.0")
    );
    let (_, events) = env.get(&format!("/tasks/{id}/events")).await;
    let completion = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(completion["type"], "completion");
    assert_eq!(
        completion["body"]["output"]["links"][0]["entityRef"],
        "component:default/returns"
    );

    // The event stream of a finished task replays its events and ends with the completion.
    let text = common::get_text(&env.http, format!("{}/tasks/{id}/eventstream", env.base)).await;
    assert!(text.starts_with("event: log\ndata: {"), "{text}");
    assert!(
        text.trim_end().ends_with('}') && text.contains("event: completion"),
        "{text}"
    );

    // Listing: newest first, with the total.
    let (status, list) = env.get("/tasks?limit=1").await;
    assert_eq!(status, 200);
    assert_eq!(list["totalTasks"], 2);
    assert_eq!(list["tasks"][0]["id"], id);
    assert_eq!(list["tasks"].as_array().unwrap().len(), 1);
    let (_, done) = env.get("/tasks?status=completed").await;
    assert_eq!(done["totalTasks"], 2);

    // Publishing the same name again fails the task, and the catalog is unchanged.
    let (_, created) = env
        .post(
            "/tasks",
            &json!({"templateRef": "template:default/local-service",
                    "values": {"name": "returns", "owner": "group:default/team-a"}}),
        )
        .await;
    let task = env
        .wait_for(created["id"].as_str().unwrap(), &["completed", "failed"])
        .await;
    assert_eq!(task["status"], "failed");
    let (_, events) = env
        .get(&format!(
            "/tasks/{}/events",
            created["id"].as_str().unwrap()
        ))
        .await;
    let events = events.as_array().unwrap();
    assert!(
        events.iter().any(
            |e| e["body"]["message"] == "Skipping step register because a previous step failed"
        )
    );
    assert_eq!(
        events.last().unwrap()["body"]["error"]["name"],
        "ConflictError"
    );
}

async fn task_errors_answer_as_backstage_does(db: TestDb) {
    let env = start(&db).await;
    let (status, body) = env
        .post(
            "/tasks",
            &json!({"templateRef": "template:default/single", "values": {}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["stack"],
        "instance requires property \"x\""
    );
    let (status, body) = env
        .post(
            "/tasks",
            &json!({"templateRef": "template:default/nope", "values": {}}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"]["message"],
        "Template template:default/nope not found"
    );
    let (status, body) = env.get("/tasks/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["message"], "No task with id 'nope' found");
    assert_eq!(body["request"]["url"], "/v2/tasks/nope");
    let (status, body) = env.get("/tasks/nope/events?after=x").await;
    assert_eq!(
        (status, body["error"]["name"].as_str()),
        (400, Some("InputError"))
    );
    // A dry-run over HTTP: an escape is 403 in Backstage's envelope.
    let (status, body) = env
        .post(
            "/dry-run",
            &json!({"template": {"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
                "metadata": {"name": "x"}, "spec": {"steps": [{"id": "a", "action": "fetch:plain",
                "input": {"url": "./s", "targetPath": "../x"}}]}},
                "values": {}, "directoryContents": [{"path": "s/a", "base64Content": "eA=="}]}),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["name"], "NotAllowedError");
    assert_eq!(
        body["request"],
        json!({"method": "POST", "url": "/v2/dry-run"})
    );
}

async fn a_task_is_cancelled_and_retried(db: TestDb) {
    let env = start(&db).await;
    let (status, created) = env
        .post(
            "/tasks",
            &json!({"templateRef": "template:default/slow", "values": {}}),
        )
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    env.wait_for(&id, &["processing"]).await;
    // Cancel once the first step runs (a task can be processing before its first step starts,
    // and then that step is the one skipped).
    let started = Instant::now();
    loop {
        let (_, events) = env.get(&format!("/tasks/{id}/events")).await;
        if events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["body"]["stepId"] == "wait" && e["body"]["status"] == "processing")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "step never started: {events}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, body) = env.post(&format!("/tasks/{id}/cancel"), &json!({})).await;
    assert_eq!((status, body), (200, json!({"status": "cancelled"})));
    let task = env
        .wait_for(&id, &["cancelled", "failed", "completed"])
        .await;
    assert_eq!(task["status"], "cancelled");
    let (_, events) = env.get(&format!("/tasks/{id}/events")).await;
    let n = events.as_array().unwrap().len();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["body"]["message"] == "Skipping step log because the task was cancelled"),
        "{events}"
    );
    // A finished task runs again under its id; retrying it while it runs is refused.
    let (status, created) = env.post(&format!("/tasks/{id}/retry"), &json!({})).await;
    assert_eq!((status, &created["id"]), (201, &json!(id)));
    let (status, body) = env.post(&format!("/tasks/{id}/retry"), &json!({})).await;
    assert_eq!(
        (status, body["error"]["name"].as_str()),
        (409, Some("ConflictError"))
    );
    let task = env.wait_for(&id, &["completed", "failed"]).await;
    assert_eq!(task["status"], "completed");
    let (_, events) = env.get(&format!("/tasks/{id}/events?after={n}")).await;
    assert_eq!(events[0]["type"], "recovered");
    assert_eq!(events[0]["body"], json!({"recoverStrategy": "none"}));
    assert_eq!(events[0]["id"], n as i64 + 1);
    assert_eq!(
        events.as_array().unwrap().last().unwrap()["type"],
        "completion"
    );
}

/// The demo's two runnable templates, served from `crates/stagedoor/demo`, commit working
/// repositories with `publish:git` under a discovery source, and discovery catalogs them at once
/// (the hook the binary installs): the Rust service, cloned with `git`, compiles.
async fn the_demo_templates_create_working_repositories(db: TestDb) {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../stagedoor/demo");
    let dir = tempfile::tempdir().unwrap();
    let settings = CatalogSettings {
        locations: [
            "templates/local-rust-service/template.yaml",
            "templates/docs-site/template.yaml",
            "org/groups.yaml",
        ]
        .iter()
        .map(|f| {
            (
                LocationSpec::new(
                    "file",
                    &demo.join(f).canonicalize().unwrap().to_string_lossy(),
                ),
                vec![],
            )
        })
        .collect(),
        ..Default::default()
    };
    let (base, catalog) = common::serve(settings, &db).await;
    let repos = dir.path().join("repos");
    std::fs::create_dir_all(&repos).unwrap();
    scaffolder::Scaffolder::of(&catalog).configure(scaffolder::Settings {
        work_dir: dir.path().join("work"),
        ..Default::default()
    });
    let publishing = scaffolder::publishing::Publishing::of(&catalog);
    publishing.configure(scaffolder::publishing::PublishSettings {
        git_root: Some(repos.clone()),
        ..Default::default()
    });
    discovery::State::of(&catalog).configure(discovery::Settings {
        sources: vec![repos.clone()],
        hosts: vec![],
        interval: Duration::from_secs(3600),
        mirror: dir.path().join("mirror"),
        limits: discovery::Limits::default(),
    });
    // As `stagedoor serve` wires it (publish_setup::discovery_hook).
    let weak = Arc::downgrade(&catalog);
    publishing.after_git_publish(Arc::new(move |repo| {
        let weak = weak.clone();
        Box::pin(async move {
            let catalog = weak.upgrade().ok_or("stopped")?;
            discovery::scan_new_repository(&catalog, &repo).await
        })
    }));
    catalog.settle().await.unwrap();
    let env = Env {
        base: format!("{base}/api/scaffolder/v2"),
        catalog,
        http: reqwest::Client::new(),
        _dir: dir,
        published: repos.clone(),
    };
    let owner = env
        .catalog
        .snapshot()
        .entities(None)
        .find(|e| e.kind() == "Group")
        .map(|e| e.entity_ref().to_owned())
        .unwrap();
    let (status, created) = env
        .post(
            "/tasks",
            &json!({"templateRef": "template:default/local-rust-service",
            "values": {"name": "returns-service", "owner": owner, "port": 8099,
                       "description": "Takes returns.", "lifecycle": "experimental"}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let task = env
        .wait_for(created["id"].as_str().unwrap(), &["completed", "failed"])
        .await;
    assert_eq!(task["status"], "completed", "{task}");
    let bare = repos.join("ridgeline/returns-service.git");
    let clone = env.published.join("returns-clone");
    discovery::testing::git(
        &repos,
        &[
            "clone",
            "-q",
            bare.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    assert_eq!(
        discovery::testing::git(&clone, &["log", "--format=%an|%s"]).trim(),
        "Scaffolder|Create returns-service from the local-rust-service template"
    );
    let main_rs = std::fs::read_to_string(clone.join("src/main.rs")).unwrap();
    assert!(main_rs.contains(".unwrap_or(8099)"), "{main_rs}");
    let out = std::process::Command::new("rustc")
        .args(["--edition", "2021", "--crate-type", "bin", "-o"])
        .arg(clone.with_file_name("service-bin"))
        .arg(clone.join("src/main.rs"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entity = env
        .catalog
        .snapshot()
        .entity("component:default/returns-service");
    let entity = entity.unwrap_or_else(|| panic!("not cataloged by discovery: {task}"));
    assert_eq!(entity.owner(), Some(owner.as_str()));
    assert_eq!(
        entity.annotation("stagedoor.dev/template-version"),
        Some("1.0.0")
    );
    // Discovered once, cataloged once: its repository is in the inventory as cataloged.
    let inventory = discovery::State::of(&env.catalog).inventory().unwrap();
    let found = inventory
        .repositories
        .iter()
        .find(|r| r.name == "returns-service")
        .expect("discovered");
    assert!(found.is_cataloged() && found.bare && found.default_branch == "main");
    // Its docs are mirrored beside its catalog file, where the docs builder looks for them.
    let location = env
        .catalog
        .locations()
        .await
        .into_iter()
        .find(|l| l.target.contains("returns-service"))
        .expect("its catalog file is a location");
    let site = std::path::Path::new(&location.target).parent().unwrap();
    assert!(
        site.join("mkdocs.yml").is_file() && site.join("docs/index.md").is_file(),
        "docs mirrored under {}",
        site.display()
    );
    assert!(
        inventory.register_errors.is_empty(),
        "{:?}",
        inventory.register_errors
    );

    let (status, created) = env
        .post(
            "/tasks",
            &json!({"templateRef": "template:default/docs-site",
            "values": {"name": "handbook", "title": "Engineering handbook", "owner": owner,
                       "repoUrl": "local?owner=handbooks&repo=handbook",
                       "sections": ["Getting started", "On call"]}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let task = env
        .wait_for(created["id"].as_str().unwrap(), &["completed", "failed"])
        .await;
    assert_eq!(task["status"], "completed", "{task}");
    let bare = repos.join("handbooks/handbook.git");
    assert_eq!(
        discovery::testing::git(&bare, &["show", "main:mkdocs.yml"]),
        "site_name: Engineering handbook\nnav:\n  - Home: index.md\n  - Getting started: getting-started.md\n  - On call: on-call.md\n"
    );
    assert!(
        discovery::testing::git(&bare, &["show", "main:docs/on-call.md"])
            .starts_with("# On call\n")
    );
    assert!(
        env.catalog
            .snapshot()
            .entity("component:default/handbook")
            .is_some()
    );
}

store::on_each_database!(
    the_demo_templates_create_working_repositories,
    parameter_schemas_match_backstage,
    a_task_runs_like_backstage_and_registers_its_entity,
    task_errors_answer_as_backstage_does,
    a_task_is_cancelled_and_retried,
);
