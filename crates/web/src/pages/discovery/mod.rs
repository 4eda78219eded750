//! The completeness page: repositories found and cataloged for the org and per team and
//! department (a table and a server-rendered SVG trend), each team's "Uncatalogued" list with
//! its proposals, ownership gaps and orphans; and accepting a proposal, which commits its
//! `catalog-info.yaml` on a new branch of a local repository, or opens a pull request (GitHub)
//! or merge request (GitLab) for a hosted one, whose link the page then shows.

mod trend;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use catalog::read::Snapshot;
use discovery::{Completeness, Counts, OwnerGap, Proposal, RepositoryStatus};

use crate::AppState;
use crate::auth::Identity;
use crate::pages::layout::Layout;
use crate::pages::view::RefLink;

pub struct Share {
    pub found: u32,
    pub cataloged: u32,
    pub percent: u32,
}

impl From<&Counts> for Share {
    fn from(c: &Counts) -> Self {
        Share {
            found: c.found,
            cataloged: c.cataloged,
            percent: c.percent(),
        }
    }
}

pub struct GroupView {
    pub link: RefLink,
    pub name: String,
    pub kind: String,
    pub depth: String,
    pub own: Share,
    pub total: Share,
    pub selected: bool,
}

/// A guessed field as the form shows it.
pub struct GuessView {
    pub field: String,
    pub value: String,
    pub evidence: String,
}

pub struct ProposalView {
    pub path: String,
    pub repository: String,
    pub default_branch: String,
    pub owner: String,
    pub name: String,
    pub kind: String,
    pub lifecycle: String,
    pub guesses: Vec<GuessView>,
    pub yaml: String,
    pub error: Option<String>,
    /// `pull request` or `merge request` for a repository on a code host.
    pub request_noun: Option<&'static str>,
    /// The request opened for it, if one was: (number, URL).
    pub change_request: Option<(u64, String)>,
    /// The repository's page on its code host.
    pub page_link: Option<String>,
}

/// A host's link, shown only when it is http(s): the URL comes from the host's answer.
fn web_link(url: &str) -> Option<String> {
    (url.starts_with("https://") || url.starts_with("http://")).then(|| url.to_owned())
}

/// What a host calls a change proposed from a branch.
fn request_noun(repo: &discovery::Repository) -> Option<&'static str> {
    repo.host.as_ref().map(|h| match h.kind.as_str() {
        "gitlab" => "merge request",
        _ => "pull request",
    })
}

