//! Planning and saved routes: `POST /api/patrol-plans`, `/api/routes`
//! (save, list, read, edit, delete). Routes are answered as GeoJSON
//! FeatureCollections: the way as a LineString, then the stops as Points.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::Reach;
use crate::api::access::Caller;
use crate::api::error::{ApiError, ProblemDocument};
use crate::api::extract::{Json, Path, Query};
use crate::api::hazards::geo_json;
use crate::api::params::{DeleteQuery, language, time_or_now};
use crate::api::value_schemas::{Name, Position, Stop, TimeOrNow};
use crate::geom::LonLat;
use crate::model::{GridId, HazardId, Route, RouteId, Shift, TravelMode};
use crate::patrol::notice::{Language, Notice};
use crate::patrol::plan::{self, PlanRequest};
use crate::patrol::routes::{self, RouteInput, StopInput};
use crate::routing::SearchLimits;
use crate::state::AppState;
use crate::text;

/// A route as GeoJSON: the way, then the stops in order.
pub(super) fn route_geojson(
    route: &Route,
    notices: &[Notice],
    left_out: &[plan::LeftOut],
    language: Language,
) -> Value {
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
            "legs_off_road": route.legs_off_road,
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
        "notices": notices.iter().map(|n| n.text(language)).collect::<Vec<_>>(),
        "left_out": left_out
            .iter()
            .map(|l| json!({"hazard": l.hazard, "reason": l.reason.text(language)}))
            .collect::<Vec<_>>(),
    })
}

/// A route document whose notices are in the client's language: caches
/// are told the answer varies by `Accept-Language`.
fn localised(doc: &Value) -> Response {
    let mut response = geo_json(doc);
    response.headers_mut().append(
        axum::http::header::VARY,
        axum::http::HeaderValue::from_static("accept-language"),
    );
    response
}

/// A GeoJSON FeatureCollection (a route: the way, then its stops).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer; the handlers build it as JSON
pub(super) struct RouteDoc {
    /// Always `FeatureCollection`.
    r#type: String,
    /// Things the planner wants the leader to know.
    notices: Vec<String>,
}

/// What to plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PlanBody {
    /// The grid (any level) whose hazards are visited.
    #[schema(min_length = 1)]
    grid: String,
    /// `day` (巡查: due hazards) or `night` (巡更: major and significant hazards).
    shift: Shift,
    /// `walk` (4.5 km/h, default; a leg may leave the roads across country
    /// when the roads go more than 1.5 times the straight line round) or
    /// `drive` (30 km/h, roads only).
    #[serde(default)]
    mode: TravelMode,
    /// Start and end point, `[lon, lat]` WGS84.
    #[schema(value_type = Position)]
    start: [f64; 2],
    /// When the shift starts (RFC 3339) or `now`; default now.
    #[schema(value_type = Option<TimeOrNow>)]
    start_time: Option<String>,
    /// Longest acceptable round, metres.
    max_length_m: Option<f64>,
    /// Longest acceptable shift, minutes (travel plus time at stops).
    max_duration_min: Option<f64>,
}

/// Plan a route (not saved): the due hazards of a grid for a shift, ordered
/// into the shortest round from the start over the roads (on foot also across
/// country: the route's `legs_off_road` and a notice say which legs).
#[utoipa::path(
    post,
    path = "/api/patrol-plans",
    tag = "patrols",
    request_body = PlanBody,
    responses(
        (status = 403, description = "The grid lies outside yours", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 200, description = "The planned route, with hazards left out and notices", body = RouteDoc, content_type = "application/geo+json"),
        (status = 400, description = "A field is wrong; `parameter` names it", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn plan_route(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<PlanBody>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    Reach::of(&state, caller).may_plan_for(&GridId(body.grid.clone()))?;
    let request = PlanRequest {
        grid: GridId(body.grid),
        shift: body.shift,
        mode: body.mode,
        start: LonLat::new(body.start[0], body.start[1]),
        start_time: time_or_now("start_time", body.start_time.as_deref(), now)?,
        max_length_m: body.max_length_m,
        max_duration_s: body.max_duration_min.map(|m| m * 60.0),
        limits: SearchLimits::default(),
    };
    let hazards = state
        .patrols()
        .hazards()
        .await
        .map_err(|e| ApiError::internal("reading hazards", e))?;
    let (index, roads) = (state.index(), state.roads());
    let planned =
        tokio::task::spawn_blocking(move || plan::plan(&request, &hazards, Some(&roads), &index))
            .await
            .map_err(|e| ApiError::internal("planning a route", e))??;
    let mut doc = route_geojson(
        &planned.route,
        &planned.notices,
        &planned.left_out,
        language(&headers),
    );
    doc["optimal"] = json!(planned.optimal);
    Ok(localised(&doc))
}

/// A stop as saved: a hazard by number, or a named key point.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StopBody {
    /// A hazard's number.
    hazard: Option<i64>,
    /// A key point's name (when no hazard).
    name: Option<String>,
    /// A key point's place `[lon, lat]` (when no hazard).
    #[schema(value_type = Option<Position>)]
    location: Option<[f64; 2]>,
}

/// A route to save or the new state of one: stops in walking order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteBody {
    /// The version read (editing only).
    version: Option<i64>,
    /// Its name (at most 200 characters).
    #[schema(value_type = Name)]
    name: String,
    /// The grid it is for.
    #[schema(min_length = 1)]
    grid: String,
    /// `day` or `night`.
    shift: Shift,
    /// `walk` or `drive`.
    #[serde(default)]
    mode: TravelMode,
    /// Start and end `[lon, lat]`.
    #[schema(value_type = Position)]
    start: [f64; 2],
    /// Stops in the order to walk them.
    #[schema(value_type = Vec<Stop>)]
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
                text!(
                    "stops[{k}] needs a hazard number, or a name and a location",
                    "stops[{k}] 须填写隐患编号，或填写名称和位置"
                ),
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
        (status = 403, description = "The grid lies outside yours", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 201, description = "Saved", body = RouteDoc, content_type = "application/geo+json"),
        (status = 400, description = "A field is wrong", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn save_route(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<RouteBody>,
) -> Result<Response, ApiError> {
    let input = route_input(body)?;
    Reach::of(&state, caller).may_plan_for(&input.grid)?;
    let (route, notices) =
        routes::save(state.feed(), state.roads(), input, Timestamp::now()).await?;
    let mut response = localised(&route_geojson(&route, &notices, &[], language(&headers)));
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// Which routes to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteListParams {
    /// Only routes passing through this grid (any level).
    grid: Option<String>,
}

/// The saved routes as a GeoJSON FeatureCollection.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer of `list_routes`
pub(super) struct RouteListDoc {
    /// Always `FeatureCollection`.
    #[schema(rename = "type")]
    kind: String,
    /// One feature per route: its way, with the route's fields as properties.
    features: Vec<serde_json::Map<String, Value>>,
}

/// Saved routes (each the way as a LineString with its properties).
#[utoipa::path(
    get,
    path = "/api/routes",
    tag = "patrols",
    params(RouteListParams),
    responses((status = 200, description = "The routes, one LineString feature each",
        body = RouteListDoc, content_type = "application/geo+json"))
)]
pub(super) async fn list_routes(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Query<RouteListParams>,
) -> Result<Response, ApiError> {
    let reach = Reach::of(&state, caller);
    let grid = params.grid.map(GridId);
    let found = state
        .patrols()
        .routes(grid.as_ref())
        .await
        .map_err(|e| ApiError::internal("listing routes", e))?;
    let features: Vec<Value> = found
        .iter()
        .filter(|r| reach.sees(&r.grid))
        .map(|r| route_geojson(r, &[], &[], Language::English)["features"][0].clone())
        .collect();
    Ok(geo_json(
        &json!({"type": "FeatureCollection", "features": features}),
    ))
}

