//! `/api/grids`: the grids as GeoJSON (RFC 7946), one grid with its place in
//! the hierarchy, the import of a FeatureCollection, and the export of all
//! grids. Reads come from the in-memory index snapshot; the import goes
//! through the grid service (plan, then apply in one transaction).

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use geo::Intersects;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::access::Caller;
use super::error::{ApiError, ProblemDocument};
use super::extract::{Body, Path, Query};
use super::grid_files::{attachment, format_of_body, parse_crs, parse_format};
use super::params::index_as_of;
use super::scope::sees_contacts;
use super::value_schemas::{OptionalMoment, WgsBbox};
use crate::geom::Bbox;
use crate::geom::PlanningCrs;
use crate::index::{GridIndex, GridIx};
use crate::model::WriteMode;
use crate::model::geojson::{grid_to_feature, grids_to_feature_collection};
use crate::model::{Grid, GridId, Level, Text};
use crate::services::grid_files::{self, GridFileFormat};
use crate::services::grids::{GridChange, Impact};
use crate::state::AppState;
use crate::text;

/// The largest import body accepted, bytes. The demo county (2,403 grids
/// with hundreds of vertices each) is 32 MB of GeoJSON; a real county with
/// finer boundaries has room to be four times that.
pub(super) const IMPORT_BODY_LIMIT: usize = 128 * 1024 * 1024;

/// The media type of GeoJSON (RFC 7946 §12).
const GEOJSON: &str = "application/geo+json";

/// The routes of this resource.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/grids", get(list))
        .route("/api/grids/export", get(export))
        .route("/api/grids/search", get(search))
        .route(
            "/api/grids/import",
            post(import).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        )
        .route("/api/grids/{id}", get(one))
}

/// The OpenAPI description of this resource.
#[derive(OpenApi)]
#[openapi(paths(list, one, export, import, search))]
pub(super) struct GridsApi;

/// Filters of `GET /api/grids`; every one given must match.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only grids of this level, 1 (towns) to 5 (sub-areas).
    #[param(value_type = Option<u8>, minimum = 1, maximum = 5, example = 2)]
    level: Option<String>,
    /// Only the direct children of the grid with this id.
    #[param(example = "620521100")]
    parent: Option<String>,
    /// `minLon,minLat,maxLon,maxLat` in WGS84 degrees: only grids whose
    /// boundary intersects this box (touching its edge counts).
    #[param(value_type = Option<WgsBbox>, example = "106.10,34.70,106.20,34.76")]
    bbox: Option<String>,
    /// Answer with the grids in force at this moment instead of now: an
    /// RFC 3339 time, or a date (its first moment in China Standard Time);
    /// past, or a date a scheduled change takes effect.
    #[param(value_type = Option<OptionalMoment>, example = "2027-01-01")]
    as_of: Option<String>,
    /// A page of at most this many grids (1 to 10000), from `offset` on;
    /// all of them when absent. The answer says `numberMatched` and
    /// `numberReturned`, and links the `next` page while more follow.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000, example = 200)]
    limit: Option<String>,
    /// Matching grids to skip before the page (0 when absent).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 4294967295_u32, example = 0)]
    offset: Option<String>,
    /// Boundaries simplified as a map at this zoom (0 to 22) draws them,
    /// to about a pixel, for a client that draws the list: the demo
    /// county's level-4 grids at zoom 10 are 0.6 MB instead of 12.1 MB.
    /// Full detail when
    /// absent. Neighbours' shared borders may part by that pixel, so do
    /// not measure or edit simplified boundaries.
    #[param(value_type = Option<u8>, minimum = 0, maximum = 22, example = 10)]
    zoom: Option<String>,
}

/// The most grids one page of `GET /api/grids` holds.
const MAX_PAGE: u32 = 10_000;
/// The highest `zoom` of `GET /api/grids` (as web maps go).
const MAX_LIST_ZOOM: u32 = 22;

/// `as_of` alone.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AsOfQuery {
    /// Answer with the grids in force at this moment instead of now: an
    /// RFC 3339 time, or a date (its first moment in China Standard Time);
    /// past, or a date a scheduled change takes effect.
    #[param(value_type = Option<OptionalMoment>, example = "2027-01-01")]
    pub(super) as_of: Option<String>,
}

