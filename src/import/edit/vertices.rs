//! Moving vertices of shared borders, and putting a new vertex on a border
//! (where a split line meets it) in every grid that has that border.
//!
//! Shared borders in wangge are bit-identical on both sides (the import
//! keeps coordinates as given, and an edit moves them for every grid that
//! has them), so a vertex is found by exact equality: moving the vertex at
//! a point moves it in every grid, at every level, whose ring passes
//! through it. A border between two towns is also the border of the grids
//! inside them, so it moves at every level at once; the one thing a planner
//! cannot do from a deeper level is move a border of the level above
//! (QGIS's "topological editing" with snapping works the same way).

use std::collections::HashMap;

use geo::{Coord, Distance, Euclidean, Line, MapCoordsInPlace, Point};

use crate::geom::{Bbox, LonLat};
use crate::model::{Grid, GridId, Level};

use super::{EditRefusal, Working, at, bbox, point_box};

/// One vertex to move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VertexMove {
    /// The vertex as stored (exactly).
    pub from: LonLat,
    /// Where it goes.
    pub to: LonLat,
}

/// True when a ring of `grid` passes through `c`.
pub(super) fn has_vertex(grid: &Grid, c: Coord<f64>) -> bool {
    grid.geometry.iter().any(|p| {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .any(|ring| ring.0.contains(&c))
    })
}

/// Move `moves` (a vertex, or the vertices of a stretch of border) at
/// `level`: in every grid at that level or below whose border has them.
pub(super) fn move_vertices(
    work: &mut Working<'_>,
    level: Level,
    moves: &[VertexMove],
) -> Result<(), EditRefusal> {
    if moves.is_empty() {
        return Err(EditRefusal::Empty);
    }
    let mut targets: HashMap<(u64, u64), Coord<f64>> = HashMap::new();
    for m in moves {
        if !m.to.is_valid() {
            return Err(EditRefusal::BadPoint {
                lon: m.to.lon,
                lat: m.to.lat,
            });
        }
        let from = at(m.from);
        if targets.insert(key(from), at(m.to)).is_some() {
            return Err(EditRefusal::RepeatedVertex {
                lon: m.from.lon,
                lat: m.from.lat,
            });
        }
        let sharing: Vec<&Grid> = work
            .near(point_box(from))
            .filter(|g| has_vertex(g, from))
            .collect();
        if let Some(above) = sharing
            .iter()
            .filter(|g| g.level < level)
            .min_by_key(|g| (g.level, &g.id))
        {
            return Err(EditRefusal::ParentBorder {
                grid: above.id.clone(),
                grid_level: above.level.get(),
            });
        }
        if !sharing.iter().any(|g| g.level == level) {
            return Err(EditRefusal::NoSuchVertex {
                level: level.get(),
                lon: m.from.lon,
                lat: m.from.lat,
            });
        }
    }
    let area = moves
        .iter()
        .map(|m| point_box(at(m.from)))
        .reduce(Bbox::union)
        .expect("one move or more");
    let touched: Vec<Grid> = work
        .near(area)
        .filter(|g| {
            g.level >= level
                && g.geometry
                    .iter()
                    .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                    .any(|r| r.0.iter().any(|c| targets.contains_key(&key(*c))))
        })
        .cloned()
        .collect();
    for mut g in touched {
        g.geometry
            .map_coords_in_place(|c| targets.get(&key(c)).copied().unwrap_or(c));
        work.put(g);
    }
    Ok(())
}

/// Put `p` between the consecutive vertices `a` and `b` (either way round)
/// of every grid that has that edge, so a border gets the new vertex on
/// both sides.
pub(super) fn insert_on_edge(work: &mut Working<'_>, a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) {
    let has_edge = |g: &Grid| {
        g.geometry
            .iter()
            .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
            .any(|r| {
                r.0.windows(2)
                    .any(|w| (w[0] == a && w[1] == b) || (w[0] == b && w[1] == a))
            })
    };
    let touched: Vec<Grid> = work
        .near(point_box(a).union(point_box(b)))
        .filter(|g| has_edge(g))
        .cloned()
        .collect();
    for mut g in touched {
        for poly in &mut g.geometry.0 {
            poly.exterior_mut(|r| insert_in_ring(&mut r.0, a, b, p));
            poly.interiors_mut(|rings| {
                for r in rings {
                    insert_in_ring(&mut r.0, a, b, p);
                }
            });
        }
        work.put(g);
    }
}

/// Make the borders of every grid the edit wrote identical, vertex for
/// vertex, with its siblings' where they touch: a vertex of one lying on an
/// edge of the other (a T-junction, as when a re-parented grid meets new
/// siblings, or a sub-area is drawn against another) goes into that edge,
/// in every grid that has it.
pub(super) fn conform(work: &mut Working<'_>) {
    let written: Vec<GridId> = work.changed.keys().cloned().collect();
    for id in written {
        let Some(grid) = work.get(&id) else { continue };
        let siblings: Vec<GridId> = work
            .near(bbox(&grid.geometry))
            .filter(|s| s.id != grid.id && s.level == grid.level && s.parent_id == grid.parent_id)
            .map(|s| s.id.clone())
            .collect();
        for sibling in siblings {
            for (from, onto) in [(&id, &sibling), (&sibling, &id)] {
                // One at a time: an insertion splits the edge the next
                // vertex may lie on.
                while let (Some(f), Some(o)) = (work.get(from), work.get(onto))
                    && let Some((a, b, p)) = vertex_on_edge(f, o)
                {
                    insert_on_edge(work, a, b, p);
                }
            }
        }
    }
}

