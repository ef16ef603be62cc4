//! The embedded backend: grids in one SQLite file (WAL, foreign keys on),
//! or in memory for a throwaway store.
//!
//! Geometry is stored as WKB in a BLOB with its bounding box in four REAL
//! columns, indexed by an R*Tree (see `migrations/0001_grids.sql` for why).
//! A bbox query is therefore two steps:
//!
//! 1. SQL: the R*Tree returns every grid whose bounding box meets the box
//!    (a superset: the R*Tree rounds outwards to 32-bit floats);
//! 2. Rust: `geo::Intersects` against the box keeps the grids whose boundary
//!    really meets it, touching included, the same answer as PostGIS's
//!    `ST_Intersects`.

mod row;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use geo::Intersects;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, Transaction};

use crate::geom::Bbox;
use crate::model::{Grid, GridId, Level};
use crate::store::{Backend, GridFilter, Store, StoreError, WriteMode, migration};
use row::{GRID_COLUMNS, GridRow, NewRow};

/// How long a connection waits for another writer's lock before failing with
/// "database is locked". Writes are short (one transaction per import), so a
/// wait this long means something is stuck rather than busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in a file-backed pool. WAL lets readers run beside the one
/// writer; a handful is plenty for a 2-core server.
const MAX_FILE_CONNECTIONS: u32 = 4;

/// The schema, oldest first. Applied through sqlx's migrator, which records
/// each version and its checksum in `_sqlx_migrations`.
fn migrator() -> Migrator {
    Migrator::with_migrations(vec![
        migration(1, "grids", include_str!("migrations/0001_grids.sql")),
        migration(
            2,
            "incidents",
            include_str!("migrations/0002_incidents.sql"),
        ),
        migration(3, "patrols", include_str!("migrations/0003_patrols.sql")),
        migration(4, "changes", include_str!("migrations/0004_changes.sql")),
        migration(
            5,
            "grid revisions",
            include_str!("migrations/0005_grid_revisions.sql"),
        ),
        migration(
            6,
            "hazard grids",
            include_str!("migrations/0006_hazard_grids.sql"),
        ),
        migration(7, "accounts", include_str!("migrations/0007_accounts.sql")),
        migration(8, "photos", include_str!("migrations/0008_photos.sql")),
        migration(
            9,
            "photo uploads",
            include_str!("migrations/0009_photo_uploads.sql"),
        ),
    ])
}

/// Grids, incidents, hazards and patrols in SQLite.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

crate::store::incident_sql::impl_incident_store!(
    SqliteStore,
    SqliteUnit,
    sqlx::Sqlite,
    sqlx::sqlite::SqliteRow
);

crate::store::account_sql::impl_account_store!(SqliteStore, SqliteUnit, sqlx::Sqlite);
crate::store::feed_sql::impl_change_feed!(SqliteStore, sqlx::Sqlite);
crate::store::revision_sql::impl_grid_history!(SqliteStore, sqlx::Sqlite);
crate::store::revision_sql::revision_writes!(sqlx::Sqlite, sqlx::SqliteConnection);

crate::store::patrol_sql::impl_patrol_store!(
    SqliteStore,
    SqliteUnit,
    sqlx::Sqlite,
    sqlx::sqlite::SqliteRow
);

impl SqliteStore {
    /// Open (creating if needed) and migrate the database a URL names:
    /// `sqlite://FILE`, `sqlite:FILE`, or `sqlite::memory:` for a private
    /// in-memory database that lives as long as this store.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(failed(format!("parsing the SQLite URL {url:?}")))?;
        Self::from_options(options, names_memory(url)).await
    }

    /// Open (creating if needed) and migrate the database file at `path`.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::from_options(SqliteConnectOptions::new().filename(path), false).await
    }

    async fn from_options(
        options: SqliteConnectOptions,
        in_memory: bool,
    ) -> Result<Self, StoreError> {
        let options = options
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = if in_memory {
            // An in-memory database lives only as long as a connection to it:
            // one connection, never closed for idleness or age, so that every
            // query sees the same database for the life of the store.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            // WAL with synchronous=NORMAL, SQLite's recommended pair for a
            // server: a commit is atomic and the file never corrupts, but it
            // does not wait for the disk; a power cut (not a crash of
            // wangge) may lose the last commits. FULL waits for an fsync per
            // commit, which capped incident reports at about 500/s here.
            SqlitePoolOptions::new()
                .max_connections(MAX_FILE_CONNECTIONS)
                .connect_with(
                    options
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal),
                )
                .await
        }
        .map_err(failed("opening the SQLite database"))?;
        migrator()
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                backend: "SQLite",
                source,
            })?;
        Ok(SqliteStore { pool })
    }

    /// Close every connection, waiting for them to finish. The store is
    /// unusable afterwards; dropping it also closes them, without waiting.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn fetch_grids(
        &self,
        mut query: QueryBuilder<Sqlite>,
        action: &str,
    ) -> Result<Vec<Grid>, StoreError> {
        let rows: Vec<GridRow> = query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(failed(action))?;
        rows.into_iter().map(GridRow::into_grid).collect()
    }
}

