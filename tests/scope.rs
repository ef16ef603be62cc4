//! A grid-bound user changes only what lies in their grid, and every change
//! is in the audit trail as theirs, with the address it came from.
//!
//! The four-town county; the grid leader and a grid member are bound to
//! basic grid `b-sw-w-s` (south-west town), the admin sees everything.
//! Hazards: a leader registers, edits and deletes inside their grid only;
//! a hazard elsewhere answers 404 as one never registered. Patrol routes
//! and patrols of other grids are not listed and answer 404; a member
//! records on their own patrol only, and a patrol is always walked by the
//! login that starts it. Grid leaders' phone numbers are for logged-in
//! readers: the published grid map names leaders without them.

#[macro_use]
mod support;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use support::http::{Answer, get_with, send};
use support::{TestStore, four_towns::four_towns_app};
use wangge::model::GridId;
use wangge::model::account::{Role, Scope};
use wangge::services::accounts::AccessSettings;
use wangge::store::Backend;

conformance!(
    a_grid_leader_changes_hazards_in_their_grid_only,
    patrols_stay_in_their_grid_and_with_their_member,
    the_published_grid_map_names_leaders_without_their_numbers,
    a_grid_bound_planner_reads_the_feed_of_their_grid,
);

/// Where the test's requests come from, as the server sees the peer.
const FROM: &str = "192.0.2.44";

/// A request as `token` (anonymous when `None`) from [`FROM`], with a JSON
/// body when one is given.
async fn call(
    app: &axum::Router,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<(&str, String)>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    request = match token {
        Some(token) => request.header(header::AUTHORIZATION, format!("Bearer {token}")),
        None => request.header("x-test-anonymous", "1"),
    };
    let body = match body {
        Some((media, text)) => {
            request = request.header(header::CONTENT_TYPE, media);
            Body::from(text)
        }
        None => Body::empty(),
    };
    let mut request = request.body(body).expect("a request");
    let peer: SocketAddr = format!("{FROM}:50000").parse().expect("an address");
    request.extensions_mut().insert(ConnectInfo(peer));
    send(app, request).await
}

fn hazard_at(name: &str, lon: f64, lat: f64) -> String {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": name, "category": "landslide", "risk": "major"}})
    .to_string()
}

/// The audit entries of `action`, newest first, as the admin reads them.
async fn audited(app: &axum::Router, action: &str) -> Vec<Value> {
    get_with(app, &format!("/api/audit?action={action}"), &[])
        .await
        .expect(StatusCode::OK)["entries"]
        .as_array()
        .expect("entries")
        .clone()
}

