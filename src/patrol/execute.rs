//! Patrols under way: a member starts a saved route (the patrol keeps a copy
//! of its stops), the app posts track points and check-ins, and a stop is
//! marked visited by the first track segment (any point between two fixes)
//! or check-in that comes within the patrol's radius of it, at the time of
//! that segment's closest approach (interpolated between the fixes) or of
//! the check-in. A segment between fixes more than [`MAX_GAP`] apart is a
//! GPS dropout: only its ends count. A finished patrol's unvisited stops are
//! its missed stops (漏巡). Every visit to a hazard is recorded as an
//! inspection and moves the hazard's last inspection forward, in the same
//! transaction as the patrol. Times must fall between the patrol's start
//! (less [`CLOCK_SKEW`]) and now (plus it): a phone with a wrong clock must
//! not mark a hazard inspected in 2099.

use jiff::Timestamp;

use crate::geom::LonLat;
use crate::geom::{LocalFrame, nearest_on_segment};
use crate::model::{ChangeKind, NewChange};
use crate::model::{
    CheckIn, HazardId, Patrol, PatrolId, PatrolStatus, RouteId, StopVisit, TrackPoint,
};
use crate::patrol::PatrolError;
use crate::services::feed::Feed;
use crate::store::Store;
use crate::text;

/// The default visit radius, metres: a phone's GPS in a village street.
pub const DEFAULT_RADIUS_M: f64 = 30.0;

/// Fixes further apart than this are a dropout, not a walk between them.
pub const MAX_GAP: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// How far a device's clock may be off.
pub const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(60);

/// Concurrent posts to one patrol (a track upload and a check-in at the same
/// moment) are applied one after the other: a post that finds the patrol
/// changed since it read it reads it again, up to this many times.
const RETRIES: usize = 5;

/// Refuse a time outside `[started − skew, now + skew]`.
fn check_time(
    field: &str,
    t: Timestamp,
    started: Timestamp,
    now: Timestamp,
) -> Result<(), PatrolError> {
    if t < started - CLOCK_SKEW || t > now + CLOCK_SKEW {
        return Err(PatrolError::invalid(
            field,
            text!(
                "{field} {t} is outside the patrol (started {started}, now {now}): check the \
                 device's clock",
                "{field} {t} 不在巡查时段内（开始于 {started}，当前为 {now}）：请检查设备时间"
            ),
        ));
    }
    Ok(())
}

