//! The MapLibre style document (`/style.json`) that draws the grid tiles: a
//! pure function of the server's base URL, since a style's source and font
//! URLs must be absolute.
//!
//! Layers, bottom to top:
//!
//! 1. `background`: a plain paper colour; no base map by default (the web map
//!    adds a raster base map under the fills when the user configures one);
//! 2. `grids-fill-{1..5}`: one fill per level, each shown in the zoom band
//!    where its level is the finest one in the tiles (levels 4 and 5 both stay
//!    from their first zoom on, since sub-areas cover only some basic grids),
//!    coloured by level by default;
//! 3. `grids-line-{5..1}`: one outline per level from the zoom its polygons
//!    enter the tiles ([`GRID_MIN_ZOOM`]), deeper levels below so that the
//!    bolder outline of a coarser level is drawn over the edge it shares;
//! 4. `labels-{5..1}`: one name layer per level from [`LABEL_MIN_ZOOM`],
//!    towns on top so that they win label collisions.
//!
//! Text needs no glyph server: MapLibre GL JS 6 draws text with fonts instead.
//! Latin letters and digits come from the Noto Sans files the style declares in
//! `font-faces` (served from the embedded web bundle at `/fonts/…`, see
//! `web/build.mjs`); everything else, Chinese above all, from the browser's
//! fonts named by the `text-font` stacks below. The style therefore has no
//! `glyphs` URL.
//!
//! `metadata` carries what the web map needs to switch colourings and draw
//! its legend without a second copy of the colours: the levels with their
//! names, colours and zooms, and each colouring's paint per fill layer.

use serde_json::{Value, json};

use super::{GRID_MIN_ZOOM, LABEL_MIN_ZOOM};

/// The levels' short Chinese names, level 1 first, as the legend shows them.
pub const LEVEL_NAMES: [&str; 5] = ["乡镇", "村（社区）", "村民小组", "基础网格", "片区"];

/// Each level's colour (outlines, labels, the by-level fill), level 1 first.
const LEVEL_COLOURS: [&str; 5] = ["#1f3a5f", "#7b3fa0", "#1b8a7a", "#c8553d", "#7d8590"];

/// Opacity of the by-level fill: a tint saying which level is in view.
const LEVEL_FILL_OPACITY: f64 = 0.14;

/// The population classes' colours, fewest people first (a sequential
/// yellow-to-red ramp that stays readable under the outlines).
const POPULATION_COLOURS: [&str; 5] = ["#fff3c4", "#fdd08a", "#fc9f5b", "#e8603c", "#b7282e"];

/// Opacity of the by-population fill.
const POPULATION_FILL_OPACITY: f64 = 0.6;

/// The upper bounds (exclusive) of the first four population classes, per
/// level: the demo county's population quintiles for grids of that level,
/// rounded, so that each class holds about a fifth of the grids in view.
pub const POPULATION_BREAKS: [[u64; 4]; 5] = [
    [8_500, 10_000, 14_000, 19_000],
    [500, 1_000, 1_800, 3_200],
    [300, 600, 900, 1_700],
    [120, 200, 300, 480],
    [70, 115, 170, 280],
];

/// The font stack of each level's labels, level 1 first. The first name is
/// declared in `font-faces` (Latin); the rest are local families for Chinese
/// (Debian's fonts-noto-cjk, then Windows' and macOS' Chinese system fonts).
/// MapLibre reads the weight from the first name ("Bold").
const LABEL_FONTS: [&str; 2] = ["Noto Sans Bold", "Noto Sans Regular"];
const CJK_FAMILIES: [&str; 3] = ["Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC"];

/// Label size (px) at the level's first label zoom and at zoom 14.
const LABEL_SIZES: [(f64, f64); 5] = [
    (12.0, 20.0),
    (12.0, 16.0),
    (11.5, 14.5),
    (11.0, 13.5),
    (10.5, 12.5),
];

