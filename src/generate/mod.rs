//! The demo county: a deterministic, Qingshui-like county of 2,403 nested
//! grids, generated in a second or two so that a fresh start has real data.
//!
//! The pipeline, each step deterministic for a seed:
//! 1. **Lattice.** A hexagonal lattice of 30 m cells over 105.85–106.45 E,
//!    34.50–34.95 N (`lattice.rs`).
//! 2. **County.** A star-shaped blob around 106.14 E, 34.73 N whose radius
//!    wobbles with the angle, scaled to 2,012 km².
//! 3. **Levels 1–4.** Each region is split into its children by seeded
//!    growth over a terrain cost field (`partition.rs`): 18 towns, then 142,
//!    267 and 1,063 grids, children allotted to parents by population so
//!    urban grids are small and mountain grids large.
//! 4. **Holes and an exclave.** Two level-4 grids are carved as enclaves
//!    inside a sibling (each leaves a hole), and one grid gets a detached
//!    part inside a sibling (a multi-part grid and a third hole).
//! 5. **Sub-areas.** 913 level-5 sub-areas split some level-4 grids into
//!    2–4 parts each.
//! 6. **Polygons.** Each region's cell boundary is traced into rings
//!    (`trace.rs`); a shared edge is the same lattice edge on both sides, so
//!    neighbours share bit-identical coordinates and children tile parents
//!    exactly.
//! 7. **Attributes.** Codes (the county's 620521 prefix), names, leaders and
//!    phones (`names.rs`), and 332,000 people spread by a density field
//!    peaking at the county seat and the town centres.
//!
//! `incidents.rs` adds a year of synthetic incidents over a loaded county;
//! `roads.rs` lays a road network over the grids and `hazards.rs` a hazard
//! register along it.

pub mod hazards;
pub mod incidents;
mod lattice;
mod names;
mod partition;
pub mod roads;
mod trace;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use crate::geom::LonLat;
use crate::model::{Grid, GridId, Level};
use lattice::{Cell, Lattice};
use partition::NONE;

/// The seed of the demo county that `wangge serve` loads on first start.
pub const DEMO_SEED: u64 = 20_260_521;

/// Grids per level, 1 to 5, as the county reports them.
pub const LEVEL_COUNTS: [usize; 5] = [18, 142, 267, 1_063, 913];

/// Residents of the county.
pub const POPULATION: u64 = 332_000;

/// The county's area, km².
pub const AREA_KM2: f64 = 2_012.0;

/// The administrative code of Qingshui County (清水县).
pub const COUNTY_CODE: &str = "620521";

const SOUTH_WEST: LonLat = LonLat::new(105.85, 34.50);
const NORTH_EAST: LonLat = LonLat::new(106.45, 34.95);
const CENTRE: LonLat = LonLat::new(106.14, 34.73);
/// Hexagon side: small enough that a basic grid's boundary has hundreds of
/// vertices, large enough that the county is ~900,000 cells.
const HEX_SIDE_M: f64 = 30.0;
/// Level-4 grids carved as enclaves inside a sibling.
const ENCLAVES: usize = 2;

