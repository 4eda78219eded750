//! What an organisation configures (`analytics:` in the config file, docs/configuration.md):
//! who counts as an engineer, the k-threshold, how long raw events are kept, and the ingest
//! bounds.

use model::filter::{self, Filter};

#[derive(Debug, Clone)]
pub struct Settings {
    /// Groups (and the organisation) with fewer engineers than this show no figures.
    pub k_threshold: usize,
    /// Raw events older than this many days are deleted; daily roll-ups are kept.
    pub retention_days: u32,
    /// The population: catalog Users matching this Backstage filter (all Users when `None`).
    pub population: Option<Filter>,
    /// The filter as written, for pages that say who counts.
    pub population_text: String,
    /// Most events one `POST /events` may carry.
    pub max_batch: usize,
    /// Events per second the ingest endpoint accepts, over all senders (a token bucket holding
    /// two seconds' worth).
    pub max_events_per_second: u64,
    /// The onboarding checklist's steps, in order.
    pub checklist: Vec<crate::checklist::Step>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            k_threshold: 5,
            retention_days: 400,
            population: None,
            population_text: String::new(),
            max_batch: 1_000,
            max_events_per_second: 100_000,
            checklist: crate::checklist::default_steps(),
        }
    }
}

impl Settings {
    /// Sets the population filter from its text (Backstage `filter` syntax, e.g.
    /// `metadata.annotations.stagedoor.dev/engineer=true`); an empty text means every User.
    pub fn with_population(mut self, text: &str) -> Result<Settings, String> {
        let text = text.trim();
        self.population = if text.is_empty() {
            None
        } else {
            filter::parse_query(&[text.to_owned()]).map_err(|e| e.0)?
        };
        self.population_text = text.to_owned();
        Ok(self)
    }
}
