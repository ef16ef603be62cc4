//! The feed of incident changes that open dispatcher maps follow (served as
//! server-sent events at `/api/incidents/events`). Every recorded report
//! and every saved change is published after its transaction commits, so a
//! listener never hears of something the store does not hold.
//!
//! The feed is a broadcast channel with a bounded backlog: a listener that
//! falls further behind than that is told it lagged (and reloads its list)
//! rather than slowing down dispatch.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::model::Incident;

/// Changes kept for a slow listener before it is told it lagged.
const BACKLOG: usize = 1024;

/// What happened to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Newly reported.
    Reported,
    /// Moved through its process, escalated, reassigned or annotated.
    Changed,
}

impl ChangeKind {
    /// The name listeners see (the SSE event type).
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Reported => "reported",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One change: the incident as it now stands.
#[derive(Debug, Clone)]
pub struct IncidentChange {
    /// What happened.
    pub kind: ChangeKind,
    /// The incident after it.
    pub incident: Arc<Incident>,
}

/// The publishing side; listeners [`subscribe`](IncidentFeed::subscribe).
pub struct IncidentFeed {
    sender: broadcast::Sender<IncidentChange>,
}

impl Default for IncidentFeed {
    fn default() -> Self {
        IncidentFeed {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl IncidentFeed {
    /// Tell every listener (none listening is fine).
    pub fn publish(&self, kind: ChangeKind, incident: &Incident) {
        let _ = self.sender.send(IncidentChange {
            kind,
            incident: Arc::new(incident.clone()),
        });
    }

    /// Listen from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<IncidentChange> {
        self.sender.subscribe()
    }
}
