//! The HTTP API: one router per resource, merged here, plus the layers every
//! request goes through (tracing, body limits, panics to 500).
//!
//! | path | file |
//! |---|---|
//! | `GET /api/grids`, `GET /api/grids/{id}`, `GET /api/grids/export`, `POST /api/grids/import` | `grids.rs` |
//! | `POST /api/grids/edits` | `grid_edits.rs` |
//! | `GET /api/grids/versions`, `GET`/`DELETE /api/grids/versions/{revision}`, `POST /api/grids/restore` | `grid_versions.rs` |
//! | `GET /api/locate`, `POST /api/locate` | `locate.rs` |
//! | `GET /tiles/{tileset}/{z}/{x}/{y}.mvt`, `GET /tiles/{tileset}.json` | `tiles.rs` |
//! | `GET /style.json` | `style.rs` |
//! | `GET /`, `GET /assets/…`, `GET /fonts/…` (the web map) | [`crate::web`] |
//! | `GET`/`POST /open311/v2/…` (Open311 GeoReport v2, JSON and XML) | `open311/` |
//! | `GET /ogc/…` (OGC API - Features: landing page, conformance, collections, items) | `ogc/` |
//! | `POST`/`GET`/`DELETE /api/session`, `/api/users…`, `GET /api/audit` | `accounts.rs` |
//! | `POST /api/photos`, `GET /api/photos/{token}`, `GET /api/photos/{token}/thumbnail` | `photos.rs` |
//! | `GET /healthz` | `health.rs` |
//! | `GET /api/openapi.json` (3.1), `GET /api/openapi-3.0.json` (3.0) | `openapi.rs` |
//!
//! Every request passes `access::guard` first: it identifies the caller
//! and checks the route's row in [`access::RULES`].
//!
//! Handlers extract, call the index or the state, and map the result to a
//! response; every error is an [`ApiError`] rendered as an RFC 9457 problem
//! document, including axum's own rejections and unknown paths.
//! [`router`] builds the service without a socket (tests drive it with
//! `tower::ServiceExt::oneshot`); [`serve`] runs it on a bound listener
//! with the timeouts and connection cap of `serve.rs`.

pub mod access;
mod accounts;
mod changes;
mod error;
mod extract;
mod grid_edits;
mod grid_files;
mod grid_versions;
mod grids;
mod hazards;
mod health;
mod incidents;
mod locate;
mod ogc;
mod open311;
mod openapi;
mod params;
mod patrols;
mod photos;
mod rejections;
mod scope;
mod serve;
mod style;
mod tiles;
mod value_schemas;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::Predicate;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, OnResponse, TraceLayer};
use tracing::Level;

use crate::state::AppState;
pub use error::{ApiError, PROBLEM_JSON};
pub use openapi::{
    OPENAPI_30_MEDIA_TYPE, OPENAPI_30_PATH, OPENAPI_31_MEDIA_TYPE, OPENAPI_31_PATH, ogc_openapi_30,
    openapi, openapi_30, to_openapi_30,
};
pub use serve::{ServeLimits, serve, serve_with};

/// The largest request body accepted outside the import, bytes. A full
/// batch of 100,000 points is about 4 MiB.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The largest import body accepted, bytes.
pub const IMPORT_BODY_LIMIT: usize = grids::IMPORT_BODY_LIMIT;

/// The Open311 `jurisdiction_id` a server answers to unless configured.
pub const OPEN311_DEFAULT_JURISDICTION: &str = open311::DEFAULT_JURISDICTION;

/// The most points one batch locate accepts.
pub const MAX_BATCH_POINTS: usize = locate::MAX_BATCH_POINTS;

/// How often an open event stream checks that its credential still holds
/// (a stream ends within this of a logout).
pub const EVENT_STREAM_RECHECK: std::time::Duration = incidents::events::RECHECK;

