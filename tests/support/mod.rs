//! Helpers shared by the integration tests (`mod support;` in each file):
//! stores on both backends, each isolated (a temporary SQLite file, a fresh
//! PostgreSQL schema), small fixture grids, and a comparison of grids that
//! is stricter than `==`.
//!
//! PostGIS tests never skip: when the database cannot be reached the helper
//! panics, saying how to provide one.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

pub mod county_world;
pub mod four_towns;
pub mod http;
pub mod mvt;
pub mod process;
pub mod python;
pub mod server;
pub mod sse;
pub mod webdriver;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use geo::{LineString, MultiPolygon, Polygon, coord};
use serde_json::{Map, Value, json};
use tempfile::TempDir;
use wangge::model::{Grid, GridId, Level};
use wangge::store::postgis::PostgisStore;
use wangge::store::sqlite::SqliteStore;
use wangge::store::{Backend, Store};

/// The environment variable naming the PostgreSQL database for tests.
pub const POSTGRES_URL_VAR: &str = "WANGGE_TEST_POSTGRES_URL";

/// The PostgreSQL database the tests use: `$WANGGE_TEST_POSTGRES_URL`, or
/// the local `wangge_test` database over the Unix socket.
pub fn postgres_url() -> String {
    std::env::var(POSTGRES_URL_VAR)
        .unwrap_or_else(|_| "postgres:///wangge_test?host=/var/run/postgresql&user=root".to_owned())
}

/// A store under test and what it takes to open it again.
pub struct TestStore {
    /// "sqlite" or "postgis", for assertion messages.
    pub name: &'static str,
    /// The store.
    pub store: Arc<dyn Store>,
    /// Where the data lives, to reopen it.
    location: Location,
    /// The same store as its concrete type, when it is PostGIS (for
    /// `candidates_at`).
    postgis: Option<PostgisStore>,
}

enum Location {
    /// The SQLite file's directory, deleted when the test ends.
    Sqlite(TempDir),
    /// The PostgreSQL schema: dropped by [`TestStore::cleanup`], or, when a
    /// test fails before it, by a later run ([`sweep_stale_schemas`]).
    Postgis(String),
}

