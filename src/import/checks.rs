//! The rules a set of grids must obey, checked before anything is written:
//!
//! 1. ids are unique within the import;
//! 2. every boundary is a valid polygon by the OGC rules (`validity`);
//! 3. level 1 has no parent; every other grid has a parent in the resulting
//!    set, one level above it;
//! 4. a grid lies inside its parent, and siblings (children of one parent,
//!    or all the towns) do not overlap, each up to a tolerance of
//!    [`CONTAINMENT_TOLERANCE_M2`] / [`OVERLAP_TOLERANCE_M2`].
//!
//! Rule 4 is checked a family at a time (a parent and its children; the
//! towns form one family without a parent), in two steps:
//!
//! - **Proof by shared edges** (exact, no arithmetic). Wind every ring the
//!   standard way (shells counter-clockwise, holes clockwise) and add up the
//!   children's directed edges, an edge and its reverse cancelling. If what
//!   is left is exactly the parent's edges, then at every point off the edges
//!   the children's winding numbers add up to the parent's: each point of the
//!   parent is in exactly one child and no point outside it is in any. That
//!   is rule 4 with zero overlap and zero outside. Grids cut from one
//!   topology (the generated demo county, most GIS exports) share their
//!   edges with bit-identical coordinates, so almost every family is settled
//!   here in one sort of its edges.
//! - **Measured areas**, when the proof does not apply (edges digitised
//!   separately, a vertex on one side only, the towns, which have no parent
//!   to compare with). Two polygon-boolean operations per family: the union
//!   `U` of the children gives the total overlap, `Σ area(child) − area(U)`,
//!   and `area(U − parent)` the total outside. Only when a total exceeds its
//!   tolerance are the children measured one by one (difference with the
//!   parent; intersection with each sibling whose bounding box meets theirs,
//!   pairs found by a sort-and-sweep) to name the offenders. The totals are
//!   only a filter: a total over the tolerance through rounding (a very
//!   large family) costs the pairwise pass, never a false refusal.
//!
//! In upsert mode only what an upserted grid takes part in is checked: its
//! validity, its place under its parent, its family (against its parent and
//! siblings) and its children's family (against it).
//!
//! Areas are square metres on the sphere of the same surface as WGS84,
//! measured in the Lambert cylindrical equal-area projection (see [`area_m2`]).
//!
//! Validity and the families run on all cores (rayon). The demo county
//! (2,403 grids, 1.26 million vertices) validates in about 0.2 s on two
//! cores; see `tests::demo_county_timings`.

use std::collections::{HashMap, HashSet};

use geo::orient::{Direction, Orient};
use geo::{BooleanOps, BoundingRect, Coord, MultiPolygon, Rect, unary_union};
use rayon::prelude::*;

use super::validity::{self, ring_direction};
use super::{ImportErrors, ImportIssue, MAX_ISSUES, Problem};
use crate::model::WriteMode;
use crate::model::{Grid, GridId, Level, Text};
use crate::text;

/// Area of a child that may lie outside its parent before the import is
/// refused, m². Boundaries digitised separately rarely match to the
/// centimetre: a 2 km border drawn 0.5 mm apart on average leaves 1 m².
/// Floating-point noise is far smaller: boolean operations on the demo
/// county's bit-identical edges leave exactly 0 m², and its largest family
/// total (`Σ area − area(union)` over 2,012 km² of towns) is off by 0.02 m².
/// Any real misplacement (a house, a field) is far larger and is refused.
pub const CONTAINMENT_TOLERANCE_M2: f64 = 1.0;

/// Area two siblings may share before the import is refused, m² (for the
/// same reasons as [`CONTAINMENT_TOLERANCE_M2`]).
pub const OVERLAP_TOLERANCE_M2: f64 = 1.0;

/// Radius of the sphere with the surface area of the WGS84 ellipsoid
/// (authalic radius), metres.
const AUTHALIC_RADIUS_M: f64 = 6_371_007.2;

/// Check `incoming` against the rules, merged with `existing` as `mode` says,
/// and return the resulting whole set ordered by level, then id.
///
/// Replace: `incoming` is the whole new set (`existing` only tells an
/// orphaned child from an unknown parent). Upsert: `incoming` replaces the
/// grids of `existing` with the same ids and adds the rest; `existing` is
/// taken to be a set that passed these rules, and only the rules an upserted
/// grid takes part in are checked.
///
/// Every issue found is reported (up to [`MAX_ISSUES`]), in the order of the
/// features in `incoming`, then stored grids (by level and id) that an
/// upsert broke. A grid that breaks rule 1, 2 or 3 is left out of the
/// rule-4 checks (so one mistake is not reported three times).
pub fn validate(
    existing: &[Grid],
    incoming: Vec<Grid>,
    mode: WriteMode,
) -> Result<Vec<Grid>, ImportErrors> {
    validate_upsert_removing(existing, incoming, mode, &[])
}

