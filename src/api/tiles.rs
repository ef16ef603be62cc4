//! `/tiles`: Mapbox Vector Tiles of the grids, their labels and the open
//! incidents, and their TileJSON documents.
//!
//! - `GET /tiles/{tileset}/{z}/{x}/{y}.mvt`: one tile (XYZ scheme). 200 with
//!   `application/vnd.mapbox-vector-tile`, or 204 when the tile is empty.
//!   Every answer carries a strong `ETag`; `If-None-Match` with it gives 304.
//!   Gzip when the client accepts it. Grid and label tiles are cached: a hit
//!   is answered without touching the grids, a miss is cut on the blocking
//!   pool and cached. Incident tiles are cut on the blocking pool for every
//!   request from the open incidents in memory, and never cached.
//! - `GET /tiles/{tileset}.json`: TileJSON 3.0.0 with absolute tile URLs.
//!
//! axum 0.8 cannot route a parameter with a suffix (`{y}.mvt`), so `{y}` is
//! taken whole and the extension stripped here.

use super::access::Caller;
use super::scope::View;
use std::sync::Arc;

use axum::Router;
use axum::body::Body as ResponseBody;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::error::{ApiError, ProblemDocument};
use super::extract::{BaseUrl, Path, Query, vary_by_base_url};
use super::grids::AsOfQuery;
use super::params::moment;
use crate::model::Text;
use crate::state::AppState;
use crate::text;
use crate::tiles::{self, EncodedTile, TileId, TileKey, Tileset};

/// The media type of Mapbox Vector Tiles.
const MVT: &str = "application/vnd.mapbox-vector-tile";

/// Tiles change when grids do, and an edit must show at once: clients keep
/// tiles but revalidate each use (a 304 costs a few bytes).
const TILE_CACHE_CONTROL: &str = "no-cache";

/// The routes of this resource.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/tiles/{tilejson}",
            get(tilejson).layer(axum::middleware::map_response(vary_by_base_url)),
        )
        .route("/tiles/{tileset}/{z}/{x}/{y}", get(tile))
}

/// The OpenAPI description of this resource.
#[derive(OpenApi)]
#[openapi(paths(tile, tilejson))]
pub(super) struct TilesApi;

fn tileset(name: &str) -> Result<Tileset, ApiError> {
    Tileset::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = Tileset::ALL.iter().map(|t| t.name()).collect();
        let known = known.join(", ");
        ApiError::NotFound(text!(
            "there is no tileset {name:?}; the tilesets are {known}",
            "未找到瓦片集 {name:?}，现有瓦片集：{known}"
        ))
    })
}

fn tile_id(z: &str, x: &str, y: &str) -> Result<TileId, ApiError> {
    let not_found = |why: Text| {
        ApiError::NotFound(Text::new(
            format!("no tile {z}/{x}/{y}: {}", why.en()),
            format!("未找到瓦片 {z}/{x}/{y}：{}", why.zh()),
        ))
    };
    let y = y
        .strip_suffix(".mvt")
        .ok_or_else(|| not_found(Text::new("tile URLs end in .mvt", "瓦片地址须以 .mvt 结尾")))?;
    let number = |name: &str, v: &str| {
        v.parse::<u64>().map_err(|_| {
            not_found(text!(
                "{name} must be a whole number, got {v:?}",
                "{name} 必须是整数，收到的是 {v:?}"
            ))
        })
    };
    let z = number("z", z)?;
    let z = u32::try_from(z).unwrap_or(u32::MAX);
    TileId::new(z, number("x", x)?, number("y", y)?).map_err(|e| not_found(Text::of(&e)))
}

