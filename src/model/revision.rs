//! Dated versions of the grid set: every grid change is a *revision* that
//! records who made it, when, why, the grids it wrote and removed, and the
//! moment it takes effect (now, or a scheduled date). The grids in force at
//! any moment are the revisions effective by then, folded in order of their
//! effective time ([`fold_revisions`]); a scheduled revision is stored at
//! once and applied to the current grids when its time comes.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::model::{Grid, GridId, WriteMode};

/// Whether a revision's grids are the current ones yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionState {
    /// In force: the current grids include it.
    Applied,
    /// Waiting for its effective time; the current grids do not include it.
    Scheduled,
}

impl RevisionState {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            RevisionState::Applied => "applied",
            RevisionState::Scheduled => "scheduled",
        }
    }

    /// The state a stored name names.
    pub fn parse(name: &str) -> Option<RevisionState> {
        match name {
            "applied" => Some(RevisionState::Applied),
            "scheduled" => Some(RevisionState::Scheduled),
            _ => None,
        }
    }
}

/// One revision of the grid set, without its grids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridRevision {
    /// Its number: the grid-set version it created when it was recorded.
    pub revision: i64,
    /// Who made it.
    pub actor: String,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// When it takes (or took) effect.
    pub effective_at: Timestamp,
    /// Why, as the planner wrote it (may be empty).
    pub reason: String,
    /// What it did, in a sentence.
    pub summary: String,
    /// True when its grids replaced the whole set (an import); else they
    /// were added or replaced by id.
    pub replaces_all: bool,
    /// In force or waiting.
    pub state: RevisionState,
    /// When a scheduled revision was applied to the current grids.
    pub applied_at: Option<Timestamp>,
    /// How many grids it wrote.
    pub written: usize,
    /// How many grids it removed.
    pub removed: usize,
}

impl GridRevision {
    /// The order revisions take effect in: by effective time, then by
    /// number (two at the same millisecond apply in the order recorded).
    pub fn order_key(&self) -> (Timestamp, i64) {
        (self.effective_at, self.revision)
    }
}

/// A revision to record.
#[derive(Debug, Clone)]
pub struct NewRevision {
    /// Its number: the grid-set version the recording unit claimed.
    pub revision: i64,
    /// Who makes it.
    pub actor: String,
    /// When it is recorded.
    pub recorded_at: Timestamp,
    /// When it takes effect.
    pub effective_at: Timestamp,
    /// Why.
    pub reason: String,
    /// What it does.
    pub summary: String,
    /// A whole-set replace or an upsert by id.
    pub mode: WriteMode,
    /// Applied now, or waiting for `effective_at`.
    pub state: RevisionState,
}

/// A revision with the grids it wrote and the ids it removed.
#[derive(Debug, Clone)]
pub struct RevisionGrids {
    /// The revision.
    pub revision: GridRevision,
    /// The grids as it wrote them.
    pub grids: Vec<Grid>,
    /// The grids it removed.
    pub removed: Vec<GridId>,
}

impl RevisionGrids {
    /// Every grid it writes or removes.
    pub fn touched(&self) -> impl Iterator<Item = &GridId> {
        self.grids.iter().map(|g| &g.id).chain(&self.removed)
    }
}

/// The grid set that results from applying `revisions` in the order given
/// (their [`GridRevision::order_key`]): a replace starts afresh, an upsert
/// writes its grids by id and removes its removed ones. Ordered by level,
/// then id, as the store lists grids.
pub fn fold_revisions<'r>(revisions: impl IntoIterator<Item = &'r RevisionGrids>) -> Vec<Grid> {
    let mut set: BTreeMap<&GridId, &Grid> = BTreeMap::new();
    for r in revisions {
        if r.revision.replaces_all {
            set.clear();
        }
        for id in &r.removed {
            set.remove(id);
        }
        for g in &r.grids {
            set.insert(&g.id, g);
        }
    }
    let mut grids: Vec<Grid> = set.into_values().cloned().collect();
    grids.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)));
    grids
}
