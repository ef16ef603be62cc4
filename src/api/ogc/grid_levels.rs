//! The grid collections: one per level of the hierarchy, served from the
//! in-memory index snapshot, ordered by grid id.
//!
//! A grid feature is written straight to bytes, never through a
//! `serde_json::Value` tree: the top-level `id` is the grid id, the
//! geometry is always a MultiPolygon (one geometry type per collection, as
//! GIS clients expect of a layer), and the properties are flat (`code`,
//! `name`, `level`, `parent`, `population`, `leader`, `leader_phone`)
//! because GDAL turns nested objects into strings. The export at
//! `/api/grids` keeps every imported property as given; this is the
//! tabular view.

use std::sync::Arc;

use async_trait::async_trait;
use geo::{Intersects, LineString, MultiPolygon, Polygon};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use utoipa::ToSchema;

use super::filter::Queryable;
use super::links::Link;
use super::source::{CollectionTime, FeatureKey, FeatureSource, Snapshot};
use crate::api::ApiError;
use crate::geom::Bbox;
use crate::index::GridIndex;
use crate::model::{Grid, GridId, Level};
use crate::state::AppState;

/// The collection of every grid of one level.
pub(super) struct GridLevel {
    /// The level served.
    pub(super) level: Level,
    /// The collection id.
    pub(super) id: &'static str,
    /// Its title.
    pub(super) title: &'static str,
    /// Its description.
    pub(super) description: &'static str,
}

#[async_trait]
impl FeatureSource for GridLevel {
    fn id(&self) -> &'static str {
        self.id
    }

    fn title(&self) -> &'static str {
        self.title
    }

    fn description(&self) -> &'static str {
        self.description
    }

    fn queryables(&self) -> &'static [Queryable] {
        &GRID_QUERYABLES
    }

    fn time(&self) -> CollectionTime {
        CollectionTime::Versions
    }

    async fn snapshot(
        &self,
        state: &AppState,
        datetime: Option<jiff::Timestamp>,
        contacts: bool,
    ) -> Result<Box<dyn Snapshot>, ApiError> {
        let index = state
            .index_as_of(datetime)
            .await
            .map_err(|e| ApiError::internal("reading the grids as of a time", e))?;
        Ok(Box::new(GridLevelSnapshot {
            index,
            level: self.level,
            contacts,
        }))
    }
}

/// What a filter may name in a grid collection: every flat property but
/// the leader's mobile number, and the id.
const GRID_QUERYABLES: [Queryable; 7] = [
    Queryable {
        name: "id",
        kind: "string",
        title: "The grid id",
    },
    Queryable {
        name: "code",
        kind: "string",
        title: "The hierarchical code",
    },
    Queryable {
        name: "name",
        kind: "string",
        title: "Display name",
    },
    Queryable {
        name: "level",
        kind: "integer",
        title: "The level, 1 (towns) to 5 (sub-areas)",
    },
    Queryable {
        name: "parent",
        kind: "string",
        title: "The parent grid's id",
    },
    Queryable {
        name: "population",
        kind: "integer",
        title: "Residents",
    },
    Queryable {
        name: "leader",
        kind: "string",
        title: "The grid leader's name",
    },
];

/// The grids of one level in one version of the index.
struct GridLevelSnapshot {
    index: Arc<GridIndex>,
    level: Level,
    /// Whether leaders' numbers are written.
    contacts: bool,
}

impl GridLevelSnapshot {
    /// Every grid of the level with its position, ordered by id (the index
    /// keeps grids ordered by level then id).
    fn all(&self) -> impl Iterator<Item = (FeatureKey, &Grid)> {
        self.index
            .grids()
            .iter()
            .enumerate()
            .filter(|(_, g)| g.level == self.level)
            .map(|(ix, g)| (ix as FeatureKey, g))
    }
}

impl Snapshot for GridLevelSnapshot {
    fn extent(&self) -> Option<Bbox> {
        self.all()
            .filter_map(|(_, g)| Bbox::of(&g.geometry))
            .reduce(Bbox::union)
    }

    fn select(&self, bbox: Option<Bbox>) -> Vec<FeatureKey> {
        match bbox {
            None => self.all().map(|(ix, _)| ix).collect(),
            Some(bbox) => {
                let rect = bbox.to_rect();
                let mut keys = self.index.candidates_in_bbox(self.level, bbox);
                // The R-tree compares bounding boxes; this is the exact test
                // behind it. Touching counts, as in `/api/grids` and the
                // stores (`ST_Intersects`).
                keys.retain(|&ix| self.index.grid(ix).geometry.intersects(&rect));
                // Candidates come sorted by position, which is by id.
                keys
            }
        }
    }

    fn find(&self, id: &str) -> Option<FeatureKey> {
        self.index
            .position(&GridId::from(id))
            .filter(|&ix| self.index.grid(ix).level == self.level)
    }

    fn feature_id(&self, key: FeatureKey) -> &str {
        self.index.grid(key).id.as_str()
    }

    fn filter_view(&self, key: FeatureKey) -> (serde_json::Value, serde_json::Value) {
        let grid = self.index.grid(key);
        (
            serde_json::Value::from(grid.id.as_str()),
            serde_json::to_value(GridProperties::of(grid, false)).unwrap_or_default(),
        )
    }

    fn write_feature(
        &self,
        key: FeatureKey,
        links: &[Link],
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        serde_json::to_writer(
            out,
            &GridFeature {
                grid: self.index.grid(key),
                links,
                contacts: self.contacts,
            },
        )
    }
}

