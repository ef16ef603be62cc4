//! The demo road network and routes over it: the network is one connected
//! whole that reaches every basic grid, hazards lie a short walk off it,
//! every leg of a planned tour is a shortest path, checked against
//! petgraph's own Dijkstra (an independent implementation), and small tours
//! over the roads are as short as brute force finds. On foot, a day patrol
//! of every basic grid stays close to the straight round trip, leaving the
//! roads (and saying so) where they go far round.

use std::collections::HashMap;
use std::sync::OnceLock;

use geo::{Contains, Point};
use jiff::Timestamp;
use petgraph::algo::{connected_components, dijkstra};
use petgraph::graph::NodeIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wangge::generate::hazards::generate_hazards;
use wangge::generate::roads::{generate_roads, settlements};
use wangge::generate::{DEMO_SEED, generate};
use wangge::geom::LonLat;
use wangge::index::GridIndex;
use wangge::model::{Grid, Hazard, HazardDraft, HazardId, Level, Shift, TravelMode};
use wangge::patrol::notice::Notice;
use wangge::patrol::plan::{PlanRequest, plan};
use wangge::routing::{
    OFF_ROAD_FACTOR, RoadNetwork, SearchLimits, Snap, Travel, Ways, great_circle_m, shortest_tour,
};

struct Demo {
    grids: Vec<Grid>,
    network: RoadNetwork,
    hazards: Vec<HazardDraft>,
}

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let grids = generate(DEMO_SEED);
        let places = settlements(&grids);
        let network = RoadNetwork::build(generate_roads(&grids, &places, DEMO_SEED));
        let now: Timestamp = "2026-06-01T08:00:00Z".parse().expect("timestamp");
        let hazards = generate_hazards(&grids, &places, &network, now, DEMO_SEED);
        Demo {
            grids,
            network,
            hazards,
        }
    })
}

/// Road metres between two snaps by petgraph's Dijkstra from both ends of
/// the first snap's edge (or straight along a shared edge).
fn oracle_m(
    net: &RoadNetwork,
    from: &Snap,
    to: &Snap,
    cache: &mut HashMap<NodeIndex, HashMap<NodeIndex, f64>>,
) -> f64 {
    let graph = net.graph();
    let ends = |s: &Snap| {
        let (a, b) = graph.edge_endpoints(s.edge).expect("edge");
        let len = graph[s.edge].length_m();
        [(a, s.offset_m), (b, len - s.offset_m)]
    };
    let mut best = if from.edge == to.edge {
        (from.offset_m - to.offset_m).abs()
    } else {
        f64::INFINITY
    };
    for (u, du) in ends(from) {
        let dist = cache.entry(u).or_insert_with(|| {
            dijkstra(graph, u, None, |e| e.weight().length_m())
                .into_iter()
                .collect()
        });
        for (v, dv) in ends(to) {
            if let Some(d) = dist.get(&v) {
                best = best.min(du + d + dv);
            }
        }
    }
    best
}

#[test]
fn the_demo_network_is_connected_and_reaches_every_basic_grid() {
    let demo = demo();
    let graph = demo.network.graph();
    assert_eq!(connected_components(graph), 1, "one network");
    let basic = demo
        .grids
        .iter()
        .filter(|g| g.level == Level::new(4).expect("level"))
        .count();
    let places = settlements(&demo.grids);
    assert_eq!(places.len(), basic, "a settlement per basic grid");
    for s in &places {
        let snap = demo.network.snap(s.at).expect("snap");
        assert!(snap.distance_m < 0.01, "{:?} is on a road", s.at);
        let grid = &demo.grids[s.grid];
        assert!(grid.geometry.contains(&Point::new(s.at.lon, s.at.lat)));
    }
}

#[test]
fn demo_hazards_lie_in_every_basic_grid_a_short_walk_off_a_road() {
    let demo = demo();
    let index = GridIndex::build(demo.grids.clone());
    let mut grids_with_hazards = std::collections::HashSet::new();
    for h in &demo.hazards {
        let snap = demo.network.snap(h.location).expect("snap");
        assert!(
            snap.distance_m <= 40.0 + 1e-6,
            "{} is {} m off the road",
            h.name,
            snap.distance_m
        );
        let chain = index.locate(h.location);
        let basic = chain
            .at(Level::new(4).expect("level"))
            .expect("inside a basic grid");
        grids_with_hazards.insert(basic);
    }
    assert_eq!(grids_with_hazards.len(), index.count_by_level()[3]);
}

