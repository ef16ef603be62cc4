//! The incident half of the store: what a backend must do for incidents, and
//! the types its methods speak. The SQL is the same standard SQL on both
//! backends (`incident_sql.rs`); only the table definitions differ.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::model::IncidentFilter;
use crate::model::{Action, Severity, Status, Tier, WorkflowKind};
use crate::model::{
    Category, EventKind, GridChain, HistoryEntry, Incident, IncidentId, Person, ReportSource,
    ReportedPoint,
};
use crate::store::StoreError;

/// An incident to record, assignment already decided.
#[derive(Debug, Clone)]
pub struct NewIncident {
    /// Category code (must exist).
    pub category: String,
    /// The category's process.
    pub workflow: WorkflowKind,
    /// How serious.
    pub severity: Severity,
    /// What happened.
    pub description: String,
    /// Who reported it.
    pub reporter: Option<Person>,
    /// How it came in.
    pub source: ReportSource,
    /// Photo URLs.
    pub photos: Vec<String>,
    /// Where.
    pub point: ReportedPoint,
    /// The grids there now.
    pub chain: GridChain,
    /// The version of the grid set `chain` was found in: the write is
    /// refused ([`StoreError::Stale`], `what` = [`GRID_SET`](crate::store::GRID_SET)) if the grids
    /// changed since, so that no report is stored against redrawn grids.
    /// `None`: not checked (a store-level test, a direct import).
    pub grid_version: Option<i64>,
    /// Who handles it first.
    pub tier: Tier,
    /// The person responsible first.
    pub responsible: Option<Person>,
    /// When it was reported.
    pub reported_at: Timestamp,
    /// When the first tier's time runs out.
    pub deadline: Timestamp,
    /// Who recorded it.
    pub actor: String,
    /// A note for the first history entry.
    pub note: Option<String>,
}

/// One page of a listing, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentPage {
    /// How many match in all.
    pub total: u64,
    /// This page.
    pub incidents: Vec<Incident>,
}

/// A change to record with an incident's new state.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What kind of change.
    pub kind: EventKind,
    /// The action, for a transition.
    pub action: Option<Action>,
    /// The note given.
    pub note: Option<String>,
    /// Anything else set, as JSON.
    pub detail: serde_json::Value,
}

/// Incidents in a store. Every write is one transaction: the row and its
/// history entry are written together or not at all.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// The categories, in the county's order.
    async fn categories(&self) -> Result<Vec<Category>, StoreError>;

    /// One incident.
    async fn incident(&self, id: IncidentId) -> Result<Option<Incident>, StoreError>;

    /// A page of the incidents matching `filter`, newest first.
    async fn incidents(
        &self,
        filter: &IncidentFilter,
        limit: u32,
        offset: u64,
    ) -> Result<IncidentPage, StoreError>;

    /// A page of the incidents matching `filter`, newest first, without
    /// counting all matches (one query instead of two).
    async fn incidents_page(
        &self,
        filter: &IncidentFilter,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Incident>, StoreError>;

    /// An incident's history, oldest first.
    async fn history(&self, id: IncidentId) -> Result<Vec<HistoryEntry>, StoreError>;
}

/// The incident writes of a [`Unit`](crate::store::Unit): each runs inside the unit's
/// transaction, the row and its history entry together.
#[async_trait]
pub trait IncidentWrites: Send {
    /// Record a new incident and its `created` history entry.
    async fn create_incident(&mut self, new: &NewIncident) -> Result<Incident, StoreError> {
        let mut created = self.create_incidents(std::slice::from_ref(new)).await?;
        Ok(created.pop().expect("one incident in, one out"))
    }

    /// Record several new incidents, each with its `created` history entry,
    /// in one transaction: all of them or none. Answers them in the order
    /// given. (One commit for many is what lets reports arriving together
    /// share the cost of a transaction: see `dispatch::writer`.)
    async fn create_incidents(&mut self, news: &[NewIncident])
    -> Result<Vec<Incident>, StoreError>;

    /// Replace `previous` (an incident as read) by `changed`, bump its
    /// version and append the history entry. Fails with
    /// [`StoreError::Conflict`] when the stored version is no longer the one
    /// read: someone else changed it first, and nothing is written.
    async fn update_incident(
        &mut self,
        previous: &Incident,
        changed: &Incident,
        event: &NewEvent,
    ) -> Result<Incident, StoreError>;

    /// Every incident in one of `statuses`, by id, as this transaction sees
    /// it.
    async fn read_incidents_in(&mut self, statuses: &[Status])
    -> Result<Vec<Incident>, StoreError>;

    /// Every incident in one of `statuses` whose grid at a level is one of
    /// `grids` (`None`: no grid at that level), by id, as this transaction
    /// sees it. Served by the per-level grid indexes.
    async fn read_incidents_in_grids(
        &mut self,
        statuses: &[Status],
        grids: &[(crate::model::Level, Option<crate::model::GridId>)],
    ) -> Result<Vec<Incident>, StoreError>;
}
