//! Ordering stops into the shortest round trip: the travelling-salesman
//! problem on a symmetric distance matrix.
//!
//! - Up to [`EXACT_MAX_NODES`] nodes (the start and 11 stops) the tour is
//!   exact, by Held–Karp dynamic programming (2ⁿ·n² steps: under a
//!   millisecond at 12).
//! - Above that: nearest-neighbour construction, then local search with
//!   2-opt and Or-opt (moving a run of 1–3 stops, either way round) over
//!   each stop's nearest neighbours, then iterated local search: a
//!   double-bridge kick on a short stretch of the best tour, local search
//!   again from the kicked ends, keep the result if it is shorter, until the
//!   time budget or the round limit runs out. This is the classic recipe
//!   (Johnson & McGeoch, "The TSP: a case study in local optimization",
//!   1997); no maintained Rust crate offers a round trip from a fixed start
//!   over a caller's matrix with a time budget, and the benchmark
//!   (`benches/patrol.rs`) holds it against OR-Tools.
//!
//! The search is deterministic for a seed whenever the round limit, not the
//! clock, ends it.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Above this many nodes (the start included) tours are found by heuristic
/// search; at or below, exactly.
pub const EXACT_MAX_NODES: usize = 12;

/// Improvements smaller than this (metres) are not worth a move; it keeps
/// rounding noise from cycling the search.
const EPS: f64 = 1e-7;

/// A square matrix of travel distances in metres, `get(i, j) == get(j, i)`.
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceMatrix {
    n: usize,
    metres: Vec<f64>,
}

impl DistanceMatrix {
    /// A matrix computed from a distance function (called for i < j only).
    pub fn from_fn(n: usize, mut f: impl FnMut(usize, usize) -> f64) -> DistanceMatrix {
        let mut metres = vec![0.0; n * n];
        for i in 0..n {
            for j in i + 1..n {
                let d = f(i, j);
                metres[i * n + j] = d;
                metres[j * n + i] = d;
            }
        }
        DistanceMatrix { n, metres }
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Metres from `i` to `j`.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.metres[i * self.n + j]
    }

    /// Length of a closed tour given as its node order (back to the first).
    pub fn tour_length(&self, order: &[usize]) -> f64 {
        if order.len() < 2 {
            return 0.0;
        }
        let closing = self.get(order[order.len() - 1], order[0]);
        order.windows(2).map(|w| self.get(w[0], w[1])).sum::<f64>() + closing
    }
}

/// How long the heuristic may search.
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    /// Wall-clock budget for the improvement rounds.
    pub time: Duration,
    /// At most this many kick-and-improve rounds.
    pub rounds: usize,
    /// Seed of the kicks.
    pub seed: u64,
}

impl Default for SearchLimits {
    /// 150 ms and 20,000 rounds: within a few tenths of a percent of the
    /// best known tour on the benchmark's 50–200 stop instances.
    fn default() -> Self {
        SearchLimits {
            time: Duration::from_millis(150),
            rounds: 20_000,
            seed: 0x5eed,
        }
    }
}

/// A closed tour.
#[derive(Debug, Clone, PartialEq)]
pub struct Tour {
    /// Every node once, starting with the start node.
    pub order: Vec<usize>,
    /// Length in metres, back to the start included.
    pub length_m: f64,
    /// True when the tour is proven shortest (exact search).
    pub optimal: bool,
}

