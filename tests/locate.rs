//! Locate against oracles: the raster never changes an answer of the exact
//! walk, the exact walk agrees with a brute-force covers test (geo's
//! `CoordinatePosition`) over every grid, and points on shared edges and
//! vertices get exactly one owner per level. Small hand-made sets pin the
//! named edge cases.

use std::sync::OnceLock;

use geo::{
    Coord, CoordinatePosition, CoordsIter, MultiPolygon, Polygon, coordinate_position::CoordPos,
    polygon,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Map;
use wangge::generate::{DEMO_SEED, generate};
use wangge::geom::{Bbox, LonLat};
use wangge::index::rule::PreparedShape;
use wangge::index::{Chain, GridIndex};
use wangge::model::{Grid, GridId, Level};

fn demo() -> &'static GridIndex {
    static INDEX: OnceLock<GridIndex> = OnceLock::new();
    INDEX.get_or_init(|| GridIndex::build(generate(DEMO_SEED)))
}

fn random_points(n: usize, seed: u64) -> Vec<LonLat> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            LonLat::new(
                rng.random_range(105.85..106.45),
                rng.random_range(34.50..34.95),
            )
        })
        .collect()
}

/// Grids of each level that cover `p` (interior or boundary), by brute force
/// over every grid (a bounding-box test first, then geo's exact position).
fn covering(index: &GridIndex, p: LonLat) -> [Vec<u32>; 5] {
    static BOXES: OnceLock<Vec<Bbox>> = OnceLock::new();
    let boxes = BOXES.get_or_init(|| {
        demo()
            .grids()
            .iter()
            .map(|g| Bbox::of(&g.geometry).expect("grids are not empty"))
            .collect()
    });
    let mut out: [Vec<u32>; 5] = Default::default();
    let c = Coord::from(p);
    for (ix, g) in index.grids().iter().enumerate() {
        let inside_box = !std::ptr::eq(index, demo()) || boxes[ix].contains(p);
        if inside_box && g.geometry.coordinate_position(&c) != CoordPos::Outside {
            out[g.level.index()].push(ix as u32);
        }
    }
    out
}

/// The raster answers exactly as the exact walk does, for 200,000 random points.
#[test]
fn raster_never_changes_an_answer() {
    let index = demo();
    for p in random_points(200_000, 1) {
        assert_eq!(index.locate(p), index.locate_exact(p), "{p:?}");
    }
    eprintln!(
        "mixed raster cells: {:.1}%",
        100.0 * index.raster_mixed_fraction()
    );
}

