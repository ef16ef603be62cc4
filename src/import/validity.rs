//! Polygon validity by the OGC simple-features rules, for one grid boundary:
//!
//! 1. every coordinate is a finite longitude -180..180 / latitude -90..90;
//! 2. every ring has at least three distinct positions;
//! 3. no ring crosses, touches or doubles back on itself (a bow-tie, a
//!    figure-8 pinch, a spike);
//! 4. holes lie inside their shell and do not overlap one another, and rings
//!    meet only at points, never along a line;
//! 5. the parts of a MultiPolygon do not overlap and meet only at points.
//!
//! These are the checks of geo 0.33's `Validation` trait, and rules 4 and 5
//! are done the way it does them (DE-9IM matrices from `Relate`, the shell
//! prepared once). Rule 3 is not: `Validation` tests every segment of a ring
//! against every other, O(n²) in the ring's length, which took 14.5 s of CPU
//! for the demo county (1.26 million vertices, towns of 2,300-6,500).
//! Here the segments are swept in order of their west end and only pairs whose
//! x-ranges overlap are tested, with exact orientation predicates
//! (`robust::orient2d`), so a compact boundary costs O(n log n). It is also
//! stricter in one case: a spike (a ring running out and back along a line)
//! that geo misses because its segments are all adjacent (a flat triangle),
//! and that PostGIS refuses. `tests::agrees_with_geo_validation` pins the two
//! against each other.

use std::cmp::Ordering;
use std::fmt;

use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{
    BoundingRect, Coord, Intersects, LineString, MultiPolygon, Polygon, PreparedGeometry, Relate,
};

use super::Problem;
use crate::geom::LonLat;
use crate::model::{Localized, Text};

/// Why a boundary is invalid, with where: the `detail` of
/// [`Problem::InvalidPolygon`].
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Invalid {
    /// The MultiPolygon has no polygons, or a polygon has an empty shell.
    Empty,
    /// A ring has fewer than three distinct positions.
    TooFewPoints { polygon: usize, ring: usize },
    /// A ring crosses or touches itself, or doubles back, near `at`.
    SelfIntersection {
        polygon: usize,
        ring: usize,
        at: Coord<f64>,
    },
    /// A hole is not inside its polygon's shell.
    HoleOutsideShell { polygon: usize, ring: usize },
    /// Two rings of one polygon share a stretch of boundary.
    RingsTouchOnALine {
        polygon: usize,
        rings: (usize, usize),
    },
    /// Two holes of one polygon overlap.
    HolesOverlap {
        polygon: usize,
        rings: (usize, usize),
    },
    /// Two parts of a MultiPolygon overlap.
    PartsOverlap { polygons: (usize, usize) },
    /// Two parts of a MultiPolygon share a stretch of boundary (they should
    /// be one polygon).
    PartsTouchOnALine { polygons: (usize, usize) },
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::Empty => write!(f, "the geometry has no area"),
            Invalid::TooFewPoints { polygon, ring } => write!(
                f,
                "ring {ring} of polygon {polygon} has fewer than 3 distinct positions"
            ),
            Invalid::SelfIntersection { polygon, ring, at } => write!(
                f,
                "ring {ring} of polygon {polygon} crosses or touches itself near [{}, {}]",
                at.x, at.y
            ),
            Invalid::HoleOutsideShell { polygon, ring } => write!(
                f,
                "hole (ring {ring}) of polygon {polygon} is not inside its shell"
            ),
            Invalid::RingsTouchOnALine { polygon, rings } => write!(
                f,
                "rings {} and {} of polygon {polygon} share a stretch of boundary",
                rings.0, rings.1
            ),
            Invalid::HolesOverlap { polygon, rings } => write!(
                f,
                "holes (rings {} and {}) of polygon {polygon} overlap",
                rings.0, rings.1
            ),
            Invalid::PartsOverlap { polygons } => {
                write!(f, "polygons {} and {} overlap", polygons.0, polygons.1)
            }
            Invalid::PartsTouchOnALine { polygons } => write!(
                f,
                "polygons {} and {} share a stretch of boundary (merge them)",
                polygons.0, polygons.1
            ),
        }
    }
}

