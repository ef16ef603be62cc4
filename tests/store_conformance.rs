//! The store contract, pinned once and run unchanged on both backends: every
//! case below is an `async fn(&TestStore)`, and [`conformance!`] turns each
//! into two tests, `sqlite::<case>` and `postgis::<case>`, each on a fresh
//! store. The PostGIS half never skips: without a database it fails, saying
//! how to provide one (`support::postgres_url`).
//!
//! After the cases: the two backends compared with each other on the demo
//! county (bbox answers must be identical), and the PostGIS-only
//! `candidates_at` against a brute-force geo oracle.

#[macro_use]
mod support;

use std::sync::OnceLock;

use geo::{Coord, CoordsIter, Intersects, MultiPolygon, Point, Polygon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use wangge::generate::{self, DEMO_SEED, LEVEL_COUNTS};
use wangge::geom::{Bbox, LonLat};
use wangge::model::{ChangeKind, Grid, GridId, Level, NewChange};
use wangge::store::{Backend, GridFilter, StoreError, WriteMode};

use support::{
    DirectWrites, ORIGIN, TestStore, assert_grids_identical, error_chain, ids, level, small_county,
    sorted, square_grid,
};

conformance!(
    empty_store_is_empty,
    replace_then_load_is_identical,
    grid_by_id,
    filter_by_level,
    filter_by_parent,
    filter_by_bbox_is_exact,
    filters_combine,
    count_by_level_counts,
    upsert_replaces_one_and_keeps_others,
    upsert_of_a_parent_keeps_its_children,
    replace_removes_grids_not_in_the_new_set,
    failed_writes_change_nothing,
    reopening_keeps_the_data,
    corrupt_row_is_reported_with_its_id,
    demo_county_round_trips,
    feed_appends_in_the_order_given,
);

/// A unit's feed entries, appended in one statement (more than one chunk of
/// the insert), come back numbered in the order given, read back the same;
/// a unit dropped without committing leaves no entry behind.
async fn feed_appends_in_the_order_given(t: &TestStore) {
    let start = t.store.last_change().await.expect("feed position");
    let news: Vec<NewChange> = (0..1_500)
        .map(|i| {
            let kind = [ChangeKind::Incident, ChangeKind::Hazard, ChangeKind::Route][i % 3];
            let at = jiff::Timestamp::from_second(1_700_000_000 + i as i64).expect("a time");
            NewChange::new(kind, [i], format!("actor {i}"), at, format!("change {i}"))
        })
        .collect();
    let mut unit = t.store.begin().await.expect("a unit");
    let recorded = unit.record_changes(&news).await.expect("appended");
    unit.commit().await.expect("committed");
    assert_eq!(recorded.len(), news.len(), "{}", t.name);
    for (i, (new, got)) in news.iter().zip(&recorded).enumerate() {
        assert_eq!(
            (got.kind, &got.ids, &got.actor, got.at, &got.summary),
            (new.kind, &new.ids, &new.actor, new.at, &new.summary),
            "{}: entry {i}",
            t.name
        );
    }
    assert!(
        recorded.windows(2).all(|w| w[0].seq < w[1].seq) && recorded[0].seq > start,
        "{}: numbered in order after {start}",
        t.name
    );
    let mut read = Vec::new();
    while read.len() < news.len() {
        let after = read.last().map_or(start, |c: &wangge::model::Change| c.seq);
        let page = t.store.changes(after, 1_000).await.expect("read the feed");
        assert!(!page.is_empty(), "{}: the feed ends early", t.name);
        read.extend(page);
    }
    assert_eq!(read, recorded, "{}: read back as appended", t.name);

    let mut dropped = t.store.begin().await.expect("a unit");
    dropped
        .record_changes(&news[..2])
        .await
        .expect("appended, not committed");
    drop(dropped);
    assert_eq!(
        t.store.last_change().await.expect("feed position"),
        recorded.last().expect("entries").seq,
        "{}: a dropped unit leaves no entry",
        t.name
    );
}

// ---------------------------------------------------------------------------
// Helpers

/// The fixture grids in the order a careless importer might send them:
/// children first, so that the store has to order the inserts itself.
fn county_children_first() -> Vec<Grid> {
    let mut grids = small_county();
    grids.reverse();
    grids
}

async fn write(t: &TestStore, grids: &[Grid], mode: WriteMode) {
    t.store
        .write_grids(grids, mode)
        .await
        .unwrap_or_else(|e| panic!("{}: write failed: {}", t.name, error_chain(&e)));
}

async fn load(t: &TestStore) -> Vec<Grid> {
    t.store
        .load_grids()
        .await
        .unwrap_or_else(|e| panic!("{}: load failed: {}", t.name, error_chain(&e)))
}

async fn list(t: &TestStore, filter: GridFilter) -> Vec<String> {
    let grids = t
        .store
        .grids(&filter)
        .await
        .unwrap_or_else(|e| panic!("{}: {filter:?} failed: {}", t.name, error_chain(&e)));
    ids(&grids).into_iter().map(str::to_owned).collect()
}

/// A box from offsets east and north of the fixtures' origin, computed as
/// the fixtures compute their corners, so that shared edges are bit-equal.
fn bbox(min: (f64, f64), max: (f64, f64)) -> Bbox {
    let (x0, y0) = ORIGIN;
    Bbox {
        min_lon: x0 + min.0,
        min_lat: y0 + min.1,
        max_lon: x0 + max.0,
        max_lat: y0 + max.1,
    }
}

fn by_bbox(b: Bbox) -> GridFilter {
    GridFilter {
        bbox: Some(b),
        ..GridFilter::default()
    }
}

// ---------------------------------------------------------------------------
// The cases, each run on both backends

/// An empty store lists nothing, finds nothing and counts zero at every level.
async fn empty_store_is_empty(t: &TestStore) {
    assert!(load(t).await.is_empty(), "{}", t.name);
    assert!(
        list(t, GridFilter::default()).await.is_empty(),
        "{}",
        t.name
    );
    assert_eq!(t.store.grid(&GridId::from("T")).await.ok(), Some(None));
    assert_eq!(
        t.store.count_by_level().await.ok(),
        Some([0; 5]),
        "{}",
        t.name
    );
}

/// A Replace write then a load returns the grids exactly: ordered by level
/// and id, properties in their key order, coordinates bit for bit (holes,
/// multi-part grids and ring orientation included).
async fn replace_then_load_is_identical(t: &TestStore) {
    write(t, &county_children_first(), WriteMode::Replace).await;
    assert_grids_identical(t.name, &load(t).await, &sorted(small_county()));
}

/// `grid(id)` returns that grid exactly, and `None` for an id not stored.
async fn grid_by_id(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    let want: Vec<Grid> = small_county()
        .into_iter()
        .filter(|g| g.id.0 == "E")
        .collect();
    let got = t.store.grid(&GridId::from("E")).await.expect("grid(E)");
    assert_grids_identical(t.name, got.as_slice(), &want);
    let missing = t
        .store
        .grid(&GridId::from("nope"))
        .await
        .expect("grid(nope)");
    assert!(missing.is_none(), "{}", t.name);
}

/// The level filter returns exactly that level's grids, by id.
async fn filter_by_level(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    let at = |n| GridFilter {
        level: Some(level(n)),
        ..GridFilter::default()
    };
    assert_eq!(list(t, at(1)).await, ["T"], "{}", t.name);
    assert_eq!(list(t, at(2)).await, ["V1", "V2"], "{}", t.name);
    assert_eq!(list(t, at(3)).await, ["E", "G1"], "{}", t.name);
    assert!(list(t, at(5)).await.is_empty(), "{}", t.name);
}

/// The parent filter returns direct children only; a leaf or an unknown id
/// has none.
async fn filter_by_parent(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    let under = |p: &str| GridFilter {
        parent: Some(GridId::from(p)),
        ..GridFilter::default()
    };
    assert_eq!(list(t, under("T")).await, ["V1", "V2"], "{}", t.name);
    assert_eq!(list(t, under("V2")).await, ["E"], "{}", t.name);
    assert!(list(t, under("G1")).await.is_empty(), "{}", t.name);
    assert!(list(t, under("nope")).await.is_empty(), "{}", t.name);
}

/// The bbox filter is exact, not a bounding-box test: touching counts, a box
/// in a hole or between the parts of a multi-part grid does not meet it, a
/// point- or line-sized box meets what it touches (both sides of a shared
/// edge), an inverted box meets nothing. (Diagram: `support::small_county`.)
async fn filter_by_bbox_is_exact(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    let cases: [(&str, Bbox, &[&str]); 12] = [
        (
            "covering everything",
            bbox((-1.0, -1.0), (2.0, 2.0)),
            &["T", "V1", "V2", "E", "G1"],
        ),
        (
            "touching only T's east edge",
            bbox((0.8, 0.1), (0.9, 0.2)),
            &["T", "V2"],
        ),
        (
            "touching only T's north-east corner",
            bbox((0.8, 0.4), (0.9, 0.5)),
            &["T", "V2"],
        ),
        ("clear of everything", bbox((0.81, 0.0), (0.9, 0.4)), &[]),
        (
            "inside G1's hole",
            bbox((0.21, 0.16), (0.24, 0.19)),
            &["T", "V1"],
        ),
        (
            "inside G1's hole, touching its edge",
            bbox((0.2, 0.16), (0.24, 0.19)),
            &["T", "V1", "G1"],
        ),
        (
            "between E's two parts",
            bbox((0.66, 0.21), (0.69, 0.29)),
            &["T", "V2"],
        ),
        (
            "a point on the V1|V2 edge",
            bbox((0.4, 0.05), (0.4, 0.05)),
            &["T", "V1", "V2"],
        ),
        (
            "a point inside V1",
            bbox((0.05, 0.05), (0.05, 0.05)),
            &["T", "V1"],
        ),
        (
            "a zero-width box along the V1|V2 edge",
            bbox((0.4, 0.05), (0.4, 0.1)),
            &["T", "V1", "V2"],
        ),
        (
            "a zero-height box inside G1's hole",
            bbox((0.21, 0.17), (0.24, 0.17)),
            &["T", "V1"],
        ),
        (
            "inverted (west edge east of east edge)",
            bbox((0.5, 0.1), (0.3, 0.2)),
            &[],
        ),
    ];
    for (what, b, want) in cases {
        assert_eq!(list(t, by_bbox(b)).await, want, "{}: box {what}", t.name);
    }
}

/// Level, parent and bbox filters combine with AND.
async fn filters_combine(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    let everything = bbox((-1.0, -1.0), (2.0, 2.0));
    let east = bbox((0.8, 0.1), (0.9, 0.2));
    let level3 = GridFilter {
        level: Some(level(3)),
        bbox: Some(everything),
        ..GridFilter::default()
    };
    assert_eq!(list(t, level3).await, ["E", "G1"], "{}", t.name);
    let children_east = GridFilter {
        parent: Some(GridId::from("T")),
        bbox: Some(east),
        ..GridFilter::default()
    };
    assert_eq!(list(t, children_east).await, ["V2"], "{}", t.name);
    let contradictory = GridFilter {
        level: Some(level(2)),
        parent: Some(GridId::from("V2")),
        bbox: None,
    };
    assert!(list(t, contradictory).await.is_empty(), "{}", t.name);
}

/// `count_by_level` counts each level, index 0 = level 1.
async fn count_by_level_counts(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    let counts = t.store.count_by_level().await.expect("count_by_level");
    assert_eq!(counts, [1, 2, 2, 0, 0], "{}", t.name);
}

/// An Upsert replaces the grid with the same id (every field), adds new
/// ones, and leaves every other grid as it was.
async fn upsert_replaces_one_and_keeps_others(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    let (x0, y0) = ORIGIN;
    let mut g1 = square_grid("G1", 3, Some("V1"), x0 + 0.05, y0 + 0.05, 0.1);
    g1.name = "renamed".into();
    g1.properties = serde_json::from_value(json!({"b": 1, "a": 2})).expect("an object");
    let added = square_grid("N", 3, Some("V2"), x0 + 0.45, y0 + 0.05, 0.05);
    write(t, &[added.clone(), g1.clone()], WriteMode::Upsert).await;

    let mut want: Vec<Grid> = small_county()
        .into_iter()
        .filter(|g| g.id.0 != "G1")
        .collect();
    want.extend([g1, added]);
    assert_grids_identical(t.name, &load(t).await, &sorted(want));
    assert_eq!(t.store.count_by_level().await.ok(), Some([1, 2, 3, 0, 0]));
}

/// Upserting a grid that has stored children (here the town) succeeds and
/// keeps the children: the parent is replaced within one transaction.
async fn upsert_of_a_parent_keeps_its_children(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    let mut town = small_county().remove(0);
    assert_eq!(town.id.0, "T");
    town.name = "新名字".into();
    write(t, std::slice::from_ref(&town), WriteMode::Upsert).await;
    let mut want = small_county();
    want[0] = town;
    assert_grids_identical(t.name, &load(t).await, &sorted(want));
}

/// A Replace write makes the given grids the whole set: grids not in it are
/// gone.
async fn replace_removes_grids_not_in_the_new_set(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    let kept: Vec<Grid> = small_county().into_iter().take(2).collect();
    write(t, &kept, WriteMode::Replace).await;
    assert_grids_identical(t.name, &load(t).await, &kept);
    assert_eq!(t.store.count_by_level().await.ok(), Some([1, 1, 0, 0, 0]));
    assert!(
        t.store
            .grid(&GridId::from("G1"))
            .await
            .expect("grid")
            .is_none()
    );
}

/// A write that fails inside its transaction (a parent that is not stored, an
/// id given twice; Replace and Upsert alike) returns a `Database` error
/// naming the grid and leaves the store exactly as it was.
async fn failed_writes_change_nothing(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    let before = load(t).await;
    let (x0, y0) = ORIGIN;
    let orphan = square_grid("X", 3, Some("missing"), x0 + 0.5, y0 + 0.05, 0.05);
    let county = small_county();
    let mut twice = county.clone();
    twice.push(county[3].clone()); // G1 again
    let without_v1: Vec<Grid> = county.iter().filter(|g| g.id.0 != "V1").cloned().collect();

    let bad_writes: [(&str, Vec<Grid>, WriteMode, &str); 5] = [
        (
            "Replace with an orphan",
            [county.clone(), vec![orphan.clone()]].concat(),
            WriteMode::Replace,
            "X",
        ),
        (
            "Replace dropping a parent",
            without_v1,
            WriteMode::Replace,
            "G1",
        ),
        (
            "Replace with an id twice",
            twice.clone(),
            WriteMode::Replace,
            "G1",
        ),
        (
            "Upsert with an orphan",
            vec![orphan],
            WriteMode::Upsert,
            "X",
        ),
        ("Upsert with an id twice", twice, WriteMode::Upsert, "G1"),
    ];
    for (what, grids, mode, names) in bad_writes {
        match t.store.write_grids(&grids, mode).await {
            Err(StoreError::Database { action, source }) => {
                assert!(
                    action.contains(names),
                    "{}: {what}: the error should name grid {names}: {action}: {source}",
                    t.name
                );
            }
            // A missing parent is found before COMMIT and named.
            Err(StoreError::Integrity(message)) => {
                assert!(
                    message.contains(names),
                    "{}: {what}: the error should name grid {names}: {message}",
                    t.name
                );
            }
            Err(e) => panic!(
                "{}: {what}: expected a Database or Integrity error, got {}",
                t.name,
                error_chain(&e)
            ),
            Ok(()) => panic!("{}: {what}: the write was accepted", t.name),
        }
        assert_grids_identical(
            &format!("{}: after {what}", t.name),
            &load(t).await,
            &before,
        );
    }
    // The store still takes a good write afterwards.
    write(t, &county, WriteMode::Upsert).await;
    assert_grids_identical(t.name, &load(t).await, &before);
}

/// The data outlives the store: a new store on the same SQLite file or
/// PostgreSQL schema (migrations already applied) loads the same grids.
async fn reopening_keeps_the_data(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    let again = t.reopen().await;
    let grids = again.load_grids().await.expect("load after reopening");
    assert_grids_identical(t.name, &grids, &sorted(small_county()));
    let counts = again
        .count_by_level()
        .await
        .expect("counts after reopening");
    assert_eq!(counts, [1, 2, 2, 0, 0], "{}", t.name);
}

/// A stored row that no longer decodes is reported as `Corrupt` naming its
/// grid, by `load_grids` and `grid(id)`; other grids still load by id. Each
/// backend is damaged the only way its schema allows (SQLite: bytes that are
/// not WKB; PostGIS: properties that are not an object, its CHECK dropped).
async fn corrupt_row_is_reported_with_its_id(t: &TestStore) {
    write(t, &small_county(), WriteMode::Replace).await;
    match t.store.backend() {
        Backend::Sqlite => {
            t.execute_raw("UPDATE grids SET geom = x'01020304' WHERE id = 'G1'")
                .await;
        }
        Backend::Postgis => {
            t.execute_raw(
                "ALTER TABLE grids DROP CONSTRAINT grids_properties_check;
                 UPDATE grids SET properties = '[1, 2]' WHERE id = 'G1';",
            )
            .await;
        }
    }
    let is_g1 = |r: Result<_, StoreError>| matches!(r, Err(StoreError::Corrupt { id, .. }) if id == "grid G1");
    assert!(
        is_g1(t.store.load_grids().await.map(|_| ())),
        "{}: load_grids",
        t.name
    );
    assert!(
        is_g1(t.store.grid(&GridId::from("G1")).await.map(|_| ())),
        "{}: grid(G1)",
        t.name
    );
    let town = t.store.grid(&GridId::from("T")).await.expect("T is intact");
    assert!(town.is_some(), "{}", t.name);
}

/// The demo county (2,403 grids, hundreds of vertices each) is written in
/// one Replace and loads back identical, with the county's counts per level.
/// (How fast is the benchmarks' business: `benches/locate.rs` loads the same
/// county into PostGIS.)
async fn demo_county_round_trips(t: &TestStore) {
    let county = demo_county();
    write(t, county, WriteMode::Replace).await;
    let loaded = load(t).await;
    assert_grids_identical(t.name, &loaded, county);
    let counts = t.store.count_by_level().await.expect("counts");
    assert_eq!(counts.map(|n| n as usize), LEVEL_COUNTS, "{}", t.name);
}

// ---------------------------------------------------------------------------
// Across backends

/// The demo county, generated once per test process (ordered by level, id).
fn demo_county() -> &'static [Grid] {
    static COUNTY: OnceLock<Vec<Grid>> = OnceLock::new();
    COUNTY.get_or_init(|| generate::generate(DEMO_SEED))
}

