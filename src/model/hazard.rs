//! Hazards (安全隐患): places that patrols must check, how risky each is,
//! and therefore how often it must be inspected.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::geom::LonLat;
use crate::model::{GridChain, GridId};

/// A hazard's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HazardId(pub i64);

impl std::fmt::Display for HazardId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What kind of hazard, with the name patrols read. The list is the one the
/// county's safety inspections use; imports naming anything else are refused.
pub const HAZARD_CATEGORIES: &[(&str, &str)] = &[
    ("fire", "消防隐患"),
    ("landslide", "地质灾害隐患点"),
    ("unsafe_building", "危房"),
    ("river_bank", "河道堤防"),
    ("electrical", "用电隐患"),
    ("gas", "燃气隐患"),
    ("school_zone", "校园周边"),
    ("hospital_zone", "医院周边"),
    ("traffic", "交通隐患"),
    ("other", "其他隐患"),
];

/// The Chinese name of a hazard category code, if it is one.
pub fn hazard_category_name(code: &str) -> Option<&'static str> {
    HAZARD_CATEGORIES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// The four-colour safety risk classes (红橙黄蓝), highest first.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskClass {
    /// 重大风险 (red): inspected every day.
    Major,
    /// 较大风险 (orange): every week.
    Significant,
    /// 一般风险 (yellow): every month.
    General,
    /// 低风险 (blue): every quarter.
    Low,
}

impl RiskClass {
    /// Every class, highest risk first.
    pub const ALL: [RiskClass; 4] = [
        RiskClass::Major,
        RiskClass::Significant,
        RiskClass::General,
        RiskClass::Low,
    ];

    /// The name used in the API and the store.
    pub fn name(self) -> &'static str {
        match self {
            RiskClass::Major => "major",
            RiskClass::Significant => "significant",
            RiskClass::General => "general",
            RiskClass::Low => "low",
        }
    }

    /// Parse a class name.
    pub fn parse(s: &str) -> Option<RiskClass> {
        RiskClass::ALL.into_iter().find(|c| c.name() == s)
    }

    /// Days between inspections that the class asks for.
    pub fn interval_days(self) -> u32 {
        match self {
            RiskClass::Major => 1,
            RiskClass::Significant => 7,
            RiskClass::General => 30,
            RiskClass::Low => 90,
        }
    }
}

/// Where a hazard stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HazardStatus {
    /// Registered and not yet dealt with: patrols inspect it.
    Open,
    /// Made safer (shored up, fenced off) but still inspected.
    Mitigated,
    /// Removed: no longer inspected.
    Closed,
}

impl HazardStatus {
    /// The name used in the API and the store.
    pub fn name(self) -> &'static str {
        match self {
            HazardStatus::Open => "open",
            HazardStatus::Mitigated => "mitigated",
            HazardStatus::Closed => "closed",
        }
    }

    /// Parse a status name.
    pub fn parse(s: &str) -> Option<HazardStatus> {
        [
            HazardStatus::Open,
            HazardStatus::Mitigated,
            HazardStatus::Closed,
        ]
        .into_iter()
        .find(|c| c.name() == s)
    }

    /// True while patrols must keep inspecting it.
    pub fn is_inspected(self) -> bool {
        self != HazardStatus::Closed
    }
}

/// One registered hazard.
#[derive(Debug, Clone, PartialEq)]
pub struct Hazard {
    /// Its number.
    pub id: HazardId,
    /// What it is called on the ground, e.g. 后沟滑坡点.
    pub name: String,
    /// Category code (see [`HAZARD_CATEGORIES`]).
    pub category: String,
    /// Risk class.
    pub risk: RiskClass,
    /// Days between inspections (the class's by default; may be set shorter
    /// or longer for one hazard).
    pub interval_days: u32,
    /// Where it stands.
    pub status: HazardStatus,
    /// Where patrols go to inspect it, WGS84. For an area, a point inside it.
    pub location: LonLat,
    /// The area it covers, when it is one (a slope, a river stretch), as a
    /// GeoJSON Polygon geometry.
    pub area: Option<geojson::Geometry>,
    /// Free text: what to look at.
    pub description: String,
    /// The grids at `location`, town to sub-area.
    pub chain: GridChain,
    /// When it was last inspected, if ever.
    pub last_inspected_at: Option<Timestamp>,
    /// When it was registered.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Bumped by every change (optimistic concurrency, like incidents).
    pub version: i64,
}