impl Localized for Invalid {
    fn zh(&self) -> String {
        match self {
            Invalid::Empty => "几何图形没有面积".to_owned(),
            Invalid::TooFewPoints { polygon, ring } => {
                format!("多边形 {polygon} 的环 {ring} 中不同的坐标点少于 3 个")
            }
            Invalid::SelfIntersection { polygon, ring, at } => format!(
                "多边形 {polygon} 的环 {ring} 在 [{}, {}] 附近自相交或自相接",
                at.x, at.y
            ),
            Invalid::HoleOutsideShell { polygon, ring } => {
                format!("多边形 {polygon} 的洞（环 {ring}）不在其外环之内")
            }
            Invalid::RingsTouchOnALine { polygon, rings } => format!(
                "多边形 {polygon} 的环 {} 和环 {} 有一段共同边界",
                rings.0, rings.1
            ),
            Invalid::HolesOverlap { polygon, rings } => format!(
                "多边形 {polygon} 的洞（环 {} 和环 {}）互相重叠",
                rings.0, rings.1
            ),
            Invalid::PartsOverlap { polygons } => {
                format!("多边形 {} 和 {} 互相重叠", polygons.0, polygons.1)
            }
            Invalid::PartsTouchOnALine { polygons } => format!(
                "多边形 {} 和 {} 有一段共同边界（应合并为一个）",
                polygons.0, polygons.1
            ),
        }
    }
}

/// The first rule `geometry` breaks, as a [`Problem`]: `BadCoordinate` for
/// rule 1, `InvalidPolygon` for the others. `Ok` when it is a valid boundary.
pub(super) fn check(geometry: &MultiPolygon<f64>) -> Result<(), Problem> {
    for (p, polygon) in geometry.0.iter().enumerate() {
        for (r, ring) in rings(polygon).enumerate() {
            if let Some((index, c)) = ring
                .0
                .iter()
                .enumerate()
                .find(|(_, c)| !LonLat::from(**c).is_valid())
            {
                return Err(Problem::BadCoordinate {
                    polygon: p,
                    ring: r,
                    index,
                    position: format!("[{}, {}]", c.x, c.y),
                });
            }
        }
    }
    invalidity(geometry).map_or(Ok(()), |invalid| {
        Err(Problem::InvalidPolygon {
            detail: Text::of(&invalid).into(),
        })
    })
}

/// The first of rules 2-5 that `geometry` breaks (coordinates are assumed
/// finite).
pub(super) fn invalidity(geometry: &MultiPolygon<f64>) -> Option<Invalid> {
    if geometry.0.is_empty() {
        return Some(Invalid::Empty);
    }
    for (p, polygon) in geometry.0.iter().enumerate() {
        if let Some(invalid) = polygon_invalidity(p, polygon) {
            return Some(invalid);
        }
    }
    // Rule 5, as geo's `Validation` does it, after a bounding-box test
    // (most grids have one part; exclaves are far from the main part).
    for (i, a) in geometry.0.iter().enumerate() {
        for (j, b) in geometry.0.iter().enumerate().skip(i + 1) {
            if !boxes_meet(a, b) {
                continue;
            }
            let m = a.relate(b);
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Some(Invalid::PartsOverlap { polygons: (i, j) });
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Some(Invalid::PartsTouchOnALine { polygons: (i, j) });
            }
        }
    }
    None
}

fn rings(polygon: &Polygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    std::iter::once(polygon.exterior()).chain(polygon.interiors())
}

fn boxes_meet(a: &Polygon<f64>, b: &Polygon<f64>) -> bool {
    match (a.bounding_rect(), b.bounding_rect()) {
        (Some(a), Some(b)) => a.intersects(&b),
        _ => false,
    }
}

