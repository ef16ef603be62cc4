//! Saved routes: drawing a route from its stops (legs over the roads,
//! length, duration, the grids it passes), saving it, editing its stops or
//! members. Every grid the way passes through, at every level, is recorded
//! with the route, so a grid's routes include those that only cross it.

use std::sync::Arc;

use jiff::Timestamp;

use crate::geom::LonLat;
use crate::index::GridIndex;
use crate::model::{ChangeKind, NewChange};
use crate::model::{GridId, HazardId, Route, RouteId, RouteStop, Shift, TravelMode};
use crate::patrol::PatrolError;
use crate::patrol::notice::Notice;
use crate::patrol::plan::{RouteShape, UNSAVED, dwell_s};
use crate::routing::{RoadNetwork, Travel, Ways};
use crate::services::feed::{Changing, Feed, LOCATE_ATTEMPTS, grids_moved};
use crate::store::Store;
use crate::text;

/// Draw a route from its shape: legs over the roads (or straight without a
/// network), totals, and the grids it passes. Also returns notices for the
/// leader: no road network, a stop far from any road, the way leaving the
/// route's grid. Refused, naming the stop, when no road connects a stop to
/// the point before it (or the last stop back to the start).
pub fn assemble(
    network: Option<&RoadNetwork>,
    index: &GridIndex,
    shape: RouteShape,
) -> Result<(Route, Vec<Notice>), PatrolError> {
    let mut points = vec![shape.start];
    points.extend(shape.stops.iter().map(|s| s.location));
    let travel = Travel::between_legs(network, points, Ways::of(shape.mode));
    let mut notices = Vec::new();
    if network.is_none_or(|n| n.graph().edge_count() == 0) {
        notices.push(Notice::NoRoadNetwork);
    }
    for (k, snap) in travel.snaps().iter().enumerate().skip(1) {
        if snap.distance_m > 200.0 {
            notices.push(Notice::FarFromRoad {
                stop: k,
                name: shape.stops[k - 1].name.clone(),
                metres: snap.distance_m,
            });
        }
    }
    let n = shape.stops.len() + 1;
    let mut path: Vec<LonLat> = vec![shape.start];
    let mut legs_m = Vec::with_capacity(n);
    let mut legs_off_road = Vec::with_capacity(n);
    if n > 1 {
        for k in 0..n {
            let leg = travel.leg(k, (k + 1) % n);
            if !leg.length_m.is_finite() {
                // Leg k runs from point k to point k + 1; point 0 is the start.
                let stop = if k + 1 < n { k } else { k - 1 };
                let name = &shape.stops[stop].name;
                let (to, to_zh) = if k + 1 < n {
                    ("the point before it", "前一个点")
                } else {
                    ("the start", "起点")
                };
                return Err(PatrolError::invalid(
                    format!("stops[{stop}]"),
                    text!(
                        "stops[{stop}] ({name}) is not connected by road to {to}",
                        "stops[{stop}]（{name}）与{to_zh}之间没有道路相连"
                    ),
                ));
            }
            legs_m.push(leg.length_m);
            legs_off_road.push(leg.off_road);
            path.extend(leg.coords.into_iter().skip(1));
        }
    }
    let off_road: Vec<(usize, usize)> = (0..legs_off_road.len())
        .filter(|&k| legs_off_road[k])
        .map(|k| (k % n, (k + 1) % n))
        .collect();
    if !off_road.is_empty() {
        notices.push(Notice::OffRoad { legs: off_road });
    }
    let length_m: f64 = legs_m.iter().sum();
    let duration_s =
        length_m / shape.mode.speed_m_per_s() + dwell_s(shape.shift) * shape.stops.len() as f64;
    let grids = index.grids_along(&path);
    if let Some(own_ix) = index.position(&shape.grid) {
        let own = index.grid(own_ix);
        // The grid itself, its ancestors (which hold it) and its
        // descendants (which it holds) are not "leaving".
        let inside = |g: &GridId| index.is_within(g, &own.id) || index.is_within(&own.id, g);
        let outside: Vec<&crate::model::Grid> = grids
            .iter()
            .filter(|g| !inside(g))
            .filter_map(|g| index.get(g))
            .collect();
        if let Some(top) = outside.iter().map(|g| g.level).min() {
            let names: Vec<&str> = outside
                .iter()
                .filter(|g| g.level == top)
                .map(|g| g.name.as_str())
                .collect();
            notices.push(Notice::LeavesGrid {
                grid: own.name.clone(),
                through: names.into_iter().map(str::to_owned).collect(),
            });
        }
    }
    let route = Route {
        id: UNSAVED,
        name: shape.name,
        grid: shape.grid,
        shift: shape.shift,
        mode: shape.mode,
        start: shape.start,
        stops: shape.stops,
        path,
        legs_m,
        legs_off_road,
        length_m,
        duration_s,
        on_roads: travel.metric() == crate::routing::Metric::Roads,
        grids,
        assignees: Vec::new(),
        created_at: shape.at,
        updated_at: shape.at,
        version: 0,
    };
    Ok((route, notices))
}

