//! The demo county's road network, laid over its grids.
//!
//! 1. **Settlements.** Each basic (level-4) grid has one, at the pole of
//!    inaccessibility of its largest part (always inside it); a town's seat
//!    is the settlement of its most populous basic grid.
//! 2. **Main roads** (县乡道) join the town seats: their minimum spanning tree
//!    plus each seat's link to its nearest other seats, so the network has
//!    loops as real county roads do.
//! 3. **Village roads** (村道) join every settlement of a town to the town's
//!    tree (minimum spanning tree from the seat), plus a second link from
//!    each settlement to its second-nearest neighbour when that is short.
//! 4. **Paths** (小路): three spurs from each settlement out into its grid,
//!    to fields, slopes and river banks, where hazards lie.
//!
//! Roads meet only at their ends (settlements and seats are shared
//! vertices), and each bends gently between them, a vertex every ~250 m.

use geo::{Area, Contains, Point};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::geom::LocalFrame;
use crate::geom::LonLat;
use crate::model::{Grid, Level};
use crate::model::{RoadClass, RoadLine};

/// Degrees of precision for the settlement (pole of inaccessibility) search.
const SETTLEMENT_PRECISION_DEG: f64 = 0.0005;
/// Spacing of the bends along a generated road, metres.
const BEND_SPACING_M: f64 = 250.0;
/// Second links between settlements are only built when shorter than this.
const LOOP_MAX_M: f64 = 3_000.0;
/// Paths leading out from each settlement into its grid.
const PATHS_PER_SETTLEMENT: usize = 3;

/// A basic grid's settlement: where its village roads meet.
#[derive(Debug, Clone)]
pub struct Settlement {
    /// Index of the basic grid in the grids given.
    pub grid: usize,
    /// Index of its town in the grids given.
    pub town: usize,
    /// Where it is.
    pub at: LonLat,
}

/// The settlements of every basic grid, in grid order.
pub fn settlements(grids: &[Grid]) -> Vec<Settlement> {
    let position: std::collections::HashMap<&crate::model::GridId, usize> = grids
        .iter()
        .enumerate()
        .map(|(ix, g)| (&g.id, ix))
        .collect();
    let town_of = |mut ix: usize| {
        while let Some(parent) = &grids[ix].parent_id {
            ix = position[parent];
        }
        ix
    };
    grids
        .iter()
        .enumerate()
        .filter(|(_, g)| g.level == Level::new(4).expect("4 is a level"))
        .filter_map(|(ix, g)| {
            let largest = g
                .geometry
                .0
                .iter()
                .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))?;
            let p = polylabel::polylabel(largest, &SETTLEMENT_PRECISION_DEG).ok()?;
            Some(Settlement {
                grid: ix,
                town: town_of(ix),
                at: LonLat::new(p.x(), p.y()),
            })
        })
        .collect()
}

/// Where each town's roads meet: its seat, the settlement of its most
/// populous basic grid, keyed by the town's index in `grids`, in town order.
pub fn town_seats(grids: &[Grid], places: &[Settlement]) -> Vec<(usize, LonLat)> {
    let mut towns: Vec<usize> = places.iter().map(|s| s.town).collect();
    towns.sort_unstable();
    towns.dedup();
    towns
        .into_iter()
        .map(|t| {
            let seat = places
                .iter()
                .filter(|s| s.town == t)
                .max_by_key(|s| grids[s.grid].population().unwrap_or(0))
                .expect("every town has a basic grid");
            (t, seat.at)
        })
        .collect()
}

/// The demo road network over `grids` (the whole demo county) and their
/// `places` ([`settlements`]), for `seed`.
pub fn generate_roads(grids: &[Grid], places: &[Settlement], seed: u64) -> Vec<RoadLine> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x000a_d5ed);
    let Some(first) = places.first() else {
        return Vec::new();
    };
    let frame = LocalFrame::new(first.at);
    let (towns, seats): (Vec<usize>, Vec<LonLat>) = town_seats(grids, places).into_iter().unzip();

    let mut roads = Vec::new();
    let mut road = |a: LonLat, b: LonLat, class: RoadClass, rng: &mut ChaCha8Rng| {
        roads.push(RoadLine {
            name: None,
            class,
            coords: bend(&frame, a, b, rng),
        });
    };

    // Main roads: tree plus links to the two nearest seats.
    let mut main_links = spanning_tree(&frame, &seats);
    for i in 0..seats.len() {
        let near = nearest_first(&frame, &seats, i);
        main_links.extend(near.into_iter().take(2).map(|j| (i.min(j), i.max(j))));
    }
    main_links.sort_unstable();
    main_links.dedup();
    for (i, j) in main_links {
        road(seats[i], seats[j], RoadClass::Main, &mut rng);
    }

    // Village roads and paths, town by town.
    for (t, &town) in towns.iter().enumerate() {
        let mut points = vec![seats[t]];
        let members: Vec<&Settlement> = places
            .iter()
            .filter(|s| s.town == town && s.at != seats[t])
            .collect();
        points.extend(members.iter().map(|s| s.at));
        let mut links = spanning_tree(&frame, &points);
        for (i, &a) in points.iter().enumerate() {
            if let Some(&j) = nearest_first(&frame, &points, i).get(1)
                && frame.distance_m(a, points[j]) < LOOP_MAX_M
            {
                links.push((i.min(j), i.max(j)));
            }
        }
        links.sort_unstable();
        links.dedup();
        for (i, j) in links {
            road(points[i], points[j], RoadClass::Village, &mut rng);
        }
        for s in places.iter().filter(|s| s.town == town) {
            let grid = &grids[s.grid];
            let reach_m = grid.geometry.unsigned_area().sqrt() * 111_000.0 * 0.35;
            for _ in 0..PATHS_PER_SETTLEMENT {
                if let Some(end) = point_inside(&frame, grid, s.at, reach_m, &mut rng) {
                    road(s.at, end, RoadClass::Path, &mut rng);
                }
            }
        }
    }
    roads
}

