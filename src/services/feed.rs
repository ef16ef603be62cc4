//! Follows the change feed and applies its in-process effects, in sequence
//! order: the index swap and tile eviction after a grid change, the live
//! incident layer and event stream after an incident change, the road graph
//! after a new network. Nothing here runs before the change committed.
//!
//! A service that commits a change hands its effect over first
//! ([`Feed::expect`], keyed by the change's sequence number) and then calls
//! [`Feed::catch_up`]: the effect it computed is applied when the feed
//! reaches that number, with every earlier change applied before it. A
//! change committed by another process (the CLI, another server on the same
//! PostgreSQL) has no effect waiting: [`Feed::catch_up`] derives it from the
//! store instead (reload the grids, read the incident). A background task
//! ([`Feed::follow`]) catches up every second so that such changes show
//! without a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::dispatch::events::{ChangeKind as IncidentEvent, LiveIncidents};
use crate::geom::Bbox;
use crate::index::GridIndex;
use crate::model::NewChange;
use crate::model::{Change, ChangeKind, Incident, IncidentId};
use crate::routing::RoadNetwork;
use crate::services::Current;
use crate::store::{Store, StoreError, Unit};
use crate::tiles::{self, TileService, TileSource};

/// How many feed entries one read takes.
const PAGE: u32 = 500;

/// What a committed change does in this process, computed by the service
/// that made it.
pub enum Effect {
    /// A grid change: the index of the new set, its tile source, and the
    /// boxes whose tiles must be evicted.
    Grids {
        /// The index of the new grid set.
        index: Arc<GridIndex>,
        /// Tiles cut from it.
        source: Arc<TileSource>,
        /// Bounds of every grid that moved, appeared or went.
        changed: Vec<Bbox>,
    },
    /// An incident as committed.
    Incident {
        /// What happened to it: reported, changed, or handed to another
        /// grid's leader by a grid change.
        kind: IncidentEvent,
        /// The incident as stored (boxed: it is far larger than the other
        /// effects).
        incident: Box<Incident>,
    },
    /// A new road network, built.
    Roads(Arc<RoadNetwork>),
}

/// The in-process state a change can touch, and how far the feed has been
/// applied to it.
pub struct Feed {
    store: Arc<dyn Store>,
    index: Arc<Current<GridIndex>>,
    tiles: Arc<TileService>,
    live: Arc<LiveIncidents>,
    roads: Arc<Current<RoadNetwork>>,
    /// Effects of this process's changes, waiting for the feed to reach them.
    pending: Mutex<HashMap<i64, Effect>>,
    /// The last sequence number applied. Held while applying: one applier
    /// at a time, so effects land strictly in order.
    applied: tokio::sync::Mutex<i64>,
    /// The same number, readable without waiting for an applier (health
    /// checks must not wait out a grid reload).
    applied_now: std::sync::atomic::AtomicI64,
    /// Entries passed over: unreadable, or naming a record that cannot be
    /// read (see [`Feed::skipped`]).
    skipped: std::sync::atomic::AtomicU64,
}

