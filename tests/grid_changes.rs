//! Grid changes as one unit of work, on both backends: an import that moves
//! a basic grid's border is planned (a dry run lists exactly what moves),
//! then applied in one transaction that moves the open incident, the hazard
//! and the saved route with it and appears once in the change feed; a
//! failure after the grids are written leaves everything as it was; empty
//! and stranding replaces are refused; two changes planned on one version
//! cannot both commit; a report, hazard or route located in grids another
//! server has redrawn since is located again; the feed lists every kind of
//! change in order; and a server following the feed passes over entries it
//! cannot read.
//!
//! The county is the four-town fixture with the north group cluster of
//! t-sw split into two basic grids, whose shared border the change moves
//! east from 106.025 to 106.035:
//!
//! ```text
//!  34.7 +--------+------+        before: b-n-w | b-n-e at 106.025
//!       | b-n-w  |b-n-e |        after:  b-n-w | b-n-e at 106.035
//!       |    I H |  R   |        I incident (106.03, 34.675), H hazard
//! 34.65 +--------+------+        (106.028, 34.66), R the route's way
//!     106.0   .025    106.05     (106.04, 34.68) <-> (106.03, 34.69)
//! ```

#[macro_use]
mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use wangge::model::Grid;
use wangge::state::AppState;
use wangge::store::Backend;

use support::TestStore;
use support::county_world::*;
use support::four_towns::grid;
use support::http::{get, post_change, post_json, send};

conformance!(
    a_border_move_is_planned_then_applied_in_one_transaction,
    a_failure_after_the_grids_are_written_changes_nothing,
    empty_and_stranding_replaces_are_refused,
    two_changes_planned_on_one_version_cannot_both_commit,
    the_feed_lists_every_change_in_order,
    a_write_located_in_old_grids_is_located_again,
    the_feed_passes_over_what_it_cannot_read,
);

