//! `url:` docs sources over real HTTP: read from an allow-listed host into a mirror and built,
//! re-read on schedule with only the changed page re-rendered, a failed read keeping the last
//! good site with the error, a source without a nav refused with why, and a host outside the
//! allow-list never asked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use catalog::read::{Snapshot, Stitched};
use catalog::settings::AllowedHost;
use docs::{Docs, DocsSettings};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Files = Arc<Mutex<HashMap<String, String>>>;

/// A minimal HTTP/1.1 file server on a free loopback port: GET path → 200 with the text, or 404.
async fn serve(files: Files) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let files = files.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let body = files.lock().unwrap().get(&path).cloned();
                let resp = match body {
                    Some(b) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                        b.len()
                    ),
                    None => {
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_owned()
                    }
                };
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    port
}

fn entity(name: &str, reference: &str) -> Arc<Stitched> {
    let body = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": name, "namespace": "default",
                     "annotations": {"backstage.io/techdocs-ref": reference}},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}})
    .to_string();
    Arc::new(Stitched::from_json(
        format!("component:default/{name}"),
        format!("uid-{name}"),
        format!("etag-{}", body.len()),
        &body,
    ))
}

#[tokio::test]
async fn url_sources_are_mirrored_and_built() {
    let files: Files = Default::default();
    {
        let mut f = files.lock().unwrap();
        f.insert(
            "/site/mkdocs.yml".into(),
            "site_name: Remote\nnav:\n  - index.md\n  - Guide:\n      - guide/a.md\n      - guide/gone.md\n".into(),
        );
        f.insert(
            "/site/docs/index.md".into(),
            "# Remote\n\nSee [a](guide/a.md).\n".into(),
        );
        f.insert(
            "/site/docs/guide/a.md".into(),
            "# A\n\nFirst words.\n".into(),
        );
        f.insert("/bare/mkdocs.yml".into(), "site_name: Bare\n".into());
    }
    let port = serve(files.clone()).await;
    let mirror = tempfile::tempdir().unwrap();
    let settings = DocsSettings {
        allowed_hosts: vec![AllowedHost {
            host: "127.0.0.1".into(),
            port: Some(port),
        }],
        url_refresh_interval: Duration::from_secs(3600),
        mirror_dir: mirror.path().to_path_buf(),
        ..Default::default()
    };
    let reader = docs::url_reader(&settings);
    let snap = Snapshot::of(vec![
        entity("remote", &format!("url:http://127.0.0.1:{port}/site/")),
        entity("bare", &format!("url:http://127.0.0.1:{port}/bare")),
        entity("down", "url:http://127.0.0.1:1/site"),
    ]);
    let docs = Docs::default();

    // Before the first read: known, nothing built, nothing wrong.
    docs.update(&snap, &settings);
    let remote = docs.entity("component:default/remote").unwrap();
    assert!(remote.site.is_none() && remote.error.is_none());

    docs.read_urls(&snap, &settings, &reader).await;
    docs.update(&snap, &settings);
    let remote = docs.entity("component:default/remote").unwrap();
    let site = remote.site.clone().expect("built from the mirror");
    assert!(remote.error.is_none(), "{:?}", remote.error);
    assert_eq!(site.site_name, "Remote");
    assert_eq!(site.pages.len(), 2);
    assert!(
        site.page("")
            .unwrap()
            .html
            .contains(r#"href="/docs/default/component/remote/guide/a/""#)
    );
    let problems: Vec<String> = site.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        ["mkdocs.yml:6: nav names guide/gone.md, which is not in the docs folder"]
    );
    let bare = docs.entity("component:default/bare").unwrap();
    assert!(
        bare.error.as_ref().unwrap().message.contains("needs a nav"),
        "{:?}",
        bare.error
    );
    // Port 1 is not in the allow-list: refused without a request.
    let down = docs.entity("component:default/down").unwrap();
    assert!(
        down.error
            .as_ref()
            .unwrap()
            .message
            .contains("not in the read allow-list"),
        "{:?}",
        down.error
    );

    // Within the refresh interval nothing is read again.
    files.lock().unwrap().insert(
        "/site/docs/guide/a.md".into(),
        "# A\n\nSecond words.\n".into(),
    );
    docs.read_urls(&snap, &settings, &reader).await;
    assert_eq!(docs.update(&snap, &settings), 0);

    // When it is due, the changed page alone is rendered again.
    let due = DocsSettings {
        url_refresh_interval: Duration::ZERO,
        ..settings.clone()
    };
    std::thread::sleep(Duration::from_millis(20));
    docs.read_urls(&snap, &due, &reader).await;
    docs.update(&snap, &due);
    let site = docs
        .entity("component:default/remote")
        .unwrap()
        .site
        .clone()
        .unwrap();
    assert_eq!(site.rendered, 1);
    assert!(
        site.page("guide/a/")
            .unwrap()
            .text
            .contains("Second words.")
    );

    // The source goes away: the error shows, the last good site stays.
    files.lock().unwrap().clear();
    docs.read_urls(&snap, &due, &reader).await;
    docs.update(&snap, &due);
    let remote = docs.entity("component:default/remote").unwrap();
    assert!(
        remote.error.as_ref().unwrap().message.contains("404"),
        "{:?}",
        remote.error
    );
    assert!(Arc::ptr_eq(remote.site.as_ref().unwrap(), &site));
}
