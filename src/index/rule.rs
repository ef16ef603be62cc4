//! The one boundary rule: which grid owns a point on a shared edge or vertex.
//!
//! Grids of one level tile their parent, so their boundaries are shared. A
//! point exactly on a shared edge is *covered* by both neighbours (PostGIS
//! `ST_Covers`), and *contained* by neither (geo `Contains`). wangge gives it
//! to exactly one, by this rule:
//!
//! > A point belongs to the grid it enters when it steps an infinitesimal
//! > distance due east. Where the boundary itself runs due east (a horizontal
//! > edge, or a vertex whose eastward ray follows one), it belongs to the grid
//! > on the north side.
//!
//! ```text
//!        B          point P on the vertical edge between A and B belongs
//!   A    |    C     to C (east of it); a point on the horizontal edge
//!   -----P-----     between A and D belongs to A (north of it).
//!   D    |    E
//! ```
//!
//! Formally: P belongs to the polygon that contains P + (ε, δ) for
//! infinitesimal 0 < δ ≪ ε. This is exactly what a crossing-number test
//! with half-open comparisons computes, provided the side-of-edge test is
//! exact: ring crossings are counted for edges with `a.y ≤ p.y < b.y`
//! (oriented upward) that pass strictly east of P, decided by Shewchuk's
//! robust `orient2d`. Because the rule is a perturbation of the point, any set
//! of polygons that tiles an area assigns each point of that area to exactly
//! one of them, with no tie-break between candidates needed and no epsilon.
//!
//! The rule leaves out the east and north sides of the area tiled: the
//! county's own outer border there, or a parent's border where its children
//! stop. Such a point is owned by no grid of the level, although `ST_Covers`
//! puts it in one or more. For those points alone there is a second,
//! closed test, [`PreparedShape::covers`] (inside or on the boundary), and
//! a tie-break: **among the candidates that cover the point, the one with
//! the lowest id**. The hierarchical walk applies it level by level, only
//! where no candidate owns the point by the rule, so every point the county
//! covers gets a full chain and shared edges inside it keep one owner.
//!
//! [`PreparedShape`] precomputes the edges of one grid, bucketed into
//! horizontal strips so that a test reads only the edges near `p.y`.

use geo::MultiPolygon;

use crate::geom::{Bbox, LonLat};

/// One non-horizontal ring edge, oriented so that `y0 < y1`.
#[derive(Debug, Clone, Copy)]
struct UpEdge {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

/// A grid boundary prepared for the boundary rule: its edges bucketed by
/// latitude into strips. Testing a point costs O(edges in one strip).
#[derive(Debug, Clone)]
pub struct PreparedShape {
    bbox: Bbox,
    strip_height: f64,
    /// `strip_starts[i]..strip_starts[i + 1]` indexes `edges` for strip i.
    strip_starts: Vec<u32>,
    /// Edges, copied once into every strip they span (for cache locality).
    edges: Vec<UpEdge>,
    /// The horizontal edges as `(lat, west lon, east lon)`, by latitude:
    /// the rule never reads them, the closed test does.
    horizontal: Vec<(f64, f64, f64)>,
}

/// Average number of edges per strip the preparation aims at.
const EDGES_PER_STRIP: usize = 4;

impl PreparedShape {
    /// Prepare a boundary (all rings of all parts) for repeated tests.
    pub fn new(shape: &MultiPolygon<f64>) -> PreparedShape {
        let mut up: Vec<UpEdge> = Vec::new();
        let mut horizontal = Vec::new();
        for polygon in &shape.0 {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for line in ring.lines() {
                    let (a, b) = (line.start, line.end);
                    if a.y == b.y {
                        // Horizontal edges never cross an eastward ray under the
                        // half-open rule; they are decided by their neighbours.
                        horizontal.push((a.y, a.x.min(b.x), a.x.max(b.x)));
                        continue;
                    }
                    let (lo, hi) = if a.y < b.y { (a, b) } else { (b, a) };
                    up.push(UpEdge {
                        x0: lo.x,
                        y0: lo.y,
                        x1: hi.x,
                        y1: hi.y,
                    });
                }
            }
        }
        let bbox = Bbox::of(shape).unwrap_or(Bbox {
            min_lon: 0.0,
            min_lat: 0.0,
            max_lon: -1.0,
            max_lat: -1.0,
        });
        let strips = (up.len() / EDGES_PER_STRIP).max(1);
        let height = (bbox.max_lat - bbox.min_lat) / strips as f64;
        let strip_height = if height > 0.0 { height } else { 1.0 };
        let strip_of =
            |y: f64| -> usize { (((y - bbox.min_lat) / strip_height) as usize).min(strips - 1) };
        let mut counts = vec![0u32; strips + 1];
        for e in &up {
            for s in strip_of(e.y0)..=strip_of(e.y1) {
                counts[s + 1] += 1;
            }
        }
        for i in 0..strips {
            counts[i + 1] += counts[i];
        }
        let mut fill = counts.clone();
        let mut edges = vec![
            UpEdge {
                x0: 0.0,
                y0: 0.0,
                x1: 0.0,
                y1: 0.0
            };
            counts[strips] as usize
        ];
        for e in &up {
            for s in strip_of(e.y0)..=strip_of(e.y1) {
                edges[fill[s] as usize] = *e;
                fill[s] += 1;
            }
        }
        PreparedShape {
            bbox,
            strip_height,
            strip_starts: counts,
            edges,
            horizontal: {
                horizontal.sort_by(|a, b| a.0.total_cmp(&b.0));
                horizontal
            },
        }
    }

