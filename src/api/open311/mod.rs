//! `/open311/v2`: Open311 GeoReport v2, so that civic-reporting apps can
//! find the service, submit reports and follow them. Every resource is
//! served as `.json` and `.xml` (see `format.rs`). Requests are incidents;
//! services are incident categories. How the fields map:
//!
//! | GeoReport v2 | wangge |
//! |---|---|
//! | `jurisdiction_id` | optional; when given it must be this server's (`--open311-jurisdiction`), 404 otherwise |
//! | `service_code`, `service_name` | category code, name |
//! | `service_request_id`, `token` | the incident number (reports are recorded at once, so the token is the id) |
//! | `lat`, `long` | the WGS84 location (a non-standard `crs` parameter accepts `gcj02` or `bd09`); outside the county: 400 |
//! | `address_id` | a grid id: the report is placed inside that grid |
//! | `address_string` | a grid's name, found by the grid search when no `lat`/`long` is sent; kept in the history either way |
//! | `description`, `media_url` | description (optional), first photo |
//! | `first_name` + `last_name`, `phone` | reporter name, phone (`email`, `device_id`, `account_id` are not stored) |
//! | `status` `open` / `closed` | any status but closed and dismissed / closed, dismissed |
//! | `status_notes` | the status name |
//! | `agency_responsible` | the handling grid's name and the responsible person |
//! | `requested_datetime`, `updated_datetime`, `expected_datetime` | reported, last changed, deadline |
//! | `address` | the grid chain's names, town first |
//!
//! Submitting needs an `api_key` (an API token of a login that may
//! report); reading requests needs one of a login that may see incidents,
//! as `api_key` in the query or a bearer token. Errors are GeoReport's
//! `[{"code", "description"}]` with the spec's statuses: 400 for a missing
//! or malformed field, 403 for a missing or refused `api_key`, 404 for an
//! unknown service, request, token or jurisdiction.

mod format;
mod requests;
mod services;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use utoipa::OpenApi;

use crate::state::AppState;
pub(super) use format::georeport_errors;
use format::{Format, Open311Error};

/// The specification this endpoint implements, as discovery names it.
pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";

/// The jurisdiction id a server answers to unless configured otherwise.
pub const DEFAULT_JURISDICTION: &str = crate::state::OPEN311_DEFAULT_JURISDICTION;

/// The routes of this resource.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/open311/v2/discovery.json", get(services::discovery))
        .route("/open311/v2/discovery.xml", get(services::discovery))
        .route("/open311/v2/services.json", get(services::list))
        .route("/open311/v2/services.xml", get(services::list))
        .route("/open311/v2/services/{code}", get(services::definition))
        .route(
            "/open311/v2/requests.json",
            get(requests::list).post(requests::create),
        )
        .route(
            "/open311/v2/requests.xml",
            get(requests::list).post(requests::create),
        )
        .route("/open311/v2/requests/{id}", get(requests::one))
        .route("/open311/v2/tokens/{token}", get(requests::token))
}

/// The OpenAPI description of these paths.
#[derive(OpenApi)]
#[openapi(
    paths(
        services::discovery,
        services::list,
        services::definition,
        requests::list,
        requests::create,
        requests::one,
        requests::token,
    ),
    components(schemas(
        services::ServiceDoc,
        services::FormatDoc,
        services::EndpointDoc,
        services::DiscoveryDoc,
        services::ServiceDefinitionDoc,
        requests::ServiceRequestDoc,
        requests::CreatedDoc,
        requests::TokenDoc,
        requests::CreateForm,
        ErrorDoc,
    )),
    tags((name = "open311", description = "Open311 GeoReport v2: services and requests, \
        in JSON or XML by the path's suffix"))
)]
pub(super) struct Open311Api;

/// One GeoReport error (the answer is an array of them; in XML
/// `<errors><error>…`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the shape written by `format.rs`
pub(super) struct ErrorDoc {
    /// The HTTP status.
    code: u16,
    /// What was wrong, naming the field.
    description: String,
}

/// The `jurisdiction_id` check every resource makes: absent or this
/// server's, 404 otherwise.
fn check_jurisdiction(
    state: &AppState,
    given: Option<&str>,
    format: Format,
) -> Result<(), Open311Error> {
    let ours = state.open311_jurisdiction();
    match given.map(str::trim).filter(|g| !g.is_empty()) {
        Some(given) if given != ours.as_str() => Err(Open311Error::new(
            StatusCode::NOT_FOUND,
            format!("jurisdiction_id {given:?} was not found; this server's is {ours:?}"),
        )
        .in_format(format)),
        _ => Ok(()),
    }
}

/// The value of a form or query field, trimmed, if present and not empty.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}
