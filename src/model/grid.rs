//! A grid (网格): one polygon of the county's five-level hierarchy.

use std::fmt;

use geo::MultiPolygon;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A grid's identifier: an opaque, unique string chosen by whoever imports the
/// grids (the demo county uses its hierarchical code).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GridId(pub String);

impl GridId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GridId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for GridId {
    fn from(s: &str) -> Self {
        GridId(s.to_owned())
    }
}

/// A level of the hierarchy: 1 = town or township, 2 = village or community
/// cluster, 3 = village-group cluster, 4 = basic grid, 5 = sub-area (片区)
/// carved inside some level-4 grids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Level(u8);

/// A level number outside 1..=5.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("level must be 1 to 5, got {0}")]
pub struct LevelError(pub i64);

impl Level {
    /// The county's towns and townships.
    pub const TOWN: Level = Level(1);
    /// The deepest level: sub-areas inside a basic grid.
    pub const SUB_AREA: Level = Level(5);
    /// The five levels, top to bottom.
    pub const ALL: [Level; 5] = [Level(1), Level(2), Level(3), Level(4), Level(5)];

    /// The level with this number, if it is 1 to 5.
    pub fn new(n: i64) -> Result<Level, LevelError> {
        if (1..=5).contains(&n) {
            Ok(Level(n as u8))
        } else {
            Err(LevelError(n))
        }
    }

    /// The level's number, 1 to 5.
    pub fn get(self) -> u8 {
        self.0
    }

    /// Zero-based position in a chain (level 1 is index 0).
    pub fn index(self) -> usize {
        usize::from(self.0 - 1)
    }

    /// The level of this level's children, or `None` for sub-areas.
    pub fn child(self) -> Option<Level> {
        (self.0 < 5).then(|| Level(self.0 + 1))
    }

    /// The level of this level's parents, or `None` for towns.
    pub fn parent(self) -> Option<Level> {
        (self.0 > 1).then(|| Level(self.0 - 1))
    }
}

impl TryFrom<u8> for Level {
    type Error = LevelError;
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        Level::new(i64::from(n))
    }
}

impl From<Level> for u8 {
    fn from(l: Level) -> u8 {
        l.0
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The person responsible for a grid, read from its `leader` property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leader {
    /// Full name.
    pub name: String,
    /// Mobile number, as dialled in China.
    pub phone: String,
}

/// One grid: its place in the hierarchy, its boundary, and every other
/// property it was imported with (code, population, leader, …), kept as given.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Unique id.
    pub id: GridId,
    /// Level 1 to 5.
    pub level: Level,
    /// The grid this one partitions; `None` exactly for level 1.
    pub parent_id: Option<GridId>,
    /// Display name, e.g. 永清镇.
    pub name: String,
    /// Boundary in lon/lat degrees (WGS84 / CGCS2000), always a MultiPolygon
    /// so that exclaves need no special case.
    pub geometry: MultiPolygon<f64>,
    /// Every other GeoJSON property, in the order it was given.
    pub properties: Map<String, Value>,
}

impl Grid {
    /// The hierarchical code (`code` property), if any.
    pub fn code(&self) -> Option<&str> {
        self.properties.get("code").and_then(Value::as_str)
    }

    /// The leader (`leader` property with `name` and `phone`), if any.
    pub fn leader(&self) -> Option<Leader> {
        self.properties
            .get("leader")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// The grid as published to readers who are not logged in: the
    /// leader's name stays, their mobile number is left out.
    pub fn without_contacts(&self) -> Grid {
        let mut grid = self.clone();
        if let Some(Value::Object(leader)) = grid.properties.get_mut("leader") {
            leader.remove("phone");
        }
        grid
    }

    /// Resident population (`population` property), if any.
    pub fn population(&self) -> Option<u64> {
        self.properties.get("population").and_then(Value::as_u64)
    }
}
