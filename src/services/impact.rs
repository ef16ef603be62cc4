//! What a grid change does to the things that lie in the grids: which open
//! incidents, hazards and saved routes change grid (from what to what),
//! the area and population of each grid reshaped, and which leaders gain or
//! lose open cases. Computed by one function for the plan (a dry run) and
//! inside the applying transaction, so the two answer alike unless
//! something changed in between.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::import::area_m2;
use crate::index::GridIndex;
use crate::model::{Grid, GridChain, GridId, Incident, Level, Person};
use crate::store::{StoreError, Unit};
use crate::workflow::{Status, Tier};

/// Something whose grids a change moves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainMove {
    /// The incident or hazard number.
    pub id: i64,
    /// Its grid at each level before (level 1 first).
    pub from: GridChain,
    /// Its grid at each level after.
    pub to: GridChain,
}

/// A saved route whose grids a change moves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteMove {
    /// The route number.
    pub id: i64,
    /// Every grid its way passed before.
    pub from: Vec<GridId>,
    /// Every grid its way passes after.
    pub to: Vec<GridId>,
}

/// What a grid change does to the things that lie in the grids.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Impact {
    /// Open incidents that change grid.
    pub incidents: Vec<ChainMove>,
    /// Hazards that change grid.
    pub hazards: Vec<ChainMove>,
    /// Saved routes that pass other grids.
    pub routes: Vec<RouteMove>,
    /// Every grid added, reshaped or removed: its area and population
    /// before and after (the area and people moved).
    pub grids: Vec<GridDelta>,
    /// Every grid whose leader gains or loses open incidents (those the
    /// grid handles at its tier), with how many.
    pub leaders: Vec<LeaderCases>,
}

/// A grid's area and population before and after a change (`None`: it
/// does not exist then, or has no population given).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridDelta {
    /// The grid.
    pub id: GridId,
    /// Area before, m².
    pub area_m2_before: Option<f64>,
    /// Area after, m².
    pub area_m2_after: Option<f64>,
    /// Residents before.
    pub population_before: Option<u64>,
    /// Residents after.
    pub population_after: Option<u64>,
}

/// Open incidents a grid's leader gains or loses through a change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaderCases {
    /// The grid handling them.
    pub grid: GridId,
    /// Its leader's name, if the grid names one (after the change for a
    /// grid that still exists).
    pub leader: Option<String>,
    /// Incidents it takes over.
    pub gains: usize,
    /// Incidents it hands over.
    pub loses: usize,
}

impl Impact {
    /// True when nothing moves.
    pub fn is_empty(&self) -> bool {
        self.incidents.is_empty() && self.hazards.is_empty() && self.routes.is_empty()
    }

    /// The moves that leave their thing outside every grid.
    pub fn stranded(&self) -> Impact {
        Impact {
            incidents: self
                .incidents
                .iter()
                .filter(|m| outside(&m.to))
                .cloned()
                .collect(),
            hazards: self
                .hazards
                .iter()
                .filter(|m| outside(&m.to))
                .cloned()
                .collect(),
            routes: self
                .routes
                .iter()
                .filter(|m| m.to.is_empty())
                .cloned()
                .collect(),
            ..Impact::default()
        }
    }
}

fn outside(chain: &GridChain) -> bool {
    chain.iter().all(Option::is_none)
}

/// The impact of a new index on what the transaction `unit` sees, with the
/// changed records ready to write.
pub(super) struct Moves {
    pub(super) impact: Impact,
    /// Each open incident that moves: as read, and as it will be.
    pub(super) incidents: Vec<(Incident, Incident)>,
    /// Each hazard that moves: id, version read, new chain.
    pub(super) hazards: Vec<(crate::model::HazardId, i64, GridChain)>,
    /// Each route that moves, with its new grids.
    pub(super) routes: Vec<crate::model::Route>,
}

/// The change from `before` to `after` (which differ in `changed`), as the
/// transaction `unit` sees what lies in the grids.
pub(super) async fn impact_in(
    unit: &mut dyn Unit,
    before: &Arc<GridIndex>,
    after: &Arc<GridIndex>,
    changed: &[GridId],
) -> Result<Moves, StoreError> {
    let lying = read_lying(unit, before, after, changed).await?;
    Ok(impact_of(lying, before, after, changed).await)
}

/// What lies in the grids, as the unit's transaction sees it: the open
/// incidents, the hazards and the saved routes.
pub(super) type Lying = (
    Vec<Incident>,
    Vec<crate::model::Hazard>,
    Vec<crate::model::Route>,
);

/// More grids than this in a change, and the open incidents and hazards
/// are read whole rather than grid by grid (a whole-county import).
const GRIDS_READ_ONE_BY_ONE: usize = 64;

