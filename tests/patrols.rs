//! Hazards, roads, route planning, saved routes and patrols through the
//! HTTP API, on both backends, over the four-town county with a lattice of
//! roads every 0.01° (a junction at every crossing):
//!
//! ```text
//!  34.625 -+----+----+-     roads at lon 106.005 + 0.01·i, lat 34.605 + 0.01·j
//!          |    |    |      H1 (106.012, 34.615) s-1, major      on a road
//!  34.615 -+--H1+----+-     H2 (106.035, 34.622) s-2, significant on a road
//!          |    |    H2     H3 (106.045, 34.635) s-2, general, inspected yesterday
//!  34.605 -S----+----+-     H4 (106.155, 34.615) t-se, major
//!       106.005  .015  .025  S = start (106.005, 34.605), a junction
//! ```

#[macro_use]
mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use wangge::store::Backend;

use support::TestStore;
use support::four_towns::{four_towns_app, grid};
use support::http::{get, post_json, put_json, send};

conformance!(
    hazards_are_registered_changed_and_refused_whole,
    plans_follow_the_roads_and_visit_the_due_hazards,
    routes_record_every_grid_they_pass_and_warn_when_leaving,
    patrols_mark_visits_from_tracks_and_checkins_and_count_coverage,
    a_redrawn_boundary_moves_hazards_to_their_new_grids,
    gps_gaps_wrong_clocks_and_unreachable_stops_are_not_taken_at_face_value,
    every_text_of_the_patrol_side_has_a_length,
    photos_are_kept_only_when_they_are_images_with_a_thumbnail,
    each_account_has_a_daily_photo_allowance,
);

const START: [f64; 2] = [106.005, 34.605];
const H1: [f64; 2] = [106.012, 34.615];
const H2: [f64; 2] = [106.035, 34.622];
const H3: [f64; 2] = [106.045, 34.635];
const H4: [f64; 2] = [106.155, 34.615];

fn hazard(name: &str, at: [f64; 2], risk: &str, extra: Value) -> Value {
    let mut properties = json!({"name": name, "category": "landslide", "risk": risk});
    if let Value::Object(more) = extra {
        properties.as_object_mut().expect("object").extend(more);
    }
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": at}, "properties": properties})
}

fn yesterday() -> String {
    (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24)).to_string()
}

fn four_hazards() -> Value {
    json!({"type": "FeatureCollection", "features": [
        hazard("后沟滑坡点", H1, "major", json!({})),
        hazard("河堤", H2, "significant", json!({})),
        hazard("老房", H3, "general", json!({"last_inspected_at": yesterday()})),
        hazard("东南镇滑坡", H4, "major", json!({})),
    ]})
}

/// Roads every 0.01° over the county, meeting at every crossing.
fn lattice() -> Value {
    let mut features = Vec::new();
    for i in 0..20 {
        let lat = 34.605 + 0.01 * f64::from(i);
        let coords: Vec<[f64; 2]> = (0..20)
            .map(|k| [106.005 + 0.01 * f64::from(k), lat])
            .collect();
        features.push(
            json!({"type": "Feature", "properties": {"class": "village"},
            "geometry": {"type": "LineString", "coordinates": coords}}),
        );
        let lon = 106.005 + 0.01 * f64::from(i);
        let coords: Vec<[f64; 2]> = (0..20)
            .map(|k| [lon, 34.605 + 0.01 * f64::from(k)])
            .collect();
        features.push(
            json!({"type": "Feature", "properties": {"highway": "residential"},
            "geometry": {"type": "LineString", "coordinates": coords}}),
        );
    }
    json!({"type": "FeatureCollection", "features": features})
}