impl TestStore {
    /// A fresh, empty store of one backend.
    pub async fn open(backend: Backend) -> TestStore {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory can be created");
                let store = SqliteStore::open(dir.path().join("wangge.sqlite"))
                    .await
                    .expect("a SQLite file in a temporary directory opens");
                TestStore {
                    name: "sqlite",
                    store: Arc::new(store),
                    location: Location::Sqlite(dir),
                    postgis: None,
                }
            }
            Backend::Postgis => {
                let schema = unique_schema_name();
                let store = connect_postgis(&schema).await;
                TestStore {
                    name: "postgis",
                    store: Arc::new(store.clone()),
                    location: Location::Postgis(schema),
                    postgis: Some(store),
                }
            }
        }
    }

    /// The store as a [`PostgisStore`], if that is its backend.
    pub fn postgis(&self) -> Option<&PostgisStore> {
        self.postgis.as_ref()
    }

    /// A second, independent store on the same data (a new pool on the same
    /// SQLite file or PostgreSQL schema), as after a restart.
    pub async fn reopen(&self) -> Arc<dyn Store> {
        match &self.location {
            Location::Sqlite(dir) => Arc::new(
                SqliteStore::open(dir.path().join("wangge.sqlite"))
                    .await
                    .expect("the SQLite file reopens"),
            ),
            Location::Postgis(schema) => Arc::new(connect_postgis(schema).await),
        }
    }

    /// Remove the store's data: the PostgreSQL schema is dropped, the SQLite
    /// directory deleted. Call at the end of a test that passed.
    pub async fn cleanup(self) {
        match self.location {
            Location::Sqlite(dir) => drop(dir),
            Location::Postgis(schema) => {
                if let Some(store) = &self.postgis {
                    store.close().await;
                }
                let pool = sqlx::PgPool::connect(&postgres_url())
                    .await
                    .expect("PostgreSQL was reachable a moment ago");
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&pool)
                .await
                .expect("the test's own schema can be dropped");
                pool.close().await;
            }
        }
    }

    /// Run SQL (one or more statements) directly against the store's
    /// database, beside the store: for tests that damage a row on purpose.
    pub async fn execute_raw(&self, sql: &str) {
        self.try_execute_raw(sql).await.expect("raw SQL runs");
    }

    /// [`TestStore::execute_raw`], answering the database's refusal, if
    /// any, as text.
    pub async fn try_execute_raw(&self, sql: &str) -> Result<(), String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.location {
            Location::Sqlite(dir) => {
                let url = format!("sqlite://{}", dir.path().join("wangge.sqlite").display());
                let pool = sqlx::SqlitePool::connect(&url)
                    .await
                    .expect("the SQLite file opens");
                let done = sqlx::raw_sql(sql).execute(&pool).await;
                pool.close().await;
                done.map(|_| ()).map_err(|e| e.to_string())
            }
            Location::Postgis(schema) => {
                let pool = sqlx::PgPool::connect(&postgres_url())
                    .await
                    .expect("PostgreSQL was reachable a moment ago");
                let mut tx = pool.begin().await.expect("a transaction starts");
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SET LOCAL search_path = {schema}, public"
                )))
                .execute(&mut *tx)
                .await
                .expect("search_path can be set");
                let done = sqlx::raw_sql(sql).execute(&mut *tx).await;
                let done = match done {
                    Ok(_) => tx.commit().await.map_err(|e| e.to_string()),
                    Err(e) => {
                        // Back to the pool before it closes (close waits for it).
                        let _ = tx.rollback().await;
                        Err(e.to_string())
                    }
                };
                pool.close().await;
                done
            }
        }
    }
}

/// A fresh SQLite store in a file of its own; the file lives as long as the
/// returned directory.
pub async fn sqlite_store() -> (Arc<dyn Store>, TempDir) {
    let t = TestStore::open(Backend::Sqlite).await;
    match t.location {
        Location::Sqlite(dir) => (t.store, dir),
        Location::Postgis(_) => unreachable!("opened as SQLite"),
    }
}

/// The state and the admin's router over a fresh SQLite store holding the
/// whole demo county (its grids only); the file lives as long as the
/// returned directory.
#[allow(dead_code)]
pub async fn demo_county_app() -> (Arc<wangge::state::AppState>, axum::Router, TempDir) {
    let (store, dir) = sqlite_store().await;
    let state = wangge::state::AppState::open(store)
        .await
        .expect("state opens");
    state
        .import_grids(
            wangge::generate::generate(wangge::generate::DEMO_SEED),
            wangge::store::WriteMode::Replace,
        )
        .await
        .expect("the demo county imports");
    let app = admin_app(state.clone());
    (state, app, dir)
}

/// A fresh PostGIS store in a schema of its own. Panics, saying why, when
/// PostgreSQL or PostGIS cannot be reached: a PostGIS test never passes by
/// not running.
pub async fn postgis_store() -> Arc<dyn Store> {
    Arc::new(postgis().await)
}

/// Like [`postgis_store`], as the concrete type, for its inherent methods
/// (`candidates_at`).
pub async fn postgis() -> PostgisStore {
    connect_postgis(&unique_schema_name()).await
}

/// A fresh store of each backend: (name, store, the SQLite file's directory).
pub async fn both_stores() -> Vec<(&'static str, Arc<dyn Store>, Option<TempDir>)> {
    let (sqlite, dir) = sqlite_store().await;
    vec![
        ("sqlite", sqlite, Some(dir)),
        ("postgis", postgis_store().await, None),
    ]
}

