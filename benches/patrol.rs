//! Patrol route quality and speed on the demo county, against OR-Tools.
//!
//! **Scenario.** Twenty patrols of 50 to 200 stops: for each, a town seat as
//! the start and the hazards nearest to it (50, 58, … 200 of them, the demo
//! register's hazards), ordered into a round trip over the demo road network.
//! **wangge** plans each the way `POST /api/patrol-plans` does by car: snap to the
//! roads, a shortest-path search from every stop for the distance matrix,
//! then the tour search with its default limits (150 ms). **Baseline:**
//! OR-Tools (PyPI `ortools`, guided local search, 10 s per instance, run by
//! `benches/ortools_tsp.py`) on the same matrix, rounded to whole metres, in
//! the same run. Targets: wangge's tours within 3% of OR-Tools' on average,
//! each planned in under 300 ms.
//!
//! The OR-Tools virtualenv is made in `target/ortools-venv` on first run
//! (`pip install ortools`, ~30 MB from PyPI). `WANGGE_BENCH_ORTOOLS_SECONDS`
//! shortens the baseline's limit for a quick look. Run with
//! `cargo bench --bench patrol`; the table is printed and written to
//! `target/patrol-bench.json`.

#[path = "checks.rs"]
mod checks;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use serde_json::{Value, json};
use wangge::generate::hazards::generate_hazards;
use wangge::generate::roads::{generate_roads, settlements, town_seats};
use wangge::generate::{DEMO_SEED, generate};
use wangge::geom::LonLat;
use wangge::routing::{DistanceMatrix, RoadNetwork, SearchLimits, Travel, Ways, shortest_tour};

/// Patrols in the comparison.
const INSTANCES: usize = 20;

/// One patrol: a start and its stops.
struct Instance {
    name: String,
    points: Vec<LonLat>,
}

fn instances(network: &RoadNetwork) -> Vec<Instance> {
    let grids = generate(DEMO_SEED);
    let now: Timestamp = "2026-06-01T08:00:00Z".parse().expect("timestamp");
    let places = settlements(&grids);
    let hazards = generate_hazards(&grids, &places, network, now, DEMO_SEED);
    let seats = town_seats(&grids, &places);
    (0..INSTANCES)
        .map(|i| {
            let stops = 50 + (150 * i + (INSTANCES - 1) / 2) / (INSTANCES - 1);
            let (town, seat) = seats[i % seats.len()];
            let mut near: Vec<LonLat> = hazards.iter().map(|h| h.location).collect();
            near.sort_by(|a, b| {
                network
                    .frame()
                    .distance_m(seat, *a)
                    .total_cmp(&network.frame().distance_m(seat, *b))
            });
            let mut points = vec![seat];
            points.extend(near.into_iter().take(stops));
            Instance {
                name: format!("{} +{stops}", grids[town].name),
                points,
            }
        })
        .collect()
}

/// What `POST /api/patrol-plans` does for the ordering by car (over the
/// roads only), timed as a whole.
fn plan(network: &RoadNetwork, points: &[LonLat]) -> (DistanceMatrix, Vec<usize>) {
    let travel = Travel::between(Some(network), points.to_vec(), Ways::Roads);
    let tour = shortest_tour(travel.matrix(), 0, SearchLimits::default());
    (travel.matrix().clone(), tour.order)
}

fn rounded(matrix: &DistanceMatrix) -> Vec<Vec<i64>> {
    (0..matrix.len())
        .map(|i| {
            (0..matrix.len())
                .map(|j| matrix.get(i, j).round() as i64)
                .collect()
        })
        .collect()
}

fn length(matrix: &[Vec<i64>], order: &[usize]) -> i64 {
    let n = order.len();
    (0..n).map(|k| matrix[order[k]][order[(k + 1) % n]]).sum()
}

fn ortools_python(target: &Path) -> PathBuf {
    let venv = target.join("ortools-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "ortools"])
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "could not install OR-Tools into {}", venv.display());
    }
    python
}

