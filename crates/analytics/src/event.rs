//! A usage event, in the shape of Backstage's frontend analytics events (`action`, `subject`,
//! `value`, `attributes`, `context`), and the feature it counts towards.
//!
//! Event kinds the portal records itself (and other capabilities record through
//! [`crate::Recorder::record`]):
//!
//! | what | action | subject | value | context.pluginId | feature |
//! |---|---|---|---|---|---|
//! | a page view | `navigate` | the route template (`/catalog/{namespace}/{kind}/{name}`) | | by route | by route |
//! | an entity page | `navigate` | route template, `context.entityRef` set | | `catalog` (`api-docs` for an API) | same |
//! | sign-in | `sign-in` | `guest` or the provider | | `app` | `sign-in` |
//! | a search | `search` | the query | number of results | `search` | `search` |
//! | a search result opened | `discover` | the result's title or ref | its rank (1 = first) | `search` | `search` |
//! | a docs page read | `navigate` | route template, `context.entityRef` the docs' entity | | `techdocs` | `docs` |
//! | a template run | `create` | the template's ref | | `scaffolder` | `templates` (and `template-run`) |
//!
//! Backstage's own plugins emit the same actions (`navigate`, `search`, `discover`, `create`),
//! so events from a Backstage frontend and the portal's own count alike.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Where an event came from; stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Recorded by the portal itself.
    Server,
    /// Sent by a Backstage frontend to `POST /api/analytics/v1/events`.
    Backstage,
    /// Generated history of the demo, labelled as such on every page.
    Demo,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Server => "server",
            Source::Backstage => "backstage",
            Source::Demo => "demo",
        }
    }
}

/// Backstage's `AnalyticsContext` fields we keep.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    pub plugin_id: String,
    pub extension: String,
    pub route_ref: String,
    pub entity_ref: Option<String>,
}

/// One usage event by one catalog User.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The sender's id; events without one get a fresh one, so they are never merged.
    pub id: Option<String>,
    pub at: DateTime<Utc>,
    /// The User's entity ref, lower case (`user:default/jane`).
    pub user: String,
    pub action: String,
    pub subject: String,
    pub value: Option<f64>,
    pub attributes: Option<Map<String, Value>>,
    pub context: Context,
    pub source: Source,
}

impl Event {
    /// An event the portal records about itself, now.
    pub fn server(user: &str, action: &str, subject: &str, plugin_id: &str) -> Event {
        Event {
            id: None,
            at: Utc::now(),
            user: user.to_ascii_lowercase(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            value: None,
            attributes: None,
            context: Context {
                plugin_id: plugin_id.to_owned(),
                extension: "stagedoor".to_owned(),
                route_ref: subject.to_owned(),
                entity_ref: None,
            },
            source: Source::Server,
        }
    }

    pub fn with_value(mut self, value: f64) -> Event {
        self.value = Some(value);
        self
    }

    pub fn with_entity(mut self, entity_ref: &str) -> Event {
        self.context.entity_ref = Some(entity_ref.to_ascii_lowercase());
        self
    }

    pub fn with_attribute(mut self, key: &str, value: impl Into<Value>) -> Event {
        self.attributes
            .get_or_insert_with(Map::new)
            .insert(key.to_owned(), value.into());
        self
    }

    /// The feature this event counts towards: from the plugin that emitted it (Backstage's
    /// plugin ids map to the portal's features; any other plugin is `plugin:<id>`), or the
    /// action for events outside any plugin.
    pub fn feature(&self) -> String {
        if self.action == "sign-in" {
            return "sign-in".to_owned();
        }
        let is_api = self
            .context
            .entity_ref
            .as_deref()
            .is_some_and(|r| r.starts_with("api:"));
        feature_of_plugin(&self.context.plugin_id, is_api)
    }

    /// A second feature the event also counts towards: a template run is both use of
    /// templates and a `template-run`, which template reach counts.
    pub fn also(&self) -> Option<&'static str> {
        (self.feature() == "templates" && self.action == "create").then_some("template-run")
    }

    /// For search success: `Some(0)` for a search run, `Some(rank)` for a result opened.
    pub fn search_rank(&self) -> Option<i64> {
        match self.action.as_str() {
            "search" => Some(0),
            "discover" => Some(self.value.map_or(1, |v| v.round().max(1.0) as i64)),
            _ => None,
        }
    }

