//! Error answers in the caller's language: the web map (and any client whose
//! `Accept-Language` prefers `zh`) reads every refusal in Chinese, title and
//! sentence and each listed issue; API clients that ask for nothing keep the
//! English they were written against. One request per kind of refusal a
//! dispatcher or planner meets, through the router over a SQLite store.
//!
//! "In Chinese" is checked, not assumed: the sentence must hold Chinese
//! characters, and every English word left in it must be one the request
//! itself carried (a parameter's name, a value quoted back) or a name of a
//! format or unit. So a sentence sent in English with a Chinese prefix fails.

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use support::TestStore;
use support::four_towns::four_towns_app;
use support::http::{Answer, send};
use wangge::store::Backend;

/// The Accept-Language Chromium sends for a Chinese desktop.
const CHINESE: &str = "zh-CN,zh;q=0.9,en;q=0.8";

/// English words a Chinese sentence may keep: formats, units and names of
/// standards, which are written the same way in Chinese text.
const KEPT_WORDS: [&str; 14] = [
    "JSON",
    "GeoJSON",
    "CRS",
    "EPSG",
    "CQL2",
    "URL",
    "ID",
    "MB",
    "KB",
    "km",
    "m",
    "Content",
    "Type",
    "application",
];

/// A request, sent in Chinese and without a language.
struct Case {
    /// What it is, for failure messages.
    what: &'static str,
    method: Method,
    uri: String,
    content_type: Option<&'static str>,
    body: String,
    status: StatusCode,
}

impl Case {
    fn get(what: &'static str, uri: impl Into<String>, status: StatusCode) -> Case {
        Case {
            what,
            method: Method::GET,
            uri: uri.into(),
            content_type: None,
            body: String::new(),
            status,
        }
    }

    fn post(
        what: &'static str,
        uri: impl Into<String>,
        content_type: &'static str,
        body: impl Into<String>,
        status: StatusCode,
    ) -> Case {
        Case {
            what,
            method: Method::POST,
            uri: uri.into(),
            content_type: Some(content_type),
            body: body.into(),
            status,
        }
    }

    async fn send(&self, app: &axum::Router, language: Option<&str>) -> Answer {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(&self.uri);
        if let Some(ct) = self.content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        if let Some(l) = language {
            request = request.header(header::ACCEPT_LANGUAGE, l);
        }
        send(
            app,
            request
                .body(Body::from(self.body.clone()))
                .expect("a request"),
        )
        .await
    }
}

/// The English words of `sentence` outside quotes and backticks that are
/// neither in `carried` (the request's own text) nor kept words.
fn foreign_words(sentence: &str, carried: &str) -> Vec<String> {
    let mut unquoted = String::new();
    let mut quote: Option<char> = None;
    for c in sentence.chars() {
        match (quote, c) {
            (None, '"' | '`' | '“') => quote = Some(if c == '“' { '”' } else { c }),
            (Some(q), c) if c == q => quote = None,
            (None, c) => unquoted.push(c),
            _ => {}
        }
    }
    let carried: Vec<&str> = words(carried).collect();
    words(&unquoted)
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
        .filter(|w| !KEPT_WORDS.contains(w) && !carried.contains(w))
        .map(str::to_owned)
        .collect()
}

/// The ASCII words of `s` (identifiers with `_`, `-` or `.` inside count as one).
fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .map(|w| w.trim_matches(|c: char| c == '-' || c == '.'))
        .filter(|w| !w.is_empty())
}

/// True when `s` holds a CJK ideograph.
fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Assert `text` reads as Chinese for a request that carried `carried`.
fn assert_chinese(what: &str, member: &str, text: &str, carried: &str) {
    assert!(
        has_chinese(text),
        "{what}: {member} {text:?} is not Chinese"
    );
    let foreign = foreign_words(text, carried);
    assert!(
        foreign.is_empty(),
        "{what}: {member} {text:?} keeps English words {foreign:?}"
    );
}