/// [`ListQuery`] with its values checked.
struct GridSelection {
    level: Option<Level>,
    parent: Option<GridId>,
    bbox: Option<Bbox>,
}

/// The page and drawing detail of a grid list.
struct ListShape {
    limit: Option<u32>,
    offset: u32,
    zoom: Option<u8>,
}

impl ListQuery {
    fn parse(self) -> Result<(GridSelection, ListShape), ApiError> {
        let level = self.level.map(|s| parse_level(&s)).transpose()?;
        let bbox = self.bbox.map(|s| parse_bbox(&s)).transpose()?;
        let limit = self
            .limit
            .map(|s| whole_number("limit", &s, 1, MAX_PAGE))
            .transpose()?;
        let offset = self
            .offset
            .map(|s| whole_number("offset", &s, 0, u32::MAX))
            .transpose()?
            .unwrap_or(0);
        let zoom = self
            .zoom
            .map(|s| whole_number("zoom", &s, 0, MAX_LIST_ZOOM))
            .transpose()?
            .map(|z| z as u8);
        Ok((
            GridSelection {
                level,
                parent: self.parent.map(GridId),
                bbox,
            },
            ListShape {
                limit,
                offset,
                zoom,
            },
        ))
    }
}

/// A query parameter that must be a whole number from `min` to `max`.
fn whole_number(name: &str, s: &str, min: u32, max: u32) -> Result<u32, ApiError> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            ApiError::bad_parameter(
                name,
                text!(
                    "{name} must be a whole number from {min} to {max}, got {s:?}",
                    "{name} 必须是 {min} 至 {max} 的整数，收到的是 {s:?}"
                ),
            )
        })
}

fn parse_level(s: &str) -> Result<Level, ApiError> {
    s.trim()
        .parse::<i64>()
        .ok()
        .and_then(|n| Level::new(n).ok())
        .ok_or_else(|| {
            ApiError::bad_parameter(
                "level",
                text!(
                    "level must be 1 to 5, got {s:?}",
                    "level 必须在 1 至 5 之间，收到的是 {s:?}"
                ),
            )
        })
}

/// `bbox=minLon,minLat,maxLon,maxLat`: four ordered numbers within WGS84's
/// ranges (also the incidents list's `bbox`).
pub(super) fn parse_bbox(s: &str) -> Result<Bbox, ApiError> {
    let bad = |why: &str, why_zh: &str| {
        ApiError::bad_parameter(
            "bbox",
            text!(
                "bbox must be minLon,minLat,maxLon,maxLat in degrees ({why}), got {s:?}",
                "bbox 必须是以度为单位的 minLon,minLat,maxLon,maxLat（{why_zh}），收到的是 {s:?}"
            ),
        )
    };
    let four_numbers = || bad("four numbers", "四个数字");
    let parts: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| four_numbers())?;
    let [min_lon, min_lat, max_lon, max_lat] = parts[..] else {
        return Err(four_numbers());
    };
    let lon_ok = |v: f64| v.is_finite() && (-180.0..=180.0).contains(&v);
    let lat_ok = |v: f64| v.is_finite() && (-90.0..=90.0).contains(&v);
    if !(lon_ok(min_lon) && lon_ok(max_lon) && lat_ok(min_lat) && lat_ok(max_lat)) {
        return Err(bad(
            "longitudes -180 to 180, latitudes -90 to 90",
            "经度 -180 至 180，纬度 -90 至 90",
        ));
    }
    if min_lon > max_lon || min_lat > max_lat {
        return Err(bad("minimum before maximum", "最小值在前，最大值在后"));
    }
    Ok(Bbox {
        min_lon,
        min_lat,
        max_lon,
        max_lat,
    })
}