async fn a_border_move_is_planned_then_applied_in_one_transaction(t: &TestStore) {
    let w = world(t).await;
    let before = snapshot(&w).await;
    let version = before["health"]["grid_version"].as_i64().expect("version");
    let moved = north_basic_grids(106.035);

    // The dry run lists exactly the three things that move, and changes
    // nothing.
    let plan = import(&w.app, "mode=upsert&dry_run=true", &moved)
        .await
        .expect(StatusCode::OK);
    let route_before = json!(["t-sw", "v-sw-w", "g-sw-w-n", "b-n-e"]);
    let route_after = json!(["t-sw", "v-sw-w", "g-sw-w-n", "b-n-e", "b-n-w"]);
    let impact = json!({
        "incidents": [{"id": w.incident, "from": chain("b-n-e"), "to": chain("b-n-w")}],
        "hazards": [{"id": w.hazard, "from": chain("b-n-e"), "to": chain("b-n-w")}],
        "routes": [{"id": w.route, "from": route_before, "to": route_after}],
        "grids": null,
        "leaders": [
            {"grid": "b-n-e", "leader": "Leader b-n-e", "gains": 0, "loses": 1},
            {"grid": "b-n-w", "leader": "Leader b-n-w", "gains": 1, "loses": 0},
        ],
    });
    // The area moved: what b-n-e gives up, b-n-w takes (2 km of 0.01°).
    let mut got = plan["impact"].clone();
    let deltas = got["grids"].take();
    let area = |i: usize, when: &str| deltas[i][format!("area_m2_{when}")].as_f64();
    let given = area(0, "before").unwrap_or(0.0) - area(0, "after").unwrap_or(0.0);
    let taken = area(1, "after").unwrap_or(0.0) - area(1, "before").unwrap_or(0.0);
    assert!(
        (given - taken).abs() < 1.0 && (given / 5.08e6 - 1.0).abs() < 0.01,
        "{}: {deltas}",
        t.name
    );
    assert_eq!(got, impact, "{}: {plan}", t.name);
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["planned_on_version"], version);
    assert_eq!(plan["changed_grids"], json!(["b-n-e", "b-n-w"]));
    assert_eq!(
        snapshot(&w).await,
        before,
        "{}: a dry run changes nothing",
        t.name
    );

    // Applying reports the same impact and moves all three.
    let applied = import(&w.app, "mode=upsert", &moved)
        .await
        .expect(StatusCode::OK);
    assert_eq!(applied["impact"], plan["impact"], "{}", t.name);
    assert_eq!(applied["version"], version + 1);

    let doc = get(&w.app, &format!("/api/incidents/{}", w.incident))
        .await
        .expect(StatusCode::OK);
    let ids: Vec<Value> = doc["incident"]["grids"]
        .as_array()
        .expect("grids")
        .iter()
        .map(|g| g["id"].clone())
        .collect();
    assert_eq!(
        ids,
        vec![
            json!("t-sw"),
            json!("v-sw-w"),
            json!("g-sw-w-n"),
            json!("b-n-w")
        ]
    );
    // Handled by the basic grid: its leader is now the new grid's.
    assert_eq!(doc["incident"]["responsible"]["name"], "Leader b-n-w");
    let last = doc["history"]
        .as_array()
        .and_then(|h| h.last())
        .expect("history");
    assert_eq!(last["kind"], "regridded", "{}: {last}", t.name);
    assert_eq!(last["detail"]["from"], chain("b-n-e"));
    assert_eq!(last["detail"]["to"], chain("b-n-w"));
    let hazard = get(&w.app, &format!("/api/hazards/{}", w.hazard))
        .await
        .expect(StatusCode::OK);
    assert_eq!(hazard["properties"]["grid"], "b-n-w", "{hazard}");
    let route = get(&w.app, &format!("/api/routes/{}", w.route))
        .await
        .expect(StatusCode::OK);
    assert_eq!(route["features"][0]["properties"]["grids"], route_after);
    // The incident that lay in the part b-n-e kept is untouched.
    let stays = get(&w.app, &format!("/api/incidents/{}", w.stays))
        .await
        .expect(StatusCode::OK);
    assert_eq!(stays, before["stays"]);
    // The index was swapped: locate answers the new grid.
    let located = get(
        &w.app,
        &format!("/api/locate?lon={}&lat={}", INCIDENT_AT.0, INCIDENT_AT.1),
    )
    .await
    .expect(StatusCode::OK);
    assert!(located.to_string().contains("b-n-w"), "{located}");

    // The feed shows the grid change once, with the moves it made.
    let since = before["feed"]["latest"].as_i64().expect("latest");
    let feed = get(&w.app, &format!("/api/changes?since={since}"))
        .await
        .expect(StatusCode::OK);
    let kinds: Vec<(Value, Value)> = feed["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| (c["kind"].clone(), c["ids"].clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (json!("grids"), json!(["b-n-e", "b-n-w"])),
            (json!("incident"), json!([w.incident.to_string()])),
            (json!("hazard"), json!([w.hazard.to_string()])),
            (json!("route"), json!([w.route.to_string()])),
        ],
        "{}",
        t.name
    );
}

async fn a_failure_after_the_grids_are_written_changes_nothing(t: &TestStore) {
    let w = world(t).await;
    let before = snapshot(&w).await;
    let tile_before = get(&w.app, "/tiles/grids/12/3302/1613.mvt").await;
    w.state.grids().inject_failure_after_grids_written();
    let problem = import(&w.app, "mode=upsert", &north_basic_grids(106.035))
        .await
        .problem(StatusCode::INTERNAL_SERVER_ERROR);
    assert!(problem["detail"].is_string());
    assert_eq!(
        snapshot(&w).await,
        before,
        "{}: grids, incidents, hazard, route, feed, index and version are as before",
        t.name
    );
    let tile_after = get(&w.app, "/tiles/grids/12/3302/1613.mvt").await;
    assert_eq!(
        (tile_after.status, tile_after.body),
        (tile_before.status, tile_before.body)
    );
    // The same change then goes through.
    import(&w.app, "mode=upsert", &north_basic_grids(106.035))
        .await
        .expect(StatusCode::OK);
}