/// A stop as a user gives it: a hazard by number, or a named key point.
#[derive(Debug, Clone, PartialEq)]
pub enum StopInput {
    /// A registered hazard.
    Hazard(HazardId),
    /// A key point with no hazard record (a school gate, a bridge).
    Point {
        /// What it is called.
        name: String,
        /// Where.
        location: LonLat,
    },
}

/// A route as a user saves or edits it: the stops in the order to walk them.
#[derive(Debug, Clone)]
pub struct RouteInput {
    /// Its name.
    pub name: String,
    /// The grid it is for.
    pub grid: GridId,
    /// Day or night.
    pub shift: Shift,
    /// On foot or driving.
    pub mode: TravelMode,
    /// Start and end.
    pub start: LonLat,
    /// Stops in visiting order.
    pub stops: Vec<StopInput>,
    /// Members it is assigned to.
    pub assignees: Vec<String>,
}

async fn shape_of(
    store: &dyn Store,
    index: &GridIndex,
    input: RouteInput,
    at: Timestamp,
) -> Result<(RouteShape, Vec<String>), PatrolError> {
    if index.get(&input.grid).is_none() {
        let id = input.grid.as_str();
        return Err(PatrolError::invalid(
            "grid",
            text!("grid {id:?} does not exist", "网格 {id:?} 不存在"),
        ));
    }
    if input.name.trim().is_empty() {
        return Err(PatrolError::invalid(
            "name",
            text!("name must not be empty", "name 不能为空"),
        ));
    }
    super::bounded("name", &input.name, super::MAX_NAME_CHARS)?;
    if input.assignees.len() > super::MAX_ASSIGNEES {
        return Err(PatrolError::invalid(
            "assignees",
            text!(
                "a route is assigned to at most {} members",
                "一条路线最多指派给 {} 名网格员",
                super::MAX_ASSIGNEES
            ),
        ));
    }
    for (k, assignee) in input.assignees.iter().enumerate() {
        super::bounded(&format!("assignees[{k}]"), assignee, super::MAX_NAME_CHARS)?;
    }
    if !input.start.is_valid() {
        return Err(PatrolError::invalid(
            "start",
            text!(
                "start is not a WGS84 point",
                "start 不是有效的 WGS84 坐标点"
            ),
        ));
    }
    if input.stops.is_empty() {
        return Err(PatrolError::invalid(
            "stops",
            text!(
                "stops must name at least one hazard or key point to visit",
                "stops 至少须包含一个要巡查的隐患或重点点位"
            ),
        ));
    }
    if input.stops.len() > crate::patrol::plan::MAX_STOPS {
        return Err(PatrolError::invalid(
            "stops",
            text!(
                "a route has at most {} stops",
                "一条路线最多 {} 个点位",
                crate::patrol::plan::MAX_STOPS
            ),
        ));
    }
    let hazards = store.hazards().await?;
    let mut stops = Vec::with_capacity(input.stops.len());
    for (k, stop) in input.stops.into_iter().enumerate() {
        stops.push(match stop {
            StopInput::Hazard(id) => {
                let h = hazards.iter().find(|h| h.id == id).ok_or_else(|| {
                    PatrolError::invalid(
                        format!("stops[{k}].hazard"),
                        text!(
                            "stops[{k}].hazard: there is no hazard {id}",
                            "stops[{k}].hazard：未找到编号为 {id} 的隐患"
                        ),
                    )
                })?;
                RouteStop {
                    hazard: Some(h.id),
                    name: h.name.clone(),
                    location: h.location,
                    risk: Some(h.risk),
                }
            }
            StopInput::Point { name, location } => {
                super::bounded(&format!("stops[{k}].name"), &name, super::MAX_NAME_CHARS)?;
                if !location.is_valid() {
                    return Err(PatrolError::invalid(
                        format!("stops[{k}].location"),
                        text!(
                            "stops[{k}].location is not a WGS84 point",
                            "stops[{k}].location 不是有效的 WGS84 坐标点"
                        ),
                    ));
                }
                RouteStop {
                    hazard: None,
                    name,
                    location,
                    risk: None,
                }
            }
        });
    }
    let shape = RouteShape {
        name: input.name.trim().to_owned(),
        grid: input.grid,
        shift: input.shift,
        mode: input.mode,
        start: input.start,
        stops,
        at,
    };
    Ok((shape, input.assignees))
}