/// A schema name no other test, process or earlier run uses:
/// `t_<pid>_<counter>_<nanoseconds since 1970>`.
fn unique_schema_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

async fn connect_postgis(schema: &str) -> PostgisStore {
    let url = postgres_url();
    sweep_stale_schemas(&url).await;
    PostgisStore::connect_in_schema(&url, schema)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostGIS tests need a PostgreSQL database with PostGIS at {url} \
                 (set {POSTGRES_URL_VAR} to use another): {}",
                error_chain(&e)
            )
        })
}

/// How old a test schema must be before any test process may drop it. By
/// age rather than by checking the pid: a test process in another container
/// (another pid namespace) may share the database.
const STALE_SCHEMA_AGE: Duration = Duration::from_secs(3600);

/// Drop test schemas older than [`STALE_SCHEMA_AGE`] (failed tests skip
/// their cleanup), once per test process.
async fn sweep_stale_schemas(url: &str) {
    static SWEPT: AtomicBool = AtomicBool::new(false);
    if SWEPT.swap(true, Ordering::Relaxed) {
        return;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let Ok(pool) = sqlx::PgPool::connect(url).await else {
        return; // The connect that follows reports the problem.
    };
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname ~ '^t_[0-9]+_[0-9]+_[0-9]+$'",
    )
    .fetch_all(&pool)
    .await
    .unwrap_or_default();
    for schema in schemas {
        let created: u128 = schema
            .rsplit('_')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(u128::MAX);
        if now.saturating_sub(created) < STALE_SCHEMA_AGE.as_nanos() {
            continue;
        }
        // Another process may be sweeping the same schema: ignore failures.
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .execute(&pool)
        .await;
    }
    pool.close().await;
}

/// An error and its sources, one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

// ---------------------------------------------------------------------------
// Fixtures

/// A level from its number.
pub fn level(n: i64) -> Level {
    Level::new(n).expect("fixture levels are 1 to 5")
}

/// A closed ring from corner coordinates (the first is repeated at the end).
pub fn ring(points: &[(f64, f64)]) -> LineString<f64> {
    let mut coords: Vec<_> = points.iter().map(|&(x, y)| coord! { x: x, y: y }).collect();
    coords.push(coords[0]);
    LineString::new(coords)
}

/// The square with its south-west corner at (x, y), `size` degrees wide,
/// counter-clockwise.
pub fn square(x: f64, y: f64, size: f64) -> Polygon<f64> {
    Polygon::new(
        ring(&[(x, y), (x + size, y), (x + size, y + size), (x, y + size)]),
        vec![],
    )
}

/// A grid with the given boundary and a small set of properties in a
/// deliberately unsorted key order.
pub fn grid(id: &str, level_n: i64, parent: Option<&str>, geometry: MultiPolygon<f64>) -> Grid {
    let mut properties = Map::new();
    properties.insert("code".into(), json!(id));
    properties.insert("zeta".into(), json!(1));
    properties.insert("alpha".into(), json!({"y": 2, "x": [1, 2.5]}));
    Grid {
        id: GridId::from(id),
        level: level(level_n),
        parent_id: parent.map(GridId::from),
        name: format!("网格 {id}"),
        geometry,
        properties,
    }
}

/// A square grid: south-west corner (x, y), `size` degrees wide.
pub fn square_grid(
    id: &str,
    level_n: i64,
    parent: Option<&str>,
    x: f64,
    y: f64,
    size: f64,
) -> Grid {
    grid(id, level_n, parent, MultiPolygon(vec![square(x, y, size)]))
}

/// Longitude and latitude of the fixtures' origin: in the county's part of
/// the world, so that coordinates are long decimals that binary floats
/// cannot represent exactly.
pub const ORIGIN: (f64, f64) = (116.3912345678901, 39.907654321);

