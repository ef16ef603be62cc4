//! Cutting one tile: the pipeline in the module doc of [`super`], as code.
//!
//! Per ring: project to tile units; cut away what lies beyond the buffer
//! (`preclip`, linear); snap to whole units and simplify (`simplify`,
//! Douglas–Peucker to a pixel). Then clipping and repair are one
//! step: the grid's rings go through an exact integer overlay
//! (`i_overlay`, the engine under geo's `BooleanOps`) intersected with the
//! buffered tile square. Its output is OGC-valid by construction: no
//! self-intersections, no zero-area spikes, holes inside their shells, rings
//! oriented as asked. Snapping and simplification may damage a ring; the
//! overlay is what makes that harmless, so there is no separate validity
//! pass.

use geo::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};
use geozero::ToMvt;
use geozero::mvt::tile::{Feature, Layer};
use geozero::mvt::{Message, TagsBuilder, Tile, TileValue};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{ContourDirection, IntOverlayOptions, Overlay, ShapeType};
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::core::solver::{Precision, Solver};
use i_overlay::i_float::int::point::IntPoint;
use i_overlay::i_shape::int::shape::IntShapes;

use super::coord::{TileId, WorldXY};
use super::source::TileSource;
use super::{BUFFER, EXTENT, GRID_MIN_ZOOM, LABEL_MIN_ZOOM, MAX_ZOOM, Tileset};
use super::{preclip, simplify};
use crate::model::{Grid, Level};

/// Simplification tolerance in tile units below [`MAX_ZOOM`]: one pixel of
/// a tile drawn 512 pixels wide (as MapLibre draws them), the usual choice
/// of tile servers. It removes the boundary detail the zoom cannot show,
/// which is also what keeps the overlay fast: at half a pixel the median
/// zoom-12 tile took 5.9 ms to cut instead of 3.8 ms (tile benchmark).
const SIMPLIFY_UNITS: f64 = 8.0;

/// The tolerance at [`MAX_ZOOM`], whose tiles clients overzoom: a quarter
/// of a pixel at zoom 14, under a metre.
const SIMPLIFY_UNITS_MAX_ZOOM: f64 = 2.0;

/// Rings with less area than this (square tile units, doubled, as the overlay
/// measures it) are dropped: a sliver a sixteenth of a pixel wide.
const MIN_RING_AREA: u64 = 2;

/// Cut one tile of a tileset. `None` when the tile holds no feature.
pub fn render(source: &TileSource, tileset: Tileset, tile: TileId) -> Option<Vec<u8>> {
    let layer = match tileset {
        Tileset::Grids => grids_layer(source, tile),
        Tileset::Labels => labels_layer(source, tile),
        // Not cut from the grids: see `incidents::render_incidents`.
        Tileset::Incidents => return None,
    };
    if layer.features.is_empty() {
        return None;
    }
    Some(
        Tile {
            layers: vec![layer],
        }
        .encode_to_vec(),
    )
}

/// The levels whose features a tileset holds at zoom `z`, towns first.
fn levels_at(min_zoom: &[u8; 5], z: u8) -> impl Iterator<Item = Level> + '_ {
    Level::ALL
        .into_iter()
        .filter(move |level| min_zoom[level.index()] <= z)
}

/// How far, in tile units, a grid outline in a tile at `zoom` may stray
/// from the true border through simplification (snapping to whole units
/// adds up to half a unit more).
pub fn simplify_tolerance(zoom: u8) -> f64 {
    if zoom >= MAX_ZOOM {
        SIMPLIFY_UNITS_MAX_ZOOM
    } else {
        SIMPLIFY_UNITS
    }
}

fn grids_layer(source: &TileSource, tile: TileId) -> Layer {
    let mut layer = LayerBuilder::new(Tileset::Grids);
    let index = source.index();
    let bounds = tile.lonlat_bounds(f64::from(BUFFER) / f64::from(EXTENT));
    let mut cutter = Cutter::new(tile, simplify_tolerance(tile.z));
    for level in levels_at(&GRID_MIN_ZOOM, tile.z) {
        for ix in index.candidates_in_bbox(level, bounds) {
            let shapes = cutter.cut(source.world_geometry(ix));
            if shapes.is_empty() {
                continue;
            }
            let geometry = to_geo(&shapes);
            layer.push(index.grid(ix), &Geometry::MultiPolygon(geometry), true);
        }
    }
    layer.finish()
}