/// An index rebuilt after a boundary edit (the unchanged grids' shapes and
/// the raster kept, the raster's cells over the changed area made again) answers
/// every point as an index built afresh from the same grids: 200,000
/// points over the county and a dense patch around the moved vertex, by
/// both the raster path and the exact walk. A changed grid reaching outside
/// the raster, and a set with other ids, are built afresh, and answer the
/// same too.
#[test]
fn an_index_rebuilt_after_an_edit_answers_as_one_built_afresh() {
    let before = demo();
    // A vertex two basic grids share: moved 180 m east in both (a border
    // edit as the grid service draws it).
    let basic = Level::new(4).expect("a level");
    let grids = before.grids();
    let (vertex, owners) = grids
        .iter()
        .filter(|g| g.level == basic)
        .flat_map(|g| g.geometry.exterior_coords_iter())
        .find_map(|c| {
            let owners: Vec<usize> = grids
                .iter()
                .enumerate()
                .filter(|(_, g)| {
                    g.level == basic && g.geometry.exterior_coords_iter().any(|d| d == c)
                })
                .map(|(i, _)| i)
                .collect();
            (owners.len() == 2).then_some((c, owners))
        })
        .expect("two basic grids share a vertex");
    let moved_to = Coord {
        x: vertex.x + 0.002,
        y: vertex.y,
    };
    let mut edited = grids.to_vec();
    for &i in &owners {
        use geo::MapCoordsInPlace;
        edited[i]
            .geometry
            .map_coords_in_place(|c| if c == vertex { moved_to } else { c });
    }
    let rebuilt = before.rebuilt(edited.clone());
    let fresh = GridIndex::build(edited.clone());
    let mut points = random_points(200_000, 11);
    for i in 0..100 {
        for j in 0..100 {
            points.push(LonLat::new(
                vertex.x - 0.001 + f64::from(i) * 0.00004,
                vertex.y - 0.002 + f64::from(j) * 0.00004,
            ));
        }
    }
    for p in &points {
        assert_eq!(rebuilt.locate(*p), fresh.locate(*p), "{p:?}");
        assert_eq!(rebuilt.locate_exact(*p), fresh.locate(*p), "{p:?}");
    }
    assert_eq!(
        rebuilt.locate(LonLat::new(moved_to.x - 0.00005, moved_to.y)),
        fresh.locate(LonLat::new(moved_to.x - 0.00005, moved_to.y))
    );

    // Forty edits in a row, to and fro, each repairing the raster the one
    // before left (a day of planning): the raster stays the one a fresh
    // build makes, the same cells mixed, and answers alike.
    let ids: Vec<GridId> = owners.iter().map(|&i| grids[i].id.clone()).collect();
    let mut repaired = before.rebuilt_changing(edited.clone(), &ids);
    for n in 0..40 {
        let set = if n % 2 == 0 {
            grids.to_vec()
        } else {
            edited.clone()
        };
        repaired = repaired.rebuilt_changing(set, &ids);
    }
    assert_eq!(
        repaired.raster_mixed_fraction(),
        fresh.raster_mixed_fraction(),
        "a repaired raster has other cells mixed than a fresh one"
    );
    for p in &points {
        assert_eq!(repaired.locate(*p), fresh.locate(*p), "{p:?}");
    }

    // A town pushed out past the county's edge, and a set without one grid.
    let mut outward = grids.to_vec();
    let town = outward
        .iter()
        .position(|g| g.level == Level::TOWN)
        .expect("a town");
    let far = Coord { x: 107.0, y: 35.5 };
    outward[town].geometry.0[0].exterior_mut(|ring| ring.0.insert(1, far));
    let rebuilt = before.rebuilt(outward.clone());
    let fresh = GridIndex::build(outward);
    let beyond = LonLat::new(106.9, 35.4);
    assert_eq!(rebuilt.locate(beyond), fresh.locate(beyond));
    let mut fewer = grids.to_vec();
    fewer.pop();
    let rebuilt = before.rebuilt(fewer.clone());
    let fresh = GridIndex::build(fewer);
    for p in random_points(20_000, 12) {
        assert_eq!(rebuilt.locate(p), fresh.locate(p), "{p:?}");
    }
}

/// Each chain is consistent: every answer is the parent of the next.
#[test]
fn chains_are_consistent() {
    let index = demo();
    let mut inside = 0;
    for p in random_points(50_000, 2) {
        let chain = index.locate(p);
        for level in 1..5 {
            if let Some(child) = chain.0[level] {
                assert_eq!(index.parent_of(child), chain.0[level - 1], "{p:?}");
            }
        }
        if !chain.is_empty() {
            inside += 1;
            // The demo county tiles every level-4 grid, so levels 1-4 are always there.
            assert!(chain.0[3].is_some(), "{p:?} has no level-4 grid");
        }
    }
    assert!(inside > 30_000, "most of the box is county: {inside}");
}

/// Agreement with a brute-force covers test: a point covered by one grid at a
/// level gets that grid; a point covered by several (on an edge) gets one of them.
#[test]
fn agrees_with_brute_force() {
    let index = demo();
    for p in random_points(2_000, 3) {
        let chain = index.locate(p);
        let cover = covering(index, p);
        for (l, (cover, got)) in cover.iter().zip(chain.0).enumerate() {
            match (cover.as_slice(), got) {
                ([], got) => assert_eq!(got, None, "{p:?} level {}", l + 1),
                ([one], got) => assert_eq!(got, Some(*one), "{p:?} level {}", l + 1),
                (many, Some(got)) => assert!(many.contains(&got), "{p:?} level {}", l + 1),
                (many, None) => panic!("{p:?} level {}: none of {many:?} given", l + 1),
            }
        }
    }
}

