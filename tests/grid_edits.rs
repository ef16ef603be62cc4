//! Boundary edits on both backends, through `POST /api/grids/edits`: every
//! kind of edit (a shared vertex moved, a grid split and merged back, a
//! grid handed to the neighbouring parent, a sub-area created and deleted)
//! leaves each level a partition of its parent (areas add up within 1 m²,
//! no overlaps, shared borders vertex for vertex on both sides), its dry
//! run answers the impact applying then reports; and each invalid edit (a
//! ring crossing itself, a child outside its parent, a gap, a sliver, an
//! edit drawn on an old version) is refused with nothing changed.
//!
//! The county is `support::county_world`: b-n-w | b-n-e at 106.025 inside
//! g-sw-w-n, with an incident (106.03, 34.675), a hazard (106.028, 34.66), a
//! route (106.04, 34.68) <-> (106.03, 34.69) and a control incident
//! (106.045, 34.69) in b-n-e.

#[macro_use]
mod support;

use std::collections::HashSet;

use axum::Router;
use axum::http::StatusCode;
use geo::{BoundingRect, ChamberlainDuquetteArea, Distance, Euclidean, Intersects, Point};
use serde_json::{Value, json};
use wangge::dispatch::events::ChangeKind;
use wangge::model::{Grid, Level};
use wangge::store::Backend;

use support::TestStore;
use support::county_world::*;
use support::four_towns::grid;
use support::http::{get, post_json};
use support::sse::EventReader;

conformance!(
    a_shared_border_vertex_moves_both_grids,
    a_vertex_on_one_side_only_is_refused_as_a_gap,
    a_grid_is_split_and_merged_back,
    a_split_cuts_the_children_it_crosses_when_asked,
    a_grid_moves_to_the_neighbouring_parent,
    sub_areas_are_created_and_deleted,
    a_sliver_is_refused,
);

/// The stored grids, as exported.
async fn stored(app: &Router) -> Vec<Grid> {
    let export = get(app, "/api/grids/export").await.expect(StatusCode::OK);
    wangge::import::parse_feature_collection(export.to_string().as_bytes())
        .expect("the export reads back")
}

/// Every level a partition of its parent, on the grids as stored: the
/// import's rules hold (valid, inside the parent, no sibling overlap), the
/// children of every grid above the sub-areas add up to its area within
/// 1 m² (on the sphere, with edges straight in longitude and latitude as
/// GeoJSON draws them: geodesic edges would bend a long parent edge away
/// from its children's shorter ones), and wherever two siblings touch, every vertex one has on the
/// other's border is a vertex of the other too.
async fn assert_partitions(w: &World, backend: &str) {
    let grids = stored(&w.app).await;
    wangge::import::validate(&[], grids.clone(), wangge::model::WriteMode::Replace)
        .unwrap_or_else(|e| panic!("{backend}: the stored grids break a rule: {e}"));
    for parent in &grids {
        let children: Vec<&Grid> = grids
            .iter()
            .filter(|c| c.parent_id.as_ref() == Some(&parent.id) && c.level != Level::SUB_AREA)
            .collect();
        if children.is_empty() {
            continue;
        }
        let sum: f64 = children
            .iter()
            .map(|c| c.geometry.chamberlain_duquette_unsigned_area())
            .sum();
        let whole = parent.geometry.chamberlain_duquette_unsigned_area();
        assert!(
            (sum - whole).abs() < 1.0,
            "{backend}: the children of {} cover {sum} m² of {whole} m²",
            parent.id
        );
    }
    let vertices = |g: &Grid| -> HashSet<(u64, u64)> {
        g.geometry
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter().map(|c| (c.x.to_bits(), c.y.to_bits())))
            .collect()
    };
    for a in &grids {
        for b in &grids {
            if a.id == b.id
                || a.parent_id != b.parent_id
                || a.level != b.level
                || !a
                    .geometry
                    .bounding_rect()
                    .zip(b.geometry.bounding_rect())
                    .is_some_and(|(ra, rb)| ra.intersects(&rb))
            {
                continue;
            }
            let of_b = vertices(b);
            let rings: Vec<&geo::LineString<f64>> = b
                .geometry
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .collect();
            for p in a.geometry.iter().flat_map(|p| p.exterior().0.iter()) {
                let on_b = rings
                    .iter()
                    .any(|r| Euclidean.distance(&Point::from(*p), *r) < 1e-9);
                assert!(
                    !on_b || of_b.contains(&(p.x.to_bits(), p.y.to_bits())),
                    "{backend}: {}'s vertex {p:?} lies on {}'s border but is not its vertex",
                    a.id,
                    b.id
                );
            }
        }
    }
}