impl ProposalView {
    fn of(r: &RepositoryStatus, state: &discovery::State) -> ProposalView {
        let field = |p: &Proposal, ptr: &str| {
            p.entity
                .pointer(ptr)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let mut v = ProposalView {
            path: r.repository.path.display().to_string(),
            repository: r.repository.name.clone(),
            default_branch: r.repository.default_branch.clone(),
            owner: r.owner.clone().unwrap_or_default(),
            name: String::new(),
            kind: String::new(),
            lifecycle: String::new(),
            guesses: vec![],
            yaml: String::new(),
            error: None,
            request_noun: request_noun(&r.repository),
            page_link: r
                .repository
                .host
                .as_ref()
                .and_then(|_| web_link(&r.repository.path.display().to_string())),
            change_request: state
                .change_request(&r.repository.path.display().to_string())
                .and_then(|c| Some((c.number, web_link(&c.url)?))),
        };
        match &r.proposal {
            Some(Ok(p)) => {
                v.name = field(p, "/metadata/name");
                v.kind = field(p, "/spec/type");
                v.lifecycle = field(p, "/spec/lifecycle");
                v.yaml = p.to_yaml();
                v.guesses = p
                    .guesses
                    .iter()
                    .map(|g| GuessView {
                        field: g.field.clone(),
                        value: match &g.value {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        },
                        evidence: g.evidence.join("; "),
                    })
                    .collect();
            }
            Some(Err(e)) => v.error = Some(e.to_string()),
            None => {}
        }
        v
    }
}

/// Proposals shown at once: each is a form, and an organisation-wide list of thousands made a
/// page of megabytes (3.2 MB for 1,333 repositories); a team's own list is rarely longer.
const PROPOSALS_SHOWN: usize = 50;

#[derive(askama::Template)]
#[template(path = "discovery/completeness.html")]
struct CompletenessPage {
    layout: Layout,
    configured: bool,
    scanned: bool,
    org: Share,
    unowned: Share,
    trend: String,
    groups: Vec<GroupView>,
    team: Option<String>,
    team_name: String,
    uncatalogued: Vec<ProposalView>,
    uncatalogued_total: usize,
    gaps: Vec<OwnerGap>,
    orphans: Vec<String>,
    missing: Vec<(String, String)>,
    errors: Vec<(String, String)>,
    message: Option<String>,
    /// A link the message refers to (an opened pull or merge request).
    message_link: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    team: Option<String>,
}

/// `GET /completeness[?team=group:default/x]`.
pub async fn page(State(s): State<AppState>, me: Identity, Query(q): Query<PageQuery>) -> Response {
    render(&s, &me, q.team, None, None, StatusCode::OK).await
}

/// A notice for the page: its text and, optionally, a link it refers to.
type Notice = Option<(String, Option<String>)>;

async fn render(
    s: &AppState,
    me: &Identity,
    team: Option<String>,
    notice: Notice,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (message, message_link) = match notice {
        Some((m, l)) => (Some(m), l),
        None => (None, None),
    };
    let snap = s.catalog.snapshot();
    let layout = Layout::new("Catalog completeness", "completeness", &snap, me);
    let team = team
        .map(|t| t.to_ascii_lowercase())
        .filter(|t| !t.is_empty());
    let state = discovery::State::of(&s.catalog);
    let configured = state.settings().is_some();
    let found = crate::discovery_api::completeness(s).map(|(_, c)| c);
    let c = found.clone().unwrap_or_default();
    let mut days: Vec<(String, i64, i64)> = crate::discovery_api::trend(s, "org")
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| (d.day, d.found, d.cataloged))
        .collect();
    // Today's point comes from the live count, so the chart never lags the recorder.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    if found.is_some() {
        days.retain(|d| d.0 != today);
        days.push((today, i64::from(c.org.found), i64::from(c.org.cataloged)));
    }
    let groups = group_views(&snap, &c, team.as_deref());
    let team_name = team
        .as_deref()
        .map(|t| {
            groups
                .iter()
                .find(|g| g.link.full == t)
                .map_or_else(|| t.to_owned(), |g| g.name.clone())
        })
        .unwrap_or_default();
    let page = CompletenessPage {
        layout,
        configured,
        scanned: found.is_some(),
        org: Share::from(&c.org),
        unowned: Share::from(&c.unowned),
        trend: trend::share(&days),
        groups,
        uncatalogued: c
            .uncatalogued(team.as_deref())
            .take(PROPOSALS_SHOWN)
            .map(|r| ProposalView::of(r, &state))
            .collect(),
        uncatalogued_total: c.uncatalogued(team.as_deref()).count(),
        team,
        team_name,
        gaps: c.owner_gaps.clone(),
        orphans: c.orphans.clone(),
        missing: c
            .missing_repositories
            .iter()
            .map(|(p, at)| (p.clone(), day_of(*at)))
            .collect(),
        errors: state
            .inventory()
            .map(|i| {
                i.errors
                    .iter()
                    .map(|e| (e.path.display().to_string(), e.message.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        message,
        message_link,
        error,
    };
    crate::pages::render_status(status, &page)
}

fn day_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn group_views(snap: &Snapshot, c: &Completeness, team: Option<&str>) -> Vec<GroupView> {
    c.groups
        .iter()
        .map(|g| GroupView {
            link: RefLink::parse(snap, &g.group, Some("group")).unwrap_or_else(|| {
                RefLink::with(
                    &model::EntityRef::parse(&g.group, Some("group"), "default")
                        .expect("group refs parse"),
                    false,
                )
            }),
            name: g.name.clone(),
            kind: g.kind.clone(),
            depth: format!("depth-{}", g.depth.min(4)),
            own: Share::from(&g.own),
            total: Share::from(&g.total),
            selected: team == Some(g.group.as_str()),
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "discovery/team_card.html")]
struct TeamCard {
    team: String,
    share: Option<Share>,
}

/// `GET /completeness/team-card?team=<group ref>`: the card a team page loads (htmx) with the
/// team's counts, sub-teams included; without JavaScript the team page links to the full page.
pub async fn team_card(State(s): State<AppState>, Query(q): Query<PageQuery>) -> Response {
    let team = q.team.unwrap_or_default().to_ascii_lowercase();
    let share = crate::discovery_api::completeness(&s).and_then(|(_, c)| {
        c.groups
            .iter()
            .find(|g| g.group == team)
            .map(|g| Share::from(&g.total))
    });
    crate::pages::render(&TeamCard { team, share })
}

/// `POST /completeness/accept`: form fields `path` (the repository), and the owner's edits
/// `name`, `type`, `owner`, `lifecycle`. Signed-in people only, and only for what they own: the
/// final owner must be them or a group they belong to (anyone signed in, when the owner is not
/// in the catalog yet).
pub async fn accept(
    State(s): State<AppState>,
    me: Identity,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form: std::collections::HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let team = form.get("team").cloned();
    let fail = |status, e: String| render(&s, &me, team.clone(), None, Some(e), status);
    if !crate::auth::same_origin(&headers) {
        return fail(
            StatusCode::FORBIDDEN,
            "This form was posted from another site.".into(),
        )
        .await;
    }
    let Some(user) = me.user.clone() else {
        return fail(
            StatusCode::FORBIDDEN,
            "Sign in to accept a proposal.".into(),
        )
        .await;
    };
    let path = form.get("path").cloned().unwrap_or_default();
    let Some((_, c)) = crate::discovery_api::completeness(&s) else {
        return fail(
            StatusCode::NOT_FOUND,
            "Discovery has not scanned any repository yet.".into(),
        )
        .await;
    };
    let Some((repository, Some(Ok(proposal)))) = c
        .repositories
        .iter()
        .find(|r| r.repository.path.display().to_string() == path && !r.cataloged)
        .map(|r| (r.repository.clone(), r.proposal.clone()))
    else {
        return fail(
            StatusCode::NOT_FOUND,
            format!("No proposal for a repository at {path}."),
        )
        .await;
    };
    let mut proposal = proposal;
    for (field, key) in [
        ("metadata.name", "name"),
        ("spec.type", "type"),
        ("spec.owner", "owner"),
        ("spec.lifecycle", "lifecycle"),
    ] {
        let Some(value) = form.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
            continue;
        };
        let current = proposal
            .entity
            .pointer(&format!("/{}", field.replace('.', "/")))
            .and_then(|v| v.as_str());
        if current != Some(value)
            && let Err(e) = proposal.edit(field, value)
        {
            return fail(StatusCode::BAD_REQUEST, e.to_string()).await;
        }
    }
    let snap = s.catalog.snapshot();
    let owner = proposal
        .entity
        .pointer("/spec/owner")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    if !may_accept(&snap, &user.key(), owner) {
        return fail(
            StatusCode::FORBIDDEN,
            format!("Only {owner} or its members may accept this proposal."),
        )
        .await;
    }
    let yaml = proposal.to_yaml();
    if let Some(noun) = request_noun(&repository) {
        let state = discovery::State::of(&s.catalog);
        let hosts = state.settings().map(|st| st.hosts).unwrap_or_default();
        let title = format!("Add catalog-info.yaml for {}", proposal.name());
        let body = change_request_body(&proposal, &user.key());
        return match discovery::open_change_request(&hosts, &repository, &yaml, &title, &body).await
        {
            Ok(cr) => {
                let msg = format!(
                    "Opened {noun} #{} for {path} from branch {}. Merge it to add {} to the catalog:",
                    cr.number,
                    cr.branch,
                    proposal.name()
                );
                let link = web_link(&cr.url);
                if let Err(e) = state.note_change_request(&s.catalog, &path, cr).await {
                    tracing::warn!(error = %e, "the opened request could not be stored");
                }
                render(&s, &me, team, Some((msg, link)), None, StatusCode::OK).await
            }
            Err(e) => fail(StatusCode::CONFLICT, e.to_string()).await,
        };
    }
    let now = chrono::Utc::now().timestamp();
    let repo = std::path::PathBuf::from(&path);
    let written =
        tokio::task::spawn_blocking(move || discovery::commit_proposal(&repo, &yaml, now)).await;
    match written {
        Ok(Ok(w)) => {
            let msg = format!(
                "Committed {} for {} on branch {} ({}). Merge it into the default branch to add {} to the catalog.",
                w.file,
                path,
                w.branch,
                &w.commit[..12.min(w.commit.len())],
                proposal.name()
            );
            render(&s, &me, team, Some((msg, None)), None, StatusCode::OK).await
        }
        Ok(Err(e)) => fail(StatusCode::CONFLICT, e.to_string()).await,
        Err(e) => fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).await,
    }
}

/// The pull or merge request's description: who accepted it and what is still a guess, with
/// the evidence, so the reviewers can judge it.
fn change_request_body(proposal: &Proposal, accepted_by: &str) -> String {
    let mut out = format!(
        "Proposed by Stagedoor discovery and accepted by {accepted_by}.\n\nMerging adds this repository to the catalog.\n"
    );
    if !proposal.guesses.is_empty() {
        out.push_str("\nStill guessed:\n");
        for g in &proposal.guesses {
            out.push_str(&format!(
                "- `{}`: {} ({})\n",
                g.field,
                g.value,
                g.evidence.join("; ")
            ));
        }
    }
    out
}

/// The owner itself, a member of the owning group, or anyone when the owner is not in the catalog.
fn may_accept(snap: &Snapshot, user: &str, owner: &str) -> bool {
    let owner = if owner.contains(':') {
        owner.to_ascii_lowercase()
    } else {
        format!("group:default/{}", owner.to_ascii_lowercase())
    };
    if owner == user {
        return true;
    }
    match snap.entity(&owner) {
        None => true,
        Some(_) => snap
            .entity(user)
            .is_some_and(|u| u.targets(model::relations::MEMBER_OF).any(|g| g == owner)),
    }
}
