//! `/api/changes`: the change feed, in commit order. A client (another
//! server, a sync job, a map that was offline) keeps the last sequence
//! number it saw and asks for what came after. A reader bound to a grid
//! sees the entries about incidents and patrols of their subtree only.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;

use super::extract::Query;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::access::Caller;
use super::error::{ApiError, ProblemDocument};
use super::scope::View;
use crate::model::{Change, ChangeKind, IncidentId, PatrolId};
use crate::state::AppState;
use crate::text;

/// Entries per page unless `limit` says otherwise.
const DEFAULT_LIMIT: u32 = 100;
/// The most entries one page holds.
const MAX_LIMIT: u32 = 1000;

/// The routes of this resource.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/api/changes", get(changes))
}

/// The OpenAPI description of this resource.
#[derive(OpenApi)]
#[openapi(paths(changes))]
pub(super) struct ChangesApi;

/// Which page of the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ChangesQuery {
    /// Entries after this sequence number (default 0: from the start).
    #[param(value_type = Option<i64>, minimum = 0)]
    since: Option<String>,
    /// At most this many entries (default 100, at most 1000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// One committed change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Change)]
struct ChangeDto {
    /// Its sequence number: increasing in commit order, never reused.
    #[schema(example = 42)]
    seq: i64,
    /// `grids`, `incident`, `hazard`, `route`, `patrol` or `roads`.
    #[schema(example = "incident")]
    kind: &'static str,
    /// The ids it touched.
    #[schema(example = json!(["17"]))]
    ids: Vec<String>,
    /// Who made it.
    actor: String,
    /// When (RFC 3339).
    #[schema(value_type = String, example = "2026-12-04T02:31:43.120Z")]
    at: jiff::Timestamp,
    /// What changed, in a sentence.
    summary: String,
}

impl From<Change> for ChangeDto {
    fn from(c: Change) -> Self {
        ChangeDto {
            seq: c.seq,
            kind: c.kind.name(),
            ids: c.ids,
            actor: c.actor,
            at: c.at,
            summary: c.summary,
        }
    }
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
struct ChangesPage {
    /// The entries, oldest first.
    changes: Vec<ChangeDto>,
    /// Ask with `since` set to this for the next page (the last entry's
    /// number, or `since` when the page is empty).
    next: i64,
    /// The newest sequence number committed when this page was read.
    latest: i64,
}

/// The change feed after `since`, oldest first: every grid import, incident
/// report and action, hazard, route, patrol and road-network change.
#[utoipa::path(
    get,
    path = "/api/changes",
    tag = "changes",
    params(ChangesQuery),
    responses(
        (status = 200, description = "A page of the feed", body = ChangesPage),
        (status = 400, description = "`since` or `limit` is malformed",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The store could not be read",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn changes(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<ChangesQuery>,
) -> Result<axum::Json<ChangesPage>, ApiError> {
    let since = match query.since.as_deref() {
        None | Some("") => 0,
        Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad_parameter(
                "since",
                text!(
                    "since must be a sequence number (0 or more), got {s:?}",
                    "since 必须是不小于 0 的序号，收到的是 {s:?}"
                ),
            )
        })?,
    };
    let limit = match query.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_parameter(
                    "limit",
                    text!(
                        "limit must be from 1 to {MAX_LIMIT}, got {s:?}",
                        "limit 必须在 1 至 {MAX_LIMIT} 之间，收到的是 {s:?}"
                    ),
                )
            })?,
    };
    let feed = state.feed();
    let latest = feed
        .latest()
        .await
        .map_err(|e| ApiError::internal("reading the change feed", e))?;
    let page = feed
        .read(since, limit)
        .await
        .map_err(|e| ApiError::internal("reading the change feed", e))?;
    let next = page.last().map_or(since, |c| c.seq);
    let view = View::of(&caller, &state.index());
    let mut changes = Vec::with_capacity(page.len());
    for change in page {
        if in_view(&state, &view, &change).await? {
            changes.push(ChangeDto::from(change));
        }
    }
    Ok(axum::Json(ChangesPage {
        changes,
        next,
        latest,
    }))
}

/// Whether a grid-bound reader may see a feed entry: entries about people
/// (incidents, patrols) only when every one they name is in the reader's
/// subtree; the rest (grids, hazards, routes, roads) name nobody. `next`
/// still moves past what is left out, so paging never stalls on it.
async fn in_view(state: &AppState, view: &View, change: &Change) -> Result<bool, ApiError> {
    match view {
        View::All => return Ok(true),
        // Nothing to look up for a reader who sees none of it.
        View::Nothing => return Ok(false),
        View::Subtree(..) => {}
    }
    let ids = || change.ids.iter().filter_map(|id| id.parse::<i64>().ok());
    match change.kind {
        ChangeKind::Incident => {
            for id in ids() {
                let incident = state
                    .dispatch()
                    .incident(IncidentId(id))
                    .await
                    .map_err(|e| ApiError::internal("reading an incident of the feed", e))?;
                if !incident.is_some_and(|i| view.sees(&i)) {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        ChangeKind::Patrol => {
            let index = state.index();
            for id in ids() {
                let patrol = state
                    .patrols()
                    .patrol(PatrolId(id))
                    .await
                    .map_err(|e| ApiError::internal("reading a patrol of the feed", e))?;
                if !patrol.is_some_and(|p| view.sees_grid(&p.grid, &index)) {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        ChangeKind::Unreadable => Ok(false),
        ChangeKind::Grids | ChangeKind::Hazard | ChangeKind::Route | ChangeKind::Roads => Ok(true),
    }
}