/// One vector tile.
#[utoipa::path(
    get,
    path = "/tiles/{tileset}/{z}/{x}/{y}.mvt",
    tag = "tiles",
    params(
        ("tileset" = String, Path, description = "`grids` (polygons), `labels` (points) or \
            `incidents` (open incidents, clustered below zoom 14)"),
        ("z" = u8, Path, description = "Zoom, 0 to 24; features from zoom 5, advertised to 14"),
        ("x" = u32, Path, description = "Column, 0 at 180°W"),
        ("y" = u32, Path, description = "Row, 0 at the north edge (XYZ)"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer"),
        AsOfQuery,
    ),
    responses(
        (status = 200, description = "The tile: one MVT 2.1 layer named like the tileset, \
            extent 4096", content_type = "application/vnd.mapbox-vector-tile"),
        (status = 204, description = "The tile holds no feature"),
        (status = 304, description = "Unchanged since the ETag given"),
        (status = 400, description = "`as_of` is malformed, or given for the incidents \
            tileset; `parameter` names it",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such tileset or tile address",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn tile(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((name, z, x, y)): Path<(String, String, String, String)>,
    Query(query): Query<AsOfQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = TileKey {
        tileset: tileset(&name)?,
        tile: tile_id(&z, &x, &y)?,
    };
    if let Some(at) = moment("as_of", query.as_of.as_deref())? {
        if key.tileset == Tileset::Incidents {
            return Err(ApiError::bad_parameter(
                "as_of",
                Text::new(
                    "as_of applies to the grids and labels tilesets; incidents are live",
                    "as_of 仅适用于 grids 和 labels 瓦片集，incidents 瓦片集始终显示实时事件",
                ),
            ));
        }
        let source = state
            .grids()
            .tiles_as_of(at)
            .await
            .map_err(|e| ApiError::internal("reading the grids as of a time", e))?;
        if !Arc::ptr_eq(&source, &state.tiles().source()) {
            // Another version than the current one: cut, never cached
            // (the cache holds the current tiles).
            if !source.may_hold(key.tile) {
                return Ok(tile_response(&EncodedTile::new(None), &headers));
            }
            let encoded = tokio::task::spawn_blocking(move || {
                EncodedTile::new(tiles::render(&source, key.tileset, key.tile))
            })
            .await
            .map_err(|e| ApiError::internal("cutting a tile", e))?;
            return Ok(tile_response(&encoded, &headers));
        }
    }
    if key.tileset == Tileset::Incidents {
        // Cut per request from the open incidents (a range query over
        // points): they change by the second, so they are never cached.
        // On the blocking pool: a low zoom walks every open incident.
        // Only the caller's view: a grid leader's tiles hold their grid's.
        let live = state.live().clone();
        let view = View::of(&caller, &state.index());
        let bytes = tokio::task::spawn_blocking(move || {
            tiles::incidents::render_incidents(&live.open(), key.tile, Timestamp::now(), |chain| {
                view.sees_chain(chain)
            })
        })
        .await
        .map_err(|e| ApiError::internal("cutting an incidents tile", e))?;
        return Ok(tile_response(&EncodedTile::new(bytes), &headers));
    }
    let service = state.tiles();
    if let Some(hit) = service.get(&key) {
        return Ok(tile_response(&hit, &headers));
    }
    let source = service.source();
    if !source.may_hold(key.tile) {
        // Away from every grid: empty, without cutting or caching.
        return Ok(tile_response(&EncodedTile::new(None), &headers));
    }
    let cut = source.clone();
    let encoded = tokio::task::spawn_blocking(move || {
        Arc::new(EncodedTile::new(tiles::render(&cut, key.tileset, key.tile)))
    })
    .await
    .map_err(|e| ApiError::internal("cutting a tile", e))?;
    // Above the advertised zooms a county has millions of tiles and clients
    // overzoom instead of asking; the few that do ask get a fresh cut (each
    // holds a handful of grids) that does not crowd the cache.
    if key.tile.z <= tiles::MAX_ZOOM {
        service.put(&source, key, encoded.clone());
    }
    Ok(tile_response(&encoded, &headers))
}

/// The answer for a tile: 304 when the client holds it already, 204 when
/// it is empty, else its bytes, gzipped when accepted. The two encodings
/// are two representations with their own ETags; a client holding either
/// has the current tile, so either validates (and the 304 names the one it
/// holds).
fn tile_response(tile: &EncodedTile, request: &HeaderMap) -> Response {
    let gzip = !tile.is_empty() && accepts_gzip(request);
    let held = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().trim_start_matches("W/"))
        .find_map(|v| match v {
            "*" => Some(if gzip { &tile.etag_gzip } else { &tile.etag }),
            v if v == tile.etag => Some(&tile.etag),
            v if v == tile.etag_gzip => Some(&tile.etag_gzip),
            _ => None,
        });
    let matches = held.is_some();
    let etag = held.unwrap_or(if gzip { &tile.etag_gzip } else { &tile.etag });
    let etag = HeaderValue::from_str(etag).expect("an ETag is quoted hex");
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else if tile.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else if gzip {
        let mut r = ResponseBody::from(tile.gzip().clone()).into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        ResponseBody::from(tile.body.clone()).into_response()
    };
    let headers = response.headers_mut();
    if !matches && !tile.is_empty() {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
    }
    headers.insert(header::ETAG, etag);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(TILE_CACHE_CONTROL),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    response
}

/// Whether `Accept-Encoding` allows gzip (present, and not with `q=0`).
fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// A TileJSON 3.0.0 document.
#[derive(Debug, Serialize, ToSchema)]
struct TileJson {
    /// Always `3.0.0`.
    tilejson: &'static str,
    /// The tileset's name.
    name: String,
    /// What it holds.
    description: &'static str,
    /// Version of the tileset's schema.
    version: &'static str,
    /// Always `xyz`.
    scheme: &'static str,
    /// Tile URL templates, absolute.
    tiles: Vec<String>,
    /// The lowest zoom with features.
    minzoom: u8,
    /// The highest zoom served; clients overzoom beyond it.
    maxzoom: u8,
    /// West, south, east, north, degrees: the extent of the grids.
    bounds: [f64; 4],
    /// Longitude, latitude, zoom: where a map of the grids opens. The zoom
    /// is a whole number between `minzoom` and `maxzoom`.
    #[schema(value_type = Vec<f64>)]
    center: (f64, f64, u8),
    /// The MVT layers in each tile.
    vector_layers: Vec<VectorLayer>,
}

/// One layer in TileJSON's `vector_layers`.
#[derive(Debug, Serialize, ToSchema)]
struct VectorLayer {
    /// The MVT layer name.
    id: &'static str,
    /// What it holds.
    description: &'static str,
    /// The lowest zoom with features.
    minzoom: u8,
    /// The highest zoom served.
    maxzoom: u8,
    /// Attribute names and their meaning.
    #[schema(value_type = Object)]
    fields: serde_json::Map<String, serde_json::Value>,
}

/// The zoom a map of the whole county opens at (clamped to the tileset's
/// zoom range).
const OVERVIEW_ZOOM: u8 = 10;

/// TileJSON for one tileset.
#[utoipa::path(
    get,
    path = "/tiles/{tileset}.json",
    tag = "tiles",
    params(("tileset" = String, Path, description = "`grids`, `labels` or `incidents`")),
    responses(
        (status = 200, description = "TileJSON 3.0.0", body = TileJson),
        (status = 404, description = "No such tileset",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn tilejson(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    BaseUrl(base): BaseUrl,
) -> Result<Response, ApiError> {
    let name = file.strip_suffix(".json").ok_or_else(|| {
        ApiError::NotFound(text!(
            "no such path /tiles/{file}: TileJSON is at /tiles/{{tileset}}.json",
            "地址 /tiles/{file} 不存在：TileJSON 位于 /tiles/{{tileset}}.json"
        ))
    })?;
    let tileset = tileset(name)?;
    let source = state.tiles().source();
    let minzoom = tileset.min_zoom();
    let (bounds, center) = match source.bounds() {
        Some(b) => (
            [b.min_lon, b.min_lat, b.max_lon, b.max_lat],
            (
                (b.min_lon + b.max_lon) / 2.0,
                (b.min_lat + b.max_lat) / 2.0,
                OVERVIEW_ZOOM.clamp(minzoom, tiles::MAX_ZOOM),
            ),
        ),
        // No grids yet: the whole world, as TileJSON's defaults, opened at
        // the first zoom with features.
        None => (
            [-180.0, -85.051_128_78, 180.0, 85.051_128_78],
            (0.0, 0.0, minzoom),
        ),
    };
    let doc = TileJson {
        tilejson: "3.0.0",
        name: format!("wangge {}", tileset.name()),
        description: tileset.description(),
        version: "1.0.0",
        scheme: "xyz",
        tiles: vec![format!(
            "{base}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt",
            tileset.name()
        )],
        minzoom,
        maxzoom: tiles::MAX_ZOOM,
        bounds,
        center,
        vector_layers: vec![VectorLayer {
            id: tileset.name(),
            description: tileset.description(),
            minzoom,
            maxzoom: tiles::MAX_ZOOM,
            fields: tileset
                .fields()
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
                .collect(),
        }],
    };
    Ok(axum::Json(doc).into_response())
}
