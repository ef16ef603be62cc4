//! Discovery, the service list and service definitions: what a client
//! reads before it submits anything. All public.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::format::{Format, Open311Error, internal};
use super::{SPECIFICATION, check_jurisdiction, field};
use crate::api::extract::{BaseUrl, Path, Query};
use crate::model::Category;
use crate::state::AppState;

/// When this endpoint's behaviour last changed, as discovery reports it.
const CHANGESET: &str = "2026-12-05T00:00:00Z";

/// The formats every resource is served in, as discovery lists them.
const FORMATS: [&str; 2] = ["text/xml", "application/json"];

pub(super) async fn categories(state: &AppState) -> Result<Vec<Category>, Open311Error> {
    state.dispatch().stored_categories().await.map_err(internal)
}

/// A path's format, for the handlers of literal `.json`/`.xml` routes.
fn format_of(uri: &Uri) -> Format {
    Format::of(uri.path())
}

/// The discovery document: the endpoint, its specification and formats.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the JSON written below
pub(super) struct DiscoveryDoc {
    /// When the endpoint last changed.
    changeset: String,
    /// Whom to ask.
    contact: String,
    /// How to get an `api_key`.
    key_service: String,
    /// The one production endpoint.
    endpoints: Vec<EndpointDoc>,
}

/// One endpoint of the discovery document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the JSON written below
pub(super) struct EndpointDoc {
    /// The specification's address.
    specification: String,
    /// The endpoint's base address (`…/open311/v2`).
    url: String,
    /// When the endpoint last changed.
    changeset: String,
    /// `production`.
    #[schema(rename = "type")]
    kind: String,
    /// The media types served.
    formats: Vec<String>,
}

/// The formats a GeoReport path is served in.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // documents the path parameter
pub(super) enum FormatDoc {
    Json,
    Xml,
}

/// `GET /discovery.{json,xml}`: where the endpoint is and what it speaks.
#[utoipa::path(
    get,
    path = "/open311/v2/discovery.{format}",
    operation_id = "open311_discovery",
    tag = "open311",
    params(("format" = FormatDoc, Path, description = "`json` or `xml`")),
    responses(
        (status = 200, description = "The discovery document",
            content((DiscoveryDoc = "application/json"), (DiscoveryDoc = "text/xml"))),
        (status = 404, description = "A format other than json or xml",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
    )
)]
pub(super) async fn discovery(uri: Uri, BaseUrl(base): BaseUrl) -> Response {
    let doc = json!({
        "changeset": CHANGESET,
        "contact": "the administrator of this wangge server (the county governance centre)",
        "key_service": "an administrator issues API tokens (POST /api/users/{id}/tokens); \
                        a token is the api_key",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": format!("{base}/open311/v2"),
            "changeset": CHANGESET,
            "type": "production",
            "formats": FORMATS,
        }],
    });
    format_of(&uri).answer("discovery", &doc)
}

/// One service.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the JSON written below
pub(super) struct ServiceDoc {
    /// The category code.
    service_code: String,
    /// The category's name.
    service_name: String,
    /// The name and the process it follows.
    description: String,
    /// Always false: no service has extra attributes.
    metadata: bool,
    /// `realtime`: a report is recorded and assigned when posted.
    #[schema(rename = "type")]
    kind: String,
    /// Empty.
    keywords: String,
    /// 网格化管理.
    group: String,
}

/// `GET /services.{json,xml}`: the incident categories.
#[utoipa::path(
    get,
    path = "/open311/v2/services.{format}",
    operation_id = "open311_services",
    tag = "open311",
    params(
        ("format" = FormatDoc, Path, description = "`json` or `xml`"),
        ("jurisdiction_id" = Option<String>, Query, description = "This server's \
            jurisdiction (optional)"),
    ),
    responses(
        (status = 200, description = "The services",
            content(([ServiceDoc] = "application/json"), ([ServiceDoc] = "text/xml"))),
        (status = 400, description = "The query cannot be read",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
        (status = 404, description = "Another jurisdiction, or a format other than json or xml",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
    )
)]
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, Open311Error> {
    let format = format_of(&uri);
    check_jurisdiction(&state, field(&query, "jurisdiction_id"), format)?;
    let list: Vec<Value> = categories(&state)
        .await
        .map_err(|e| e.in_format(format))?
        .into_iter()
        .map(|c| {
            json!({
                "service_code": c.code,
                "service_name": c.name,
                "description": format!("{} ({})", c.name, c.workflow.name()),
                "metadata": false,
                "type": "realtime",
                "keywords": "",
                "group": "网格化管理",
            })
        })
        .collect();
    Ok(format.answer("services", &Value::Array(list)))
}

/// A service definition: no service has extra attributes.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the JSON written below
pub(super) struct ServiceDefinitionDoc {
    /// The service.
    service_code: String,
    /// Always empty.
    attributes: Vec<Object>,
}

/// An attribute (none are defined).
type Object = serde_json::Map<String, Value>;

/// `GET /services/{service_code}.{json,xml}`.
#[utoipa::path(
    get,
    path = "/open311/v2/services/{service_code}.{format}",
    operation_id = "open311_service_definition",
    tag = "open311",
    params(
        ("service_code" = String, Path, description = "A service's code", example = "sanitation"),
        ("format" = FormatDoc, Path, description = "`json` or `xml`"),
        ("jurisdiction_id" = Option<String>, Query, description = "This server's \
            jurisdiction (optional)"),
    ),
    responses(
        (status = 200, description = "The service's attributes (none)",
            content((ServiceDefinitionDoc = "application/json"), (ServiceDefinitionDoc = "text/xml"))),
        (status = 400, description = "The query cannot be read",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
        (status = 404, description = "No such service, another jurisdiction, or a format other \
            than json or xml",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
    )
)]
pub(super) async fn definition(
    State(state): State<Arc<AppState>>,
    Path(segment): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, Open311Error> {
    let (code, format) = Format::strip(&segment)?;
    check_jurisdiction(&state, field(&query, "jurisdiction_id"), format)?;
    if !categories(&state)
        .await
        .map_err(|e| e.in_format(format))?
        .iter()
        .any(|c| c.code == code)
    {
        return Err(Open311Error::new(
            StatusCode::NOT_FOUND,
            format!("service_code {code:?} was not found"),
        )
        .in_format(format));
    }
    Ok(format.answer(
        "service_definition",
        &json!({"service_code": code, "attributes": []}),
    ))
}
