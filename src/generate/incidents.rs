//! A year of synthetic incidents for the demo county, so that the map, the
//! dispatcher's lists and the statistics can be tried at real scale.
//!
//! Deterministic for a seed. Each incident is placed in a basic grid drawn
//! by population, at a random point inside it; its category, severity and
//! source follow fixed proportions (disputes the largest share, as in the
//! county's figures); its life is a plausible sequence of actions spaced
//! over hours and days, applied through the same dispatch rules as real
//! reports (by `cli::demo`), each at its own time. Steps that would fall after `end` are
//! left out, so recent incidents are still open, some overdue. About 99%
//! of disputes end resolved, about 2% of community issues are dismissed,
//! and one incident in ten is escalated by hand before it is resolved.

use jiff::{SignedDuration, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::geom::LonLat;
use crate::index::GridIndex;
use crate::model::{Action, Level, ReportSource, Severity};

/// Categories and their share (per thousand) of reports.
const CATEGORY_SHARES: [(&str, u32); 6] = [
    ("dispute", 350),
    ("sanitation", 200),
    ("infrastructure", 150),
    ("safety_hazard", 120),
    ("public_order", 100),
    ("other", 80),
];

/// One demo incident: its report and the steps of its life, each at its
/// own time (only the steps up to the end of the simulated year).
#[derive(Debug, Clone)]
pub struct DemoIncident {
    /// When it is reported.
    pub at: Timestamp,
    /// The report.
    pub report: DemoReport,
    /// What happens to it afterwards, in time order.
    pub steps: Vec<(Timestamp, DemoStep)>,
}

/// What a demo report says.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Category code.
    pub category: String,
    /// What happened.
    pub description: String,
    /// Where, WGS84.
    pub point: LonLat,
    /// How serious.
    pub severity: Severity,
    /// How it came in.
    pub source: ReportSource,
}

/// One step of a demo incident's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoStep {
    /// A process action, with the note it carries (if any).
    Act(Action, Option<&'static str>),
    /// One tier up, by hand.
    Escalate,
}

/// `count` incidents reported over the year before `end` in the basic grids
/// of `index` (drawn by population), each with its life up to `end`.
/// Deterministic for a seed and a set of grids.
pub fn demo_incidents(
    index: &GridIndex,
    count: usize,
    seed: u64,
    end: Timestamp,
) -> Vec<DemoIncident> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let places = Places::new(index);
    let year = SignedDuration::from_hours(365 * 24);
    let start = end - year;
    // Reports in time order, as they would have arrived.
    let mut times: Vec<i64> = (0..count)
        .map(|_| rng.random_range(0..year.as_secs()))
        .collect();
    times.sort_unstable();
    times
        .into_iter()
        .enumerate()
        .map(|(n, offset)| {
            let at = start + SignedDuration::from_secs(offset);
            let report = demo_report(&mut rng, &places, n);
            let steps = life(&mut rng, &report.category)
                .into_iter()
                .map(|(after, step)| (at + after, step))
                .take_while(|(when, _)| *when <= end)
                .collect();
            DemoIncident { at, report, steps }
        })
        .collect()
}

/// Basic grids with their cumulative population, to draw places by
/// population.
struct Places {
    grids: Vec<(u64, geo::MultiPolygon<f64>)>,
    total: u64,
}

impl Places {
    fn new(index: &GridIndex) -> Places {
        let basic = Level::new(4).expect("4 is a level");
        let mut total = 0;
        let grids = index
            .grids()
            .iter()
            .filter(|g| g.level == basic)
            .map(|g| {
                total += g.population().unwrap_or(1).max(1);
                (total, g.geometry.clone())
            })
            .collect();
        Places { grids, total }
    }

    /// A point inside a basic grid drawn by population (the county's middle
    /// when there are no basic grids).
    fn point(&self, rng: &mut ChaCha8Rng) -> LonLat {
        use geo::{BoundingRect, Contains};
        if self.grids.is_empty() {
            return LonLat::new(106.14, 34.75);
        }
        let pick = rng.random_range(0..self.total);
        let at = self.grids.partition_point(|(cum, _)| *cum <= pick);
        let shape = &self.grids[at.min(self.grids.len() - 1)].1;
        let Some(rect) = shape.bounding_rect() else {
            return LonLat::new(106.14, 34.75);
        };
        for _ in 0..1000 {
            let p = geo::Point::new(
                rng.random_range(rect.min().x..=rect.max().x),
                rng.random_range(rect.min().y..=rect.max().y),
            );
            if shape.contains(&p) {
                return LonLat::new(p.x(), p.y());
            }
        }
        LonLat::new(rect.center().x, rect.center().y)
    }
}

