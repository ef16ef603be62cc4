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
//! rather than slowing down dispatch. Each user holds at most
//! [`MAX_STREAMS_PER_USER`] listeners at once ([`LiveIncidents::listen_as`]);
//! a listener's slot is given back when its stream is dropped, so a client
//! that opens thousands of streams neither starves other users nor leaves
//! memory behind when it goes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use tokio::sync::broadcast;

use crate::model::Incident;
use crate::tiles::incidents::OpenIncidents;

/// Changes kept for a slow listener before it is told it lagged.
const BACKLOG: usize = 1024;

/// How many event streams one user may hold open at once: a dispatcher
/// with the map open in a few tabs and on a second screen needs a handful;
/// a client past this is refused (429) until some of its streams close.
pub const MAX_STREAMS_PER_USER: usize = 16;

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
    /// Open streams per user; a user with none has no entry.
    streams: Arc<Mutex<HashMap<String, usize>>>,
}

/// A listener of the feed, holding one of its user's stream slots until
/// dropped.
pub struct Listener {
    /// The changes from the moment of subscribing.
    pub changes: broadcast::Receiver<IncidentChange>,
    /// The user's slot: keep it as long as the stream lives.
    pub slot: StreamSlot,
}

/// One user's open stream; gives its slot back when dropped.
pub struct StreamSlot {
    streams: Arc<Mutex<HashMap<String, usize>>>,
    user: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = self
            .streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(open) = streams.get_mut(&self.user) {
            *open -= 1;
            if *open == 0 {
                streams.remove(&self.user);
            }
        }
    }
}

impl LiveIncidents {
    /// Start from the open incidents as stored.
    pub fn new(open: OpenIncidents) -> LiveIncidents {
        LiveIncidents {
            open: RwLock::new(open),
            sender: broadcast::channel(BACKLOG).0,
            streams: Arc::default(),
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

    /// Listen from now on, without a user's slot (in-process followers).
    pub fn subscribe(&self) -> broadcast::Receiver<IncidentChange> {
        self.sender.subscribe()
    }

    /// Listen from now on as `user`, in one of their
    /// [`MAX_STREAMS_PER_USER`] slots; `None` when all are taken.
    pub fn listen_as(&self, user: &str) -> Option<Listener> {
        let mut streams = self
            .streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let open = streams.entry(user.to_owned()).or_default();
        if *open >= MAX_STREAMS_PER_USER {
            return None;
        }
        *open += 1;
        Some(Listener {
            changes: self.sender.subscribe(),
            slot: StreamSlot {
                streams: self.streams.clone(),
                user: user.to_owned(),
            },
        })
    }

    /// How many listeners there are, and how many users hold them (for
    /// health checks and tests: both drop to zero when every stream closed).
    pub fn listeners(&self) -> (usize, usize) {
        let users = self
            .streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len();
        (self.sender.receiver_count(), users)
    }
}
