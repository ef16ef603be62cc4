//! A planner redraws grids in a real browser (headless Chromium over
//! WebDriver) against a real wangge server with the demo county:
//!
//! 1. drags a vertex on the border between two basic grids: both outlines
//!    move with it, the dry run's preview names both grids, 保存 saves it;
//!    after a reload both grids have the new vertex and their parent is
//!    still covered exactly (no gap, no overlap);
//! 2. splits a basic grid along a line clicked from border to border (the
//!    left part keeps its id, the right one is new), then merges the two
//!    parts back: the old grid's area comes back, with its code and leader.
//!
//! Screenshots in `artifacts/browser/`: `edit-preview.png` (the dragged
//! border and its preview), `edit-split.png`, and `edit-failure.png` /
//! `edit-split-failure.png` when a step fails.

mod support;

use std::path::Path;
use std::time::Duration;

use geo::{
    BoundingRect, ChamberlainDuquetteArea, Contains, Coord, Distance, Euclidean, Haversine,
    InteriorPoint, Line, LineString, Point,
};
use serde_json::{Value, json};
use wangge::model::{Grid, Level};

use support::server::{DemoServer, spawn_demo_server};
use support::webdriver::{Browser, map_error, run_in_browser};

/// How long the first view may take to draw: software WebGL on two busy cores.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How long an answer to a click may take to show.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);
/// How far the vertex is dragged, metres.
const DRAG_M: f64 = 40.0;

#[test]
fn a_planner_drags_a_shared_vertex_and_saves_it() {
    let server = spawn_demo_server();
    run_in_browser("edit-failure.png", |browser, artifacts| {
        drag_a_vertex(browser, &server, artifacts)
    });
}

#[test]
fn a_planner_splits_a_grid_and_merges_it_back() {
    let server = spawn_demo_server();
    run_in_browser("edit-split-failure.png", |browser, artifacts| {
        split_and_merge(browser, &server, artifacts)
    });
}

fn basic() -> Level {
    Level::new(4).expect("a level")
}

/// Basic grids without sub-areas.
fn childless_basic_grids(server: &DemoServer) -> Vec<Grid> {
    let index = server.state().index();
    index
        .grids()
        .iter()
        .enumerate()
        .filter(|(ix, g)| g.level == basic() && index.children_of(*ix as u32).is_empty())
        .map(|(_, g)| g.clone())
        .collect()
}

fn coords(g: &Grid) -> Vec<Coord<f64>> {
    g.geometry
        .iter()
        .flat_map(|p| p.exterior().0.iter().copied())
        .collect()
}

fn metres(a: Coord<f64>, b: Coord<f64>) -> f64 {
    Haversine.distance(Point::from(a), Point::from(b))
}

/// A vertex two childless basic grids of one parent share, at least 100 m
/// from the parent's border, and the point `DRAG_M` from it towards the
/// first grid's interior.
fn pick_vertex(server: &DemoServer) -> Result<(Grid, Grid, Coord<f64>, Coord<f64>), String> {
    let index = server.state().index();
    let grids = childless_basic_grids(server);
    for a in &grids {
        let Some(parent) = a.parent_id.as_ref().and_then(|p| index.get(p)) else {
            continue;
        };
        let parent_ring: Vec<LineString<f64>> = parent
            .geometry
            .iter()
            .map(|p| p.exterior().clone())
            .collect();
        for b in grids
            .iter()
            .filter(|b| b.id > a.id && b.parent_id == a.parent_id)
        {
            let of_b = coords(b);
            for v in coords(a).into_iter().filter(|v| of_b.contains(v)) {
                let near_parent = parent_ring.iter().any(|r| {
                    r.lines()
                        .any(|l| Euclidean.distance(&Point::from(v), &l) < 0.002)
                });
                if near_parent {
                    continue;
                }
                let inside = a.geometry.interior_point().ok_or("an interior point")?;
                let (dx, dy) = (inside.x() - v.x, inside.y() - v.y);
                let step = metres(v, inside.0);
                if step < 4.0 * DRAG_M {
                    continue;
                }
                let f = DRAG_M / step;
                let to = Coord {
                    x: v.x + dx * f,
                    y: v.y + dy * f,
                };
                return Ok((a.clone(), b.clone(), v, to));
            }
        }
    }
    Err("no two childless basic grids share a vertex away from their parent's border".into())
}

