//! The grid set's dated versions, as the grid service keeps them (the
//! revisions themselves are [`crate::model::GridRevision`]s in the store):
//!
//! - **as of a time**: the index (and tile source) of the grids in force at
//!   any moment, past or scheduled; the current index when that is the
//!   answer, else built from the store's revisions and kept in a small
//!   cache keyed by exactly the revisions folded;
//! - **scheduling**: a change effective later is recorded at once as a
//!   scheduled revision (claiming a grid-set version, so a plan made before
//!   it is refused), and applied to the current grids, moving incidents,
//!   hazards and routes like any change, when its time comes
//!   ([`GridService::activate_due`], run every second by the server);
//! - **restoring** the grids as of an earlier time as a new change, and
//!   **cancelling** a scheduled revision.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, OnceLock};

use jiff::Timestamp;
use serde::Serialize;

use crate::index::GridIndex;
use crate::model::{
    ChangeKind, Grid, GridId, GridRevision, NewChange, NewRevision, RevisionState, WriteMode,
    fold_revisions,
};
use crate::services::grids::{
    Applied, ChangeNote, GridChange, GridChangeError, GridPlan, GridService, RevisionRefusal,
    claim, recorded, revision_summary,
};
use crate::store::StoreError;
use crate::tiles::TileSource;

/// How many other-time indexes are kept (each is the size of the current
/// one: a planner comparing two dates, a tile client on a third).
const AS_OF_KEPT: usize = 4;

/// How long a scheduled revision that failed to apply is left before the
/// next try (its error is logged each time).
const RETRY_AFTER_SECONDS: i64 = 60;

/// One grid set as of some time.
struct AsOfEntry {
    /// The revisions folded, in order: two times with the same revisions
    /// in force share the entry.
    key: Vec<i64>,
    index: Arc<GridIndex>,
    tiles: OnceLock<Arc<TileSource>>,
}

/// What the grid service keeps for versions: the indexes of grid sets as
/// of other times than now (most recently used last), and the scheduled
/// revisions that failed to apply.
#[derive(Default)]
pub struct Versions {
    entries: Mutex<Vec<Arc<AsOfEntry>>>,
    /// Scheduled revisions that failed to apply, with when.
    failed: Mutex<BTreeMap<i64, Timestamp>>,
}

impl Versions {
    fn find(&self, key: &[i64]) -> Option<Arc<AsOfEntry>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let at = entries.iter().position(|e| e.key == key)?;
        let entry = entries.remove(at);
        entries.push(entry.clone());
        Some(entry)
    }

    fn keep(&self, entry: Arc<AsOfEntry>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|e| e.key != entry.key);
        entries.push(entry);
        if entries.len() > AS_OF_KEPT {
            entries.remove(0);
        }
    }
}

/// One grid before and after a revision.
#[derive(Debug, Clone)]
pub struct GridVersions {
    /// The grid.
    pub id: GridId,
    /// As it was just before (`None`: the revision created it).
    pub before: Option<Grid>,
    /// As the revision wrote it (`None`: the revision removed it).
    pub after: Option<Grid>,
}

/// A revision with every grid it changed, before and after.
#[derive(Debug, Clone)]
pub struct RevisionDetail {
    /// The revision.
    pub revision: GridRevision,
    /// The grids it changed, by id.
    pub grids: Vec<GridVersions>,
}

/// A cancelled scheduled revision.
#[derive(Debug, Clone, Serialize)]
pub struct Cancelled {
    /// The revision cancelled.
    pub revision: i64,
    /// The grid-set version the cancelling created.
    pub version: i64,
    /// Its change-feed sequence number.
    pub change: i64,
}

impl GridService {
    /// The grids in force at `at` (past, now or scheduled), indexed. The
    /// current index when no revision takes effect between now and `at`
    /// (and every applied one took effect by then); else folded from the
    /// stored revisions. Its version is 0: plan changes on the current
    /// index only.
    pub async fn as_of(&self, at: Timestamp) -> Result<Arc<GridIndex>, StoreError> {
        Ok(self
            .as_of_entry(at)
            .await?
            .map_or_else(|| self.index(), |e| e.index.clone()))
    }

