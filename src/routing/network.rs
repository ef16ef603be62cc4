//! A road network as a routable graph.
//!
//! 1. **Noding.** Roads come as polylines (GeoJSON LineStrings from
//!    OpenStreetMap, a survey or the demo generator). A vertex becomes a graph
//!    node where a line ends or where two lines (or one line twice) share it,
//!    compared after rounding to 1e-7° (about a centimetre), so lines that meet
//!    at a junction vertex connect and lines that merely cross without a shared
//!    vertex (a bridge over a road) do not.
//! 2. **Edges.** Each stretch between two nodes is one undirected edge that
//!    keeps its full geometry and its length in metres, so a route drawn from
//!    edges follows the road, not a straight line between junctions.
//! 3. **Snapping.** Every segment of every edge sits in an R-tree in a local
//!    metric frame; [`RoadNetwork::snap`] finds the nearest point on the
//!    nearest road and says how far along its edge that point lies.

use std::collections::HashMap;

use petgraph::graph::{EdgeIndex, NodeIndex, UnGraph};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};

use crate::geom::{LocalFrame, LonLat};
use crate::model::RoadLine;

/// One edge of the graph: a stretch of road between two nodes, stored in the
/// direction from the edge's source node to its target node.
#[derive(Debug, Clone)]
pub struct RoadEdge {
    /// Vertices from the source node to the target node.
    pub coords: Vec<LonLat>,
    /// Metres from the source node to each vertex (first 0, last = length).
    pub along_m: Vec<f64>,
}

impl RoadEdge {
    /// Length in metres.
    pub fn length_m(&self) -> f64 {
        *self
            .along_m
            .last()
            .expect("an edge has at least two vertices")
    }

    /// The point `offset_m` metres from the source node.
    pub fn point_at(&self, offset_m: f64) -> LonLat {
        let i = self.along_m.partition_point(|&a| a <= offset_m);
        if i == 0 {
            return self.coords[0];
        }
        if i >= self.coords.len() {
            return *self.coords.last().expect("non-empty");
        }
        let (a, b) = (self.coords[i - 1], self.coords[i]);
        let span = self.along_m[i] - self.along_m[i - 1];
        let t = if span > 0.0 {
            (offset_m - self.along_m[i - 1]) / span
        } else {
            0.0
        };
        LonLat::new(a.lon + (b.lon - a.lon) * t, a.lat + (b.lat - a.lat) * t)
    }

    /// The geometry between two offsets, in the order given (`from > to`
    /// walks the edge backwards). Both ends are included.
    pub fn slice(&self, from_m: f64, to_m: f64) -> Vec<LonLat> {
        let (lo, hi) = (from_m.min(to_m), from_m.max(to_m));
        let mut out = vec![self.point_at(lo)];
        for (c, &a) in self.coords.iter().zip(&self.along_m) {
            if a > lo && a < hi {
                out.push(*c);
            }
        }
        out.push(self.point_at(hi));
        if from_m > to_m {
            out.reverse();
        }
        out
    }
}

/// Where a point meets the road network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// The edge.
    pub edge: EdgeIndex,
    /// Metres along the edge from its source node.
    pub offset_m: f64,
    /// The nearest point on the road.
    pub point: LonLat,
    /// Metres from the point snapped to the road.
    pub distance_m: f64,
}

/// A routable road network. Built once from lines, then read-only (an import
/// builds a new one and swaps it in whole, like the grid index).
#[derive(Debug)]
pub struct RoadNetwork {
    frame: LocalFrame,
    graph: UnGraph<LonLat, RoadEdge>,
    segments: RTree<Segment>,
    lines: Vec<RoadLine>,
}

/// One segment of an edge in the local frame, with its edge and its index
/// along the edge.
type Segment = GeomWithData<Line<[f64; 2]>, (EdgeIndex, usize)>;

/// Quantised vertex key: 1e-7° is about a centimetre.
fn key(p: LonLat) -> (i64, i64) {
    ((p.lon * 1e7).round() as i64, (p.lat * 1e7).round() as i64)
}

impl RoadNetwork {
    /// Node and index the given lines. Lines with fewer than two distinct
    /// vertices add nothing (the importer refuses them before this).
    pub fn build(lines: Vec<RoadLine>) -> RoadNetwork {
        let origin = lines
            .iter()
            .flat_map(|l| l.coords.first())
            .next()
            .copied()
            .unwrap_or(LonLat::new(0.0, 0.0));
        let frame = LocalFrame::new(origin);

        // Step 1: a vertex is a node when it ends a line or is used twice.
        let mut uses: HashMap<(i64, i64), u32> = HashMap::new();
        for line in &lines {
            let n = line.coords.len();
            for (i, p) in line.coords.iter().enumerate() {
                let weight = if i == 0 || i + 1 == n { 2 } else { 1 };
                *uses.entry(key(*p)).or_default() += weight;
            }
        }
        let mut graph: UnGraph<LonLat, RoadEdge> = UnGraph::default();
        let mut nodes: HashMap<(i64, i64), NodeIndex> = HashMap::new();
        let mut node_of = |graph: &mut UnGraph<LonLat, RoadEdge>, p: LonLat| {
            *nodes.entry(key(p)).or_insert_with(|| graph.add_node(p))
        };

        // Step 2: split every line at its nodes.
        for line in &lines {
            let mut coords: Vec<LonLat> = Vec::with_capacity(line.coords.len());
            for p in &line.coords {
                if coords.last().is_none_or(|q| key(*q) != key(*p)) {
                    coords.push(*p);
                }
            }
            if coords.len() < 2 {
                continue;
            }
            let mut from = node_of(&mut graph, coords[0]);
            let mut stretch = vec![coords[0]];
            for (i, p) in coords.iter().enumerate().skip(1) {
                stretch.push(*p);
                let is_node = i + 1 == coords.len() || uses[&key(*p)] >= 2;
                if is_node {
                    let to = node_of(&mut graph, *p);
                    let edge = edge_from(&frame, std::mem::take(&mut stretch));
                    graph.add_edge(from, to, edge);
                    from = to;
                    stretch.push(*p);
                }
            }
        }

        // Step 3: every segment into the R-tree.
        let mut segments = Vec::new();
        for e in graph.edge_indices() {
            let edge = &graph[e];
            for (i, w) in edge.coords.windows(2).enumerate() {
                let line = Line::new(frame.to_metres(w[0]), frame.to_metres(w[1]));
                segments.push(GeomWithData::new(line, (e, i)));
            }
        }
        RoadNetwork {
            frame,
            graph,
            segments: RTree::bulk_load(segments),
            lines,
        }
    }