fn demo_report(rng: &mut ChaCha8Rng, places: &Places, n: usize) -> DemoReport {
    let mut pick = rng.random_range(0..1000);
    let category = CATEGORY_SHARES
        .iter()
        .find(|(_, share)| {
            let hit = pick < *share;
            pick = pick.saturating_sub(*share);
            hit
        })
        .map_or("other", |(c, _)| c);
    let severity = match rng.random_range(0..100) {
        0..90 => Severity::Minor,
        90..98 => Severity::Major,
        _ => Severity::Critical,
    };
    let source = ReportSource::ALL[rng.random_range(0..ReportSource::ALL.len())];
    let description = match category {
        "dispute" => "邻里因宅基地边界发生纠纷",
        "sanitation" => "村口垃圾堆积未清运",
        "infrastructure" => "自来水管道破裂，多户停水",
        "safety_hazard" => "危房墙体开裂，存在倒塌风险",
        "public_order" => "夜间有人聚众喧哗",
        _ => "群众反映其他问题",
    };
    DemoReport {
        category: category.to_owned(),
        description: format!("{description}（演示 {n}）"),
        point: places.point(rng),
        severity,
        source,
    }
}

fn hours(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> SignedDuration {
    SignedDuration::from_secs(rng.random_range(lo * 3600..=hi * 3600))
}

/// Hours to resolve: mostly a day or two, with a long tail.
fn resolve_time(rng: &mut ChaCha8Rng) -> SignedDuration {
    let base: f64 = rng.random_range(0.0f64..1.0);
    SignedDuration::from_secs_f64(3600.0 * (2.0 + 400.0 * base.powi(4)))
}

/// The steps of one incident's life with the time from its report to each.
fn life(rng: &mut ChaCha8Rng, category: &str) -> Vec<(SignedDuration, DemoStep)> {
    use Action::*;
    let mut t = SignedDuration::ZERO;
    let mut steps = Vec::new();
    let mut push = |t: &mut SignedDuration, gap: SignedDuration, step: DemoStep| {
        *t += gap;
        steps.push((*t, step));
    };
    let escalated = rng.random_range(0..10) == 0;
    if category == "dispute" {
        push(
            &mut t,
            hours(rng, 1, 6),
            DemoStep::Act(Action::Report, None),
        );
        push(&mut t, hours(rng, 4, 48), DemoStep::Act(Convene, None));
        if escalated {
            push(&mut t, hours(rng, 12, 48), DemoStep::Escalate);
        }
        if rng.random_range(0..1000) < 6 {
            // Still in mediation: the county's 1%.
            return steps;
        }
        if rng.random_range(0..20) == 0 {
            push(&mut t, hours(rng, 1, 24), DemoStep::Act(NameOwner, None));
        }
        push(
            &mut t,
            resolve_time(rng),
            DemoStep::Act(Resolve, Some("双方达成调解协议")),
        );
        push(
            &mut t,
            hours(rng, 1, 4),
            DemoStep::Act(ScheduleFollowUp, None),
        );
        push(
            &mut t,
            hours(rng, 24 * 6, 24 * 8),
            DemoStep::Act(RecordFollowUp, Some("回访：协议履行良好")),
        );
    } else {
        push(&mut t, hours(rng, 1, 8), DemoStep::Act(Verify, None));
        if rng.random_range(0..50) == 0 {
            push(
                &mut t,
                hours(rng, 1, 4),
                DemoStep::Act(Dismiss, Some("核实为重复上报")),
            );
            return steps;
        }
        push(&mut t, hours(rng, 4, 48), DemoStep::Act(Study, None));
        if escalated {
            push(&mut t, hours(rng, 12, 48), DemoStep::Escalate);
        }
        push(&mut t, hours(rng, 1, 24), DemoStep::Act(Assign, None));
        push(
            &mut t,
            resolve_time(rng),
            DemoStep::Act(Resolve, Some("已处理完毕")),
        );
        push(
            &mut t,
            hours(rng, 24, 72),
            DemoStep::Act(RecordFeedback, Some("群众满意")),
        );
    }
    steps
}
