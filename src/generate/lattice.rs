//! The hexagonal lattice the demo county is painted on.
//!
//! Pointy-top hexagons in "odd-r" offset rows. Hexagons were chosen over
//! squares because every lattice vertex touches exactly three cells: two
//! cells of one region can never meet at a single corner, so every region's
//! boundary is a set of simple rings with no pinch points, and a shared edge
//! is the same lattice edge seen from both sides. Vertex positions come from
//! integer keys, jittered by a hash of the key, so both sides of a shared edge
//! get bit-identical coordinates.

use crate::geom::{LonLat, METRES_PER_DEGREE_LAT};

/// Position of a cell in the lattice's row-major cell array.
pub type Cell = u32;

/// A lattice vertex in half-width / half-side integer units (see [`Lattice::corners`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VertexKey {
    /// Units of half a hexagon's width (√3·s/2) east of the origin.
    pub ix: i32,
    /// Units of half a side (s/2) north of the origin.
    pub iy: i32,
}

/// A rectangle of hexagons over a lon/lat box.
pub struct Lattice {
    /// South-west corner of the lattice.
    origin: LonLat,
    /// Hexagon circumradius (= side), metres.
    side_m: f64,
    /// Metres per degree of longitude at the county's latitude.
    m_per_deg_lon: f64,
    /// Cells per row.
    pub cols: usize,
    /// Rows.
    pub rows: usize,
    seed: u64,
}

impl Lattice {
    /// A lattice of hexagons of `side_m` metres covering the box from
    /// `south_west` to `north_east`.
    pub fn new(south_west: LonLat, north_east: LonLat, side_m: f64, seed: u64) -> Lattice {
        let mid_lat = (south_west.lat + north_east.lat) * 0.5;
        let m_per_deg_lon = mid_lat.to_radians().cos() * METRES_PER_DEGREE_LAT;
        let width_m = (north_east.lon - south_west.lon) * m_per_deg_lon;
        let height_m = (north_east.lat - south_west.lat) * METRES_PER_DEGREE_LAT;
        let cols = (width_m / (3f64.sqrt() * side_m)).ceil() as usize;
        let rows = (height_m / (1.5 * side_m)).ceil() as usize;
        Lattice {
            origin: south_west,
            side_m,
            m_per_deg_lon,
            cols,
            rows,
            seed,
        }
    }

    /// Number of cells.
    #[allow(clippy::len_without_is_empty)] // never empty: built from a non-empty box
    pub fn len(&self) -> usize {
        self.cols * self.rows
    }

    /// Area of one cell, km².
    pub fn cell_area_km2(&self) -> f64 {
        1.5 * 3f64.sqrt() * self.side_m * self.side_m / 1e6
    }

    /// The cell at column `q`, row `r`.
    pub fn cell(&self, q: usize, r: usize) -> Cell {
        (r * self.cols + q) as Cell
    }

    /// Column and row of a cell.
    pub fn qr(&self, c: Cell) -> (usize, usize) {
        (c as usize % self.cols, c as usize / self.cols)
    }

    /// Centre of a cell in metres east and north of the origin.
    pub fn centre_m(&self, c: Cell) -> (f64, f64) {
        let (q, r) = self.qr(c);
        let w = 3f64.sqrt() * self.side_m;
        (
            w * (q as f64 + 0.5 * (r & 1) as f64),
            1.5 * self.side_m * r as f64,
        )
    }

    /// Centre of a cell as lon/lat.
    pub fn centre(&self, c: Cell) -> LonLat {
        let (x, y) = self.centre_m(c);
        self.to_lonlat(x, y)
    }

    /// A point in metres east/north of the origin, as lon/lat.
    pub fn to_lonlat(&self, x: f64, y: f64) -> LonLat {
        LonLat::new(
            self.origin.lon + x / self.m_per_deg_lon,
            self.origin.lat + y / METRES_PER_DEGREE_LAT,
        )
    }

    /// The six neighbours in corner-edge order: neighbour `k` lies across the
    /// edge from corner `k` to corner `k + 1` (see [`corners`](Self::corners)).
    /// `None` beyond the lattice.
    pub fn neighbours(&self, c: Cell) -> [Option<Cell>; 6] {
        let (q, r) = self.qr(c);
        let (q, r) = (q as i64, r as i64);
        let odd = r & 1;
        // Upper-right, right, lower-right, lower-left, left, upper-left.
        let offsets = [
            (odd, 1),
            (1, 0),
            (odd, -1),
            (odd - 1, -1),
            (-1, 0),
            (odd - 1, 1),
        ];
        offsets.map(|(dq, dr)| {
            let (nq, nr) = (q + dq, r + dr);
            (nq >= 0 && nr >= 0 && (nq as usize) < self.cols && (nr as usize) < self.rows)
                .then(|| self.cell(nq as usize, nr as usize))
        })
    }

