//! Requests through the router in-process (no socket), and their answers.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// A response, read whole.
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Assert the status; return the JSON body.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> Value {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }

    /// A header's value ("" when absent or not text).
    pub fn header(&self, name: impl header::AsHeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `Content-Type`.
    pub fn content_type(&self) -> &str {
        self.header(header::CONTENT_TYPE)
    }

    /// Assert a 200 with this content type; return the JSON body.
    #[track_caller]
    pub fn ok(&self, content_type: &str) -> Value {
        let doc = self.expect(StatusCode::OK);
        assert_eq!(self.content_type(), content_type);
        doc
    }

    /// Assert an RFC 9457 problem with this status (its media type, and
    /// `type`, `title`, `status` and `detail` as the RFC has them); return it.
    #[track_caller]
    pub fn problem(&self, status: StatusCode) -> Value {
        let doc = self.expect(status);
        assert_eq!(self.content_type(), "application/problem+json");
        assert_eq!(doc["status"], status.as_u16(), "{doc}");
        assert!(
            doc["type"].is_string() && doc["title"].is_string() && doc["detail"].is_string(),
            "{doc}"
        );
        doc
    }
}

/// Send a request through the router.
pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body reads")
        .to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

/// `GET uri`.
pub async fn get(app: &Router, uri: &str) -> Answer {
    send(
        app,
        Request::get(uri).body(Body::empty()).expect("a request"),
    )
    .await
}

/// `GET uri` with these headers.
pub async fn get_with(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(app, request.body(Body::empty()).expect("a request")).await
}

/// `POST uri` with a body of this content type (none when `None`).
pub async fn post(
    app: &Router,
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Answer {
    let mut request = Request::post(uri);
    if let Some(ct) = content_type {
        request = request.header(header::CONTENT_TYPE, ct);
    }
    send(app, request.body(body.into()).expect("a request")).await
}

/// `PUT uri` with a JSON body.
pub async fn put_json(app: &Router, uri: &str, body: &Value) -> Answer {
    send(
        app,
        Request::put(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("a request"),
    )
    .await
}

/// `POST uri` with a JSON body.
pub async fn post_json(app: &Router, uri: &str, body: &Value) -> Answer {
    send(
        app,
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("a request"),
    )
    .await
}

/// `POST` a change to an incident (`…/{id}/actions`, `/escalate`,
/// `/assign`) as a client does it: with the version it read, fetched
/// first unless the body names one (a test of stale versions does).
#[allow(dead_code)]
pub async fn post_change(app: &Router, uri: &str, body: &Value) -> Answer {
    let mut body = body.clone();
    if body.get("version").is_none() {
        let incident = uri.rsplit_once('/').map_or(uri, |(incident, _)| incident);
        let read = get(app, incident).await;
        // A number never used has no version; any will do to reach the 404.
        let version = if read.status == StatusCode::OK {
            read.json()["incident"]["version"].clone()
        } else {
            Value::from(1)
        };
        body["version"] = version;
    }
    post_json(app, uri, &body).await
}

/// A grid import's address as a planner's client sends it: with the
/// grid-set version it was planned on (the one the server holds now),
/// unless the query names one or asks for a dry run.
#[allow(dead_code)]
pub async fn with_grid_version(app: &Router, uri: &str) -> String {
    if uri.contains("version=") || uri.contains("dry_run=true") {
        return uri.to_owned();
    }
    let version = get(app, "/healthz").await.json()["grid_version"].clone();
    let joiner = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{joiner}version={version}")
}

/// The address of the reverse proxy in tests that go through one (the
/// server must be told to trust it).
#[allow(dead_code)]
pub const PROXY: &str = "10.9.8.7";

/// `GET uri` with `headers`, arriving from [`PROXY`]: forwarding headers
/// count only from a trusted proxy.
#[allow(dead_code)]
pub async fn get_via_proxy(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::empty()).expect("a request");
    let peer: std::net::SocketAddr = format!("{PROXY}:443").parse().expect("an address");
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    send(app, request).await
}

/// `POST /api/session` as a browser logs in (no credential of its own).
#[allow(dead_code)]
pub async fn log_in(app: &Router, login: &str, password: &str) -> Answer {
    send(
        app,
        Request::post("/api/session")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-test-anonymous", "1")
            .body(Body::from(
                serde_json::json!({"login": login, "password": password}).to_string(),
            ))
            .expect("a request"),
    )
    .await
}

/// Percent-encode a query value: everything but unreserved characters.
#[allow(dead_code)]
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
