//! The patrol half of the store: hazards, the road network, saved routes,
//! patrols and the inspections they made. Like incidents, the SQL is written
//! once for both backends (`patrol_sql.rs`). Routes and patrols are kept as
//! JSON documents beside the columns they are looked up by (their grids,
//! times), since they are always read and written whole.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::geom::LonLat;
use crate::model::{
    GridChain, GridId, Hazard, HazardDraft, HazardId, HazardStatus, Level, Patrol, PatrolId,
    RiskClass, Route, RouteId,
};
use crate::model::{RoadClass, RoadLine};
use crate::store::StoreError;

/// A hazard to register: what the user said, where it was located, when.
#[derive(Debug, Clone)]
pub struct NewHazard {
    /// What the user said.
    pub draft: HazardDraft,
    /// The grids at its location.
    pub chain: GridChain,
    /// When it is registered.
    pub at: Timestamp,
}

/// One inspection of a hazard, made on a patrol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inspection {
    /// The hazard inspected.
    pub hazard: HazardId,
    /// On which patrol.
    pub patrol: PatrolId,
    /// When the patrol reached it.
    pub at: Timestamp,
}

/// What a backend must do for hazards and patrols. Every write is one
/// transaction; a stale version writes nothing and says so.
#[async_trait]
pub trait PatrolStore: Send + Sync {
    /// Every hazard, by id.
    async fn hazards(&self) -> Result<Vec<Hazard>, StoreError>;

    /// One hazard.
    async fn hazard(&self, id: HazardId) -> Result<Option<Hazard>, StoreError>;

    /// The road network's lines, in import order.
    async fn roads(&self) -> Result<Vec<RoadLine>, StoreError>;

    /// One route.
    async fn route(&self, id: RouteId) -> Result<Option<Route>, StoreError>;

    /// Routes passing through `grid` (any level), or all routes; by id.
    async fn routes(&self, grid: Option<&GridId>) -> Result<Vec<Route>, StoreError>;

    /// One patrol.
    async fn patrol(&self, id: PatrolId) -> Result<Option<Patrol>, StoreError>;

    /// Patrols started in `[from, to)`, optionally of one route; by id.
    async fn patrols(
        &self,
        from: Timestamp,
        to: Timestamp,
        route: Option<RouteId>,
    ) -> Result<Vec<Patrol>, StoreError>;

    /// Inspections made in `[from, to)`, of one hazard or of all; by time.
    async fn inspections(
        &self,
        from: Timestamp,
        to: Timestamp,
        hazard: Option<HazardId>,
    ) -> Result<Vec<Inspection>, StoreError>;

    /// A stored photo by its token: the image as uploaded, or its thumbnail.
    async fn photo(
        &self,
        token: &str,
        thumbnail: bool,
    ) -> Result<Option<crate::model::PhotoBytes>, StoreError>;
}

/// The hazard and patrol writes of a [`Unit`](crate::store::Unit): each runs inside the
/// unit's transaction and is seen by nobody before it commits. A stale
/// version writes nothing and says so; the caller then drops the unit.
#[async_trait]
pub trait PatrolWrites: Send {
    /// Register hazards, all or none, returning them with their ids.
    async fn create_hazards(&mut self, news: &[NewHazard]) -> Result<Vec<Hazard>, StoreError>;

    /// Write a changed hazard if its `version` is still the stored one
    /// (every field but `last_inspected_at`, which only patrols move);
    /// returns it with the next version. `Ok(None)` when there is no such hazard.
    async fn update_hazard(&mut self, hazard: &Hazard) -> Result<Option<Hazard>, StoreError>;

    /// Give hazards new grid chains (after the grids were redrawn), all in
    /// one transaction: each `(id, version read, chain)`; a hazard no longer
    /// at that version fails the call with [`StoreError::Stale`] (the unit
    /// is then dropped). Each one moved gets the next version.
    async fn relocate_hazards(
        &mut self,
        moves: &[(HazardId, i64, GridChain)],
    ) -> Result<(), StoreError>;

    /// Delete a hazard at `version`; false when there is none at it.
    async fn delete_hazard(&mut self, id: HazardId, version: i64) -> Result<bool, StoreError>;

    /// Replace the whole road network.
    async fn replace_roads(&mut self, lines: &[RoadLine]) -> Result<(), StoreError>;

    /// Save a new route (its id is given here) and the grids it passes.
    async fn create_route(&mut self, route: &Route) -> Result<Route, StoreError>;

    /// Write a changed route if its `version` is still the stored one.
    async fn update_route(&mut self, route: &Route) -> Result<Option<Route>, StoreError>;