fn labels_layer(source: &TileSource, tile: TileId) -> Layer {
    let mut layer = LayerBuilder::new(Tileset::Labels);
    let index = source.index();
    // A label belongs to the one tile its point is in, so that it is not
    // drawn twice where tiles meet.
    let bounds = tile.lonlat_bounds(0.0);
    let extent = f64::from(EXTENT);
    for level in levels_at(&LABEL_MIN_ZOOM, tile.z) {
        for ix in index.candidates_in_bbox(level, bounds) {
            let Some(point) = source.label_point(ix) else {
                continue;
            };
            let (x, y) = tile.to_tile_units(WorldXY::from_lonlat(point), extent);
            if !(0.0..extent).contains(&x) || !(0.0..extent).contains(&y) {
                continue;
            }
            let point = Point::new(x.floor(), y.floor());
            layer.push(index.grid(ix), &Geometry::Point(point), false);
        }
    }
    layer.finish()
}

/// Snaps, simplifies and clips grid geometry to one tile, reusing its
/// buffers from grid to grid.
struct Cutter {
    tile: TileId,
    tolerance: f64,
    /// The buffered tile square, in tile units.
    clip: [IntPoint; 4],
    // Buffers reused from ring to ring.
    projected: Vec<Coord<f64>>,
    clipped: Vec<Coord<f64>>,
    scratch: Vec<Coord<f64>>,
    ring: Vec<Coord<f64>>,
    simplified: Vec<Coord<f64>>,
    keep: Vec<bool>,
    stack: Vec<(usize, usize)>,
}

impl Cutter {
    fn new(tile: TileId, tolerance: f64) -> Cutter {
        let lo = -(BUFFER as i32);
        let hi = (EXTENT + BUFFER) as i32;
        Cutter {
            tile,
            tolerance,
            clip: [
                IntPoint::new(lo, lo),
                IntPoint::new(hi, lo),
                IntPoint::new(hi, hi),
                IntPoint::new(lo, hi),
            ],
            projected: Vec::new(),
            clipped: Vec::new(),
            scratch: Vec::new(),
            ring: Vec::new(),
            simplified: Vec::new(),
            keep: Vec::new(),
            stack: Vec::new(),
        }
    }

    /// The part of a grid (normalised Web Mercator) inside the buffered tile,
    /// in whole tile units; empty when nothing of it is.
    fn cut(&mut self, world: &MultiPolygon<f64>) -> IntShapes {
        let extent = f64::from(EXTENT);
        let lo = -f64::from(BUFFER);
        let hi = extent + f64::from(BUFFER);
        let options = IntOverlayOptions {
            // Positive area in tile units (y down) is what MVT calls an
            // exterior ring, and what the overlay calls counter-clockwise.
            output_direction: ContourDirection::CounterClockwise,
            min_output_area: MIN_RING_AREA,
            ogc: true,
            ..IntOverlayOptions::default()
        };
        // One tile is small work: no threads. Absolute precision: the
        // overlay snaps intersections within one tile unit, never more.
        let solver = Solver {
            multithreading: None,
            precision: Precision::ABSOLUTE,
            ..Solver::default()
        };
        let mut overlay = Overlay::new_custom(256, options, solver);
        let mut any = false;
        for polygon in &world.0 {
            for (n, ring) in std::iter::once(polygon.exterior())
                .chain(polygon.interiors())
                .enumerate()
            {
                // 1. Project to tile units, noting the ring's extent.
                self.projected.clear();
                let (mut min_x, mut min_y, mut max_x, mut max_y) =
                    (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                // The closing vertex repeats the first: leave it out.
                for &c in &ring.0[..ring.0.len().saturating_sub(1)] {
                    let (x, y) = self.tile.to_tile_units(WorldXY { x: c.x, y: c.y }, extent);
                    self.projected.push(Coord { x, y });
                    min_x = min_x.min(x);
                    min_y = min_y.min(y);
                    max_x = max_x.max(x);
                    max_y = max_y.max(y);
                }
                if max_x < lo || min_x > hi || max_y < lo || min_y > hi {
                    if n == 0 {
                        // The shell misses the tile, and so do its holes.
                        break;
                    }
                    continue;
                }
                // 2. Cut away what lies beyond the buffer, unless nothing does.
                let within = lo <= min_x && max_x <= hi && lo <= min_y && max_y <= hi;
                let near: &[Coord<f64>] = if within {
                    &self.projected
                } else {
                    preclip::clip_ring(
                        &self.projected,
                        lo,
                        hi,
                        &mut self.clipped,
                        &mut self.scratch,
                    );
                    &self.clipped
                };
                // 3. Snap to whole units, drop repeats, simplify.
                self.ring.clear();
                for c in near {
                    let snapped = Coord {
                        x: c.x.round(),
                        y: c.y.round(),
                    };
                    if self.ring.last() != Some(&snapped) {
                        self.ring.push(snapped);
                    }
                }
                if let Some(&first) = self.ring.first() {
                    self.ring.push(first);
                }
                if self.ring.len() < 4 {
                    // Collapsed to a point or a line at this zoom.
                    if n == 0 {
                        break;
                    }
                    continue;
                }
                self.simplified.clear();
                simplify::simplify_ring(
                    &self.ring,
                    self.tolerance,
                    &mut self.simplified,
                    &mut self.keep,
                    &mut self.stack,
                );
                if self.simplified.len() < 4 {
                    if n == 0 {
                        break;
                    }
                    continue;
                }
                // 4. Into the overlay, which clips exactly and repairs.
                overlay.add_path_iter(
                    self.simplified[..self.simplified.len() - 1]
                        .iter()
                        .map(|c| IntPoint::new(c.x as i32, c.y as i32)),
                    ShapeType::Subject,
                );
                any = true;
            }
        }
        if !any {
            return IntShapes::new();
        }
        overlay.add_contour(&self.clip, ShapeType::Clip);
        // Even-odd: a hole is a hole whichever way its ring was written.
        overlay.overlay(OverlayRule::Intersect, FillRule::EvenOdd)
    }
}

/// The overlay's shapes as a geo multipolygon with closed rings, the form
/// the MVT encoder takes.
fn to_geo(shapes: &IntShapes) -> MultiPolygon<f64> {
    let ring = |contour: &Vec<IntPoint>| {
        let mut coords: Vec<Coord<f64>> = contour
            .iter()
            .map(|p| Coord {
                x: f64::from(p.x),
                y: f64::from(p.y),
            })
            .collect();
        if let Some(&first) = coords.first() {
            coords.push(first);
        }
        LineString(coords)
    };
    MultiPolygon(
        shapes
            .iter()
            .filter_map(|shape| {
                let (shell, holes) = shape.split_first()?;
                Some(Polygon::new(ring(shell), holes.iter().map(ring).collect()))
            })
            .collect(),
    )
}

/// The MVT feature id of a grid: MVT ids are unsigned integers, so the grid
/// id when it is one written canonically (the demo county's hierarchical
/// codes are), else none. A position or hash would not do: clients key
/// feature state (hover, selection) by this id, so it must name the same
/// grid in every version of the tiles, and two ids must never collide
/// (`"007"` and `"7"` would both parse as 7). The `id` attribute always
/// carries the grid id as written.
fn mvt_feature_id(grid_id: &str) -> Option<u64> {
    grid_id
        .parse::<u64>()
        .ok()
        .filter(|n| n.to_string() == grid_id)
}

/// One MVT layer under construction: features plus the shared key and value
/// tables.
struct LayerBuilder {
    tileset: Tileset,
    tags: TagsBuilder,
    features: Vec<Feature>,
}

impl LayerBuilder {
    fn new(tileset: Tileset) -> LayerBuilder {
        LayerBuilder {
            tileset,
            tags: TagsBuilder::new(),
            features: Vec::new(),
        }
    }

