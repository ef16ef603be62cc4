//! The demo county's road network and hazard register, loaded with the demo
//! county on a first start (and by tests that need a county with roads).

use jiff::Timestamp;

use crate::generate::DEMO_SEED;
use crate::generate::hazards::generate_hazards;
use crate::generate::roads::generate_roads;
use crate::model::Grid;
use crate::patrol::{PatrolError, hazards};
use crate::routing::RoadNetwork;
use crate::state::AppState;

/// What was loaded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoPatrolData {
    /// Road lines.
    pub roads: usize,
    /// Their length, km.
    pub road_km: f64,
    /// Hazards registered.
    pub hazards: usize,
}

/// Lay the demo roads over `grids` (the demo county, already imported) and
/// register the demo hazards, last inspected relative to `now` so that
/// about a quarter are due.
pub async fn load_demo_roads_and_hazards(
    state: &AppState,
    grids: Vec<Grid>,
    now: Timestamp,
) -> Result<DemoPatrolData, PatrolError> {
    let (lines, drafts) = tokio::task::spawn_blocking(move || {
        let lines = generate_roads(&grids, DEMO_SEED);
        let network = RoadNetwork::build(lines.clone());
        let drafts = generate_hazards(&grids, &network, now, DEMO_SEED);
        (lines, drafts)
    })
    .await
    .expect("generating the demo roads and hazards does not panic");
    let network = state.replace_roads(lines).await?;
    let index = state.index();
    let registered = hazards::register(state.store().as_ref(), &index, drafts, now, false).await?;
    Ok(DemoPatrolData {
        roads: network.lines().len(),
        road_km: network.length_m() / 1000.0,
        hazards: registered.len(),
    })
}
