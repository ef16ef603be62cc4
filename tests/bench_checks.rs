//! The benchmarks' answer checks fail on a wrong answer (the benchmarks
//! themselves only run under `cargo bench`; their checks are shown here).

#[path = "../benches/checks.rs"]
mod checks;

use std::sync::Arc;

use checks::{round_visits_every_stop_once, same_tile, stores_hold_what_was_reported};
use geozero::mvt::tile::{Feature, GeomType, Layer, Value};
use geozero::mvt::{Message, Tile};
use wangge::generate::{DEMO_SEED, generate};
use wangge::geom::{Bbox, LonLat};
use wangge::index::GridIndex;
use wangge::tiles::{EXTENT, TileId, TileSource, Tileset, render, simplify_tolerance};

/// A round that drops a stop, repeats one, or starts elsewhere is refused.
#[test]
fn a_round_that_drops_or_repeats_a_stop_fails() {
    assert!(round_visits_every_stop_once(&[0, 3, 1, 2], 3).is_ok());
    let dropped = round_visits_every_stop_once(&[0, 3, 1], 3).expect_err("a stop is missing");
    assert!(dropped.contains("missing [2]"), "{dropped}");
    assert!(round_visits_every_stop_once(&[0, 1, 1, 2], 3).is_err());
    assert!(round_visits_every_stop_once(&[1, 0, 2, 3], 3).is_err());
    assert!(round_visits_every_stop_once(&[0, 1, 2, 3, 4], 3).is_err());
}

/// A grid tile from the demo county's centre at zoom 12, as wangge cuts it.
fn demo_tile() -> (TileId, Vec<u8>) {
    let index = Arc::new(GridIndex::build(generate(DEMO_SEED)));
    let bounds = index
        .grids()
        .iter()
        .filter_map(|g| Bbox::of(&g.geometry))
        .reduce(Bbox::union)
        .expect("a county");
    let centre = LonLat::new(
        (bounds.min_lon + bounds.max_lon) / 2.0,
        (bounds.min_lat + bounds.max_lat) / 2.0,
    );
    let tile = TileId::containing(centre, 12);
    let source = TileSource::new(index, 0);
    (
        tile,
        render(&source, Tileset::Grids, tile).expect("grids in the centre"),
    )
}

fn edit(bytes: &[u8], change: impl FnOnce(&mut Tile)) -> Vec<u8> {
    let mut tile = Tile::decode(bytes).expect("a tile");
    change(&mut tile);
    tile.encode_to_vec()
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// A tile of rectangles `(id, x0, y0, x1, y1)` in one layer `grids`.
fn rectangles(rects: &[(&str, i32, i32, i32, i32)]) -> Vec<u8> {
    let mut layer = Layer {
        version: 2,
        name: "grids".into(),
        extent: Some(EXTENT),
        keys: vec!["id".into()],
        ..Default::default()
    };
    for (i, &(id, x0, y0, x1, y1)) in rects.iter().enumerate() {
        layer.values.push(Value {
            string_value: Some(id.into()),
            ..Default::default()
        });
        // Clockwise in tile coordinates (y down): an exterior ring.
        let geometry = vec![
            9,
            zigzag(x0),
            zigzag(y0),
            (3 << 3) | 2,
            zigzag(x1 - x0),
            0,
            0,
            zigzag(y1 - y0),
            zigzag(x0 - x1),
            0,
            15,
        ];
        layer.features.push(Feature {
            tags: vec![0, i as u32],
            r#type: Some(GeomType::Polygon as i32),
            geometry,
            ..Default::default()
        });
    }
    Tile {
        layers: vec![layer],
    }
    .encode_to_vec()
}

/// A tile agrees with itself; one grid moved by 20 units, renamed, or left
/// out is refused, naming the grid; a sliver in one tile only is accepted.
#[test]
fn tiles_with_a_moved_renamed_or_missing_grid_fail() {
    let (tile, ours) = demo_tile();
    let what = format!("tile {}/{}/{}", tile.z, tile.x, tile.y);
    let extent = f64::from(EXTENT);
    let tolerance = simplify_tolerance(tile.z);
    let same = same_tile(&what, &ours, &ours, extent, tolerance).expect("the same tile");
    assert!(same.compared > 3, "{same:?}");
    assert_eq!(same.worst_mean_offset, 0.0);

    let moved = edit(&ours, |t| {
        // The first MoveTo of a feature is relative to (0, 0): shift it.
        let g = &mut t.layers[0].features[0].geometry;
        let x = ((g[1] >> 1) as i32) ^ -((g[1] & 1) as i32);
        g[1] = zigzag(x + 20);
    });
    let e = same_tile(&what, &ours, &moved, extent, tolerance).expect_err("moved");
    assert!(e.contains("outlines disagree"), "{e}");

    let renamed = edit(&ours, |t| {
        let layer = &mut t.layers[0];
        let name = layer.keys.iter().position(|k| k == "name").expect("names") as u32;
        let f = &mut layer.features[0];
        let at = f.tags.chunks(2).position(|p| p[0] == name).expect("named");
        layer.values.push(Value {
            string_value: Some("别的网格".into()),
            ..Default::default()
        });
        f.tags[at * 2 + 1] = (layer.values.len() - 1) as u32;
    });
    let e = same_tile(&what, &ours, &renamed, extent, tolerance).expect_err("renamed");
    assert!(e.contains("别的网格"), "{e}");

    let dropped = edit(&ours, |t| {
        t.layers[0].features.remove(0);
    });
    let e = same_tile(&what, &ours, &dropped, extent, tolerance).expect_err("dropped");
    assert!(e.contains("only in wangge's tile"), "{e}");

    let with_sliver = rectangles(&[("a", 0, 0, 4096, 2048), ("sliver", 0, 2048, 3000, 2049)]);
    let without = rectangles(&[("a", 0, 0, 4096, 2048)]);
    let seen = same_tile("slivers", &with_sliver, &without, extent, 8.0).expect("a sliver");
    assert_eq!((seen.compared, seen.slivers), (1, 1));
    let wide = rectangles(&[("a", 0, 0, 4096, 2048), ("b", 0, 2048, 3000, 2100)]);
    assert!(same_tile("wide", &wide, &without, extent, 8.0).is_err());
}

/// A backend that lost a report, or a list that miscounts, is refused.
#[test]
fn a_lost_report_fails() {
    assert!(stores_hold_what_was_reported(10, &[("sqlite", 10, 10), ("postgis", 10, 10)]).is_ok());
    assert!(stores_hold_what_was_reported(10, &[("sqlite", 10, 10), ("postgis", 9, 9)]).is_err());
    assert!(stores_hold_what_was_reported(10, &[("sqlite", 10, 11)]).is_err());
}