/// The shortest round trip through every node of `matrix`, starting and
/// ending at `start` (exact up to [`EXACT_MAX_NODES`], heuristic above).
pub fn shortest_tour(matrix: &DistanceMatrix, start: usize, limits: SearchLimits) -> Tour {
    let n = matrix.len();
    assert!(start < n.max(1), "the start is one of the nodes");
    if n <= 3 {
        let order: Vec<usize> = (start..n).chain(0..start).collect();
        let length_m = matrix.tour_length(&order);
        return Tour {
            order,
            length_m,
            optimal: true,
        };
    }
    if n <= EXACT_MAX_NODES {
        return held_karp(matrix, start);
    }
    let mut search = LocalSearch::new(matrix, nearest_neighbour(matrix, start));
    search.improve_all();
    search.iterate(limits);
    let mut order = search.best;
    let at = order
        .iter()
        .position(|&v| v == start)
        .expect("start is in the tour");
    order.rotate_left(at);
    let length_m = matrix.tour_length(&order);
    Tour {
        order,
        length_m,
        optimal: false,
    }
}

/// Exact tour by dynamic programming over subsets of the other nodes.
fn held_karp(matrix: &DistanceMatrix, start: usize) -> Tour {
    let others: Vec<usize> = (0..matrix.len()).filter(|&v| v != start).collect();
    let m = others.len();
    let full = 1usize << m;
    // cost[mask * m + j]: shortest path from start through `mask`, ending at others[j].
    let mut cost = vec![f64::INFINITY; full * m];
    let mut prev = vec![usize::MAX; full * m];
    for (j, &v) in others.iter().enumerate() {
        cost[(1 << j) * m + j] = matrix.get(start, v);
    }
    for mask in 1..full {
        for j in 0..m {
            let here = cost[mask * m + j];
            if mask & (1 << j) == 0 || !here.is_finite() {
                continue;
            }
            for k in 0..m {
                if mask & (1 << k) != 0 {
                    continue;
                }
                let next = mask | (1 << k);
                let c = here + matrix.get(others[j], others[k]);
                if c < cost[next * m + k] {
                    cost[next * m + k] = c;
                    prev[next * m + k] = j;
                }
            }
        }
    }
    let last_mask = full - 1;
    let (mut j, mut best) = (0, f64::INFINITY);
    for (k, &v) in others.iter().enumerate() {
        let c = cost[last_mask * m + k] + matrix.get(v, start);
        if c < best {
            (j, best) = (k, c);
        }
    }
    let mut order = Vec::with_capacity(m + 1);
    let mut mask = last_mask;
    while mask != 0 {
        order.push(others[j]);
        let p = prev[mask * m + j];
        mask &= !(1 << j);
        j = p;
    }
    order.push(start);
    order.reverse();
    Tour {
        length_m: matrix.tour_length(&order),
        order,
        optimal: true,
    }
}

fn nearest_neighbour(matrix: &DistanceMatrix, start: usize) -> Vec<usize> {
    let n = matrix.len();
    let mut used = vec![false; n];
    let mut order = vec![start];
    used[start] = true;
    let mut here = start;
    for _ in 1..n {
        let next = (0..n)
            .filter(|&v| !used[v])
            .min_by(|&a, &b| matrix.get(here, a).total_cmp(&matrix.get(here, b)))
            .expect("an unvisited node remains");
        used[next] = true;
        order.push(next);
        here = next;
    }
    order
}

/// Neighbours considered for each node's moves.
const NEIGHBOURS: usize = 12;
/// Longest run of stops an Or-opt move carries.
const OR_OPT_MAX: usize = 3;
/// Kicks touch a stretch of at most this many tour positions, so the local
/// search that repairs them stays local.
const KICK_SPAN: usize = 50;

/// A tour under improvement: the order, each node's position, each node's
/// nearest neighbours, and a work queue of nodes worth looking at.
struct LocalSearch<'m> {
    matrix: &'m DistanceMatrix,
    tour: Vec<usize>,
    pos: Vec<usize>,
    near: Vec<Vec<usize>>,
    queue: Vec<usize>,
    queued: Vec<bool>,
    best: Vec<usize>,
}