/// Every vertex of every level-4 and level-5 boundary lies on edges shared
/// by two or three grids, or on the county's outer border: each gets a town,
/// at every level a grid that covers it and is the child of the one above,
/// and the chain goes on while a child of its last grid covers the point.
/// Inside the county the half-open rule alone gives each such point exactly
/// one owner per level.
#[test]
fn shared_vertices_have_exactly_one_owner() {
    let index = demo();
    let shapes: Vec<PreparedShape> = index
        .grids()
        .iter()
        .map(|g| PreparedShape::new(&g.geometry))
        .collect();
    let (mut checked, mut on_border) = (0, 0);
    for g in index
        .grids()
        .iter()
        .filter(|g| g.level.get() >= 4)
        .step_by(3)
    {
        for c in g.geometry.coords_iter().step_by(2) {
            let p = LonLat::from(c);
            let cover = covering(index, p);
            let chain = index.locate(p);
            assert!(
                chain.0[0].is_some(),
                "{p:?} is a vertex of {} but has no town",
                g.id
            );
            let mut parent = None;
            for (l, (cover, got)) in cover.iter().zip(chain.0).enumerate() {
                let children: Vec<u32> = cover
                    .iter()
                    .copied()
                    .filter(|&ix| l == 0 || index.parent_of(ix) == parent)
                    .collect();
                match got {
                    Some(got) => assert!(children.contains(&got), "{p:?} level {}", l + 1),
                    None => {
                        assert!(children.is_empty(), "{p:?} level {}: stops early", l + 1);
                        break;
                    }
                }
                parent = got;
            }
            let owners_by_rule = cover[0]
                .iter()
                .filter(|&&ix| shapes[ix as usize].owns(p))
                .count();
            if owners_by_rule == 0 {
                // Only where stepping east or north leaves the county.
                on_border += 1;
            } else {
                for cover in &cover[..4] {
                    let owners = cover
                        .iter()
                        .filter(|&&ix| shapes[ix as usize].owns(p))
                        .count();
                    assert_eq!(owners, 1, "{p:?}");
                }
            }
            checked += 1;
        }
    }
    assert!(
        checked > 5_000 && on_border > 50,
        "{checked} vertices, {on_border} on the border"
    );
}

/// Outside the county (and for coordinates that are not coordinates) the chain is empty.
#[test]
fn outside_and_invalid_points_are_empty() {
    let index = demo();
    for p in [
        LonLat::new(105.86, 34.51),
        LonLat::new(0.0, 0.0),
        LonLat::new(f64::NAN, 34.7),
        LonLat::new(200.0, 34.7),
    ] {
        assert_eq!(index.locate(p), Chain::default(), "{p:?}");
        assert_eq!(index.locate_exact(p), Chain::default(), "{p:?}");
    }
}

/// Boundary distance is zero on a boundary, positive inside, and never more
/// than the distance to a point known to be in another grid.
#[test]
fn boundary_distance_is_sane() {
    let index = demo();
    let g = index
        .grids()
        .iter()
        .find(|g| g.level.get() == 4)
        .expect("level-4 grid");
    let v = LonLat::from(g.geometry.0[0].exterior().0[0]);
    let chain = index.locate(v);
    let d = index.boundary_distance_m(v, &chain).expect("inside");
    assert!(d < 0.01, "a vertex is {d} m from its boundary");
    for p in random_points(500, 4) {
        let chain = index.locate(p);
        match index.boundary_distance_m(p, &chain) {
            None => assert!(chain.is_empty()),
            Some(d) => assert!((0.0..5_000.0).contains(&d), "{p:?}: {d}"),
        }
    }
}