/// Generate the demo county for `seed`: grids ordered by level then id.
pub fn generate(seed: u64) -> Vec<Grid> {
    let lattice = Lattice::new(SOUTH_WEST, NORTH_EAST, HEX_SIDE_M, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let county = county_mask(&lattice, seed);
    let terrain: Vec<f32> = (0..lattice.len() as Cell)
        .map(|c| {
            let (x, y) = lattice.centre_m(c);
            // High contrast at a few kilometres: borders bend along the
            // cheap "valleys" like real ones follow rivers and ridges,
            // instead of running straight as between Voronoi cells.
            let n = partition::value_noise(seed ^ 0x7e44, x, y, 5_000.0, 5);
            (0.1 + 3.0 * n.powi(3)) as f32
        })
        .collect();

    // Level 1: the towns.
    let all: Vec<Cell> = (0..lattice.len() as Cell)
        .filter(|&c| county[c as usize] == 0)
        .collect();
    let mut labels: [Vec<u32>; 5] = std::array::from_fn(|_| vec![NONE; lattice.len()]);
    let town_seeds = partition::split(
        &lattice,
        &all,
        &county,
        0,
        LEVEL_COUNTS[0],
        0,
        &terrain,
        &mut labels[0],
        &mut rng,
    );
    let mut parents: [Vec<u32>; 5] = [vec![NONE; LEVEL_COUNTS[0]], vec![], vec![], vec![], vec![]];
    let density = density_field(&lattice, &town_seeds);

    // Levels 2 to 4, children allotted by population (tempered by area).
    let mut special: Vec<u32> = Vec::new();
    for level in 1..4 {
        let groups = group_cells(&labels[level - 1], LEVEL_COUNTS[level - 1]);
        let weights: Vec<f64> = groups
            .iter()
            .map(|cells| {
                let people: f64 = cells.iter().map(|&c| f64::from(density[c as usize])).sum();
                // Basic grids follow people closely (a mountain grid is a few
                // hamlets over a large area); upper levels also weigh area.
                if level == 3 {
                    people
                } else {
                    people.powf(0.75) * (cells.len() as f64).powf(0.25)
                }
            })
            .collect();
        let min_each = if level == 1 { 3 } else { 1 };
        let counts = partition::allocate(LEVEL_COUNTS[level], &weights, min_each);
        // At level 4, the parents that will hold an enclave or an exclave.
        let mut feature_parents: Vec<usize> = Vec::new();
        if level == 3 {
            let mut by_size: Vec<usize> = (0..groups.len()).filter(|&p| counts[p] >= 3).collect();
            by_size.sort_by_key(|&p| std::cmp::Reverse(groups[p].len()));
            feature_parents = by_size.into_iter().step_by(7).take(ENCLAVES + 1).collect();
        }
        let (before, rest) = labels.split_at_mut(level);
        let (parent_labels, out) = (&before[level - 1], &mut rest[0]);
        let mut next = 0u32;
        for (p, cells) in groups.iter().enumerate() {
            let enclave = feature_parents
                .iter()
                .position(|&f| f == p)
                .is_some_and(|i| i < ENCLAVES);
            let grown = if enclave { counts[p] - 1 } else { counts[p] };
            partition::split(
                &lattice,
                cells,
                parent_labels,
                p as u32,
                grown,
                next,
                &terrain,
                out,
                &mut rng,
            );
            if feature_parents.contains(&p) {
                let children: Vec<u32> = (next..next + grown as u32).collect();
                special.extend(carve(
                    &lattice,
                    out,
                    &children,
                    enclave.then_some(next + grown as u32),
                ));
            }
            parents[level].extend(std::iter::repeat_n(p as u32, counts[p]));
            next += counts[p] as u32;
        }
    }

    // Level 5: sub-areas in some of the populous level-4 grids.
    let groups4 = group_cells(&labels[3], LEVEL_COUNTS[3]);
    let mut order: Vec<(f64, usize)> = groups4
        .iter()
        .enumerate()
        .filter(|(g, cells)| cells.len() >= 80 && !special.contains(&(*g as u32)))
        .map(|(g, cells)| {
            let people: f64 = cells.iter().map(|&c| f64::from(density[c as usize])).sum();
            (people * rng.random_range(0.3..1.7), g)
        })
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut remaining = LEVEL_COUNTS[4];
    let mut next = 0u32;
    for (_, g) in order {
        if remaining == 0 {
            break;
        }
        let mut k = if remaining <= 4 {
            remaining
        } else {
            rng.random_range(2..=4)
        };
        if remaining - k == 1 {
            k = if k < 4 { k + 1 } else { k - 1 };
        }
        let (before, rest) = labels.split_at_mut(4);
        partition::split(
            &lattice,
            &groups4[g],
            &before[3],
            g as u32,
            k,
            next,
            &terrain,
            &mut rest[0],
            &mut rng,
        );
        parents[4].extend(std::iter::repeat_n(g as u32, k));
        next += k as u32;
        remaining -= k;
    }
    assert_eq!(
        remaining, 0,
        "enough level-4 grids are large enough to hold the sub-areas"
    );

    // Polygons and attributes.
    let shapes: Vec<Vec<geo::MultiPolygon<f64>>> = (0..5)
        .map(|l| trace::trace_regions(&lattice, &labels[l], LEVEL_COUNTS[l]))
        .collect();
    Attributes::assign(
        &lattice,
        &labels,
        &parents,
        &density,
        &town_seeds,
        shapes,
        &mut rng,
    )
}

/// Cells inside the county get label 0, others [`NONE`].
fn county_mask(lattice: &Lattice, seed: u64) -> Vec<u32> {
    let centre_cell = nearest_cell(lattice, CENTRE);
    let (cx, cy) = lattice.centre_m(centre_cell);
    let phases: Vec<f64> = (0..4)
        .map(|i| (lattice::splitmix(seed ^ (0xc0 + i)) % 6283) as f64 / 1000.0)
        .collect();
    let radius = |theta: f64| {
        // An ellipse wider east–west, with a few harmonics and fine noise.
        let ellipse = 1.0 / ((theta.cos() / 1.12).powi(2) + theta.sin().powi(2)).sqrt();
        let wobble = 1.0
            + 0.09 * (2.0 * theta + phases[0]).sin()
            + 0.06 * (3.0 * theta + phases[1]).sin()
            + 0.04 * (5.0 * theta + phases[2]).sin()
            + 0.08 * (partition::value_noise(seed ^ 0xb0, theta * 40_000.0, 0.0, 3_000.0, 4) - 0.5);
        ellipse * wobble
    };
    let polar: Vec<(f64, f64)> = (0..lattice.len() as Cell)
        .map(|c| {
            let (x, y) = lattice.centre_m(c);
            let (dx, dy) = (x - cx, y - cy);
            (dx.hypot(dy), radius(dy.atan2(dx)))
        })
        .collect();
    // Scale so the county has its real area.
    let target_cells = (AREA_KM2 / lattice.cell_area_km2()).round() as usize;
    let (mut lo, mut hi) = (1_000.0f64, 60_000.0f64);
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        let n = polar.iter().filter(|(d, r)| *d < mid * r).count();
        if n < target_cells { lo = mid } else { hi = mid }
    }
    let mut mask: Vec<u32> = polar
        .iter()
        .map(|(d, r)| if *d < hi * r { 0 } else { NONE })
        .collect();
    // Keep the part connected to the centre and fill any enclosed gap, so
    // the county is one simply connected area.
    let inside = reachable(lattice, &[centre_cell], |c| mask[c as usize] == 0);
    let border: Vec<Cell> = (0..lattice.len() as Cell)
        .filter(|&c| !inside[c as usize] && lattice.neighbours(c).iter().any(Option::is_none))
        .collect();
    let outside = reachable(lattice, &border, |c| !inside[c as usize]);
    for c in 0..lattice.len() {
        mask[c] = if outside[c] { NONE } else { 0 };
    }
    mask
}

