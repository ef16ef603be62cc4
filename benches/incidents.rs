//! Incident dispatch at county scale, on the embedded SQLite store with the
//! PostGIS store as the baseline in the same run, both over the demo county:
//!
//! - **report**: `dispatch::report`, the whole path of `POST /api/incidents`
//!   minus HTTP: category check, locate in the index, duplicate hint query,
//!   insert of the incident and its history entry (group commit: reports
//!   that arrive together share one transaction). Measured two ways: one
//!   reporter at a time (the latency of a lone report), and
//!   `REPORTERS` reporting at once, as a county's grid members and hotline do
//!   at busy hours (the throughput). Target: 2,000 per second on SQLite.
//! - **list**: `GET /api/incidents?grid=<town>&status=collected` through the
//!   router (in process: query parsing, the store's count and page, the JSON
//!   of 50 incidents) over 50,000 stored incidents. Target: median under
//!   50 ms.
//!
//! The 50,000 incidents are spread over the county by population (a level-4
//! grid drawn by its population, a point inside it), over a year, in the six
//! categories. PostGIS is reached at `WANGGE_BENCH_POSTGRES_URL` (default:
//! the local socket, database `wangge_test`), in schema `bench_incidents`,
//! dropped and rebuilt each run. Run with `cargo bench --bench incidents`.

#[path = "checks.rs"]
mod checks;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use geo::BoundingRect;
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tower::ServiceExt;
use wangge::dispatch::{self, Report};
use wangge::generate::{DEMO_SEED, generate};
use wangge::geom::{InputCrs, LonLat};
use wangge::index::GridIndex;
use wangge::model::{Level, ReportSource};
use wangge::state::AppState;
use wangge::store::postgis::PostgisStore;
use wangge::store::sqlite::SqliteStore;
use wangge::store::{Store, WriteMode};
use wangge::workflow::Severity;

/// Incidents stored before the list is timed.
const STORED: usize = 50_000;

/// Reporters at once in the throughput benchmark (and while filling).
const REPORTERS: usize = 64;

const CATEGORIES: [&str; 6] = [
    "dispute",
    "safety_hazard",
    "public_order",
    "sanitation",
    "infrastructure",
    "other",
];

/// Reports at random points of the county, drawn by population.
struct Reports {
    rng: ChaCha8Rng,
    /// Level-4 grids with their cumulative population.
    grids: Vec<(u64, geo::MultiPolygon<f64>)>,
    total: u64,
}

impl Reports {
    fn new(index: &GridIndex) -> Reports {
        let mut total = 0;
        let grids = index
            .grids()
            .iter()
            .filter(|g| g.level == Level::new(4).expect("level"))
            .map(|g| {
                total += g.population().unwrap_or(1).max(1);
                (total, g.geometry.clone())
            })
            .collect();
        Reports {
            rng: ChaCha8Rng::seed_from_u64(2026),
            grids,
            total,
        }
    }

    /// A point inside a grid drawn by population.
    fn point(&mut self) -> LonLat {
        use geo::Contains;
        let pick = self.rng.random_range(0..self.total);
        let at = self.grids.partition_point(|(cum, _)| *cum <= pick);
        let shape = &self.grids[at.min(self.grids.len() - 1)].1;
        let rect = shape.bounding_rect().expect("a grid has a box");
        loop {
            let p = geo::Point::new(
                self.rng.random_range(rect.min().x..rect.max().x),
                self.rng.random_range(rect.min().y..rect.max().y),
            );
            if shape.contains(&p) {
                return LonLat::new(p.x(), p.y());
            }
        }
    }

    fn next(&mut self) -> Report {
        let category = CATEGORIES[self.rng.random_range(0..CATEGORIES.len())];
        Report {
            category: category.into(),
            description: "村道路灯损坏，夜间无照明".into(),
            point: self.point(),
            crs: InputCrs::Wgs84,
            severity: Severity::Minor,
            source: ReportSource::GridMember,
            reporter: None,
            photos: Vec::new(),
            actor: "bench".into(),
            note: None,
        }
    }
}

