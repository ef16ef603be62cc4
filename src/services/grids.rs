//! Grid changes, planned then applied. An import (and, later, every
//! boundary edit) goes through two steps:
//!
//! 1. **Plan**: validate the grids against the set they change, build the
//!    index of the result, and list the impact: every open incident, hazard
//!    and saved route whose grids change (from what to what), and any that
//!    would be left outside every grid. A dry run stops here.
//! 2. **Apply**, in one unit of work: claim the next grid-set version (the
//!    change names the version it was planned on; another change committed
//!    since makes this a conflict, across processes too), write the grids,
//!    re-chain every open incident with a history entry, relocate the
//!    hazards, re-list the routes, append the change-feed entries, commit.
//!    Then, in feed order, the index swap, the tile eviction and the live
//!    incident layer.
//!
//! The impact is computed by the same function in both steps, inside a
//! transaction each time, so a dry run answers exactly what applying then
//! reports unless something changed in between.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use geo::MultiPolygon;
use jiff::Timestamp;
use serde::Serialize;

use std::collections::BTreeMap;

use crate::dispatch::events::ChangeKind as IncidentEvent;
use crate::geom::Bbox;
use crate::import::edit::{self, Edit, EditRefusal, Gap, Sliver, gaps_opened, slivers};
use crate::import::{self, ImportErrors};
use crate::index::{GridIndex, GridIx};
use crate::model::{
    ChangeKind, EventKind, Grid, GridId, Localized, NewChange, NewRevision, RevisionState,
};
use crate::services::Current;
use crate::services::feed::{Effect, Feed};
pub use crate::services::impact::{ChainMove, GridDelta, Impact, LeaderCases, RouteMove};
use crate::services::impact::{impact_in, impact_of, read_lying};
use crate::store::{NewEvent, Store, StoreError, WriteMode};
use crate::tiles::{self, TileService};

/// A grid change as asked for.
#[derive(Debug, Clone)]
pub struct GridChange {
    /// The grids given.
    pub grids: Vec<Grid>,
    /// Whether they replace the whole set or are added/replaced by id.
    pub mode: WriteMode,
    /// Grids removed (an upsert only: a merge, a split under new ids, a
    /// deleted sub-area).
    pub remove: Vec<GridId>,
    /// The grid-set version the change was made against; `None`: the
    /// version this server holds now.
    pub version: Option<i64>,
    /// Who makes it.
    pub actor: String,
    /// Why, as the planner says (kept with the revision; may be empty).
    pub reason: String,
    /// When it takes effect: `None` or a time not after now, at once;
    /// a later time schedules it (drawn on the grids in force then, applied
    /// to the current grids when the time comes).
    pub effective: Option<Timestamp>,
}

impl GridChange {
    /// Grids written and removed by id, as `note` says.
    pub fn upsert(
        grids: Vec<Grid>,
        remove: Vec<GridId>,
        version: Option<i64>,
        note: ChangeNote,
    ) -> GridChange {
        GridChange {
            grids,
            mode: WriteMode::Upsert,
            remove,
            version,
            actor: note.actor,
            reason: note.reason,
            effective: note.effective,
        }
    }
}

/// Who makes a change, why, and when it takes effect.
#[derive(Debug, Clone, Default)]
pub struct ChangeNote {
    /// Who.
    pub actor: String,
    /// Why (may be empty).
    pub reason: String,
    /// When: `None` or not after now, at once; later, scheduled.
    pub effective: Option<Timestamp>,
}

impl From<&str> for ChangeNote {
    /// A change by `actor`, at once, without a reason.
    fn from(actor: &str) -> ChangeNote {
        ChangeNote {
            actor: actor.to_owned(),
            ..ChangeNote::default()
        }
    }
}

/// A validated grid change with its impact, ready to apply.
pub struct GridPlan {
    pub(super) change: GridChange,
    /// The version it was planned on.
    pub version: i64,
    /// When it takes effect, for a scheduled change; `None`: at once.
    pub scheduled: Option<Timestamp>,
    /// The scheduled revision this plan applies (its number and effective
    /// time), when it is one coming due.
    activates: Option<(i64, Timestamp)>,
    /// Grids given.
    pub imported: usize,
    /// Grids per level after the change, level 1 first.
    pub counts_by_level: [usize; 5],
    /// Every grid added, removed or altered, by id.
    pub changed_grids: Vec<GridId>,
    /// What it moves.
    pub impact: Impact,
    index: Arc<GridIndex>,
    /// What is written: the whole set for a replace, the given grids for an
    /// upsert.
    pub(super) to_write: Vec<Grid>,
}

