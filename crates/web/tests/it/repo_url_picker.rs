//! The RepoUrlPicker over real HTTP without JavaScript, on both databases: the host select
//! offers only hosts this server can publish to (narrowed by `allowedHosts`), owners come from
//! `allowedOwners`, each wrong part gets its message at the field, the review shows Backstage's
//! `host?owner=o&repo=r`, and the task it creates commits a real repository with `publish:git`.

use std::time::{Duration, Instant};

use catalog::settings::{CatalogSettings, LocationSpec};
use store::testing::TestDb;

use crate::common;

const CATALOG: &str = r#"
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: repo
  title: A repository
spec:
  owner: team-a
  type: service
  parameters:
    - title: Where
      required: [repoUrl]
      properties:
        repoUrl:
          title: Repository location
          type: string
          ui:field: RepoUrlPicker
          ui:options:
            allowedHosts: [local, git.example.org]
            allowedOwners: [acme, tools]
  steps:
    - id: readme
      action: fetch:template
      input:
        url: ./skeleton
    - id: publish
      action: publish:git
      input:
        repoUrl: ${{ parameters.repoUrl }}
  output:
    links:
      - title: Repository
        url: ${{ steps.publish.output.remoteUrl }}
"#;

async fn the_picker_posts_backstage_repo_urls(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("catalog.yaml"), CATALOG).unwrap();
    std::fs::create_dir_all(dir.path().join("skeleton")).unwrap();
    std::fs::write(dir.path().join("skeleton/README.md"), "# made\n").unwrap();
    let settings = CatalogSettings {
        locations: vec![(
            LocationSpec::new("file", &dir.path().join("catalog.yaml").to_string_lossy()),
            vec![],
        )],
        ..Default::default()
    };
    let (base, catalog) = common::serve(settings, &db).await;
    scaffolder::Scaffolder::of(&catalog).configure(scaffolder::Settings {
        work_dir: dir.path().join("work"),
        ..Default::default()
    });
    let root = dir.path().join("git");
    scaffolder::publishing::Publishing::of(&catalog).configure(
        scaffolder::publishing::PublishSettings {
            git_root: Some(root.clone()),
            ..Default::default()
        },
    );
    catalog.settle().await.unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form_url = format!("{base}/create/templates/default/repo");
    let post = |form: Vec<(&'static str, &'static str)>| {
        let http = http.clone();
        let url = form_url.clone();
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        async move {
            let r = http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let location = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            (r.status().as_u16(), location, r.text().await.unwrap())
        }
    };

    let html = http
        .get(&form_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<select id="p.repoUrl.host" name="p.repoUrl.host">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="local" selected>local</option>"#),
        "{html}"
    );
    // No integration for git.example.org here: not offered.
    assert!(
        !html.contains(r#"<option value="git.example.org""#),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="acme" selected>acme</option>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="tools">tools</option>"#),
        "{html}"
    );
    assert!(html.contains(r#"name="p.repoUrl.repo" value="""#), "{html}");

    let cases: [(Vec<(&str, &str)>, &str); 4] = [
        (
            vec![
                ("p.repoUrl.host", "local"),
                ("p.repoUrl.owner", "acme"),
                ("p.repoUrl.repo", ""),
            ],
            "Repository location needs a repository name",
        ),
        (
            vec![
                ("p.repoUrl.host", "local"),
                ("p.repoUrl.owner", "evil"),
                ("p.repoUrl.repo", "x"),
            ],
            "Repository location owner must be one of: acme, tools",
        ),
        (
            vec![
                ("p.repoUrl.host", "git.example.org"),
                ("p.repoUrl.owner", "acme"),
                ("p.repoUrl.repo", "x"),
            ],
            "Repository location host must be one of: local",
        ),
        (vec![], "Repository location is required"),
    ];
    for (mut form, message) in cases {
        form.push(("stage", "review"));
        let (status, _, html) = post(form.clone()).await;
        assert_eq!(status, 400, "{form:?}");
        assert!(html.contains(message), "{message}: {html}");
    }
    let bad_name = vec![
        ("p.repoUrl.host", "local"),
        ("p.repoUrl.owner", "acme"),
        ("p.repoUrl.repo", "../x"),
        ("stage", "review"),
    ];
    let (status, _, html) = post(bad_name).await;
    assert_eq!(status, 400);
    assert!(html.contains("Invalid repository name"), "{html}");
    // The posted parts are kept in the form.
    assert!(
        html.contains(r#"name="p.repoUrl.repo" value="../x""#),
        "{html}"
    );

    let good = vec![
        ("p.repoUrl.host", "local"),
        ("p.repoUrl.owner", "tools"),
        ("p.repoUrl.repo", "made-here"),
    ];
    let mut review = good.clone();
    review.push(("stage", "review"));
    let (status, _, html) = post(review).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("local?owner=tools&#38;repo=made-here"),
        "{html}"
    );
    let mut create = good.clone();
    create.push(("stage", "create"));
    let (status, location, html) = post(create).await;
    assert_eq!(status, 303, "{html}");
    let task = location.unwrap().rsplit('/').next().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let t: serde_json::Value = http
            .get(format!("{base}/api/scaffolder/v2/tasks/{task}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let s = t["status"].as_str().unwrap_or_default().to_owned();
        if s == "completed" || s == "failed" || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, "completed");
    let repo = root.join("tools/made-here.git");
    let out = std::process::Command::new("git")
        .args(["show", "main:README.md"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "# made\n");
}

store::on_each_database!(the_picker_posts_backstage_repo_urls);
