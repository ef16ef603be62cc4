//! GeoJSON FeatureCollection → grids, naming every feature that cannot be read.
//!
//! 1. The document is split into its features without reading their numbers:
//!    each feature is kept as raw JSON text (`serde_json::value::RawValue`),
//!    so one feature with a number no double can hold (`1e400`) is reported
//!    by name instead of failing the whole document.
//! 2. Each feature (in parallel) is read: properties into a
//!    `serde_json::Value` in their original order (the crate enables
//!    `preserve_order`), geometry walked position by position.
//! 3. Every position's numbers are parsed from their text with
//!    `str::parse::<f64>`, which is correctly rounded: the same doubles as
//!    serde_json with `float_roundtrip`, so `106.123456789012345` is stored as
//!    the double nearest to it and points on shared edges stay on them.
//! 4. Ring length and closure are checked on the raw positions, before geo
//!    sees them: geo's `Polygon::new` silently closes an unclosed ring.
//!
//! Positions with a third value (altitude) keep longitude and latitude only.

use std::collections::HashMap;
use std::fmt;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{ImportErrors, ImportIssue, MAX_ISSUES, Problem};
use crate::geom::LonLat;
use crate::model::{Grid, GridId, Level, Text};
use crate::text;

/// The properties that make up a grid's own fields; all others are kept as
/// they are in [`Grid::properties`].
const OWN_PROPERTIES: [&str; 4] = ["id", "level", "parent_id", "name"];

/// A JSON object's members, each as unparsed text.
type RawMembers<'a> = HashMap<String, &'a RawValue>;

/// Parse a GeoJSON FeatureCollection into grids, in feature order.
///
/// Refuses the whole document (`feature` = `#document`) when it is not JSON
/// or not a FeatureCollection; otherwise reports every feature that cannot be
/// read (up to [`MAX_ISSUES`] issues, in feature order), each named by its
/// `id`, or by `#N` (its 0-based position) when it has no usable id. Only
/// reading is checked here; the rules between grids are in `validate`.
pub fn parse_feature_collection(bytes: &[u8]) -> Result<Vec<Grid>, ImportErrors> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ImportErrors::document(text!(
            "the body is not UTF-8 text ({e})",
            "请求体不是 UTF-8 文本（{e}）"
        ))
    })?;
    // Some Windows tools start files with a byte-order mark; RFC 8259 lets a
    // parser ignore it, and serde_json would otherwise refuse the document.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let members: RawMembers<'_> = serde_json::from_str(text).map_err(|e| {
        ImportErrors::document(match e.classify() {
            serde_json::error::Category::Data => not_a_collection(),
            _ => text!("not valid JSON: {e}", "不是有效的 JSON：{e}"),
        })
    })?;
    let is_collection = members
        .get("type")
        .and_then(|t| serde_json::from_str::<String>(t.get()).ok())
        .is_some_and(|t| t == "FeatureCollection");
    let features: Vec<&RawValue> = match members.get("features") {
        Some(f) if is_collection => {
            serde_json::from_str(f.get()).map_err(|_| ImportErrors::document(not_a_collection()))?
        }
        _ => return Err(ImportErrors::document(not_a_collection())),
    };

    let parsed: Vec<Result<Grid, Vec<ImportIssue>>> = features
        .par_iter()
        .enumerate()
        .map(|(position, feature)| parse_feature(position, feature))
        .collect();
    let mut grids = Vec::with_capacity(parsed.len());
    let mut issues = Vec::new();
    for result in parsed {
        match result {
            Ok(grid) => grids.push(grid),
            Err(mut found) => issues.append(&mut found),
        }
    }
    if issues.is_empty() {
        Ok(grids)
    } else {
        issues.truncate(MAX_ISSUES);
        Err(ImportErrors { issues })
    }
}