fn polygon_invalidity(p: usize, polygon: &Polygon<f64>) -> Option<Invalid> {
    if polygon.exterior().0.is_empty() {
        return Some(Invalid::Empty);
    }
    // Rules 2 and 3, ring by ring.
    for (r, ring) in rings(polygon).enumerate() {
        let positions = without_repeats(&ring.0);
        // Closed, so three distinct positions make four.
        if positions.len() < 4 {
            return Some(Invalid::TooFewPoints {
                polygon: p,
                ring: r,
            });
        }
        if let Some(at) = ring_self_intersection(&positions) {
            return Some(Invalid::SelfIntersection {
                polygon: p,
                ring: r,
                at,
            });
        }
    }
    if polygon.interiors().is_empty() {
        return None;
    }
    // Rule 4, as geo's `Validation` does it: the shell prepared once, each
    // hole related to it and to the holes after it.
    let shell = Polygon::new(polygon.exterior().clone(), vec![]);
    let shell = PreparedGeometry::from(&shell);
    let holes: Vec<Polygon<f64>> = polygon
        .interiors()
        .iter()
        .map(|h| Polygon::new(h.clone(), vec![]))
        .collect();
    for (i, hole) in holes.iter().enumerate() {
        let prepared = PreparedGeometry::from(hole);
        let m = shell.relate(&prepared);
        if !m.is_contains() {
            return Some(Invalid::HoleOutsideShell {
                polygon: p,
                ring: i + 1,
            });
        }
        if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            return Some(Invalid::RingsTouchOnALine {
                polygon: p,
                rings: (0, i + 1),
            });
        }
        for (j, other) in holes.iter().enumerate().skip(i + 1) {
            if !boxes_meet(hole, other) {
                continue;
            }
            let m = prepared.relate(other);
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Some(Invalid::HolesOverlap {
                    polygon: p,
                    rings: (i + 1, j + 1),
                });
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Some(Invalid::RingsTouchOnALine {
                    polygon: p,
                    rings: (i + 1, j + 1),
                });
            }
        }
    }
    None
}

/// The ring's positions with consecutive repeats dropped (a repeated
/// position is harmless and has no direction to test).
fn without_repeats(positions: &[Coord<f64>]) -> Vec<Coord<f64>> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(positions.len());
    for &c in positions {
        if out.last() != Some(&c) {
            out.push(c);
        }
    }
    out
}

/// Where a closed ring (no consecutive repeats) crosses, touches or doubles
/// back on itself, if it does.
///
/// Segments `i` and `i + 1` (and the last and the first) share a vertex by
/// construction and are at fault only when they overlap along a line; any
/// other two segments must not meet at all. Segments are visited in order of
/// their west end, and each is tested only against those that start before
/// its east end: O(n log n + k) for k pairs with overlapping x-ranges.
fn ring_self_intersection(ring: &[Coord<f64>]) -> Option<Coord<f64>> {
    let n = ring.len() - 1;
    let segment = |i: usize| (ring[i], ring[i + 1]);
    let west = |i: usize| ring[i].x.min(ring[i + 1].x);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&i, &j| west(i).total_cmp(&west(j)));
    for (k, &i) in order.iter().enumerate() {
        let (a, b) = segment(i);
        let east = a.x.max(b.x);
        let (south, north) = (a.y.min(b.y), a.y.max(b.y));
        for &j in &order[k + 1..] {
            let (c, d) = segment(j);
            if west(j) > east {
                break;
            }
            if c.y.max(d.y) < south || c.y.min(d.y) > north {
                continue;
            }
            let adjacent = (i + 1) % n == j || (j + 1) % n == i;
            match meeting(a, b, c, d) {
                Meeting::Apart => {}
                Meeting::Overlap => return Some(a),
                Meeting::Point(_) if adjacent => {}
                Meeting::Point(at) => return Some(at),
            }
        }
    }
    None
}

/// How two segments (each of non-zero length) meet.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Meeting {
    /// Not at all.
    Apart,
    /// At one point: crossing, or an end of one on the other.
    Point(Coord<f64>),
    /// Along a stretch of line (collinear and overlapping).
    Overlap,
}

