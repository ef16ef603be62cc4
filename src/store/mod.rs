//! The system of record for grids, incidents, hazards and patrols: `trait
//! Store` and its two backends, an embedded SQLite file (the default) and
//! PostgreSQL + PostGIS. Both keep the same contract, pinned by `tests/store_conformance.rs`. The in-memory index
//! is a cache of what a store holds; nothing here knows about the R-tree or HTTP.
//! GeoPackage files, being SQLite databases, are read and written here too
//! ([`geopackage`]).

use std::sync::Arc;

use async_trait::async_trait;

use crate::model::{Change, Grid, GridId, GridRevision, Localized, RevisionGrids, Text};

mod account_sql;
pub mod accounts;
mod feed_sql;
pub mod geopackage;
mod incident_row;
mod incident_sql;
mod incidents;
mod patrol_sql;
pub mod patrols;
pub mod postgis;
mod revision_sql;
mod row;
pub mod sqlite;
mod unit;

pub use accounts::{AccountStore, AccountWrites, AuditFilter, NewCredential};
pub use incidents::{IncidentPage, IncidentStore, IncidentWrites, NewEvent, NewIncident};
pub use patrols::{Inspection, NewHazard, PatrolStore, PatrolWrites};
pub(crate) use revision_sql::needed_for;
pub use unit::{GRID_SET, Unit};

// Filters and modes are part of the vocabulary (`model`); re-exported for
// the store's callers.
pub use crate::model::{GridFilter, IncidentFilter, WriteMode};

/// Which backend a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL with PostGIS.
    Postgis,
}

