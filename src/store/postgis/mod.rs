//! The production backend: grids in PostgreSQL with PostGIS, in a table that
//! GIS tools can read directly (`geometry(MultiPolygon, 4326)` with a GiST
//! index).
//!
//! Geometry travels as WKB both ways (`ST_GeomFromWKB($n, 4326)` in,
//! `ST_AsBinary(geom)` out), so coordinates come back bit for bit. Properties
//! are stored as `json`, which keeps their text and thus their key order.
//!
//! At connect the store checks once what it needs (the PostGIS extension,
//! version [`MIN_POSTGIS`] or later) and applies its migrations. A store can
//! live in its own schema ([`PostgisStore::connect_in_schema`]), which is how
//! the tests isolate themselves in one database.

mod row;

use std::collections::HashSet;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder, Transaction};

use crate::geom::{Bbox, LonLat};
use crate::model::{Grid, GridId, Level};
use crate::store::{Backend, GridFilter, Store, StoreError, WriteMode, migration};
use row::{GRID_COLUMNS, GridRow, NewRow};

/// The oldest PostGIS accepted, as (major, minor). Everything the store
/// uses (`ST_GeomFromWKB`, `ST_AsBinary`, `ST_Envelope`, `ST_Intersects`
/// with index support) exists in 3.0; the suite runs on 3.3.
pub const MIN_POSTGIS: (u32, u32) = (3, 0);

/// Connections in the pool. PostgreSQL is shared with other clients; a
/// 2-core server gains nothing from more.
const MAX_CONNECTIONS: u32 = 5;

/// Grids per INSERT statement. Each statement is one round trip carrying
/// about 5 KB of WKB per grid; a few hundred per batch keeps round trips few
/// and each message a few MB at most.
const INSERT_BATCH: usize = 400;

/// The schema, oldest first. Applied through sqlx's migrator, which records
/// each version and its checksum in `_sqlx_migrations` (in the store's
/// schema, the first on the search_path).
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

/// Grids, incidents, hazards and patrols in PostgreSQL + PostGIS.
#[derive(Debug, Clone)]
pub struct PostgisStore {
    pool: PgPool,
}

crate::store::incident_sql::impl_incident_store!(
    PostgisStore,
    PostgisUnit,
    sqlx::Postgres,
    sqlx::postgres::PgRow
);

crate::store::account_sql::impl_account_store!(PostgisStore, PostgisUnit, sqlx::Postgres);
crate::store::feed_sql::impl_change_feed!(PostgisStore, sqlx::Postgres);
crate::store::revision_sql::impl_grid_history!(PostgisStore, sqlx::Postgres);
crate::store::revision_sql::revision_writes!(sqlx::Postgres, sqlx::PgConnection);

crate::store::patrol_sql::impl_patrol_store!(
    PostgisStore,
    PostgisUnit,
    sqlx::Postgres,
    sqlx::postgres::PgRow
);