/// Outline width (px) at the level's first zoom and at zoom 14.
const LINE_WIDTHS: [(f64, f64); 5] = [(1.4, 4.0), (1.0, 2.6), (0.8, 1.9), (0.6, 1.4), (0.5, 1.1)];

/// The paths, under the base URL, of the fonts that `web/build.mjs` puts in
/// the embedded bundle, by `text-font` name.
const FONT_FILES: [(&str, &str); 2] = [
    ("Noto Sans Regular", "/fonts/noto-sans-latin-400.woff2"),
    ("Noto Sans Bold", "/fonts/noto-sans-latin-700.woff2"),
];

/// What the Noto Sans Latin files cover (their own `unicode-range`, less the
/// rare extras): Basic Latin and Latin-1, general punctuation, €, ™, −.
const LATIN_RANGES: [&str; 6] = [
    "U+0000-00FF",
    "U+0131",
    "U+0152-0153",
    "U+2000-206F",
    "U+20AC",
    "U+2122",
];

/// The style document for a server reached at `base_url` (scheme and
/// authority, e.g. `http://127.0.0.1:8080`; a trailing `/` is ignored). Every
/// URL in it is absolute under that base: the TileJSON documents
/// `{base}/tiles/grids.json` and `{base}/tiles/labels.json`, and the font files
/// under `{base}/fonts/`.
pub fn style_document(base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    let mut layers = vec![json!({
        "id": "background",
        "type": "background",
        "paint": {"background-color": "#f3f1ec"}
    })];
    layers.extend((1..=5).map(fill_layer));
    layers.extend((1..=5).rev().map(line_layer));
    layers.extend((1..=5).rev().map(label_layer));

    let font_faces: serde_json::Map<String, Value> = FONT_FILES
        .iter()
        .map(|(name, path)| {
            (
                (*name).to_owned(),
                json!([{"url": format!("{base}{path}"), "unicode-range": LATIN_RANGES}]),
            )
        })
        .collect();

    json!({
        "version": 8,
        "name": "wangge 网格",
        "metadata": metadata(),
        "sources": {
            "grids": {
                "type": "vector",
                "url": format!("{base}/tiles/grids.json"),
                "attribution": "网格数据 © 清水县"
            },
            "labels": {
                "type": "vector",
                "url": format!("{base}/tiles/labels.json")
            }
        },
        "font-faces": font_faces,
        "layers": layers
    })
}

/// Index into the per-level tables.
fn ix(level: u8) -> usize {
    usize::from(level - 1)
}

/// A filter on the `level` attribute.
fn level_filter(level: u8) -> Value {
    json!(["==", ["get", "level"], level])
}

/// A value growing linearly from `at_min` at zoom `min_zoom` to `at_14` at 14.
fn by_zoom(min_zoom: u8, (at_min, at_14): (f64, f64)) -> Value {
    if min_zoom >= 14 {
        return json!(at_14);
    }
    json!([
        "interpolate",
        ["linear"],
        ["zoom"],
        min_zoom,
        at_min,
        14,
        at_14
    ])
}

/// The zoom band in which a level's fill shows: from its first zoom to the
/// next level's, except levels 4 and 5, which stay (sub-areas cover only part
/// of the basic grids, so the basic grids' fill must go on under them).
fn fill_band(level: u8) -> (u8, Option<u8>) {
    let min = GRID_MIN_ZOOM[ix(level)];
    let max = (level <= 3).then(|| GRID_MIN_ZOOM[ix(level) + 1]);
    (min, max)
}

fn fill_layer(level: u8) -> Value {
    let (minzoom, maxzoom) = fill_band(level);
    let mut layer = json!({
        "id": format!("grids-fill-{level}"),
        "type": "fill",
        "source": "grids",
        "source-layer": "grids",
        "minzoom": minzoom,
        "filter": level_filter(level),
        "paint": level_fill_paint(level)
    });
    if let Some(max) = maxzoom {
        layer["maxzoom"] = json!(max);
    }
    layer
}

