//! `GET /api/coverage`, `GET /api/hazards/calendar` and
//! `GET /api/hazards/{id}/inspections`.

use std::sync::Arc;

use axum::extract::State;
use jiff::Timestamp;
use serde::Deserialize;

use crate::api::error::{ApiError, ProblemDocument};
use crate::api::extract::{Path, Query};
use crate::api::params::time_or_now;
use crate::api::value_schemas::TimeOrNow;
use crate::model::{GridId, HazardId};
use crate::patrol::coverage::{Coverage, DueDay, Inspection, inspections_of};
use crate::state::AppState;
use crate::text;

use super::{Reach, period};
use crate::api::access::Caller;

/// Coverage of which grid, when.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct CoverageParams {
    /// The grid (any level; its subtree counts).
    #[param(min_length = 1)]
    grid: String,
    /// Period start (RFC 3339) or `now`; default 30 days before `to`.
    #[param(value_type = Option<TimeOrNow>)]
    from: Option<String>,
    /// Period end (RFC 3339) or `now`; default now.
    #[param(value_type = Option<TimeOrNow>)]
    to: Option<String>,
}

/// Coverage of a grid over a period: inspections required and made, missed
/// stops, patrol length and time, day and night.
#[utoipa::path(
    get,
    path = "/api/coverage",
    tag = "patrols",
    params(CoverageParams),
    responses(
        (status = 200, description = "Coverage", body = Coverage),
        (status = 400, description = "A parameter is wrong", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The grid lies outside yours", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn coverage_of(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Query<CoverageParams>,
) -> Result<axum::Json<Coverage>, ApiError> {
    // Coverage is patrol data: who walked where, which stops were missed.
    Reach::of(&state, caller).may_plan_for(&GridId(params.grid.clone()))?;
    let now = Timestamp::now();
    let (from, to) = period(params.from.as_deref(), params.to.as_deref(), now)?;
    let index = state.index();
    Ok(axum::Json(
        state
            .patrols()
            .coverage(&index, &GridId(params.grid), from, to)
            .await?,
    ))
}

/// The due calendar's range.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct CalendarParams {
    /// The grid (any level).
    #[param(min_length = 1)]
    grid: String,
    /// First day's start (RFC 3339) or `now`; default now.
    #[param(value_type = Option<TimeOrNow>)]
    from: Option<String>,
    /// How many days (1–366, default 14).
    days: Option<u32>,
}

/// Which hazards fall due on each day.
#[utoipa::path(
    get,
    path = "/api/hazards/calendar",
    tag = "patrols",
    params(CalendarParams),
    responses(
        (status = 200, description = "One entry per day", body = Vec<DueDay>),
        (status = 400, description = "A parameter is wrong", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn calendar_of(
    State(state): State<Arc<AppState>>,
    Query(params): Query<CalendarParams>,
) -> Result<axum::Json<Vec<DueDay>>, ApiError> {
    let now = Timestamp::now();
    let from = time_or_now("from", params.from.as_deref(), now)?;
    let index = state.index();
    Ok(axum::Json(
        state
            .patrols()
            .calendar(
                &index,
                &GridId(params.grid),
                from,
                params.days.unwrap_or(14),
            )
            .await?,
    ))
}

/// The longest period of a hazard's inspection history, days.
const MAX_HISTORY_DAYS: i64 = 366;

/// Which period of a hazard's inspections.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct InspectionParams {
    /// Patrols started at or after (RFC 3339) or `now`; default 30 days
    /// before `to`. At most 366 days before `to`.
    #[param(value_type = Option<TimeOrNow>)]
    from: Option<String>,
    /// Patrols started before (RFC 3339) or `now`; default now.
    #[param(value_type = Option<TimeOrNow>)]
    to: Option<String>,
}

/// A hazard's inspection history: each patrol that reached it, newest first,
/// with who, when, how close, and the check-in's photo. Only patrols of the
/// caller's grids are listed.
#[utoipa::path(
    get,
    path = "/api/hazards/{id}/inspections",
    tag = "patrols",
    params(("id" = i64, Path, description = "The hazard's number"), InspectionParams),
    responses(
        (status = 200, description = "Inspections, newest first", body = Vec<Inspection>),
        (status = 400, description = "A parameter is wrong; `parameter` names it", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such hazard", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn inspections(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(params): Query<InspectionParams>,
) -> Result<axum::Json<Vec<Inspection>>, ApiError> {
    let now = Timestamp::now();
    let (from, to) = period(params.from.as_deref(), params.to.as_deref(), now)?;
    if to.duration_since(from) > jiff::SignedDuration::from_hours(24 * MAX_HISTORY_DAYS) {
        return Err(ApiError::bad_parameter(
            "from",
            text!(
                "an inspection history covers at most {MAX_HISTORY_DAYS} days",
                "检查记录的查询时段最长为 {MAX_HISTORY_DAYS} 天"
            ),
        ));
    }
    let hazard = HazardId(id);
    let patrols = state.patrols();
    if patrols
        .hazard(hazard)
        .await
        .map_err(|e| ApiError::internal("reading a hazard", e))?
        .is_none()
    {
        return Err(ApiError::NotFound(text!(
            "there is no hazard {id}",
            "未找到编号为 {id} 的隐患"
        )));
    }
    let reach = Reach::of(&state, caller);
    let visiting: Vec<_> = patrols
        .patrols_visiting(hazard, from, to)
        .await
        .map_err(|e| ApiError::internal("listing patrols", e))?
        .into_iter()
        .filter(|p| reach.sees(&p.grid))
        .collect();
    Ok(axum::Json(inspections_of(hazard, &visiting)))
}
