//! The Create pages over real HTTP, without JavaScript: the template list with its usage, the
//! form built from the parameter schema (defaults, entity picker from the catalog), per-field
//! messages from server-side validation, the review, creating the task, and the task page with
//! its log and output link; the template's usage count and the share of templated components go
//! up, and a component made from an older template version is flagged.

use std::time::{Duration, Instant};

use catalog::settings::{CatalogSettings, LocationSpec};
use store::testing::TestDb;

use crate::common;

const CATALOG: &str = r#"
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a, title: Team A }
spec: { type: team, children: [] }
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: note
  title: A note
  description: Writes one file and registers a component.
  tags: [docs]
spec:
  owner: team-a
  type: service
  parameters:
    - title: The note
      required: [name, owner]
      properties:
        name: {title: Name, type: string, pattern: "^[a-z]+$"}
        owner: {title: Owner, type: string, ui:field: OwnerPicker, ui:options: {catalogFilter: {kind: Group}}}
        copies: {title: Copies, type: integer, default: 2, maximum: 5}
        loud: {title: Loud, type: boolean}
        kind: {title: Kind, type: string, enum: [a, b], enumNames: [Alpha, Beta], default: b}
  steps:
    - id: write
      action: catalog:write
      input:
        entity:
          apiVersion: backstage.io/v1alpha1
          kind: Component
          metadata: {name: "${{ parameters.name }}"}
          spec: {type: service, lifecycle: experimental, owner: "${{ parameters.owner }}"}
    - id: publish
      action: publish:file
      input: {path: "${{ parameters.name }}"}
    - id: register
      action: catalog:register
      input: {repoContentsUrl: "${{ steps.publish.output.repoContentsUrl }}"}
  output:
    links:
      - title: Open in catalog
        entityRef: ${{ steps.register.output.entityRef }}
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: to-bitbucket
  title: To Bitbucket
spec:
  owner: team-a
  type: service
  steps:
    - id: publish
      action: publish:bitbucketCloud
      input: {repoUrl: "bitbucket.org?workspace=w&project=p&repo=r"}
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: to-github
  title: To GitHub
spec:
  owner: team-a
  type: service
  steps:
    - id: publish
      action: publish:github
      input: {repoUrl: "github.com?owner=o&repo=r"}
"#;

