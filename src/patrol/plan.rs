//! Planning a patrol: which hazards a shift visits, and in what order.
//!
//! 1. **Candidates.** Day patrol (巡查): the grid's hazards still inspected
//!    that are due at the shift's start. Night watch (巡更): the grid's major
//!    and significant hazards (the key points), due or not.
//! 2. **Priority.** Higher risk first, then the longest overdue, then by id.
//! 3. **Fit.** Without limits every candidate goes in. With a maximum
//!    length or duration, candidates are inserted in priority order at their
//!    cheapest place in the round, skipping any that would break the limit;
//!    after ordering, the skipped ones are tried again (a shorter order may
//!    leave room).
//! 4. **Order.** [`shortest_tour`] over the road distances (exact up to 11
//!    stops, iterated local search above).
//! 5. **Draw.** The route's legs over the roads, its length, its duration at
//!    the travel mode's speed plus time at each stop, and the grids it passes.

use jiff::Timestamp;

use crate::geom::LonLat;
use crate::index::GridIndex;
use crate::model::{
    GridId, Hazard, HazardId, RiskClass, Route, RouteId, RouteStop, Shift, TravelMode,
};
use crate::patrol::PatrolError;
use crate::patrol::notice::{LeftOutReason, Notice};
use crate::patrol::routes::assemble;
use crate::routing::{DistanceMatrix, RoadNetwork, SearchLimits, Travel, Ways, shortest_tour};
use crate::text;

/// At most this many stops are ordered in one plan; more due hazards than
/// this are left out, lowest priority first, and the plan says so.
pub const MAX_STOPS: usize = 300;

/// Seconds spent at each stop: a day inspection looks closely, a night
/// watch checks and moves on.
pub fn dwell_s(shift: Shift) -> f64 {
    match shift {
        Shift::Day => 300.0,
        Shift::Night => 120.0,
    }
}

/// What to plan.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The grid (any level) whose hazards are visited.
    pub grid: GridId,
    /// Day patrol or night watch.
    pub shift: Shift,
    /// On foot or driving.
    pub mode: TravelMode,
    /// Where the round starts and ends.
    pub start: LonLat,
    /// When the shift starts (what "due" is measured at).
    pub start_time: Timestamp,
    /// Longest acceptable round, metres.
    pub max_length_m: Option<f64>,
    /// Longest acceptable shift, seconds (travel plus time at stops).
    pub max_duration_s: Option<f64>,
    /// How long the ordering may search.
    pub limits: SearchLimits,
}

/// A hazard that did not make it into the plan, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftOut {
    /// The hazard.
    pub hazard: HazardId,
    /// Why.
    pub reason: LeftOutReason,
}

/// A planned route, not yet saved.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The route (id 0 until saved).
    pub route: Route,
    /// Due hazards not in the route.
    pub left_out: Vec<LeftOut>,
    /// Things the planner wants the leader to know (no road network, the
    /// route leaves the grid, stops far from any road).
    pub notices: Vec<Notice>,
    /// True when the order is proven shortest.
    pub optimal: bool,
}

