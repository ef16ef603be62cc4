//! `GET /ogc/collections` and `GET /ogc/collections/{collectionId}`: what
//! each collection holds, where (its extent, computed from the features as
//! they are now) and the link to its items.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::crs::Crs;
use super::landing::JsonFormat;
use super::links::{Link, Urls};
use super::source::{self, CATALOG, FeatureSource};
use super::{CRS84, QueryParams, blocking};
use crate::api::ApiError;
use crate::api::error::ProblemDocument;
use crate::api::extract::{BaseUrl, Path, Query};
use crate::geom::Bbox;
use crate::state::AppState;

/// Every collection.
#[derive(Serialize, ToSchema)]
#[schema(as = OgcCollections)]
pub(super) struct Collections {
    /// `self`.
    links: Vec<Link>,
    /// The collections, in a fixed order.
    collections: Vec<Collection>,
}

/// One collection's description.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OgcCollection)]
pub(super) struct Collection {
    /// The id in URLs.
    #[schema(example = "basic-grids")]
    id: &'static str,
    /// A short title.
    #[schema(example = "Basic grids")]
    title: &'static str,
    /// What the features are.
    description: &'static str,
    /// `self` and `items` (GeoJSON).
    links: Vec<Link>,
    /// Where the features are; absent while the collection is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    extent: Option<Extent>,
    /// Always `feature`.
    #[schema(example = "feature")]
    item_type: &'static str,
    /// The coordinate reference systems features are served in (`crs`)
    /// and boxes are read in (`bbox-crs`): CRS84, EPSG:4326, EPSG:4490
    /// (CGCS2000) and EPSG:3857.
    #[schema(example = json!(["http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "http://www.opengis.net/def/crs/EPSG/0/4490"]))]
    crs: Vec<&'static str>,
    /// The CRS the features are stored in: CRS84.
    #[schema(example = "http://www.opengis.net/def/crs/OGC/1.3/CRS84")]
    storage_crs: &'static str,
}

/// The extent of a collection.
#[derive(Serialize, ToSchema)]
#[schema(as = OgcExtent)]
pub(super) struct Extent {
    /// Its spatial extent.
    spatial: SpatialExtent,
}

/// The spatial extent of a collection.
#[derive(Serialize, ToSchema)]
#[schema(as = OgcSpatialExtent)]
pub(super) struct SpatialExtent {
    /// One box around every feature: minimum longitude, minimum latitude,
    /// maximum longitude, maximum latitude, in degrees.
    #[schema(example = json!([[105.85, 34.5, 106.45, 34.95]]))]
    bbox: Vec<[f64; 4]>,
    /// The coordinate reference system of `bbox`: CRS84.
    #[schema(example = "http://www.opengis.net/def/crs/OGC/1.3/CRS84")]
    crs: &'static str,
}

/// The description of one collection with its extent.
fn describe(source: &dyn FeatureSource, extent: Option<Bbox>, urls: &Urls) -> Collection {
    let id = source.id();
    Collection {
        id,
        title: source.title(),
        description: source.description(),
        links: vec![
            urls.self_json(urls.collection(id), "This collection"),
            urls.items_link(id, "items", "The features of this collection as GeoJSON"),
            Link::new(
                urls.queryables(id),
                QUERYABLES_REL,
                SCHEMA_JSON,
                "The properties a filter may name",
            ),
            // The same under the relation name of Part 3's drafts, which
            // GDAL's OGC API driver looks for.
            Link::new(
                urls.queryables(id),
                "queryables",
                SCHEMA_JSON,
                "The properties a filter may name",
            ),
        ],
        extent: extent.map(|b| Extent {
            spatial: SpatialExtent {
                bbox: vec![[b.min_lon, b.min_lat, b.max_lon, b.max_lat]],
                crs: CRS84,
            },
        }),
        item_type: "feature",
        crs: Crs::ALL.iter().map(|c| c.uri()).collect(),
        storage_crs: CRS84,
    }
}

/// The link relation of a collection's queryables (Part 3).
const QUERYABLES_REL: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";

/// The media type of a JSON Schema.
const SCHEMA_JSON: &str = "application/schema+json";

/// The extents of some collections, computed off the runtime (every
/// vertex of every feature is visited).
async fn extents(
    state: &AppState,
    sources: &[&dyn FeatureSource],
) -> Result<Vec<Option<Bbox>>, ApiError> {
    let mut snapshots = Vec::with_capacity(sources.len());
    for source in sources {
        snapshots.push(source.snapshot(state, None, false).await?);
    }
    blocking("computing collection extents", move || {
        Ok(snapshots.iter().map(|s| s.extent()).collect())
    })
    .await
}

/// Every collection, with its extent and links.
#[utoipa::path(
    get,
    path = "/ogc/collections",
    operation_id = "ogc_collections",
    tag = "ogc",
    params(JsonFormat),
    responses(
        (status = 200, description = "The collections: one per grid level", body = Collections),
        (status = 400, description = "An unknown query parameter, or `f` other than json",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Collections>, ApiError> {
    QueryParams::accept(query, &["f"])?.format(&["json"])?;
    let urls = Urls::new(base);
    let extents = extents(&state, CATALOG).await?;
    Ok(Json(Collections {
        links: vec![urls.self_json(urls.collections(), "The feature collections")],
        collections: CATALOG
            .iter()
            .zip(extents)
            .map(|(source, extent)| describe(*source, extent, &urls))
            .collect(),
    }))
}

/// One collection, with its extent and links.
#[utoipa::path(
    get,
    path = "/ogc/collections/{collectionId}",
    operation_id = "ogc_collection",
    tag = "ogc",
    params(
        ("collectionId" = String, Path, description = "The collection: towns, \
            village-clusters, group-clusters, basic-grids or sub-areas", example = "towns"),
        JsonFormat,
    ),
    responses(
        (status = 200, description = "The collection", body = Collection),
        (status = 400, description = "An unknown query parameter, or `f` other than json",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No collection has this id",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn one(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Collection>, ApiError> {
    let source = source::find(&id)?;
    QueryParams::accept(query, &["f"])?.format(&["json"])?;
    let urls = Urls::new(base);
    let extent = extents(&state, &[source]).await?.pop().flatten();
    Ok(Json(describe(source, extent, &urls)))
}

/// The queryables of a collection: the properties a `filter` may name, as
/// a JSON Schema.
#[utoipa::path(
    get,
    path = "/ogc/collections/{collectionId}/queryables",
    operation_id = "ogc_queryables",
    tag = "ogc",
    params(
        ("collectionId" = String, Path, description = "The collection", example = "towns"),
        JsonFormat,
    ),
    responses(
        (status = 200, description = "A JSON Schema of the queryable properties \
            (as `application/json` to a client that accepts that but not \
            `application/schema+json`)",
            content((Object = "application/schema+json"), (Object = "application/json"))),
        (status = 400, description = "An unknown query parameter, or `f` other than json",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No collection has this id",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn queryables(
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let source = source::find(&id)?;
    QueryParams::accept(query, &["f"])?.format(&["json"])?;
    let urls = Urls::new(base);
    let doc = super::filter::queryables_document(
        urls.queryables(source.id()),
        source.title(),
        source.queryables(),
    );
    // A client that accepts JSON but not JSON Schema by name (GDAL asks
    // for `application/geo+json, application/json`) gets the same
    // document as plain JSON.
    let accept = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = if accept.contains("application/json") && !accept.contains(SCHEMA_JSON) {
        super::JSON
    } else {
        SCHEMA_JSON
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, media_type)],
        doc.to_string(),
    )
        .into_response())
}
