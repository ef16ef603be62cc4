//! The application state the HTTP layer holds: the services, and the
//! shared in-process values they keep in step (the current grid index, the
//! tile cache, the live incidents, the road network), each swapped only by
//! the change feed after a commit (see [`crate::services::feed`]).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::dispatch::events::LiveIncidents;
use crate::dispatch::{DispatchSettings, Dispatcher};
use crate::import;
use crate::index::GridIndex;
use crate::model::{Category, Grid};
use crate::patrol::service::Patrols;
use crate::routing::{RoadLine, RoadNetwork};
use crate::services::Current;
use crate::services::accounts::{AccessSettings, Accounts};
use crate::services::feed::{Effect, Feed, load_index};
use crate::services::grids::{Applied, GridChange, GridChangeError, GridService};
use crate::services::throttle::ReportRate;
use crate::store::{IncidentFilter, Store, StoreError, WriteMode};
use crate::tiles::incidents::OpenIncidents;
use crate::tiles::{self, TileService, TileSource};
use crate::workflow::Status;

/// How often a server looks for changes other processes committed.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// The Open311 `jurisdiction_id` a server answers to unless configured
/// (`--open311-jurisdiction`).
pub const OPEN311_DEFAULT_JURISDICTION: &str = "wangge";

/// Shared state; cheap to clone through its `Arc`.
pub struct AppState {
    store: Arc<dyn Store>,
    index: Arc<Current<GridIndex>>,
    tiles: Arc<TileService>,
    /// Applies committed changes to the values above, in feed order.
    feed: Arc<Feed>,
    /// Grid changes: plan, then apply.
    grids: GridService,
    /// Hazards, routes and patrols.
    patrols: Patrols,
    /// Incidents: reports, actions, escalation, statistics.
    dispatch: Arc<Dispatcher>,
    /// The open incidents by place and the feed of changes.
    live: Arc<LiveIncidents>,
    /// The road network patrols are routed over (empty when none is loaded).
    roads: Arc<Current<RoadNetwork>>,
    /// Set when the server begins to shut down, so that long-lived answers
    /// (the incident event streams, the feed follower) end and let it finish.
    shutting_down: tokio::sync::watch::Sender<bool>,
    /// Users, sessions, tokens and the audit trail.
    accounts: Arc<Accounts>,
    /// Who may read without logging in; which proxies to believe.
    access: RwLock<Arc<AccessSettings>>,
    /// How fast reports are taken, per account and per address.
    report_rate: Current<ReportRate>,
    /// How fast reports are checked (`dry_run`), on their own budget.
    check_rate: Current<ReportRate>,
    /// The `jurisdiction_id` Open311 clients may name.
    open311_jurisdiction: Current<String>,
}

impl AppState {
    /// Load every grid from the store and build the index, with the default
    /// tile cache budget.
    pub async fn open(store: Arc<dyn Store>) -> Result<Arc<AppState>, StoreError> {
        AppState::open_with_tile_cache(store, tiles::DEFAULT_BUDGET_BYTES).await
    }

    /// [`AppState::open`] with a tile cache of at most `budget_bytes`.
    pub async fn open_with_tile_cache(
        store: Arc<dyn Store>,
        budget_bytes: usize,
    ) -> Result<Arc<AppState>, StoreError> {
        AppState::open_with(store, budget_bytes, DispatchSettings::default()).await
    }

