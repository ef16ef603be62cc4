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
use support::http::{Answer, get, get_with, post_change, post_json, send, urlencode};

conformance!(
    services_are_the_categories,
    a_posted_request_can_be_fetched_by_id_token_and_list,
    a_request_without_description_reads_back_as_xml_and_json,
    requests_placed_by_address_id_or_address_string,
    lists_take_comma_lists_and_the_spec_s_date_window,
    discovery_lists_the_endpoint_in_both_formats,
    errors_come_in_georeport_format_and_record_nothing,
    a_nul_character_is_refused_by_name_and_records_nothing,
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

/// The text of the first `<name>` element of an XML document.
fn xml_text<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{name}> in {xml}"))
        + open.len();
    let end = xml[start..]
        .find(&format!("</{name}>"))
        .expect("a closing tag")
        + start;
    &xml[start..end]
}

/// A posted request's id.
async fn submit(app: &Router, fields: &[(&str, &str)]) -> String {
    let created = post_form(app, "/open311/v2/requests.json", fields)
        .await
        .expect(StatusCode::OK);
    created[0]["service_request_id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

async fn a_request_without_description_reads_back_as_xml_and_json(t: &TestStore) {
    let app = app(t).await;
    // Posted to the .xml address: the answer is XML too.
    let created = post_form(
        &app,
        "/open311/v2/requests.xml",
        &[
            ("service_code", "dispute"),
            ("lat", "34.61"),
            ("long", "106.01"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", t.name);
    assert_eq!(created.content_type(), "text/xml; charset=utf-8");
    let xml = String::from_utf8(created.body.to_vec()).expect("UTF-8");
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request>"),
        "{xml}"
    );
    let id = xml_text(&xml, "service_request_id").to_owned();
    assert_eq!(xml_text(&xml, "token"), id);
    assert_eq!(xml_text(&xml, "service_notice"), "assigned to grid s-1");

    let as_xml = get(&app, &format!("/open311/v2/requests/{id}.xml")).await;
    assert_eq!(as_xml.status, StatusCode::OK);
    assert_eq!(as_xml.content_type(), "text/xml; charset=utf-8");
    let xml = String::from_utf8(as_xml.body.to_vec()).expect("UTF-8");
    assert_eq!(xml_text(&xml, "service_request_id"), id);
    assert_eq!(xml_text(&xml, "status"), "open");
    assert_eq!(xml_text(&xml, "service_code"), "dispute");
    assert_eq!(xml_text(&xml, "service_name"), "矛盾纠纷");
    assert_eq!(xml_text(&xml, "description"), "矛盾纠纷（报告未附描述）");
    assert_eq!(xml_text(&xml, "lat"), "34.61");
    assert_eq!(xml_text(&xml, "address_id"), "s-1");

    let as_json = get(&app, &format!("/open311/v2/requests/{id}.json"))
        .await
        .ok("application/json");
    assert_eq!(as_json[0]["service_request_id"], id.as_str());
    assert_eq!(as_json[0]["description"], "矛盾纠纷（报告未附描述）");
    assert_eq!(as_json[0]["lat"], 34.61);

    // The services and the token in XML.
    let services = get(&app, "/open311/v2/services.xml").await;
    let xml = String::from_utf8(services.body.to_vec()).expect("UTF-8");
    assert!(
        xml.contains("<services><service><service_code>dispute</service_code>"),
        "{xml}"
    );
    let token = get(&app, &format!("/open311/v2/tokens/{id}.xml")).await;
    let xml = String::from_utf8(token.body.to_vec()).expect("UTF-8");
    assert_eq!(xml_text(&xml, "token"), id);
    let definition = get(&app, "/open311/v2/services/dispute.xml").await;
    let xml = String::from_utf8(definition.body.to_vec()).expect("UTF-8");
    assert!(
        xml.ends_with("<service_definition><service_code>dispute</service_code><attributes></attributes></service_definition>"),
        "{xml}"
    );
}

async fn requests_placed_by_address_id_or_address_string(t: &TestStore) {
    let app = app(t).await;
    let by_id = submit(
        &app,
        &[
            ("service_code", "sanitation"),
            ("address_id", "t-ne"),
            ("description", "路灯坏了"),
        ],
    )
    .await;
    let read = get(&app, &format!("/open311/v2/requests/{by_id}.json"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(read[0]["address_id"], "t-ne", "{}", t.name);
    let (lat, long) = (
        read[0]["lat"].as_f64().expect("lat"),
        read[0]["long"].as_f64().expect("long"),
    );
    assert!(
        (34.7..34.8).contains(&lat) && (106.1..106.2).contains(&long),
        "{read}"
    );

    let by_name = submit(
        &app,
        &[
            ("service_code", "sanitation"),
            ("address_string", "东村"),
            ("description", "垃圾"),
        ],
    )
    .await;
    let read = get(&app, &format!("/open311/v2/requests/{by_name}.json"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(read[0]["address_id"], "v-sw-e");
    assert_eq!(read[0]["address"], "西南镇 东村");
    // The address as given is kept in the history.
    let incident = get(&app, &format!("/api/incidents/{by_name}"))
        .await
        .expect(StatusCode::OK);
    assert!(incident.to_string().contains("地址：东村"), "{incident}");
}

async fn lists_take_comma_lists_and_the_spec_s_date_window(t: &TestStore) {
    let app = app(t).await;
    let open = submit(
        &app,
        &[
            ("service_code", "sanitation"),
            ("lat", "34.61"),
            ("long", "106.01"),
            ("description", "a"),
        ],
    )
    .await;
    let closed = submit(
        &app,
        &[
            ("service_code", "dispute"),
            ("lat", "34.75"),
            ("long", "106.15"),
            ("description", "b"),
        ],
    )
    .await;
    post_change(
        &app,
        &format!("/api/incidents/{closed}/actions"),
        &json!({"action": "dismiss", "note": "不属实"}),
    )
    .await
    .expect(StatusCode::OK);
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("a list")
            .iter()
            .map(|r| r["service_request_id"].as_str().expect("id").to_owned())
            .collect()
    };
    let both = get(&app, "/open311/v2/requests.json?status=open,closed")
        .await
        .expect(StatusCode::OK);
    // Newest first.
    assert_eq!(ids(&both), [closed.clone(), open.clone()], "{}", t.name);
    let codes = get(
        &app,
        "/open311/v2/requests.json?service_code=sanitation,dispute&status=closed",
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(ids(&codes), std::slice::from_ref(&closed));
    let sanitation = get(&app, "/open311/v2/requests.json?service_code=sanitation")
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&sanitation), std::slice::from_ref(&open));
    let by_ids = get(
        &app,
        &format!("/open311/v2/requests.xml?service_request_id={open},{closed}&status=closed"),
    )
    .await;
    let xml = String::from_utf8(by_ids.body.to_vec()).expect("UTF-8");
    // Ids override every other filter.
    assert_eq!(xml.matches("<request>").count(), 2, "{xml}");

    // A window of the spec's shape that ends before the reports: empty.
    // One that starts 90 days back (end defaults to 90 days later): both.
    let past = get(
        &app,
        "/open311/v2/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-03-01T00:00:00%2B08:00",
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(past, json!([]));
    let start = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * 89))
        .expect("a time");
    let recent = get(
        &app,
        &format!("/open311/v2/requests.json?start_date={start}"),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(ids(&recent).len(), 2);
    // Taken as given by a jurisdiction-aware client.
    let with_jurisdiction = get(&app, "/open311/v2/requests.json?jurisdiction_id=wangge")
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&with_jurisdiction).len(), 2);
}

async fn discovery_lists_the_endpoint_in_both_formats(t: &TestStore) {
    let app = app(t).await;
    let doc = get_with(
        &app,
        "/open311/v2/discovery.json",
        &[("x-test-anonymous", "1")],
    )
    .await
    .ok("application/json");
    let endpoint = &doc["endpoints"][0];
    assert_eq!(
        endpoint["specification"], "http://wiki.open311.org/GeoReport_v2",
        "{}",
        t.name
    );
    assert_eq!(endpoint["type"], "production");
    assert!(
        endpoint["url"]
            .as_str()
            .expect("url")
            .ends_with("/open311/v2")
    );
    assert_eq!(endpoint["formats"], json!(["text/xml", "application/json"]));
    assert!(doc["changeset"].is_string() && doc["key_service"].is_string());
    let xml = get_with(
        &app,
        "/open311/v2/discovery.xml",
        &[("x-test-anonymous", "1")],
    )
    .await;
    assert_eq!(xml.status, StatusCode::OK);
    let xml = String::from_utf8(xml.body.to_vec()).expect("UTF-8");
    assert!(
        xml.contains(
            "<formats><format>text/xml</format><format>application/json</format></formats>"
        ),
        "{xml}"
    );
    assert!(
        xml.contains("<endpoints><endpoint><specification>"),
        "{xml}"
    );
}

/// A form's fields.
type Fields = Vec<(&'static str, &'static str)>;

/// A GeoReport error: its status, code and description, in JSON.
#[track_caller]
fn georeport_error(answer: &Answer, status: StatusCode, says: &str) {
    assert_eq!(
        answer.status,
        status,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.content_type(), "application/json");
    let body = answer.json();
    assert_eq!(body.as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body[0]["code"], status.as_u16());
    let description = body[0]["description"].as_str().expect("a description");
    assert!(description.contains(says), "wanted {says:?}: {description}");
}

async fn errors_come_in_georeport_format_and_record_nothing(t: &TestStore) {
    let app = app(t).await;
    let here = [("lat", "34.61"), ("long", "106.01")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        extra.iter().copied().chain(here).collect()
    };
    let cases: Vec<(Fields, StatusCode, &str)> = vec![
        (
            here.to_vec(),
            StatusCode::BAD_REQUEST,
            "service_code was not provided",
        ),
        (
            vec![("service_code", "sanitation")],
            StatusCode::BAD_REQUEST,
            "lat/long, address_string, or address_id was not provided",
        ),
        (
            vec![("service_code", "sanitation"), ("long", "106.01")],
            StatusCode::BAD_REQUEST,
            "lat",
        ),
        (
            vec![
                ("service_code", "sanitation"),
                ("lat", "north"),
                ("long", "106.01"),
            ],
            StatusCode::BAD_REQUEST,
            "lat must be a number",
        ),
        (
            vec![("service_code", "sanitation"), ("lat", "0"), ("long", "0")],
            StatusCode::BAD_REQUEST,
            "outside the county",
        ),
        (
            vec![("service_code", "sanitation"), ("address_id", "nowhere")],
            StatusCode::BAD_REQUEST,
            "address_id",
        ),
        (
            vec![("service_code", "sanitation"), ("address_string", "火星")],
            StatusCode::BAD_REQUEST,
            "address_string",
        ),
        (
            with(&[("service_code", "weather")]),
            StatusCode::NOT_FOUND,
            "service_code \"weather\" was not found",
        ),
        (
            with(&[
                ("service_code", "sanitation"),
                ("jurisdiction_id", "elsewhere"),
            ]),
            StatusCode::NOT_FOUND,
            "jurisdiction_id",
        ),
        (
            with(&[("service_code", "sanitation"), ("api_key", "not-a-key")]),
            StatusCode::FORBIDDEN,
            "api_key is unknown",
        ),
    ];
    for (fields, status, says) in cases {
        let answer = post_form(&app, "/open311/v2/requests.json", &fields).await;
        georeport_error(&answer, status, says);
    }
    // No key at all (no credential on the request either): 403, as the spec says.
    let anonymous = send(
        &app,
        Request::post("/open311/v2/requests.json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-test-anonymous", "1")
            .body(Body::from("service_code=sanitation&lat=34.61&long=106.01"))
            .expect("a request"),
    )
    .await;
    georeport_error(
        &anonymous,
        StatusCode::FORBIDDEN,
        "api_key was not provided",
    );
    let plain = send(
        &app,
        Request::post("/open311/v2/requests.json")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("service_code=sanitation"))
            .expect("a request"),
    )
    .await;
    georeport_error(
        &plain,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "x-www-form-urlencoded",
    );
    // A body over the limit is refused in GeoReport's format too.
    let huge = send(
        &app,
        Request::post("/open311/v2/requests.json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "service_code=sanitation&description={}",
                "x".repeat(17 * 1024 * 1024)
            )))
            .expect("a request"),
    )
    .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.json()[0]["code"], 413);

    // Reading.
    let reads = [
        (
            "/open311/v2/requests/77.json",
            StatusCode::NOT_FOUND,
            "service_request_id 77 was not found",
        ),
        (
            "/open311/v2/requests/seven.json",
            StatusCode::BAD_REQUEST,
            "service_request_id",
        ),
        (
            "/open311/v2/requests/7.csv",
            StatusCode::NOT_FOUND,
            ".json and .xml",
        ),
        (
            "/open311/v2/tokens/77.json",
            StatusCode::NOT_FOUND,
            "token 77",
        ),
        (
            "/open311/v2/services/weather.json",
            StatusCode::NOT_FOUND,
            "service_code",
        ),
        (
            "/open311/v2/services.json?jurisdiction_id=elsewhere",
            StatusCode::NOT_FOUND,
            "jurisdiction_id",
        ),
        (
            "/open311/v2/requests.json?status=pending",
            StatusCode::BAD_REQUEST,
            "status",
        ),
        (
            "/open311/v2/requests.json?service_code=weather",
            StatusCode::NOT_FOUND,
            "service_code",
        ),
        (
            "/open311/v2/requests.json?start_date=yesterday",
            StatusCode::BAD_REQUEST,
            "start_date",
        ),
        (
            "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
            StatusCode::BAD_REQUEST,
            "at most 90 days",
        ),
        (
            "/open311/v2/requests.json?start_date=2026-02-01&end_date=2026-01-01",
            StatusCode::BAD_REQUEST,
            "after end_date",
        ),
        (
            "/open311/v2/nothing.json",
            StatusCode::NOT_FOUND,
            "/open311/v2/nothing.json",
        ),
    ];
    for (uri, status, says) in reads {
        georeport_error(&get(&app, uri).await, status, says);
    }
    let wrong_key = get_with(
        &app,
        "/open311/v2/requests.json?api_key=not-a-key",
        &[("x-test-anonymous", "1")],
    )
    .await;
    georeport_error(
        &wrong_key,
        StatusCode::FORBIDDEN,
        "unknown, expired or revoked",
    );
    let anonymous = get_with(
        &app,
        "/open311/v2/requests.json",
        &[("x-test-anonymous", "1")],
    )
    .await;
    georeport_error(
        &anonymous,
        StatusCode::FORBIDDEN,
        "api_key was not provided or is invalid",
    );
    assert!(anonymous.headers.get(header::WWW_AUTHENTICATE).is_none());

    // In XML on the .xml addresses.
    let xml = get(&app, "/open311/v2/requests/77.xml").await;
    assert_eq!(xml.status, StatusCode::NOT_FOUND);
    assert_eq!(xml.content_type(), "text/xml; charset=utf-8");
    let text = String::from_utf8(xml.body.to_vec()).expect("UTF-8");
    assert!(
        text.ends_with("<errors><error><code>404</code><description>service_request_id 77 was not found</description></error></errors>"),
        "{text}"
    );
    let xml = get_with(
        &app,
        "/open311/v2/requests.xml",
        &[("x-test-anonymous", "1")],
    )
    .await;
    assert_eq!(xml.status, StatusCode::FORBIDDEN);
    let text = String::from_utf8(xml.body.to_vec()).expect("UTF-8");
    assert!(text.contains("<errors><error><code>403</code>"), "{text}");

    let listed = get(&app, "/api/incidents").await.expect(StatusCode::OK);
    assert_eq!(listed["total"], 0, "{}", t.name);
}

