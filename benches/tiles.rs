//! Grid tile generation over the demo county at zooms 10, 12 and 14, beside
//! PostGIS `ST_AsMVT` cutting the same tiles in the same run:
//!
//! - **uncached**: `tiles::render` for every tile meeting the county's
//!   bounding box (empty ones included, as a map viewer asks for them), one
//!   thread. Criterion times the whole set; the per-tile median is printed
//!   too, since the target is per tile (median under 5 ms at zoom 12).
//! - **cached**: the same tiles looked up in a warm `TileService` (the HTTP
//!   path adds the server; `scripts/bench-http` measures that with wrk).
//! - **PostGIS**: `ST_AsMVT(ST_AsMVTGeom(ST_Transform(geom, 3857), …))` with
//!   the same levels, attributes, extent and buffer, over the GiST index, on
//!   the same tiles (a sample of 40 per zoom, so a run stays in minutes).
//!
//! Also a check, before anything is timed: both sides must put the same
//! grids, with the same attributes and the same shapes, in every sampled
//! tile (`checks::same_tile`: outlines within half the simplification
//! tolerance plus a unit on average, grids in one tile only no wider than
//! a sliver). The worst mean offset between the two outlines is printed.
//!
//! PostGIS is reached at `WANGGE_BENCH_POSTGRES_URL` (default: the local
//! socket, database `wangge_test`); the county is loaded into schema
//! `bench_tiles` first. Run with `cargo bench --bench tiles`.

use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use wangge::generate::{DEMO_SEED, generate};
use wangge::geom::Bbox;
use wangge::index::GridIndex;
use wangge::store::WriteMode;
use wangge::store::postgis::PostgisStore;
use wangge::tiles::{
    BUFFER, EXTENT, EncodedTile, GRID_MIN_ZOOM, TileId, TileKey, TileService, TileSource, Tileset,
    render, simplify_tolerance,
};

#[path = "checks.rs"]
mod checks;

const ZOOMS: [u8; 3] = [10, 12, 14];
/// Tiles per zoom cut by PostGIS (spread evenly over the county's tiles).
const POSTGIS_SAMPLE: usize = 40;

/// The grids tile as PostGIS cuts it: same levels, attributes, extent and
/// buffer; geometry transformed on the fly as a PostGIS tile server does
/// for a table stored in lon/lat.
const POSTGIS_TILE: &str = r#"
WITH b AS (
  SELECT ST_TileEnvelope($1, $2, $3) AS env,
         ST_Transform(ST_TileEnvelope($1, $2, $3, margin => $5), 4326) AS search
), f AS (
  SELECT ST_AsMVTGeom(ST_Transform(g.geom, 3857), b.env, 4096, $6, true) AS geom,
         g.id, g.properties ->> 'code' AS code, g.name, g.level,
         g.parent_id AS parent, (g.properties ->> 'population')::bigint AS population
  FROM grids g, b
  WHERE g.level <= $4 AND g.geom && b.search AND ST_Intersects(g.geom, b.search)
)
SELECT ST_AsMVT(f.*, 'grids', 4096, 'geom') FROM f WHERE f.geom IS NOT NULL
"#;