async fn empty_and_stranding_replaces_are_refused(t: &TestStore) {
    let w = world(t).await;
    let before = snapshot(&w).await;
    let problem = import(&w.app, "", &[])
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("would delete every grid")),
        "{problem}"
    );
    assert_eq!(
        snapshot(&w).await,
        before,
        "{}: after an empty replace",
        t.name
    );

    // A replace without t-sw's northern half: v-sw-w keeps only its south.
    let shrunk: Vec<Grid> = county()
        .into_iter()
        .filter(|g| !["g-sw-w-n", "b-n-w", "b-n-e"].contains(&g.id.as_str()))
        .map(|mut g| {
            if g.id.as_str() == "t-sw" {
                // An L: the south half and the north-east quarter.
                g.geometry = geo::MultiPolygon(vec![geo::Polygon::new(
                    support::ring(&[
                        (106.0, 34.6),
                        (106.1, 34.6),
                        (106.1, 34.7),
                        (106.05, 34.7),
                        (106.05, 34.65),
                        (106.0, 34.65),
                        (106.0, 34.6),
                    ]),
                    vec![],
                )]);
            } else if g.id.as_str() == "v-sw-w" {
                g.geometry = grid("x", 2, None, "", (106.0, 34.6), (106.05, 34.65)).geometry;
            }
            g
        })
        .collect();
    let problem = import(&w.app, "", &shrunk)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["type"], "urn:wangge:problem:grid-change-strands",
        "{}: {problem}",
        t.name
    );
    let stranded = &problem["stranded"];
    let ids = |what: &str| -> Vec<i64> {
        stranded[what]
            .as_array()
            .expect("a list")
            .iter()
            .map(|m| m["id"].as_i64().expect("id"))
            .collect()
    };
    let mut incidents = vec![w.incident, w.stays];
    incidents.sort();
    assert_eq!(ids("incidents"), incidents);
    assert_eq!(ids("hazards"), vec![w.hazard]);
    assert_eq!(ids("routes"), vec![w.route]);
    assert_eq!(
        snapshot(&w).await,
        before,
        "{}: after a stranding replace",
        t.name
    );
}

