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

/// The midpoints of the edges of the county's outer border (as PostGIS
/// draws it: the boundary of the union of the towns).
async fn outer_border_midpoints(pool: &sqlx::PgPool) -> Vec<LonLat> {
    let rows: Vec<(f64, f64)> = sqlx::query_as(
        "WITH border AS (SELECT ST_Boundary(ST_Union(geom)) AS b FROM grids WHERE level = 1),
              pts AS (SELECT (ST_DumpPoints(b)).path AS path, (ST_DumpPoints(b)).geom AS g
                      FROM border)
         SELECT (ST_X(a.g) + ST_X(b.g)) / 2, (ST_Y(a.g) + ST_Y(b.g)) / 2
         FROM pts a JOIN pts b
           ON a.path[1:array_length(a.path, 1) - 1] = b.path[1:array_length(b.path, 1) - 1]
          AND b.path[array_length(b.path, 1)] = a.path[array_length(a.path, 1)] + 1",
    )
    .fetch_all(pool)
    .await
    .expect("the border query runs");
    rows.into_iter()
        .map(|(lon, lat)| LonLat::new(lon, lat))
        .collect()
}

/// Check a chain against what `ST_Covers` says covers the point: at every
/// level the grid found covers it and is the child of the grid above, and
/// the chain stops only where no child of its last grid covers the point
/// (a point the county covers always gets a town). Answers whether the
/// point was shared by several grids at some level.
fn check_chain(
    index: &GridIndex,
    p: LonLat,
    got: [Option<&GridId>; 5],
    cover: &[Vec<GridId>; 5],
) -> bool {
    let mut parent: Option<&GridId> = None;
    let mut shared = false;
    for level in 0..5 {
        let children: Vec<&GridId> = cover[level]
            .iter()
            .filter(|g| level == 0 || index.get(g).and_then(|g| g.parent_id.as_ref()) == parent)
            .collect();
        shared |= cover[level].len() > 1;
        match got[level] {
            Some(g) => {
                assert!(
                    children.contains(&g),
                    "{p:?} level {}: {g} is not one of {children:?}",
                    level + 1
                );
                parent = Some(g);
            }
            None => {
                assert!(
                    level > 0 && parent.is_some() || cover[0].is_empty(),
                    "{p:?}: covered by {:?} but given no town",
                    cover[0]
                );
                assert!(
                    children.is_empty(),
                    "{p:?} level {}: the chain stops although {children:?} cover it",
                    level + 1
                );
                break;
            }
        }
    }
    shared
}

/// 1,000,000 random points, every vertex of every grid, and the midpoint of
/// every edge of the county's outer border: each gets a chain that agrees
/// with `ST_Covers` at every level (one of the grids that cover it where
/// several share the point, down to the deepest level that covers it), and
/// the PostGIS locate path gives the same chain as the index.
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
    let random: Vec<LonLat> = (0..1_000_000)
        .map(|_| {
            LonLat::new(
                rng.random_range(105.85..106.45),
                rng.random_range(34.50..34.95),
            )
        })
        .collect();
    let mut seen = HashSet::new();
    let vertices: Vec<LonLat> = index
        .grids()
        .iter()
        .flat_map(|g| g.geometry.coords_iter())
        .filter(|c| seen.insert((c.x.to_bits(), c.y.to_bits())))
        .map(LonLat::from)
        .collect();
    let border = outer_border_midpoints(&pool).await;
    assert!(border.len() > 100, "{} outer border edges", border.len());

    for (what, points) in [
        ("random points", &random),
        ("grid vertices", &vertices),
        ("outer border midpoints", &border),
    ] {
        let covers = st_covers(&pool, points).await;
        let (mut inside, mut covered, mut shared) = (0, 0, 0);
        for (p, cover) in points.iter().zip(&covers) {
            let chain = index.locate(*p);
            shared += usize::from(check_chain(&index, *p, index.chain_ids(&chain), cover));
            inside += usize::from(!chain.is_empty());
            covered += usize::from(!cover[0].is_empty());
        }
        eprintln!(
            "{what}: {} checked, {covered} covered by a town (ST_Covers), {inside} located, \
             {shared} shared by several grids at some level",
            points.len()
        );
        // Every point the county covers is located (check_chain holds it
        // point by point; this says it for the whole set).
        assert_eq!(inside, covered, "{what}");
        if what != "random points" {
            // A midpoint computed in floating point lies exactly on its edge
            // only where the edge allows (axis-parallel edges, even sums);
            // thousands do.
            assert!(covered > points.len() / 2, "{what}: {covered} covered");
        }
    }

    // The PostGIS locate path answers identically to the index.
    let all: Vec<LonLat> = random
        .iter()
        .chain(&vertices)
        .chain(&border)
        .copied()
        .collect();
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