async fn edit(app: &Router, query: &str, body: &Value) -> support::http::Answer {
    post_json(app, &format!("/api/grids/edits?{query}"), body).await
}

/// Moving the top end of the b-n-w | b-n-e border east (a level-4 edit):
/// both grids move with the vertex, the level stays a partition of its
/// parent, the dry run lists the incident, hazard and route it moves and
/// applying reports the same. Edits that would move the parent's border,
/// name no vertex, were drawn on an old version or would make a ring cross
/// itself are refused with nothing changed.
async fn a_shared_border_vertex_moves_both_grids(t: &TestStore) {
    let w = world(t).await;
    let before = snapshot(&w).await;
    let version = before["health"]["grid_version"].as_i64().expect("version");

    // Refused, nothing changed.
    let parent_corner = edit(
        &w.app,
        "",
        &vertex_edit(version, 4, [106.05, 34.7], [106.05, 34.71]),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let detail = parent_corner["detail"].as_str().expect("a detail");
    // The corner is also a corner of the level-2 grid v-sw-e east of it:
    // the shallowest border it is on says the level to edit at.
    assert!(
        detail.contains("v-sw-e") && detail.contains("edit at level 2"),
        "{detail}"
    );
    let nowhere = edit(
        &w.app,
        "",
        &vertex_edit(version, 4, [106.01, 34.69], [106.02, 34.69]),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nowhere["detail"]
            .as_str()
            .expect("detail")
            .contains("no grid of level 4")
    );
    let crossing = edit(
        &w.app,
        "",
        &vertex_edit(version, 4, [106.025, 34.7], [106.03, 34.6]),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        crossing["issues"].as_array().is_some_and(|i| !i.is_empty()),
        "{crossing}"
    );
    let stale = edit(
        &w.app,
        "",
        &vertex_edit(version - 1, 4, [106.025, 34.7], [106.045, 34.7]),
    )
    .await
    .expect(StatusCode::CONFLICT);
    assert_eq!(stale["current_version"], version, "{stale}");
    assert_eq!(
        snapshot(&w).await,
        before,
        "{}: a refused edit changed something",
        t.name
    );

    // The dry run, then the edit.
    let move_top = vertex_edit(version, 4, [106.025, 34.7], [106.045, 34.7]);
    let plan = edit(&w.app, "dry_run=true", &move_top)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        snapshot(&w).await,
        before,
        "{}: a dry run changed something",
        t.name
    );
    assert_eq!(plan["changed_grids"], json!(["b-n-e", "b-n-w"]), "{plan}");
    let impact = &plan["impact"];
    assert_eq!(
        impact["incidents"],
        json!([{"id": w.incident, "from": chain("b-n-e"), "to": chain("b-n-w")}]),
        "{}: {plan}",
        t.name
    );
    assert_eq!(
        impact["hazards"],
        json!([{"id": w.hazard, "from": chain("b-n-e"), "to": chain("b-n-w")}])
    );
    assert_eq!(impact["routes"][0]["id"], w.route);
    let applied = edit(&w.app, "", &move_top).await.expect(StatusCode::OK);
    assert_eq!(applied["impact"], plan["impact"], "{}", t.name);
    assert_eq!(applied["version"], version + 1);
    assert_partitions(&w, t.name).await;

    // Both grids have the vertex, and still tile their parent exactly.
    let grids = get(&w.app, "/api/grids/export")
        .await
        .expect(StatusCode::OK);
    let area_of = |id: &str| -> f64 {
        let f = grids["features"]
            .as_array()
            .expect("features")
            .iter()
            .find(|f| f["id"] == id)
            .unwrap_or_else(|| panic!("{id} exported"));
        let geometry: geo::Geometry<f64> =
            serde_json::from_value::<geojson::Geometry>(f["geometry"].clone())
                .expect("GeoJSON")
                .try_into()
                .expect("a geometry");
        let text = f["geometry"].to_string();
        assert!(
            id == "g-sw-w-n" || text.contains("[106.045,34.7]"),
            "{id} lacks the moved vertex: {text}"
        );
        geo::Area::unsigned_area(&geometry)
    };
    let (west, east, parent) = (area_of("b-n-w"), area_of("b-n-e"), area_of("g-sw-w-n"));
    assert!(
        (west + east - parent).abs() < 1e-12,
        "{west} + {east} != {parent}"
    );
    assert!(
        (west - 0.05 * 0.035).abs() < 1e-12,
        "the border is a diagonal now: {west}"
    );
    let incident = get(&w.app, &format!("/api/incidents/{}", w.incident))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        incident["incident"]["grids"][3]["id"], "b-n-w",
        "{}",
        t.name
    );
}

