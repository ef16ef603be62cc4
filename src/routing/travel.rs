//! Travel between a set of points: the distance matrix a tour is ordered
//! by, and the legs a route is drawn from, over the roads when there is a
//! network and as the crow flies when there is not (the answer says which).
//!
//! Over roads, each point walks straight to its nearest road (its *access*),
//! along the roads, and straight off to the next point, so a leg's length is
//! `access(a) + road(a → b) + access(b)`.
//!
//! **On foot a leg may leave the roads.** The network holds the county's
//! roads, not the field paths, terrace edges and village lanes a grid member
//! walks every day. So with [`Ways::RoadsAndFields`] a leg is also measured
//! *across country*: its straight (great-circle) length times
//! [`OFF_ROAD_FACTOR`], which stands for the winding and the slower going of
//! ways the map does not know. The leg takes whichever is shorter, and an
//! off-road leg is drawn as a straight line and marked
//! ([`Leg::off_road`]), so the plan can say which legs leave the roads.
//! Driving ([`Ways::Roads`]) never leaves them.

use rayon::prelude::*;
use serde::Serialize;

use crate::geom::LonLat;
use crate::model::TravelMode;
use crate::routing::network::{RoadNetwork, Snap};
use crate::routing::tour::DistanceMatrix;

/// How much longer than the straight line a way across country counts:
/// field paths wind round plots and terraces, cross ditches and are slower
/// underfoot than a road. A walking leg leaves the roads when the way over
/// them is longer than this many times the straight line. The value is a
/// deliberate allowance, above the detour ratios usually reported for
/// footpath networks (about 1.2–1.4): a member stays on the road when it is
/// nearly direct and crosses the fields when the road goes round a hill.
pub const OFF_ROAD_FACTOR: f64 = 1.5;

/// Which ways a leg may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ways {
    /// Only the road network (driving).
    Roads,
    /// The roads, or across country when that is shorter by
    /// [`OFF_ROAD_FACTOR`] (on foot).
    RoadsAndFields,
}

impl Ways {
    /// The ways open to a travel mode: walkers may cross fields, cars may not.
    pub fn of(mode: TravelMode) -> Ways {
        match mode {
            TravelMode::Walk => Ways::RoadsAndFields,
            TravelMode::Drive => Ways::Roads,
        }
    }

    /// The length a way across country counts for between `a` and `b`, if
    /// these ways allow one.
    fn across_country_m(self, a: LonLat, b: LonLat) -> Option<f64> {
        match self {
            Ways::Roads => None,
            Ways::RoadsAndFields => Some(OFF_ROAD_FACTOR * great_circle_m(a, b)),
        }
    }
}

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
    /// True when the leg goes across country rather than over the roads
    /// (drawn straight, counted at [`OFF_ROAD_FACTOR`] times its length).
    pub off_road: bool,
}

/// Travel between points: where each meets the roads, and the matrix.
#[derive(Debug)]
pub struct Travel<'n> {
    network: Option<&'n RoadNetwork>,
    ways: Ways,
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
    /// Measure travel between every pair of `points` by `ways`: over
    /// `network` when given and not empty, else great-circle. Road searches
    /// run in parallel.
    pub fn between(
        network: Option<&'n RoadNetwork>,
        points: Vec<LonLat>,
        ways: Ways,
    ) -> Travel<'n> {
        let mut travel = Travel::between_legs(network, points, ways);
        travel.matrix = Some(travel.all_pairs());
        travel
    }

    /// Snap `points` for drawing legs between them, without the matrix (a
    /// saved route's legs in a given order need no all-pairs search).
    pub fn between_legs(
        network: Option<&'n RoadNetwork>,
        points: Vec<LonLat>,
        ways: Ways,
    ) -> Travel<'n> {
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
            ways,
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
            let over_roads = snaps[i].distance_m + road + snaps[j].distance_m;
            match self.ways.across_country_m(points[i], points[j]) {
                Some(across) if across < over_roads => across,
                _ => over_roads,
            }
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
    /// (with the walks to and from them), across country when the ways allow
    /// it and that is shorter, or a straight line without a network. Its
    /// length is infinite (and its way just the two points) when no way
    /// connects them.
    pub fn leg(&self, i: usize, j: usize) -> Leg {
        let (a, b) = (self.points[i], self.points[j]);
        let Some(net) = self.network else {
            return Leg {
                length_m: great_circle_m(a, b),
                coords: vec![a, b],
                off_road: false,
            };
        };
        let across = self.ways.across_country_m(a, b);
        let (from, to) = (self.snaps[i], self.snaps[j]);
        let across_leg = |length_m: f64| Leg {
            length_m,
            coords: vec![a, b],
            off_road: true,
        };
        // Reaching the roads and leaving them alone is longer: no search.
        if let Some(across) = across.filter(|&m| m < from.distance_m + to.distance_m) {
            return across_leg(across);
        }
        let search = net.search(from, &net.ends(&to));
        let (road_m, road) = net.path(&search, &to);
        let over_roads = from.distance_m + road_m + to.distance_m;
        if let Some(across) = across.filter(|&m| m < over_roads) {
            return across_leg(across);
        }
        if !road_m.is_finite() {
            return Leg {
                length_m: f64::INFINITY,
                coords: vec![a, b],
                off_road: false,
            };
        }
        let mut coords = Vec::with_capacity(road.len() + 2);
        coords.push(a);
        coords.extend(road);
        coords.push(b);
        coords.dedup();
        Leg {
            length_m: over_roads,
            coords,
            off_road: false,
        }
    }
}