/// Exact: the orientation tests are robust predicates, and the comparisons
/// along a line are comparisons of the given doubles.
fn meeting(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> Meeting {
    let o1 = orient(a, b, c);
    let o2 = orient(a, b, d);
    if o1 == Ordering::Equal && o2 == Ordering::Equal {
        // Collinear: compare along the line, lexicographically (x, then y for
        // a vertical line), which orders points on a line consistently.
        let (s1, e1) = ordered(a, b);
        let (s2, e2) = ordered(c, d);
        return match (lex(e1, s2), lex(e2, s1)) {
            (Ordering::Less, _) | (_, Ordering::Less) => Meeting::Apart,
            (Ordering::Equal, _) => Meeting::Point(e1),
            (_, Ordering::Equal) => Meeting::Point(e2),
            _ => Meeting::Overlap,
        };
    }
    if o1 == o2 {
        // Both ends of cd strictly on one side of ab.
        return Meeting::Apart;
    }
    let o3 = orient(c, d, a);
    let o4 = orient(c, d, b);
    if o3 == o4 {
        return Meeting::Apart;
    }
    // Each segment has its ends on both sides of (or on) the other's line, so
    // they meet at one point: an endpoint lying on the other segment, or a
    // proper crossing (reported at a's end, near enough to find it).
    let at = match (o1, o2, o3, o4) {
        (Ordering::Equal, ..) => c,
        (_, Ordering::Equal, ..) => d,
        (_, _, Ordering::Equal, _) => a,
        (.., Ordering::Equal) => b,
        _ => a,
    };
    Meeting::Point(at)
}

fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> Ordering {
    let det = robust::orient2d(
        robust::Coord { x: a.x, y: a.y },
        robust::Coord { x: b.x, y: b.y },
        robust::Coord { x: c.x, y: c.y },
    );
    det.partial_cmp(&0.0).unwrap_or(Ordering::Equal)
}

fn lex(a: Coord<f64>, b: Coord<f64>) -> Ordering {
    a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y))
}

fn ordered(a: Coord<f64>, b: Coord<f64>) -> (Coord<f64>, Coord<f64>) {
    if lex(a, b) == Ordering::Greater {
        (b, a)
    } else {
        (a, b)
    }
}

