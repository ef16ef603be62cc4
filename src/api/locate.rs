//! `/api/locate`: which grid at each level covers a point. One point by
//! query string (`GET`), with the chain of grids and optionally the distance
//! to the nearest boundary; many points in one body (`POST`), answered as
//! grid ids in the same order. Both answer from the index snapshot with the
//! index's one boundary rule.

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::access::Caller;
use super::error::{ApiError, ProblemDocument};
use super::extract::{Json, Query};
use super::grids::GridSummary;
use super::scope::sees_contacts;
use super::value_schemas::{OptionalMoment, Position};
use crate::geom::LonLat;
use crate::index::{Chain, GridIndex};
use crate::model::Text;
use crate::state::AppState;
use crate::text;

/// The most points one `POST /api/locate` may carry.
pub(super) const MAX_BATCH_POINTS: usize = 100_000;

/// Batches larger than this are answered on the blocking pool, so that a
/// big batch does not hold up the async workers.
const BLOCKING_THRESHOLD: usize = 2_000;

/// The routes of this resource.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/api/locate", get(locate_one).post(locate_batch))
}

/// The OpenAPI description of this resource.
#[derive(OpenApi)]
#[openapi(paths(locate_one, locate_batch))]
pub(super) struct LocateApi;

/// The point of `GET /api/locate`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LocateQuery {
    /// Longitude, WGS84 degrees east, -180 to 180.
    #[param(value_type = f64, required = true, minimum = -180, maximum = 180, example = 106.14)]
    lon: Option<String>,
    /// Latitude, WGS84 degrees north, -90 to 90.
    #[param(value_type = f64, required = true, minimum = -90, maximum = 90, example = 34.73)]
    lat: Option<String>,
    /// `true` to add `boundary_distance_m`: metres to the nearest boundary
    /// of the deepest grid, i.e. how close the point is to a change of
    /// responsibility.
    #[param(value_type = Option<bool>, example = true)]
    boundary_distance: Option<String>,
    /// Answer with the grids in force at this moment instead of now: an
    /// RFC 3339 time, or a date (its first moment in China Standard Time);
    /// past, or a date a scheduled change takes effect.
    #[param(value_type = Option<OptionalMoment>, example = "2027-01-01")]
    as_of: Option<String>,
}

/// Parse a coordinate with a correctly rounded parser, so that a point given
/// exactly on an edge stays on it.
fn parse_degrees(name: &str, value: Option<&str>, limit: f64) -> Result<f64, ApiError> {
    let expected = format!("a number of degrees from -{limit} to {limit}");
    let expected_zh = format!("-{limit} 至 {limit} 之间的度数");
    let value = value.ok_or_else(|| {
        ApiError::bad_parameter(
            name,
            text!(
                "{name} is required: {expected}",
                "缺少 {name}：应为 {expected_zh}"
            ),
        )
    })?;
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (-limit..=limit).contains(&v) => Ok(v),
        _ => Err(ApiError::bad_parameter(
            name,
            text!(
                "{name} must be {expected}, got {value:?}",
                "{name} 必须是 {expected_zh}，收到的是 {value:?}"
            ),
        )),
    }
}

fn parse_flag(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("false" | "0") => Ok(false),
        Some("" | "true" | "1") => Ok(true),
        Some(other) => Err(ApiError::bad_parameter(
            name,
            text!(
                "{name} must be true or false, got {other:?}",
                "{name} 必须是 true 或 false，收到的是 {other:?}"
            ),
        )),
    }
}

/// The grid ids that own a point, one member per level; `null` where no
/// grid of that level covers it.
#[derive(Debug, Serialize, ToSchema)]
struct LevelIds<'a> {
    /// Level 1 (town).
    #[schema(example = "620521100")]
    l1: Option<&'a str>,
    /// Level 2 (village cluster).
    #[schema(example = "620521100001")]
    l2: Option<&'a str>,
    /// Level 3 (village-group cluster).
    #[schema(example = "62052110000101")]
    l3: Option<&'a str>,
    /// Level 4 (basic grid).
    #[schema(example = "6205211000010101")]
    l4: Option<&'a str>,
    /// Level 5 (sub-area); null where the basic grid has none.
    #[schema(example = json!(null))]
    l5: Option<&'a str>,
}