fn level_fill_paint(level: u8) -> Value {
    json!({"fill-color": LEVEL_COLOURS[ix(level)], "fill-opacity": LEVEL_FILL_OPACITY})
}

/// Population classes as a `step` expression; a grid without a population
/// is drawn in the lightest class.
fn population_fill_paint(level: u8) -> Value {
    let breaks = POPULATION_BREAKS[ix(level)];
    let mut step = vec![
        json!("step"),
        json!(["coalesce", ["get", "population"], 0]),
        json!(POPULATION_COLOURS[0]),
    ];
    for (limit, colour) in breaks.iter().zip(&POPULATION_COLOURS[1..]) {
        step.push(json!(limit));
        step.push(json!(colour));
    }
    json!({"fill-color": step, "fill-opacity": POPULATION_FILL_OPACITY})
}

fn line_layer(level: u8) -> Value {
    let min_zoom = GRID_MIN_ZOOM[ix(level)];
    let mut paint = json!({
        "line-color": LEVEL_COLOURS[ix(level)],
        "line-width": by_zoom(min_zoom, LINE_WIDTHS[ix(level)]),
        "line-opacity": 0.9
    });
    if level == 5 {
        // Sub-areas are newer, informal divisions: dashed, as planned lines.
        paint["line-dasharray"] = json!([3, 2]);
    }
    json!({
        "id": format!("grids-line-{level}"),
        "type": "line",
        "source": "grids",
        "source-layer": "grids",
        "minzoom": min_zoom,
        "filter": level_filter(level),
        "layout": {"line-join": "round", "line-cap": "round"},
        "paint": paint
    })
}

fn label_layer(level: u8) -> Value {
    let min_zoom = LABEL_MIN_ZOOM[ix(level)];
    let first = if level == 1 {
        LABEL_FONTS[0]
    } else {
        LABEL_FONTS[1]
    };
    let fonts: Vec<&str> = std::iter::once(first).chain(CJK_FAMILIES).collect();
    json!({
        "id": format!("labels-{level}"),
        "type": "symbol",
        "source": "labels",
        "source-layer": "labels",
        "minzoom": min_zoom,
        "filter": level_filter(level),
        "layout": {
            "text-field": ["get", "name"],
            "text-font": fonts,
            "text-size": by_zoom(min_zoom, LABEL_SIZES[ix(level)]),
            "text-max-width": 7,
            "text-padding": 3,
            "text-letter-spacing": if level == 1 { 0.1 } else { 0.0 }
        },
        "paint": {
            "text-color": LEVEL_COLOURS[ix(level)],
            "text-halo-color": "rgba(255,255,255,0.92)",
            "text-halo-width": if level == 1 { 2.0 } else { 1.5 },
            "text-halo-blur": 0.5
        }
    })
}