impl Feed {
    /// A feed applied up to `applied` (read from the store before the state
    /// it guards was loaded, so that nothing committed in between is lost:
    /// applying a change twice is harmless).
    pub fn new(
        store: Arc<dyn Store>,
        index: Arc<Current<GridIndex>>,
        tiles: Arc<TileService>,
        live: Arc<LiveIncidents>,
        roads: Arc<Current<RoadNetwork>>,
        applied: i64,
    ) -> Feed {
        Feed {
            store,
            index,
            tiles,
            live,
            roads,
            pending: Mutex::new(HashMap::new()),
            applied: tokio::sync::Mutex::new(applied),
            applied_now: std::sync::atomic::AtomicI64::new(applied),
            skipped: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How many feed entries this server passed over since it started:
    /// entries it cannot read (written by a newer version, or damaged) and
    /// entries naming a record that cannot be read. Each is logged as an
    /// error; the health check reports the count.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The store the feed follows (for the reads of a service).
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Up to `limit` committed changes after `after`, in order.
    pub async fn read(&self, after: i64, limit: u32) -> Result<Vec<Change>, StoreError> {
        self.store.changes(after, limit).await
    }

    /// The newest committed sequence number.
    pub async fn latest(&self) -> Result<i64, StoreError> {
        self.store.last_change().await
    }

    /// Hand over the effect of change `seq` before committing it.
    pub fn expect(&self, seq: i64, effect: Effect) {
        self.pending_effects().insert(seq, effect);
    }

    /// Drop the effects of changes that did not commit.
    pub fn forget(&self, seqs: impl IntoIterator<Item = i64>) {
        let mut pending = self.pending_effects();
        for seq in seqs {
            pending.remove(&seq);
        }
    }

    /// The last sequence number applied in this process.
    pub fn applied(&self) -> i64 {
        self.applied_now.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Apply every committed change not applied yet, in order; answers the
    /// last sequence number applied. A change whose effect cannot be derived
    /// (the store failed) stops the catch-up there, to be tried again.
    pub async fn catch_up(&self) -> Result<i64, StoreError> {
        let mut applied = self.applied.lock().await;
        self.catch_up_locked(&mut applied).await
    }

    /// Apply `committed` (the feed rows of a change this process just
    /// committed, in order) and whatever committed before them. When they
    /// directly follow what was applied (the usual case: nothing else
    /// committed in between), their effects are applied without reading the
    /// feed back; otherwise this is [`Feed::catch_up`].
    pub async fn catch_up_after(&self, committed: &[Change]) -> Result<i64, StoreError> {
        let mut applied = self.applied.lock().await;
        let follows = committed.first().is_some_and(|c| c.seq == *applied + 1)
            && committed.windows(2).all(|w| w[1].seq == w[0].seq + 1);
        if follows {
            // A commit of sequence number N means every smaller number
            // committed or never will (see the migration), so nothing
            // before these is left to read.
            for change in committed {
                self.apply(change).await?;
                *applied = change.seq;
                self.applied_now
                    .store(change.seq, std::sync::atomic::Ordering::Release);
            }
            return Ok(*applied);
        }
        if committed.last().is_some_and(|c| c.seq <= *applied) {
            return Ok(*applied);
        }
        self.catch_up_locked(&mut applied).await
    }

    async fn catch_up_locked(&self, applied: &mut i64) -> Result<i64, StoreError> {
        loop {
            let page = self.store.changes(*applied, PAGE).await?;
            let full = page.len() == PAGE as usize;
            for change in page {
                match self.apply(&change).await {
                    Ok(()) => {}
                    // A row that will never read (a damaged incident) must
                    // not stop this server following every change after it;
                    // anything else (the database is unreachable) is tried
                    // again from this entry at the next catch-up.
                    Err(e @ (StoreError::Corrupt { .. } | StoreError::Integrity(_))) => {
                        self.pass_over(&change, &e.to_string());
                    }
                    Err(e) => return Err(e),
                }
                *applied = change.seq;
                self.applied_now
                    .store(change.seq, std::sync::atomic::Ordering::Release);
            }
            if !full {
                return Ok(*applied);
            }
        }
    }

    /// Catch up every `every` until `stop` resolves, logging failures.
    pub fn follow(
        self: Arc<Self>,
        every: Duration,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let run = async {
                loop {
                    ticks.tick().await;
                    if let Err(e) = self.catch_up().await {
                        tracing::error!(error = %e, "following the change feed failed");
                    }
                }
            };
            tokio::select! {
                _ = run => {}
                _ = stop => {}
            }
        })
    }

    fn pending_effects(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Effect>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn apply(&self, change: &Change) -> Result<(), StoreError> {
        let effect = self.pending_effects().remove(&change.seq);
        match (change.kind, effect) {
            (
                _,
                Some(Effect::Grids {
                    index,
                    source,
                    changed,
                }),
            ) => self.swap_grids(index, source, &changed),
            (_, Some(Effect::Incident { kind, incident })) => {
                self.live.publish(kind, &incident, change.seq);
            }
            (_, Some(Effect::Roads(network))) => self.roads.set(network),
            (ChangeKind::Grids, None) => self.reload_grids().await?,
            (ChangeKind::Incident, None) => {
                for id in &change.ids {
                    let Ok(id) = id.parse() else { continue };
                    let read = match self.store.incident(IncidentId(id)).await {
                        // One damaged incident must not hide the others.
                        Err(e @ StoreError::Corrupt { .. }) if change.ids.len() > 1 => {
                            self.pass_over(change, &e.to_string());
                            continue;
                        }
                        other => other?,
                    };
                    if let Some(incident) = read {
                        let kind = if incident.version == 1 {
                            IncidentEvent::Reported
                        } else if change.summary == crate::dispatch::HANDED_OVER {
                            IncidentEvent::HandedOver
                        } else {
                            IncidentEvent::Changed
                        };
                        self.live.publish(kind, &incident, change.seq);
                    }
                }
            }
            (ChangeKind::Roads, None) => {
                let lines = self.store.roads().await?;
                let network =
                    tokio::task::spawn_blocking(move || Arc::new(RoadNetwork::build(lines)))
                        .await
                        .expect("building the road graph does not panic");
                self.roads.set(network);
            }
            // Hazards, routes and patrols are read from the store per
            // request: nothing in memory to bring up to date.
            (ChangeKind::Hazard | ChangeKind::Route | ChangeKind::Patrol, None) => {}
            (ChangeKind::Unreadable, None) => self.pass_over(change, &change.summary),
        }
        Ok(())
    }

    /// Count and log an entry (or one record of it) this server passes
    /// over, so that it follows on with what comes after.
    fn pass_over(&self, change: &Change, why: &str) {
        self.skipped
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::error!(
            seq = change.seq,
            kind = change.kind.name(),
            ids = ?change.ids,
            why,
            "passing over a change-feed entry this server cannot apply"
        );
    }

    /// Index first, then tiles: whoever sees the new tiles also sees the new
    /// index. The tile swap evicts every tile the change touches in the
    /// same step as it installs the new source (see `tiles::cache`).
    fn swap_grids(&self, index: Arc<GridIndex>, source: Arc<TileSource>, changed: &[Bbox]) {
        self.index.set(index);
        let evicted = self.tiles.swap(source, changed);
        tracing::debug!(
            changed_boxes = changed.len(),
            tiles_evicted = evicted,
            "grid change applied"
        );
    }

    /// A grid change made elsewhere: read the grid set again and swap it in.
    async fn reload_grids(&self) -> Result<(), StoreError> {
        let (index, version) = load_index(self.store.as_ref()).await?;
        let before = self.index.get();
        let generation = self.tiles.source().generation() + 1;
        let (index, source, changed) = tokio::task::spawn_blocking(move || {
            let index = Arc::new(index.with_version(version));
            let source = Arc::new(TileSource::new(index.clone(), generation));
            let changed = tiles::changed_bounds(&before, &index);
            (index, source, changed)
        })
        .await
        .expect("building an index does not panic");
        self.swap_grids(index, source, &changed);
        Ok(())
    }
}

/// The stored grid set and its version, read so that the version is never
/// newer than the grids (a change committed between the two reads makes
/// the index look older than it is: a plan on it is refused, never wrongly
/// accepted).
pub async fn load_index(store: &dyn Store) -> Result<(GridIndex, i64), StoreError> {
    let version = store.grid_set_version().await?;
    let grids = store.load_grids().await?;
    let index = tokio::task::spawn_blocking(move || GridIndex::build(grids))
        .await
        .expect("building the index does not panic");
    Ok((index, version))
}

/// A change in progress: one unit of work, the feed entries it appends and
/// the effects they will have. [`Changing::commit`] commits, then applies
/// the effects in feed order; dropping it instead rolls everything back.
pub struct Changing<'f> {
    unit: Box<dyn Unit>,
    feed: &'f Feed,
    /// The feed entries to append, in order, with their effects.
    effects: Vec<(NewChange, Option<Effect>)>,
}

/// How many times a write located in the grids is tried when grid changes
/// keep committing under it (each time after catching up and locating
/// again); after that the write is refused as stale.
pub const LOCATE_ATTEMPTS: u32 = 3;

/// Whether `error` refused a write because the grid set moved on since it
/// was located: catch up with the feed and locate again.
pub fn grids_moved(error: &StoreError) -> bool {
    matches!(error, StoreError::Stale { what, .. } if what == crate::store::GRID_SET)
}

impl Feed {
    /// The grids as this server holds them.
    pub fn index(&self) -> Arc<GridIndex> {
        self.index.get()
    }

