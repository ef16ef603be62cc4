//! The rules a set of grids must obey, checked before anything is written:
//!
//! 1. ids are unique within the import;
//! 2. every polygon is valid by OGC rules (geo's `Validation`: no
//!    self-intersection, holes inside their shell, parts not overlapping);
//! 3. level 1 has no parent; every other grid has a parent in the resulting
//!    set, one level above it;
//! 4. a grid lies inside its parent, and siblings do not overlap, each up to
//!    a tolerance of [`CONTAINMENT_TOLERANCE_M2`] / [`OVERLAP_TOLERANCE_M2`].
//!
//! Rule 4 is checked a family at a time (a parent and its children; the
//! towns form one family without a parent) with two polygon-boolean
//! operations: the union `U` of the children gives the total overlap,
//! `Σ area(child) − area(U)`, and `area(U − parent)` the total outside.
//! Only when a total exceeds the tolerance are the pairs examined one by one
//! to name the offenders. This keeps an import of the whole demo county to a
//! few hundred boolean operations instead of thousands of pairwise ones.
//! In upsert mode only the families that contain a changed grid are checked.
//!
//! Areas are in square metres on a local equirectangular scale at the
//! family's mean latitude (error far below the tolerances at county scale).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use geo::orient::{Direction, Orient};
use geo::{Area, BooleanOps, MultiPolygon, Validation, unary_union};

use super::{ImportErrors, ImportIssue, MAX_ISSUES, Problem};
use crate::geom::{Bbox, METRES_PER_DEGREE_LAT};
use crate::model::{Grid, GridId, Level};
use crate::store::WriteMode;

/// Area of a child that may lie outside its parent before the import is
/// refused, m². Boundaries digitised separately rarely match to the
/// centimetre; one square metre forgives that while any real misplacement
/// (a building's width) is refused.
pub const CONTAINMENT_TOLERANCE_M2: f64 = 1.0;
/// Area two siblings may share before the import is refused, m² (as above).
pub const OVERLAP_TOLERANCE_M2: f64 = 1.0;