impl PostgisStore {
    /// Connect to the database a `postgres://…` URL names, check that PostGIS
    /// is there (creating the extension if the user may), and migrate. Tables
    /// go in the first schema of the connection's search_path (normally
    /// `public`).
    ///
    /// On the local machine: `postgres:///DB?host=/var/run/postgresql&user=root`
    /// (the socket, with an explicit user).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, None).await
    }

    /// Like [`connect`](Self::connect), but the store lives in `schema`
    /// (created if missing): every pooled connection starts with
    /// `search_path = schema, public`, so the tables and the migration record
    /// go in `schema` while PostGIS stays in `public`. The name must be a
    /// plain lower-case identifier (`[a-z_][a-z0-9_]*`, at most 63 bytes).
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, Some(schema)).await
    }

    async fn connect_with(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        // The URL may hold a password: it is not repeated in errors.
        let mut options =
            PgConnectOptions::from_str(url).map_err(failed("parsing the PostgreSQL URL"))?;
        if let Some(schema) = schema {
            check_schema_name(schema)?;
            // A startup parameter rather than a `SET` after connecting: it
            // holds from the first statement of every connection the pool
            // opens, at no extra round trip.
            options = options.options([("search_path", format!("{schema},public"))]);
        }
        // PostgreSQL's default database is the one named after the user.
        let database = options
            .get_database()
            .unwrap_or(options.get_username())
            .to_owned();
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(failed(format!(
                "connecting to PostgreSQL database {database}"
            )))?;

        ensure_postgis(&pool, &database).await?;
        if let Some(schema) = schema {
            // Checked above to be a plain identifier, so it needs no quoting.
            sqlx::query(AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}"
            )))
            .execute(&pool)
            .await
            .map_err(failed(format!("creating schema {schema}")))?;
        }
        migrator()
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                backend: "PostGIS",
                source,
            })?;
        Ok(PostgisStore { pool })
    }

    /// Close every connection, waiting for them to finish. The store is
    /// unusable afterwards; dropping it also closes them, without waiting.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// For each point, every grid whose boundary intersects it (inside or on
    /// the boundary), as (index of the point in `points`, grid id) pairs,
    /// ordered by point, then level, then id.
    ///
    /// These are candidates: a point on an edge shared by two grids is in
    /// both, and the one boundary rule (`crate::index::rule`) decides between
    /// them, so that PostGIS and the in-memory index answer alike. One SQL
    /// statement for all points (`unnest … WITH ORDINALITY` joined on
    /// `ST_Intersects`, which uses the GiST index), so this serves as the
    /// PostGIS baseline for the locate benchmark and as an oracle in tests.
    pub async fn candidates_at(
        &self,
        points: &[LonLat],
    ) -> Result<Vec<(usize, GridId)>, StoreError> {
        let lons: Vec<f64> = points.iter().map(|p| p.lon).collect();
        let lats: Vec<f64> = points.iter().map(|p| p.lat).collect();
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT p.ord - 1, g.id
             FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(lon, lat, ord)
             JOIN grids g
               ON ST_Intersects(g.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
             ORDER BY p.ord, g.level, g.id",
        )
        .bind(lons)
        .bind(lats)
        .fetch_all(&self.pool)
        .await
        .map_err(failed("finding the grids at points"))?;
        rows.into_iter()
            .map(|(ix, id)| {
                let ix = usize::try_from(ix).map_err(|_| StoreError::Corrupt {
                    id: id.clone(),
                    reason: format!("PostgreSQL returned point index {ix}"),
                })?;
                Ok((ix, GridId(id)))
            })
            .collect()
    }

    async fn fetch_grids(
        &self,
        mut query: QueryBuilder<Postgres>,
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

/// Refuse a schema name that would need quoting: it is spliced into SQL and
/// into the search_path startup parameter.
fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let mut chars = schema.chars();
    let plain = schema.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ok(())
    } else {
        Err(StoreError::Database {
            action: format!("using schema {schema:?}"),
            source: sqlx::Error::Configuration(
                "a schema name must be [a-z_][a-z0-9_]*, at most 63 bytes".into(),
            ),
        })
    }
}

/// The capability check, run once at connect: PostGIS present (created if
/// missing and the user may) and at least [`MIN_POSTGIS`].
async fn ensure_postgis(pool: &PgPool, database: &str) -> Result<(), StoreError> {
    if !postgis_installed(pool, database).await? {
        // `SCHEMA public`: with a per-store search_path the default would be
        // the store's own schema, and PostGIS belongs to the whole database.
        let created = sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public")
            .execute(pool)
            .await;
        // Another connection may have created it at the same moment (tests
        // connect in parallel): its unique-key error is not a missing PostGIS.
        if let Err(e) = created
            && !postgis_installed(pool, database).await?
        {
            return Err(missing_postgis(&e, database));
        }
    }
    let version: String = sqlx::query_scalar("SELECT postgis_lib_version()")
        .fetch_one(pool)
        .await
        .map_err(|e| {
            StoreError::Capability(format!(
                "PostGIS is installed in database {database} but cannot be called (is its \
                 schema on the search_path?): {e}"
            ))
        })?;
    match parse_version(&version) {
        Some(v) if v >= MIN_POSTGIS => Ok(()),
        _ => Err(StoreError::Capability(format!(
            "PostGIS {version} in database {database} is too old or unrecognised: wangge needs \
             {}.{} or later",
            MIN_POSTGIS.0, MIN_POSTGIS.1
        ))),
    }
}

/// True when the PostGIS extension is created in the database.
async fn postgis_installed(pool: &PgPool, database: &str) -> Result<bool, StoreError> {
    let version: Option<String> =
        sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
            .fetch_optional(pool)
            .await
            .map_err(failed(format!(
                "looking for PostGIS in database {database}"
            )))?;
    Ok(version.is_some())
}

/// The capability error for a failed `CREATE EXTENSION postgis`, saying what
/// to do about it.
fn missing_postgis(e: &sqlx::Error, database: &str) -> StoreError {
    let pg = e
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<PgDatabaseError>());
    let why = pg.map_or_else(|| e.to_string(), |d| d.message().to_owned());
    // 42501 insufficient_privilege: the package is there, the user may not
    // create extensions.
    StoreError::Capability(if pg.is_some_and(|d| d.code() == "42501") {
        format!(
            "PostGIS is not enabled in database {database} and this user may not enable it: \
             run `CREATE EXTENSION postgis` there as a superuser ({why})"
        )
    } else {
        format!(
            "PostGIS is not installed in database {database}: install postgresql-15-postgis-3 \
             (Debian; or your platform's PostGIS {}.{} or later package for this PostgreSQL), \
             then run `CREATE EXTENSION postgis` in the database ({why})",
            MIN_POSTGIS.0, MIN_POSTGIS.1
        )
    })
}

