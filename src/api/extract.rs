//! axum's extractors with their rejections turned into [`ApiError`], so that a
//! malformed body, a wrong content type, a body over the limit or a malformed
//! query string is answered with a problem document like every other error.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body (`Content-Type: application/json`), as `axum::Json`.
pub(super) struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Json(value))
    }
}

/// A query string, as `axum::extract::Query`, except that a parameter
/// with an empty value (`?grid=&category=`, as forms and generated clients
/// send an optional field left blank) counts as absent: optional means
/// blank is fine, and a required one is then missing, by name.
pub(super) struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(pairs) =
            axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)?;
        let kept: Vec<String> = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect();
        let uri: axum::http::Uri = format!("/?{}", kept.join("&"))
            .parse()
            .map_err(|_| ApiError::BadRequest("the query string cannot be read".into()))?;
        let axum::extract::Query(value) = axum::extract::Query::<T>::try_from_uri(&uri)?;
        Ok(Query(value))
    }
}

/// Percent-encode a query name or value again (every byte but the
/// unreserved ones).
fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The raw body, whatever its content type, within the route's body limit.
pub(super) struct Body(pub Bytes);

impl<S> FromRequest<S> for Body
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Body(Bytes::from_request(req, state).await?))
    }
}

/// The media type a request body declares (`Content-Type` without its
/// parameters, in lower case), refused with 415 unless it is one of
/// `accepted`. A write reads only bodies of the types it declares: a
/// `text/plain` POST, which any web page can send across origins without
/// the browser asking first, never reaches a raw-body route.
pub(super) fn declared_media(
    headers: &axum::http::HeaderMap,
    accepted: &[&str],
) -> Result<String, ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match media {
        Some(m) if accepted.contains(&m.as_str()) => Ok(m),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be {}; got {}",
            accepted.join(", "),
            other.map_or_else(|| "none".to_owned(), |m| format!("{m:?}"))
        ))),
    }
}

/// GeoJSON, as the raw-body routes that read it accept it.
pub(super) const GEOJSON_TYPES: &[&str] = &["application/geo+json", "application/json"];

/// Path parameters, as `axum::extract::Path`.
pub(super) struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Path(value))
    }
}

/// The scheme and authority clients used to reach this server, such as
/// `http://127.0.0.1:8080`, for the absolute URLs that TileJSON, styles and
/// OGC API links must carry. Taken from `X-Forwarded-Proto` / `X-Forwarded-Host`
/// when a reverse proxy sets them, else from `Host`; without any, the
/// request's own URI authority, and as a last resort `localhost`.
pub(super) struct BaseUrl(pub String);

impl<S> FromRequestParts<S> for BaseUrl
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                // A proxy chain lists several; the first is the client's.
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let scheme = header("x-forwarded-proto").unwrap_or("http");
        if !matches!(scheme, "http" | "https") {
            return Err(ApiError::bad_parameter(
                "X-Forwarded-Proto",
                format!("the X-Forwarded-Proto header {scheme:?} is neither http nor https"),
            ));
        }
        let host = header("x-forwarded-host")
            .or_else(|| header("host"))
            .map(str::to_owned)
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_else(|| "localhost".to_owned());
        // Only a plausible authority goes into URLs that clients will follow.
        let plausible = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c));
        if !plausible {
            return Err(ApiError::bad_parameter(
                "Host",
                format!("the Host header {host:?} is not a host name with an optional port"),
            ));
        }
        Ok(BaseUrl(format!("{scheme}://{host}")))
    }
}

/// The request headers [`BaseUrl`] reads: a response with URLs built from
/// it differs by them.
const BASE_URL_VARY: &str = "Host, X-Forwarded-Host, X-Forwarded-Proto";

/// Middleware (`axum::middleware::map_response`) for the routes whose
/// documents carry absolute URLs from [`BaseUrl`]: says so in `Vary`, so a
/// shared cache does not hand a document naming one host to a client that
/// used another.
pub(super) async fn vary_by_base_url(mut response: Response) -> Response {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static(BASE_URL_VARY));
    response
}