/// A T-junction: b-n-w's ring has a vertex in the middle of the border
/// that b-n-e's ring passes straight through. Moving it moves b-n-w alone,
/// which would open a gap in g-sw-w-n: refused with the parent, the area
/// and the gap's outline, nothing changed.
async fn a_vertex_on_one_side_only_is_refused_as_a_gap(t: &TestStore) {
    let w = world(t).await;
    let [mut west, _] = north_basic_grids(106.025);
    let ring: Vec<(f64, f64)> = vec![
        (106.0, 34.65),
        (106.025, 34.65),
        (106.025, 34.675),
        (106.025, 34.7),
        (106.0, 34.7),
        (106.0, 34.65),
    ];
    west.geometry = geo::MultiPolygon::new(vec![geo::Polygon::new(ring.into(), vec![])]);
    import(&w.app, "mode=upsert", &[west])
        .await
        .expect(StatusCode::OK);
    let before = snapshot(&w).await;
    let version = before["health"]["grid_version"].as_i64().expect("version");
    let refused = edit(
        &w.app,
        "",
        &vertex_edit(version, 4, [106.025, 34.675], [106.02, 34.675]),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused["type"], "urn:wangge:problem:grid-change-gaps",
        "{refused}"
    );
    let gap = &refused["gaps"][0];
    assert_eq!(gap["parent"], "g-sw-w-n", "{refused}");
    // A triangle 0.005° wide and 0.05° tall at 34.7°N: about 127 ha.
    let opened = gap["opened_m2"].as_f64().expect("an area");
    assert!((opened / 1.27e6 - 1.0).abs() < 0.02, "{opened}");
    let drawn: geo::Geometry<f64> =
        serde_json::from_value::<geojson::Geometry>(gap["uncovered"].clone())
            .expect("GeoJSON")
            .try_into()
            .expect("a geometry");
    let drawn = geo::Area::unsigned_area(&drawn);
    assert!((drawn - 0.5 * 0.005 * 0.05).abs() < 1e-12, "{drawn}");
    assert_eq!(
        snapshot(&w).await,
        before,
        "{}: a refused edit changed something",
        t.name
    );
}

/// The grids of a point in `l4` under g-sw-w-n, without a sub-area.
fn path(l4: &str) -> Value {
    json!(["t-sw", "v-sw-w", "g-sw-w-n", l4])
}

fn version_of(snapshot: &Value) -> i64 {
    snapshot["health"]["grid_version"]
        .as_i64()
        .expect("a version")
}

/// The incident's grids, level 1 first (those it has).
async fn chain_of(w: &World, incident: i64) -> Value {
    let one = get(&w.app, &format!("/api/incidents/{incident}"))
        .await
        .expect(StatusCode::OK);
    let ids: Vec<Value> = one["incident"]["grids"]
        .as_array()
        .expect("grids")
        .iter()
        .map(|g| g["id"].clone())
        .collect();
    Value::Array(ids)
}

