//! What tiles are cut from: one version of the grids (an index snapshot),
//! with every grid projected to Web Mercator once and its label point found
//! once, so that cutting a tile is arithmetic on prepared coordinates.
//!
//! A [`TileSource`] is built when the index is swapped and never changes; its
//! `generation` tells the cache which version a rendered tile came from.

use std::sync::{Arc, OnceLock};

use geo::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;

use super::coord::WorldXY;
use crate::geom::{Bbox, LonLat};
use crate::index::{GridIndex, GridIx};
use crate::model::GridId;

/// Precision of label points, degrees (about 10 m): well under a pixel at
/// the zooms where labels show, and far cheaper than a finer search.
const LABEL_PRECISION_DEG: f64 = 1e-4;

/// The grids of one index version, prepared for tiling.
pub struct TileSource {
    index: Arc<GridIndex>,
    generation: u64,
    /// Each grid's geometry in normalised Web Mercator ([`WorldXY`] as x, y),
    /// by grid position; shared with the source a change was prepared
    /// from where the grid is unchanged.
    world: Vec<Arc<MultiPolygon<f64>>>,
    /// The extent of all grids; `None` when there are none.
    bounds: Option<Bbox>,
    /// Each grid's label point, found on first use (a labels tile needs them,
    /// a grids tile does not).
    labels: OnceLock<Vec<Option<LonLat>>>,
}

impl TileSource {
    /// Prepare an index version for tiling (projects every vertex; about 30 ms
    /// for the demo county's million vertices on two cores).
    pub fn new(index: Arc<GridIndex>, generation: u64) -> TileSource {
        let world = index
            .grids()
            .par_iter()
            .map(|grid| Arc::new(project(&grid.geometry)))
            .collect();
        TileSource::with_world(index, generation, world)
    }

    /// [`TileSource::new`] for `index`, the grids of this source's index
    /// after a change that wrote or removed `changed` (by id): when it holds
    /// the same ids, only those grids are projected again.
    pub fn rebuilt(
        &self,
        index: Arc<GridIndex>,
        generation: u64,
        changed: &[GridId],
    ) -> TileSource {
        let old = self.index.grids();
        let same_ids = old.len() == index.grids().len()
            && old.iter().zip(index.grids()).all(|(a, b)| a.id == b.id);
        if !same_ids {
            return TileSource::new(index, generation);
        }
        let mut world = self.world.clone();
        for id in changed {
            if let Some(ix) = index.position(id) {
                world[ix as usize] = Arc::new(project(&index.grid(ix).geometry));
            }
        }
        TileSource::with_world(index, generation, world)
    }

    fn with_world(
        index: Arc<GridIndex>,
        generation: u64,
        world: Vec<Arc<MultiPolygon<f64>>>,
    ) -> TileSource {
        let bounds = (0..index.grids().len())
            .map(|ix| index.bbox_of(ix as GridIx))
            .filter(|b| !b.is_empty())
            .reduce(Bbox::union);
        TileSource {
            index,
            generation,
            world,
            bounds,
            labels: OnceLock::new(),
        }
    }

    /// The index version this source was cut from.
    pub fn index(&self) -> &Arc<GridIndex> {
        &self.index
    }

    /// Which version of the grids this is; higher is newer.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The extent of all grids, degrees; `None` when there are none.
    pub fn bounds(&self) -> Option<Bbox> {
        self.bounds
    }

    /// Whether a tile can hold any feature: its buffered bounds meet the
    /// extent of the grids. A tile that cannot is answered empty without
    /// being cut or cached, so requests all over the world cannot fill the
    /// cache with empty tiles.
    pub fn may_hold(&self, tile: super::TileId) -> bool {
        let margin = f64::from(super::BUFFER) / f64::from(super::EXTENT);
        self.bounds
            .is_some_and(|b| b.intersects(&tile.lonlat_bounds(margin)))
    }

    /// A grid's geometry in normalised Web Mercator.
    pub fn world_geometry(&self, ix: GridIx) -> &MultiPolygon<f64> {
        &self.world[ix as usize]
    }

    /// A grid's label point: its pole of inaccessibility (the interior point
    /// farthest from its boundary, so the name sits well inside even a
    /// crescent-shaped grid), on its largest part.
    pub fn label_point(&self, ix: GridIx) -> Option<LonLat> {
        self.labels.get_or_init(|| self.find_label_points())[ix as usize]
    }

    fn find_label_points(&self) -> Vec<Option<LonLat>> {
        self.index
            .grids()
            .par_iter()
            .map(|grid| {
                let largest = grid.geometry.0.iter().max_by(|a, b| {
                    use geo::Area;
                    a.unsigned_area().total_cmp(&b.unsigned_area())
                })?;
                polylabel::polylabel(largest, &LABEL_PRECISION_DEG)
                    .ok()
                    .map(|p| LonLat::new(p.x(), p.y()))
            })
            .collect()
    }
}

fn project(geometry: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let ring = |ring: &LineString<f64>| {
        LineString(
            ring.0
                .iter()
                .map(|&c| {
                    let w = WorldXY::from_lonlat(LonLat::from(c));
                    Coord { x: w.x, y: w.y }
                })
                .collect(),
        )
    };
    MultiPolygon(
        geometry
            .0
            .iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect(),
    )
}
