//! Dated versions of the grids, on both backends: a change scheduled a few
//! seconds ahead is answered by `as_of` (locate, `GET /api/grids`, a vector
//! tile, OGC items with `datetime`) as the grids in force at each date,
//! before and after; it takes effect on its own when its time comes (the
//! incident in the grid moves with it), and restoring the grids as of the
//! start brings every old answer back. Scheduled changes guard the grids
//! they change: an edit that a scheduled one would undo is a 409 until it
//! is cancelled; bad times are refused by name.
//!
//! The county is `support::county_world`: b-n-w | b-n-e at 106.025; the
//! edit moves the top end of their border to 106.045, which hands the
//! incident at (106.03, 34.675) from b-n-e to b-n-w.

#[macro_use]
mod support;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};
use wangge::geom::Bbox;
use wangge::store::Backend;
use wangge::tiles::TileId;

use support::TestStore;
use support::county_world::*;
use support::http::{get, post_json, send};

conformance!(
    a_scheduled_change_is_answered_as_of_each_date_and_restored,
    a_scheduled_change_guards_its_grids_until_cancelled,
);

fn query_time(t: Timestamp) -> String {
    // `+` would read as a space in a query: the UTC form has none.
    t.to_string()
}

/// Everything the issue names, as of `at` (`None`: now): the chain at the
/// incident, the level-4 grids, the tiles over g-sw-w-n at zoom 14, and the
/// OGC basic grids' features.
async fn answers(app: &Router, at: Option<Timestamp>) -> Value {
    let (as_of, datetime) = match at {
        Some(t) => (
            format!("&as_of={}", query_time(t)),
            format!("&datetime={}", query_time(t)),
        ),
        None => (String::new(), String::new()),
    };
    let locate = get(
        app,
        &format!(
            "/api/locate?lon={}&lat={}{as_of}",
            INCIDENT_AT.0, INCIDENT_AT.1
        ),
    )
    .await
    .expect(StatusCode::OK);
    let grids = get(app, &format!("/api/grids?level=4{as_of}"))
        .await
        .expect(StatusCode::OK);
    let mut tiles = Vec::new();
    let area = Bbox {
        min_lon: 106.0,
        min_lat: 34.65,
        max_lon: 106.05,
        max_lat: 34.7,
    };
    for tile in TileId::covering(area, 14) {
        let path = format!(
            "/tiles/grids/{}/{}/{}.mvt?{}",
            tile.z,
            tile.x,
            tile.y,
            as_of.trim_start_matches('&')
        );
        let answer = get(app, &path).await;
        assert!(
            answer.status == StatusCode::OK || answer.status == StatusCode::NO_CONTENT,
            "{path}: {}",
            answer.status
        );
        tiles.push(Value::String(format!("{:x?}", answer.body.as_ref())));
    }
    let ogc = get(
        app,
        &format!("/ogc/collections/basic-grids/items?limit=100{datetime}"),
    )
    .await
    .expect(StatusCode::OK);
    json!({
        "chain": locate["chain"].as_array().expect("a chain").iter()
            .map(|g| g["id"].clone()).collect::<Vec<_>>(),
        "grids": grids["features"],
        "tiles": tiles,
        "ogc": ogc["features"],
    })
}

async fn versions(app: &Router) -> Vec<Value> {
    get(app, "/api/grids/versions").await.expect(StatusCode::OK)["revisions"]
        .as_array()
        .expect("revisions")
        .clone()
}

