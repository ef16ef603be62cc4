//! An MVT reader for tests, independent of the encoder: the protobuf is
//! parsed by geozero's generated types, but geometry commands, ring
//! classification by winding and attribute lookup are decoded here from the
//! specification (MVT 2.1 §4.3), so that a test does not trust the code it
//! checks.

use std::collections::BTreeMap;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use geozero::mvt::tile::{GeomType, Value};
use geozero::mvt::{Message, Tile};

/// One decoded feature.
#[derive(Debug, Clone)]
pub struct DecodedFeature {
    /// The MVT feature id.
    pub id: Option<u64>,
    /// Attributes as strings (numbers printed).
    pub attributes: BTreeMap<String, String>,
    /// Polygons in tile units (y down), for polygon features.
    pub polygons: MultiPolygon<f64>,
    /// Points in tile units, for point features.
    pub points: Vec<Coord<f64>>,
    /// Signed area (shoelace, tile units) of every ring in order, as encoded.
    pub ring_areas: Vec<f64>,
}

/// One decoded layer.
#[derive(Debug, Clone)]
pub struct DecodedLayer {
    /// Its name.
    pub name: String,
    /// Its extent.
    pub extent: u32,
    /// Its features.
    pub features: Vec<DecodedFeature>,
}

/// Decode a whole tile.
pub fn decode(bytes: &[u8]) -> Vec<DecodedLayer> {
    let tile = Tile::decode(bytes).expect("a tile is a valid protobuf");
    tile.layers
        .iter()
        .map(|layer| DecodedLayer {
            name: layer.name.clone(),
            extent: layer.extent.unwrap_or(4096),
            features: layer
                .features
                .iter()
                .map(|f| {
                    let mut attributes = BTreeMap::new();
                    for pair in f.tags.chunks(2) {
                        let key = layer.keys[pair[0] as usize].clone();
                        attributes.insert(key, value_text(&layer.values[pair[1] as usize]));
                    }
                    let (rings, points) = commands(&f.geometry);
                    let ring_areas: Vec<f64> = rings.iter().map(|r| signed_area(r)).collect();
                    let polygons = if f.r#type() == GeomType::Polygon {
                        classify(&rings)
                    } else {
                        MultiPolygon(vec![])
                    };
                    DecodedFeature {
                        id: f.id,
                        attributes,
                        polygons,
                        points: if f.r#type() == GeomType::Point {
                            points
                        } else {
                            vec![]
                        },
                        ring_areas,
                    }
                })
                .collect(),
        })
        .collect()
}

fn value_text(v: &Value) -> String {
    if let Some(s) = &v.string_value {
        return s.clone();
    }
    if let Some(n) = v.uint_value {
        return n.to_string();
    }
    if let Some(n) = v.int_value {
        return n.to_string();
    }
    if let Some(n) = v.sint_value {
        return n.to_string();
    }
    if let Some(n) = v.double_value {
        return n.to_string();
    }
    if let Some(n) = v.float_value {
        return n.to_string();
    }
    if let Some(b) = v.bool_value {
        return b.to_string();
    }
    String::new()
}

/// Decode the command stream into closed rings (for polygons) and points.
fn commands(geometry: &[u32]) -> (Vec<Vec<Coord<f64>>>, Vec<Coord<f64>>) {
    let zigzag = |v: u32| ((v >> 1) as i32) ^ -((v & 1) as i32);
    let (mut x, mut y) = (0i32, 0i32);
    let mut rings = Vec::new();
    let mut points = Vec::new();
    let mut current: Vec<Coord<f64>> = Vec::new();
    let mut i = 0;
    while i < geometry.len() {
        let command = geometry[i] & 7;
        let count = geometry[i] >> 3;
        i += 1;
        match command {
            1 | 2 => {
                for _ in 0..count {
                    x += zigzag(geometry[i]);
                    y += zigzag(geometry[i + 1]);
                    i += 2;
                    let c = Coord {
                        x: f64::from(x),
                        y: f64::from(y),
                    };
                    if command == 1 {
                        if !current.is_empty() {
                            rings.push(std::mem::take(&mut current));
                        }
                        points.push(c);
                    }
                    current.push(c);
                }
            }
            7 => {
                let first = current[0];
                current.push(first);
                rings.push(std::mem::take(&mut current));
            }
            other => panic!("unknown MVT command {other}"),
        }
    }
    if !current.is_empty() {
        rings.push(current);
    }
    (rings, points)
}

/// Shoelace area in tile units; positive is an exterior ring in MVT.
pub fn signed_area(ring: &[Coord<f64>]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        / 2.0
}

/// Group rings into polygons as MVT 2.1 §4.3.4.4 says: a positive ring
/// starts a polygon, the negative rings after it are its holes.
fn classify(rings: &[Vec<Coord<f64>>]) -> MultiPolygon<f64> {
    let mut polygons: Vec<Polygon<f64>> = Vec::new();
    for ring in rings {
        let line = LineString(ring.clone());
        if signed_area(ring) > 0.0 {
            polygons.push(Polygon::new(line, vec![]));
        } else if let Some(last) = polygons.last_mut() {
            last.interiors_push(line);
        } else {
            panic!("an MVT polygon starts with a hole");
        }
    }
    MultiPolygon(polygons)
}