/// What a user says about a hazard when registering or importing it; the
/// grids, times and version are the server's.
#[derive(Debug, Clone, PartialEq)]
pub struct HazardDraft {
    /// What it is called on the ground.
    pub name: String,
    /// Category code.
    pub category: String,
    /// Risk class.
    pub risk: RiskClass,
    /// Days between inspections; `None` takes the class's.
    pub interval_days: Option<u32>,
    /// Status (new hazards are usually open).
    pub status: HazardStatus,
    /// Where patrols inspect it.
    pub location: LonLat,
    /// The area it covers, if any (a GeoJSON Polygon).
    pub area: Option<geojson::Geometry>,
    /// What to look at.
    pub description: String,
    /// When it was last inspected, if known (imports from an older register).
    pub last_inspected_at: Option<Timestamp>,
}

impl HazardDraft {
    /// The interval that applies: the one given, else the class's.
    pub fn interval_days(&self) -> u32 {
        self.interval_days.unwrap_or(self.risk.interval_days())
    }
}

impl Hazard {
    /// When the next inspection is due: registration time when never
    /// inspected, else the last inspection plus the interval.
    pub fn due_at(&self) -> Timestamp {
        match self.last_inspected_at {
            None => self.created_at,
            Some(at) => at
                .checked_add(SignedDuration::from_hours(
                    24 * i64::from(self.interval_days),
                ))
                .unwrap_or(Timestamp::MAX),
        }
    }

    /// True when it lies in `grid` (any level) or below it.
    pub fn lies_in(&self, grid: &GridId) -> bool {
        self.chain.iter().flatten().any(|g| g == grid)
    }

    /// The deepest grid it lies in.
    pub fn grid(&self) -> Option<&GridId> {
        self.chain.iter().rev().flatten().next()
    }

    /// True when an inspection is due at `at` (and the hazard is inspected at all).
    pub fn is_due(&self, at: Timestamp) -> bool {
        self.status.is_inspected() && self.due_at() <= at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hazard(risk: RiskClass, last: Option<&str>) -> Hazard {
        Hazard {
            id: HazardId(1),
            name: "后沟滑坡点".into(),
            category: "landslide".into(),
            risk,
            interval_days: risk.interval_days(),
            status: HazardStatus::Open,
            location: LonLat::new(106.1, 34.7),
            area: None,
            description: String::new(),
            chain: Default::default(),
            last_inspected_at: last.map(|s| s.parse().expect("timestamp")),
            created_at: "2026-01-01T00:00:00Z".parse().expect("timestamp"),
            updated_at: "2026-01-01T00:00:00Z".parse().expect("timestamp"),
            version: 1,
        }
    }

    #[test]
    fn due_dates_follow_the_risk_class_interval() {
        let at = |s: &str| s.parse::<Timestamp>().expect("timestamp");
        let never = hazard(RiskClass::Low, None);
        assert!(
            never.is_due(at("2026-01-01T00:00:00Z")),
            "never inspected: due at once"
        );
        let major = hazard(RiskClass::Major, Some("2026-03-01T08:00:00Z"));
        assert!(!major.is_due(at("2026-03-02T07:59:59Z")));
        assert!(major.is_due(at("2026-03-02T08:00:00Z")));
        let weekly = hazard(RiskClass::Significant, Some("2026-03-01T08:00:00Z"));
        assert_eq!(weekly.due_at(), at("2026-03-08T08:00:00Z"));
        let mut closed = hazard(RiskClass::Major, None);
        closed.status = HazardStatus::Closed;
        assert!(
            !closed.is_due(at("2027-01-01T00:00:00Z")),
            "closed hazards are not inspected"
        );
    }
}