/// Boxes over the demo county with a fixed seed: random ones of many sizes,
/// and ones whose corner is a grid vertex, so that many only touch.
fn probe_boxes(county: &[Grid], n: usize) -> Vec<Bbox> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let whole = Bbox::of(&MultiPolygon(
        county
            .iter()
            .filter(|g| g.level == Level::TOWN)
            .flat_map(|g| g.geometry.0.clone())
            .collect::<Vec<Polygon<f64>>>(),
    ))
    .expect("the county is not empty");
    (0..n)
        .map(|i| {
            let size = 10f64.powf(rng.random_range(-4.0..-1.0));
            let corner = if i % 2 == 0 {
                Coord {
                    x: rng.random_range(whole.min_lon..whole.max_lon),
                    y: rng.random_range(whole.min_lat..whole.max_lat),
                }
            } else {
                let g = &county[rng.random_range(0..county.len())];
                let coords: Vec<Coord<f64>> = g.geometry.exterior_coords_iter().collect();
                coords[rng.random_range(0..coords.len())]
            };
            // The vertex as the box's NE, NW, SE or SW corner.
            let (dx, dy) = match i % 8 {
                3 => (-size, 0.0),
                5 => (0.0, -size),
                7 => (-size, -size),
                _ => (0.0, 0.0),
            };
            Bbox {
                min_lon: corner.x + dx,
                min_lat: corner.y + dy,
                max_lon: corner.x + dx + size,
                max_lat: corner.y + dy + size,
            }
        })
        .collect()
}

