//! Labelled coordinates: a bare `(f64, f64)` never crosses a module boundary.

use serde::{Deserialize, Serialize};

/// Metres in one degree of latitude (mean, on the WGS84 ellipsoid).
pub const METRES_PER_DEGREE_LAT: f64 = 111_132.954;

/// A point in longitude/latitude degrees, WGS84 (CGCS2000 is within
/// centimetres of it and is treated as the same).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LonLat {
    /// Degrees east, -180 to 180.
    pub lon: f64,
    /// Degrees north, -90 to 90.
    pub lat: f64,
}

impl LonLat {
    /// A point from degrees east and north.
    pub const fn new(lon: f64, lat: f64) -> Self {
        LonLat { lon, lat }
    }

    /// True when both values are finite and within the WGS84 ranges.
    pub fn is_valid(self) -> bool {
        self.lon.is_finite()
            && self.lat.is_finite()
            && (-180.0..=180.0).contains(&self.lon)
            && (-90.0..=90.0).contains(&self.lat)
    }
}

impl From<LonLat> for geo::Coord<f64> {
    fn from(p: LonLat) -> Self {
        geo::Coord { x: p.lon, y: p.lat }
    }
}

impl From<geo::Coord<f64>> for LonLat {
    fn from(c: geo::Coord<f64>) -> Self {
        LonLat { lon: c.x, lat: c.y }
    }
}

/// An axis-aligned box in lon/lat degrees, edges included.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bbox {
    /// West edge.
    pub min_lon: f64,
    /// South edge.
    pub min_lat: f64,
    /// East edge.
    pub max_lon: f64,
    /// North edge.
    pub max_lat: f64,
}

impl Bbox {
    /// True when the boxes share at least one point.
    pub fn intersects(&self, other: &Bbox) -> bool {
        self.min_lon <= other.max_lon
            && other.min_lon <= self.max_lon
            && self.min_lat <= other.max_lat
            && other.min_lat <= self.max_lat
    }

    /// True when the box holds no point (its minimum past its maximum, as
    /// for an empty shape; NaN included).
    pub fn is_empty(&self) -> bool {
        !(self.min_lon <= self.max_lon && self.min_lat <= self.max_lat)
    }

    /// True when the point lies in the box or on its edge.
    pub fn contains(&self, p: LonLat) -> bool {
        (self.min_lon..=self.max_lon).contains(&p.lon)
            && (self.min_lat..=self.max_lat).contains(&p.lat)
    }

    /// The bounding box of a geometry, or `None` when it is empty.
    pub fn of<G: geo::BoundingRect<f64>>(g: &G) -> Option<Bbox> {
        let r: Option<geo::Rect<f64>> = g.bounding_rect().into();
        r.map(|r| Bbox {
            min_lon: r.min().x,
            min_lat: r.min().y,
            max_lon: r.max().x,
            max_lat: r.max().y,
        })
    }

    /// The smallest box holding both.
    pub fn union(self, other: Bbox) -> Bbox {
        Bbox {
            min_lon: self.min_lon.min(other.min_lon),
            min_lat: self.min_lat.min(other.min_lat),
            max_lon: self.max_lon.max(other.max_lon),
            max_lat: self.max_lat.max(other.max_lat),
        }
    }

    /// The box as a geo rectangle.
    pub fn to_rect(self) -> geo::Rect<f64> {
        geo::Rect::new(
            geo::coord! { x: self.min_lon, y: self.min_lat },
            geo::coord! { x: self.max_lon, y: self.max_lat },
        )
    }
}

/// Distance in metres between two nearby points, on a local equirectangular
/// approximation (error well under 0.5% across a county; exact geodesics are
/// not needed to tell a dispatcher that a point is near a border).
pub fn metres_between(a: LonLat, b: LonLat) -> f64 {
    let k = ((a.lat + b.lat) * 0.5).to_radians().cos();
    let dx = (a.lon - b.lon) * k * METRES_PER_DEGREE_LAT;
    let dy = (a.lat - b.lat) * METRES_PER_DEGREE_LAT;
    dx.hypot(dy)
}