#[test]
fn every_leg_of_a_planned_tour_is_a_shortest_path_over_the_roads() {
    let demo = demo();
    let net = &demo.network;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut cache = HashMap::new();
    for round in 0..6 {
        // A start and 8–30 hazards near it.
        let start = demo.hazards[rng.random_range(0..demo.hazards.len())].location;
        let mut near: Vec<LonLat> = demo.hazards.iter().map(|h| h.location).collect();
        near.sort_by(|a, b| {
            net.frame()
                .distance_m(start, *a)
                .total_cmp(&net.frame().distance_m(start, *b))
        });
        let stops = 8 + round * 4;
        let points: Vec<LonLat> = near.into_iter().take(stops + 1).collect();
        let travel = Travel::between(Some(net), points.clone(), Ways::Roads);
        let tour = shortest_tour(travel.matrix(), 0, SearchLimits::default());
        let mut total = 0.0;
        for k in 0..tour.order.len() {
            let (i, j) = (tour.order[k], tour.order[(k + 1) % tour.order.len()]);
            let leg = travel.leg(i, j);
            let (si, sj) = (travel.snaps()[i], travel.snaps()[j]);
            let road = oracle_m(net, &si, &sj, &mut cache);
            let expected = si.distance_m + road + sj.distance_m;
            assert!(
                (leg.length_m - expected).abs() < 1e-6 * expected.max(1.0),
                "leg {i}→{j}: {} m, shortest {expected} m",
                leg.length_m
            );
            // The drawn way is as long as the leg: it follows the roads.
            let drawn: f64 = leg
                .coords
                .windows(2)
                .map(|w| net.frame().distance_m(w[0], w[1]))
                .sum();
            assert!(
                (drawn - leg.length_m).abs() < 0.5,
                "leg {i}→{j} drawn {drawn} m vs {} m",
                leg.length_m
            );
            assert_eq!(leg.coords.first(), Some(&points[i]));
            assert_eq!(leg.coords.last(), Some(&points[j]));
            total += leg.length_m;
        }
        assert!(
            (total - tour.length_m).abs() < 1e-6 * total,
            "legs add up to the tour"
        );
    }
}

/// On the demo roads, with 3 to 9 hazards near a random start, the planned
/// round is as short as the best of every order (brute force over the same
/// road distances).
#[test]
fn small_road_tours_equal_the_brute_force_optimum() {
    let demo = demo();
    let net = &demo.network;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for stops in 3..=9 {
        let start = demo.hazards[rng.random_range(0..demo.hazards.len())].location;
        let mut near: Vec<LonLat> = demo.hazards.iter().map(|h| h.location).collect();
        near.sort_by(|a, b| {
            net.frame()
                .distance_m(start, *a)
                .total_cmp(&net.frame().distance_m(start, *b))
        });
        let mut points = vec![start];
        points.extend(near.into_iter().skip(1).take(stops));
        let travel = Travel::between(Some(net), points, Ways::Roads);
        let m = travel.matrix();
        let tour = shortest_tour(m, 0, SearchLimits::default());
        let mut rest: Vec<usize> = (1..=stops).collect();
        let mut best = f64::INFINITY;
        permutations(&mut rest, 0, &mut |order| {
            let mut length = m.get(0, order[0]) + m.get(order[stops - 1], 0);
            length += order.windows(2).map(|w| m.get(w[0], w[1])).sum::<f64>();
            best = best.min(length);
        });
        let planned: f64 = (0..=stops)
            .map(|k| m.get(tour.order[k], tour.order[(k + 1) % (stops + 1)]))
            .sum();
        assert!(
            (planned - best).abs() < 1e-6,
            "{stops} stops: planned {planned} m, best of every order {best} m"
        );
    }
}

/// Call `visit` with every order of `items` that keeps `items[..k]` (by swapping).
fn permutations(items: &mut Vec<usize>, k: usize, visit: &mut impl FnMut(&[usize])) {
    if k == items.len() {
        visit(items);
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permutations(items, k + 1, visit);
        items.swap(k, i);
    }
}