/// A small hierarchy exercising every shape the stores must keep exactly,
/// on a 0.1-degree lattice east and north of [`ORIGIN`]:
///
/// ```text
///   lat
///  +0.4 ┌───────────────┬───────────────┐
///       │ V1 (level 2)  │ V2 (level 2)  │   T (level 1) = the whole 0.8 x 0.4
///       │  ┌─────────┐  │               │   V1: the west half, with G1 inside
///       │  │ G1  ┌─┐ │  │      ┌─┐      │   G1 (level 3): a square with a hole
///       │  │     └─┘ │  │      └─┘ E    │   V2: the east half
///       │  └─────────┘  │               │   E (level 3, in V2): two parts,
///  +0.0 └───────────────┴───────────────┘      a small square and a sliver
///      +0.0            +0.4            +0.8   lon
/// ```
pub fn small_county() -> Vec<Grid> {
    let (x0, y0) = ORIGIN;
    let at = |dx: f64, dy: f64| (x0 + dx, y0 + dy);
    let rect = |(ax, ay): (f64, f64), (bx, by): (f64, f64)| {
        ring(&[(ax, ay), (bx, ay), (bx, by), (ax, by)])
    };

    let town = grid(
        "T",
        1,
        None,
        MultiPolygon(vec![Polygon::new(rect(at(0.0, 0.0), at(0.8, 0.4)), vec![])]),
    );
    let v1 = grid(
        "V1",
        2,
        Some("T"),
        MultiPolygon(vec![Polygon::new(rect(at(0.0, 0.0), at(0.4, 0.4)), vec![])]),
    );
    let v2 = grid(
        "V2",
        2,
        Some("T"),
        MultiPolygon(vec![Polygon::new(rect(at(0.4, 0.0), at(0.8, 0.4)), vec![])]),
    );
    // A hole, wound clockwise as GeoJSON has it.
    let mut hole = rect(at(0.2, 0.15), at(0.25, 0.2));
    hole.0.reverse();
    let g1 = grid(
        "G1",
        3,
        Some("V1"),
        MultiPolygon(vec![Polygon::new(
            rect(at(0.1, 0.1), at(0.3, 0.3)),
            vec![hole],
        )]),
    );
    let mut e = grid(
        "E",
        3,
        Some("V2"),
        MultiPolygon(vec![
            Polygon::new(rect(at(0.6, 0.15), at(0.65, 0.2)), vec![]),
            Polygon::new(
                ring(&[at(0.5, 0.3), at(0.7, 0.3), at(0.7, 0.300_000_1)]),
                vec![],
            ),
        ]),
    );
    // Properties beyond the basics: unicode, nesting, numbers that need all
    // seventeen digits, keys out of order.
    e.properties.insert("名称".into(), json!("东片区"));
    e.properties.insert("population".into(), json!(1234));
    e.properties.insert("ratio".into(), json!(0.1 + 0.2));
    e.properties.insert(
        "leader".into(),
        json!({"phone": "13800000000", "name": "李四"}),
    );
    e.properties.insert("empty".into(), Value::Null);
    vec![town, v1, v2, g1, e]
}

/// Assert that two lists of grids are identical in everything a store must
/// keep: order, ids, levels, parents, names, property keys in order with
/// their values, and every coordinate bit for bit (`==` on floats would
/// accept -0.0 for 0.0, and `==` on properties ignores key order).
#[track_caller]
pub fn assert_grids_identical(context: &str, got: &[Grid], want: &[Grid]) {
    let ids = |gs: &[Grid]| gs.iter().map(|g| g.id.to_string()).collect::<Vec<_>>();
    assert_eq!(ids(got), ids(want), "{context}: grid ids in order");
    for (g, w) in got.iter().zip(want) {
        let ctx = format!("{context}: grid {}", w.id);
        assert_eq!(g.level, w.level, "{ctx}: level");
        assert_eq!(g.parent_id, w.parent_id, "{ctx}: parent");
        assert_eq!(g.name, w.name, "{ctx}: name");
        assert_eq!(
            serde_json::to_string(&g.properties).expect("properties serialise"),
            serde_json::to_string(&w.properties).expect("properties serialise"),
            "{ctx}: properties, in key order"
        );
        assert_eq!(
            geometry_bits(&g.geometry),
            geometry_bits(&w.geometry),
            "{ctx}: geometry, bit for bit"
        );
    }
}

