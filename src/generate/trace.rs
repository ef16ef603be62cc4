//! From labelled lattice cells to polygons: each region's boundary is the set
//! of cell edges whose other side has another label. Oriented with the region
//! on the left, those edges link into simple rings (one in-edge and one
//! out-edge per vertex, a property of the hexagonal lattice); counter-clockwise
//! rings are exteriors, clockwise rings are holes, as RFC 7946 wants.

use std::collections::HashMap;

use geo::{Contains, Coord, LineString, MultiPolygon, Polygon};

use super::lattice::{Lattice, VertexKey};
use super::partition::NONE;

/// The boundary of every region `0..regions` of `labels` (cells labelled
/// [`NONE`] belong to none).
pub fn trace_regions(lattice: &Lattice, labels: &[u32], regions: usize) -> Vec<MultiPolygon<f64>> {
    let mut edges: Vec<Vec<(VertexKey, VertexKey)>> = vec![Vec::new(); regions];
    for c in 0..lattice.len() {
        let label = labels[c];
        if label == NONE {
            continue;
        }
        let corners = lattice.corners(c as u32);
        for (k, n) in lattice.neighbours(c as u32).into_iter().enumerate() {
            if n.is_none_or(|n| labels[n as usize] != label) {
                // Corners run clockwise, so k+1 → k runs with the cell on the left.
                edges[label as usize].push((corners[(k + 1) % 6], corners[k]));
            }
        }
    }
    edges.into_iter().map(|e| assemble(lattice, e)).collect()
}

fn assemble(lattice: &Lattice, mut edges: Vec<(VertexKey, VertexKey)>) -> MultiPolygon<f64> {
    // Sorted so that rings start at the same vertex on every run.
    edges.sort_unstable();
    let mut next: HashMap<VertexKey, VertexKey> = edges.iter().copied().collect();
    let mut exteriors: Vec<LineString<f64>> = Vec::new();
    let mut holes: Vec<LineString<f64>> = Vec::new();
    for (start, _) in &edges {
        if !next.contains_key(start) {
            continue;
        }
        let mut ring: Vec<Coord<f64>> = Vec::new();
        let mut at = *start;
        while let Some(to) = next.remove(&at) {
            ring.push(lattice.vertex(at).into());
            ring.push(lattice.edge_midpoint(at, to).into());
            at = to;
        }
        debug_assert_eq!(at, *start, "hexagon boundaries always close");
        ring.push(ring[0]);
        let ring = LineString(ring);
        if signed_area(&ring) > 0.0 {
            exteriors.push(ring);
        } else {
            holes.push(ring);
        }
    }
    let mut polygons: Vec<(LineString<f64>, Vec<LineString<f64>>)> =
        exteriors.into_iter().map(|e| (e, Vec::new())).collect();
    for hole in holes {
        let probe = hole.0[0];
        let owner = if polygons.len() == 1 {
            0
        } else {
            polygons
                .iter()
                .position(|(e, _)| Polygon::new(e.clone(), vec![]).contains(&probe))
                .expect("a hole lies inside one of its region's exteriors")
        };
        polygons[owner].1.push(hole);
    }
    MultiPolygon(
        polygons
            .into_iter()
            .map(|(e, h)| Polygon::new(e, h))
            .collect(),
    )
}

/// Twice the signed area (shoelace); positive for counter-clockwise rings.
fn signed_area(ring: &LineString<f64>) -> f64 {
    ring.lines()
        .map(|l| l.start.x * l.end.y - l.end.x * l.start.y)
        .sum()
}