/// (major, minor) from a version string such as `3.3.2` or `3.4.0dev`.
fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// True when the box holds no point at all (an edge inverted, or NaN): such a
/// box meets no grid, as [`Bbox::intersects`] says. (PostGIS would quietly
/// swap inverted edges; SQLite's R*Tree would not.)
fn is_empty_box(b: &Bbox) -> bool {
    !(b.min_lon <= b.max_lon && b.min_lat <= b.max_lat)
}

/// Append the box as a geometry, its corners bound as parameters.
///
/// Not `ST_MakeEnvelope`: for a box of zero width or height (a point or a
/// line, as a map click or a `bbox` with equal edges gives) it builds a
/// collapsed polygon, and PostGIS 3.3 / GEOS 3.11 then answer
/// `ST_Intersects` wrongly (a zero-size box strictly inside a grid was
/// reported as not meeting it). `ST_Envelope` of the diagonal returns a
/// POINT, LINESTRING or POLYGON as the box really is, with the same double
/// coordinates, and ST_Intersects is right for each.
fn push_envelope(q: &mut QueryBuilder<Postgres>, b: &Bbox) {
    q.push("ST_SetSRID(ST_Envelope(ST_MakeLine(ST_MakePoint(")
        .push_bind(b.min_lon)
        .push(", ")
        .push_bind(b.min_lat)
        .push("), ST_MakePoint(")
        .push_bind(b.max_lon)
        .push(", ")
        .push_bind(b.max_lat)
        .push("))), 4326)");
}

/// The first id that occurs twice in `rows`, if any.
fn first_duplicate<'g>(rows: &[NewRow<'g>]) -> Option<&'g GridId> {
    let mut seen = HashSet::with_capacity(rows.len());
    rows.iter().map(|r| &r.grid.id).find(|id| !seen.insert(*id))
}

