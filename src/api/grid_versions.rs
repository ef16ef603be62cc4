//! The grid set's dated versions: `GET /api/grids/versions` (every
//! revision: who, when, why, when it takes effect, applied or scheduled),
//! `GET /api/grids/versions/{revision}` (each grid it changed, before and
//! after, as GeoJSON), `DELETE /api/grids/versions/{revision}` (cancel a
//! scheduled revision) and `POST /api/grids/restore` (the grids as of an
//! earlier time, restored as a new change). Reading the grids as of a time
//! is the `as_of` parameter of the grid, locate and tile routes.

use super::access::Caller;
use super::value_schemas::{Moment, OptionalMoment};
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::error::{ApiError, ProblemDocument};
use super::extract::{Json, Path, Query};
use super::grid_edits::change_note;
use super::grids::{ImportSummaryDto, parse_dry_run, plan_then_apply};
use super::params::parse_moment;
use crate::model::geojson::grid_to_feature;
use crate::model::{GridRevision, Text};
use crate::state::AppState;

/// The largest restore body, bytes: a version, two times and a reason.
const RESTORE_BODY_LIMIT: usize = 16 * 1024;

/// The routes of this resource.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/grids/versions", get(list))
        .route("/api/grids/versions/{revision}", get(one).delete(cancel))
        .route(
            "/api/grids/restore",
            post(restore).layer(DefaultBodyLimit::max(RESTORE_BODY_LIMIT)),
        )
}

/// The OpenAPI description of this resource.
#[derive(OpenApi)]
#[openapi(paths(list, one, cancel, restore))]
pub(super) struct GridVersionsApi;

/// One revision of the grid set.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GridRevision)]
struct RevisionDto {
    /// Its number: the grid-set version it created when recorded.
    #[schema(example = 12)]
    revision: i64,
    /// Who made it.
    actor: String,
    /// When it was recorded.
    #[schema(value_type = String, format = DateTime)]
    recorded_at: jiff::Timestamp,
    /// When it takes (or took) effect.
    #[schema(value_type = String, format = DateTime)]
    effective_at: jiff::Timestamp,
    /// Why, as the planner wrote it (may be empty).
    reason: String,
    /// What it did.
    summary: String,
    /// True when its grids replaced the whole set (an import).
    replaces_all: bool,
    /// `applied` (in force) or `scheduled` (waiting for `effective_at`).
    #[schema(example = "applied")]
    state: String,
    /// When a scheduled revision was applied.
    #[schema(value_type = Option<String>, format = DateTime)]
    applied_at: Option<jiff::Timestamp>,
    /// How many grids it wrote.
    written: usize,
    /// How many grids it removed.
    removed: usize,
}

impl From<GridRevision> for RevisionDto {
    fn from(r: GridRevision) -> Self {
        RevisionDto {
            revision: r.revision,
            actor: r.actor,
            recorded_at: r.recorded_at,
            effective_at: r.effective_at,
            reason: r.reason,
            summary: r.summary,
            replaces_all: r.replaces_all,
            state: r.state.name().to_owned(),
            applied_at: r.applied_at,
            written: r.written,
            removed: r.removed,
        }
    }
}

/// Every revision.
#[derive(Debug, Serialize, ToSchema)]
struct RevisionList {
    /// In the order they take effect (effective time, then number),
    /// scheduled ones last.
    revisions: Vec<RevisionDto>,
}

/// Every revision of the grid set, applied and scheduled.
#[utoipa::path(
    get,
    path = "/api/grids/versions",
    operation_id = "list_grid_versions",
    tag = "grids",
    responses((status = 200, description = "The revisions", body = RevisionList))
)]
async fn list(State(state): State<Arc<AppState>>) -> Result<axum::Json<RevisionList>, ApiError> {
    let revisions = state
        .grids()
        .revisions()
        .await
        .map_err(|e| ApiError::internal("listing the grid revisions", e))?;
    Ok(axum::Json(RevisionList {
        revisions: revisions.into_iter().map(RevisionDto::from).collect(),
    }))
}

/// One grid before and after a revision.
#[derive(Debug, Serialize, ToSchema)]
struct GridChangeDto {
    /// The grid.
    id: String,
    /// As it was just before, a GeoJSON Feature; null when the revision
    /// created it.
    #[schema(value_type = Option<Object>)]
    before: Option<geojson::Feature>,
    /// As the revision wrote it; null when it removed it.
    #[schema(value_type = Option<Object>)]
    after: Option<geojson::Feature>,
}

/// A revision with the grids it changed.
#[derive(Debug, Serialize, ToSchema)]
struct RevisionDetailDto {
    /// The revision.
    revision: RevisionDto,
    /// Every grid it changed, by id.
    grids: Vec<GridChangeDto>,
}

