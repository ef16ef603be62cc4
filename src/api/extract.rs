//! axum's extractors with their rejections turned into [`ApiError`], so that a
//! malformed body, a wrong content type, a body over the limit or a malformed
//! query string is answered with a problem document like every other error.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::model::Text;
use crate::text;

/// A JSON body (`Content-Type: application/json`), as `axum::Json`.
pub(super) struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType(Text::new(
                "Expected request with `Content-Type: application/json`",
                "请求头须为 `Content-Type: application/json`",
            )));
        }
        let bytes = Bytes::from_request(req, state).await?;
        if has_escaped_nul(&bytes) {
            return Err(ApiError::bad_parameter(
                "body",
                Text::new(
                    "the body holds a NUL character (\\u0000) in a string, which no text may",
                    "请求体的字符串中含有 NUL 字符（\\u0000），文字中不允许出现该字符",
                ),
            ));
        }
        // Straight into `T`, as axum::Json does (a batch of points streams
        // through its visitor without a tree of the whole body).
        let shape_error = match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => return Ok(Json(value)),
            Err(JsonRejection::JsonDataError(e)) => e,
            Err(other) => return Err(other.into()),
        };
        // The shape was wrong. If a whole number was written with a zero
        // fraction (`196.0`), read it again with those as integers; any
        // other mistake is answered as it was found, with its place.
        let refused = || ApiError::from(JsonRejection::from(shape_error));
        let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return Err(refused());
        };
        if !integral_floats_to_integers(&mut value) {
            return Err(refused());
        }
        serde_path_to_error::deserialize(value)
            .map(Json)
            .map_err(|_| refused())
    }
}

/// Whether a JSON text holds the escape `\u0000` (the only way JSON can
/// carry a NUL character, which PostgreSQL cannot store): a backslash
/// that is not itself escaped, then `u0000`.
fn has_escaped_nul(json: &[u8]) -> bool {
    let mut backslashes = 0usize;
    for (i, &b) in json.iter().enumerate() {
        if b == b'\\' {
            backslashes += 1;
            continue;
        }
        if b == b'u' && backslashes % 2 == 1 && json[i + 1..].starts_with(b"0000") {
            return true;
        }
        backslashes = 0;
    }
    false
}

/// Whether `Content-Type` is JSON: `application/json` or
/// `application/…+json`, as axum::Json accepts.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence
        .strip_prefix("application/")
        .is_some_and(|sub| sub == "json" || sub.ends_with("+json"))
}

/// The largest magnitude below which every integer is exact in an `f64`.
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0; // 2^53

/// Rewrite numbers written with a zero fraction (`196.0`, `1e3`) as
/// integers; whether any was. JSON has one number type and JSON Schema
/// counts `196.0` as an integer, as do JavaScript and generated clients;
/// serde would refuse it for an integer field. Floats stay floats for
/// `f64` fields either way.
fn integral_floats_to_integers(value: &mut serde_json::Value) -> bool {
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
                return true;
            }
            false
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, v| integral_floats_to_integers(v) | any),
        serde_json::Value::Object(members) => members
            .values_mut()
            .fold(false, |any, v| integral_floats_to_integers(v) | any),
        _ => false,
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
        // No text wangge keeps or matches holds a NUL character, and
        // PostgreSQL refuses one in a parameter: refused here, by name.
        if let Some((name, _)) = pairs
            .iter()
            .find(|(n, v)| n.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::bad_parameter(
                name.replace('\0', "\\0"),
                text!(
                    "{name:?} holds a NUL character, which no parameter may",
                    "参数 {name:?} 含有 NUL 字符，参数中不允许出现该字符"
                ),
            ));
        }
        let kept: Vec<String> = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect();
        let uri: axum::http::Uri = format!("/?{}", kept.join("&")).parse().map_err(|_| {
            ApiError::BadRequest(Text::new(
                "the query string cannot be read",
                "无法读取查询字符串",
            ))
        })?;
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
        other => {
            let accepted = accepted.join(", ");
            let got = other.map(|m| format!("{m:?}"));
            let (got_en, got_zh) = match &got {
                Some(m) => (m.as_str(), m.as_str()),
                None => ("none", "未提供"),
            };
            Err(ApiError::UnsupportedMediaType(text!(
                "Content-Type must be {accepted}; got {got_en}",
                "Content-Type 必须是 {accepted}（收到：{got_zh}）"
            )))
        }
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
                text!(
                    "the X-Forwarded-Proto header {scheme:?} is neither http nor https",
                    "请求头 X-Forwarded-Proto 的值 {scheme:?} 既不是 http 也不是 https"
                ),
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
                text!(
                    "the Host header {host:?} is not a host name with an optional port",
                    "请求头 Host 的值 {host:?} 不是有效的主机名（可带端口）"
                ),
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
    use super::{integral_floats_to_integers, is_json};
    use axum::http::{HeaderMap, HeaderValue, header};
    use serde_json::json;

    #[test]
    fn only_an_escaped_nul_is_found() {
        assert!(super::has_escaped_nul(br#"{"a":"x\u0000y"}"#));
        assert!(super::has_escaped_nul(br#"{"a":"\\\u0000"}"#));
        assert!(!super::has_escaped_nul(br#"{"a":"\\u0000"}"#));
        assert!(!super::has_escaped_nul(br#"{"a":"\u000"}"#));
        assert!(!super::has_escaped_nul(br#"{"a":"\u0001 u0000"}"#));
    }

    #[test]
    fn json_content_types_are_told_apart() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(v));
            is_json(&h)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/json"));
        assert!(!with("application/jsonp"));
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn integral_floats_become_integers_and_others_stay() {
        let mut body = json!({"version": 3.0, "days": 1e2, "radius_m": 12.5,
            "deep": [{"n": -4.0}], "huge": 1e300, "text": "7.0"});
        assert!(integral_floats_to_integers(&mut body));
        assert_eq!(
            body,
            json!({"version": 3, "days": 100, "radius_m": 12.5,
                "deep": [{"n": -4}], "huge": 1e300, "text": "7.0"})
        );
    }
}