/// A grid as an OGC API feature.
struct GridFeature<'a> {
    grid: &'a Grid,
    links: &'a [Link],
    contacts: bool,
}

impl Serialize for GridFeature<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", "Feature")?;
        map.serialize_entry("id", self.grid.id.as_str())?;
        map.serialize_entry("geometry", &MultiPolygonGeometry(&self.grid.geometry))?;
        map.serialize_entry("properties", &GridProperties::of(self.grid, self.contacts))?;
        if !self.links.is_empty() {
            map.serialize_entry("links", self.links)?;
        }
        map.end()
    }
}

/// The flat properties of a grid feature.
#[derive(Serialize, ToSchema)]
#[schema(as = OgcGridProperties)]
pub(super) struct GridProperties<'a> {
    /// The hierarchical code, or null.
    #[schema(example = "620521100001")]
    code: Option<&'a str>,
    /// Display name.
    #[schema(example = "城关社区")]
    name: &'a str,
    /// The level, 1 (towns) to 5 (sub-areas).
    #[schema(example = 2)]
    level: u8,
    /// The id of the parent grid; null for a town.
    #[schema(example = "620521100")]
    parent: Option<&'a str>,
    /// Residents, or null when unknown.
    #[schema(example = 5200)]
    population: Option<u64>,
    /// The grid leader's name, or null.
    #[schema(example = "王建国")]
    leader: Option<String>,
    /// The grid leader's mobile number, or null (always null for readers
    /// who are not logged in).
    #[schema(example = "13800000000")]
    leader_phone: Option<String>,
}

impl<'a> GridProperties<'a> {
    fn of(grid: &'a Grid, contacts: bool) -> GridProperties<'a> {
        let (leader, leader_phone) = grid.leader().map_or((None, None), |l| {
            (Some(l.name), contacts.then_some(l.phone))
        });
        GridProperties {
            code: grid.code(),
            name: &grid.name,
            level: grid.level.get(),
            parent: grid.parent_id.as_ref().map(GridId::as_str),
            population: grid.population(),
            leader,
            leader_phone,
        }
    }
}

/// A GeoJSON MultiPolygon geometry (RFC 7946 §3.1.7), serialised from the
/// geo type without an intermediate coordinate tree.
struct MultiPolygonGeometry<'a>(&'a MultiPolygon<f64>);

impl Serialize for MultiPolygonGeometry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("type", "MultiPolygon")?;
        map.serialize_entry("coordinates", &Polygons(self.0))?;
        map.end()
    }
}

struct Polygons<'a>(&'a MultiPolygon<f64>);

impl Serialize for Polygons<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Rings))
    }
}

/// A polygon's rings, exterior first.
struct Rings<'a>(&'a Polygon<f64>);

impl Serialize for Rings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            std::iter::once(self.0.exterior())
                .chain(self.0.interiors())
                .map(Ring),
        )
    }
}

struct Ring<'a>(&'a LineString<f64>);

impl Serialize for Ring<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.coords().map(|c| [c.x, c.y]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;
    use serde_json::{Value, json};

    fn grid(id: &str, parent: Option<&str>, geometry: MultiPolygon<f64>) -> Grid {
        let mut properties = serde_json::Map::new();
        properties.insert("code".into(), json!(format!("C{id}")));
        properties.insert("population".into(), json!(42));
        properties.insert("leader".into(), json!({"name": "李四", "phone": "138"}));
        properties.insert("nested".into(), json!({"a": 1}));
        Grid {
            id: GridId::from(id),
            level: Level::new(if parent.is_some() { 2 } else { 1 }).expect("1 or 2"),
            parent_id: parent.map(GridId::from),
            name: format!("网格{id}"),
            geometry,
            properties,
        }
    }

    /// A feature has the grid id on top, a MultiPolygon even for one part,
    /// and only the flat properties.
    #[test]
    fn feature_is_flat_with_a_multipolygon() {
        let ring = LineString::new(vec![
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 1.5, y: 0.0 },
            coord! { x: 1.5, y: 1.0 },
            coord! { x: 0.0, y: 0.0 },
        ]);
        let g = grid(
            "7",
            Some("1"),
            MultiPolygon(vec![Polygon::new(ring, vec![])]),
        );
        let text = serde_json::to_string(&GridFeature {
            grid: &g,
            links: &[],
            contacts: true,
        })
        .expect("serialises");
        let v: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(v["type"], "Feature");
        assert_eq!(v["id"], "7");
        assert_eq!(v["geometry"]["type"], "MultiPolygon");
        assert_eq!(
            v["geometry"]["coordinates"],
            json!([[[[0.0, 0.0], [1.5, 0.0], [1.5, 1.0], [0.0, 0.0]]]])
        );
        assert_eq!(
            v["properties"],
            json!({"code": "C7", "name": "网格7", "level": 2, "parent": "1",
                "population": 42, "leader": "李四", "leader_phone": "138"})
        );
        assert!(v.get("links").is_none(), "no links member when none given");
    }

    /// A grid with no code, population or leader has nulls, not missing keys.
    #[test]
    fn missing_properties_are_null() {
        let mut g = grid("1", None, MultiPolygon(vec![]));
        g.properties.clear();
        let v = serde_json::to_value(GridProperties::of(&g, true)).expect("serialises");
        assert_eq!(
            v,
            json!({"code": null, "name": "网格1", "level": 1, "parent": null,
                "population": null, "leader": null, "leader_phone": null})
        );
    }
}