/// b-n-e cut at 34.685 from its west border (shared with b-n-w) to its
/// east border (shared with its parent): the north part is new (b-n-e-n,
/// with its own leader and a population given), the south keeps the id.
/// The control incident and the route's north stop move to the new grid;
/// the dry run says so and applying reports the same. Merging the two back
/// gives the old outline again (with the new vertex, which b-n-w keeps).
async fn a_grid_is_split_and_merged_back(t: &TestStore) {
    let w = world(t).await;
    let before = snapshot(&w).await;
    let version = version_of(&before);
    let split = json!({"version": version, "edit": {"op": "split", "grid": "b-n-e",
        "line": [[106.025, 34.685], [106.04, 34.685], [106.05, 34.685]],
        "parts": [
            {"id": "b-n-e-n", "name": "北社东北网格",
             "properties": {"code": "C-b-n-e-n",
                 "leader": {"name": "新网格长", "phone": "13900000001"}}},
            {"id": "b-n-e", "name": "北社东南网格"}]},
        "population": {"b-n-e-n": 420}});
    // A line that stops short of the east border is refused.
    let short = json!({"version": version, "edit": {"op": "split", "grid": "b-n-e",
        "line": [[106.025, 34.685], [106.045, 34.685]],
        "parts": [{"id": "x", "name": "x"}, {"id": "b-n-e", "name": "y"}]}});
    let refused = edit(&w.app, "", &short)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused["detail"]
            .as_str()
            .expect("detail")
            .contains("last point"),
        "{refused}"
    );
    assert_eq!(snapshot(&w).await, before, "{}", t.name);

    let plan = edit(&w.app, "dry_run=true", &split)
        .await
        .expect(StatusCode::OK);
    assert_eq!(snapshot(&w).await, before, "{}: a dry run wrote", t.name);
    assert_eq!(
        plan["changed_grids"],
        json!(["b-n-e", "b-n-e-n", "b-n-w", "g-sw-w-n"]),
        "{}: {plan}",
        t.name
    );
    assert_eq!(
        plan["impact"]["incidents"],
        json!([{"id": w.stays, "from": chain("b-n-e"), "to": chain("b-n-e-n")}]),
        "{}: {plan}",
        t.name
    );
    assert_eq!(plan["impact"]["hazards"], json!([]), "{plan}");
    assert_eq!(
        plan["impact"]["routes"],
        json!([{"id": w.route, "from": ["t-sw", "v-sw-w", "g-sw-w-n", "b-n-e"],
            "to": ["t-sw", "v-sw-w", "g-sw-w-n", "b-n-e", "b-n-e-n"]}]),
        "{plan}"
    );
    // The leaders: b-n-e's hands the control incident to the new grid's.
    assert_eq!(
        plan["impact"]["leaders"],
        json!([
            {"grid": "b-n-e", "leader": "Leader b-n-e", "gains": 0, "loses": 1},
            {"grid": "b-n-e-n", "leader": "新网格长", "gains": 1, "loses": 0},
        ]),
        "{}: {plan}",
        t.name
    );
    // The area moved: what b-n-e gives up is the new grid's, to the m².
    let delta = |id: &str| {
        plan["impact"]["grids"]
            .as_array()
            .expect("grids")
            .iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("{id} in {plan}"))
            .clone()
    };
    let (east, north) = (delta("b-n-e"), delta("b-n-e-n"));
    let area = |d: &Value, when: &str| d[format!("area_m2_{when}")].as_f64();
    let given_up =
        area(&east, "before").expect("a before") - area(&east, "after").expect("an after");
    assert!(
        (given_up - area(&north, "after").expect("an after")).abs() < 1.0,
        "{}: {east} {north}",
        t.name
    );
    assert_eq!(
        (
            north["area_m2_before"].clone(),
            north["population_after"].clone()
        ),
        (Value::Null, json!(420)),
        "{north}"
    );
    let mut live = w.state.live().subscribe();
    let applied = edit(&w.app, "", &split).await.expect(StatusCode::OK);
    assert_eq!(applied["impact"], plan["impact"], "{}", t.name);
    // The new grid's leader hears of the incident handed to it as of a new
    // report, through the incident event stream.
    let heard = live.try_recv().expect("an incident event");
    assert_eq!(
        (
            heard.kind,
            heard.incident.id.0,
            heard.incident.responsible.as_ref().map(|p| p.name.as_str())
        ),
        (ChangeKind::HandedOver, w.stays, Some("新网格长")),
        "{}",
        t.name
    );
    // A listener reconnecting from the grid change hears it too, as other
    // servers do: by the change feed's entry.
    let since = applied["change"].as_i64().expect("a change number");
    let mut replay = EventReader::reconnect(&w.app, since).await;
    assert_eq!(replay.next().await.kind, "ready");
    let missed = replay.next().await;
    let data: Value = serde_json::from_str(&missed.data).expect("JSON");
    assert_eq!(
        (missed.kind.as_str(), data["id"].as_i64()),
        ("handed_over", Some(w.stays)),
        "{}",
        t.name
    );
    assert_partitions(&w, t.name).await;
    let north = get(&w.app, "/api/grids/b-n-e-n")
        .await
        .expect(StatusCode::OK);
    let props = &north["grid"]["properties"];
    assert_eq!(
        (props["parent_id"].as_str(), props["population"].as_u64()),
        (Some("g-sw-w-n"), Some(420)),
        "{north}"
    );
    // The moved incident is now the new grid leader's.
    let stays = get(&w.app, &format!("/api/incidents/{}", w.stays))
        .await
        .expect(StatusCode::OK);
    assert_eq!(stays["incident"]["grids"][3]["id"], "b-n-e-n");
    assert_eq!(chain_of(&w, w.incident).await, path("b-n-e"));

    // Merged back under the old id: the old outline, both incidents home.
    let merged_version = applied["version"].as_i64().expect("a version");
    let merge = json!({"version": merged_version, "edit": {"op": "merge",
        "grids": ["b-n-e", "b-n-e-n"],
        "into": {"id": "b-n-e", "name": "北社东网格", "properties": {"code": "C-b-n-e"}}}});
    let applied = edit(&w.app, "", &merge).await.expect(StatusCode::OK);
    assert_eq!(
        applied["impact"]["incidents"],
        json!([{"id": w.stays, "from": chain("b-n-e-n"), "to": chain("b-n-e")}]),
        "{}: {applied}",
        t.name
    );
    assert_partitions(&w, t.name).await;
    get(&w.app, "/api/grids/b-n-e-n")
        .await
        .expect(StatusCode::NOT_FOUND);
    let grids = stored(&w.app).await;
    let east = grids
        .iter()
        .find(|g| g.id.as_str() == "b-n-e")
        .expect("b-n-e");
    let [_, original] = north_basic_grids(106.025);
    let (now, then) = (
        east.geometry.chamberlain_duquette_unsigned_area(),
        original.geometry.chamberlain_duquette_unsigned_area(),
    );
    assert!((now - then).abs() < 1.0, "{}: {now} vs {then}", t.name);
}

