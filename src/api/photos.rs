//! `POST /api/photos`, `GET /api/photos/{id}` and `GET /api/photos/{id}/thumbnail`:
//! photos from the field. A grid member's phone uploads the picture it
//! took (the body is the image, `Content-Type: image/jpeg`, `image/png` or
//! `image/webp`, at most 12 MiB), gets its number and addresses back, and
//! puts the address in a check-in's `photo_url` or a report's `photos`.
//! Only a real image of the declared type is kept (`patrol::photos`), with
//! a JPEG thumbnail of at most 320 px for lists and panels. A photo's
//! address holds a random token (128 bits), not a number: it is known only
//! to those shown the check-in or report that names it, and to whoever may
//! see incidents and holds the address; a stored photo never changes, so
//! browsers keep it. Each account may store so many photos and bytes in 24
//! hours (`patrol::photos::PhotoQuota`); past that, 429.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::access::Caller;
use super::error::{ApiError, ProblemDocument};
use super::extract::{Body, Path, declared_media};
use crate::patrol::photos::MAX_PHOTO_BYTES;
use crate::state::AppState;
use crate::text;

/// The types a photo may be sent as.
const PHOTO_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];

/// The routes of this resource. The body limit leaves room above
/// [`MAX_PHOTO_BYTES`] so that an upload just over it is refused by name
/// (400) rather than cut off (413).
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/api/photos",
            post(upload).layer(DefaultBodyLimit::max(MAX_PHOTO_BYTES + 64 * 1024)),
        )
        .route("/api/photos/{token}", get(original))
        .route("/api/photos/{token}/thumbnail", get(thumbnail))
}

/// The OpenAPI description of this resource.
#[derive(OpenApi)]
#[openapi(paths(upload, original, thumbnail))]
pub(super) struct PhotosApi;

/// A stored photo.
#[derive(Debug, Serialize, ToSchema)]
struct StoredPhoto {
    /// Its public name (128 random bits in hex).
    token: String,
    /// Where the image is served (relative to the server's root), for a
    /// check-in's `photo_url` or a report's `photos`.
    url: String,
    /// Where its thumbnail is served.
    thumbnail_url: String,
    /// Pixels across.
    width: u32,
    /// Pixels down.
    height: u32,
}

/// Upload a photo: the body is the image.
#[utoipa::path(
    post,
    path = "/api/photos",
    tag = "patrols",
    request_body(description = "The image: JPEG, PNG or WebP, at most 12 MiB",
        content(("image/jpeg"), ("image/png"), ("image/webp"))),
    responses(
        (status = 201, description = "Stored, with a thumbnail", body = StoredPhoto),
        (status = 400, description = "Not a readable image of its type, empty, or larger than \
            12 MiB; `parameter` says which. Nothing stored",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not image/jpeg, image/png or image/webp",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "The account's photo allowance for 24 hours (photos or \
            bytes, `--photos-per-day`, `--photo-mb-per-day`) is used up; `Retry-After` says when \
            one more may be stored. Nothing stored",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn upload(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let media = declared_media(&headers, PHOTO_TYPES)?;
    let now = Timestamp::now();
    let saved = state
        .patrols()
        .save_photo(body.to_vec(), media, caller.login(), now)
        .await?;
    let answer = StoredPhoto {
        url: format!("api/photos/{}", saved.token),
        thumbnail_url: format!("api/photos/{}/thumbnail", saved.token),
        token: saved.token,
        width: saved.width,
        height: saved.height,
    };
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

async fn read(
    state: &AppState,
    token: &str,
    thumbnail: bool,
) -> Result<(String, Vec<u8>), ApiError> {
    state
        .patrols()
        .photo(token, thumbnail)
        .await
        .map_err(|e| ApiError::internal("reading a photo", e))?
        .map(|p| (p.content_type, p.bytes))
        .ok_or_else(|| {
            ApiError::NotFound(text!("there is no photo {token:?}", "未找到照片 {token:?}"))
        })
}

fn serve(content_type: String, bytes: Vec<u8>) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // A photo never changes once stored.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    response
}

/// A photo as uploaded.
#[utoipa::path(
    get,
    path = "/api/photos/{token}",
    tag = "patrols",
    params(("token" = String, Path, description = "The photo's token")),
    responses(
        (status = 200, description = "The image, in the type it was uploaded as",
            content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))),
        (status = 404, description = "No such photo", body = ProblemDocument,
            content_type = "application/problem+json"),
    )
)]
async fn original(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let (content_type, bytes) = read(&state, &token, false).await?;
    Ok(serve(content_type, bytes))
}

/// A photo's thumbnail: a JPEG of at most 320 px on its longer side.
#[utoipa::path(
    get,
    path = "/api/photos/{token}/thumbnail",
    tag = "patrols",
    params(("token" = String, Path, description = "The photo's token")),
    responses(
        (status = 200, description = "The thumbnail", content_type = "image/jpeg", body = Vec<u8>),
        (status = 404, description = "No such photo", body = ProblemDocument,
            content_type = "application/problem+json"),
    )
)]
async fn thumbnail(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let (content_type, bytes) = read(&state, &token, true).await?;
    Ok(serve(content_type, bytes))
}
