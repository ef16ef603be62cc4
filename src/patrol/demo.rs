//! The demo county's road network and hazard register, loaded with the demo
//! county on a first start (and by tests that need a county with roads).

use jiff::Timestamp;

use crate::generate::DEMO_SEED;
use crate::generate::hazards::generate_hazards;
use crate::generate::roads::{generate_roads, settlements};
use crate::patrol::{PatrolError, hazards};
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

/// Lay the demo roads over the grids the state holds (the demo county,
/// already imported) and register the demo hazards, last inspected relative
/// to `now` so that about a quarter are due.
pub async fn load_demo_roads_and_hazards(
    state: &AppState,
    now: Timestamp,
) -> Result<DemoPatrolData, PatrolError> {
    let index = state.index();
    let (lines, places) = {
        let index = index.clone();
        tokio::task::spawn_blocking(move || {
            let places = settlements(index.grids());
            (generate_roads(index.grids(), &places, DEMO_SEED), places)
        })
        .await
        .expect("generating the demo roads does not panic")
    };
    // The store's copy first; the graph it builds is the one hazards are
    // placed along.
    let network = state.replace_roads(lines, "demo").await?;
    let drafts = {
        let (index, network) = (index.clone(), network.clone());
        tokio::task::spawn_blocking(move || {
            generate_hazards(index.grids(), &places, &network, now, DEMO_SEED)
        })
        .await
        .expect("generating the demo hazards does not panic")
    };
    let registered = hazards::register(state.feed(), &index, drafts, now, false).await?;
    Ok(DemoPatrolData {
        roads: network.lines().len(),
        road_km: network.length_m() / 1000.0,
        hazards: registered.len(),
    })
}
