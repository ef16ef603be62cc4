//! Dispatch: what happens when an incident is reported, moved through its
//! process, escalated, reassigned or annotated. Each operation reads the
//! incident, applies the rules of [`crate::workflow`] and the grids of the
//! current index, and writes the result with its history entry in one store
//! transaction, guarded by the version read. A refused operation writes
//! nothing.
//!
//! - `report.rs`: a new incident, located and assigned, with duplicate hints.
//! - `actions.rs`: process actions, escalation (by hand and by deadline),
//!   reassignment, notes.
//! - `stats.rs`: figures per grid and level over a period.
//! - `writer.rs`: group commit of new reports.
//! - `events.rs`: the feed of changes open dispatcher maps follow.

mod actions;
pub mod events;
mod report;
pub mod stats;
mod writer;

use std::time::Duration;

use std::sync::{Arc, RwLock};

use jiff::Timestamp;

use crate::index::GridIndex;
use crate::model::{Category, HistoryEntry, Incident, IncidentFilter};
use crate::services::Current;
use crate::services::feed::Feed;
use crate::store::IncidentPage;
use crate::store::Store;
use events::LiveIncidents;

use crate::model::{GridId, IncidentId, Localized, Person, Text};
use crate::store::StoreError;
use crate::workflow::{Deadlines, Tier, TransitionError};

pub use actions::{ActionRequest, act, add_note, escalate, escalate_overdue, reassign};
pub use report::{Report, Reported, preview, report};
pub use writer::ReportWriter;

/// How the change feed's summary of a new report begins (an SSE replay
/// tells a report from a change by it).
pub const REPORTED: &str = "reported";

/// The change feed's summary of an open incident a grid change handed to
/// another grid (and its leader): other servers and an SSE replay announce
/// it as `handed_over` by it.
pub const HANDED_OVER: &str = "handed to another grid and its leader by a grid change";

/// The dispatch service: reports, actions, escalation and statistics over
/// incidents, built from what it needs and nothing else (the store to read,
/// the change feed to commit through, the current grid index, the live
/// incidents, the group-commit writer, the categories and its settings).
pub struct Dispatcher {
    store: Arc<dyn Store>,
    index: Arc<Current<GridIndex>>,
    feed: Arc<Feed>,
    live: Arc<LiveIncidents>,
    reports: ReportWriter,
    /// The incident categories as last read from the store (they change
    /// rarely, and only in the store: see [`Dispatcher::categories`]).
    categories: RwLock<Arc<Vec<Category>>>,
    settings: DispatchSettings,
}

impl Dispatcher {
    /// A dispatcher reading `store`, committing through `feed` (whose
    /// effects keep `live` up to date), locating with `index`. Starts the
    /// report writer on the current runtime.
    pub async fn new(
        store: Arc<dyn Store>,
        index: Arc<Current<GridIndex>>,
        feed: Arc<Feed>,
        live: Arc<LiveIncidents>,
        settings: DispatchSettings,
    ) -> Result<Dispatcher, StoreError> {
        let categories = RwLock::new(Arc::new(store.categories().await?));
        Ok(Dispatcher {
            reports: ReportWriter::spawn(feed.clone()),
            store,
            index,
            feed,
            live,
            categories,
            settings,
        })
    }

    /// The store, for reads.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// One incident, as stored.
    pub async fn incident(&self, id: IncidentId) -> Result<Option<Incident>, StoreError> {
        self.store.incident(id).await
    }

    /// An incident's history, oldest first.
    pub async fn history(&self, id: IncidentId) -> Result<Vec<HistoryEntry>, StoreError> {
        self.store.history(id).await
    }

    /// A page of the incidents matching `filter`, newest first, with the
    /// number that match in all.
    pub async fn incidents(
        &self,
        filter: &IncidentFilter,
        limit: u32,
        offset: u64,
    ) -> Result<IncidentPage, StoreError> {
        self.store.incidents(filter, limit, offset).await
    }

    /// The categories as stored now (not the cache).
    pub async fn stored_categories(&self) -> Result<Vec<Category>, StoreError> {
        self.store.categories().await
    }

    /// The change feed every write commits through.
    pub fn feed(&self) -> &Arc<Feed> {
        &self.feed
    }

    /// The grid index as it is now.
    pub fn index(&self) -> Arc<GridIndex> {
        self.index.get()
    }

