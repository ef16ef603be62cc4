//! The patrol service's reads, so that the HTTP layer asks a service and
//! never the store: hazards, routes, patrols, coverage. (Its writes are the
//! functions of `hazards`, `routes` and `execute`, which commit through the
//! change feed.)

use std::sync::Arc;

use jiff::Timestamp;

use super::PatrolError;
use super::coverage::{self, Coverage, DueDay};
use super::hazards::{self, HazardFilter};
use crate::geom::LonLat;
use crate::index::GridIndex;
use crate::model::{GridId, Hazard, HazardId, Patrol, PatrolId, Route, RouteId};
use crate::patrol::photos::PhotoQuota;
use crate::services::feed::Feed;
use crate::store::StoreError;

/// Hazards, routes and patrols, read from the store the feed follows.
pub struct Patrols {
    feed: Arc<Feed>,
    /// Each account's daily photo allowance.
    photo_quota: std::sync::RwLock<PhotoQuota>,
}

impl Patrols {
    /// The patrol service over `feed` (its store for reads, itself for
    /// writes).
    pub fn new(feed: Arc<Feed>) -> Patrols {
        Patrols {
            feed,
            photo_quota: std::sync::RwLock::new(PhotoQuota::default()),
        }
    }

    /// Set each account's daily photo allowance (at start, from the
    /// command line).
    pub fn set_photo_quota(&self, quota: PhotoQuota) {
        *self.photo_quota.write().unwrap_or_else(|p| p.into_inner()) = quota;
    }

    /// Each account's daily photo allowance.
    pub fn photo_quota(&self) -> PhotoQuota {
        *self.photo_quota.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The change feed writes commit through.
    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// Every hazard, by id.
    pub async fn hazards(&self) -> Result<Vec<Hazard>, StoreError> {
        self.feed.store().hazards().await
    }

    /// The hazards matching `filter`, by id.
    pub async fn hazards_matching(
        &self,
        filter: &HazardFilter,
    ) -> Result<Vec<Hazard>, PatrolError> {
        hazards::list(self.feed.store(), filter).await
    }

    /// One hazard.
    pub async fn hazard(&self, id: HazardId) -> Result<Option<Hazard>, StoreError> {
        self.feed.store().hazard(id).await
    }

    /// Routes through `grid` (any level), or all; by id.
    pub async fn routes(&self, grid: Option<&GridId>) -> Result<Vec<Route>, StoreError> {
        self.feed.store().routes(grid).await
    }

    /// One route.
    pub async fn route(&self, id: RouteId) -> Result<Option<Route>, StoreError> {
        self.feed.store().route(id).await
    }

    /// Patrols started in `[from, to)`, optionally of one route.
    pub async fn patrols(
        &self,
        from: Timestamp,
        to: Timestamp,
        route: Option<RouteId>,
    ) -> Result<Vec<Patrol>, StoreError> {
        self.feed.store().patrols(from, to, route).await
    }

    /// The patrols started in `[from, to)` that reached `hazard` (their
    /// visits say when: [`super::coverage::inspections_of`]), by id. Found
    /// from the hazard's own inspection rows, so that only those patrols
    /// are read, not every patrol of the period with its track: rows from
    /// [`super::execute::CLOCK_SKEW`] before `from` on, since a visit may be
    /// timed that much before its patrol's start (a phone's slow clock, a
    /// GPX file), and up to any time after (a patrol goes on past `to`).
    pub async fn patrols_visiting(
        &self,
        hazard: HazardId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Patrol>, StoreError> {
        let store = self.feed.store();
        let mut ids: Vec<PatrolId> = store
            .inspections(
                from - super::execute::CLOCK_SKEW,
                Timestamp::MAX,
                Some(hazard),
            )
            .await?
            .into_iter()
            .map(|i| i.patrol)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut patrols = Vec::with_capacity(ids.len());
        for id in ids {
            // A patrol is never deleted while its inspections stand.
            if let Some(patrol) = store.patrol(id).await?
                && (from..to).contains(&patrol.started_at)
            {
                patrols.push(patrol);
            }
        }
        Ok(patrols)
    }

    /// A stored photo (or its thumbnail).
    pub async fn photo(
        &self,
        token: &str,
        thumbnail: bool,
    ) -> Result<Option<crate::model::PhotoBytes>, StoreError> {
        self.feed.store().photo(token, thumbnail).await
    }

    /// Check and store a photo from the field (see [`crate::patrol::photos::save`]).
    pub async fn save_photo(
        &self,
        bytes: Vec<u8>,
        content_type: String,
        uploaded_by: String,
        now: jiff::Timestamp,
    ) -> Result<crate::patrol::photos::SavedPhoto, crate::patrol::PatrolError> {
        let quota = self.photo_quota();
        crate::patrol::photos::save(&self.feed, quota, bytes, content_type, uploaded_by, now).await
    }

    /// One patrol.
    pub async fn patrol(&self, id: PatrolId) -> Result<Option<Patrol>, StoreError> {
        self.feed.store().patrol(id).await
    }

    /// Coverage of `grid` over `[from, to)` (see [`coverage::coverage`]).
    pub async fn coverage(
        &self,
        index: &GridIndex,
        grid: &GridId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Coverage, PatrolError> {
        coverage::coverage(self.feed.store(), index, grid, from, to).await
    }

    /// Which hazards of `grid` fall due on which of `days` days from `from`.
    pub async fn calendar(
        &self,
        index: &GridIndex,
        grid: &GridId,
        from: Timestamp,
        days: u32,
    ) -> Result<Vec<DueDay>, PatrolError> {
        coverage::calendar(self.feed.store(), index, grid, from, days).await
    }

    /// Whether a check-in at `at`, `time` could be recorded now (see
    /// [`super::execute::can_check_in`]); the patrol as read.
    pub async fn can_check_in(
        &self,
        id: PatrolId,
        at: LonLat,
        time: Timestamp,
        now: Timestamp,
    ) -> Result<Patrol, PatrolError> {
        super::execute::can_check_in(self.feed.store(), id, at, time, now).await
    }
}
