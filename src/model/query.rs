//! How to ask for things: which grids or incidents to list, and how a write
//! treats the grids already there. Shared by the store that answers and the
//! services and API that ask.

use jiff::Timestamp;

use crate::geom::Bbox;
use crate::model::{GridId, Level, Status, Tier};

/// Which grids to list. Every field that is set must match.
#[derive(Debug, Clone, Default)]
pub struct GridFilter {
    /// Only grids of this level.
    pub level: Option<Level>,
    /// Only the direct children of this grid.
    pub parent: Option<GridId>,
    /// Only grids whose boundary intersects this box (touching counts).
    pub bbox: Option<Bbox>,
}

/// How a write treats the grids already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// The given grids become the whole set; all others are deleted.
    #[default]
    Replace,
    /// Given grids are inserted, or replace the stored grid with the same id;
    /// others are kept.
    Upsert,
}

/// Which incidents to list. Every field that is set must match.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Any of these statuses (empty: any).
    pub statuses: Vec<Status>,
    /// This category.
    pub category: Option<String>,
    /// Reported inside this grid (any level): its subtree.
    pub grid: Option<(Level, GridId)>,
    /// Handled at this tier now.
    pub tier: Option<Tier>,
    /// Reported at or after.
    pub reported_from: Option<Timestamp>,
    /// Reported before.
    pub reported_to: Option<Timestamp>,
    /// Located in this box (edges included).
    pub bbox: Option<Bbox>,
    /// Open and past the deadline at this time.
    pub overdue_at: Option<Timestamp>,
    /// A search: the incident whose number this is (`123` or `#123`), or
    /// any whose description contains it (ASCII letters compared without
    /// case; SQLite folds no other letters).
    pub search: Option<String>,
    /// The order of a page.
    pub order: IncidentOrder,
}

/// The order incidents are listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncidentOrder {
    /// The newest report first (the default).
    #[default]
    Newest,
    /// The oldest report first: what has waited longest.
    Oldest,
    /// Those still being worked on first, by deadline: the most overdue,
    /// then the next due; resolved and closed ones after.
    Deadline,
}