/// A store failure, saying what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no supported backend.
    #[error("unsupported database URL {url:?}: use sqlite://FILE or postgres://…")]
    UnsupportedUrl {
        /// The URL as given.
        url: String,
    },
    /// A database operation failed.
    #[error("{action} failed")]
    Database {
        /// What was being done, e.g. "loading grids".
        action: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Migrations could not be applied.
    #[error("applying the {backend} migrations failed")]
    Migrate {
        /// Backend name.
        backend: &'static str,
        /// The migrator's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// The database lacks something wangge needs (e.g. the PostGIS extension).
    #[error("{0}")]
    Capability(String),
    /// An incident changed since it was read; nothing was written.
    #[error("incident {id} was changed by someone else since version {version} was read")]
    Conflict {
        /// The incident.
        id: crate::model::IncidentId,
        /// The version that was read.
        version: i64,
    },
    /// A hazard, route or patrol changed since it was read; nothing was written.
    #[error("{what} was changed by someone else since version {version} was read")]
    Stale {
        /// What it is: `hazard 12`, `route 3`.
        what: String,
        /// The version that was read.
        version: i64,
    },
    /// A record others depend on cannot be deleted, or a name is taken;
    /// the sentence in both languages.
    #[error("{0}")]
    InUse(Text),
    /// A write would break a rule the store keeps (a grid whose parent is
    /// not stored); nothing was written.
    #[error("{0}")]
    Integrity(String),
    /// A stored row could not be turned back into a grid or incident.
    #[error("stored {id} is corrupt: {reason}")]
    Corrupt {
        /// What it is: `grid 4210`, `incident 17`.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The write could not be made as a whole: the task that writes has
    /// stopped (the server is shutting down), or the database failed for a
    /// group of writes this one was part of. Nothing of it was written.
    #[error("{0}")]
    Unavailable(String),
}

/// The Chinese of a store failure. The variants that carry a sentence made
/// elsewhere have the ones the store makes translated, and any other kept
/// in English inside a Chinese frame.
impl Localized for StoreError {
    fn zh(&self) -> String {
        match self {
            StoreError::UnsupportedUrl { url } => {
                format!("不支持的数据库地址 {url:?}：请使用 sqlite://FILE 或 postgres://…")
            }
            StoreError::Database { action, .. } => format!("数据库操作失败（{action}）"),
            StoreError::Migrate { backend, .. } => format!("应用 {backend} 数据库迁移失败"),
            StoreError::Capability(what) => format!("数据库缺少本系统所需的功能：{what}"),
            StoreError::Conflict { id, version } => {
                format!("事件 {id} 在读取版本 {version} 之后已被他人修改")
            }
            StoreError::Stale { what, version } => {
                let what = record_zh(what);
                // A space after an id, none after a Chinese word.
                let gap = if what.ends_with(|c: char| c.is_ascii()) {
                    " "
                } else {
                    ""
                };
                format!("{what}{gap}在读取版本 {version} 之后已被他人修改")
            }
            StoreError::InUse(what) => what.zh().to_owned(),
            StoreError::Integrity(what) => integrity_zh(what),
            StoreError::Corrupt { id, reason } => {
                let what = record_zh(id);
                let gap = if what.starts_with(|c: char| c.is_ascii()) {
                    " "
                } else {
                    ""
                };
                format!("数据库中的{gap}{what} 已损坏：{reason}")
            }
            StoreError::Unavailable(what) => unavailable_zh(what),
        }
    }
}

/// The refusal of a login another user has.
pub(crate) fn login_taken(login: &str) -> Text {
    crate::text!("login {login:?} is taken", "登录名 {login:?} 已被占用")
}

/// A record's name as the store gives it (`hazard 12`, `route 3`,
/// `patrol 7`, `user 2`, `grid 4210`, [`GRID_SET`]) in Chinese.
pub fn record_zh(what: &str) -> String {
    if what == GRID_SET {
        return "网格数据".to_owned();
    }
    let (kind, id) = what.split_once(' ').unwrap_or((what, ""));
    let kind = match kind {
        "hazard" => "隐患",
        "route" => "路线",
        "patrol" => "巡查",
        "user" => "用户",
        "grid" => "网格",
        "incident" => "事件",
        _ => return what.to_owned(),
    };
    format!("{kind} {id}")
}

/// [`StoreError::Integrity`] in Chinese: a grid whose parent is not stored.
fn integrity_zh(message: &str) -> String {
    message
        .strip_prefix("grid ")
        .and_then(|rest| {
            let (id, rest) = rest.split_once(" names parent ")?;
            let parent = rest.strip_suffix(", which is not stored")?;
            Some(format!("网格 {id} 的上级网格 {parent} 尚未保存"))
        })
        .unwrap_or_else(|| format!("写入违反数据库规则，未写入任何内容：{message}"))
}

/// [`StoreError::Unavailable`] in Chinese: a revision cancelled while it
/// was read, a route gone during a grid change, or another failure.
fn unavailable_zh(message: &str) -> String {
    let cancelled = message.strip_prefix("grid revision ").and_then(|rest| {
        let revision = rest.strip_suffix(" was cancelled while it was being read; ask again")?;
        Some(format!("网格版本 {revision} 在读取期间被取消，请重试"))
    });
    let vanished = || {
        let route = message
            .strip_prefix("route ")?
            .strip_suffix(" vanished during a grid change")?;
        Some(format!("路线 {route} 在网格调整期间已被删除"))
    };
    cancelled
        .or_else(vanished)
        .unwrap_or_else(|| format!("暂时无法写入，未写入任何内容：{message}"))
}

/// The store: reads here, writes through a [`Unit`] (one transaction per
/// change, all or nothing, with its change-feed entries).
#[async_trait]
pub trait Store:
    AccountStore + ChangeFeed + GridHistory + IncidentStore + PatrolStore + Send + Sync + 'static
{
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Every grid, ordered by level then id.
    async fn load_grids(&self) -> Result<Vec<Grid>, StoreError>;

    /// One grid by id.
    async fn grid(&self, id: &GridId) -> Result<Option<Grid>, StoreError>;

    /// The grids matching a filter, ordered by level then id.
    async fn grids(&self, filter: &GridFilter) -> Result<Vec<Grid>, StoreError>;

    /// How many grids each level holds, index 0 = level 1.
    async fn count_by_level(&self) -> Result<[u64; 5], StoreError>;

    /// Open a unit of work: one transaction for every write of a change.
    async fn begin(&self) -> Result<Box<dyn Unit>, StoreError>;
}

/// The change feed and the grid-set version, as committed.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Up to `limit` entries of the change feed after sequence number
    /// `after`, in order.
    async fn changes(&self, after: i64, limit: u32) -> Result<Vec<Change>, StoreError>;

    /// The sequence number of the newest committed change (0 when none).
    async fn last_change(&self) -> Result<i64, StoreError>;

    /// The version of the grid set: bumped by every committed grid change.
    async fn grid_set_version(&self) -> Result<i64, StoreError>;
}

/// The dated versions of the grid set, as committed (see
/// [`crate::model::GridRevision`]).
#[async_trait]
pub trait GridHistory: Send + Sync {
    /// Every revision, in the order they take effect (effective time, then
    /// number), scheduled ones included.
    async fn grid_revisions(&self) -> Result<Vec<GridRevision>, StoreError>;

    /// One revision with the grids it wrote and the ids it removed.
    async fn revision_grids(&self, revision: i64) -> Result<Option<RevisionGrids>, StoreError>;

    /// The grid set in force at `at`: the revisions effective by then,
    /// folded from the last whole-set replace among them
    /// ([`crate::model::fold_revisions`]). Empty before the first revision.
    async fn grids_as_of(&self, at: jiff::Timestamp) -> Result<Vec<Grid>, StoreError> {
        let revisions = self.grid_revisions().await?;
        let read = self
            .revisions_grids(revision_sql::needed_for(&revisions, at))
            .await?;
        Ok(crate::model::fold_revisions(&read))
    }

    /// [`GridHistory::revision_grids`] of each of `revisions`, in order; a
    /// revision cancelled meanwhile is [`StoreError::Unavailable`] (ask
    /// again).
    async fn revisions_grids(
        &self,
        revisions: &[GridRevision],
    ) -> Result<Vec<RevisionGrids>, StoreError> {
        let mut read = Vec::with_capacity(revisions.len());
        for r in revisions {
            read.push(self.revision_grids(r.revision).await?.ok_or_else(|| {
                StoreError::Unavailable(format!(
                    "grid revision {} was cancelled while it was being read; ask again",
                    r.revision
                ))
            })?);
        }
        Ok(read)
    }
}

/// Write grids straight into a store in a unit of their own, claiming the
/// next grid-set version and recording the change: for seeding a store with
/// grids that were validated elsewhere (the demo county, a benchmark's
/// fixture). A running server picks the change up from the feed; open
/// incidents, hazards and routes are not moved (that is the grid service's
/// apply).
pub async fn seed_grids(
    store: &dyn Store,
    grids: &[Grid],
    mode: WriteMode,
    actor: &str,
) -> Result<i64, StoreError> {
    let mut unit = store.begin().await?;
    let version = unit.grid_set_version().await?;
    let version = unit.claim_grid_set(version).await?;
    unit.write_grids(grids, mode).await?;
    let now = jiff::Timestamp::now();
    unit.record_revision(
        &crate::model::NewRevision {
            revision: version,
            actor: actor.to_owned(),
            recorded_at: now,
            effective_at: now,
            reason: String::new(),
            summary: format!("{} grid(s) seeded", grids.len()),
            mode,
            state: crate::model::RevisionState::Applied,
        },
        grids,
        &[],
    )
    .await?;
    let change = unit
        .record_changes(&[crate::model::NewChange::new(
            crate::model::ChangeKind::Grids,
            grids.iter().map(|g| g.id.as_str()),
            actor,
            jiff::Timestamp::now(),
            format!("grid set version {version}: {} grid(s) seeded", grids.len()),
        )])
        .await?;
    unit.commit().await?;
    Ok(change[0].seq)
}

/// One schema migration of a backend: plain SQL, applied once in a
/// transaction and recorded with its checksum by sqlx's migrator.
fn migration(version: i64, name: &str, sql: &'static str) -> sqlx::migrate::Migration {
    sqlx::migrate::Migration::new(
        version,
        name.to_owned().into(),
        sqlx::migrate::MigrationType::Simple,
        sqlx::SqlSafeStr::into_sql_str(sql),
        false,
    )
}

/// Open (creating if needed) and migrate the store a URL names:
/// `sqlite://FILE` (`sqlite::memory:` for a throwaway) or `postgres://…`.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(postgis::PostgisStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl {
            url: url.to_owned(),
        })
    }
}
