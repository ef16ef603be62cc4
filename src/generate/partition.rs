//! Splitting a region of lattice cells into organic, connected parts.
//!
//! Seeds are spread by farthest-point sampling, then grown together by a
//! multi-source Dijkstra over the cells, where each step costs the terrain
//! value of the cell entered times the growing region's own speed. Cheap
//! terrain (valleys) is crossed quickly, so borders bend along ridges the way
//! administrative borders follow watersheds; per-region speeds give the
//! spread of sizes real grids have. Every part is connected, because it is a
//! shortest-path tree grown from its seed.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::lattice::{Cell, Lattice, splitmix};

/// Label of a cell that belongs to no region at this level.
pub const NONE: u32 = u32::MAX;

/// Split `cells` (all labelled `parent` in `parent_labels`) into `n` parts,
/// writing labels `first..first + n` into `out`. Returns the seed cell of
/// each part.
#[allow(clippy::too_many_arguments)]
pub fn split(
    lattice: &Lattice,
    cells: &[Cell],
    parent_labels: &[u32],
    parent: u32,
    n: usize,
    first: u32,
    terrain: &[f32],
    out: &mut [u32],
    rng: &mut ChaCha8Rng,
) -> Vec<Cell> {
    assert!(
        n >= 1 && n <= cells.len(),
        "cannot split {} cells into {n} parts",
        cells.len()
    );
    let seeds = spread_seeds(lattice, cells, n, rng);
    let speeds: Vec<f32> = (0..n).map(|_| rng.random_range(0.65..1.5)).collect();
    let mut best: std::collections::HashMap<Cell, f32> =
        std::collections::HashMap::with_capacity(cells.len());
    let mut heap = BinaryHeap::new();
    for (i, &s) in seeds.iter().enumerate() {
        best.insert(s, 0.0);
        heap.push(Reverse((0f32.to_bits(), s, i as u32)));
    }
    while let Some(Reverse((bits, c, region))) = heap.pop() {
        if out[c as usize] != NONE {
            continue; // reached earlier by a cheaper path
        }
        out[c as usize] = first + region;
        let d = f32::from_bits(bits);
        for nb in lattice.neighbours(c).into_iter().flatten() {
            if parent_labels[nb as usize] != parent {
                continue;
            }
            if out[nb as usize] != NONE {
                continue;
            }
            let nd = d + terrain[nb as usize] * speeds[region as usize];
            if best.get(&nb).is_none_or(|&b| nd < b) {
                best.insert(nb, nd);
                // Non-negative f32 bit patterns order like the floats.
                heap.push(Reverse((nd.to_bits(), nb, region)));
            }
        }
    }
    seeds
}

/// Farthest-point sampling: each new seed is the candidate (of a random
/// sample) farthest from the seeds already chosen.
fn spread_seeds(lattice: &Lattice, cells: &[Cell], n: usize, rng: &mut ChaCha8Rng) -> Vec<Cell> {
    let mut seeds = vec![cells[rng.random_range(0..cells.len())]];
    while seeds.len() < n {
        let mut best = (f64::NEG_INFINITY, cells[0]);
        for _ in 0..cells.len().min(400) {
            let c = cells[rng.random_range(0..cells.len())];
            let (x, y) = lattice.centre_m(c);
            let d = seeds
                .iter()
                .map(|&s| {
                    let (sx, sy) = lattice.centre_m(s);
                    (sx - x).powi(2) + (sy - y).powi(2)
                })
                .fold(f64::INFINITY, f64::min);
            if d > best.0 && !seeds.contains(&c) {
                best = (d, c);
            }
        }
        seeds.push(best.1);
    }
    seeds
}