    /// The boundary's bounding box.
    pub fn bbox(&self) -> Bbox {
        self.bbox
    }

    /// Does this grid own `p` under the boundary rule (interior points, and
    /// boundary points whose eastward step enters the grid)?
    pub fn owns(&self, p: LonLat) -> bool {
        if !self.bbox.contains(p) {
            return false;
        }
        let strips = self.strip_starts.len() - 1;
        let s = (((p.lat - self.bbox.min_lat) / self.strip_height) as usize).min(strips - 1);
        let edges = &self.edges[self.strip_starts[s] as usize..self.strip_starts[s + 1] as usize];
        let mut inside = false;
        for e in edges {
            if e.y0 <= p.lat && p.lat < e.y1 && east_of(p, e) {
                inside = !inside;
            }
        }
        inside
    }
}

impl PreparedShape {
    /// Does this grid cover `p`: inside it or exactly on its boundary (the
    /// closed test of PostGIS `ST_Covers`)? Exact, like [`owns`](Self::owns).
    pub fn covers(&self, p: LonLat) -> bool {
        self.owns(p) || self.on_boundary(p)
    }

    /// Is `p` exactly on one of the boundary's edges?
    pub fn on_boundary(&self, p: LonLat) -> bool {
        if !self.bbox.contains(p) {
            return false;
        }
        let strips = self.strip_starts.len() - 1;
        let s = (((p.lat - self.bbox.min_lat) / self.strip_height) as usize).min(strips - 1);
        let edges = &self.edges[self.strip_starts[s] as usize..self.strip_starts[s + 1] as usize];
        let on_slanted = edges.iter().any(|e| {
            e.y0 <= p.lat
                && p.lat <= e.y1
                && e.x0.min(e.x1) <= p.lon
                && p.lon <= e.x0.max(e.x1)
                && robust::orient2d(
                    robust::Coord { x: e.x0, y: e.y0 },
                    robust::Coord { x: e.x1, y: e.y1 },
                    robust::Coord { x: p.lon, y: p.lat },
                ) == 0.0
        });
        if on_slanted {
            return true;
        }
        let first = self.horizontal.partition_point(|h| h.0 < p.lat);
        self.horizontal[first..]
            .iter()
            .take_while(|h| h.0 == p.lat)
            .any(|&(_, west, east)| west <= p.lon && p.lon <= east)
    }
}