    /// [`AppState::open`] with a tile cache of at most `budget_bytes` and
    /// the given dispatch settings. A task follows the change feed (every
    /// [`FOLLOW_EVERY`]) until [`AppState::begin_shutdown`].
    pub async fn open_with(
        store: Arc<dyn Store>,
        budget_bytes: usize,
        dispatch: DispatchSettings,
    ) -> Result<Arc<AppState>, StoreError> {
        // The feed position first: whatever commits while the rest loads is
        // applied again on the first catch-up (harmless), never missed.
        let applied = store.last_change().await?;
        let (index, version) = load_index(store.as_ref()).await?;
        let index = Arc::new(index.with_version(version));
        let source = prepare_tiles(index.clone(), 0).await;
        let live = Arc::new(LiveIncidents::new(
            load_open_incidents(store.as_ref()).await?,
        ));
        let roads = Arc::new(Current::new(build_roads(store.roads().await?).await));
        let index = Arc::new(Current::new(index));
        let tiles = Arc::new(TileService::new(source, budget_bytes));
        let feed = Arc::new(Feed::new(
            store.clone(),
            index.clone(),
            tiles.clone(),
            live.clone(),
            roads.clone(),
            applied,
        ));
        let dispatch = Arc::new(
            Dispatcher::new(
                store.clone(),
                index.clone(),
                feed.clone(),
                live.clone(),
                dispatch,
            )
            .await?,
        );
        let state = Arc::new(AppState {
            grids: GridService::new(store.clone(), index.clone(), tiles.clone(), feed.clone()),
            patrols: Patrols::new(feed.clone()),
            live,
            shutting_down: tokio::sync::watch::Sender::new(false),
            accounts: Arc::new(Accounts::new(store.clone())),
            access: RwLock::new(Arc::new(AccessSettings::default())),
            report_rate: Current::new(Arc::new(ReportRate::default())),
            check_rate: Current::new(Arc::new(ReportRate::checks_for(
                crate::services::throttle::DEFAULT_REPORTS_PER_MINUTE,
            ))),
            open311_jurisdiction: Current::new(Arc::new(OPEN311_DEFAULT_JURISDICTION.to_owned())),
            store,
            index,
            tiles,
            feed: feed.clone(),
            dispatch,
            roads,
        });
        feed.follow(FOLLOW_EVERY, state.shutdown_begun());
        follow_schedule(Arc::downgrade(&state), state.shutdown_begun());
        Ok(state)
    }

    /// The index as it is now. Hold the `Arc` for the length of one request so
    /// that every answer in it comes from the same version of the grids.
    pub fn index(&self) -> Arc<GridIndex> {
        self.index.get()
    }

    /// Users, sessions, tokens and the audit trail.
    pub fn accounts(&self) -> &Arc<Accounts> {
        &self.accounts
    }

    /// The access settings in force.
    pub fn access(&self) -> Arc<AccessSettings> {
        self.access
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replace the access settings (at start, from the command line).
    pub fn set_access(&self, settings: AccessSettings) {
        *self.access.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(settings);
    }

    /// The report rate limits in force.
    pub fn report_rate(&self) -> Arc<ReportRate> {
        self.report_rate.get()
    }

    /// Take this many reports per minute per account (at start, from the
    /// command line; the counts start afresh).
    pub fn set_reports_per_minute(&self, per_minute: u32) {
        self.report_rate.set(Arc::new(ReportRate::new(per_minute)));
        self.check_rate
            .set(Arc::new(ReportRate::checks_for(per_minute)));
    }

    /// The limits on checking reports (`dry_run`): [`CHECKS_PER_REPORT`]
    /// per report allowed.
    ///
    /// [`CHECKS_PER_REPORT`]: crate::services::throttle::CHECKS_PER_REPORT
    pub fn check_rate(&self) -> Arc<ReportRate> {
        self.check_rate.get()
    }

    /// The `jurisdiction_id` this server answers to on Open311.
    pub fn open311_jurisdiction(&self) -> Arc<String> {
        self.open311_jurisdiction.get()
    }

    /// Answer to this `jurisdiction_id` on Open311 (at start, from the
    /// command line).
    pub fn set_open311_jurisdiction(&self, id: &str) {
        self.open311_jurisdiction.set(Arc::new(id.to_owned()));
    }

    /// The tiles of the current index and their cache.
    pub fn tiles(&self) -> &TileService {
        &self.tiles
    }

    /// The grids in force at `as_of` (see [`GridService::as_of`]), or the
    /// index as it is now when `None`.
    pub async fn index_as_of(
        &self,
        as_of: Option<jiff::Timestamp>,
    ) -> Result<Arc<GridIndex>, StoreError> {
        match as_of {
            None => Ok(self.index()),
            Some(at) => self.grids.as_of(at).await,
        }
    }

    /// The patrol service: hazards, routes, patrols, coverage.
    pub fn patrols(&self) -> &Patrols {
        &self.patrols
    }

    /// Grids per level as the store counts them (the health check's
    /// question: does the store answer?).
    pub async fn stored_grid_counts(&self) -> Result<[u64; 5], StoreError> {
        self.store.count_by_level().await
    }

    /// Which backend the store is: `sqlite` or `postgis`.
    pub fn backend_name(&self) -> &'static str {
        match self.store.backend() {
            crate::store::Backend::Sqlite => "sqlite",
            crate::store::Backend::Postgis => "postgis",
        }
    }

    /// The change feed: how every change is committed and applied.
    pub fn feed(&self) -> &Arc<Feed> {
        &self.feed
    }

    /// Grid changes.
    pub fn grids(&self) -> &GridService {
        &self.grids
    }

