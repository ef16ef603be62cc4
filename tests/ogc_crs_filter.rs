//! OGC API - Features beyond Core, on both backends over the four-town
//! county: Part 2 (`crs`, `bbox-crs`, `Content-Crs`), Part 3 (queryables
//! and CQL2 `filter`), `datetime` intervals on the hazards, the 3D `bbox`,
//! trailing slashes, and CORS for the read-only layers only.

#[macro_use]
mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use wangge::store::Backend;

use support::TestStore;
use support::four_towns::four_towns_app;
use support::http::{get, get_with, send, urlencode};

conformance!(
    features_come_in_the_crs_asked_for,
    a_bbox_in_another_crs_selects_the_same_features,
    filters_select_what_the_json_api_holds,
    queryables_list_what_a_filter_may_name,
    datetime_selects_hazards_by_registration,
    trailing_slashes_redirect_and_3d_boxes_are_read,
    cors_opens_the_read_only_layers_and_nothing_else,
);

/// The features' ids of a page, in order.
fn ids(page: &Value) -> Vec<String> {
    page["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| match &f["id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

async fn features_come_in_the_crs_asked_for(t: &TestStore) {
    let (_, app) = four_towns_app(t).await;
    let base = get(&app, "/ogc/collections/towns/items/t-sw").await;
    assert_eq!(base.status, StatusCode::OK, "{}", t.name);
    assert_eq!(
        base.header("content-crs"),
        "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    );
    let lonlat = base.json()["geometry"]["coordinates"][0][0].clone();
    for (crs, uri) in [
        ("EPSG:4490", "http://www.opengis.net/def/crs/EPSG/0/4490"),
        (
            "http://www.opengis.net/def/crs/EPSG/0/4326",
            "http://www.opengis.net/def/crs/EPSG/0/4326",
        ),
    ] {
        let answer = get(
            &app,
            &format!("/ogc/collections/towns/items/t-sw?crs={}", urlencode(crs)),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{crs}");
        assert_eq!(answer.header("content-crs"), format!("<{uri}>"));
        let ring = answer.json()["geometry"]["coordinates"][0][0].clone();
        // Latitude first, the same numbers.
        let swapped: Vec<Value> = lonlat
            .as_array()
            .expect("a ring")
            .iter()
            .map(|p| json!([p[1], p[0]]))
            .collect();
        assert_eq!(ring, Value::Array(swapped), "{crs}");
    }
    let mercator = get(&app, "/ogc/collections/towns/items?crs=EPSG:3857&limit=1").await;
    assert_eq!(
        mercator.header("content-crs"),
        "<http://www.opengis.net/def/crs/EPSG/0/3857>"
    );
    let page = mercator.json();
    let first = &page["features"][0]["geometry"]["coordinates"][0][0][0];
    let (x, y) = (first[0].as_f64().expect("x"), first[1].as_f64().expect("y"));
    // 106.0..106.2 E, 34.6..34.8 N in metres.
    assert!((11_799_000.0..11_826_000.0).contains(&x), "{x}");
    assert!((4_108_000.0..4_136_000.0).contains(&y), "{y}");
    // The next link keeps the CRS.
    let next = page["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == "next")
        .expect("a next link");
    assert!(
        next["href"]
            .as_str()
            .expect("href")
            .contains("crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F3857"),
        "{next}"
    );
}

async fn a_bbox_in_another_crs_selects_the_same_features(t: &TestStore) {
    let (_, app) = four_towns_app(t).await;
    let wanted = ids(&get(
        &app,
        "/ogc/collections/village-clusters/items?bbox=106.06,34.61,106.09,34.69",
    )
    .await
    .expect(StatusCode::OK));
    assert_eq!(wanted, ["v-sw-e"], "{}", t.name);
    let in_4490 = get(
        &app,
        "/ogc/collections/village-clusters/items?bbox=34.61,106.06,34.69,106.09&bbox-crs=EPSG:4490",
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(ids(&in_4490), wanted);
    // The same box in Web Mercator metres.
    let (x0, y0) = mercator(106.06, 34.61);
    let (x1, y1) = mercator(106.09, 34.69);
    let in_3857 = get(
        &app,
        &format!(
            "/ogc/collections/village-clusters/items?bbox={x0},{y0},{x1},{y1}&bbox-crs={}",
            urlencode("http://www.opengis.net/def/crs/EPSG/0/3857")
        ),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(ids(&in_3857), wanted);
}

/// Web Mercator, computed here independently of the server.
fn mercator(lon: f64, lat: f64) -> (f64, f64) {
    let r = 6_378_137.0_f64;
    (
        r * lon.to_radians(),
        r * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
            .tan()
            .ln(),
    )
}

/// Which grids of the JSON API a filter should keep, by their properties.
type Keep = dyn Fn(&Value) -> bool;

async fn filters_select_what_the_json_api_holds(t: &TestStore) {
    let (_, app) = four_towns_app(t).await;
    // Every grid of the county through the JSON API, to compare with.
    let all = get(&app, "/api/grids").await.expect(StatusCode::OK);
    let json_api = |keep: &Keep, level: u64| -> Vec<String> {
        let mut ids: Vec<String> = all["features"]
            .as_array()
            .expect("features")
            .iter()
            .filter(|f| f["properties"]["level"] == level && keep(&f["properties"]))
            .map(|f| f["properties"]["id"].as_str().expect("id").to_owned())
            .collect();
        ids.sort();
        ids
    };
    let cases: [(&str, &str, u64, &Keep); 5] = [
        ("towns", "name = '西南镇'", 1, &|p| p["name"] == "西南镇"),
        (
            "towns",
            "name LIKE '西%' OR name IN ('东北镇')",
            1,
            &|p| p["name"].as_str().is_some_and(|n| n.starts_with('西')) || p["name"] == "东北镇",
        ),
        (
            "village-clusters",
            "parent = 't-sw' AND NOT name = '东村'",
            2,
            &|p| p["parent_id"] == "t-sw" && p["name"] != "东村",
        ),
        ("towns", "population IS NULL", 1, &|p| {
            p["population"].is_null()
        }),
        ("sub-areas", "id = 's-2'", 5, &|p| p["id"] == "s-2"),
    ];
    for (collection, filter, level, keep) in cases {
        let page = get(
            &app,
            &format!(
                "/ogc/collections/{collection}/items?filter={}&limit=100",
                urlencode(filter)
            ),
        )
        .await
        .expect(StatusCode::OK);
        let mut got = ids(&page);
        got.sort();
        let want = json_api(keep, level);
        assert!(!want.is_empty(), "{filter} selects something");
        assert_eq!(got, want, "{}: {filter}", t.name);
        assert_eq!(page["numberMatched"], want.len(), "{filter}");
    }
    // CQL2 JSON, and paging links that keep the filter.
    let page = get(
        &app,
        &format!(
            "/ogc/collections/towns/items?filter-lang=cql2-json&limit=1&filter={}",
            urlencode(r#"{"op":"like","args":[{"property":"name"},"%南镇"]}"#)
        ),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(page["numberMatched"], 2);
    let next = page["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == "next")
        .and_then(|l| l["href"].as_str())
        .expect("a next link")
        .to_owned();
    let path = next
        .split_once("/ogc/")
        .map(|(_, rest)| format!("/ogc/{rest}"))
        .expect("a path");
    let second = get(&app, &path).await.expect(StatusCode::OK);
    assert_eq!(second["numberMatched"], 2, "{path}");
    assert_eq!(second["numberReturned"], 1);
}

async fn queryables_list_what_a_filter_may_name(t: &TestStore) {
    let (_, app) = four_towns_app(t).await;
    let answer = get(&app, "/ogc/collections/towns/queryables").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", t.name);
    assert_eq!(answer.content_type(), "application/schema+json");
    let doc = answer.json();
    assert_eq!(doc["type"], "object");
    assert_eq!(doc["additionalProperties"], false);
    assert!(
        doc["$id"]
            .as_str()
            .is_some_and(|i| i.ends_with("/ogc/collections/towns/queryables"))
    );
    let names: Vec<&str> = doc["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "code",
            "name",
            "level",
            "parent",
            "population",
            "leader"
        ]
    );
    assert_eq!(doc["properties"]["population"]["type"], "integer");
    // The leader's phone is no queryable: a filter on it would tell an
    // anonymous reader the number digit by digit.
    let refused = get(
        &app,
        "/ogc/collections/towns/items?filter=leader_phone%20LIKE%20%27138%25%27",
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(refused["parameter"], "filter");
    // The collection links to its queryables.
    let collection = get(&app, "/ogc/collections/hazards")
        .await
        .expect(StatusCode::OK);
    assert!(
        collection["links"]
            .as_array()
            .expect("links")
            .iter()
            .any(
                |l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables"
                    && l["type"] == "application/schema+json"
            ),
        "{collection}"
    );
    let hazards = get(&app, "/ogc/collections/hazards/queryables")
        .await
        .expect(StatusCode::OK);
    assert_eq!(hazards["properties"]["due"]["type"], "boolean");
}

/// Register a hazard; its id.
async fn register(app: &Router, name: &str, lon: f64, lat: f64) -> i64 {
    send(
        app,
        Request::post("/api/hazards")
            .header(header::CONTENT_TYPE, "application/geo+json")
            .body(Body::from(
                json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"name": name, "category": "landslide", "risk": "major"}})
                .to_string(),
            ))
            .expect("a request"),
    )
    .await
    .expect(StatusCode::CREATED)["features"][0]["id"]
        .as_i64()
        .expect("an id")
}

async fn datetime_selects_hazards_by_registration(t: &TestStore) {
    let (_, app) = four_towns_app(t).await;
    let first = register(&app, "西坡", 106.01, 34.61).await;
    let before_second = jiff::Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let second = register(&app, "东坡", 106.15, 34.75).await;
    let page = |query: String| {
        let app = app.clone();
        async move {
            ids(
                &get(&app, &format!("/ogc/collections/hazards/items?{query}"))
                    .await
                    .expect(StatusCode::OK),
            )
        }
    };
    let (a, b) = (first.to_string(), second.to_string());
    assert_eq!(
        page(String::new()).await,
        [a.clone(), b.clone()],
        "{}",
        t.name
    );
    assert_eq!(
        page(format!(
            "datetime={}/..",
            urlencode(&before_second.to_string())
        ))
        .await,
        std::slice::from_ref(&b)
    );
    assert_eq!(
        page(format!(
            "datetime=../{}",
            urlencode(&before_second.to_string())
        ))
        .await,
        std::slice::from_ref(&a)
    );
    assert_eq!(
        page("datetime=2020-01-01T00:00:00Z/2020-12-31T00:00:00Z".into()).await,
        Vec::<String>::new()
    );
    // With a filter on the same page.
    assert_eq!(
        page(format!(
            "datetime=2020-01-01T00:00:00Z/..&filter={}",
            urlencode("name = '东坡' AND risk = 'major'")
        ))
        .await,
        std::slice::from_ref(&b)
    );
    // A date is its whole day (China Standard Time), as an instant or as
    // the end of an interval.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
        .to_string();
    assert_eq!(
        page(format!("datetime={today}")).await,
        [a.clone(), b.clone()]
    );
    assert_eq!(
        page(format!("datetime=2020-01-01/{today}")).await,
        [a.clone(), b.clone()]
    );
    // A backwards interval is refused by name.
    get(
        &app,
        "/ogc/collections/hazards/items?datetime=2026-02-01T00:00:00Z/2026-01-01T00:00:00Z",
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
}

async fn trailing_slashes_redirect_and_3d_boxes_are_read(t: &TestStore) {
    let (_, app) = four_towns_app(t).await;
    for (from, to) in [
        ("/ogc/", "/ogc"),
        ("/ogc/collections/", "/ogc/collections"),
        (
            "/ogc/collections/towns/items/?limit=2",
            "/ogc/collections/towns/items?limit=2",
        ),
    ] {
        let answer = get(&app, from).await;
        assert_eq!(answer.status, StatusCode::PERMANENT_REDIRECT, "{from}");
        assert_eq!(answer.header(header::LOCATION), to, "{}", t.name);
    }
    let flat = get(
        &app,
        "/ogc/collections/towns/items?bbox=106.0,34.6,106.09,34.69",
    )
    .await
    .expect(StatusCode::OK);
    let solid = get(
        &app,
        "/ogc/collections/towns/items?bbox=106.0,34.6,-100,106.09,34.69,3000",
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(ids(&solid), ids(&flat));
    assert_eq!(ids(&flat), ["t-sw"]);
}

async fn cors_opens_the_read_only_layers_and_nothing_else(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    let origin = "https://gis.example.cn";
    let allow =
        |a: &support::http::Answer| a.header(header::ACCESS_CONTROL_ALLOW_ORIGIN).to_owned();
    // Not configured: no CORS headers at all.
    let closed = get_with(&app, "/ogc/collections", &[("origin", origin)]).await;
    assert_eq!(allow(&closed), "", "{}", t.name);
    state.set_access(wangge::services::accounts::AccessSettings {
        cors_origins: vec![origin.to_owned()],
        ..Default::default()
    });
    for path in [
        "/ogc/collections",
        "/ogc/collections/towns/items?limit=1",
        "/api/openapi-3.0.json",
        "/open311/v2/services.json",
    ] {
        let open = get_with(&app, path, &[("origin", origin)]).await;
        assert_eq!(open.status, StatusCode::OK, "{path}");
        assert_eq!(allow(&open), origin, "{path}");
    }
    let items = get_with(&app, "/ogc/collections/towns/items", &[("origin", origin)]).await;
    assert!(
        items
            .header(header::ACCESS_CONTROL_EXPOSE_HEADERS)
            .contains("content-crs")
    );
    // Another origin, the private API and any write: nothing.
    let other = get_with(
        &app,
        "/ogc/collections",
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(allow(&other), "");
    let private = get_with(&app, "/api/incidents", &[("origin", origin)]).await;
    assert_eq!(allow(&private), "");
    let preflight = |method: &str, path: &str| {
        Request::options(path)
            .header("origin", origin)
            .header("access-control-request-method", method)
            .body(Body::empty())
            .expect("a request")
    };
    let read = send(&app, preflight("GET", "/ogc/collections/towns/items")).await;
    assert_eq!(allow(&read), origin);
    let write = send(&app, preflight("POST", "/open311/v2/requests.json")).await;
    assert_eq!(allow(&write), "");
    // Elsewhere OPTIONS is a method like any other: 405.
    let private_preflight = send(&app, preflight("GET", "/api/incidents")).await;
    assert_eq!(private_preflight.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(allow(&private_preflight), "");
    let simple_post = send(
        &app,
        Request::post("/open311/v2/requests.json")
            .header("origin", origin)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("service_code=sanitation&lat=34.61&long=106.01"))
            .expect("a request"),
    )
    .await;
    assert_eq!(allow(&simple_post), "");
}