/// g-sw-w-n (level 3) cut west to east at 34.672, across both its basic
/// grids. Refused by default, naming them, with nothing changed; with
/// `straddling: "split"` both are cut too: north of the line they keep
/// their ids under g-sw-w-n, south of it b-n-w-2 and b-n-e-2 (b-n-e-2
/// with the id and name the request gives, b-n-w-2 with the default) under
/// the new g-sw-w-n-s. Every level still partitions its parent, the hazard
/// south of the line moves to b-n-e-2, the incidents north of it stay, and
/// the dry run answers what applying reports.
async fn a_split_cuts_the_children_it_crosses_when_asked(t: &TestStore) {
    let w = world(t).await;
    let before = snapshot(&w).await;
    let version = version_of(&before);
    let split = |straddling: Option<&str>| {
        let mut edit = json!({"op": "split", "grid": "g-sw-w-n",
            "line": [[106.0, 34.672], [106.05, 34.672]],
            "parts": [{"id": "g-sw-w-n", "name": "北社"},
                      {"id": "g-sw-w-n-s", "name": "北社南片"}],
            "child_parts": {"b-n-e": [{"id": "b-n-e", "name": "北社东网格"},
                                      {"id": "b-n-e-s", "name": "北社东南网格"}]}});
        if let Some(s) = straddling {
            edit["straddling"] = json!(s);
        }
        json!({"version": version, "edit": edit})
    };
    let refused = edit(&w.app, "", &split(None))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let detail = refused["detail"].as_str().expect("a detail");
    assert!(
        detail.contains("b-n-e") && detail.contains("b-n-w"),
        "{}: {refused}",
        t.name
    );
    assert_eq!(snapshot(&w).await, before, "{}", t.name);

    let cut = split(Some("split"));
    let plan = edit(&w.app, "dry_run=true", &cut)
        .await
        .expect(StatusCode::OK);
    assert_eq!(snapshot(&w).await, before, "{}: a dry run wrote", t.name);
    let changed: Vec<&str> = plan["changed_grids"]
        .as_array()
        .expect("changed grids")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for id in [
        "g-sw-w-n",
        "g-sw-w-n-s",
        "b-n-w",
        "b-n-w-2",
        "b-n-e",
        "b-n-e-s",
    ] {
        assert!(changed.contains(&id), "{}: {id} not in {plan}", t.name);
    }
    assert_eq!(
        plan["impact"]["hazards"],
        json!([{"id": w.hazard, "from": chain("b-n-e"),
            "to": ["t-sw", "v-sw-w", "g-sw-w-n-s", "b-n-e-s", null]}]),
        "{}: {plan}",
        t.name
    );
    assert_eq!(plan["impact"]["incidents"], json!([]), "{}: {plan}", t.name);
    let applied = edit(&w.app, "", &cut).await.expect(StatusCode::OK);
    assert_eq!(applied["impact"], plan["impact"], "{}", t.name);
    assert_partitions(&w, t.name).await;
    let grids = stored(&w.app).await;
    let parent_of = |id: &str| {
        grids
            .iter()
            .find(|g| g.id.as_str() == id)
            .unwrap_or_else(|| panic!("{}: {id} is not stored", t.name))
            .parent_id
            .as_ref()
            .map(|p| p.as_str().to_owned())
    };
    for (id, parent) in [
        ("b-n-w", "g-sw-w-n"),
        ("b-n-e", "g-sw-w-n"),
        ("b-n-w-2", "g-sw-w-n-s"),
        ("b-n-e-s", "g-sw-w-n-s"),
    ] {
        assert_eq!(parent_of(id).as_deref(), Some(parent), "{}: {id}", t.name);
    }
    let south_east = get(&w.app, "/api/grids/b-n-e-s")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        south_east["grid"]["properties"]["name"], "北社东南网格",
        "{south_east}"
    );
    let south_west = get(&w.app, "/api/grids/b-n-w-2")
        .await
        .expect(StatusCode::OK);
    let props = &south_west["grid"]["properties"];
    assert_eq!(
        (props["name"].as_str(), props["code"].as_str()),
        (Some("北社西网格-2"), None),
        "the default right part takes the name with -2 and no code: {south_west}"
    );
    assert_eq!(chain_of(&w, w.incident).await, path("b-n-e"));
}

