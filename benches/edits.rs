//! A boundary edit at county scale, on the embedded SQLite store with the
//! demo county, 50,000 open incidents and 5,000 hazards:
//!
//! - **edit**: one level-4 vertex move through the grid service, the whole
//!   path of `POST /api/grids/edits` minus HTTP: draw (the vertex in both
//!   grids), validate (the import's rules, gaps, slivers), the impact on
//!   every open incident, hazard and route, apply in one transaction
//!   (grids, re-chained incidents with history, relocated hazards, feed),
//!   then the index swap and the tile eviction. Target: median under
//!   100 ms.
//! - **baseline**: the same change as planners made it before edits
//!   existed, a whole-county replace import of the edited set.
//!
//! Checked before timed: the edit's impact (which incidents and hazards
//! move, from which grid to which) must equal a brute-force point-in-polygon
//! over the two grids before and after, at least one incident must move,
//! and after applying both grids must hold the moved vertex. The vertex is
//! moved to and fro, so every timed edit moves the same area.
//! Run with `cargo bench --bench edits`.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use geo::{BoundingRect, Contains, Coord};
use jiff::Timestamp;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wangge::dispatch::{self, Report};
use wangge::generate::{DEMO_SEED, generate};
use wangge::geom::{InputCrs, LonLat};
use wangge::import::edit::{Edit, VertexMove};
use wangge::model::{Grid, HazardDraft, HazardStatus, Level, ReportSource, RiskClass, WriteMode};
use wangge::state::AppState;
use wangge::store::Store;
use wangge::store::sqlite::SqliteStore;
use wangge::workflow::Severity;

const INCIDENTS: usize = 50_000;
const HAZARDS: usize = 5_000;
/// Incidents placed where the edit moves the border, so that it moves some.
const IN_THE_MOVED_AREA: usize = 20;
const REPORTERS: usize = 64;

/// A random point inside `shape`.
fn inside(rng: &mut ChaCha8Rng, shape: &geo::MultiPolygon<f64>) -> LonLat {
    let rect = shape.bounding_rect().expect("a grid has a box");
    loop {
        let p = geo::Point::new(
            rng.random_range(rect.min().x..rect.max().x),
            rng.random_range(rect.min().y..rect.max().y),
        );
        if shape.contains(&p) {
            return LonLat::new(p.x(), p.y());
        }
    }
}

/// A random point in a random one of `grids`.
fn anywhere(rng: &mut ChaCha8Rng, grids: &[&Grid]) -> LonLat {
    let grid = grids[rng.random_range(0..grids.len())];
    inside(rng, &grid.geometry)
}

fn report(point: LonLat) -> Report {
    Report {
        category: "sanitation".into(),
        description: "垃圾堆放".into(),
        point,
        crs: InputCrs::Wgs84,
        severity: Severity::Minor,
        source: ReportSource::GridMember,
        reporter: None,
        photos: Vec::new(),
        actor: "bench".into(),
        note: None,
    }
}

/// A vertex of a basic grid's outer ring shared by exactly one other basic
/// grid and no grid above, and a place halfway to its neighbours' midpoint.
fn inner_vertex(grids: &[Grid]) -> (Coord<f64>, Coord<f64>, [usize; 2]) {
    let basic = Level::new(4).expect("a level");
    let has = |g: &Grid, c: Coord<f64>| g.geometry.iter().any(|p| p.exterior().0.contains(&c));
    for grid in grids.iter().filter(|g| g.level == basic) {
        let ring = &grid.geometry.0[0].exterior().0;
        for i in 1..ring.len() - 1 {
            let c = ring[i];
            let sharing: Vec<usize> = (0..grids.len()).filter(|&j| has(&grids[j], c)).collect();
            if sharing.len() != 2 || sharing.iter().any(|&j| grids[j].level != basic) {
                continue;
            }
            let (a, b) = (ring[i - 1], ring[i + 1]);
            let to = Coord {
                x: c.x + 0.5 * ((a.x + b.x) / 2.0 - c.x),
                y: c.y + 0.5 * ((a.y + b.y) / 2.0 - c.y),
            };
            if to != c {
                return (c, to, [sharing[0], sharing[1]]);
            }
        }
    }
    panic!("the demo county has no inner vertex between two basic grids");
}