#[test]
fn without_a_network_routes_fall_back_to_great_circle_legs() {
    let points = vec![
        LonLat::new(106.0, 34.6),
        LonLat::new(106.1, 34.6),
        LonLat::new(106.1, 34.7),
        LonLat::new(106.0, 34.7),
    ];
    let travel = Travel::between(None, points.clone(), Ways::RoadsAndFields);
    assert_eq!(travel.metric(), wangge::routing::Metric::GreatCircle);
    let leg = travel.leg(0, 1);
    assert_eq!(leg.coords, vec![points[0], points[1]]);
    // 0.1° of longitude at 34.6° N ≈ 9.15 km.
    assert!((leg.length_m - 9_152.0).abs() < 20.0, "{}", leg.length_m);
}

/// The demo hazards as the store would hold them (numbered from 1, located
/// in their grids).
fn registered_hazards(index: &GridIndex) -> Vec<Hazard> {
    let created: Timestamp = "2026-06-01T08:00:00Z".parse().expect("timestamp");
    demo()
        .hazards
        .iter()
        .zip(1..)
        .map(|(d, id)| Hazard {
            id: HazardId(id),
            name: d.name.clone(),
            category: d.category.clone(),
            risk: d.risk,
            interval_days: d.interval_days(),
            status: d.status,
            location: d.location,
            area: d.area.clone(),
            description: d.description.clone(),
            chain: index.grid_chain(d.location),
            last_inspected_at: d.last_inspected_at,
            created_at: created,
            updated_at: created,
            version: 1,
        })
        .collect()
}