#[tokio::test]
async fn refusals_reach_a_chinese_caller_in_chinese_and_others_in_english() {
    let t = TestStore::open(Backend::Sqlite).await;
    let (_state, app) = four_towns_app(&t).await;

    // An incident to refuse changes to: reported in s-1, so it may only be
    // verified or dismissed.
    let reported = send(
        &app,
        Request::post("/api/incidents")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({
                    "category": "sanitation", "description": "楼道堆放杂物",
                    "lon": 106.01, "lat": 34.61, "source": "citizen",
                    "reporter": {"name": "王芳", "phone": "13800000001"},
                })
                .to_string(),
            ))
            .expect("a request"),
    )
    .await;
    assert_eq!(reported.status, StatusCode::CREATED, "{}", reported.json());
    let id = reported.json()["incident"]["id"].as_i64().expect("an id");
    let version = reported.json()["incident"]["version"]
        .as_i64()
        .expect("a version");
    let grid_version = send(
        &app,
        Request::get("/healthz")
            .body(Body::empty())
            .expect("a request"),
    )
    .await
    .json()["grid_version"]
        .clone();

    // A town that overlaps another: the import is refused with its issues.
    let overlapping = json!({"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "t-x",
        "properties": {"name": "重叠镇", "level": 1},
        "geometry": {"type": "Polygon", "coordinates": [[
            [106.05, 34.65], [106.15, 34.65], [106.15, 34.75], [106.05, 34.75], [106.05, 34.65]
        ]]},
    }]});

    let cases = [
        Case::get(
            "a latitude off the globe",
            "/api/locate?lon=106&lat=95",
            StatusCode::BAD_REQUEST,
        ),
        Case::get(
            "no such grid",
            "/api/grids/no-such-grid",
            StatusCode::NOT_FOUND,
        ),
        Case::get(
            "no such incident",
            "/api/incidents/999999",
            StatusCode::NOT_FOUND,
        ),
        Case::get("no such path", "/api/nothing-here", StatusCode::NOT_FOUND),
        Case::post(
            "a body that is not JSON",
            "/api/incidents",
            "application/json",
            "{\"category\": ",
            StatusCode::BAD_REQUEST,
        ),
        Case::post(
            "a report without a place",
            "/api/incidents",
            "application/json",
            json!({"category": "sanitation", "description": "x", "source": "citizen"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Case::post(
            "a body of the wrong type",
            "/api/incidents",
            "text/plain",
            "hello",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        Case::post(
            "an action its process does not allow now",
            format!("/api/incidents/{id}/actions"),
            "application/json",
            json!({"action": "resolve", "note": "已清理", "version": version}).to_string(),
            StatusCode::CONFLICT,
        ),
        Case::post(
            "a change made on a stale version",
            format!("/api/incidents/{id}/actions"),
            "application/json",
            json!({"action": "verify", "version": version + 5}).to_string(),
            StatusCode::CONFLICT,
        ),
        Case::post(
            "an escalation without its reason",
            format!("/api/incidents/{id}/escalate"),
            "application/json",
            json!({"note": " ", "version": version}).to_string(),
            StatusCode::BAD_REQUEST,
        ),
        Case::post(
            "an import that overlaps a town",
            format!("/api/grids/import?mode=upsert&version={grid_version}"),
            "application/geo+json",
            overlapping.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Case {
            what: "a method the path does not answer",
            method: Method::DELETE,
            uri: "/api/locate".into(),
            content_type: None,
            body: String::new(),
            status: StatusCode::METHOD_NOT_ALLOWED,
        },
    ];

    for case in &cases {
        let carried = format!("{} {}", case.uri, case.body);
        let chinese = case.send(&app, Some(CHINESE)).await;
        let english = case.send(&app, None).await;
        for (answer, language) in [(&chinese, "zh-CN"), (&english, "en")] {
            assert_eq!(
                answer.status,
                case.status,
                "{}: {}",
                case.what,
                answer.json()
            );
            assert_eq!(
                answer.content_type(),
                "application/problem+json",
                "{}",
                case.what
            );
            assert_eq!(
                answer.header(header::CONTENT_LANGUAGE),
                language,
                "{}",
                case.what
            );
            assert!(
                answer.header(header::VARY).contains("accept-language"),
                "{}: Vary is {:?}",
                case.what,
                answer.header(header::VARY)
            );
        }
        let (zh, en): (Value, Value) = (chinese.json(), english.json());
        assert_chinese(
            case.what,
            "title",
            zh["title"].as_str().expect("a title"),
            &carried,
        );
        assert_chinese(
            case.what,
            "detail",
            zh["detail"].as_str().expect("a detail"),
            &carried,
        );
        for member in ["title", "detail"] {
            let text = en[member].as_str().expect("a text");
            assert!(
                !has_chinese(text),
                "{}: English {member} {text:?}",
                case.what
            );
        }
        // The same problem, only its words differ.
        for member in ["type", "status", "parameter"] {
            assert_eq!(zh[member], en[member], "{}: {member}", case.what);
        }
        if let Some(issues) = zh["issues"].as_array() {
            assert!(!issues.is_empty(), "{}", case.what);
            for (issue, english_issue) in
                issues.iter().zip(en["issues"].as_array().expect("issues"))
            {
                assert_chinese(
                    case.what,
                    "issue",
                    issue["message"].as_str().expect("a message"),
                    &carried,
                );
                assert_eq!(issue["problem"], english_issue["problem"], "{}", case.what);
                assert!(!has_chinese(
                    english_issue["message"].as_str().expect("a message")
                ));
            }
        }
    }

    // Nothing was changed by any refusal: the incident is where it was.
    let after = send(
        &app,
        Request::get(format!("/api/incidents/{id}"))
            .body(Body::empty())
            .expect("a request"),
    )
    .await
    .json();
    assert_eq!(after["incident"]["version"], version);
    assert_eq!(after["incident"]["status"], "collected");
    t.cleanup().await;
}

#[test]
fn english_words_outside_quotes_are_found() {
    assert_eq!(
        foreign_words(
            "lat 必须在 -90 至 90 之间，收到 \"95\"",
            "/api/locate?lat=95"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        foreign_words("请求失败：no such grid", "/api/grids/x"),
        ["no", "such", "grid"]
    );
    assert!(foreign_words("类型不对：`u64` 与 “abc”", "").is_empty());
}