/// Every coordinate's bits, structured by polygon and ring.
fn geometry_bits(m: &MultiPolygon<f64>) -> Vec<Vec<Vec<(u64, u64)>>> {
    let ring_bits =
        |r: &LineString<f64>| r.coords().map(|c| (c.x.to_bits(), c.y.to_bits())).collect();
    m.iter()
        .map(|p| {
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(ring_bits)
                .collect()
        })
        .collect()
}

/// The grids sorted as the store lists them: by level, then id.
pub fn sorted(mut grids: Vec<Grid>) -> Vec<Grid> {
    grids.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)));
    grids
}

/// The ids of some grids, in order.
pub fn ids(grids: &[Grid]) -> Vec<&str> {
    grids.iter().map(|g| g.id.as_str()).collect()
}

#[allow(unused_macros)]
/// Generate `sqlite::$case` and `postgis::$case` for each case function
/// (an `async fn(&TestStore)` at the test crate's root, beside imports of
/// `TestStore` and `Backend`), each on a fresh store that is cleaned up when
/// the case passes. Use with `#[macro_use] mod support;`.
macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let t = super::TestStore::open(super::Backend::Sqlite).await;
                    super::$case(&t).await;
                    t.cleanup().await;
                }
            )+
        }
        mod postgis {
            $(
                #[tokio::test]
                async fn $case() {
                    let t = super::TestStore::open(super::Backend::Postgis).await;
                    super::$case(&t).await;
                    t.cleanup().await;
                }
            )+
        }
    };
}

/// The store's writes, each in a unit of its own (begin, write, commit),
/// for tests that exercise a backend directly rather than through a
/// service. No change-feed entry is recorded.
#[async_trait::async_trait]
#[allow(dead_code)]
pub trait DirectWrites {
    /// Record one incident.
    async fn create_incident(
        &self,
        new: &wangge::store::NewIncident,
    ) -> Result<wangge::model::Incident, wangge::store::StoreError>;
    /// Record incidents in one transaction.
    async fn create_incidents(
        &self,
        news: &[wangge::store::NewIncident],
    ) -> Result<Vec<wangge::model::Incident>, wangge::store::StoreError>;
    /// Change an incident, guarded by its version.
    async fn update_incident(
        &self,
        before: &wangge::model::Incident,
        after: &wangge::model::Incident,
        event: &wangge::store::NewEvent,
    ) -> Result<wangge::model::Incident, wangge::store::StoreError>;
    /// Write grids.
    async fn write_grids(
        &self,
        grids: &[Grid],
        mode: wangge::store::WriteMode,
    ) -> Result<(), wangge::store::StoreError>;
}

#[async_trait::async_trait]
impl DirectWrites for Arc<dyn Store> {
    async fn create_incident(
        &self,
        new: &wangge::store::NewIncident,
    ) -> Result<wangge::model::Incident, wangge::store::StoreError> {
        let mut unit = self.begin().await?;
        let done = unit.create_incident(new).await?;
        unit.commit().await?;
        Ok(done)
    }

    async fn create_incidents(
        &self,
        news: &[wangge::store::NewIncident],
    ) -> Result<Vec<wangge::model::Incident>, wangge::store::StoreError> {
        let mut unit = self.begin().await?;
        let done = unit.create_incidents(news).await?;
        unit.commit().await?;
        Ok(done)
    }

