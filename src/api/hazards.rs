//! `/api/hazards` and `/api/roads`: the hazard register (GeoJSON in and
//! out) and the road network patrols follow. Handlers parse and answer; the
//! rules are in [`crate::patrol`].

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::access::Caller;
use super::error::{ApiError, ProblemDocument};
use super::extract::{Body, GEOJSON_TYPES, Json, Path, Query, declared_media};
use super::params::{DeleteQuery, parse_grid, parse_time_or_now};
use super::scope::View;
use super::value_schemas::{HazardFeatures, Name, Position, RoadLines, TimeOrNow, WgsBbox};
use crate::geom::LonLat;
use crate::model::{HazardId, HazardStatus, RiskClass};
use crate::patrol::hazards::{self, Editor, HazardChange, HazardFilter};
use crate::patrol::{PatrolError, roads};
use crate::state::AppState;
use crate::text;

/// The routes of these resources.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/hazards", post(create).get(list))
        .route("/api/hazards/{id}", get(one).patch(change).delete(remove))
        .route("/api/roads", get(road_network).put(replace_roads))
}

/// The OpenAPI description of these resources.
#[derive(OpenApi)]
#[openapi(
    paths(create, list, one, change, remove, road_network, replace_roads),
    tags(
        (name = "hazards", description = "The hazard register (安全隐患) and the road network patrols follow")
    )
)]
pub(super) struct HazardsApi;

impl From<PatrolError> for ApiError {
    fn from(e: PatrolError) -> Self {
        match e {
            PatrolError::Invalid { field, reason } => ApiError::bad_parameter(field, reason),
            PatrolError::NotFound(m) => ApiError::NotFound(m),
            PatrolError::Conflict(m) => ApiError::Conflict(m),
            PatrolError::TooMany {
                detail,
                retry_after_secs,
            } => ApiError::TooManyRequests {
                detail,
                retry_after_secs,
            },
            PatrolError::Store(source) => ApiError::internal("storing hazards or patrols", source),
        }
    }
}

/// A GeoJSON FeatureCollection, as written by this API.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"type": "FeatureCollection", "features": []}))]
struct FeatureCollectionDoc {
    /// Always `FeatureCollection`.
    r#type: String,
}

/// Register one hazard (a GeoJSON Feature) or import many (a
/// FeatureCollection): all are located in the grids and written in one
/// transaction, or none is.
#[utoipa::path(
    post,
    path = "/api/hazards",
    operation_id = "create_hazard",
    tag = "hazards",
    request_body(content = HazardFeatures, description = "A Feature or FeatureCollection: \
        Point (or small Polygon) geometry; properties name, category, risk (major, significant, \
        general, low), optional interval_days, status, description, last_inspected_at"),
    responses(
        (status = 415, description = "The body is not `application/geo+json` or `application/json`; nothing registered",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 201, description = "Registered: the hazards as a FeatureCollection", body = FeatureCollectionDoc),
        (status = 400, description = "A feature or field is wrong; `parameter` names it. Nothing registered",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    declared_media(&headers, GEOJSON_TYPES)?;
    let now = Timestamp::now();
    let (drafts, single) = tokio::task::spawn_blocking(move || hazards::drafts_from_geojson(&body))
        .await
        .map_err(|e| ApiError::internal("reading hazards", e))??;
    let (login, view) = editor_of(&state, &caller);
    let editor = Editor {
        actor: &login,
        view: &view,
    };
    let created = hazards::register(state.feed(), editor, drafts, now, single).await?;
    let fc = geojson::FeatureCollection {
        bbox: None,
        foreign_members: None,
        features: created
            .iter()
            .map(|h| hazards::to_feature(h, now))
            .collect(),
    };
    Ok((StatusCode::CREATED, axum::Json(fc)).into_response())
}

/// Filters of the hazard list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Only hazards in this grid (any level) or below it.
    grid: Option<String>,
    /// Only these statuses, comma-separated (open, mitigated, closed).
    #[param(pattern = "^(\\s*(open|mitigated|closed)\\s*(,\\s*(open|mitigated|closed)\\s*)*)?$")]
    status: Option<String>,
    /// Only these risk classes, comma-separated (major, significant,
    /// general, low).
    #[param(
        pattern = "^(\\s*(major|significant|general|low)\\s*(,\\s*(major|significant|general|low)\\s*)*)?$"
    )]
    risk: Option<String>,
    /// Only this category.
    category: Option<String>,
    /// Only in this box: minLon,minLat,maxLon,maxLat.
    #[param(value_type = Option<WgsBbox>)]
    bbox: Option<String>,
    /// Only hazards due for inspection at this time (RFC 3339), or `now`.
    #[param(value_type = Option<TimeOrNow>)]
    due: Option<String>,
}