impl GridSelection {
    /// Positions of the matching grids, ordered by level then id.
    fn select(&self, index: &GridIndex) -> Vec<GridIx> {
        // Start from the smallest candidate set the index offers, then apply
        // every filter to it.
        let mut candidates: Vec<GridIx> = match (&self.parent, self.bbox) {
            (Some(parent), _) => index
                .position(parent)
                .map(|ix| index.children_of(ix).to_vec())
                .unwrap_or_default(),
            (None, Some(bbox)) => {
                let levels = match self.level {
                    Some(level) => vec![level],
                    None => Level::ALL.to_vec(),
                };
                levels
                    .into_iter()
                    .flat_map(|level| index.candidates_in_bbox(level, bbox))
                    .collect()
            }
            (None, None) => (0..index.grids().len() as GridIx).collect(),
        };
        let rect = self.bbox.map(Bbox::to_rect);
        candidates.retain(|&ix| {
            let grid = index.grid(ix);
            self.level.is_none_or(|l| grid.level == l)
                // The exact test behind the R-tree's box test: touching counts,
                // as in the stores (`ST_Intersects`).
                && rect.is_none_or(|r| grid.geometry.intersects(&r))
        });
        // Positions are ordered by level then id.
        candidates.sort_unstable();
        candidates
    }
}

/// Grids as a GeoJSON FeatureCollection, filtered by level, parent and box.
#[utoipa::path(
    get,
    path = "/api/grids",
    operation_id = "list_grids",
    tag = "grids",
    params(ListQuery),
    responses(
        (status = 200, description = "The matching grids, ordered by level then id",
            body = FeatureCollectionDoc, content_type = "application/geo+json"),
        (status = 400, description = "A filter or `as_of` is malformed; `parameter` names it",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<ListQuery>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let index = index_as_of(&state, query.as_of.as_deref()).await?;
    let (selection, shape) = query.parse()?;
    let contacts = sees_contacts(&caller);
    let body = blocking("listing grids", move || {
        let positions = selection.select(&index);
        let matched = positions.len();
        let page = positions
            .iter()
            .skip(shape.offset as usize)
            .take(shape.limit.map_or(usize::MAX, |l| l as usize));
        let grids: Vec<Cow<'_, Grid>> = page
            .map(|&ix| {
                let grid = index.grid(ix);
                let mut grid = if contacts {
                    Cow::Borrowed(grid)
                } else {
                    Cow::Owned(grid.without_contacts())
                };
                if let Some(zoom) = shape.zoom {
                    grid.to_mut().geometry = crate::tiles::simplify_for_zoom(&grid.geometry, zoom);
                }
                grid
            })
            .collect();
        let mut collection = grids_to_feature_collection(grids.iter().map(|g| g.as_ref()));
        let mut members = serde_json::Map::new();
        members.insert("numberMatched".into(), matched.into());
        members.insert("numberReturned".into(), grids.len().into());
        let next = shape.offset as usize + grids.len();
        if shape.limit.is_some() && next < matched {
            members.insert(
                "links".into(),
                serde_json::json!([{
                    "rel": "next",
                    "type": GEOJSON,
                    "href": page_link(uri.query(), next),
                }]),
            );
        }
        collection.foreign_members = Some(members);
        serde_json::to_vec(&collection)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, GEOJSON)], body).into_response())
}

/// The address of the same list from `offset` on, as a reference relative
/// to the list's own address (so it holds behind a proxy's path prefix):
/// the request's query with its `offset` replaced.
fn page_link(query: Option<&str>, offset: usize) -> String {
    let mut kept: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("offset="))
        .collect();
    let offset = format!("offset={offset}");
    kept.push(&offset);
    format!("?{}", kept.join("&"))
}

/// The file an export writes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// `geojson` (default), `shapefile` (a zipped Shapefile) or `geopackage`.
    #[param(value_type = Option<String>, pattern = "^(geojson|shapefile|geopackage)?$")]
    format: Option<String>,
    /// The coordinate system of a Shapefile or GeoPackage: `EPSG:4490`
    /// (CGCS2000, the default), `EPSG:4326`, or a CGCS2000 3-degree
    /// Gauss–Krüger projection `EPSG:4513`–`EPSG:4554` (Qingshui: 4544).
    /// GeoJSON is always longitude/latitude.
    #[param(value_type = Option<String>, example = "EPSG:4544",
        pattern = "^(EPSG:(4490|4326|45(1[3-9]|[2-4][0-9]|5[0-4])))?$")]
    crs: Option<String>,
    /// Answer with the grids in force at this moment instead of now: an
    /// RFC 3339 time, or a date (its first moment in China Standard Time);
    /// past, or a date a scheduled change takes effect.
    #[param(value_type = Option<OptionalMoment>, example = "2027-01-01")]
    as_of: Option<String>,
}