/// [`assemble`] on the blocking pool: a route of a few hundred stops is
/// that many path searches and a grid test per segment, too long for an
/// async worker.
async fn assemble_off_runtime(
    network: Arc<RoadNetwork>,
    index: Arc<GridIndex>,
    shape: RouteShape,
) -> Result<(Route, Vec<Notice>), PatrolError> {
    tokio::task::spawn_blocking(move || assemble(Some(&network), &index, shape))
        .await
        .expect("drawing a route does not panic")
}

/// Draw a route over `network` in the grids as this server holds them and
/// open the unit that writes it, checked to be on the same grids; should a
/// grid change have committed since, catch up and draw it again.
async fn drawn_and_located<'f>(
    feed: &'f Feed,
    network: &Arc<RoadNetwork>,
    input: &RouteInput,
    now: Timestamp,
) -> Result<(Route, Vec<Notice>, Changing<'f>), PatrolError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let index = feed.index();
        let (shape, assignees) = shape_of(feed.store(), &index, input.clone(), now).await?;
        let (mut route, notices) =
            assemble_off_runtime(network.clone(), index.clone(), shape).await?;
        route.assignees = assignees;
        match feed.begin_located(&index).await {
            Err(e) if grids_moved(&e) && attempt < LOCATE_ATTEMPTS => {
                feed.catch_up().await?;
            }
            other => return Ok((route, notices, other?)),
        }
    }
}

/// Save a new route, walked in the order given, drawn over `network`.
pub async fn save(
    feed: &Feed,
    network: Arc<RoadNetwork>,
    input: RouteInput,
    now: Timestamp,
) -> Result<(Route, Vec<Notice>), PatrolError> {
    let (route, notices, mut unit) = drawn_and_located(feed, &network, &input, now).await?;
    let saved = unit.unit().create_route(&route).await?;
    record_route(&mut unit, &saved, "saved", now);
    unit.commit().await?;
    Ok((saved, notices))
}

/// Replace a route's stops, order, start or members (the way is drawn
/// again), if it is still at `version`.
pub async fn edit(
    feed: &Feed,
    network: Arc<RoadNetwork>,
    id: RouteId,
    version: i64,
    input: RouteInput,
    now: Timestamp,
) -> Result<(Route, Vec<Notice>), PatrolError> {
    let old = feed.store().route(id).await?.ok_or_else(|| no_route(id))?;
    let (mut route, notices, mut unit) = drawn_and_located(feed, &network, &input, now).await?;
    route.id = id;
    route.version = version;
    route.created_at = old.created_at;
    let saved = unit
        .unit()
        .update_route(&route)
        .await?
        .ok_or_else(|| no_route(id))?;
    record_route(&mut unit, &saved, "edited", now);
    unit.commit().await?;
    Ok((saved, notices))
}

fn no_route(id: RouteId) -> PatrolError {
    PatrolError::NotFound(text!(
        "there is no route {}",
        "未找到编号为 {} 的路线",
        id.0
    ))
}

/// Delete a route no patrol has walked, at the version read; false when
/// there is none at it (gone, or changed since: the caller read it first
/// and tells which).
pub async fn delete(
    feed: &Feed,
    id: RouteId,
    version: i64,
    actor: &str,
    now: Timestamp,
) -> Result<bool, PatrolError> {
    let mut unit = feed.begin().await?;
    if !unit.unit().delete_route(id, version).await? {
        return Ok(false);
    }
    unit.record(
        NewChange::new(
            ChangeKind::Route,
            [id.0],
            actor,
            now,
            format!("route {} deleted", id.0),
        ),
        None,
    );
    unit.commit().await?;
    Ok(true)
}

/// Add a route's change to the feed entries of `unit`.
fn record_route(unit: &mut Changing<'_>, route: &Route, what: &str, now: Timestamp) {
    unit.record(
        NewChange::new(
            ChangeKind::Route,
            [route.id.0],
            "route planner",
            now,
            format!("route {} {what}", route.id.0),
        ),
        None,
    );
}
