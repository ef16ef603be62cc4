//! Patrols of saved routes: start, tracks (GeoJSON or GPX), check-ins
//! (optionally raising an incident), finish, and reading them for replay.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::api::error::{ApiError, ProblemDocument};
use crate::api::extract::{Body, Json, Path, Query, declared_media};
use crate::api::params::time_or_now;
use crate::api::value_schemas::{Position, SeverityName, TimeOrNow};
use crate::dispatch::{self, Report};
use crate::geom::{InputCrs, LonLat};
use crate::model::{CheckIn, Localized, Patrol, PatrolId, ReportSource, RouteId, Text};
use crate::patrol::{execute, tracks};
use crate::state::AppState;
use crate::text;
use crate::workflow::Severity;

use super::planning::find_route;
use super::{Reach, period};
use crate::api::access::Caller;

/// A patrol as JSON: the visits (with the stop names), check-ins, and the
/// track as a GeoJSON LineString with its times, for replay.
fn patrol_json(patrol: &Patrol) -> Value {
    // GeoJSON wants two positions for a LineString: one fix is a Point,
    // none is no geometry.
    let coords: Vec<[f64; 2]> = patrol.track.iter().map(|p| [p.at.lon, p.at.lat]).collect();
    let track_geometry = match coords.as_slice() {
        [] => Value::Null,
        [one] => json!({"type": "Point", "coordinates": one}),
        _ => json!({"type": "LineString", "coordinates": coords}),
    };
    let visits: Vec<Value> = patrol
        .visits
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let stop = patrol.stops.get(k);
            json!({
                "stop": k,
                "hazard": v.hazard,
                "name": stop.map(|s| s.name.as_str()),
                "location": stop.map(|s| [s.location.lon, s.location.lat]),
                "visited_at": v.visited_at.map(|t| t.to_string()),
                "closest_m": v.closest_m,
                "missed": v.visited_at.is_none() && patrol.status == crate::model::PatrolStatus::Finished,
            })
        })
        .collect();
    json!({
        "id": patrol.id.0,
        "route": patrol.route.0,
        "grid": patrol.grid.as_str(),
        "shift": patrol.shift,
        "member": patrol.member,
        "status": patrol.status,
        "started_at": patrol.started_at.to_string(),
        "finished_at": patrol.finished_at.map(|t| t.to_string()),
        "radius_m": patrol.radius_m,
        "track_m": patrol.track_m,
        "visited": patrol.visits.iter().filter(|v| v.visited_at.is_some()).count(),
        "missed": execute::missed(patrol).len(),
        "visits": visits,
        "checkins": patrol.checkins.iter().map(|c| json!({
            "point": [c.at.lon, c.at.lat], "time": c.time.to_string(),
            "photo_url": c.photo_url, "note": c.note, "incident": c.incident,
        })).collect::<Vec<_>>(),
        "track": {
            "type": "Feature",
            "geometry": track_geometry,
            "properties": {"times": patrol.track.iter().map(|p| p.time.map(|t| t.to_string())).collect::<Vec<_>>()},
        },
        "version": patrol.version,
    })
}

/// A patrol (JSON: visits, check-ins, track).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer; the handlers build it as JSON
pub(super) struct PatrolDoc {
    /// Its number.
    id: i64,
    /// The route walked.
    route: i64,
    /// `active` or `finished`.
    status: String,
    /// Stops visited.
    visited: usize,
    /// Stops missed (finished) or not yet visited (active).
    missed: usize,
}

/// The patrols of a period.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer of `list_patrols`
pub(super) struct PatrolListDoc {
    /// Started in the period, of the grids the caller sees.
    patrols: Vec<PatrolSummaryDoc>,
}

/// A patrol as listed (no track, no visits).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer of `list_patrols`
pub(super) struct PatrolSummaryDoc {
    /// Its number.
    id: i64,
    /// The route walked.
    route: i64,
    /// The route's grid.
    grid: String,
    /// `day` or `night`.
    shift: String,
    /// The login walking it.
    member: String,
    /// `active` or `finished`.
    status: String,
    /// RFC 3339.
    started_at: String,
    /// RFC 3339, or null while active.
    finished_at: Option<String>,
    /// Metres of track.
    track_m: f64,
    /// Stops on the route.
    stops: usize,
    /// Stops visited.
    visited: usize,
}

fn answer_patrol(patrol: &Patrol, status: StatusCode) -> Response {
    (status, axum::Json(patrol_json(patrol))).into_response()
}

/// How a patrol starts. The member walking it is the caller: a patrol is
/// recorded under the login that starts it, never a name in the body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StartBody {
    /// Metres within which a stop counts as visited (default 30).
    radius_m: Option<f64>,
    /// When it started (RFC 3339) or `now`; default now.
    #[schema(value_type = Option<TimeOrNow>)]
    started_at: Option<String>,
}

