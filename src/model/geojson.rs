//! Grids as GeoJSON (RFC 7946) features: `id`, `level`, `parent_id` and
//! `name` first, then every other property exactly as it was imported.
//! Reading and checking imported GeoJSON lives in `import`.

use geojson::{Feature, FeatureCollection, Geometry, GeometryValue};
use serde_json::{Map, Value};

use crate::model::Grid;

/// The feature for one grid. The geometry is a Polygon when the grid has one
/// part and a MultiPolygon when it has several (an exclave).
pub fn grid_to_feature(grid: &Grid) -> Feature {
    let mut properties = Map::new();
    properties.insert("id".into(), Value::from(grid.id.as_str()));
    properties.insert("level".into(), Value::from(grid.level.get()));
    properties.insert(
        "parent_id".into(),
        grid.parent_id
            .as_ref()
            .map_or(Value::Null, |p| Value::from(p.as_str())),
    );
    properties.insert("name".into(), Value::from(grid.name.as_str()));
    for (k, v) in &grid.properties {
        properties.insert(k.clone(), v.clone());
    }
    let value = match grid.geometry.0.as_slice() {
        [single] => GeometryValue::from(single),
        _ => GeometryValue::from(&grid.geometry),
    };
    Feature {
        bbox: None,
        geometry: Some(Geometry::new(value)),
        id: Some(geojson::feature::Id::String(grid.id.0.clone())),
        properties: Some(properties),
        foreign_members: None,
    }
}

/// A FeatureCollection of the given grids, in the order given.
pub fn grids_to_feature_collection<'a>(
    grids: impl IntoIterator<Item = &'a Grid>,
) -> FeatureCollection {
    FeatureCollection {
        bbox: None,
        features: grids.into_iter().map(grid_to_feature).collect(),
        foreign_members: None,
    }
}