/// The Content-Security-Policy of every answer (the web map's page above
/// all): scripts and styles only from this server's own files, never
/// inline, `eval` or another origin; MapLibre's workers from `blob:`; map
/// images and tiles from here, `data:`/`blob:`, or an HTTPS base map the
/// workstation configured; nothing may frame the map or take a form
/// elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: blob: https:; connect-src 'self' https:; \
    worker-src 'self' blob:; child-src blob:; font-src 'self'; object-src 'none'; \
    base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The whole HTTP surface over shared state.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(accounts::routes())
        .merge(grids::routes())
        .merge(grid_edits::routes())
        .merge(grid_versions::routes())
        .merge(changes::routes())
        .merge(locate::routes())
        .merge(incidents::routes())
        .merge(hazards::routes())
        .merge(patrols::routes())
        .merge(photos::routes())
        .merge(open311::routes())
        .merge(ogc::routes())
        .merge(tiles::routes())
        .merge(health::routes())
        .merge(style::routes())
        .merge(crate::web::routes())
        .route(openapi::OPENAPI_31_PATH, get(openapi::openapi_json))
        .route(openapi::OPENAPI_30_PATH, get(openapi::openapi_30_json))
        .fallback(error::not_found_fallback)
        .method_not_allowed_fallback(error::method_not_allowed_fallback)
        // Who is calling and whether they may (access.rs): inside the body
        // limit and the panic handler, around every route.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::guard,
        ))
        // Open311 clients read GeoReport errors only: the guard's and the
        // fallbacks' problem documents are rewritten on those paths.
        .layer(axum::middleware::from_fn(open311::georeport_errors))
        // Outside the guard, so that a page of another origin can read a
        // 401 or 404 from a read-only layer too; only on those layers' paths
        // (an `OPTIONS` anywhere else is routed like any other method).
        .layer(axum::middleware::from_fn_with_state(
            read_only_cors(&state),
            cors_on_read_only_layers,
        ))
        // Routes that need more (the import) set their own limit inside this one.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(error::panic_response))
        // Error answers in the caller's language (Chinese when it prefers
        // `zh`), outside the panic handler so that its 500 is spoken too,
        // inside compression so that the body sent is the one compressed.
        .layer(axum::middleware::from_fn(error::speak_the_callers_language))
        // Answers compressed for clients that accept it (`compression`).
        .layer(compression())
        // On every answer, errors, panics and the web map included: browsers take
        // a body for the type it is sent as (no sniffing a JSON answer into
        // a page), send no full address to other sites, and show the map
        // in no other site's frame (no clickjacking a dispatcher).
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        // One INFO line per request (method, path, status, latency), inside a
        // span that the handlers' own logs, such as a 500's cause, inherit.
        // Tiles and map assets log at DEBUG: one pan of the map asks for
        // dozens, and a line each would drown the API's log (and cost more
        // than serving a cached tile).
        .layer(
            TraceLayer::new_for_http()
                // The path only: a query can carry a secret (an Open311
                // client's `api_key`) or a resident's words (a search), and
                // logs outlive both.
                .make_span_with(|request: &axum::extract::Request| {
                    let (method, path) = (request.method(), request.uri().path());
                    if is_map_asset(path) {
                        tracing::debug_span!("request", %method, path)
                    } else {
                        tracing::info_span!("request", %method, path)
                    }
                })
                .on_response(
                    |response: &axum::response::Response,
                     latency: std::time::Duration,
                     span: &tracing::Span| {
                        if !span.is_disabled() {
                            DefaultOnResponse::new()
                                .level(Level::INFO)
                                .on_response(response, latency, span);
                        }
                    },
                ),
        )
        .with_state(state)
}

/// Brotli or gzip for every answer whose client accepts it (the demo
/// county's level-4 grid list is 12.1 MB of GeoJSON, 2.9 MB in brotli), at
/// level 4: brotli's default (11) takes seconds on such a body, and 4
/// compresses better than gzip's default in less time. Not compressed:
/// answers under 1 KiB (the header costs more than it saves), the incident
/// feed (an event stream must go out event by event), images, fonts, zip
/// files and Excel workbooks (compressed already), and answers that already have an
/// encoding (tiles, the web map's pre-compressed files).
fn compression() -> tower_http::compression::CompressionLayer<impl Predicate> {
    use tower_http::compression::predicate::{NotForContentType, SizeAbove};
    use tower_http::compression::{CompressionLayer, CompressionLevel};
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(CompressionLevel::Precise(4))
        .compress_when(
            SizeAbove::new(1024)
                .and(NotForContentType::SSE)
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::const_new("font/"))
                .and(NotForContentType::const_new("application/zip"))
                .and(NotForContentType::const_new(
                    "application/vnd.openxmlformats-officedocument",
                )),
        )
}

/// CORS for the public read-only layers, for the origins the access
/// settings name (read per request, so a change of settings holds at
/// once), on the routers of those layers only. Only `GET` and `HEAD` (and their preflights) on
/// [`is_read_only_layer`] paths get an `Access-Control-Allow-Origin`:
/// nothing that writes is ever readable, or sendable with a preflight, from
/// another origin.
fn read_only_cors(state: &Arc<AppState>) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let state = state.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, parts| {
            let reads = match parts.method {
                Method::GET | Method::HEAD => true,
                Method::OPTIONS => parts
                    .headers
                    .get(header::ACCESS_CONTROL_REQUEST_METHOD)
                    .is_some_and(|m| m == "GET" || m == "HEAD"),
                _ => false,
            };
            reads
                && is_read_only_layer(parts.uri.path())
                && origin
                    .to_str()
                    .is_ok_and(|o| state.access().allows_origin(o))
        }))
        .allow_methods([Method::GET, Method::HEAD])
        .allow_headers([header::AUTHORIZATION, header::ACCEPT])
        .expose_headers([HeaderName::from_static("content-crs"), header::LOCATION])
        .max_age(std::time::Duration::from_secs(3600))
}

/// Middleware: the read-only layers' paths through `cors`, every other
/// path straight on.
async fn cors_on_read_only_layers(
    axum::extract::State(cors): axum::extract::State<tower_http::cors::CorsLayer>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tower::{Layer, ServiceExt};
    if is_read_only_layer(request.uri().path()) {
        match cors.layer(next).oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    } else {
        next.run(request).await
    }
}

/// Paths other origins may read when CORS is configured: the OGC API,
/// tiles and their TileJSON, the style, the API description, and Open311's
/// discovery and service list.
fn is_read_only_layer(path: &str) -> bool {
    path == "/ogc"
        || path.starts_with("/ogc/")
        || path.starts_with("/tiles/")
        || path == "/style.json"
        || path == OPENAPI_31_PATH
        || path == OPENAPI_30_PATH
        || path.starts_with("/open311/v2/discovery.")
        || path.starts_with("/open311/v2/services")
}

/// Paths fetched in bulk by the web map: tiles, the bundle, fonts.
fn is_map_asset(path: &str) -> bool {
    ["/tiles/", "/assets/", "/fonts/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}
