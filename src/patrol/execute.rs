//! Patrols under way: a member starts a saved route, the app posts track
//! points and check-ins, and each stop is marked visited the first time the
//! track (any point of a segment between two fixes) or a check-in comes
//! within the patrol's radius of it. A finished patrol's unvisited stops are
//! its missed stops (漏巡). Every visit to a hazard is recorded as an
//! inspection and moves the hazard's last inspection forward, in the same
//! transaction as the patrol.

use jiff::Timestamp;

use crate::geom::LonLat;
use crate::model::{
    CheckIn, HazardId, Patrol, PatrolId, PatrolStatus, Route, RouteId, StopVisit, TrackPoint,
};
use crate::patrol::PatrolError;
use crate::routing::LocalFrame;
use crate::store::Store;

/// The default visit radius, metres: a phone's GPS in a village street.
pub const DEFAULT_RADIUS_M: f64 = 30.0;

/// Start a patrol of `route` by `member` at `at`.
pub async fn start(
    store: &dyn Store,
    route: RouteId,
    member: &str,
    radius_m: Option<f64>,
    at: Timestamp,
) -> Result<Patrol, PatrolError> {
    let route = store
        .route(route)
        .await?
        .ok_or_else(|| PatrolError::NotFound(format!("there is no route {}", route.0)))?;
    if member.trim().is_empty() {
        return Err(PatrolError::invalid(
            "member",
            "member must name who walks the patrol",
        ));
    }
    let radius_m = radius_m.unwrap_or(DEFAULT_RADIUS_M);
    if !(radius_m.is_finite() && (1.0..=1000.0).contains(&radius_m)) {
        return Err(PatrolError::invalid(
            "radius_m",
            format!("radius_m must be from 1 to 1000 metres, got {radius_m}"),
        ));
    }
    let patrol = Patrol {
        id: PatrolId(0),
        route: route.id,
        grid: route.grid.clone(),
        shift: route.shift,
        member: member.trim().to_owned(),
        status: PatrolStatus::Active,
        started_at: at,
        finished_at: None,
        radius_m,
        track: Vec::new(),
        checkins: Vec::new(),
        visits: route
            .stops
            .iter()
            .map(|s| StopVisit {
                hazard: s.hazard,
                visited_at: None,
                closest_m: None,
            })
            .collect(),
        track_m: 0.0,
        version: 0,
    };
    Ok(store.create_patrol(&patrol).await?)
}

/// A patrol and its route, checked to be under way.
async fn active(store: &dyn Store, id: PatrolId) -> Result<(Patrol, Route), PatrolError> {
    let patrol = store
        .patrol(id)
        .await?
        .ok_or_else(|| PatrolError::NotFound(format!("there is no patrol {}", id.0)))?;
    if patrol.status != PatrolStatus::Active {
        return Err(PatrolError::Conflict(format!(
            "patrol {} is finished: nothing more can be added to it",
            id.0
        )));
    }
    let route = store
        .route(patrol.route)
        .await?
        .ok_or_else(|| PatrolError::NotFound(format!("patrol {}'s route is gone", id.0)))?;
    Ok((patrol, route))
}

/// Distance in metres from `p` to the segment `a`–`b`, and where along it
/// (0 at `a`, 1 at `b`) the closest point lies.
fn to_segment(frame: &LocalFrame, p: LonLat, a: LonLat, b: LonLat) -> (f64, f64) {
    let (p, a, b) = (frame.to_metres(p), frame.to_metres(a), frame.to_metres(b));
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (a[0] + dx * t, a[1] + dy * t);
    ((p[0] - cx).hypot(p[1] - cy), t)
}

/// When the track passed `t` of the way from `a` to `b` (times interpolated;
/// the known one when only one is).
fn time_along(a: &TrackPoint, b: &TrackPoint, t: f64) -> Option<Timestamp> {
    match (a.time, b.time) {
        (Some(ta), Some(tb)) => {
            let ms =
                ta.as_millisecond() as f64 + (tb.as_millisecond() - ta.as_millisecond()) as f64 * t;
            Timestamp::from_millisecond(ms.round() as i64).ok()
        }
        (Some(ta), None) => Some(ta),
        (None, tb) => tb,
    }
}

