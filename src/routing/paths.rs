//! Shortest paths between points on the road network.
//!
//! A point on a road lies part-way along an edge, so a search starts from
//! both ends of that edge at once (each seeded with the distance to it) and
//! a path may also run straight along the shared edge when both points are on
//! it. petgraph's own `dijkstra` starts from one node and keeps no
//! predecessors, so the search here is a plain binary-heap Dijkstra over
//! petgraph's adjacency with dense arrays, two seeds, predecessors for the
//! geometry, and an early stop once every wanted node is settled.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::geom::LonLat;
use crate::routing::network::{RoadNetwork, Snap};

/// The distances from one snapped point to every node it reached.
#[derive(Debug)]
pub struct Search {
    from: Snap,
    dist: Vec<f64>,
    /// The node and edge a node was reached through; `None` for the seeds.
    pred: Vec<Option<(NodeIndex, EdgeIndex)>>,
}

#[derive(PartialEq)]
struct Queued(f64, NodeIndex);
impl Eq for Queued {}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: the heap pops the nearest first.
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// How a path between two snapped points runs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Via {
    /// Straight along the edge both points are on.
    SameEdge,
    /// Leaving `to`'s edge at this end node (reached through the graph).
    Node(NodeIndex),
}

impl RoadNetwork {
    /// Search outward from `from` until every node in `targets` is settled
    /// (all nodes when `targets` is empty).
    pub fn search(&self, from: Snap, targets: &[NodeIndex]) -> Search {
        let graph = self.graph();
        let n = graph.node_count();
        let mut dist = vec![f64::INFINITY; n];
        let mut pred = vec![None; n];
        let mut wanted = vec![false; n];
        let mut remaining = 0usize;
        for t in targets {
            if !wanted[t.index()] {
                wanted[t.index()] = true;
                remaining += 1;
            }
        }
        let mut heap = BinaryHeap::new();
        let (a, b) = graph
            .edge_endpoints(from.edge)
            .expect("a snap names an edge");
        let length = graph[from.edge].length_m();
        for (node, d) in [(a, from.offset_m), (b, length - from.offset_m)] {
            if d < dist[node.index()] {
                dist[node.index()] = d;
                heap.push(Queued(d, node));
            }
        }
        let mut settled = vec![false; n];
        while let Some(Queued(d, u)) = heap.pop() {
            if settled[u.index()] {
                continue;
            }
            settled[u.index()] = true;
            if wanted[u.index()] {
                remaining -= 1;
                if remaining == 0 {
                    break;
                }
            }
            for e in graph.edges(u) {
                let v = if e.source() == u {
                    e.target()
                } else {
                    e.source()
                };
                let nd = d + e.weight().length_m();
                if nd < dist[v.index()] {
                    dist[v.index()] = nd;
                    pred[v.index()] = Some((u, e.id()));
                    heap.push(Queued(nd, v));
                }
            }
        }
        Search { from, dist, pred }
    }

    /// The end nodes of a snap's edge: what a search must settle to reach it.
    pub fn ends(&self, snap: &Snap) -> [NodeIndex; 2] {
        let (a, b) = self
            .graph()
            .edge_endpoints(snap.edge)
            .expect("a snap names an edge");
        [a, b]
    }

    fn best_via(&self, search: &Search, to: &Snap) -> (f64, Via) {
        let [a, b] = self.ends(to);
        let length = self.graph()[to.edge].length_m();
        let mut best = (f64::INFINITY, Via::SameEdge);
        if search.from.edge == to.edge {
            best.0 = (search.from.offset_m - to.offset_m).abs();
        }
        for (node, rest) in [(a, to.offset_m), (b, length - to.offset_m)] {
            let d = search.dist[node.index()] + rest;
            if d < best.0 {
                best = (d, Via::Node(node));
            }
        }
        best
    }

    /// Where along `edge` its end `node` lies (0 or the edge's length), for
    /// a point `offset_m` along it. A loop (both ends one node) is left by
    /// its nearer end, as the search counted it.
    fn offset_of_end(&self, edge: EdgeIndex, offset_m: f64, node: NodeIndex) -> f64 {
        let (a, b) = self.graph().edge_endpoints(edge).expect("an edge");
        let length = self.graph()[edge].length_m();
        if a == b {
            if offset_m <= length - offset_m {
                0.0
            } else {
                length
            }
        } else if node == a {
            0.0
        } else {
            length
        }
    }

    /// Road distance in metres from the search's start to `to`.
    pub fn distance_m(&self, search: &Search, to: &Snap) -> f64 {
        self.best_via(search, to).0
    }