/// Check `incoming` against the rules, merged with `existing` as `mode` says
/// (replace: `incoming` is the whole new set; upsert: it replaces the grids
/// with the same ids and adds the rest), and return the resulting whole set
/// ordered by level, then id. Every issue found is reported (up to
/// [`MAX_ISSUES`]); nothing is returned half-checked.
pub fn validate(
    existing: &[Grid],
    incoming: Vec<Grid>,
    mode: WriteMode,
) -> Result<Vec<Grid>, ImportErrors> {
    // 1. Unique ids. Later copies are reported and left out, so that the
    //    other rules still run and the report names every problem at once.
    let mut seen = HashSet::new();
    let mut duplicates = Vec::new();
    let incoming: Vec<Grid> = incoming
        .into_iter()
        .filter(|g| {
            let first = seen.insert(g.id.clone());
            if !first {
                duplicates.push(issue(
                    &g.id,
                    Some("id"),
                    Problem::DuplicateId { id: g.id.0.clone() },
                ));
            }
            first
        })
        .collect();

    let changed: HashSet<GridId> = incoming.iter().map(|g| g.id.clone()).collect();
    let mut set: Vec<Grid> = match mode {
        WriteMode::Replace => incoming,
        WriteMode::Upsert => existing
            .iter()
            .filter(|g| !changed.contains(&g.id))
            .cloned()
            .chain(incoming)
            .collect(),
    };
    set.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)));
    let by_id: HashMap<&GridId, &Grid> = set.iter().map(|g| (&g.id, g)).collect();
    let is_changed = |g: &Grid| mode == WriteMode::Replace || changed.contains(&g.id);

    // 2. Valid polygons (only the grids this import brings).
    let mut issues: Vec<ImportIssue> = duplicates;
    issues.extend(
        parallel_map(
            &set.iter().filter(|g| is_changed(g)).collect::<Vec<_>>(),
            |g| {
                g.geometry.validation_errors().first().map(|e| {
                    issue(
                        &g.id,
                        Some("geometry"),
                        Problem::InvalidPolygon {
                            detail: e.to_string(),
                        },
                    )
                })
            },
        )
        .into_iter()
        .flatten(),
    );

    // 3. The hierarchy: for grids brought in, and for stored children whose
    //    parent was replaced (its level may have changed).
    for g in &set {
        let parent_changed = g.parent_id.as_ref().is_some_and(|p| changed.contains(p));
        if !is_changed(g) && !parent_changed {
            continue;
        }
        match (&g.parent_id, g.level == Level::TOWN) {
            (None, true) => {}
            (None, false) => issues.push(issue(
                &g.id,
                Some("parent_id"),
                Problem::WrongLevel {
                    level: g.level.get(),
                    parent_desc: "no parent (only level 1 has none)".into(),
                },
            )),
            (Some(p), _) => match by_id.get(p) {
                None => issues.push(issue(
                    &g.id,
                    Some("parent_id"),
                    if existing.iter().any(|e| &e.id == p) {
                        Problem::OrphanedChild {
                            parent: p.0.clone(),
                        }
                    } else {
                        Problem::UnknownParent {
                            parent: p.0.clone(),
                        }
                    },
                )),
                Some(parent) if parent.level.child() != Some(g.level) => issues.push(issue(
                    &g.id,
                    Some("level"),
                    Problem::WrongLevel {
                        level: g.level.get(),
                        parent_desc: format!("{} (level {})", parent.id, parent.level),
                    },
                )),
                Some(_) => {}
            },
        }
    }
    // Geometry checks on a broken hierarchy or invalid polygons would only
    // add noise (and boolean operations want valid input).
    finish(issues)?;

    // 4. Containment and overlap, a family at a time.
    let mut families: HashMap<Option<&GridId>, Vec<&Grid>> = HashMap::new();
    for g in &set {
        families.entry(g.parent_id.as_ref()).or_default().push(g);
    }
    let affected: BTreeSet<Option<&GridId>> = set
        .iter()
        .filter(|g| is_changed(g))
        .flat_map(|g| [g.parent_id.as_ref(), Some(&g.id)])
        .filter(|key| families.contains_key(key))
        .collect();
    let mut work: Vec<(Option<&Grid>, &[&Grid])> = affected
        .into_iter()
        .map(|key| {
            (
                key.and_then(|id| by_id.get(id).copied()),
                families[&key].as_slice(),
            )
        })
        .collect();
    // Largest families first, so the threads finish together.
    work.sort_by_key(|(_, children)| {
        std::cmp::Reverse(children.iter().map(|c| vertex_count(c)).sum::<usize>())
    });
    let issues: Vec<ImportIssue> = parallel_map(&work, |(parent, children)| {
        check_family(*parent, children, &is_changed)
    })
    .into_iter()
    .flatten()
    .collect();
    finish(issues)?;
    Ok(set)
}

/// Containment in the parent and overlap between siblings, for one family.
/// A pair of overlapping siblings is reported on the one this import
/// brings (the later one when it brings both).
fn check_family(
    parent: Option<&Grid>,
    children: &[&Grid],
    is_changed: &(dyn Fn(&Grid) -> bool + Sync),
) -> Vec<ImportIssue> {
    // Boolean operations read ring direction; GeoJSON does not oblige
    // importers to follow the right-hand rule, so orient local copies
    // (exteriors counter-clockwise, holes clockwise) and keep the data as given.
    let oriented: Vec<MultiPolygon<f64>> = children
        .iter()
        .map(|c| c.geometry.orient(Direction::Default))
        .collect();
    let parent_shape = parent.map(|p| p.geometry.orient(Direction::Default));
    let scale = m2_per_square_degree(parent.map_or(children[0], |p| p));
    let area = |m: &MultiPolygon<f64>| m.unsigned_area() * scale;
    let mut issues = Vec::new();
    let union = unary_union(oriented.iter());
    let overlap_total: f64 = oriented.iter().map(area).sum::<f64>() - area(&union);
    if overlap_total > OVERLAP_TOLERANCE_M2 {
        for (i, (a, sa)) in children.iter().zip(&oriented).enumerate() {
            for (b, sb) in children[i + 1..].iter().zip(&oriented[i + 1..]) {
                let (Some(ba), Some(bb)) = (Bbox::of(sa), Bbox::of(sb)) else {
                    continue;
                };
                if !ba.intersects(&bb) {
                    continue;
                }
                let shared = area(&sa.intersection(sb));
                if shared > OVERLAP_TOLERANCE_M2 {
                    let (offender, sibling) = if is_changed(b) { (b, a) } else { (a, b) };
                    issues.push(issue(
                        &offender.id,
                        Some("geometry"),
                        Problem::OverlapsSibling {
                            sibling: sibling.id.0.clone(),
                            overlap_m2: shared,
                            tolerance_m2: OVERLAP_TOLERANCE_M2,
                        },
                    ));
                }
            }
        }
    }
    if let (Some(parent), Some(parent_shape)) = (parent, &parent_shape) {
        let outside_total = area(&union.difference(parent_shape));
        if outside_total > CONTAINMENT_TOLERANCE_M2 {
            for (child, shape) in children.iter().zip(&oriented) {
                let outside = area(&shape.difference(parent_shape));
                if outside > CONTAINMENT_TOLERANCE_M2 {
                    issues.push(issue(
                        &child.id,
                        Some("geometry"),
                        Problem::OutsideParent {
                            parent: parent.id.0.clone(),
                            outside_m2: outside,
                            tolerance_m2: CONTAINMENT_TOLERANCE_M2,
                        },
                    ));
                }
            }
        }
    }
    issues
}