/// The grids as of a date scheduled a few seconds ahead and as of the
/// start answer each version; the change takes effect by itself, moving
/// the incident; a restore of the start brings the old answers back, and
/// the history keeps all three.
async fn a_scheduled_change_is_answered_as_of_each_date_and_restored(t: &TestStore) {
    let w = world(t).await;
    let start = Timestamp::now();
    let old = answers(&w.app, None).await;
    assert_eq!(
        old["chain"],
        json!(["t-sw", "v-sw-w", "g-sw-w-n", "b-n-e"]),
        "{}",
        t.name
    );
    assert_eq!(
        answers(&w.app, Some(start)).await,
        old,
        "{}: as of now",
        t.name
    );
    let version = get(&w.app, "/healthz").await.expect(StatusCode::OK)["grid_version"]
        .as_i64()
        .expect("a version");

    // Scheduled six seconds ahead, with a reason.
    let effective = Timestamp::now() + 6.seconds();
    let mut edit = vertex_edit(version, 4, [106.025, 34.7], [106.045, 34.7]);
    edit["effective"] = json!(query_time(effective));
    edit["reason"] = json!("东网格人口增长，边界东移");
    let scheduled = post_json(&w.app, "/api/grids/edits", &edit)
        .await
        .expect(StatusCode::OK);
    assert_eq!(scheduled["scheduled"], true, "{scheduled}");
    assert_eq!(scheduled["changed_grids"], json!(["b-n-e", "b-n-w"]));
    assert_eq!(
        scheduled["impact"]["incidents"][0]["to"],
        chain("b-n-w"),
        "{}: the impact says what it will move",
        t.name
    );
    let revision = scheduled["version"].as_i64().expect("a revision");
    let incident = format!("/api/incidents/{}", w.incident);
    if Timestamp::now() < effective - 2.seconds() {
        // Not in force yet: the current answers are the old ones.
        assert_eq!(
            answers(&w.app, None).await,
            old,
            "{}: before its date",
            t.name
        );
        let listed = versions(&w.app).await;
        let last = listed.last().expect("revisions");
        assert_eq!(last["revision"], revision);
        assert_eq!(last["state"], "scheduled", "{last}");
        assert_eq!(last["reason"], "东网格人口增长，边界东移");
    }

    // As of each date, whatever the clock says now.
    assert_eq!(
        answers(&w.app, Some(effective - 1.millisecond())).await,
        old,
        "{}: the moment before it takes effect",
        t.name
    );
    let new = answers(&w.app, Some(effective)).await;
    assert_eq!(
        new["chain"],
        json!(["t-sw", "v-sw-w", "g-sw-w-n", "b-n-w"]),
        "{}",
        t.name
    );
    for part in ["grids", "tiles", "ogc"] {
        assert_ne!(new[part], old[part], "{}: {part} as of its date", t.name);
    }
    let in_2030 = "2030-01-01";
    let later = get(
        &w.app,
        &format!(
            "/api/locate?lon={}&lat={}&as_of={in_2030}",
            INCIDENT_AT.0, INCIDENT_AT.1
        ),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(later["chain"][3]["id"], "b-n-w", "a date form, years on");

    // It takes effect by itself (the server looks every second).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let listed = versions(&w.app).await;
        let it = listed
            .iter()
            .find(|r| r["revision"] == revision)
            .expect("listed");
        if it["state"] == "applied" {
            assert!(it["applied_at"].is_string(), "{it}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}: not applied a minute after its date: {it}",
            t.name
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(answers(&w.app, None).await, new, "{}: in force", t.name);
    let moved = get(&w.app, &incident).await.expect(StatusCode::OK);
    assert_eq!(
        moved["incident"]["grids"][3]["id"], "b-n-w",
        "{}: the incident moved with the grids",
        t.name
    );

    // The revision shows both grids before and after.
    let detail = get(&w.app, &format!("/api/grids/versions/{revision}"))
        .await
        .expect(StatusCode::OK);
    let ids: Vec<&Value> = detail["grids"]
        .as_array()
        .expect("grids")
        .iter()
        .map(|g| &g["id"])
        .collect();
    assert_eq!(ids, [&json!("b-n-e"), &json!("b-n-w")], "{detail}");
    assert!(
        detail["grids"][1]["after"]["geometry"]
            .to_string()
            .contains("[106.045,34.7]")
            && !detail["grids"][1]["before"]["geometry"]
                .to_string()
                .contains("[106.045,34.7]"),
        "{detail}"
    );

    // Restore the start: every old answer comes back, the incident too.
    let version = get(&w.app, "/healthz").await.expect(StatusCode::OK)["grid_version"]
        .as_i64()
        .expect("a version");
    let restore = json!({"version": version, "as_of": query_time(start),
        "reason": "恢复原边界"});
    let planned = post_json(&w.app, "/api/grids/restore?dry_run=true", &restore)
        .await
        .expect(StatusCode::OK);
    let restored = post_json(&w.app, "/api/grids/restore", &restore)
        .await
        .expect(StatusCode::OK);
    assert_eq!(restored["impact"], planned["impact"], "{}", t.name);
    assert_eq!(restored["changed_grids"], json!(["b-n-e", "b-n-w"]));
    assert_eq!(answers(&w.app, None).await, old, "{}: restored", t.name);
    let back = get(&w.app, &incident).await.expect(StatusCode::OK);
    assert_eq!(back["incident"]["grids"][3]["id"], "b-n-e", "{}", t.name);
    // The history keeps the version that was in force between.
    assert_eq!(
        answers(&w.app, Some(effective)).await["chain"],
        new["chain"],
        "{}",
        t.name
    );
    let listed = versions(&w.app).await;
    let last = listed.last().expect("revisions");
    assert_eq!(last["reason"], "恢复原边界");
    assert_eq!(last["state"], "applied");
    // Nothing to restore now: the grids as of the start are in force.
    let version = restored["version"].as_i64().expect("a version");
    let again = json!({"version": version, "as_of": query_time(start)});
    let nothing = post_json(&w.app, "/api/grids/restore", &again)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nothing["detail"]
            .as_str()
            .is_some_and(|d| d.contains("nothing to restore")),
        "{nothing}"
    );
    let before_any = json!({"version": version, "as_of": "2001-01-01"});
    post_json(&w.app, "/api/grids/restore", &before_any)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

/// A change scheduled for 2030 holds its grids: an edit of them now is a
/// 409 naming it (it would undo the edit), one elsewhere is not; it can be
/// cancelled on the current version only, an applied revision cannot be;
/// after cancelling, the edit goes through. Bad times are 400s naming the
/// parameter.
async fn a_scheduled_change_guards_its_grids_until_cancelled(t: &TestStore) {
    let w = world(t).await;
    let version = get(&w.app, "/healthz").await.expect(StatusCode::OK)["grid_version"]
        .as_i64()
        .expect("a version");
    let mut edit = vertex_edit(version, 4, [106.025, 34.7], [106.045, 34.7]);
    edit["effective"] = json!("2030-01-01");
    let scheduled = post_json(&w.app, "/api/grids/edits", &edit)
        .await
        .expect(StatusCode::OK);
    let revision = scheduled["version"].as_i64().expect("a revision");
    let effective: Timestamp = scheduled["effective_at"]
        .as_str()
        .expect("a time")
        .parse()
        .expect("RFC 3339");
    assert_eq!(
        effective,
        "2029-12-31T16:00:00Z".parse::<Timestamp>().expect("a time"),
        "a date is its first moment in China Standard Time"
    );

    // Now: the lower end of the same border.
    let now_edit = vertex_edit(revision, 4, [106.025, 34.65], [106.02, 34.65]);
    let refused = post_json(&w.app, "/api/grids/edits", &now_edit)
        .await
        .problem(StatusCode::CONFLICT);
    let detail = refused["detail"].as_str().expect("a detail");
    assert!(
        detail.contains(&format!("grid revision {revision}")) && detail.contains("b-n-e"),
        "{}: {detail}",
        t.name
    );

    // Cancelling: an old version is a 409, an applied revision a 422.
    let cancel = |v: i64, r: i64| {
        let app = w.app.clone();
        async move {
            send(
                &app,
                axum::http::Request::delete(format!("/api/grids/versions/{r}?version={v}"))
                    .body(axum::body::Body::empty())
                    .expect("a request"),
            )
            .await
        }
    };
    cancel(version, revision)
        .await
        .problem(StatusCode::CONFLICT);
    let first = versions(&w.app).await[0]["revision"]
        .as_i64()
        .expect("a revision");
    cancel(revision, first)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let cancelled = cancel(revision, revision).await.expect(StatusCode::OK);
    assert_eq!(cancelled["revision"], revision);
    let listed = versions(&w.app).await;
    assert!(
        listed.iter().all(|r| r["revision"] != revision),
        "{}: cancelled, not listed: {listed:?}",
        t.name
    );
    let located_2030 = get(
        &w.app,
        &format!(
            "/api/locate?lon={}&lat={}&as_of=2030-06-01",
            INCIDENT_AT.0, INCIDENT_AT.1
        ),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(located_2030["chain"][3]["id"], "b-n-e", "{}", t.name);

    let current = cancelled["version"].as_i64().expect("a version");
    let now_edit = vertex_edit(current, 4, [106.025, 34.65], [106.02, 34.65]);
    post_json(&w.app, "/api/grids/edits", &now_edit)
        .await
        .expect(StatusCode::OK);

    // A whole-set replace is recorded as what it changed; the revisions
    // folded still give exactly the stored set.
    let mut moved = county();
    moved.retain(|g| g.id.as_str() != "b-n-w" && g.id.as_str() != "b-n-e");
    moved.extend(north_basic_grids(106.03));
    let replaced = import(&w.app, "mode=replace", &moved)
        .await
        .expect(StatusCode::OK);
    let changed = replaced["changed_grids"].as_array().expect("changed").len();
    let listed = versions(&w.app).await;
    let last = listed.last().expect("revisions");
    assert!(
        changed < moved.len() && last["written"] == changed,
        "{}: only the {changed} changed grids are recorded: {last}",
        t.name
    );
    let folded = t
        .store
        .grids_as_of(Timestamp::now())
        .await
        .expect("the history reads");
    let stored = t.store.load_grids().await.expect("the grids read");
    assert_eq!(
        folded, stored,
        "{}: the history folds to the stored set",
        t.name
    );

    // Bad times, by name.
    for (path, parameter) in [
        ("/api/grids?as_of=yesterday", "as_of"),
        (
            "/api/locate?lon=106.03&lat=34.675&as_of=2026-13-01",
            "as_of",
        ),
        ("/tiles/grids/14/0/0.mvt?as_of=soon", "as_of"),
        (
            "/ogc/collections/basic-grids/items?datetime=2026-01-01T00:00:00Z/..",
            "datetime",
        ),
        // A grid collection holds one version at a time: no intervals.
        (
            "/ogc/collections/towns/items?datetime=2026-01-01/2026-02-01",
            "datetime",
        ),
    ] {
        let problem = get(&w.app, path).await.problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["parameter"], parameter, "{path}: {problem}");
    }
    let mut bad = vertex_edit(current + 1, 4, [106.045, 34.65], [106.04, 34.65]);
    bad["effective"] = json!("next week");
    let problem = post_json(&w.app, "/api/grids/edits", &bad)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["parameter"], "effective", "{problem}");
}