/// What the web map reads from the style: levels for the legend, and the
/// paint of every fill layer under each colouring.
fn metadata() -> Value {
    let levels: Vec<Value> = (1..=5u8)
        .map(|level| {
            json!({
                "level": level,
                "name": LEVEL_NAMES[ix(level)],
                "colour": LEVEL_COLOURS[ix(level)],
                "line_width": LINE_WIDTHS[ix(level)].1,
                "dashed": level == 5,
                "grid_min_zoom": GRID_MIN_ZOOM[ix(level)],
                "label_min_zoom": LABEL_MIN_ZOOM[ix(level)],
                "fill_layer": format!("grids-fill-{level}"),
                "fill_min_zoom": fill_band(level).0,
                "fill_max_zoom": fill_band(level).1,
                "population_breaks": POPULATION_BREAKS[ix(level)]
            })
        })
        .collect();
    let paint_by_layer = |paint: fn(u8) -> Value| -> serde_json::Map<String, Value> {
        (1..=5u8)
            .map(|level| (format!("grids-fill-{level}"), paint(level)))
            .collect()
    };
    json!({
        "wangge:levels": levels,
        "wangge:colourings": [
            {
                "id": "level",
                "label": "按层级",
                "paint": paint_by_layer(level_fill_paint)
            },
            {
                "id": "population",
                "label": "按人口",
                "colours": POPULATION_COLOURS,
                "paint": paint_by_layer(population_fill_paint)
            }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(style: &Value) -> &Vec<Value> {
        style["layers"].as_array().expect("layers is an array")
    }

    /// Every URL in the style is absolute under the base, trailing slash or not.
    #[test]
    fn urls_are_absolute_under_the_base() {
        for base in ["http://example.org:8080", "http://example.org:8080/"] {
            let style = style_document(base);
            assert_eq!(
                style["sources"]["grids"]["url"],
                "http://example.org:8080/tiles/grids.json"
            );
            assert_eq!(
                style["sources"]["labels"]["url"],
                "http://example.org:8080/tiles/labels.json"
            );
            for (_, faces) in style["font-faces"].as_object().expect("font-faces") {
                let url = faces[0]["url"].as_str().expect("url");
                assert!(url.starts_with("http://example.org:8080/fonts/"), "{url}");
            }
        }
    }

    /// Text needs no glyph server, and every font stack's first name is declared.
    #[test]
    fn labels_use_declared_fonts_and_no_glyphs_url() {
        let style = style_document("http://h");
        assert!(style.get("glyphs").is_none());
        let faces = style["font-faces"].as_object().expect("font-faces");
        for layer in layers(&style).iter().filter(|l| l["type"] == "symbol") {
            let first = layer["layout"]["text-font"][0].as_str().expect("a font");
            assert!(faces.contains_key(first), "{first} is not in font-faces");
        }
    }

    /// Each level's outlines and labels start at the zooms the tiles carry them.
    #[test]
    fn levels_appear_at_the_tile_zooms() {
        let style = style_document("http://h");
        for level in 1..=5u8 {
            let find = |id: String| {
                layers(&style)
                    .iter()
                    .find(|l| l["id"] == id.as_str())
                    .cloned()
                    .unwrap_or_else(|| panic!("no layer {id}"))
            };
            let line = find(format!("grids-line-{level}"));
            assert_eq!(line["minzoom"], GRID_MIN_ZOOM[ix(level)]);
            assert_eq!(line["filter"], json!(["==", ["get", "level"], level]));
            let label = find(format!("labels-{level}"));
            assert_eq!(label["minzoom"], LABEL_MIN_ZOOM[ix(level)]);
            assert_eq!(label["source-layer"], "labels");
        }
    }

    /// Layer ids are unique, towns' outline and labels are drawn last (on top).
    #[test]
    fn layer_order_puts_towns_on_top() {
        let style = style_document("http://h");
        let ids: Vec<&str> = layers(&style)
            .iter()
            .map(|l| l["id"].as_str().expect("id"))
            .collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        let pos = |id: &str| ids.iter().position(|i| *i == id).expect("present");
        assert!(pos("grids-line-1") > pos("grids-line-4"));
        assert!(pos("labels-1") > pos("labels-4"));
        assert_eq!(ids.last(), Some(&"labels-1"));
        assert!(pos("grids-fill-5") < pos("grids-line-5"));
    }

    /// Each colouring gives paint for every fill layer; population steps rise.
    #[test]
    fn colourings_cover_every_fill_layer() {
        let style = style_document("http://h");
        let colourings = style["metadata"]["wangge:colourings"]
            .as_array()
            .expect("colourings");
        assert_eq!(colourings.len(), 2);
        for colouring in colourings {
            for level in 1..=5 {
                let paint = &colouring["paint"][format!("grids-fill-{level}")];
                assert!(paint["fill-color"].is_string() || paint["fill-color"].is_array());
            }
        }
        for breaks in POPULATION_BREAKS {
            assert!(breaks.windows(2).all(|w| w[0] < w[1]), "{breaks:?}");
        }
    }
}
