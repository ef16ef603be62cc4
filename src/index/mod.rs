//! The in-memory index that answers "which grid at each level covers this
//! point?". It is a cache of the store, rebuilt whole and swapped atomically
//! when grids change (see `state`), never mutated in place.
//!
//! A locate walks down the hierarchy: the level-1 grid that owns the point
//! (R-tree over level-1 bounding boxes, then the boundary rule of [`rule`]),
//! then the child of that grid that owns it, and so on. The chain is
//! therefore always consistent: each answer is the parent of the next. A
//! raster of uniform cells (`raster.rs`) answers most points without any
//! polygon test; points in cells that a boundary crosses take the exact walk.

mod raster;
pub mod rule;
pub mod search;

use std::collections::HashMap;
use std::sync::Arc;

use geo::{Intersects, Line};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use crate::geom::{Bbox, LonLat};
use crate::model::{Grid, GridId, Level};
use rule::PreparedShape;

/// Position of a grid in [`GridIndex::grids`].
pub type GridIx = u32;

/// The grids that own a point, one slot per level (index 0 = level 1).
/// Slots fill from level 1 down and stop at the first level with no owner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Chain(pub [Option<GridIx>; 5]);

impl Chain {
    /// The owner at `level`, if any.
    pub fn at(&self, level: Level) -> Option<GridIx> {
        self.0[level.index()]
    }

    /// The deepest owner, if the point is inside the county at all.
    pub fn deepest(&self) -> Option<GridIx> {
        self.0.iter().rev().find_map(|g| *g)
    }

    /// True for a point outside every level-1 grid.
    pub fn is_empty(&self) -> bool {
        self.0[0].is_none()
    }
}

type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, GridIx>;

/// The grids, their hierarchy and their prepared boundaries.
pub struct GridIndex {
    /// All grids, ordered by level then id.
    grids: Vec<Grid>,
    by_id: HashMap<GridId, GridIx>,
    parent: Vec<Option<GridIx>>,
    children: Vec<Vec<GridIx>>,
    /// Shared with the index a change was rebuilt from, where the grid is
    /// unchanged ([`GridIndex::rebuilt`]).
    shapes: Vec<Arc<PreparedShape>>,
    /// One R-tree of bounding boxes per level, for bbox queries and the
    /// first step of a locate.
    level_trees: [RTree<BoxEntry>; 5],
    raster: raster::Raster,
    /// The version of the stored grid set this index was built from (0
    /// until [`GridIndex::with_version`] says otherwise).
    version: i64,
}