    /// The dispatch service.
    pub fn dispatch(&self) -> &Arc<Dispatcher> {
        &self.dispatch
    }

    /// The incident categories, as cached.
    pub fn categories(&self) -> Arc<Vec<Category>> {
        self.dispatch.categories()
    }

    /// The open incidents and the feed of changes.
    pub fn live(&self) -> &Arc<LiveIncidents> {
        &self.live
    }

    /// Begin shutting down: long-lived answers end.
    pub fn begin_shutdown(&self) {
        self.shutting_down.send_replace(true);
    }

    /// Resolves once [`AppState::begin_shutdown`] was called.
    pub fn shutdown_begun(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut flag = self.shutting_down.subscribe();
        async move {
            // An error means the state is gone: shut down all the more.
            let _ = flag.wait_for(|down| *down).await;
        }
    }

    /// The road network as it is now (empty when none is loaded).
    pub fn roads(&self) -> Arc<RoadNetwork> {
        self.roads.get()
    }

    /// Replace the road network: written to the store with its feed entry,
    /// then the new graph (built off the async workers) is swapped in.
    pub async fn replace_roads(
        &self,
        lines: Vec<RoadLine>,
        actor: &str,
    ) -> Result<Arc<RoadNetwork>, StoreError> {
        let count = lines.len();
        // Built before the unit opens: on SQLite a unit holds the write lock.
        let network = build_roads(lines.clone()).await;
        let mut change = self.feed.begin().await?;
        change.unit().replace_roads(&lines).await?;
        change.record(
            crate::model::NewChange::new(
                crate::model::ChangeKind::Roads,
                std::iter::empty::<String>(),
                actor,
                jiff::Timestamp::now(),
                format!("road network replaced: {count} line(s)"),
            ),
            Some(Effect::Roads(network.clone())),
        );
        change.commit().await?;
        Ok(network)
    }

    /// How incidents are dispatched.
    pub fn dispatch_settings(&self) -> &DispatchSettings {
        self.dispatch.dispatch_settings()
    }

    /// Parse a GeoJSON FeatureCollection of grids, then plan and apply it
    /// against the current version (see [`GridService`]).
    pub async fn import_geojson(
        &self,
        body: Vec<u8>,
        mode: WriteMode,
    ) -> Result<Applied, GridChangeError> {
        let grids = tokio::task::spawn_blocking(move || import::parse_feature_collection(&body))
            .await
            .expect("the GeoJSON parser does not panic")?;
        self.import_grids(grids, mode).await
    }

    /// Plan and apply a grid change against the current version, as `cli`.
    pub async fn import_grids(
        &self,
        grids: Vec<Grid>,
        mode: WriteMode,
    ) -> Result<Applied, GridChangeError> {
        let plan = self
            .grids
            .plan(GridChange {
                grids,
                mode,
                remove: Vec::new(),
                version: None,
                actor: "cli".into(),
                reason: String::new(),
                effective: None,
            })
            .await?;
        self.grids.apply(plan).await
    }
}

/// Every [`FOLLOW_EVERY`], apply the scheduled grid revisions that have
/// come due, until the state is gone or begins to shut down.
fn follow_schedule(
    state: std::sync::Weak<AppState>,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    tokio::spawn(async move {
        let run = async {
            let mut ticks = tokio::time::interval(FOLLOW_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(state) = state.upgrade() else { return };
                state.grids.activate_due().await;
            }
        };
        tokio::select! {
            _ = run => {}
            _ = stop => {}
        }
    });
}

async fn prepare_tiles(index: Arc<GridIndex>, generation: u64) -> Arc<TileSource> {
    tokio::task::spawn_blocking(move || Arc::new(TileSource::new(index, generation)))
        .await
        .expect("projecting grids does not panic")
}

/// Every open incident in the store, for the map.
async fn load_open_incidents(store: &dyn Store) -> Result<OpenIncidents, StoreError> {
    const PAGE: u32 = 10_000;
    let filter = IncidentFilter {
        statuses: Status::open().collect(),
        ..IncidentFilter::default()
    };
    let mut open = Vec::new();
    loop {
        let page = store
            .incidents_page(&filter, PAGE, open.len() as u64)
            .await?;
        let last = page.len() < PAGE as usize;
        open.extend(page);
        if last {
            break;
        }
    }
    Ok(OpenIncidents::new(&open))
}

async fn build_roads(lines: Vec<RoadLine>) -> Arc<RoadNetwork> {
    tokio::task::spawn_blocking(move || Arc::new(RoadNetwork::build(lines)))
        .await
        .expect("building the road graph does not panic")
}