    async fn update_incident(
        &self,
        before: &wangge::model::Incident,
        after: &wangge::model::Incident,
        event: &wangge::store::NewEvent,
    ) -> Result<wangge::model::Incident, wangge::store::StoreError> {
        let mut unit = self.begin().await?;
        let done = unit.update_incident(before, after, event).await?;
        unit.commit().await?;
        Ok(done)
    }

    async fn write_grids(
        &self,
        grids: &[Grid],
        mode: wangge::store::WriteMode,
    ) -> Result<(), wangge::store::StoreError> {
        let mut unit = self.begin().await?;
        unit.write_grids(grids, mode).await?;
        unit.commit().await
    }
}

/// The first admin's password in tests.
pub const ADMIN_PASSWORD: &str = "test-admin-password";

/// The API over `state`, with every request that carries no credential of
/// its own (no `Authorization`, no cookie, no `X-Test-Anonymous`) sent as
/// the admin: a real bearer token, issued on the first request, checked
/// by the server like any other. Tests of who may do what send their own
/// credentials (or `X-Test-Anonymous` to send none).
pub fn admin_app(state: Arc<wangge::state::AppState>) -> axum::Router {
    use axum::http::{HeaderValue, header};
    let token: Arc<tokio::sync::OnceCell<String>> = Arc::new(tokio::sync::OnceCell::new());
    let accounts = state.accounts().clone();
    wangge::api::router(state).layer(axum::middleware::from_fn(
        move |mut request: axum::extract::Request, next: axum::middleware::Next| {
            let token = token.clone();
            let accounts = accounts.clone();
            async move {
                let headers = request.headers_mut();
                if headers.remove("x-test-anonymous").is_none()
                    && !headers.contains_key(header::AUTHORIZATION)
                    && !headers.contains_key(header::COOKIE)
                {
                    let token = token
                        .get_or_init(|| async { admin_token(&accounts).await })
                        .await;
                    headers.insert(
                        header::AUTHORIZATION,
                        HeaderValue::from_str(&format!("Bearer {token}"))
                            .expect("a token is ASCII"),
                    );
                }
                next.run(request).await
            }
        },
    ))
}

/// A user made through the account service (no name, `password`).
#[allow(dead_code)]
pub async fn create_user(
    accounts: &wangge::services::accounts::Accounts,
    login: &str,
    role: wangge::model::account::Role,
    scope: wangge::model::account::Scope,
    password: &str,
) -> wangge::model::account::User {
    accounts
        .create_user(
            wangge::model::account::UserDraft {
                login: login.into(),
                display_name: String::new(),
                role,
                scope,
            },
            password,
            &wangge::services::accounts::Actor::default(),
        )
        .await
        .expect("the user is created")
}

/// A new user of `role` in `scope` and a bearer token of theirs (a day
/// long, every capability of the role). The admin is made first, as
/// [`admin_token`] does, so that the test client can still act as them.
#[allow(dead_code)]
pub async fn user_token(
    accounts: &wangge::services::accounts::Accounts,
    login: &str,
    role: wangge::model::account::Role,
    scope: wangge::model::account::Scope,
) -> String {
    admin_token(accounts).await;
    let user = create_user(accounts, login, role, scope, "a long enough password").await;
    accounts
        .issue_token(
            user.id,
            "tests",
            1,
            &[],
            &wangge::services::accounts::Actor::default(),
        )
        .await
        .expect("a token is issued")
        .0
}

/// A bearer token of the admin (created first when there are no users).
pub async fn admin_token(accounts: &wangge::services::accounts::Accounts) -> String {
    accounts
        .ensure_first_admin(Some(ADMIN_PASSWORD))
        .await
        .expect("the first admin is created");
    let admin = accounts
        .user_by_login(wangge::services::accounts::FIRST_ADMIN)
        .await
        .expect("users read")
        .expect("the admin exists");
    let actor = wangge::services::accounts::Actor::default();
    accounts
        .issue_token(admin.id, "tests", 1, &[], &actor)
        .await
        .expect("a token is issued")
        .0
}
