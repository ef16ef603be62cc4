//! The four-town county most API tests use: small enough to reason about by
//! hand, a valid tiling (so it can be imported), with one branch that goes
//! down to sub-areas:
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

use geo::{MultiPolygon, Rect, coord};
use serde_json::{Map, json};
use wangge::model::{Grid, GridId, Level};

/// A square-cornered grid with a code and a leader.
pub fn grid(
    id: &str,
    level: i64,
    parent: Option<&str>,
    name: &str,
    min: (f64, f64),
    max: (f64, f64),
) -> Grid {
    let rect = Rect::new(coord! { x: min.0, y: min.1 }, coord! { x: max.0, y: max.1 });
    let mut properties = Map::new();
    properties.insert("code".into(), json!(format!("C-{id}")));
    properties.insert(
        "leader".into(),
        json!({"name": format!("Leader {id}"), "phone": "13800000000"}),
    );
    Grid {
        id: GridId::from(id),
        level: Level::new(level).expect("fixture levels are 1 to 5"),
        parent_id: parent.map(GridId::from),
        name: name.to_owned(),
        geometry: MultiPolygon(vec![rect.to_polygon()]),
        properties,
    }
}

/// The county in the module diagram: 11 grids.
pub fn four_towns() -> Vec<Grid> {
    vec![
        grid("t-sw", 1, None, "西南镇", (106.0, 34.6), (106.1, 34.7)),
        grid("t-se", 1, None, "东南镇", (106.1, 34.6), (106.2, 34.7)),
        grid("t-nw", 1, None, "西北镇", (106.0, 34.7), (106.1, 34.8)),
        grid("t-ne", 1, None, "东北镇", (106.1, 34.7), (106.2, 34.8)),
        grid(
            "v-sw-w",
            2,
            Some("t-sw"),
            "西村",
            (106.0, 34.6),
            (106.05, 34.7),
        ),
        grid(
            "v-sw-e",
            2,
            Some("t-sw"),
            "东村",
            (106.05, 34.6),
            (106.1, 34.7),
        ),
        grid(
            "g-sw-w-s",
            3,
            Some("v-sw-w"),
            "南社",
            (106.0, 34.6),
            (106.05, 34.65),
        ),
        grid(
            "g-sw-w-n",
            3,
            Some("v-sw-w"),
            "北社",
            (106.0, 34.65),
            (106.05, 34.7),
        ),
        grid(
            "b-sw-w-s",
            4,
            Some("g-sw-w-s"),
            "南社第一网格",
            (106.0, 34.6),
            (106.05, 34.65),
        ),
        grid(
            "s-1",
            5,
            Some("b-sw-w-s"),
            "一片区",
            (106.0, 34.6),
            (106.025, 34.65),
        ),
        grid(
            "s-2",
            5,
            Some("b-sw-w-s"),
            "二片区",
            (106.025, 34.6),
            (106.05, 34.65),
        ),
    ]
}

/// The state and router over `t` holding the four-town county.
pub async fn four_towns_app(
    t: &super::TestStore,
) -> (std::sync::Arc<wangge::state::AppState>, axum::Router) {
    let state = wangge::state::AppState::open(t.store.clone())
        .await
        .expect("state opens");
    state
        .import_grids(four_towns(), wangge::store::WriteMode::Replace)
        .await
        .expect("the fixture is a valid county");
    (state.clone(), crate::support::admin_app(state))
}