async fn two_changes_planned_on_one_version_cannot_both_commit(t: &TestStore) {
    let w = world(t).await;
    let version = get(&w.app, "/healthz").await.expect(StatusCode::OK)["grid_version"]
        .as_i64()
        .expect("version");
    // Another server on the same database: its own pool, index and feed.
    let other = AppState::open(t.reopen().await)
        .await
        .expect("a second state opens");
    let other_app = support::admin_app(other.clone());
    let first = import(
        &w.app,
        &format!("mode=upsert&version={version}"),
        &north_basic_grids(106.035),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(first["version"], version + 1);
    // The second was planned on the same version: refused, whichever
    // server it is sent to.
    for app in [&w.app, &other_app] {
        let problem = import(
            app,
            &format!("mode=upsert&version={version}"),
            &north_basic_grids(106.04),
        )
        .await
        .problem(StatusCode::CONFLICT);
        assert_eq!(
            problem["current_version"],
            version + 1,
            "{}: {problem}",
            t.name
        );
    }
    // Planned on the new version it goes through, from the other server,
    // and the first server catches up with it through the feed.
    other
        .feed()
        .catch_up()
        .await
        .expect("the other server follows the feed");
    import(
        &other_app,
        &format!("mode=upsert&version={}", version + 1),
        &north_basic_grids(106.04),
    )
    .await
    .expect(StatusCode::OK);
    w.state.feed().catch_up().await.expect("catches up");
    let located = get(&w.app, "/api/locate?lon=106.038&lat=34.67")
        .await
        .expect(StatusCode::OK);
    assert!(
        located.to_string().contains("b-n-w"),
        "{}: {located}",
        t.name
    );
    assert_eq!(w.state.index().version(), version + 2);
    other.begin_shutdown();
}

async fn the_feed_lists_every_change_in_order(t: &TestStore) {
    let w = world(t).await;
    let start = get(&w.app, "/api/changes").await.expect(StatusCode::OK)["latest"]
        .as_i64()
        .expect("latest");
    // A grid import, an incident report and an action, a hazard edit, a
    // route save, a patrol started and a check-in.
    import(&w.app, "mode=upsert", &north_basic_grids(106.035))
        .await
        .expect(StatusCode::OK);
    let incident = report(&w.app, STAYS_AT).await;
    post_change(
        &w.app,
        &format!("/api/incidents/{incident}/actions"),
        &json!({"action": "verify", "note": "属实"}),
    )
    .await
    .expect(StatusCode::OK);
    let hazard = get(&w.app, &format!("/api/hazards/{}", w.hazard))
        .await
        .expect(StatusCode::OK);
    let version = hazard["properties"]["version"].clone();
    send(
        &w.app,
        Request::patch(format!("/api/hazards/{}", w.hazard))
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"version": version, "description": "雨后复查"}).to_string(),
            ))
            .expect("a request"),
    )
    .await
    .expect(StatusCode::OK);
    let route = post_json(
        &w.app,
        "/api/routes",
        &json!({"name": "夜巡", "grid": "b-n-e", "shift": "night", "start": ROUTE_START,
            "stops": [{"hazard": w.hazard}]}),
    )
    .await
    .expect(StatusCode::CREATED)["features"][0]["id"]
        .as_i64()
        .expect("a route id");
    let patrol = post_json(&w.app, &format!("/api/routes/{route}/patrols"), &json!({}))
        .await
        .expect(StatusCode::CREATED)["id"]
        .as_i64()
        .expect("a patrol id");
    post_json(
        &w.app,
        &format!("/api/patrols/{patrol}/checkins"),
        &json!({"point": HAZARD_AT, "note": "已查看"}),
    )
    .await
    .expect(StatusCode::OK);

    // Read two at a time, as a client catching up would.
    let mut seen = Vec::new();
    let mut since = start;
    loop {
        let page = get(&w.app, &format!("/api/changes?since={since}&limit=2"))
            .await
            .expect(StatusCode::OK);
        let changes = page["changes"].as_array().expect("changes").clone();
        if changes.is_empty() {
            break;
        }
        for c in &changes {
            let seq = c["seq"].as_i64().expect("seq");
            assert!(seq > since, "{}: sequence numbers increase", t.name);
            since = seq;
            seen.push((
                c["kind"].as_str().unwrap_or("").to_owned(),
                c["ids"].clone(),
            ));
        }
        assert_eq!(page["next"], since);
    }
    let s = |id: i64| json!([id.to_string()]);
    assert_eq!(
        seen,
        vec![
            ("grids".into(), json!(["b-n-e", "b-n-w"])),
            ("incident".into(), s(w.incident)),
            ("hazard".into(), s(w.hazard)),
            ("route".into(), s(w.route)),
            ("incident".into(), s(incident)),
            ("incident".into(), s(incident)),
            ("hazard".into(), s(w.hazard)),
            ("route".into(), s(route)),
            ("patrol".into(), s(patrol)),
            ("patrol".into(), s(patrol)),
            ("hazard".into(), s(w.hazard)),
        ],
        "{}",
        t.name
    );
    let bad = get(&w.app, "/api/changes?limit=0")
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(bad["parameter"], "limit");
}

