//! GPS tracks as patrol apps send them: GPX 1.1 (read with the `gpx`
//! crate), or GeoJSON: a LineString Feature whose times are in
//! `properties.times` (RFC 3339, one per position; the `coordTimes` name
//! that GPX converters write is read too), or a FeatureCollection of Points
//! each with `properties.time`.

use geojson::{GeoJson, GeometryValue};
use jiff::Timestamp;

use crate::geom::LonLat;
use crate::model::TrackPoint;
use crate::patrol::PatrolError;
use crate::text;

/// At most this many points in one upload (a day's track at 1 Hz).
pub const MAX_POINTS: usize = 100_000;

fn too_many(n: usize) -> PatrolError {
    PatrolError::invalid(
        "track",
        text!(
            "{n} track points in one upload; send at most {MAX_POINTS}",
            "一次上传 {n} 个轨迹点，每次最多 {MAX_POINTS} 个"
        ),
    )
}

/// Read a GPX document's track points (every track and segment, in order;
/// route and way points are not a track and are ignored).
pub fn from_gpx(bytes: &[u8]) -> Result<Vec<TrackPoint>, PatrolError> {
    let gpx = gpx::read(bytes).map_err(|e| {
        PatrolError::invalid(
            "track",
            text!("the GPX could not be read: {e}", "无法读取 GPX：{e}"),
        )
    })?;
    let mut out = Vec::new();
    for (t, track) in gpx.tracks.iter().enumerate() {
        for (s, segment) in track.segments.iter().enumerate() {
            for (k, p) in segment.points.iter().enumerate() {
                let at = LonLat::new(p.point().x(), p.point().y());
                if !at.is_valid() {
                    return Err(PatrolError::invalid(
                        "track",
                        text!(
                            "trk[{t}].trkseg[{s}].trkpt[{k}] is not a WGS84 point",
                            "trk[{t}].trkseg[{s}].trkpt[{k}] 不是有效的 WGS84 坐标点"
                        ),
                    ));
                }
                let time = match p.time {
                    None => None,
                    Some(time) => {
                        let text = time.format().map_err(|e| {
                            PatrolError::invalid(
                                "track",
                                text!(
                                    "trk[{t}].trkseg[{s}].trkpt[{k}] has an unreadable time ({e})",
                                    "trk[{t}].trkseg[{s}].trkpt[{k}] 的时间无法读取（{e}）"
                                ),
                            )
                        })?;
                        Some(parse_time(
                            &text,
                            &format!("trk[{t}].trkseg[{s}].trkpt[{k}].time"),
                        )?)
                    }
                };
                out.push(TrackPoint { at, time });
                if out.len() > MAX_POINTS {
                    return Err(too_many(out.len()));
                }
            }
        }
    }
    if out.is_empty() {
        return Err(PatrolError::invalid(
            "track",
            text!(
                "the GPX holds no track points (trkpt)",
                "GPX 中没有轨迹点（trkpt）"
            ),
        ));
    }
    Ok(out)
}

fn parse_time(text: &str, field: &str) -> Result<Timestamp, PatrolError> {
    text.parse::<Timestamp>().map_err(|e| {
        PatrolError::invalid(
            field,
            text!(
                "{field} must be an RFC 3339 time such as 2026-05-01T21:00:00+08:00 ({e})",
                "{field} 须为 RFC 3339 时间，例如 2026-05-01T21:00:00+08:00（{e}）"
            ),
        )
    })
}

fn position(p: &[f64], field: &str) -> Result<LonLat, PatrolError> {
    match p {
        [lon, lat, ..] if LonLat::new(*lon, *lat).is_valid() => Ok(LonLat::new(*lon, *lat)),
        _ => Err(PatrolError::invalid(
            field,
            text!(
                "{field} is not a WGS84 longitude/latitude",
                "{field} 不是有效的 WGS84 经纬度"
            ),
        )),
    }
}

