//! GeoJSON FeatureCollection → grids.
//!
//! The document is parsed to `serde_json::Value` first (the crate enables
//! serde_json's `float_roundtrip`, so every coordinate is the correctly
//! rounded double of its decimal text) and then walked by hand, because the
//! checks the issue asks for must see the raw positions: geo's `Polygon::new`
//! silently closes an unclosed ring, and a typed GeoJSON parser stops at the
//! first bad feature instead of naming them all.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{Map, Value};

use super::{ImportErrors, ImportIssue, MAX_ISSUES, Problem};
use crate::geom::LonLat;
use crate::model::{Grid, GridId, Level};

/// The properties that make up a grid's own fields; all others are kept as
/// they are in [`Grid::properties`].
const OWN_PROPERTIES: [&str; 4] = ["id", "level", "parent_id", "name"];

/// Parse a GeoJSON FeatureCollection into grids, reporting every feature that
/// cannot be read (up to [`MAX_ISSUES`]), each named by its `id`, or by `#N`
/// (its 0-based position) when it has no usable id.
pub fn parse_feature_collection(bytes: &[u8]) -> Result<Vec<Grid>, ImportErrors> {
    let document: Value = serde_json::from_slice(bytes).map_err(|e| {
        document_issue(Problem::NotGeoJson {
            detail: e.to_string(),
        })
    })?;
    let features = match (&document["type"], document.get("features")) {
        (Value::String(t), Some(Value::Array(features))) if t == "FeatureCollection" => features,
        _ => {
            return Err(document_issue(Problem::NotGeoJson {
                detail: "expected an object with \"type\": \"FeatureCollection\" and a \"features\" array"
                    .into(),
            }));
        }
    };
    let mut grids = Vec::with_capacity(features.len());
    let mut issues = Vec::new();
    for (position, feature) in features.iter().enumerate() {
        match parse_feature(position, feature) {
            Ok(grid) => grids.push(grid),
            Err(mut found) => issues.append(&mut found),
        }
        if issues.len() >= MAX_ISSUES {
            issues.truncate(MAX_ISSUES);
            break;
        }
    }
    if issues.is_empty() {
        Ok(grids)
    } else {
        Err(ImportErrors { issues })
    }
}

fn document_issue(problem: Problem) -> ImportErrors {
    ImportErrors {
        issues: vec![ImportIssue {
            feature: "#document".into(),
            field: None,
            problem,
        }],
    }
}

