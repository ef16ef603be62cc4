//! "Small matters stay in the village, big matters in the town, major
//! matters in the county" (小事不出村社、大事不出乡镇、要事不出县): who handles an
//! incident, how long they have, and where it goes when that is not enough.
//!
//! An incident is handled at a [`Tier`]: one of the five grid levels of the
//! point's chain, or the county centre above them. Its [`Severity`] sets the
//! first tier: a minor matter starts with the deepest grid's leader (the
//! person who patrols there), a major one with the town, a critical one with
//! the county. Each tier has a deadline ([`Deadlines`]); escalation moves an
//! incident one tier up, to the parent grid and its leader, and restarts the
//! clock. Tiers whose grid the chain lacks (a point in a basic grid with no
//! sub-areas has no level-5 grid) are skipped.

use std::time::Duration;

use crate::model::{Level, Localized, Tier};

/// The tier above `tier` that the chain has a grid for (or the county),
/// given which levels the chain holds; `None` at the county.
pub fn escalation_target(tier: Tier, has_level: impl Fn(Level) -> bool) -> Option<Tier> {
    let mut up = tier.up()?;
    while let Some(level) = up.level() {
        if has_level(level) {
            break;
        }
        up = up.up()?;
    }
    Some(up)
}

/// How long each tier has before an open incident is overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    by_tier: [Duration; 6],
}

const DAY: Duration = Duration::from_secs(24 * 3600);

impl Default for Deadlines {
    /// One day for the grids and the village, seven for the town, twenty
    /// for the county.
    fn default() -> Self {
        Deadlines {
            by_tier: [20 * DAY, 7 * DAY, DAY, DAY, DAY, DAY],
        }
    }
}

/// A deadline setting that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "deadline {0:?}: write TIER=DAYS pairs separated by commas, tiers county, town, village, \
     group, grid, patch, days a positive number (e.g. village=1,town=7,county=20)"
)]
pub struct DeadlinesError(pub String);

impl Localized for DeadlinesError {
    fn zh(&self) -> String {
        format!(
            "办理期限设置 {:?} 无法识别：请写成以逗号分隔的 TIER=DAYS，TIER 为 county、town、\
             village、group、grid、patch，DAYS 为正数（例如 village=1,town=7,county=20）",
            self.0
        )
    }
}

impl Deadlines {
    /// How long `tier` has.
    pub fn of(&self, tier: Tier) -> Duration {
        self.by_tier[usize::from(tier.number())]
    }

    /// The defaults with some tiers changed, from `village=1,town=7,county=20`
    /// (days; fractions allowed). `village` sets the grid tiers under it too
    /// unless they are given.
    pub fn parse(s: &str) -> Result<Deadlines, DeadlinesError> {
        let mut deadlines = Deadlines::default();
        let mut given = [false; 6];
        let bad = |part: &str| DeadlinesError(part.trim().to_owned());
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, days) = part.split_once('=').ok_or_else(|| bad(part))?;
            let tier = Tier::from_name(name.trim()).ok_or_else(|| bad(part))?;
            let days: f64 = days.trim().parse().map_err(|_| bad(part))?;
            if !(days.is_finite() && days > 0.0 && days <= 3650.0) {
                return Err(bad(part));
            }
            let i = usize::from(tier.number());
            deadlines.by_tier[i] = Duration::from_secs_f64(days * 86_400.0);
            given[i] = true;
        }
        for i in 3..6 {
            if given[2] && !given[i] {
                deadlines.by_tier[i] = deadlines.by_tier[2];
            }
        }
        Ok(deadlines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn tier(n: i64) -> Tier {
        Tier::from_number(n).expect("a tier")
    }

    fn level(n: i64) -> Level {
        Level::new(n).expect("a level")
    }

    #[test]
    fn severity_sets_the_first_tier() {
        assert_eq!(Severity::Minor.first_tier(Some(level(5))), tier(5));
        assert_eq!(Severity::Minor.first_tier(Some(level(4))), tier(4));
        assert_eq!(Severity::Major.first_tier(Some(level(4))), tier(1));
        assert_eq!(Severity::Critical.first_tier(Some(level(5))), Tier::COUNTY);
        assert_eq!(Severity::Minor.first_tier(None), Tier::COUNTY);
    }

    /// Escalation walks up one level at a time, skipping levels the chain
    /// lacks, and stops at the county.
    #[test]
    fn escalation_walks_up_the_chain() {
        let all = |_: Level| true;
        let path: Vec<Tier> =
            std::iter::successors(Some(tier(5)), |t| escalation_target(*t, all)).collect();
        assert_eq!(path, Tier::ALL.into_iter().rev().collect::<Vec<_>>());
        // A chain without level 3 goes from 4 straight to 2.
        let no_three = |l: Level| l.get() != 3;
        assert_eq!(escalation_target(tier(4), no_three), Some(tier(2)));
        assert_eq!(escalation_target(Tier::COUNTY, all), None);
    }

    #[test]
    fn deadlines_default_and_parse() {
        let d = Deadlines::default();
        assert_eq!(d.of(tier(4)), DAY);
        assert_eq!(d.of(tier(1)), 7 * DAY);
        assert_eq!(d.of(Tier::COUNTY), 20 * DAY);
        let d = Deadlines::parse("village=2, town=10,county=30,grid=0.5").expect("valid");
        assert_eq!(d.of(tier(2)), 2 * DAY);
        assert_eq!(d.of(tier(3)), 2 * DAY, "village sets the tiers under it");
        assert_eq!(d.of(tier(4)), DAY / 2, "unless given");
        assert_eq!(d.of(tier(1)), 10 * DAY);
        for bad in [
            "village", "hamlet=1", "town=0", "town=-1", "town=x", "town=NaN",
        ] {
            let e = Deadlines::parse(bad).expect_err(bad);
            assert!(e.to_string().contains("TIER=DAYS"), "{e}");
            assert!(e.zh().contains("TIER=DAYS"), "{}", e.zh());
        }
    }

    #[test]
    fn names_round_trip() {
        for t in Tier::ALL {
            assert_eq!(Tier::from_name(t.name()), Some(t));
            assert_eq!(Tier::from_number(i64::from(t.number())), Some(t));
        }
        for s in Severity::ALL {
            assert_eq!(Severity::from_name(s.name()), Some(s));
        }
    }
}
