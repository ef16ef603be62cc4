//! Travel between a set of points: the distance matrix a tour is ordered
//! by, and the legs a route is drawn from, over the roads when there is a
//! network and as the crow flies when there is not (the answer says which).
//!
//! Over roads, each point walks straight to its nearest road (its *access*),
//! along the roads, and straight off to the next point, so a leg's length is
//! `access(a) + road(a → b) + access(b)`.

use rayon::prelude::*;
use serde::Serialize;

use crate::geom::LonLat;
use crate::routing::network::{RoadNetwork, Snap};
use crate::routing::tour::DistanceMatrix;

/// How distances were measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Along the road network (shortest paths).
    Roads,
    /// Great-circle distance: no road network is loaded.
    GreatCircle,
}

/// One leg of a route: from one point to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    /// Metres.
    pub length_m: f64,
    /// The way, from the first point to the second.
    pub coords: Vec<LonLat>,
}

/// Travel between points: where each meets the roads, and the matrix.
#[derive(Debug)]
pub struct Travel<'n> {
    network: Option<&'n RoadNetwork>,
    points: Vec<LonLat>,
    snaps: Vec<Snap>,
    /// Every pair's distance; `None` when only legs were asked for.
    matrix: Option<DistanceMatrix>,
}

/// Great-circle distance in metres (haversine on the mean Earth radius).
pub fn great_circle_m(a: LonLat, b: LonLat) -> f64 {
    use geo::{Distance, Haversine, Point};
    Haversine.distance(Point::new(a.lon, a.lat), Point::new(b.lon, b.lat))
}

impl<'n> Travel<'n> {
    /// Measure travel between every pair of `points`: over `network` when
    /// given and not empty, else great-circle. Road searches run in parallel.
    pub fn between(network: Option<&'n RoadNetwork>, points: Vec<LonLat>) -> Travel<'n> {
        let mut travel = Travel::between_legs(network, points);
        travel.matrix = Some(travel.all_pairs());
        travel
    }

    /// Snap `points` for drawing legs between them, without the matrix (a
    /// saved route's legs in a given order need no all-pairs search).
    pub fn between_legs(network: Option<&'n RoadNetwork>, points: Vec<LonLat>) -> Travel<'n> {
        let network = network.filter(|n| n.graph().edge_count() > 0);
        let snaps = match network {
            Some(net) => points
                .iter()
                .map(|p| {
                    net.snap(*p)
                        .expect("a network with edges snaps every point")
                })
                .collect(),
            None => Vec::new(),
        };
        Travel {
            network,
            points,
            snaps,
            matrix: None,
        }
    }

    /// Every pair's leg length: one search per point over the roads, or
    /// great-circle without them.
    fn all_pairs(&self) -> DistanceMatrix {
        let (points, snaps) = (&self.points, &self.snaps);
        let Some(net) = self.network else {
            return DistanceMatrix::from_fn(points.len(), |i, j| {
                great_circle_m(points[i], points[j])
            });
        };
        let targets: Vec<_> = snaps.iter().flat_map(|s| net.ends(s)).collect();
        let rows: Vec<Vec<f64>> = snaps
            .par_iter()
            .map(|from| {
                let search = net.search(*from, &targets);
                snaps.iter().map(|to| net.distance_m(&search, to)).collect()
            })
            .collect();
        // Each pair was measured from both ends; take the shorter so the
        // matrix is exactly symmetric (they differ only by rounding).
        DistanceMatrix::from_fn(points.len(), |i, j| {
            let road = rows[i][j].min(rows[j][i]);
            snaps[i].distance_m + road + snaps[j].distance_m
        })
    }

    /// How distances were measured.
    pub fn metric(&self) -> Metric {
        if self.network.is_some() {
            Metric::Roads
        } else {
            Metric::GreatCircle
        }
    }

    /// The matrix of leg lengths (infinite where no road connects two points).
    pub fn matrix(&self) -> &DistanceMatrix {
        self.matrix
            .as_ref()
            .expect("the matrix is asked for only of Travel::between, which computes it")
    }

    /// Where each point meets the road (empty without a network).
    pub fn snaps(&self) -> &[Snap] {
        &self.snaps
    }

    /// True when `j` can be reached from `i`.
    pub fn connected(&self, i: usize, j: usize) -> bool {
        self.matrix().get(i, j).is_finite()
    }

    /// The leg from point `i` to point `j`: the shortest way over the roads
    /// (with the walks to and from them), or a straight line. Its length is
    /// infinite (and its way just the two points) when no road connects them.
    pub fn leg(&self, i: usize, j: usize) -> Leg {
        let (a, b) = (self.points[i], self.points[j]);
        let Some(net) = self.network else {
            return Leg {
                length_m: great_circle_m(a, b),
                coords: vec![a, b],
            };
        };
        let (from, to) = (self.snaps[i], self.snaps[j]);
        let search = net.search(from, &net.ends(&to));
        let (road_m, road) = net.path(&search, &to);
        if !road_m.is_finite() {
            return Leg {
                length_m: f64::INFINITY,
                coords: vec![a, b],
            };
        }
        let mut coords = Vec::with_capacity(road.len() + 2);
        coords.push(a);
        coords.extend(road);
        coords.push(b);
        coords.dedup();
        Leg {
            length_m: from.distance_m + road_m + to.distance_m,
            coords,
        }
    }
}