    /// Add a grid's feature with the tileset's attributes. `full` adds the
    /// polygon layer's extra attributes (parent, population).
    fn push(&mut self, grid: &Grid, geometry: &Geometry<f64>, full: bool) {
        let Ok(mut feature) = geometry.to_mvt_unscaled() else {
            // The encoder refuses only rings under three points, which the
            // overlay never returns; a label point cannot fail.
            tracing::warn!(grid = %grid.id.0, "grid geometry could not be encoded; left out of tile");
            return;
        };
        feature.id = mvt_feature_id(&grid.id.0);
        let mut tag = |key: &str, value: TileValue| {
            let (k, v) = self.tags.insert_ref(key, value);
            feature.tags.extend([k, v]);
        };
        tag("id", TileValue::Str(grid.id.0.clone()));
        if let Some(code) = grid.code() {
            tag("code", TileValue::Str(code.to_owned()));
        }
        tag("name", TileValue::Str(grid.name.clone()));
        tag("level", TileValue::Uint(u64::from(grid.level.get())));
        if full {
            if let Some(parent) = &grid.parent_id {
                tag("parent", TileValue::Str(parent.0.clone()));
            }
            if let Some(population) = grid.population() {
                tag("population", TileValue::Uint(population));
            }
        }
        self.features.push(feature);
    }

    fn finish(self) -> Layer {
        let (keys, values) = self.tags.into_tags();
        Layer {
            version: 2,
            name: self.tileset.name().to_owned(),
            features: self.features,
            keys,
            values: values.into_iter().map(Into::into).collect(),
            extent: Some(EXTENT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mvt_feature_id;

    /// Only canonical unsigned integers become MVT ids, so that one id
    /// never names two grids and never changes between imports.
    #[test]
    fn feature_ids_are_canonical_grid_ids_or_none() {
        assert_eq!(mvt_feature_id("620524101"), Some(620_524_101));
        assert_eq!(mvt_feature_id("0"), Some(0));
        for not_canonical in ["007", "+7", "7 ", "", "a1", "-1", "99999999999999999999"] {
            assert_eq!(mvt_feature_id(not_canonical), None, "{not_canonical:?}");
        }
    }
}
