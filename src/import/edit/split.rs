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
//! Children go to the part that holds them. A child the line crosses
//! refuses the split (draw the line along the children's borders, or split
//! them first) unless the planner asks for it to be cut too
//! ([`Straddling::Split`]): then every point where the line crosses a
//! border below the grid is put into the line and into that border (in
//! every grid that has it), and each crossed child is split along its own
//! stretch of the line, its children likewise, so that the parts' borders
//! along the line are vertex for vertex the same at every level. The part
//! of a cut child left of the line keeps its id; the right part takes the
//! id the request gives for it, or the child's id with `-2` (`-3`, … when
//! taken).

use geo::algorithm::line_intersection::line_intersection;
use geo::orient::{Direction, Orient};
use std::collections::{BTreeMap, HashSet};

use geo::{
    BooleanOps, Contains, Coord, Distance, Euclidean, Line, LineString, MultiPolygon, Polygon,
    Winding,
};

use crate::geom::{LocalFrame, LonLat, nearest_on_segment};
use crate::import::{OVERLAP_TOLERANCE_M2, area_m2};
use crate::model::{Grid, GridId};

use super::vertices::{ON_EDGE_DEG, grown, insert_on_edge};
use super::{EditRefusal, NewGrid, Working, at, point_box};

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
    /// What to do with a child the line crosses.
    pub straddling: Straddling,
    /// The parts of children cut ([`Straddling::Split`]), by the child's
    /// id, left then right; a child not named keeps its id on the left
    /// and gets a new one on the right.
    pub child_parts: BTreeMap<GridId, [NewGrid; 2]>,
}

