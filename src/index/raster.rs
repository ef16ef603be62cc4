//! A raster of uniform cells laid over the grids, so that most locates cost
//! one array read instead of polygon tests.
//!
//! 1. Every edge of every grid marks the cells it passes through (with a
//!    0.1 mm margin) as *mixed*.
//! 2. The remaining cells touch no boundary, so ownership is constant over
//!    each cell and over each 4-connected run of such cells: one exact walk
//!    per connected component gives every cell in it its chain.
//! 3. A lookup in a uniform cell returns the stored chain; in a mixed cell it
//!    asks for the exact walk.
//!
//! The raster never changes an answer, only its cost: tests compare it with
//! the exact walk point for point.

use std::collections::{HashMap, VecDeque};

use geo::CoordsIter;

use super::{Chain, GridIndex};
use crate::geom::{Bbox, LonLat};
use crate::model::Level;

/// Cell value meaning "a boundary crosses this cell: use the exact walk".
const MIXED: u32 = u32::MAX;
/// Margin added around every edge when marking cells, in degrees (≈0.1 mm),
/// far above the rounding error of locating a point in a cell.
const MARGIN_DEG: f64 = 1e-9;
/// Upper bound on the number of cells (4 bytes each).
const MAX_CELLS: usize = 1 << 22;
/// Cells per boundary edge the raster aims at (finer is faster, costs memory).
const CELLS_PER_EDGE: usize = 2;

/// What a raster lookup found.
pub(super) enum Lookup {
    /// The chain, read from a uniform cell (or empty: outside every grid).
    Known(Chain),
    /// The point is in a mixed cell: take the exact walk.
    Exact,
}

/// See the module documentation.
#[derive(Clone)]
pub(super) struct Raster {
    bbox: Bbox,
    cell_w: f64,
    cell_h: f64,
    nx: usize,
    ny: usize,
    /// Row-major cells: an index into `chains`, or `MIXED`.
    cells: Vec<u32>,
    chains: Vec<Chain>,
}

impl Raster {
    /// A raster with no cells: every lookup is outside.
    pub(super) fn empty() -> Raster {
        Raster {
            bbox: Bbox {
                min_lon: 0.0,
                min_lat: 0.0,
                max_lon: 0.0,
                max_lat: 0.0,
            },
            cell_w: 1.0,
            cell_h: 1.0,
            nx: 0,
            ny: 0,
            cells: Vec::new(),
            chains: vec![Chain::default()],
        }
    }

