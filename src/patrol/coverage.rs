//! Coverage: per grid and period, how many inspections the hazards needed
//! and how many patrols made, which stops were missed, how far and how long
//! the patrols went, day and night; and the calendar of which hazards fall
//! due on which day.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::index::GridIndex;
use crate::model::{GridId, Hazard, HazardId, Patrol, PatrolStatus, Shift};
use crate::patrol::PatrolError;
use crate::store::Store;
use crate::text;

/// Patrol figures of one shift.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ShiftFigures {
    /// Patrols started in the period.
    pub patrols: u64,
    /// Of them, finished.
    pub finished: u64,
    /// Stops on those patrols' routes.
    pub stops: u64,
    /// Stops visited.
    pub visited: u64,
    /// Stops missed on finished patrols (漏巡).
    pub missed: u64,
    /// Metres of track.
    pub track_m: f64,
    /// Seconds from start to finish, finished patrols.
    pub duration_s: f64,
}

/// Coverage of one grid over a period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    /// The grid (its subtree counts).
    pub grid: String,
    /// Start of the period (inclusive).
    pub from: String,
    /// End of the period (exclusive).
    pub to: String,
    /// Hazards still inspected (open or mitigated) in the grid.
    pub hazards: u64,
    /// Inspections the hazards' intervals asked for in the period: for
    /// each hazard, the period's length over its interval, rounded up.
    pub inspections_required: u64,
    /// Inspections made (each hazard at most once per patrol).
    pub inspections: u64,
    /// Hazards inspected at least once in the period.
    pub hazards_inspected: u64,
    /// Hazards due (overdue) at the end of the period, judged by each one's
    /// last inspection as known now (for a past period, an inspection made
    /// since counts).
    pub due_at_end: u64,
    /// Day patrols (巡查).
    pub day: ShiftFigures,
    /// Night watches (巡更).
    pub night: ShiftFigures,
    /// The missed stops of finished patrols: which hazard, on which patrol.
    pub missed_stops: Vec<MissedStop>,
}

/// One stop a finished patrol did not reach.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MissedStop {
    /// The patrol.
    pub patrol: i64,
    /// The stop's place in the route (0 = first stop).
    pub stop: usize,
    /// The hazard, when the stop is one.
    pub hazard: Option<i64>,
}

/// The hazards of `grid` (its subtree) that patrols still inspect.
async fn inspected_hazards_in(
    store: &dyn Store,
    grid: &GridId,
) -> Result<Vec<Hazard>, PatrolError> {
    let mut hazards = store.hazards().await?;
    hazards.retain(|h| h.status.is_inspected() && h.lies_in(grid));
    Ok(hazards)
}

/// Coverage of `grid` over `[from, to)`.
pub async fn coverage(
    store: &dyn Store,
    index: &GridIndex,
    grid: &GridId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Coverage, PatrolError> {
    if index.get(grid).is_none() {
        let id = grid.as_str();
        return Err(PatrolError::invalid(
            "grid",
            text!("grid {id:?} does not exist", "网格 {id:?} 不存在"),
        ));
    }
    if from >= to {
        return Err(PatrolError::invalid(
            "to",
            text!("to must be after from", "to 必须晚于 from"),
        ));
    }
    let hazards = inspected_hazards_in(store, grid).await?;
    let ids: std::collections::HashSet<HazardId> = hazards.iter().map(|h| h.id).collect();
    let period_days = (to.as_millisecond() - from.as_millisecond()) as f64 / 86_400_000.0;
    let inspections_required = hazards
        .iter()
        .map(|h| (period_days / f64::from(h.interval_days)).ceil() as u64)
        .sum();
    let inspections: Vec<_> = store
        .inspections(from, to, None)
        .await?
        .into_iter()
        .filter(|i| ids.contains(&i.hazard))
        .collect();
    let mut inspected: Vec<HazardId> = inspections.iter().map(|i| i.hazard).collect();
    inspected.sort_unstable();
    inspected.dedup();

    let patrols: Vec<Patrol> = store
        .patrols(from, to, None)
        .await?
        .into_iter()
        .filter(|p| index.is_within(&p.grid, grid))
        .collect();
    let mut day = ShiftFigures::default();
    let mut night = ShiftFigures::default();
    let mut missed_stops = Vec::new();
    for p in &patrols {
        let figures = match p.shift {
            Shift::Day => &mut day,
            Shift::Night => &mut night,
        };
        figures.patrols += 1;
        figures.stops += p.visits.len() as u64;
        figures.visited += p.visits.iter().filter(|v| v.visited_at.is_some()).count() as u64;
        figures.track_m += p.track_m;
        if p.status == PatrolStatus::Finished {
            figures.finished += 1;
            if let Some(end) = p.finished_at {
                figures.duration_s +=
                    (end.as_millisecond() - p.started_at.as_millisecond()) as f64 / 1000.0;
            }
            for (stop, v) in p.visits.iter().enumerate() {
                if v.visited_at.is_none() {
                    figures.missed += 1;
                    missed_stops.push(MissedStop {
                        patrol: p.id.0,
                        stop,
                        hazard: v.hazard.map(|h| h.0),
                    });
                }
            }
        }
    }
    Ok(Coverage {
        grid: grid.as_str().to_owned(),
        from: from.to_string(),
        to: to.to_string(),
        hazards: hazards.len() as u64,
        inspections_required,
        inspections: inspections.len() as u64,
        hazards_inspected: inspected.len() as u64,
        due_at_end: hazards.iter().filter(|h| h.is_due(to)).count() as u64,
        day,
        night,
        missed_stops,
    })
}

/// One day of the due calendar.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DueDay {
    /// The day's start (the period's start plus whole days).
    pub day: String,
    /// Hazards falling due that day (on the first day: also every hazard
    /// already overdue).
    pub hazards: Vec<i64>,
}