    /// The tile source of the grids in force at `at` (see
    /// [`GridService::as_of`]): the current one, or one built for that set.
    pub async fn tiles_as_of(&self, at: Timestamp) -> Result<Arc<TileSource>, StoreError> {
        let Some(entry) = self.as_of_entry(at).await? else {
            return Ok(self.tile_service().source());
        };
        if let Some(tiles) = entry.tiles.get() {
            return Ok(tiles.clone());
        }
        let index = entry.index.clone();
        let tiles = tokio::task::spawn_blocking(move || Arc::new(TileSource::new(index, 0)))
            .await
            .expect("preparing tiles does not panic");
        Ok(entry.tiles.get_or_init(|| tiles).clone())
    }

    /// `None` when the current grids are those in force at `at`.
    async fn as_of_entry(&self, at: Timestamp) -> Result<Option<Arc<AsOfEntry>>, StoreError> {
        let revisions = self.store().grid_revisions().await?;
        let current = revisions
            .iter()
            .all(|r| (r.effective_at <= at) == (r.state == RevisionState::Applied));
        if current {
            return Ok(None);
        }
        let needed = crate::store::needed_for(&revisions, at);
        let key: Vec<i64> = needed.iter().map(|r| r.revision).collect();
        if let Some(entry) = self.versions.find(&key) {
            return Ok(Some(entry));
        }
        let grids = self.fold(needed).await?;
        let index = tokio::task::spawn_blocking(move || Arc::new(GridIndex::build(grids)))
            .await
            .expect("building an index does not panic");
        let entry = Arc::new(AsOfEntry {
            key,
            index,
            tiles: OnceLock::new(),
        });
        self.versions.keep(entry.clone());
        Ok(Some(entry))
    }

    /// The grid set these revisions make, read from the store.
    async fn fold(&self, revisions: &[GridRevision]) -> Result<Vec<Grid>, StoreError> {
        let read = self.store().revisions_grids(revisions).await?;
        // Off the runtime: a fold from a whole-set revision copies the county.
        Ok(tokio::task::spawn_blocking(move || fold_revisions(&read))
            .await
            .expect("folding revisions does not panic"))
    }

    /// Every revision, in the order they take effect.
    pub async fn revisions(&self) -> Result<Vec<GridRevision>, StoreError> {
        self.store().grid_revisions().await
    }

    /// One revision with each grid it changed as it was before and after.
    pub async fn revision_detail(&self, revision: i64) -> Result<RevisionDetail, GridChangeError> {
        let revisions = self.revisions().await?;
        let position = revisions
            .iter()
            .position(|r| r.revision == revision)
            .ok_or(GridChangeError::NoRevision(revision))?;
        let this = self
            .store()
            .revision_grids(revision)
            .await?
            .ok_or(GridChangeError::NoRevision(revision))?;
        let earlier = &revisions[..position];
        let start = earlier.iter().rposition(|r| r.replaces_all).unwrap_or(0);
        let before = self.fold(&earlier[start..]).await?;
        let before: BTreeMap<GridId, Grid> =
            before.into_iter().map(|g| (g.id.clone(), g)).collect();
        let mut after: BTreeMap<GridId, Option<Grid>> = BTreeMap::new();
        if this.revision.replaces_all {
            for id in before.keys() {
                after.insert(id.clone(), None);
            }
        }
        for id in &this.removed {
            after.insert(id.clone(), None);
        }
        for g in &this.grids {
            after.insert(g.id.clone(), Some(g.clone()));
        }
        let grids = after
            .into_iter()
            .map(|(id, after)| GridVersions {
                before: before.get(&id).cloned(),
                id,
                after,
            })
            .filter(|v| v.before != v.after)
            .collect();
        Ok(RevisionDetail {
            revision: this.revision,
            grids,
        })
    }

    /// The revisions scheduled after `at`, refusing the change when one of
    /// them changes a grid it changes too (applying both in date order
    /// would silently undo this one), or when it replaces the whole set.
    pub(super) async fn scheduled_after(
        &self,
        at: Timestamp,
        change: &GridChange,
    ) -> Result<Vec<GridRevision>, GridChangeError> {
        // Scheduled after `at`, or due but not applied yet (the server
        // applies it within a second, over whatever this change writes).
        let now = Timestamp::now();
        let later: Vec<GridRevision> = self
            .revisions()
            .await?
            .into_iter()
            .filter(|r| {
                r.state == RevisionState::Scheduled
                    && (r.effective_at > at || r.effective_at <= now)
            })
            .collect();
        let Some(first) = later.first() else {
            return Ok(later);
        };
        if change.mode == WriteMode::Replace {
            return Err(GridChangeError::Revision(
                RevisionRefusal::ReplaceUndoesScheduled {
                    revision: first.revision,
                    effective_at: first.effective_at,
                },
            ));
        }
        let touched: BTreeSet<&GridId> = change
            .grids
            .iter()
            .map(|g| &g.id)
            .chain(&change.remove)
            .collect();
        self.refuse_shared(later.iter(), &touched).await?;
        Ok(later)
    }

