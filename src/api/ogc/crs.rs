//! OGC API - Features Part 2 (coordinate reference systems by reference):
//! the systems a client may ask features in (`crs`) and give a `bbox` in
//! (`bbox-crs`), and the coordinate conversions between them.
//!
//! | CRS | axis order | coordinates |
//! |---|---|---|
//! | CRS84 (the default, and what is stored) | longitude, latitude | degrees |
//! | EPSG:4326 (WGS 84) | latitude, longitude | degrees |
//! | EPSG:4490 (CGCS2000) | latitude, longitude | degrees; CGCS2000 and WGS 84 agree within centimetres, well under the grids' precision, so the numbers are the same |
//! | EPSG:3857 (Web Mercator) | easting, northing | metres |
//!
//! A CRS is named by its OGC URI (`http://www.opengis.net/def/crs/EPSG/0/4490`),
//! which answers carry in `Content-Crs`; `EPSG:4490` and the safe CURIE
//! `[EPSG:4490]` are accepted too, as clients write them.

use serde_json::Value;

use crate::api::ApiError;
use crate::geom::{Bbox, LonLat};
use crate::text;

/// A coordinate reference system this server converts to and from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Crs {
    Crs84,
    Epsg4326,
    Epsg4490,
    Epsg3857,
}

/// The radius of the sphere of Web Mercator, metres.
const MERCATOR_RADIUS: f64 = 6_378_137.0;

/// The latitude beyond which Web Mercator is not defined, degrees.
const MERCATOR_MAX_LAT: f64 = 85.051_128_779_806_59;

/// The schema of a `crs` or `bbox-crs` parameter: the names [`Crs::parse`]
/// reads (each URI, `EPSG:n`, `CRS84`), for the OpenAPI document.
pub(super) struct CrsName;

impl utoipa::PartialSchema for CrsName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let mut names: Vec<&str> = Crs::ALL.map(Crs::uri).to_vec();
        names.extend(["CRS84", "OGC:CRS84", "EPSG:4326", "EPSG:4490", "EPSG:3857"]);
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(names))
            .into()
    }
}

impl utoipa::ToSchema for CrsName {}

impl Crs {
    /// Every CRS, the default first, as collections list them.
    pub(super) const ALL: [Crs; 4] = [Crs::Crs84, Crs::Epsg4326, Crs::Epsg4490, Crs::Epsg3857];