/// Another server redraws the border; a report this server locates in its
/// old grids before it has followed the feed is refused by the store (the
/// grid-set version moved) and located again: it is stored in the new grid.
async fn a_write_located_in_old_grids_is_located_again(t: &TestStore) {
    let w = world(t).await;
    // Another server moves the border each time just before this one (which
    // has not caught up: it does not follow the feed in tests) writes: the
    // store refuses the write located in the old grids, and it is located
    // again in the new ones.
    let other = AppState::open(t.reopen().await)
        .await
        .expect("a second state opens");
    let other_app = support::admin_app(other.clone());
    let move_border = |border: f64| {
        let other_app = other_app.clone();
        async move {
            import(&other_app, "mode=upsert", &north_basic_grids(border))
                .await
                .expect(StatusCode::OK);
        }
    };

    move_border(106.035).await;
    let id = report(&w.app, INCIDENT_AT).await;
    let doc = get(&w.app, &format!("/api/incidents/{id}"))
        .await
        .expect(StatusCode::OK);
    let l4 = doc["incident"]["grids"][3]["id"].clone();
    assert_eq!(l4, "b-n-w", "{}: {doc}", t.name);
    assert_eq!(doc["incident"]["responsible"]["name"], "Leader b-n-w");

    move_border(106.025).await;
    let hazard = post_json(
        &w.app,
        "/api/hazards",
        &json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": HAZARD_AT},
            "properties": {"name": "渠边", "category": "river_bank", "risk": "general"}}),
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(
        hazard["features"][0]["properties"]["grid"], "b-n-e",
        "{}: {hazard}",
        t.name
    );

    move_border(106.035).await;
    let route = post_json(
        &w.app,
        "/api/routes",
        &json!({"name": "跨界巡查", "grid": "g-sw-w-n", "shift": "day", "start": ROUTE_START,
            "stops": [{"name": "井口", "location": ROUTE_STOP}]}),
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(
        route["features"][0]["properties"]["grids"],
        json!(["t-sw", "v-sw-w", "g-sw-w-n", "b-n-e", "b-n-w"]),
        "{}: {route}",
        t.name
    );

    move_border(106.025).await;
    let hazard_id = w.hazard;
    let current = get(&w.app, &format!("/api/hazards/{hazard_id}"))
        .await
        .expect(StatusCode::OK);
    let moved = send(
        &w.app,
        Request::patch(format!("/api/hazards/{hazard_id}"))
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"version": current["properties"]["version"], "location": [106.03, 34.66]})
                    .to_string(),
            ))
            .expect("a request"),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(moved["properties"]["grid"], "b-n-e", "{}: {moved}", t.name);
    other.begin_shutdown();
}

/// An entry of a kind this version does not know (a newer wangge on the
/// same database) and an entry naming an incident whose row is damaged do
/// not stop the server following the feed: it passes over both, logs them,
/// counts them in `/healthz`, and applies what comes after. The feed lists
/// the unknown entry as `unreadable`, saying why.
async fn the_feed_passes_over_what_it_cannot_read(t: &TestStore) {
    let w = world(t).await;
    t.execute_raw(
        "INSERT INTO changes (kind, ids, actor, at, summary) \
         VALUES ('boundary_vote', '[\"7\"]', 'wangge 2', 1780000000000, 'a vote')",
    )
    .await;
    t.execute_raw(&format!(
        "UPDATE incidents SET source = 'carrier pigeon' WHERE id = {}",
        w.stays
    ))
    .await;
    t.execute_raw(&format!(
        "INSERT INTO changes (kind, ids, actor, at, summary) \
         VALUES ('incident', '[\"{}\"]', 'another server', 1780000000000, 'noted')",
        w.stays
    ))
    .await;
    // A report after them, from this server: it is applied only once the
    // two entries before it have been passed over.
    let after = report(&w.app, INCIDENT_AT).await;
    let feed = get(&w.app, "/api/changes?limit=1000")
        .await
        .expect(StatusCode::OK);
    let latest = feed["latest"].as_i64().expect("latest");
    let health = get(&w.app, "/healthz").await.expect(StatusCode::OK);
    assert_eq!(
        (
            health["change"].as_i64(),
            health["changes_skipped"].as_u64()
        ),
        (Some(latest), Some(2)),
        "{}: {health}",
        t.name
    );
    let entries = feed["changes"].as_array().expect("entries");
    let unknown = entries
        .iter()
        .find(|c| c["actor"] == "wangge 2")
        .expect("the unknown entry is listed");
    assert_eq!(unknown["kind"], "unreadable", "{}", t.name);
    let summary = unknown["summary"].as_str().expect("a summary");
    assert!(
        summary.contains("\"boundary_vote\"") && summary.ends_with("a vote"),
        "{}: {summary}",
        t.name
    );
    let last = entries.last().expect("entries");
    assert_eq!(
        (last["kind"].as_str(), last["ids"][0].as_str()),
        (Some("incident"), Some(after.to_string().as_str())),
        "{}",
        t.name
    );
    // And following on from there works as before.
    w.state.feed().catch_up().await.expect("catches up");
    assert_eq!(w.state.feed().skipped(), 2, "{}", t.name);
}