async fn a_grid_leader_changes_hazards_in_their_grid_only(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    let leader = support::user_token(
        state.accounts(),
        "leader-sw",
        Role::GridLeader,
        Scope::Grid(GridId::from("b-sw-w-s")),
    )
    .await;
    let leader = Some(leader.as_str());
    let geojson = "application/geo+json";

    // The admin registers one hazard in another town.
    let elsewhere = support::http::send(
        &app,
        Request::post("/api/hazards")
            .header(header::CONTENT_TYPE, geojson)
            .body(Body::from(hazard_at("东南镇滑坡", 106.15, 34.65)))
            .expect("a request"),
    )
    .await
    .expect(StatusCode::CREATED)["features"][0]["id"]
        .as_i64()
        .expect("an id");

    // The leader registers in their grid; in another town they are refused
    // by name, and nothing is registered.
    let mine = call(
        &app,
        leader,
        "POST",
        "/api/hazards",
        Some((geojson, hazard_at("南社滑坡", 106.01, 34.61))),
    )
    .await
    .expect(StatusCode::CREATED)["features"][0]["id"]
        .as_i64()
        .expect("an id");
    let refused = call(
        &app,
        leader,
        "POST",
        "/api/hazards",
        Some((geojson, hazard_at("越界", 106.15, 34.66))),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(refused["parameter"], "geometry", "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("outside grid b-sw-w-s")),
        "{refused}"
    );
    let all = get_with(&app, "/api/hazards", &[])
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        all["features"].as_array().map(Vec::len),
        Some(2),
        "{}",
        t.name
    );

    // Another grid's hazard: not found to edit or delete, word for word as
    // a number never used, and unchanged.
    let edit = || json!({"version": 1, "name": "改名"}).to_string();
    let hidden = call(
        &app,
        leader,
        "PATCH",
        &format!("/api/hazards/{elsewhere}"),
        Some(("application/json", edit())),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    assert_eq!(hidden["detail"], format!("there is no hazard {elsewhere}"));
    call(
        &app,
        leader,
        "DELETE",
        &format!("/api/hazards/{elsewhere}?version=1"),
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    let unchanged = get_with(&app, &format!("/api/hazards/{elsewhere}"), &[])
        .await
        .expect(StatusCode::OK);
    assert_eq!(unchanged["properties"]["name"], "东南镇滑坡");

    // Their own: edited; moved out of their grid, refused.
    call(
        &app,
        leader,
        "PATCH",
        &format!("/api/hazards/{mine}"),
        Some(("application/json", edit())),
    )
    .await
    .expect(StatusCode::OK);
    let moved = call(
        &app,
        leader,
        "PATCH",
        &format!("/api/hazards/{mine}"),
        Some((
            "application/json",
            json!({"version": 2, "location": [106.15, 34.66]}).to_string(),
        )),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(moved["parameter"], "location", "{moved}");

    // The trail: the leader's two changes, as theirs, from their address,
    // naming the hazard; the admin's registration without an address (the
    // in-process test client has no peer).
    let entries = audited(&app, "hazard_changed").await;
    let seen: Vec<(&str, &str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or_default(),
                e["source"].as_str().unwrap_or_default(),
                e["target"].as_str().unwrap_or_default(),
                e["detail"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let mine_target = format!("hazard {mine}");
    let elsewhere_target = format!("hazard {elsewhere}");
    assert_eq!(
        seen,
        vec![
            (
                "leader-sw",
                FROM,
                mine_target.as_str(),
                format!("hazard {mine} edited").as_str()
            ),
            (
                "leader-sw",
                FROM,
                mine_target.as_str(),
                "1 hazard(s) registered"
            ),
            (
                "admin",
                "",
                elsewhere_target.as_str(),
                "1 hazard(s) registered"
            ),
        ],
        "{}",
        t.name
    );
    // Reports go through the writer's own task and actions through a task
    // of their own: both are audited from the leader's address too.
    let report = json!({"category": "sanitation", "description": "垃圾堆积",
        "lon": 106.01, "lat": 34.61, "source": "hotline"});
    let incident = call(
        &app,
        leader,
        "POST",
        "/api/incidents",
        Some(("application/json", report.to_string())),
    )
    .await
    .expect(StatusCode::CREATED)["incident"]["id"]
        .as_i64()
        .expect("an id");
    call(
        &app,
        leader,
        "POST",
        &format!("/api/incidents/{incident}/actions"),
        Some((
            "application/json",
            json!({"action": "verify", "note": "属实", "version": 1}).to_string(),
        )),
    )
    .await
    .expect(StatusCode::OK);
    let incident_entries = audited(&app, "incident_changed").await;
    let sources: Vec<(&str, &str)> = incident_entries
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or_default(),
                e["source"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        vec![("leader-sw", FROM), ("leader-sw", FROM)],
        "{}",
        t.name
    );

    // The change feed names the leader too.
    let feed = get_with(&app, "/api/changes", &[])
        .await
        .expect(StatusCode::OK);
    let actors: Vec<&str> = feed["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["kind"] == "hazard")
        .filter_map(|c| c["actor"].as_str())
        .collect();
    assert_eq!(actors, vec!["admin", "leader-sw", "leader-sw"], "{feed}");
}

async fn patrols_stay_in_their_grid_and_with_their_member(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    let in_grid = || Scope::Grid(GridId::from("b-sw-w-s"));
    let leader =
        support::user_token(state.accounts(), "leader-sw", Role::GridLeader, in_grid()).await;
    let member =
        support::user_token(state.accounts(), "member-sw", Role::GridMember, in_grid()).await;
    let other =
        support::user_token(state.accounts(), "member-sw-2", Role::GridMember, in_grid()).await;
    let json_body = |v: Value| Some(("application/json", v.to_string()));
    let route = |grid: &str, lon: f64, lat: f64| {
        json!({"name": format!("{grid} 巡查"), "grid": grid, "shift": "day",
            "start": [lon, lat], "stops": [{"name": "桥头", "location": [lon + 0.002, lat]}]})
    };

    // The admin saves a route in another town; the leader one in their grid.
    let elsewhere = support::http::post_json(&app, "/api/routes", &route("t-se", 106.15, 34.65))
        .await
        .expect(StatusCode::CREATED)["features"][0]["id"]
        .as_i64()
        .expect("an id");
    let mine = call(
        &app,
        Some(&leader),
        "POST",
        "/api/routes",
        json_body(route("b-sw-w-s", 106.01, 34.61)),
    )
    .await
    .expect(StatusCode::CREATED)["features"][0]["id"]
        .as_i64()
        .expect("an id");

    // Planning or saving for another town is refused by name.
    let plan = json!({"grid": "t-se", "shift": "day", "start": [106.15, 34.65]});
    for (path, body) in [
        ("/api/routes", route("t-se", 106.15, 34.65)),
        ("/api/patrol-plans", plan),
    ] {
        let refused = call(&app, Some(&leader), "POST", path, json_body(body))
            .await
            .problem(StatusCode::FORBIDDEN);
        assert!(
            refused["detail"]
                .as_str()
                .is_some_and(|d| d.contains("grid t-se lies outside grid b-sw-w-s")),
            "{path}: {refused}"
        );
    }

    // The other town's route is not listed and is not found.
    let listed = call(&app, Some(&member), "GET", "/api/routes", None)
        .await
        .expect(StatusCode::OK);
    let ids: Vec<i64> = listed["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["id"].as_i64())
        .collect();
    assert_eq!(ids, vec![mine], "{}", t.name);
    for (method, path, body) in [
        ("GET", format!("/api/routes/{elsewhere}"), None),
        ("DELETE", format!("/api/routes/{elsewhere}?version=1"), None),
        (
            "POST",
            format!("/api/routes/{elsewhere}/patrols"),
            json_body(json!({})),
        ),
    ] {
        let hidden = call(&app, Some(&leader), method, &path, body)
            .await
            .problem(StatusCode::NOT_FOUND);
        assert_eq!(
            hidden["detail"],
            format!("there is no route {elsewhere}"),
            "{method} {path}"
        );
    }

    // A member starts a patrol of their grid's route: it is theirs,
    // whatever they might call themselves. A name in the body is refused.
    let named = call(
        &app,
        Some(&member),
        "POST",
        &format!("/api/routes/{mine}/patrols"),
        json_body(json!({"member": "县委书记"})),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(named["detail"].to_string().contains("member"), "{named}");
    let patrol = call(
        &app,
        Some(&member),
        "POST",
        &format!("/api/routes/{mine}/patrols"),
        json_body(json!({})),
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(patrol["member"], "member-sw");
    let patrol = patrol["id"].as_i64().expect("an id");

    // Another member of the same grid may read it but not record on it;
    // the leader may (they correct their members' patrols).
    call(
        &app,
        Some(&other),
        "GET",
        &format!("/api/patrols/{patrol}"),
        None,
    )
    .await
    .expect(StatusCode::OK);
    let checkin = json!({"point": [106.012, 34.61]});
    let not_theirs = call(
        &app,
        Some(&other),
        "POST",
        &format!("/api/patrols/{patrol}/checkins"),
        json_body(checkin.clone()),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    assert!(
        not_theirs["detail"]
            .as_str()
            .is_some_and(|d| d.contains("walked by member-sw")),
        "{not_theirs}"
    );
    call(
        &app,
        Some(&other),
        "POST",
        &format!("/api/patrols/{patrol}/finish"),
        json_body(json!({})),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    let still = get_with(&app, &format!("/api/patrols/{patrol}"), &[])
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (
            still["status"].as_str(),
            still["checkins"].as_array().map(Vec::len)
        ),
        (Some("active"), Some(0)),
        "the refused writes changed nothing: {still}"
    );
    call(
        &app,
        Some(&member),
        "POST",
        &format!("/api/patrols/{patrol}/checkins"),
        json_body(checkin),
    )
    .await
    .expect(StatusCode::OK);
    call(
        &app,
        Some(&leader),
        "POST",
        &format!("/api/patrols/{patrol}/finish"),
        json_body(json!({})),
    )
    .await
    .expect(StatusCode::OK);

    // The admin walks the other town's route; the member neither lists
    // nor reads that patrol.
    let theirs = support::http::post_json(
        &app,
        &format!("/api/routes/{elsewhere}/patrols"),
        &json!({}),
    )
    .await
    .expect(StatusCode::CREATED)["id"]
        .as_i64()
        .expect("an id");
    let patrols = call(&app, Some(&member), "GET", "/api/patrols", None)
        .await
        .expect(StatusCode::OK);
    let listed: Vec<i64> = patrols["patrols"]
        .as_array()
        .expect("patrols")
        .iter()
        .filter_map(|p| p["id"].as_i64())
        .collect();
    assert_eq!(listed, vec![patrol], "{}", t.name);
    call(
        &app,
        Some(&member),
        "GET",
        &format!("/api/patrols/{theirs}"),
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);

    // Every patrol change is audited as the member's or leader's, from
    // their address.
    let entries = audited(&app, "patrol_changed").await;
    let by: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e["source"] == FROM)
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or_default(),
                e["detail"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(by.len(), 3, "start, check-in, finish: {entries:?}");
    assert_eq!(by[0].0, "leader-sw", "the finish: {by:?}");
    assert!(
        by[1..].iter().all(|(actor, _)| *actor == "member-sw"),
        "{by:?}"
    );
}

async fn the_published_grid_map_names_leaders_without_their_numbers(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    state.set_access(AccessSettings {
        public_grid_map: true,
        ..AccessSettings::default()
    });
    let viewer =
        support::user_token(state.accounts(), "viewer-1", Role::Viewer, Scope::County).await;
    let phone = "13800000000";
    for path in [
        "/api/grids?level=4",
        "/api/grids/b-sw-w-s",
        "/api/grids/search?q=南社",
        "/api/locate?lon=106.01&lat=34.61",
        "/api/grids/export",
        "/ogc/collections/basic-grids/items",
        "/ogc/collections/basic-grids/items/b-sw-w-s",
    ] {
        let public = call(&app, None, "GET", path, None).await;
        assert_eq!(public.status, StatusCode::OK, "{path}");
        let text = String::from_utf8_lossy(&public.body);
        assert!(!text.contains(phone), "{path} shows a number: {text}");
        assert!(
            text.contains("Leader b-sw-w-s"),
            "{path} still names the leader: {text}"
        );
        let logged_in = call(&app, Some(&viewer), "GET", path, None).await;
        assert_eq!(logged_in.status, StatusCode::OK, "{path}");
        assert!(
            String::from_utf8_lossy(&logged_in.body).contains(phone),
            "{path}: a logged-in reader sees the number ({})",
            t.name
        );
    }
}

async fn a_grid_bound_planner_reads_the_feed_of_their_grid(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    let planner = support::user_token(
        state.accounts(),
        "planner-sw",
        Role::Planner,
        Scope::Grid(GridId::from("t-sw")),
    )
    .await;
    let report = |lon: f64, lat: f64| {
        let app = app.clone();
        async move {
            support::http::post_json(
                &app,
                "/api/incidents",
                &json!({"category": "sanitation", "description": "垃圾堆积",
                    "lon": lon, "lat": lat, "source": "hotline"}),
            )
            .await
            .expect(StatusCode::CREATED)["incident"]["id"]
                .as_i64()
                .expect("an id")
        }
    };
    let elsewhere = report(106.15, 34.65).await;
    let mine = report(106.01, 34.61).await;
    let kinds_and_ids = |doc: &Value| -> Vec<(String, Vec<String>)> {
        doc["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .map(|c| {
                (
                    c["kind"].as_str().unwrap_or_default().to_owned(),
                    serde_json::from_value(c["ids"].clone()).unwrap_or_default(),
                )
            })
            .collect()
    };
    let theirs = call(&app, Some(&planner), "GET", "/api/changes", None)
        .await
        .expect(StatusCode::OK);
    let seen = kinds_and_ids(&theirs);
    assert!(seen.iter().any(|(kind, _)| kind == "grids"), "{seen:?}");
    let incidents: Vec<&Vec<String>> = seen
        .iter()
        .filter(|(kind, _)| kind == "incident")
        .map(|(_, ids)| ids)
        .collect();
    assert_eq!(incidents, vec![&vec![mine.to_string()]], "{}", t.name);
    let all = get_with(&app, "/api/changes", &[])
        .await
        .expect(StatusCode::OK);
    assert!(
        kinds_and_ids(&all)
            .iter()
            .any(|(kind, ids)| kind == "incident" && ids == &vec![elsewhere.to_string()]),
        "the admin reads every entry"
    );
    assert_eq!(
        theirs["next"], all["next"],
        "paging moves past what is left out"
    );
}
