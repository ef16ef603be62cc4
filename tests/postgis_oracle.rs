//! PostGIS as the oracle for locate: the demo county is loaded into a real
//! PostGIS and every answer of the in-memory index is checked against
//! `ST_Covers`, for 150,000 random points and for tens of thousands of points
//! exactly on shared edges and vertices. Also checks that the PostGIS locate
//! path (`ST_Intersects` join + the same boundary rule) finds identical chains.

mod support;

use std::collections::HashSet;
use std::str::FromStr;

use geo::CoordsIter;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use wangge::generate::{DEMO_SEED, generate};
use wangge::geom::LonLat;
use wangge::index::GridIndex;
use wangge::model::GridId;
use wangge::store::WriteMode;
use wangge::store::postgis::PostgisStore;

/// Points sent to PostgreSQL per statement.
const CHUNK: usize = 50_000;

/// For each point, the ids of the grids that cover it (`ST_Covers`: inside
/// or on the boundary), by level.
async fn st_covers(pool: &sqlx::PgPool, points: &[LonLat]) -> Vec<[Vec<GridId>; 5]> {
    let mut out: Vec<[Vec<GridId>; 5]> = vec![Default::default(); points.len()];
    for (c, chunk) in points.chunks(CHUNK).enumerate() {
        let rows: Vec<(i64, String, i16)> = sqlx::query_as(
            "SELECT p.ord - 1, g.id, g.level::int2
             FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(lon, lat, ord)
             JOIN grids g ON ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))",
        )
        .bind(chunk.iter().map(|p| p.lon).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.lat).collect::<Vec<_>>())
        .fetch_all(pool)
        .await
        .expect("the ST_Covers join runs");
        for (i, id, level) in rows {
            out[c * CHUNK + i as usize][level as usize - 1].push(GridId(id));
        }
    }
    out
}

/// Indexes of the points that lie on the county's outer border.
async fn on_county_border(pool: &sqlx::PgPool, points: &[LonLat]) -> HashSet<usize> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "WITH county AS (SELECT ST_Boundary(ST_Union(geom)) AS border FROM grids WHERE level = 1)
         SELECT p.ord - 1
         FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(lon, lat, ord), county
         WHERE ST_Intersects(county.border, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))",
    )
    .bind(points.iter().map(|p| p.lon).collect::<Vec<_>>())
    .bind(points.iter().map(|p| p.lat).collect::<Vec<_>>())
    .fetch_all(pool)
    .await
    .expect("the border query runs");
    rows.into_iter().map(|(i,)| i as usize).collect()
}

/// 150,000 random points and every eleventh vertex of every level-4 and level-5
/// grid: interior points agree with ST_Covers exactly, boundary points get one
/// of the grids that cover them (or none, only on the county's outer border).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locate_agrees_with_postgis_st_covers() {
    let grids = generate(DEMO_SEED);
    let url = support::postgres_url();
    let schema = format!("oracle_{}", std::process::id());
    let store = PostgisStore::connect_in_schema(&url, &schema)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostGIS must be reachable at {url}: {}",
                support::error_chain(&e)
            )
        });
    wangge::store::seed_grids(&store, &grids, WriteMode::Replace, "test")
        .await
        .expect("the demo county loads into PostGIS");
    let options = PgConnectOptions::from_str(&url)
        .expect("valid URL")
        .options([("search_path", format!("{schema},public"))]);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("connect");
    let index = GridIndex::build(grids);

    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let random: Vec<LonLat> = (0..150_000)
        .map(|_| {
            LonLat::new(
                rng.random_range(105.85..106.45),
                rng.random_range(34.50..34.95),
            )
        })
        .collect();
    let on_edges: Vec<LonLat> = index
        .grids()
        .iter()
        .filter(|g| g.level.get() >= 4)
        .flat_map(|g| {
            g.geometry
                .coords_iter()
                .step_by(11)
                .map(LonLat::from)
                .collect::<Vec<_>>()
        })
        .collect();

    // Random points: where one grid covers a point at a level, it is the answer.
    let covers = st_covers(&pool, &random).await;
    let (mut inside, mut shared) = (0, 0);
    for (p, cover) in random.iter().zip(&covers) {
        let chain = index.locate(*p);
        let got = index.chain_ids(&chain);
        for (l, (cover, got)) in cover.iter().zip(got).enumerate() {
            match cover.as_slice() {
                [] => assert_eq!(got, None, "{p:?} level {}", l + 1),
                [one] => assert_eq!(got, Some(one), "{p:?} level {}", l + 1),
                many => {
                    shared += 1;
                    assert!(
                        got.is_some_and(|g| many.contains(g)),
                        "{p:?} level {}",
                        l + 1
                    );
                }
            }
        }
        inside += usize::from(!chain.is_empty());
    }
    assert!(
        inside > 100_000,
        "{inside} of the random points are in the county"
    );
    eprintln!(
        "{inside} random points inside the county agree with ST_Covers ({shared} level answers on a shared edge)"
    );

    // Points exactly on shared edges and vertices.
    let covers = st_covers(&pool, &on_edges).await;
    let border = on_county_border(&pool, &on_edges).await;
    let mut checked = 0;
    for (i, (p, cover)) in on_edges.iter().zip(&covers).enumerate() {
        let got = index.chain_ids(&index.locate(*p));
        if got[0].is_none() {
            assert!(
                border.contains(&i),
                "{p:?} is owned by no town but is not on the county's border"
            );
            continue;
        }
        for (l, (cover, got)) in cover.iter().zip(got).enumerate() {
            match got {
                Some(g) => assert!(
                    cover.contains(g),
                    "{p:?} level {}: {g} does not cover it",
                    l + 1
                ),
                None => assert!(
                    cover.is_empty() || l == 4,
                    "{p:?} level {} has no owner",
                    l + 1
                ),
            }
        }
        checked += usize::from(cover[3].len() >= 2);
    }
    assert!(checked > 10_000, "{checked} points on shared level-4 edges");
    eprintln!(
        "{} boundary points checked, {checked} on edges shared by level-4 grids, {} on the county border",
        on_edges.len(),
        border.len()
    );

    // The PostGIS locate path answers identically to the index.
    let all: Vec<LonLat> = random.iter().chain(&on_edges).copied().collect();
    let mut candidates: Vec<Vec<u32>> = vec![Vec::new(); all.len()];
    for (i, id) in store.candidates_at(&all).await.expect("candidates") {
        candidates[i].push(index.position(&id).expect("same grids"));
    }
    for (p, c) in all.iter().zip(&candidates) {
        assert_eq!(index.locate_among(*p, c), index.locate(*p), "{p:?}");
    }

    pool.close().await;
    store.close().await;
    let admin = sqlx::PgPool::connect(&url).await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .expect("drop schema");
}