    /// The row to store, with `id` set (given or fresh).
    pub fn to_row(&self) -> store::EventRow {
        let context = serde_json::json!({
            "pluginId": self.context.plugin_id,
            "extension": self.context.extension,
            "routeRef": self.context.route_ref,
            "entityRef": self.context.entity_ref,
        });
        store::EventRow {
            id: self
                .id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            ts: self.at.timestamp_millis(),
            day: self.at.date_naive().to_string(),
            user_ref: self.user.clone(),
            action: self.action.clone(),
            subject: self.subject.clone(),
            feature: self.feature(),
            also: self.also().map(str::to_owned),
            value: self.value,
            attributes: self
                .attributes
                .as_ref()
                .map(|a| Value::Object(a.clone()).to_string()),
            context: context.to_string(),
            source: self.source.as_str().to_owned(),
            search_rank: self.search_rank(),
        }
    }
}

/// Backstage plugin ids (and the portal's own areas) to the features measures are shown by.
pub fn feature_of_plugin(plugin_id: &str, is_api_entity: bool) -> String {
    let f = match plugin_id {
        "catalog" | "catalog-graph" | "catalog-import" | "org" if is_api_entity => "api-docs",
        "catalog" | "catalog-graph" | "catalog-import" | "org" | "ownership" => "catalog",
        "api-docs" => "api-docs",
        "techdocs" | "docs" => "docs",
        "search" => "search",
        "scaffolder" | "templates" => "templates",
        "scorecards" => "scorecards",
        "campaigns" => "campaigns",
        "adoption" | "analytics" => "adoption",
        "" | "app" | "root" | "home" => "home",
        other => return format!("plugin:{other}"),
    };
    f.to_owned()
}

/// The plugin id the portal's own pages count as, from a route template.
pub fn plugin_of_route(route: &str) -> &'static str {
    let first = route
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    match first {
        "" => "home",
        "catalog" | "ownership" => "catalog",
        "scorecards" => "scorecards",
        "campaigns" => "campaigns",
        "docs" => "techdocs",
        "search" => "search",
        "create" | "templates" | "scaffolder" => "scaffolder",
        "api-docs" => "api-docs",
        "adoption" => "adoption",
        _ => "app",
    }
}

/// Features shown by name, in the order pages list them; any other (`plugin:<id>`) follows.
pub const KNOWN_FEATURES: &[(&str, &str)] = &[
    ("catalog", "Catalog"),
    ("docs", "Docs"),
    ("search", "Search"),
    ("templates", "Templates"),
    ("template-run", "Template runs"),
    ("scorecards", "Scorecards"),
    ("campaigns", "Campaigns"),
    ("api-docs", "API docs"),
    ("home", "Home page"),
    ("adoption", "Adoption dashboard"),
    ("sign-in", "Sign-in"),
];

/// A feature's name for people.
pub fn feature_label(feature: &str) -> String {
    KNOWN_FEATURES
        .iter()
        .find(|(k, _)| *k == feature)
        .map(|(_, l)| (*l).to_owned())
        .unwrap_or_else(|| match feature.strip_prefix("plugin:") {
            Some(id) => format!("Plugin {id}"),
            None => feature.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_map_to_features() {
        assert_eq!(feature_of_plugin("techdocs", false), "docs");
        assert_eq!(feature_of_plugin("catalog", true), "api-docs");
        assert_eq!(feature_of_plugin("catalog", false), "catalog");
        assert_eq!(feature_of_plugin("kubernetes", false), "plugin:kubernetes");
        assert_eq!(
            plugin_of_route("/catalog/{namespace}/{kind}/{name}"),
            "catalog"
        );
        assert_eq!(plugin_of_route("/"), "home");
        assert_eq!(feature_label("plugin:kubernetes"), "Plugin kubernetes");
    }

    #[test]
    fn a_template_run_also_counts_for_reach_and_searches_carry_their_rank() {
        let run = Event::server(
            "user:default/a",
            "create",
            "template:default/x",
            "scaffolder",
        );
        assert_eq!(run.feature(), "templates");
        assert_eq!(run.also(), Some("template-run"));
        let open = Event::server("user:default/a", "discover", "x", "search").with_value(3.0);
        assert_eq!(open.search_rank(), Some(3));
        let row = open.to_row();
        assert_eq!(row.feature, "search");
        assert!(!row.id.is_empty());
    }
}