    /// Refuse ([`GridChangeError::ScheduledLater`]) when one of `later`
    /// writes or removes a grid of `touched`.
    async fn refuse_shared(
        &self,
        later: impl Iterator<Item = &GridRevision>,
        touched: &BTreeSet<&GridId>,
    ) -> Result<(), GridChangeError> {
        for r in later {
            let Some(rows) = self.store().revision_grids(r.revision).await? else {
                continue;
            };
            let both: Vec<GridId> = rows
                .touched()
                .filter(|id| touched.contains(id))
                .cloned()
                .collect();
            if !both.is_empty() {
                return Err(GridChangeError::ScheduledLater {
                    revision: r.revision,
                    effective_at: r.effective_at,
                    grids: both,
                });
            }
        }
        Ok(())
    }

    /// Record a plan effective later as a scheduled revision: the current
    /// grids, incidents, hazards and routes stay as they are until
    /// [`GridService::activate_due`] applies it.
    pub(super) async fn schedule(
        &self,
        plan: GridPlan,
        effective_at: Timestamp,
    ) -> Result<Applied, GridChangeError> {
        let _writer = self.writing().await;
        let now = Timestamp::now();
        let mut change = self.feed().begin().await?;
        let unit = change.unit();
        let version = claim(unit, plan.version).await?;
        let revision = NewRevision {
            revision: version,
            actor: plan.change.actor.clone(),
            recorded_at: now,
            effective_at,
            reason: plan.change.reason.clone(),
            summary: revision_summary(&plan),
            mode: WriteMode::Upsert,
            state: RevisionState::Scheduled,
        };
        let (written, removed) = recorded(&plan);
        unit.record_revision(&revision, &written, &removed).await?;
        // No in-process effect: the feed reads the version again (the
        // current grids are unchanged, so no tile is evicted).
        change.record(
            NewChange::new(
                ChangeKind::Grids,
                &plan.changed_grids,
                &plan.change.actor,
                now,
                format!(
                    "grid set version {version}: revision scheduled to take effect at \
                     {effective_at}, {} grid(s) to change",
                    plan.changed_grids.len()
                ),
            ),
            None,
        );
        let recorded = change.commit_changes().await?;
        tracing::info!(version, %effective_at, grids = plan.changed_grids.len(),
            "grid change scheduled");
        Ok(Applied {
            version,
            effective_at,
            scheduled: true,
            change: recorded.first().expect("the grid change itself").seq,
            imported: plan.imported,
            counts_by_level: plan.counts_by_level,
            changed_grids: plan.changed_grids,
            impact: plan.impact,
        })
    }

