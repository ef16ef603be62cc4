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

impl super::Localized for LevelError {
    fn zh(&self) -> String {
        format!("级别必须在 1 至 5 之间，收到的是 {}", self.0)
    }
}

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
    /// Mobile number, as dialled in China (empty when not given, or left
    /// out for a reader who may not see it).
    #[serde(default)]
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

/// Whether a property names a phone number.
fn is_contact_key(key: &str) -> bool {
    let key = key.to_lowercase();
    ["phone", "mobile", "电话", "手机"]
        .iter()
        .any(|word| key.contains(word))
        || key == "tel"
        || key.ends_with("_tel")
        || key.ends_with("_ph")
}

fn strip_contacts(properties: &mut Map<String, Value>) {
    properties.retain(|key, _| !is_contact_key(key));
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
    /// leader's name stays, every phone number is left out, however the
    /// import named it (`leader.phone`, a flat `leader_phone` or
    /// `leader_ph`, `电话`, a `leader` kept as a JSON string, …).
    pub fn without_contacts(&self) -> Grid {
        let mut grid = self.clone();
        strip_contacts(&mut grid.properties);
        if let Some(leader) = grid.properties.get_mut("leader") {
            if let Value::String(text) = leader
                && let Ok(Value::Object(parsed)) = serde_json::from_str::<Value>(text)
            {
                *leader = Value::Object(parsed);
            }
            if let Value::Object(fields) = leader {
                strip_contacts(fields);
            }
        }
        grid
    }

    /// Resident population (`population` property), if any.
    pub fn population(&self) -> Option<u64> {
        self.properties.get("population").and_then(Value::as_u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with(properties: Value) -> Grid {
        Grid {
            id: GridId::from("g"),
            level: Level::TOWN,
            parent_id: None,
            name: "镇".into(),
            geometry: MultiPolygon(Vec::new()),
            properties: properties.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn published_grids_keep_leaders_names_and_drop_every_number() {
        for properties in [
            json!({"leader": {"name": "王建国", "phone": "13800000000"}}),
            json!({"leader": "{\"name\": \"王建国\", \"phone\": \"13800000000\"}"}),
            json!({"leader": {"name": "王建国"}, "leader_phone": "13800000000"}),
            json!({"leader_nm": "王建国", "leader_ph": "13800000000"}),
            json!({"leader": {"name": "王建国", "Mobile": "13800000000"}, "联系电话": "0938-1"}),
        ] {
            let published = with(properties.clone()).without_contacts();
            let text = serde_json::to_string(&published.properties).expect("JSON");
            assert!(!text.contains("13800000000"), "{properties} → {text}");
            assert!(!text.contains("0938"), "{properties} → {text}");
            assert!(text.contains("王建国"), "{properties} → {text}");
        }
        let leader = with(json!({"leader": {"name": "王建国", "phone": "138"}}))
            .without_contacts()
            .leader();
        assert_eq!(
            leader,
            Some(Leader {
                name: "王建国".into(),
                phone: String::new()
            }),
            "the name still reads as a leader"
        );
    }
}