impl<'m> LocalSearch<'m> {
    fn new(matrix: &'m DistanceMatrix, tour: Vec<usize>) -> Self {
        let n = matrix.len();
        let near = (0..n)
            .map(|v| {
                let mut others: Vec<usize> = (0..n).filter(|&u| u != v).collect();
                others.sort_by(|&a, &b| matrix.get(v, a).total_cmp(&matrix.get(v, b)));
                others.truncate(NEIGHBOURS);
                others
            })
            .collect();
        let mut pos = vec![0; n];
        for (i, &v) in tour.iter().enumerate() {
            pos[v] = i;
        }
        LocalSearch {
            matrix,
            best: tour.clone(),
            tour,
            pos,
            near,
            queue: Vec::new(),
            queued: vec![false; n],
        }
    }

    fn n(&self) -> usize {
        self.tour.len()
    }
    fn d(&self, a: usize, b: usize) -> f64 {
        self.matrix.get(a, b)
    }
    fn succ(&self, v: usize) -> usize {
        self.tour[(self.pos[v] + 1) % self.n()]
    }
    fn pred(&self, v: usize) -> usize {
        self.tour[(self.pos[v] + self.n() - 1) % self.n()]
    }
    fn push(&mut self, v: usize) {
        if !self.queued[v] {
            self.queued[v] = true;
            self.queue.push(v);
        }
    }

    /// Reverse the tour from position `i` forward to position `j` (cyclic),
    /// or the complement when that is shorter: the same cycle either way.
    fn reverse(&mut self, i: usize, j: usize) {
        let n = self.n();
        let len = (j + n - i) % n + 1;
        let (mut a, mut b, len) = if 2 * len > n {
            ((j + 1) % n, (i + n - 1) % n, n - len)
        } else {
            (i, j, len)
        };
        for _ in 0..len / 2 {
            self.tour.swap(a, b);
            self.pos[self.tour[a]] = a;
            self.pos[self.tour[b]] = b;
            a = (a + 1) % n;
            b = (b + n - 1) % n;
        }
    }

    /// Try 2-opt moves from `a`; true when one was made.
    fn two_opt(&mut self, a: usize) -> bool {
        for forward in [true, false] {
            let b = if forward { self.succ(a) } else { self.pred(a) };
            let d_ab = self.d(a, b);
            for k in 0..self.near[a].len() {
                let c = self.near[a][k];
                let g1 = d_ab - self.d(a, c);
                if g1 <= EPS {
                    break;
                }
                let d = if forward { self.succ(c) } else { self.pred(c) };
                if c == b || d == a {
                    continue;
                }
                if g1 + self.d(c, d) - self.d(b, d) > EPS {
                    // a b … c d → a c … b d (or the mirror going backwards).
                    if forward {
                        self.reverse(self.pos[b], self.pos[c]);
                    } else {
                        self.reverse(self.pos[c], self.pos[b]);
                    }
                    for v in [a, b, c, d] {
                        self.push(v);
                    }
                    return true;
                }
            }
        }
        false
    }

    /// Try moving the run of 1–3 stops starting at `s1` elsewhere, either
    /// way round; true when one was moved.
    fn or_opt(&mut self, s1: usize) -> bool {
        let n = self.n();
        for len in 1..=OR_OPT_MAX.min(n.saturating_sub(3)) {
            let start = self.pos[s1];
            let run: Vec<usize> = (0..len).map(|k| self.tour[(start + k) % n]).collect();
            let s2 = run[len - 1];
            let (p, nx) = (self.pred(s1), self.succ(s2));
            let removed = self.d(p, s1) + self.d(s2, nx) - self.d(p, nx);
            if removed <= EPS {
                continue;
            }
            let mut best: Option<(f64, usize, bool)> = None;
            for end in [s1, s2] {
                for k in 0..self.near[end].len() {
                    let c = self.near[end][k];
                    if run.contains(&c) || self.d(end, c) >= removed {
                        continue;
                    }
                    for (x, y) in [(c, self.succ(c)), (self.pred(c), c)] {
                        if run.contains(&x) || run.contains(&y) {
                            continue;
                        }
                        let keep = self.d(x, s1) + self.d(s2, y);
                        let flip = self.d(x, s2) + self.d(s1, y);
                        let added = keep.min(flip) - self.d(x, y);
                        let gain = removed - added;
                        if gain > EPS && best.is_none_or(|b| gain > b.0) {
                            best = Some((gain, x, flip < keep));
                        }
                    }
                }
            }
            if let Some((_, x, flipped)) = best {
                self.move_run(&run, x, flipped);
                for v in [p, nx, x, s1, s2] {
                    self.push(v);
                }
                let y = self.succ(if flipped { s1 } else { s2 });
                self.push(y);
                return true;
            }
        }
        false
    }

