//! The incidents as this server knows them live: the open ones by place
//! ([`OpenIncidents`]: the incidents tiles and duplicate hints read them)
//! and the feed of changes that open dispatcher maps follow (server-sent
//! events at `/api/incidents/events`).
//!
//! Every recorded report and every saved change is published here after its
//! transaction commits, by the task that committed it (the report writer,
//! or a task spawned for the change), never by a request handler that a
//! client disconnecting could cancel halfway. A listener therefore never
//! hears of something the store does not hold, and the open set misses
//! nothing the store does. Publications can arrive out of order (two
//! changes to one incident committed a moment apart); the incident's version
//! decides, and an older one is ignored.
//!
//! The feed is a broadcast channel with a bounded backlog: a listener that
//! falls further behind than that is told it lagged (and reloads its list)
//! rather than slowing down dispatch.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use tokio::sync::broadcast;

use crate::model::Incident;
use crate::tiles::incidents::OpenIncidents;

/// Changes kept for a slow listener before it is told it lagged.
const BACKLOG: usize = 1024;

/// What happened to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Newly reported.
    Reported,
    /// Moved through its process, escalated, reassigned or annotated.
    Changed,
    /// Handed to another grid (and its leader) by a grid change: the
    /// gaining leader hears of it as of a new report.
    HandedOver,
}

impl ChangeKind {
    /// The name listeners see (the SSE event type).
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Reported => "reported",
            ChangeKind::Changed => "changed",
            ChangeKind::HandedOver => "handed_over",
        }
    }
}

/// One change: the incident as it now stands.
#[derive(Debug, Clone)]
pub struct IncidentChange {
    /// Its place in the change feed (the SSE event id).
    pub seq: i64,
    /// What happened.
    pub kind: ChangeKind,
    /// The incident after it.
    pub incident: Arc<Incident>,
}

/// The open incidents and the feed of changes; shared (`Arc`) by the
/// application state and the report writer.
pub struct LiveIncidents {
    open: RwLock<OpenIncidents>,
    sender: broadcast::Sender<IncidentChange>,
}

impl LiveIncidents {
    /// Start from the open incidents as stored.
    pub fn new(open: OpenIncidents) -> LiveIncidents {
        LiveIncidents {
            open: RwLock::new(open),
            sender: broadcast::channel(BACKLOG).0,
        }
    }

    /// Take in a committed incident and tell every listener (none listening
    /// is fine). An incident older than the version already taken in is
    /// ignored.
    pub fn publish(&self, kind: ChangeKind, incident: &Incident, seq: i64) {
        let newer = self
            .open
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .apply(incident);
        if newer {
            let _ = self.sender.send(IncidentChange {
                seq,
                kind,
                incident: Arc::new(incident.clone()),
            });
        }
    }

    /// The open incidents as they stand. Hold the guard briefly: publishing
    /// waits for it.
    pub fn open(&self) -> RwLockReadGuard<'_, OpenIncidents> {
        self.open
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Listen from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<IncidentChange> {
        self.sender.subscribe()
    }
}