/// Start a patrol of a saved route.
#[utoipa::path(
    post,
    path = "/api/routes/{id}/patrols",
    tag = "patrols",
    params(("id" = i64, Path, description = "The route's number")),
    request_body = StartBody,
    responses(
        (status = 201, description = "Started", body = PatrolDoc),
        (status = 404, description = "No such route (or not of your grids)", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn start_patrol(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<StartBody>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let at = time_or_now("started_at", body.started_at.as_deref(), now)?;
    let reach = Reach::of(&state, caller);
    find_route(&state, &reach, id).await?;
    let member = reach.login();
    let patrol = execute::start(state.feed(), RouteId(id), &member, body.radius_m, at).await?;
    Ok(answer_patrol(&patrol, StatusCode::CREATED))
}

/// Which patrols to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct PatrolListParams {
    /// Only patrols of this route.
    route: Option<i64>,
    /// Started at or after (RFC 3339) or `now`; default 30 days ago.
    #[param(value_type = Option<TimeOrNow>)]
    from: Option<String>,
    /// Started before (RFC 3339) or `now`; default now.
    #[param(value_type = Option<TimeOrNow>)]
    to: Option<String>,
}

/// Patrols started in a period.
#[utoipa::path(
    get,
    path = "/api/patrols",
    tag = "patrols",
    params(PatrolListParams),
    responses((status = 200, description = "Patrols (without tracks)", body = PatrolListDoc))
)]
pub(super) async fn list_patrols(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Query<PatrolListParams>,
) -> Result<axum::Json<Value>, ApiError> {
    let reach = Reach::of(&state, caller);
    let now = Timestamp::now();
    let (from, to) = period(params.from.as_deref(), params.to.as_deref(), now)?;
    let found = state
        .patrols()
        .patrols(from, to, params.route.map(RouteId))
        .await
        .map_err(|e| ApiError::internal("listing patrols", e))?;
    let list: Vec<Value> = found
        .iter()
        .filter(|p| reach.sees(&p.grid))
        .map(|p| {
            json!({
                "id": p.id.0, "route": p.route.0, "grid": p.grid.as_str(), "shift": p.shift,
                "member": p.member, "status": p.status, "started_at": p.started_at.to_string(),
                "finished_at": p.finished_at.map(|t| t.to_string()), "track_m": p.track_m,
                "stops": p.visits.len(),
                "visited": p.visits.iter().filter(|v| v.visited_at.is_some()).count(),
            })
        })
        .collect();
    Ok(axum::Json(json!({ "patrols": list })))
}