/// The first grid, if any, whose parent is not stored: what the deferred
/// foreign-key check is about to reject at COMMIT, found first so that the
/// error can name the grid.
async fn first_orphan(
    tx: &mut sqlx::PgConnection,
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
impl Store for PostgisStore {
    async fn begin(&self) -> Result<Box<dyn crate::store::Unit>, StoreError> {
        let tx = self
            .pool
            .begin()
            .await
            .map_err(failed("starting a transaction"))?;
        Ok(Box::new(PostgisUnit { tx }))
    }

    fn backend(&self) -> Backend {
        Backend::Postgis
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
        q.push(GRID_COLUMNS).push(" FROM grids WHERE TRUE");
        if let Some(level) = filter.level {
            q.push(" AND level = ").push_bind(i32::from(level.get()));
        }
        if let Some(parent) = &filter.parent {
            q.push(" AND parent_id = ").push_bind(parent.as_str());
        }
        if let Some(b) = &filter.bbox {
            // `&&` is the GiST prefilter on bounding boxes; ST_Intersects the
            // exact test, touching included (the SQLite store's geo test).
            q.push(" AND geom && ");
            push_envelope(&mut q, b);
            q.push(" AND ST_Intersects(geom, ");
            push_envelope(&mut q, b);
            q.push(")");
        }
        q.push(" ORDER BY level, id");
        self.fetch_grids(q, "listing grids").await
    }

    async fn count_by_level(&self) -> Result<[u64; 5], StoreError> {
        let rows: Vec<(i32, i64)> =
            sqlx::query_as("SELECT level, COUNT(*) FROM grids GROUP BY level")
                .fetch_all(&self.pool)
                .await
                .map_err(failed("counting grids"))?;
        let mut counts = [0; 5];
        for (level, n) in rows {
            let level = Level::new(i64::from(level)).map_err(|e| StoreError::Corrupt {
                id: format!("(level {level})"),
                reason: e.to_string(),
            })?;
            counts[level.index()] = u64::try_from(n).unwrap_or(0);
        }
        Ok(counts)
    }
}

/// One open transaction of [`PostgisStore`]: see [`Unit`](crate::store::Unit).
pub struct PostgisUnit {
    tx: Transaction<'static, Postgres>,
}

// One lock for every appender, held to COMMIT: sequence numbers are
// handed out and become visible in the same order (see the migration).
crate::store::feed_sql::impl_unit!(
    PostgisUnit,
    sqlx::Postgres,
    Some("SELECT pg_advisory_xact_lock(7363626900)"),
    " FOR SHARE"
);

/// Write grids inside a unit's transaction.
async fn write_grids(
    tx: &mut sqlx::PgConnection,
    grids: &[Grid],
    mode: WriteMode,
) -> Result<(), StoreError> {
    // Parents before children. With the foreign key deferred the order
    // is not needed for correctness, but it keeps every intermediate
    // state of the transaction a consistent hierarchy.
    let mut rows: Vec<NewRow<'_>> = grids.iter().map(NewRow::new).collect();
    rows.sort_by_key(|r| r.grid.level);
    // The primary key rejects a repeated id; knowing which one lets the
    // error name it.
    let duplicate = first_duplicate(&rows);

    match mode {
        // DELETE rather than TRUNCATE: TRUNCATE's exclusive lock would
        // block readers until COMMIT; DELETE lets them read the old set.
        WriteMode::Replace => {
            sqlx::query("DELETE FROM grids")
                .execute(&mut *tx)
                .await
                .map_err(failed("writing grids (deleting the old set)"))?;
        }
        // Upsert deletes the given ids and then inserts them like any
        // other row, rather than `INSERT … ON CONFLICT DO UPDATE`, so
        // that an id given twice in one batch fails on the primary key
        // exactly as in SQLite. Children of a deleted grid are fine: the
        // foreign key is checked at COMMIT, when the grid is back.
        WriteMode::Upsert => {
            let ids: Vec<&str> = rows.iter().map(|r| r.grid.id.as_str()).collect();
            sqlx::query("DELETE FROM grids WHERE id = ANY($1::text[])")
                .bind(ids)
                .execute(&mut *tx)
                .await
                .map_err(failed("writing grids (deleting the grids being replaced)"))?;
        }
    }

    // Batched: one statement per INSERT_BATCH grids, columns sent as
    // arrays and unnested server-side, instead of a round trip per grid.
    for batch in rows.chunks(INSERT_BATCH) {
        let ids: Vec<&str> = batch.iter().map(|r| r.grid.id.as_str()).collect();
        let levels: Vec<i32> = batch
            .iter()
            .map(|r| i32::from(r.grid.level.get()))
            .collect();
        let parents: Vec<Option<&str>> = batch
            .iter()
            .map(|r| r.grid.parent_id.as_ref().map(GridId::as_str))
            .collect();
        let names: Vec<&str> = batch.iter().map(|r| r.grid.name.as_str()).collect();
        let properties: Vec<&str> = batch.iter().map(|r| r.properties.as_str()).collect();
        let geoms: Vec<&[u8]> = batch.iter().map(|r| r.geom.as_slice()).collect();
        sqlx::query(
            "INSERT INTO grids (id, level, parent_id, name, properties, geom)
                 SELECT id, level, parent_id, name, properties::json, ST_GeomFromWKB(wkb, 4326)
                 FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[],
                             $6::bytea[]) AS t(id, level, parent_id, name, properties, wkb)",
        )
        .bind(ids)
        .bind(levels)
        .bind(parents)
        .bind(names)
        .bind(properties)
        .bind(geoms)
        .execute(&mut *tx)
        .await
        .map_err(|source| {
            let unique_violation = source
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|code| code == "23505");
            let action = match duplicate {
                Some(id) if unique_violation => {
                    format!("writing grids (grid {id} is given twice)")
                }
                _ => format!(
                    "writing grids (the {} grids from grid {})",
                    batch.len(),
                    batch[0].grid.id
                ),
            };
            StoreError::Database { action, source }
        })?;
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
    use super::*;

    /// Every file in `migrations/` is in the list (a file added and not
    /// listed would never be applied).
    #[test]
    fn every_migration_file_is_applied() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/postgis/migrations");
        let files = std::fs::read_dir(dir)
            .expect("the migrations folder")
            .count();
        assert_eq!(migrator().iter().count(), files);
    }

    /// Version strings as PostGIS reports them, including development builds.
    #[test]
    fn parses_postgis_versions() {
        assert_eq!(parse_version("3.3.2"), Some((3, 3)));
        assert_eq!(parse_version("3.4.0dev"), Some((3, 4)));
        assert_eq!(parse_version("2.5"), Some((2, 5)));
        assert_eq!(parse_version("three"), None);
        assert!(parse_version("2.5.5").expect("parses") < MIN_POSTGIS);
    }

    /// Only plain lower-case identifiers are accepted as schema names.
    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(check_schema_name("t_123_4").is_ok());
        assert!(check_schema_name("_x").is_ok());
        for bad in ["", "1abc", "Abc", "a-b", "a;drop", "a b", &"a".repeat(64)] {
            assert!(check_schema_name(bad).is_err(), "{bad:?}");
        }
    }
}
