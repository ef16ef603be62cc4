//! Vector tiles: what a tile holds (decoded with an independent reader), how
//! it is served over HTTP (204, 304, gzip, TileJSON), and that the cache
//! never serves a tile that misses an import while keeping untouched tiles.
//!
//! Each test names in one line what it pins.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use geo::{Intersects, Validation};
use serde_json::Value;
use support::admin_app as router;
use tempfile::TempDir;
use wangge::geom::{Bbox, LonLat};
use wangge::index::GridIndex;
use wangge::model::{Grid, Level};
use wangge::state::AppState;
use wangge::store::WriteMode;
use wangge::tiles::{
    BUFFER, EXTENT, GRID_MIN_ZOOM, TileId, TileKey, TileSource, Tileset, WorldXY, render,
};

use support::four_towns::four_towns;
use support::http::Answer;
use support::mvt::{DecodedLayer, decode};

fn county_bounds(index: &GridIndex) -> Bbox {
    index
        .grids()
        .iter()
        .filter_map(|g| Bbox::of(&g.geometry))
        .reduce(Bbox::union)
        .expect("the county has grids")
}

fn only_layer(bytes: &[u8], name: &str) -> DecodedLayer {
    let mut layers = decode(bytes);
    assert_eq!(layers.len(), 1, "one layer per tile");
    let layer = layers.remove(0);
    assert_eq!(layer.name, name);
    assert_eq!(layer.extent, EXTENT);
    layer
}

/// Over the whole demo county at zooms 10, 12 and 14: every polygon is
/// OGC-valid with exterior rings positive (MVT winding), every vertex within
/// the buffered tile, attributes match the grid, each level appears from its
/// zoom and every grid of a shown level is in some tile; every label point
/// lies in its own grid.
#[test]
fn demo_county_tiles_are_valid_complete_and_labelled() {
    let index = Arc::new(GridIndex::build(wangge::generate::generate(
        wangge::generate::DEMO_SEED,
    )));
    let source = TileSource::new(index.clone(), 0);
    let bounds = county_bounds(&index);
    // The overlay snaps intersections within one tile unit.
    let lo = -f64::from(BUFFER) - 1.0;
    let hi = f64::from(EXTENT + BUFFER) + 1.0;
    for z in [10u8, 12, 14] {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut tiles = 0;
        for tile in TileId::covering(bounds, z) {
            let Some(bytes) = render(&source, Tileset::Grids, tile) else {
                continue;
            };
            tiles += 1;
            let layer = only_layer(&bytes, "grids");
            for f in &layer.features {
                let id = &f.attributes["id"];
                let grid = index
                    .get(&wangge::model::GridId::from(id.as_str()))
                    .unwrap_or_else(|| panic!("{tile}: unknown grid {id}"));
                assert_eq!(f.attributes["name"], grid.name, "{tile} {id}: name");
                assert_eq!(f.attributes["level"], grid.level.get().to_string());
                assert_eq!(f.attributes.get("code").map(String::as_str), grid.code());
                assert_eq!(
                    f.attributes.get("parent"),
                    grid.parent_id.as_ref().map(|p| &p.0),
                    "{tile} {id}: parent"
                );
                assert!(
                    GRID_MIN_ZOOM[grid.level.index()] <= z,
                    "{tile}: level {} shown below its zoom",
                    grid.level.get()
                );
                assert!(!f.polygons.0.is_empty(), "{tile} {id}: has polygons");
                // Valid as a whole: the parts of a multi-part grid neither
                // overlap nor share an edge.
                assert!(
                    f.polygons.is_valid(),
                    "{tile} {id}: invalid multipolygon: {:?}",
                    f.polygons.validation_errors()
                );
                // The MVT id is the grid id where it is a canonical number,
                // so feature state keyed by it survives imports.
                let canonical = id.parse::<u64>().ok().filter(|n| n.to_string() == *id);
                assert_eq!(f.id, canonical, "{tile} {id}: feature id");
                assert_eq!(
                    f.ring_areas.iter().filter(|a| **a > 0.0).count(),
                    f.polygons.0.len(),
                    "{tile} {id}: one positive (exterior) ring per polygon"
                );
                for polygon in &f.polygons.0 {
                    assert!(
                        polygon.is_valid(),
                        "{tile} {id}: invalid polygon: {:?}",
                        polygon.validation_errors()
                    );
                    for c in polygon
                        .exterior()
                        .0
                        .iter()
                        .chain(polygon.interiors().iter().flat_map(|r| r.0.iter()))
                    {
                        assert!(
                            (lo..=hi).contains(&c.x) && (lo..=hi).contains(&c.y),
                            "{tile} {id}: vertex {c:?} outside the buffered tile"
                        );
                    }
                }
                seen.insert(id.clone());
            }
        }
        assert!(tiles > 0, "zoom {z}: the county has tiles");
        let shown: BTreeSet<String> = index
            .grids()
            .iter()
            .filter(|g| GRID_MIN_ZOOM[g.level.index()] <= z)
            .map(|g| g.id.0.clone())
            .collect();
        let missing: Vec<_> = shown.difference(&seen).take(5).collect();
        assert!(
            missing.is_empty(),
            "zoom {z}: grids in no tile: {missing:?}"
        );
    }

    // Labels at zoom 14 (every level shown): each point is in its own grid.
    let mut labelled = 0;
    for tile in TileId::covering(bounds, 14) {
        let Some(bytes) = render(&source, Tileset::Labels, tile) else {
            continue;
        };
        let layer = only_layer(&bytes, "labels");
        for f in &layer.features {
            assert_eq!(f.points.len(), 1);
            let p = f.points[0];
            assert!(
                (0.0..f64::from(EXTENT)).contains(&p.x) && (0.0..f64::from(EXTENT)).contains(&p.y)
            );
            // The centre of the tile unit the point was snapped into.
            let s = tile.scale() * f64::from(EXTENT);
            let world = WorldXY {
                x: (f64::from(tile.x) * f64::from(EXTENT) + p.x + 0.5) / s,
                y: (f64::from(tile.y) * f64::from(EXTENT) + p.y + 0.5) / s,
            };
            let at = world.to_lonlat();
            let level = Level::new(f.attributes["level"].parse().expect("level is a number"))
                .expect("a level");
            let chain = index.locate(at);
            let owner = chain.at(level).map(|ix| index.grid(ix).id.0.clone());
            assert_eq!(
                owner.as_deref(),
                Some(f.attributes["id"].as_str()),
                "{tile}: label of {} at {at:?} is not in its grid",
                f.attributes["id"]
            );
            labelled += 1;
        }
    }
    assert_eq!(
        labelled,
        index.grids().len(),
        "every grid has one label at zoom 14"
    );
}

