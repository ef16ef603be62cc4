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
        // Read as JSON first (content type, syntax: axum's checks and
        // messages), then into `T`, naming the member that does not fit.
        let axum::Json(mut value) =
            axum::Json::<serde_json::Value>::from_request(req, state).await?;
        integral_floats_to_integers(&mut value);
        serde_path_to_error::deserialize(value)
            .map(Json)
            .map_err(|e| {
                ApiError::UnprocessableEntity(format!(
                    "Failed to deserialize the JSON body into the target type: {e}"
                ))
            })
    }
}

/// The largest magnitude below which every integer is exact in an `f64`.
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0; // 2^53

/// Rewrite numbers written with a zero fraction (`196.0`, `1e3`) as
/// integers. JSON has one number type and JSON Schema counts `196.0` as an
/// integer, as do JavaScript and generated clients; serde would refuse it
/// for an integer field. Floats stay floats for `f64` fields either way.
fn integral_floats_to_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < EXACT_INTEGERS
            {
                // Exact: |f| < 2^53.
                #[allow(clippy::cast_possible_truncation)]
                let int = f as i64;
                *value = serde_json::Value::from(int);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        serde_json::Value::Object(members) => {
            members.values_mut().for_each(integral_floats_to_integers)
        }
        _ => {}
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

#[cfg(test)]
mod tests {
    use super::integral_floats_to_integers;
    use serde_json::json;

    #[test]
    fn integral_floats_become_integers_and_others_stay() {
        let mut body = json!({"version": 3.0, "days": 1e2, "radius_m": 12.5,
            "deep": [{"n": -4.0}], "huge": 1e300, "text": "7.0"});
        integral_floats_to_integers(&mut body);
        assert_eq!(
            body,
            json!({"version": 3, "days": 100, "radius_m": 12.5,
                "deep": [{"n": -4}], "huge": 1e300, "text": "7.0"})
        );
    }
}