fn reachable(lattice: &Lattice, starts: &[Cell], pass: impl Fn(Cell) -> bool) -> Vec<bool> {
    let mut seen = vec![false; lattice.len()];
    let mut stack = starts.to_vec();
    for &s in starts {
        seen[s as usize] = true;
    }
    while let Some(c) = stack.pop() {
        for n in lattice.neighbours(c).into_iter().flatten() {
            if !seen[n as usize] && pass(n) {
                seen[n as usize] = true;
                stack.push(n);
            }
        }
    }
    seen
}

fn nearest_cell(lattice: &Lattice, p: LonLat) -> Cell {
    (0..lattice.len() as Cell)
        .min_by(|&a, &b| {
            let (pa, pb) = (lattice.centre(a), lattice.centre(b));
            let da = (pa.lon - p.lon).powi(2) + (pa.lat - p.lat).powi(2);
            let db = (pb.lon - p.lon).powi(2) + (pb.lat - p.lat).powi(2);
            da.total_cmp(&db)
        })
        .expect("the lattice has cells")
}

/// People per cell (relative): a low rural floor, a bump at every town
/// centre and a large one at the county seat (the town nearest the centre).
fn density_field(lattice: &Lattice, town_seeds: &[Cell]) -> Vec<f32> {
    let centres: Vec<(f64, f64)> = town_seeds.iter().map(|&s| lattice.centre_m(s)).collect();
    let seat = lattice.centre_m(nearest_cell(lattice, CENTRE));
    (0..lattice.len() as Cell)
        .map(|c| {
            let (x, y) = lattice.centre_m(c);
            let bump = |(sx, sy): (f64, f64), sigma: f64| {
                (-((x - sx).powi(2) + (y - sy).powi(2)) / (2.0 * sigma * sigma)).exp()
            };
            let towns: f64 = centres.iter().map(|&s| bump(s, 1_500.0)).sum();
            let rural = 0.25 + 0.5 * partition::value_noise(0x5eed, x, y, 5_000.0, 3);
            (rural + 2.0 * towns + 14.0 * bump(seat, 2_500.0)) as f32
        })
        .collect()
}

