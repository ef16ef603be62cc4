//! OGC API - Features, Part 1 (Core and GeoJSON; the API document is OpenAPI 3.1) under `/ogc`:
//! the standard way for GIS clients (QGIS, GDAL/ogr2ogr, ArcGIS) to read
//! the grids, one collection per level, and the hazard register (`hazards`),
//! with paging and a `bbox` filter.
//!
//! | path | file |
//! |---|---|
//! | `GET /ogc` (landing page), `GET /ogc/conformance` | `landing.rs` |
//! | `GET /ogc/collections`, `GET /ogc/collections/{collectionId}` | `collections.rs` |
//! | `GET /ogc/collections/{collectionId}/items[/{featureId}]` | `items.rs` |
//!
//! The collections themselves are [`source::FeatureSource`]s listed in
//! [`source::CATALOG`]; the grid levels are in `grid_levels.rs`, and a new
//! collection is one more source. `links.rs` builds the absolute URLs every
//! response links to, from the base URL the client used.
//!
//! Unknown query parameters are refused with a 400 naming them (the
//! standard allows it, and it catches typos such as `limt` that would
//! otherwise silently return the default page); so is any `f` other than
//! JSON, as there is no HTML encoding.

mod collections;
mod crs;
mod filter;
mod grid_levels;
mod hazards;
mod items;
mod landing;
mod links;
mod source;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

use super::error::ApiError;
use super::extract::vary_by_base_url;
use crate::model::Text;
use crate::state::AppState;
use crate::text;

/// The media type of JSON documents.
const JSON: &str = "application/json";

/// The media type of GeoJSON (RFC 7946 §12).
const GEOJSON: &str = "application/geo+json";

/// The coordinate reference system of every geometry: WGS84 longitude,
/// latitude (the axis order of GeoJSON).
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// The routes of OGC API - Features.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/ogc", get(landing::landing))
        .route("/ogc/conformance", get(landing::conformance))
        .route("/ogc/api", get(landing::api))
        .route("/ogc/collections", get(collections::list))
        .route("/ogc/collections/{collectionId}", get(collections::one))
        .route("/ogc/collections/{collectionId}/items", get(items::list))
        .route(
            "/ogc/collections/{collectionId}/queryables",
            get(collections::queryables),
        )
        .route(
            "/ogc/collections/{collectionId}/items/{featureId}",
            get(items::one),
        )
        // Every document links with absolute URLs.
        .layer(axum::middleware::map_response(vary_by_base_url))
}

/// The OpenAPI description of OGC API - Features.
#[derive(OpenApi)]
#[openapi(
    paths(
        landing::landing,
        landing::conformance,
        landing::api,
        collections::list,
        collections::one,
        collections::queryables,
        items::list,
        items::one
    ),
    components(schemas(items::FilterLang)),
    tags((name = "ogc", description = "OGC API - Features: the grids for GIS clients, \
        one collection per level"))
)]
pub(super) struct OgcApi;

/// The query parameters of one request, checked against the names an
/// endpoint accepts.
struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Refuse a name outside `accepted`, or one given twice, with a 400
    /// naming it.
    fn accept(pairs: Vec<(String, String)>, accepted: &[&str]) -> Result<QueryParams, ApiError> {
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !accepted.contains(&name.as_str()) {
                let names = accepted.join(", ");
                return Err(ApiError::bad_parameter(
                    name.clone(),
                    text!(
                        "unknown query parameter {name:?}; this resource accepts {names}",
                        "未知的查询参数 {name:?}，此资源可用的查询参数：{names}"
                    ),
                ));
            }
            if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
                return Err(ApiError::bad_parameter(
                    name.clone(),
                    text!(
                        "the query parameter {name:?} is given more than once",
                        "查询参数 {name:?} 重复出现"
                    ),
                ));
            }
        }
        Ok(QueryParams(pairs))
    }

    /// The value of a parameter, if given.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `f` (format) parameter, if given, when it is one of `formats`.
    fn format(&self, formats: &[&str]) -> Result<Option<String>, ApiError> {
        match self.get("f") {
            None => Ok(None),
            Some(f) if formats.contains(&f) => Ok(Some(f.to_owned())),
            Some(f) => Err(ApiError::bad_parameter(
                "f",
                Text::new(
                    format!(
                        "f must be {}, got {f:?}; this server has no other encoding",
                        formats.join(" or ")
                    ),
                    format!(
                        "f 须为 {}，收到的是 {f:?}，本服务器不提供其他格式",
                        formats.join(" 或 ")
                    ),
                ),
            )),
        }
    }
}

/// Run CPU-heavy work (filters over many polygons, serialising thousands of
/// features) off the async runtime.
async fn blocking<T: Send + 'static>(
    context: &'static str,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(context, e))?
}