/// An applied grid change.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// The grid-set version it created (also its revision number).
    pub version: i64,
    /// When it takes effect (now, or the date it is scheduled for).
    pub effective_at: Timestamp,
    /// True when it is scheduled: recorded, not yet in force.
    pub scheduled: bool,
    /// Its change-feed sequence number.
    pub change: i64,
    /// Grids given.
    pub imported: usize,
    /// Grids per level after it, level 1 first.
    pub counts_by_level: [usize; 5],
    /// Every grid added, removed or altered, by id.
    pub changed_grids: Vec<GridId>,
    /// What it moved.
    pub impact: Impact,
}

/// Why a grid change was not made. In every case nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum GridChangeError {
    /// The grids broke a rule; every issue is listed.
    #[error(transparent)]
    Invalid(#[from] ImportErrors),
    /// A replace with no grids would delete the whole county.
    #[error("a replace with no grids would delete every grid; send the whole new set")]
    EmptyReplace,
    /// The change would leave these outside every grid.
    #[error("the change would leave {} incident(s), {} hazard(s) and {} route(s) outside every grid",
        .0.incidents.len(), .0.hazards.len(), .0.routes.len())]
    Stranded(Impact),
    /// Another grid change committed after the one this was planned on.
    #[error("the grids changed since version {planned} (now version {current}); plan again")]
    Stale {
        /// The version it was planned on.
        planned: i64,
        /// The version stored now.
        current: i64,
    },
    /// A boundary edit that cannot be drawn up (no such vertex, a border
    /// of the level above).
    #[error(transparent)]
    Edit(#[from] EditRefusal),
    /// A boundary edit whose result breaks the import's rules: every issue,
    /// each with where it is (the part outside the parent, the overlap with
    /// a sibling, or the grid as drawn), in the same order.
    #[error("{0}")]
    EditBreaksRules(ImportErrors, Vec<Option<MultiPolygon<f64>>>),
    /// A boundary edit that would leave part of a parent uncovered.
    #[error("the edit would leave {} gap(s): {}", .0.len(), gap_list(.0))]
    Gaps(Vec<Gap>),
    /// A boundary edit that would leave parts of grids too small to keep.
    #[error("the edit would leave {} sliver(s) under {} m²: {}", .0.len(),
        edit::SLIVER_MIN_M2, sliver_list(.0))]
    Slivers(Vec<Sliver>),
    /// A change to grids that a scheduled revision after it also changes:
    /// applying both would silently undo one of them.
    #[error("grid revision {revision}, scheduled for {effective_at}, also changes {}; cancel it, \
        or schedule this change after it", .grids.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", "))]
    ScheduledLater {
        /// The scheduled revision.
        revision: i64,
        /// When it takes effect.
        effective_at: Timestamp,
        /// The grids both change.
        grids: Vec<GridId>,
    },
    /// A revision that cannot be restored, cancelled or shown as asked.
    #[error("{0}")]
    Revision(RevisionRefusal),
    /// No revision has this number.
    #[error("no grid revision {0}")]
    NoRevision(i64),
    /// The store failed; its transaction rolled back.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a grid revision cannot be restored, cancelled or applied as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RevisionRefusal {
    /// A whole-set replace planned while a revision is scheduled.
    #[error(
        "grid revision {revision} is scheduled for {effective_at}: a whole-set replace would \
         undo it; cancel the scheduled revisions first"
    )]
    ReplaceUndoesScheduled {
        /// The first scheduled revision.
        revision: i64,
        /// When it takes effect.
        effective_at: Timestamp,
    },
    /// A restore to a time before the first grids.
    #[error("no grids were in force at {at}: nothing to restore")]
    NothingInForce {
        /// The time asked for.
        at: Timestamp,
    },
    /// A restore to the grids that are there already.
    #[error(
        "the grids in force at {at} are the grids the restore would replace: nothing to restore"
    )]
    NothingToRestore {
        /// The time asked for.
        at: Timestamp,
    },
    /// A cancel of a revision that is in force.
    #[error(
        "grid revision {revision} took effect at {effective_at}; restore the grids as of an \
         earlier time instead"
    )]
    InForce {
        /// The revision.
        revision: i64,
        /// When it took effect.
        effective_at: Timestamp,
    },
    /// A scheduled revision applied or cancelled by someone else meanwhile.
    #[error("grid revision {revision} is no longer scheduled: applied or cancelled meanwhile")]
    NoLongerScheduled {
        /// The revision.
        revision: i64,
    },
}