    pub(super) fn build(index: &GridIndex) -> Raster {
        let Some(bbox) = index
            .grids()
            .iter()
            .filter_map(|g| Bbox::of(&g.geometry))
            .reduce(Bbox::union)
        else {
            return Raster::empty();
        };
        let edges: usize = index
            .grids()
            .iter()
            .map(|g| g.geometry.coords_count())
            .sum();
        let target = (edges * CELLS_PER_EDGE).clamp(1 << 12, MAX_CELLS);
        // Square cells in metres: lon degrees shrink by cos(lat).
        let k = ((bbox.min_lat + bbox.max_lat) * 0.5).to_radians().cos();
        let (w_m, h_m) = (
            (bbox.max_lon - bbox.min_lon) * k,
            bbox.max_lat - bbox.min_lat,
        );
        let side = ((w_m * h_m) / target as f64).sqrt().max(1e-9);
        let nx = ((w_m / side).ceil() as usize).max(1);
        let ny = ((h_m / side).ceil() as usize).max(1);
        let mut raster = Raster {
            bbox,
            cell_w: (bbox.max_lon - bbox.min_lon) / nx as f64,
            cell_h: (bbox.max_lat - bbox.min_lat) / ny as f64,
            nx,
            ny,
            cells: vec![0; nx * ny],
            chains: Vec::new(),
        };
        if raster.cell_w <= 0.0 || raster.cell_h <= 0.0 {
            return Raster::empty();
        }
        // 1. Mark mixed cells.
        for grid in index.grids() {
            for polygon in &grid.geometry.0 {
                for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                    for line in ring.lines() {
                        raster.mark_segment(line.start.into(), line.end.into());
                    }
                }
            }
        }
        // 2. One exact walk per connected component of uniform cells.
        let mut known: HashMap<Chain, u32> = HashMap::new();
        let unvisited = MIXED - 1;
        for c in raster.cells.iter_mut() {
            if *c != MIXED {
                *c = unvisited;
            }
        }
        let mut queue = VecDeque::new();
        for start in 0..raster.cells.len() {
            if raster.cells[start] != unvisited {
                continue;
            }
            let chain = index.locate_exact(raster.cell_centre(start));
            let next = known.len() as u32;
            let id = *known.entry(chain).or_insert(next);
            raster.cells[start] = id;
            queue.push_back(start);
            while let Some(cell) = queue.pop_front() {
                let (x, y) = (cell % nx, cell / nx);
                let neighbours = [
                    (x > 0).then(|| cell - 1),
                    (x + 1 < nx).then(|| cell + 1),
                    (y > 0).then(|| cell - nx),
                    (y + 1 < ny).then(|| cell + nx),
                ];
                for n in neighbours.into_iter().flatten() {
                    if raster.cells[n] == unvisited {
                        raster.cells[n] = id;
                        queue.push_back(n);
                    }
                }
            }
        }
        raster.chains = vec![Chain::default(); known.len()];
        for (chain, id) in known {
            raster.chains[id as usize] = chain;
        }
        raster
    }

    /// This raster made true again for `index`, whose grids differ from
    /// the ones it was built for only inside `region`: the cells over
    /// `region` (with the margin) are marked and filled again from
    /// `index`, as [`Raster::build`] does for the whole, and every other
    /// cell keeps its chain (still true: nothing changed there). `None`
    /// when `region` reaches outside the raster, where a lookup would
    /// answer "outside every grid": then it is built afresh.
    pub(super) fn repaired(&self, region: Bbox, index: &GridIndex) -> Option<Raster> {
        let b = &self.bbox;
        let inside = self.nx > 0
            && region.min_lon >= b.min_lon
            && region.max_lon <= b.max_lon
            && region.min_lat >= b.min_lat
            && region.max_lat <= b.max_lat;
        if !inside {
            return None;
        }
        let (x0, x1) = self.col_range(region.min_lon - MARGIN_DEG, region.max_lon + MARGIN_DEG);
        let (y0, y1) = self.row_range(region.min_lat - MARGIN_DEG, region.max_lat + MARGIN_DEG);
        // The cells' extent, grown by the margin an edge marks around it.
        let window = Bbox {
            min_lon: b.min_lon + x0 as f64 * self.cell_w - MARGIN_DEG,
            min_lat: b.min_lat + y0 as f64 * self.cell_h - MARGIN_DEG,
            max_lon: b.min_lon + (x1 + 1) as f64 * self.cell_w + MARGIN_DEG,
            max_lat: b.min_lat + (y1 + 1) as f64 * self.cell_h + MARGIN_DEG,
        };
        let mut raster = self.clone();
        let unvisited = MIXED - 1;
        for y in y0..=y1 {
            raster.cells[y * raster.nx + x0..=y * raster.nx + x1].fill(unvisited);
        }
        // 1. Mixed cells: the edges of every grid that reaches the window
        //    (marking the cells of an edge outside it changes nothing:
        //    every such edge was there before, its cells already mixed).
        for level in Level::ALL {
            for ix in index.candidates_in_bbox(level, window) {
                for polygon in &index.grid(ix).geometry.0 {
                    for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                        for line in ring.lines() {
                            raster.mark_segment(line.start.into(), line.end.into());
                        }
                    }
                }
            }
        }
        // 2. One exact walk per connected component of uniform cells in the
        //    window, reusing the chains already numbered.
        let mut known: HashMap<Chain, u32> = raster
            .chains
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, i as u32))
            .collect();
        let mut queue = VecDeque::new();
        for y in y0..=y1 {
            for x in x0..=x1 {
                let start = y * raster.nx + x;
                if raster.cells[start] != unvisited {
                    continue;
                }
                let chain = index.locate_exact(raster.cell_centre(start));
                let id = *known.entry(chain).or_insert_with(|| {
                    raster.chains.push(chain);
                    (raster.chains.len() - 1) as u32
                });
                raster.cells[start] = id;
                queue.push_back(start);
                while let Some(cell) = queue.pop_front() {
                    let (cx, cy) = (cell % raster.nx, cell / raster.nx);
                    let neighbours = [
                        (cx > x0).then(|| cell - 1),
                        (cx < x1).then(|| cell + 1),
                        (cy > y0).then(|| cell - raster.nx),
                        (cy < y1).then(|| cell + raster.nx),
                    ];
                    for n in neighbours.into_iter().flatten() {
                        if raster.cells[n] == unvisited {
                            raster.cells[n] = id;
                            queue.push_back(n);
                        }
                    }
                }
            }
        }
        Some(raster)
    }

    /// Mark every cell within `MARGIN_DEG` of the segment, walking it in
    /// pieces no longer than a cell so that each piece's box is tight.
    fn mark_segment(&mut self, a: LonLat, b: LonLat) {
        let steps = ((b.lon - a.lon).abs() / self.cell_w)
            .max((b.lat - a.lat).abs() / self.cell_h)
            .ceil()
            .max(1.0) as usize;
        let mut prev = a;
        for s in 1..=steps {
            let t = s as f64 / steps as f64;
            let next = if s == steps {
                b
            } else {
                LonLat::new(a.lon + (b.lon - a.lon) * t, a.lat + (b.lat - a.lat) * t)
            };
            let (x0, x1) = self.col_range(
                prev.lon.min(next.lon) - MARGIN_DEG,
                prev.lon.max(next.lon) + MARGIN_DEG,
            );
            let (y0, y1) = self.row_range(
                prev.lat.min(next.lat) - MARGIN_DEG,
                prev.lat.max(next.lat) + MARGIN_DEG,
            );
            for y in y0..=y1 {
                self.cells[y * self.nx + x0..=y * self.nx + x1].fill(MIXED);
            }
            prev = next;
        }
    }

    fn col_range(&self, lo: f64, hi: f64) -> (usize, usize) {
        let f = |v: f64| {
            (((v - self.bbox.min_lon) / self.cell_w).floor().max(0.0) as usize).min(self.nx - 1)
        };
        (f(lo), f(hi))
    }

    fn row_range(&self, lo: f64, hi: f64) -> (usize, usize) {
        let f = |v: f64| {
            (((v - self.bbox.min_lat) / self.cell_h).floor().max(0.0) as usize).min(self.ny - 1)
        };
        (f(lo), f(hi))
    }

    fn cell_centre(&self, cell: usize) -> LonLat {
        let (x, y) = (cell % self.nx, cell / self.nx);
        LonLat::new(
            self.bbox.min_lon + (x as f64 + 0.5) * self.cell_w,
            self.bbox.min_lat + (y as f64 + 0.5) * self.cell_h,
        )
    }

    /// The chain for `p` if its cell is uniform.
    #[inline]
    pub(super) fn lookup(&self, p: LonLat) -> Lookup {
        let b = &self.bbox;
        // Written so that NaN fails every comparison and lands outside.
        if !(p.lon >= b.min_lon && p.lon <= b.max_lon && p.lat >= b.min_lat && p.lat <= b.max_lat) {
            return Lookup::Known(Chain::default());
        }
        if self.cells.is_empty() {
            return Lookup::Known(Chain::default());
        }
        let x = (((p.lon - b.min_lon) / self.cell_w) as usize).min(self.nx - 1);
        let y = (((p.lat - b.min_lat) / self.cell_h) as usize).min(self.ny - 1);
        match self.cells[y * self.nx + x] {
            MIXED => Lookup::Exact,
            id => Lookup::Known(self.chains[id as usize]),
        }
    }

    /// Fraction of cells that need the exact walk (for benchmarks and docs).
    pub(super) fn mixed_fraction(&self) -> f64 {
        if self.cells.is_empty() {
            return 0.0;
        }
        self.cells.iter().filter(|&&c| c == MIXED).count() as f64 / self.cells.len() as f64
    }
}
