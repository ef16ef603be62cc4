//! `GET /api/incidents/stats`: the statistics of [`crate::dispatch::stats`]
//! per grid of a level over a period, as JSON or CSV.

use crate::api::access::Caller;
use crate::api::scope::View;
use crate::api::value_schemas::Time;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::error::{ApiError, ProblemDocument};
use crate::api::extract::Query;
use crate::api::params::{parse_grid, parse_time};
use crate::dispatch::stats::{Counts, GridStats, summarise};
use crate::model::IncidentFilter;
use crate::model::Level;
use crate::state::AppState;

/// The parameters, for the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct StatsParams {
    /// Group by the grids of this level, 1 (towns, default) to 5.
    #[param(minimum = 1, maximum = 5)]
    level: Option<u8>,
    /// Reported at or after (RFC 3339).
    #[param(value_type = Option<Time>)]
    from: Option<String>,
    /// Reported before (RFC 3339).
    #[param(value_type = Option<Time>)]
    to: Option<String>,
    /// Only this category.
    category: Option<String>,
    /// Only incidents reported inside this grid.
    grid: Option<String>,
    /// `json` (default) or `csv`.
    #[param(pattern = "^(json|csv)?$")]
    format: Option<String>,
}

const NAMES: [&str; 6] = ["level", "from", "to", "category", "grid", "format"];

/// One grid's row in JSON: the grid's name and level beside the figures.
#[derive(Serialize)]
struct Row<'a> {
    grid: Option<&'a str>,
    name: Option<String>,
    #[serde(flatten)]
    stats: &'a GridStats,
}

// The three types below describe the JSON answer in the OpenAPI
// document; it is written from `dispatch::stats` by `stats`.

/// Incident statistics per grid of a level.
#[derive(Serialize, ToSchema)]
#[schema(as = IncidentStats)]
#[allow(dead_code)]
struct StatsDoc {
    /// The level grouped by, 1 (towns) to 5.
    level: u8,
    /// `from` as given (RFC 3339), or null.
    #[schema(value_type = Option<String>, format = DateTime)]
    from: (),
    /// `to` as given (RFC 3339), or null.
    #[schema(value_type = Option<String>, format = DateTime)]
    to: (),
    /// One row per grid with incidents (those outside every grid of the
    /// level last, with `grid` null).
    grids: Vec<StatsRowDoc>,
    /// Everything selected (`grid` null, no `name`).
    total: StatsRowDoc,
}

/// One grid's figures (or the total's).
#[derive(Serialize, ToSchema)]
#[schema(as = IncidentStatsRow)]
#[allow(dead_code)]
struct StatsRowDoc {
    /// The grid's id; null for the total and for incidents outside every
    /// grid of the level.
    grid: Option<String>,
    /// The grid's name (rows of `grids` only).
    name: Option<String>,
    /// All categories together.
    #[serde(flatten)]
    counts: CountsDoc,
    /// The same per category code.
    by_category: std::collections::BTreeMap<String, CountsDoc>,
}

/// Counts of incidents reported in a grid.
#[derive(Serialize, ToSchema)]
#[schema(as = IncidentCounts)]
#[allow(dead_code)]
struct CountsDoc {
    /// Reported in the period.
    reported: u64,
    /// Of those, resolved.
    resolved: u64,
    /// Of those, dismissed as false or duplicate.
    dismissed: u64,
    /// Of those, still being handled.
    open: u64,
    /// Of the open ones, past their deadline now.
    overdue: u64,
    /// `resolved / (reported - dismissed)`, 0 to 1; null with nothing to
    /// resolve.
    resolution_rate: Option<f64>,
    /// Median hours from report to resolution, over the resolved.
    median_hours_to_resolve: Option<f64>,
}