/// Mark the route's stops that `track` (new points, following the
/// patrol's earlier ones) and `checkins` reach within the radius. Returns
/// the hazards newly visited, with when.
fn mark_visits(
    patrol: &mut Patrol,
    route: &Route,
    new_points: usize,
    checkins: &[CheckIn],
    fallback: Timestamp,
) -> Vec<(HazardId, Timestamp)> {
    let frame = LocalFrame::new(route.start);
    let mut newly = Vec::new();
    let n = patrol.track.len();
    // Segments touching the new points (the one joining old and new included).
    let first = n.saturating_sub(new_points + 1);
    for (k, stop) in route.stops.iter().enumerate() {
        // Every approach to the stop: each new track segment (or a lone
        // point), then each check-in, with the distance and when.
        let track = &patrol.track[first..];
        let mut approaches: Vec<(f64, Option<Timestamp>)> = Vec::new();
        if track.len() == 1 {
            approaches.push((frame.distance_m(stop.location, track[0].at), track[0].time));
        }
        for w in track.windows(2) {
            let (d, t) = to_segment(&frame, stop.location, w[0].at, w[1].at);
            approaches.push((d, time_along(&w[0], &w[1], t)));
        }
        for c in checkins {
            approaches.push((frame.distance_m(stop.location, c.at), Some(c.time)));
        }
        let visit = &mut patrol.visits[k];
        if let Some(d) = approaches.iter().map(|a| a.0).min_by(f64::total_cmp) {
            visit.closest_m = Some(visit.closest_m.map_or(d, |c: f64| c.min(d)));
        }
        // The first approach within the radius is the visit.
        let reached = approaches
            .iter()
            .find(|a| a.0 <= patrol.radius_m)
            .map(|a| a.1.unwrap_or(fallback));
        if visit.visited_at.is_none()
            && let Some(at) = reached
        {
            visit.visited_at = Some(at);
            if let Some(h) = stop.hazard {
                newly.push((h, at));
            }
        }
    }
    newly
}

/// Add GPS track points to a patrol under way (kept in time order for
/// replay) and mark the stops they reach.
pub async fn add_track(
    store: &dyn Store,
    id: PatrolId,
    points: Vec<TrackPoint>,
    now: Timestamp,
) -> Result<Patrol, PatrolError> {
    let (mut patrol, route) = active(store, id).await?;
    let frame = LocalFrame::new(route.start);
    let added = points.len();
    let before = patrol.track.last().copied();
    patrol.track.extend(points);
    if let Some(last) = before {
        patrol.track_m += frame.distance_m(last.at, patrol.track[patrol.track.len() - added].at);
    }
    let start = patrol.track.len() - added;
    patrol.track_m += patrol.track[start..]
        .windows(2)
        .map(|w| frame.distance_m(w[0].at, w[1].at))
        .sum::<f64>();
    let inspected = mark_visits(&mut patrol, &route, added, &[], now);
    store
        .update_patrol(&patrol, &inspected)
        .await?
        .ok_or_else(|| PatrolError::NotFound(format!("there is no patrol {}", id.0)))
}

/// Record a check-in (and mark the stops within the radius of it).
pub async fn check_in(
    store: &dyn Store,
    id: PatrolId,
    checkin: CheckIn,
) -> Result<Patrol, PatrolError> {
    if !checkin.at.is_valid() {
        return Err(PatrolError::invalid(
            "point",
            "point is not a WGS84 longitude/latitude",
        ));
    }
    let (mut patrol, route) = active(store, id).await?;
    let inspected = mark_visits(
        &mut patrol,
        &route,
        0,
        std::slice::from_ref(&checkin),
        checkin.time,
    );
    patrol.checkins.push(checkin);
    store
        .update_patrol(&patrol, &inspected)
        .await?
        .ok_or_else(|| PatrolError::NotFound(format!("there is no patrol {}", id.0)))
}

/// Finish a patrol: stops not visited by now are missed.
pub async fn finish(store: &dyn Store, id: PatrolId, at: Timestamp) -> Result<Patrol, PatrolError> {
    let (mut patrol, _) = active(store, id).await?;
    patrol.status = PatrolStatus::Finished;
    patrol.finished_at = Some(at);
    store
        .update_patrol(&patrol, &[])
        .await?
        .ok_or_else(|| PatrolError::NotFound(format!("there is no patrol {}", id.0)))
}

/// The stops a finished patrol missed (漏巡), by index in the route; for an
/// active patrol, the stops not yet visited.
pub fn missed(patrol: &Patrol) -> Vec<usize> {
    patrol
        .visits
        .iter()
        .enumerate()
        .filter(|(_, v)| v.visited_at.is_none())
        .map(|(k, _)| k)
        .collect()
}