/// Every grid, as a file to save: GeoJSON, a zipped Shapefile or a
/// GeoPackage, the latter two in the coordinate system asked for.
#[utoipa::path(
    get,
    path = "/api/grids/export",
    tag = "grids",
    params(ExportQuery),
    responses(
        (status = 200, description = "All grids of all levels, ordered by level then id, \
            sent as the attachment `grids.geojson`, `grids.zip` (a Shapefile layer `grids` \
            with `id`, `level`, `parent_id`, `name`, `code`, `population`, `leader_nm`, \
            `leader_ph`, UTF-8) or `grids.gpkg` (a layer `grids`)",
            content(
                (FeatureCollectionDoc = "application/geo+json"),
                (Vec<u8> = "application/zip"),
                (Vec<u8> = "application/geopackage+sqlite3"),
            )),
        (status = 400, description = "`format` or `crs` is not one wangge writes (GeoJSON \
            takes no projected `crs`)",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn export(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = parse_format(query.format.as_deref())?;
    let crs = parse_crs(query.crs.as_deref())?;
    if format == GridFileFormat::GeoJson && crs.is_some_and(|c| !c.is_geographic()) {
        return Err(ApiError::bad_parameter(
            "crs",
            Text::new(
                "GeoJSON is longitude/latitude (RFC 7946): ask for a shapefile or geopackage \
                 in a projected system",
                "GeoJSON 只能使用经纬度（RFC 7946），如需投影坐标系请导出 shapefile 或 geopackage",
            ),
        ));
    }
    let index = index_as_of(&state, query.as_of.as_deref()).await?;
    let grids = if sees_contacts(&caller) {
        index.grids().to_vec()
    } else {
        index.grids().iter().map(Grid::without_contacts).collect()
    };
    attachment(grids, format, crs.unwrap_or(PlanningCrs::Cgcs2000)).await
}

/// Serialize off the async runtime: a FeatureCollection of the whole county
/// is tens of megabytes.
async fn blocking(
    context: &'static str,
    f: impl FnOnce() -> serde_json::Result<Vec<u8>> + Send + 'static,
) -> Result<Vec<u8>, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(context, e))?
        .map_err(|e| ApiError::internal(context, e))
}

/// One grid with its place in the hierarchy.
#[derive(Serialize, ToSchema)]
struct GridDetail {
    /// The grid as a GeoJSON Feature.
    #[schema(value_type = FeatureDoc)]
    grid: geojson::Feature,
    /// Its ancestors, level 1 first.
    ancestors: Vec<GridSummary>,
    /// Its direct children, ordered by id.
    children: Vec<GridSummary>,
}

/// A grid without its geometry: enough to name it and call its leader.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct GridSummary {
    /// The grid's id.
    #[schema(example = "620521100001")]
    id: String,
    /// Its level, 1 to 5.
    #[schema(example = 2)]
    level: u8,
    /// Display name.
    #[schema(example = "城关社区")]
    name: String,
    /// The hierarchical code, if the grid has one.
    code: Option<String>,
    /// The person responsible, if known.
    leader: Option<LeaderDto>,
}

impl GridSummary {
    /// The summary of a grid; the leader's number only with `contacts`
    /// (see [`sees_contacts`]).
    pub(super) fn of(grid: &Grid, contacts: bool) -> GridSummary {
        GridSummary {
            id: grid.id.0.clone(),
            level: grid.level.get(),
            name: grid.name.clone(),
            code: grid.code().map(str::to_owned),
            leader: grid.leader().map(|l| LeaderDto {
                name: l.name,
                phone: contacts.then_some(l.phone),
            }),
        }
    }
}

/// The person responsible for a grid.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Leader)]
struct LeaderDto {
    /// Full name.
    name: String,
    /// Mobile number; left out for readers who are not logged in.
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
}