/// One feature, or every issue found in it.
fn parse_feature(position: usize, feature: &Value) -> Result<Grid, Vec<ImportIssue>> {
    let properties = feature.get("properties").and_then(Value::as_object);
    // Name the feature by its id when it has a usable one.
    let label = properties
        .and_then(|p| p.get("id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map_or_else(|| format!("#{position}"), str::to_owned);
    let mut issues = Vec::new();
    let mut issue = |field: &str, problem: Problem| {
        issues.push(ImportIssue {
            feature: label.clone(),
            field: Some(field.to_owned()),
            problem,
        })
    };

    if feature.get("type").and_then(Value::as_str) != Some("Feature") {
        issue(
            "type",
            Problem::BadProperty {
                property: "type".into(),
                expected: "must be \"Feature\"".into(),
            },
        );
    }
    let empty = Map::new();
    let properties = match properties {
        Some(p) => p,
        None => {
            issue(
                "properties",
                Problem::BadProperty {
                    property: "properties".into(),
                    expected: "must be an object with id, level, parent_id and name".into(),
                },
            );
            &empty
        }
    };

    let text = |key: &str| properties.get(key).and_then(Value::as_str);
    let id = match text("id") {
        Some(id) if is_clean_text(id) => Some(GridId(id.to_owned())),
        _ => {
            issue("id", bad_text("id"));
            None
        }
    };
    let name = match text("name") {
        Some(name) if is_clean_text(name) => Some(name.to_owned()),
        _ => {
            issue("name", bad_text("name"));
            None
        }
    };
    let level = match properties
        .get("level")
        .and_then(Value::as_i64)
        .map(Level::new)
    {
        Some(Ok(level)) => Some(level),
        _ => {
            issue(
                "level",
                Problem::BadProperty {
                    property: "level".into(),
                    expected: "must be an integer from 1 to 5".into(),
                },
            );
            None
        }
    };
    let parent_id = match properties.get("parent_id") {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(p)) if is_clean_text(p) => Some(Some(GridId(p.clone()))),
        Some(_) => {
            issue(
                "parent_id",
                Problem::BadProperty {
                    property: "parent_id".into(),
                    expected: "must be a non-empty string, or null for level 1".into(),
                },
            );
            None
        }
    };
    let geometry = match parse_geometry(feature.get("geometry")) {
        Ok(g) => Some(g),
        Err(problem) => {
            issue("geometry", problem);
            None
        }
    };

    match (id, name, level, parent_id, geometry) {
        (Some(id), Some(name), Some(level), Some(parent_id), Some(geometry))
            if issues.is_empty() =>
        {
            let properties = properties
                .iter()
                .filter(|(k, _)| !OWN_PROPERTIES.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(Grid {
                id,
                level,
                parent_id,
                name,
                geometry,
                properties,
            })
        }
        _ => Err(issues),
    }
}

/// Non-empty, and free of control characters (PostgreSQL cannot store NUL
/// in text while SQLite can: refusing them keeps both backends alike).
fn is_clean_text(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_control)
}

fn bad_text(property: &str) -> Problem {
    Problem::BadProperty {
        property: property.into(),
        expected: "must be a non-empty string without control characters".into(),
    }
}

/// A Polygon or MultiPolygon, with every ring checked on its raw positions.
fn parse_geometry(geometry: Option<&Value>) -> Result<MultiPolygon<f64>, Problem> {
    let Some(Value::Object(g)) = geometry else {
        return Err(Problem::WrongGeometryType {
            found: match geometry {
                None | Some(Value::Null) => "no geometry".into(),
                Some(other) => format!("a JSON {}", json_kind(other)),
            },
        });
    };
    let kind = g.get("type").and_then(Value::as_str).unwrap_or("no type");
    let coordinates = g.get("coordinates");
    let polygons: Vec<&Value> = match (kind, coordinates) {
        ("Polygon", Some(c)) => vec![c],
        ("MultiPolygon", Some(Value::Array(parts))) => parts.iter().collect(),
        ("Polygon" | "MultiPolygon", _) => {
            return Err(Problem::InvalidPolygon {
                detail: format!("{kind} without a coordinates array"),
            });
        }
        (other, _) => {
            return Err(Problem::WrongGeometryType {
                found: other.to_owned(),
            });
        }
    };
    if polygons.is_empty() {
        return Err(Problem::InvalidPolygon {
            detail: "MultiPolygon with no polygons".into(),
        });
    }
    let mut out = Vec::with_capacity(polygons.len());
    for (p, polygon) in polygons.into_iter().enumerate() {
        let Some(rings) = polygon.as_array().filter(|r| !r.is_empty()) else {
            return Err(Problem::InvalidPolygon {
                detail: format!("polygon {p} has no rings"),
            });
        };
        let mut parsed = Vec::with_capacity(rings.len());
        for (r, ring) in rings.iter().enumerate() {
            parsed.push(parse_ring(p, r, ring)?);
        }
        let exterior = parsed.remove(0);
        out.push(Polygon::new(exterior, parsed));
    }
    Ok(MultiPolygon(out))
}

fn parse_ring(polygon: usize, ring: usize, value: &Value) -> Result<LineString<f64>, Problem> {
    let Some(positions) = value.as_array() else {
        return Err(Problem::InvalidPolygon {
            detail: format!("ring {ring} of polygon {polygon} is not an array of positions"),
        });
    };
    let mut coords = Vec::with_capacity(positions.len());
    for position in positions {
        let pair = position.as_array().filter(|a| a.len() >= 2);
        let number = |i: usize| pair.and_then(|a| a[i].as_f64()).unwrap_or(f64::NAN);
        let p = LonLat::new(number(0), number(1));
        if !p.is_valid() {
            return Err(Problem::BadCoordinate {
                lon: p.lon,
                lat: p.lat,
            });
        }
        coords.push(Coord::from(p));
    }
    if coords.len() < 4 {
        return Err(Problem::RingTooShort {
            polygon,
            ring,
            positions: coords.len(),
        });
    }
    if coords.first() != coords.last() {
        return Err(Problem::UnclosedRing { polygon, ring });
    }
    Ok(LineString(coords))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn collection(features: Vec<Value>) -> Vec<u8> {
        serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features}))
            .expect("serialisable")
    }

    fn feature(id: &str, geometry: Value) -> Value {
        json!({"type": "Feature", "properties": {"id": id, "level": 1, "parent_id": null, "name": id}, "geometry": geometry})
    }

    fn square() -> Value {
        json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]})
    }

    fn only_problem(bytes: &[u8]) -> ImportIssue {
        let errors = parse_feature_collection(bytes).expect_err("refused");
        assert_eq!(errors.issues.len(), 1, "{errors:?}");
        errors.issues[0].clone()
    }

    /// Other properties are kept, in the order given.
    #[test]
    fn keeps_other_properties_in_order() {
        let mut f = feature("A", square());
        f["properties"]["zeta"] = json!(1);
        f["properties"]["alpha"] = json!({"name": "x"});
        f["properties"]["code"] = json!("620521100");
        let grids = parse_feature_collection(&collection(vec![f])).expect("valid");
        let keys: Vec<&str> = grids[0].properties.keys().map(String::as_str).collect();
        assert_eq!(keys, ["zeta", "alpha", "code"]);
        assert_eq!(grids[0].level, Level::TOWN);
    }

    /// Invalid JSON is refused as a document, with the parser's position.
    #[test]
    fn refuses_invalid_json() {
        let issue = only_problem(b"{\"type\": \"FeatureCollection\", \"features\": [");
        assert_eq!(issue.feature, "#document");
        assert!(matches!(issue.problem, Problem::NotGeoJson { .. }));
    }

    /// A Point is not a grid boundary.
    #[test]
    fn refuses_wrong_geometry_type() {
        let issue = only_problem(&collection(vec![feature(
            "P",
            json!({"type": "Point", "coordinates": [0, 0]}),
        )]));
        assert_eq!(issue.feature, "P");
        assert_eq!(
            issue.problem,
            Problem::WrongGeometryType {
                found: "Point".into()
            }
        );
    }

    /// A ring whose last position differs from its first.
    #[test]
    fn refuses_unclosed_ring() {
        let geometry =
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]});
        let issue = only_problem(&collection(vec![feature("U", geometry)]));
        assert_eq!(
            issue.problem,
            Problem::UnclosedRing {
                polygon: 0,
                ring: 0
            }
        );
    }

    /// A ring of three positions cannot enclose an area.
    #[test]
    fn refuses_short_ring() {
        let geometry = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]});
        let issue = only_problem(&collection(vec![feature("S", geometry)]));
        assert!(matches!(
            issue.problem,
            Problem::RingTooShort { positions: 3, .. }
        ));
    }

    /// Longitude 200, latitude 95, and a null where a number should be.
    #[test]
    fn refuses_out_of_range_and_missing_coordinates() {
        for bad in [json!([200.0, 0.0]), json!([0.0, 95.0]), json!([null, 0.0])] {
            let geometry =
                json!({"type": "Polygon", "coordinates": [[[0, 0], bad, [1, 1], [0, 0]]]});
            let issue = only_problem(&collection(vec![feature("C", geometry)]));
            assert!(
                matches!(issue.problem, Problem::BadCoordinate { .. }),
                "{issue:?}"
            );
        }
    }

    /// Every broken feature is named, not just the first.
    #[test]
    fn names_every_bad_feature() {
        let mut no_level = feature("B", square());
        no_level["properties"]
            .as_object_mut()
            .expect("object")
            .remove("level");
        let errors = parse_feature_collection(&collection(vec![
            feature("A", square()),
            no_level,
            feature("", square()),
        ]))
        .expect_err("refused");
        let named: Vec<&str> = errors.issues.iter().map(|i| i.feature.as_str()).collect();
        // The third has neither an id nor a name: two issues, both naming its position.
        assert_eq!(named, ["B", "#2", "#2"]);
    }
}