/// A grid with a hole keeps it: where the whole hole is in the tile it is a
/// negative ring after its shell; where the tile cuts through it, the shell
/// goes round it; either way a point in the hole is not covered.
#[test]
fn holes_survive_as_negative_rings() {
    let index = Arc::new(GridIndex::build(support::small_county()));
    let source = TileSource::new(index.clone(), 0);
    // The hole is 0.2..0.25 x 0.15..0.2 east/north of the origin.
    let (x0, y0) = support::ORIGIN;
    let hole = Bbox {
        min_lon: x0 + 0.2,
        min_lat: y0 + 0.15,
        max_lon: x0 + 0.25,
        max_lat: y0 + 0.2,
    };
    let in_hole = LonLat::new(x0 + 0.225, y0 + 0.175);
    for z in [10, 12] {
        let tile = TileId::containing(in_hole, z);
        let bytes = render(&source, Tileset::Grids, tile).expect("the tile has grids");
        let layer = only_layer(&bytes, "grids");
        let f = layer
            .features
            .iter()
            .find(|f| f.attributes["id"] == "G1")
            .expect("G1 is in the tile");
        let (hx, hy) = tile.to_tile_units(WorldXY::from_lonlat(in_hole), f64::from(EXTENT));
        assert!(
            !f.polygons.intersects(&geo::Point::new(hx, hy)),
            "zoom {z}: the hole is empty"
        );
        let b = tile.lonlat_bounds(0.0);
        let hole_inside = b.min_lon < hole.min_lon
            && hole.max_lon < b.max_lon
            && b.min_lat < hole.min_lat
            && hole.max_lat < b.max_lat;
        if z == 10 {
            assert!(hole_inside, "the fixture's hole fits a zoom-10 tile");
            assert_eq!(f.ring_areas.len(), 2, "shell and hole");
            assert!(
                f.ring_areas[0] > 0.0 && f.ring_areas[1] < 0.0,
                "{:?}",
                f.ring_areas
            );
        }
    }
}

