//! The roads patrols follow, as imported: lines with a class.

use serde::{Deserialize, Serialize};

use crate::geom::LonLat;

/// What kind of road a line is, which decides nothing about routing (every
/// road is walkable) but is kept for the map and for statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoadClass {
    /// County and town roads (县道, 乡道).
    Main,
    /// Village roads (村道).
    Village,
    /// Footpaths and field tracks (小路).
    Path,
}

impl RoadClass {
    /// The name used in GeoJSON properties and the store.
    pub fn name(self) -> &'static str {
        match self {
            RoadClass::Main => "main",
            RoadClass::Village => "village",
            RoadClass::Path => "path",
        }
    }

    /// Parse a class name, or an OpenStreetMap `highway` value.
    pub fn parse(s: &str) -> Option<RoadClass> {
        Some(match s {
            "main" | "motorway" | "trunk" | "primary" | "secondary" | "tertiary" => RoadClass::Main,
            "village" | "residential" | "unclassified" | "service" | "living_street" | "track"
            | "road" => RoadClass::Village,
            "path" | "footway" | "pedestrian" | "steps" | "bridleway" | "cycleway" => {
                RoadClass::Path
            }
            _ => return None,
        })
    }
}

/// One road as imported: a polyline of at least two distinct points.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadLine {
    /// Its name, when it has one.
    pub name: Option<String>,
    /// Its class.
    pub class: RoadClass,
    /// Its vertices, WGS84.
    pub coords: Vec<LonLat>,
}
