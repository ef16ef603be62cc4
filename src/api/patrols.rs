//! Patrol routes and patrols over HTTP: plan a route for a grid and shift,
//! save and edit routes, start a patrol, post its track (GeoJSON or GPX) and
//! check-ins, finish it; coverage and the due calendar. Handlers parse and
//! answer; the rules are in [`crate::patrol`]. Routes are answered as GeoJSON
//! FeatureCollections (the way as a LineString, then the stops as Points)
//! so a map can draw them as they come.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{OpenApi, ToSchema};

use super::error::{ApiError, ProblemDocument};
use super::extract::{Json, Path, Query};
use super::hazards::{geo_json, parse_time};
use crate::dispatch::{self, Report};
use crate::geom::{InputCrs, LonLat};
use crate::model::{
    CheckIn, GridId, HazardId, Patrol, PatrolId, ReportSource, Route, RouteId, Shift, TravelMode,
};
use crate::patrol::coverage::{self, Coverage, DueDay};
use crate::patrol::plan::{self, PlanRequest};
use crate::patrol::routes::{self, RouteInput, StopInput};
use crate::patrol::{execute, tracks};
use crate::routing::SearchLimits;
use crate::state::AppState;
use crate::workflow::Severity;

/// The routes of these resources.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/patrol-plans", post(plan_route))
        .route("/api/routes", post(save_route).get(list_routes))
        .route(
            "/api/routes/{id}",
            get(one_route).put(edit_route).delete(delete_route),
        )
        .route("/api/routes/{id}/patrols", post(start_patrol))
        .route("/api/patrols", get(list_patrols))
        .route("/api/patrols/{id}", get(one_patrol))
        .route("/api/patrols/{id}/track", post(post_track))
        .route("/api/patrols/{id}/checkins", post(post_checkin))
        .route("/api/patrols/{id}/finish", post(finish_patrol))
        .route("/api/coverage", get(coverage_of))
        .route("/api/hazards/calendar", get(calendar_of))
}

/// The OpenAPI description of these resources.
#[derive(OpenApi)]
#[openapi(
    paths(plan_route, save_route, list_routes, one_route, edit_route, delete_route, start_patrol,
        list_patrols, one_patrol, post_track, post_checkin, finish_patrol, coverage_of, calendar_of),
    tags((name = "patrols", description = "Patrol routes (巡查 / 巡更), patrols, check-ins and coverage"))
)]
pub(super) struct PatrolsApi;

/// A route as GeoJSON: the way, then the stops in order.
fn route_geojson(route: &Route, notices: &[String], left_out: &[plan::LeftOut]) -> Value {
    let mut features = vec![json!({
        "type": "Feature",
        "id": route.id.0,
        "geometry": {
            "type": "LineString",
            "coordinates": route.path.iter().map(|p| [p.lon, p.lat]).collect::<Vec<_>>(),
        },
        "properties": {
            "kind": "route",
            "name": route.name,
            "grid": route.grid.as_str(),
            "shift": route.shift,
            "mode": route.mode,
            "start": [route.start.lon, route.start.lat],
            "stops": route.stops.len(),
            "length_m": route.length_m,
            "duration_s": route.duration_s,
            "legs_m": route.legs_m,
            "on_roads": route.on_roads,
            "grids": route.grids.iter().map(GridId::as_str).collect::<Vec<_>>(),
            "assignees": route.assignees,
            "created_at": route.created_at.to_string(),
            "updated_at": route.updated_at.to_string(),
            "version": route.version,
        },
    })];
    for (k, stop) in route.stops.iter().enumerate() {
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [stop.location.lon, stop.location.lat]},
            "properties": {
                "kind": "stop", "order": k + 1, "hazard": stop.hazard,
                "name": stop.name, "risk": stop.risk,
            },
        }));
    }
    json!({
        "type": "FeatureCollection",
        "features": features,
        "notices": notices,
        "left_out": left_out.iter().map(|l| json!({"hazard": l.hazard, "reason": l.reason})).collect::<Vec<_>>(),
    })
}

/// A GeoJSON FeatureCollection (a route: the way, then its stops).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer; the handlers build it as JSON
struct RouteDoc {
    /// Always `FeatureCollection`.
    r#type: String,
    /// Things the planner wants the leader to know.
    notices: Vec<String>,
}