/// An app over a temporary SQLite store holding the four-town county.
async fn app() -> (TempDir, Arc<AppState>, Router) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("wangge.db").display());
    let store = wangge::store::connect(&url)
        .await
        .expect("SQLite store opens");
    let state = AppState::open(store).await.expect("state opens");
    state
        .import_grids(four_towns(), WriteMode::Replace)
        .await
        .expect("the fixture is a valid county");
    let app = router(state.clone());
    (dir, state, app)
}

async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut all = vec![("host", "maps.example:8080")];
    all.extend_from_slice(headers);
    support::http::get_with(app, uri, &all).await
}

/// The tile of the four-town county holding the point, as a URL.
fn tile_url(tileset: &str, lon: f64, lat: f64, z: u8) -> (TileId, String) {
    let t = TileId::containing(LonLat::new(lon, lat), z);
    (t, format!("/tiles/{tileset}/{}/{}/{}.mvt", t.z, t.x, t.y))
}

/// A tile answers 200 as MVT with an ETag; the same ETag in If-None-Match
/// gives 304 with no body; gzip is used when accepted and decodes to the
/// same bytes.
#[tokio::test]
async fn tiles_are_served_with_etag_304_and_gzip() {
    let (_dir, _state, app) = app().await;
    let (_, url) = tile_url("grids", 106.01, 34.61, 12);
    let plain = get(&app, &url, &[]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(
        plain.header(header::CONTENT_TYPE),
        "application/vnd.mapbox-vector-tile"
    );
    let etag = plain.header(header::ETAG).to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag: {etag}"
    );
    let layer = only_layer(&plain.body, "grids");
    let ids: BTreeSet<_> = layer
        .features
        .iter()
        .map(|f| f.attributes["id"].clone())
        .collect();
    for id in ["t-sw", "v-sw-w", "g-sw-w-s", "b-sw-w-s", "s-1"] {
        assert!(ids.contains(id), "{id} in the tile: {ids:?}");
    }

    let again = get(&app, &url, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header(header::ETAG), etag);

    let gz = get(&app, &url, &[("accept-encoding", "br, gzip;q=0.8")]).await;
    assert_eq!(gz.status, StatusCode::OK);
    assert_eq!(gz.header(header::CONTENT_ENCODING), "gzip");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut unzipped)
        .expect("valid gzip");
    assert_eq!(unzipped, plain.body.to_vec());

    // The gzip encoding is another representation with its own ETag, and
    // either ETag shows the client holds the current tile.
    let gz_etag = gz.header(header::ETAG).to_owned();
    assert_ne!(gz_etag, etag, "gzip and identity have distinct ETags");
    for held in [&gz_etag, &etag] {
        let again = get(
            &app,
            &url,
            &[("accept-encoding", "gzip"), ("if-none-match", held)],
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{held}");
        assert_eq!(again.header(header::ETAG), held.as_str());
    }

    let refused = get(&app, &url, &[("accept-encoding", "gzip;q=0")]).await;
    assert_eq!(refused.header(header::CONTENT_ENCODING), "");
    assert_eq!(refused.header(header::ETAG), etag);
}

/// Empty tiles answer 204; unknown tilesets, addresses outside the pyramid
/// and URLs without `.mvt` answer 404 problem documents saying why.
#[tokio::test]
async fn empty_and_impossible_tiles() {
    let (_dir, state, app) = app().await;
    let (far_tile, far) = tile_url("grids", 10.0, 50.0, 12);
    let a = get(&app, &far, &[]).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(a.body.is_empty());
    // Tiles away from every grid, and tiles above the advertised zooms, are
    // answered but not cached: requests cannot flood the cache.
    let (deep_tile, deep) = tile_url("grids", 106.01, 34.61, 16);
    let a = get(&app, &deep, &[]).await;
    assert_eq!(a.status, StatusCode::OK, "zoom 16 is cut on request");
    assert!(
        only_layer(&a.body, "grids")
            .features
            .iter()
            .any(|f| f.attributes["id"] == "s-1")
    );
    for tile in [far_tile, deep_tile] {
        let key = TileKey {
            tileset: Tileset::Grids,
            tile,
        };
        assert!(!state.tiles().contains(&key), "{tile} not cached");
    }
    assert_eq!(state.tiles().stats().tiles, 0);

    for (uri, says) in [
        ("/tiles/roads/12/3255/1625.mvt", "no tileset \"roads\""),
        ("/tiles/grids/12/4096/1625.mvt", "must be below 4096"),
        ("/tiles/grids/25/0/0.mvt", "above the highest zoom"),
        ("/tiles/grids/12/3255/1625.png", "end in .mvt"),
        ("/tiles/grids/12/x/1625.mvt", "whole number"),
    ] {
        let a = get(&app, uri, &[]).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(a.header(header::CONTENT_TYPE), "application/problem+json");
        let detail: Value = serde_json::from_slice(&a.body).expect("problem JSON");
        let detail = detail["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{uri}: {detail}");
    }
}