/// [`validate`], with the grids `removed` taken out of `existing` first
/// (an edit that merges grids or deletes a sub-area): a stored grid whose
/// parent is removed and not brought back is reported as orphaned.
pub fn validate_upsert_removing(
    existing: &[Grid],
    incoming: Vec<Grid>,
    mode: WriteMode,
    removed: &[GridId],
) -> Result<Vec<Grid>, ImportErrors> {
    let removed: HashSet<&GridId> = removed.iter().collect();
    let mut report = Report::default();

    // 1. Unique ids. Later copies are reported and left out, so that the
    //    other rules still run and the report names every problem at once.
    let mut rank: HashMap<GridId, usize> = HashMap::with_capacity(incoming.len());
    let mut unique = Vec::with_capacity(incoming.len());
    for (position, grid) in incoming.into_iter().enumerate() {
        if rank.contains_key(&grid.id) {
            let id = grid.id.0.clone();
            report.push(position, issue(&grid.id, "id", Problem::DuplicateId { id }));
        } else {
            rank.insert(grid.id.clone(), position);
            unique.push(grid);
        }
    }
    let incoming_len = rank.len() + report.len();

    let mut set: Vec<Grid> = match mode {
        WriteMode::Replace => unique,
        WriteMode::Upsert => existing
            .iter()
            .filter(|g| !rank.contains_key(&g.id) && !removed.contains(&g.id))
            .cloned()
            .chain(unique)
            .collect(),
    };
    set.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)));
    // Stored grids an upsert breaks are reported after the import's own.
    for (i, g) in set.iter().enumerate() {
        if !rank.contains_key(&g.id) {
            rank.insert(g.id.clone(), incoming_len + i);
        }
    }
    let by_id: HashMap<&GridId, &Grid> = set.iter().map(|g| (&g.id, g)).collect();
    let rank_of = |id: &GridId| rank.get(id).copied().unwrap_or(usize::MAX);
    let changed = |g: &Grid| mode == WriteMode::Replace || rank_of(&g.id) < incoming_len;

    // 2. Valid boundaries (only the grids this import brings; stored ones
    //    passed before).
    let brought: Vec<&Grid> = set.iter().filter(|g| changed(g)).collect();
    let invalid: Vec<ImportIssue> = brought
        .par_iter()
        .filter_map(|g| {
            validity::check(&g.geometry)
                .err()
                .map(|problem| issue(&g.id, "geometry", problem))
        })
        .collect();
    let broken: HashSet<GridId> = invalid.iter().map(|i| GridId(i.feature.clone())).collect();
    for i in invalid {
        report.push(rank_of(&GridId(i.feature.clone())), i);
    }

    // 3. The hierarchy: for grids brought in, and for stored children whose
    //    parent was replaced (its level may have changed).
    let existing_ids: HashSet<&GridId> = match mode {
        WriteMode::Replace => existing.iter().map(|g| &g.id).collect(),
        WriteMode::Upsert => removed.clone(),
    };
    let mut misplaced: HashSet<GridId> = HashSet::new();
    for g in &set {
        let parent_changed = g
            .parent_id
            .as_ref()
            .is_some_and(|p| removed.contains(p) || by_id.get(p).is_some_and(|p| changed(p)));
        if !changed(g) && !parent_changed {
            continue;
        }
        if let Some((field, problem)) = placement_problem(g, &by_id, &existing_ids) {
            report.push(rank_of(&g.id), issue(&g.id, field, problem));
            misplaced.insert(g.id.clone());
        }
    }

    // 4. Containment and overlap, a family at a time: every family with a
    //    grid brought in, and the children of every grid brought in.
    let mut families: HashMap<Option<&GridId>, Vec<&Grid>> = HashMap::new();
    for g in &set {
        if !broken.contains(&g.id) && !misplaced.contains(&g.id) {
            families.entry(g.parent_id.as_ref()).or_default().push(g);
        }
    }
    let mut work: Vec<Family<'_>> = families
        .iter()
        .filter_map(|(key, children)| {
            let parent = key.and_then(|id| by_id.get(id).copied());
            let parent_changed = parent.is_some_and(&changed);
            let family = Family {
                // A parent with an invalid boundary cannot be measured against.
                parent: parent.filter(|p| !broken.contains(&p.id)),
                children: children
                    .iter()
                    .map(|&c| (c, parent_changed || changed(c)))
                    .collect(),
            };
            family.needs_checking().then_some(family)
        })
        .collect();
    // Largest families first, so the threads finish together.
    work.sort_by_key(|f| std::cmp::Reverse(f.vertex_count()));
    let found: Vec<ImportIssue> = work
        .par_iter()
        .flat_map_iter(|family| family.check(&rank_of))
        .collect();
    for i in found {
        report.push(rank_of(&GridId(i.feature.clone())), i);
    }

    report.finish()?;
    Ok(set)
}