/// Cells of each region, in cell order.
fn group_cells(labels: &[u32], regions: usize) -> Vec<Vec<Cell>> {
    let mut groups = vec![Vec::new(); regions];
    for (c, &l) in labels.iter().enumerate() {
        if l != NONE {
            groups[l as usize].push(c as Cell);
        }
    }
    groups
}

/// Carve a disk deep inside the largest of `siblings`: into a new sibling
/// `enclave` (a grid inside a hole), or, when `enclave` is `None`, into
/// another sibling as a detached part (an exclave). Returns the grids
/// involved, which are then kept out of the sub-area split.
fn carve(
    lattice: &Lattice,
    labels: &mut [u32],
    siblings: &[u32],
    enclave: Option<u32>,
) -> Vec<u32> {
    let groups: Vec<Vec<Cell>> = siblings
        .iter()
        .map(|&s| {
            (0..labels.len() as Cell)
                .filter(|&c| labels[c as usize] == s)
                .collect()
        })
        .collect();
    let host = (0..siblings.len())
        .max_by_key(|&i| groups[i].len())
        .expect("at least one sibling");
    let depths = partition::depth_inside(lattice, &groups[host], labels, siblings[host]);
    let (centre, depth) = depths
        .iter()
        .copied()
        .max_by_key(|&(c, d)| (d, std::cmp::Reverse(c)))
        .expect("the host has cells");
    assert!(
        depth >= 5,
        "the largest sibling is thick enough to hold an enclave"
    );
    let target = enclave.unwrap_or_else(|| siblings[(host + 1) % siblings.len()]);
    for c in partition::disk(lattice, centre, (depth - 3).min(8)) {
        labels[c as usize] = target;
    }
    vec![siblings[host], target]
}

/// Codes, names, people and leaders for the traced regions.
struct Attributes;