fn edit(from: Coord<f64>, to: Coord<f64>) -> Edit {
    Edit::MoveVertices {
        level: Level::new(4).expect("a level"),
        moves: vec![VertexMove {
            from: LonLat::new(from.x, from.y),
            to: LonLat::new(to.x, to.y),
        }],
    }
}

/// Which of `points` (id, point) lie in grid `a` before and in grid `b`
/// after, or the other way, by testing every point against the four
/// polygons: the brute-force answer the edit's impact must match.
fn moved_by_brute_force(
    points: &[(i64, LonLat)],
    before: [&Grid; 2],
    after: [&Grid; 2],
) -> BTreeSet<i64> {
    let owner = |pair: [&Grid; 2], p: LonLat| {
        let pt = geo::Point::new(p.lon, p.lat);
        pair.iter().position(|g| g.geometry.contains(&pt))
    };
    points
        .iter()
        .filter(|(_, p)| owner(before, *p) != owner(after, *p))
        .map(|(id, _)| *id)
        .collect()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let county = generate(DEMO_SEED);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store: Arc<dyn Store> = Arc::new(
        rt.block_on(SqliteStore::open(dir.path().join("bench.db")))
            .expect("SQLite opens"),
    );
    let state = rt.block_on(async {
        let state = AppState::open(store).await.expect("state opens");
        state
            .import_grids(county.clone(), WriteMode::Replace)
            .await
            .expect("the demo county imports");
        state
    });
    let (from, to, [a, b]) = inner_vertex(&county);
    let now: Timestamp = "2026-11-01T00:00:00Z".parse().expect("time");

    // 50,000 open incidents over the basic grids, 20 of them in the area the
    // edit moves; 5,000 hazards.
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let basic: Vec<&Grid> = county
        .iter()
        .filter(|g| g.level == Level::new(4).expect("a level"))
        .collect();
    let moved_area = {
        let mut drawn = wangge::import::edit::draw(&county, &edit(from, to), &Default::default())
            .expect("the edit draws");
        drawn.upsert.sort_by(|x, y| x.id.cmp(&y.id));
        let pair = |g: &Grid| {
            drawn
                .upsert
                .iter()
                .find(|d| d.id == g.id)
                .expect("changed")
                .clone()
        };
        (pair(&county[a]), pair(&county[b]))
    };
    let mut points: Vec<LonLat> = (0..INCIDENTS - IN_THE_MOVED_AREA)
        .map(|_| anywhere(&mut rng, &basic))
        .collect();
    let swept = |p: LonLat| {
        let pt = geo::Point::new(p.lon, p.lat);
        county[a].geometry.contains(&pt) != moved_area.0.geometry.contains(&pt)
    };
    let bbox = county[a].geometry.bounding_rect().expect("a box");
    while points.len() < INCIDENTS {
        let p = LonLat::new(
            rng.random_range(bbox.min().x..bbox.max().x),
            rng.random_range(bbox.min().y..bbox.max().y),
        );
        if swept(p) {
            points.push(p);
        }
    }
    let started = Instant::now();
    let ids: Vec<(i64, LonLat)> = rt.block_on(async {
        let mut reporters = tokio::task::JoinSet::new();
        for share in points.chunks(INCIDENTS.div_ceil(REPORTERS)) {
            let (state, share) = (state.clone(), share.to_vec());
            reporters.spawn(async move {
                let mut ids = Vec::with_capacity(share.len());
                for p in share {
                    let stored = dispatch::report(state.dispatch(), report(p), now)
                        .await
                        .expect("a report");
                    ids.push((stored.incident.id.0, p));
                }
                ids
            });
        }
        let mut all = Vec::new();
        while let Some(done) = reporters.join_next().await {
            all.extend(done.expect("a reporter"));
        }
        all
    });
    let drafts: Vec<HazardDraft> = (0..HAZARDS)
        .map(|n| HazardDraft {
            name: format!("隐患{n}"),
            category: "landslide".into(),
            risk: RiskClass::General,
            interval_days: None,
            status: HazardStatus::Open,
            location: anywhere(&mut rng, &basic),
            area: None,
            description: "边坡".into(),
            last_inspected_at: None,
        })
        .collect();
    rt.block_on(wangge::patrol::hazards::register(
        state.feed(),
        wangge::patrol::hazards::Editor {
            actor: "bench",
            view: &wangge::model::View::All,
        },
        drafts,
        now,
        false,
    ))
    .expect("hazards register");
    println!(
        "stored {INCIDENTS} incidents and {HAZARDS} hazards in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The checks, on a dry run then on the applied edit.
    let plan = rt
        .block_on(state.grids().plan_edit(
            edit(from, to),
            Default::default(),
            Some(state.index().version()),
            "bench".into(),
        ))
        .expect("the edit plans");
    let planned: BTreeSet<i64> = plan.impact.incidents.iter().map(|m| m.id).collect();
    let expected = moved_by_brute_force(
        &ids,
        [&county[a], &county[b]],
        [&moved_area.0, &moved_area.1],
    );
    assert!(
        expected.len() >= IN_THE_MOVED_AREA,
        "the edit must move incidents: {expected:?}"
    );
    assert_eq!(
        planned, expected,
        "the impact is not what brute force finds"
    );
    let applied = rt.block_on(state.grids().apply(plan)).expect("applied");
    assert_eq!(
        applied.impact.incidents.len(),
        expected.len(),
        "applying moved other incidents than planned"
    );
    let index = state.index();
    for id in [&county[a].id, &county[b].id] {
        let g = index.get(id).expect("still there");
        assert!(
            g.geometry.iter().any(|p| p.exterior().0.contains(&to)),
            "{id} lacks the moved vertex"
        );
    }
    println!(
        "the edit moves {} incidents and {} hazards between {} and {}",
        applied.impact.incidents.len(),
        applied.impact.hazards.len(),
        county[a].id,
        county[b].id
    );

    let mut group = c.benchmark_group("edits");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(20));
    // To and fro: the vertex is at `to` now.
    let mut at_to = true;
    let mut times = Vec::new();
    group.bench_function(
        "move a level-4 vertex (plan, apply, reindex, evict)",
        |bencher| {
            bencher.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (x, y) = if at_to { (to, from) } else { (from, to) };
                    let started = Instant::now();
                    rt.block_on(async {
                        let plan = state
                            .grids()
                            .plan_edit(
                                edit(x, y),
                                Default::default(),
                                Some(state.index().version()),
                                "bench".into(),
                            )
                            .await
                            .expect("the edit plans");
                        black_box(state.grids().apply(plan).await.expect("applied"));
                    });
                    let took = started.elapsed();
                    times.push(took);
                    total += took;
                    at_to = !at_to;
                }
                total
            })
        },
    );
    times.sort();
    println!(
        "edit over {} runs: median {:?}, 90th percentile {:?}",
        times.len(),
        times[times.len() / 2],
        times[times.len() * 9 / 10]
    );

    group.sample_size(10);
    group.bench_function(
        "baseline: the same change as a whole-county replace",
        |bencher| {
            bencher.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (x, y) = if at_to { (to, from) } else { (from, to) };
                    let index = state.index();
                    let drawn =
                        wangge::import::edit::draw(index.grids(), &edit(x, y), &Default::default())
                            .expect("draws");
                    let mut set: Vec<Grid> = index
                        .grids()
                        .iter()
                        .filter(|g| !drawn.upsert.iter().any(|d| d.id == g.id))
                        .cloned()
                        .collect();
                    set.extend(drawn.upsert);
                    let started = Instant::now();
                    black_box(
                        rt.block_on(state.import_grids(set, WriteMode::Replace))
                            .expect("the replace imports"),
                    );
                    total += started.elapsed();
                    at_to = !at_to;
                }
                total
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