/// Why `g` cannot sit where it says, if it cannot: level 1 has no parent,
/// others have a parent in the set one level above.
fn placement_problem(
    g: &Grid,
    by_id: &HashMap<&GridId, &Grid>,
    existing_ids: &HashSet<&GridId>,
) -> Option<(&'static str, Problem)> {
    let Some(p) = &g.parent_id else {
        return (g.level != Level::TOWN).then(|| {
            (
                "parent_id",
                Problem::WrongLevel {
                    level: g.level.get(),
                    parent_desc: Text::new(
                        "no parent (only level 1 has none)",
                        "无（只有 1 级网格没有上级）",
                    )
                    .into(),
                },
            )
        });
    };
    let Some(parent) = by_id.get(p) else {
        let parent = p.0.clone();
        return Some((
            "parent_id",
            if existing_ids.contains(p) {
                Problem::OrphanedChild { parent }
            } else {
                Problem::UnknownParent { parent }
            },
        ));
    };
    (parent.level.child() != Some(g.level)).then(|| {
        (
            "level",
            Problem::WrongLevel {
                level: g.level.get(),
                parent_desc: {
                    let (id, level) = (&parent.id, parent.level);
                    text!("{id} (level {level})", "{id}（{level} 级）").into()
                },
            },
        )
    })
}

/// Issues with the rank of the feature they name, sorted when finished.
#[derive(Default)]
struct Report(Vec<(usize, ImportIssue)>);

impl Report {
    fn push(&mut self, rank: usize, issue: ImportIssue) {
        self.0.push((rank, issue));
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// `Err` with the issues in feature order (a stable sort: one feature's
    /// issues stay in the order the rules found them), at most
    /// [`MAX_ISSUES`], if there are any.
    fn finish(mut self) -> Result<(), ImportErrors> {
        if self.0.is_empty() {
            return Ok(());
        }
        self.0.sort_by_key(|(rank, _)| *rank);
        self.0.truncate(MAX_ISSUES);
        Err(ImportErrors {
            issues: self.0.into_iter().map(|(_, i)| i).collect(),
        })
    }
}

/// A parent (absent for the towns) and its children, each with whether its
/// own constraints must be checked (it was brought in, or its parent was).
struct Family<'a> {
    parent: Option<&'a Grid>,
    children: Vec<(&'a Grid, bool)>,
}

impl Family<'_> {
    fn needs_checking(&self) -> bool {
        self.children.iter().any(|(_, check)| *check)
            && (self.parent.is_some() || self.children.len() > 1)
    }

    fn vertex_count(&self) -> usize {
        self.parent
            .into_iter()
            .chain(self.children.iter().map(|(c, _)| *c))
            .map(|g| {
                ring_positions(&g.geometry)
                    .map(<[Coord<f64>]>::len)
                    .sum::<usize>()
            })
            .sum()
    }

    /// Rule 4 for this family: the shared-edge proof, else measured areas.
    /// A pair of overlapping siblings is reported on the one this import
    /// brings (the later in the import when it brings both).
    fn check(&self, rank_of: &dyn Fn(&GridId) -> usize) -> Vec<ImportIssue> {
        match self.parent {
            Some(parent) if tiles_exactly(parent, self.children.iter().map(|(c, _)| *c)) => {
                Vec::new()
            }
            _ => self.measure(rank_of),
        }
    }

