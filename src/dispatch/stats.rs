//! Statistics of incidents per grid of one level over a period: how many
//! were reported, resolved, dismissed, are still open, are overdue now, the
//! resolution rate and the median time to resolve, overall and by category.
//! The county's own figure ("12,432 disputes found, 12,360 resolved, 99%")
//! is this table for level 1 over three years, summed.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::model::{GridId, Incident, Level};
use crate::workflow::Status;

/// Counts for one group (a grid, or the whole selection).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Reported in the period.
    pub reported: u64,
    /// Of those, resolved (resolved, in follow-up, or closed after
    /// resolution).
    pub resolved: u64,
    /// Of those, dismissed as false or duplicate.
    pub dismissed: u64,
    /// Of those, still being handled.
    pub open: u64,
    /// Of the open ones, past their deadline now.
    pub overdue: u64,
    /// `resolved / (reported - dismissed)`, 0 to 1; `None` with nothing to
    /// resolve.
    pub resolution_rate: Option<f64>,
    /// Median hours from report to resolution, over the resolved.
    pub median_hours_to_resolve: Option<f64>,
}

/// One grid's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridStats {
    /// The grid (of the chosen level) the incidents were reported in;
    /// `None` for incidents outside every grid of that level.
    pub grid: Option<GridId>,
    /// All categories together.
    #[serde(flatten)]
    pub counts: Counts,
    /// Per category code.
    pub by_category: BTreeMap<String, Counts>,
}

/// One calendar month's figures (of the incidents reported in it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthStats {
    /// `YYYY-MM`, in China Standard Time (UTC+08:00), the county's calendar.
    pub month: String,
    /// All categories together.
    #[serde(flatten)]
    pub counts: Counts,
    /// Per category code.
    pub by_category: BTreeMap<String, Counts>,
}

/// The table: one row per grid with incidents, one per month, and the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// The level grouped by.
    pub level: Level,
    /// Per grid, by grid id (incidents outside every grid last).
    pub grids: Vec<GridStats>,
    /// Per month reported in, oldest first (months with no report left out).
    pub months: Vec<MonthStats>,
    /// Everything selected.
    pub total: GridStats,
}

/// The county's calendar month of a moment (UTC+08:00), `YYYY-MM`.
pub fn county_month(at: Timestamp) -> String {
    let date = jiff::tz::offset(8).to_datetime(at).date();
    format!("{:04}-{:02}", date.year(), date.month())
}

/// Whether an incident counts as resolved: it reached resolution (closing
/// after feedback or follow-up implies it), and was not dismissed.
fn is_resolved(i: &Incident) -> bool {
    matches!(i.status, Status::Resolved | Status::FollowUp)
        || (i.status == Status::Closed && i.resolved_at.is_some())
}

#[derive(Default)]
struct Tally {
    reported: u64,
    resolved: u64,
    dismissed: u64,
    open: u64,
    overdue: u64,
    hours: Vec<f64>,
}

impl Tally {
    fn add(&mut self, i: &Incident, now: Timestamp) {
        self.reported += 1;
        if is_resolved(i) {
            self.resolved += 1;
            if let Some(at) = i.resolved_at {
                self.hours
                    .push(at.duration_since(i.reported_at).as_secs_f64() / 3600.0);
            }
        } else if i.status == Status::Dismissed {
            self.dismissed += 1;
        } else if i.status.is_open() {
            self.open += 1;
            if i.is_overdue(now) {
                self.overdue += 1;
            }
        }
    }

    fn counts(mut self) -> Counts {
        let to_resolve = self.reported - self.dismissed;
        self.hours.sort_by(f64::total_cmp);
        let median = match self.hours.len() {
            0 => None,
            n if n % 2 == 1 => Some(self.hours[n / 2]),
            n => Some((self.hours[n / 2 - 1] + self.hours[n / 2]) / 2.0),
        };
        Counts {
            reported: self.reported,
            resolved: self.resolved,
            dismissed: self.dismissed,
            open: self.open,
            overdue: self.overdue,
            resolution_rate: (to_resolve > 0).then(|| self.resolved as f64 / to_resolve as f64),
            median_hours_to_resolve: median,
        }
    }
}