    /// The OGC URI.
    pub(super) fn uri(self) -> &'static str {
        match self {
            Crs::Crs84 => "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            Crs::Epsg4326 => "http://www.opengis.net/def/crs/EPSG/0/4326",
            Crs::Epsg4490 => "http://www.opengis.net/def/crs/EPSG/0/4490",
            Crs::Epsg3857 => "http://www.opengis.net/def/crs/EPSG/0/3857",
        }
    }

    /// The CRS a parameter names, or 400 naming the parameter and the
    /// systems there are.
    pub(super) fn parse(parameter: &str, text: &str) -> Result<Crs, ApiError> {
        let t = text.trim();
        let t = t
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(t);
        let found = Crs::ALL.into_iter().find(|c| {
            c.uri() == t
                || match c {
                    Crs::Crs84 => t == "CRS84" || t == "OGC:CRS84",
                    Crs::Epsg4326 => t.eq_ignore_ascii_case("EPSG:4326"),
                    Crs::Epsg4490 => t.eq_ignore_ascii_case("EPSG:4490"),
                    Crs::Epsg3857 => t.eq_ignore_ascii_case("EPSG:3857"),
                }
        });
        found.ok_or_else(|| {
            let systems = Crs::ALL.map(Crs::uri).join(", ");
            ApiError::bad_parameter(
                parameter,
                text!(
                    "{parameter} must be one of {systems} (or EPSG:4326, EPSG:4490, EPSG:3857), got {text:?}",
                    "{parameter} 须为 {systems} 之一（或 EPSG:4326、EPSG:4490、EPSG:3857），收到的是 {text:?}"
                ),
            )
        })
    }

    /// A CRS84 position in this system, in its axis order.
    pub(super) fn position_of(self, lon: f64, lat: f64) -> [f64; 2] {
        match self {
            Crs::Crs84 => [lon, lat],
            Crs::Epsg4326 | Crs::Epsg4490 => [lat, lon],
            Crs::Epsg3857 => {
                let lat = lat.clamp(-MERCATOR_MAX_LAT, MERCATOR_MAX_LAT);
                [
                    MERCATOR_RADIUS * lon.to_radians(),
                    MERCATOR_RADIUS
                        * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                            .tan()
                            .ln(),
                ]
            }
        }
    }

    /// A position in this system, in its axis order, as CRS84.
    pub(super) fn to_lonlat(self, a: f64, b: f64) -> LonLat {
        match self {
            Crs::Crs84 => LonLat::new(a, b),
            Crs::Epsg4326 | Crs::Epsg4490 => LonLat::new(b, a),
            // The world's edge, 20037508.342789244 m, comes back a hair
            // past 180°: clamp what rounding put there.
            Crs::Epsg3857 => LonLat::new(
                clamp_rounding((a / MERCATOR_RADIUS).to_degrees(), 180.0),
                (2.0 * (b / MERCATOR_RADIUS).exp().atan() - std::f64::consts::FRAC_PI_2)
                    .to_degrees(),
            ),
        }
    }

    /// A box given in this system (`[min a, min b, max a, max b]` in its
    /// axis order) as a CRS84 box.
    pub(super) fn bbox_to_crs84(self, [a0, b0, a1, b1]: [f64; 4]) -> Bbox {
        let low = self.to_lonlat(a0, b0);
        let high = self.to_lonlat(a1, b1);
        Bbox {
            min_lon: low.lon,
            min_lat: low.lat,
            max_lon: high.lon,
            max_lat: high.lat,
        }
    }

    /// A GeoJSON feature written in CRS84 (`feature`), rewritten with its
    /// geometry in this system. CRS84 is returned as it is.
    pub(super) fn convert_feature(self, feature: Vec<u8>) -> serde_json::Result<Vec<u8>> {
        if self == Crs::Crs84 {
            return Ok(feature);
        }
        let mut value: Value = serde_json::from_slice(&feature)?;
        if let Some(coordinates) = value
            .get_mut("geometry")
            .and_then(|g| g.get_mut("coordinates"))
        {
            self.convert_coordinates(coordinates);
        }
        serde_json::to_vec(&value)
    }

    /// Every position of a GeoJSON `coordinates` member, converted.
    fn convert_coordinates(self, value: &mut Value) {
        let Value::Array(items) = value else { return };
        if let [Value::Number(lon), Value::Number(lat), ..] = items.as_slice()
            && let (Some(lon), Some(lat)) = (lon.as_f64(), lat.as_f64())
        {
            let [a, b] = self.position_of(lon, lat);
            items[0] = Value::from(a);
            items[1] = Value::from(b);
            return;
        }
        items.iter_mut().for_each(|i| self.convert_coordinates(i));
    }
}

/// `v` within `limit` of ±`limit` if only rounding put it beyond.
fn clamp_rounding(v: f64, limit: f64) -> f64 {
    if v.abs() > limit && v.abs() - limit < 1e-9 {
        limit.copysign(v)
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_uris_codes_or_curies() {
        for text in [
            "http://www.opengis.net/def/crs/EPSG/0/4490",
            "EPSG:4490",
            "epsg:4490",
            "[EPSG:4490]",
        ] {
            assert_eq!(Crs::parse("crs", text).expect(text), Crs::Epsg4490);
        }
        assert!(Crs::parse("crs", "EPSG:4547").is_err());
    }

    #[test]
    fn web_mercator_round_trips_and_matches_known_values() {
        // Qingshui's county seat, about 106.14 E 34.75 N.
        let [x, y] = Crs::Epsg3857.position_of(106.14, 34.75);
        assert!((x - 11_815_450.75).abs() < 0.01, "{x}");
        assert!((y - 4_129_958.83).abs() < 0.01, "{y}");
        let back = Crs::Epsg3857.to_lonlat(x, y);
        assert!((back.lon - 106.14).abs() < 1e-9 && (back.lat - 34.75).abs() < 1e-9);
    }

    #[test]
    fn the_web_mercator_world_box_is_the_world() {
        let edge = 20_037_508.342_789_244;
        let b = Crs::Epsg3857.bbox_to_crs84([-edge, -edge, edge, edge]);
        assert_eq!((b.min_lon, b.max_lon), (-180.0, 180.0));
        assert!((b.max_lat - MERCATOR_MAX_LAT).abs() < 1e-9, "{}", b.max_lat);
    }

    #[test]
    fn geographic_systems_swap_the_axes_of_a_feature() {
        let feature = br#"{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[106.0,34.5],[106.1,34.6],[106.0,34.5]]]]},"properties":{"note":[1.0,2.0]}}"#;
        let out = Crs::Epsg4490
            .convert_feature(feature.to_vec())
            .expect("converts");
        let v: Value = serde_json::from_slice(&out).expect("JSON");
        assert_eq!(
            v["geometry"]["coordinates"][0][0][1],
            serde_json::json!([34.6, 106.1])
        );
        // Properties are data, not positions.
        assert_eq!(v["properties"]["note"], serde_json::json!([1.0, 2.0]));
    }
}