impl<'a> LevelIds<'a> {
    fn of(index: &'a GridIndex, chain: &Chain) -> Self {
        let [l1, l2, l3, l4, l5] = index.chain_ids(chain).map(|id| id.map(|id| id.as_str()));
        LevelIds { l1, l2, l3, l4, l5 }
    }
}

/// A point, WGS84 degrees.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Point)]
struct PointDto {
    /// Degrees east.
    #[schema(example = 106.14)]
    lon: f64,
    /// Degrees north.
    #[schema(example = 34.73)]
    lat: f64,
}

/// The grids that own one point.
#[derive(Debug, Serialize, ToSchema)]
struct LocateAnswer<'a> {
    /// The point, as understood.
    point: PointDto,
    /// The owning grid at each level, level 1 first; each is the parent of
    /// the next. Empty outside the county.
    chain: Vec<GridSummary>,
    /// The same grids by id, one member per level.
    #[serde(flatten)]
    levels: LevelIds<'a>,
    /// Metres from the point to the nearest boundary of its deepest grid
    /// (present only when `boundary_distance=true`; null outside the county).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, example = 182.4)]
    boundary_distance_m: Option<Option<f64>>,
}

/// The grid at each level that covers a point. A point on a shared edge
/// belongs to exactly one grid per level (the index's boundary rule).
#[utoipa::path(
    get,
    path = "/api/locate",
    tag = "locate",
    params(LocateQuery),
    responses(
        (status = 200, description = "The chain of grids; empty, with every level null, \
            outside the county", body = LocateAnswer),
        (status = 400, description = "`lon`, `lat`, `boundary_distance` or `as_of` is missing or \
            malformed; `parameter` names it",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn locate_one(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<LocateQuery>,
) -> Result<Response, ApiError> {
    let lon = parse_degrees("lon", query.lon.as_deref(), 180.0)?;
    let lat = parse_degrees("lat", query.lat.as_deref(), 90.0)?;
    let with_distance = parse_flag("boundary_distance", query.boundary_distance.as_deref())?;
    let point = LonLat::new(lon, lat);
    let index = super::params::index_as_of(&state, query.as_of.as_deref()).await?;
    let chain = index.locate(point);
    let answer = LocateAnswer {
        point: PointDto { lon, lat },
        chain: chain
            .0
            .iter()
            .flatten()
            .map(|&ix| GridSummary::of(index.grid(ix), sees_contacts(&caller)))
            .collect(),
        levels: LevelIds::of(&index, &chain),
        boundary_distance_m: with_distance.then(|| index.boundary_distance_m(point, &chain)),
    };
    json_response(&answer)
}

/// The points of `POST /api/locate`.
#[derive(Deserialize, ToSchema)]
struct BatchRequest {
    /// `[lon, lat]` pairs in WGS84 degrees, at most 100,000.
    #[schema(value_type = Vec<Position>, max_items = 100_000,
        example = json!([[106.14, 34.73], [105.0, 34.0]]))]
    points: PointList,
}

/// The points of a batch as read: the valid points up to the cap, the first
/// bad one (by index), and how many there were in all.
struct PointList {
    points: Vec<LonLat>,
    first_bad: Option<(usize, Text)>,
    total: usize,
}

impl<'de> Deserialize<'de> for PointList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(PointListVisitor)
    }
}

/// Reads the points one JSON value at a time so that a bad point is reported
/// by its index (serde's own error would only give a line and column), and
/// skips past the cap without storing anything.
struct PointListVisitor;

