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
//!
//! Text files were compressed at build time (brotli at its best quality and
//! gzip, by `web/build.mjs`): a client that accepts `br` or `gzip` gets those
//! bytes as they are, with `Content-Encoding`, `Vary: Accept-Encoding` and an
//! entity tag of their own; the API's compression layer leaves an answer
//! that already has an encoding alone.

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
    /// The content compressed with brotli, for text files.
    pub brotli: Option<&'static [u8]>,
    /// The content compressed with gzip, for text files.
    pub gzip: Option<&'static [u8]>,
}

/// A content coding the bundle holds files in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Asset {
    /// The best of this file's encodings that `request` accepts: brotli,
    /// then gzip, then the file as it is.
    fn variant(&self, request: &HeaderMap) -> (Coding, &'static [u8]) {
        let accepts = |coding: &str| accepts_coding(request, coding);
        match (self.brotli, self.gzip) {
            (Some(bytes), _) if accepts("br") => (Coding::Brotli, bytes),
            (_, Some(bytes)) if accepts("gzip") => (Coding::Gzip, bytes),
            _ => (Coding::Identity, self.bytes),
        }
    }
}

/// True when `Accept-Encoding` accepts `coding`: it is listed, or `*` is,
/// with a quality above zero (RFC 9110 §12.5.3; `x-gzip` is `gzip`).
fn accepts_coding(request: &HeaderMap, coding: &str) -> bool {
    let mut named = None;
    let mut any = None;
    for item in request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("").to_ascii_lowercase();
        let quality = parts
            .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok());
        let accepted = quality.is_some_and(|q| q > 0.0);
        if name == coding || (coding == "gzip" && name == "x-gzip") {
            named = Some(accepted);
        } else if name == "*" {
            any = Some(accepted);
        }
    }
    named.or(any).unwrap_or(false)
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
/// file (in the best encoding the client accepts) with its type and cache
/// headers.
fn respond(asset: &'static Asset, request: &HeaderMap) -> Response {
    let cache_control = if asset.path.starts_with(IMMUTABLE_PREFIX) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let (coding, bytes) = asset.variant(request);
    // Each encoding is a representation of its own (RFC 9110 §8.8.3): its
    // tag is the file's with the coding appended inside the quotes.
    let etag = match coding {
        Coding::Identity => HeaderValue::from_static(asset.etag),
        Coding::Brotli | Coding::Gzip => {
            let suffix = if coding == Coding::Brotli { "br" } else { "gz" };
            let tag = format!("{}-{suffix}\"", asset.etag.trim_end_matches('"'));
            HeaderValue::from_str(&tag).expect("an entity tag of hex digits is a header value")
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if asset.brotli.is_some() || asset.gzip.is_some() {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if etag_matches(request, etag.to_str().unwrap_or_default()) {
        headers.insert(header::ETAG, etag);
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::ETAG, etag);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(asset.path)),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    match coding {
        Coding::Brotli => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        }
        Coding::Gzip => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Coding::Identity => {}
    }
    (headers, bytes).into_response()
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
        "webmanifest" => "application/manifest+json",
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

    /// The big script goes out pre-compressed to a client that asks, with
    /// its own tag, and decompresses to the file; a client that does not
    /// ask (or refuses with q=0) gets the file as it is.
    #[tokio::test]
    async fn text_files_go_out_precompressed_when_accepted() {
        let app = ASSETS
            .iter()
            .find(|a| a.path.starts_with("assets/app-") && a.path.ends_with(".js"))
            .expect("the bundle holds the app");
        let uri = format!("/{}", app.path);
        let with = |accept: &'static str| {
            let uri = uri.clone();
            async move {
                routes::<()>()
                    .oneshot(
                        Request::get(uri)
                            .header(header::ACCEPT_ENCODING, accept)
                            .body(Body::empty())
                            .expect("valid request"),
                    )
                    .await
                    .expect("infallible")
            }
        };
        let br = with("gzip, deflate, br, zstd").await;
        assert_eq!(header_of(&br, header::CONTENT_ENCODING), "br");
        assert_eq!(header_of(&br, header::VARY), "accept-encoding");
        let br_tag = header_of(&br, header::ETAG).to_owned();
        assert_ne!(br_tag, app.etag);
        let body = br.into_body().collect().await.expect("body").to_bytes();
        assert!(
            body.len() * 3 < app.bytes.len(),
            "{} of {}",
            body.len(),
            app.bytes.len()
        );
        let mut plain = Vec::new();
        brotli_decompressor::BrotliDecompress(&mut &body[..], &mut plain).expect("brotli");
        assert_eq!(plain, app.bytes);

        let gz = with("gzip;q=1, br;q=0").await;
        assert_eq!(header_of(&gz, header::CONTENT_ENCODING), "gzip");
        let body = gz.into_body().collect().await.expect("body").to_bytes();
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain)
            .expect("gzip");
        assert_eq!(plain, app.bytes);

        let identity = with("identity").await;
        assert_eq!(header_of(&identity, header::CONTENT_ENCODING), "");
        assert_eq!(header_of(&identity, header::ETAG), app.etag);

        // The brotli tag revalidates the brotli copy.
        let mut request = Request::get(&uri);
        request = request
            .header(header::ACCEPT_ENCODING, "br")
            .header(header::IF_NONE_MATCH, &br_tag);
        let again = routes::<()>()
            .oneshot(request.body(Body::empty()).expect("valid"))
            .await
            .expect("infallible");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }

    #[test]
    fn accept_encoding_is_read_with_its_qualities() {
        let accept = |value: &'static str, coding: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepts_coding(&headers, coding)
        };
        assert!(accept("gzip, br", "br"));
        assert!(accept("BR;q=0.5", "br"));
        assert!(!accept("br;q=0", "br"));
        assert!(!accept("gzip", "br"));
        assert!(accept("*", "br"));
        assert!(!accept("*, br;q=0", "br"));
        assert!(accept("x-gzip", "gzip"));
        assert!(!accept("", "gzip"));
        assert!(!accept("gzip;q=nonsense", "gzip"));
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
        assert_eq!(
            content_type("manifest.webmanifest"),
            "application/manifest+json"
        );
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }
}
