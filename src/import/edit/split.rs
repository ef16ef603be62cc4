//! Cutting a grid in two along a line drawn from border to border.
//!
//! The line's ends are snapped onto the grid's outer border: to a vertex
//! within [`SNAP_M`], else onto the nearest edge, where the new vertex goes
//! into every grid that has that edge (the neighbour across it, and the
//! levels above whose border it is), so the border stays identical on both
//! sides. Between its ends the line must run strictly inside the grid. The
//! two parts are the grid's outer ring walked from one end to the other,
//! closed by the line: no new vertex but the two ends, and the line's own
//! vertices shared exactly by both parts. Holes go to the part around them;
//! other parts of a multi-part grid stay with the first part.
//!
//! Children go to the part that holds them; a child the line crosses
//! refuses the split (draw the line along the children's borders, or split
//! them first).

use geo::algorithm::line_intersection::line_intersection;
use geo::orient::{Direction, Orient};
use geo::{BooleanOps, Contains, Coord, Line, LineString, MultiPolygon, Polygon, Winding};

use crate::geom::{LocalFrame, LonLat, nearest_on_segment};
use crate::import::{OVERLAP_TOLERANCE_M2, area_m2};
use crate::model::{Grid, GridId};

use super::vertices::insert_on_edge;
use super::{EditRefusal, NewGrid, Working, at};

/// How far from the grid's border a split line may start or end and still
/// be snapped onto it, metres.
pub const SNAP_M: f64 = 0.5;

/// Cut a grid in two.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// The grid cut.
    pub grid: GridId,
    /// The line, from border to border through the grid.
    pub line: Vec<LonLat>,
    /// The grids it becomes: the part left of the line as drawn (first
    /// point to last), then the part right of it.
    pub parts: [NewGrid; 2],
}

pub(super) fn split(work: &mut Working<'_>, s: &Split) -> Result<(), EditRefusal> {
    let grid = work.grid(&s.grid)?.clone();
    if s.line.len() < 2 {
        return Err(EditRefusal::LineTooShort);
    }
    if let Some(p) = s.line.iter().find(|p| !p.is_valid()) {
        return Err(EditRefusal::BadPoint {
            lon: p.lon,
            lat: p.lat,
        });
    }
    let [left, right] = &s.parts;
    if left.id == right.id {
        return Err(EditRefusal::IdTaken {
            id: left.id.clone(),
        });
    }
    for part in &s.parts {
        work.check_new_id(&part.id, std::slice::from_ref(&grid.id))?;
    }

    let first = onto_border(work, &grid, s.line[0], "first")?;
    let last = onto_border(work, &grid, s.line[s.line.len() - 1], "last")?;
    // The ends may have put new vertices into the grid's own border.
    let grid = work.grid(&s.grid)?.clone();
    let refuse_at = |c: Coord<f64>| EditRefusal::LineLeavesGrid {
        grid: grid.id.clone(),
        lon: c.x,
        lat: c.y,
    };
    let (k, i, j) = grid
        .geometry
        .0
        .iter()
        .enumerate()
        .find_map(|(k, p)| {
            let ring = &p.exterior().0[..p.exterior().0.len() - 1];
            let i = ring.iter().position(|c| *c == first)?;
            let j = ring.iter().position(|c| *c == last)?;
            Some((k, i, j))
        })
        .ok_or_else(|| refuse_at(last))?;
    if i == j {
        return Err(refuse_at(first));
    }
    let polygon = &grid.geometry.0[k];
    let mut line: Vec<Coord<f64>> = Vec::with_capacity(s.line.len());
    line.push(first);
    line.extend(s.line[1..s.line.len() - 1].iter().map(|p| at(*p)));
    line.push(last);
    check_inside(polygon, &line).map_err(refuse_at)?;

    // The two rings: the border from one end to the other, back along the
    // line.
    let ring = &polygon.exterior().0[..polygon.exterior().0.len() - 1];
    let n = ring.len();
    let walk = |from: usize, to: usize| -> Vec<Coord<f64>> {
        let steps = (to + n - from) % n;
        (0..=steps).map(|s| ring[(from + s) % n]).collect()
    };
    let inner = &line[1..line.len() - 1];
    let mut a = walk(i, j);
    a.extend(inner.iter().rev());
    let mut b = walk(j, i);
    b.extend(inner.iter());
    let [mut a, mut b] = [a, b].map(|mut r| {
        r.push(r[0]);
        Polygon::new(LineString::new(r), vec![])
    });
    for hole in polygon.interiors() {
        let inside_a = Polygon::new(a.exterior().clone(), vec![]).contains(&hole.0[0]);
        let part = if inside_a { &mut a } else { &mut b };
        part.interiors_push(hole.clone());
    }
    // `a` runs the line backwards: counter-clockwise, it lies on the
    // line's right.
    let a_is_right = a.exterior().is_ccw();
    let (left_poly, right_poly) = if a_is_right { (b, a) } else { (a, b) };
    let mut left_shape = MultiPolygon::new(vec![left_poly]);
    left_shape.0.extend(
        grid.geometry
            .0
            .iter()
            .enumerate()
            .filter(|(n, _)| *n != k)
            .map(|(_, p)| p.clone()),
    );
    let right_shape = MultiPolygon::new(vec![right_poly]);

    // Children to the part that holds them.
    let sides = [
        left_shape.orient(Direction::Default),
        right_shape.orient(Direction::Default),
    ];
    let mut moved_children = Vec::new();
    let mut straddling = Vec::new();
    for child in work.children_of(&grid.id) {
        let shape = child.geometry.orient(Direction::Default);
        let inside = sides
            .each_ref()
            .map(|side| area_m2(&side.intersection(&shape)));
        let side = if inside[0] >= inside[1] { 0 } else { 1 };
        if inside[1 - side] > OVERLAP_TOLERANCE_M2 {
            straddling.push(child.id.clone());
            continue;
        }
        let mut moved = child.clone();
        moved.parent_id = Some(s.parts[side].id.clone());
        moved_children.push(moved);
    }
    if !straddling.is_empty() {
        straddling.sort();
        return Err(EditRefusal::Straddles {
            children: straddling,
        });
    }

    work.remove(&grid.id);
    for (part, shape) in s.parts.iter().zip([left_shape, right_shape]) {
        let part = if part.id == grid.id {
            part.inheriting(&grid)
        } else {
            part.clone()
        };
        work.put(part.into_grid(grid.level, grid.parent_id.clone(), shape));
    }
    for child in moved_children {
        work.put(child);
    }
    Ok(())
}