/// The other points, nearest to `points[i]` first.
fn nearest_first(frame: &LocalFrame, points: &[LonLat], i: usize) -> Vec<usize> {
    let mut near: Vec<usize> = (0..points.len()).filter(|&j| j != i).collect();
    near.sort_by(|&x, &y| {
        frame
            .distance_m(points[i], points[x])
            .total_cmp(&frame.distance_m(points[i], points[y]))
    });
    near
}

/// Links of the minimum spanning tree over `points` (Prim, O(n²): a town
/// has at most a few hundred settlements).
fn spanning_tree(frame: &LocalFrame, points: &[LonLat]) -> Vec<(usize, usize)> {
    let n = points.len();
    let mut in_tree = vec![false; n];
    let mut best = vec![(f64::INFINITY, 0usize); n];
    let mut links = Vec::with_capacity(n.saturating_sub(1));
    if n == 0 {
        return links;
    }
    in_tree[0] = true;
    for j in 1..n {
        best[j] = (frame.distance_m(points[0], points[j]), 0);
    }
    for _ in 1..n {
        let next = (0..n)
            .filter(|&j| !in_tree[j])
            .min_by(|&a, &b| best[a].0.total_cmp(&best[b].0))
            .expect("a node is left");
        in_tree[next] = true;
        let from = best[next].1;
        links.push((from.min(next), from.max(next)));
        for j in 0..n {
            let d = frame.distance_m(points[next], points[j]);
            if !in_tree[j] && d < best[j].0 {
                best[j] = (d, next);
            }
        }
    }
    links
}

/// A gently bending road from `a` to `b`: vertices every ~250 m, pushed
/// sideways by a smooth random bow plus a little jitter.
fn bend(frame: &LocalFrame, a: LonLat, b: LonLat, rng: &mut ChaCha8Rng) -> Vec<LonLat> {
    let (pa, pb) = (frame.to_metres(a), frame.to_metres(b));
    let (dx, dy) = (pb[0] - pa[0], pb[1] - pa[1]);
    let length = dx.hypot(dy);
    let steps = ((length / BEND_SPACING_M).ceil() as usize).max(1);
    let bow = rng.random_range(-0.12..0.12) * length;
    let wave = rng.random_range(-0.04..0.04) * length;
    let (nx, ny) = if length > 0.0 {
        (-dy / length, dx / length)
    } else {
        (0.0, 0.0)
    };
    let mut coords = vec![a];
    for k in 1..steps {
        let t = k as f64 / steps as f64;
        let side = bow * (std::f64::consts::PI * t).sin()
            + wave * (3.0 * std::f64::consts::PI * t).sin()
            + rng.random_range(-0.01..0.01) * BEND_SPACING_M;
        coords.push(frame.to_lonlat([pa[0] + dx * t + nx * side, pa[1] + dy * t + ny * side]));
    }
    coords.push(b);
    coords
}

/// A random point of `grid` within `reach_m` of `from` (a few tries).
fn point_inside(
    frame: &LocalFrame,
    grid: &Grid,
    from: LonLat,
    reach_m: f64,
    rng: &mut ChaCha8Rng,
) -> Option<LonLat> {
    let origin = frame.to_metres(from);
    for _ in 0..12 {
        let angle = rng.random_range(0.0..std::f64::consts::TAU);
        let r = reach_m * rng.random_range(0.4..1.0);
        let p = frame.to_lonlat([origin[0] + r * angle.cos(), origin[1] + r * angle.sin()]);
        if grid.geometry.contains(&Point::new(p.lon, p.lat)) {
            return Some(p);
        }
    }
    None
}