/// TileJSON 3.0.0: absolute tile URLs on the host asked, the county's bounds,
/// zoom range, and the layer's fields.
#[tokio::test]
async fn tilejson_describes_each_tileset() {
    let (_dir, _state, app) = app().await;
    for (name, fields) in [
        (
            "grids",
            vec!["code", "id", "level", "name", "parent", "population"],
        ),
        ("labels", vec!["code", "id", "level", "name"]),
    ] {
        let a = get(&app, &format!("/tiles/{name}.json"), &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{name}");
        let doc: Value = serde_json::from_slice(&a.body).expect("JSON");
        assert_eq!(doc["tilejson"], "3.0.0");
        assert_eq!(
            doc["tiles"][0],
            format!("http://maps.example:8080/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt")
        );
        assert_eq!(doc["bounds"], serde_json::json!([106.0, 34.6, 106.2, 34.8]));
        assert_eq!(doc["maxzoom"], 14);
        // The map opens over the county's middle at a whole zoom in range.
        let center = doc["center"].as_array().expect("center");
        assert!((center[0].as_f64().expect("lon") - 106.1).abs() < 1e-9);
        assert!((center[1].as_f64().expect("lat") - 34.7).abs() < 1e-9);
        assert_eq!(center[2], serde_json::json!(10), "a whole zoom");
        assert!(doc["minzoom"].as_u64().is_some_and(|z| z <= 10));
        // The URLs name the host asked, so caches must key on it.
        assert!(a.header(header::VARY).contains("Host"), "{name}: Vary");
        assert_eq!(doc["vector_layers"][0]["id"], name);
        let got: Vec<String> = doc["vector_layers"][0]["fields"]
            .as_object()
            .expect("fields")
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(got, fields, "{name} fields");
    }
    let a = get(&app, "/tiles/roads.json", &[]).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

/// After an import that moves the line between sub-areas s-1 and s-2, the
/// tile over them shows the new line at once, while a cached tile far from
/// the change stays cached (and is still answered from the cache).
#[tokio::test]
async fn an_import_evicts_exactly_the_tiles_it_touches() {
    let (_dir, state, app) = app().await;
    let z = 14;
    let (near, near_url) = tile_url("grids", 106.025, 34.625, z);
    let (far, far_url) = tile_url("grids", 106.15, 34.75, z);
    let s1_ix = state.index().position(&"s-1".into()).expect("s-1");
    let s1_label = state
        .tiles()
        .source()
        .label_point(s1_ix)
        .expect("s-1 has a label point");
    let (near_label, near_label_url) = tile_url("labels", s1_label.lon, s1_label.lat, z);
    for url in [&near_url, &far_url, &near_label_url] {
        assert_eq!(get(&app, url, &[]).await.status, StatusCode::OK, "{url}");
    }
    let key = |tileset, tile| TileKey { tileset, tile };
    assert!(state.tiles().contains(&key(Tileset::Grids, near)));
    assert!(state.tiles().contains(&key(Tileset::Grids, far)));
    let before = get(&app, &near_url, &[]).await;

    // Move the s-1/s-2 line from 106.025 to 106.03, and rename s-1.
    let mut grids: BTreeMap<String, Grid> = four_towns()
        .into_iter()
        .map(|g| (g.id.0.clone(), g))
        .collect();
    let moved = |min: (f64, f64), max: (f64, f64)| {
        geo::MultiPolygon(vec![
            geo::Rect::new(
                geo::coord! {x: min.0, y: min.1},
                geo::coord! {x: max.0, y: max.1},
            )
            .to_polygon(),
        ])
    };
    let s1 = grids.get_mut("s-1").expect("s-1");
    s1.geometry = moved((106.0, 34.6), (106.03, 34.65));
    s1.name = "一片区（扩）".into();
    grids.get_mut("s-2").expect("s-2").geometry = moved((106.03, 34.6), (106.05, 34.65));
    state
        .import_grids(grids.into_values().collect(), WriteMode::Replace)
        .await
        .expect("the edited county is valid");

    assert!(
        !state.tiles().contains(&key(Tileset::Grids, near)),
        "near tile evicted"
    );
    assert!(
        !state.tiles().contains(&key(Tileset::Labels, near_label)),
        "label tile evicted"
    );
    assert!(
        state.tiles().contains(&key(Tileset::Grids, far)),
        "far tile kept"
    );

    let after = get(
        &app,
        &near_url,
        &[("if-none-match", before.header(header::ETAG))],
    )
    .await;
    assert_eq!(after.status, StatusCode::OK, "the changed tile is not 304");
    let layer = only_layer(&after.body, "grids");
    let s1 = layer
        .features
        .iter()
        .find(|f| f.attributes["id"] == "s-1")
        .expect("s-1 in the tile");
    assert_eq!(s1.attributes["name"], "一片区（扩）");
    // The new line at 106.03 is east of the old one: s-1 now reaches it.
    let line = WorldXY::from_lonlat(LonLat::new(106.03, 34.62));
    let (line_x, _) = near.to_tile_units(line, f64::from(EXTENT));
    let east = s1
        .polygons
        .0
        .iter()
        .flat_map(|p| p.exterior().0.iter())
        .map(|c| c.x)
        .fold(f64::MIN, f64::max);
    assert!(
        (east - line_x.min(f64::from(EXTENT + BUFFER))).abs() <= 1.0,
        "s-1 ends at the new line: {east} vs {line_x}"
    );

    let hits = state.tiles().stats().hits;
    let far_again = get(&app, &far_url, &[]).await;
    assert_eq!(far_again.status, StatusCode::OK);
    assert_eq!(
        state.tiles().stats().hits,
        hits + 1,
        "far tile from the cache"
    );

    // GeoJSON reflects the change too.
    let one = get(&app, "/api/grids/s-1", &[]).await;
    let doc: Value = serde_json::from_slice(&one.body).expect("JSON");
    assert_eq!(doc["grid"]["properties"]["name"], "一片区（扩）");
}

/// A grid moved to other tiles and a grid deleted: the tiles over both old
/// extents are evicted (not only those over the new one), a tile the change
/// does not touch stays cached, and the old places now answer without them.
#[tokio::test]
async fn a_moved_and_a_deleted_grid_evict_their_old_tiles() {
    let (_dir, state, app) = app().await;
    let z = 14;
    let (moved_from, moved_url) = tile_url("grids", 106.15, 34.75, z);
    let (deleted_at, deleted_url) = tile_url("grids", 106.05, 34.75, z);
    let (kept, kept_url) = tile_url("grids", 106.15, 34.65, z);
    for url in [&moved_url, &deleted_url, &kept_url] {
        assert_eq!(get(&app, url, &[]).await.status, StatusCode::OK, "{url}");
    }
    let key = |tile| TileKey {
        tileset: Tileset::Grids,
        tile,
    };
    for tile in [moved_from, deleted_at, kept] {
        assert!(state.tiles().contains(&key(tile)));
    }

    // t-ne moves 0.2° east (far outside its old tiles); t-nw is deleted.
    let grids: Vec<Grid> = four_towns()
        .into_iter()
        .filter(|g| g.id.as_str() != "t-nw")
        .map(|mut g| {
            if g.id.as_str() == "t-ne" {
                g.geometry = geo::MultiPolygon(vec![
                    geo::Rect::new(
                        geo::coord! {x: 106.3, y: 34.7},
                        geo::coord! {x: 106.4, y: 34.8},
                    )
                    .to_polygon(),
                ]);
            }
            g
        })
        .collect();
    state
        .import_grids(grids, WriteMode::Replace)
        .await
        .expect("the changed county is valid");

    assert!(
        !state.tiles().contains(&key(moved_from)),
        "the moved grid's old tile is evicted"
    );
    assert!(
        !state.tiles().contains(&key(deleted_at)),
        "the deleted grid's tile is evicted"
    );
    assert!(
        state.tiles().contains(&key(kept)),
        "an untouched tile is kept"
    );
    for url in [&moved_url, &deleted_url] {
        let answer = get(&app, url, &[]).await;
        assert_eq!(
            answer.status,
            StatusCode::NO_CONTENT,
            "{url}: nothing there now"
        );
    }
    let (_, new_url) = tile_url("grids", 106.35, 34.75, z);
    let layer = only_layer(&get(&app, &new_url, &[]).await.body, "grids");
    assert!(layer.features.iter().any(|f| f.attributes["id"] == "t-ne"));
}