    /// The incident categories, as cached.
    pub fn categories(&self) -> Arc<Vec<Category>> {
        self.categories
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Read the categories from the store again (when a report names one
    /// the cache does not know: it may have been added since).
    pub async fn reload_categories(&self) -> Result<Arc<Vec<Category>>, StoreError> {
        let fresh = Arc::new(self.store.categories().await?);
        *self
            .categories
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh.clone();
        Ok(fresh)
    }

    /// Where new incidents are recorded (group commit).
    pub fn report_writer(&self) -> &ReportWriter {
        &self.reports
    }

    /// The open incidents and the feed of changes.
    pub fn live(&self) -> &Arc<LiveIncidents> {
        &self.live
    }

    /// How incidents are dispatched.
    pub fn dispatch_settings(&self) -> &DispatchSettings {
        &self.settings
    }
}

/// How dispatch behaves: deadlines, duplicate hints, who the county is.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// How long each tier has.
    pub deadlines: Deadlines,
    /// A new report this close (metres) to an open one of the same category
    /// is hinted as a possible duplicate…
    pub duplicate_radius_m: f64,
    /// …when that one was reported this recently.
    pub duplicate_window: Duration,
    /// Who is responsible at the county tier.
    pub county_centre: Person,
}

impl Default for DispatchSettings {
    /// 200 m and 3 days for duplicates; the county governance centre.
    fn default() -> Self {
        DispatchSettings {
            deadlines: Deadlines::default(),
            duplicate_radius_m: 200.0,
            duplicate_window: Duration::from_secs(3 * 24 * 3600),
            county_centre: Person {
                name: "县综治中心".into(),
                phone: String::new(),
            },
        }
    }
}

/// Why a dispatch operation did not happen. In every case nothing was
/// written.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// A field of the request is missing or wrong.
    #[error("{reason}")]
    Invalid {
        /// The field, e.g. `category` or `person.name`.
        field: &'static str,
        /// A sentence naming it and what is accepted.
        reason: Text,
    },
    /// No incident has this number.
    #[error("there is no incident {0}")]
    NotFound(IncidentId),
    /// The process does not allow the action from the incident's status.
    #[error(transparent)]
    Refused(#[from] TransitionError),
    /// The incident cannot be escalated now.
    #[error("incident {id} cannot be escalated: {reason}")]
    CannotEscalate {
        /// The incident.
        id: IncidentId,
        /// Why not.
        reason: Text,
    },
    /// The incident changed since the version the client read.
    #[error(
        "incident {id} has changed since version {read} was read (it is at version \
         {current}); reload it and try again"
    )]
    Stale {
        /// The incident.
        id: IncidentId,
        /// The version the client named.
        read: i64,
        /// The version stored.
        current: i64,
    },
    /// The store failed (or another writer got there first).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DispatchError {
    fn invalid(field: &'static str, reason: Text) -> DispatchError {
        DispatchError::Invalid { field, reason }
    }
}

impl Localized for DispatchError {
    fn zh(&self) -> String {
        match self {
            DispatchError::Invalid { reason, .. } => reason.zh().to_owned(),
            DispatchError::NotFound(id) => format!("未找到编号为 {id} 的事件"),
            DispatchError::Refused(e) => e.zh(),
            DispatchError::CannotEscalate { id, reason } => {
                format!("事件 {id} 不能上移：{}", reason.zh())
            }
            DispatchError::Stale { id, read, current } => format!(
                "事件 {id} 已被修改：读取时为版本 {read}，当前为版本 {current}，请刷新后重试"
            ),
            // Never sent (a 500): its own text is logged.
            DispatchError::Store(_) => "数据库操作失败".to_owned(),
        }
    }
}

/// Run [`escalate_overdue`] every `every` until the runtime stops: the
/// automatic half of escalation. A failed sweep is logged and the next one
/// tries again.
pub fn spawn_deadline_sweeper(
    desk: std::sync::Arc<Dispatcher>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match escalate_overdue(&desk, Timestamp::now()).await {
                Ok(done) if done.is_empty() => {}
                Ok(done) => tracing::info!(escalated = done.len(), "overdue incidents escalated"),
                Err(e) => tracing::error!(error = %e, "escalating overdue incidents failed"),
            }
        }
    })
}

/// The person responsible at `tier` for a point with grid `chain`: the
/// leader of the chain's grid at that level (as the current index knows
/// it), or the county centre.
fn responsible_at(desk: &Dispatcher, chain: &[Option<GridId>; 5], tier: Tier) -> Option<Person> {
    responsible_in(desk, &desk.index(), chain, tier)
}

/// [`responsible_at`] with the leaders of `index` (the index the chain was
/// found in).
fn responsible_in(
    desk: &Dispatcher,
    index: &GridIndex,
    chain: &[Option<GridId>; 5],
    tier: Tier,
) -> Option<Person> {
    match tier.level() {
        None => Some(desk.dispatch_settings().county_centre.clone()),
        Some(level) => {
            let id = chain[level.index()].as_ref()?;
            let leader = index.get(id)?.leader()?;
            Some(Person {
                name: leader.name,
                phone: leader.phone,
            })
        }
    }
}

/// `now` plus the tier's time.
fn deadline(desk: &Dispatcher, tier: Tier, now: Timestamp) -> Timestamp {
    let span = desk.dispatch_settings().deadlines.of(tier);
    now.saturating_add(jiff::SignedDuration::try_from(span).unwrap_or(jiff::SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX)
}