    /// The graph: nodes are junctions and ends (their position), edges are
    /// stretches of road.
    pub fn graph(&self) -> &UnGraph<LonLat, RoadEdge> {
        &self.graph
    }

    /// The lines the network was built from, in import order.
    pub fn lines(&self) -> &[RoadLine] {
        &self.lines
    }

    /// The metric frame lengths and snaps are measured in.
    pub fn frame(&self) -> &LocalFrame {
        &self.frame
    }

    /// Total length of all roads, metres.
    pub fn length_m(&self) -> f64 {
        self.graph.edge_weights().map(RoadEdge::length_m).sum()
    }

    /// The nearest point on any road to `p`; `None` when there are no roads.
    pub fn snap(&self, p: LonLat) -> Option<Snap> {
        let q = self.frame.to_metres(p);
        let nearest = self.segments.nearest_neighbor(&q)?;
        let (edge_ix, seg) = nearest.data;
        let (a, b) = (nearest.geom().from, nearest.geom().to);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let on = [a[0] + dx * t, a[1] + dy * t];
        let edge = &self.graph[edge_ix];
        let span = edge.along_m[seg + 1] - edge.along_m[seg];
        Some(Snap {
            edge: edge_ix,
            offset_m: edge.along_m[seg] + span * t,
            point: self.frame.to_lonlat(on),
            distance_m: (q[0] - on[0]).hypot(q[1] - on[1]),
        })
    }
}

fn edge_from(frame: &LocalFrame, coords: Vec<LonLat>) -> RoadEdge {
    let mut along_m = Vec::with_capacity(coords.len());
    let mut total = 0.0;
    along_m.push(0.0);
    for w in coords.windows(2) {
        total += frame.distance_m(w[0], w[1]);
        along_m.push(total);
    }
    RoadEdge { coords, along_m }
}

/// A village road through the given (lon, lat) points, for tests.
#[cfg(test)]
pub(crate) fn test_line(points: &[(f64, f64)]) -> RoadLine {
    RoadLine {
        name: None,
        class: crate::model::RoadClass::Village,
        coords: points.iter().map(|&(x, y)| LonLat::new(x, y)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::network::test_line as line;

    /// A cross and a line that passes over it without a shared vertex:
    ///
    /// ```text
    ///        c
    ///        |
    ///  a ----x---- b      (x is a vertex of both lines: a junction)
    ///        |
    ///        d
    ///  e -----------f     (no shared vertex with c-d: not connected)
    /// ```
    #[test]
    fn shared_vertices_become_junctions_and_crossings_do_not() {
        let net = RoadNetwork::build(vec![
            line(&[(106.0, 34.0), (106.01, 34.0), (106.02, 34.0)]),
            line(&[(106.01, 34.01), (106.01, 34.0), (106.01, 33.98)]),
            line(&[(106.0, 33.99), (106.02, 33.99)]),
        ]);
        // a, b, c, d, x, e, f
        assert_eq!(net.graph().node_count(), 7);
        // a-x, x-b, c-x, x-d, e-f
        assert_eq!(net.graph().edge_count(), 5);
        let x = net
            .graph()
            .node_indices()
            .find(|&n| key(net.graph()[n]) == key(LonLat::new(106.01, 34.0)))
            .expect("junction");
        assert_eq!(net.graph().neighbors(x).count(), 4);
    }

    #[test]
    fn snapping_finds_the_nearest_road_and_the_offset_along_it() {
        let net = RoadNetwork::build(vec![line(&[(106.0, 34.0), (106.01, 34.0)])]);
        let snap = net.snap(LonLat::new(106.004, 34.0005)).expect("a road");
        let metres_per_lon = 34f64.to_radians().cos() * crate::geom::METRES_PER_DEGREE_LAT;
        assert!(
            (snap.offset_m - 0.004 * metres_per_lon).abs() < 0.01,
            "{snap:?}"
        );
        assert!((snap.distance_m - 0.0005 * crate::geom::METRES_PER_DEGREE_LAT).abs() < 0.01);
        assert!((snap.point.lat - 34.0).abs() < 1e-12);
    }

    #[test]
    fn slices_run_in_the_direction_asked_and_keep_inner_vertices() {
        let net = RoadNetwork::build(vec![line(&[
            (106.0, 34.0),
            (106.01, 34.0),
            (106.01, 34.01),
        ])]);
        let edge = &net.graph()[EdgeIndex::new(0)];
        let forward = edge.slice(100.0, edge.length_m() - 100.0);
        assert_eq!(forward.len(), 3, "the corner stays in");
        let backward = edge.slice(edge.length_m() - 100.0, 100.0);
        assert_eq!(backward.first(), forward.last());
        assert_eq!(backward[1], LonLat::new(106.01, 34.0));
    }
}
