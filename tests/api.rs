//! The HTTP API through the router (no sockets), on a state over a SQLite
//! store in a temporary folder, loaded with a small hand-made county:
//!
//! ```text
//!  34.8 +-----------+-----------+
//!       |   t-nw    |   t-ne    |      level 1: four towns, 0.1° square
//!  34.7 +-----+-----+-----------+
//!       |g-n  |     |           |      t-sw: two village clusters (v-sw-w, v-sw-e)
//! 34.65 +--+--+v-sw-e   t-se    |      v-sw-w: two group clusters (g-sw-w-s, g-sw-w-n)
//!       |s1|s2|     |           |      g-sw-w-s: one basic grid b-sw-w-s, the same square,
//!  34.6 +--+--+-----+-----------+        split into sub-areas s-1 and s-2
//!     106.0 .025 .05  106.1     106.2
//! ```
//!
//! Each test names in one line what it pins.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use support::admin_app as router;
use tempfile::TempDir;

mod support;
use support::four_towns::{four_towns, grid};
use support::http::{get, post, send, with_grid_version};
use wangge::model::geojson::grids_to_feature_collection;
use wangge::model::{Grid, Level};
use wangge::state::AppState;
use wangge::store::WriteMode;

/// The ids of the fixture, ordered by level then id (the API's order).
const ORDERED_IDS: [&str; 11] = [
    "t-ne", "t-nw", "t-se", "t-sw", "v-sw-e", "v-sw-w", "g-sw-w-n", "g-sw-w-s", "b-sw-w-s", "s-1",
    "s-2",
];

/// A point deep in sub-area s-1.
const DEEP: (f64, f64) = (106.01, 34.61);
/// A point in t-se, which has no children.
const SHALLOW: (f64, f64) = (106.15, 34.65);
/// A point outside the county.
const OUTSIDE: (f64, f64) = (105.5, 34.0);

/// A router over a fresh SQLite store holding the fixture. Keep the folder alive.
async fn app() -> (TempDir, Arc<AppState>, Router) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("wangge.db").display());
    let store = wangge::store::connect(&url)
        .await
        .expect("SQLite store opens");
    let state = AppState::open(store).await.expect("state opens");
    state
        .import_grids(four_towns(), WriteMode::Replace)
        .await
        .expect("the fixture is a valid county");
    let app = router(state.clone());
    (dir, state, app)
}

fn feature_ids(collection: &Value) -> Vec<String> {
    assert_eq!(collection["type"], "FeatureCollection");
    collection["features"]
        .as_array()
        .expect("features is an array")
        .iter()
        .map(|f| {
            f["properties"]["id"]
                .as_str()
                .expect("every feature has an id")
                .to_owned()
        })
        .collect()
}

// ---------------------------------------------------------------- /healthz

/// Health reports the store's grid count and backend.
#[tokio::test]
async fn healthz_reports_the_store() {
    let (_dir, _state, app) = app().await;
    let a = get(&app, "/healthz").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.json(),
        json!({"status": "ok", "grids": 11, "backend": "sqlite", "grid_version": 1, "change": 1,
            "changes_skipped": 0})
    );
}

// ---------------------------------------------------------------- /api/grids

/// Without filters: every grid, as GeoJSON, ordered by level then id.
#[tokio::test]
async fn lists_every_grid_as_geojson() {
    let (_dir, _state, app) = app().await;
    let a = get(&app, "/api/grids").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type(), "application/geo+json");
    let fc = a.json();
    assert_eq!(feature_ids(&fc), ORDERED_IDS);
    let first = &fc["features"][0];
    assert_eq!(first["type"], "Feature");
    assert_eq!(first["geometry"]["type"], "Polygon");
    assert_eq!(first["properties"]["level"], 1);
    assert_eq!(first["properties"]["code"], "C-t-ne");
}