/// What lies in the grids a change from `before` to `after` can move.
/// Open incidents and hazards are read by grid: only those in a changed
/// grid or in the parent of one (where a new or moved child can take
/// them), and those outside every town, can change grid; the rest keep
/// theirs, so a one-grid edit reads hundreds of incidents and hazards, not
/// the county's 50,000 and 5,000. (Saved routes are read whole: they are
/// few, and one may leave the county where no grid lists it.)
pub(super) async fn read_lying(
    unit: &mut dyn Unit,
    before: &GridIndex,
    after: &GridIndex,
    changed: &[GridId],
) -> Result<Lying, StoreError> {
    let open: Vec<Status> = Status::open().collect();
    let mut grids: Vec<(Level, Option<GridId>)> = vec![(Level::TOWN, None)];
    for id in changed {
        for index in [before, after] {
            if let Some(g) = index.get(id) {
                grids.push((g.level, Some(g.id.clone())));
                if let (Some(parent), Some(level)) = (&g.parent_id, g.level.parent()) {
                    grids.push((level, Some(parent.clone())));
                }
            }
        }
    }
    grids.sort();
    grids.dedup();
    // Whole, or grid by grid: the same rule for incidents and hazards.
    let whole = grids.len() > GRIDS_READ_ONE_BY_ONE;
    let incidents = if whole {
        unit.read_incidents_in(&open).await?
    } else {
        unit.read_incidents_in_grids(&open, &grids).await?
    };
    let hazards = if whole {
        unit.read_hazards().await?
    } else {
        unit.read_hazards_in_grids(&grids).await?
    };
    Ok((incidents, hazards, unit.read_routes().await?))
}

/// Where what lies in the grids lies in `after`, and what that moves.
pub(super) async fn impact_of(
    (incidents, hazards, routes): Lying,
    before: &Arc<GridIndex>,
    after: &Arc<GridIndex>,
    changed: &[GridId],
) -> Moves {
    let (before, index, changed) = (before.clone(), after.clone(), changed.to_vec());
    tokio::task::spawn_blocking(move || {
        let mut moves = Moves {
            impact: Impact {
                grids: grid_deltas(&before, &index, &changed),
                ..Impact::default()
            },
            incidents: Vec::new(),
            hazards: Vec::new(),
            routes: Vec::new(),
        };
        for incident in incidents {
            let chain = index.grid_chain(incident.point.wgs84);
            if chain != incident.chain {
                moves.impact.incidents.push(ChainMove {
                    id: incident.id.0,
                    from: incident.chain.clone(),
                    to: chain.clone(),
                });
                let after = rechained(&incident, chain, &index);
                moves.incidents.push((incident, after));
            }
        }
        for hazard in hazards {
            let chain = index.grid_chain(hazard.location);
            if chain != hazard.chain {
                moves.impact.hazards.push(ChainMove {
                    id: hazard.id.0,
                    from: hazard.chain.clone(),
                    to: chain.clone(),
                });
                moves.hazards.push((hazard.id, hazard.version, chain));
            }
        }
        for mut route in routes {
            let grids = index.grids_along(&route.path);
            if grids != route.grids {
                moves.impact.routes.push(RouteMove {
                    id: route.id.0,
                    from: route.grids.clone(),
                    to: grids.clone(),
                });
                route.grids = grids;
                moves.routes.push(route);
            }
        }
        moves.impact.leaders = leader_cases(&moves.incidents, &before, &index);
        moves
    })
    .await
    .expect("locating does not panic")
}

/// The area and population of each grid in `changed`, before and after.
fn grid_deltas(before: &GridIndex, after: &GridIndex, changed: &[GridId]) -> Vec<GridDelta> {
    changed
        .iter()
        .map(|id| {
            let (old, new) = (before.get(id), after.get(id));
            GridDelta {
                id: id.clone(),
                area_m2_before: old.map(|g| area_m2(&g.geometry)),
                area_m2_after: new.map(|g| area_m2(&g.geometry)),
                population_before: old.and_then(Grid::population),
                population_after: new.and_then(Grid::population),
            }
        })
        .collect()
}

/// Per handling grid, the open incidents its leader gains and loses as
/// the incidents move from their old grids (in `before`) to their new ones
/// (in `after`).
fn leader_cases(
    moved: &[(Incident, Incident)],
    before: &GridIndex,
    after: &GridIndex,
) -> Vec<LeaderCases> {
    let mut by_grid: BTreeMap<GridId, LeaderCases> = BTreeMap::new();
    let mut count = |grid: &GridId, gains: usize, loses: usize| {
        let entry = by_grid.entry(grid.clone()).or_insert_with(|| LeaderCases {
            grid: grid.clone(),
            leader: after
                .get(grid)
                .or_else(|| before.get(grid))
                .and_then(Grid::leader)
                .map(|l| l.name),
            gains: 0,
            loses: 0,
        });
        entry.gains += gains;
        entry.loses += loses;
    };
    for (old, new) in moved {
        let (from, to) = (old.handling_grid(), new.handling_grid());
        if from == to {
            continue;
        }
        if let Some(from) = from {
            count(from, 0, 1);
        }
        if let Some(to) = to {
            count(to, 1, 0);
        }
    }
    by_grid.into_values().collect()
}

/// An open incident given the grids now at its point. Its tier stays; when
/// the new chain has no grid at that tier's level (it now lies where there
/// are no sub-areas) it is handled at the deepest level that has one. When
/// the grid handling it changes, its responsible person becomes that grid's
/// leader (if the grid names one).
fn rechained(incident: &Incident, chain: GridChain, index: &GridIndex) -> Incident {
    let mut after = incident.clone();
    after.chain = chain;
    if let Some(level) = incident.tier.level()
        && after.chain[level.index()].is_none()
        && let Some(deepest) = crate::model::Level::ALL
            .into_iter()
            .rev()
            .find(|l| after.chain[l.index()].is_some())
    {
        after.tier = Tier::grid(deepest);
    }
    if after.handling_grid() != incident.handling_grid()
        && let Some(leader) = after
            .handling_grid()
            .and_then(|id| index.get(id))
            .and_then(Grid::leader)
    {
        after.responsible = Some(Person {
            name: leader.name,
            phone: leader.phone,
        });
    }
    after
}
