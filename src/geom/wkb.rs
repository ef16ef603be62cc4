//! Geometry as WKB bytes, the form both stores move it in
//! (`ST_GeomFromWKB` / `ST_AsBinary` in PostGIS, a BLOB in SQLite).

use geo::{Geometry, MultiPolygon};
use geozero::{CoordDimensions, ToGeo, ToWkb, wkb::Wkb};

/// Why WKB bytes could not be read back as a grid boundary.
#[derive(Debug, thiserror::Error)]
pub enum WkbError {
    /// The bytes are not WKB.
    #[error("malformed WKB: {0}")]
    Malformed(String),
    /// The WKB is valid but holds another geometry type.
    #[error("expected a Polygon or MultiPolygon, found another geometry type")]
    NotPolygonal,
}

/// Encode a boundary as 2D WKB.
pub fn to_wkb(geometry: &MultiPolygon<f64>) -> Vec<u8> {
    Geometry::MultiPolygon(geometry.clone())
        .to_wkb(CoordDimensions::xy())
        .expect("encoding an in-memory MultiPolygon as WKB cannot fail")
}

/// Decode WKB written by [`to_wkb`] or by PostGIS `ST_AsBinary`.
pub fn from_wkb(bytes: &[u8]) -> Result<MultiPolygon<f64>, WkbError> {
    match Wkb(bytes.to_vec())
        .to_geo()
        .map_err(|e| WkbError::Malformed(e.to_string()))?
    {
        Geometry::MultiPolygon(m) => Ok(m),
        Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        _ => Err(WkbError::NotPolygonal),
    }
}