/// +1 when a valid ring (no consecutive repeats, closed) runs
/// counter-clockwise, -1 when clockwise: the exact orientation at its
/// lowest-leftmost vertex, which is convex, so the test is never 0 for a
/// ring that passed [`ring_self_intersection`].
pub(super) fn ring_direction(ring: &[Coord<f64>]) -> i8 {
    let n = ring.len().saturating_sub(1);
    if n < 3 {
        return 0;
    }
    let (k, _) = ring[..n]
        .iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| lex(**a, **b))
        .expect("a ring of three or more positions has a lowest one");
    let prev = ring[(k + n - 1) % n];
    let next = ring[(k + 1) % n];
    match orient(prev, ring[k], next) {
        Ordering::Greater => 1,
        Ordering::Less => -1,
        Ordering::Equal => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Validation, coord, polygon, wkt};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn one(p: Polygon<f64>) -> MultiPolygon<f64> {
        MultiPolygon(vec![p])
    }

    /// A square with its corners in order is valid; the same corners with two
    /// swapped make a bow-tie.
    ///
    /// ```text
    ///  valid        bow-tie
    ///  3───2        3   2
    ///  │   │         ╲ ╱
    ///  │   │          ╳
    ///  0───1         ╱ ╲
    ///               0───1  (0,1,3,2 joined in order)
    /// ```
    #[test]
    fn bow_tie_is_a_self_intersection() {
        assert_eq!(
            invalidity(&one(wkt!(POLYGON((0. 0.,1. 0.,1. 1.,0. 1.,0. 0.))))),
            None
        );
        assert!(matches!(
            invalidity(&one(wkt!(POLYGON((0. 0.,1. 0.,0. 1.,1. 1.,0. 0.))))),
            Some(Invalid::SelfIntersection {
                polygon: 0,
                ring: 0,
                ..
            })
        ));
    }

    /// A ring through the same vertex twice (a figure 8) is not simple.
    #[test]
    fn pinched_ring_is_a_self_intersection() {
        let eight = wkt!(POLYGON((0. 0.,1. 0.,1. 1.,2. 1.,2. 2.,1. 2.,1. 1.,0. 1.,0. 0.)));
        assert!(matches!(
            invalidity(&one(eight)),
            Some(Invalid::SelfIntersection { at, .. }) if at == coord! { x: 1., y: 1. }
        ));
    }

    /// A ring running out along a line and back (a spike) is refused. geo
    /// 0.33 refuses one where the spike's base is visited twice, but not a
    /// flat triangle, whose segments are all adjacent to one another.
    #[test]
    fn spike_is_a_self_intersection() {
        let spike = wkt!(POLYGON((0. 0.,2. 0.,2. 1.,3. 1.,2. 1.,0. 1.,0. 0.)));
        assert!(matches!(
            invalidity(&one(spike)),
            Some(Invalid::SelfIntersection { .. })
        ));
        let flat = wkt!(POLYGON((3. 2.,1. 0.,4. 3.,3. 2.)));
        assert!(flat.is_valid(), "geo accepts it");
        assert!(matches!(
            invalidity(&one(flat)),
            Some(Invalid::SelfIntersection { .. })
        ));
    }

    /// A vertex of a ring lying on another of its segments (touching, not
    /// crossing) is still a self-intersection.
    #[test]
    fn ring_touching_itself_is_a_self_intersection() {
        let touch = wkt!(POLYGON((0. 0.,4. 0.,4. 4.,2. 0.,0. 4.,0. 0.)));
        assert!(!touch.is_valid());
        assert!(matches!(
            invalidity(&one(touch)),
            Some(Invalid::SelfIntersection { .. })
        ));
    }

    /// Repeated positions are harmless; three distinct positions are the minimum.
    #[test]
    fn repeats_and_too_few_points() {
        let repeats = wkt!(POLYGON((0. 0.,0. 0.,1. 0.,1. 1.,1. 1.,0. 0.)));
        assert_eq!(invalidity(&one(repeats)), None);
        let flat = wkt!(POLYGON((0. 0.,1. 0.,1. 0.,0. 0.)));
        assert_eq!(
            invalidity(&one(flat)),
            Some(Invalid::TooFewPoints {
                polygon: 0,
                ring: 0
            })
        );
    }

    /// Holes: inside the shell, touching it at a point, crossing it, along a
    /// shared line, and two overlapping holes.
    #[test]
    fn holes() {
        let ok = wkt!(POLYGON((0. 0.,4. 0.,4. 4.,0. 4.,0. 0.),(1. 1.,2. 1.,2. 2.,1. 2.,1. 1.)));
        assert_eq!(invalidity(&one(ok)), None);
        let touching =
            wkt!(POLYGON((0. 0.,4. 0.,4. 4.,0. 4.,0. 0.),(0. 2.,2. 1.,3. 2.,2. 3.,0. 2.)));
        assert_eq!(invalidity(&one(touching)), None);
        let outside =
            wkt!(POLYGON((0. 0.,4. 0.,4. 4.,0. 4.,0. 0.),(3. 1.,5. 1.,5. 2.,3. 2.,3. 1.)));
        assert_eq!(
            invalidity(&one(outside)),
            Some(Invalid::HoleOutsideShell {
                polygon: 0,
                ring: 1
            })
        );
        let on_line =
            wkt!(POLYGON((0. 0.,4. 0.,4. 4.,0. 4.,0. 0.),(0. 1.,2. 1.,2. 2.,0. 2.,0. 1.)));
        assert_eq!(
            invalidity(&one(on_line)),
            Some(Invalid::RingsTouchOnALine {
                polygon: 0,
                rings: (0, 1)
            })
        );
        let overlapping = wkt!(POLYGON(
            (0. 0.,4. 0.,4. 4.,0. 4.,0. 0.),
            (1. 1.,2. 1.,2. 2.,1. 2.,1. 1.),
            (1.5 1.5,3. 1.5,3. 3.,1.5 3.,1.5 1.5)
        ));
        assert_eq!(
            invalidity(&one(overlapping)),
            Some(Invalid::HolesOverlap {
                polygon: 0,
                rings: (1, 2)
            })
        );
    }

    /// MultiPolygon parts may touch at a point, not overlap or share a side.
    #[test]
    fn parts() {
        let corner =
            wkt!(MULTIPOLYGON(((0. 0.,1. 0.,1. 1.,0. 1.,0. 0.)),((1. 1.,2. 1.,2. 2.,1. 2.,1. 1.))));
        assert_eq!(invalidity(&corner), None);
        let side =
            wkt!(MULTIPOLYGON(((0. 0.,1. 0.,1. 1.,0. 1.,0. 0.)),((1. 0.,2. 0.,2. 1.,1. 1.,1. 0.))));
        assert_eq!(
            invalidity(&side),
            Some(Invalid::PartsTouchOnALine { polygons: (0, 1) })
        );
        let overlap =
            wkt!(MULTIPOLYGON(((0. 0.,2. 0.,2. 2.,0. 2.,0. 0.)),((1. 1.,3. 1.,3. 3.,1. 3.,1. 1.))));
        assert_eq!(
            invalidity(&overlap),
            Some(Invalid::PartsOverlap { polygons: (0, 1) })
        );
        assert_eq!(invalidity(&MultiPolygon(vec![])), Some(Invalid::Empty));
    }

    /// Out-of-range and non-finite coordinates are named with where they are.
    #[test]
    fn bad_coordinates() {
        let far = one(polygon![(x: 0., y: 0.), (x: 200., y: 0.), (x: 0., y: 1.)]);
        assert_eq!(
            check(&far),
            Err(Problem::BadCoordinate {
                polygon: 0,
                ring: 0,
                index: 1,
                position: "[200, 0]".into()
            })
        );
        let nan = one(polygon![(x: 0., y: 0.), (x: 1., y: f64::NAN), (x: 0., y: 1.)]);
        assert!(matches!(
            check(&nan),
            Err(Problem::BadCoordinate { index: 1, .. })
        ));
    }

    /// Orientation of rings at their lowest-leftmost vertex, including one
    /// whose neighbours there are on a vertical line.
    #[test]
    fn ring_directions() {
        let ccw = [(0., 0.), (1., 0.), (1., 1.), (0., 1.), (0., 0.)].map(Coord::from);
        let mut cw = ccw;
        cw.reverse();
        assert_eq!(ring_direction(&ccw), 1);
        assert_eq!(ring_direction(&cw), -1);
        let notched = [(0., 0.), (2., 0.), (2., 2.), (0., 2.), (0., 1.), (0., 0.)].map(Coord::from);
        assert_eq!(ring_direction(&notched), 1);
    }

    /// Oracle: on random small rings (fixed seed), the sweep finds a
    /// self-intersection exactly when geo's O(n²) `Validation` does, apart
    /// from the spikes geo misses (see `spike_is_a_self_intersection`).
    #[test]
    fn agrees_with_geo_validation() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (mut valid, mut invalid) = (0, 0);
        for _ in 0..3_000 {
            let n = rng.random_range(3..9);
            // Small integer coordinates make touching and collinear cases common.
            let ring: Vec<Coord<f64>> = (0..n)
                .map(|_| coord! { x: f64::from(rng.random_range(0..5)), y: f64::from(rng.random_range(0..5)) })
                .collect();
            let polygon = Polygon::new(LineString(ring), vec![]);
            let mine = invalidity(&one(polygon.clone()));
            let positions = without_repeats(&polygon.exterior().0);
            let spiky = positions.len() >= 4
                && (0..positions.len() - 1).any(|i| {
                    let (a, b) = (positions[i], positions[i + 1]);
                    let c = positions[(i + 2) % (positions.len() - 1)];
                    orient(a, b, c) == Ordering::Equal && lex(a, b) != lex(b, c)
                });
            match (polygon.is_valid(), &mine) {
                (true, None) => valid += 1,
                (false, Some(_)) => invalid += 1,
                (true, Some(Invalid::SelfIntersection { .. })) if spiky => invalid += 1,
                (geo, mine) => panic!("{polygon:?}: geo valid {geo}, sweep {mine:?}"),
            }
        }
        assert!(
            valid > 100 && invalid > 100,
            "{valid} valid, {invalid} invalid"
        );
    }
}