/// On the demo county, SQLite (R*Tree + geo) and PostGIS (GiST +
/// ST_Intersects) return the same grids for every probe box, including
/// boxes whose corner is a grid vertex; and both match a brute-force geo loop.
#[tokio::test]
async fn both_backends_answer_bbox_queries_alike() {
    let county = demo_county();
    let sqlite = TestStore::open(Backend::Sqlite).await;
    let postgis = TestStore::open(Backend::Postgis).await;
    write(&sqlite, county, WriteMode::Replace).await;
    write(&postgis, county, WriteMode::Replace).await;
    let mut total = 0;
    for b in probe_boxes(county, 120) {
        let rect = b.to_rect();
        let brute: Vec<String> = county
            .iter()
            .filter(|g| g.geometry.intersects(&rect))
            .map(|g| g.id.0.clone())
            .collect();
        assert_eq!(list(&sqlite, by_bbox(b)).await, brute, "sqlite: {b:?}");
        assert_eq!(list(&postgis, by_bbox(b)).await, brute, "postgis: {b:?}");
        total += brute.len();
    }
    // The probes must reach grids, or the comparison proves nothing.
    assert!(total > 300, "only {total} grids met the probe boxes");
    sqlite.cleanup().await;
    postgis.cleanup().await;
}

/// `PostgisStore::candidates_at` on the small county: a point on a shared
/// edge is a candidate of both sides, one in a hole is not in the holed
/// grid, one outside has none; pairs come ordered by point, level, id.
#[tokio::test]
async fn candidates_at_lists_every_grid_touching_each_point() {
    let t = TestStore::open(Backend::Postgis).await;
    write(&t, &small_county(), WriteMode::Replace).await;
    let store = t.postgis().expect("opened as PostGIS");
    let (x0, y0) = ORIGIN;
    let points = [
        LonLat::new(x0 + 0.4, y0 + 0.05),  // on the V1|V2 edge
        LonLat::new(x0 + 2.0, y0),         // outside
        LonLat::new(x0 + 0.22, y0 + 0.17), // in G1's hole
        LonLat::new(x0 + 0.15, y0 + 0.15), // inside G1
        LonLat::new(x0 + 0.8, y0 + 0.4),   // T's north-east corner
    ];
    let got = store.candidates_at(&points).await.expect("candidates_at");
    let got: Vec<(usize, &str)> = got.iter().map(|(i, id)| (*i, id.as_str())).collect();
    assert_eq!(
        got,
        [
            (0, "T"),
            (0, "V1"),
            (0, "V2"),
            (2, "T"),
            (2, "V1"),
            (3, "T"),
            (3, "V1"),
            (3, "G1"),
            (4, "T"),
            (4, "V2"),
        ]
    );
    assert!(
        store
            .candidates_at(&[])
            .await
            .expect("no points")
            .is_empty()
    );
    t.cleanup().await;
}