    /// Take `run` out and put it back right after `x`, reversed if asked.
    fn move_run(&mut self, run: &[usize], x: usize, reversed: bool) {
        let mut rest: Vec<usize> = self
            .tour
            .iter()
            .copied()
            .filter(|v| !run.contains(v))
            .collect();
        let at = rest
            .iter()
            .position(|&v| v == x)
            .expect("x is not in the run")
            + 1;
        if reversed {
            rest.splice(at..at, run.iter().rev().copied());
        } else {
            rest.splice(at..at, run.iter().copied());
        }
        self.tour = rest;
        for (i, &v) in self.tour.iter().enumerate() {
            self.pos[v] = i;
        }
    }

    /// Improve from the queued nodes until none offers a move.
    fn run_queue(&mut self) {
        while let Some(v) = self.queue.pop() {
            self.queued[v] = false;
            if self.two_opt(v) || self.or_opt(v) {
                self.push(v);
            }
        }
    }

    fn improve_all(&mut self) {
        for v in (0..self.n()).rev() {
            self.push(v);
        }
        self.run_queue();
        self.best.clone_from(&self.tour);
    }

    /// Kick and improve until the limits; `best` keeps the shortest seen.
    fn iterate(&mut self, limits: SearchLimits) {
        let n = self.n();
        if n < 8 {
            return;
        }
        let deadline = Instant::now() + limits.time;
        let mut rng = ChaCha8Rng::seed_from_u64(limits.seed);
        let mut best_len = self.matrix.tour_length(&self.best);
        for round in 0..limits.rounds {
            if round % 16 == 0 && Instant::now() >= deadline {
                break;
            }
            self.double_bridge(&mut rng);
            self.run_queue();
            let len = self.matrix.tour_length(&self.tour);
            if len < best_len - EPS {
                best_len = len;
                self.best.clone_from(&self.tour);
            } else {
                self.tour.clone_from(&self.best);
                for (i, &v) in self.tour.iter().enumerate() {
                    self.pos[v] = i;
                }
            }
        }
    }

