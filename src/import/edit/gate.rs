//! The two checks an edit adds to the import's (valid polygons, children
//! inside parents, siblings not overlapping): no gap opened in a parent's
//! cover (a border moved on one side only), and no sliver left (a part of a
//! grid too small to be anyone's patrol area, the usual residue of a border
//! drawn twice).

use std::collections::{HashMap, HashSet};

use geo::orient::{Direction, Orient};
use geo::{BooleanOps, MultiPolygon, Polygon};

use crate::import::{ImportIssue, Problem, area_m2};
use crate::model::{Grid, GridId, Level};

/// Area a parent may lose from its children's cover through an edit before
/// it is refused as a gap, m² (noise in the area sums is far below it; see
/// [`CONTAINMENT_TOLERANCE_M2`](crate::import::CONTAINMENT_TOLERANCE_M2)).
pub const GAP_TOLERANCE_M2: f64 = 1.0;

/// The smallest part of a grid an edit may leave, m²: a 10 m × 10 m plot.
/// The demo county's smallest sub-area is four orders of magnitude larger;
/// anything below this is the residue of a misdrawn border.
pub const SLIVER_MIN_M2: f64 = 100.0;

/// A part of a grid smaller than [`SLIVER_MIN_M2`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sliver {
    /// The grid.
    pub grid: GridId,
    /// The part's area, m².
    pub area_m2: f64,
    /// The part, for the map to draw.
    pub part: Polygon<f64>,
}

/// Every part of `grids` (those an edit writes) below [`SLIVER_MIN_M2`].
pub fn slivers(grids: &[Grid]) -> Vec<Sliver> {
    grids
        .iter()
        .flat_map(|g| {
            g.geometry.0.iter().filter_map(|part| {
                let area_m2 = area_m2(&MultiPolygon::new(vec![part.clone()]));
                (area_m2 < SLIVER_MIN_M2).then(|| Sliver {
                    grid: g.id.clone(),
                    area_m2,
                    part: part.clone(),
                })
            })
        })
        .collect()
}

/// A parent whose children cover less of it after an edit than before.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    /// The parent.
    pub parent: GridId,
    /// How much more of it no child covers, m².
    pub opened_m2: f64,
    /// Where no child covers it after the edit, for the map to draw.
    pub uncovered: MultiPolygon<f64>,
}

/// The parents of `before` → `after` (the whole set each time) whose
/// children's cover shrank by more than [`GAP_TOLERANCE_M2`]: with
/// containment and sibling overlap checked, the area a parent's children
/// add up to is the area they cover, so the difference is a gap the edit
/// opened (a border moved on one side only). Only parents with a changed
/// grid among them or their children are measured, and only levels that
/// must cover their parent (all but the sub-areas).
pub fn gaps_opened(before: &[Grid], after: &[Grid], changed: &[GridId]) -> Vec<Gap> {
    let changed: HashSet<&GridId> = changed.iter().collect();
    fn by_id(set: &[Grid]) -> HashMap<&GridId, &Grid> {
        set.iter().map(|g| (&g.id, g)).collect()
    }
    let (old, new) = (by_id(before), by_id(after));
    let mut parents: Vec<&GridId> = Vec::new();
    for id in &changed {
        for set in [&old, &new] {
            if let Some(g) = set.get(*id) {
                parents.push(&g.id);
                parents.extend(g.parent_id.as_ref());
            }
        }
    }
    parents.sort();
    parents.dedup();
    let uncovered = |set: &HashMap<&GridId, &Grid>, parent: &GridId| -> Option<f64> {
        let p = set.get(parent)?;
        // Sub-areas (level 5) need not cover their basic grid: a basic grid
        // carves them out only where it needs them.
        let children: Vec<&Grid> = set
            .values()
            .copied()
            .filter(|c| c.parent_id.as_ref() == Some(parent) && c.level != Level::SUB_AREA)
            .collect();
        if children.is_empty() {
            return None;
        }
        let covered: f64 = children.iter().map(|c| area_m2(&c.geometry)).sum();
        Some(area_m2(&p.geometry) - covered)
    };
    parents
        .into_iter()
        .filter_map(|parent| {
            let after = uncovered(&new, parent)?;
            let before = uncovered(&old, parent).unwrap_or(0.0).max(0.0);
            let opened_m2 = after - before;
            (opened_m2 > GAP_TOLERANCE_M2).then(|| Gap {
                parent: parent.clone(),
                opened_m2,
                uncovered: uncovered_part(&new, parent),
            })
        })
        .collect()
}

