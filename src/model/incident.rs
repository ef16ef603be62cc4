//! Incidents (事件): reported issues and disputes with a place, a category,
//! a status in their process, and the grids and person responsible. Every
//! change is kept as a [`HistoryEntry`].

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{GridId, Level};
use crate::geom::{InputCrs, LonLat};
use crate::model::{Action, Severity, Status, Tier, WorkflowKind};

/// An incident's number, given by the store, counting from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentId(pub i64);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A kind of incident. Categories are data (the store's
/// `incident_categories` table, seeded with the county's list), not code:
/// the county adds its own without a new release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Short stable code, e.g. `dispute`, used in URLs and Open311.
    pub code: String,
    /// Its name as dispatchers read it, e.g. 矛盾纠纷.
    pub name: String,
    /// The process incidents of this category follow.
    pub workflow: WorkflowKind,
}

/// Who brought the incident in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportSource {
    /// A grid member on patrol or visiting households.
    GridMember,
    /// The county's hotline (12345 and the like).
    Hotline,
    /// A resident, through an app or in person.
    Citizen,
    /// A patrol (day inspection or night watch).
    Patrol,
}

impl ReportSource {
    /// Every source.
    pub const ALL: [ReportSource; 4] = [
        ReportSource::GridMember,
        ReportSource::Hotline,
        ReportSource::Citizen,
        ReportSource::Patrol,
    ];

    /// The name stored and written by the API.
    pub fn name(self) -> &'static str {
        match self {
            ReportSource::GridMember => "grid_member",
            ReportSource::Hotline => "hotline",
            ReportSource::Citizen => "citizen",
            ReportSource::Patrol => "patrol",
        }
    }

    /// The source with this name.
    pub fn from_name(name: &str) -> Option<ReportSource> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A person with a phone number: a reporter, an assignee, a case owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Name as written.
    pub name: String,
    /// Phone as written (may be empty when unknown).
    #[serde(default)]
    pub phone: String,
}

/// Where an incident was reported, as sent and as located.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportedPoint {
    /// WGS84: what was located.
    pub wgs84: LonLat,
    /// The point exactly as sent, in `crs`.
    pub original: LonLat,
    /// The system the point was sent in.
    pub crs: InputCrs,
}

/// The grids of the point at the moment of reporting, level 1 first:
/// `chain[i]` is the grid at level `i + 1`, if any. Kept as reported even if
/// boundaries are redrawn later, so a case stays with the grid it was
/// assigned to.
pub type GridChain = [Option<GridId>; 5];

/// One incident as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// Its number.
    pub id: IncidentId,
    /// Category code.
    pub category: String,
    /// The process it follows (from its category when reported).
    pub workflow: WorkflowKind,
    /// Where it stands.
    pub status: Status,
    /// How serious.
    pub severity: Severity,
    /// What happened.
    pub description: String,
    /// Who reported it, if given.
    pub reporter: Option<Person>,
    /// How it came in.
    pub source: ReportSource,
    /// Photo URLs.
    pub photos: Vec<String>,
    /// Where.
    pub point: ReportedPoint,
    /// The grids there when reported.
    pub chain: GridChain,
    /// The level handling it now.
    pub tier: Tier,
    /// The person responsible now: the leader of the handling grid, or whom
    /// a dispatcher assigned.
    pub responsible: Option<Person>,
    /// The named case owner (包案), for stability cases.
    pub owner: Option<Person>,
    /// When the next follow-up visit (回访) is due.
    pub follow_up_due: Option<Timestamp>,
    /// When it was reported.
    pub reported_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When the current tier took it (deadlines count from here).
    pub tier_since: Timestamp,
    /// When the current tier's time runs out.
    pub deadline: Timestamp,
    /// When it was (last) resolved.
    pub resolved_at: Option<Timestamp>,
    /// When it was closed or dismissed.
    pub closed_at: Option<Timestamp>,
    /// Bumped by every change; a write names the version it read, so two
    /// dispatchers acting at once cannot both apply.
    pub version: i64,
}

impl Incident {
    /// The grid handling it now: the chain's grid at its tier (none at the
    /// county).
    pub fn handling_grid(&self) -> Option<&GridId> {
        self.tier
            .level()
            .and_then(|level| self.chain[level.index()].as_ref())
    }

    /// The deepest grid of its chain.
    pub fn deepest_grid(&self) -> Option<(Level, &GridId)> {
        Level::ALL
            .into_iter()
            .rev()
            .find_map(|level| self.chain[level.index()].as_ref().map(|id| (level, id)))
    }

    /// Open, and past its tier's deadline.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status.is_open() && now > self.deadline
    }
}

/// What kind of change a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Reported.
    Created,
    /// Moved through its process by an action.
    Transition,
    /// Handed to a person by a dispatcher, outside the process's own
    /// `assign` step.
    Reassigned,
    /// Moved up a tier, by a person or by the deadline.
    Escalated,
    /// A note added, nothing else changed.
    Note,
    /// The grids were redrawn: the incident now lies in other grids.
    Regridded,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 6] = [
        EventKind::Created,
        EventKind::Transition,
        EventKind::Reassigned,
        EventKind::Escalated,
        EventKind::Note,
        EventKind::Regridded,
    ];

    /// The name stored and written by the API.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Transition => "transition",
            EventKind::Reassigned => "reassigned",
            EventKind::Escalated => "escalated",
            EventKind::Note => "note",
            EventKind::Regridded => "regridded",
        }
    }

    /// The kind with this name.
    pub fn from_name(name: &str) -> Option<EventKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One change to an incident: who, when, what, and their note.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// 1 for the report, then counting up.
    pub seq: i64,
    /// When.
    pub at: Timestamp,
    /// Who (a name or account; `system` for automatic escalation).
    pub actor: String,
    /// What kind of change.
    pub kind: EventKind,
    /// The action, for a transition.
    pub action: Option<Action>,
    /// Status before and after (equal when it did not change).
    pub status: (Status, Status),
    /// Tier before and after.
    pub tier: (Tier, Tier),
    /// The note given.
    pub note: Option<String>,
    /// Anything else the change set (assignee, owner, due time), as JSON.
    pub detail: serde_json::Value,
}