/// Every basic grid of the demo county, a day patrol on foot from one of
/// its hazards through all its due hazards: no round is longer than three
/// times the straight round trip through its stops plus 1 km, and each leg
/// is what it says it is. A leg marked on the roads is exactly the shortest
/// way over them (petgraph's Dijkstra) and no longer than
/// [`OFF_ROAD_FACTOR`] times the straight line; a leg marked off-road counts
/// that factor times the straight line, which is shorter than the road way,
/// and is drawn straight.
#[test]
fn walking_day_patrols_of_every_basic_grid_stay_near_the_straight_round_trip() {
    let demo = demo();
    let net = &demo.network;
    let index = GridIndex::build(demo.grids.clone());
    let hazards = registered_hazards(&index);
    // A year after registration every hazard still inspected is due.
    let start_time: Timestamp = "2027-06-01T08:00:00Z".parse().expect("timestamp");
    let basic = Level::new(4).expect("level");
    let mut cache = HashMap::new();
    let (mut planned, mut legs_on_roads, mut legs_off_road) = (0, 0, 0);
    let mut worst_ratio: f64 = 0.0;
    for grid in demo.grids.iter().filter(|g| g.level == basic) {
        let Some(first) = hazards
            .iter()
            .find(|h| h.lies_in(&grid.id) && h.is_due(start_time))
        else {
            continue;
        };
        let request = PlanRequest {
            grid: grid.id.clone(),
            shift: Shift::Day,
            mode: TravelMode::Walk,
            start: first.location,
            start_time,
            max_length_m: None,
            max_duration_s: None,
            limits: SearchLimits {
                time: std::time::Duration::from_millis(50),
                ..SearchLimits::default()
            },
        };
        let plan = plan(&request, &hazards, Some(net), &index).expect("a plan");
        let route = &plan.route;
        let name = &grid.name;
        assert!(
            plan.left_out.is_empty(),
            "{name}: on foot every due hazard is reachable: {:?}",
            plan.left_out
        );
        let mut points = vec![route.start];
        points.extend(route.stops.iter().map(|s| s.location));
        let n = points.len();
        let straight: Vec<f64> = (0..n)
            .map(|k| great_circle_m(points[k], points[(k + 1) % n]))
            .collect();
        let straight_round_m: f64 = straight.iter().sum();
        assert!(
            route.length_m <= 3.0 * straight_round_m + 1_000.0,
            "{name}: {:.0} m planned for a straight round trip of {:.0} m",
            route.length_m,
            straight_round_m
        );
        // Tighter, as the README says: no leg is longer than the factor
        // times its straight line, so no round is either.
        assert!(
            route.length_m <= OFF_ROAD_FACTOR * straight_round_m + 1e-6 * straight_round_m.max(1.0),
            "{name}: {:.0} m planned, more than {OFF_ROAD_FACTOR} × the straight {:.0} m",
            route.length_m,
            straight_round_m
        );
        if straight_round_m > 0.0 {
            worst_ratio = worst_ratio.max(route.length_m / straight_round_m);
        }
        assert_eq!(route.legs_m.len(), n, "{name}: a length per leg");
        assert_eq!(route.legs_off_road.len(), n, "{name}: a mark per leg");
        let mut drawn_m = 0.0;
        for k in 0..n {
            let (a, b) = (points[k], points[(k + 1) % n]);
            let (sa, sb) = (net.snap(a).expect("snap"), net.snap(b).expect("snap"));
            let road_way_m = sa.distance_m + oracle_m(net, &sa, &sb, &mut cache) + sb.distance_m;
            let leg_m = route.legs_m[k];
            let across_m = OFF_ROAD_FACTOR * straight[k];
            if route.legs_off_road[k] {
                legs_off_road += 1;
                assert!(
                    (leg_m - across_m).abs() < 1e-6 * across_m.max(1.0),
                    "{name} leg {k}: off-road {leg_m} m, {OFF_ROAD_FACTOR} × straight {across_m} m"
                );
                assert!(
                    leg_m < road_way_m,
                    "{name} leg {k}: off-road {leg_m} m though the road way is {road_way_m} m"
                );
                drawn_m += straight[k];
            } else {
                legs_on_roads += 1;
                assert!(
                    (leg_m - road_way_m).abs() < 1e-6 * road_way_m.max(1.0),
                    "{name} leg {k}: {leg_m} m on the roads, shortest road way {road_way_m} m"
                );
                assert!(
                    leg_m <= across_m + 1e-6,
                    "{name} leg {k}: {leg_m} m by road, {across_m} m across country is shorter \
                     but the leg is not marked off-road"
                );
                drawn_m += leg_m;
            }
        }
        // Off-road legs are drawn straight, road legs along the roads.
        let path_m: f64 = route
            .path
            .windows(2)
            .map(|w| great_circle_m(w[0], w[1]))
            .sum();
        assert!(
            (path_m - drawn_m).abs() <= 0.01 * drawn_m + 1.0,
            "{name}: path drawn {path_m:.0} m, legs say {drawn_m:.0} m"
        );
        // The notice names exactly the legs marked (points: 0 the start).
        let marked: Vec<(usize, usize)> = (0..route.legs_off_road.len())
            .filter(|&k| route.legs_off_road[k])
            .map(|k| (k % n, (k + 1) % n))
            .collect();
        let noticed: Vec<(usize, usize)> = plan
            .notices
            .iter()
            .find_map(|notice| match notice {
                Notice::OffRoad { legs } => Some(legs.clone()),
                _ => None,
            })
            .unwrap_or_default();
        assert_eq!(
            marked, noticed,
            "{name}: a notice names exactly the legs off the roads: {:?}",
            plan.notices
        );
        planned += 1;
    }
    let basic_grids = index.count_by_level()[3];
    assert_eq!(
        planned, basic_grids,
        "every basic grid has a due hazard to start from"
    );
    // Both kinds of leg occur, so both branches above were exercised.
    assert!(
        legs_on_roads > 0 && legs_off_road > 0,
        "{legs_on_roads} on roads, {legs_off_road} off"
    );
    eprintln!(
        "{planned} walking day patrols: {legs_on_roads} legs on roads, {legs_off_road} off-road; \
         longest round {worst_ratio:.2} × its straight round trip"
    );
}

/// Driving never leaves the roads: every leg is the shortest road way.
#[test]
fn driving_legs_never_leave_the_roads() {
    let demo = demo();
    let net = &demo.network;
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let points: Vec<LonLat> = (0..12)
        .map(|_| demo.hazards[rng.random_range(0..demo.hazards.len())].location)
        .collect();
    let travel = Travel::between(Some(net), points.clone(), Ways::of(TravelMode::Drive));
    let mut cache = HashMap::new();
    for i in 0..points.len() {
        for j in 0..points.len() {
            if i == j {
                continue;
            }
            let leg = travel.leg(i, j);
            assert!(!leg.off_road, "{i}→{j} left the roads by car");
            let (si, sj) = (travel.snaps()[i], travel.snaps()[j]);
            let expected = si.distance_m + oracle_m(net, &si, &sj, &mut cache) + sj.distance_m;
            assert!((leg.length_m - expected).abs() < 1e-6 * expected.max(1.0));
            assert!((travel.matrix().get(i, j) - expected).abs() < 1e-6 * expected.max(1.0));
        }
    }
}