/// The distance to the nearest border agrees with brute force on the demo
/// county's real polygons: every ring of the deepest grid, projected to
/// metres around the point itself, measured with geo's own point-to-line
/// distance. (The index measures in one frame for the whole county: the
/// two may differ by the frame's scale error, well under 0.5%.)
#[test]
fn boundary_distance_matches_brute_force() {
    use geo::{Distance, Euclidean, LineString, Point};
    let index = demo();
    let mut checked = 0;
    for p in random_points(3_000, 5) {
        let chain = index.locate(p);
        let Some(deepest) = chain.deepest() else {
            assert_eq!(index.boundary_distance_m(p, &chain), None);
            continue;
        };
        let got = index.boundary_distance_m(p, &chain).expect("inside");
        let frame = wangge::geom::LocalFrame::new(p);
        let brute = index
            .grid(deepest)
            .geometry
            .0
            .iter()
            .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
            .map(|ring| {
                let metres: LineString<f64> = ring
                    .coords()
                    .map(|c| {
                        let m = frame.to_metres(LonLat::new(c.x, c.y));
                        geo::coord! { x: m[0], y: m[1] }
                    })
                    .collect();
                Euclidean.distance(&Point::new(0.0, 0.0), &metres)
            })
            .fold(f64::INFINITY, f64::min);
        assert!(
            (got - brute).abs() <= 0.005 * brute + 0.01,
            "{p:?}: index {got} m, brute force {brute} m"
        );
        checked += 1;
    }
    assert!(checked > 1_500, "{checked} points inside");
}

// ---- Hand-made sets for the named edge cases ----

fn grid(id: &str, level: i64, parent: Option<&str>, polygons: Vec<Polygon<f64>>) -> Grid {
    Grid {
        id: GridId::from(id),
        level: Level::new(level).expect("valid level"),
        parent_id: parent.map(GridId::from),
        name: id.to_owned(),
        geometry: MultiPolygon(polygons),
        properties: Map::new(),
    }
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
}

/// ```text
///  y=2 +-------+-------+      T1 = [0,2]x[0,2], T2 = [2,4]x[0,2] (level 1)
///      |   A   |   C   |      A = T1 minus the hole H, H = [0.5,1.5]x[0.5,1.5]
///      |  +-+  |  +D+  |      C = T2's main part, D = T2's exclave part...
///  y=0 +-------+-------+      B fills H; D is C's second part inside nothing else
///     x=0     x=2     x=4
/// ```
fn small_county() -> GridIndex {
    let a = Polygon::new(
        rect(0.0, 0.0, 2.0, 2.0).exterior().clone(),
        vec![rect(0.5, 0.5, 1.5, 1.5).exterior().clone()],
    );
    GridIndex::build(vec![
        grid("T1", 1, None, vec![rect(0.0, 0.0, 2.0, 2.0)]),
        grid("T2", 1, None, vec![rect(2.0, 0.0, 4.0, 2.0)]),
        grid("A", 2, Some("T1"), vec![a]),
        grid("B", 2, Some("T1"), vec![rect(0.5, 0.5, 1.5, 1.5)]),
        // T2 split into west half C1 and east half C2, where C1 also owns an
        // exclave in the north-east corner.
        grid(
            "C1",
            2,
            Some("T2"),
            vec![rect(2.0, 0.0, 3.0, 2.0), rect(3.5, 1.5, 4.0, 2.0)],
        ),
        grid(
            "C2",
            2,
            Some("T2"),
            vec![Polygon::new(
                geo::LineString::from(vec![
                    (3.0, 0.0),
                    (4.0, 0.0),
                    (4.0, 1.5),
                    (3.5, 1.5),
                    (3.5, 2.0),
                    (3.0, 2.0),
                    (3.0, 0.0),
                ]),
                vec![],
            )],
        ),
    ])
}

fn ids(index: &GridIndex, p: LonLat) -> Vec<String> {
    index
        .chain_ids(&index.locate(p))
        .iter()
        .flatten()
        .map(|id| id.to_string())
        .collect()
}