fn compare(c: &mut Criterion) {
    let t = Instant::now();
    let grids = generate(DEMO_SEED);
    let network = RoadNetwork::build(generate_roads(&grids, &settlements(&grids), DEMO_SEED));
    println!(
        "demo road network: {} lines, {} nodes, {} edges, {:.0} km, built in {:.1?}",
        network.lines().len(),
        network.graph().node_count(),
        network.graph().edge_count(),
        network.length_m() / 1000.0,
        t.elapsed()
    );
    let instances = instances(&network);

    // wangge: each instance planned once for the table, then timed by criterion.
    let mut rows = Vec::new();
    let mut matrices = Vec::new();
    for inst in &instances {
        let started = Instant::now();
        let (matrix, order) = plan(&network, &inst.points);
        let seconds = started.elapsed().as_secs_f64();
        let m = rounded(&matrix);
        // The check before the clock: a round that dropped a stop would be
        // shorter than OR-Tools' and "win".
        if let Err(e) = checks::round_visits_every_stop_once(&order, inst.points.len() - 1) {
            panic!("{}: {e}", inst.name);
        }
        assert!(
            m.iter().flatten().all(|d| (0..i64::MAX / 1024).contains(d)),
            "{}: every stop is reachable over the demo roads",
            inst.name
        );
        rows.push((
            inst.name.clone(),
            inst.points.len() - 1,
            length(&m, &order),
            seconds,
        ));
        matrices.push(m);
    }
    let mut group = c.benchmark_group("plan a patrol (matrix + tour)");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    for (i, inst) in instances.iter().enumerate() {
        if i % 5 == 4 || i == 0 {
            group.bench_function(format!("{} stops", inst.points.len() - 1), |b| {
                b.iter(|| black_box(plan(&network, &inst.points)))
            });
        }
    }
    group.finish();

    // Baseline: OR-Tools on the same matrices.
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let python = ortools_python(&target);
    let limit: f64 = std::env::var("WANGGE_BENCH_ORTOOLS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let input = json!({
        "time_limit_s": limit,
        "instances": instances.iter().zip(&matrices).map(|(inst, m)| json!({
            "name": inst.name, "start": 0, "matrix": m,
        })).collect::<Vec<_>>(),
    });
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/ortools_tsp.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start OR-Tools");
    serde_json::to_writer(child.stdin.take().expect("stdin"), &input).expect("send instances");
    let out = child.wait_with_output().expect("OR-Tools ran");
    assert!(out.status.success(), "OR-Tools failed");
    let answer: Value = serde_json::from_slice(&out.stdout).expect("OR-Tools answers JSON");

    println!(
        "\n{:<24} {:>6} {:>11} {:>11} {:>7} {:>10}",
        "patrol", "stops", "wangge m", "OR-Tools m", "gap %", "plan ms"
    );
    let mut gaps = Vec::new();
    let mut table = Vec::new();
    for (k, (name, stops, ours, seconds)) in rows.iter().enumerate() {
        let result = &answer["results"][k];
        let theirs = result["length"].as_i64().expect("a length");
        let tour: Vec<usize> = serde_json::from_value(result["tour"].clone()).expect("a tour");
        if let Err(e) = checks::round_visits_every_stop_once(&tour[..tour.len() - 1], *stops) {
            panic!("{name}: OR-Tools: {e}");
        }
        assert_eq!(
            length(&matrices[k], &tour[..tour.len() - 1]),
            theirs,
            "OR-Tools' length matches its tour"
        );
        let gap = 100.0 * (*ours as f64 - theirs as f64) / theirs as f64;
        gaps.push(gap);
        println!(
            "{name:<24} {stops:>6} {ours:>11} {theirs:>11} {gap:>7.2} {:>10.1}",
            seconds * 1000.0
        );
        table.push(json!({
            "patrol": name, "stops": stops, "wangge_m": ours, "ortools_m": theirs,
            "gap_percent": gap, "wangge_plan_ms": seconds * 1000.0,
        }));
    }
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let worst_ms = rows.iter().map(|r| r.3).fold(0.0, f64::max) * 1000.0;
    println!(
        "\nmean gap {mean:.2}% (target < 3%), worst gap {:.2}%, slowest plan {worst_ms:.0} ms \
         (target < 300 ms); baseline {} with {limit} s per instance",
        gaps.iter().copied().fold(f64::MIN, f64::max),
        answer["solver"].as_str().unwrap_or("?"),
    );
    std::fs::write(
        target.join("patrol-bench.json"),
        serde_json::to_vec_pretty(&json!({
            "solver": answer["solver"], "ortools_seconds": limit, "mean_gap_percent": mean,
            "slowest_plan_ms": worst_ms, "instances": table,
        }))
        .expect("serialise"),
    )
    .expect("write target/patrol-bench.json");
}

criterion_group!(benches, compare);
criterion_main!(benches);