/// One patrol, with its track for replay.
#[utoipa::path(
    get,
    path = "/api/patrols/{id}",
    tag = "patrols",
    params(("id" = i64, Path, description = "The patrol's number")),
    responses(
        (status = 200, description = "The patrol", body = PatrolDoc),
        (status = 404, description = "No such patrol (or not of your grids)", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn one_patrol(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let patrol = find_patrol(&state, &Reach::of(&state, caller), id).await?;
    Ok(answer_patrol(&patrol, StatusCode::OK))
}

/// The patrol, if it exists and is in the caller's reach; the same 404
/// otherwise.
async fn find_patrol(state: &AppState, reach: &Reach, id: i64) -> Result<Patrol, ApiError> {
    state
        .patrols()
        .patrol(PatrolId(id))
        .await
        .map_err(|e| ApiError::internal("reading a patrol", e))?
        .filter(|patrol| reach.sees(&patrol.grid))
        .ok_or_else(|| {
            ApiError::NotFound(text!("there is no patrol {id}", "未找到编号为 {id} 的巡查"))
        })
}

/// The patrol, if the caller may record on it: in reach, and their own
/// when they are a grid member.
async fn patrol_to_record(state: &AppState, caller: Caller, id: i64) -> Result<Patrol, ApiError> {
    let reach = Reach::of(state, caller);
    let patrol = find_patrol(state, &reach, id).await?;
    reach.may_record_for(&patrol.member)?;
    Ok(patrol)
}

/// Add GPS track points: a GPX document (`Content-Type:
/// application/gpx+xml`) or GeoJSON (a LineString Feature with
/// `properties.times`, or Points with `properties.time`).
#[utoipa::path(
    post,
    path = "/api/patrols/{id}/track",
    tag = "patrols",
    params(("id" = i64, Path, description = "The patrol's number")),
    request_body(content = String, description = "GPX 1.1 or GeoJSON", content_type = "application/gpx+xml"),
    responses(
        (status = 403, description = "A grid member may record their own patrols only", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such patrol (or not of your grids)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "The body is not GPX (`application/gpx+xml`, `application/xml`, `text/xml`) or GeoJSON (`application/geo+json`, `application/json`); nothing changed",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 200, description = "The patrol with the stops the track reached marked", body = PatrolDoc),
        (status = 400, description = "The track is unreadable; `parameter` says where", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The patrol is finished", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn post_track(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    patrol_to_record(&state, caller, id).await?;
    let media = declared_media(
        &headers,
        &[
            "application/gpx+xml",
            "application/xml",
            "text/xml",
            "application/geo+json",
            "application/json",
        ],
    )?;
    let is_gpx = media.contains("xml");
    let points = tokio::task::spawn_blocking(move || {
        if is_gpx {
            tracks::from_gpx(&body)
        } else {
            tracks::from_geojson(&body)
        }
    })
    .await
    .map_err(|e| ApiError::internal("reading a track", e))??;
    let patrol = execute::add_track(state.feed(), PatrolId(id), points, Timestamp::now()).await?;
    Ok(answer_patrol(&patrol, StatusCode::OK))
}

/// An incident raised from a check-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RaiseBody {
    /// Incident category code (see `/api/incidents/categories`).
    category: String,
    /// What was found.
    description: String,
    /// `minor` (default), `major` or `critical`.
    #[serde(default)]
    #[schema(value_type = Option<SeverityName>)]
    severity: Option<Severity>,
}

/// A check-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckInBody {
    /// Where, `[lon, lat]` WGS84.
    #[schema(value_type = Position)]
    point: [f64; 2],
    /// When (RFC 3339) or `now`; default now.
    #[schema(value_type = Option<TimeOrNow>)]
    time: Option<String>,
    /// A photo's URL.
    photo_url: Option<String>,
    /// A note.
    note: Option<String>,
    /// Raise an incident here, linked to the patrol.
    incident: Option<RaiseBody>,
}

/// Post a check-in (marks stops within the radius visited); optionally
/// raise an incident from it, linked to the patrol.
#[utoipa::path(
    post,
    path = "/api/patrols/{id}/checkins",
    tag = "patrols",
    params(("id" = i64, Path, description = "The patrol's number")),
    request_body = CheckInBody,
    responses(
        (status = 429, description = "Raising an incident past the member's report rate; `Retry-After` says when; nothing recorded", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "A grid member may record their own patrols only", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such patrol (or not of your grids)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 200, description = "The patrol with the check-in", body = PatrolDoc),
        (status = 400, description = "A field is wrong", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The patrol is finished", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn post_checkin(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<CheckInBody>,
) -> Result<Response, ApiError> {
    let (actor, source) = (caller.login(), caller.source.clone());
    patrol_to_record(&state, caller, id).await?;
    if let Some(note) = &body.note {
        crate::patrol::bounded("note", note, crate::patrol::MAX_TEXT_CHARS)?;
    }
    if let Some(url) = &body.photo_url {
        crate::patrol::bounded("photo_url", url, crate::patrol::MAX_URL_CHARS)?;
    }
    let now = Timestamp::now();
    let time = time_or_now("time", body.time.as_deref(), now)?;
    let at = LonLat::new(body.point[0], body.point[1]);
    // Everything that could refuse the check-in is checked before an
    // incident is raised from it, so a refused check-in raises nothing.
    // (The incident and the check-in are two writes: should the second
    // fail for another reason, the incident stands and the error says so.)
    state
        .patrols()
        .can_check_in(PatrolId(id), at, time, now)
        .await?;
    let incident = match body.incident {
        None => None,
        Some(raise) => {
            // A report like any other: counted against the member's rate.
            crate::api::incidents::take_report(&state, &actor, &source)?;
            let reported = dispatch::report(
                state.dispatch(),
                Report {
                    category: raise.category,
                    description: raise.description,
                    point: at,
                    crs: InputCrs::Wgs84,
                    severity: raise.severity.unwrap_or(Severity::Minor),
                    source: ReportSource::Patrol,
                    reporter: None,
                    photos: body.photo_url.iter().cloned().collect(),
                    actor,
                    note: Some(format!("raised on patrol {id}")),
                },
                now,
            )
            .await?;
            Some(reported.incident.id)
        }
    };
    let checkin = CheckIn {
        at,
        time,
        photo_url: body.photo_url,
        note: body.note,
        incident,
    };
    let patrol = execute::check_in(state.feed(), PatrolId(id), checkin, now)
        .await
        .map_err(|e| match incident {
            Some(raised) => ApiError::Conflict(Text::new(
                format!(
                    "incident {} was raised, but the check-in could not be recorded: {e}",
                    raised.0
                ),
                format!("事件 {} 已上报，但打卡未能记录：{}", raised.0, e.zh()),
            )),
            None => e.into(),
        })?;
    Ok(answer_patrol(&patrol, StatusCode::OK))
}

/// When a patrol finished.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FinishBody {
    /// When (RFC 3339) or `now`; default now.
    #[schema(value_type = Option<TimeOrNow>)]
    at: Option<String>,
}

/// Finish a patrol: stops not visited are missed (漏巡).
#[utoipa::path(
    post,
    path = "/api/patrols/{id}/finish",
    tag = "patrols",
    params(("id" = i64, Path, description = "The patrol's number")),
    request_body = FinishBody,
    responses(
        (status = 403, description = "A grid member may record their own patrols only", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such patrol (or not of your grids)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 200, description = "The finished patrol", body = PatrolDoc),
        (status = 409, description = "Already finished", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn finish_patrol(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<FinishBody>,
) -> Result<Response, ApiError> {
    patrol_to_record(&state, caller, id).await?;
    let now = Timestamp::now();
    let at = time_or_now("at", body.at.as_deref(), now)?;
    let patrol = execute::finish(state.feed(), PatrolId(id), at, now).await?;
    Ok(answer_patrol(&patrol, StatusCode::OK))
}