    /// Rule 4 by measured areas (module docs).
    fn measure(&self, rank_of: &dyn Fn(&GridId) -> usize) -> Vec<ImportIssue> {
        // Boolean operations read ring direction; GeoJSON does not oblige
        // importers to follow the right-hand rule, so orient local copies
        // (shells counter-clockwise, holes clockwise) and keep the data as given.
        let shapes: Vec<MultiPolygon<f64>> = self
            .children
            .iter()
            .map(|(c, _)| c.geometry.orient(Direction::Default))
            .collect();
        let union = unary_union(shapes.iter());
        let mut issues = Vec::new();

        let overlap_total = shapes.iter().map(area_m2).sum::<f64>() - area_m2(&union);
        if overlap_total > OVERLAP_TOLERANCE_M2 {
            let boxes: Vec<Option<Rect<f64>>> = shapes.iter().map(|s| s.bounding_rect()).collect();
            for (i, j) in meeting_boxes(&boxes) {
                let ((a, check_a), (b, check_b)) = (self.children[i], self.children[j]);
                if !check_a && !check_b {
                    continue;
                }
                let shared = area_m2(&shapes[i].intersection(&shapes[j]));
                if shared > OVERLAP_TOLERANCE_M2 {
                    let b_reported = check_b && (!check_a || rank_of(&b.id) > rank_of(&a.id));
                    let (offender, sibling) = if b_reported { (b, a) } else { (a, b) };
                    issues.push(issue(
                        &offender.id,
                        "geometry",
                        Problem::OverlapsSibling {
                            sibling: sibling.id.0.clone(),
                            overlap_m2: shared,
                            tolerance_m2: OVERLAP_TOLERANCE_M2,
                        },
                    ));
                }
            }
        }

        if let Some(parent) = self.parent {
            let parent_shape = parent.geometry.orient(Direction::Default);
            let outside_total = area_m2(&union.difference(&parent_shape));
            if outside_total > CONTAINMENT_TOLERANCE_M2 {
                for ((child, check), shape) in self.children.iter().zip(&shapes) {
                    if !check {
                        continue;
                    }
                    let outside = area_m2(&shape.difference(&parent_shape));
                    if outside > CONTAINMENT_TOLERANCE_M2 {
                        issues.push(issue(
                            &child.id,
                            "geometry",
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
}

/// True when the children's directed edges, wound the standard way, cancel
/// down to exactly the parent's: the children then tile the parent with no
/// overlap and nothing outside (module docs). Exact, for valid polygons;
/// `false` says only that this proof does not apply.
fn tiles_exactly<'a>(parent: &Grid, children: impl Iterator<Item = &'a Grid>) -> bool {
    let mut edges: Vec<(EdgeKey, i64)> = Vec::new();
    let mut ok = push_edges(&parent.geometry, -1, &mut edges);
    for child in children {
        ok &= push_edges(&child.geometry, 1, &mut edges);
    }
    if !ok {
        return false;
    }
    edges.sort_unstable_by_key(|(key, _)| *key);
    edges
        .chunk_by(|a, b| a.0 == b.0)
        .all(|same| same.iter().map(|(_, n)| n).sum::<i64>() == 0)
}

/// An undirected edge: its two ends' coordinate bits, lesser end first.
type EdgeKey = ([u64; 2], [u64; 2]);

/// Add a boundary's edges with coefficient `sign` for the standard winding:
/// +1 for an edge running from its lesser end to its greater, -1 for the
/// reverse. `false` if a ring's direction cannot be told (an invalid ring).
fn push_edges(geometry: &MultiPolygon<f64>, sign: i64, edges: &mut Vec<(EdgeKey, i64)>) -> bool {
    for polygon in &geometry.0 {
        for (r, ring) in std::iter::once(polygon.exterior())
            .chain(polygon.interiors())
            .enumerate()
        {
            let mut positions = ring.0.clone();
            positions.dedup();
            let direction = i64::from(ring_direction(&positions));
            if direction == 0 {
                return false;
            }
            // Shells counter-clockwise (+1), holes clockwise (-1).
            let wind = if r == 0 { direction } else { -direction } * sign;
            for w in positions.windows(2) {
                let (a, b) = (bits(w[0]), bits(w[1]));
                if a < b {
                    edges.push(((a, b), wind));
                } else {
                    edges.push(((b, a), -wind));
                }
            }
        }
    }
    true
}

/// A coordinate's bits, with -0.0 read as 0.0 (they are the same point).
fn bits(c: Coord<f64>) -> [u64; 2] {
    [(c.x + 0.0).to_bits(), (c.y + 0.0).to_bits()]
}

fn ring_positions(geometry: &MultiPolygon<f64>) -> impl Iterator<Item = &[Coord<f64>]> {
    geometry.0.iter().flat_map(|p| {
        std::iter::once(p.exterior().0.as_slice())
            .chain(p.interiors().iter().map(|r| r.0.as_slice()))
    })
}

/// Pairs `(i, j)`, `i < j`, of boxes that share at least a point, by a
/// sort-and-sweep on their west edges: O(n log n + pairs whose x-ranges
/// overlap). Missing boxes (empty geometries) meet nothing.
fn meeting_boxes(boxes: &[Option<Rect<f64>>]) -> Vec<(usize, usize)> {
    let mut order: Vec<(usize, Rect<f64>)> = boxes
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.map(|b| (i, b)))
        .collect();
    order.sort_unstable_by(|a, b| a.1.min().x.total_cmp(&b.1.min().x));
    let mut pairs = Vec::new();
    for (k, (i, a)) in order.iter().enumerate() {
        for (j, b) in &order[k + 1..] {
            if b.min().x > a.max().x {
                break;
            }
            if b.min().y <= a.max().y && a.min().y <= b.max().y {
                pairs.push(((*i).min(*j), (*i).max(*j)));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

/// Area in square metres of a lon/lat MultiPolygon, holes subtracted,
/// whatever the rings' winding.
///
/// Measured in the Lambert cylindrical equal-area projection (x = λ,
/// y = sin φ, times R²) on the authalic sphere: exact for the sphere with
/// the surface of WGS84, wherever the grid is, at the cost of one sine per
/// vertex. Not geo 0.33's `ChamberlainDuquetteArea`, which is the same
/// measure but subtracts holes' *signed* areas, so a hole wound the GeoJSON
/// way (clockwise) is added instead.
pub(crate) fn area_m2(geometry: &MultiPolygon<f64>) -> f64 {
    geometry
        .0
        .iter()
        .map(|p| {
            ring_area_m2(&p.exterior().0).abs()
                - p.interiors()
                    .iter()
                    .map(|r| ring_area_m2(&r.0).abs())
                    .sum::<f64>()
        })
        .sum()
}

/// Signed area of a closed ring, m² (positive when counter-clockwise).
/// Coordinates are taken relative to the first position so that a small
/// ring far from the origin keeps its precision.
fn ring_area_m2(ring: &[Coord<f64>]) -> f64 {
    let Some(first) = ring.first() else {
        return 0.0;
    };
    let (x0, y0) = (first.x.to_radians(), first.y.to_radians().sin());
    let projected = |c: &Coord<f64>| (c.x.to_radians() - x0, c.y.to_radians().sin() - y0);
    let twice: f64 = ring
        .windows(2)
        .map(|w| {
            let ((x1, y1), (x2, y2)) = (projected(&w[0]), projected(&w[1]));
            x1 * y2 - x2 * y1
        })
        .sum();
    twice * 0.5 * AUTHALIC_RADIUS_M * AUTHALIC_RADIUS_M
}

fn issue(id: &GridId, field: &str, problem: Problem) -> ImportIssue {
    ImportIssue {
        feature: id.0.clone(),
        field: Some(field.to_owned()),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{ChamberlainDuquetteArea, LineString, Polygon, polygon};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
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

    /// Two towns at 106°E, about 1 km per 0.01°:
    ///
    /// ```text
    ///  34.02 ┌───────T1────────┬──────T2─────────┐
    ///        │ A   ┌─────┐     │ C0    │         │
    ///        │     │  B  │     │       │ (gap)   │
    ///        │     └─────┘     │       ├────┬────┤
    ///        │                 │       │    │ C1 │
    ///  34.00 └─────────────────┴───────┴────┴────┘
    ///     106.00            106.02  106.03  106.035  106.04
    /// ```
    ///
    /// A has a hole that its sibling B fills exactly (T1's family is proven
    /// by shared edges); C has two parts and leaves a gap in T2 (T2's family
    /// is measured).
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

    fn find<'a>(set: &'a mut [Grid], id: &str) -> &'a mut Grid {
        set.iter_mut()
            .find(|g| g.id.as_str() == id)
            .expect("fixture id")
    }

    /// A nested set with a hole filled by a sibling and a two-part grid is
    /// accepted and comes back ordered by level, then id.
    #[test]
    fn accepts_a_valid_nested_set() {
        let mut shuffled = valid_set();
        shuffled.reverse();
        let set = validate(&[], shuffled, WriteMode::Replace).expect("valid");
        let ids: Vec<&str> = set.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["T1", "T2", "A", "B", "C"]);
        assert_eq!(set[2], valid_set()[2], "grids come back as given");
    }

    /// T1's children share its edges exactly (the hole's edges cancel B's);
    /// T2's do not cover it, so its family is measured instead.
    #[test]
    fn shared_edge_proof_applies_only_to_exact_tilings() {
        let set = valid_set();
        assert!(tiles_exactly(&set[0], [&set[2], &set[3]].into_iter()));
        assert!(!tiles_exactly(&set[1], [&set[4]].into_iter()));
        // Winding does not matter: the same tiling with rings reversed.
        let mut reversed = set[3].clone();
        reversed.geometry.0[0].exterior_mut(|r| r.0.reverse());
        assert!(tiles_exactly(&set[0], [&set[2], &reversed].into_iter()));
        // B twice is an overlap, not a tiling.
        assert!(!tiles_exactly(
            &set[0],
            [&set[2], &set[3], &set[3]].into_iter()
        ));
    }

    /// A family whose shared edge has a vertex on one side only (a
    /// T-junction) is not proven by edges, but measures as a clean tiling.
    #[test]
    fn t_junction_falls_back_to_measuring() {
        let mut set = valid_set();
        let left = LineString::from(vec![
            (106.0, 34.0),
            (106.01, 34.0),
            (106.01, 34.01),
            (106.01, 34.02),
            (106.0, 34.02),
            (106.0, 34.0),
        ]);
        let right = rect(106.01, 34.0, 106.02, 34.02);
        set.retain(|g| g.parent_id.as_ref().is_none_or(|p| p.as_str() != "T1"));
        set.push(grid("L", 2, Some("T1"), vec![Polygon::new(left, vec![])]));
        set.push(grid("R", 2, Some("T1"), vec![right]));
        assert!(!tiles_exactly(&set[0], set[3..].iter()));
        validate(&[], set, WriteMode::Replace).expect("a clean tiling");
    }

    /// The same id twice: the later copy is named.
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
        find(&mut set, "B").geometry = MultiPolygon(vec![Polygon::new(bowtie, vec![])]);
        let found = problems(validate(&[], set, WriteMode::Replace));
        assert!(
            matches!(found.as_slice(), [(id, Problem::InvalidPolygon { .. })] if id == "B"),
            "{found:?}"
        );
    }

    /// A multi-part grid whose parts overlap is not a valid MultiPolygon.
    #[test]
    fn refuses_overlapping_parts() {
        let mut set = valid_set();
        find(&mut set, "C").geometry.0[1] = rect(106.025, 34.0, 106.04, 34.01);
        let found = problems(validate(&[], set, WriteMode::Replace));
        assert!(
            matches!(found.as_slice(), [(id, Problem::InvalidPolygon { detail })]
                if id == "C" && detail.en().contains("overlap")),
            "{found:?}"
        );
    }

    /// Grids that bypass the parser (the CLI, the generator) get their
    /// coordinates checked too.
    #[test]
    fn refuses_out_of_range_coordinates() {
        let mut set = valid_set();
        find(&mut set, "T2").geometry = MultiPolygon(vec![rect(186.0, 34.0, 187.0, 35.0)]);
        let found = problems(validate(&[], set, WriteMode::Replace));
        assert!(
            matches!(found.as_slice(), [(id, Problem::BadCoordinate { .. })] if id == "T2"),
            "{found:?}"
        );
    }

    /// A parent that exists nowhere.
    #[test]
    fn refuses_unknown_parent() {
        let mut set = valid_set();
        find(&mut set, "B").parent_id = Some(GridId::from("T9"));
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

    /// A town with a parent, level 3 directly under a town, level 2 with no
    /// parent: each named, in the order given.
    #[test]
    fn refuses_wrong_levels() {
        let mut set = valid_set();
        find(&mut set, "T1").parent_id = Some(GridId::from("T2"));
        find(&mut set, "B").level = Level::new(3).expect("valid");
        find(&mut set, "C").parent_id = None;
        assert_eq!(
            problems(validate(&[], set, WriteMode::Replace)),
            [
                (
                    "T1".into(),
                    Problem::WrongLevel {
                        level: 1,
                        parent_desc: Text::new("T2 (level 1)", "T2（1 级）").into()
                    }
                ),
                (
                    "B".into(),
                    Problem::WrongLevel {
                        level: 3,
                        parent_desc: Text::new("T1 (level 1)", "T1（1 级）").into()
                    }
                ),
                (
                    "C".into(),
                    Problem::WrongLevel {
                        level: 2,
                        parent_desc: Text::new(
                            "no parent (only level 1 has none)",
                            "无（只有 1 级网格没有上级）"
                        )
                        .into()
                    }
                ),
            ]
        );
    }

    /// Replacing the set without a grid's parent, where the parent is stored.
    #[test]
    fn refuses_to_orphan_a_child() {
        let existing = validate(&[], valid_set(), WriteMode::Replace).expect("valid");
        let without_t1: Vec<Grid> = valid_set()
            .into_iter()
            .filter(|g| g.id.as_str() != "T1")
            .collect();
        let found = problems(validate(&existing, without_t1, WriteMode::Replace));
        assert_eq!(
            found,
            [
                (
                    "A".into(),
                    Problem::OrphanedChild {
                        parent: "T1".into()
                    }
                ),
                (
                    "B".into(),
                    Problem::OrphanedChild {
                        parent: "T1".into()
                    }
                ),
            ]
        );
    }

    /// A child sticking 100 m out of its parent.
    #[test]
    fn refuses_child_outside_parent() {
        let mut set = valid_set();
        find(&mut set, "B").geometry = MultiPolygon(vec![rect(106.005, 34.005, 106.015, 34.021)]);
        let found = problems(validate(&[], set, WriteMode::Replace));
        // 0.001° north (111 m) along 0.01° of longitude (922 m).
        assert!(
            found.iter().any(|(id, p)| id == "B"
                && matches!(p, Problem::OutsideParent { parent, outside_m2, .. }
                    if parent == "T1" && (*outside_m2 - 102_300.0).abs() < 1_000.0)),
            "{found:?}"
        );
    }

    /// Two siblings covering the same ground, and two towns.
    #[test]
    fn refuses_overlapping_siblings() {
        let mut set = valid_set();
        find(&mut set, "B").geometry = MultiPolygon(vec![rect(106.0, 34.0, 106.01, 34.01)]);
        let found = problems(validate(&[], set, WriteMode::Replace));
        assert!(
            matches!(found.as_slice(), [(id, Problem::OverlapsSibling { sibling, .. })]
                if id == "B" && sibling == "A"),
            "{found:?}"
        );
        let mut set = valid_set();
        // T2 reaches 100 m into T1; its children follow it so only the towns overlap.
        find(&mut set, "T2").geometry = MultiPolygon(vec![rect(106.019, 34.0, 106.04, 34.02)]);
        let found = problems(validate(&[], set, WriteMode::Replace));
        assert!(
            matches!(found.as_slice(), [(id, Problem::OverlapsSibling { sibling, .. })]
                if id == "T2" && sibling == "T1"),
            "{found:?}"
        );
    }

    /// Below the tolerance a sliver is accepted, above it refused: C's
    /// eastern part pushed out of T2, and T2 pushed into T1, by about
    /// 0.4 m² and then 4 m² (1° of longitude at 34° is 92.3 km).
    #[test]
    fn tolerances_apply() {
        for (dx, refused) in [(4e-9, false), (4e-8, true)] {
            let mut set = valid_set();
            find(&mut set, "C").geometry.0[1] = rect(106.035, 34.0, 106.04 + dx, 34.01);
            let result = validate(&[], set, WriteMode::Replace);
            assert_eq!(result.is_err(), refused, "outside by {dx}°: {result:?}");
            if refused {
                assert!(matches!(&problems(result)[..],
                    [(id, Problem::OutsideParent { outside_m2, .. })] if id == "C" && (3.0..5.0).contains(outside_m2)));
            }

            let mut set = valid_set();
            find(&mut set, "T2").geometry =
                MultiPolygon(vec![rect(106.02 - dx / 2.0, 34.0, 106.04, 34.02)]);
            let result = validate(&[], set, WriteMode::Replace);
            assert_eq!(result.is_err(), refused, "overlap by {dx}°: {result:?}");
            if refused {
                assert!(matches!(&problems(result)[..],
                    [(id, Problem::OverlapsSibling { overlap_m2, .. })] if id == "T2" && (3.0..5.0).contains(overlap_m2)));
            }
        }
    }

    /// Issues come in the order of the features, whatever rule found them.
    #[test]
    fn issues_follow_feature_order() {
        let mut set = valid_set();
        set.reverse(); // C, B, A, T2, T1
        find(&mut set, "C").parent_id = Some(GridId::from("T9"));
        find(&mut set, "A").geometry = MultiPolygon(vec![rect(106.0, 34.0, 106.01, 34.01)]);
        find(&mut set, "T2").parent_id = Some(GridId::from("T1"));
        let named: Vec<String> = problems(validate(&[], set, WriteMode::Replace))
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        // C: unknown parent; A: overlaps B (A comes later than B);
        // T2: a town with a parent.
        assert_eq!(named, ["C", "A", "T2"]);
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
        let added = grid(
            "D",
            3,
            Some("B"),
            vec![rect(106.006, 34.006, 106.007, 34.007)],
        );
        let set = validate(&existing, vec![added], WriteMode::Upsert).expect("valid upsert");
        assert_eq!(set.len(), 6);
        let moved = Grid {
            geometry: MultiPolygon(vec![rect(106.03, 34.0, 106.04, 34.02)]),
            ..existing[3].clone()
        };
        let found = problems(validate(&existing, vec![moved], WriteMode::Upsert));
        assert!(
            matches!(found.as_slice(), [(id, Problem::OutsideParent { .. })] if id == "B"),
            "{found:?}"
        );
    }

    /// Replacing a town with one of another level breaks its stored
    /// children, which are named after the import's own features.
    #[test]
    fn upsert_checks_children_of_a_replaced_parent() {
        let existing = validate(&[], valid_set(), WriteMode::Replace).expect("valid");
        let demoted = Grid {
            level: Level::new(2).expect("valid"),
            parent_id: Some(GridId::from("T2")),
            ..existing[0].clone()
        };
        let named: Vec<String> = problems(validate(&existing, vec![demoted], WriteMode::Upsert))
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        // T1 lies outside its new parent; its children, level 2 like it,
        // are named after it.
        assert_eq!(named, ["T1", "A", "B"]);
    }

    /// A shrunk parent no longer holds its stored children.
    #[test]
    fn upsert_checks_children_against_a_changed_parent() {
        let existing = validate(&[], valid_set(), WriteMode::Replace).expect("valid");
        let shrunk = Grid {
            geometry: MultiPolygon(vec![rect(106.0, 34.0, 106.02, 34.01)]),
            ..existing[0].clone()
        };
        let found = problems(validate(&existing, vec![shrunk], WriteMode::Upsert));
        let named: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(named, ["A", "B"], "{found:?}");
        assert!(
            found
                .iter()
                .all(|(_, p)| matches!(p, Problem::OutsideParent { parent, .. } if parent == "T1"))
        );
    }

    /// Upsert checks only what the upserted grids take part in: a flaw
    /// among stored grids elsewhere (here A and B overlapping, put there
    /// without validation) does not block an unrelated upsert.
    #[test]
    fn upsert_checks_only_what_it_touches() {
        let mut existing = valid_set();
        find(&mut existing, "B").geometry = MultiPolygon(vec![rect(106.0, 34.0, 106.01, 34.01)]);
        let c = existing[4].clone();
        let set = validate(&existing, vec![c], WriteMode::Upsert).expect("C is fine");
        assert_eq!(set.len(), 5);
        assert!(validate(&existing, vec![existing[3].clone()], WriteMode::Upsert).is_err());
    }

    /// The equal-area measure agrees with geo's Chamberlain-Duquette (the
    /// same sphere measure) on a 1 km square, and ignores ring winding.
    #[test]
    fn area_in_square_metres() {
        let square = rect(106.0, 34.0, 106.01, 34.01);
        let mine = area_m2(&MultiPolygon(vec![square.clone()]));
        // geo measures on the sphere of the equatorial radius.
        let theirs = square.chamberlain_duquette_unsigned_area();
        let radii = (AUTHALIC_RADIUS_M / 6_378_137.0).powi(2);
        assert!((mine / theirs - radii).abs() < 1e-6, "{mine} vs {theirs}");
        assert!((mine - 1_025_000.0).abs() < 1_000.0, "{mine}");
        let mut holed = Polygon::new(
            rect(105.99, 33.99, 106.02, 34.02).exterior().clone(),
            vec![square.exterior().clone()],
        );
        let outer = area_m2(&MultiPolygon(vec![rect(105.99, 33.99, 106.02, 34.02)]));
        assert!((area_m2(&MultiPolygon(vec![holed.clone()])) - (outer - mine)).abs() < 1e-3);
        holed.interiors_mut(|h| h[0].0.reverse());
        assert!((area_m2(&MultiPolygon(vec![holed])) - (outer - mine)).abs() < 1e-3);
    }

    /// Oracle: the sort-and-sweep finds exactly the meeting pairs that a
    /// brute-force loop finds (fixed seed).
    #[test]
    fn box_sweep_matches_brute_force() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let boxes: Vec<Option<Rect<f64>>> = (0..300)
            .map(|_| {
                let (x, y) = (rng.random_range(0.0..10.0), rng.random_range(0.0..10.0));
                let (w, h) = (rng.random_range(0.0..1.0), rng.random_range(0.0..1.0));
                Some(Rect::new((x, y), (x + w, y + h)))
            })
            .collect();
        let mut brute = Vec::new();
        for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                let (Some(a), Some(b)) = (boxes[i], boxes[j]) else {
                    continue;
                };
                if a.min().x <= b.max().x
                    && b.min().x <= a.max().x
                    && a.min().y <= b.max().y
                    && b.min().y <= a.max().y
                {
                    brute.push((i, j));
                }
            }
        }
        assert!(brute.len() > 100);
        assert_eq!(meeting_boxes(&boxes), brute);
    }
}