/// What to plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PlanBody {
    /// The grid (any level) whose hazards are visited.
    grid: String,
    /// `day` (巡查: due hazards) or `night` (巡更: major and significant hazards).
    shift: Shift,
    /// `walk` (4.5 km/h, default) or `drive` (30 km/h).
    #[serde(default)]
    mode: TravelMode,
    /// Start and end point, `[lon, lat]` WGS84.
    start: [f64; 2],
    /// When the shift starts (RFC 3339); default now.
    start_time: Option<String>,
    /// Longest acceptable round, metres.
    max_length_m: Option<f64>,
    /// Longest acceptable shift, minutes (travel plus time at stops).
    max_duration_min: Option<f64>,
}

/// Plan a route (not saved): the due hazards of a grid for a shift, ordered
/// into the shortest round from the start over the roads.
#[utoipa::path(
    post,
    path = "/api/patrol-plans",
    tag = "patrols",
    request_body = PlanBody,
    responses(
        (status = 200, description = "The planned route, with hazards left out and notices", body = RouteDoc, content_type = "application/geo+json"),
        (status = 400, description = "A field is wrong; `parameter` names it", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn plan_route(
    State(state): State<Arc<AppState>>,
    Json(body): Json<PlanBody>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let request = PlanRequest {
        grid: GridId(body.grid),
        shift: body.shift,
        mode: body.mode,
        start: LonLat::new(body.start[0], body.start[1]),
        start_time: body
            .start_time
            .as_deref()
            .map(|s| parse_time("start_time", s, now))
            .transpose()?
            .unwrap_or(now),
        max_length_m: body.max_length_m,
        max_duration_s: body.max_duration_min.map(|m| m * 60.0),
        limits: SearchLimits::default(),
    };
    let hazards = state
        .store()
        .hazards()
        .await
        .map_err(|e| ApiError::internal("reading hazards", e))?;
    let (index, roads) = (state.index(), state.roads());
    let planned =
        tokio::task::spawn_blocking(move || plan::plan(&request, &hazards, Some(&roads), &index))
            .await
            .map_err(|e| ApiError::internal("planning a route", e))??;
    let mut doc = route_geojson(&planned.route, &planned.notices, &planned.left_out);
    doc["optimal"] = json!(planned.optimal);
    Ok(geo_json(&doc))
}

/// A stop as saved: a hazard by number, or a named key point.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StopBody {
    /// A hazard's number.
    hazard: Option<i64>,
    /// A key point's name (when no hazard).
    name: Option<String>,
    /// A key point's place `[lon, lat]` (when no hazard).
    location: Option<[f64; 2]>,
}

/// A route to save or the new state of one: stops in walking order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RouteBody {
    /// The version read (editing only).
    version: Option<i64>,
    /// Its name.
    name: String,
    /// The grid it is for.
    grid: String,
    /// `day` or `night`.
    shift: Shift,
    /// `walk` or `drive`.
    #[serde(default)]
    mode: TravelMode,
    /// Start and end `[lon, lat]`.
    start: [f64; 2],
    /// Stops in the order to walk them.
    stops: Vec<StopBody>,
    /// Members it is assigned to.
    #[serde(default)]
    assignees: Vec<String>,
}

fn route_input(body: RouteBody) -> Result<RouteInput, ApiError> {
    let stops = body
        .stops
        .into_iter()
        .enumerate()
        .map(|(k, s)| match (s.hazard, s.name, s.location) {
            (Some(id), _, _) => Ok(StopInput::Hazard(HazardId(id))),
            (None, Some(name), Some([lon, lat])) => Ok(StopInput::Point {
                name,
                location: LonLat::new(lon, lat),
            }),
            _ => Err(ApiError::bad_parameter(
                format!("stops[{k}]"),
                format!("stops[{k}] needs a hazard number, or a name and a location"),
            )),
        })
        .collect::<Result<_, _>>()?;
    Ok(RouteInput {
        name: body.name,
        grid: GridId(body.grid),
        shift: body.shift,
        mode: body.mode,
        start: LonLat::new(body.start[0], body.start[1]),
        stops,
        assignees: body.assignees,
    })
}