/// One revision, with every grid it changed as it was before and after.
#[utoipa::path(
    get,
    path = "/api/grids/versions/{revision}",
    operation_id = "get_grid_version",
    tag = "grids",
    params(("revision" = i64, Path, description = "The revision's number", example = 12)),
    responses(
        (status = 200, description = "The revision and its grids", body = RevisionDetailDto),
        (status = 404, description = "No revision has this number",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn one(
    State(state): State<Arc<AppState>>,
    Path(revision): Path<String>,
) -> Result<axum::Json<RevisionDetailDto>, ApiError> {
    let revision = revision_number(&revision)?;
    let detail = state.grids().revision_detail(revision).await?;
    Ok(axum::Json(RevisionDetailDto {
        revision: detail.revision.into(),
        grids: detail
            .grids
            .iter()
            .map(|g| GridChangeDto {
                id: g.id.0.clone(),
                before: g.before.as_ref().map(grid_to_feature),
                after: g.after.as_ref().map(grid_to_feature),
            })
            .collect(),
    }))
}

fn revision_number(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>().map_err(|_| {
        ApiError::NotFound(crate::text!(
            "no grid revision {text:?}: revisions are numbers",
            "未找到网格版本 {text:?}：版本号应为数字"
        ))
    })
}

/// The version a cancel is made on.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CancelQuery {
    /// The grid-set version the planner saw (`GET /healthz`
    /// `grid_version`); another change since makes it a 409.
    #[param(value_type = i64, required = true, minimum = 0, example = 12)]
    version: Option<String>,
}

/// Cancel a scheduled revision: it will not take effect. Refused when it is
/// in force already (restore an earlier time instead) or when a revision
/// scheduled after it changes the same grids (cancel that one first).
#[utoipa::path(
    delete,
    path = "/api/grids/versions/{revision}",
    tag = "grids",
    params(("revision" = i64, Path, description = "The scheduled revision", example = 13),
        CancelQuery),
    responses(
        (status = 200, description = "Cancelled", body = Object),
        (status = 400, description = "`version` is missing or malformed",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No revision has this number",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Another grid change since `version`, or a revision \
            scheduled after it changes the same grids; nothing was changed",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The revision is in force already",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn cancel(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(revision): Path<String>,
    Query(query): Query<CancelQuery>,
) -> Result<axum::Json<crate::services::versions::Cancelled>, ApiError> {
    let revision = revision_number(&revision)?;
    let version = query
        .version
        .as_deref()
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v >= 0)
        .ok_or_else(|| {
            ApiError::bad_parameter(
                "version",
                Text::new(
                    "version is required: the grid-set version the cancel is made on",
                    "缺少 version：应为取消时所依据的网格版本号",
                ),
            )
        })?;
    let applying = state.clone();
    let actor = caller.login();
    let cancelled = tokio::spawn(crate::services::origin::inherit(async move {
        applying.grids().cancel(revision, version, &actor).await
    }))
    .await
    .map_err(|e| ApiError::internal("cancelling a grid revision", e))??;
    Ok(axum::Json(cancelled))
}

/// `dry_run` alone.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RestoreQuery {
    /// `true`: check the restore and list its impact, change nothing.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

/// What to restore.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RestoreBody {
    /// The grid-set version the planner saw; another change since makes it
    /// a 409.
    #[schema(example = 14, minimum = 0)]
    version: i64,
    /// Restore the grids in force at this moment: an RFC 3339 time, or a
    /// date (its first moment in China Standard Time). A revision's
    /// `effective_at` restores the grids as that revision left them.
    #[schema(value_type = Moment, example = "2026-12-01T09:30:00+08:00")]
    as_of: String,
    /// When the restore takes effect (as `as_of`): absent or not later than
    /// now, at once; later, scheduled.
    #[serde(default)]
    #[schema(value_type = Option<OptionalMoment>)]
    effective: Option<String>,
    /// Why, kept with the revision (at most 500 characters).
    #[serde(default)]
    reason: Option<String>,
}

/// Restore the grids in force at an earlier moment as a new change: every
/// grid that differs is written back as it was, every grid that did not
/// exist then is removed; open incidents, hazards and routes move back with
/// them. Planned and applied like an edit (the same checks, impact and
/// dry run).
#[utoipa::path(
    post,
    path = "/api/grids/restore",
    tag = "grids",
    params(RestoreQuery),
    request_body(content = RestoreBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Restored (or, with `dry_run=true`, what restoring \
            would do)", body = ImportSummaryDto),
        (status = 400, description = "`as_of`, `effective` or `dry_run` is malformed",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Another grid change since `version`, or a revision \
            scheduled later changes the same grids",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 16 KiB",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The body is malformed (a negative `version`, a \
            `reason` over 500 characters), no grids were in force then, nothing would \
            change, or the result breaks a rule; nothing was changed",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The store failed; nothing was changed",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn restore(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<RestoreQuery>,
    Json(body): Json<RestoreBody>,
) -> Result<axum::Json<ImportSummaryDto>, ApiError> {
    let dry_run = parse_dry_run(query.dry_run.as_deref())?;
    let note = change_note(
        &caller,
        body.version,
        body.reason,
        body.effective.as_deref(),
    )?;
    let to = parse_moment("as_of", &body.as_of)?;
    let plan = state
        .grids()
        .plan_restore(to, Some(body.version), note)
        .await?;
    plan_then_apply(&state, plan, dry_run).await
}