/// `candidates_at` on the demo county agrees with a brute-force loop of
/// geo's `Intersects` (inside or on the boundary) for random points and for
/// grid vertices, the points where the two could most easily disagree.
#[tokio::test]
async fn candidates_at_matches_a_brute_force_oracle() {
    let county = demo_county();
    let t = TestStore::open(Backend::Postgis).await;
    write(&t, county, WriteMode::Replace).await;
    let store = t.postgis().expect("opened as PostGIS");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut points: Vec<LonLat> = (0..1500)
        .map(|_| {
            LonLat::new(
                rng.random_range(105.85..106.45),
                rng.random_range(34.50..34.95),
            )
        })
        .collect();
    for _ in 0..500 {
        let g = &county[rng.random_range(0..county.len())];
        let coords: Vec<Coord<f64>> = g.geometry.exterior_coords_iter().collect();
        points.push(coords[rng.random_range(0..coords.len())].into());
    }
    let got = store.candidates_at(&points).await.expect("candidates_at");
    let mut want = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let pt = Point::new(p.lon, p.lat);
        want.extend(
            county
                .iter()
                .filter(|g| g.geometry.intersects(&pt))
                .map(|g| (i, g.id.clone())),
        );
    }
    assert_eq!(got.len(), want.len(), "number of (point, grid) pairs");
    assert_eq!(got, want);
    // Vertices are on boundaries: most of them have several candidates.
    assert!(
        want.len() > points.len(),
        "{} pairs for {} points",
        want.len(),
        points.len()
    );
    t.cleanup().await;
}
