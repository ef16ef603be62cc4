//! Locate throughput on the demo county, each path against its baseline in
//! the same run:
//!
//! - **index build**: generated grids → `GridIndex` (R-trees, prepared
//!   shapes, raster).
//! - **1,000,000 uniform points, full chain**: the same points, single thread,
//!   through (a) `locate` (raster, then exact walk in mixed cells), (b)
//!   `locate_exact` (R-tree + boundary rule at every level, no raster), and
//!   (c) PostGIS: one SQL join of the points with `ST_Intersects` over the
//!   GiST index, then the same Rust boundary rule on the candidates. PostGIS
//!   is timed once on all million points and sampled on the first 20,000
//!   (beside the index on the same 20,000).
//!
//! Every path is also a check: all three must find the same chains.
//! PostGIS is reached at `WANGGE_BENCH_POSTGRES_URL` (default: the local
//! socket, database `wangge_test`); the demo county is loaded into schema
//! `bench_locate` first. Run with `cargo bench --bench locate`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wangge::generate::{DEMO_SEED, generate};
use wangge::geom::LonLat;
use wangge::index::{Chain, GridIndex};
use wangge::store::WriteMode;
use wangge::store::postgis::PostgisStore;

const POINTS: usize = 1_000_000;
/// Points per PostGIS sample (see the last group).
const POSTGIS_SAMPLE: usize = 20_000;

fn uniform_points() -> Vec<LonLat> {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    (0..POINTS)
        .map(|_| {
            LonLat::new(
                rng.random_range(105.85..106.45),
                rng.random_range(34.50..34.95),
            )
        })
        .collect()
}

fn postgis_chains(
    rt: &tokio::runtime::Runtime,
    store: &PostgisStore,
    index: &GridIndex,
    points: &[LonLat],
) -> Vec<Chain> {
    let pairs = rt
        .block_on(store.candidates_at(points))
        .expect("PostGIS answers the join");
    let mut candidates: Vec<Vec<u32>> = vec![Vec::new(); points.len()];
    for (i, id) in pairs {
        candidates[i].push(index.position(&id).expect("PostGIS holds the same grids"));
    }
    points
        .iter()
        .zip(&candidates)
        .map(|(p, c)| index.locate_among(*p, c))
        .collect()
}

fn bench(c: &mut Criterion) {
    let grids = generate(DEMO_SEED);
    let points = uniform_points();

    let mut build = c.benchmark_group("index build (demo county, 2,403 grids)");
    build.sample_size(10);
    build.bench_function("GridIndex::build", |b| {
        b.iter_batched(
            || grids.clone(),
            |g| black_box(GridIndex::build(g)),
            criterion::BatchSize::LargeInput,
        )
    });
    build.finish();

    let index = GridIndex::build(grids.clone());
    let expected: Vec<Chain> = points.iter().map(|&p| index.locate(p)).collect();
    let inside = expected.iter().filter(|c| !c.is_empty()).count();
    eprintln!(
        "{inside} of {POINTS} points inside the county; {:.1}% of raster cells mixed",
        100.0 * index.raster_mixed_fraction()
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let url = std::env::var("WANGGE_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres:///wangge_test?host=/var/run/postgresql&user=root".into());
    let store = rt
        .block_on(PostgisStore::connect_in_schema(&url, "bench_locate"))
        .expect("PostGIS is reachable");
    // Always reload: a schema left by an earlier run may hold another county.
    rt.block_on(wangge::store::seed_grids(
        &store,
        &grids,
        WriteMode::Replace,
        "bench",
    ))
    .expect("load the demo county");
    // The check: PostGIS with the same rule finds the same chains, on all
    // million points (timed once here; the group below samples a subset).
    let started = std::time::Instant::now();
    let from_postgis = postgis_chains(&rt, &store, &index, &points);
    let elapsed = started.elapsed();
    eprintln!(
        "PostGIS, all {POINTS} points once: {elapsed:.1?} ({:.0} points/s)",
        POINTS as f64 / elapsed.as_secs_f64()
    );
    let disagree = expected
        .iter()
        .zip(&from_postgis)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(
        disagree, 0,
        "PostGIS and the index disagree on {disagree} points"
    );
    for (p, want) in points.iter().zip(&expected).take(100_000) {
        assert_eq!(index.locate_exact(*p), *want);
    }

    let mut group = c.benchmark_group("locate 1,000,000 uniform points, full chain, one thread");
    group.throughput(Throughput::Elements(POINTS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("wangge locate (raster + exact walk)", |b| {
        b.iter(|| {
            let found = points
                .iter()
                .filter(|&&p| !index.locate(black_box(p)).is_empty())
                .count();
            assert_eq!(found, inside);
        })
    });
    group.bench_function("wangge locate_exact (R-tree + rule, no raster)", |b| {
        b.iter(|| {
            let found = points
                .iter()
                .filter(|&&p| !index.locate_exact(black_box(p)).is_empty())
                .count();
            assert_eq!(found, inside);
        })
    });
    group.finish();

    // PostGIS answers a few thousand points a second, so a million points
    // per sample would take half an hour: it is sampled on the first
    // POSTGIS_SAMPLE of the same points, and compared per point.
    let sample = &points[..POSTGIS_SAMPLE];
    let sample_inside = expected[..POSTGIS_SAMPLE]
        .iter()
        .filter(|c| !c.is_empty())
        .count();
    let mut group = c.benchmark_group("locate the first 20,000 of the same points, full chain");
    group.throughput(Throughput::Elements(POSTGIS_SAMPLE as u64));
    group.sample_size(10);
    group.bench_function("wangge locate (raster + exact walk)", |b| {
        b.iter(|| {
            let found = sample
                .iter()
                .filter(|&&p| !index.locate(black_box(p)).is_empty())
                .count();
            assert_eq!(found, sample_inside);
        })
    });
    group.bench_function("PostGIS ST_Intersects join + same rule", |b| {
        b.iter(|| {
            let chains = postgis_chains(&rt, &store, &index, sample);
            assert_eq!(
                chains.iter().filter(|c| !c.is_empty()).count(),
                sample_inside
            );
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