/// A store with the demo county, as the server opens it.
fn open(
    rt: &tokio::runtime::Runtime,
    store: Arc<dyn Store>,
    county: &[wangge::model::Grid],
) -> Arc<AppState> {
    rt.block_on(async {
        let state = AppState::open(store).await.expect("state opens");
        state
            .import_grids(county.to_vec(), WriteMode::Replace)
            .await
            .expect("the demo county imports");
        state
    })
}

/// Store `STORED` incidents over a year before `end`, `REPORTERS` at a
/// time; returns seconds taken.
fn fill(
    rt: &tokio::runtime::Runtime,
    state: &Arc<AppState>,
    reports: &mut Reports,
    end: Timestamp,
) -> f64 {
    let year = SignedDuration::from_hours(365 * 24);
    let step = year / STORED as i32;
    let timed: Vec<(Report, Timestamp)> = (0..STORED)
        .map(|i| (reports.next(), end - year + step * i as i32))
        .collect();
    let started = Instant::now();
    rt.block_on(report_all(state, timed));
    started.elapsed().as_secs_f64()
}

/// Report all of `timed`, `REPORTERS` reporters at once, each taking its
/// share in order.
async fn report_all(state: &Arc<AppState>, timed: Vec<(Report, Timestamp)>) {
    let per_reporter = timed.len().div_ceil(REPORTERS).max(1);
    let mut timed = timed.into_iter();
    let mut reporters = tokio::task::JoinSet::new();
    loop {
        let share: Vec<(Report, Timestamp)> = timed.by_ref().take(per_reporter).collect();
        if share.is_empty() {
            break;
        }
        let state = state.clone();
        reporters.spawn(async move {
            for (report, at) in share {
                black_box(
                    dispatch::report(state.dispatch(), report, at)
                        .await
                        .expect("a report"),
                );
            }
        });
    }
    while let Some(done) = reporters.join_next().await {
        done.expect("a reporter");
    }
}

/// The town with the most people: the county seat.
fn busiest_town(index: &GridIndex) -> String {
    index
        .grids()
        .iter()
        .filter(|g| g.level == Level::TOWN)
        .max_by_key(|g| g.population().unwrap_or(0))
        .expect("towns")
        .id
        .0
        .clone()
}