    /// A B C D → A C B D on a stretch of at most [`KICK_SPAN`] positions.
    fn double_bridge(&mut self, rng: &mut ChaCha8Rng) {
        let n = self.n();
        let span = KICK_SPAN.min(n - 1);
        let first = rng.random_range(0..n);
        let mut cuts = [
            rng.random_range(1..span),
            rng.random_range(1..span),
            rng.random_range(1..span),
        ];
        cuts.sort_unstable();
        if cuts[0] == cuts[1] || cuts[1] == cuts[2] {
            return;
        }
        self.tour.rotate_left(first);
        let (p1, p2, p3) = (cuts[0], cuts[1], cuts[2]);
        self.tour[p1..p3].rotate_left(p2 - p1);
        for (i, &v) in self.tour.iter().enumerate() {
            self.pos[v] = i;
        }
        // The ends of the four pieces, where the new edges are.
        let b_start = p1 + p3 - p2;
        for p in [p1 - 1, p1, b_start - 1, b_start, p3 - 1, p3] {
            let v = self.tour[p];
            self.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_points(seed: u64, n: usize) -> Vec<(f64, f64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| (rng.random_range(0.0..5000.0), rng.random_range(0.0..5000.0)))
            .collect()
    }

    fn euclidean(points: &[(f64, f64)]) -> DistanceMatrix {
        DistanceMatrix::from_fn(points.len(), |i, j| {
            let (a, b) = (points[i], points[j]);
            (a.0 - b.0).hypot(a.1 - b.1)
        })
    }

    /// Every order of the stops after the start: the oracle.
    fn brute_force(matrix: &DistanceMatrix, start: usize) -> f64 {
        fn permute(rest: &mut Vec<usize>, k: usize, m: &DistanceMatrix, s: usize, best: &mut f64) {
            if k == rest.len() {
                let mut order = vec![s];
                order.extend_from_slice(rest);
                *best = best.min(m.tour_length(&order));
                return;
            }
            for i in k..rest.len() {
                rest.swap(k, i);
                permute(rest, k + 1, m, s, best);
                rest.swap(k, i);
            }
        }
        let mut rest: Vec<usize> = (0..matrix.len()).filter(|&v| v != start).collect();
        let mut best = f64::INFINITY;
        permute(&mut rest, 0, matrix, start, &mut best);
        best
    }

    fn assert_valid(tour: &Tour, n: usize, start: usize) {
        assert_eq!(tour.order[0], start);
        let mut seen = tour.order.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn small_tours_equal_the_brute_force_optimum() {
        for seed in 0..30 {
            let n = 2 + (seed as usize % 9); // the start and 1–9 stops
            let matrix = euclidean(&random_points(seed, n));
            let start = seed as usize % n;
            let tour = shortest_tour(&matrix, start, SearchLimits::default());
            assert_valid(&tour, n, start);
            let best = brute_force(&matrix, start);
            // The order's length summed here, not the solver's own figure.
            let order = &tour.order;
            let summed: f64 = (0..n)
                .map(|k| matrix.get(order[k], order[(k + 1) % n]))
                .sum();
            assert!(
                (summed - tour.length_m).abs() < 1e-6,
                "the reported length is the order's"
            );
            assert!(
                (summed - best).abs() < 1e-6,
                "seed {seed}, n {n}: {} vs brute force {best}",
                tour.length_m
            );
        }
    }

    #[test]
    fn the_heuristic_search_finds_the_optimum_of_small_instances_too() {
        // Force the heuristic path on 10 nodes (where brute force is cheap)
        // by calling the search directly.
        for seed in 100..110 {
            let matrix = euclidean(&random_points(seed, 10));
            let mut search = LocalSearch::new(&matrix, nearest_neighbour(&matrix, 0));
            search.improve_all();
            // The round limit, not the clock, ends it (a slow machine
            // must not cut it short).
            search.iterate(SearchLimits {
                time: Duration::from_secs(600),
                rounds: 2_000,
                seed,
            });
            let found = matrix.tour_length(&search.best);
            let best = brute_force(&matrix, 0);
            assert!(
                (found - best).abs() < 1e-6,
                "seed {seed}: {found} vs {best}"
            );
        }
    }

    #[test]
    fn large_tours_visit_every_stop_once_and_beat_nearest_neighbour() {
        let matrix = euclidean(&random_points(7, 150));
        let tour = shortest_tour(&matrix, 42, SearchLimits::default());
        assert_valid(&tour, 150, 42);
        assert!((tour.length_m - matrix.tour_length(&tour.order)).abs() < 1e-6);
        let nn = matrix.tour_length(&nearest_neighbour(&matrix, 42));
        assert!(
            tour.length_m < nn * 0.92,
            "{} vs nearest neighbour {nn}",
            tour.length_m
        );
    }

    #[test]
    fn a_round_limit_makes_the_search_repeatable() {
        let matrix = euclidean(&random_points(9, 80));
        let limits = SearchLimits {
            time: Duration::from_secs(60),
            rounds: 500,
            seed: 3,
        };
        assert_eq!(
            shortest_tour(&matrix, 0, limits),
            shortest_tour(&matrix, 0, limits)
        );
    }
}