/// Apply `change` to the patrol as stored and write it (with the
/// inspections `change` returns), reading it again when a concurrent post
/// got there first.
async fn apply(
    feed: &Feed,
    id: PatrolId,
    what: &str,
    mut change: impl FnMut(&mut Patrol) -> Result<Vec<(HazardId, Timestamp)>, PatrolError>,
) -> Result<Patrol, PatrolError> {
    for _ in 0..RETRIES {
        let mut patrol = active(feed.store(), id).await?;
        let inspected = change(&mut patrol)?;
        let mut unit = feed.begin().await?;
        match unit.unit().update_patrol(&patrol, &inspected).await {
            Ok(Some(saved)) => {
                record_patrol(&mut unit, &saved, what, &inspected);
                unit.commit().await?;
                return Ok(saved);
            }
            Ok(None) => {
                return Err(PatrolError::NotFound(text!(
                    "there is no patrol {}",
                    "未找到编号为 {} 的巡查",
                    id.0
                )));
            }
            Err(crate::store::StoreError::Stale { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PatrolError::Conflict(text!(
        "patrol {} kept changing while this was applied; send it again",
        "巡查 {} 在处理期间不断被修改，请重新提交",
        id.0
    )))
}

/// Append a patrol's change (and the hazards it inspected) to the feed.
fn record_patrol(
    unit: &mut crate::services::feed::Changing<'_>,
    patrol: &Patrol,
    what: &str,
    inspected: &[(HazardId, Timestamp)],
) {
    let at = Timestamp::now();
    // Whoever made the change: the member walking it, or their leader
    // correcting it (the request's caller); the member when no request
    // made it.
    let actor = crate::services::origin::current()
        .map(|origin| origin.login)
        .unwrap_or_else(|| patrol.member.clone());
    unit.record(
        NewChange::new(
            ChangeKind::Patrol,
            [patrol.id.0],
            &actor,
            at,
            format!("{what} (route {})", patrol.route.0),
        ),
        None,
    );
    if !inspected.is_empty() {
        unit.record(
            NewChange::new(
                ChangeKind::Hazard,
                inspected.iter().map(|(h, _)| h.0),
                &actor,
                at,
                "inspected on a patrol",
            ),
            None,
        );
    }
}

/// Start a patrol of `route` by `member` at `at`.
pub async fn start(
    feed: &Feed,
    route: RouteId,
    member: &str,
    radius_m: Option<f64>,
    at: Timestamp,
) -> Result<Patrol, PatrolError> {
    let route = feed.store().route(route).await?.ok_or_else(|| {
        PatrolError::NotFound(text!(
            "there is no route {}",
            "未找到编号为 {} 的路线",
            route.0
        ))
    })?;
    if member.trim().is_empty() {
        return Err(PatrolError::invalid(
            "member",
            text!(
                "member must name who walks the patrol",
                "member 须填写执行此次巡查的人"
            ),
        ));
    }
    let radius_m = radius_m.unwrap_or(DEFAULT_RADIUS_M);
    if !(radius_m.is_finite() && (1.0..=1000.0).contains(&radius_m)) {
        return Err(PatrolError::invalid(
            "radius_m",
            text!(
                "radius_m must be from 1 to 1000 metres, got {radius_m}",
                "radius_m 须在 1 至 1000 米之间，收到的是 {radius_m}"
            ),
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
        start: route.start,
        stops: route.stops.clone(),
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
    let mut unit = feed.begin().await?;
    let saved = unit.unit().create_patrol(&patrol).await?;
    record_patrol(&mut unit, &saved, "started", &[]);
    unit.commit().await?;
    Ok(saved)
}

/// A patrol, checked to be under way.
async fn active(store: &dyn Store, id: PatrolId) -> Result<Patrol, PatrolError> {
    let patrol = store.patrol(id).await?.ok_or_else(|| {
        PatrolError::NotFound(text!(
            "there is no patrol {}",
            "未找到编号为 {} 的巡查",
            id.0
        ))
    })?;
    if patrol.status != PatrolStatus::Active {
        return Err(PatrolError::Conflict(text!(
            "patrol {} is finished: nothing more can be added to it",
            "巡查 {} 已结束，不能再添加内容",
            id.0
        )));
    }
    Ok(patrol)
}

/// Distance in metres from `p` to the segment `a`–`b`, and where along it
/// (0 at `a`, 1 at `b`) the closest point lies.
fn to_segment(frame: &LocalFrame, p: LonLat, a: LonLat, b: LonLat) -> (f64, f64) {
    nearest_on_segment(frame.to_metres(p), frame.to_metres(a), frame.to_metres(b))
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

/// Mark the patrol's stops that its newest `new_points` track points (with
/// the segment joining them to the earlier ones) and `checkins` reach within
/// the radius. Returns the hazards newly visited, with when.
fn mark_visits(
    patrol: &mut Patrol,
    new_points: usize,
    checkins: &[CheckIn],
    fallback: Timestamp,
) -> Vec<(HazardId, Timestamp)> {
    let frame = LocalFrame::new(patrol.start);
    let mut newly = Vec::new();
    let stops = std::mem::take(&mut patrol.stops);
    let n = patrol.track.len();
    // Segments touching the new points (the one joining old and new included).
    let first = n.saturating_sub(new_points + 1);
    for (k, stop) in stops.iter().enumerate() {
        // Every approach to the stop: each new track segment (or a lone
        // point), then each check-in, with the distance and when.
        let track = &patrol.track[first..];
        let mut approaches: Vec<(f64, Option<Timestamp>)> = Vec::new();
        if track.len() == 1 {
            approaches.push((frame.distance_m(stop.location, track[0].at), track[0].time));
        }
        for w in track.windows(2) {
            let dropout = matches!((w[0].time, w[1].time), (Some(a), Some(b)) if b - a > MAX_GAP);
            if dropout {
                for p in w {
                    approaches.push((frame.distance_m(stop.location, p.at), p.time));
                }
                continue;
            }
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
    patrol.stops = stops;
    newly
}

/// Add GPS track points to a patrol under way (appended in the order
/// received, kept for replay) and mark the stops they reach. A timed fix
/// the track already holds (same time, same place) is not added again: a
/// phone that lost the answer to a send sends the same fixes once more.
pub async fn add_track(
    feed: &Feed,
    id: PatrolId,
    points: Vec<TrackPoint>,
    now: Timestamp,
) -> Result<Patrol, PatrolError> {
    apply(feed, id, "track added", |patrol| {
        for (k, p) in points.iter().enumerate() {
            if let Some(t) = p.time {
                check_time(&format!("track[{k}].time"), t, patrol.started_at, now)?;
            }
        }
        let held: std::collections::HashSet<(i64, u64, u64)> = patrol
            .track
            .iter()
            .filter_map(|p| {
                p.time
                    .map(|t| (t.as_millisecond(), p.at.lon.to_bits(), p.at.lat.to_bits()))
            })
            .collect();
        let points: Vec<TrackPoint> = points
            .iter()
            .copied()
            .filter(|p| {
                p.time.is_none_or(|t| {
                    !held.contains(&(t.as_millisecond(), p.at.lon.to_bits(), p.at.lat.to_bits()))
                })
            })
            .collect();
        let frame = LocalFrame::new(patrol.start);
        let added = points.len();
        // From the last earlier fix on, so the step joining old and new counts.
        let from = patrol.track.len().saturating_sub(1);
        patrol.track.extend(points.iter().copied());
        patrol.track_m += patrol.track[from..]
            .windows(2)
            .map(|w| frame.distance_m(w[0].at, w[1].at))
            .sum::<f64>();
        Ok(mark_visits(patrol, added, &[], now))
    })
    .await
}

/// Record a check-in (and mark the stops within the radius of it).
pub async fn check_in(
    feed: &Feed,
    id: PatrolId,
    checkin: CheckIn,
    now: Timestamp,
) -> Result<Patrol, PatrolError> {
    check_point(checkin.at)?;
    apply(feed, id, "checked in", |patrol| {
        check_time("time", checkin.time, patrol.started_at, now)?;
        let inspected = mark_visits(patrol, 0, std::slice::from_ref(&checkin), checkin.time);
        patrol.checkins.push(checkin.clone());
        Ok(inspected)
    })
    .await
}

fn check_point(at: LonLat) -> Result<(), PatrolError> {
    if at.is_valid() {
        Ok(())
    } else {
        Err(PatrolError::invalid(
            "point",
            text!(
                "point is not a WGS84 longitude/latitude",
                "point 不是有效的 WGS84 经纬度"
            ),
        ))
    }
}

/// Check that a check-in at `at`, `time` could be recorded now (a valid
/// point, the patrol under way, a plausible time), before raising an
/// incident from it; returns the patrol as read.
pub async fn can_check_in(
    store: &dyn Store,
    id: PatrolId,
    at: LonLat,
    time: Timestamp,
    now: Timestamp,
) -> Result<Patrol, PatrolError> {
    check_point(at)?;
    let patrol = active(store, id).await?;
    check_time("time", time, patrol.started_at, now)?;
    Ok(patrol)
}

/// Finish a patrol: stops not visited by now are missed.
pub async fn finish(
    feed: &Feed,
    id: PatrolId,
    at: Timestamp,
    now: Timestamp,
) -> Result<Patrol, PatrolError> {
    apply(feed, id, "finished", |patrol| {
        check_time("at", at, patrol.started_at, now)?;
        if at < patrol.started_at {
            return Err(PatrolError::invalid(
                "at",
                text!(
                    "at {at} is before the patrol started ({})",
                    "at {at} 早于巡查开始时间（{}）",
                    patrol.started_at
                ),
            ));
        }
        patrol.status = PatrolStatus::Finished;
        patrol.finished_at = Some(at);
        Ok(Vec::new())
    })
    .await
}

/// The stops a finished patrol missed (漏巡), by index in its stops; for an
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
