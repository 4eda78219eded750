//! A real PostgreSQL outage, through a TCP proxy the test can cut: while the database is
//! unreachable for longer than the pool's 30 s acquire timeout, an edit is neither served nor
//! lost, readiness reports the lag, and once the database is back the edit is stored and served
//! without anyone asking.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use catalog::Catalog;
use catalog::settings::{CatalogSettings, LocationSpec};
use store::testing::{Backend, TestDb};
use tokio::net::{TcpListener, TcpStream};

/// Forwards 127.0.0.1:<port> to `upstream` while up; when cut, drops every open connection and
/// closes new ones at once, as a database host that went away would look to a client.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(AtomicU64::new(0));
        let (up2, gen2) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::Acquire) {
                    continue; // dropped: the client sees the connection close
                }
                let (born, gen3, upstream) =
                    (gen2.load(Ordering::Acquire), gen2.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (mut c, mut s) = (client, server);
                    let copy = tokio::io::copy_bidirectional(&mut c, &mut s);
                    let cut = async {
                        while gen3.load(Ordering::Acquire) == born {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    };
                    tokio::select! { _ = copy => {}, _ = cut => {} }
                });
            }
        });
        Proxy {
            port,
            up,
            generation,
        }
    }
    fn cut(&self) {
        self.up.store(false, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
    fn restore(&self) {
        self.up.store(true, Ordering::Release);
    }
}

fn component(name: &str) -> String {
    format!(
        "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
}

async fn until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < timeout,
            "{what}: not within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_longer_than_the_pool_timeout_loses_nothing() {
    let Some(db) = TestDb::fresh(Backend::Postgres).await else {
        return;
    };
    let url = reqwest::Url::parse(db.url()).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream).await;
    let mut via_proxy = url.clone();
    via_proxy.set_host(Some("127.0.0.1")).unwrap();
    via_proxy.set_port(Some(proxy.port)).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog-info.yaml");
    std::fs::write(&file, component("a")).unwrap();
    let settings = CatalogSettings {
        locations: vec![(LocationSpec::new("file", &file.to_string_lossy()), vec![])],
        ..Default::default()
    };
    let c = Catalog::connect(settings.clone(), via_proxy.as_str())
        .await
        .unwrap();
    tokio::spawn(c.clone().run());
    until("first ingestion", Duration::from_secs(30), || {
        c.readiness().is_ok()
    })
    .await;

    proxy.cut();
    std::fs::write(&file, format!("{}{}", component("a"), component("b"))).unwrap();
    let has_b = |c: &Catalog| c.snapshot().entity("component:default/b").is_some();
    until("readiness reports the lag", Duration::from_secs(60), || {
        c.readiness()
            .is_err_and(|r| r.starts_with("stored state lags"))
    })
    .await;
    assert!(!has_b(&c), "an entity is not served before it is stored");
    // An outage longer than the pool's 30 s acquire timeout, which is where retries used to stop.
    tokio::time::sleep(Duration::from_secs(32)).await;
    assert!(!has_b(&c) && c.readiness().is_err());

    proxy.restore();
    until(
        "the edit stored and served after the outage",
        Duration::from_secs(60),
        || has_b(&c) && c.readiness().is_ok(),
    )
    .await;
    // Stored, not only served: a second catalog on the same database sees it at once.
    let reopened = Catalog::connect(settings, db.url()).await.unwrap();
    assert!(has_b(&reopened));
}
