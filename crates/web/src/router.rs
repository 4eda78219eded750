//! Every route Stagedoor serves, in one table: the Backstage catalog API under `/api/catalog`,
//! the scorecards API under `/api/scorecards/v1`, the scaffolder API under `/api/scaffolder/v2`,
//! health probes, and the pages, grouped by
//! capability.

use axum::Router;
use axum::routing::{get, post};

use crate::{
    AppState, analytics_api, api_error, auth, catalog_api, discovery_api, org_api, pages,
    scaffolder_api, scorecards_api, search_api,
};

/// Every route Stagedoor serves.
pub fn router(state: AppState) -> Router {
    use catalog_api as c;
    let api = Router::new()
        .route("/entities", get(c::list_entities))
        .route(
            "/entities/by-query",
            get(c::query_entities_get).post(c::query_entities_post),
        )
        .route(
            "/entities/by-name/{kind}/{namespace}/{name}",
            get(c::entity_by_name),
        )
        .route(
            "/entities/by-name/{kind}/{namespace}/{name}/ancestry",
            get(c::entity_ancestry),
        )
        .route(
            "/entities/by-uid/{uid}",
            get(c::entity_by_uid).delete(c::delete_entity_by_uid),
        )
        .route("/entities/by-refs", post(c::entities_by_refs))
        .route("/entity-facets", get(c::entity_facets))
        .route("/locations", get(c::list_locations).post(c::add_location))
        .route(
            "/locations/{id}",
            get(c::get_location).delete(c::delete_location),
        )
        .route(
            "/locations/by-entity/{kind}/{namespace}/{name}",
            get(c::location_by_entity),
        )
        .route("/refresh", post(c::refresh))
        .route("/validate-entity", post(c::validate_entity))
        .route("/analyze-location", post(discovery_api::analyze_location))
        .fallback(c::not_found)
        .layer(axum::middleware::from_fn(api_error::echo_request));
    let scorecards = Router::new()
        .route(
            "/entities/{kind}/{namespace}/{name}",
            get(scorecards_api::entity),
        )
        .route("/scorecards", get(scorecards_api::scorecards))
        .route("/scorecards/{name}", get(scorecards_api::scorecard))
        .route("/campaigns", get(scorecards_api::campaigns))
        .route("/campaigns/{name}", get(scorecards_api::campaign))
        .route("/facts", post(scorecards_api::push_facts))
        .fallback(c::not_found)
        .layer(axum::middleware::from_fn(api_error::echo_request));
    let discovery = Router::new()
        .route("/repositories", get(discovery_api::repositories))
        .route("/completeness", get(discovery_api::completeness_report))
        .route("/scan", post(discovery_api::scan))
        // Org import: the latest runs, a dry run now, an import now.
        .route("/org-import", get(org_api::status))
        .route("/org-import/preview", get(org_api::preview))
        .route("/org-import/apply", post(org_api::apply))
        .fallback(c::not_found)
        .layer(axum::middleware::from_fn(api_error::echo_request));
    // Search: Backstage's search backend query endpoint.
    let search = Router::new()
        .route("/query", get(search_api::query))
        .fallback(c::not_found)
        .layer(axum::middleware::from_fn(api_error::echo_request));
    // Mounted at /api/scaffolder with /v2 in each path, as Backstage mounts its plugin, so error
    // envelopes report the same request URL (`/v2/tasks/...`).
    let scaffolder = {
        use scaffolder_api as sc;
        Router::new()
            .route(
                "/v2/templates/{namespace}/{kind}/{name}/parameter-schema",
                get(sc::parameter_schema),
            )
            .route("/v2/actions", get(sc::actions))
            .route("/v2/dry-run", post(sc::dry_run))
            .route("/v2/tasks", get(sc::list_tasks).post(sc::create_task))
            .route("/v2/tasks/{id}", get(sc::task))
            .route("/v2/tasks/{id}/cancel", post(sc::cancel_task))
            .route("/v2/tasks/{id}/retry", post(sc::retry_task))
            .route("/v2/tasks/{id}/events", get(sc::events))
            .route("/v2/tasks/{id}/eventstream", get(sc::event_stream))
            .fallback(c::not_found)
            .layer(axum::extract::DefaultBodyLimit::max(sc::MAX_BODY))
            .layer(axum::middleware::from_fn(api_error::echo_request))
    };
    let analytics = Router::new()
        .route("/events", post(analytics_api::ingest))
        .route("/summary", get(analytics_api::summary))
        .route("/teams", get(analytics_api::teams))
        .route("/checklist", get(analytics_api::checklist))
        .fallback(c::not_found)
        .layer(axum::middleware::from_fn(api_error::echo_request));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(analytics_api::metrics))
        .route("/readyz", get(readyz))
        .nest("/api/catalog", api)
        .nest("/api/scorecards/v1", scorecards)
        .nest("/api/discovery/v1", discovery)
        .nest("/api/search", search)
        .nest("/api/scaffolder", scaffolder)
        .nest("/api/analytics/v1", analytics)
        // Pages, by capability.
        .route("/", get(pages::home::page))
        .route("/catalog", get(pages::catalog::index::page))
        .route(
            "/catalog/{namespace}/{kind}/{name}",
            get(pages::catalog::entity::page),
        )
        .route("/ownership", get(pages::ownership::page))
        .route("/scorecards", get(pages::scorecards::pages::list))
        .route(
            "/scorecards/{name}",
            get(pages::scorecards::pages::scorecard),
        )
        .route("/campaigns/{name}", get(pages::scorecards::pages::campaign))
        .route("/completeness", get(pages::discovery::page))
        .route("/completeness/accept", post(pages::discovery::accept))
        .route("/completeness/team-card", get(pages::discovery::team_card))
        .route("/org-import", get(pages::org::page))
        .route("/docs", get(pages::docs::home::page))
        .route(
            "/docs/{namespace}/{kind}/{name}",
            get(pages::docs::reader::root),
        )
        .route(
            "/docs/{namespace}/{kind}/{name}/",
            get(pages::docs::reader::index),
        )
        .route(
            "/docs/{namespace}/{kind}/{name}/{*path}",
            get(pages::docs::reader::page),
        )
        .route(
            "/api/techdocs/static/docs/{namespace}/{kind}/{name}/{*path}",
            get(pages::docs::reader::asset),
        )
        .route("/search", get(pages::search::pages::page))
        .route("/search/suggest", get(pages::search::pages::suggest))
        .route("/search/open", get(pages::search::pages::open))
        .route("/create", get(pages::scaffolder::list))
        .route(
            "/create/templates/{namespace}/{name}",
            get(pages::scaffolder::form).post(pages::scaffolder::submit),
        )
        .route("/create/tasks/{id}", get(pages::scaffolder::task))
        .route("/adoption", get(pages::analytics::page))
        .route("/sign-in", get(pages::sign_in::page).post(auth::sign_in))
        .route("/sign-out", post(auth::sign_out))
        .route("/assets/{file}", get(pages::assets::serve))
        // Page views by route template, for every route above (a route layer sees
        // `MatchedPath`); it records only full HTML pages for a signed-in person.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pages::analytics::record::page_views,
        ))
        .fallback(api_error::unknown_route)
        .layer(axum::middleware::from_fn(api_error::nosniff))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

/// 200 when the catalog is ingested and stored; otherwise 503 with the reason as JSON
/// (`{"status": "unavailable", "reason": "stored state lags: …"}`), so probes and operators see why.
async fn readyz(
    axum::extract::State(s): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    match s.catalog.readiness() {
        Ok(()) => (
            axum::http::StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ready"})),
        ),
        Err(reason) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "unavailable", "reason": reason})),
        ),
    }
}