    /// Open a unit of work for writes located in `index`: its first
    /// statement checks that the grid set is still the one `index` was
    /// built from (refused as [`grids_moved`] otherwise), and holds it so
    /// until the unit ends (see [`Unit::check_grid_set`]).
    pub async fn begin_located(&self, index: &GridIndex) -> Result<Changing<'_>, StoreError> {
        let mut change = self.begin().await?;
        change.unit().check_grid_set(index.version()).await?;
        Ok(change)
    }

    /// Open a unit of work whose changes this feed will apply.
    pub async fn begin(&self) -> Result<Changing<'_>, StoreError> {
        Ok(Changing {
            unit: self.store.begin().await?,
            feed: self,
            effects: Vec::new(),
        })
    }
}

impl Changing<'_> {
    /// The unit, for the writes of the change.
    pub fn unit(&mut self) -> &mut dyn Unit {
        self.unit.as_mut()
    }

    /// Add a feed entry, with what it does in this process once committed
    /// (if anything beyond the store). The entries are appended together
    /// at [`Changing::commit`], after every other write of the unit.
    pub fn record(&mut self, mut change: NewChange, effect: Option<Effect>) {
        // Made for a request: from the request's client (see `origin`).
        if change.source.is_empty()
            && let Some(origin) = super::origin::current()
        {
            change.source = origin.source;
        }
        self.effects.push((change, effect));
    }

    /// Append the audit entries (see [`super::origin`]) and the feed
    /// entries (these in one statement), commit, then apply the effects
    /// (and anything committed before them) in feed order. Answers the
    /// last sequence number of this change.
    pub async fn commit(self) -> Result<i64, StoreError> {
        let changes = self.commit_changes().await?;
        Ok(changes.last().map_or(0, |c| c.seq))
    }

    /// [`Changing::commit`], answering the feed entries as appended.
    pub async fn commit_changes(self) -> Result<Vec<Change>, StoreError> {
        let Changing {
            mut unit,
            feed,
            effects,
        } = self;
        let (news, effects): (Vec<NewChange>, Vec<Option<Effect>>) = effects.into_iter().unzip();
        for entry in super::origin::audit_entries(&news) {
            unit.record_audit(&entry).await?;
        }
        let recorded = unit.record_changes(&news).await?;
        let mut changes = Vec::with_capacity(recorded.len());
        for (change, effect) in recorded.into_iter().zip(effects) {
            if let Some(effect) = effect {
                feed.expect(change.seq, effect);
            }
            changes.push(change);
        }
        if let Err(e) = unit.commit().await {
            feed.forget(changes.iter().map(|c| c.seq));
            return Err(e);
        }
        let last = changes.last().map_or(0, |c| c.seq);
        // The change is committed whatever happens next: a failure to apply
        // it here is logged and retried by the follower, not reported as a
        // failed change.
        match feed.catch_up_after(&changes).await {
            Ok(applied) if applied >= last => {}
            other => tracing::error!(?other, last, "a committed change is not applied yet"),
        }
        Ok(changes)
    }
}