/// b-n-e (level 4) handed from g-sw-w-n to g-sw-w-s, which it borders to
/// the south: g-sw-w-n shrinks to b-n-w's outline, g-sw-w-s takes b-n-e's
/// area, and what lies in b-n-e now has g-sw-w-s at level 3.
async fn a_grid_moves_to_the_neighbouring_parent(t: &TestStore) {
    let w = world(t).await;
    let before = snapshot(&w).await;
    let version = version_of(&before);
    let far = json!({"version": version,
        "edit": {"op": "reparent", "grid": "b-n-e", "parent": "g-sw-e-x"}});
    edit(&w.app, "", &far)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let to_south = json!({"version": version,
        "edit": {"op": "reparent", "grid": "b-n-e", "parent": "g-sw-w-s"}});
    let plan = edit(&w.app, "dry_run=true", &to_south)
        .await
        .expect(StatusCode::OK);
    assert_eq!(snapshot(&w).await, before, "{}", t.name);
    assert_eq!(
        plan["changed_grids"],
        // b-sw-w-s, b-n-e's new sibling, takes the vertex (106.025, 34.65)
        // b-n-e has on their shared border.
        json!(["b-n-e", "b-sw-w-s", "g-sw-w-n", "g-sw-w-s"]),
        "{plan}"
    );
    let applied = edit(&w.app, "", &to_south).await.expect(StatusCode::OK);
    assert_eq!(applied["impact"], plan["impact"], "{}", t.name);
    assert_partitions(&w, t.name).await;
    assert_eq!(
        chain_of(&w, w.incident).await,
        json!(["t-sw", "v-sw-w", "g-sw-w-s", "b-n-e"]),
        "{}",
        t.name
    );
    let grids = stored(&w.app).await;
    let area = |id: &str| {
        grids
            .iter()
            .find(|g| g.id.as_str() == id)
            .expect(id)
            .geometry
            .chamberlain_duquette_unsigned_area()
    };
    assert!((area("g-sw-w-n") - area("b-n-w")).abs() < 1.0, "{}", t.name);
}

