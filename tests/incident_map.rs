//! What an open dispatcher map is fed, on both backends over the four-town
//! county: the `incidents` vector tiles (open incidents, clustered below
//! zoom 14, in step with every report and change, and rebuilt from the
//! store on restart) and the server-sent event stream of reports and
//! changes.

#[macro_use]
mod support;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use support::admin_app as router;
use tower::ServiceExt;
use wangge::geom::LonLat;
use wangge::state::AppState;
use wangge::store::Backend;
use wangge::tiles::TileId;

use support::TestStore;
use support::four_towns::four_towns_app;
use support::http::{get, post_change, post_json, send};
use support::mvt::{DecodedFeature, decode};
use support::sse::EventReader;

conformance!(
    open_incidents_are_tiled_and_clustered_below_zoom_14,
    the_event_stream_tells_of_reports_and_changes,
);

/// Inside sub-area s-1 of town t-sw.
const IN_S1: (f64, f64) = (106.01, 34.61);

async fn app(t: &TestStore) -> (Arc<AppState>, Router) {
    four_towns_app(t).await
}

async fn report(app: &Router, category: &str, (lon, lat): (f64, f64)) -> i64 {
    let body = json!({
    "category": category,
    "description": "路灯不亮",
    "lon": lon,
    "lat": lat,
    "source": "grid_member",
    });
    post_json(app, "/api/incidents", &body)
        .await
        .expect(StatusCode::CREATED)["incident"]["id"]
        .as_i64()
        .expect("an id")
}

/// The features of the incidents tile at zoom `z` holding `p` (none for 204).
async fn tile_features(app: &Router, p: (f64, f64), z: u8) -> Vec<DecodedFeature> {
    let tile = TileId::containing(LonLat::new(p.0, p.1), z);
    let answer = get(
        app,
        &format!("/tiles/incidents/{}/{}/{}.mvt", tile.z, tile.x, tile.y),
    )
    .await;
    if answer.status == StatusCode::NO_CONTENT {
        return Vec::new();
    }
    assert_eq!(answer.status, StatusCode::OK);
    let layers = decode(&answer.body);
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0].name, "incidents");
    layers[0].features.clone()
}

fn attr<'a>(f: &'a DecodedFeature, key: &str) -> &'a str {
    f.attributes.get(key).map_or("", String::as_str)
}

async fn open_incidents_are_tiled_and_clustered_below_zoom_14(t: &TestStore) {
    let (_state, app) = app(t).await;
    assert!(
        tile_features(&app, IN_S1, 14).await.is_empty(),
        "no incident yet"
    );

    // Three within a metre of each other, one in another town.
    let near = [
        IN_S1,
        (IN_S1.0 + 0.000_005, IN_S1.1),
        (IN_S1.0, IN_S1.1 + 0.000_005),
    ];
    let mut ids = Vec::new();
    for (i, p) in near.into_iter().enumerate() {
        let category = if i == 0 { "dispute" } else { "sanitation" };
        ids.push(report(&app, category, p).await);
    }
    let far = (106.09, 34.69);
    let far_id = report(&app, "other", far).await;

    // Zoom 14: every incident itself, with its attributes.
    let points = tile_features(&app, IN_S1, 14).await;
    let mut seen: Vec<i64> = points
        .iter()
        .map(|f| attr(f, "id").parse().expect("numeric id"))
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, ids);
    let dispute = points
        .iter()
        .find(|f| f.id == Some(ids[0] as u64))
        .expect("the dispute, with its MVT id");
    assert_eq!(attr(dispute, "category"), "dispute");
    assert_eq!(attr(dispute, "status"), "found");
    assert_eq!(attr(dispute, "severity"), "minor");
    assert_eq!(attr(dispute, "tier"), "5");
    assert_eq!(attr(dispute, "overdue"), "false");
    assert!(points.iter().all(|f| !f.attributes.contains_key("count")));

    // Zoom 10: the three are one cluster; the far one stands alone.
    let clustered = tile_features(&app, IN_S1, 10).await;
    let cluster = clustered
        .iter()
        .find(|f| attr(f, "count") == "3")
        .unwrap_or_else(|| panic!("a cluster of 3 in {clustered:?}"));
    assert_eq!(attr(cluster, "overdue"), "0");
    assert_eq!(cluster.id, None);
    let total: u64 = clustered
        .iter()
        .map(|f| attr(f, "count").parse().unwrap_or(1))
        .sum();
    let far_tile = TileId::containing(LonLat::new(far.0, far.1), 10);
    let near_tile = TileId::containing(LonLat::new(IN_S1.0, IN_S1.1), 10);
    assert_eq!(total, if far_tile == near_tile { 4 } else { 3 });
    assert!(
        tile_features(&app, far, 10)
            .await
            .iter()
            .any(|f| attr(f, "id") == far_id.to_string()),
        "a lone incident shows as itself at low zoom"
    );

    // Unchanged tiles revalidate; a dismissed incident leaves the map.
    let tile = TileId::containing(LonLat::new(IN_S1.0, IN_S1.1), 14);
    let uri = format!("/tiles/incidents/14/{}/{}.mvt", tile.x, tile.y);
    let first = get(&app, &uri).await;
    let etag = first.headers[header::ETAG].clone();
    let again = send(
        &app,
        Request::get(&uri)
            .header(header::IF_NONE_MATCH, etag.clone())
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    post_change(
        &app,
        &format!("/api/incidents/{}/actions", ids[1]),
        &json!({"action": "dismiss", "note": "重复上报"}),
    )
    .await
    .expect(StatusCode::OK);
    let after = get(&app, &uri).await;
    assert_ne!(after.headers[header::ETAG], etag, "the tile changed");
    let mut left: Vec<i64> = tile_features(&app, IN_S1, 14)
        .await
        .iter()
        .map(|f| attr(f, "id").parse().expect("numeric id"))
        .collect();
    left.sort_unstable();
    assert_eq!(left, vec![ids[0], ids[2]]);

    // A restarted server shows the same, read back from the store.
    let restarted = router(AppState::open(t.store.clone()).await.expect("state opens"));
    let mut reread: Vec<i64> = tile_features(&restarted, IN_S1, 14)
        .await
        .iter()
        .map(|f| attr(f, "id").parse().expect("numeric id"))
        .collect();
    reread.sort_unstable();
    assert_eq!(reread, left);

    // TileJSON describes the layer.
    let doc = get(&app, "/tiles/incidents.json")
        .await
        .expect(StatusCode::OK);
    assert_eq!(doc["vector_layers"][0]["id"], "incidents");
    assert!(doc["vector_layers"][0]["fields"]["count"].is_string());
    assert!(
        doc["tiles"][0]
            .as_str()
            .is_some_and(|u| u.ends_with("/tiles/incidents/{z}/{x}/{y}.mvt"))
    );
}

