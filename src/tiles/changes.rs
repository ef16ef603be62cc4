//! Which parts of the map a change of grids touches: the boxes the tile
//! cache evicts by.

use crate::geom::Bbox;
use crate::index::GridIndex;
use crate::model::GridId;

/// The lon/lat bounding boxes of every grid that differs between two index
/// versions: added and removed grids, and both the old and the new extent of
/// a grid whose geometry or attributes changed (a grid that shrank leaves
/// stale tiles where it was; one that grew, where it now is).
pub fn changed_bounds(old: &GridIndex, new: &GridIndex) -> Vec<Bbox> {
    let mut changed: Vec<GridId> = new
        .grids()
        .iter()
        .filter(|g| old.get(&g.id) != Some(*g))
        .chain(old.grids().iter().filter(|g| new.get(&g.id).is_none()))
        .map(|g| g.id.clone())
        .collect();
    changed.sort();
    changed.dedup();
    bounds_of(old, new, &changed)
}

/// [`changed_bounds`] for a change known to have written or removed
/// `changed` (by id) and nothing else.
pub fn bounds_of(old: &GridIndex, new: &GridIndex, changed: &[GridId]) -> Vec<Bbox> {
    changed
        .iter()
        .flat_map(|id| {
            let before = old.position(id).map(|ix| old.bbox_of(ix));
            let after = new.position(id).map(|ix| new.bbox_of(ix));
            before.into_iter().chain(after).filter(|b| !b.is_empty())
        })
        .collect()
}