/// `level` and `parent` filter, alone and together.
#[tokio::test]
async fn filters_by_level_and_parent() {
    let (_dir, _state, app) = app().await;
    assert_eq!(
        feature_ids(&get(&app, "/api/grids?level=2").await.json()),
        ["v-sw-e", "v-sw-w"]
    );
    assert_eq!(
        feature_ids(&get(&app, "/api/grids?parent=b-sw-w-s").await.json()),
        ["s-1", "s-2"]
    );
    assert_eq!(
        feature_ids(&get(&app, "/api/grids?parent=t-sw&level=2").await.json()),
        ["v-sw-e", "v-sw-w"]
    );
    assert!(feature_ids(&get(&app, "/api/grids?parent=t-sw&level=3").await.json()).is_empty());
    assert!(feature_ids(&get(&app, "/api/grids?parent=t-se").await.json()).is_empty());
    assert!(feature_ids(&get(&app, "/api/grids?parent=no-such-grid").await.json()).is_empty());
}

/// `bbox` keeps the grids whose boundary meets the box; touching counts.
#[tokio::test]
async fn filters_by_bbox() {
    let (_dir, _state, app) = app().await;
    // A small box inside s-1: its whole chain.
    let ids = feature_ids(
        &get(&app, "/api/grids?bbox=106.005,34.605,106.01,34.61")
            .await
            .json(),
    );
    assert_eq!(ids, ["t-sw", "v-sw-w", "g-sw-w-s", "b-sw-w-s", "s-1"]);
    // A box east of the county touching t-se's east edge.
    let ids = feature_ids(
        &get(&app, "/api/grids?bbox=106.2,34.61,106.3,34.62")
            .await
            .json(),
    );
    assert_eq!(ids, ["t-se"]);
    // The point where the four towns meet, as a degenerate box, with a level.
    let ids = feature_ids(
        &get(&app, "/api/grids?bbox=106.1,34.7,106.1,34.7&level=1")
            .await
            .json(),
    );
    assert_eq!(ids, ["t-ne", "t-nw", "t-se", "t-sw"]);
    // Nowhere near.
    assert!(feature_ids(&get(&app, "/api/grids?bbox=100,30,100.5,30.5").await.json()).is_empty());
}

/// Malformed filters are 400 problems naming the parameter.
#[tokio::test]
async fn rejects_malformed_filters() {
    let (_dir, _state, app) = app().await;
    for (uri, parameter) in [
        ("/api/grids?level=7", "level"),
        ("/api/grids?level=two", "level"),
        ("/api/grids?bbox=1,2,3", "bbox"),
        ("/api/grids?bbox=106,34,x,35", "bbox"),
        ("/api/grids?bbox=106.2,34,106.1,35", "bbox"),
        ("/api/grids?bbox=106,34,200,35", "bbox"),
    ] {
        let doc = get(&app, uri).await.problem(StatusCode::BAD_REQUEST);
        assert_eq!(doc["parameter"], parameter, "{uri}: {doc}");
    }
}

// ---------------------------------------------------------------- /api/grids/{id}

