//! `GET /api/incidents/stats`: the statistics of [`crate::dispatch::stats`]
//! per grid of a level and per month over a period, as JSON, CSV or an
//! Excel workbook (`stats_export.rs` writes the files).

use crate::api::access::Caller;
use crate::api::scope::View;
use crate::api::value_schemas::Time;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::stats_export::{Labels, Lang, level_name, to_csv, to_xlsx};
use crate::api::error::{ApiError, ProblemDocument};
use crate::api::extract::Query;
use crate::api::params::{language, parse_grid, parse_time};
use crate::dispatch::stats::{GridStats, summarise};
use crate::model::IncidentFilter;
use crate::model::Level;
use crate::model::Text;
use crate::state::AppState;
use crate::text;

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
    /// `json` (default), `csv` or `xlsx` (an Excel workbook: per grid,
    /// per month, and what was selected).
    #[param(pattern = "^(json|csv|xlsx)?$")]
    format: Option<String>,
    /// The language of a file's headers: `zh` (the desk's words; a CSV
    /// then starts with a byte-order mark for Excel) or `en` (the JSON
    /// field names). Default: `zh` when `Accept-Language` prefers Chinese,
    /// else `en`.
    #[param(pattern = "^(zh|en)?$")]
    lang: Option<String>,
}

const NAMES: [&str; 7] = ["level", "from", "to", "category", "grid", "format", "lang"];

/// What `format` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Xlsx,
}

/// The media type of an Excel workbook.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

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
    /// One row per month (China Standard Time) with reports, oldest first.
    months: Vec<StatsMonthDoc>,
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

/// One month's figures.
#[derive(Serialize, ToSchema)]
#[schema(as = IncidentStatsMonth)]
#[allow(dead_code)]
struct StatsMonthDoc {
    /// `YYYY-MM`.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}$")]
    month: String,
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
        (status = 200, description = "Per grid (`grids`), per month (`months`) and overall \
            (`total`): reported, resolved, dismissed, open, overdue, resolution_rate, \
            median_hours_to_resolve, and the same by_category; with `format=csv` CSV with one \
            row per grid; with `format=xlsx` an Excel workbook",
            content((StatsDoc = "application/json"), (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "A parameter is wrong; `parameter` names it",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn stats(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let index = state.index();
    let mut level = Level::TOWN;
    let mut filter = IncidentFilter::default();
    let mut format = Format::Json;
    let mut lang = language(&headers);
    for (name, value) in &params {
        let Some(&known) = NAMES.iter().find(|n| **n == name) else {
            let (names, zh_names) = (NAMES.join(", "), NAMES.join("、"));
            return Err(ApiError::bad_parameter(
                name.clone(),
                text!(
                    "unknown parameter {name:?}; they are {names}",
                    "未知参数 {name:?}，可用的参数有：{zh_names}"
                ),
            ));
        };
        let bad = |why: Text| {
            ApiError::bad_parameter(
                known,
                Text::new(
                    format!("{known}: {}", why.en()),
                    format!("{known}：{}", why.zh()),
                ),
            )
        };
        match known {
            "level" => {
                level = value
                    .parse::<i64>()
                    .ok()
                    .and_then(|n| Level::new(n).ok())
                    .ok_or_else(|| {
                        bad(text!(
                            "1 to 5, got {value:?}",
                            "应为 1 至 5，收到的是 {value:?}"
                        ))
                    })?;
            }
            "from" => filter.reported_from = Some(parse_time(known, value)?),
            "to" => filter.reported_to = Some(parse_time(known, value)?),
            "category" => filter.category = Some(value.clone()),
            "grid" => filter.grid = Some(parse_grid(&index, value)?),
            "format" => {
                format = match value.as_str() {
                    "csv" => Format::Csv,
                    "xlsx" => Format::Xlsx,
                    "json" => Format::Json,
                    _ => {
                        return Err(bad(text!(
                            "json, csv or xlsx, got {value:?}",
                            "应为 json、csv 或 xlsx，收到的是 {value:?}"
                        )));
                    }
                }
            }
            "lang" => {
                lang = match value.as_str() {
                    "zh" => Lang::Chinese,
                    "en" => Lang::English,
                    _ => {
                        return Err(bad(text!(
                            "zh or en, got {value:?}",
                            "应为 zh 或 en，收到的是 {value:?}"
                        )));
                    }
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
    if format != Format::Json {
        let categories = state.dispatch().categories();
        // The county's time (UTC+08:00), as the dates were picked.
        let text = |t: Option<Timestamp>| {
            t.map_or(String::new(), |t| {
                jiff::tz::offset(8)
                    .to_datetime(t)
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string()
            })
        };
        let selection = vec![
            ("层级 level", level_name(level, lang)),
            ("起 from", text(filter.reported_from)),
            ("止（不含）to", text(filter.reported_to)),
            ("类别 category", filter.category.clone().unwrap_or_default()),
            (
                "网格 grid",
                filter.grid.as_ref().map_or(String::new(), |(_, g)| {
                    let name = index.get(g).map_or("", |g| g.name.as_str());
                    format!("{} {name}", g.as_str())
                }),
            ),
            ("生成 made", text(Some(Timestamp::now()))),
        ];
        let names: std::collections::HashMap<String, String> = stats
            .grids
            .iter()
            .filter_map(|g| Some((g.grid.as_ref()?.0.clone(), name(g)?)))
            .collect();
        // Written off the async runtime: a level-5 table has a thousand rows.
        let written = tokio::task::spawn_blocking(move || {
            let grid_name =
                |g: &GridStats| g.grid.as_ref().and_then(|id| names.get(&id.0).cloned());
            let labels = Labels {
                grid_name: &grid_name,
                categories: &categories,
                selection,
            };
            if format == Format::Csv {
                to_csv(&stats, lang, &labels)
                    .map(|b| (b, "text/csv; charset=utf-8", "incident-stats.csv"))
                    .map_err(|e| e.to_string())
            } else {
                to_xlsx(&stats, lang, &labels)
                    .map(|b| (b, XLSX, "incident-stats.xlsx"))
                    .map_err(|e| e.to_string())
            }
        })
        .await
        .map_err(|e| ApiError::internal("writing statistics as a file", e))?;
        let (body, content_type, file) =
            written.map_err(|e| ApiError::internal("writing statistics as a file", e))?;
        return Ok((
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file}\""),
                ),
                // The headers' language may follow Accept-Language.
                (header::VARY, "accept-language".to_owned()),
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
        "months": stats.months,
        "total": stats.total,
    }))
    .into_response())
}
