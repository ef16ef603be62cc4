//! The application state shared by every request: the store (system of
//! record), the current grid index (a cache of it, swapped whole), the tile
//! service (tiles cut from that index, and their cache), and the import
//! pipeline that keeps the three in step; and the road network patrols are
//! routed over.

use std::sync::{Arc, RwLock};

use serde::Serialize;

use crate::dispatch::events::LiveIncidents;
use crate::dispatch::{DispatchSettings, ReportWriter};
use crate::import::{self, ImportErrors};
use crate::index::GridIndex;
use crate::model::{Category, Grid};
use crate::routing::{RoadLine, RoadNetwork};
use crate::store::{IncidentFilter, Store, StoreError, WriteMode};
use crate::tiles::incidents::OpenIncidents;
use crate::tiles::{self, TileService, TileSource};
use crate::workflow::Status;

/// Why an import did not happen. Either way the store is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// The grids broke a rule; every issue is listed.
    #[error(transparent)]
    Invalid(#[from] ImportErrors),
    /// The store refused or failed the write (its transaction rolled back).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an accepted import changed.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    /// Features in the import.
    pub imported: usize,
    /// Grids per level after the import, index 0 = level 1.
    pub counts_by_level: [usize; 5],
}

/// Shared state; cheap to clone through its `Arc`.
pub struct AppState {
    store: Arc<dyn Store>,
    index: RwLock<Arc<GridIndex>>,
    tiles: TileService,
    /// Serialises writers: each import validates against the set it replaces.
    writes: tokio::sync::Mutex<()>,
    /// Deadlines, duplicate hints and the county centre for incidents.
    dispatch: DispatchSettings,
    /// The incident categories as last read from the store (they change
    /// rarely, and only in the store: see [`AppState::categories`]).
    categories: RwLock<Arc<Vec<Category>>>,
    /// New reports go through one writer that commits them in groups.
    reports: ReportWriter,
    /// The open incidents by place and the feed of changes.
    live: Arc<LiveIncidents>,
    /// The road network patrols are routed over (empty when none is loaded),
    /// swapped whole when a new one is imported.
    roads: RwLock<Arc<RoadNetwork>>,
    /// Set when the server begins to shut down, so that long-lived answers
    /// (the incident event streams) end and let it finish.
    shutting_down: tokio::sync::watch::Sender<bool>,
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
    /// the given dispatch settings.
    pub async fn open_with(
        store: Arc<dyn Store>,
        budget_bytes: usize,
        dispatch: DispatchSettings,
    ) -> Result<Arc<AppState>, StoreError> {
        let grids = store.load_grids().await?;
        let categories = RwLock::new(Arc::new(store.categories().await?));
        let index = build_index(grids).await;
        let source = prepare_tiles(index.clone(), 0).await;
        let live = Arc::new(LiveIncidents::new(
            load_open_incidents(store.as_ref()).await?,
        ));
        let roads = build_roads(store.roads().await?).await;
        Ok(Arc::new(AppState {
            reports: ReportWriter::spawn(store.clone(), live.clone()),
            live,
            shutting_down: tokio::sync::watch::Sender::new(false),
            store,
            index: RwLock::new(index),
            tiles: TileService::new(source, budget_bytes),
            writes: tokio::sync::Mutex::new(()),
            dispatch,
            categories,
            roads: RwLock::new(roads),
        }))
    }

