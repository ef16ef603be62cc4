//! The change feed's entries: one per thing a committed change touched, in
//! commit order. Other processes and reconnecting clients catch up by asking
//! for the entries after the last sequence number they saw.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What kind of thing a change touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The grid set (an import; later, boundary edits).
    Grids,
    /// One incident: reported, acted on, escalated, reassigned, annotated,
    /// or re-chained by a grid change.
    Incident,
    /// Hazards: registered, edited, deleted, or relocated by a grid change.
    Hazard,
    /// A saved patrol route: saved, edited, deleted, or re-listed under
    /// other grids by a grid change.
    Route,
    /// A patrol: started, a track, a check-in, finished.
    Patrol,
    /// The road network, replaced whole.
    Roads,
    /// A stored entry this version cannot read: a kind it does not know
    /// (written by a newer wangge sharing the database) or a damaged row.
    /// Never written; the entry keeps its place in the feed, its summary
    /// says why it was not understood, and followers pass over it.
    Unreadable,
}

impl ChangeKind {
    /// Every kind, in a fixed order.
    pub const ALL: [ChangeKind; 6] = [
        ChangeKind::Grids,
        ChangeKind::Incident,
        ChangeKind::Hazard,
        ChangeKind::Route,
        ChangeKind::Patrol,
        ChangeKind::Roads,
    ];

    /// Its name in the store and the API.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Grids => "grids",
            ChangeKind::Incident => "incident",
            ChangeKind::Hazard => "hazard",
            ChangeKind::Route => "route",
            ChangeKind::Patrol => "patrol",
            ChangeKind::Roads => "roads",
            ChangeKind::Unreadable => "unreadable",
        }
    }

    /// The kind a stored name stands for ([`ChangeKind::Unreadable`] is
    /// never stored, so never parsed).
    pub fn parse(name: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A change to append to the feed, in the transaction that makes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChange {
    /// What kind of thing it touched.
    pub kind: ChangeKind,
    /// The ids it touched (grid ids, incident numbers, …), as text.
    pub ids: Vec<String>,
    /// Who made it.
    pub actor: String,
    /// When.
    pub at: Timestamp,
    /// A short sentence saying what changed.
    pub summary: String,
    /// Where the request that made it came from (the client's address),
    /// for the audit trail; empty when unknown or made on the command
    /// line. The feed itself does not keep it.
    pub source: String,
}

impl NewChange {
    /// A change of `kind` to the things `ids`.
    pub fn new(
        kind: ChangeKind,
        ids: impl IntoIterator<Item = impl ToString>,
        actor: impl Into<String>,
        at: Timestamp,
        summary: impl Into<String>,
    ) -> NewChange {
        NewChange {
            kind,
            ids: ids.into_iter().map(|id| id.to_string()).collect(),
            actor: actor.into(),
            at,
            summary: summary.into(),
            source: String::new(),
        }
    }
}

/// A committed change, as the feed holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Its place in the feed: increasing, in commit order, never reused.
    pub seq: i64,
    /// What kind of thing it touched.
    pub kind: ChangeKind,
    /// The ids it touched, as text.
    pub ids: Vec<String>,
    /// Who made it.
    pub actor: String,
    /// When (to the millisecond).
    pub at: Timestamp,
    /// A short sentence saying what changed.
    pub summary: String,
}