/// One grid, its ancestors and its children.
#[utoipa::path(
    get,
    path = "/api/grids/{id}",
    operation_id = "get_grid",
    tag = "grids",
    params(("id" = String, Path, description = "The grid's id", example = "620521100"), AsOfQuery),
    responses(
        (status = 200, description = "The grid", body = GridDetail),
        (status = 400, description = "`as_of` is malformed",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No grid has this id",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn one(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<AsOfQuery>,
) -> Result<axum::Json<GridDetail>, ApiError> {
    let index = index_as_of(&state, query.as_of.as_deref()).await?;
    let contacts = sees_contacts(&caller);
    let id = GridId(id);
    let ix = index.position(&id).ok_or_else(|| {
        let id = &id.0;
        ApiError::NotFound(text!("no grid has id {id:?}", "未找到编号为 {id:?} 的网格"))
    })?;
    let mut ancestors: Vec<GridSummary> = index
        .ancestors(ix)
        .into_iter()
        .map(|a| GridSummary::of(index.grid(a), contacts))
        .collect();
    ancestors.reverse();
    let grid = index.grid(ix);
    Ok(axum::Json(GridDetail {
        grid: if contacts {
            grid_to_feature(grid)
        } else {
            grid_to_feature(&grid.without_contacts())
        },
        ancestors,
        children: index
            .children_of(ix)
            .iter()
            .map(|&c| GridSummary::of(index.grid(c), contacts))
            .collect(),
    }))
}

/// The most results one search returns.
const SEARCH_MAX_LIMIT: usize = 50;
/// Results when `limit` is not given.
const SEARCH_DEFAULT_LIMIT: usize = 10;
/// The longest query accepted, in characters.
const SEARCH_MAX_QUERY_CHARS: usize = 100;

/// Parameters of `GET /api/grids/search`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// Part of a grid's name, or the start of its id or code; at most 100
    /// characters. Case and full-width digits do not matter.
    #[param(value_type = String, required = true, min_length = 1, max_length = 100,
        pattern = "\\S", example = "永清")]
    q: Option<String>,
    /// How many results at most, 1 to 50 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 50, example = 10)]
    limit: Option<String>,
}

/// One grid found by a search.
#[derive(Debug, Serialize, ToSchema)]
struct SearchResult {
    /// The grid: id, level, name, code and leader.
    #[serde(flatten)]
    grid: GridSummary,
    /// Its bounding box, `[minLon, minLat, maxLon, maxLat]` in degrees, for a
    /// map to fly to.
    #[schema(example = json!([106.08, 34.70, 106.21, 34.79]))]
    bbox: [f64; 4],
    /// How it matched: `exact` (name, id or code), `prefix` (name, id or code)
    /// or `substring` (name).
    #[serde(rename = "match")]
    #[schema(example = "prefix")]
    kind: &'static str,
    /// The names of its ancestors, level 1 first, to tell apart grids with
    /// the same name.
    #[schema(example = json!(["永清镇"]))]
    path: Vec<String>,
}

/// The answer of a search.
#[derive(Debug, Serialize, ToSchema)]
struct SearchAnswer {
    /// The query as understood (trimmed).
    query: String,
    /// The matching grids, best first.
    results: Vec<SearchResult>,
}

