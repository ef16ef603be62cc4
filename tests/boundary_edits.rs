//! Boundary edits on the demo county (2,403 grids as the generator draws
//! them, on the embedded store): a vertex shared by two basic grids, and by
//! no border above them, can be moved; both grids take it, the level still
//! tiles its parents, and the impact is listed. (The edit rules themselves
//! are tested on both backends in `grid_edits.rs`.)

mod support;

use std::time::Instant;

use geo::{Area, Coord};
use wangge::generate::{DEMO_SEED, generate};
use wangge::geom::LonLat;
use wangge::import::edit::{Edit, VertexMove};
use wangge::model::{Grid, Level, WriteMode};
use wangge::state::AppState;

/// A vertex of `grid`'s outer ring that exactly one other basic grid has
/// and no grid above: the ends of a stretch of inner border are not it.
fn inner_vertex(grids: &[Grid], grid: &Grid) -> Option<(Coord<f64>, Coord<f64>)> {
    let ring = &grid.geometry.0.first()?.exterior().0;
    let has = |g: &Grid, c: Coord<f64>| g.geometry.iter().any(|p| p.exterior().0.contains(&c));
    (1..ring.len() - 1).find_map(|i| {
        let c = ring[i];
        let sharing: Vec<&Grid> = grids.iter().filter(|g| has(g, c)).collect();
        let ok = sharing.len() == 2 && sharing.iter().all(|g| g.level.get() == 4);
        // Halfway to the midpoint of its neighbours: a small, local move.
        let (a, b) = (ring[i - 1], ring[i + 1]);
        let to = Coord {
            x: c.x + 0.5 * ((a.x + b.x) / 2.0 - c.x),
            y: c.y + 0.5 * ((a.y + b.y) / 2.0 - c.y),
        };
        (ok && to != c).then_some((c, to))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vertex_between_two_demo_basic_grids_moves_in_both() {
    let (store, _dir) = support::sqlite_store().await;
    let state = AppState::open(store).await.expect("state opens");
    let county = generate(DEMO_SEED);
    state
        .import_grids(county.clone(), WriteMode::Replace)
        .await
        .expect("the demo county imports");
    let basic: Vec<&Grid> = county
        .iter()
        .filter(|g| g.level == Level::new(4).expect("a level"))
        .collect();
    let (grid, (from, to)) = basic
        .iter()
        .take(50)
        .find_map(|g| inner_vertex(&county, g).map(|v| (*g, v)))
        .expect("some basic grid has an inner vertex");
    let version = state.index().version();
    let started = Instant::now();
    let plan = state
        .grids()
        .plan_edit(
            Edit::MoveVertices {
                level: Level::new(4).expect("a level"),
                moves: vec![VertexMove {
                    from: LonLat::new(from.x, from.y),
                    to: LonLat::new(to.x, to.y),
                }],
            },
            Default::default(),
            Some(version),
            "planner".into(),
        )
        .await
        .unwrap_or_else(|e| panic!("moving a vertex of {} is refused: {e}", grid.id));
    eprintln!("planned in {:.1?}", started.elapsed());
    assert_eq!(plan.changed_grids.len(), 2, "{:?}", plan.changed_grids);
    assert!(plan.changed_grids.contains(&grid.id));
    let applied = state.grids().apply(plan).await.expect("applied");
    eprintln!("planned and applied in {:.1?}", started.elapsed());
    assert_eq!(applied.version, version + 1);

    // The level still tiles the parent: the two grids' areas add up as before.
    let index = state.index();
    let area = |grids: &[Grid], ids: &[wangge::model::GridId]| -> f64 {
        grids
            .iter()
            .filter(|g| ids.contains(&g.id))
            .map(|g| g.geometry.unsigned_area())
            .sum()
    };
    let (old, new) = (
        area(&county, &applied.changed_grids),
        area(index.grids(), &applied.changed_grids),
    );
    assert!((old - new).abs() < 1e-15, "{old} vs {new}");
    let moved = index
        .grids()
        .iter()
        .filter(|g| g.geometry.iter().any(|p| p.exterior().0.contains(&to)))
        .count();
    assert_eq!(moved, 2, "both grids have the vertex where it went");
}