async fn with_roads_and_hazards(t: &TestStore) -> (Router, Vec<i64>) {
    let (_, app) = four_towns_app(t).await;
    put_json(&app, "/api/roads", &lattice())
        .await
        .expect(StatusCode::OK);
    let created = post_json(&app, "/api/hazards", &four_hazards())
        .await
        .expect(StatusCode::CREATED);
    let ids = created["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_i64().expect("an id"))
        .collect();
    (app, ids)
}

/// Metres between two points on the lattice along its roads (Manhattan), at
/// the county's latitude.
fn manhattan_m(a: [f64; 2], b: [f64; 2]) -> f64 {
    let k = 34.605f64.to_radians().cos();
    ((a[0] - b[0]).abs() * k + (a[1] - b[1]).abs()) * 111_132.954
}

fn route_of(doc: &Value) -> &Value {
    &doc["features"][0]
}

fn stop_hazards(doc: &Value) -> Vec<i64> {
    doc["features"].as_array().expect("features")[1..]
        .iter()
        .map(|f| f["properties"]["hazard"].as_i64().expect("a hazard stop"))
        .collect()
}

/// Bad input names the feature and field and registers nothing; good input
/// is located; changes are guarded by version.
async fn hazards_are_registered_changed_and_refused_whole(t: &TestStore) {
    let (_, app) = four_towns_app(t).await;
    let bad = json!({"type": "FeatureCollection", "features": [
        hazard("好的", H1, "major", json!({})),
        hazard("坏的", H2, "extreme", json!({})),
    ]});
    let problem = post_json(&app, "/api/hazards", &bad)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        problem["parameter"], "features[1].properties.risk",
        "{problem}"
    );
    let outside = json!({"type": "FeatureCollection", "features": [hazard("县外", [107.0, 35.0], "low", json!({}))]});
    let problem = post_json(&app, "/api/hazards", &outside)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["parameter"], "features[0].geometry");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("outside every grid")
    );
    let none = get(&app, "/api/hazards").await.expect(StatusCode::OK);
    assert_eq!(
        none["features"].as_array().expect("features").len(),
        0,
        "nothing registered"
    );

    let created = post_json(&app, "/api/hazards", &four_hazards())
        .await
        .expect(StatusCode::CREATED);
    let h1 = &created["features"][0];
    assert_eq!(
        h1["properties"]["grids"],
        json!(["t-sw", "v-sw-w", "g-sw-w-s", "b-sw-w-s", "s-1"])
    );
    assert_eq!(h1["properties"]["interval_days"], 1);
    assert_eq!(
        h1["properties"]["due"], true,
        "never inspected: due at once"
    );
    let id = |k: usize| created["features"][k]["id"].as_i64().expect("an id");

    // How many hazards each filter finds.
    for (uri, want) in [
        ("/api/hazards?grid=b-sw-w-s", 3),
        ("/api/hazards?grid=t-se", 1),
        ("/api/hazards?grid=t-sw&due=now", 2),
        ("/api/hazards?risk=major", 2),
    ] {
        let found = get(&app, uri).await.expect(StatusCode::OK);
        assert_eq!(
            found["features"].as_array().expect("features").len(),
            want,
            "{uri}"
        );
    }
    let problem = get(&app, "/api/hazards?risk=extreme")
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["parameter"], "risk");

    let uri = format!("/api/hazards/{}", id(0));
    let patch = |body: Value| {
        let app = app.clone();
        let uri = uri.clone();
        async move {
            send(
                &app,
                Request::patch(uri)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .expect("a request"),
            )
            .await
        }
    };
    let changed = patch(json!({"version": 1, "risk": "low", "status": "mitigated"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        changed["properties"]["interval_days"], 90,
        "the interval follows the class"
    );
    assert_eq!(changed["properties"]["version"], 2);
    patch(json!({"version": 1, "name": "旧版本"}))
        .await
        .problem(StatusCode::CONFLICT);
    let moved = patch(json!({"version": 2, "location": H4}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        moved["properties"]["grid"], "t-se",
        "moved hazards are located again"
    );
    let read = get(&app, &uri).await.expect(StatusCode::OK);
    assert_eq!(
        read["properties"]["name"], "后沟滑坡点",
        "the stale change wrote nothing"
    );

    let gone = format!("/api/hazards/{}", id(3));
    let version = get(&app, &gone).await.expect(StatusCode::OK)["properties"]["version"]
        .as_i64()
        .expect("a version");
    let delete = |query: String| {
        let app = app.clone();
        let uri = format!("{gone}{query}");
        async move {
            send(
                &app,
                Request::delete(uri).body(Body::empty()).expect("a request"),
            )
            .await
        }
    };
    // Without the version read, or with an old one, nothing is deleted.
    let missing = delete(String::new()).await.problem(StatusCode::BAD_REQUEST);
    assert_eq!(missing["parameter"], "version", "{missing}");
    delete(format!("?version={}", version + 1))
        .await
        .problem(StatusCode::CONFLICT);
    get(&app, &gone).await.expect(StatusCode::OK);
    let answer = delete(format!("?version={version}")).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    get(&app, &gone).await.problem(StatusCode::NOT_FOUND);
}

/// A day patrol visits exactly the due hazards of the grid, along the
/// roads; a night watch the key points; limits leave the rest out with a
/// reason; without roads the plan says it is straight-line.
async fn plans_follow_the_roads_and_visit_the_due_hazards(t: &TestStore) {
    let (app, ids) = with_roads_and_hazards(t).await;
    let bad_roads = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[106.0, 34.6], [106.0, 34.6]]}}
    ]});
    let problem = put_json(&app, "/api/roads", &bad_roads)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["parameter"], "features[0].geometry");
    let roads = get(&app, "/api/roads").await.expect(StatusCode::OK);
    assert_eq!(
        roads["features"].as_array().expect("features").len(),
        40,
        "the network is unchanged"
    );

    let plan = json!({"grid": "b-sw-w-s", "shift": "day", "start": START, "start_time": "now"});
    let doc = post_json(&app, "/api/patrol-plans", &plan)
        .await
        .expect(StatusCode::OK);
    let mut stops = stop_hazards(&doc);
    stops.sort_unstable();
    assert_eq!(stops, vec![ids[0], ids[1]], "H1 and H2 are due; H3 is not");
    let route = route_of(&doc);
    assert_eq!(route["properties"]["on_roads"], true);
    // Both stops lie on roads, so the shortest round is the lattice distance.
    let expected = manhattan_m(START, H1) + manhattan_m(H1, H2) + manhattan_m(H2, START);
    let length = route["properties"]["length_m"].as_f64().expect("length");
    assert!(
        (length - expected).abs() < expected * 0.005,
        "{length} m vs {expected} m along the roads"
    );
    for p in route["geometry"]["coordinates"]
        .as_array()
        .expect("coordinates")
    {
        let (lon, lat) = (p[0].as_f64().expect("lon"), p[1].as_f64().expect("lat"));
        let on_line =
            |v: f64, first: f64| ((v - first) / 0.01 - ((v - first) / 0.01).round()).abs() < 1e-6;
        assert!(
            on_line(lon, 106.005) || on_line(lat, 34.605),
            "[{lon}, {lat}] is on a road"
        );
    }
    let legs: f64 = route["properties"]["legs_m"]
        .as_array()
        .expect("legs")
        .iter()
        .map(|l| l.as_f64().expect("m"))
        .sum();
    assert!((legs - length).abs() < 1e-6);
    assert_eq!(doc["optimal"], true);

    let night = json!({"grid": "t-sw", "shift": "night", "start": START});
    let doc = post_json(&app, "/api/patrol-plans", &night)
        .await
        .expect(StatusCode::OK);
    let mut stops = stop_hazards(&doc);
    stops.sort_unstable();
    assert_eq!(
        stops,
        vec![ids[0], ids[1]],
        "night watch: the major and significant hazards"
    );

    // The web map asks in Chinese and is answered in Chinese, notices and
    // reasons; the answer says it varies by language, so caches keep both.
    let in_chinese = |body: &Value| {
        let request = Request::post("/api/patrol-plans")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9,en;q=0.5")
            .body(Body::from(body.to_string()))
            .expect("a request");
        let app = app.clone();
        async move { send(&app, request).await }
    };
    let short = json!({"grid": "b-sw-w-s", "shift": "day", "start": START, "max_length_m": manhattan_m(START, H1) * 2.0 + 1.0});
    let doc = post_json(&app, "/api/patrol-plans", &short)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        stop_hazards(&doc),
        vec![ids[0]],
        "the major hazard fits, the other does not"
    );
    assert_eq!(doc["left_out"][0]["hazard"], ids[1]);
    assert!(
        doc["left_out"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("limit")
    );
    let doc = in_chinese(&short).await.expect(StatusCode::OK);
    assert_eq!(doc["left_out"][0]["reason"], "超出本班次的里程或时间限制。");

    let problem = post_json(
        &app,
        "/api/patrol-plans",
        &json!({"grid": "nowhere", "shift": "day", "start": START}),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["parameter"], "grid");

    // The same plan with no road network: straight lines, and it says so.
    put_json(
        &app,
        "/api/roads",
        &json!({"type": "FeatureCollection", "features": []}),
    )
    .await
    .expect(StatusCode::OK);
    let doc = post_json(&app, "/api/patrol-plans", &plan)
        .await
        .expect(StatusCode::OK);
    assert_eq!(route_of(&doc)["properties"]["on_roads"], false);
    assert!(
        doc["notices"][0]
            .as_str()
            .expect("a notice")
            .contains("no road network"),
        "{}",
        doc["notices"]
    );

    let answer = in_chinese(&plan).await;
    let doc = answer.expect(StatusCode::OK);
    assert_eq!(
        doc["notices"][0],
        "尚未导入路网：距离按直线计算，路线在点位之间画成直线。"
    );
    assert!(
        answer.header(header::VARY).contains("accept-language"),
        "{:?}",
        answer.headers
    );
}

