//! Local metric frames: lon/lat turned into metres east and north of a
//! reference point, and the distance from a point to a segment in them. The
//! one copy of this arithmetic that routing, tracks, the boundary distance
//! and the demo generator share.

use crate::geom::{LonLat, METRES_PER_DEGREE_LAT};

/// A local equirectangular frame in metres around a reference point: accurate
/// to well under 0.5% across a county, and cheap enough to use for every
/// segment and every snap.
#[derive(Debug, Clone, Copy)]
pub struct LocalFrame {
    origin: LonLat,
    metres_per_degree_lon: f64,
}

impl LocalFrame {
    /// The frame centred on `origin`.
    pub fn new(origin: LonLat) -> LocalFrame {
        LocalFrame {
            origin,
            metres_per_degree_lon: origin.lat.to_radians().cos() * METRES_PER_DEGREE_LAT,
        }
    }

    /// Metres east and north of the origin.
    pub fn to_metres(&self, p: LonLat) -> [f64; 2] {
        [
            (p.lon - self.origin.lon) * self.metres_per_degree_lon,
            (p.lat - self.origin.lat) * METRES_PER_DEGREE_LAT,
        ]
    }

    /// The point at metres east and north of the origin.
    pub fn to_lonlat(&self, m: [f64; 2]) -> LonLat {
        LonLat::new(
            self.origin.lon + m[0] / self.metres_per_degree_lon,
            self.origin.lat + m[1] / METRES_PER_DEGREE_LAT,
        )
    }

    /// Distance in metres between two points.
    pub fn distance_m(&self, a: LonLat, b: LonLat) -> f64 {
        let (pa, pb) = (self.to_metres(a), self.to_metres(b));
        (pa[0] - pb[0]).hypot(pa[1] - pb[1])
    }
}

/// The point of the segment `a`–`b` nearest to `p` (all in metres of one
/// frame): its distance from `p`, and where along the segment it lies (0 at
/// `a`, 1 at `b`; 0 for a segment of no length).
pub fn nearest_on_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> (f64, f64) {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (a[0] + dx * t, a[1] + dy * t);
    ((p[0] - cx).hypot(p[1] - cy), t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Perpendicular foot inside the segment, beyond either end, and a
    /// segment of no length.
    #[test]
    fn nearest_points_on_a_segment() {
        let (a, b) = ([0.0, 0.0], [10.0, 0.0]);
        assert_eq!(nearest_on_segment([4.0, 3.0], a, b), (3.0, 0.4));
        assert_eq!(nearest_on_segment([-3.0, 4.0], a, b), (5.0, 0.0));
        assert_eq!(nearest_on_segment([13.0, 4.0], a, b), (5.0, 1.0));
        assert_eq!(nearest_on_segment([3.0, 4.0], a, a), (5.0, 0.0));
    }

    /// A kilometre east and north of the origin, and back.
    #[test]
    fn frames_round_trip() {
        let frame = LocalFrame::new(LonLat::new(106.14, 34.75));
        let p = frame.to_lonlat([1000.0, 1000.0]);
        let m = frame.to_metres(p);
        assert!((m[0] - 1000.0).abs() < 1e-6 && (m[1] - 1000.0).abs() < 1e-6);
        let d = frame.distance_m(LonLat::new(106.14, 34.75), p);
        assert!((d - 1000.0 * 2f64.sqrt()).abs() < 1e-6);
    }
}