/// Grids by name, id or code, best matches first: exact (the whole name, id
/// or code), then prefix, then a name containing the query; within each,
/// coarser levels first, then shorter names.
#[utoipa::path(
    get,
    path = "/api/grids/search",
    tag = "grids",
    params(SearchQuery),
    responses(
        (status = 200, description = "The best matches, possibly none", body = SearchAnswer),
        (status = 400, description = "`q` is missing, blank or too long, or `limit` is not \
            1 to 50; `parameter` names it",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn search(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Result<axum::Json<SearchAnswer>, ApiError> {
    let q = query.q.as_deref().map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(ApiError::bad_parameter(
            "q",
            Text::new(
                "q must be part of a grid's name or the start of its id or code",
                "q 应为网格名称中的文字，或网格编号、编码的开头",
            ),
        ));
    }
    if q.chars().count() > SEARCH_MAX_QUERY_CHARS {
        return Err(ApiError::bad_parameter(
            "q",
            text!(
                "q must be at most {SEARCH_MAX_QUERY_CHARS} characters",
                "q 不能超过 {SEARCH_MAX_QUERY_CHARS} 个字符"
            ),
        ));
    }
    let limit = match query.limit.as_deref().map(str::trim) {
        None => SEARCH_DEFAULT_LIMIT,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=SEARCH_MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_parameter(
                    "limit",
                    text!(
                        "limit must be 1 to {SEARCH_MAX_LIMIT}, got {s:?}",
                        "limit 必须在 1 至 {SEARCH_MAX_LIMIT} 之间，收到的是 {s:?}"
                    ),
                )
            })?,
    };
    // A scan of every grid, well under a millisecond: no need to leave the runtime.
    let index = state.index();
    let results = index
        .search(q, limit)
        .into_iter()
        .map(|hit| {
            let b = index.bbox_of(hit.ix);
            let mut path: Vec<String> = index
                .ancestors(hit.ix)
                .into_iter()
                .map(|a| index.grid(a).name.clone())
                .collect();
            path.reverse();
            SearchResult {
                grid: GridSummary::of(index.grid(hit.ix), sees_contacts(&caller)),
                bbox: [b.min_lon, b.min_lat, b.max_lon, b.max_lat],
                kind: hit.kind.as_str(),
                path,
            }
        })
        .collect();
    Ok(axum::Json(SearchAnswer {
        query: q.to_owned(),
        results,
    }))
}

/// How an import treats the grids already stored, and whether to apply it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// `replace` (default): the import becomes the whole set; `upsert`: grids
    /// are added or replace the stored grid with the same id, others are kept.
    #[param(value_type = Option<String>, pattern = "^(replace|upsert)$", example = "replace")]
    mode: Option<String>,
    /// `true`: validate and list the impact, change nothing.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
    /// The grid-set version the import was prepared against (from
    /// `GET /healthz` or an earlier answer); another change committed since
    /// makes it a 409. Required once the county has grids, except on a
    /// dry run (which answers the version it planned on).
    #[param(value_type = Option<i64>, minimum = 0)]
    version: Option<String>,
    /// The coordinate system of a zipped Shapefile without a `.prj` (a
    /// `.prj` says it otherwise), as `EPSG:…`.
    #[param(value_type = Option<String>, example = "EPSG:4544",
        pattern = "^(EPSG:(4490|4326|45(1[3-9]|[2-4][0-9]|5[0-4])))?$")]
    crs: Option<String>,
    /// Why, kept with the revision (at most 500 characters).
    #[param(example = "2027年网格调整")]
    reason: Option<String>,
    /// When the import takes effect: an RFC 3339 time or a date (its first
    /// moment in China Standard Time); absent or not later than now, at
    /// once; later, scheduled.
    #[param(value_type = Option<OptionalMoment>, example = "2027-01-01")]
    effective: Option<String>,
}

fn parse_mode(mode: Option<&str>) -> Result<WriteMode, ApiError> {
    match mode {
        None | Some("replace") => Ok(WriteMode::Replace),
        Some("upsert") => Ok(WriteMode::Upsert),
        Some(other) => Err(ApiError::bad_parameter(
            "mode",
            text!(
                "mode must be replace or upsert, got {other:?}",
                "mode 必须是 replace 或 upsert，收到的是 {other:?}"
            ),
        )),
    }
}

/// What an import did, or (dry run) would do.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ImportSummary)]
pub(super) struct ImportSummaryDto {
    /// True when nothing was changed (`dry_run=true`).
    dry_run: bool,
    /// Features in the import.
    #[schema(example = 2403)]
    imported: usize,
    /// Grids stored after the import, all levels.
    #[schema(example = 2403)]
    grids: usize,
    /// Grids per level after the import, level 1 first.
    #[schema(value_type = Vec<u64>, example = json!([18, 142, 267, 1063, 913]))]
    counts_by_level: [usize; 5],
    /// The grid-set version the import was planned on.
    planned_on_version: i64,
    /// The grid-set version it created (absent on a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
    /// Its change-feed sequence number (absent on a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    change: Option<i64>,
    /// When it takes effect: absent for a change made at once on a dry
    /// run; the scheduled time for a scheduled change; the time it was
    /// made otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    effective_at: Option<jiff::Timestamp>,
    /// True when the change is scheduled: recorded (or, on a dry run,
    /// checked) but not in force before `effective_at`; its `impact` is
    /// what it would move if it took effect now.
    scheduled: bool,
    /// Every grid added, altered or removed, by id.
    #[schema(value_type = Vec<String>)]
    changed_grids: Vec<crate::model::GridId>,
    /// Open incidents, hazards and saved routes whose grids change: each
    /// with `id`, `from` and `to` (grid ids per level for incidents and
    /// hazards, level 1 first; every grid passed for routes).
    #[schema(value_type = Object)]
    impact: Impact,
}

