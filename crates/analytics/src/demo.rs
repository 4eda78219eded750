//! About 90 days of believable use for the demo company, generated deterministically (the same
//! catalog and day give the same events) and stored as `source = demo`, so pages label it. One
//! team stalls in the chasm (`data-insights`: one engineer of three uses the portal, for the
//! whole period) and one crosses it (`storefront`: its engineers start one after another).

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};

use crate::event::{Context, Event, Source};
use crate::org::Org;

pub const DAYS: u64 = 90;
/// The demo's teams of 3–4 people would all be withheld at the default k-threshold of 5; the
/// demo lowers it to this, and the dashboard says so.
pub const DEMO_K_THRESHOLD: usize = 3;
const CHASM_TEAM: &str = "group:default/data-insights";
const CROSSING_TEAM: &str = "group:default/storefront";

/// SplitMix64: small, fast and the same everywhere, which is all a demo needs.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Rng {
        // FNV-1a of the seed text, so a user's pattern does not depend on the others.
        Rng(seed.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// How one engineer uses the portal: from how many days ago, how often on a workday, and how
/// broadly (0: catalog only … 1: everything).
struct Habit {
    since: u64,
    workday: f64,
    breadth: f64,
}

fn habit(org: &Org, user: &str, rng: &mut Rng) -> Option<Habit> {
    let in_team = |t: &str| {
        org.groups
            .get(t)
            .is_some_and(|g| g.members.binary_search(&user.to_owned()).is_ok())
    };
    if in_team(CHASM_TEAM) {
        // The first member (in ref order) uses it throughout; the others never start.
        let first = org.groups.get(CHASM_TEAM)?.members.first()?;
        return (first == user).then_some(Habit {
            since: DAYS,
            workday: 0.8,
            breadth: 0.2,
        });
    }
    if in_team(CROSSING_TEAM) {
        let members = &org.groups.get(CROSSING_TEAM)?.members;
        let i = members.iter().position(|m| m == user)? as u64;
        // Joined one after another, every ~20 days: 25 % → 100 % over the period.
        return Some(Habit {
            since: DAYS - i * 20,
            workday: 0.85,
            breadth: 0.9,
        });
    }
    // Everyone else: most started at some point in the period, a few never did.
    (rng.unit() < 0.75).then(|| Habit {
        since: DAYS - rng.below(DAYS - 5),
        workday: 0.4 + rng.unit() * 0.5,
        breadth: rng.unit(),
    })
}

/// Events from `today - DAYS` to the day before `today`, for every engineer of `org`.
pub fn events(org: &Org, today: NaiveDate) -> Vec<Event> {
    let mut out = Vec::new();
    for user in &org.engineers {
        let mut rng = Rng::new(user);
        let Some(h) = habit(org, user, &mut rng) else {
            continue;
        };
        let mut signed_in = false;
        for ago in (1..=h.since.min(DAYS)).rev() {
            let Some(day) = today.checked_sub_days(Days::new(ago)) else {
                continue;
            };
            let mut rng = Rng::new(&format!("{user}/{day}"));
            let weekend = matches!(
                chrono::Datelike::weekday(&day),
                chrono::Weekday::Sat | chrono::Weekday::Sun
            );
            let p = if weekend { h.workday * 0.1 } else { h.workday };
            if rng.unit() >= p {
                continue;
            }
            let n = 1 + rng.below(6);
            if !signed_in {
                // Everyone signs in on their first day.
                let mut e = Event::server(user, "sign-in", "guest", "app");
                e.id = Some(format!("demo/{user}/{day}/sign-in"));
                e.at = at(day, 8 * 3600);
                e.source = Source::Demo;
                out.push(e);
                signed_in = true;
            }
            for i in 0..n {
                let at = at(day, 8 * 3600 + rng.below(10 * 3600) as i64);
                let id = format!("demo/{user}/{day}/{i}");
                out.extend(one_use(&mut rng, &h, user, at, &id));
            }
        }
    }
    out
}

fn at(day: NaiveDate, seconds: i64) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    Utc.from_utc_datetime(&midnight) + chrono::Duration::seconds(seconds)
}

/// One visit: a page of some feature, or a search (with a result opened, usually near the top),
/// or a template run.
fn one_use(rng: &mut Rng, h: &Habit, user: &str, at: DateTime<Utc>, id: &str) -> Vec<Event> {
    let event = |id: String, action: &str, subject: &str, plugin: &str| Event {
        id: Some(id),
        at,
        user: user.to_owned(),
        action: action.to_owned(),
        subject: subject.to_owned(),
        value: None,
        attributes: None,
        context: Context {
            plugin_id: plugin.to_owned(),
            extension: "demo".to_owned(),
            route_ref: subject.to_owned(),
            entity_ref: None,
        },
        source: Source::Demo,
    };
    let r = rng.unit();
    // Narrow users stay in the catalog; broad ones spread over everything.
    if r >= h.breadth {
        return vec![event(id.to_owned(), "navigate", "/catalog", "catalog")];
    }
    match rng.below(10) {
        0..=2 => {
            let mut search = event(format!("{id}/s"), "search", "payments", "search");
            search.value = Some(1.0 + rng.below(40) as f64);
            let mut v = vec![search];
            if rng.unit() < 0.7 {
                let mut open = event(format!("{id}/o"), "discover", "result", "search");
                open.value = Some(1.0 + (rng.below(6) * rng.below(3)) as f64);
                v.push(open);
            }
            v
        }
        3 | 4 => vec![event(
            id.to_owned(),
            "navigate",
            "/docs/{namespace}/{kind}/{name}",
            "techdocs",
        )],
        5 => vec![event(
            id.to_owned(),
            "navigate",
            "/scorecards/{name}",
            "scorecards",
        )],
        6 => vec![event(
            id.to_owned(),
            "navigate",
            "/campaigns/{name}",
            "campaigns",
        )],
        7 if rng.unit() < 0.3 => vec![event(
            id.to_owned(),
            "create",
            "template:default/service",
            "scaffolder",
        )],
        7 => vec![event(id.to_owned(), "navigate", "/create", "scaffolder")],
        8 => vec![event(
            id.to_owned(),
            "navigate",
            "/catalog/{namespace}/{kind}/{name}",
            "api-docs",
        )],
        _ => vec![event(
            id.to_owned(),
            "navigate",
            "/kubernetes",
            "kubernetes",
        )],
    }
}

impl crate::Recorder {
    /// Stores the demo's history up to yesterday (ids are deterministic, so running it again
    /// adds only days not yet there) and labels its span as demo data.
    pub async fn seed_demo(
        &self,
        snap: &catalog::read::Snapshot,
        today: NaiveDate,
    ) -> Result<usize, store::StoreError> {
        let org = self.org(snap);
        let events = events(&org, today);
        let mut stored = 0;
        for chunk in events.chunks(2_000) {
            stored += self.store(chunk).await?;
        }
        let from = today - Days::new(DAYS);
        let to = today - Days::new(1);
        self.mark_demo(&from.to_string(), &to.to_string()).await?;
        Ok(stored)
    }
}