fn county_bounds(index: &GridIndex) -> Bbox {
    index
        .grids()
        .iter()
        .filter_map(|g| Bbox::of(&g.geometry))
        .reduce(Bbox::union)
        .expect("the county has grids")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn postgis_tile(pool: &PgPool, t: TileId) -> Vec<u8> {
    let max_level = GRID_MIN_ZOOM.iter().filter(|&&z| z <= t.z).count() as i32;
    sqlx::query(POSTGIS_TILE)
        .bind(i32::from(t.z))
        .bind(t.x as i32)
        .bind(t.y as i32)
        .bind(max_level)
        .bind(f64::from(BUFFER) / f64::from(EXTENT))
        .bind(BUFFER as i32)
        .fetch_one(pool)
        .await
        .expect("PostGIS cuts the tile")
        .get::<Option<Vec<u8>>, _>(0)
        .unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let grids = generate(DEMO_SEED);
    let index = Arc::new(GridIndex::build(grids.clone()));
    let started = Instant::now();
    let source = Arc::new(TileSource::new(index.clone(), 0));
    eprintln!("tile source prepared in {:.1?}", started.elapsed());
    let bounds = county_bounds(&index);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let url = std::env::var("WANGGE_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres:///wangge_test?host=/var/run/postgresql&user=root".into());
    let store = rt
        .block_on(PostgisStore::connect_in_schema(&url, "bench_tiles"))
        .expect("PostGIS is reachable");
    // Always reload: a schema left by an earlier run may hold another county.
    rt.block_on(wangge::store::seed_grids(
        &store,
        &grids,
        WriteMode::Replace,
        "bench",
    ))
    .expect("load the demo county");
    let pool = rt
        .block_on(
            PgPoolOptions::new().max_connections(1).connect_with(
                PgConnectOptions::from_str(&url)
                    .expect("a PostgreSQL URL")
                    .options([("search_path", "bench_tiles,public")]),
            ),
        )
        .expect("connect for the baseline");

    for z in ZOOMS {
        let tiles: Vec<TileId> = TileId::covering(bounds, z).collect();
        let n = tiles.len() as u64;

        // Per-tile figures, outside criterion: the target is a median.
        let per_tile: Vec<Duration> = tiles
            .iter()
            .map(|&t| {
                (0..3)
                    .map(|_| {
                        let s = Instant::now();
                        black_box(render(&source, Tileset::Grids, t));
                        s.elapsed()
                    })
                    .min()
                    .expect("three runs")
            })
            .collect();
        let sizes: Vec<usize> = tiles
            .iter()
            .filter_map(|&t| render(&source, Tileset::Grids, t).map(|b| b.len()))
            .collect();
        eprintln!(
            "zoom {z}: {n} tiles ({} with grids, {:.1} MB in all); wangge per tile: median {:.2?}, \
             max {:.2?}",
            sizes.len(),
            sizes.iter().sum::<usize>() as f64 / 1e6,
            median(per_tile.clone()),
            per_tile.iter().max().expect("tiles")
        );

        let step = (tiles.len() / POSTGIS_SAMPLE).max(1);
        let sample: Vec<TileId> = tiles
            .iter()
            .copied()
            .step_by(step)
            .take(POSTGIS_SAMPLE)
            .collect();
        let mut agreement = checks::TileAgreement::default();
        let mut pg_times = Vec::new();
        let mut ours_times = Vec::new();
        for &t in &sample {
            let s = Instant::now();
            let theirs = rt.block_on(postgis_tile(&pool, t));
            pg_times.push(s.elapsed());
            let s = Instant::now();
            let ours = render(&source, Tileset::Grids, t).unwrap_or_default();
            ours_times.push(s.elapsed());
            let seen = checks::same_tile(
                &format!("tile {}/{}/{}", t.z, t.x, t.y),
                &ours,
                &theirs,
                f64::from(EXTENT),
                simplify_tolerance(z),
            )
            .unwrap_or_else(|e| panic!("PostGIS and wangge cut different tiles: {e}"));
            agreement.compared += seen.compared;
            agreement.slivers += seen.slivers;
            agreement.worst_mean_offset = agreement.worst_mean_offset.max(seen.worst_mean_offset);
        }
        let (pg, ours) = (median(pg_times), median(ours_times));
        eprintln!(
            "zoom {z}: PostGIS ST_AsMVT on {} sampled tiles: median {pg:.2?} vs wangge {ours:.2?} \
             ({:.0}x); {} grids compared, worst mean outline offset {:.2} units (allowed \
             {}), {} slivers in one tile only",
            sample.len(),
            pg.as_secs_f64() / ours.as_secs_f64(),
            agreement.compared,
            agreement.worst_mean_offset,
            simplify_tolerance(z) / 2.0 + 1.0,
            agreement.slivers
        );

        let mut group = c.benchmark_group(format!("grid tiles, zoom {z}, whole county"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(n));
        group.bench_function("wangge, uncached", |b| {
            b.iter(|| {
                for &t in &tiles {
                    black_box(render(&source, Tileset::Grids, t));
                }
            })
        });
        let service = TileService::new(source.clone(), 1 << 30);
        let keys: Vec<TileKey> = tiles
            .iter()
            .map(|&tile| TileKey {
                tileset: Tileset::Grids,
                tile,
            })
            .collect();
        for key in &keys {
            let tile = Arc::new(EncodedTile::new(render(&source, key.tileset, key.tile)));
            service.put(&source, *key, tile);
        }
        group.bench_function("wangge, cached", |b| {
            b.iter(|| {
                for key in &keys {
                    black_box(service.get(key).expect("warm"));
                }
            })
        });
        group.throughput(Throughput::Elements(sample.len() as u64));
        group.bench_function("PostGIS ST_AsMVT, sample", |b| {
            b.iter(|| {
                for &t in &sample {
                    black_box(rt.block_on(postgis_tile(&pool, t)));
                }
            })
        });
        group.bench_function("wangge, same sample, uncached", |b| {
            b.iter(|| {
                for &t in &sample {
                    black_box(render(&source, Tileset::Grids, t));
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