impl Localized for RevisionRefusal {
    fn zh(&self) -> String {
        match self {
            RevisionRefusal::ReplaceUndoesScheduled {
                revision,
                effective_at,
            } => format!(
                "网格版本 {revision} 定于 {effective_at} 生效，整体替换会使其失效：\
                 请先取消待生效的版本"
            ),
            RevisionRefusal::NothingInForce { at } => {
                format!("{at} 时尚无生效的网格，没有可恢复的内容")
            }
            RevisionRefusal::NothingToRestore { at } => {
                format!("{at} 时生效的网格与将被替换的网格相同，没有可恢复的内容")
            }
            RevisionRefusal::InForce {
                revision,
                effective_at,
            } => format!(
                "网格版本 {revision} 已于 {effective_at} 生效，请改为将网格恢复到更早时间的状态"
            ),
            RevisionRefusal::NoLongerScheduled { revision } => {
                format!("网格版本 {revision} 已不是待生效状态：期间已生效或已被取消")
            }
        }
    }
}

fn sliver_list(slivers: &[Sliver]) -> String {
    slivers
        .iter()
        .map(|s| format!("{:.1} m² of {}", s.area_m2, s.grid))
        .collect::<Vec<_>>()
        .join(", ")
}

fn gap_list(gaps: &[Gap]) -> String {
    gaps.iter()
        .map(|g| format!("{:.0} m² of {} no child covers", g.opened_m2, g.parent))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Localized for GridChangeError {
    fn zh(&self) -> String {
        match self {
            GridChangeError::Invalid(errors) | GridChangeError::EditBreaksRules(errors, _) => {
                errors.zh()
            }
            GridChangeError::EmptyReplace => {
                "整体替换未提供任何网格，会删除全部网格：请提交完整的新网格数据".to_owned()
            }
            GridChangeError::Stranded(impact) => format!(
                "本次调整会使 {} 个事件、{} 个隐患和 {} 条路线不在任何网格内",
                impact.incidents.len(),
                impact.hazards.len(),
                impact.routes.len()
            ),
            GridChangeError::Stale { planned, current } => {
                format!(
                    "网格自版本 {planned} 以来已有改动（当前为版本 {current}），请刷新后重新操作"
                )
            }
            GridChangeError::Edit(refusal) => refusal.zh(),
            GridChangeError::Gaps(gaps) => {
                let list = gaps
                    .iter()
                    .map(|g| format!("{} 有 {:.0} m² 未被下级网格覆盖", g.parent, g.opened_m2))
                    .collect::<Vec<_>>()
                    .join("；");
                format!("本次编辑会留下 {} 处缝隙：{list}", gaps.len())
            }
            GridChangeError::Slivers(slivers) => {
                let list = slivers
                    .iter()
                    .map(|s| format!("{} 的 {:.1} m²", s.grid, s.area_m2))
                    .collect::<Vec<_>>()
                    .join("、");
                format!(
                    "本次编辑会留下 {} 块小于 {} m² 的碎片：{list}",
                    slivers.len(),
                    edit::SLIVER_MIN_M2
                )
            }
            GridChangeError::ScheduledLater {
                revision,
                effective_at,
                grids,
            } => format!(
                "定于 {effective_at} 生效的网格版本 {revision} 也修改了 {}：请取消该版本，\
                 或将本次调整安排在其后生效",
                grids
                    .iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            GridChangeError::Revision(refusal) => refusal.zh(),
            GridChangeError::NoRevision(revision) => format!("未找到网格版本 {revision}"),
            GridChangeError::Store(e) => e.zh(),
        }
    }
}

impl GridChangeError {
    /// True when the store refused because something the change moves was
    /// changed by someone else meanwhile (nothing was written; sending it
    /// again may succeed).
    pub fn is_interference(&self) -> bool {
        matches!(
            self,
            GridChangeError::Store(StoreError::Stale { .. } | StoreError::Conflict { .. })
        )
    }
}

/// Grid changes: plan, apply, and the current index.
pub struct GridService {
    store: Arc<dyn Store>,
    index: Arc<Current<GridIndex>>,
    tiles: Arc<TileService>,
    feed: Arc<Feed>,
    /// Test hook: fail the next apply right after its grids are written.
    fail_after_grids_written: AtomicBool,
    /// Serialises the changes of this process (the version check in the
    /// transaction is what holds across processes; this only saves a
    /// second local change from planning against a set about to move).
    writes: tokio::sync::Mutex<()>,
    /// Indexes (and tile sources) of grid sets as of other times (see
    /// [`GridService::as_of`]) and scheduled revisions that failed.
    pub(super) versions: super::versions::Versions,
}

impl GridService {
    /// A grid service over `store`, swapping `index` and evicting `tiles`
    /// through `feed`.
    pub fn new(
        store: Arc<dyn Store>,
        index: Arc<Current<GridIndex>>,
        tiles: Arc<TileService>,
        feed: Arc<Feed>,
    ) -> GridService {
        GridService {
            store,
            index,
            tiles,
            feed,
            fail_after_grids_written: AtomicBool::new(false),
            writes: tokio::sync::Mutex::new(()),
            versions: Default::default(),
        }
    }

    /// The index as it is now.
    pub fn index(&self) -> Arc<GridIndex> {
        self.index.get()
    }

    /// The store.
    pub(super) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The tile service.
    pub(super) fn tile_service(&self) -> &TileService {
        &self.tiles
    }

    /// The change feed.
    pub(super) fn feed(&self) -> &Feed {
        &self.feed
    }

    /// Hold while writing a grid change (see `writes`).
    pub(super) async fn writing(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    /// Make the next [`GridService::apply`] fail right after it wrote the
    /// grids, as a database failure would (tests of the rollback only).
    #[doc(hidden)]
    pub fn inject_failure_after_grids_written(&self) {
        self.fail_after_grids_written.store(true, Ordering::SeqCst);
    }

    /// Validate a change and list its impact; writes nothing. A change
    /// effective later is drawn on the grids in force then; any change is
    /// refused when a revision scheduled after it (or due and not applied
    /// yet) changes the same grids,
    /// and checked against the grids in force at each scheduled date after
    /// it.
    pub async fn plan(&self, change: GridChange) -> Result<GridPlan, GridChangeError> {
        self.plan_on(change, None).await
    }

    /// [`GridService::plan`], or, with `activates`, the plan that applies a
    /// scheduled revision coming due (drawn on the current grids, without
    /// the checks against revisions scheduled after it: they were made on
    /// the grids this one leaves).
    pub(super) async fn plan_on(
        &self,
        change: GridChange,
        activates: Option<(i64, Timestamp)>,
    ) -> Result<GridPlan, GridChangeError> {
        if change.mode == WriteMode::Replace && change.grids.is_empty() {
            return Err(GridChangeError::EmptyReplace);
        }
        debug_assert!(change.mode == WriteMode::Upsert || change.remove.is_empty());
        let mut current = self.index.get();
        let version = change.version.unwrap_or(current.version());
        if version != current.version() {
            // Planned on a set this server does not hold (yet): bring the
            // index up to the feed, so that the change is built on exactly
            // the set that carries `version`, or refused.
            if version > current.version() {
                self.feed.catch_up().await?;
                current = self.index.get();
            }
            if version != current.version() {
                let stored = self.store.grid_set_version().await?;
                return Err(GridChangeError::Stale {
                    planned: version,
                    current: stored,
                });
            }
        }
        let now = Timestamp::now();
        // Kept to the millisecond, as the store keeps it, so that what the
        // answer says is exactly when the stored revision takes effect.
        let scheduled = change
            .effective
            .and_then(|t| Timestamp::from_millisecond(t.as_millisecond()).ok())
            .filter(|t| *t > now);
        let at = scheduled.unwrap_or(now);
        let later = match activates {
            Some(_) => Vec::new(),
            None => self.scheduled_after(at, &change).await?,
        };
        if let Some(t) = scheduled {
            current = self.as_of(t).await?;
        }
        let (grids, mode, remove) = (change.grids.clone(), change.mode, change.remove.clone());
        let before = current.clone();
        let (index, to_write, changed_grids) = tokio::task::spawn_blocking(move || {
            let merged =
                import::validate_upsert_removing(before.grids(), grids.clone(), mode, &remove)?;
            let changed = match mode {
                WriteMode::Replace => changed_grids(&before, &merged),
                WriteMode::Upsert => upserted_grids(&before, &grids, &remove),
            };
            let to_write = match mode {
                WriteMode::Replace => merged.clone(),
                WriteMode::Upsert => grids,
            };
            // Unchanged grids keep their prepared shapes and raster cells
            // (see `rebuilt`).
            let index = before
                .rebuilt_changing(merged, &changed)
                .with_version(version + 1);
            Ok::<_, ImportErrors>((Arc::new(index), to_write, changed))
        })
        .await
        .expect("validation does not panic")?;
        for revision in &later {
            // The grids in force at each later scheduled date, with this
            // change made too, must still pass.
            let then = self.as_of(revision.effective_at).await?;
            let (grids, remove) = (change.grids.clone(), change.remove.clone());
            tokio::task::spawn_blocking(move || {
                import::validate_upsert_removing(then.grids(), grids, mode, &remove)
            })
            .await
            .expect("validation does not panic")?;
        }
        // Read in a transaction of its own, dropped unwritten: the same
        // reads the apply makes, so the plan is what applying would do now.
        // (the unit is dropped before the computing starts: on SQLite it
        // holds the write lock)
        let mut unit = self.store.begin().await?;
        let lying = read_lying(unit.as_mut(), &current, &index, &changed_grids).await?;
        drop(unit);
        let moves = impact_of(lying, &current, &index, &changed_grids).await;
        let impact = moves.impact;
        let stranded = impact.stranded();
        if !stranded.is_empty() {
            return Err(GridChangeError::Stranded(stranded));
        }
        Ok(GridPlan {
            imported: change.grids.len(),
            counts_by_level: index.count_by_level(),
            version,
            scheduled,
            activates,
            changed_grids,
            impact,
            index,
            to_write,
            change,
        })
    }

    /// Plan a boundary edit: drawn up on the current grids (the grids it
    /// writes and removes, populations re-estimated unless `population`
    /// gives them), planned as an upsert (the import's checks, the impact,
    /// stranding), and refused if it would open a gap in a parent's cover
    /// or leave a sliver. Applied like any plan.
    pub async fn plan_edit(
        &self,
        edit: Edit,
        population: BTreeMap<GridId, u64>,
        version: Option<i64>,
        note: ChangeNote,
    ) -> Result<GridPlan, GridChangeError> {
        let mut current = self.index.get();
        if version.is_some_and(|v| v > current.version()) {
            self.feed.catch_up().await?;
            current = self.index.get();
        }
        let version = Some(version.unwrap_or(current.version()));
        if let Some(t) = note.effective.filter(|t| *t > Timestamp::now()) {
            // Drawn on the grids in force on the day it takes effect.
            current = self.as_of(t).await?;
        }
        let before = current.clone();
        let drawn = tokio::task::spawn_blocking(move || {
            let bounds: Vec<Bbox> = (0..before.grids().len())
                .map(|i| before.bbox_of(i as GridIx))
                .collect();
            edit::draw_with_bounds(before.grids(), &bounds, &edit, &population)
        })
        .await
        .expect("drawing up an edit does not panic")?;
        let small = slivers(&drawn.upsert);
        if !small.is_empty() {
            return Err(GridChangeError::Slivers(small));
        }
        let written = drawn.upsert.clone();
        let plan = self
            .plan_on(
                GridChange::upsert(drawn.upsert, drawn.remove, version, note),
                None,
            )
            .await
            .map_err(|e| match e {
                GridChangeError::Invalid(errors) => {
                    let find = |id: &GridId| {
                        written
                            .iter()
                            .find(|g| &g.id == id)
                            .or_else(|| current.get(id))
                    };
                    let parts = errors
                        .issues
                        .iter()
                        .map(|issue| edit::offending_part(issue, find))
                        .collect();
                    GridChangeError::EditBreaksRules(errors, parts)
                }
                other => other,
            })?;
        let (after, changed) = (plan.index.clone(), plan.changed_grids.clone());
        let gaps = tokio::task::spawn_blocking(move || {
            gaps_opened(current.grids(), after.grids(), &changed)
        })
        .await
        .expect("measuring gaps does not panic");
        if !gaps.is_empty() {
            return Err(GridChangeError::Gaps(gaps));
        }
        Ok(plan)
    }

    /// Apply a plan in one transaction, then swap the index and evict tiles
    /// once the feed reaches the change.
    pub async fn apply(&self, plan: GridPlan) -> Result<Applied, GridChangeError> {
        if let Some(effective_at) = plan.scheduled {
            return self.schedule(plan, effective_at).await;
        }
        let _writer = self.writes.lock().await;
        let now = Timestamp::now();
        let current_source = self.tiles.source();
        let generation = current_source.generation() + 1;
        let before = self.index.get();
        let before_index = before.clone();
        let (source, changed_bounds) = {
            let (index, changed) = (plan.index.clone(), plan.changed_grids.clone());
            tokio::task::spawn_blocking(move || {
                // Only the changed grids are projected again.
                let source = Arc::new(current_source.rebuilt(index.clone(), generation, &changed));
                (source, tiles::bounds_of(&before, &index, &changed))
            })
            .await
            .expect("preparing tiles does not panic")
        };

        let mut change = self.feed.begin().await?;
        let unit = change.unit();
        let version = claim(unit, plan.version).await?;
        unit.write_grids(&plan.to_write, plan.change.mode).await?;
        if !plan.change.remove.is_empty() {
            unit.remove_grids(&plan.change.remove).await?;
        }
        let effective_at = match plan.activates {
            Some((revision, effective_at)) => {
                if !unit.mark_revision_applied(revision, now).await? {
                    return Err(GridChangeError::Revision(
                        RevisionRefusal::NoLongerScheduled { revision },
                    ));
                }
                effective_at
            }
            None => {
                let revision = NewRevision {
                    revision: version,
                    actor: plan.change.actor.clone(),
                    recorded_at: now,
                    effective_at: now,
                    reason: plan.change.reason.clone(),
                    summary: revision_summary(&plan),
                    mode: WriteMode::Upsert,
                    state: RevisionState::Applied,
                };
                let (written, removed) = recorded(&plan);
                unit.record_revision(&revision, &written, &removed).await?;
                now
            }
        };
        if self.fail_after_grids_written.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "injected failure after the grids were written".into(),
            )
            .into());
        }
        let moves = impact_in(unit, &before_index, &plan.index, &plan.changed_grids).await?;
        let stranded = moves.impact.stranded();
        if !stranded.is_empty() {
            return Err(GridChangeError::Stranded(stranded));
        }

        let actor = plan.change.actor.clone();
        let mut moved_incidents = Vec::with_capacity(moves.incidents.len());
        for (before, after) in &moves.incidents {
            let event = NewEvent {
                at: now,
                actor: actor.clone(),
                kind: EventKind::Regridded,
                action: None,
                note: Some(format!("grids redrawn (grid set version {version})")),
                detail: serde_json::json!({ "from": before.chain, "to": after.chain }),
            };
            // Handed to another grid's leader: that leader hears of it as
            // of a new report (the `handed_over` event); otherwise a change.
            let kind = if before.handling_grid() != after.handling_grid() {
                IncidentEvent::HandedOver
            } else {
                IncidentEvent::Changed
            };
            moved_incidents.push((unit.update_incident(before, after, &event).await?, kind));
        }
        if !moves.hazards.is_empty() {
            unit.relocate_hazards(&moves.hazards).await?;
        }
        for route in &moves.routes {
            unit.update_route(route).await?.ok_or_else(|| {
                StoreError::Unavailable(format!(
                    "route {} vanished during a grid change",
                    route.id.0
                ))
            })?;
        }

        // The feed entries: the grid change first (its effect swaps the
        // index), then what it moved. They are appended at commit.
        change.record(
            NewChange::new(
                ChangeKind::Grids,
                &plan.changed_grids,
                &actor,
                now,
                match plan.activates {
                    Some((revision, _)) => format!(
                        "grid set version {version}: scheduled revision {revision} in force, \
                         {} grid(s) added, altered or removed",
                        plan.changed_grids.len()
                    ),
                    None => format!(
                        "grid set version {version}: {} grid(s) added, altered or removed",
                        plan.changed_grids.len()
                    ),
                },
            ),
            Some(Effect::Grids {
                index: plan.index.clone(),
                source,
                changed: changed_bounds,
            }),
        );
        for (stored, kind) in moved_incidents {
            change.record(
                NewChange::new(
                    ChangeKind::Incident,
                    [stored.id.0],
                    &actor,
                    now,
                    match kind {
                        IncidentEvent::HandedOver => crate::dispatch::HANDED_OVER,
                        _ => "moved to other grids by a grid change",
                    },
                ),
                Some(Effect::Incident {
                    kind,
                    incident: Box::new(stored),
                }),
            );
        }
        if !moves.impact.hazards.is_empty() {
            change.record(
                NewChange::new(
                    ChangeKind::Hazard,
                    moves.impact.hazards.iter().map(|m| m.id),
                    &actor,
                    now,
                    "relocated by a grid change",
                ),
                None,
            );
        }
        if !moves.routes.is_empty() {
            change.record(
                NewChange::new(
                    ChangeKind::Route,
                    moves.routes.iter().map(|r| r.id.0),
                    &actor,
                    now,
                    "re-listed under other grids by a grid change",
                ),
                None,
            );
        }
        let recorded = change.commit_changes().await?;
        let grids_change = recorded.first().expect("the grid change itself");
        tracing::info!(
            version,
            change = grids_change.seq,
            grids = plan.changed_grids.len(),
            incidents_moved = moves.impact.incidents.len(),
            hazards_moved = moves.impact.hazards.len(),
            routes_moved = moves.impact.routes.len(),
            "grid change applied"
        );
        Ok(Applied {
            version,
            effective_at,
            scheduled: false,
            change: grids_change.seq,
            imported: plan.imported,
            counts_by_level: plan.counts_by_level,
            changed_grids: plan.changed_grids,
            impact: moves.impact,
        })
    }
}

