//! Query benchmark (ignored by default): a year of daily roll-ups for 5,000 engineers in 100
//! teams under 10 departments — what 10 million raw events come to, since measures read only
//! the roll-ups — then the time to load them and the p50/p95 of the organisation's summary, a
//! team's, a 90-day series and the teams list.
//! `cargo test --release -p analytics --test it bench:: -- --ignored --nocapture`

use std::time::Instant;

use analytics::{Recorder, Settings};
use catalog::settings::{CatalogSettings, LocationSpec};
use chrono::{Days, Utc};
use store::UserDay;
use store::testing::{Backend, TestDb};

const USERS: usize = 5_000;
const TEAMS: usize = 100;
const DAYS: u64 = 365;
const FEATURES: &[&str] = &[
    "catalog",
    "docs",
    "search",
    "templates",
    "scorecards",
    "api-docs",
    "plugin:kubernetes",
];

fn org() -> String {
    let mut y = String::from(
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: { name: org }\nspec: { type: organization, children: [] }\n",
    );
    for d in 0..10 {
        y.push_str(&format!("---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {{ name: dept-{d} }}\nspec: {{ type: department, parent: org, children: [] }}\n"));
    }
    for t in 0..TEAMS {
        y.push_str(&format!("---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {{ name: team-{t} }}\nspec: {{ type: team, parent: dept-{}, children: [] }}\n", t % 10));
    }
    for u in 0..USERS {
        y.push_str(&format!("---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {{ name: u{u} }}\nspec: {{ memberOf: [team-{}] }}\n", u % TEAMS));
    }
    y
}

/// Resident memory of this process in MiB (Linux).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * 4096.0 / 1048576.0)
}

fn p(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q) as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn summary_queries_over_a_year_of_5000_engineers() {
    let db = TestDb::fresh(Backend::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.yaml");
    std::fs::write(&file, org()).unwrap();
    let settings = CatalogSettings {
        locations: vec![(LocationSpec::new("file", &file.to_string_lossy()), vec![])],
        ..Default::default()
    };
    let catalog = catalog::Catalog::connect(settings, db.url()).await.unwrap();
    catalog.settle().await.unwrap();
    let today = Utc::now().date_naive();
    // Each engineer active on a workday with a probability of their own (20–95 %), using 1–3
    // features that day: ~5.5 events per active day make ~10 million events a year.
    let mut rows = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut events = 0i64;
    for u in 0..USERS {
        let p_active = 20 + (u * 37 % 76) as u64;
        for ago in 0..DAYS {
            if next() % 100 >= p_active {
                continue;
            }
            let day = (today - Days::new(ago)).to_string();
            for f in 0..(1 + next() % 3) {
                let n = 1 + (next() % 4) as i64;
                events += n;
                rows.push(UserDay {
                    day: day.clone(),
                    user_ref: format!("user:default/u{u}"),
                    feature: FEATURES[((u as u64 + f) % FEATURES.len() as u64) as usize].to_owned(),
                    events: n,
                });
            }
        }
    }
    let t = Instant::now();
    for chunk in rows.chunks(50_000) {
        catalog.database().add_user_days(chunk).await.unwrap();
    }
    println!(
        "roll-ups: {} rows for {events} events, written in {:.1} s",
        rows.len(),
        t.elapsed().as_secs_f64()
    );
    let r = Recorder::of(&catalog);
    r.configure(Settings::default());
    let snap = catalog.snapshot();
    drop(rows);
    let before = rss_mib();
    let t = Instant::now();
    let first = r.summary(&snap, None, today).await.unwrap();
    println!(
        "roll-ups in memory: RSS grew by {:.0} MiB",
        rss_mib() - before
    );
    println!(
        "first summary (loads the roll-ups into memory): {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(first.engineers, Some(USERS));
    for (label, runs) in [
        (
            "dashboard data (org summary, 90-day series, teams, checklist)",
            30,
        ),
        ("org summary", 30),
        ("team summary", 30),
        ("90-day org series", 30),
        ("teams list", 10),
    ] {
        let mut ms = Vec::new();
        for i in 0..runs {
            let t = Instant::now();
            match label {
                "org summary" => {
                    r.summary(&snap, None, today - Days::new(i as u64))
                        .await
                        .unwrap();
                }
                "team summary" => {
                    let g = format!("group:default/team-{i}");
                    r.summary(&snap, Some(&g), today).await.unwrap();
                }
                "dashboard data (org summary, 90-day series, teams, checklist)" => {
                    r.summary(&snap, None, today).await.unwrap();
                    r.series(&snap, None, today - Days::new(89), today)
                        .await
                        .unwrap();
                    r.teams(&snap, today).await.unwrap();
                    r.group_checklist(&snap, None).await.unwrap();
                }
                "90-day org series" => {
                    r.series(&snap, None, today - Days::new(89), today)
                        .await
                        .unwrap();
                }
                _ => {
                    r.teams(&snap, today).await.unwrap();
                }
            }
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        println!(
            "{label}: p50 {:.1} ms, p95 {:.1} ms ({runs} runs)",
            p(ms.clone(), 0.5),
            p(ms, 0.95)
        );
    }
}