    /// Apply every scheduled revision whose time has come, in order, each
    /// as a grid change of its own (incidents, hazards and routes moved,
    /// the change feed, the index and tiles). Another process applying one
    /// first is not an error. A revision that cannot be applied (the grids
    /// it was drawn on changed in a way its checks refuse) is logged and
    /// tried again a minute later; it stays scheduled.
    pub async fn activate_due(&self) -> Vec<Applied> {
        let mut applied = Vec::new();
        let revisions = match self.revisions().await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "reading the scheduled grid revisions failed");
                return applied;
            }
        };
        let now = Timestamp::now();
        for r in revisions
            .into_iter()
            .filter(|r| r.state == RevisionState::Scheduled && r.effective_at <= now)
        {
            let resting = {
                let failed = self
                    .versions
                    .failed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                failed
                    .get(&r.revision)
                    .is_some_and(|at| now.duration_since(*at).as_secs() < RETRY_AFTER_SECONDS)
            };
            if resting {
                break;
            }
            match self.activate(&r).await {
                Ok(Some(done)) => {
                    self.versions
                        .failed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&r.revision);
                    applied.push(done);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(revision = r.revision, error = %e,
                        "a scheduled grid revision could not be applied; it stays scheduled");
                    self.versions
                        .failed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(r.revision, now);
                    // Later ones were drawn on this one: they wait too.
                    break;
                }
            }
        }
        applied
    }

    async fn activate(&self, r: &GridRevision) -> Result<Option<Applied>, GridChangeError> {
        let Some(rows) = self.store().revision_grids(r.revision).await? else {
            return Ok(None);
        };
        if rows.revision.state != RevisionState::Scheduled {
            return Ok(None);
        }
        let change = GridChange {
            grids: rows.grids,
            // Recorded as what it changes (see `recorded`).
            mode: WriteMode::Upsert,
            remove: rows.removed,
            version: None,
            actor: r.actor.clone(),
            reason: r.reason.clone(),
            effective: None,
        };
        let plan = self
            .plan_on(change, Some((r.revision, r.effective_at)))
            .await?;
        match self.apply(plan).await {
            Ok(done) => {
                tracing::info!(
                    revision = r.revision,
                    version = done.version,
                    "scheduled grid revision applied"
                );
                Ok(Some(done))
            }
            // Another process applied it (or anything else) first.
            Err(GridChangeError::Stale { .. } | GridChangeError::Revision(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Plan restoring the grids in force at `to` as a new change (effective
    /// now, or scheduled by `note`): every grid that differs is written as
    /// it was, every grid that did not exist then is removed. Refused when
    /// no grid was in force at `to`, or nothing would change.
    pub async fn plan_restore(
        &self,
        to: Timestamp,
        version: Option<i64>,
        note: ChangeNote,
    ) -> Result<GridPlan, GridChangeError> {
        let target = self.as_of(to).await?;
        if target.grids().is_empty() {
            return Err(GridChangeError::Revision(RevisionRefusal::NothingInForce {
                at: to,
            }));
        }
        let base = match note.effective.filter(|t| *t > Timestamp::now()) {
            Some(t) => self.as_of(t).await?,
            None => self.index(),
        };
        let upsert: Vec<Grid> = target
            .grids()
            .iter()
            .filter(|g| base.get(&g.id) != Some(*g))
            .cloned()
            .collect();
        let remove: Vec<GridId> = base
            .grids()
            .iter()
            .filter(|g| target.get(&g.id).is_none())
            .map(|g| g.id.clone())
            .collect();
        if upsert.is_empty() && remove.is_empty() {
            return Err(GridChangeError::Revision(
                RevisionRefusal::NothingToRestore { at: to },
            ));
        }
        self.plan_on(GridChange::upsert(upsert, remove, version, note), None)
            .await
    }

    /// Cancel a scheduled revision, planned on grid-set `version`. Refused
    /// when it is in force already (restore instead), or when a revision
    /// scheduled after it changes the same grids (cancel that one first:
    /// it was drawn on this one).
    pub async fn cancel(
        &self,
        revision: i64,
        version: i64,
        actor: &str,
    ) -> Result<Cancelled, GridChangeError> {
        let _writer = self.writing().await;
        let revisions = self.revisions().await?;
        let this = revisions
            .iter()
            .find(|r| r.revision == revision)
            .ok_or(GridChangeError::NoRevision(revision))?;
        if this.state != RevisionState::Scheduled {
            return Err(GridChangeError::Revision(RevisionRefusal::InForce {
                revision,
                effective_at: this.effective_at,
            }));
        }
        let rows = self
            .store()
            .revision_grids(revision)
            .await?
            .ok_or(GridChangeError::NoRevision(revision))?;
        let touched: BTreeSet<&GridId> = rows.touched().collect();
        self.refuse_shared(
            revisions.iter().filter(|r| {
                r.state == RevisionState::Scheduled && r.order_key() > this.order_key()
            }),
            &touched,
        )
        .await?;
        let now = Timestamp::now();
        let mut change = self.feed().begin().await?;
        let unit = change.unit();
        let version = claim(unit, version).await?;
        if !unit.cancel_revision(revision).await? {
            return Err(GridChangeError::Revision(
                RevisionRefusal::NoLongerScheduled { revision },
            ));
        }
        let ids: Vec<&GridId> = touched.into_iter().collect();
        change.record(
            NewChange::new(
                ChangeKind::Grids,
                ids,
                actor,
                now,
                format!("grid set version {version}: scheduled revision {revision} cancelled"),
            ),
            None,
        );
        let recorded = change.commit_changes().await?;
        Ok(Cancelled {
            revision,
            version,
            change: recorded.first().expect("the cancelling itself").seq,
        })
    }
}