/// On a shared vertical edge the grid to the east owns the point.
#[test]
fn on_a_vertical_edge_the_east_grid_wins() {
    let index = small_county();
    assert_eq!(ids(&index, LonLat::new(2.0, 1.0)), ["T2", "C1"]);
    assert_eq!(ids(&index, LonLat::new(3.0, 1.0)), ["T2", "C2"]);
}

/// On a shared horizontal edge the grid to the north owns the point.
#[test]
fn on_a_horizontal_edge_the_north_grid_wins() {
    let index = small_county();
    // Bottom edge of the hole: B lies north of it.
    assert_eq!(ids(&index, LonLat::new(1.0, 0.5)), ["T1", "B"]);
    // Top edge of the hole: A lies north of it.
    assert_eq!(ids(&index, LonLat::new(1.0, 1.5)), ["T1", "A"]);
}

/// On a vertex shared by three grids exactly one owns the point, the one
/// north-east of it.
#[test]
fn on_a_shared_vertex_one_grid_wins() {
    let index = small_county();
    // (3.5, 1.5): corner of C1's exclave, C2's notch.
    assert_eq!(ids(&index, LonLat::new(3.5, 1.5)), ["T2", "C1"]);
    // (2.0, 0.0): the south end of the town border.
    assert_eq!(ids(&index, LonLat::new(2.0, 0.0)), ["T2", "C1"]);
}

/// A point in a hole belongs to the grid filling the hole.
#[test]
fn in_a_hole_the_filling_grid_wins() {
    let index = small_county();
    assert_eq!(ids(&index, LonLat::new(1.0, 1.0)), ["T1", "B"]);
    assert_eq!(ids(&index, LonLat::new(0.25, 1.0)), ["T1", "A"]);
}

/// A point in an exclave belongs to the multi-part grid.
#[test]
fn in_an_exclave_the_multi_part_grid_wins() {
    let index = small_county();
    assert_eq!(ids(&index, LonLat::new(3.75, 1.75)), ["T2", "C1"]);
}

/// Outside every town nothing owns the point.
#[test]
fn outside_the_county_nothing_wins() {
    let index = small_county();
    assert!(ids(&index, LonLat::new(5.0, 1.0)).is_empty());
    assert!(ids(&index, LonLat::new(4.0 + 1e-12, 1.0)).is_empty());
    assert!(ids(&index, LonLat::new(1.0, 2.0 + 1e-12)).is_empty());
    // The west and south borders belong to the county by the rule itself.
    assert_eq!(ids(&index, LonLat::new(0.0, 1.0)), ["T1", "A"]);
}

/// On the county's east and north border the half-open rule gives the point
/// to nobody (stepping east or north leaves the county); the closed test
/// gives it to the grid that covers it, the lowest id where several do.
///
/// ```text
///  (1,2) north border: T1, A     (3.5,2) north vertex of C1's exclave and C2: T2, C1
///  (4,1) east border: T2, C2     (4,2) north-east corner: T2, C1 (its exclave)
///  (2,2) vertex of T1 and T2 on the north border: T1 (lower id), A
/// ```
#[test]
fn on_the_county_border_the_covering_grid_wins() {
    let index = small_county();
    assert_eq!(ids(&index, LonLat::new(4.0, 1.0)), ["T2", "C2"]);
    assert_eq!(ids(&index, LonLat::new(1.0, 2.0)), ["T1", "A"]);
    assert_eq!(ids(&index, LonLat::new(4.0, 2.0)), ["T2", "C1"]);
    assert_eq!(ids(&index, LonLat::new(3.5, 2.0)), ["T2", "C1"]);
    assert_eq!(ids(&index, LonLat::new(2.0, 2.0)), ["T1", "A"]);
    assert_eq!(ids(&index, LonLat::new(3.2, 2.0)), ["T2", "C2"]);
    // A shared edge inside the county keeps its one owner by the rule.
    assert_eq!(ids(&index, LonLat::new(2.0, 1.0)), ["T2", "C1"]);
}