    /// The six corners, clockwise from the top: top, upper-right, lower-right,
    /// bottom, lower-left, upper-left.
    pub fn corners(&self, c: Cell) -> [VertexKey; 6] {
        let (q, r) = self.qr(c);
        let cx = 2 * q as i32 + (r & 1) as i32;
        let cy = 3 * r as i32;
        [(0, 2), (1, 1), (1, -1), (0, -2), (-1, -1), (-1, 1)].map(|(dx, dy)| VertexKey {
            ix: cx + dx,
            iy: cy + dy,
        })
    }

    /// Where a vertex lies, rounded to 7 decimals (about 1 cm). The lattice
    /// position is jittered by up to 0.18 sides in each axis, from a hash of
    /// the key alone, so every cell that shares the vertex computes the same
    /// coordinates.
    pub fn vertex(&self, v: VertexKey) -> LonLat {
        let (x, y) = self.vertex_m(v);
        self.rounded(x, y)
    }

    /// An extra vertex near the middle of the lattice edge `a`–`b`, pushed
    /// sideways by up to 0.12 sides, so that boundaries bend between lattice
    /// vertices. Computed from the two keys in a fixed order, so both sides of
    /// the edge get the same point.
    ///
    /// Why rings stay simple: edges of a hexagon that share no vertex are at
    /// least 0.87 sides apart; a jittered vertex moves at most 0.255 sides
    /// (0.18 in each axis) and a bent edge at most 0.255 + 0.12, so two edges
    /// close by at most 0.75 sides and never touch.
    pub fn edge_midpoint(&self, a: VertexKey, b: VertexKey) -> LonLat {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        let ((ax, ay), (bx, by)) = (self.vertex_m(a), self.vertex_m(b));
        let (dx, dy) = (bx - ax, by - ay);
        let len = dx.hypot(dy);
        let h = splitmix(
            self.seed
                ^ 0x5eed_0000_0000
                ^ ((a.ix as u32 as u64) << 40)
                ^ ((a.iy as u32 as u64) << 20)
                ^ (b.ix as u32 as u64)
                ^ ((b.iy as u32 as u64) << 52),
        );
        let push = ((h & 0xffff) as f64 / 65535.0 - 0.5) * 0.24 * self.side_m;
        let along = 0.5 + ((h >> 16 & 0xffff) as f64 / 65535.0 - 0.5) * 0.2;
        self.rounded(
            ax + dx * along - dy / len * push,
            ay + dy * along + dx / len * push,
        )
    }

    fn vertex_m(&self, v: VertexKey) -> (f64, f64) {
        let w = 3f64.sqrt() * self.side_m;
        let h = splitmix(self.seed ^ ((v.ix as u32 as u64) << 32 | v.iy as u32 as u64));
        let jx = ((h & 0xffff) as f64 / 65535.0 - 0.5) * 0.36 * self.side_m;
        let jy = (((h >> 16) & 0xffff) as f64 / 65535.0 - 0.5) * 0.36 * self.side_m;
        (
            v.ix as f64 * w / 2.0 + jx,
            v.iy as f64 * self.side_m / 2.0 + jy,
        )
    }

    fn rounded(&self, x: f64, y: f64) -> LonLat {
        let p = self.to_lonlat(x, y);
        LonLat::new(round7(p.lon), round7(p.lat))
    }
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// SplitMix64: a well-mixed hash of a 64-bit value.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Neighbour k and this cell share the corners k and k+1, as both see them.
    #[test]
    fn neighbours_share_the_edge_between_corners() {
        let lat = Lattice::new(
            LonLat::new(106.0, 34.0),
            LonLat::new(106.05, 34.05),
            30.0,
            1,
        );
        for c in [
            lat.cell(10, 10),
            lat.cell(11, 11),
            lat.cell(5, 20),
            lat.cell(6, 21),
        ] {
            let mine = lat.corners(c);
            for (k, n) in lat.neighbours(c).into_iter().enumerate() {
                let theirs = lat.corners(n.expect("interior cell"));
                assert!(
                    theirs.contains(&mine[k]) && theirs.contains(&mine[(k + 1) % 6]),
                    "cell {c} edge {k}"
                );
            }
        }
    }
}
