//! Importing a road network: GeoJSON LineStrings (or MultiLineStrings), as
//! exported from OpenStreetMap or a survey, checked feature by feature.
//! `properties.class` (main / village / path) or OpenStreetMap's
//! `properties.highway` say what kind of road a line is; `properties.name`
//! is kept.

use geojson::{GeoJson, GeometryValue, Position};

use crate::geom::LonLat;
use crate::patrol::PatrolError;
use crate::routing::{RoadClass, RoadLine};
use crate::text;

/// At most this many lines in one network.
pub const MAX_LINES: usize = 500_000;

/// Read road lines from a GeoJSON FeatureCollection. Lines that repeat a
/// point consecutively are kept with the repeat dropped; a line with fewer
/// than two distinct points is refused, naming the feature.
pub fn lines_from_geojson(bytes: &[u8]) -> Result<Vec<RoadLine>, PatrolError> {
    let GeoJson::FeatureCollection(fc) = super::read_geojson(bytes, "body")? else {
        return Err(PatrolError::invalid(
            "body",
            text!(
                "send the road network as a GeoJSON FeatureCollection of LineStrings",
                "路网须为由 LineString 组成的 GeoJSON FeatureCollection"
            ),
        ));
    };
    if fc.features.len() > MAX_LINES {
        let n = fc.features.len();
        return Err(PatrolError::invalid(
            "features",
            text!(
                "{n} roads; send at most {MAX_LINES}",
                "共 {n} 条道路，每次最多 {MAX_LINES} 条"
            ),
        ));
    }
    let mut lines = Vec::with_capacity(fc.features.len());
    for (i, feature) in fc.features.iter().enumerate() {
        let field = |name: &str| format!("features[{i}].{name}");
        let prop = |name: &str| -> Result<Option<&str>, PatrolError> {
            match feature.properties.as_ref().and_then(|p| p.get(name)) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.as_str())),
                Some(other) => Err(PatrolError::not_a_string(field, name, other)),
            }
        };
        // `class`, or else OpenStreetMap's `highway` (an export's own
        // values, such as `primary_link`, are overridden by a `class`).
        let (name, given) = match prop("class")? {
            Some(class) => ("class", Some(class)),
            None => ("highway", prop("highway")?),
        };
        let class = match given {
            None => RoadClass::Village,
            Some(s) => RoadClass::parse(s).ok_or_else(|| {
                let at = field(&format!("properties.{name}"));
                PatrolError::invalid(
                    at.clone(),
                    text!(
                        "{at} {s:?} is not a road class: use main, village or path (or an \
                         OpenStreetMap highway value such as residential or footway)",
                        "{at} {s:?} 不是有效的道路类别：请使用 main、village 或 path（或 OpenStreetMap \
                         的 highway 取值，如 residential、footway）"
                    ),
                )
            })?,
        };
        let name = prop("name")?.map(str::to_owned);
        let geometry = feature.geometry.as_ref().ok_or_else(|| {
            let f = field("geometry");
            PatrolError::invalid(
                f.clone(),
                text!("{f} is required: a LineString", "缺少 {f}：应为 LineString"),
            )
        })?;
        let parts: Vec<&Vec<Position>> = match &geometry.value {
            GeometryValue::LineString { coordinates } => vec![coordinates],
            GeometryValue::MultiLineString { coordinates } => coordinates.iter().collect(),
            other => {
                let (f, kind) = (field("geometry"), other.type_name());
                return Err(PatrolError::invalid(
                    f.clone(),
                    text!(
                        "{f} must be a LineString or MultiLineString, got a {kind}",
                        "{f} 须为 LineString 或 MultiLineString，收到的是 {kind}"
                    ),
                ));
            }
        };
        if parts.is_empty() {
            let f = field("geometry");
            return Err(PatrolError::invalid(
                f.clone(),
                text!("{f} holds no line", "{f} 中没有线"),
            ));
        }
        for (k, part) in parts.into_iter().enumerate() {
            let mut coords: Vec<LonLat> = Vec::with_capacity(part.len());
            for (j, position) in part.iter().enumerate() {
                let p = match position.as_slice() {
                    [lon, lat, ..] => LonLat::new(*lon, *lat),
                    _ => LonLat::new(f64::NAN, f64::NAN),
                };
                if !p.is_valid() {
                    let f = field("geometry");
                    return Err(PatrolError::invalid(
                        f.clone(),
                        text!(
                            "{f} position {j} is not a WGS84 longitude/latitude",
                            "{f} 的坐标点 {j} 不是有效的 WGS84 经纬度"
                        ),
                    ));
                }
                if coords.last() != Some(&p) {
                    coords.push(p);
                }
            }
            if coords.len() < 2 {
                let f = field("geometry");
                return Err(PatrolError::invalid(
                    f.clone(),
                    text!(
                        "{f} (part {k}) needs at least two distinct points",
                        "{f}（部分 {k}）至少需要两个不同的点"
                    ),
                ));
            }
            lines.push(RoadLine {
                name: name.clone(),
                class,
                coords,
            });
        }
    }
    Ok(lines)
}

/// A road network as a GeoJSON FeatureCollection (what the import reads).
pub fn to_geojson(lines: &[RoadLine]) -> geojson::FeatureCollection {
    geojson::FeatureCollection {
        bbox: None,
        foreign_members: None,
        features: lines
            .iter()
            .enumerate()
            .map(|(i, line)| geojson::Feature {
                bbox: None,
                geometry: Some(geojson::Geometry::new(GeometryValue::LineString {
                    coordinates: line
                        .coords
                        .iter()
                        .map(|p| Position::from([p.lon, p.lat]))
                        .collect(),
                })),
                id: Some(geojson::feature::Id::Number(i.into())),
                properties: serde_json::json!({ "name": line.name, "class": line.class.name() })
                    .as_object()
                    .cloned(),
                foreign_members: None,
            })
            .collect(),
    }
}