impl Attributes {
    #[allow(clippy::too_many_arguments)]
    fn assign(
        lattice: &Lattice,
        labels: &[Vec<u32>; 5],
        parents: &[Vec<u32>; 5],
        density: &[f32],
        town_seeds: &[Cell],
        shapes: Vec<Vec<geo::MultiPolygon<f64>>>,
        rng: &mut ChaCha8Rng,
    ) -> Vec<Grid> {
        // Centroid (cell mean) and relative population of every region.
        let mut sums: Vec<Vec<(f64, f64, f64, f64)>> = (0..5)
            .map(|l| vec![(0.0, 0.0, 0.0, 0.0); LEVEL_COUNTS[l]])
            .collect();
        for c in 0..lattice.len() {
            let (x, y) = lattice.centre_m(c as Cell);
            for l in 0..5 {
                let r = labels[l][c];
                if r != NONE {
                    let s = &mut sums[l][r as usize];
                    *s = (s.0 + x, s.1 + y, s.2 + 1.0, s.3 + f64::from(density[c]));
                }
            }
        }
        // Exact populations on the leaves (sub-areas, and level-4 grids without them), summed upward.
        let mut population: Vec<Vec<u64>> = (0..5).map(|l| vec![0; LEVEL_COUNTS[l]]).collect();
        let split4: Vec<bool> = {
            let mut s = vec![false; LEVEL_COUNTS[3]];
            for &p in &parents[4] {
                s[p as usize] = true;
            }
            s
        };
        let leaves: Vec<(usize, usize)> = (0..LEVEL_COUNTS[3])
            .filter(|&g| !split4[g])
            .map(|g| (3, g))
            .chain((0..LEVEL_COUNTS[4]).map(|g| (4, g)))
            .collect();
        let weights: Vec<f64> = leaves.iter().map(|&(l, g)| sums[l][g].3).collect();
        for (&(l, g), people) in
            leaves
                .iter()
                .zip(partition::allocate(POPULATION as usize, &weights, 0))
        {
            population[l][g] = people as u64;
        }
        for l in (1..5).rev() {
            for g in 0..LEVEL_COUNTS[l] {
                let p = parents[l][g] as usize;
                population[l - 1][p] += population[l][g];
            }
        }

        // Codes: children numbered north to south, then west to east.
        let mut codes: Vec<Vec<String>> = (0..5)
            .map(|l| vec![String::new(); LEVEL_COUNTS[l]])
            .collect();
        let mut names: Vec<Vec<String>> = (0..5)
            .map(|l| vec![String::new(); LEVEL_COUNTS[l]])
            .collect();
        let order_key = |l: usize, g: usize| {
            let s = sums[l][g];
            ((-(s.1 / s.2) / 2_000.0).round() as i64, (s.0 / s.2) as i64)
        };
        // Level 1: the seat is the town holding the county centre; the three
        // least populous become the townships (乡).
        let seat = labels[0][nearest_cell(lattice, CENTRE) as usize] as usize;
        let mut towns: Vec<usize> = (0..LEVEL_COUNTS[0]).filter(|&g| g != seat).collect();
        towns.sort_by_key(|&g| population[0][g]);
        let townships: Vec<usize> = towns.drain(..3).collect();
        towns.sort_by_key(|&g| order_key(0, g));
        let _ = town_seeds;
        codes[0][seat] = format!("{COUNTY_CODE}100");
        names[0][seat] = names::COUNTY_SEAT.to_owned();
        for (i, &g) in towns.iter().enumerate() {
            codes[0][g] = format!("{COUNTY_CODE}{}", 101 + i);
            names[0][g] = names::TOWNS[1 + i].to_owned();
        }
        for (i, &g) in townships.iter().enumerate() {
            codes[0][g] = format!("{COUNTY_CODE}{}", 200 + i);
            names[0][g] = names::TOWNS[15 + i].to_owned();
        }
        for l in 1..5 {
            let mut children: Vec<Vec<usize>> = vec![Vec::new(); LEVEL_COUNTS[l - 1]];
            for g in 0..LEVEL_COUNTS[l] {
                children[parents[l][g] as usize].push(g);
            }
            for (p, kids) in children.iter_mut().enumerate() {
                kids.sort_by_key(|&g| order_key(l, g));
                let mut taken = Vec::new();
                for (i, &g) in kids.iter().enumerate() {
                    let n = i + 1;
                    codes[l][g] = match l {
                        1 => format!("{}{:03}", codes[0][p], n),
                        _ => format!("{}{:02}", codes[l - 1][p], n),
                    };
                    names[l][g] = match l {
                        1 => names::village(rng, p == seat, &mut taken),
                        2 => format!("{}{}社", names[1][p], names::numeral(n)),
                        3 => format!("{}第{}网格", names[2][p], names::numeral(n)),
                        _ => format!("{}{}片区", names[3][p], names::numeral(n)),
                    };
                }
            }
        }

        let mut grids = Vec::with_capacity(LEVEL_COUNTS.iter().sum());
        for (l, level_shapes) in shapes.into_iter().enumerate() {
            for (g, geometry) in level_shapes.into_iter().enumerate() {
                let people = population[l][g];
                let mut properties = Map::new();
                properties.insert("code".into(), Value::from(codes[l][g].clone()));
                properties.insert("population".into(), Value::from(people));
                let per_household = rng.random_range(3.3..4.1);
                properties.insert(
                    "households".into(),
                    Value::from((people as f64 / per_household).round() as u64),
                );
                properties.insert(
                    "leader".into(),
                    json!({ "name": names::person(rng), "phone": names::phone(rng) }),
                );
                if l == 0 {
                    let kind = if names[0][g].ends_with('乡') {
                        "township"
                    } else {
                        "town"
                    };
                    properties.insert("kind".into(), Value::from(kind));
                }
                grids.push(Grid {
                    id: GridId(codes[l][g].clone()),
                    level: Level::new(l as i64 + 1).expect("levels 1 to 5"),
                    parent_id: (l > 0)
                        .then(|| GridId(codes[l - 1][parents[l][g] as usize].clone())),
                    name: names[l][g].clone(),
                    geometry,
                    properties,
                });
            }
        }
        grids.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)));
        grids
    }
}