/// How far from an edge a vertex lies and still counts as on it, degrees
/// (about 0.1 mm).
pub(super) const ON_EDGE_DEG: f64 = 1e-9;

/// A vertex of `from` lying inside an edge of `onto` (not at its ends), with
/// that edge. Only the vertices in `onto`'s box are tried, each against
/// the edges whose box holds it (both grown by the tolerance): siblings
/// meet along a border, so that is a few of each.
fn vertex_on_edge(from: &Grid, onto: &Grid) -> Option<(Coord<f64>, Coord<f64>, Coord<f64>)> {
    let (from_box, onto_box) = (grown(bbox(&from.geometry)), grown(bbox(&onto.geometry)));
    if !from_box.intersects(&onto_box) {
        return None;
    }
    let edges: Vec<(Line<f64>, Bbox)> = rings(onto)
        .flat_map(|r| r.lines())
        .map(|e| (e, grown(point_box(e.start).union(point_box(e.end)))))
        .filter(|(_, b)| b.intersects(&from_box))
        .collect();
    rings(from)
        .flat_map(|r| r.0.iter().copied())
        .filter(|v| onto_box.contains(LonLat::new(v.x, v.y)))
        .find_map(|v| {
            edges.iter().find_map(|(e, b)| {
                let inside = b.contains(LonLat::new(v.x, v.y))
                    && v != e.start
                    && v != e.end
                    && Euclidean.distance(&Point::from(v), e) < ON_EDGE_DEG;
                inside.then_some((e.start, e.end, v))
            })
        })
}

/// Every ring of a grid, outer and inner.
fn rings(grid: &Grid) -> impl Iterator<Item = &geo::LineString<f64>> {
    grid.geometry
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
}

/// `b` grown by [`ON_EDGE_DEG`] on every side.
pub(super) fn grown(b: Bbox) -> Bbox {
    Bbox {
        min_lon: b.min_lon - ON_EDGE_DEG,
        min_lat: b.min_lat - ON_EDGE_DEG,
        max_lon: b.max_lon + ON_EDGE_DEG,
        max_lat: b.max_lat + ON_EDGE_DEG,
    }
}

fn insert_in_ring(ring: &mut Vec<Coord<f64>>, a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) {
    if let Some(i) = ring
        .windows(2)
        .position(|w| (w[0] == a && w[1] == b) || (w[0] == b && w[1] == a))
    {
        ring.insert(i + 1, p);
    }
}

/// A coordinate as a hash key (exact: the bits).
fn key(c: Coord<f64>) -> (u64, u64) {
    (c.x.to_bits(), c.y.to_bits())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{county, lonlat};
    use super::super::{Edit, EditRefusal, draw};
    use super::*;

    fn move_one(from: LonLat, to: LonLat) -> Edit {
        Edit::MoveVertices {
            level: Level::new(2).expect("a level"),
            moves: vec![VertexMove { from, to }],
        }
    }

    #[test]
    fn a_shared_vertex_moves_in_both_neighbours() {
        let drawn = draw(
            &county(),
            &move_one(lonlat(1.0, 1.0), lonlat(1.2, 1.0)),
            &Default::default(),
        )
        .expect("an inner vertex");
        let ids: Vec<&str> = drawn.upsert.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["A", "B"]);
        for g in &drawn.upsert {
            assert!(has_vertex(g, Coord { x: 1.2, y: 1.0 }), "{}", g.id);
        }
    }

    #[test]
    fn a_vertex_of_the_parent_border_is_refused_below_it() {
        // (1, 0) is A's and B's vertex but not T's: the parent border there
        // is T's edge (0,0)-(2,0) with no vertex, so moving it off the edge
        // would push A and B out of T; the containment check refuses that
        // later. (2, 0) is T's own vertex.
        let none = Default::default();
        assert!(
            draw(
                &county(),
                &move_one(lonlat(1.0, 0.0), lonlat(1.0, -0.1)),
                &none
            )
            .is_ok()
        );
        assert_eq!(
            draw(
                &county(),
                &move_one(lonlat(2.0, 0.0), lonlat(2.0, -0.1)),
                &none
            )
            .err(),
            Some(EditRefusal::ParentBorder {
                grid: GridId::from("T"),
                grid_level: 1
            })
        );
        assert!(matches!(
            draw(
                &county(),
                &move_one(lonlat(0.5, 0.5), lonlat(0.6, 0.5)),
                &none
            ),
            Err(EditRefusal::NoSuchVertex { .. })
        ));
    }

    #[test]
    fn a_stretch_of_border_moves_as_one() {
        let edit = Edit::MoveVertices {
            level: Level::new(2).expect("a level"),
            moves: vec![
                VertexMove {
                    from: lonlat(1.0, 1.0),
                    to: lonlat(1.1, 1.0),
                },
                VertexMove {
                    from: lonlat(1.0, 0.0),
                    to: lonlat(1.1, 0.0),
                },
            ],
        };
        let drawn = draw(&county(), &edit, &Default::default()).expect("drawn");
        for g in &drawn.upsert {
            assert!(has_vertex(g, Coord { x: 1.1, y: 1.0 }), "{}", g.id);
            assert!(has_vertex(g, Coord { x: 1.1, y: 0.0 }), "{}", g.id);
        }
    }
}
