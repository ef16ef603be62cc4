//! The web map: serves the bundle that `build.rs` built from `web/` and
//! embedded in the binary (`index.html` at `/`, its scripts, styles and fonts
//! at their own paths).
//!
//! Each file is a route of its own, so a path that is not in the bundle falls
//! through to the API's fallback and is answered with a 404 problem document
//! like any other unknown path. Responses carry the file's media type, an
//! `ETag` (a conditional request with a matching `If-None-Match` gets 304),
//! and a cache policy: files under `assets/` are named by their content and
//! never change, so they are cached for a year as immutable; `index.html` and
//! the fonts keep their names across builds and are revalidated every time.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One file of the embedded bundle.
#[derive(Debug)]
pub struct Asset {
    /// Path in the bundle, `/`-separated, without a leading `/`
    /// (`index.html`, `assets/app-3KQ2N7PZ.js`).
    pub path: &'static str,
    /// The file's content.
    pub bytes: &'static [u8],
    /// A strong entity tag for the content, quotes included.
    pub etag: &'static str,
}

// `ASSETS`, written by build.rs: every file of the bundle, sorted by path.
include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The folder of the bundle whose files are named by their content hash.
const IMMUTABLE_PREFIX: &str = "assets/";

/// Every file of the embedded bundle, sorted by path.
pub fn assets() -> &'static [Asset] {
    ASSETS
}

/// Whether a routed path is one of the web map's own files (`/` or a file
/// of the bundle).
pub fn serves(path: &str) -> bool {
    path == "/"
        || path
            .strip_prefix('/')
            .is_some_and(|p| ASSETS.binary_search_by(|asset| asset.path.cmp(p)).is_ok())
}

/// The routes of the web map: `/` and every file of the bundle. They need no
/// state, so they merge into a router of any state type.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut router = Router::new();
    for asset in ASSETS {
        router = router.route(
            &format!("/{}", asset.path),
            get(move |headers: HeaderMap| async move { respond(asset, &headers) }),
        );
        if asset.path == "index.html" {
            router = router.route(
                "/",
                get(move |headers: HeaderMap| async move { respond(asset, &headers) }),
            );
        }
    }
    router
}

/// The answer for one file: 304 when the client's copy is current, else the
/// file with its type and cache headers.
fn respond(asset: &'static Asset, request: &HeaderMap) -> Response {
    let cache_control = if asset.path.starts_with(IMMUTABLE_PREFIX) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let headers = [
        (header::ETAG, HeaderValue::from_static(asset.etag)),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        ),
    ];
    if etag_matches(request, asset.etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (
        headers,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(asset.path)),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        asset.bytes,
    )
        .into_response()
}

/// True when `If-None-Match` lists this entity tag (or is `*`). Weak tags
/// (`W/"…"`) match too: the comparison for `If-None-Match` is the weak one.
fn etag_matches(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// The media type of a bundle file, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension {
        "html" => "text/html; charset=utf-8",
        // Module workers must come with a JavaScript type, `.mjs` included.
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get(uri: &str, if_none_match: Option<&str>) -> Response {
        let mut request = Request::get(uri);
        if let Some(tag) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, tag);
        }
        routes::<()>()
            .oneshot(request.body(Body::empty()).expect("valid request"))
            .await
            .expect("the router is infallible")
    }

    fn header_of(response: &Response, name: header::HeaderName) -> &str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The page at `/` names scripts and styles that the bundle holds.
    #[tokio::test]
    async fn index_names_files_of_the_bundle() {
        let response = get("/", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let html = String::from_utf8(body.to_vec()).expect("UTF-8");
        let referenced: Vec<&Asset> = ASSETS
            .iter()
            .filter(|a| a.path.starts_with("assets/app-") && html.contains(a.path))
            .collect();
        assert!(
            referenced.iter().any(|a| a.path.ends_with(".js"))
                && referenced.iter().any(|a| a.path.ends_with(".css")),
            "{html}"
        );
    }

    /// Hashed files are immutable and typed; MapLibre's worker is JavaScript.
    #[tokio::test]
    async fn hashed_assets_are_immutable() {
        let worker = ASSETS
            .iter()
            .find(|a| a.path.starts_with("assets/maplibre-gl-worker-"))
            .expect("the bundle holds MapLibre's worker");
        let response = get(&format!("/{}", worker.path), None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );
        assert!(header_of(&response, header::CACHE_CONTROL).contains("immutable"));
    }

    /// The fonts the style document names are in the bundle.
    #[tokio::test]
    async fn style_fonts_are_served() {
        for path in [
            "/fonts/noto-sans-latin-400.woff2",
            "/fonts/noto-sans-latin-700.woff2",
        ] {
            let response = get(path, None).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(header_of(&response, header::CONTENT_TYPE), "font/woff2");
        }
    }

    /// A matching `If-None-Match` gets 304 with no body; another tag gets 200.
    #[tokio::test]
    async fn conditional_requests_use_the_etag() {
        let first = get("/", None).await;
        let etag = header_of(&first, header::ETAG).to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        let again = get("/", Some(&format!("\"other\", W/{etag}"))).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        let body = again.into_body().collect().await.expect("body").to_bytes();
        assert!(body.is_empty());
        assert_eq!(get("/", Some("\"other\"")).await.status(), StatusCode::OK);
    }

    /// Paths outside the bundle are not routed here (the API's fallback answers).
    #[tokio::test]
    async fn unknown_paths_are_not_routed() {
        assert_eq!(
            get("/assets/app-NOSUCHFILE.js", None).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    /// Media types by extension.
    #[test]
    fn media_types() {
        assert_eq!(content_type("a/b.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("x.woff2"), "font/woff2");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }
}