/// One grid: its feature, its ancestors level 1 first, its children.
#[tokio::test]
async fn shows_one_grid_with_its_family() {
    let (_dir, _state, app) = app().await;
    let a = get(&app, "/api/grids/b-sw-w-s").await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json();
    assert_eq!(doc["grid"]["type"], "Feature");
    assert_eq!(doc["grid"]["properties"]["id"], "b-sw-w-s");
    assert_eq!(doc["grid"]["properties"]["parent_id"], "g-sw-w-s");
    let ids = |key: &str| -> Vec<String> {
        doc[key]
            .as_array()
            .expect("array")
            .iter()
            .map(|s| s["id"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(ids("ancestors"), ["t-sw", "v-sw-w", "g-sw-w-s"]);
    assert_eq!(ids("children"), ["s-1", "s-2"]);
    assert_eq!(
        doc["ancestors"][0],
        json!({"id": "t-sw", "level": 1, "name": "西南镇", "code": "C-t-sw",
               "leader": {"name": "Leader t-sw", "phone": "13800000000"}})
    );
    // A town has no ancestors; a sub-area has no children.
    let town = get(&app, "/api/grids/t-se").await.json();
    assert_eq!(town["ancestors"], json!([]));
    assert_eq!(town["children"], json!([]));
}

/// An unknown id is a 404 problem naming it.
#[tokio::test]
async fn unknown_grid_is_404() {
    let (_dir, _state, app) = app().await;
    let doc = get(&app, "/api/grids/no-such-grid")
        .await
        .problem(StatusCode::NOT_FOUND);
    assert!(
        doc["detail"]
            .as_str()
            .expect("detail")
            .contains("no-such-grid"),
        "{doc}"
    );
}

// ---------------------------------------------------------------- GET /api/locate

/// A point deep in the county gets a chain of five grids, each the parent of the next.
#[tokio::test]
async fn locates_a_point_through_five_levels() {
    let (_dir, _state, app) = app().await;
    let a = get(&app, &format!("/api/locate?lon={}&lat={}", DEEP.0, DEEP.1)).await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json();
    assert_eq!(doc["point"], json!({"lon": DEEP.0, "lat": DEEP.1}));
    let chain = doc["chain"].as_array().expect("chain");
    let ids: Vec<&str> = chain
        .iter()
        .map(|g| g["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["t-sw", "v-sw-w", "g-sw-w-s", "b-sw-w-s", "s-1"]);
    for (i, g) in chain.iter().enumerate() {
        assert_eq!(g["level"], i + 1);
    }
    assert_eq!(chain[4]["name"], "一片区");
    assert_eq!(chain[4]["code"], "C-s-1");
    assert_eq!(
        chain[4]["leader"],
        json!({"name": "Leader s-1", "phone": "13800000000"})
    );
    for (key, id) in ["l1", "l2", "l3", "l4", "l5"].iter().zip(ids) {
        assert_eq!(doc[key], id);
    }
    assert!(
        doc.get("boundary_distance_m").is_none(),
        "only when asked: {doc}"
    );
}

/// A point in a town without children: one grid, the other levels null.
#[tokio::test]
async fn locates_a_point_in_a_town_without_children() {
    let (_dir, _state, app) = app().await;
    let doc = get(
        &app,
        &format!("/api/locate?lon={}&lat={}", SHALLOW.0, SHALLOW.1),
    )
    .await
    .json();
    assert_eq!(doc["chain"].as_array().expect("chain").len(), 1);
    assert_eq!(doc["l1"], "t-se");
    for key in ["l2", "l3", "l4", "l5"] {
        assert_eq!(doc[key], Value::Null);
    }
}

/// Outside the county: an empty chain and every level null (not an error).
#[tokio::test]
async fn a_point_outside_has_an_empty_chain() {
    let (_dir, _state, app) = app().await;
    let a = get(
        &app,
        &format!(
            "/api/locate?lon={}&lat={}&boundary_distance=true",
            OUTSIDE.0, OUTSIDE.1
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json();
    assert_eq!(doc["chain"], json!([]));
    for key in ["l1", "l2", "l3", "l4", "l5", "boundary_distance_m"] {
        assert_eq!(doc[key], Value::Null, "{key}");
    }
}

/// `boundary_distance=true` adds metres to the deepest grid's nearest edge:
/// s-1's west edge, 0.01° of longitude away (≈ 914 m at 34.7° N).
#[tokio::test]
async fn reports_the_distance_to_the_boundary_when_asked() {
    let (_dir, _state, app) = app().await;
    let doc = get(
        &app,
        &format!(
            "/api/locate?lon={}&lat={}&boundary_distance=true",
            DEEP.0, DEEP.1
        ),
    )
    .await
    .json();
    let d = doc["boundary_distance_m"].as_f64().expect("a number");
    assert!((880.0..950.0).contains(&d), "{d}");
}

/// Missing, non-numeric and out-of-range coordinates are 400 problems naming the parameter.
#[tokio::test]
async fn rejects_bad_coordinates_naming_the_parameter() {
    let (_dir, _state, app) = app().await;
    for (query, parameter) in [
        ("lat=34.6", "lon"),
        ("lon=106.0", "lat"),
        ("", "lon"),
        ("lon=abc&lat=34.6", "lon"),
        ("lon=106&lat=", "lat"),
        ("lon=181&lat=34.6", "lon"),
        ("lon=106&lat=-90.5", "lat"),
        ("lon=NaN&lat=34.6", "lon"),
        ("lon=106&lat=inf", "lat"),
        (
            "lon=106&lat=34.6&boundary_distance=maybe",
            "boundary_distance",
        ),
    ] {
        let doc = get(&app, &format!("/api/locate?{query}"))
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(doc["parameter"], parameter, "{query}: {doc}");
        assert!(
            doc["detail"].as_str().expect("detail").contains(parameter),
            "{doc}"
        );
    }
}

// ---------------------------------------------------------------- POST /api/locate

/// A batch answers each point with its ids, in request order.
#[tokio::test]
async fn batch_locate_keeps_the_order() {
    let (_dir, _state, app) = app().await;
    let body = json!({"points": [[DEEP.0, DEEP.1], [OUTSIDE.0, OUTSIDE.1], [SHALLOW.0, SHALLOW.1], [106.03, 34.62]]});
    let a = post(
        &app,
        "/api/locate",
        Some("application/json"),
        body.to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type(), "application/json");
    let deep =
        json!({"l1": "t-sw", "l2": "v-sw-w", "l3": "g-sw-w-s", "l4": "b-sw-w-s", "l5": "s-1"});
    let none = json!({"l1": null, "l2": null, "l3": null, "l4": null, "l5": null});
    let shallow = json!({"l1": "t-se", "l2": null, "l3": null, "l4": null, "l5": null});
    let s2 = json!({"l1": "t-sw", "l2": "v-sw-w", "l3": "g-sw-w-s", "l4": "b-sw-w-s", "l5": "s-2"});
    assert_eq!(a.json(), json!({"results": [deep, none, shallow, s2]}));
}

/// A batch big enough to run on the blocking pool still answers in order.
#[tokio::test]
async fn large_batch_keeps_the_order() {
    let (_dir, _state, app) = app().await;
    let points: Vec<[f64; 2]> = (0..10_000)
        .map(|i| match i % 3 {
            0 => [DEEP.0, DEEP.1],
            1 => [OUTSIDE.0, OUTSIDE.1],
            _ => [SHALLOW.0, SHALLOW.1],
        })
        .collect();
    let a = post(
        &app,
        "/api/locate",
        Some("application/json"),
        json!({ "points": points }).to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json();
    let results = doc["results"].as_array().expect("results");
    assert_eq!(results.len(), 10_000);
    for (i, r) in results.iter().enumerate() {
        let expected = [json!("s-1"), Value::Null, Value::Null][i % 3].clone();
        assert_eq!(r["l5"], expected, "point {i}");
    }
    assert_eq!(results[2]["l1"], "t-se");
}

/// A bad point is a 400 problem naming its index.
#[tokio::test]
async fn batch_rejects_a_bad_point_by_index() {
    let (_dir, _state, app) = app().await;
    for (points, parameter) in [
        (json!([[106.0, 34.6], [106.0, "x"]]), "points[1]"),
        (json!([[200.0, 34.6]]), "points[0]"),
        (
            json!([[106.0, 34.6], [106.0, 34.6], [106.0, 91.0]]),
            "points[2]",
        ),
        (json!([[106.0, 34.6], [106.0]]), "points[1]"),
        (
            json!([[106.0, 34.6], {"lon": 106.0, "lat": 34.6}]),
            "points[1]",
        ),
    ] {
        let a = post(
            &app,
            "/api/locate",
            Some("application/json"),
            json!({ "points": points }).to_string(),
        )
        .await;
        let doc = a.problem(StatusCode::BAD_REQUEST);
        assert_eq!(doc["parameter"], parameter, "{doc}");
    }
}

/// More points than the cap is a 413 problem saying the cap.
#[tokio::test]
async fn batch_over_the_cap_is_413() {
    let (_dir, _state, app) = app().await;
    let n = wangge::api::MAX_BATCH_POINTS + 1;
    let mut body = String::from("{\"points\":[");
    body.push_str(&vec!["[106.0,34.6]"; n].join(","));
    body.push_str("]}");
    let doc = post(&app, "/api/locate", Some("application/json"), body)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        doc["detail"].as_str().expect("detail").contains("100000"),
        "{doc}"
    );
}

/// axum's own rejections come out as problem documents.
#[tokio::test]
async fn body_rejections_are_problems() {
    let (_dir, _state, app) = app().await;
    let body = r#"{"points": [[106.0, 34.6]]}"#;
    post(&app, "/api/locate", None, body)
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    post(&app, "/api/locate", Some("text/plain"), body)
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    post(
        &app,
        "/api/locate",
        Some("application/json"),
        "{\"points\": [",
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    post(
        &app,
        "/api/locate",
        Some("application/json"),
        "{\"pts\": []}",
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

/// The writes that read a raw body (a grid import, hazards, roads) refuse
/// one of a type they do not declare, `text/plain` above all (a page on
/// another site can send that without the browser asking first), with 415
/// and nothing changed.
#[tokio::test]
async fn raw_body_writes_refuse_undeclared_types() {
    let (_dir, _state, app) = app().await;
    let grids = serde_json::to_string(&grids_to_feature_collection(&four_towns()[..1]))
        .expect("serialises");
    let hazard = json!({"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [106.01, 34.61]},
        "properties": {"name": "土坡", "category": "landslide", "risk": "major"}})
    .to_string();
    let roads = json!({"type": "FeatureCollection", "features": []}).to_string();
    let before = (
        get(&app, "/healthz").await.expect(StatusCode::OK)["grid_version"].clone(),
        get(&app, "/api/hazards").await.expect(StatusCode::OK),
        get(&app, "/api/roads").await.expect(StatusCode::OK),
    );
    for content_type in [
        Some("text/plain"),
        None,
        Some("application/x-www-form-urlencoded"),
    ] {
        for (method, uri, body) in [
            (Method::POST, "/api/grids/import?mode=replace", &grids),
            (Method::POST, "/api/hazards", &hazard),
            (Method::PUT, "/api/roads", &roads),
        ] {
            let mut request = Request::builder().method(method.clone()).uri(uri);
            if let Some(t) = content_type {
                request = request.header(header::CONTENT_TYPE, t);
            }
            let doc = send(
                &app,
                request.body(Body::from(body.clone())).expect("a request"),
            )
            .await
            .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
            assert!(
                doc["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("application/geo+json")),
                "{method} {uri} as {content_type:?}: {doc}"
            );
        }
    }
    let after = (
        get(&app, "/healthz").await.expect(StatusCode::OK)["grid_version"].clone(),
        get(&app, "/api/hazards").await.expect(StatusCode::OK),
        get(&app, "/api/roads").await.expect(StatusCode::OK),
    );
    assert_eq!(after, before, "a refused write changed something");
}

/// Every answer (the API, the web map, an error) tells browsers not to
/// sniff its type, to send no full address to other sites, and not to show
/// it in another site's frame.
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let (_dir, _state, app) = app().await;
    for uri in ["/healthz", "/", "/api/grids/no-such-grid", "/no/such/page"] {
        let answer = get(&app, uri).await;
        assert_eq!(
            (
                answer.header(header::X_CONTENT_TYPE_OPTIONS),
                answer.header(header::REFERRER_POLICY),
                answer.header(header::X_FRAME_OPTIONS),
            ),
            ("nosniff", "same-origin", "DENY"),
            "{uri} ({})",
            answer.status
        );
        // The policy allows no inline script, eval or foreign script.
        let csp = answer.header(header::CONTENT_SECURITY_POLICY);
        let script = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap_or_else(|| panic!("{uri}: no script-src in {csp:?}"));
        assert_eq!(script, "script-src 'self'", "{uri}");
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
    }
}

/// A body over the 16 MiB limit is a 413 problem.
#[tokio::test]
async fn oversized_body_is_413() {
    let (_dir, _state, app) = app().await;
    let body = vec![b' '; wangge::api::BODY_LIMIT + 1];
    post(&app, "/api/locate", Some("application/json"), body)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
}

// ---------------------------------------------------------------- import / export

/// Import (upsert) adds a town; the summary counts it; the list shows it.
#[tokio::test]
async fn imports_grids() {
    let (_dir, _state, app) = app().await;
    let far = grid("t-far", 1, None, "远镇", (106.3, 34.6), (106.4, 34.7));
    let body = serde_json::to_string(&grids_to_feature_collection([&far])).expect("serializes");
    let a = post(
        &app,
        &with_grid_version(&app, "/api/grids/import?mode=upsert").await,
        Some("application/geo+json"),
        body,
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let mut answer = a.json();
    // 0.1° × 0.1° at 34.65°N: about 101.7 km² added.
    let area = answer["impact"]["grids"][0]["area_m2_after"].take();
    // In force at once: when is the time it was made.
    let effective = answer["effective_at"].take();
    let effective: jiff::Timestamp = effective
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("effective_at is a time: {effective}"));
    assert!(jiff::Timestamp::now().duration_since(effective).as_secs() < 60);
    assert!(
        (area.as_f64().expect("an area") / 1.017e8 - 1.0).abs() < 0.01,
        "{area}"
    );
    assert_eq!(
        answer,
        json!({"dry_run": false, "imported": 1, "grids": 12,
            "counts_by_level": [5, 2, 2, 1, 2], "planned_on_version": 1, "version": 2,
            "change": 2, "effective_at": null, "scheduled": false, "changed_grids": ["t-far"],
            "impact": {"incidents": [], "hazards": [], "routes": [],
                "grids": [{"id": "t-far", "area_m2_before": null, "area_m2_after": null,
                    "population_before": null, "population_after": null}],
                "leaders": []}})
    );
    let ids = feature_ids(&get(&app, "/api/grids?level=1").await.json());
    assert_eq!(ids, ["t-far", "t-ne", "t-nw", "t-se", "t-sw"]);
    let a = get(&app, "/api/locate?lon=106.35&lat=34.65").await;
    assert_eq!(
        a.json()["l1"],
        "t-far",
        "the index is swapped after the import"
    );
}

/// Replace (the default) makes the import the whole set.
#[tokio::test]
async fn import_replaces_by_default() {
    let (_dir, _state, app) = app().await;
    let towns: Vec<Grid> = four_towns()
        .into_iter()
        .filter(|g| g.level == Level::TOWN)
        .collect();
    let body = serde_json::to_string(&grids_to_feature_collection(&towns)).expect("serializes");
    let a = post(
        &app,
        &with_grid_version(&app, "/api/grids/import").await,
        Some("application/geo+json"),
        body,
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.json()["grids"], 4);
    assert_eq!(
        feature_ids(&get(&app, "/api/grids").await.json()),
        ["t-ne", "t-nw", "t-se", "t-sw"]
    );
    assert_eq!(get(&app, "/healthz").await.json()["grids"], 4);
}

/// A refused import is a 422 problem listing every issue by feature, and
/// changes nothing.
#[tokio::test]
async fn refused_import_lists_issues_and_changes_nothing() {
    let (_dir, _state, app) = app().await;
    let orphan = grid(
        "orphan",
        2,
        Some("no-such-town"),
        "孤村",
        (106.3, 34.6),
        (106.35, 34.7),
    );
    let twin = grid("t-sw", 1, None, "重复镇", (106.3, 34.7), (106.4, 34.8));
    let body = serde_json::to_string(&grids_to_feature_collection([&orphan, &twin, &twin]))
        .expect("serializes");
    let a = post(
        &app,
        &with_grid_version(&app, "/api/grids/import?mode=upsert").await,
        Some("application/geo+json"),
        body,
    )
    .await;
    let doc = a.problem(StatusCode::UNPROCESSABLE_ENTITY);
    let issues = doc["issues"].as_array().expect("issues");
    assert!(!issues.is_empty(), "{doc}");
    for issue in issues {
        assert!(
            issue["feature"].is_string()
                && issue["problem"].is_object()
                && issue["message"].is_string(),
            "{issue}"
        );
        assert!(issue.get("field").is_some(), "{issue}");
    }
    let named: Vec<&str> = issues
        .iter()
        .map(|i| i["feature"].as_str().expect("feature"))
        .collect();
    assert!(named.contains(&"orphan"), "{named:?}");
    assert!(named.contains(&"t-sw"), "{named:?}");
    // Unchanged: the index and the store.
    assert_eq!(
        feature_ids(&get(&app, "/api/grids").await.json()),
        ORDERED_IDS
    );
    assert_eq!(get(&app, "/healthz").await.json()["grids"], 11);
}

/// A body that is not GeoJSON is refused as an import issue, not a crash.
#[tokio::test]
async fn import_of_non_geojson_is_422() {
    let (_dir, _state, app) = app().await;
    let a = post(
        &app,
        &with_grid_version(&app, "/api/grids/import").await,
        Some("application/geo+json"),
        "{\"type\": \"Point\"",
    )
    .await;
    a.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        feature_ids(&get(&app, "/api/grids").await.json()),
        ORDERED_IDS
    );
}

/// An unknown mode is a 400 naming `mode`.
#[tokio::test]
async fn import_rejects_an_unknown_mode() {
    let (_dir, _state, app) = app().await;
    let a = post(
        &app,
        "/api/grids/import?mode=merge",
        Some("application/geo+json"),
        "{}",
    )
    .await;
    assert_eq!(a.problem(StatusCode::BAD_REQUEST)["parameter"], "mode");
}

/// The import accepts bodies over the general 16 MiB limit.
#[tokio::test]
async fn import_has_its_own_body_limit() {
    let (_dir, _state, app) = app().await;
    let mut body = vec![b' '; wangge::api::BODY_LIMIT + 1];
    body.extend_from_slice(b"{}");
    let a = post(
        &app,
        &with_grid_version(&app, "/api/grids/import").await,
        Some("application/geo+json"),
        body,
    )
    .await;
    assert_ne!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// Export: every grid, as an attachment named grids.geojson.
#[tokio::test]
async fn exports_every_grid_as_an_attachment() {
    let (_dir, _state, app) = app().await;
    let a = get(&app, "/api/grids/export").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type(), "application/geo+json");
    assert_eq!(
        a.headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok()),
        Some("attachment; filename=\"grids.geojson\"")
    );
    assert_eq!(feature_ids(&a.json()), ORDERED_IDS);
}

// ---------------------------------------------------------------- errors and OpenAPI

/// Unknown paths and wrong methods are problem documents too.
#[tokio::test]
async fn unknown_paths_and_methods_are_problems() {
    let (_dir, _state, app) = app().await;
    get(&app, "/api/nothing-here")
        .await
        .problem(StatusCode::NOT_FOUND);
    let a = send(
        &app,
        Request::builder()
            .method(Method::DELETE)
            .uri("/api/locate")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    a.problem(StatusCode::METHOD_NOT_ALLOWED);
}

/// An optional query parameter left blank is absent (a form's empty field,
/// a generated client's unset one); a required one left blank is missing.
#[tokio::test]
async fn blank_query_parameters_are_absent() {
    let (_dir, _state, app) = app().await;
    let all = get(&app, "/api/grids").await.expect(StatusCode::OK);
    let blank = get(&app, "/api/grids?level=&parent=&bbox=&as_of=")
        .await
        .expect(StatusCode::OK);
    assert_eq!(blank, all);
    let hazards = get(&app, "/api/hazards?grid=&category=&bbox=&due=").await;
    assert_eq!(hazards.status, StatusCode::OK);
    let incidents = get(
        &app,
        "/api/incidents?status=&category=&grid=&tier=&from=&bbox=",
    )
    .await;
    assert_eq!(incidents.status, StatusCode::OK);
    let missing = get(&app, "/api/locate?lon=&lat=34.65")
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(
        missing["detail"]
            .as_str()
            .is_some_and(|d| d.contains("lon")),
        "{missing}"
    );
}

/// An incident list offset beyond what the stores count in is refused by
/// name, as the document's maximum says.
#[tokio::test]
async fn an_offset_beyond_64_bits_is_refused() {
    let (_dir, _state, app) = app().await;
    let refused = get(&app, "/api/incidents?offset=9223372036854775808")
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(refused["parameter"], "offset", "{refused}");
    get(&app, "/api/incidents?offset=9223372036854775807")
        .await
        .expect(StatusCode::OK);
}

/// The OpenAPI document parses and describes every path, method and the problem schema.
#[tokio::test]
async fn openapi_lists_every_path() {
    let (_dir, _state, app) = app().await;
    let a = get(&app, "/api/openapi.json").await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json();
    assert!(
        doc["openapi"].as_str().expect("version").starts_with("3."),
        "{}",
        doc["openapi"]
    );
    for (path, method) in [
        ("/api/grids", "get"),
        ("/api/grids/{id}", "get"),
        ("/api/grids/export", "get"),
        ("/api/grids/import", "post"),
        ("/api/locate", "get"),
        ("/api/locate", "post"),
        ("/healthz", "get"),
        ("/api/openapi.json", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is missing"
        );
    }
    let schemas = &doc["components"]["schemas"];
    for name in [
        "Problem",
        "ImportIssue",
        "ImportSummary",
        "GeoJsonFeatureCollection",
        "GridSummary",
    ] {
        assert!(schemas[name].is_object(), "schema {name} is missing");
    }
    let bad = &doc["paths"]["/api/locate"]["get"]["responses"]["400"]["content"]["application/problem+json"];
    assert!(bad.is_object(), "400 is described as problem+json");
}