/// Which of `grid`'s hazards fall due on each of `days` days from `from`,
/// assuming each is inspected on the day it falls due.
pub async fn calendar(
    store: &dyn Store,
    index: &GridIndex,
    grid: &GridId,
    from: Timestamp,
    days: u32,
) -> Result<Vec<DueDay>, PatrolError> {
    if index.get(grid).is_none() {
        let id = grid.as_str();
        return Err(PatrolError::invalid(
            "grid",
            text!("grid {id:?} does not exist", "网格 {id:?} 不存在"),
        ));
    }
    if !(1..=366).contains(&days) {
        return Err(PatrolError::invalid(
            "days",
            text!("days must be from 1 to 366", "days 须在 1 至 366 之间"),
        ));
    }
    let hazards = inspected_hazards_in(store, grid).await?;
    let day = SignedDuration::from_hours(24);
    let mut out: Vec<DueDay> = (0..days)
        .map(|d| DueDay {
            day: (from + day * i32::try_from(d).expect("at most 366")).to_string(),
            hazards: Vec::new(),
        })
        .collect();
    let day_ms = 86_400_000i64;
    for h in &hazards {
        let mut due = h.due_at().max(from);
        let step = SignedDuration::from_hours(24 * i64::from(h.interval_days));
        loop {
            let k = (due.as_millisecond() - from.as_millisecond()) / day_ms;
            if k >= i64::from(days) {
                break;
            }
            out[k as usize].hazards.push(h.id.0);
            due = match due.checked_add(step) {
                Ok(next) => next,
                Err(_) => break,
            };
        }
    }
    Ok(out)
}

/// One inspection of a hazard: a patrol reached its stop.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Inspection {
    /// The patrol.
    pub patrol: i64,
    /// The route it walked.
    pub route: i64,
    /// The grid it was for.
    pub grid: String,
    /// Who walked it.
    pub member: String,
    /// Day patrol or night watch.
    pub shift: Shift,
    /// When the stop was reached (RFC 3339).
    pub visited_at: String,
    /// How close the track or check-in came to the stop, metres.
    pub closest_m: Option<f64>,
    /// The photo of the check-in that reached it, if one was taken.
    pub photo_url: Option<String>,
}

/// The inspections of `hazard` among `patrols`, newest first: every stop of
/// a patrol that is the hazard and was reached, with the photo of the
/// check-in made at that moment.
pub fn inspections_of(hazard: HazardId, patrols: &[Patrol]) -> Vec<Inspection> {
    let mut found: Vec<(Timestamp, Inspection)> = patrols
        .iter()
        .flat_map(|p| {
            p.visits
                .iter()
                .filter(move |v| v.hazard == Some(hazard))
                .filter_map(move |v| {
                    let at = v.visited_at?;
                    let photo_url = p
                        .checkins
                        .iter()
                        .find(|c| c.time == at)
                        .and_then(|c| c.photo_url.clone());
                    Some((
                        at,
                        Inspection {
                            patrol: p.id.0,
                            route: p.route.0,
                            grid: p.grid.as_str().to_owned(),
                            member: p.member.clone(),
                            shift: p.shift,
                            visited_at: at.to_string(),
                            closest_m: v.closest_m,
                            photo_url,
                        },
                    ))
                })
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.patrol.cmp(&a.1.patrol)));
    found.into_iter().map(|(_, i)| i).collect()
}