/// Import grids from a GeoJSON FeatureCollection, a zipped Shapefile
/// (`application/zip`) or a GeoPackage (`application/geopackage+sqlite3`)
/// in longitude/latitude or a CGCS2000 Gauss–Krüger projection (reprojected
/// on the way in): planned (checked, and its
/// impact on open incidents, hazards and routes listed), then applied in one
/// transaction that also moves every open incident (with a history entry),
/// hazard and route to the grids where it now lies. A refused import names
/// every reason and changes nothing.
#[utoipa::path(
    post,
    path = "/api/grids/import",
    tag = "grids",
    params(ImportQuery),
    request_body(
        content(
            (FeatureCollectionDoc = "application/geo+json"),
            (Vec<u8> = "application/zip"),
            (Vec<u8> = "application/geopackage+sqlite3"),
        ),
        description = "Features with `id`, `level`, `parent_id` and `name` properties \
            (any other property is kept as given) and Polygon or MultiPolygon geometry; \
            from a Shapefile or GeoPackage, the same attributes (names in any case; the \
            leader as `leader_nm`/`leader_ph` or a JSON `leader`)"),
    responses(
        (status = 415, description = "The body is not GeoJSON (`application/geo+json`, `application/json`), a zipped Shapefile (`application/zip`) or a GeoPackage (`application/geopackage+sqlite3`); nothing changed",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 200, description = "Imported (or, with `dry_run=true`, what importing would do)",
            body = ImportSummaryDto),
        (status = 400, description = "`mode`, `dry_run` or `version` is malformed, or \
            `version` is missing while the county has grids",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Another grid change committed after `version` \
            (`current_version` says which is stored now), or a revision scheduled later \
            changes the same grids",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 128 MiB",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Refused: `issues` lists every reason the grids are \
            invalid, `stranded` what would be left outside every grid, or the import is an \
            empty replace; the stored grids are unchanged",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The store failed the write; nothing was changed",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn import(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<axum::Json<ImportSummaryDto>, ApiError> {
    let crs = parse_crs(query.crs.as_deref())?;
    let mode = parse_mode(query.mode.as_deref())?;
    let dry_run = parse_dry_run(query.dry_run.as_deref())?;
    let version = match query.version.as_deref() {
        None | Some("") => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
            ApiError::bad_parameter(
                "version",
                text!(
                    "version must be a grid-set version (a whole number), got {v:?}",
                    "version 必须是网格版本号（整数），收到的是 {v:?}"
                ),
            )
        })?),
    };
    let format = format_of_body(&headers)?;
    // An import changes the grids a planner read: like every other change
    // of something that exists, it names the version it was planned on, so
    // that another planner's change since is not overwritten unseen. (The
    // first import into an empty county, and a dry run, change nothing
    // that anyone read.)
    if version.is_none() && !dry_run && !state.index().grids().is_empty() {
        return Err(ApiError::bad_parameter(
            "version",
            Text::new(
                "version is required: the grid-set version the import was planned on \
                 (GET /healthz `grid_version`, or a dry run's `version`)",
                "缺少 version：应为制订本次导入时所依据的网格版本号（见 GET /healthz 的 `grid_version`，\
                 或 dry_run 试运行返回的 `version`）",
            ),
        ));
    }
    let grids = grid_files::read(format, body.to_vec(), crs)
        .await
        .map_err(ApiError::ImportRefused)?;
    let plan = state
        .grids()
        .plan(GridChange {
            grids,
            mode,
            remove: Vec::new(),
            version,
            actor: caller.login(),
            reason: super::grid_edits::reason(query.reason)?,
            effective: super::params::moment("effective", query.effective.as_deref())?,
        })
        .await?;
    plan_then_apply(&state, plan, dry_run).await
}