/// Split `total` into parts proportional to `weights` (largest remainder),
/// every part at least `min_each`.
pub fn allocate(total: usize, weights: &[f64], min_each: usize) -> Vec<usize> {
    let n = weights.len();
    assert!(
        total >= n * min_each,
        "cannot give {n} parts {min_each} each out of {total}"
    );
    let spare = (total - n * min_each) as f64;
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| spare * w / sum).collect();
    let mut parts: Vec<usize> = exact
        .iter()
        .map(|e| min_each + e.floor() as usize)
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let mut left = total - parts.iter().sum::<usize>();
    for i in order.into_iter().cycle() {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

/// Hexagon steps from each cell of `cells` to the nearest cell outside the
/// region labelled `label` (1 for cells on the region's edge).
pub fn depth_inside(
    lattice: &Lattice,
    cells: &[Cell],
    labels: &[u32],
    label: u32,
) -> Vec<(Cell, u32)> {
    let mut depth: std::collections::HashMap<Cell, u32> = std::collections::HashMap::new();
    let mut queue = VecDeque::new();
    for &c in cells {
        let on_edge = lattice
            .neighbours(c)
            .iter()
            .any(|n| n.is_none_or(|n| labels[n as usize] != label));
        if on_edge {
            depth.insert(c, 1);
            queue.push_back(c);
        }
    }
    while let Some(c) = queue.pop_front() {
        let d = depth[&c];
        for n in lattice.neighbours(c).into_iter().flatten() {
            if labels[n as usize] == label && !depth.contains_key(&n) {
                depth.insert(n, d + 1);
                queue.push_back(n);
            }
        }
    }
    let mut out: Vec<(Cell, u32)> = cells
        .iter()
        .map(|c| (*c, depth.get(c).copied().unwrap_or(0)))
        .collect();
    out.sort_unstable();
    out
}

/// The cells within `radius` hexagon steps of `centre`.
pub fn disk(lattice: &Lattice, centre: Cell, radius: u32) -> Vec<Cell> {
    let mut seen = vec![centre];
    let mut frontier = vec![centre];
    for _ in 0..radius {
        let mut next = Vec::new();
        for c in frontier {
            for n in lattice.neighbours(c).into_iter().flatten() {
                if !seen.contains(&n) {
                    seen.push(n);
                    next.push(n);
                }
            }
        }
        frontier = next;
    }
    seen.sort_unstable();
    seen
}

/// Smooth value noise in 0..1 at a point in metres: a few octaves of
/// hashed lattice values blended with smoothstep.
pub fn value_noise(seed: u64, x: f64, y: f64, wavelength_m: f64, octaves: u32) -> f64 {
    let mut sum = 0.0;
    let mut norm = 0.0;
    let mut amp = 1.0;
    let mut wl = wavelength_m;
    for o in 0..octaves {
        let (fx, fy) = (x / wl, y / wl);
        let (ix, iy) = (fx.floor() as i64, fy.floor() as i64);
        let (tx, ty) = (smooth(fx - ix as f64), smooth(fy - iy as f64));
        let at = |i: i64, j: i64| {
            let h = splitmix(
                seed ^ (u64::from(o) << 56) ^ ((i as u64) << 28) ^ (j as u64 & 0x0fff_ffff),
            );
            (h >> 11) as f64 / (1u64 << 53) as f64
        };
        let top = at(ix, iy) * (1.0 - tx) + at(ix + 1, iy) * tx;
        let bottom = at(ix, iy + 1) * (1.0 - tx) + at(ix + 1, iy + 1) * tx;
        sum += amp * (top * (1.0 - ty) + bottom * ty);
        norm += amp;
        amp *= 0.5;
        wl *= 0.5;
    }
    sum / norm
}

fn smooth(t: f64) -> f64 {
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest remainder hits the total exactly and respects the minimum.
    #[test]
    fn allocate_is_exact() {
        let parts = allocate(142, &[5.0, 1.0, 1.0, 0.1, 3.3, 7.0], 3);
        assert_eq!(parts.iter().sum::<usize>(), 142);
        assert!(parts.iter().all(|&p| p >= 3));
        assert!(parts[5] > parts[1]);
    }
}