async fn the_event_stream_tells_of_reports_and_changes(t: &TestStore) {
    let (_state, app) = app(t).await;
    let response = app
        .clone()
        .oneshot(
            Request::get("/api/incidents/events")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut events = EventReader::new(response.into_body());
    assert_eq!(events.next().await.kind, "ready");

    let id = report(&app, "sanitation", IN_S1).await;
    let reported = events.next().await;
    assert_eq!(reported.kind, "reported");
    // The event id is the report's place in the change feed.
    let feed = get(&app, "/api/changes?since=0&limit=1000").await.json();
    let report_seq = feed["latest"].as_i64().expect("latest");
    assert_eq!(
        feed["changes"]
            .as_array()
            .and_then(|c| c.last())
            .map(|c| c["ids"].clone()),
        Some(json!([id.to_string()]))
    );
    assert_eq!(reported.id, Some(report_seq.to_string()));
    let incident: Value = serde_json::from_str(&reported.data).expect("JSON data");
    assert_eq!(incident["id"], id);
    assert_eq!(incident["status"], "collected");
    assert_eq!(incident["grids"].as_array().map(Vec::len), Some(5));
    assert_eq!(incident["responsible"]["name"], "Leader s-1");

    post_change(
        &app,
        &format!("/api/incidents/{id}/actions"),
        &json!({"action": "verify", "note": "属实"}),
    )
    .await
    .expect(StatusCode::OK);
    let changed = events.next().await;
    assert_eq!(changed.kind, "changed");
    let incident: Value = serde_json::from_str(&changed.data).expect("JSON data");
    assert_eq!(incident["id"], id);
    assert_eq!(incident["status"], "verified");
    assert_eq!(incident["version"], 2);

    // A refused move tells nobody anything.
    post_change(
        &app,
        &format!("/api/incidents/{id}/actions"),
        &json!({"action": "record_feedback", "note": "x"}),
    )
    .await
    .problem(StatusCode::CONFLICT);
    let second = report(&app, "other", IN_S1).await;
    let next = events.next().await;
    assert_eq!(next.kind, "reported");
    let data: Value = serde_json::from_str(&next.data).expect("JSON data");
    assert_eq!(data["id"], second);
    let last_seq: i64 = next
        .id
        .as_deref()
        .and_then(|s| s.parse().ok())
        .expect("an id");
    assert!(last_seq > report_seq);

    // A listener that reconnects with the id of the first report receives
    // what it missed, as it now stands, in feed order: the change to the
    // first incident, then the second report; then it is live again.
    let mut again = EventReader::reconnect(&app, report_seq).await;
    assert_eq!(again.next().await.kind, "ready");
    let missed_change = again.next().await;
    assert_eq!(missed_change.kind, "changed");
    let data: Value = serde_json::from_str(&missed_change.data).expect("JSON data");
    assert_eq!(
        (data["id"].clone(), data["version"].clone()),
        (json!(id), json!(2))
    );
    let missed_report = again.next().await;
    assert_eq!(missed_report.kind, "reported");
    assert_eq!(missed_report.id, Some(last_seq.to_string()));
    let data: Value = serde_json::from_str(&missed_report.data).expect("JSON data");
    assert_eq!(data["id"], second);
    let third = report(&app, "other", IN_S1).await;
    let live = again.next().await;
    let data: Value = serde_json::from_str(&live.data).expect("JSON data");
    assert_eq!(
        (live.kind.as_str(), data["id"].clone()),
        ("reported", json!(third))
    );
}
