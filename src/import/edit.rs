//! Boundary edits that keep every level a partition of its parent: the
//! edit produces the grids it changes, and the grid service plans them like
//! an upsert import (validity, containment, sibling overlap: the import's
//! checks) plus the one check an edit adds, [`gaps_opened`].
//!
//! Shared borders in wangge are bit-identical on both sides (the import
//! keeps coordinates as given, and an edit moves them for every grid that
//! has them), so a vertex is found by exact equality: moving the vertex at
//! a point moves it in every grid, at every level, whose ring passes
//! through it. A border between two towns is also the border of the grids
//! inside them, so it moves at every level at once; the one thing a planner
//! cannot do from a deeper level is move a border of the level above
//! (QGIS's "topological editing" with snapping works the same way).
//!
//! Kept beside the import's checks because an edit is a grid change that
//! those checks gate; the pure layer has no store, no service, no state.

use std::collections::{HashMap, HashSet};

use geo::{BooleanOps, Coord, MapCoordsInPlace, MultiPolygon};

use crate::geom::LonLat;
use crate::model::{Grid, GridId, Level};

use super::checks::area_m2;

/// Area a parent may lose from its children's cover through an edit before
/// it is refused as a gap, m² (noise in the area sums is far below it; see
/// [`CONTAINMENT_TOLERANCE_M2`](super::checks::CONTAINMENT_TOLERANCE_M2)).
pub const GAP_TOLERANCE_M2: f64 = 1.0;

/// Move one vertex of the borders at `level`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VertexMove {
    /// The vertex as stored (exactly).
    pub from: LonLat,
    /// Where it goes.
    pub to: LonLat,
    /// The level the planner edits at: grids of this level and below it
    /// move; a grid above it sharing the vertex refuses the edit.
    pub level: Level,
}

/// Why an edit cannot even be drawn up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditRefusal {
    /// No grid of the level edited has a vertex there.
    #[error(
        "no grid of level {level} has a vertex at ({lon}, {lat}): give a vertex exactly as \
         stored (GET /api/grids/{{id}})"
    )]
    NoSuchVertex {
        /// The level edited.
        level: u8,
        /// The point given.
        lon: f64,
        /// The point given.
        lat: f64,
    },
    /// The vertex is also on the border of a grid above the level edited.
    #[error(
        "the vertex is on the border of {grid} (level {grid_level}); moving it would move \
         that border: edit at level {grid_level}"
    )]
    ParentBorder {
        /// The grid whose border it is.
        grid: GridId,
        /// Its level.
        grid_level: u8,
    },
    /// The new place is not a WGS84 point.
    #[error("the vertex cannot go to ({lon}, {lat}): not a longitude/latitude")]
    BadTarget {
        /// The point given.
        lon: f64,
        /// The point given.
        lat: f64,
    },
}

fn at(p: LonLat) -> Coord<f64> {
    Coord { x: p.lon, y: p.lat }
}

/// The grids of `grids` that the move changes, moved (every grid, at the
/// level edited or below, whose boundary has the vertex).
pub fn move_vertex(grids: &[Grid], edit: &VertexMove) -> Result<Vec<Grid>, EditRefusal> {
    if !edit.to.is_valid() {
        return Err(EditRefusal::BadTarget {
            lon: edit.to.lon,
            lat: edit.to.lat,
        });
    }
    let (from, to) = (at(edit.from), at(edit.to));
    let has_vertex = |g: &Grid| {
        g.geometry.iter().any(|p| {
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .any(|ring| ring.0.contains(&from))
        })
    };
    let sharing: Vec<&Grid> = grids.iter().filter(|g| has_vertex(g)).collect();
    if let Some(above) = sharing
        .iter()
        .filter(|g| g.level < edit.level)
        .min_by_key(|g| (g.level, &g.id))
    {
        return Err(EditRefusal::ParentBorder {
            grid: above.id.clone(),
            grid_level: above.level.get(),
        });
    }
    if !sharing.iter().any(|g| g.level == edit.level) {
        return Err(EditRefusal::NoSuchVertex {
            level: edit.level.get(),
            lon: edit.from.lon,
            lat: edit.from.lat,
        });
    }
    Ok(sharing
        .into_iter()
        .map(|g| {
            let mut moved = g.clone();
            moved
                .geometry
                .map_coords_in_place(|c| if c == from { to } else { c });
            moved
        })
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn grid(id: &str, level: u8, parent: Option<&str>, ring: &[(f64, f64)]) -> Grid {
        let poly = geo::Polygon::new(ring.to_vec().into(), vec![]);
        Grid {
            id: GridId::from(id),
            level: Level::new(i64::from(level)).expect("a level"),
            parent_id: parent.map(GridId::from),
            name: id.into(),
            geometry: MultiPolygon::new(vec![poly]),
            properties: Map::new(),
        }
    }

    /// A town T (level 1) split at x = 1 into A and B (level 2).
    fn county() -> Vec<Grid> {
        vec![
            grid(
                "T",
                1,
                None,
                &[(0.0, 0.0), (2.0, 0.0), (2.0, 1.0), (0.0, 1.0), (0.0, 0.0)],
            ),
            grid(
                "A",
                2,
                Some("T"),
                &[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)],
            ),
            grid(
                "B",
                2,
                Some("T"),
                &[(1.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0), (1.0, 0.0)],
            ),
        ]
    }

    fn lonlat(x: f64, y: f64) -> LonLat {
        LonLat::new(x, y)
    }

    #[test]
    fn a_shared_vertex_moves_in_both_neighbours() {
        let edit = VertexMove {
            from: lonlat(1.0, 1.0),
            to: lonlat(1.2, 1.0),
            level: Level::new(2).expect("a level"),
        };
        let moved = move_vertex(&county(), &edit).expect("an inner vertex");
        let ids: Vec<&str> = moved.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["A", "B"]);
        for g in &moved {
            assert!(
                g.geometry.0[0]
                    .exterior()
                    .0
                    .contains(&Coord { x: 1.2, y: 1.0 }),
                "{}",
                g.id
            );
        }
    }

    #[test]
    fn a_vertex_of_the_parent_border_is_refused_below_it() {
        let edit = VertexMove {
            from: lonlat(1.0, 0.0),
            to: lonlat(1.0, -0.1),
            level: Level::new(2).expect("a level"),
        };
        // (1, 0) is A's and B's vertex but not T's: the parent border there
        // is T's edge (0,0)-(2,0) with no vertex, so moving it off the edge
        // would push A and B out of T; the containment check refuses that
        // later. (2, 0) is T's own vertex.
        assert!(move_vertex(&county(), &edit).is_ok());
        let corner = VertexMove {
            from: lonlat(2.0, 0.0),
            ..edit
        };
        assert_eq!(
            move_vertex(&county(), &corner),
            Err(EditRefusal::ParentBorder {
                grid: GridId::from("T"),
                grid_level: 1
            })
        );
        let nowhere = VertexMove {
            from: lonlat(0.5, 0.5),
            ..edit
        };
        assert!(matches!(
            move_vertex(&county(), &nowhere),
            Err(EditRefusal::NoSuchVertex { .. })
        ));
    }

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
        let both = move_vertex(
            &before,
            &VertexMove {
                from: lonlat(1.0, 1.0),
                to: lonlat(0.9, 1.0),
                level: Level::new(2).expect("a level"),
            },
        )
        .expect("moved");
        let mut after = before.clone();
        after.splice(1..3, both);
        assert!(gaps_opened(&before, &after, &[GridId::from("A"), GridId::from("B")]).is_empty());
    }
}