impl GridIndex {
    /// Build the index. Grids are expected to have passed `import::validate`
    /// (a parent for every grid but level 1, one level apart); a grid whose
    /// parent is missing is unreachable by locate but still listed.
    pub fn build(mut grids: Vec<Grid>) -> GridIndex {
        grids.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)));
        let by_id: HashMap<GridId, GridIx> = grids
            .iter()
            .enumerate()
            .map(|(i, g)| (g.id.clone(), i as GridIx))
            .collect();
        let shapes: Vec<Arc<PreparedShape>> = grids
            .iter()
            .map(|g| Arc::new(PreparedShape::new(&g.geometry)))
            .collect();
        let mut index = GridIndex::assemble(grids, by_id, shapes);
        index.raster = raster::Raster::build(&index);
        index
    }

    /// The index of `grids`, the grids of this index after a change,
    /// reusing what the change left alone: when the set holds the same ids
    /// (a boundary edit that moves borders but adds or removes no grid),
    /// the prepared shapes of unchanged grids are shared and the raster is
    /// kept, its cells over the changed grids (before and after) computed
    /// again; otherwise it is built afresh, and so is the raster when a
    /// changed grid reaches outside it. Answers are the same either way
    /// (tested point for point); only the cost differs.
    pub fn rebuilt(&self, grids: Vec<Grid>) -> GridIndex {
        self.rebuilt_where(grids, |new, old| new != old)
    }

    /// [`GridIndex::rebuilt`] told which grids the change wrote or removed
    /// (by id): the others are carried over without comparing their
    /// coordinates, as an upsert carries them.
    pub fn rebuilt_changing(&self, grids: Vec<Grid>, changed: &[GridId]) -> GridIndex {
        let changed: std::collections::HashSet<&GridId> = changed.iter().collect();
        self.rebuilt_where(grids, |new, _| changed.contains(&new.id))
    }

    fn rebuilt_where(
        &self,
        mut grids: Vec<Grid>,
        differs: impl Fn(&Grid, &Grid) -> bool,
    ) -> GridIndex {
        grids.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)));
        let same_ids = grids.len() == self.grids.len()
            && grids.iter().zip(&self.grids).all(|(a, b)| a.id == b.id);
        if !same_ids {
            return GridIndex::build(grids);
        }
        let mut region: Option<Bbox> = None;
        let shapes: Vec<Arc<PreparedShape>> = grids
            .iter()
            .zip(&self.grids)
            .zip(&self.shapes)
            .map(|((new, old), shape)| {
                if !differs(new, old) {
                    return shape.clone();
                }
                let prepared = PreparedShape::new(&new.geometry);
                for b in [shape.bbox(), prepared.bbox()] {
                    if b.is_empty() {
                        continue;
                    }
                    region = Some(region.map_or(b, |r| r.union(b)));
                }
                Arc::new(prepared)
            })
            .collect();
        let mut index = GridIndex::assemble(grids, self.by_id.clone(), shapes);
        index.raster = match region {
            None => self.raster.clone(),
            Some(region) => match self.raster.repaired(region, &index) {
                Some(raster) => raster,
                None => raster::Raster::build(&index),
            },
        };
        index
    }

    /// An index of these parts, with its hierarchy and R-trees and no
    /// raster yet.
    fn assemble(
        grids: Vec<Grid>,
        by_id: HashMap<GridId, GridIx>,
        shapes: Vec<Arc<PreparedShape>>,
    ) -> GridIndex {
        let parent: Vec<Option<GridIx>> = grids
            .iter()
            .map(|g| g.parent_id.as_ref().and_then(|p| by_id.get(p).copied()))
            .collect();
        let mut children = vec![Vec::new(); grids.len()];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p as usize].push(i as GridIx);
            }
        }
        let level_trees = Level::ALL.map(|level| {
            RTree::bulk_load(
                grids
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| g.level == level)
                    .map(|(i, _)| {
                        let b = shapes[i].bbox();
                        GeomWithData::new(
                            Rectangle::from_corners([b.min_lon, b.min_lat], [b.max_lon, b.max_lat]),
                            i as GridIx,
                        )
                    })
                    .collect(),
            )
        });
        GridIndex {
            grids,
            by_id,
            parent,
            children,
            shapes,
            level_trees,
            raster: raster::Raster::empty(),
            version: 0,
        }
    }

    /// Every grid, at every level, that the polyline `path` touches or crosses
    /// (segments tested against the grid polygons found through the R-tree),
    /// ordered by level then id.
    pub fn grids_along(&self, path: &[LonLat]) -> Vec<GridId> {
        let index = self;
        let mut found: Vec<GridIx> = Vec::new();
        let segments: Vec<Line<f64>> = if path.len() == 1 {
            vec![Line::new(path[0], path[0])]
        } else {
            path.windows(2).map(|w| Line::new(w[0], w[1])).collect()
        };
        for level in Level::ALL {
            for segment in &segments {
                let bbox = Bbox {
                    min_lon: segment.start.x.min(segment.end.x),
                    min_lat: segment.start.y.min(segment.end.y),
                    max_lon: segment.start.x.max(segment.end.x),
                    max_lat: segment.start.y.max(segment.end.y),
                };
                for ix in index.candidates_in_bbox(level, bbox) {
                    if !found.contains(&ix) && index.grid(ix).geometry.intersects(segment) {
                        found.push(ix);
                    }
                }
            }
        }
        let mut grids: Vec<&Grid> = found.into_iter().map(|ix| index.grid(ix)).collect();
        grids.sort_by(|a, b| a.level.cmp(&b.level).then(a.id.cmp(&b.id)));
        grids.into_iter().map(|g| g.id.clone()).collect()
    }

    /// This index, labelled as built from version `version` of the stored
    /// grid set.
    pub fn with_version(mut self, version: i64) -> GridIndex {
        self.version = version;
        self
    }

    /// The version of the stored grid set this index was built from: a
    /// grid change planned on it is refused if the stored set has moved on.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// All grids, ordered by level then id.
    pub fn grids(&self) -> &[Grid] {
        &self.grids
    }

    /// The grid at a position.
    pub fn grid(&self, ix: GridIx) -> &Grid {
        &self.grids[ix as usize]
    }

    /// The position of a grid by id.
    pub fn position(&self, id: &GridId) -> Option<GridIx> {
        self.by_id.get(id).copied()
    }

    /// A grid by id.
    pub fn get(&self, id: &GridId) -> Option<&Grid> {
        self.position(id).map(|ix| self.grid(ix))
    }

    /// The parent of a grid, if it has one.
    pub fn parent_of(&self, ix: GridIx) -> Option<GridIx> {
        self.parent[ix as usize]
    }

    /// The ancestors of a grid, nearest first.
    pub fn ancestors(&self, ix: GridIx) -> Vec<GridIx> {
        std::iter::successors(self.parent_of(ix), |p| self.parent_of(*p)).collect()
    }

    /// The direct children of a grid, ordered by id.
    pub fn children_of(&self, ix: GridIx) -> &[GridIx] {
        &self.children[ix as usize]
    }

    /// How many grids each level holds (index 0 = level 1).
    pub fn count_by_level(&self) -> [usize; 5] {
        Level::ALL.map(|l| self.level_trees[l.index()].size())
    }

    /// Grids of one level whose bounding box intersects `bbox` (a candidate
    /// set: callers test the geometry when they need exactness), by position.
    pub fn candidates_in_bbox(&self, level: Level, bbox: Bbox) -> Vec<GridIx> {
        let env =
            rstar::AABB::from_corners([bbox.min_lon, bbox.min_lat], [bbox.max_lon, bbox.max_lat]);
        let mut out: Vec<GridIx> = self.level_trees[level.index()]
            .locate_in_envelope_intersecting(&env)
            .map(|e| e.data)
            .collect();
        out.sort_unstable();
        out
    }

    /// True when `grid` is `ancestor` or lies below it (false for ids the
    /// index does not hold).
    pub fn is_within(&self, grid: &GridId, ancestor: &GridId) -> bool {
        let (Some(ix), Some(a)) = (self.position(grid), self.position(ancestor)) else {
            return false;
        };
        ix == a || self.ancestors(ix).contains(&a)
    }

    /// The ids of the grids that own `p`, town to sub-area (`None` where a
    /// level has no grid there): [`GridIndex::locate`] as stored with
    /// incidents and hazards.
    pub fn grid_chain(&self, p: LonLat) -> crate::model::GridChain {
        let located = self.locate(p);
        Level::ALL.map(|level| located.at(level).map(|ix| self.grid(ix).id.clone()))
    }

    /// The chain of grids that own `p`, level 1 down (see [`rule`] for points
    /// on boundaries). Empty outside the county or for an invalid coordinate.
    pub fn locate(&self, p: LonLat) -> Chain {
        match self.raster.lookup(p) {
            raster::Lookup::Known(chain) => chain,
            raster::Lookup::Exact => self.locate_exact(p),
        }
    }

    /// [`locate`](Self::locate) without the raster: the hierarchical walk
    /// with the boundary rule at every level. The reference the raster is
    /// built from and tested against.
    pub fn locate_exact(&self, p: LonLat) -> Chain {
        let mut chain = Chain::default();
        if !p.is_valid() {
            return chain;
        }
        // Level 1: R-tree candidates, lowest position (id) first so that the
        // answer is deterministic even for overlaps inside the import tolerance.
        let towns: Vec<GridIx> = self.level_trees[0]
            .locate_all_at_point(&[p.lon, p.lat])
            .map(|e| e.data)
            .collect();
        let Some(mut current) = self.owner(p, towns, false) else {
            return chain;
        };
        chain.0[0] = Some(current);
        for slot in 1..5 {
            // Children are ordered by id, so the first owner is the lowest id.
            match self.owner(p, self.children[current as usize].iter().copied(), true) {
                Some(c) => {
                    chain.0[slot] = Some(c);
                    current = c;
                }
                None => break,
            }
        }
        chain
    }

    /// Which of `candidates` (grids of one level under one parent) owns `p`:
    /// the lowest id among those that own it by the boundary rule; where
    /// none does (the east or north side of the area they tile), the lowest
    /// id among those whose closed boundary covers it (see [`rule`]).
    fn owner(
        &self,
        p: LonLat,
        candidates: impl IntoIterator<Item = GridIx> + Clone,
        in_id_order: bool,
    ) -> Option<GridIx> {
        // The rule first, alone: the closed test is for the rare point no
        // candidate owns, and must not slow down the common case.
        let mut owning = candidates
            .clone()
            .into_iter()
            .filter(|&c| self.shapes[c as usize].owns(p));
        // Children are kept in id order: the first owner is the lowest id,
        // and the rest need not be tested.
        let owner = if in_id_order {
            owning.next()
        } else {
            owning.min()
        };
        owner.or_else(|| {
            candidates
                .into_iter()
                .filter(|&c| self.shapes[c as usize].on_boundary(p))
                .min()
        })
    }

    /// The chain for `p` when only `candidates` may own it, e.g. the grids a
    /// database found with `ST_Intersects`: the same walk and the same rule
    /// as [`locate`](Self::locate), so both paths give identical answers.
    pub fn locate_among(&self, p: LonLat, candidates: &[GridIx]) -> Chain {
        let mut chain = Chain::default();
        let mut parent: Option<GridIx> = None;
        for level in Level::ALL {
            let of_level = candidates.iter().copied().filter(|&c| {
                let g = self.grid(c);
                g.level == level && (level == Level::TOWN || self.parent_of(c) == parent)
            });
            match self.owner(p, of_level, false) {
                Some(o) => {
                    chain.0[level.index()] = Some(o);
                    parent = Some(o);
                }
                None => break,
            }
        }
        chain
    }

    /// The chain as ids, level 1 down.
    pub fn chain_ids(&self, chain: &Chain) -> [Option<&GridId>; 5] {
        chain.0.map(|g| g.map(|ix| &self.grid(ix).id))
    }

    /// Distance in metres from `p` to the nearest boundary of the deepest
    /// grid in its chain: how close the point is to a border that changes
    /// who is responsible for it. `None` outside the county.
    ///
    /// Measured on that grid's own edges, in a local frame at `p`: a basic
    /// grid has a few hundred, a microsecond's work for one answer. (An
    /// R-tree of every leaf edge of the county answered it before; building
    /// it took most of an index build, which every grid change pays.)
    pub fn boundary_distance_m(&self, p: LonLat, chain: &Chain) -> Option<f64> {
        let grid = self.grid(chain.deepest()?);
        let frame = crate::geom::LocalFrame::new(p);
        let q = frame.to_metres(p);
        let best = grid
            .geometry
            .iter()
            .flat_map(|polygon| std::iter::once(polygon.exterior()).chain(polygon.interiors()))
            .flat_map(|ring| ring.lines())
            .map(|line| {
                let (a, b) = (
                    frame.to_metres(line.start.into()),
                    frame.to_metres(line.end.into()),
                );
                crate::geom::nearest_on_segment(q, a, b).0
            })
            .fold(f64::INFINITY, f64::min);
        Some(best)
    }

    /// Fraction of raster cells that a boundary crosses, where a locate
    /// takes the exact walk instead of one array read.
    pub fn raster_mixed_fraction(&self) -> f64 {
        self.raster.mixed_fraction()
    }
}
