//! `GET /style.json`: the MapLibre style that draws the grid tiles, built by
//! [`crate::tiles::style::style_document`] for the URL the client used to reach
//! this server (the style's source and font URLs must be absolute).

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;

use super::error::ApiError;
use super::extract::{BaseUrl, vary_by_base_url};
use crate::tiles::style::style_document;

/// The routes of this resource; they need no state.
pub(super) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        "/style.json",
        get(style).layer(axum::middleware::map_response(vary_by_base_url)),
    )
}

/// The OpenAPI description of this resource.
#[derive(OpenApi)]
#[openapi(paths(style))]
pub(super) struct StyleApi;

/// The MapLibre style of the grid map: a vector source per tileset (`grids`,
/// `labels`, each a TileJSON URL), outlines, fills and labels per level, and
/// no base map. Text is drawn with the fonts in `font-faces` and the browser's
/// own, so the style has no `glyphs` URL.
#[utoipa::path(
    get,
    path = "/style.json",
    tag = "tiles",
    responses(
        (status = 200, description = "A MapLibre style (version 8) whose URLs are absolute \
            under the scheme and host of the request (or its `X-Forwarded-*` headers)",
            content_type = "application/json", body = Object),
        (status = 400, description = "The `Host` header is not a host name with an optional port",
            body = super::error::ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn style(BaseUrl(base): BaseUrl) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(&style_document(&base))
        .map_err(|e| ApiError::internal("serializing the style", e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}