/// Save a route, walked in the order given; the way is drawn over the
/// roads and every grid it passes is recorded.
#[utoipa::path(
    post,
    path = "/api/routes",
    tag = "patrols",
    request_body = RouteBody,
    responses(
        (status = 201, description = "Saved", body = RouteDoc, content_type = "application/geo+json"),
        (status = 400, description = "A field is wrong", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn save_route(
    State(state): State<Arc<AppState>>,
    Json(body): Json<RouteBody>,
) -> Result<Response, ApiError> {
    let input = route_input(body)?;
    let (index, roads) = (state.index(), state.roads());
    let (route, notices) = routes::save(
        state.store().as_ref(),
        &index,
        Some(&roads),
        input,
        Timestamp::now(),
    )
    .await?;
    let mut response = geo_json(&route_geojson(&route, &notices, &[]));
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// Which routes to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct RouteListParams {
    /// Only routes passing through this grid (any level).
    grid: Option<String>,
}

/// Saved routes (each the way as a LineString with its properties).
#[utoipa::path(
    get,
    path = "/api/routes",
    tag = "patrols",
    params(RouteListParams),
    responses((status = 200, description = "The routes", body = RouteDoc, content_type = "application/geo+json"))
)]
async fn list_routes(
    State(state): State<Arc<AppState>>,
    Query(params): Query<RouteListParams>,
) -> Result<Response, ApiError> {
    let grid = params.grid.map(GridId);
    let found = state
        .store()
        .routes(grid.as_ref())
        .await
        .map_err(|e| ApiError::internal("listing routes", e))?;
    let features: Vec<Value> = found
        .iter()
        .map(|r| route_geojson(r, &[], &[])["features"][0].clone())
        .collect();
    Ok(geo_json(
        &json!({"type": "FeatureCollection", "features": features}),
    ))
}

async fn find_route(state: &AppState, id: i64) -> Result<Route, ApiError> {
    state
        .store()
        .route(RouteId(id))
        .await
        .map_err(|e| ApiError::internal("reading a route", e))?
        .ok_or_else(|| ApiError::NotFound(format!("there is no route {id}")))
}

