//! The demo county's hazard register: a few hazards in every basic grid,
//! each a short walk off a road (so patrols can reach them), with the mix of
//! categories and risk classes of a rural county, and a last inspection that
//! leaves about a quarter of them due on the day the demo is loaded.

use geo::{Contains, Point};
use jiff::{SignedDuration, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{Grid, HazardDraft, HazardStatus, RiskClass, hazard_category_name};
use crate::routing::RoadNetwork;

use super::roads::Settlement;

/// Category codes with their share of the register, per mille.
const CATEGORY_MIX: &[(&str, u32)] = &[
    ("fire", 200),
    ("landslide", 120),
    ("unsafe_building", 150),
    ("river_bank", 80),
    ("electrical", 150),
    ("gas", 80),
    ("school_zone", 60),
    ("hospital_zone", 20),
    ("traffic", 100),
    ("other", 40),
];

/// Risk classes with their share, per mille (a county's register is mostly
/// general and low risk).
const RISK_MIX: &[(RiskClass, u32)] = &[
    (RiskClass::Major, 80),
    (RiskClass::Significant, 220),
    (RiskClass::General, 400),
    (RiskClass::Low, 300),
];

fn pick<T: Copy>(mix: &[(T, u32)], rng: &mut ChaCha8Rng) -> T {
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut r = rng.random_range(0..total);
    for &(item, w) in mix {
        if r < w {
            return item;
        }
        r -= w;
    }
    mix[mix.len() - 1].0
}

/// The demo register over `grids` and their `places` ([`settlements`](super::roads::settlements))
/// with `roads` built, as of `now`, for `seed`.
/// Deterministic for the same inputs.
pub fn generate_hazards(
    grids: &[Grid],
    places: &[Settlement],
    roads: &RoadNetwork,
    now: Timestamp,
    seed: u64,
) -> Vec<HazardDraft> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x04a2_a4d5);
    let frame = *roads.frame();
    let mut out = Vec::new();
    for settlement in places {
        let grid = &grids[settlement.grid];
        let people = grid.population().unwrap_or(0);
        let count = 2 + (people / 200).min(3) as usize + rng.random_range(0..2);
        let reach_m = {
            use geo::Area;
            grid.geometry.unsigned_area().sqrt() * 111_000.0 * 0.45
        };
        let origin = frame.to_metres(settlement.at);
        let mut placed = 0;
        for _ in 0..count * 8 {
            if placed == count {
                break;
            }
            let angle = rng.random_range(0.0..std::f64::consts::TAU);
            let r = reach_m * rng.random_range(0.0f64..1.0).sqrt();
            let guess = frame.to_lonlat([origin[0] + r * angle.cos(), origin[1] + r * angle.sin()]);
            let Some(snap) = roads.snap(guess) else {
                break;
            };
            // A few to forty metres off the road, on the side of the guess.
            let on = frame.to_metres(snap.point);
            let g = frame.to_metres(guess);
            let (dx, dy) = (g[0] - on[0], g[1] - on[1]);
            let d = dx.hypot(dy).max(1e-9);
            let off = rng.random_range(3.0..40.0f64).min(d);
            let at = frame.to_lonlat([on[0] + dx / d * off, on[1] + dy / d * off]);
            if !grid.geometry.contains(&Point::new(at.lon, at.lat)) {
                continue;
            }
            placed += 1;
            let category = pick(CATEGORY_MIX, &mut rng);
            let risk = pick(RISK_MIX, &mut rng);
            let interval_h = 24 * i64::from(risk.interval_days());
            // Last inspected between 0 and 1.3 intervals ago: ~1 in 4 is due.
            let ago = (interval_h as f64 * rng.random_range(0.0..1.3) * 3600.0) as i64;
            let last = now.checked_sub(SignedDuration::from_secs(ago)).ok();
            out.push(HazardDraft {
                name: format!(
                    "{}{}{}号",
                    grid.name,
                    hazard_category_name(category).expect("the mix names known categories"),
                    placed
                ),
                category: category.to_owned(),
                risk,
                interval_days: None,
                status: if rng.random_bool(0.1) {
                    HazardStatus::Mitigated
                } else {
                    HazardStatus::Open
                },
                location: at,
                area: None,
                description: String::new(),
                last_inspected_at: last,
            });
        }
    }
    out
}