/// Does the upward edge pass strictly east of `p` at `p`'s latitude?
#[inline]
fn east_of(p: LonLat, e: &UpEdge) -> bool {
    // Cheap rejections first: an edge wholly west of p, or wholly east of it.
    if e.x0.max(e.x1) < p.lon {
        return false;
    }
    if e.x0.min(e.x1) > p.lon {
        return true;
    }
    // p is strictly left of the upward edge exactly when the edge is east of it.
    robust::orient2d(
        robust::Coord { x: e.x0, y: e.y0 },
        robust::Coord { x: e.x1, y: e.y1 },
        robust::Coord { x: p.lon, y: p.lat },
    ) > 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Polygon, polygon};

    fn square(x: f64, y: f64, size: f64) -> MultiPolygon<f64> {
        let p: Polygon<f64> = polygon![
            (x: x, y: y), (x: x + size, y: y), (x: x + size, y: y + size), (x: x, y: y + size), (x: x, y: y)
        ];
        MultiPolygon(vec![p])
    }

    /// A 4×4 tiling of squares: every point of the tiled area, including
    /// every edge and vertex, is owned by exactly one square.
    #[test]
    fn squares_tiling_owns_every_point_once() {
        let tiles: Vec<_> = (0..4)
            .flat_map(|i| {
                (0..4)
                    .map(move |j| PreparedShape::new(&square(0.1 * i as f64, 0.1 * j as f64, 0.1)))
            })
            .collect();
        // Points on a lattice that hits every edge and vertex, kept off the
        // tiling's outer east and north edges (owned by whatever lies beyond).
        for i in 0..80 {
            for j in 0..80 {
                let p = LonLat::new(0.1 * i as f64 / 20.0, 0.1 * j as f64 / 20.0);
                let owners = tiles.iter().filter(|t| t.owns(p)).count();
                assert_eq!(owners, 1, "{p:?} owned by {owners}");
            }
        }
    }

    /// The closed test takes in the whole boundary, the east and north
    /// sides the rule leaves out included, and nothing outside it.
    #[test]
    fn covers_is_closed() {
        let unit = PreparedShape::new(&square(0.0, 0.0, 1.0));
        for p in [
            (1.0, 0.5),
            (0.5, 1.0),
            (1.0, 1.0),
            (0.0, 0.0),
            (0.3, 0.0),
            (0.0, 0.7),
        ] {
            let p = LonLat::new(p.0, p.1);
            assert!(unit.covers(p) && unit.on_boundary(p), "{p:?}");
        }
        assert!(!unit.owns(LonLat::new(1.0, 0.5)) && !unit.owns(LonLat::new(0.5, 1.0)));
        for p in [
            (1.0 + 1e-12, 0.5),
            (0.5, 1.0 + 1e-12),
            (-1e-12, 0.5),
            (2.0, 2.0),
        ] {
            assert!(!unit.covers(LonLat::new(p.0, p.1)), "{p:?}");
        }
        assert!(unit.covers(LonLat::new(0.5, 0.5)) && !unit.on_boundary(LonLat::new(0.5, 0.5)));
        let triangle = PreparedShape::new(&MultiPolygon(vec![
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)],
        ]));
        assert!(triangle.on_boundary(LonLat::new(0.25, 0.25)));
        assert!(!triangle.covers(LonLat::new(0.25, 0.26)));
    }

    /// On a vertical shared edge the east grid wins; on a horizontal one the north grid.
    #[test]
    fn east_then_north() {
        let west = PreparedShape::new(&square(0.0, 0.0, 1.0));
        let east = PreparedShape::new(&square(1.0, 0.0, 1.0));
        let north = PreparedShape::new(&square(0.0, 1.0, 1.0));
        let on_vertical = LonLat::new(1.0, 0.5);
        assert!(east.owns(on_vertical) && !west.owns(on_vertical));
        let on_horizontal = LonLat::new(0.5, 1.0);
        assert!(north.owns(on_horizontal) && !west.owns(on_horizontal));
    }

    /// A point in a hole belongs to whatever fills the hole, not the ring around it.
    #[test]
    fn hole_is_not_owned() {
        let ring: Polygon<f64> = Polygon::new(
            square(0.0, 0.0, 3.0).0[0].exterior().clone(),
            vec![square(1.0, 1.0, 1.0).0[0].exterior().clone()],
        );
        let shape = PreparedShape::new(&MultiPolygon(vec![ring]));
        let filler = PreparedShape::new(&square(1.0, 1.0, 1.0));
        let in_hole = LonLat::new(1.5, 1.5);
        assert!(!shape.owns(in_hole) && filler.owns(in_hole));
        assert!(shape.owns(LonLat::new(0.5, 0.5)));
    }

    /// Diagonal shared edges (slanted, not axis-aligned) still give every point one owner.
    #[test]
    fn slanted_edges_split_cleanly() {
        // Two triangles sharing the diagonal of the unit square.
        let lower: Polygon<f64> =
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)];
        let upper: Polygon<f64> =
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)];
        let (lo, up) = (
            PreparedShape::new(&MultiPolygon(vec![lower])),
            PreparedShape::new(&MultiPolygon(vec![upper])),
        );
        for k in 1..100 {
            let t = k as f64 / 100.0;
            let p = LonLat::new(t, t);
            assert_eq!(u8::from(lo.owns(p)) + u8::from(up.owns(p)), 1, "{p:?}");
            // East of the diagonal is the lower triangle.
            assert!(lo.owns(p));
        }
    }
}