/// Claim the next grid-set version for a change planned on `planned`, or
/// say which version is stored now.
pub(super) async fn claim(
    unit: &mut dyn crate::store::Unit,
    planned: i64,
) -> Result<i64, GridChangeError> {
    match unit.claim_grid_set(planned).await {
        Ok(v) => Ok(v),
        Err(StoreError::Stale { .. }) => {
            let current = unit.grid_set_version().await?;
            Err(GridChangeError::Stale { planned, current })
        }
        Err(e) => Err(e.into()),
    }
}

/// What a revision records of a plan: the grids it changes, as written, and
/// the ids it removes. A whole-set replace is recorded as its difference
/// from the set it replaced (folded in order, the same set), so that the
/// history grows with what changed, not with the county.
pub(super) fn recorded(plan: &GridPlan) -> (Vec<Grid>, Vec<GridId>) {
    let changed: std::collections::BTreeSet<&GridId> = plan.changed_grids.iter().collect();
    let written = plan
        .to_write
        .iter()
        .filter(|g| changed.contains(&g.id))
        .cloned()
        .collect();
    let removed = plan
        .changed_grids
        .iter()
        .filter(|id| plan.index.get(id).is_none())
        .cloned()
        .collect();
    (written, removed)
}

/// The sentence a revision is listed with.
pub(super) fn revision_summary(plan: &GridPlan) -> String {
    let what = match plan.change.mode {
        WriteMode::Replace => format!("the whole set replaced by {} grid(s)", plan.imported),
        WriteMode::Upsert => format!(
            "{} grid(s) written, {} removed",
            plan.imported,
            plan.change.remove.len()
        ),
    };
    format!("{what}; {} grid(s) changed", plan.changed_grids.len())
}

/// Every grid an upsert of `written`, removing `removed`, adds, alters or
/// removes in `old`, by id (the rest of the set is carried over as it
/// was, so only these need comparing).
fn upserted_grids(old: &GridIndex, written: &[Grid], removed: &[GridId]) -> Vec<GridId> {
    let mut ids: Vec<GridId> = written
        .iter()
        .filter(|g| old.get(&g.id) != Some(*g))
        .map(|g| g.id.clone())
        .chain(removed.iter().filter(|id| old.get(id).is_some()).cloned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Every grid added, removed or altered between the grids of `old` and
/// the set `new`, by id.
fn changed_grids(old: &GridIndex, new: &[Grid]) -> Vec<GridId> {
    let kept: std::collections::HashSet<&GridId> = new.iter().map(|g| &g.id).collect();
    let mut ids: Vec<GridId> = new
        .iter()
        .filter(|g| old.get(&g.id) != Some(*g))
        .map(|g| g.id.clone())
        .chain(
            old.grids()
                .iter()
                .filter(|g| !kept.contains(&g.id))
                .map(|g| g.id.clone()),
        )
        .collect();
    ids.sort();
    ids
}
