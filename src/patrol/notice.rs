//! What the planner tells a grid leader about a route (no road network, a
//! stop far from any road, legs across country, the way leaving the grid,
//! hazards left out) and why a due hazard was left out of a plan. Both are
//! typed here and written out only at the edge, in English for API clients
//! or in Chinese for the web map (by `Accept-Language`).

use std::fmt;

pub use crate::model::Language;
use crate::routing::OFF_ROAD_FACTOR;

/// Something about a planned or saved route the leader should know.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// No road network is loaded: distances are great-circle, the way straight.
    NoRoadNetwork,
    /// Stop `stop` (1-based) is `metres` from the nearest road.
    FarFromRoad {
        /// Which stop, counted from 1.
        stop: usize,
        /// Its name.
        name: String,
        /// How far from the nearest road.
        metres: f64,
    },
    /// These legs leave the roads (on foot). Each is `(from, to)` over the
    /// route's points: 0 is the start, k the k-th stop.
    OffRoad {
        /// The legs, in route order.
        legs: Vec<(usize, usize)>,
    },
    /// The way leaves the route's grid through other grids.
    LeavesGrid {
        /// The route's grid.
        grid: String,
        /// The grids it passes through, at the highest level left.
        through: Vec<String>,
    },
    /// Due hazards that are not in the route (listed in `left_out`).
    HazardsLeftOut {
        /// How many.
        count: usize,
    },
}

impl Notice {
    /// The notice in `language`.
    pub fn text(&self, language: Language) -> String {
        match language {
            Language::English => self.to_string(),
            Language::Chinese => self.chinese(),
        }
    }

    fn chinese(&self) -> String {
        let point = |p: usize| match p {
            0 => "起点".to_owned(),
            p => format!("第 {p} 个点位"),
        };
        let legs_of = |legs: &[(usize, usize)]| join_legs(legs, point, "，");
        match self {
            Notice::NoRoadNetwork => {
                "尚未导入路网：距离按直线计算，路线在点位之间画成直线。".into()
            }
            Notice::FarFromRoad { stop, name, metres } => {
                format!("第 {stop} 个点位（{name}）离最近的道路 {metres:.0} 米。")
            }
            Notice::OffRoad { legs } => format!(
                "有 {} 段路离开道路，步行穿过路网未收录的田地和村巷（图上为虚线直线，按直线距离的 {OFF_ROAD_FACTOR} 倍计）：{}。",
                legs.len(),
                legs_of(legs)
            ),
            Notice::LeavesGrid { grid, through } => {
                format!("路线经过{}，离开了{grid}。", through.join("、"))
            }
            Notice::HazardsLeftOut { count } => {
                format!("有 {count} 处到期隐患未排入路线（见未排入原因）。")
            }
        }
    }
}

impl fmt::Display for Notice {
    /// The English text, as API clients have always read it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let point = |p: usize| match p {
            0 => "the start".to_owned(),
            p => format!("stop {p}"),
        };
        let legs_of = |legs: &[(usize, usize)]| join_legs(legs, point, ", ");
        match self {
            Notice::NoRoadNetwork => f.write_str(
                "no road network is loaded: distances are great-circle and the way is drawn \
                 straight between stops",
            ),
            Notice::FarFromRoad { stop, name, metres } => {
                write!(
                    f,
                    "stop {stop} ({name}) is {metres:.0} m from the nearest road"
                )
            }
            Notice::OffRoad { legs } => write!(
                f,
                "{} leg(s) leave the roads, across fields and village lanes the road network \
                 does not hold (drawn straight, counted at {OFF_ROAD_FACTOR} times the straight \
                 line): {}",
                legs.len(),
                legs_of(legs)
            ),
            Notice::LeavesGrid { grid, through } => {
                write!(f, "the route leaves {grid} through {}", through.join(", "))
            }
            Notice::HazardsLeftOut { count } => {
                write!(f, "{count} due hazard(s) are not in the route")
            }
        }
    }
}

/// Legs as "from → to", each point named by `point`, joined by `separator`.
fn join_legs(legs: &[(usize, usize)], point: impl Fn(usize) -> String, separator: &str) -> String {
    legs.iter()
        .map(|&(a, b)| format!("{} → {}", point(a), point(b)))
        .collect::<Vec<_>>()
        .join(separator)
}

/// Why a due hazard is not in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftOutReason {
    /// More hazards were due than a route takes; the most urgent were planned.
    TooMany {
        /// The most stops a route takes.
        max_stops: usize,
    },
    /// No road connects it to the start (driving).
    Unreachable,
    /// It does not fit in the shift's length or time limit.
    DoesNotFit,
}

impl LeftOutReason {
    /// The reason in `language`.
    pub fn text(self, language: Language) -> String {
        match (self, language) {
            (LeftOutReason::TooMany { max_stops }, Language::English) => {
                format!("more than {max_stops} hazards are due; the most urgent were planned")
            }
            (LeftOutReason::TooMany { max_stops }, Language::Chinese) => {
                format!("到期隐患超过 {max_stops} 处，已排入最紧急的。")
            }
            (LeftOutReason::Unreachable, Language::English) => {
                "no road connects it to the start".into()
            }
            (LeftOutReason::Unreachable, Language::Chinese) => "没有道路从起点通到这里。".into(),
            (LeftOutReason::DoesNotFit, Language::English) => {
                "does not fit in the shift's length or time limit".into()
            }
            (LeftOutReason::DoesNotFit, Language::Chinese) => "超出本班次的里程或时间限制。".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_name_the_same_legs_in_both_languages() {
        let notice = Notice::OffRoad {
            legs: vec![(0, 1), (3, 0)],
        };
        let english = notice.text(Language::English);
        assert!(english.starts_with("2 leg(s) leave the roads"), "{english}");
        assert!(
            english.ends_with("the start → stop 1, stop 3 → the start"),
            "{english}"
        );
        let chinese = notice.text(Language::Chinese);
        assert!(chinese.contains("有 2 段路离开道路"), "{chinese}");
        assert!(
            chinese.contains("起点 → 第 1 个点位，第 3 个点位 → 起点"),
            "{chinese}"
        );
        assert!(
            !chinese.chars().any(|c| c.is_ascii_alphabetic()),
            "{chinese}"
        );
    }

    #[test]
    fn every_reason_is_written_in_chinese_without_english_words() {
        for reason in [
            LeftOutReason::TooMany { max_stops: 12 },
            LeftOutReason::Unreachable,
            LeftOutReason::DoesNotFit,
        ] {
            let text = reason.text(Language::Chinese);
            assert!(!text.chars().any(|c| c.is_ascii_alphabetic()), "{text}");
            assert_ne!(text, reason.text(Language::English));
        }
    }
}
