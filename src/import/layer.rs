//! A layer of a planning file (a Shapefile, a GeoPackage table) read into
//! grids: attributes as QGIS, ArcGIS and GDAL leave them normalised into
//! the grid properties, then every feature through the GeoJSON import's
//! parser, so that a bad file is refused with the same rules and messages,
//! each issue named `layer:feature`.
//!
//! Attribute names are matched without case. The leader comes as an
//! object, as a JSON text (GDAL writes a nested GeoJSON property so), or as
//! two attributes `leader_nm`/`leader_name` and `leader_ph`/`leader_phone`
//! (a `.dbf` keeps ten characters of a name).

use serde_json::{Map, Value, json};

use crate::model::Grid;

use super::{ImportErrors, parse_feature_collection};

/// Grid properties from a feature's attributes (see the module docs).
pub(super) fn normalise(attributes: Map<String, Value>) -> Map<String, Value> {
    let mut props = Map::new();
    let mut leader = Map::new();
    for (key, value) in attributes {
        let key = key.to_ascii_lowercase();
        match key.as_str() {
            "leader_nm" | "leader_name" => {
                leader.insert("name".into(), value);
            }
            "leader_ph" | "leader_phone" => {
                leader.insert("phone".into(), value);
            }
            "leader" => {
                let value = match &value {
                    Value::String(text) => match serde_json::from_str::<Value>(text) {
                        Ok(object @ Value::Object(_)) => object,
                        _ => value,
                    },
                    _ => value,
                };
                props.insert(key, value);
            }
            _ => {
                props.insert(key, value);
            }
        }
    }
    if !leader.is_empty() && !props.contains_key("leader") {
        leader
            .entry("phone")
            .or_insert(Value::String(String::new()));
        props.insert("leader".into(), Value::Object(leader));
    }
    props
}

/// The grids of a layer's features (GeoJSON Features in longitude and
/// latitude, attributes already normalised), or every issue, each named
/// `layer:feature`.
pub fn grids_from_layer(layer: &str, features: Vec<Value>) -> Result<Vec<Grid>, ImportErrors> {
    let features: Vec<Value> = features
        .into_iter()
        .map(|mut f| {
            if let Some(Value::Object(attributes)) = f.get_mut("properties") {
                let taken = std::mem::take(attributes);
                *attributes = normalise(taken);
            }
            f
        })
        .collect();
    let document = json!({"type": "FeatureCollection", "features": features});
    parse_feature_collection(document.to_string().as_bytes()).map_err(|mut errors| {
        for issue in &mut errors.issues {
            issue.feature = format!("{layer}:{}", issue.feature);
        }
        errors
    })
}