/// Square metres per square degree at the grid's mean latitude.
fn m2_per_square_degree(grid: &Grid) -> f64 {
    let lat = Bbox::of(&grid.geometry).map_or(0.0, |b| (b.min_lat + b.max_lat) * 0.5);
    METRES_PER_DEGREE_LAT * METRES_PER_DEGREE_LAT * lat.to_radians().cos()
}

fn vertex_count(g: &Grid) -> usize {
    g.geometry
        .0
        .iter()
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum()
}

fn issue(id: &GridId, field: Option<&str>, problem: Problem) -> ImportIssue {
    ImportIssue {
        feature: id.0.clone(),
        field: field.map(str::to_owned),
        problem,
    }
}

/// `Err` with the issues (in feature order, at most [`MAX_ISSUES`]) if there
/// are any.
fn finish(mut issues: Vec<ImportIssue>) -> Result<(), ImportErrors> {
    if issues.is_empty() {
        return Ok(());
    }
    issues.truncate(MAX_ISSUES);
    Err(ImportErrors { issues })
}

/// `f` over `items` on every core, results in item order. The checks are
/// CPU-bound and independent; plain scoped threads pulling from a shared
/// counter are enough here.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Polygon, polygon};
    use serde_json::Map;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
    }

    fn grid(id: &str, level: i64, parent: Option<&str>, polygons: Vec<Polygon<f64>>) -> Grid {
        Grid {
            id: GridId::from(id),
            level: Level::new(level).expect("valid"),
            parent_id: parent.map(GridId::from),
            name: id.into(),
            geometry: MultiPolygon(polygons),
            properties: Map::new(),
        }
    }

    /// Two towns at 106°E; T1 holds A (with a hole) and B (filling it), T2
    /// holds C in two parts. About 1 km per 0.01°.
    fn valid_set() -> Vec<Grid> {
        let a = Polygon::new(
            rect(106.0, 34.0, 106.02, 34.02).exterior().clone(),
            vec![rect(106.005, 34.005, 106.015, 34.015).exterior().clone()],
        );
        vec![
            grid("T1", 1, None, vec![rect(106.0, 34.0, 106.02, 34.02)]),
            grid("T2", 1, None, vec![rect(106.02, 34.0, 106.04, 34.02)]),
            grid("A", 2, Some("T1"), vec![a]),
            grid(
                "B",
                2,
                Some("T1"),
                vec![rect(106.005, 34.005, 106.015, 34.015)],
            ),
            grid(
                "C",
                2,
                Some("T2"),
                vec![
                    rect(106.02, 34.0, 106.03, 34.02),
                    rect(106.035, 34.0, 106.04, 34.01),
                ],
            ),
        ]
    }

    fn problems(result: Result<Vec<Grid>, ImportErrors>) -> Vec<(String, Problem)> {
        result
            .expect_err("refused")
            .issues
            .into_iter()
            .map(|i| (i.feature, i.problem))
            .collect()
    }

    /// A nested set with a hole filled by a sibling and a two-part grid is accepted.
    #[test]
    fn accepts_a_valid_nested_set() {
        let set = validate(&[], valid_set(), WriteMode::Replace).expect("valid");
        let ids: Vec<&str> = set.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["T1", "T2", "A", "B", "C"]);
    }

    /// The same id twice.
    #[test]
    fn refuses_duplicate_id() {
        let mut set = valid_set();
        set.push(set[3].clone());
        assert_eq!(
            problems(validate(&[], set, WriteMode::Replace)),
            [("B".into(), Problem::DuplicateId { id: "B".into() })]
        );
    }

    /// A bow-tie ring crosses itself.
    #[test]
    fn refuses_self_intersection() {
        let mut set = valid_set();
        let bowtie = LineString::from(vec![
            (106.0, 34.0),
            (106.01, 34.01),
            (106.01, 34.0),
            (106.0, 34.01),
            (106.0, 34.0),
        ]);
        set[3].geometry = MultiPolygon(vec![Polygon::new(bowtie, vec![])]);
        let found = problems(validate(&[], set, WriteMode::Replace));
        assert!(
            matches!(found.as_slice(), [(id, Problem::InvalidPolygon { .. })] if id == "B"),
            "{found:?}"
        );
    }

    /// A parent that exists nowhere.
    #[test]
    fn refuses_unknown_parent() {
        let mut set = valid_set();
        set[3].parent_id = Some(GridId::from("T9"));
        assert_eq!(
            problems(validate(&[], set, WriteMode::Replace)),
            [(
                "B".into(),
                Problem::UnknownParent {
                    parent: "T9".into()
                }
            )]
        );
    }

    /// Level 3 directly under a town; level 2 with no parent; a town with a parent.
    #[test]
    fn refuses_wrong_levels() {
        let mut set = valid_set();
        set[3].level = Level::new(3).expect("valid");
        set[4].parent_id = None;
        set[0].parent_id = Some(GridId::from("T2"));
        let found = problems(validate(&[], set, WriteMode::Replace));
        let mut named: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        named.sort_unstable();
        assert_eq!(named, ["B", "C", "T1"], "{found:?}");
        assert!(
            found
                .iter()
                .all(|(_, p)| matches!(p, Problem::WrongLevel { .. }))
        );
    }

    /// A child sticking 100 m out of its parent.
    #[test]
    fn refuses_child_outside_parent() {
        let mut set = valid_set();
        set[3].geometry = MultiPolygon(vec![rect(106.005, 34.005, 106.015, 34.021)]);
        let found = problems(validate(&[], set, WriteMode::Replace));
        assert!(
            found.iter().any(|(id, p)| id == "B"
                && matches!(p, Problem::OutsideParent { parent, .. } if parent == "T1")),
            "{found:?}"
        );
    }

    /// Two siblings covering the same ground.
    #[test]
    fn refuses_overlapping_siblings() {
        let mut set = valid_set();
        set[3].geometry = MultiPolygon(vec![rect(106.0, 34.0, 106.01, 34.01)]);
        let found = problems(validate(&[], set, WriteMode::Replace));
        assert!(
            found.iter().any(|(id, p)| id == "B"
                && matches!(p, Problem::OverlapsSibling { sibling, .. } if sibling == "A")),
            "{found:?}"
        );
    }

    /// Upsert replaces by id and keeps the rest; a refused upsert names the grid.
    #[test]
    fn upsert_merges_by_id() {
        let existing = validate(&[], valid_set(), WriteMode::Replace).expect("valid");
        let renamed = Grid {
            name: "B2".into(),
            ..existing[3].clone()
        };
        let set = validate(&existing, vec![renamed], WriteMode::Upsert).expect("valid upsert");
        assert_eq!(set.len(), 5);
        assert_eq!(
            set.iter()
                .find(|g| g.id.as_str() == "B")
                .map(|g| g.name.as_str()),
            Some("B2")
        );
        let moved = Grid {
            geometry: MultiPolygon(vec![rect(106.03, 34.0, 106.04, 34.02)]),
            ..existing[3].clone()
        };
        let found = problems(validate(&existing, vec![moved], WriteMode::Upsert));
        assert!(
            found
                .iter()
                .any(|(id, p)| id == "B" && matches!(p, Problem::OutsideParent { .. })),
            "{found:?}"
        );
    }

    /// Replacing a town with one of another level orphans its stored children.
    #[test]
    fn upsert_checks_children_of_a_replaced_parent() {
        let existing = validate(&[], valid_set(), WriteMode::Replace).expect("valid");
        let demoted = Grid {
            level: Level::new(2).expect("valid"),
            parent_id: Some(GridId::from("T2")),
            ..existing[0].clone()
        };
        let found = problems(validate(&existing, vec![demoted], WriteMode::Upsert));
        let named: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        assert!(named.contains(&"A") && named.contains(&"B"), "{found:?}");
    }
}