/// A bearer token of a county-wide dispatcher.
async fn dispatcher_token(state: &wangge::state::AppState) -> String {
    use wangge::model::account::{Role, Scope, UserDraft};
    let actor = wangge::services::accounts::Actor::default();
    let user = state
        .accounts()
        .create_user(
            UserDraft {
                login: "bench-dispatcher".into(),
                display_name: String::new(),
                role: Role::Dispatcher,
                scope: Scope::County,
            },
            "bench password 1234",
            &actor,
        )
        .await
        .expect("a user is created");
    state
        .accounts()
        .issue_token(user.id, "bench", 1, &[], &actor)
        .await
        .expect("a token is issued")
        .0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn bench(c: &mut Criterion) {
    // As the server runs: one worker per core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let county = generate(DEMO_SEED);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let sqlite: Arc<dyn Store> = Arc::new(
        rt.block_on(SqliteStore::open(dir.path().join("bench.db")))
            .expect("SQLite opens"),
    );
    let url = std::env::var("WANGGE_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres:///wangge_test?host=/var/run/postgresql&user=root".into());
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(&url)
            .await
            .expect("PostgreSQL is reachable");
        sqlx::query("DROP SCHEMA IF EXISTS bench_incidents CASCADE")
            .execute(&pool)
            .await
            .expect("drop the old bench schema");
        pool.close().await;
    });
    let postgis: Arc<dyn Store> = Arc::new(
        rt.block_on(PostgisStore::connect_in_schema(&url, "bench_incidents"))
            .expect("PostGIS is reachable"),
    );
    let now: Timestamp = "2026-11-01T00:00:00Z".parse().expect("time");

    let mut seen: Vec<(&str, u64, u64)> = Vec::new();
    let mut town_totals = Vec::new();
    for (name, store) in [("sqlite", sqlite), ("postgis", postgis)] {
        let state = open(&rt, store.clone(), &county);
        let mut reports = Reports::new(&state.index());
        let filled = fill(&rt, &state, &mut reports, now);
        println!(
            "{name}: stored {STORED} incidents in {filled:.1} s ({:.0} reports/s, \
             {REPORTERS} reporters)",
            STORED as f64 / filled
        );

        let mut group = c.benchmark_group(format!("incidents/{name}"));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(10));
        let app = wangge::api::router(state.clone());
        // As a county dispatcher would ask: with a bearer token (checked on
        // every request, like the web map's session).
        let bearer = format!("Bearer {}", rt.block_on(dispatcher_token(&state)));
        let town = busiest_town(&state.index());
        let uri = format!("/api/incidents?grid={town}&status=collected");
        let list = |uri: &str| {
            let app = app.clone();
            let request = Request::get(uri)
                .header("authorization", &bearer)
                .body(Body::empty())
                .expect("a request");
            rt.block_on(async move {
                let response = app.oneshot(request).await.expect("infallible");
                assert_eq!(response.status(), StatusCode::OK);
                response
                    .into_body()
                    .collect()
                    .await
                    .expect("body")
                    .to_bytes()
            })
        };
        // The checks before the clock: every report stored, the list's count
        // right, and (after both) the two backends agreeing on the town.
        let stored = rt
            .block_on(store.incidents(&Default::default(), 1, 0))
            .expect("the store counts")
            .total;
        let everything: serde_json::Value =
            serde_json::from_slice(&list("/api/incidents?limit=1")).expect("JSON");
        seen.push((name, stored, everything["total"].as_u64().unwrap_or(0)));
        if let Err(e) = checks::stores_hold_what_was_reported(STORED as u64, &seen) {
            panic!("{e}");
        }
        let first: serde_json::Value = serde_json::from_slice(&list(&uri)).expect("JSON");
        town_totals.push(first["total"].clone());
        assert!(
            town_totals.windows(2).all(|w| w[0] == w[1]),
            "the backends disagree on {uri}: {town_totals:?}"
        );
        println!(
            "{name}: {uri} matches {} of {} incidents, page of {}",
            first["total"],
            STORED,
            first["incidents"].as_array().map_or(0, Vec::len)
        );
        group.throughput(Throughput::Elements(1));
        group.bench_function(
            "list a town's collected incidents (HTTP, page of 50)",
            |b| b.iter(|| black_box(list(&uri))),
        );
        let times: Vec<Duration> = (0..101)
            .map(|_| {
                let started = Instant::now();
                black_box(list(&uri));
                started.elapsed()
            })
            .collect();
        println!("{name}: list median over 101 requests: {:?}", median(times));

        // Reports last, so that the list above ran over exactly STORED.
        group.bench_function(
            "report, one at a time (locate + duplicate hint + insert)",
            |b| {
                b.iter_custom(|iters| {
                    let batch: Vec<Report> = (0..iters).map(|_| reports.next()).collect();
                    rt.block_on(async {
                        let started = Instant::now();
                        for r in batch {
                            black_box(
                                dispatch::report(state.dispatch(), r, now)
                                    .await
                                    .expect("a report"),
                            );
                        }
                        started.elapsed()
                    })
                })
            },
        );
        group.bench_function(format!("report, {REPORTERS} reporters at once"), |b| {
            b.iter_custom(|iters| {
                let batch: Vec<(Report, Timestamp)> =
                    (0..iters).map(|_| (reports.next(), now)).collect();
                let started = Instant::now();
                rt.block_on(report_all(&state, batch));
                started.elapsed()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