/// The hazards a shift would visit, highest priority first.
pub fn candidates(hazards: &[Hazard], request: &PlanRequest) -> Vec<Hazard> {
    let mut out: Vec<Hazard> = hazards
        .iter()
        .filter(|h| h.lies_in(&request.grid))
        .filter(|h| match request.shift {
            Shift::Day => h.is_due(request.start_time),
            Shift::Night => {
                h.status.is_inspected()
                    && matches!(h.risk, RiskClass::Major | RiskClass::Significant)
            }
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| {
        a.risk
            .cmp(&b.risk)
            .then(a.due_at().cmp(&b.due_at()))
            .then(a.id.cmp(&b.id))
    });
    out
}

/// Plan a route for `request` over `hazards` (the whole register; the grid
/// and due filters are applied here).
pub fn plan(
    request: &PlanRequest,
    hazards: &[Hazard],
    network: Option<&RoadNetwork>,
    index: &GridIndex,
) -> Result<Plan, PatrolError> {
    let Some(grid_ix) = index.position(&request.grid) else {
        let id = request.grid.as_str();
        return Err(PatrolError::invalid(
            "grid",
            text!("grid {id:?} does not exist", "网格 {id:?} 不存在"),
        ));
    };
    if !request.start.is_valid() {
        return Err(PatrolError::invalid(
            "start",
            text!(
                "start is not a WGS84 point",
                "start 不是有效的 WGS84 坐标点"
            ),
        ));
    }
    for (name, limit) in [
        ("max_length_m", request.max_length_m),
        ("max_duration_s", request.max_duration_s),
    ] {
        if limit.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
            return Err(PatrolError::invalid(
                name,
                text!("{name} must be a positive number", "{name} 必须是正数"),
            ));
        }
    }
    let mut left_out = Vec::new();
    let mut chosen = candidates(hazards, request);
    if chosen.len() > MAX_STOPS {
        for h in chosen.drain(MAX_STOPS..) {
            left_out.push(LeftOut {
                hazard: h.id,
                reason: LeftOutReason::TooMany {
                    max_stops: MAX_STOPS,
                },
            });
        }
    }
    let mut points = vec![request.start];
    points.extend(chosen.iter().map(|h| h.location));
    let travel = Travel::between(network, points, Ways::of(request.mode));
    let matrix = travel.matrix();

    // Hazards the start cannot reach are left out (by road: on foot every
    // hazard can be reached across country).
    let reachable: Vec<usize> = (1..matrix.len())
        .filter(|&i| {
            let ok = travel.connected(0, i);
            if !ok {
                left_out.push(LeftOut {
                    hazard: chosen[i - 1].id,
                    reason: LeftOutReason::Unreachable,
                });
            }
            ok
        })
        .collect();

    let speed = request.mode.speed_m_per_s();
    let dwell = dwell_s(request.shift);
    let fits = |length_m: f64, stops: usize| {
        request.max_length_m.is_none_or(|max| length_m <= max)
            && request
                .max_duration_s
                .is_none_or(|max| length_m / speed + dwell * stops as f64 <= max)
    };
    let (order, optimal) = fit_and_order(matrix, &reachable, &fits, request.limits);
    for &i in &reachable {
        if !order.contains(&i) {
            left_out.push(LeftOut {
                hazard: chosen[i - 1].id,
                reason: LeftOutReason::DoesNotFit,
            });
        }
    }
    let stops: Vec<RouteStop> = order
        .iter()
        .skip(1)
        .map(|&i| {
            let h = &chosen[i - 1];
            RouteStop {
                hazard: Some(h.id),
                name: h.name.clone(),
                location: h.location,
                risk: Some(h.risk),
            }
        })
        .collect();
    let name = format!(
        "{}{}",
        index.grid(grid_ix).name,
        match request.shift {
            Shift::Day => "白天巡查",
            Shift::Night => "夜间巡更",
        }
    );
    // Unreachable hazards were left out above, so every leg has a way.
    let (route, mut notices) = assemble(
        network,
        index,
        RouteShape {
            name,
            grid: request.grid.clone(),
            shift: request.shift,
            mode: request.mode,
            start: request.start,
            stops,
            at: request.start_time,
        },
    )?;
    if !left_out.is_empty() {
        notices.push(Notice::HazardsLeftOut {
            count: left_out.len(),
        });
    }
    Ok(Plan {
        route,
        left_out,
        notices,
        optimal,
    })
}

/// What a route is made from: the rest (legs, length, grids) is derived.
#[derive(Debug, Clone)]
pub struct RouteShape {
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
    pub stops: Vec<RouteStop>,
    /// When it is made.
    pub at: Timestamp,
}

/// Choose which of `candidates` (matrix indices, priority order) fit, and
/// order them with the start (index 0) first. Returns the order and
/// whether it is proven shortest.
fn fit_and_order(
    matrix: &DistanceMatrix,
    candidates: &[usize],
    fits: &dyn Fn(f64, usize) -> bool,
    limits: SearchLimits,
) -> (Vec<usize>, bool) {
    let solve = |nodes: &[usize]| {
        let sub = DistanceMatrix::from_fn(nodes.len(), |i, j| matrix.get(nodes[i], nodes[j]));
        let tour = shortest_tour(&sub, 0, limits);
        let order: Vec<usize> = tour.order.iter().map(|&k| nodes[k]).collect();
        (order, tour.length_m, tour.optimal)
    };
    let mut all = vec![0];
    all.extend_from_slice(candidates);
    let (order, length, optimal) = solve(&all);
    if fits(length, candidates.len()) {
        return (order, optimal);
    }
    // Cheapest insertion in priority order under the limit, then order and
    // try the skipped ones once more.
    let mut tour = vec![0usize];
    let mut length = 0.0;
    let mut skipped = Vec::new();
    let insert = |tour: &mut Vec<usize>, length: &mut f64, v: usize| -> bool {
        let n = tour.len();
        let (mut best_at, mut best_add) = (0, f64::INFINITY);
        for k in 0..n {
            let (a, b) = (tour[k], tour[(k + 1) % n]);
            let add =
                matrix.get(a, v) + matrix.get(v, b) - if n > 1 { matrix.get(a, b) } else { 0.0 };
            if add < best_add {
                (best_at, best_add) = (k + 1, add);
            }
        }
        if fits(*length + best_add, n) {
            tour.insert(best_at, v);
            *length += best_add;
            true
        } else {
            false
        }
    };
    for &v in candidates {
        if !insert(&mut tour, &mut length, v) {
            skipped.push(v);
        }
    }
    // The search is heuristic above 11 stops: keep the insertion order when
    // re-ordering did not make it shorter (it must stay within the limit).
    let (mut order, mut length, mut optimal) = {
        let (o, l, opt) = solve(&tour);
        if l <= length {
            (o, l, opt)
        } else {
            (tour.clone(), length, false)
        }
    };
    let mut added = false;
    for &v in &skipped {
        if insert(&mut order, &mut length, v) {
            added = true;
        }
    }
    if added {
        // The search is heuristic above 11 stops: keep the inserted order
        // if re-ordering did not make it shorter.
        let (o, l, opt) = solve(&order);
        if l <= length {
            (order, optimal) = (o, opt);
        } else {
            optimal = false;
        }
    }
    (order, optimal)
}

/// An unsaved route's placeholder id.
pub const UNSAVED: RouteId = RouteId(0);
