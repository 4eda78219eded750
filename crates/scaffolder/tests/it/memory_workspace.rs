//! A dry-run keeps its template files and workspace in memory: it creates nothing on disk, it
//! refuses the same escapes, and every file action leaves the same files, outputs and log lines
//! as the same template run as a task in a workspace on disk.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use scaffolder::files::Files;
use scaffolder::runner::RunUser;
use scaffolder::{ScaffolderError, Template};
use serde_json::{Value, json};

use crate::support::template;

/// The template's files: a skeleton with a rendered name, a script, a nested directory, a
/// binary file and a file for the `:file` actions.
const FILES: &[(&str, &str, bool)] = &[
    (
        "skeleton/${{ values.name }}.md",
        "# ${{ values.name }}\n",
        false,
    ),
    (
        "skeleton/bin/run.sh",
        "#!/bin/sh\necho ${{ values.name }}\n",
        true,
    ),
    (
        "skeleton/docs/a/deep.txt",
        "deep ${{ values.name }}\n",
        false,
    ),
    ("skeleton/docs/a-b.txt", "a-b\n", false),
    ("skeleton/tmp/scratch.txt", "scratch\n", false),
    ("plain/raw.txt", "${{ not rendered }}\n", false),
    ("plain/sub/x.bin", "\u{0}\u{1}binary", false),
    ("one.txt", "one ${{ values.name }}\n", true),
];

/// Steps that use every file action: fetch (all four), fs:rename of a file and a directory,
/// fs:delete with a glob, fs:readdir, debug:log listing the workspace, catalog:write.
fn steps() -> Value {
    json!([
        {"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton", "values": {"name": "svc"}}},
        {"id": "plain", "action": "fetch:plain", "input": {"url": "./plain", "targetPath": "vendor"}},
        {"id": "one", "action": "fetch:template:file", "input": {"url": "./one.txt", "targetPath": "conf/one.txt", "values": {"name": "svc"}}},
        {"id": "copy", "action": "fetch:plain:file", "input": {"url": "./one.txt", "targetPath": "raw/one.txt"}},
        {"id": "mv", "action": "fs:rename", "input": {"files": [
            {"from": "svc.md", "to": "README.md"},
            {"from": "docs/a", "to": "guide/a"},
            {"from": "conf/one.txt", "to": "vendor/raw.txt", "overwrite": true}
        ]}},
        {"id": "rm", "action": "fs:delete", "input": {"files": ["tmp", "**/*.bin"]}},
        {"id": "ls", "action": "fs:readdir", "input": {"paths": [".", "guide"], "recursive": true}},
        {"id": "log", "action": "debug:log", "input": {"listWorkspace": "with-contents"}},
        {"id": "cat", "action": "catalog:write", "input": {"filePath": "meta/catalog-info.yaml", "entity": {"kind": "Component", "metadata": {"name": "svc"}}}}
    ])
}

/// What a run left: its files, the template's output (`fs:readdir`'s lists, with `fullPath`
/// checked to end in `path` and then dropped, as the roots differ), and `debug:log`'s listing.
#[derive(Debug, PartialEq)]
struct Effects {
    files: Vec<Value>,
    output: Value,
    listing: Vec<String>,
}

fn result(files: Vec<Value>, mut output: Value, log: &[Value]) -> Effects {
    for list in ["files", "folders"] {
        for item in output[list].as_array_mut().unwrap() {
            let full = item["fullPath"].as_str().unwrap().to_owned();
            assert!(
                full.ends_with(&format!("/{}", item["path"].as_str().unwrap())),
                "{item}"
            );
            item.as_object_mut().unwrap().remove("fullPath");
        }
    }
    let listing = log
        .iter()
        .filter_map(|b| b["message"].as_str())
        .filter(|m| m.contains("Workspace:"))
        .map(str::to_owned)
        .collect();
    Effects {
        files,
        output,
        listing,
    }
}

fn with_steps(steps: Value) -> Value {
    let mut t = template(steps);
    t["spec"]["output"] = json!({
        "files": "${{ steps.ls.output.files }}",
        "folders": "${{ steps.ls.output.folders }}"
    });
    t
}

async fn in_memory(steps: Value, work_root: &std::path::Path) -> Result<Value, ScaffolderError> {
    let request = json!({
        "template": with_steps(steps),
        "values": {},
        "directoryContents": FILES.iter().map(|(p, c, x)| json!({"path": p, "executable": x, "base64Content": B64.encode(c)})).collect::<Vec<_>>(),
    });
    scaffolder::dryrun::dry_run(
        scaffolder::engine(),
        serde_json::from_value(request).unwrap(),
        &RunUser::default(),
        work_root,
        &Default::default(),
    )
    .await
}