/// Why a document that is JSON is not a FeatureCollection.
fn not_a_collection() -> Text {
    Text::new(
        "expected an object with \"type\": \"FeatureCollection\" and a \"features\" array",
        "应为包含 \"type\": \"FeatureCollection\" 和 \"features\" 数组的对象",
    )
}

/// One feature, or every issue found in it.
fn parse_feature(position: usize, feature: &RawValue) -> Result<Grid, Vec<ImportIssue>> {
    let members: RawMembers<'_> = serde_json::from_str(feature.get()).unwrap_or_default();
    // Properties as a JSON object; `Err` when present but unreadable (a
    // number beyond a double), `Ok(None)` when missing or not an object.
    let properties: Result<Option<Map<String, Value>>, serde_json::Error> = members
        .get("properties")
        .map(|p| serde_json::from_str::<Value>(p.get()))
        .transpose()
        .map(|p| match p {
            Some(Value::Object(map)) => Some(map),
            _ => None,
        });
    let empty = Map::new();
    let props = properties
        .as_ref()
        .ok()
        .and_then(Option::as_ref)
        .unwrap_or(&empty);

    // Name the feature by its id when it has a usable one.
    let label = props
        .get("id")
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

    let kind = members
        .get("type")
        .and_then(|t| serde_json::from_str::<String>(t.get()).ok());
    if kind.as_deref() != Some("Feature") {
        issue(
            "type",
            Problem::BadProperty {
                property: "type".into(),
                expected: Text::new(
                    "must be \"Feature\" (each member of \"features\" is a Feature object)",
                    "必须是 \"Feature\"（\"features\" 中的每一项都应是 \"Feature\" 对象）",
                )
                .into(),
            },
        );
    }
    match &properties {
        Ok(Some(_)) => {}
        Ok(None) => issue(
            "properties",
            Problem::BadProperty {
                property: "properties".into(),
                expected: Text::new(
                    "must be an object with id, level, parent_id and name",
                    "必须是包含 `id`、`level`、`parent_id` 和 `name` 的对象",
                )
                .into(),
            },
        ),
        Err(e) => issue(
            "properties",
            Problem::BadProperty {
                property: "properties".into(),
                expected: text!("could not be read: {e}", "无法读取（{e}）").into(),
            },
        ),
    }

    let text = |key: &str| props.get(key).and_then(Value::as_str);
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
    let level = match props.get("level").and_then(Value::as_i64).map(Level::new) {
        Some(Ok(level)) => Some(level),
        _ => {
            issue(
                "level",
                Problem::BadProperty {
                    property: "level".into(),
                    expected: Text::new("must be an integer from 1 to 5", "必须是 1 至 5 的整数")
                        .into(),
                },
            );
            None
        }
    };
    let parent_id = match props.get("parent_id") {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(p)) if is_clean_text(p) => Some(Some(GridId(p.clone()))),
        Some(_) => {
            issue(
                "parent_id",
                Problem::BadProperty {
                    property: "parent_id".into(),
                    expected: Text::new(
                        "must be a non-empty string, or null for level 1",
                        "必须是非空字符串，1 级网格可为 `null`",
                    )
                    .into(),
                },
            );
            None
        }
    };
    let geometry = match parse_geometry(members.get("geometry").copied()) {
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
            let properties = props
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
        expected: Text::new(
            "must be a non-empty string without control characters",
            "必须是不含控制字符的非空字符串",
        )
        .into(),
    }
}