/// A NUL character, which PostgreSQL cannot store, is refused by name with
/// 400 wherever text comes in (an Open311 field, a query value, a JSON
/// string), on both backends, and nothing is recorded. (On PostGIS it was
/// a 500: Schemathesis found it.)
async fn a_nul_character_is_refused_by_name_and_records_nothing(t: &TestStore) {
    let app = app(t).await;
    let count = |answer: Answer| answer.json()["total"].as_u64().expect("a total");
    let before = count(get(&app, "/api/incidents").await);
    let form = post_form(
        &app,
        "/open311/v2/requests.json",
        &[
            ("service_code", "dispute"),
            ("lat", "34.61"),
            ("long", "106.01"),
            ("description", "a\0b"),
        ],
    )
    .await;
    assert_eq!(form.status, StatusCode::BAD_REQUEST, "{}", t.name);
    assert!(
        form.json()[0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("\"description\" holds a NUL")),
        "{}: {}",
        t.name,
        String::from_utf8_lossy(&form.body)
    );
    let query = get(&app, "/api/incidents?category=%00").await;
    assert_eq!(query.status, StatusCode::BAD_REQUEST, "{}", t.name);
    assert_eq!(query.json()["parameter"], "category", "{}", t.name);
    let body = post_json(
        &app,
        "/api/incidents",
        &json!({"category": "dispute", "description": "a\u{0}b", "lon": 106.01,
            "lat": 34.61, "source": "hotline"}),
    )
    .await;
    assert_eq!(body.status, StatusCode::BAD_REQUEST, "{}", t.name);
    assert_eq!(body.json()["parameter"], "body", "{}", t.name);
    assert_eq!(
        count(get(&app, "/api/incidents").await),
        before,
        "{}",
        t.name
    );
}
