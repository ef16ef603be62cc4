//! Open311 GeoReport v2 on both backends: the services are the categories,
//! a posted request is an incident (create, then fetch by id, by token and
//! in the list), and errors come in GeoReport's format.

#[macro_use]
mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use wangge::store::Backend;

use support::TestStore;
use support::four_towns::four_towns_app;
use support::http::{Answer, get, post_change, send};

conformance!(
    services_are_the_categories,
    a_posted_request_can_be_fetched_by_id_token_and_list,
    errors_come_in_georeport_format_and_record_nothing,
);

async fn app(t: &TestStore) -> Router {
    four_towns_app(t).await.1
}

/// `POST` a form, as Open311 clients send requests.
async fn post_form(app: &Router, uri: &str, fields: &[(&str, &str)]) -> Answer {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    send(
        app,
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("a request"),
    )
    .await
}

/// Percent-encode everything but unreserved characters.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn services_are_the_categories(t: &TestStore) {
    let app = app(t).await;
    let services = get(&app, "/open311/v2/services.json")
        .await
        .expect(StatusCode::OK);
    let codes: Vec<&str> = services
        .as_array()
        .expect("an array")
        .iter()
        .map(|s| s["service_code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        [
            "dispute",
            "safety_hazard",
            "public_order",
            "sanitation",
            "infrastructure",
            "other"
        ]
    );
    assert_eq!(services[0]["service_name"], "矛盾纠纷");
    assert_eq!(services[0]["metadata"], false);
    assert_eq!(services[0]["type"], "realtime");
    let definition = get(&app, "/open311/v2/services/sanitation.json")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        definition,
        json!({"service_code": "sanitation", "attributes": []})
    );
    let missing = get(&app, "/open311/v2/services/weather.json").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()[0]["code"], 404);
}

async fn a_posted_request_can_be_fetched_by_id_token_and_list(t: &TestStore) {
    let app = app(t).await;
    let created = post_form(
        &app,
        "/open311/v2/requests.json",
        &[
            ("service_code", "sanitation"),
            ("lat", "34.61"),
            ("long", "106.01"),
            ("description", "垃圾桶满了"),
            ("first_name", "芳"),
            ("last_name", "王"),
            ("phone", "13800000001"),
            ("email", "wf@example.cn"),
            ("media_url", "https://photos.example/bin.jpg"),
        ],
    )
    .await
    .expect(StatusCode::OK);
    let id = created[0]["service_request_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert_eq!(created[0]["token"], id.as_str());
    assert_eq!(created[0]["service_notice"], "assigned to grid s-1");

    let fetched = get(&app, &format!("/open311/v2/requests/{id}.json"))
        .await
        .expect(StatusCode::OK);
    let request = &fetched[0];
    assert_eq!(request["service_request_id"], id.as_str(), "{}", t.name);
    assert_eq!(request["status"], "open");
    assert_eq!(request["service_code"], "sanitation");
    assert_eq!(request["service_name"], "环境卫生");
    assert_eq!(request["description"], "垃圾桶满了");
    assert_eq!(request["lat"], 34.61);
    assert_eq!(request["long"], 106.01);
    assert_eq!(request["media_url"], "https://photos.example/bin.jpg");
    assert_eq!(request["agency_responsible"], "一片区 (Leader s-1)");
    assert_eq!(request["address_id"], "s-1");
    assert!(request["requested_datetime"].is_string());

    // The same incident in the dispatch API, with the reporter's name.
    let incident = get(&app, &format!("/api/incidents/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(incident["incident"]["reporter"]["name"], "芳 王");
    assert_eq!(incident["incident"]["source"], "citizen");

    let token = get(&app, &format!("/open311/v2/tokens/{id}.json"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(token, json!([{"service_request_id": id, "token": id}]));

    let listed = get(
        &app,
        "/open311/v2/requests.json?status=open&service_code=sanitation",
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let none = get(&app, "/open311/v2/requests.json?status=closed")
        .await
        .expect(StatusCode::OK);
    assert_eq!(none, json!([]));

    // Closed through dispatch, it reads closed in Open311.
    post_change(
        &app,
        &format!("/api/incidents/{id}/actions"),
        &json!({"action": "dismiss", "note": "已清理"}),
    )
    .await
    .expect(StatusCode::OK);
    let by_id = get(
        &app,
        &format!("/open311/v2/requests.json?service_request_id={id}"),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(by_id[0]["status"], "closed");
    assert_eq!(by_id[0]["status_notes"], "dismissed");
}

async fn errors_come_in_georeport_format_and_record_nothing(t: &TestStore) {
    let app = app(t).await;
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("lat", "34.61"), ("long", "106.01")], "service_code"),
        (&[("service_code", "sanitation"), ("long", "106.01")], "lat"),
        (
            &[
                ("service_code", "weather"),
                ("lat", "34.61"),
                ("long", "106.01"),
            ],
            "category",
        ),
        (
            &[
                ("service_code", "sanitation"),
                ("lat", "34.61"),
                ("long", "106.01"),
            ],
            "description",
        ),
    ];
    for (fields, says) in cases {
        let answer = post_form(&app, "/open311/v2/requests.json", fields).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{fields:?}");
        let body: Value = answer.json();
        assert_eq!(body[0]["code"], 400);
        let description = body[0]["description"].as_str().expect("description");
        assert!(description.contains(says), "{fields:?}: {description}");
    }
    let missing = get(&app, "/open311/v2/requests/77.json").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()[0]["code"], 404);
    let listed = get(&app, "/api/incidents").await.expect(StatusCode::OK);
    assert_eq!(listed["total"], 0, "{}", t.name);
}