/// A Polygon or MultiPolygon (stored as a MultiPolygon), with every ring
/// checked on its raw positions.
fn parse_geometry(geometry: Option<&RawValue>) -> Result<MultiPolygon<f64>, Problem> {
    let Some(geometry) = geometry.filter(|g| g.get() != "null") else {
        return Err(Problem::WrongGeometryType {
            found: Text::new("no geometry", "缺少几何图形").into(),
        });
    };
    let members: RawMembers<'_> = serde_json::from_str(geometry.get()).map_err(|_| {
        let (kind, kind_zh) = json_kind(geometry.get());
        Problem::WrongGeometryType {
            found: text!("a JSON {kind}", "JSON {kind_zh}").into(),
        }
    })?;
    let Some(kind) = members
        .get("type")
        .and_then(|t| serde_json::from_str::<String>(t.get()).ok())
    else {
        return Err(Problem::WrongGeometryType {
            found: Text::new("a geometry without a type", "没有 \"type\" 的几何图形").into(),
        });
    };
    let (shape, shape_zh) = match kind.as_str() {
        "Polygon" => (
            "an array of rings, each an array of [longitude, latitude] positions",
            "由环组成的数组，每个环是由 [经度, 纬度] 坐标点组成的数组",
        ),
        "MultiPolygon" => (
            "an array of polygons, each an array of rings of [longitude, latitude] positions",
            "由多边形组成的数组，每个多边形是由 [经度, 纬度] 坐标点组成的环的数组",
        ),
        _ => {
            return Err(Problem::WrongGeometryType {
                found: Text::new(kind.clone(), format!("\"{kind}\"")).into(),
            });
        }
    };
    let malformed = || Problem::InvalidPolygon {
        detail: text!(
            "the coordinates of a {kind} must be {shape}",
            "{kind} 的 \"coordinates\" 必须是{shape_zh}"
        )
        .into(),
    };
    let coordinates = members.get("coordinates").ok_or_else(malformed)?.get();
    let polygons: Vec<Vec<Vec<Position>>> = if kind == "Polygon" {
        vec![serde_json::from_str(coordinates).map_err(|_| malformed())?]
    } else {
        serde_json::from_str(coordinates).map_err(|_| malformed())?
    };
    if polygons.is_empty() {
        return Err(Problem::InvalidPolygon {
            detail: Text::new(
                "a MultiPolygon with no polygons",
                "MultiPolygon 中没有多边形",
            )
            .into(),
        });
    }
    let vertices: usize = polygons.iter().flatten().map(Vec::len).sum();
    if vertices > super::MAX_GRID_VERTICES {
        let most = super::MAX_GRID_VERTICES;
        return Err(Problem::InvalidPolygon {
            detail: text!(
                "{vertices} vertices; a grid's boundary may have at most {most}",
                "有 {vertices} 个顶点，网格边界最多只能有 {most} 个顶点"
            )
            .into(),
        });
    }
    let mut out = Vec::with_capacity(polygons.len());
    for (p, rings) in polygons.into_iter().enumerate() {
        if rings.is_empty() {
            return Err(Problem::InvalidPolygon {
                detail: text!("polygon {p} has no rings", "多边形 {p} 没有环").into(),
            });
        }
        let mut parsed = Vec::with_capacity(rings.len());
        for (r, ring) in rings.into_iter().enumerate() {
            parsed.push(ring_of(p, r, ring)?);
        }
        let exterior = parsed.remove(0);
        out.push(Polygon::new(exterior, parsed));
    }
    Ok(MultiPolygon(out))
}

/// A ring from its raw positions: every position a valid lon/lat, at least
/// four of them, the last equal to the first.
fn ring_of(
    polygon: usize,
    ring: usize,
    positions: Vec<Position>,
) -> Result<LineString<f64>, Problem> {
    let mut coords = Vec::with_capacity(positions.len());
    for (index, position) in positions.into_iter().enumerate() {
        match position {
            Position::Valid(c) => coords.push(c),
            Position::Invalid(position) => {
                return Err(Problem::BadCoordinate {
                    polygon,
                    ring,
                    index,
                    position,
                });
            }
        }
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

/// One GeoJSON position (a JSON array), read from the numbers' text.
enum Position {
    /// A finite longitude -180..180 and latitude -90..90.
    Valid(Coord<f64>),
    /// Anything else, as it was written (`[200, 39.9]`, `[null, 39.9]`,
    /// `[1e400, 39.9]`, `[106.5]`).
    Invalid(String),
}

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(PositionVisitor)
    }
}

struct PositionVisitor;