/// Wrap a driver error with what was being done.
fn failed(action: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
    let action = action.into();
    move |source| StoreError::Database { action, source }
}

/// True when a `sqlite:` URL names an in-memory database (`sqlite::memory:`,
/// `sqlite://:memory:` or `?mode=memory`) rather than a file.
fn names_memory(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|p| p == "mode=memory")
}

/// True when the box holds no point at all (an edge inverted, or NaN): such a
/// box meets no grid, as [`Bbox::intersects`] says.
fn is_empty_box(b: &Bbox) -> bool {
    !(b.min_lon <= b.max_lon && b.min_lat <= b.max_lat)
}

/// The first grid, if any, whose parent is not stored: what a deferred
/// foreign-key check is about to reject at COMMIT, found first so that the
/// error can name the grid.
async fn first_orphan(
    tx: &mut sqlx::SqliteConnection,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.parent_id FROM grids c
         WHERE c.parent_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM grids p WHERE p.id = c.parent_id)
         ORDER BY c.level, c.id
         LIMIT 1",
    )
    .fetch_optional(tx)
    .await
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn crate::store::Unit>, StoreError> {
        // IMMEDIATE takes the write lock now: what the unit reads stays
        // true until it commits, and a concurrent writer waits (busy
        // timeout) instead of failing when it would upgrade a read lock.
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(failed("starting a transaction"))?;
        Ok(Box::new(SqliteUnit { tx }))
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn load_grids(&self) -> Result<Vec<Grid>, StoreError> {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(GRID_COLUMNS).push(" FROM grids ORDER BY level, id");
        self.fetch_grids(q, "loading grids").await
    }

    async fn grid(&self, id: &GridId) -> Result<Option<Grid>, StoreError> {
        let mut q = QueryBuilder::new("SELECT ");
        q.push(GRID_COLUMNS)
            .push(" FROM grids WHERE id = ")
            .push_bind(id.as_str());
        let action = format!("loading grid {id}");
        Ok(self.fetch_grids(q, &action).await?.pop())
    }

    async fn grids(&self, filter: &GridFilter) -> Result<Vec<Grid>, StoreError> {
        if filter.bbox.as_ref().is_some_and(is_empty_box) {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::new("SELECT ");
        q.push(GRID_COLUMNS).push(" FROM grids WHERE 1 = 1");
        if let Some(level) = filter.level {
            q.push(" AND level = ").push_bind(i64::from(level.get()));
        }
        if let Some(parent) = &filter.parent {
            q.push(" AND parent_id = ").push_bind(parent.as_str());
        }
        if let Some(b) = &filter.bbox {
            // Step 1: bounding boxes that meet the box (touching included).
            q.push(" AND rid IN (SELECT rid FROM grids_bbox WHERE max_lon >= ")
                .push_bind(b.min_lon)
                .push(" AND min_lon <= ")
                .push_bind(b.max_lon)
                .push(" AND max_lat >= ")
                .push_bind(b.min_lat)
                .push(" AND min_lat <= ")
                .push_bind(b.max_lat)
                .push(")");
        }
        q.push(" ORDER BY level, id");
        let mut grids = self.fetch_grids(q, "listing grids").await?;
        if let Some(b) = &filter.bbox {
            // Step 2: the exact test against the boundary itself.
            let rect = b.to_rect();
            grids.retain(|g| g.geometry.intersects(&rect));
        }
        Ok(grids)
    }

    async fn count_by_level(&self) -> Result<[u64; 5], StoreError> {
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT level, COUNT(*) FROM grids GROUP BY level")
                .fetch_all(&self.pool)
                .await
                .map_err(failed("counting grids"))?;
        let mut counts = [0; 5];
        for (level, n) in rows {
            let level = Level::new(level).map_err(|e| StoreError::Corrupt {
                id: format!("(level {level})"),
                reason: e.to_string(),
            })?;
            counts[level.index()] = u64::try_from(n).unwrap_or(0);
        }
        Ok(counts)
    }
}

/// One open transaction of [`SqliteStore`]: see [`Unit`](crate::store::Unit).
pub struct SqliteUnit {
    tx: Transaction<'static, Sqlite>,
}

crate::store::feed_sql::impl_unit!(SqliteUnit, sqlx::Sqlite, None, "");

/// Write grids inside a unit's transaction.
async fn write_grids(
    tx: &mut sqlx::SqliteConnection,
    grids: &[Grid],
    mode: WriteMode,
) -> Result<(), StoreError> {
    // Parents before children. With the foreign key deferred the order
    // is not needed for correctness, but it keeps every intermediate
    // state of the transaction a consistent hierarchy.
    let mut rows: Vec<NewRow<'_>> = grids.iter().map(NewRow::new).collect();
    rows.sort_by_key(|r| r.grid.level);

    match mode {
        WriteMode::Replace => {
            sqlx::query("DELETE FROM grids")
                .execute(&mut *tx)
                .await
                .map_err(failed("writing grids (deleting the old set)"))?;
        }
        // Upsert deletes the given ids and then inserts them like any
        // other row, rather than `INSERT … ON CONFLICT DO UPDATE`: an
        // id given twice in one batch then fails on the UNIQUE
        // constraint (the store enforces unique ids) instead of the
        // second copy silently overwriting the first. Children of a
        // deleted grid are fine: the foreign key is checked at COMMIT,
        // when the grid is back.
        WriteMode::Upsert => {
            for r in &rows {
                sqlx::query("DELETE FROM grids WHERE id = ?1")
                    .bind(r.grid.id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(failed(format!(
                        "writing grids (replacing grid {})",
                        r.grid.id
                    )))?;
            }
        }
    }

    // One prepared statement (cached by sqlx on the connection) run
    // once per grid: SQLite is in-process, so a row costs no round trip
    // and batching into multi-row VALUES would gain little.
    for r in &rows {
        let g = r.grid;
        sqlx::query(
                "INSERT INTO grids
                   (id, level, parent_id, name, min_lon, min_lat, max_lon, max_lat, properties, geom)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(g.id.as_str())
            .bind(i64::from(g.level.get()))
            .bind(g.parent_id.as_ref().map(GridId::as_str))
            .bind(g.name.as_str())
            .bind(r.bbox.map(|b| b.min_lon))
            .bind(r.bbox.map(|b| b.min_lat))
            .bind(r.bbox.map(|b| b.max_lon))
            .bind(r.bbox.map(|b| b.max_lat))
            .bind(r.properties.as_str())
            .bind(r.geom.as_slice())
            .execute(&mut *tx)
            .await
            .map_err(failed(format!("writing grids (grid {})", g.id)))?;
    }

    // Found here rather than left to the deferred foreign key at COMMIT,
    // so that the error names the grid and the unit can still be dropped.
    if let Some((id, parent)) = first_orphan(&mut *tx)
        .await
        .map_err(failed("writing grids (checking parents)"))?
    {
        return Err(StoreError::Integrity(format!(
            "grid {id} names parent {parent}, which is not stored"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use geo::{MultiPolygon, Rect, coord};
    use serde_json::Map;

    use super::*;

    /// Every file in `migrations/` is in the list (a file added and not
    /// listed would never be applied).
    #[test]
    fn every_migration_file_is_applied() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/sqlite/migrations");
        let files = std::fs::read_dir(dir)
            .expect("the migrations folder")
            .count();
        assert_eq!(migrator().iter().count(), files);
    }

    async fn write_one(store: &SqliteStore) {
        let mut unit = store.begin().await.expect("begins");
        unit.write_grids(&[one_grid("a")], WriteMode::Replace)
            .await
            .expect("writes");
        unit.commit().await.expect("commits");
    }

    fn one_grid(id: &str) -> Grid {
        let square = Rect::new(coord! { x: 0.0, y: 0.0 }, coord! { x: 1.0, y: 1.0 });
        Grid {
            id: GridId::from(id),
            level: Level::TOWN,
            parent_id: None,
            name: id.to_owned(),
            geometry: MultiPolygon(vec![square.to_polygon()]),
            properties: Map::new(),
        }
    }

    /// The URL forms that name an in-memory database, and some that do not.
    #[test]
    fn recognises_memory_urls() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://x?mode=memory",
        ] {
            assert!(names_memory(url), "{url}");
        }
        for url in [
            "sqlite://wangge.db",
            "sqlite:wangge.db",
            "sqlite:///tmp/m.db?mode=rwc",
        ] {
            assert!(!names_memory(url), "{url}");
        }
    }

    /// `sqlite::memory:` keeps its data from one query to the next (one
    /// connection that is never recycled), and two such stores are separate.
    #[tokio::test]
    async fn memory_store_keeps_its_data_and_is_private() {
        let a = SqliteStore::connect("sqlite::memory:")
            .await
            .expect("opens");
        let b = SqliteStore::connect("sqlite::memory:")
            .await
            .expect("opens");
        write_one(&a).await;
        assert_eq!(a.count_by_level().await.expect("counts"), [1, 0, 0, 0, 0]);
        assert_eq!(a.load_grids().await.expect("loads").len(), 1);
        assert!(b.load_grids().await.expect("loads").is_empty());
    }

    /// `sqlite://FILE`, `sqlite:FILE` and [`SqliteStore::open`] name the same
    /// file, which is created if missing.
    #[tokio::test]
    async fn url_forms_open_the_same_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("grids.sqlite");
        let first = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("creates the file");
        write_one(&first).await;
        first.close().await;
        let second = SqliteStore::connect(&format!("sqlite:{}", path.display()))
            .await
            .expect("reopens");
        assert_eq!(second.load_grids().await.expect("loads").len(), 1);
        let third = SqliteStore::open(&path).await.expect("reopens by path");
        assert_eq!(third.count_by_level().await.expect("counts")[0], 1);
    }
}
