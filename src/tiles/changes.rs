//! Which parts of the map a change of grids touches: the boxes the tile
//! cache evicts by.

use crate::geom::Bbox;
use crate::index::GridIndex;

/// The lon/lat bounding boxes of every grid that differs between two index
/// versions: added and removed grids, and both the old and the new extent of
/// a grid whose geometry or attributes changed (a grid that shrank leaves
/// stale tiles where it was; one that grew, where it now is).
pub fn changed_bounds(old: &GridIndex, new: &GridIndex) -> Vec<Bbox> {
    let mut boxes = Vec::new();
    for grid in new.grids() {
        match old.get(&grid.id) {
            Some(before) if before == grid => {}
            Some(before) => {
                boxes.extend(Bbox::of(&before.geometry));
                boxes.extend(Bbox::of(&grid.geometry));
            }
            None => boxes.extend(Bbox::of(&grid.geometry)),
        }
    }
    for grid in old.grids() {
        if new.get(&grid.id).is_none() {
            boxes.extend(Bbox::of(&grid.geometry));
        }
    }
    boxes
}
