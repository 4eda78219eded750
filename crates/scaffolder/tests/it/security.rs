//! Untrusted templates cannot reach outside their workspace or their own directory, and cannot
//! make the server work or allocate without bound: each attempt is refused with a clear error.

use scaffolder::{ScaffolderError, Template};
use serde_json::{Value, json};

use crate::support::{dry_run, template};

/// Runs a template whose file lives in `dir` (so skeletons are read from disk, as for a
/// catalog template), in a fresh workspace.
async fn run_from_dir(dir: &std::path::Path, steps: Value) -> Result<Value, ScaffolderError> {
    let mut t = template(steps);
    t["metadata"]["annotations"] = json!({
        "backstage.io/managed-by-location": format!("file:{}/template.yaml", dir.display())
    });
    let template = Template::from_entity(&t).unwrap();
    crate::support::run_template(&template)
        .await
        .0
        .map(|o| o.output)
        .map_err(|f| f.error)
}

#[tokio::test]
async fn a_rendered_file_name_cannot_climb_out() {
    let err = dry_run(
        json!([{"id": "a", "action": "fetch:template", "input": {"url": "./s", "values": {"n": "../../escaped"}}}]),
        &[("s/${{ values.n }}.txt", "x")],
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.status(), err.name()),
        (403, "NotAllowedError"),
        "{err}"
    );
}

#[tokio::test]
async fn directory_contents_cannot_climb_out() {
    let err = dry_run(json!([]), &[("../../x.txt", "x")])
        .await
        .unwrap_err();
    assert_eq!(err.name(), "NotAllowedError");
}

#[tokio::test]
async fn fs_actions_stay_in_the_workspace() {
    for step in [
        json!({"id": "a", "action": "fs:delete", "input": {"files": ["../*"]}}),
        json!({"id": "a", "action": "fs:rename", "input": {"files": [{"from": "/etc/hostname", "to": "x"}]}}),
        json!({"id": "a", "action": "fs:readdir", "input": {"paths": ["/"]}}),
        json!({"id": "a", "action": "catalog:write", "input": {"filePath": "../c.yaml", "entity": {}}}),
        json!({"id": "a", "action": "fetch:template:file", "input": {"url": "./f", "targetPath": "../../f"}}),
    ] {
        let err = dry_run(json!([step.clone()]), &[("f", "x")])
            .await
            .unwrap_err();
        assert_eq!(err.name(), "NotAllowedError", "{step}: {err}");
    }
}

#[tokio::test]
async fn a_template_cannot_read_outside_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("skeleton")).unwrap();
    for url in ["../", "/etc", "./skeleton/../../"] {
        let err = run_from_dir(
            dir.path(),
            json!([{"id": "a", "action": "fetch:plain", "input": {"url": url}}]),
        )
        .await
        .unwrap_err();
        assert_eq!(err.name(), "NotAllowedError", "{url}: {err}");
    }
    let err = run_from_dir(
        dir.path(),
        json!([{"id": "a", "action": "fetch:plain", "input": {"url": "https://evil.example/x"}}]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "InputError");
}

#[tokio::test]
async fn a_symlink_in_a_skeleton_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let skel = dir.path().join("skeleton");
    std::fs::create_dir(&skel).unwrap();
    std::fs::write(skel.join("ok.txt"), "fine").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", skel.join("passwd")).unwrap();
    for action in ["fetch:template", "fetch:plain"] {
        let err = run_from_dir(
            dir.path(),
            json!([{"id": "a", "action": action, "input": {"url": "./skeleton"}}]),
        )
        .await
        .unwrap_err();
        assert_eq!(err.name(), "NotAllowedError", "{action}");
        assert!(err.to_string().contains("passwd"), "{err}");
    }
    // And a skeleton that is itself a link out of the template's directory.
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
    let err = run_from_dir(
        dir.path(),
        json!([{"id": "a", "action": "fetch:template", "input": {"url": "./out"}}]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "NotAllowedError");
}

#[tokio::test]
async fn a_huge_skeleton_is_refused_before_it_is_copied() {
    let dir = tempfile::tempdir().unwrap();
    let skel = dir.path().join("skeleton");
    std::fs::create_dir(&skel).unwrap();
    // 100 MB, sparse: cheap to make, but its size is what counts.
    let f = std::fs::File::create(skel.join("big.bin")).unwrap();
    f.set_len(100 * 1024 * 1024).unwrap();
    let started = std::time::Instant::now();
    let err = run_from_dir(
        dir.path(),
        json!([{"id": "a", "action": "fetch:template", "input": {"url": "./skeleton"}}]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "InputError");
    assert!(err.to_string().contains("larger than"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[tokio::test]
async fn a_runaway_expression_in_a_skeleton_fails_the_step() {
    let started = std::time::Instant::now();
    let err = dry_run(
        json!([{"id": "a", "action": "fetch:template", "input": {"url": "./s"}}]),
        &[("s/a.txt", "{% for i in range(100000) %}{% for j in range(100000) %}${{ j }}{% endfor %}{% endfor %}")],
    )
    .await
    .unwrap_err();
    assert_eq!((err.status(), err.name()), (500, "TemplateRenderError"));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn huge_directory_contents_are_refused() {
    let big = "x".repeat(scaffolder::dryrun::MAX_BYTES + 1);
    let err = dry_run(json!([]), &[("a", &big)]).await.unwrap_err();
    assert_eq!(err.name(), "InputError");
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test]
async fn a_dry_run_cannot_write_without_bound() {
    // 1,000 copies of an 8 MiB file would be 8 GiB of the server's memory.
    let big = "x".repeat(8 * 1024 * 1024);
    let steps = json!([{"id": "copy", "action": "fetch:plain:file",
        "each": "${{ range(0, 1000) }}",
        "input": {"url": "./big.txt", "targetPath": "copies/${{ each.value }}.txt"}}]);
    let err = dry_run(steps, &[("big.txt", &big)]).await.unwrap_err();
    assert!(err.to_string().contains("at most 256 MiB"), "{err}");
}