/// Read a GeoJSON track (see the module doc for the accepted shapes).
pub fn from_geojson(bytes: &[u8]) -> Result<Vec<TrackPoint>, PatrolError> {
    let out = match super::read_geojson(bytes, "track")? {
        GeoJson::Feature(f) => {
            let Some(GeometryValue::LineString {
                coordinates: coords,
            }) = f.geometry.as_ref().map(|g| &g.value)
            else {
                return Err(PatrolError::invalid(
                    "geometry",
                    text!(
                        "a track Feature's geometry must be a LineString",
                        "轨迹 Feature 的 geometry 须为 LineString"
                    ),
                ));
            };
            if coords.len() > MAX_POINTS {
                return Err(too_many(coords.len()));
            }
            let props = f.properties.as_ref();
            let times = props
                .and_then(|p| p.get("times").or(p.get("coordTimes")))
                .map(|v| {
                    v.as_array().cloned().ok_or_else(|| {
                        PatrolError::invalid(
                            "properties.times",
                            text!(
                                "properties.times must be an array",
                                "properties.times 须为数组"
                            ),
                        )
                    })
                })
                .transpose()?;
            if let Some(times) = &times
                && times.len() != coords.len()
            {
                return Err(PatrolError::invalid(
                    "properties.times",
                    text!(
                        "properties.times has {} times for {} positions: give one per position",
                        "properties.times 有 {} 个时间，但有 {} 个坐标点：每个坐标点须对应一个时间",
                        times.len(),
                        coords.len()
                    ),
                ));
            }
            coords
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let at = position(c.as_slice(), &format!("geometry.coordinates[{k}]"))?;
                    let time = match times.as_ref().map(|t| &t[k]) {
                        None | Some(serde_json::Value::Null) => None,
                        Some(serde_json::Value::String(s)) => {
                            Some(parse_time(s, &format!("properties.times[{k}]"))?)
                        }
                        Some(_) => {
                            return Err(PatrolError::invalid(
                                format!("properties.times[{k}]"),
                                text!(
                                    "properties.times[{k}] must be an RFC 3339 string",
                                    "properties.times[{k}] 须为 RFC 3339 字符串"
                                ),
                            ));
                        }
                    };
                    Ok(TrackPoint { at, time })
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        GeoJson::FeatureCollection(fc) => {
            if fc.features.len() > MAX_POINTS {
                return Err(too_many(fc.features.len()));
            }
            fc.features
                .iter()
                .enumerate()
                .map(|(k, f)| {
                    let field = format!("features[{k}].geometry");
                    let Some(GeometryValue::Point { coordinates: p }) =
                        f.geometry.as_ref().map(|g| &g.value)
                    else {
                        return Err(PatrolError::invalid(
                            &field,
                            text!(
                                "{field} must be a Point (a track as points)",
                                "{field} 须为 Point（以点表示的轨迹）"
                            ),
                        ));
                    };
                    let at = position(p.as_slice(), &field)?;
                    let time = f
                        .properties
                        .as_ref()
                        .and_then(|p| p.get("time"))
                        .and_then(|t| t.as_str())
                        .map(|t| parse_time(t, &format!("features[{k}].properties.time")))
                        .transpose()?;
                    Ok(TrackPoint { at, time })
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        GeoJson::Geometry(g) => match g.value {
            GeometryValue::LineString {
                coordinates: coords,
            } if coords.len() > MAX_POINTS => return Err(too_many(coords.len())),
            GeometryValue::LineString {
                coordinates: coords,
            } => coords
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    Ok(TrackPoint {
                        at: position(c.as_slice(), &format!("coordinates[{k}]"))?,
                        time: None,
                    })
                })
                .collect::<Result<Vec<_>, PatrolError>>()?,
            _ => {
                return Err(PatrolError::invalid(
                    "track",
                    text!(
                        "a track is a LineString (with properties.times) or Points with times",
                        "轨迹须为 LineString（带 properties.times）或带时间的 Point"
                    ),
                ));
            }
        },
    };
    if out.is_empty() {
        return Err(PatrolError::invalid(
            "track",
            text!("the track has no positions", "轨迹中没有坐标点"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GPX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>巡更</name><trkseg>
    <trkpt lat="34.70" lon="106.10"><time>2026-05-01T13:00:00Z</time></trkpt>
    <trkpt lat="34.71" lon="106.11"><time>2026-05-01T13:05:00Z</time></trkpt>
  </trkseg></trk>
</gpx>"#;

    #[test]
    fn gpx_and_geojson_tracks_read_the_same_points() {
        let from_gpx = from_gpx(GPX.as_bytes()).expect("GPX reads");
        let geojson = r#"{"type":"Feature","properties":{"times":["2026-05-01T13:00:00Z","2026-05-01T21:05:00+08:00"]},
            "geometry":{"type":"LineString","coordinates":[[106.10,34.70],[106.11,34.71]]}}"#;
        let from_geojson = from_geojson(geojson.as_bytes()).expect("GeoJSON reads");
        assert_eq!(from_gpx.len(), 2);
        assert_eq!(from_gpx, from_geojson);
        assert_eq!(
            from_gpx[1].time,
            Some("2026-05-01T13:05:00Z".parse().expect("time"))
        );
    }

    #[test]
    fn bad_tracks_are_refused_naming_the_place() {
        let short = r#"{"type":"Feature","properties":{"times":["2026-05-01T13:00:00Z"]},
            "geometry":{"type":"LineString","coordinates":[[106.1,34.7],[106.2,34.7]]}}"#;
        let e = from_geojson(short.as_bytes()).expect_err("one time for two positions");
        assert!(e.to_string().contains("1 times for 2 positions"), "{e}");
        let bad_time = r#"{"type":"FeatureCollection","features":[{"type":"Feature",
            "properties":{"time":"yesterday"},"geometry":{"type":"Point","coordinates":[106.1,34.7]}}]}"#;
        let e = from_geojson(bad_time.as_bytes()).expect_err("bad time");
        assert!(e.to_string().contains("features[0].properties.time"), "{e}");
        let e = from_gpx(b"<gpx version=\"1.1\"></gpx>").expect_err("no points");
        assert!(e.to_string().contains("no track points"), "{e}");
    }
}