/// The part of `parent` (in `set`) that none of its children covers.
fn uncovered_part(set: &HashMap<&GridId, &Grid>, parent: &GridId) -> MultiPolygon<f64> {
    let Some(p) = set.get(parent) else {
        return MultiPolygon::new(Vec::new());
    };
    set.values()
        .filter(|c| c.parent_id.as_ref() == Some(parent) && c.level != Level::SUB_AREA)
        .fold(p.geometry.clone(), |left, child| {
            left.difference(&child.geometry)
        })
}

/// Where `issue` (the import's checks, on an edit's result) is, for the
/// map to draw: the part of the grid outside its parent, the overlap with
/// a sibling, or else the grid as drawn. `grid` finds a grid of the result
/// by id.
pub fn offending_part<'a>(
    issue: &ImportIssue,
    grid: impl Fn(&GridId) -> Option<&'a Grid>,
) -> Option<MultiPolygon<f64>> {
    let shape = |id: &GridId| grid(id).map(|g| g.geometry.orient(Direction::Default));
    let own = shape(&GridId(issue.feature.clone()))?;
    Some(match &issue.problem {
        Problem::OutsideParent { parent, .. } => own.difference(&shape(&GridId(parent.clone()))?),
        Problem::OverlapsSibling { sibling, .. } => {
            own.intersection(&shape(&GridId(sibling.clone()))?)
        }
        _ => own,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{county, grid, lonlat};
    use super::super::{Edit, VertexMove, draw};
    use super::*;
    use geo::{Coord, MapCoordsInPlace};

    #[test]
    fn a_border_moved_on_one_side_only_opens_a_gap() {
        let before = county();
        let mut after = before.clone();
        // A's corner (1, 1) pulled west, B left as it was.
        after[1].geometry.map_coords_in_place(|c| {
            if c == (Coord { x: 1.0, y: 1.0 }) {
                Coord { x: 0.9, y: 1.0 }
            } else {
                c
            }
        });
        let gaps = gaps_opened(&before, &after, &[GridId::from("A")]);
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].parent, GridId::from("T"));
        // Half of 0.1° × 1° at the equator: about 0.05 × 111 km × 111 km.
        assert!((gaps[0].opened_m2 / 6.2e8 - 1.0).abs() < 0.05, "{gaps:?}");
        // The gap drawn: the triangle (0.9, 1) - (1, 1) - (1, 0).
        let drawn = geo::Area::unsigned_area(&gaps[0].uncovered);
        assert!((drawn - 0.05).abs() < 1e-9, "{drawn}");
        // Moved on both sides, nothing opens.
        let both = draw(
            &before,
            &Edit::MoveVertices {
                level: Level::new(2).expect("a level"),
                moves: vec![VertexMove {
                    from: lonlat(1.0, 1.0),
                    to: lonlat(0.9, 1.0),
                }],
            },
            &Default::default(),
        )
        .expect("moved");
        let mut after = before.clone();
        after.splice(1..3, both.upsert);
        assert!(gaps_opened(&before, &after, &[GridId::from("A"), GridId::from("B")]).is_empty());
    }

    #[test]
    fn a_part_below_the_minimum_is_a_sliver() {
        // 0.00005° square at the equator: about 5.6 m × 5.6 m = 31 m².
        let tiny = grid(
            "s",
            5,
            Some("A"),
            &[
                (0.1, 0.1),
                (0.10005, 0.1),
                (0.10005, 0.10005),
                (0.1, 0.10005),
                (0.1, 0.1),
            ],
        );
        let found = slivers(&[tiny]);
        assert_eq!(found.len(), 1);
        assert!((found[0].area_m2 - 31.0).abs() < 1.0, "{found:?}");
        assert!(slivers(&county()).is_empty());
    }
}
