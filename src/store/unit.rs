//! A unit of work: one open transaction through which a service makes every
//! write a change needs, then commits once. Nothing written through a unit
//! is visible to readers before [`Unit::commit`]; a unit dropped without
//! committing (an error, a refused step, a panic) rolls everything back.
//!
//! Every change also appends its rows to the change feed
//! ([`Unit::record_changes`]) in the same transaction, so the feed holds a
//! change exactly when the change itself committed.

use async_trait::async_trait;

use crate::model::{Change, ChangeKind, Grid, GridId, NewChange, NewRevision};
use crate::store::{AccountWrites, IncidentWrites, PatrolWrites, StoreError, WriteMode};

/// What a write refused because the grids changed names: the `what` of its
/// [`StoreError::Stale`](crate::store::StoreError::Stale).
pub const GRID_SET: &str = "the grid set";

/// One open transaction of a store. Obtained from [`Store::begin`]; the
/// incident and patrol writes come from [`IncidentWrites`] and
/// [`PatrolWrites`].
///
/// On SQLite a unit holds the database's write lock from its start (`BEGIN
/// IMMEDIATE`), so what it reads stays true until it commits. On PostgreSQL
/// writers run side by side; the guards that matter (record versions, the
/// grid-set version) are checked by the statements that write.
///
/// [`Store::begin`]: crate::store::Store::begin
#[async_trait]
pub trait Unit: AccountWrites + IncidentWrites + PatrolWrites + Send {
    /// The version of the grid set as this transaction sees it.
    async fn grid_set_version(&mut self) -> Result<i64, StoreError>;

    /// Refuse ([`StoreError::Stale`], `what` = [`GRID_SET`]) unless the grid
    /// set is still at `located_on`, the version something about to be
    /// written was located in. On PostgreSQL the row is read `FOR SHARE`:
    /// a grid change claiming the next version waits for this unit, or this
    /// read waits for that change and sees its version. Make it the unit's
    /// first statement.
    async fn check_grid_set(&mut self, located_on: i64) -> Result<(), StoreError>;

    /// Claim the next version of the grid set for a change planned on
    /// `planned`: answers the new version, or
    /// [`StoreError::Stale`] (`what` = [`GRID_SET`]) when another change
    /// committed since. On PostgreSQL a concurrent claim waits for this
    /// transaction to end, then finds the version moved.
    async fn claim_grid_set(&mut self, planned: i64) -> Result<i64, StoreError>;

    /// Write grids. The caller has validated them; the store still enforces
    /// unique ids and known parents (checked at commit).
    async fn write_grids(&mut self, grids: &[Grid], mode: WriteMode) -> Result<(), StoreError>;

    /// Remove grids by id (a merge, a split under new ids, a deleted
    /// sub-area). Their children must be re-parented in the same unit: the
    /// foreign key is checked at commit.
    async fn remove_grids(&mut self, ids: &[GridId]) -> Result<(), StoreError>;

    /// Record a revision of the grid set: `grids` as written and the ids
    /// `removed`, with who, when, why and when it takes effect. Every grid
    /// change records one, in the unit that claims its version (a
    /// scheduled one records only this; the current grids are written when
    /// it is applied).
    async fn record_revision(
        &mut self,
        revision: &NewRevision,
        grids: &[Grid],
        removed: &[GridId],
    ) -> Result<(), StoreError>;

    /// Mark a scheduled revision applied at `at`; false when it is not
    /// (or no longer) scheduled: another process applied or cancelled it.
    async fn mark_revision_applied(
        &mut self,
        revision: i64,
        at: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    /// Delete a scheduled revision; false when it is not (or no longer)
    /// scheduled.
    async fn cancel_revision(&mut self, revision: i64) -> Result<bool, StoreError>;

    /// Append changes to the feed, in one statement; answers them with
    /// their sequence numbers, in the order given. Sequence numbers become
    /// visible in the order they were given out: on PostgreSQL an append
    /// takes a lock every appender takes, held to the end of the
    /// transaction, so append once, after every other write of the unit (a
    /// unit holding it must not wait for another's row lock), and commit.
    async fn record_changes(&mut self, changes: &[NewChange]) -> Result<Vec<Change>, StoreError>;

    /// Make every write of this unit visible at once.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Feed rows appended per statement (5 parameters each: well inside the
/// limits of both backends).
pub(crate) const APPEND_CHUNK: usize = 1000;

/// The columns of one feed row, turned back into a [`Change`] (both
/// backends). A row that does not decode (a kind this version does not
/// know, damaged ids or time) keeps its place as a
/// [`ChangeKind::Unreadable`] entry saying why, so that one such row never
/// stops a reader of the feed.
pub(crate) fn stored_change(
    seq: i64,
    kind: &str,
    ids: &str,
    actor: String,
    at: i64,
    summary: String,
) -> Change {
    let decoded = (|| {
        let kind = ChangeKind::parse(kind)
            .ok_or_else(|| format!("kind {kind:?} is unknown to this version of wangge"))?;
        let ids: Vec<String> =
            serde_json::from_str(ids).map_err(|e| format!("its ids do not decode: {e}"))?;
        let at = jiff::Timestamp::from_millisecond(at)
            .map_err(|_| format!("its time {at} is out of range"))?;
        Ok::<_, String>((kind, ids, at))
    })();
    match decoded {
        Ok((kind, ids, at)) => Change {
            seq,
            kind,
            ids,
            actor,
            at,
            summary,
        },
        Err(reason) => Change {
            seq,
            kind: ChangeKind::Unreadable,
            ids: Vec::new(),
            actor,
            at: jiff::Timestamp::from_millisecond(at).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
            summary: format!("unreadable entry ({reason}): {summary}"),
        },
    }
}
