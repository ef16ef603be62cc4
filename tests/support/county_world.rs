//! A small county with things lying in it, for the tests of grid changes
//! and boundary edits: the four towns, with g-sw-w-n split into two basic
//! grids (b-n-w | b-n-e at 106.025), an open incident, a hazard and a saved
//! route in b-n-e, a control incident that stays there, and a snapshot of
//! everything a grid change could touch, as the API shows it.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use wangge::model::Grid;
use wangge::model::geojson::grids_to_feature_collection;
use wangge::state::AppState;
use wangge::store::WriteMode;

use super::TestStore;
use super::four_towns::{four_towns, grid};
use super::http::{get, post_json, send};

pub const INCIDENT_AT: (f64, f64) = (106.03, 34.675);
pub const HAZARD_AT: [f64; 2] = [106.028, 34.66];
pub const ROUTE_START: [f64; 2] = [106.04, 34.68];
pub const ROUTE_STOP: [f64; 2] = [106.03, 34.69];
/// A second incident in b-n-e that stays there.
pub const STAYS_AT: (f64, f64) = (106.045, 34.69);

/// The two basic grids of g-sw-w-n, split at `border` (a longitude).
pub fn north_basic_grids(border: f64) -> [Grid; 2] {
    [
        grid(
            "b-n-w",
            4,
            Some("g-sw-w-n"),
            "北社西网格",
            (106.0, 34.65),
            (border, 34.7),
        ),
        grid(
            "b-n-e",
            4,
            Some("g-sw-w-n"),
            "北社东网格",
            (border, 34.65),
            (106.05, 34.7),
        ),
    ]
}

pub fn county() -> Vec<Grid> {
    let mut grids = four_towns();
    grids.extend(north_basic_grids(106.025));
    grids
}

/// The GeoJSON body of an import.
pub fn body(grids: &[Grid]) -> String {
    serde_json::to_string(&grids_to_feature_collection(grids)).expect("serialises")
}

/// Import `grids` with `query`, planned on the version the server holds
/// now unless the query names one.
pub async fn import(app: &Router, query: &str, grids: &[Grid]) -> super::http::Answer {
    let uri = super::http::with_grid_version(app, &format!("/api/grids/import?{query}")).await;
    send(
        app,
        Request::post(uri)
            .header("content-type", "application/geo+json")
            .body(Body::from(body(grids)))
            .expect("a request"),
    )
    .await
}

/// The state and router over `t` holding the county, with an open incident,
/// a hazard and a saved route in b-n-e (and a control incident that stays).
pub struct World {
    pub state: Arc<AppState>,
    pub app: Router,
    pub incident: i64,
    pub stays: i64,
    pub hazard: i64,
    pub route: i64,
}

pub async fn world(t: &TestStore) -> World {
    let state = AppState::open(t.store.clone()).await.expect("state opens");
    state
        .import_grids(county(), WriteMode::Replace)
        .await
        .expect("the fixture is a valid county");
    let app = crate::support::admin_app(state.clone());
    let incident = report(&app, INCIDENT_AT).await;
    let stays = report(&app, STAYS_AT).await;
    let hazard = post_json(
        &app,
        "/api/hazards",
        &json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": HAZARD_AT},
            "properties": {"name": "土坡", "category": "landslide", "risk": "major"}}),
    )
    .await
    .expect(StatusCode::CREATED)["features"][0]["id"]
        .as_i64()
        .expect("a hazard id");
    let route = post_json(
        &app,
        "/api/routes",
        &json!({"name": "东网格巡查", "grid": "b-n-e", "shift": "day", "start": ROUTE_START,
            "stops": [{"name": "井口", "location": ROUTE_STOP}]}),
    )
    .await
    .expect(StatusCode::CREATED)["features"][0]["id"]
        .as_i64()
        .expect("a route id");
    World {
        state,
        app,
        incident,
        stays,
        hazard,
        route,
    }
}

pub async fn report(app: &Router, (lon, lat): (f64, f64)) -> i64 {
    let body = json!({"category": "sanitation", "description": "垃圾堆放", "lon": lon,
        "lat": lat, "source": "grid_member"});
    post_json(app, "/api/incidents", &body)
        .await
        .expect(StatusCode::CREATED)["incident"]["id"]
        .as_i64()
        .expect("an id")
}

/// Everything a grid change could touch, as the API shows it: the grids,
/// the incidents with their history, the hazard, the route, the feed, a
/// locate at the incident, the grid-set version.
pub async fn snapshot(w: &World) -> Value {
    let incident = get(&w.app, &format!("/api/incidents/{}", w.incident))
        .await
        .expect(StatusCode::OK);
    let stays = get(&w.app, &format!("/api/incidents/{}", w.stays))
        .await
        .expect(StatusCode::OK);
    let mut health = get(&w.app, "/healthz").await.expect(StatusCode::OK);
    health["change"] = Value::Null;
    json!({
        "grids": get(&w.app, "/api/grids/export").await.expect(StatusCode::OK),
        "incident": incident,
        "stays": stays,
        "hazard": get(&w.app, &format!("/api/hazards/{}", w.hazard)).await.expect(StatusCode::OK),
        "route": get(&w.app, &format!("/api/routes/{}", w.route)).await.expect(StatusCode::OK),
        "feed": get(&w.app, "/api/changes?limit=1000").await.expect(StatusCode::OK),
        "locate": get(&w.app, &format!("/api/locate?lon={}&lat={}", INCIDENT_AT.0, INCIDENT_AT.1))
            .await.expect(StatusCode::OK),
        "health": health,
    })
}

/// The body of `POST /api/grids/edits` moving one vertex at `level`.
pub fn vertex_edit(version: i64, level: i64, from: [f64; 2], to: [f64; 2]) -> Value {
    json!({"version": version,
        "edit": {"op": "move_vertices", "level": level, "moves": [{"from": from, "to": to}]}})
}

pub fn chain(l4: &str) -> Value {
    json!(["t-sw", "v-sw-w", "g-sw-w-n", l4, null])
}