fn wait_ready(browser: &Browser, server: &DemoServer) -> Result<(), String> {
    server.open_map_as(browser, "planner")?;
    browser
        .wait_for(
            "the map to draw its first view",
            READY_TIMEOUT,
            "return document.body.dataset.mapReady === '1' || null",
        )
        .map(drop)
        .map_err(|e| format!("{e}; map error: {}", map_error(browser)))
}

/// Show `[lon, lat]` at `zoom` and load the basic grids in view into the
/// editor.
fn load_editor(browser: &Browser, center: Coord<f64>, zoom: f64) -> Result<(), String> {
    browser.click("[data-test=tab-editing]")?;
    browser.execute_async(
        "const [lon, lat, zoom, done] = arguments; const m = window.wanggeMap;
         m.once('idle', () => done(true)); m.jumpTo({center: [lon, lat], zoom});",
        json!([center.x, center.y, zoom]),
    )?;
    browser.click("[data-test=edit-load]")?;
    browser.wait_for(
        "the grids in view in the editor",
        ANSWER_TIMEOUT,
        "const el = document.querySelector('[data-test=edit-loaded]');
         return el && Number(el.dataset.count) > 0 ? el.dataset.count : null;",
    )?;
    browser.wait_for(
        "the editor's outlines on the map",
        ANSWER_TIMEOUT,
        "const m = window.wanggeMap;
         return m.queryRenderedFeatures({layers: ['edit-outline']}).length > 0 || null;",
    )?;
    Ok(())
}

/// Where a point is on the page, once the map has settled.
fn pixel(browser: &Browser, at: Coord<f64>) -> Result<(i64, i64), String> {
    let p = browser.execute_async(
        "const [lon, lat, done] = arguments; const m = window.wanggeMap;
         const answer = () => { const p = m.project([lon, lat]); done([p.x, p.y]); };
         if (m.loaded()) answer(); else m.once('idle', answer);",
        json!([at.x, at.y]),
    )?;
    let x = p[0].as_f64().ok_or("x")?.round() as i64;
    let y = p[1].as_f64().ok_or("y")?.round() as i64;
    Ok((x, y))
}

/// The preview in `state`, with `data-{key}` read back; a refusal fails
/// with its text.
fn preview(browser: &Browser, state: &str) -> Result<Value, String> {
    let found = browser.wait_for(
        &format!("the edit preview to be {state}"),
        ANSWER_TIMEOUT,
        &format!(
            "const el = document.querySelector('[data-test=edit-preview]');
             if (!el) return null;
             if (el.dataset.state === 'refused' && '{state}' !== 'refused')
                 return {{refused: el.textContent}};
             return el.dataset.state === '{state}' ? Object.assign({{}}, el.dataset) : null;"
        ),
    )?;
    if let Some(refused) = found.get("refused") {
        return Err(format!("the edit was refused: {refused}"));
    }
    Ok(found)
}

/// The editor's working copy of a grid's outline (what the map draws).
fn drawn(browser: &Browser, id: &str) -> Result<Value, String> {
    browser.execute(
        "const data = window.wanggeMap.getSource('edit-grids').serialize().data;
         const f = data.features.find((f) => f.properties.id === arguments[0]);
         return f ? f.geometry : null;",
        json!([id]),
    )
}

fn grid(server: &DemoServer, id: &str) -> Result<Grid, String> {
    let (status, doc) = server.api("GET", &format!("/api/grids/{id}"), None)?;
    if status != 200 {
        return Err(format!("GET grid {id}: {status} {doc}"));
    }
    let collection = json!({"type": "FeatureCollection", "features": [doc["grid"]]});
    let mut grids = wangge::import::parse_feature_collection(collection.to_string().as_bytes())
        .map_err(|e| format!("grid {id} does not read back: {e}"))?;
    grids.pop().ok_or_else(|| format!("grid {id}: no feature"))
}

fn has_vertex_near(g: &Grid, at: Coord<f64>, within_m: f64) -> Option<Coord<f64>> {
    coords(g).into_iter().find(|c| metres(*c, at) < within_m)
}