async fn on_disk(steps: Value) -> Effects {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents, executable) in FILES {
        let p = dir.path().join("template").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = if *executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let mut t = with_steps(steps);
    t["metadata"]["annotations"] = json!({
        "backstage.io/managed-by-location": format!("file:{}/template/template.yaml", dir.path().display())
    });
    let mut template = Template::from_entity(&t).unwrap();
    // Named as the dry-run names its inline template, for catalog:write's annotation.
    template.entity_ref = "template:default/dry-run".into();
    std::fs::create_dir(dir.path().join("ws")).unwrap();
    let workspace = Files::disk(dir.path().join("ws"));
    let (outcome, log) = crate::support::run_template_in(&template, &workspace).await;
    let outcome = outcome.map_err(|f| f.error).unwrap();
    let files = scaffolder::dryrun::read_tree(&workspace).unwrap();
    result(files, outcome.output, &log.events)
}

#[tokio::test]
async fn every_file_action_leaves_the_same_files_in_memory_as_on_disk() {
    let work = tempfile::tempdir().unwrap();
    let body = in_memory(steps(), work.path()).await.unwrap();
    let log: Vec<Value> = body["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["body"].clone())
        .collect();
    let memory = result(
        body["directoryContents"].as_array().unwrap().clone(),
        body["output"].clone(),
        &log,
    );
    let disk = on_disk(steps()).await;
    assert_eq!(memory, disk);
    // And what that is, so both cannot agree on doing nothing.
    let paths: Vec<&str> = memory
        .files
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "README.md",
            "bin/run.sh",
            "docs/a-b.txt",
            "guide/a/deep.txt",
            "meta/catalog-info.yaml",
            "raw/one.txt",
            "vendor/raw.txt"
        ]
    );
    let script = &memory.files[1];
    assert_eq!(script["executable"], true);
    assert_eq!(
        memory.files[5]["executable"], true,
        "fetch:plain:file keeps the mode"
    );
    assert_eq!(memory.listing.len(), 1);
    assert!(
        memory.listing[0].contains("guide/a/deep.txt:\n\ndeep svc"),
        "{:?}",
        memory.listing
    );
    // `.` lists the workspace, then `guide` again: the readdir answer has both.
    assert_eq!(
        memory.output["folders"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"] == "guide/a")
            .count(),
        2
    );
}

#[tokio::test]
async fn a_dry_run_creates_nothing_under_its_work_root() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    in_memory(steps(), &work).await.unwrap();
    assert!(!work.exists(), "the dry-run made {}", work.display());
    // A failed one neither.
    let err = in_memory(
        json!([{"id": "a", "action": "fetch:template", "input": {"url": "./skeleton", "targetPath": "../out"}}]),
        &work,
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "NotAllowedError");
    assert!(!work.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn escapes_are_refused_in_memory_with_backstages_error() {
    let work = tempfile::tempdir().unwrap();
    for steps in [
        json!([{"id": "a", "action": "fetch:template", "input": {"url": "./skeleton", "values": {"name": "../../x"}}}]),
        json!([{"id": "a", "action": "fetch:template", "input": {"url": "./skeleton", "targetPath": "../x"}}]),
        json!([{"id": "a", "action": "fetch:template", "input": {"url": "./skeleton", "targetPath": "/etc"}}]),
        json!([{"id": "a", "action": "fetch:plain", "input": {"url": "../", "targetPath": "x"}}]),
        json!([{"id": "a", "action": "fetch:plain:file", "input": {"url": "./one.txt", "targetPath": "a/../../x"}}]),
        json!([{"id": "a", "action": "fs:rename", "input": {"files": [{"from": "x", "to": "../y"}]}}]),
    ] {
        let err = in_memory(steps.clone(), work.path()).await.unwrap_err();
        assert_eq!(
            (err.status(), err.name(), err.to_string().as_str()),
            (
                403,
                "NotAllowedError",
                "Relative path is not allowed to refer to a directory outside its parent"
            ),
            "{steps}"
        );
    }
    // A rendered name may climb inside its target, as long as it stays in it.
    let body = in_memory(
        json!([{"id": "a", "action": "fetch:template", "input": {"url": "./skeleton", "targetPath": "t", "values": {"name": "sub/../top"}}}]),
        work.path(),
    )
    .await
    .unwrap();
    assert!(
        body["directoryContents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "t/top.md")
    );
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
}