    /// Delete a route no patrol has walked, at `version`; false when there
    /// is none at it (the unit must then be rolled back).
    async fn delete_route(&mut self, id: RouteId, version: i64) -> Result<bool, StoreError>;

    /// Start a patrol (its id is given here).
    async fn create_patrol(&mut self, patrol: &Patrol) -> Result<Patrol, StoreError>;

    /// Write a changed patrol if its `version` is still the stored one, and
    /// in the same transaction record the inspections it made (each hazard
    /// once per patrol) and move those hazards' last inspection forward.
    async fn update_patrol(
        &mut self,
        patrol: &Patrol,
        inspected: &[(HazardId, Timestamp)],
    ) -> Result<Option<Patrol>, StoreError>;

    /// Every hazard, by id, as this transaction sees it.
    async fn read_hazards(&mut self) -> Result<Vec<Hazard>, StoreError>;

    /// The hazards, by id, whose grid at each given level is the grid
    /// given (`None`: that have no grid at that level), as this
    /// transaction sees them: what a boundary edit of a few grids can move.
    async fn read_hazards_in_grids(
        &mut self,
        grids: &[(Level, Option<GridId>)],
    ) -> Result<Vec<Hazard>, StoreError>;

    /// Every saved route, by id, as this transaction sees it.
    async fn read_routes(&mut self) -> Result<Vec<Route>, StoreError>;

    /// Store a photo; answers its number.
    async fn create_photo(&mut self, photo: &crate::model::NewPhoto) -> Result<i64, StoreError>;

    /// What `uploaded_by` uploaded from `since` on, as this transaction
    /// sees it.
    async fn photo_uploads_since(
        &mut self,
        uploaded_by: &str,
        since: jiff::Timestamp,
    ) -> Result<crate::model::PhotoUploads, StoreError>;
}

/// The columns of one hazard, decoded into the model (both backends).
#[derive(Debug)]
pub(crate) struct StoredHazard {
    pub id: i64,
    pub name: String,
    pub category: String,
    pub risk: String,
    pub interval_days: i64,
    pub status: String,
    pub lon: f64,
    pub lat: f64,
    pub area: Option<String>,
    pub description: String,
    pub grids: [Option<String>; 5],
    pub last_inspected_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// The columns every hazard query selects.
pub(crate) const HAZARD_COLUMNS: &str = "id, name, category, risk, interval_days, status, lon, \
     lat, area, description, grid_l1, grid_l2, grid_l3, grid_l4, grid_l5, last_inspected_at, \
     created_at, updated_at, version";

fn time(ms: i64, id: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|_| StoreError::Corrupt {
        id: format!("hazard {id}"),
        reason: format!("time {ms} is out of range"),
    })
}

impl StoredHazard {
    pub(crate) fn into_hazard(self) -> Result<Hazard, StoreError> {
        let id = self.id;
        let corrupt = |what: &str, value: &str| StoreError::Corrupt {
            id: format!("hazard {id}"),
            reason: format!("unknown {what} {value:?}"),
        };
        let area = match &self.area {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| corrupt("area", text))?),
        };
        Ok(Hazard {
            id: HazardId(id),
            risk: RiskClass::parse(&self.risk).ok_or_else(|| corrupt("risk", &self.risk))?,
            status: HazardStatus::parse(&self.status)
                .ok_or_else(|| corrupt("status", &self.status))?,
            interval_days: u32::try_from(self.interval_days)
                .map_err(|_| corrupt("interval", &self.interval_days.to_string()))?,
            name: self.name,
            category: self.category,
            location: LonLat::new(self.lon, self.lat),
            area,
            description: self.description,
            chain: self.grids.map(|g| g.map(GridId)),
            last_inspected_at: self.last_inspected_at.map(|t| time(t, id)).transpose()?,
            created_at: time(self.created_at, id)?,
            updated_at: time(self.updated_at, id)?,
            version: self.version,
        })
    }
}

/// A stored road line back into the model.
pub(crate) fn road_line(
    position: i64,
    name: Option<String>,
    class: &str,
    coords: &str,
) -> Result<RoadLine, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        id: format!("road {position}"),
        reason,
    };
    let class =
        RoadClass::parse(class).ok_or_else(|| corrupt(format!("unknown class {class:?}")))?;
    let coords: Vec<LonLat> =
        serde_json::from_str(coords).map_err(|e| corrupt(format!("coordinates: {e}")))?;
    Ok(RoadLine {
        name,
        class,
        coords,
    })
}

/// A stored JSON document (route or patrol) back into the model.
pub(crate) fn document<T: serde::de::DeserializeOwned>(
    what: &str,
    id: i64,
    body: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        id: format!("{what} {id}"),
        reason: e.to_string(),
    })
}