/// The children of `parent` cover its area within 1 m² (no gap, no overlap).
fn covers_parent(server: &DemoServer, parent: &str) -> Result<(), String> {
    let (_, doc) = server.api("GET", &format!("/api/grids?parent={parent}"), None)?;
    let children = wangge::import::parse_feature_collection(doc.to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    let sum: f64 = children
        .iter()
        .filter(|c| c.level == basic())
        .map(|c| c.geometry.chamberlain_duquette_unsigned_area())
        .sum();
    let whole = grid(server, parent)?
        .geometry
        .chamberlain_duquette_unsigned_area();
    if (sum - whole).abs() > 1.0 {
        return Err(format!(
            "the basic grids of {parent} cover {sum:.1} m² of its {whole:.1} m²"
        ));
    }
    Ok(())
}

fn drag_a_vertex(browser: &Browser, server: &DemoServer, artifacts: &Path) -> Result<(), String> {
    let (a, b, vertex, target) = pick_vertex(server)?;
    let parent = a.parent_id.clone().ok_or("a parent")?;
    wait_ready(browser, server)?;
    load_editor(browser, vertex, 17.0)?;

    // Drag the vertex: both outlines move with it, and the preview asks.
    let from = pixel(browser, vertex)?;
    let to = pixel(browser, target)?;
    browser.drag(from, to)?;
    let shown = preview(browser, "ok")?;
    let changed = shown["changed"].as_str().unwrap_or("");
    if !(changed.contains(a.id.as_str()) && changed.contains(b.id.as_str())) {
        return Err(format!(
            "the preview should name {} and {}, not {changed:?}",
            a.id, b.id
        ));
    }
    for id in [&a.id, &b.id] {
        let outline = drawn(browser, id.as_str())?.to_string();
        if outline.contains(&format!("[{},{}]", vertex.x, vertex.y)) {
            return Err(format!(
                "{id}'s outline still has the old vertex: {outline}"
            ));
        }
    }
    browser.screenshot(&artifacts.join("edit-preview.png"))?;
    browser.click("[data-test=edit-save]")?;
    preview(browser, "saved")?;

    // Reload: the server draws the new border for both grids, shared.
    wait_ready(browser, server)?;
    load_editor(browser, vertex, 17.0)?;
    let (new_a, new_b) = (grid(server, a.id.as_str())?, grid(server, b.id.as_str())?);
    let moved = has_vertex_near(&new_a, target, 3.0)
        .ok_or_else(|| format!("{} has no vertex where it was dragged", a.id))?;
    if !coords(&new_b).contains(&moved) {
        return Err(format!(
            "{} lacks the vertex {moved:?} {} has: the border is not shared",
            b.id, a.id
        ));
    }
    for id in [&a.id, &b.id] {
        let outline = drawn(browser, id.as_str())?.to_string();
        if !outline.contains(&format!("[{},{}]", moved.x, moved.y)) {
            return Err(format!(
                "after the reload, the map's {id} lacks the new vertex: {outline}"
            ));
        }
    }
    covers_parent(server, parent.as_str())
}

/// A childless basic grid and a line across it between the midpoints of two
/// edges about half its ring apart, lying inside it, each part at least a
/// tenth of it.
fn pick_split(server: &DemoServer) -> Result<(Grid, [Coord<f64>; 2]), String> {
    for g in childless_basic_grids(server) {
        let Some(polygon) = g.geometry.0.first().filter(|_| g.geometry.0.len() == 1) else {
            continue;
        };
        let ring = &polygon.exterior().0;
        let n = ring.len() - 1;
        if n < 6 {
            continue;
        }
        let mid = |i: usize| Line::new(ring[i], ring[i + 1]).delta() / 2.0 + ring[i];
        let (p, q) = (mid(0), mid(n / 2));
        let line = LineString::from(vec![p, q]);
        if metres(p, q) > 300.0 && polygon.contains(&line) {
            return Ok((g.clone(), [p, q]));
        }
    }
    Err("no basic grid has a simple chord to split along".into())
}

fn set_field(browser: &Browser, test: &str, value: &str) -> Result<(), String> {
    browser
        .execute(
            "const el = document.querySelector(`[data-test=${arguments[0]}]`);
             if (!el) return false;
             el.value = arguments[1]; el.dispatchEvent(new Event('change'));
             return true;",
            json!([test, value]),
        )?
        .as_bool()
        .filter(|ok| *ok)
        .map(drop)
        .ok_or_else(|| format!("no field {test}"))
}

/// Click a place on the map; fails when its pixel is not on the map.
fn click_point(browser: &Browser, at: Coord<f64>) -> Result<(), String> {
    let (x, y) = pixel(browser, at)?;
    let on_map = browser.execute(
        "const hit = document.elementFromPoint(arguments[0], arguments[1]);
         return !!hit && hit.classList.contains('maplibregl-canvas');",
        json!([x, y]),
    )?;
    if on_map != json!(true) {
        return Err(format!("{at:?} (pixel {x}, {y}) is not on the map canvas"));
    }
    browser.click_at(x, y)
}

fn split_and_merge(browser: &Browser, server: &DemoServer, artifacts: &Path) -> Result<(), String> {
    let (original, [p, q]) = pick_split(server)?;
    let id = original.id.as_str();
    let area = original.geometry.chamberlain_duquette_unsigned_area();
    let bounds = original.geometry.bounding_rect().ok_or("bounds")?;
    wait_ready(browser, server)?;
    load_editor(browser, bounds.center(), 15.0)?;
    browser.execute_async(
        "const [w, s, e, n, done] = arguments; const m = window.wanggeMap;
         const panel = document.getElementById('panel').getBoundingClientRect();
         m.once('idle', () => done(true));
         m.fitBounds([[w, s], [e, n]],
             {padding: {top: 60, bottom: 60, right: 60, left: panel.right + 60}, animate: false});",
        json!([
            bounds.min().x,
            bounds.min().y,
            bounds.max().x,
            bounds.max().y
        ]),
    )?;
    browser.click("[data-test=edit-load]")?;

    // Split: pick the grid, click the line's ends on its border, finish.
    browser.click("[data-test=edit-mode-split]")?;
    let inside = original
        .geometry
        .interior_point()
        .ok_or("an interior point")?;
    click_point(browser, inside.0)?;
    browser.wait_for(
        "the grid to split picked",
        ANSWER_TIMEOUT,
        &format!(
            "const el = document.querySelector('[data-test=edit-picked]');
             return el && el.dataset.ids === '{id}' || null;"
        ),
    )?;
    click_point(browser, p)?;
    click_point(browser, q)?;
    browser.click("[data-test=edit-split-finish]")?;
    let shown = preview(browser, "ok")?;
    // The left part keeps the id (the editor's default), the right is new.
    let (left, right) = (id.to_owned(), format!("{id}-2"));
    let changed = shown["changed"].as_str().unwrap_or("");
    if !(changed.contains(&left) && changed.contains(&right)) {
        return Err(format!(
            "the split should make {left} and {right}: {changed:?}"
        ));
    }
    browser.screenshot(&artifacts.join("edit-split.png"))?;
    browser.click("[data-test=edit-save]")?;
    preview(browser, "saved")?;
    let parts = [grid(server, &left)?, grid(server, &right)?];
    let sum: f64 = parts
        .iter()
        .map(|g| g.geometry.chamberlain_duquette_unsigned_area())
        .sum();
    if (sum - area).abs() > 1.0 {
        return Err(format!("the parts cover {sum:.1} m² of {area:.1} m²"));
    }
    if parts[0].geometry.chamberlain_duquette_unsigned_area() > area - 1.0 {
        return Err(format!("{id} kept its whole area through the split"));
    }

    // Merge the parts back under the old id and name.
    browser.click("[data-test=edit-mode-merge]")?;
    for part in &parts {
        let at = part.geometry.interior_point().ok_or("an interior point")?;
        click_point(browser, at.0)?;
    }
    browser.wait_for(
        "both parts picked",
        ANSWER_TIMEOUT,
        "const el = document.querySelector('[data-test=edit-picked]');
         return el && el.dataset.ids.split(',').length === 2 || null;",
    )?;
    set_field(browser, "edit-into-name", &original.name)?;
    set_field(browser, "edit-into-id", id)?;
    let shown = preview(browser, "ok")?;
    if !shown["changed"].as_str().unwrap_or("").contains(id) {
        return Err(format!("the merge should make {id}: {shown}"));
    }
    browser.click("[data-test=edit-save]")?;
    preview(browser, "saved")?;
    let merged = grid(server, id)?;
    let merged_area = merged.geometry.chamberlain_duquette_unsigned_area();
    if (merged_area - area).abs() > 1.0 {
        return Err(format!(
            "{id} merged back covers {merged_area:.1} m², not {area:.1} m²"
        ));
    }
    for key in ["code", "leader"] {
        if merged.properties.get(key) != original.properties.get(key) {
            return Err(format!(
                "{id}'s {key} should come back: {:?} != {:?}",
                merged.properties.get(key),
                original.properties.get(key)
            ));
        }
    }
    for part in [&right] {
        if grid(server, part).is_ok() {
            return Err(format!("{part} is still stored after the merge"));
        }
    }
    Ok(())
}
