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

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::model::Incident;
use crate::store::{NewIncident, Store, StoreError};

/// The most reports written in one transaction.
const MAX_BATCH: usize = 256;

/// Reports waiting for the writer beyond this wait for room (backpressure
/// instead of unbounded memory under a flood).
const QUEUE: usize = 4 * MAX_BATCH;

type Reply = oneshot::Sender<Result<Incident, StoreError>>;

/// The handle reports are recorded through; cheap to clone.
#[derive(Clone)]
pub struct ReportWriter {
    queue: mpsc::Sender<(NewIncident, Reply)>,
}

impl ReportWriter {
    /// Start the writer task on the current tokio runtime. It ends when the
    /// last handle is dropped.
    pub fn spawn(store: Arc<dyn Store>) -> ReportWriter {
        let (queue, pending) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, pending));
        ReportWriter { queue }
    }

    /// Record `new` (in a transaction with whatever else is waiting) and
    /// answer it as stored.
    pub async fn record(&self, new: NewIncident) -> Result<Incident, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Stopped("the report writer has stopped".into());
        self.queue.send((new, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn write_batches(store: Arc<dyn Store>, mut pending: mpsc::Receiver<(NewIncident, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (news, replies): (Vec<NewIncident>, Vec<Reply>) = batch.drain(..).unzip();
        match store.create_incidents(&news).await {
            Ok(created) => {
                for (reply, incident) in replies.into_iter().zip(created) {
                    // A caller that gave up waiting is no reason to stop.
                    let _ = reply.send(Ok(incident));
                }
            }
            Err(error) if news.len() == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(error));
                }
            }
            // One bad report must not fail the others that happened to share
            // its transaction (nothing was written): each alone, in turn.
            Err(_) => {
                for (new, reply) in news.iter().zip(replies) {
                    let _ = reply.send(store.create_incident(new).await);
                }
            }
        }
    }
}
