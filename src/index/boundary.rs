//! Distance from a point to the boundary of the grid that owns it, so a
//! dispatcher can see that a report is "near a border" and may belong to the
//! neighbour. Segments are kept in a local metric frame (metres east and
//! north, scaled at the county's mean latitude) in an R-tree.

use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};

use super::{GridIndex, GridIx};
use crate::geom::{LonLat, METRES_PER_DEGREE_LAT};

type SegmentEntry = GeomWithData<Line<[f64; 2]>, GridIx>;

/// How many nearest segments to look at before falling back to scanning the
/// grid's own edges (only reached for grids whose children leave gaps).
const NEAREST_TRIES: usize = 64;

/// Boundary segments of the leaf grids (grids without children), whose
/// boundaries together make up every boundary of a tiled hierarchy.
#[derive(Default)]
pub(super) struct BoundaryIndex {
    lon_scale: f64,
    tree: RTree<SegmentEntry>,
}

impl BoundaryIndex {
    pub(super) fn build(index: &GridIndex) -> BoundaryIndex {
        let lats: Vec<f64> = index
            .grids()
            .iter()
            .filter_map(|g| crate::geom::Bbox::of(&g.geometry))
            .map(|b| (b.min_lat + b.max_lat) * 0.5)
            .collect();
        let mean_lat = if lats.is_empty() {
            0.0
        } else {
            lats.iter().sum::<f64>() / lats.len() as f64
        };
        let lon_scale = mean_lat.to_radians().cos() * METRES_PER_DEGREE_LAT;
        let mut segments = Vec::new();
        for (ix, grid) in index.grids().iter().enumerate() {
            if !index.children_of(ix as GridIx).is_empty() {
                continue;
            }
            for polygon in &grid.geometry.0 {
                for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                    for line in ring.lines() {
                        let a = [
                            line.start.x * lon_scale,
                            line.start.y * METRES_PER_DEGREE_LAT,
                        ];
                        let b = [line.end.x * lon_scale, line.end.y * METRES_PER_DEGREE_LAT];
                        segments.push(GeomWithData::new(Line::new(a, b), ix as GridIx));
                    }
                }
            }
        }
        BoundaryIndex {
            lon_scale,
            tree: RTree::bulk_load(segments),
        }
    }

    /// Metres from `p` to the nearest point of `grid`'s boundary.
    pub(super) fn distance_m(&self, index: &GridIndex, p: LonLat, grid: GridIx) -> f64 {
        let q = [p.lon * self.lon_scale, p.lat * METRES_PER_DEGREE_LAT];
        for (entry, d2) in self
            .tree
            .nearest_neighbor_iter_with_distance_2(&q)
            .take(NEAREST_TRIES)
        {
            if entry.data == grid {
                return d2.sqrt();
            }
        }
        // The grid is not a leaf (its children leave gaps) or many other
        // segments are nearer: measure its own edges directly.
        let mut best = f64::INFINITY;
        for polygon in &index.grid(grid).geometry.0 {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for line in ring.lines() {
                    let a = [
                        line.start.x * self.lon_scale,
                        line.start.y * METRES_PER_DEGREE_LAT,
                    ];
                    let b = [
                        line.end.x * self.lon_scale,
                        line.end.y * METRES_PER_DEGREE_LAT,
                    ];
                    best = best.min(crate::geom::nearest_on_segment(q, a, b).0);
                }
            }
        }
        best
    }
}
