//! The demo county generator: exact counts, valid and nested polygons, the
//! shapes the issue asks for (organic boundaries, holes, an exclave), and
//! attributes that add up.

use std::collections::HashMap;
use std::sync::OnceLock;

use geo::{Area, CoordsIter, Validation};
use wangge::generate::{self, AREA_KM2, DEMO_SEED, LEVEL_COUNTS, POPULATION};
use wangge::model::{Grid, GridId};

fn county() -> &'static [Grid] {
    static COUNTY: OnceLock<Vec<Grid>> = OnceLock::new();
    COUNTY.get_or_init(|| {
        let t = std::time::Instant::now();
        let grids = generate::generate(DEMO_SEED);
        eprintln!("generated {} grids in {:?}", grids.len(), t.elapsed());
        grids
    })
}

fn vertices(g: &Grid) -> usize {
    g.geometry.coords_count()
}

/// 18 / 142 / 267 / 1,063 / 913 grids, as the county reports them.
#[test]
fn counts_per_level_are_the_countys() {
    for (l, want) in LEVEL_COUNTS.iter().enumerate() {
        let got = county().iter().filter(|g| g.level.index() == l).count();
        assert_eq!(got, *want, "level {}", l + 1);
    }
}

/// Every polygon is valid by OGC rules (geo's Validation).
#[test]
fn every_grid_is_valid() {
    for g in county() {
        assert!(
            g.geometry.is_valid(),
            "grid {} is invalid: {:?}",
            g.id,
            g.geometry.validation_errors()
        );
    }
}

/// Each parent is exactly the union of its children: areas add up to
/// rounding, and the import rules (containment, no sibling overlap) accept
/// the whole set.
#[test]
fn children_tile_their_parents() {
    let by_id: HashMap<&GridId, &Grid> = county().iter().map(|g| (&g.id, g)).collect();
    let mut child_area: HashMap<&GridId, f64> = HashMap::new();
    for g in county() {
        if let Some(p) = &g.parent_id {
            assert!(by_id.contains_key(p), "{} has unknown parent {p}", g.id);
            *child_area.entry(p).or_default() += g.geometry.unsigned_area();
        }
    }
    for (p, sum) in child_area {
        let parent = by_id[p].geometry.unsigned_area();
        assert!(
            (sum - parent).abs() <= parent * 1e-9,
            "children of {p} cover {sum}, parent {parent}"
        );
    }
    wangge::import::validate(&[], county().to_vec(), wangge::store::WriteMode::Replace)
        .expect("the demo county passes the import rules");
}

/// Boundaries look like real ones: a median of at least 100 vertices per
/// level-4 grid and some grids over 1,000.
#[test]
fn boundaries_are_detailed() {
    let mut l4: Vec<usize> = county()
        .iter()
        .filter(|g| g.level.get() == 4)
        .map(vertices)
        .collect();
    l4.sort_unstable();
    let median = l4[l4.len() / 2];
    let over_1000 = county().iter().filter(|g| vertices(g) > 1_000).count();
    let l4_over_1000 = l4.iter().filter(|&&v| v > 1_000).count();
    eprintln!(
        "level-4 vertices: median {median}, max {}, {l4_over_1000} level-4 grids and {over_1000} grids in all over 1,000",
        l4[l4.len() - 1]
    );
    assert!(median >= 100, "median {median}");
    assert!(l4_over_1000 >= 1);
}

/// A few holes, and at least one grid in several parts (an exclave).
#[test]
fn has_holes_and_an_exclave() {
    let holes: usize = county()
        .iter()
        .filter(|g| g.level.get() == 4)
        .map(|g| {
            g.geometry
                .0
                .iter()
                .map(|p| p.interiors().len())
                .sum::<usize>()
        })
        .sum();
    let multi = county().iter().filter(|g| g.geometry.0.len() > 1).count();
    eprintln!("level-4 holes: {holes}, multi-part grids: {multi}");
    assert!(holes >= 3);
    assert!(multi >= 1);
}

/// 2,012 km² around 105.85–106.45 E, 34.50–34.95 N, with 332,000 people
/// whose counts add up level by level.
#[test]
fn area_extent_and_population() {
    let towns: Vec<&Grid> = county().iter().filter(|g| g.level.get() == 1).collect();
    let area_km2: f64 = towns
        .iter()
        .map(|g| geo::ChamberlainDuquetteArea::chamberlain_duquette_unsigned_area(&g.geometry))
        .sum::<f64>()
        / 1e6;
    eprintln!("county area {area_km2:.1} km²");
    assert!(
        (area_km2 - AREA_KM2).abs() < AREA_KM2 * 0.02,
        "area {area_km2}"
    );
    for g in &towns {
        let b = wangge::geom::Bbox::of(&g.geometry).expect("non-empty");
        assert!(
            b.min_lon > 105.8 && b.max_lon < 106.5 && b.min_lat > 34.45 && b.max_lat < 35.0,
            "{} extends to {b:?}",
            g.id
        );
    }
    let total: u64 = towns
        .iter()
        .map(|g| g.population().expect("population"))
        .sum();
    assert_eq!(total, POPULATION);
    let mut sums: HashMap<&GridId, u64> = HashMap::new();
    for g in county() {
        if let Some(p) = &g.parent_id {
            *sums.entry(p).or_default() += g.population().expect("population");
        }
    }
    for g in county() {
        if let Some(sum) = sums.get(&g.id) {
            assert_eq!(*sum, g.population().expect("population"), "{}", g.id);
        }
        assert!(
            g.leader().is_some_and(|l| l.phone.len() == 11),
            "{} needs a leader with a phone",
            g.id
        );
    }
}

/// The same seed gives the same county, bit for bit.
#[test]
fn generation_is_deterministic() {
    let again = generate::generate(DEMO_SEED);
    assert!(again == county(), "a second run differs");
}