fn list_of<T>(
    field: &str,
    text: &Option<String>,
    parse: fn(&str) -> Option<T>,
    accepted: &str,
) -> Result<Vec<T>, ApiError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(|s| {
            parse(s.trim()).ok_or_else(|| {
                let zh_accepted = accepted.replace(", ", "、");
                ApiError::bad_parameter(
                    field,
                    text!(
                        "{field} must be one or more of {accepted}, got {s:?}",
                        "{field} 必须是 {zh_accepted} 中的一个或多个，收到的是 {s:?}"
                    ),
                )
            })
        })
        .collect()
}

/// A GeoJSON answer (`application/geo+json`).
pub(super) fn geo_json<T: Serialize>(value: &T) -> Response {
    let body = serde_json::to_vec(value).expect("GeoJSON serialises");
    ([("content-type", "application/geo+json")], body).into_response()
}

/// The hazards matching the filters, as a GeoJSON FeatureCollection (for
/// the map and GIS tools), by id.
#[utoipa::path(
    get,
    path = "/api/hazards",
    operation_id = "list_hazards",
    tag = "hazards",
    params(ListParams),
    responses(
        (status = 200, description = "The hazards", body = FeatureCollectionDoc, content_type = "application/geo+json"),
        (status = 400, description = "A parameter is wrong; `parameter` names it",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn list(
    State(state): State<Arc<AppState>>,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let index = state.index();
    let filter = HazardFilter {
        grid: params
            .grid
            .as_deref()
            .map(|g| parse_grid(&index, g).map(|(_, id)| id))
            .transpose()?,
        statuses: list_of(
            "status",
            &params.status,
            HazardStatus::parse,
            "open, mitigated, closed",
        )?,
        risks: list_of(
            "risk",
            &params.risk,
            RiskClass::parse,
            "major, significant, general, low",
        )?,
        category: params.category,
        bbox: params
            .bbox
            .as_deref()
            .map(super::grids::parse_bbox)
            .transpose()?,
        due_at: params
            .due
            .as_deref()
            .map(|s| parse_time_or_now("due", s, now))
            .transpose()?,
    };
    let found = state.patrols().hazards_matching(&filter).await?;
    let fc = geojson::FeatureCollection {
        bbox: None,
        foreign_members: None,
        features: found.iter().map(|h| hazards::to_feature(h, now)).collect(),
    };
    Ok(geo_json(&fc))
}

async fn find(state: &AppState, id: i64) -> Result<crate::model::Hazard, ApiError> {
    state
        .patrols()
        .hazard(HazardId(id))
        .await
        .map_err(|e| ApiError::internal("reading a hazard", e))?
        .ok_or_else(|| {
            ApiError::NotFound(text!("there is no hazard {id}", "未找到编号为 {id} 的隐患"))
        })
}

/// One hazard, as a GeoJSON Feature.
#[utoipa::path(
    get,
    path = "/api/hazards/{id}",
    operation_id = "get_hazard",
    tag = "hazards",
    params(("id" = i64, Path, description = "The hazard's number")),
    responses(
        (status = 200, description = "The hazard", body = FeatureCollectionDoc, content_type = "application/geo+json"),
        (status = 404, description = "No such hazard", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn one(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let h = find(&state, id).await?;
    let feature = hazards::to_feature(&h, Timestamp::now());
    Ok(geo_json(&feature))
}

/// A change to a hazard: every member given replaces the stored value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    /// The version read (the change is refused if it moved on).
    version: i64,
    /// New name.
    #[schema(value_type = Option<Name>)]
    name: Option<String>,
    /// New category code.
    category: Option<String>,
    /// New risk class; the interval follows it unless `interval_days` is given.
    risk: Option<RiskClass>,
    /// New interval, days (1 to 366).
    #[schema(minimum = 1, maximum = 366)]
    interval_days: Option<u32>,
    /// New status.
    status: Option<HazardStatus>,
    /// New location: `[lon, lat]` (located again).
    #[schema(value_type = Option<Position>)]
    location: Option<[f64; 2]>,
    /// New description.
    description: Option<String>,
}

/// Change a hazard (guarded by its version).
#[utoipa::path(
    patch,
    path = "/api/hazards/{id}",
    tag = "hazards",
    params(("id" = i64, Path, description = "The hazard's number")),
    request_body = ChangeBody,
    responses(
        (status = 200, description = "The changed hazard", body = FeatureCollectionDoc, content_type = "application/geo+json"),
        (status = 400, description = "A field is wrong", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such hazard", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Changed since the version read", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn change(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ChangeBody>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let (login, view) = editor_of(&state, &caller);
    let changed = hazards::change(
        state.feed(),
        Editor {
            actor: &login,
            view: &view,
        },
        HazardId(id),
        body.version,
        HazardChange {
            name: body.name,
            category: body.category,
            risk: body.risk,
            interval_days: body.interval_days,
            status: body.status,
            location: body.location.map(|[lon, lat]| LonLat::new(lon, lat)),
            description: body.description,
        },
        now,
    )
    .await?;
    let feature = hazards::to_feature(&changed, now);
    Ok(geo_json(&feature))
}

/// Delete a hazard (its inspections stay on record).
#[utoipa::path(
    delete,
    path = "/api/hazards/{id}",
    tag = "hazards",
    params(("id" = i64, Path, description = "The hazard's number"), DeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`version` is missing or malformed", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such hazard (or not in your grid)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Changed since `version`", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn remove(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    let version = query.version()?;
    let (login, view) = editor_of(&state, &caller);
    let editor = Editor {
        actor: &login,
        view: &view,
    };
    hazards::delete(
        state.feed(),
        editor,
        HazardId(id),
        version,
        Timestamp::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's login and the part of the county whose hazards they may
/// change (a grid leader: their subtree; outside it a hazard answers 404).
fn editor_of(state: &AppState, caller: &Caller) -> (String, View) {
    (caller.login(), View::of(caller, &state.index()))
}

/// The road network as a GeoJSON FeatureCollection of LineStrings.
#[utoipa::path(
    get,
    path = "/api/roads",
    tag = "hazards",
    responses((status = 200, description = "The roads", body = FeatureCollectionDoc, content_type = "application/geo+json"))
)]
async fn road_network(State(state): State<Arc<AppState>>) -> Response {
    let network = state.roads();
    let fc = roads::to_geojson(network.lines());
    geo_json(&fc)
}

/// What a road import did.
#[derive(Serialize, ToSchema)]
struct RoadSummary {
    /// Lines imported.
    lines: usize,
    /// Junctions and ends in the routable graph.
    nodes: usize,
    /// Stretches between them.
    edges: usize,
    /// Total length, km.
    length_km: f64,
}

/// Replace the road network with a GeoJSON FeatureCollection of
/// LineStrings (properties `class` or OpenStreetMap `highway`, `name`).
#[utoipa::path(
    put,
    path = "/api/roads",
    tag = "hazards",
    request_body(content = RoadLines, description = "LineStrings or MultiLineStrings"),
    responses(
        (status = 415, description = "The body is not `application/geo+json` or `application/json`; nothing changed",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 200, description = "Imported", body = RoadSummary),
        (status = 400, description = "A feature is wrong; `parameter` names it. Nothing changed",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn replace_roads(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Body(body): Body,
) -> Result<axum::Json<RoadSummary>, ApiError> {
    declared_media(&headers, GEOJSON_TYPES)?;
    let lines = tokio::task::spawn_blocking(move || roads::lines_from_geojson(&body))
        .await
        .map_err(|e| ApiError::internal("reading roads", e))??;
    let count = lines.len();
    let network = state
        .replace_roads(lines, &caller.login())
        .await
        .map_err(|e| ApiError::internal("storing roads", e))?;
    Ok(axum::Json(RoadSummary {
        lines: count,
        nodes: network.graph().node_count(),
        edges: network.graph().edge_count(),
        length_km: network.length_m() / 1000.0,
    }))
}