/// What a split does with a child its line crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Straddling {
    /// Refuse the split, naming the children.
    #[default]
    Refuse,
    /// Cut them too, along the same line (and their children likewise).
    Split,
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
    let line = match s.straddling {
        Straddling::Refuse => line,
        Straddling::Split => cut_children(work, &grid, line, s)?,
    };

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
        // A child under a part that keeps the grid's id stays as it is.
        if s.parts[side].id != grid.id {
            let mut moved = child.clone();
            moved.parent_id = Some(s.parts[side].id.clone());
            moved_children.push(moved);
        }
    }
    if !straddling.is_empty() {
        straddling.sort();
        return Err(EditRefusal::Straddles {
            children: straddling,
        });
    }

    // Cutting children wrote grids of their own: a part may not take one's
    // id.
    for part in &s.parts {
        work.check_new_id(&part.id, std::slice::from_ref(&grid.id))?;
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

/// Cut every child of `grid` that `line` crosses along its stretch of the
/// line, after putting every point where the line crosses a border of a
/// grid below `grid` into the line and into that border: the line as the
/// parts of `grid` will have it.
fn cut_children(
    work: &mut Working<'_>,
    grid: &Grid,
    line: Vec<Coord<f64>>,
    s: &Split,
) -> Result<Vec<Coord<f64>>, EditRefusal> {
    let mut below: Vec<GridId> = Vec::new();
    let mut next: Vec<GridId> = vec![grid.id.clone()];
    while let Some(id) = next.pop() {
        for child in work.children_of(&id) {
            below.push(child.id.clone());
            next.push(child.id.clone());
        }
    }
    if below.is_empty() {
        return Ok(line);
    }
    // 1. The crossings, in order along the line.
    let mut crossed: Vec<Coord<f64>> = vec![line[0]];
    for seg in line.windows(2) {
        let cut = Line::new(seg[0], seg[1]);
        let mut hits: Vec<(f64, Coord<f64>)> = Vec::new();
        for id in &below {
            let Some(g) = work.get(id) else { continue };
            for edge in g
                .geometry
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .flat_map(|r| r.lines())
            {
                let points = match line_intersection(cut, edge) {
                    None => continue,
                    Some(geo::LineIntersection::SinglePoint { intersection, .. }) => {
                        vec![intersection]
                    }
                    Some(geo::LineIntersection::Collinear { intersection }) => {
                        vec![intersection.start, intersection.end]
                    }
                };
                for p in points {
                    if p != cut.start && p != cut.end {
                        hits.push((along(cut, p), p));
                    }
                }
            }
        }
        hits.sort_by(|a, b| a.0.total_cmp(&b.0));
        hits.dedup_by(|a, b| a.1 == b.1);
        crossed.extend(hits.into_iter().map(|(_, p)| p));
        crossed.push(seg[1]);
    }
    crossed.dedup();
    // The ends too: on the grid's border, they may lie inside an edge of a
    // child's (a border with fewer vertices above than below), where the
    // child's own split would otherwise snap them a rounding away.
    let below: HashSet<GridId> = below.into_iter().collect();
    let last = crossed.len() - 1;
    for (n, p) in crossed.iter_mut().enumerate() {
        // A crossing a rounding away from a vertex is that vertex (else it
        // would go into both edges there, a spike); the ends are the
        // grid's own vertices and stay.
        if n != 0
            && n != last
            && let Some(v) = vertex_near(work, *p, &below)
        {
            *p = v;
        }
        put_on_border(work, *p, &below);
    }
    crossed.dedup();
    // 2. Each child crossed, cut along its one stretch of the line. Ids
    //    the request names are kept off the parts named by default.
    let named: HashSet<&GridId> = s
        .parts
        .iter()
        .chain(s.child_parts.values().flatten())
        .map(|p| &p.id)
        .collect();
    for child in work.children_of(&grid.id).cloned().collect::<Vec<_>>() {
        let polygon_holds = |c: &Coord<f64>| child.geometry.contains(c);
        let inside: Vec<bool> = crossed
            .windows(2)
            .map(|w| {
                polygon_holds(&Coord {
                    x: (w[0].x + w[1].x) / 2.0,
                    y: (w[0].y + w[1].y) / 2.0,
                })
            })
            .collect();
        let Some(start) = inside.iter().position(|&i| i) else {
            continue;
        };
        let end = start + inside[start..].iter().take_while(|&&i| i).count();
        if inside[end..].iter().any(|&i| i) {
            return Err(EditRefusal::CrossesTwice {
                child: child.id.clone(),
            });
        }
        let parts = match s.child_parts.get(&child.id) {
            Some(parts) => parts.clone(),
            None => [
                NewGrid {
                    id: child.id.clone(),
                    name: child.name.clone(),
                    properties: serde_json::Map::new(),
                },
                split_off(work, &child, &named),
            ],
        };
        split(
            work,
            &Split {
                grid: child.id.clone(),
                line: crossed[start..=end]
                    .iter()
                    .map(|c| LonLat::new(c.x, c.y))
                    .collect(),
                parts,
                straddling: Straddling::Split,
                child_parts: s.child_parts.clone(),
            },
        )?;
    }
    Ok(crossed)
}

/// How far along `line` the point `p` (on it) lies, from 0 at its start.
fn along(line: Line<f64>, p: Coord<f64>) -> f64 {
    let d = line.delta();
    if d.x.abs() >= d.y.abs() {
        (p.x - line.start.x) / d.x
    } else {
        (p.y - line.start.y) / d.y
    }
}

/// Put `p` into every border edge of a grid in `among` that it lies on
/// (within [`ON_EDGE_DEG`]) but does not end, in every grid that has that
/// edge: the children on both sides of a border, and deeper grids whose
/// border runs there too.
fn put_on_border(work: &mut Working<'_>, p: Coord<f64>, among: &HashSet<GridId>) {
    loop {
        let edge = work
            .near(grown(point_box(p)))
            .filter(|g| among.contains(&g.id))
            .find_map(|g| {
                g.geometry
                    .iter()
                    .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
                    .flat_map(|r| r.lines())
                    .find(|e| {
                        p != e.start
                            && p != e.end
                            && Euclidean.distance(&geo::Point::from(p), e) < ON_EDGE_DEG
                    })
                    .map(|e| (e.start, e.end))
            });
        let Some((a, b)) = edge else { return };
        insert_on_edge(work, a, b, p);
    }
}

/// A vertex of a grid in `among` within [`ON_EDGE_DEG`] of `p`.
fn vertex_near(work: &Working<'_>, p: Coord<f64>, among: &HashSet<GridId>) -> Option<Coord<f64>> {
    work.near(grown(point_box(p)))
        .filter(|g| among.contains(&g.id))
        .flat_map(|g| {
            g.geometry
                .iter()
                .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
                .flat_map(|r| r.0.iter().copied())
        })
        .find(|v| (v.x - p.x).hypot(v.y - p.y) < ON_EDGE_DEG)
}

/// The right part of `child`, cut by a split that names no parts for it:
/// its properties but code and population, its id and name with `-2` (or
/// the first number after it that is free and not `named` in the request).
fn split_off(work: &Working<'_>, child: &Grid, named: &HashSet<&GridId>) -> NewGrid {
    let n = (2..)
        .find(|n| {
            let id = GridId::from(format!("{}-{n}", child.id).as_str());
            work.get(&id).is_none() && work.stored(&id).is_none() && !named.contains(&id)
        })
        .expect("a free number");
    let mut properties = child.properties.clone();
    properties.remove("code");
    properties.remove("population");
    NewGrid {
        id: GridId::from(format!("{}-{n}", child.id).as_str()),
        name: format!("{}-{n}", child.name),
        properties,
    }
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
    use super::super::{Drawn, Edit, draw};
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
            straddling: Default::default(),
            child_parts: Default::default(),
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
        let set = nested();
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

    /// A's children, north and south of y = 0.5, the north one with two
    /// children of its own split at x = 0.3.
    fn nested() -> Vec<Grid> {
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
            &[
                (0.0, 0.5),
                (0.3, 0.5),
                (1.0, 0.5),
                (1.0, 1.0),
                (0.3, 1.0),
                (0.0, 1.0),
                (0.0, 0.5),
            ],
        ));
        set.push(grid(
            "n-w",
            4,
            Some("a-north"),
            &[(0.0, 0.5), (0.3, 0.5), (0.3, 1.0), (0.0, 1.0), (0.0, 0.5)],
        ));
        set.push(grid(
            "n-e",
            4,
            Some("a-north"),
            &[(0.3, 0.5), (1.0, 0.5), (1.0, 1.0), (0.3, 1.0), (0.3, 0.5)],
        ));
        set
    }

    fn cut_through(set: &[Grid], line: &[(f64, f64)]) -> Result<Drawn, EditRefusal> {
        let Edit::Split(mut s) = split_a(line) else {
            unreachable!()
        };
        s.straddling = Straddling::Split;
        draw(set, &Edit::Split(s), &Default::default())
    }

    /// A cut north to south at x = 0.5 with `straddling: split`: both
    /// children and the grandchild it crosses are cut too, each part under
    /// the part of its parent on its side, every level still adding up to
    /// its parent, and the point where the line crosses the children's
    /// border is a vertex of all four parts that meet there.
    #[test]
    fn a_split_cuts_the_children_it_crosses_when_asked() {
        let set = nested();
        let drawn = cut_through(&set, &[(0.5, 0.0), (0.5, 1.0)]).expect("cut through");
        let mut ids: Vec<&str> = drawn.upsert.iter().map(|g| g.id.as_str()).collect();
        ids.sort();
        assert_eq!(
            ids,
            [
                "A1",
                "A2",
                "a-north",
                "a-north-2",
                "a-south",
                "a-south-2",
                "n-e",
                "n-e-2"
            ]
        );
        assert_eq!(drawn.remove, [GridId::from("A")]);
        let after: Vec<Grid> = set
            .iter()
            .filter(|g| !drawn.upsert.iter().any(|d| d.id == g.id) && g.id.as_str() != "A")
            .cloned()
            .chain(drawn.upsert.iter().cloned())
            .collect();
        let by_id = |id: &str| after.iter().find(|g| g.id.as_str() == id).expect(id);
        // Drawn south to north: the left part is the west one.
        for (id, parent) in [
            ("a-north", "A1"),
            ("a-south", "A1"),
            ("a-north-2", "A2"),
            ("a-south-2", "A2"),
            ("n-w", "a-north"),
            ("n-e", "a-north"),
            ("n-e-2", "a-north-2"),
        ] {
            assert_eq!(by_id(id).parent_id, Some(GridId::from(parent)), "{id}");
        }
        assert!(
            by_id("a-north")
                .geometry
                .contains(&Coord { x: 0.25, y: 0.75 })
        );
        assert!(
            by_id("a-north-2")
                .geometry
                .contains(&Coord { x: 0.75, y: 0.75 })
        );
        for parent in ["A1", "A2", "a-north", "a-north-2"] {
            let children: f64 = after
                .iter()
                .filter(|g| g.parent_id.as_ref().is_some_and(|p| p.as_str() == parent))
                .map(|g| area_m2(&g.geometry))
                .sum();
            let whole = area_m2(&by_id(parent).geometry);
            assert!(
                (children - whole).abs() < 1.0,
                "{parent}: {children} of {whole}"
            );
        }
        let crossing = Coord { x: 0.5, y: 0.5 };
        for id in ["A1", "A2"] {
            assert!(has_vertex(by_id(id), crossing), "{id}");
        }
        for id in [
            "a-north",
            "a-north-2",
            "a-south",
            "a-south-2",
            "n-e",
            "n-e-2",
        ] {
            assert!(has_vertex(by_id(id), crossing), "{id}");
        }
        // The line's ends, exactly as the parent's parts have them, in the
        // parts of the children whose border they end on.
        let (top, bottom) = (Coord { x: 0.5, y: 1.0 }, Coord { x: 0.5, y: 0.0 });
        for id in ["A1", "A2", "a-north", "a-north-2", "n-e", "n-e-2"] {
            assert!(has_vertex(by_id(id), top), "{id} lacks the top end");
        }
        for id in ["A1", "A2", "a-south", "a-south-2"] {
            assert!(has_vertex(by_id(id), bottom), "{id} lacks the bottom end");
        }
        // The right part of a cut child takes its properties but its code.
        assert_eq!(by_id("a-north-2").name, "a-north-2");
    }

    /// The cut at x = 0.5 through `nested`, cutting children, with the
    /// parts of `child` named.
    fn cut_naming(child: &str, [left, right]: [&str; 2]) -> Result<Drawn, EditRefusal> {
        let Edit::Split(mut s) = split_a(&[(0.5, 0.0), (0.5, 1.0)]) else {
            unreachable!()
        };
        s.straddling = Straddling::Split;
        s.child_parts
            .insert(GridId::from(child), [part(left), part(right)]);
        draw(&nested(), &Edit::Split(s), &Default::default())
    }

    #[test]
    fn a_child_the_line_enters_twice_refuses_the_cut() {
        let zigzag = [(0.2, 0.0), (0.3, 0.7), (0.4, 0.2), (0.5, 0.7), (0.6, 1.0)];
        assert!(matches!(
            cut_through(&nested(), &zigzag),
            Err(EditRefusal::CrossesTwice { .. })
        ));
        // Parts named for a child the line does not cross.
        assert_eq!(
            cut_naming("n-w", ["n-w", "n-w-east"]),
            Err(EditRefusal::NotCut {
                child: GridId::from("n-w")
            })
        );
        // A child's part named like a part of the grid: refused, not
        // overwritten.
        assert_eq!(
            cut_naming("a-north", ["a-north", "A2"]),
            Err(EditRefusal::IdTaken {
                id: GridId::from("A2")
            })
        );
        // Refused by default, naming the children.
        assert!(matches!(
            draw(
                &nested(),
                &split_a(&[(0.5, 0.0), (0.5, 1.0)]),
                &Default::default()
            ),
            Err(EditRefusal::Straddles { .. })
        ));
    }
}
