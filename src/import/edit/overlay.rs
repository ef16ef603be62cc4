//! Union and difference for edits that keep shared borders bit-identical.
//!
//! geo's `BooleanOps` runs i_overlay with its OGC options, which drop
//! collinear vertices and return coordinates that went through i_overlay's
//! fixed-point grid. Both break a partition: a neighbour the edit leaves
//! alone still has the dropped vertex (a T-junction), and a coordinate off
//! by 1e-12° is no longer "the same vertex" on both sides. So edits call
//! i_overlay (the engine under `BooleanOps`) with collinear vertices kept,
//! then snap every output vertex back to the input vertex it came from
//! (within [`SNAP_DEG`]; the fixed-point grid over a few grids is ~1e-9°).
//! In a partition every vertex of a union or difference of whole grids is an
//! input vertex, so after the snap nothing new is invented.

use geo::orient::{Direction, Orient};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::float::overlay::{FloatOverlay, OverlayOptions};
use rstar::RTree;

/// How far an output vertex may lie from the input vertex it is snapped
/// back to, degrees (about 1 cm).
const SNAP_DEG: f64 = 1e-7;

/// The union of `shapes` (which may touch but are taken not to overlap).
pub(super) fn union(shapes: &[&MultiPolygon<f64>]) -> MultiPolygon<f64> {
    let subject: Vec<Vec<[f64; 2]>> = shapes.iter().flat_map(|s| contours(s)).collect();
    run(&subject, &[], OverlayRule::Subject)
}

/// `a` without `b`.
pub(super) fn difference(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    run(&contours(a), &contours(b), OverlayRule::Difference)
}

/// Every ring as an open path, shells counter-clockwise and holes
/// clockwise (the fill rule below reads direction).
fn contours(shape: &MultiPolygon<f64>) -> Vec<Vec<[f64; 2]>> {
    shape
        .orient(Direction::Default)
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .map(|ring| {
            let mut path: Vec<[f64; 2]> = ring.0.iter().map(|c| [c.x, c.y]).collect();
            if path.len() > 1 && path.first() == path.last() {
                path.pop();
            }
            path
        })
        .collect()
}

fn run(subject: &[Vec<[f64; 2]>], clip: &[Vec<[f64; 2]>], rule: OverlayRule) -> MultiPolygon<f64> {
    let options = OverlayOptions {
        preserve_input_collinear: true,
        preserve_output_collinear: true,
        ..OverlayOptions::ogc()
    };
    let shapes =
        FloatOverlay::with_subj_and_clip_custom(subject, clip, options, Default::default())
            .overlay(rule, FillRule::NonZero);
    let inputs: RTree<[f64; 2]> = RTree::bulk_load(
        subject
            .iter()
            .chain(clip)
            .flat_map(|path| path.iter().copied())
            .collect(),
    );
    let snap = |p: [f64; 2]| -> Coord<f64> {
        let p = match inputs.nearest_neighbor(&p) {
            Some(q) if (q[0] - p[0]).hypot(q[1] - p[1]) <= SNAP_DEG => *q,
            _ => p,
        };
        Coord { x: p[0], y: p[1] }
    };
    let ring = |path: &Vec<[f64; 2]>| -> Option<LineString<f64>> {
        let mut coords: Vec<Coord<f64>> = Vec::with_capacity(path.len() + 1);
        for &p in path {
            let c = snap(p);
            if coords.last() != Some(&c) {
                coords.push(c);
            }
        }
        while coords.len() > 1 && coords.first() == coords.last() {
            coords.pop();
        }
        (coords.len() >= 3).then(|| {
            let mut ring = LineString::new(coords);
            ring.close();
            ring
        })
    };
    MultiPolygon::new(
        shapes
            .iter()
            .filter_map(|shape| {
                let mut rings = shape.iter().filter_map(&ring);
                let shell = rings.next()?;
                Some(Polygon::new(shell, rings.collect()))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(ring: &[(f64, f64)]) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![Polygon::new(ring.to_vec().into(), vec![])])
    }

    fn vertices(shape: &MultiPolygon<f64>) -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = shape.0[0].exterior().0.iter().map(|c| (c.x, c.y)).collect();
        v.pop();
        v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
        v
    }

    /// Two grids sharing the edge x = 105.1 (with a vertex on it that only
    /// they have) merge into one, keeping the collinear vertex (105.05,
    /// 34.7) that a neighbour below shares, every coordinate bit for bit.
    #[test]
    fn a_union_keeps_every_outer_vertex_exactly() {
        let a = square(&[
            (105.0, 34.7),
            (105.05, 34.7),
            (105.1, 34.7),
            (105.1, 34.75),
            (105.1, 34.8),
            (105.0, 34.8),
            (105.0, 34.7),
        ]);
        let b = square(&[
            (105.1, 34.7),
            (105.2, 34.7),
            (105.2, 34.8),
            (105.1, 34.8),
            (105.1, 34.75),
            (105.1, 34.7),
        ]);
        let merged = union(&[&a, &b]);
        assert_eq!(merged.0.len(), 1);
        assert_eq!(
            vertices(&merged),
            [
                (105.0, 34.7),
                (105.0, 34.8),
                (105.05, 34.7),
                (105.1, 34.7),
                (105.1, 34.8),
                (105.2, 34.7),
                (105.2, 34.8)
            ]
        );
        // And back: the merged grid without b is a, exactly.
        assert_eq!(vertices(&difference(&merged, &b)), vertices(&a));
    }
}