/// A saved route is recorded against every grid its way passes, at every
/// level, and the planner warns when it leaves the leader's grid.
async fn routes_record_every_grid_they_pass_and_warn_when_leaving(t: &TestStore) {
    let (app, ids) = with_roads_and_hazards(t).await;
    let body = json!({"name": "跨镇巡查", "grid": "b-sw-w-s", "shift": "day", "start": START,
        "stops": [{"hazard": ids[0]}, {"hazard": ids[3]}], "assignees": ["张三"]});
    let saved = post_json(&app, "/api/routes", &body)
        .await
        .expect(StatusCode::CREATED);
    let route = route_of(&saved);
    let id = route["id"].as_i64().expect("an id");
    // The way runs east along lat 34.605 / 34.615, inside the southern half
    // of t-sw and into t-se: never into g-sw-w-n or the northern towns.
    assert_eq!(
        route["properties"]["grids"],
        json!([
            "t-se", "t-sw", "v-sw-e", "v-sw-w", "g-sw-w-s", "b-sw-w-s", "s-1", "s-2"
        ])
    );
    let notices = saved["notices"].to_string();
    assert!(notices.contains("leaves 南社第一网格"), "{notices}");
    let listed = |grid: &'static str| {
        let app = app.clone();
        async move {
            get(&app, &format!("/api/routes?grid={grid}"))
                .await
                .expect(StatusCode::OK)["features"]
                .as_array()
                .expect("features")
                .iter()
                .map(|f| f["id"].as_i64().expect("id"))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed("t-se").await,
        vec![id],
        "a grid's routes include those crossing it"
    );
    assert_eq!(listed("t-nw").await, Vec::<i64>::new());

    // Edit: drop the stop in t-se; the route's grids shrink with its way.
    let mut edit = body.clone();
    edit["version"] = json!(1);
    edit["stops"] =
        json!([{"hazard": ids[0]}, {"name": "学校门口", "location": [106.025, 34.615]}]);
    let edited = put_json(&app, &format!("/api/routes/{id}"), &edit)
        .await
        .expect(StatusCode::OK);
    assert_eq!(route_of(&edited)["properties"]["version"], 2);
    assert_eq!(listed("t-se").await, Vec::<i64>::new());
    assert_eq!(listed("s-2").await, vec![id]);
    put_json(&app, &format!("/api/routes/{id}"), &edit)
        .await
        .problem(StatusCode::CONFLICT);
    let mut bad = edit.clone();
    bad["version"] = json!(2);
    bad["stops"] = json!([{"hazard": 99_999}]);
    let problem = put_json(&app, &format!("/api/routes/{id}"), &bad)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["parameter"], "stops[0].hazard");
    let read = get(&app, &format!("/api/routes/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        route_of(&read)["properties"]["stops"],
        2,
        "the refused edit changed nothing"
    );
}