impl<'de> Visitor<'de> for PointListVisitor {
    type Value = PointList;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of [lon, lat] pairs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PointList, A::Error> {
        let mut list = PointList {
            points: Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_BATCH_POINTS)),
            first_bad: None,
            total: 0,
        };
        loop {
            if list.total < MAX_BATCH_POINTS && list.first_bad.is_none() {
                let Some(value) = seq.next_element::<Value>()? else {
                    break;
                };
                match point_from_json(&value) {
                    Ok(p) => list.points.push(p),
                    Err(why) => list.first_bad = Some((list.total, why)),
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            list.total += 1;
        }
        Ok(list)
    }
}

/// A point of a batch, or what is wrong with it: a sentence that follows
/// the point's name (`points[3] has latitude …`).
fn point_from_json(value: &Value) -> Result<LonLat, Text> {
    let pair = value
        .as_array()
        .filter(|a| a.len() == 2)
        .and_then(|a| Some((a[0].as_f64()?, a[1].as_f64()?)));
    let Some((lon, lat)) = pair else {
        return Err(text!(
            "must be a [lon, lat] pair of numbers, got {value}",
            "必须是由两个数字组成的 [lon, lat]，收到的是 {value}"
        ));
    };
    if !(-180.0..=180.0).contains(&lon) {
        return Err(text!(
            "has longitude {lon}, outside -180 to 180",
            "的经度 {lon} 超出 -180 至 180 的范围"
        ));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(text!(
            "has latitude {lat}, outside -90 to 90",
            "的纬度 {lat} 超出 -90 至 90 的范围"
        ));
    }
    Ok(LonLat::new(lon, lat))
}

/// The answers of a batch, in the order of the points.
#[derive(Serialize, ToSchema)]
struct BatchAnswer<'a> {
    /// One entry per point, in request order.
    results: Vec<LevelIds<'a>>,
}

/// The grid ids at each level for many points at once, in request order.
#[utoipa::path(
    post,
    path = "/api/locate",
    tag = "locate",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per point, in request order", body = BatchAnswer),
        (status = 400, description = "A point is not a valid [lon, lat] pair; `parameter` \
            names it, e.g. `points[3]`; or the body is not JSON",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "More than 100,000 points, or a body over 16 MiB",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The body is JSON but has no `points` array",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn locate_batch(
    State(state): State<Arc<AppState>>,
    Json(request): Json<BatchRequest>,
) -> Result<Response, ApiError> {
    let PointList {
        points,
        first_bad,
        total,
    } = request.points;
    if total > MAX_BATCH_POINTS {
        return Err(ApiError::PayloadTooLarge(text!(
            "{total} points in one request; at most {MAX_BATCH_POINTS} are accepted",
            "一次请求含 {total} 个点，最多只接受 {MAX_BATCH_POINTS} 个"
        )));
    }
    if let Some((i, why)) = first_bad {
        let parameter = format!("points[{i}]");
        let detail = Text::new(
            format!("{parameter} {}", why.en()),
            format!("{parameter} {}", why.zh()),
        );
        return Err(ApiError::bad_parameter(parameter, detail));
    }
    let index = state.index();
    let answer = move || {
        let chains: Vec<Chain> = points.iter().map(|&p| index.locate(p)).collect();
        serde_json::to_vec(&BatchAnswer {
            results: chains.iter().map(|c| LevelIds::of(&index, c)).collect(),
        })
    };
    let body = if total > BLOCKING_THRESHOLD {
        tokio::task::spawn_blocking(answer)
            .await
            .map_err(|e| ApiError::internal("locating a batch", e))?
    } else {
        answer()
    }
    .map_err(|e| ApiError::internal("serializing a batch answer", e))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn json_response(value: &impl Serialize) -> Result<Response, ApiError> {
    let body =
        serde_json::to_vec(value).map_err(|e| ApiError::internal("serializing an answer", e))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