/// Answer a plan (dry run), or apply it and answer what was done.
pub(super) async fn plan_then_apply(
    state: &Arc<AppState>,
    plan: crate::services::grids::GridPlan,
    dry_run: bool,
) -> Result<axum::Json<ImportSummaryDto>, ApiError> {
    let planned_on_version = plan.version;
    if dry_run {
        return Ok(axum::Json(ImportSummaryDto {
            dry_run: true,
            imported: plan.imported,
            grids: plan.counts_by_level.iter().sum(),
            counts_by_level: plan.counts_by_level,
            planned_on_version,
            version: None,
            change: None,
            effective_at: plan.scheduled,
            scheduled: plan.scheduled.is_some(),
            changed_grids: plan.changed_grids,
            impact: plan.impact,
        }));
    }
    // Applied in a task of its own: a client that goes away must not drop
    // the change between its commit and the feed applying it.
    let applying = state.clone();
    let applied = tokio::spawn(crate::services::origin::inherit(async move {
        applying.grids().apply(plan).await
    }))
    .await
    .map_err(|e| ApiError::internal("applying a grid change", e))??;
    Ok(axum::Json(ImportSummaryDto {
        dry_run: false,
        imported: applied.imported,
        grids: applied.counts_by_level.iter().sum(),
        counts_by_level: applied.counts_by_level,
        planned_on_version,
        version: Some(applied.version),
        change: Some(applied.change),
        effective_at: Some(applied.effective_at),
        scheduled: applied.scheduled,
        changed_grids: applied.changed_grids,
        impact: applied.impact,
    }))
}

pub(super) fn parse_dry_run(dry_run: Option<&str>) -> Result<bool, ApiError> {
    match dry_run {
        None | Some("false") | Some("") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_parameter(
            "dry_run",
            text!(
                "dry_run must be true or false, got {other:?}",
                "dry_run 必须是 true 或 false，收到的是 {other:?}"
            ),
        )),
    }
}

// The two types below exist only to describe GeoJSON in the OpenAPI document;
// responses are built with the `geojson` crate.

/// A GeoJSON Feature (RFC 7946 §3.2) for one grid.
#[derive(Serialize, ToSchema)]
#[schema(as = GeoJsonFeature)]
#[allow(dead_code)]
struct FeatureDoc {
    /// Always `Feature`.
    #[serde(rename = "type")]
    #[schema(example = "Feature")]
    kind: String,
    /// The grid's id.
    id: String,
    /// A GeoJSON Polygon, or MultiPolygon for a grid in several parts.
    #[schema(value_type = Object)]
    geometry: (),
    /// `id`, `level`, `parent_id` (null for level 1) and `name`, then every
    /// other property as imported (`code`, `population`, `leader`, …).
    #[schema(value_type = Object, example = json!({"id": "620521100", "level": 1,
        "parent_id": null, "name": "永清镇", "code": "620521100"}))]
    properties: (),
}

/// A GeoJSON FeatureCollection (RFC 7946 §3.3) of grids.
#[derive(Serialize, ToSchema)]
#[schema(as = GeoJsonFeatureCollection)]
#[allow(dead_code)]
struct FeatureCollectionDoc {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    #[schema(example = "FeatureCollection")]
    kind: String,
    /// The grids.
    features: Vec<FeatureDoc>,
    /// Grids matching the filters over all pages (`GET /api/grids`).
    #[serde(rename = "numberMatched")]
    #[schema(example = 1063)]
    number_matched: Option<u64>,
    /// Grids in this answer (`GET /api/grids`).
    #[serde(rename = "numberReturned")]
    #[schema(example = 200)]
    number_returned: Option<u64>,
    /// While more pages follow a `limit`ed list: `{"rel": "next", "type",
    /// "href"}`, the `href` relative to the list's address (`?…&offset=N`).
    #[schema(value_type = Option<Vec<Object>>)]
    links: Option<Vec<serde_json::Value>>,
}