impl<'de> Visitor<'de> for PositionVisitor {
    type Value = Position;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a position: an array [longitude, latitude]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Position, A::Error> {
        // Raw text, not f64: serde_json refuses `1e400` as a whole-document
        // error, and here it must become this feature's BadCoordinate.
        let lon: Option<&'de RawValue> = seq.next_element()?;
        let lat: Option<&'de RawValue> = seq.next_element()?;
        let mut more = false;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            more = true;
        }
        let number = |v: Option<&RawValue>| v.and_then(|v| v.get().parse::<f64>().ok());
        if let (Some(lon), Some(lat)) = (number(lon), number(lat)) {
            let p = LonLat::new(lon, lat);
            if p.is_valid() {
                return Ok(Position::Valid(Coord::from(p)));
            }
        }
        let written: Vec<&str> = [lon, lat]
            .into_iter()
            .flatten()
            .map(RawValue::get)
            .collect();
        Ok(Position::Invalid(format!(
            "[{}{}]",
            written.join(", "),
            if more { ", …" } else { "" }
        )))
    }
}

/// What kind of JSON value some raw text is, for messages (English,
/// Chinese).
fn json_kind(raw: &str) -> (&'static str, &'static str) {
    match raw.as_bytes().first() {
        Some(b'[') => ("array", "数组"),
        Some(b'"') => ("string", "字符串"),
        Some(b't' | b'f') => ("boolean", "布尔值"),
        Some(b'n') => ("null", "null"),
        Some(b'{') => ("object", "对象"),
        _ => ("number", "数字"),
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

    /// The geometry of one feature with a bad ring, and the single issue it gives.
    fn ring_problem(ring: Value) -> ImportIssue {
        let geometry = json!({"type": "Polygon", "coordinates": [ring]});
        only_problem(&collection(vec![feature("R", geometry)]))
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
        assert_eq!(grids[0].parent_id, None);
    }

    /// Coordinates are the correctly rounded doubles of their text (what
    /// `str::parse` gives), altitude is dropped, and a Polygon becomes a
    /// one-part MultiPolygon while a MultiPolygon keeps its parts.
    #[test]
    fn coordinates_are_exact_and_two_dimensional() {
        let lon = "106.12345678901234567890123";
        let lat = "34.999999999999999999999";
        let body = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature",
            "properties":{{"id":"A","level":1,"name":"A"}},
            "geometry":{{"type":"MultiPolygon","coordinates":[
              [[[{lon},{lat},1500.5],[107,{lat}],[107,35.5],[{lon},{lat},1500.5]]],
              [[[108,36],[109,36],[109,37],[108,36]]]]}}}}]}}"#
        );
        let grids = parse_feature_collection(body.as_bytes()).expect("valid");
        let first = grids[0].geometry.0[0].exterior().0[0];
        assert_eq!(
            first.x.to_bits(),
            lon.parse::<f64>().expect("number").to_bits()
        );
        assert_eq!(
            first.y.to_bits(),
            lat.parse::<f64>().expect("number").to_bits()
        );
        assert_eq!(grids[0].geometry.0.len(), 2);
        let single =
            parse_feature_collection(&collection(vec![feature("B", square())])).expect("valid");
        assert_eq!(single[0].geometry.0.len(), 1);
    }

    /// Invalid JSON is refused as a document, with the parser's message.
    #[test]
    fn refuses_invalid_json() {
        let issue = only_problem(b"{\"type\": \"FeatureCollection\", \"features\": [");
        assert_eq!(issue.feature, "#document");
        assert!(
            matches!(&issue.problem, Problem::NotGeoJson { detail } if detail.en().starts_with("not valid JSON")),
            "{issue:?}"
        );
        let issue = only_problem(&[0xff, 0xfe, b'{', b'}']);
        assert!(matches!(issue.problem, Problem::NotGeoJson { .. }));
    }

    /// JSON that is not a FeatureCollection: a Feature, an array, the wrong
    /// type, `features` not an array.
    #[test]
    fn refuses_other_json() {
        for body in [
            serde_json::to_vec(&feature("A", square())).expect("serialisable"),
            b"[1, 2]".to_vec(),
            br#"{"type": "GeometryCollection", "features": []}"#.to_vec(),
            br#"{"type": "FeatureCollection", "features": {}}"#.to_vec(),
        ] {
            let issue = only_problem(&body);
            assert_eq!(issue.feature, "#document");
            assert_eq!(
                issue.problem,
                Problem::NotGeoJson {
                    detail: not_a_collection().into()
                }
            );
        }
    }

    /// A leading byte-order mark is ignored.
    #[test]
    fn ignores_a_byte_order_mark() {
        let mut body = "\u{feff}".as_bytes().to_vec();
        body.extend(collection(vec![feature("A", square())]));
        assert_eq!(parse_feature_collection(&body).map(|g| g.len()), Ok(1));
    }

    /// An empty collection parses to no grids (whether that may replace a
    /// county is for the caller to decide).
    #[test]
    fn empty_collection() {
        assert_eq!(parse_feature_collection(&collection(vec![])), Ok(vec![]));
    }

    /// A Point, a LineString, a null and a missing geometry, and a geometry
    /// that is not an object, are not grid boundaries.
    #[test]
    fn refuses_wrong_geometry_type() {
        let cases = [
            (json!({"type": "Point", "coordinates": [0, 0]}), "Point"),
            (
                json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
                "LineString",
            ),
            (Value::Null, "no geometry"),
            (json!([1, 2]), "a JSON array"),
        ];
        for (geometry, found) in cases {
            let issue = only_problem(&collection(vec![feature("P", geometry)]));
            assert_eq!(issue.feature, "P");
            assert_eq!(issue.field.as_deref(), Some("geometry"));
            assert!(
                matches!(&issue.problem, Problem::WrongGeometryType { found: f } if f == found),
                "{issue:?}"
            );
        }
        let mut missing = feature("M", square());
        missing.as_object_mut().expect("object").remove("geometry");
        let issue = only_problem(&collection(vec![missing]));
        assert!(
            matches!(&issue.problem, Problem::WrongGeometryType { found } if found == "no geometry"),
            "{issue:?}"
        );
    }

    /// Coordinates not nested as the type says.
    #[test]
    fn refuses_misnested_coordinates() {
        let flat = json!({"type": "Polygon", "coordinates": [[0, 0], [1, 0], [1, 1], [0, 0]]});
        let issue = only_problem(&collection(vec![feature("N", flat)]));
        assert!(
            matches!(issue.problem, Problem::InvalidPolygon { .. }),
            "{issue:?}"
        );
        let none = json!({"type": "MultiPolygon", "coordinates": []});
        let issue = only_problem(&collection(vec![feature("N", none)]));
        assert!(
            matches!(issue.problem, Problem::InvalidPolygon { .. }),
            "{issue:?}"
        );
    }

    /// A ring whose last position differs from its first.
    #[test]
    fn refuses_unclosed_ring() {
        let issue = ring_problem(json!([[0, 0], [1, 0], [1, 1], [0, 1]]));
        assert_eq!(issue.feature, "R");
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
        let issue = ring_problem(json!([[0, 0], [1, 0], [0, 0]]));
        assert_eq!(issue.feature, "R");
        assert_eq!(
            issue.problem,
            Problem::RingTooShort {
                polygon: 0,
                ring: 0,
                positions: 3
            }
        );
    }

    /// Longitude 200, latitude 95, a null where a number should be, a string,
    /// a lone number: each named with where it is and as it was written.
    #[test]
    fn refuses_out_of_range_and_missing_coordinates() {
        for (bad, written) in [
            (json!([200.0, 0.0]), "[200.0, 0.0]"),
            (json!([0.0, 95.0]), "[0.0, 95.0]"),
            (json!([0.0, -90.5, 10]), "[0.0, -90.5, …]"),
            (json!([null, 0.0]), "[null, 0.0]"),
            (json!(["1", 0.0]), "[\"1\", 0.0]"),
            (json!([1.0]), "[1.0]"),
        ] {
            let issue = ring_problem(json!([[0, 0], bad, [1, 1], [0, 0]]));
            assert_eq!(issue.feature, "R");
            assert_eq!(
                issue.problem,
                Problem::BadCoordinate {
                    polygon: 0,
                    ring: 0,
                    index: 1,
                    position: written.into()
                }
            );
        }
    }

    /// A number beyond a double (how JSON might carry infinity) fails its
    /// feature, named, not the whole document; the other features still parse.
    #[test]
    fn refuses_a_number_beyond_a_double_by_feature() {
        let body = String::from_utf8(collection(vec![
            feature("A", square()),
            feature(
                "B",
                json!({"type": "Polygon", "coordinates": [[[0, 0], [777.0, 0], [1, 1], [0, 0]]]}),
            ),
        ]))
        .expect("utf-8")
        .replace("777.0", "1e400");
        let issue = only_problem(body.as_bytes());
        assert_eq!(issue.feature, "B");
        assert_eq!(
            issue.problem,
            Problem::BadCoordinate {
                polygon: 0,
                ring: 0,
                index: 1,
                position: "[1e400, 0]".into()
            }
        );
        // In a property, it fails that feature's properties.
        let body = String::from_utf8(collection(vec![{
            let mut f = feature("C", square());
            f["properties"]["population"] = json!(777.0);
            f
        }]))
        .expect("utf-8")
        .replace("777.0", "-1e999");
        let errors = parse_feature_collection(body.as_bytes()).expect_err("refused");
        assert_eq!(errors.issues[0].feature, "#0");
        assert!(
            matches!(&errors.issues[0].problem, Problem::BadProperty { property, .. } if property == "properties")
        );
    }

    /// Every broken feature is named, not just the first, in feature order.
    #[test]
    fn names_every_bad_feature() {
        let mut no_level = feature("B", square());
        no_level["properties"]
            .as_object_mut()
            .expect("object")
            .remove("level");
        let mut bad_parent = feature("D", square());
        bad_parent["properties"]["parent_id"] = json!(7);
        let errors = parse_feature_collection(&collection(vec![
            feature("A", square()),
            no_level,
            feature("", square()),
            json!(42),
            bad_parent,
        ]))
        .expect_err("refused");
        let named: Vec<(&str, Option<&str>)> = errors
            .issues
            .iter()
            .map(|i| (i.feature.as_str(), i.field.as_deref()))
            .collect();
        // The third has neither an id nor a name; the fourth is not a
        // Feature at all: each named by its position.
        assert_eq!(
            named,
            [
                ("B", Some("level")),
                ("#2", Some("id")),
                ("#2", Some("name")),
                ("#3", Some("type")),
                ("#3", Some("properties")),
                ("#3", Some("id")),
                ("#3", Some("name")),
                ("#3", Some("level")),
                ("#3", Some("geometry")),
                ("D", Some("parent_id")),
            ]
        );
    }

    /// Level must be an integer 1 to 5.
    #[test]
    fn refuses_bad_levels() {
        for level in [json!(0), json!(6), json!(2.5), json!("2")] {
            let mut f = feature("L", square());
            f["properties"]["level"] = level;
            let issue = only_problem(&collection(vec![f]));
            assert_eq!(
                (issue.feature.as_str(), issue.field.as_deref()),
                ("L", Some("level"))
            );
        }
    }

    /// At most MAX_ISSUES issues are reported.
    #[test]
    fn caps_the_report() {
        let errors = parse_feature_collection(&collection(vec![json!(1); MAX_ISSUES + 5]))
            .expect_err("refused");
        assert_eq!(errors.issues.len(), MAX_ISSUES);
    }
}