/// A sub-area drawn inside b-n-e around the incident takes it at level 5;
/// one reaching outside b-n-e is refused naming its parent; deleting the
/// sub-area gives the incident back to b-n-e alone.
async fn sub_areas_are_created_and_deleted(t: &TestStore) {
    let w = world(t).await;
    let before = snapshot(&w).await;
    let version = version_of(&before);
    let sub_area = |id: &str, max_lon: f64| {
        let mut g = grid(
            id,
            5,
            Some("b-n-e"),
            "井口片区",
            (106.026, 34.665),
            (max_lon, 34.68),
        );
        g.properties.insert("population".into(), json!(80));
        let feature = &wangge::model::geojson::grids_to_feature_collection(&[g]).features[0];
        json!({"version": version, "edit": {"op": "create_sub_area", "feature": feature}})
    };
    let outside = edit(&w.app, "", &sub_area("s-out", 106.06))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        outside["issues"][0]["problem"]["kind"], "outside_parent",
        "{}: {outside}",
        t.name
    );
    // The part outside b-n-e, drawn: 0.01° × 0.015° east of 106.05.
    let part: geo::Geometry<f64> =
        serde_json::from_value::<geojson::Geometry>(outside["issues"][0]["geometry"].clone())
            .expect("GeoJSON")
            .try_into()
            .expect("a geometry");
    let drawn = geo::Area::unsigned_area(&part);
    assert!((drawn - 0.01 * 0.015).abs() < 1e-12, "{drawn}: {outside}");
    assert_eq!(snapshot(&w).await, before, "{}", t.name);

    let applied = edit(&w.app, "", &sub_area("s-3", 106.035))
        .await
        .expect(StatusCode::OK);
    assert_partitions(&w, t.name).await;
    assert_eq!(
        chain_of(&w, w.incident).await,
        json!(["t-sw", "v-sw-w", "g-sw-w-n", "b-n-e", "s-3"]),
        "{}",
        t.name
    );
    let version = applied["version"].as_i64().expect("a version");
    // Only sub-areas are deleted this way.
    let basic = json!({"version": version, "edit": {"op": "delete_sub_area", "grid": "b-n-e"}});
    edit(&w.app, "", &basic)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let delete = json!({"version": version, "edit": {"op": "delete_sub_area", "grid": "s-3"}});
    edit(&w.app, "", &delete).await.expect(StatusCode::OK);
    assert_eq!(chain_of(&w, w.incident).await, path("b-n-e"), "{}", t.name);
    get(&w.app, "/api/grids/s-3")
        .await
        .expect(StatusCode::NOT_FOUND);
}

/// A split line that cuts a corner 2 m across off b-n-w would leave a
/// part of about 2 m²: refused with the part drawn, nothing changed.
async fn a_sliver_is_refused(t: &TestStore) {
    let w = world(t).await;
    let before = snapshot(&w).await;
    let version = version_of(&before);
    let corner = json!({"version": version, "edit": {"op": "split", "grid": "b-n-w",
        "line": [[106.0, 34.69998], [106.00002, 34.7]],
        "parts": [{"id": "b-n-w", "name": "北社西网格"}, {"id": "b-n-w-c", "name": "角"}]}});
    let refused = edit(&w.app, "", &corner)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused["type"], "urn:wangge:problem:grid-change-slivers",
        "{refused}"
    );
    let sliver = &refused["slivers"][0];
    let area = sliver["area_m2"].as_f64().expect("an area");
    assert!((1.0..4.0).contains(&area), "{refused}");
    assert_eq!(sliver["part"]["type"], "Polygon", "{refused}");
    assert_eq!(snapshot(&w).await, before, "{}", t.name);
}