#[derive(Default)]
struct GroupTally {
    all: Tally,
    by_category: BTreeMap<String, Tally>,
}

impl GroupTally {
    fn add(&mut self, i: &Incident, now: Timestamp) {
        self.all.add(i, now);
        self.by_category
            .entry(i.category.clone())
            .or_default()
            .add(i, now);
    }

    fn finish(self, grid: Option<GridId>) -> GridStats {
        GridStats {
            grid,
            counts: self.all.counts(),
            by_category: self
                .by_category
                .into_iter()
                .map(|(k, t)| (k, t.counts()))
                .collect(),
        }
    }
}

/// The statistics of `incidents` grouped by their grid at `level` (as
/// reported), with overdue judged at `now`.
pub fn summarise<'a>(
    incidents: impl IntoIterator<Item = &'a Incident>,
    level: Level,
    now: Timestamp,
) -> Stats {
    let mut groups: BTreeMap<Option<GridId>, GroupTally> = BTreeMap::new();
    let mut months: BTreeMap<String, GroupTally> = BTreeMap::new();
    let mut total = GroupTally::default();
    for i in incidents {
        let grid = i.chain[level.index()].clone();
        groups.entry(grid).or_default().add(i, now);
        months
            .entry(county_month(i.reported_at))
            .or_default()
            .add(i, now);
        total.add(i, now);
    }
    // BTreeMap puts `None` first; outside-the-grids goes last.
    let mut grids: Vec<GridStats> = groups
        .into_iter()
        .map(|(grid, tally)| tally.finish(grid))
        .collect();
    let outside_first = grids.first().is_some_and(|g| g.grid.is_none());
    grids.rotate_left(usize::from(outside_first));
    let months = months
        .into_iter()
        .map(|(month, tally)| {
            let GridStats {
                counts,
                by_category,
                ..
            } = tally.finish(None);
            MonthStats {
                month,
                counts,
                by_category,
            }
        })
        .collect();
    Stats {
        level,
        grids,
        months,
        total: total.finish(None),
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::geom::{InputCrs, LonLat};
    use crate::model::{IncidentId, ReportSource, ReportedPoint};
    use crate::workflow::{Severity, Tier, WorkflowKind};

    fn incident(n: i64, town: &str, category: &str, status: Status, hours: i64) -> Incident {
        let t0: Timestamp = "2024-01-01T00:00:00Z".parse().expect("time");
        let reported_at = t0 + SignedDuration::from_hours(n);
        let resolved = matches!(status, Status::Resolved | Status::Closed);
        Incident {
            id: IncidentId(n),
            category: category.into(),
            workflow: WorkflowKind::Dispute,
            status,
            severity: Severity::Minor,
            description: String::new(),
            reporter: None,
            source: ReportSource::GridMember,
            photos: Vec::new(),
            point: ReportedPoint {
                wgs84: LonLat::new(106.1, 34.7),
                original: LonLat::new(106.1, 34.7),
                crs: InputCrs::Wgs84,
            },
            chain: [Some(GridId::from(town)), None, None, None, None],
            tier: Tier::COUNTY,
            responsible: None,
            owner: None,
            follow_up_due: None,
            reported_at,
            updated_at: reported_at,
            tier_since: reported_at,
            deadline: reported_at + SignedDuration::from_hours(24),
            resolved_at: resolved.then(|| reported_at + SignedDuration::from_hours(hours)),
            closed_at: None,
            version: 1,
        }
    }

    /// The county's figure: 12,432 disputes found over three years, 12,360
    /// resolved: 99.4%, which the county reports as 99%.
    #[test]
    fn the_countys_figure_is_reproduced() {
        let towns = ["永清镇", "红堡镇", "白驼镇"];
        let incidents: Vec<Incident> = (0..12_432)
            .map(|n| {
                let status = if n < 12_360 {
                    Status::Closed
                } else {
                    Status::Mediating
                };
                incident(n, towns[n as usize % 3], "dispute", status, 1 + n % 72)
            })
            .collect();
        let now: Timestamp = "2027-01-01T00:00:00Z".parse().expect("time");
        let stats = summarise(&incidents, Level::TOWN, now);
        let total = &stats.total.counts;
        assert_eq!((total.reported, total.resolved), (12_432, 12_360));
        let rate = total.resolution_rate.expect("a rate");
        assert_eq!(format!("{:.0}%", rate * 100.0), "99%");
        assert!((rate - 12_360.0 / 12_432.0).abs() < 1e-12);
        assert_eq!(total.open, 72);
        assert_eq!(total.overdue, 72, "all unresolved ones are long past due");
        assert_eq!(stats.grids.len(), 3);
        assert_eq!(
            stats.grids.iter().map(|g| g.counts.reported).sum::<u64>(),
            12_432
        );
        assert_eq!(stats.total.by_category["dispute"].resolved, 12_360);
    }

    /// Months follow the county's calendar: 2024-01-31T16:00Z is already
    /// 1 February in Qingshui.
    #[test]
    fn months_are_the_countys_calendar_months() {
        let mut late_january = incident(1, "a", "dispute", Status::Resolved, 5);
        late_january.reported_at = "2024-01-31T15:59:59Z".parse().expect("time");
        let mut early_february = incident(2, "b", "sanitation", Status::Collected, 0);
        early_february.reported_at = "2024-01-31T16:00:00Z".parse().expect("time");
        let mut march = incident(3, "a", "dispute", Status::Closed, 5);
        march.reported_at = "2024-03-10T00:00:00Z".parse().expect("time");
        let now: Timestamp = "2024-04-01T00:00:00Z".parse().expect("time");
        let stats = summarise(&[early_february, march, late_january], Level::TOWN, now);
        let months: Vec<(&str, u64, u64)> = stats
            .months
            .iter()
            .map(|m| (m.month.as_str(), m.counts.reported, m.counts.resolved))
            .collect();
        assert_eq!(
            months,
            [("2024-01", 1, 1), ("2024-02", 1, 0), ("2024-03", 1, 1)]
        );
        assert_eq!(stats.months[1].by_category["sanitation"].open, 1);
    }

    #[test]
    fn medians_dismissals_and_groups() {
        let now: Timestamp = "2024-01-05T00:00:00Z".parse().expect("time");
        let incidents = vec![
            incident(1, "a", "dispute", Status::Resolved, 10),
            incident(2, "a", "dispute", Status::Resolved, 30),
            incident(3, "a", "sanitation", Status::Closed, 20),
            incident(4, "a", "sanitation", Status::Dismissed, 0),
            incident(5, "b", "sanitation", Status::Collected, 0),
            incident(90, "b", "sanitation", Status::Collected, 0),
        ];
        let stats = summarise(&incidents, Level::TOWN, now);
        let a = &stats.grids[0];
        assert_eq!(a.grid, Some(GridId::from("a")));
        assert_eq!(
            (a.counts.reported, a.counts.resolved, a.counts.dismissed),
            (4, 3, 1)
        );
        assert_eq!(
            a.counts.resolution_rate,
            Some(1.0),
            "dismissed are not to resolve"
        );
        assert_eq!(a.counts.median_hours_to_resolve, Some(20.0));
        assert_eq!(a.by_category["dispute"].median_hours_to_resolve, Some(20.0));
        let b = &stats.grids[1];
        assert_eq!(
            (b.counts.open, b.counts.overdue),
            (2, 1),
            "only #5 is past due"
        );
        assert_eq!(b.counts.resolution_rate, Some(0.0));
        assert_eq!(b.counts.median_hours_to_resolve, None);
    }
}