/// The route, if it exists and is in the caller's reach; the same 404
/// otherwise.
pub(super) async fn find_route(
    state: &AppState,
    reach: &Reach,
    id: i64,
) -> Result<Route, ApiError> {
    state
        .patrols()
        .route(RouteId(id))
        .await
        .map_err(|e| ApiError::internal("reading a route", e))?
        .filter(|route| reach.sees(&route.grid))
        .ok_or_else(|| {
            ApiError::NotFound(text!("there is no route {id}", "未找到编号为 {id} 的路线"))
        })
}

/// One route: the way and its stops.
#[utoipa::path(
    get,
    path = "/api/routes/{id}",
    tag = "patrols",
    params(("id" = i64, Path, description = "The route's number")),
    responses(
        (status = 200, description = "The route", body = RouteDoc, content_type = "application/geo+json"),
        (status = 404, description = "No such route (or not of your grids)", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn one_route(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let reach = Reach::of(&state, caller);
    Ok(geo_json(&route_geojson(
        &find_route(&state, &reach, id).await?,
        &[],
        &[],
        Language::English,
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
        (status = 403, description = "The grid lies outside yours", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 200, description = "The edited route", body = RouteDoc, content_type = "application/geo+json"),
        (status = 400, description = "A field is wrong", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such route (or not of your grids)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Changed since the version read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn edit_route(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<RouteBody>,
) -> Result<Response, ApiError> {
    let version = body.version.ok_or_else(|| {
        ApiError::bad_parameter(
            "version",
            text!(
                "version (the one read) is required to edit",
                "编辑时必须提供 version（读取时的版本）"
            ),
        )
    })?;
    let input = route_input(body)?;
    let reach = Reach::of(&state, caller);
    find_route(&state, &reach, id).await?;
    reach.may_plan_for(&input.grid)?;
    let roads = state.roads();
    let (route, notices) = routes::edit(
        state.feed(),
        roads,
        RouteId(id),
        version,
        input,
        Timestamp::now(),
    )
    .await?;
    Ok(localised(&route_geojson(
        &route,
        &notices,
        &[],
        language(&headers),
    )))
}

/// Delete a route no patrol has walked.
#[utoipa::path(
    delete,
    path = "/api/routes/{id}",
    tag = "patrols",
    params(("id" = i64, Path, description = "The route's number"), DeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such route (or not of your grids)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Patrols have walked it, or it changed since `version`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 400, description = "`version` is missing or malformed", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn delete_route(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    let reach = Reach::of(&state, caller);
    let route = find_route(&state, &reach, id).await?;
    let version = query.version()?;
    let stale = || {
        ApiError::Conflict(text!(
            "route {id} is at version {}, not {version}: read it again",
            "路线 {id} 当前为版本 {}，不是版本 {version}，请重新读取",
            route.version
        ))
    };
    if route.version != version {
        return Err(stale());
    }
    let actor = reach.login();
    match routes::delete(
        state.feed(),
        RouteId(id),
        version,
        &actor,
        jiff::Timestamp::now(),
    )
    .await
    {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(stale()),
        Err(e) => Err(e.into()),
    }
}
