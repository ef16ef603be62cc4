//! Group commit for new reports. One task records every new incident;
//! reports that arrive while it is writing wait in a queue and go into the
//! next transaction together, so a burst of reports pays for one commit
//! instead of one each. A report alone is written at once (a batch of one):
//! nothing waits for a batch to fill.
//!
//! This is what lets the embedded store take thousands of reports a second:
//! SQLite allows one writer at a time, and most of a lone report's cost is
//! its transaction (begin, commit, and the round trips to sqlx's worker
//! thread), not its two inserts.
//!
//! The writer also publishes each committed report (the map, the feed):
//! a request whose client went away is dropped at its next await, and
//! must not leave a stored report unpublished.
//!
//! When a group fails because of one report (a constraint it breaks),
//! each is written alone so that the others still go in; when it fails for
//! any other reason (the database is unreachable, locked, out of space)
//! every report of the group gets the error at once, so that a sick
//! database is not retried report by report while the queue waits.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

use crate::model::{ChangeKind, Incident, NewChange};
use crate::services::feed::{Effect, Feed};
use crate::store::{NewIncident, StoreError};

/// The most reports written in one transaction.
const MAX_BATCH: usize = 256;

/// Reports waiting for the writer beyond this wait for room (backpressure
/// instead of unbounded memory under a flood).
const QUEUE: usize = 4 * MAX_BATCH;

type Reply = oneshot::Sender<Result<Incident, StoreError>>;

/// The handle reports are recorded through; cheap to clone.
#[derive(Clone)]
pub struct ReportWriter {
    queue: mpsc::Sender<(Queued, Reply)>,
}

/// A report waiting for the writer, with the address of the client that
/// sent it (the writer's own task does not know the request's; see
/// `services::origin`).
#[derive(Clone)]
pub struct Queued {
    /// The report.
    pub new: NewIncident,
    /// Its client's address, for the audit trail; empty when unknown.
    pub source: String,
}

impl ReportWriter {
    /// Start the writer task on the current tokio runtime, committing
    /// through `feed` (which publishes what it commits). It ends when the
    /// last handle is dropped.
    pub fn spawn(feed: Arc<Feed>) -> ReportWriter {
        let (queue, pending) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(feed, pending));
        ReportWriter { queue }
    }

    /// Record `new` (in a transaction with whatever else is waiting) and
    /// answer it as stored.
    pub async fn record(&self, new: NewIncident) -> Result<Incident, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the report writer has stopped".into());
        let source = crate::services::origin::current()
            .map(|origin| origin.source)
            .unwrap_or_default();
        self.queue
            .send((Queued { new, source }, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Record reports in one unit of work, each with its change-feed entry;
/// answers them as stored, once the feed has published them.
pub async fn record_reports(feed: &Feed, queued: &[Queued]) -> Result<Vec<Incident>, StoreError> {
    let news: Vec<NewIncident> = queued.iter().map(|q| q.new.clone()).collect();
    let mut change = feed.begin().await?;
    // First: the grids the reports were located in are still the grids.
    let mut versions: Vec<i64> = news.iter().filter_map(|n| n.grid_version).collect();
    versions.dedup();
    for version in versions {
        change.unit().check_grid_set(version).await?;
    }
    let created = change.unit().create_incidents(&news).await?;
    for ((new, incident), q) in news.iter().zip(&created).zip(queued) {
        let mut entry = NewChange::new(
            ChangeKind::Incident,
            [incident.id.0],
            &new.actor,
            new.reported_at,
            format!("{} ({})", super::REPORTED, new.category),
        );
        entry.source = q.source.clone();
        change.record(
            entry,
            Some(Effect::Incident {
                kind: crate::dispatch::events::ChangeKind::Reported,
                incident: Box::new(incident.clone()),
            }),
        );
    }
    change.commit().await?;
    Ok(created)
}

async fn write_batches(feed: Arc<Feed>, mut pending: mpsc::Receiver<(Queued, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (news, replies): (Vec<Queued>, Vec<Reply>) = batch.drain(..).unzip();
        // A panic in the store must not end the writer (and all reporting
        // with it): the group is answered with an error and the next goes on.
        let written = AssertUnwindSafe(record_reports(&feed, &news))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("recording reports panicked".into())));
        match written {
            Ok(created) => {
                for (reply, incident) in replies.into_iter().zip(created) {
                    // A caller that gave up waiting is no reason to stop.
                    let _ = reply.send(Ok(incident));
                }
            }
            Err(error) if news.len() > 1 && caused_by_a_row(&error) => {
                for (new, reply) in news.iter().zip(replies) {
                    let alone = record_reports(&feed, std::slice::from_ref(new)).await;
                    let _ = reply.send(alone.map(|mut one| one.remove(0)));
                }
            }
            Err(error) => {
                let reason = error.to_string();
                let mut replies = replies.into_iter();
                if let Some(first) = replies.next() {
                    let _ = first.send(Err(error));
                }
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unavailable(format!(
                        "recording reports failed: {reason}"
                    ))));
                }
            }
        }
    }
}

/// Whether the database refused a row for what it holds (a constraint),
/// rather than failing as a whole.
fn caused_by_a_row(error: &StoreError) -> bool {
    use sqlx::error::ErrorKind;
    match error {
        StoreError::Database {
            source: sqlx::Error::Database(db),
            ..
        } => matches!(
            db.kind(),
            ErrorKind::ForeignKeyViolation
                | ErrorKind::CheckViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::UniqueViolation
        ),
        _ => false,
    }
}