/// Incident statistics per grid of a level.
#[utoipa::path(
    get,
    path = "/api/incidents/stats",
    tag = "incidents",
    params(StatsParams),
    responses(
        (status = 200, description = "Per grid (`grids`) and overall (`total`): reported, \
            resolved, dismissed, open, overdue, resolution_rate, median_hours_to_resolve, \
            and the same by_category; or with `format=csv` CSV with one row per grid",
            content((StatsDoc = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter is wrong; `parameter` names it",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn stats(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let index = state.index();
    let mut level = Level::TOWN;
    let mut filter = IncidentFilter::default();
    let mut csv = false;
    for (name, value) in &params {
        let Some(&known) = NAMES.iter().find(|n| **n == name) else {
            return Err(ApiError::bad_parameter(
                name.clone(),
                format!("unknown parameter {name:?}; they are {}", NAMES.join(", ")),
            ));
        };
        let bad = |why: String| ApiError::bad_parameter(known, format!("{known}: {why}"));
        match known {
            "level" => {
                level = value
                    .parse::<i64>()
                    .ok()
                    .and_then(|n| Level::new(n).ok())
                    .ok_or_else(|| bad(format!("1 to 5, got {value:?}")))?;
            }
            "from" => filter.reported_from = Some(parse_time(known, value)?),
            "to" => filter.reported_to = Some(parse_time(known, value)?),
            "category" => filter.category = Some(value.clone()),
            "grid" => filter.grid = Some(parse_grid(&index, value)?),
            "format" => {
                csv = match value.as_str() {
                    "csv" => true,
                    "json" => false,
                    _ => return Err(bad(format!("json or csv, got {value:?}"))),
                }
            }
            _ => unreachable!("every name in NAMES is handled"),
        }
    }
    // Only the caller's view is counted.
    let incidents = if View::of(&caller, &index).narrow(&mut filter, &index) {
        state
            .dispatch()
            .incidents(&filter, u32::MAX, 0)
            .await
            .map_err(|e| ApiError::internal("reading incidents for statistics", e))?
            .incidents
    } else {
        Vec::new()
    };
    let now = Timestamp::now();
    let stats = tokio::task::spawn_blocking(move || summarise(&incidents, level, now))
        .await
        .map_err(|e| ApiError::internal("summarising incidents", e))?;
    let name = |g: &GridStats| {
        g.grid
            .as_ref()
            .and_then(|id| index.get(id))
            .map(|g| g.name.clone())
    };
    if csv {
        let body = to_csv(&stats.grids, &stats.total, level, name)
            .map_err(|e| ApiError::internal("writing statistics as CSV", e))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"incident-stats.csv\"",
                ),
            ],
            body,
        )
            .into_response());
    }
    let rows: Vec<Row> = stats
        .grids
        .iter()
        .map(|g| Row {
            grid: g.grid.as_ref().map(|id| id.as_str()),
            name: name(g),
            stats: g,
        })
        .collect();
    Ok(axum::Json(serde_json::json!({
        "level": level.get(),
        "from": filter.reported_from,
        "to": filter.reported_to,
        "grids": rows,
        "total": stats.total,
    }))
    .into_response())
}

/// One row per grid, then `total`: the overall figures, then reported and
/// resolved per category (every category seen, in code order).
fn to_csv(
    grids: &[GridStats],
    total: &GridStats,
    level: Level,
    name: impl Fn(&GridStats) -> Option<String>,
) -> Result<Vec<u8>, csv::Error> {
    let categories: Vec<&String> = total.by_category.keys().collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "grid",
        "name",
        "level",
        "reported",
        "resolved",
        "dismissed",
        "open",
        "overdue",
        "resolution_rate",
        "median_hours_to_resolve",
    ]
    .map(String::from)
    .to_vec();
    for c in &categories {
        header.push(format!("{c}_reported"));
        header.push(format!("{c}_resolved"));
    }
    out.write_record(&header)?;
    let figures = |c: &Counts| {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
        vec![
            c.reported.to_string(),
            c.resolved.to_string(),
            c.dismissed.to_string(),
            c.open.to_string(),
            c.overdue.to_string(),
            opt(c.resolution_rate),
            opt(c.median_hours_to_resolve),
        ]
    };
    let row = |g: &GridStats, id: String, grid_name: String| {
        let mut r = vec![id, grid_name, level.get().to_string()];
        r.extend(figures(&g.counts));
        for c in &categories {
            let counts = g.by_category.get(*c).cloned().unwrap_or_default();
            r.push(counts.reported.to_string());
            r.push(counts.resolved.to_string());
        }
        r
    };
    for g in grids {
        let id = g.grid.as_ref().map_or(String::new(), |id| id.0.clone());
        out.write_record(row(g, id, name(g).unwrap_or_default()))?;
    }
    out.write_record(row(total, "total".into(), String::new()))?;
    out.into_inner().map_err(|e| e.into_error().into())
}
