//! The answer checks the benchmarks make before they time anything: a
//! wrong but fast answer must fail the run. Shared by the benchmarks
//! (`#[path]`) and by `tests/bench_checks.rs`, which shows each failing on
//! a broken answer.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use geo::{Area, BooleanOps, Euclidean, Geometry, Length, MultiPolygon, Rect, coord};
use geozero::ToGeo;
use geozero::mvt::{Message, Tile};

/// A patrol's round: it starts at the start (index 0) and visits every
/// stop `1..=stops` exactly once, nothing else.
pub fn round_visits_every_stop_once(order: &[usize], stops: usize) -> Result<(), String> {
    if order.first() != Some(&0) {
        return Err(format!("the round does not start at the start: {order:?}"));
    }
    let visited: BTreeSet<usize> = order[1..].iter().copied().collect();
    let wanted: BTreeSet<usize> = (1..=stops).collect();
    if order.len() != stops + 1 || visited != wanted {
        let missing: Vec<usize> = wanted.difference(&visited).copied().collect();
        return Err(format!(
            "the round has {} stops for {stops}: missing {missing:?}, order {order:?}",
            order.len() - 1
        ));
    }
    Ok(())
}

/// How closely two cuts of one tile agree (see [`same_tile`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct TileAgreement {
    /// Features compared (grids present in both tiles).
    pub compared: usize,
    /// Grids present in one tile only (all of them slivers).
    pub slivers: usize,
    /// The largest mean distance, in tile units, between the two outlines
    /// of one grid: the area where they disagree over the outline's length.
    pub worst_mean_offset: f64,
}

/// One grid as a tile carries it: its attributes (numbers written the same
/// whichever integer type the encoder chose) and its geometry inside the
/// tile square (the buffer is each encoder's own affair).
struct TileFeature {
    attributes: BTreeMap<String, String>,
    shape: MultiPolygon<f64>,
}

fn features(bytes: &[u8], extent: f64) -> Result<BTreeMap<String, TileFeature>, String> {
    let tile = Tile::decode(bytes).map_err(|e| format!("not a vector tile: {e}"))?;
    let square = MultiPolygon::new(vec![
        Rect::new(coord! { x: 0.0, y: 0.0 }, coord! { x: extent, y: extent }).to_polygon(),
    ]);
    let mut out = BTreeMap::new();
    for layer in &tile.layers {
        for f in &layer.features {
            let mut attributes = BTreeMap::new();
            attributes.insert("layer".to_owned(), layer.name.clone());
            for pair in f.tags.chunks(2) {
                let key = layer.keys[pair[0] as usize].clone();
                let v = &layer.values[pair[1] as usize];
                let value = if let Some(s) = &v.string_value {
                    s.clone()
                } else if let Some(i) = v.int_value.or(v.sint_value) {
                    i.to_string()
                } else if let Some(u) = v.uint_value {
                    u.to_string()
                } else if let Some(d) = v.double_value.or(v.float_value.map(f64::from)) {
                    d.to_string()
                } else {
                    format!("{:?}", v.bool_value)
                };
                attributes.insert(key, value);
            }
            let id = attributes
                .get("id")
                .cloned()
                .ok_or_else(|| format!("a feature without an id in layer {}", layer.name))?;
            let shape = match f.to_geo().map_err(|e| format!("grid {id}: {e}"))? {
                Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
                Geometry::MultiPolygon(m) => m,
                other => return Err(format!("grid {id}: not a polygon: {other:?}")),
            };
            let shape = shape.intersection(&square);
            if out
                .insert(id.clone(), TileFeature { attributes, shape })
                .is_some()
            {
                return Err(format!("grid {id} appears twice"));
            }
        }
    }
    Ok(out)
}

/// The length of a clipped shape's outline inside the tile: the parts
/// along the tile's edges are the clip's, the same on both sides, and
/// would dilute the mean offset.
fn outline_length(shape: &MultiPolygon<f64>, extent: f64) -> f64 {
    let on_edge = |a: f64, b: f64| (a == 0.0 && b == 0.0) || (a == extent && b == extent);
    shape
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|ring| ring.lines())
        .filter(|l| !on_edge(l.start.x, l.end.x) && !on_edge(l.start.y, l.end.y))
        .map(|l| Euclidean.length(&l))
        .sum()
}

/// Two cuts of one tile carry the same grids with the same attributes and
/// the same shapes. Both encoders snap to whole units and may simplify, so
/// with Douglas–Peucker up to `simplify` tile units off the border. A
/// simplified outline strays at most that far, and on average much less:
/// the area where the two outlines disagree, divided by the outline's
/// length inside the tile, must stay within half of it plus a unit of
/// snapping (a grid moved by a few units fails). A grid in one tile only
/// must be a sliver no wider than `simplify` plus a unit (twice its area
/// over its outline's length), which one encoder may drop and the other
/// keep.
pub fn same_tile(
    what: &str,
    ours: &[u8],
    theirs: &[u8],
    extent: f64,
    simplify: f64,
) -> Result<TileAgreement, String> {
    let tolerance = simplify / 2.0 + 1.0;
    let sliver = simplify + 1.0;
    let ours = features(ours, extent).map_err(|e| format!("{what}, wangge's tile: {e}"))?;
    let theirs = features(theirs, extent).map_err(|e| format!("{what}, baseline's tile: {e}"))?;
    let mut agreement = TileAgreement::default();
    for (id, a) in &ours {
        let Some(b) = theirs.get(id) else { continue };
        if a.attributes != b.attributes {
            return Err(format!(
                "{what}, grid {id}: wangge's attributes {:?}, the baseline's {:?}",
                a.attributes, b.attributes
            ));
        }
        let length = outline_length(&a.shape, extent).max(outline_length(&b.shape, extent));
        let disagree = a.shape.xor(&b.shape).unsigned_area();
        if length == 0.0 {
            continue;
        }
        let offset = disagree / length;
        if offset > tolerance {
            return Err(format!(
                "{what}, grid {id}: the outlines disagree over {disagree:.0} square units, \
                 {offset:.1} units on average along {length:.0} units of outline \
                 (allowed {tolerance})"
            ));
        }
        agreement.compared += 1;
        agreement.worst_mean_offset = agreement.worst_mean_offset.max(offset);
    }
    for (side, only, other) in [
        ("wangge's", &ours, &theirs),
        ("the baseline's", &theirs, &ours),
    ] {
        for (id, f) in only.iter().filter(|(id, _)| !other.contains_key(*id)) {
            let area = f.shape.unsigned_area();
            let length = outline_length(&f.shape, extent);
            let width = if length == 0.0 {
                0.0
            } else {
                2.0 * area / length
            };
            if width > sliver {
                return Err(format!(
                    "{what}: grid {id} is only in {side} tile, {area:.0} square units \
                     ({width:.1} units wide, more than a sliver of {sliver})"
                ));
            }
            agreement.slivers += 1;
        }
    }
    Ok(agreement)
}

/// Every backend holds exactly the incidents reported, and its list says
/// so: `(backend, stored, list total)` for each.
pub fn stores_hold_what_was_reported(
    reported: u64,
    seen: &[(&str, u64, u64)],
) -> Result<(), String> {
    for (backend, stored, listed) in seen {
        if *stored != reported || *listed != reported {
            return Err(format!(
                "{backend}: {reported} reported, {stored} stored, the list says {listed}"
            ));
        }
    }
    Ok(())
}
