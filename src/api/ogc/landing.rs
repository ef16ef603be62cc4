//! `GET /ogc`, the landing page that links to everything else, and
//! `GET /ogc/conformance`, the list of conformance classes implemented.

use axum::Json;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::links::{Link, Urls};
use super::{JSON, QueryParams};
use crate::api::ApiError;
use crate::api::error::ProblemDocument;
use crate::api::extract::{BaseUrl, Query};

/// The conformance classes this API implements: of OGC API - Features
/// Part 1, Core, GeoJSON and OpenAPI 3.0 (the `service-desc` link's
/// `/api/openapi-3.0.json`), not HTML; Part 2 (CRS by reference); Part 3
/// (queryables, `filter` on items) with CQL2 text and JSON, Basic CQL2 and
/// the advanced comparison operators (`LIKE`, `BETWEEN`, `IN`).
const CONFORMS_TO: [&str; 11] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
];

/// The `f` parameter of the JSON documents (landing page, conformance,
/// collections).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct JsonFormat {
    /// The encoding: `json`, the only one (also the default, and what a
    /// blank `f=` means).
    #[param(value_type = Option<String>, pattern = "^(json)?$", example = "json")]
    f: (),
}

/// The landing page of OGC API - Features.
#[derive(Serialize, ToSchema)]
#[schema(as = OgcLandingPage)]
pub(super) struct LandingPage {
    /// The service's name.
    #[schema(example = "wangge: county grids")]
    title: &'static str,
    /// What it serves.
    description: &'static str,
    /// `self`, `service-desc` (the OpenAPI document), `conformance` and
    /// `data` (the collections).
    links: Vec<Link>,
}

/// The landing page: what this API is and where its parts are.
#[utoipa::path(
    get,
    path = "/ogc",
    tag = "ogc",
    params(JsonFormat),
    responses(
        (status = 200, description = "Links to the API definition, the conformance \
            declaration and the collections", body = LandingPage),
        (status = 400, description = "An unknown query parameter, or `f` other than json",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn landing(
    BaseUrl(base): BaseUrl,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<LandingPage>, ApiError> {
    QueryParams::accept(query, &["f"])?.format(&["json"])?;
    let urls = Urls::new(base);
    Ok(Json(LandingPage {
        title: "wangge: county grids",
        description: "The county's nested governance grids (towns, village clusters, \
            village-group clusters, basic grids, sub-areas) as OGC API - Features, one \
            collection per level.",
        links: [urls.self_json(urls.landing(), "This document")]
            .into_iter()
            .chain(urls.service_descs())
            .chain([
                Link::new(
                    urls.conformance(),
                    "conformance",
                    JSON,
                    "The conformance classes this API implements",
                ),
                Link::new(urls.collections(), "data", JSON, "The feature collections"),
            ])
            .collect(),
    }))
}

/// The conformance declaration.
#[derive(Serialize, ToSchema)]
#[schema(as = OgcConformance)]
pub(super) struct Conformance {
    /// The URIs of the conformance classes implemented.
    #[serde(rename = "conformsTo")]
    #[schema(example = json!(["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"]))]
    conforms_to: [&'static str; 11],
}

/// The conformance classes this API implements.
#[utoipa::path(
    get,
    path = "/ogc/conformance",
    tag = "ogc",
    params(JsonFormat),
    responses(
        (status = 200, description = "Core and GeoJSON", body = Conformance),
        (status = 400, description = "An unknown query parameter, or `f` other than json",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn conformance(
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Conformance>, ApiError> {
    QueryParams::accept(query, &["f"])?.format(&["json"])?;
    Ok(Json(Conformance {
        conforms_to: CONFORMS_TO,
    }))
}

/// The API definition of this OGC API: OpenAPI 3.0, paths relative to the
/// landing page (see `api::ogc_openapi_30`).
#[utoipa::path(
    get,
    path = "/ogc/api",
    operation_id = "ogc_api",
    tag = "ogc",
    params(JsonFormat),
    responses(
        (status = 200, description = "The OpenAPI 3.0 definition of the OGC API",
            content_type = "application/vnd.oai.openapi+json;version=3.0", body = Object),
        (status = 400, description = "An unknown query parameter, or `f` other than json",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn api(
    BaseUrl(base): BaseUrl,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    QueryParams::accept(query, &["f"])?.format(&["json"])?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            crate::api::OPENAPI_30_MEDIA_TYPE,
        )],
        crate::api::ogc_openapi_30(&base).to_string(),
    )
        .into_response())
}