    /// The index as it is now. Hold the `Arc` for the length of one request so
    /// that every answer in it comes from the same version of the grids.
    pub fn index(&self) -> Arc<GridIndex> {
        self.index
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The tiles of the current index and their cache.
    pub fn tiles(&self) -> &TileService {
        &self.tiles
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
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
        self.roads
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replace the road network: written to the store first, then the new
    /// graph (built off the async workers) is swapped in.
    pub async fn replace_roads(
        &self,
        lines: Vec<RoadLine>,
    ) -> Result<Arc<RoadNetwork>, StoreError> {
        let _writer = self.writes.lock().await;
        self.store.replace_roads(&lines).await?;
        let network = build_roads(lines).await;
        *self
            .roads
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = network.clone();
        Ok(network)
    }

    /// How incidents are dispatched.
    pub fn dispatch_settings(&self) -> &DispatchSettings {
        &self.dispatch
    }

    /// Parse, validate and apply a GeoJSON FeatureCollection of grids.
    pub async fn import_geojson(
        &self,
        body: Vec<u8>,
        mode: WriteMode,
    ) -> Result<ImportSummary, ImportFailure> {
        let grids = tokio::task::spawn_blocking(move || import::parse_feature_collection(&body))
            .await
            .expect("the GeoJSON parser does not panic")?;
        self.import_grids(grids, mode).await
    }

    /// Validate grids against the current set, write them in one
    /// transaction, then swap in an index of the result. A refused import
    /// changes neither the store nor the index.
    pub async fn import_grids(
        &self,
        grids: Vec<Grid>,
        mode: WriteMode,
    ) -> Result<ImportSummary, ImportFailure> {
        let _writer = self.writes.lock().await;
        let imported = grids.len();
        let started = std::time::Instant::now();
        let current = self.index();
        let before = current.clone();
        let (incoming, merged) = tokio::task::spawn_blocking(move || {
            let merged = import::validate(current.grids(), grids.clone(), mode)?;
            Ok::<_, ImportErrors>((grids, merged))
        })
        .await
        .expect("validation does not panic")?;
        let validated = started.elapsed();
        match mode {
            WriteMode::Replace => self.store.write_grids(&merged, mode).await?,
            WriteMode::Upsert => self.store.write_grids(&incoming, mode).await?,
        }
        let written = started.elapsed();
        let index = build_index(merged).await;
        let counts_by_level = index.count_by_level();
        let generation = self.tiles.source().generation() + 1;
        let source = prepare_tiles(index.clone(), generation).await;
        let changed = {
            let after = index.clone();
            tokio::task::spawn_blocking(move || tiles::changed_bounds(&before, &after))
                .await
                .expect("comparing grids does not panic")
        };
        let indexed = started.elapsed();
        // Index first, then tiles: whoever sees the new tiles also sees the
        // new index. The tile swap evicts every tile the change touches in
        // the same step as it installs the new source (see tiles::cache).
        *self
            .index
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = index;
        let evicted = self.tiles.swap(source, &changed);
        // Hazards belong to the grids where they lie now: the grids were
        // written, so a failure here leaves the old chains until the next
        // import, and says so in the log.
        let relocated = match self.relocate_hazards().await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "hazards could not be relocated after the import");
                0
            }
        };
        tracing::info!(
            imported,
            hazards_relocated = relocated,
            validate_ms = validated.as_millis() as u64,
            write_ms = (written - validated).as_millis() as u64,
            index_ms = (indexed - written).as_millis() as u64,
            changed_grids_boxes = changed.len(),
            tiles_evicted = evicted,
            "import applied"
        );
        Ok(ImportSummary {
            imported,
            counts_by_level,
        })
    }
}

impl AppState {
    /// Locate every hazard in the current index and store the chains that
    /// changed; returns how many did.
    async fn relocate_hazards(&self) -> Result<usize, StoreError> {
        let hazards = self.store.hazards().await?;
        let index = self.index();
        let moves: Vec<_> = tokio::task::spawn_blocking(move || {
            hazards
                .into_iter()
                .filter_map(|h| {
                    let chain = index.grid_chain(h.location);
                    (chain != h.chain).then_some((h.id, h.version, chain))
                })
                .collect()
        })
        .await
        .expect("locating hazards does not panic");
        if !moves.is_empty() {
            self.store.relocate_hazards(&moves).await?;
        }
        Ok(moves.len())
    }
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

async fn build_index(grids: Vec<Grid>) -> Arc<GridIndex> {
    tokio::task::spawn_blocking(move || Arc::new(GridIndex::build(grids)))
        .await
        .expect("building the index does not panic")
}