    /// The shortest path from the search's start to `to`, as a polyline along
    /// the roads, with its length in metres.
    /// When no road connects them the length is infinite and the polyline
    /// empty.
    pub fn path(&self, search: &Search, to: &Snap) -> (f64, Vec<LonLat>) {
        let graph = self.graph();
        let (length, via) = self.best_via(search, to);
        if !length.is_finite() {
            return (length, Vec::new());
        }
        let end_node = match via {
            Via::SameEdge => {
                let coords = graph[to.edge].slice(search.from.offset_m, to.offset_m);
                return (length, coords);
            }
            Via::Node(node) => node,
        };
        // Walk back from the end node to a seed, collecting edges.
        let mut steps = Vec::new();
        let mut node = end_node;
        while let Some((prev, edge)) = search.pred[node.index()] {
            steps.push((prev, edge, node));
            node = prev;
        }
        steps.reverse();
        let seed = node;
        let from_edge = &graph[search.from.edge];
        let seed_offset = self.offset_of_end(search.from.edge, search.from.offset_m, seed);
        let mut coords = from_edge.slice(search.from.offset_m, seed_offset);
        for (prev, edge, _) in steps {
            let e = &graph[edge];
            let (source, _) = graph.edge_endpoints(edge).expect("an edge");
            let mut part = e.coords.clone();
            if prev != source {
                part.reverse();
            }
            coords.extend(part.into_iter().skip(1));
        }
        let to_edge = &graph[to.edge];
        let end_offset = self.offset_of_end(to.edge, to.offset_m, end_node);
        coords.extend(to_edge.slice(end_offset, to.offset_m).into_iter().skip(1));
        (length, coords)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::network::test_line as line;

    fn polyline_m(net: &RoadNetwork, coords: &[LonLat]) -> f64 {
        coords
            .windows(2)
            .map(|w| net.frame().distance_m(w[0], w[1]))
            .sum()
    }

    /// A square block with a long detour:
    ///
    /// ```text
    ///  d ------- c
    ///  |         |
    ///  a --p  q- b
    /// ```
    /// p and q are on a-b: straight along it. From p to a point on c-d the
    /// search must go round one side or the other, whichever is shorter.
    #[test]
    fn paths_run_along_the_shared_edge_or_round_the_shorter_side() {
        let net = RoadNetwork::build(vec![
            line(&[(106.0, 34.0), (106.01, 34.0)]),
            line(&[(106.01, 34.0), (106.01, 34.01)]),
            line(&[(106.01, 34.01), (106.0, 34.01)]),
            line(&[(106.0, 34.01), (106.0, 34.0)]),
        ]);
        let p = net.snap(LonLat::new(106.002, 34.0)).expect("snap");
        let q = net.snap(LonLat::new(106.008, 34.0)).expect("snap");
        let search = net.search(p, &net.ends(&q));
        let (len, coords) = net.path(&search, &q);
        assert!((len - polyline_m(&net, &coords)).abs() < 1e-6);
        assert_eq!(coords.len(), 2, "straight along a-b: {coords:?}");

        let r = net.snap(LonLat::new(106.003, 34.01)).expect("snap");
        let search = net.search(p, &net.ends(&r));
        let (len, coords) = net.path(&search, &r);
        assert!((len - polyline_m(&net, &coords)).abs() < 1e-6);
        // Round via a and d (west side): 0.002 + 0.01 + 0.003 degrees-ish.
        assert_eq!(coords[1], LonLat::new(106.0, 34.0), "{coords:?}");
        assert_eq!(coords[2], LonLat::new(106.0, 34.01));
    }

    /// A ring road drawn as one closed line (its only node is where it
    /// closes), and a spur to it: from the spur to a point just past the
    /// closing node, the way is drawn the short way round, as counted.
    #[test]
    fn a_closed_ring_is_left_by_its_nearer_end() {
        let net = RoadNetwork::build(vec![
            line(&[
                (106.0, 34.0),
                (106.01, 34.0),
                (106.01, 34.01),
                (106.0, 34.01),
                (106.0, 34.0),
            ]),
            line(&[(106.0, 34.0), (105.99, 34.0)]),
        ]);
        let spur = net.snap(LonLat::new(105.995, 34.0)).expect("snap");
        let near_end = net.snap(LonLat::new(106.0, 34.0005)).expect("snap");
        let search = net.search(spur, &net.ends(&near_end));
        let (len, coords) = net.path(&search, &near_end);
        assert!(
            (len - polyline_m(&net, &coords)).abs() < 1e-6,
            "{len} vs {coords:?}"
        );
        assert!(len < 600.0, "the short way round: {len} m");
    }
}