async fn the_create_pages_work_without_javascript(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("catalog.yaml"), CATALOG).unwrap();
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
        publish_root: Some(dir.path().join("repos")),
        ..Default::default()
    });
    catalog.settle().await.unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let post = |path: &str, form: &[(&str, &str)]| {
        let http = http.clone();
        let url = format!("{base}{path}");
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

    let (status, html) = get("/create").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"href="/create/templates/default/note""#),
        "{html}"
    );
    assert!(html.contains("0 runs, 0 completed"));
    assert!(html.contains(r#"aria-current="page">Create</a>"#));
    // A template whose action this server lacks is listed, says so, and offers no form.
    assert!(
        html.contains(
            "Uses <code>publish:bitbucketCloud</code>, which this server does not have yet"
        ),
        "{html}"
    );
    let card = html
        .split("<li>")
        .find(|c| c.contains("To Bitbucket"))
        .expect("the Bitbucket template is listed");
    assert!(!card.contains(">Choose<"), "{card}");
    // One that publishes to a host this server has no token for says so, and offers no form.
    let card = html
        .split("<li>")
        .find(|c| c.contains("To GitHub"))
        .expect("the GitHub template is listed");
    assert!(
        card.contains(
            "Publishes to GitHub, and this server has no GitHub token (integrations.github)"
        ) && !card.contains(">Choose<"),
        "{card}"
    );
    let (_, html) = get("/create?q=nothing-like-this").await;
    assert!(!html.contains("/create/templates/default/note"));

    let (status, html) = get("/create/templates/default/note").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"name="p.copies" value="2""#), "{html}");
    assert!(
        html.contains(
            r#"<option value="group:default/team-a">Team A (group:default/team-a)</option>"#
        ),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="b" selected>Beta</option>"#),
        "{html}"
    );

    // Bad values: the form again, 400, each message at its field, the values kept.
    let (status, _, html) = post(
        "/create/templates/default/note",
        &[
            ("p.name", "Not Valid"),
            ("p.copies", "9"),
            ("stage", "review"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        html.contains(r#"Name does not match pattern &#34;^[a-z]+$&#34;"#)
            || html.contains("Name does not match pattern"),
        "{html}"
    );
    assert!(html.contains("Owner is required"), "{html}");
    assert!(
        html.contains("Copies must be less than or equal to 5"),
        "{html}"
    );
    assert!(html.contains(r#"value="Not Valid""#));
    let (status, _, html) = post(
        "/create/templates/default/note",
        &[
            ("p.name", "x"),
            ("p.owner", "group:default/team-a"),
            ("p.copies", "two"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("Copies must be a number"), "{html}");

    // Valid: the review, then create.
    let form = [
        ("p.name", "hello"),
        ("p.owner", "group:default/team-a"),
        ("p.copies", "3"),
        ("p.loud", "true"),
        ("p.kind", "a"),
    ];
    let mut review: Vec<(&str, &str)> = form.to_vec();
    review.push(("stage", "review"));
    let (status, _, html) = post("/create/templates/default/note", &review).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h2 id=\"review-h\">Review</h2>"), "{html}");
    assert!(
        html.contains(r#"<input type="hidden" name="p.owner" value="group:default/team-a">"#),
        "{html}"
    );
    let mut create: Vec<(&str, &str)> = form.to_vec();
    create.push(("stage", "create"));
    let (status, location, _) = post("/create/templates/default/note", &create).await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(location.starts_with("/create/tasks/"), "{location}");

    // The task page: refreshes itself while running, then shows the log and the output link.
    let started = Instant::now();
    let html = loop {
        let (status, html) = get(&location).await;
        assert_eq!(status, 200);
        if !html.contains("http-equiv=\"refresh\"") {
            break html;
        }
        assert!(html.contains("data-stream=\"/api/scaffolder/v2/tasks/"));
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(html.contains(">completed</span>"), "{html}");
    assert!(html.contains("Finished step catalog:register"), "{html}");
    assert!(
        html.contains(r#"<a href="/catalog/default/component/hello">Open in catalog</a>"#),
        "{html}"
    );
    assert!(!html.contains("\u{1b}["), "colour codes are stripped");
    let (status, _) = get("/catalog/default/component/hello").await;
    assert_eq!(status, 200);
    let (_, html) = get("/create").await;
    assert!(html.contains("1 runs, 1 completed"), "{html}");
    assert!(
        html.contains(
            "<strong>100%</strong> of the catalog&#39;s components came from a template (1 of 1)"
        ) || html.contains(
            "<strong>100%</strong> of the catalog's components came from a template (1 of 1)"
        ),
        "{html}"
    );
    assert!(
        html.contains("<tr><td>group:default/team-a</td><td>1</td><td>1</td></tr>"),
        "{html}"
    );
    // The template page lists what was created from it, with the version it came from.
    let (_, html) = get("/create/templates/default/note").await;
    assert!(
        html.contains(r#"<a href="/catalog/default/component/hello">hello</a>"#),
        "{html}"
    );
    assert!(!html.contains("behind"), "{html}");
    // A new version of the template (its etag, as it names no version): the component lags.
    std::fs::write(
        dir.path().join("catalog.yaml"),
        CATALOG.replace("Writes one file", "Writes exactly one file"),
    )
    .unwrap();
    catalog.settle().await.unwrap();
    let started = Instant::now();
    loop {
        let (_, html) = get("/create/templates/default/note").await;
        if html.contains(r#"<span class="badge warn">behind</span>"#) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{html}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Cross-site posts are refused; unknown tasks and templates are 404 pages.
    let r = http
        .post(format!("{base}/create/templates/default/note"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("stage=create&p.name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(get("/create/tasks/nope").await.0, 404);
    assert_eq!(get("/create/templates/default/nope").await.0, 404);
}

store::on_each_database!(the_create_pages_work_without_javascript);