/// One route: the way and its stops.
#[utoipa::path(
    get,
    path = "/api/routes/{id}",
    tag = "patrols",
    params(("id" = i64, Path, description = "The route's number")),
    responses(
        (status = 200, description = "The route", body = RouteDoc, content_type = "application/geo+json"),
        (status = 404, description = "No such route", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn one_route(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(geo_json(&route_geojson(
        &find_route(&state, id).await?,
        &[],
        &[],
    )))
}

/// Edit a route: new stops, order, start or members (guarded by version).
#[utoipa::path(
    put,
    path = "/api/routes/{id}",
    tag = "patrols",
    params(("id" = i64, Path, description = "The route's number")),
    request_body = RouteBody,
    responses(
        (status = 200, description = "The edited route", body = RouteDoc, content_type = "application/geo+json"),
        (status = 400, description = "A field is wrong", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such route", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Changed since the version read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn edit_route(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    Json(body): Json<RouteBody>,
) -> Result<Response, ApiError> {
    let version = body.version.ok_or_else(|| {
        ApiError::bad_parameter("version", "version (the one read) is required to edit")
    })?;
    let input = route_input(body)?;
    let (index, roads) = (state.index(), state.roads());
    let (route, notices) = routes::edit(
        state.store().as_ref(),
        &index,
        Some(&roads),
        RouteId(id),
        version,
        input,
        Timestamp::now(),
    )
    .await?;
    Ok(geo_json(&route_geojson(&route, &notices, &[])))
}

/// Delete a route no patrol has walked.
#[utoipa::path(
    delete,
    path = "/api/routes/{id}",
    tag = "patrols",
    params(("id" = i64, Path, description = "The route's number")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such route", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Patrols have walked it", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn delete_route(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    match state.store().delete_route(RouteId(id)).await {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(ApiError::NotFound(format!("there is no route {id}"))),
        Err(e) => Err(crate::patrol::PatrolError::from(e).into()),
    }
}

/// A patrol as JSON: the visits (with the stop names), check-ins, and the
/// track as a GeoJSON LineString with its times, for replay.
fn patrol_json(patrol: &Patrol, route: &Route) -> Value {
    let visits: Vec<Value> = patrol
        .visits
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let stop = route.stops.get(k);
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
            "geometry": {"type": "LineString", "coordinates": patrol.track.iter().map(|p| [p.at.lon, p.at.lat]).collect::<Vec<_>>()},
            "properties": {"times": patrol.track.iter().map(|p| p.time.map(|t| t.to_string())).collect::<Vec<_>>()},
        },
        "version": patrol.version,
    })
}

/// A patrol (JSON: visits, check-ins, track).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer; the handlers build it as JSON
struct PatrolDoc {
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

async fn answer_patrol(
    state: &AppState,
    patrol: &Patrol,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let route = find_route(state, patrol.route.0).await?;
    Ok((status, axum::Json(patrol_json(patrol, &route))).into_response())
}

/// Who starts a patrol.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartBody {
    /// The member walking it.
    member: String,
    /// Metres within which a stop counts as visited (default 30).
    radius_m: Option<f64>,
    /// When it started (RFC 3339); default now.
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
        (status = 404, description = "No such route", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn start_patrol(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    Json(body): Json<StartBody>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let at = body
        .started_at
        .as_deref()
        .map(|s| parse_time("started_at", s, now))
        .transpose()?
        .unwrap_or(now);
    let patrol = execute::start(
        state.store().as_ref(),
        RouteId(id),
        &body.member,
        body.radius_m,
        at,
    )
    .await?;
    answer_patrol(&state, &patrol, StatusCode::CREATED).await
}

/// Which patrols to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct PatrolListParams {
    /// Only patrols of this route.
    route: Option<i64>,
    /// Started at or after (RFC 3339); default 30 days ago.
    from: Option<String>,
    /// Started before (RFC 3339); default now.
    to: Option<String>,
}

/// Patrols started in a period.
#[utoipa::path(
    get,
    path = "/api/patrols",
    tag = "patrols",
    params(PatrolListParams),
    responses((status = 200, description = "Patrols (without tracks)", body = PatrolDoc))
)]
async fn list_patrols(
    State(state): State<Arc<AppState>>,
    Query(params): Query<PatrolListParams>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = Timestamp::now();
    let (from, to) = period(params.from.as_deref(), params.to.as_deref(), now)?;
    let found = state
        .store()
        .patrols(from, to, params.route.map(RouteId))
        .await
        .map_err(|e| ApiError::internal("listing patrols", e))?;
    let list: Vec<Value> = found
        .iter()
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

fn period(
    from: Option<&str>,
    to: Option<&str>,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp), ApiError> {
    let to = to
        .map(|s| parse_time("to", s, now))
        .transpose()?
        .unwrap_or(now + jiff::SignedDuration::from_secs(1));
    let from = from
        .map(|s| parse_time("from", s, now))
        .transpose()?
        .unwrap_or(to - jiff::SignedDuration::from_hours(24 * 30));
    if from >= to {
        return Err(ApiError::bad_parameter("to", "to must be after from"));
    }
    Ok((from, to))
}

/// One patrol, with its track for replay.
#[utoipa::path(
    get,
    path = "/api/patrols/{id}",
    tag = "patrols",
    params(("id" = i64, Path, description = "The patrol's number")),
    responses(
        (status = 200, description = "The patrol", body = PatrolDoc),
        (status = 404, description = "No such patrol", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn one_patrol(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let patrol = state
        .store()
        .patrol(PatrolId(id))
        .await
        .map_err(|e| ApiError::internal("reading a patrol", e))?
        .ok_or_else(|| ApiError::NotFound(format!("there is no patrol {id}")))?;
    answer_patrol(&state, &patrol, StatusCode::OK).await
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
        (status = 200, description = "The patrol with the stops the track reached marked", body = PatrolDoc),
        (status = 400, description = "The track is unreadable; `parameter` says where", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The patrol is finished", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn post_track(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_gpx =
        content_type.contains("gpx") || content_type.contains("xml") || body.starts_with(b"<");
    let points = tokio::task::spawn_blocking(move || {
        if is_gpx {
            tracks::from_gpx(&body)
        } else {
            tracks::from_geojson(&body)
        }
    })
    .await
    .map_err(|e| ApiError::internal("reading a track", e))??;
    let patrol = execute::add_track(
        state.store().as_ref(),
        PatrolId(id),
        points,
        Timestamp::now(),
    )
    .await?;
    answer_patrol(&state, &patrol, StatusCode::OK).await
}

/// An incident raised from a check-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RaiseBody {
    /// Incident category code (see `/api/incidents/categories`).
    category: String,
    /// What was found.
    description: String,
    /// `minor` (default), `major` or `critical`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    severity: Option<Severity>,
}

/// A check-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CheckInBody {
    /// Where, `[lon, lat]` WGS84.
    point: [f64; 2],
    /// When (RFC 3339); default now.
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
        (status = 200, description = "The patrol with the check-in", body = PatrolDoc),
        (status = 400, description = "A field is wrong", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The patrol is finished", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn post_checkin(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    Json(body): Json<CheckInBody>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let time = body
        .time
        .as_deref()
        .map(|s| parse_time("time", s, now))
        .transpose()?
        .unwrap_or(now);
    let at = LonLat::new(body.point[0], body.point[1]);
    let patrol = state
        .store()
        .patrol(PatrolId(id))
        .await
        .map_err(|e| ApiError::internal("reading a patrol", e))?
        .ok_or_else(|| ApiError::NotFound(format!("there is no patrol {id}")))?;
    if patrol.status != crate::model::PatrolStatus::Active {
        return Err(ApiError::Conflict(format!(
            "patrol {id} is finished: nothing more can be added to it"
        )));
    }
    let incident = match body.incident {
        None => None,
        Some(raise) => {
            let reported = dispatch::report(
                &state,
                Report {
                    category: raise.category,
                    description: raise.description,
                    point: at,
                    crs: InputCrs::Wgs84,
                    severity: raise.severity.unwrap_or(Severity::Minor),
                    source: ReportSource::Patrol,
                    reporter: None,
                    photos: body.photo_url.iter().cloned().collect(),
                    actor: patrol.member.clone(),
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
    let patrol = execute::check_in(state.store().as_ref(), PatrolId(id), checkin).await?;
    answer_patrol(&state, &patrol, StatusCode::OK).await
}

/// When a patrol finished.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct FinishBody {
    /// When (RFC 3339); default now.
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
        (status = 200, description = "The finished patrol", body = PatrolDoc),
        (status = 409, description = "Already finished", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn finish_patrol(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    Json(body): Json<FinishBody>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let at = body
        .at
        .as_deref()
        .map(|s| parse_time("at", s, now))
        .transpose()?
        .unwrap_or(now);
    let patrol = execute::finish(state.store().as_ref(), PatrolId(id), at).await?;
    answer_patrol(&state, &patrol, StatusCode::OK).await
}

/// Coverage of which grid, when.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct CoverageParams {
    /// The grid (any level; its subtree counts).
    grid: String,
    /// Period start (RFC 3339); default 30 days before `to`.
    from: Option<String>,
    /// Period end (RFC 3339); default now.
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
    )
)]
async fn coverage_of(
    State(state): State<Arc<AppState>>,
    Query(params): Query<CoverageParams>,
) -> Result<axum::Json<Coverage>, ApiError> {
    let now = Timestamp::now();
    let (from, to) = period(params.from.as_deref(), params.to.as_deref(), now)?;
    let index = state.index();
    Ok(axum::Json(
        coverage::coverage(
            state.store().as_ref(),
            &index,
            &GridId(params.grid),
            from,
            to,
        )
        .await?,
    ))
}

/// The due calendar's range.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct CalendarParams {
    /// The grid (any level).
    grid: String,
    /// First day's start (RFC 3339); default now.
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
async fn calendar_of(
    State(state): State<Arc<AppState>>,
    Query(params): Query<CalendarParams>,
) -> Result<axum::Json<Vec<DueDay>>, ApiError> {
    let now = Timestamp::now();
    let from = params
        .from
        .as_deref()
        .map(|s| parse_time("from", s, now))
        .transpose()?
        .unwrap_or(now);
    let index = state.index();
    Ok(axum::Json(
        coverage::calendar(
            state.store().as_ref(),
            &index,
            &GridId(params.grid),
            from,
            params.days.unwrap_or(14),
        )
        .await?,
    ))
}