/// `POST /api/patrols/{patrol}/track` with a body of the given type.
async fn post_track(
    app: &Router,
    patrol: i64,
    content_type: &str,
    body: String,
) -> support::http::Answer {
    send(
        app,
        Request::post(format!("/api/patrols/{patrol}/track"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .expect("a request"),
    )
    .await
}

fn gpx(points: &[([f64; 2], &str)]) -> String {
    let pts: String = points
        .iter()
        .map(|(p, t)| {
            format!(
                "<trkpt lat=\"{}\" lon=\"{}\"><time>{t}</time></trkpt>",
                p[1], p[0]
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"test\" \
         xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><trkseg>{pts}</trkseg></trk></gpx>"
    )
}

/// Tracks (GeoJSON and GPX) and check-ins mark stops visited within the
/// radius; finishing leaves the rest missed; inspections reach the hazards
/// and the coverage figures; an incident can be raised from a check-in.
async fn patrols_mark_visits_from_tracks_and_checkins_and_count_coverage(t: &TestStore) {
    let (app, ids) = with_roads_and_hazards(t).await;
    let body = json!({"name": "南社巡查", "grid": "b-sw-w-s", "shift": "day", "start": START,
        "stops": [{"hazard": ids[0]}, {"hazard": ids[1]}, {"name": "北头", "location": [106.045, 34.645]},
                  {"name": "桥头", "location": [106.025, 34.625]}]});
    let route = post_json(&app, "/api/routes", &body)
        .await
        .expect(StatusCode::CREATED);
    let route_id = route_of(&route)["id"].as_i64().expect("id");
    let started = post_json(
        &app,
        &format!("/api/routes/{route_id}/patrols"),
        &json!({"started_at": "2026-05-01T08:00:00Z"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let patrol = started["id"].as_i64().expect("id");
    assert_eq!(started["status"], "active");
    assert_eq!(
        started["member"], "admin",
        "a patrol is walked by whoever starts it, never a name in the body"
    );

    // GeoJSON: from the start north then east, passing 10 m from H1 between fixes.
    let track = json!({"type": "Feature",
        "properties": {"times": ["2026-05-01T08:00:00Z", "2026-05-01T08:10:00Z", "2026-05-01T08:20:00Z"]},
        "geometry": {"type": "LineString", "coordinates": [START, [106.005, 34.61509], [106.025, 34.61509]]}});
    let answer = post_track(&app, patrol, "application/geo+json", track.to_string())
        .await
        .expect(StatusCode::OK);
    let visits = &answer["visits"];
    assert!(
        visits[0]["visited_at"]
            .as_str()
            .expect("H1 visited")
            .starts_with("2026-05-01T08:1"),
        "{visits}"
    );
    assert!(visits[0]["closest_m"].as_f64().expect("closest") < 11.0);
    assert_eq!(visits[1]["visited_at"], Value::Null, "H2 is 700 m away");

    // GPX: on to H2 (within 5 m) and back south. Sent as text/plain (as a
    // page on another site could, without asking), it is refused and
    // nothing is recorded.
    let doc = gpx(&[
        ([106.035, 34.61509], "2026-05-01T08:30:00Z"),
        ([106.03504, 34.622], "2026-05-01T08:40:00Z"),
    ]);
    post_track(&app, patrol, "text/plain", doc.clone())
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let doc_again = doc.clone();
    let answer = post_track(&app, patrol, "application/gpx+xml", doc)
        .await
        .expect(StatusCode::OK);
    // Visited where the segment between fixes comes closest, just before the second fix.
    let at: jiff::Timestamp = answer["visits"][1]["visited_at"]
        .as_str()
        .expect("H2 visited")
        .parse()
        .expect("a time");
    assert!(
        at > "2026-05-01T08:39:50Z".parse().expect("time")
            && at <= "2026-05-01T08:40:00Z".parse().expect("time"),
        "{at}"
    );
    assert_eq!(
        answer["track"]["geometry"]["coordinates"]
            .as_array()
            .expect("track")
            .len(),
        5,
        "kept for replay"
    );
    // The same fixes sent again (a phone that lost the answer) are not
    // added twice: the track and its length stay as they were.
    let again = post_track(&app, patrol, "application/gpx+xml", doc_again)
        .await
        .expect(StatusCode::OK);
    assert_eq!(again["track"], answer["track"]);
    assert_eq!(again["track_m"], answer["track_m"]);
    let bad = post_track(
        &app,
        patrol,
        "application/gpx+xml",
        "<gpx version=\"1.1\"></gpx>".to_owned(),
    )
    .await;
    assert_eq!(bad.problem(StatusCode::BAD_REQUEST)["parameter"], "track");

    // A check-in that raises an incident, linked to the patrol.
    let answer = post_json(
        &app,
        &format!("/api/patrols/{patrol}/checkins"),
        &json!({
        "point": H2, "time": "2026-05-01T08:41:00Z", "note": "堤坝有裂缝",
        "incident": {"category": "safety_hazard", "description": "河堤裂缝", "severity": "major"}}),
    )
    .await
    .expect(StatusCode::OK);
    let incident = answer["checkins"][0]["incident"]
        .as_i64()
        .expect("an incident was raised");
    let raised = get(&app, &format!("/api/incidents/{incident}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(raised["incident"]["source"], "patrol", "{raised}");

    // Check-ins alone: 25 m from 桥头 visits it; 35 m from 北头 does not (radius 30 m).
    let answer = post_json(
        &app,
        &format!("/api/patrols/{patrol}/checkins"),
        &json!({"point": [106.025, 34.625225], "time": "2026-05-01T08:50:00Z"}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(answer["visits"][3]["visited_at"], "2026-05-01T08:50:00Z");
    let answer = post_json(
        &app,
        &format!("/api/patrols/{patrol}/checkins"),
        &json!({"point": [106.045, 34.645315], "time": "2026-05-01T08:55:00Z"}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(answer["visits"][2]["visited_at"], Value::Null);
    let closest = answer["visits"][2]["closest_m"].as_f64().expect("closest");
    assert!((closest - 35.0).abs() < 0.5, "{closest}");

    // The route edited under way (H1 dropped): this patrol keeps its stops.
    let mut edit = body.clone();
    edit["version"] = json!(1);
    edit["stops"] = json!([{"hazard": ids[1]}]);
    put_json(&app, &format!("/api/routes/{route_id}"), &edit)
        .await
        .expect(StatusCode::OK);
    let read = get(&app, &format!("/api/patrols/{patrol}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(read["visits"].as_array().expect("visits").len(), 4);
    assert_eq!(read["visits"][0]["name"], "后沟滑坡点");

    let finished = post_json(
        &app,
        &format!("/api/patrols/{patrol}/finish"),
        &json!({"at": "2026-05-01T09:00:00Z"}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(finished["status"], "finished");
    assert_eq!(finished["missed"], 1);
    assert_eq!(
        finished["visits"][2]["missed"], true,
        "the key point was never reached: 漏巡"
    );
    post_json(
        &app,
        &format!("/api/patrols/{patrol}/checkins"),
        &json!({"point": H1}),
    )
    .await
    .problem(StatusCode::CONFLICT);

    // A walked route cannot be deleted (its patrols keep it); an empty
    // route cannot be saved.
    let route_version = get(&app, &format!("/api/routes/{route_id}"))
        .await
        .expect(StatusCode::OK)["features"][0]["properties"]["version"]
        .as_i64()
        .expect("a version");
    let refused = send(
        &app,
        Request::delete(format!("/api/routes/{route_id}?version={route_version}"))
            .body(Body::empty())
            .expect("a request"),
    )
    .await
    .problem(StatusCode::CONFLICT);
    assert!(
        refused["detail"]
            .as_str()
            .expect("detail")
            .contains("walked"),
        "{refused}"
    );
    get(&app, &format!("/api/routes/{route_id}"))
        .await
        .expect(StatusCode::OK);
    let empty =
        json!({"name": "空", "grid": "b-sw-w-s", "shift": "day", "start": START, "stops": []});
    let problem = post_json(&app, "/api/routes", &empty)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["parameter"], "stops");

    let h1 = get(&app, &format!("/api/hazards/{}", ids[0]))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        h1["properties"]["last_inspected_at"],
        finished["visits"][0]["visited_at"]
    );
    let coverage = get(
        &app,
        "/api/coverage?grid=b-sw-w-s&from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z",
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(coverage["inspections"], 2, "{coverage}");
    assert_eq!(coverage["hazards_inspected"], 2);
    assert_eq!(coverage["hazards"], 3);
    assert_eq!(coverage["day"]["patrols"], 1);
    assert_eq!(coverage["day"]["missed"], 1);
    assert_eq!(coverage["day"]["duration_s"], 3600.0);
    assert_eq!(coverage["missed_stops"][0]["stop"], 2);
    let elsewhere = get(
        &app,
        "/api/coverage?grid=t-se&from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z",
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(elsewhere["day"]["patrols"], 0);
    assert_eq!(elsewhere["inspections"], 0);

    let calendar = get(&app, "/api/hazards/calendar?grid=b-sw-w-s&days=3")
        .await
        .expect(StatusCode::OK);
    assert_eq!(calendar.as_array().expect("days").len(), 3);

    // Each hazard's inspection history names the patrol that reached it,
    // who walked it and when, as the patrol's visits say.
    let may = "from=2026-04-15T00:00:00Z&to=2026-05-15T00:00:00Z";
    for (k, hazard) in ids[..2].iter().enumerate() {
        let history = get(&app, &format!("/api/hazards/{hazard}/inspections?{may}"))
            .await
            .expect(StatusCode::OK);
        let inspections = history.as_array().expect("a list");
        assert_eq!(inspections.len(), 1, "{history}");
        assert_eq!(inspections[0]["patrol"], patrol);
        assert_eq!(inspections[0]["route"], route_id);
        assert_eq!(inspections[0]["member"], "admin");
        assert_eq!(inspections[0]["shift"], "day");
        assert_eq!(
            inspections[0]["visited_at"],
            finished["visits"][k]["visited_at"]
        );
    }
    let before = get(
        &app,
        &format!(
            "/api/hazards/{}/inspections?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z",
            ids[0]
        ),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(before, json!([]), "no patrol in March");
    let none = get(&app, &format!("/api/hazards/999999/inspections?{may}")).await;
    none.problem(StatusCode::NOT_FOUND);
    let too_long = get(
        &app,
        &format!(
            "/api/hazards/{}/inspections?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            ids[0]
        ),
    )
    .await;
    assert_eq!(
        too_long.problem(StatusCode::BAD_REQUEST)["parameter"],
        "from"
    );
}

/// Planners redraw s-1 and s-2 (the line between them moves from 106.025
/// west to 106.010): H1 at 106.012 now lies in s-2, and its record says so.
async fn a_redrawn_boundary_moves_hazards_to_their_new_grids(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    let created = post_json(&app, "/api/hazards", &four_hazards())
        .await
        .expect(StatusCode::CREATED);
    let h1 = created["features"][0]["id"].as_i64().expect("an id");
    assert_eq!(created["features"][0]["properties"]["grid"], "s-1");
    state
        .import_grids(
            vec![
                grid(
                    "s-1",
                    5,
                    Some("b-sw-w-s"),
                    "一片区",
                    (106.0, 34.6),
                    (106.01, 34.65),
                ),
                grid(
                    "s-2",
                    5,
                    Some("b-sw-w-s"),
                    "二片区",
                    (106.01, 34.6),
                    (106.05, 34.65),
                ),
            ],
            wangge::store::WriteMode::Upsert,
        )
        .await
        .expect("the redrawn sub-areas still tile their grid");
    let moved = get(&app, &format!("/api/hazards/{h1}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(moved["properties"]["grid"], "s-2", "{moved}");
    assert_eq!(
        moved["properties"]["version"], 2,
        "a relocation is a change"
    );
    let in_s1 = get(&app, "/api/hazards?grid=s-1")
        .await
        .expect(StatusCode::OK);
    assert_eq!(in_s1["features"].as_array().expect("features").len(), 0);
}

/// A straight line across a two-hour GPS dropout does not visit what it
/// passes; a time from a wrong clock, a finish before the start and, by
/// car, a stop no road reaches are refused, naming the field, and change
/// nothing. (On foot the same stop is reached across country.)
async fn gps_gaps_wrong_clocks_and_unreachable_stops_are_not_taken_at_face_value(t: &TestStore) {
    let (app, ids) = with_roads_and_hazards(t).await;
    // An isolated stretch of road in t-ne, connected to nothing.
    let mut roads = lattice();
    roads["features"].as_array_mut().expect("features").push(json!({"type": "Feature",
        "properties": {}, "geometry": {"type": "LineString", "coordinates": [[106.1001, 34.7001], [106.1009, 34.7001]]}}));
    put_json(&app, "/api/roads", &roads)
        .await
        .expect(StatusCode::OK);
    let cut_off = json!({"name": "孤路", "grid": "b-sw-w-s", "shift": "day", "mode": "drive",
        "start": START, "stops": [{"hazard": ids[0]}, {"name": "孤岛", "location": [106.1005, 34.7002]}]});
    let problem = post_json(&app, "/api/routes", &cut_off)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["parameter"], "stops[1]", "{problem}");
    assert_eq!(
        get(&app, "/api/routes").await.expect(StatusCode::OK)["features"],
        json!([])
    );
    // On foot the cut-off stop is reached across country, and the plan
    // says which legs leave the roads.
    let mut on_foot = cut_off.clone();
    on_foot["mode"] = json!("walk");
    let walked = post_json(&app, "/api/routes", &on_foot)
        .await
        .expect(StatusCode::CREATED);
    let walked_route = route_of(&walked);
    assert!(
        walked_route["properties"]["legs_off_road"]
            .as_array()
            .is_some_and(|legs| legs.iter().any(|leg| leg == true)),
        "{walked}"
    );
    assert!(
        walked["notices"].as_array().is_some_and(|n| n
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.contains("leave the roads")))),
        "{walked}"
    );
    let walked_id = walked_route["id"].as_i64().expect("id");
    let walked_version = walked_route["properties"]["version"]
        .as_i64()
        .expect("version");
    let deleted = send(
        &app,
        axum::http::Request::delete(format!("/api/routes/{walked_id}?version={walked_version}"))
            .body(axum::body::Body::empty())
            .expect("a request"),
    )
    .await;
    assert!(deleted.status.is_success(), "{:?}", deleted.status);

    let body = json!({"name": "南社", "grid": "b-sw-w-s", "shift": "day", "start": START, "stops": [{"hazard": ids[0]}]});
    let route = post_json(&app, "/api/routes", &body)
        .await
        .expect(StatusCode::CREATED);
    let route_id = route_of(&route)["id"].as_i64().expect("id");
    let started = post_json(
        &app,
        &format!("/api/routes/{route_id}/patrols"),
        &json!({"started_at": "2026-05-01T20:00:00Z"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let patrol = started["id"].as_i64().expect("id");
    let track = |coords: Value, times: Value| {
        json!({"type": "Feature", "properties": {"times": times},
        "geometry": {"type": "LineString", "coordinates": coords}})
    };
    // Two fixes two hours apart either side of H1 (on the line between them).
    let gap = track(
        json!([[106.002, 34.615], [106.022, 34.615]]),
        json!(["2026-05-01T20:00:00Z", "2026-05-01T22:00:00Z"]),
    );
    let answer = post_track(&app, patrol, "application/geo+json", gap.to_string())
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        answer["visits"][0]["visited_at"],
        Value::Null,
        "a dropout is not a walk: {answer}"
    );
    let version = answer["version"].clone();

    let future = track(
        json!([[106.012, 34.615], [106.013, 34.615]]),
        json!(["2099-01-01T00:00:00Z", "2099-01-01T00:01:00Z"]),
    );
    let problem = post_track(&app, patrol, "application/geo+json", future.to_string())
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["parameter"], "track[0].time", "{problem}");
    let problem = post_json(
        &app,
        &format!("/api/patrols/{patrol}/finish"),
        &json!({"at": "2026-05-01T19:59:00Z"}),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["parameter"], "at");
    let read = get(&app, &format!("/api/patrols/{patrol}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        read["version"], version,
        "the refused posts changed nothing"
    );
    assert_eq!(read["status"], "active");
}

/// Hazard names and descriptions, route and stop names, assignees and
/// check-in notes and photos have lengths (a 10 MB description is refused
/// by name, not stored), and one-line texts no control characters.
async fn every_text_of_the_patrol_side_has_a_length(t: &TestStore) {
    let (_, app) = four_towns_app(t).await;
    let huge = "记".repeat(10_000_000 / 3);
    let refused = |doc: Value, parameter: &str| {
        assert_eq!(doc["parameter"], parameter, "{doc}");
    };
    let long_description = hazard("土坡", H1, "major", json!({"description": huge}));
    refused(
        post_json(&app, "/api/hazards", &long_description)
            .await
            .problem(StatusCode::BAD_REQUEST),
        "properties.description",
    );
    let control = hazard("土坡\u{7}", H1, "major", json!({}));
    refused(
        post_json(&app, "/api/hazards", &control)
            .await
            .problem(StatusCode::BAD_REQUEST),
        "properties.name",
    );
    let stored = get(&app, "/api/hazards").await.expect(StatusCode::OK);
    assert_eq!(
        stored["features"].as_array().map(Vec::len),
        Some(0),
        "{}",
        t.name
    );

    let route = |extra: Value| {
        let mut body = json!({"name": "巡查", "grid": "b-sw-w-s", "shift": "day", "start": START,
            "stops": [{"name": "桥头", "location": H1}]});
        for (k, v) in extra.as_object().expect("fields") {
            body[k] = v.clone();
        }
        body
    };
    for (extra, parameter) in [
        (json!({"name": "路".repeat(201)}), "name"),
        (
            json!({"stops": [{"name": "桥".repeat(201), "location": H1}]}),
            "stops[0].name",
        ),
        (json!({"assignees": vec!["张三"; 51]}), "assignees"),
        (json!({"assignees": ["张三", "李\n四"]}), "assignees[1]"),
    ] {
        refused(
            post_json(&app, "/api/routes", &route(extra))
                .await
                .problem(StatusCode::BAD_REQUEST),
            parameter,
        );
    }
    let saved = post_json(&app, "/api/routes", &route(json!({})))
        .await
        .expect(StatusCode::CREATED);
    let route_id = saved["features"][0]["id"].as_i64().expect("an id");
    let patrol = post_json(&app, &format!("/api/routes/{route_id}/patrols"), &json!({}))
        .await
        .expect(StatusCode::CREATED)["id"]
        .as_i64()
        .expect("an id");
    for (body, parameter) in [
        (json!({"point": H1, "note": huge}), "note"),
        (
            json!({"point": H1, "photo_url": format!("https://a.cn/{}", "p".repeat(2_000))}),
            "photo_url",
        ),
    ] {
        refused(
            post_json(&app, &format!("/api/patrols/{patrol}/checkins"), &body)
                .await
                .problem(StatusCode::BAD_REQUEST),
            parameter,
        );
    }
    let unchanged = get(&app, &format!("/api/patrols/{patrol}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(unchanged["checkins"], json!([]), "{}", t.name);
}

/// A PNG of `width` × `height` (a gradient, so it does not compress away).
fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
    });
    let mut out = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("a PNG");
    out
}

/// A photo from the field is stored when it is the image its type says,
/// served as sent with a JPEG thumbnail of at most 320 px, and named in a
/// check-in; a file that is not that image, an unknown type or one too
/// large is refused by name and nothing is stored.
async fn photos_are_kept_only_when_they_are_images_with_a_thumbnail(t: &TestStore) {
    let (app, _ids) = with_roads_and_hazards(t).await;
    let picture = png(1000, 750);
    let stored = support::http::post(&app, "/api/photos", Some("image/png"), picture.clone())
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(
        (stored["width"].as_u64(), stored["height"].as_u64()),
        (Some(1000), Some(750)),
        "{}",
        t.name
    );
    let token = stored["token"].as_str().expect("a token").to_owned();
    assert_eq!(token.len(), 32, "128 random bits in hex: {token}");
    assert_eq!(stored["url"], format!("api/photos/{token}"));
    let original = get(&app, &format!("/api/photos/{token}")).await;
    assert_eq!(original.status, StatusCode::OK);
    assert_eq!(original.content_type(), "image/png");
    assert_eq!(original.body.to_vec(), picture, "served as sent");
    let thumb = get(&app, &format!("/api/photos/{token}/thumbnail")).await;
    assert_eq!(thumb.content_type(), "image/jpeg");
    let small =
        image::load_from_memory_with_format(&thumb.body, image::ImageFormat::Jpeg).expect("a JPEG");
    assert_eq!((small.width(), small.height()), (320, 240));

    // Refused, naming why; nothing stored.
    let not_an_image = support::http::post(
        &app,
        "/api/photos",
        Some("image/jpeg"),
        b"GIF89a...".to_vec(),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(not_an_image["parameter"], "body");
    let wrong_type =
        support::http::post(&app, "/api/photos", Some("image/gif"), picture.clone()).await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut cut = picture.clone();
    cut.truncate(cut.len() / 2);
    support::http::post(&app, "/api/photos", Some("image/png"), cut)
        .await
        .problem(StatusCode::BAD_REQUEST);
    let too_big = support::http::post(
        &app,
        "/api/photos",
        Some("image/png"),
        vec![0u8; wangge::patrol::photos::MAX_PHOTO_BYTES + 1],
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert!(
        too_big["detail"]
            .as_str()
            .is_some_and(|d| d.contains("at most")),
        "{too_big}"
    );
    assert_eq!(
        get(&app, "/api/photos/00000000000000000000000000000000")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// Past its allowance for 24 hours (here 2 photos, or 3 MB), an account's
/// upload is refused with 429, `Retry-After` within the day and the reason
/// in both languages, and nothing is stored; another account still uploads.
async fn each_account_has_a_daily_photo_allowance(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    state
        .patrols()
        .set_photo_quota(wangge::patrol::photos::PhotoQuota {
            photos: 2,
            bytes: 3 * 1024 * 1024,
        });
    let upload = |token: Option<String>, body: Vec<u8>| {
        let app = app.clone();
        async move {
            let mut request = axum::http::Request::post("/api/photos")
                .header(axum::http::header::CONTENT_TYPE, "image/png")
                .header(axum::http::header::ACCEPT_LANGUAGE, "zh-CN");
            if let Some(token) = token {
                request =
                    request.header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"));
            }
            send(
                &app,
                request
                    .body(axum::body::Body::from(body))
                    .expect("a request"),
            )
            .await
        }
    };
    let picture = png(40, 30);
    for _ in 0..2 {
        upload(None, picture.clone())
            .await
            .expect(StatusCode::CREATED);
    }
    let refused = upload(None, picture.clone()).await;
    let wait: u64 = refused
        .header(axum::http::header::RETRY_AFTER)
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=86_400).contains(&wait), "{wait}");
    let problem = refused.problem(StatusCode::TOO_MANY_REQUESTS);
    let detail = problem["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("24 小时") && detail.contains("2 张"),
        "{}: {detail}",
        t.name
    );
    // Nothing of the refused one was stored ("admin" is who the test app
    // calls as).
    let mut unit = state.patrols().feed().begin().await.expect("a unit");
    let day = unit
        .unit()
        .photo_uploads_since(
            wangge::services::accounts::FIRST_ADMIN,
            jiff::Timestamp::UNIX_EPOCH,
        )
        .await
        .expect("counted");
    assert_eq!(day.count, 2, "{}", t.name);
    drop(unit);

    // Another account has its own allowance, bytes counted too: after a
    // first photo, one that would bring the day past 3 MB is refused.
    let member = support::user_token(
        state.accounts(),
        "member-photos",
        wangge::model::account::Role::GridMember,
        wangge::model::account::Scope::Grid(wangge::model::GridId::from("b-sw-w-s")),
    )
    .await;
    let first = upload(Some(member.clone()), png(1000, 750)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", t.name);
    let mut large = png(1200, 900);
    let target = 3 * 1024 * 1024 - first_size(&first, &app).await + 1;
    if large.len() < target {
        large.resize(target, 0);
    }
    let over = upload(Some(member), large).await;
    assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS, "{}", t.name);
}

/// The bytes of the photo `answer` stored, read back.
async fn first_size(answer: &support::http::Answer, app: &Router) -> usize {
    let url = answer.json()["url"].as_str().expect("a url").to_owned();
    get(app, &format!("/{url}")).await.body.len()
}