/// `p` as a vertex of `grid`'s outer border: the vertex within [`SNAP_M`],
/// else the nearest point of an edge within it, put into every grid that
/// has that edge.
fn onto_border(
    work: &mut Working<'_>,
    grid: &Grid,
    p: LonLat,
    end: &'static str,
) -> Result<Coord<f64>, EditRefusal> {
    let frame = LocalFrame::new(p);
    let metres = |c: &Coord<f64>| frame.to_metres(LonLat::from(*c));
    let here = frame.to_metres(p);
    let shells = || grid.geometry.iter().map(|poly| &poly.exterior().0);
    let nearest_vertex = shells()
        .flat_map(|ring| ring.iter())
        .map(|c| {
            let m = metres(c);
            ((m[0] - here[0]).hypot(m[1] - here[1]), *c)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((d, c)) = nearest_vertex
        && d <= SNAP_M
    {
        return Ok(c);
    }
    let nearest_edge = shells()
        .flat_map(|ring| ring.windows(2))
        .map(|w| {
            let (d, t) = nearest_on_segment(here, metres(&w[0]), metres(&w[1]));
            (d, t, w[0], w[1])
        })
        .min_by(|a, b| a.0.total_cmp(&b.0));
    match nearest_edge {
        Some((d, t, a, b)) if d <= SNAP_M => {
            let on = Coord {
                x: a.x + (b.x - a.x) * t,
                y: a.y + (b.y - a.y) * t,
            };
            insert_on_edge(work, a, b, on);
            Ok(on)
        }
        _ => Err(EditRefusal::LineNotOnBorder {
            end,
            grid: grid.id.clone(),
            lon: p.lon,
            lat: p.lat,
        }),
    }
}

/// `Err(where)` unless `line` runs strictly inside `polygon` between its
/// ends (which are on its border): no segment meets a ring but at the
/// line's own ends, and every segment's midpoint is inside.
fn check_inside(polygon: &Polygon<f64>, line: &[Coord<f64>]) -> Result<(), Coord<f64>> {
    let edges: Vec<Line<f64>> = std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .flat_map(|r| r.lines())
        .collect();
    for seg in line.windows(2) {
        let s = Line::new(seg[0], seg[1]);
        let mid = Coord {
            x: (s.start.x + s.end.x) / 2.0,
            y: (s.start.y + s.end.y) / 2.0,
        };
        if !polygon.contains(&mid) {
            return Err(mid);
        }
        for e in &edges {
            let shares_end = [s.start, s.end]
                .iter()
                .any(|c| *c == e.start || *c == e.end);
            if shares_end {
                continue;
            }
            if let Some(hit) = line_intersection(s, *e) {
                return Err(match hit {
                    geo::LineIntersection::SinglePoint { intersection, .. } => intersection,
                    geo::LineIntersection::Collinear { intersection } => intersection.start,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{county, grid, lonlat};
    use super::super::vertices::has_vertex;
    use super::super::{Edit, draw};
    use super::*;
    use serde_json::Map;

    fn part(id: &str) -> NewGrid {
        NewGrid {
            id: GridId::from(id),
            name: id.into(),
            properties: Map::new(),
        }
    }

    fn split_a(line: &[(f64, f64)]) -> Edit {
        Edit::Split(Split {
            grid: GridId::from("A"),
            line: line.iter().map(|&(x, y)| lonlat(x, y)).collect(),
            parts: [part("A1"), part("A2")],
        })
    }

    /// A cut across A at y = 0.5: the ends land on edges A shares with T
    /// (west) and with B (east), so both get the new vertex too.
    #[test]
    fn a_split_puts_its_ends_into_every_border_they_touch() {
        let drawn = draw(
            &county(),
            &split_a(&[(0.0, 0.5), (0.5, 0.5), (1.0, 0.5)]),
            &Default::default(),
        )
        .expect("a clean cut");
        let ids: Vec<&str> = drawn.upsert.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["T", "A1", "A2", "B"]);
        assert_eq!(drawn.remove, [GridId::from("A")]);
        let by_id = |id: &str| drawn.upsert.iter().find(|g| g.id.as_str() == id).expect(id);
        // Drawn west to east: A1 (left) is the north half.
        assert!(by_id("A1").geometry.contains(&Coord { x: 0.5, y: 0.75 }));
        assert!(by_id("A2").geometry.contains(&Coord { x: 0.5, y: 0.25 }));
        let whole = area_m2(&county()[1].geometry);
        let halves = [by_id("A1"), by_id("A2")].map(|g| area_m2(&g.geometry));
        assert!(
            (halves[0] + halves[1] - whole).abs() < 1.0,
            "{halves:?} {whole}"
        );
        assert!((halves[0] / halves[1] - 1.0).abs() < 1e-3, "{halves:?}");
        // The east end is on the border A shares with B: both have it now;
        // the west end is on T's own border.
        let east = Coord { x: 1.0, y: 0.5 };
        let west = Coord { x: 0.0, y: 0.5 };
        for id in ["A1", "A2", "B"] {
            assert!(has_vertex(by_id(id), east), "{id}");
        }
        assert!(has_vertex(by_id("T"), west));
    }

    #[test]
    fn a_line_that_leaves_the_grid_or_misses_the_border_is_refused() {
        let none = Default::default();
        assert!(matches!(
            draw(
                &county(),
                &split_a(&[(0.0, 0.5), (1.5, 0.5), (1.0, 0.2)]),
                &none
            ),
            Err(EditRefusal::LineLeavesGrid { .. })
        ));
        assert!(matches!(
            draw(&county(), &split_a(&[(0.2, 0.5), (1.0, 0.5)]), &none),
            Err(EditRefusal::LineNotOnBorder { end: "first", .. })
        ));
        assert!(matches!(
            draw(&county(), &split_a(&[(0.0, 0.0), (0.0, 1.0)]), &none),
            Err(EditRefusal::LineLeavesGrid { .. })
        ));
    }

    #[test]
    fn children_go_to_their_side_and_a_crossed_child_refuses() {
        let mut set = county();
        set.push(grid(
            "a-south",
            3,
            Some("A"),
            &[(0.0, 0.0), (1.0, 0.0), (1.0, 0.5), (0.0, 0.5), (0.0, 0.0)],
        ));
        set.push(grid(
            "a-north",
            3,
            Some("A"),
            &[(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0), (0.0, 0.5)],
        ));
        let drawn = draw(
            &set,
            &split_a(&[(0.0, 0.5), (1.0, 0.5)]),
            &Default::default(),
        )
        .expect("along the children's border");
        let parent = |id: &str| {
            drawn
                .upsert
                .iter()
                .find(|g| g.id.as_str() == id)
                .and_then(|g| g.parent_id.clone())
        };
        assert_eq!(parent("a-north"), Some(GridId::from("A1")));
        assert_eq!(parent("a-south"), Some(GridId::from("A2")));
        assert_eq!(
            draw(
                &set,
                &split_a(&[(0.5, 0.0), (0.5, 1.0)]),
                &Default::default()
            ),
            Err(EditRefusal::Straddles {
                children: vec![GridId::from("a-north"), GridId::from("a-south")]
            })
        );
    }
}
