//! The web map for everyone who uses it, in a real browser set up in
//! Chinese (headless Chromium with `--lang=zh-CN`, `Accept-Language:
//! zh-CN`) against a demo server with roads, hazards and incidents, logged
//! in as the admin (who sees every tab):
//!
//! - **axe-core** (from npm, `web/node_modules/axe-core`) finds no serious
//!   or critical violation on any tab, at a desktop size (1440×900) and a
//!   phone size (390×844), nor in the statistics report;
//! - **No English reaches the screen**: the visible text of every tab (and
//!   the report, and MapLibre's controls' labels) holds no English word
//!   but those listed in [`ALLOWED`], each with its reason.
//!
//! The findings are written to `artifacts/browser/a11y.txt`; screenshots
//! `a11y-desktop.png`, `a11y-phone.png`, and `a11y-failure.png`.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use support::server::{DemoServer, pick_point, spawn_demo_server_with_incidents};
use support::webdriver::{Browser, run_in_chinese_browser};

const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// Latin words that may show, and why.
const ALLOWED: &[&str] = &[
    // The login of the user shown in the badge: a name, not a text of the UI.
    "admin", // File formats people know by these names.
    "Excel", "CSV", "GPX", "GeoJSON", "XLSX", // Units.
    "km",
];

#[test]
fn every_tab_is_accessible_and_in_chinese_at_desktop_and_phone_sizes() {
    let end: jiff::Timestamp = "2026-11-01T00:00:00+08:00".parse().expect("a time");
    let server = spawn_demo_server_with_incidents(500, end);
    run_in_chinese_browser("a11y-failure.png", |browser, artifacts| {
        drive(browser, &server, artifacts)
    });
}

/// A report's place picked without a pointer: the crosshair button puts
/// the focus on the map, arrow keys move it, Enter picks the centre, and
/// the form names the grid that covers it (as the server locates it).
fn report_by_keyboard(browser: &Browser, server: &DemoServer) -> Result<(), String> {
    browser.call(
        "POST",
        "/window/rect",
        json!({"width": 1440, "height": 900}),
    )?;
    let target = pick_point(&server.state().index());
    browser.click("[data-test=tab-incidents]")?;
    browser.click("[data-test=report-start]")?;
    browser.execute_async(
        "const [lon, lat, done] = arguments; const m = window.wanggeMap;
         m.once('idle', () => done(true)); m.jumpTo({center: [lon, lat], zoom: 16});",
        json!([target.point.lon, target.point.lat]),
    )?;
    browser.click("[data-test=crosshair-toggle]")?;
    let focused = browser.execute(
        "return document.activeElement === window.wanggeMap.getCanvas()
             && !document.querySelector('[data-test=crosshair]').hidden;",
        json!([]),
    )?;
    if focused != json!(true) {
        return Err("the crosshair shows and the map takes the keys".into());
    }
    // Two steps east with the arrow key, then wait for the map to stop.
    let before = browser.execute("return window.wanggeMap.getCenter().lng;", json!([]))?;
    browser.type_into(".maplibregl-canvas", "\u{E014}\u{E014}")?;
    let centre = browser.wait_for(
        "the map moved east by the arrow key, and at rest",
        Duration::from_secs(20),
        &format!(
            "const m = window.wanggeMap;
             if (m.isMoving() || m.getCenter().lng <= {before}) return null;
             const c = m.getCenter(); return [c.lng, c.lat];"
        ),
    )?;
    browser.type_into(".maplibregl-canvas", "\u{E007}")?;
    let named = browser.wait_for(
        "the report form for the place under the crosshair",
        Duration::from_secs(20),
        "const g = document.querySelector('[data-test=report-grid]'); return g ? g.textContent : null;",
    )?;
    let (lon, lat) = (
        centre[0].as_f64().unwrap_or(0.0),
        centre[1].as_f64().unwrap_or(0.0),
    );
    let (_, located) = server.api("GET", &format!("/api/locate?lon={lon}&lat={lat}"), None)?;
    let deepest = located["chain"]
        .as_array()
        .and_then(|c| c.last())
        .map(|g| g["name"].clone())
        .ok_or_else(|| format!("the centre is in the county: {located}"))?;
    if named != deepest {
        return Err(format!(
            "Enter picks the centre ({lon}, {lat}) in {deepest}; the form says {named}"
        ));
    }
    Ok(())
}

/// Run axe-core on the page as it is now; the serious and critical
/// violations as `rule: target …` lines.
fn axe(browser: &Browser) -> Result<Vec<String>, String> {
    let loaded = browser.execute("return typeof window.axe === 'object'", json!([]))?;
    if loaded != json!(true) {
        let source = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("web/node_modules/axe-core/axe.min.js"),
        )
        .map_err(|e| format!("axe-core is installed by `npm ci` in web/: {e}"))?;
        browser.execute(&format!("{source}\nreturn typeof window.axe;"), json!([]))?;
    }
    let result = browser.execute_async(
        "const done = arguments[arguments.length - 1];
         window.axe.run(document, {resultTypes: ['violations']})
           .then((r) => done(r.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
             .map((v) => ({id: v.id, impact: v.impact, help: v.help,
               targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n').slice(1, 2).join(''))}))))
           .catch((e) => done({error: String(e)}));",
        json!([]),
    )?;
    if let Some(error) = result.get("error") {
        return Err(format!("axe-core failed: {error}"));
    }
    Ok(result
        .as_array()
        .map(|list| {
            list.iter()
                .map(|v| {
                    format!(
                        "{} ({}): {} — {}",
                        v["id"].as_str().unwrap_or("?"),
                        v["impact"].as_str().unwrap_or("?"),
                        v["help"].as_str().unwrap_or(""),
                        v["targets"]
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}

/// English words in the visible text (and the controls' labels), with
/// where they were seen.
fn english(browser: &Browser) -> Result<Vec<String>, String> {
    let found = browser.execute(
        "const words = new Set();
         const text = document.body.innerText + ' ' + [...document.querySelectorAll(
           '.maplibregl-ctrl button, .maplibregl-ctrl a')].map((b) => b.getAttribute('title') || b.getAttribute('aria-label') || '').join(' ');
         for (const m of text.matchAll(/[A-Za-z]{2,}/g)) words.add(m[0]);
         return [...words];",
        json!([]),
    )?;
    Ok(found
        .as_array()
        .map(|words| {
            words
                .iter()
                .filter_map(Value::as_str)
                .filter(|w| !ALLOWED.contains(w))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default())
}

/// Choose `value` in the settings' base map source list, as a user does.
fn choose_basemap_source(browser: &Browser, value: &str) -> Result<(), String> {
    browser.execute(
        "const s = document.querySelector('[data-test=basemap-source]');
         s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
        json!([value]),
    )?;
    Ok(())
}

/// The settings form saves its own defaults (the border distance of 50 m
/// with its step), and refuses an Amap (GCJ-02) base map with the reason,
/// keeping the map's base as it was. Tianditu, the documented choice, takes
/// only a well-formed key, and then draws its base and its place names from
/// all eight of its hosts with the key, under the grids; clearing removes
/// both.
fn settings_refuse_offset_base_maps(browser: &Browser) -> Result<(), String> {
    browser.call(
        "POST",
        "/window/rect",
        json!({"width": 1440, "height": 900}),
    )?;
    browser.click("[data-test=tab-settings]")?;
    browser.click("[data-test=settings-form] button[type=submit]")?;
    let saved = browser.wait_for(
        "the defaults to save",
        READY_TIMEOUT,
        "const s = document.querySelector('[data-test=settings-form] [role=status]').textContent;
         return s ? s : null;",
    )?;
    if saved != json!("已保存。") {
        return Err(format!("saving the default settings answered {saved}"));
    }
    choose_basemap_source(browser, "custom")?;
    browser.type_into(
        "[data-test=basemap-url]",
        "https://webrd01.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}",
    )?;
    browser.click("[data-test=settings-form] button[type=submit]")?;
    let refused = browser.wait_for(
        "the Amap base map to be refused",
        READY_TIMEOUT,
        "const s = document.querySelector('[data-test=settings-form] [role=status]').textContent;
         return s.includes('GCJ-02') ? {status: s, source: Boolean(window.wanggeMap.getSource('basemap')),
           stored: localStorage.getItem('wangge.settings.v1')} : null;",
    )?;
    if refused["source"] != json!(false)
        || refused["stored"]
            .as_str()
            .is_some_and(|s| s.contains("autonavi"))
    {
        return Err(format!(
            "a refused base map must not be used or kept: {refused}"
        ));
    }
    if !refused["status"].as_str().unwrap_or("").contains("天地图") {
        return Err(format!("the refusal offers Tianditu: {refused}"));
    }
    tianditu_takes_a_key(browser)
}

/// Tianditu from the settings: a malformed key is refused by name; a good
/// one gives the base (`vec_w`) and its place names (`cva_w`) over t0–t7
/// with the key, drawn under the grids and credited; clearing removes both.
fn tianditu_takes_a_key(browser: &Browser) -> Result<(), String> {
    const KEY: &str = "0123456789abcdef0123456789ABCDEF";
    let status =
        "return document.querySelector('[data-test=settings-form] [role=status]').textContent;";
    choose_basemap_source(browser, "vec")?;
    browser.type_into("[data-test=tianditu-key]", "not-a-key")?;
    browser.click("[data-test=settings-form] button[type=submit]")?;
    let refused = browser.execute(status, json!([]))?;
    if !refused.as_str().unwrap_or("").contains("32 位") {
        return Err(format!(
            "a malformed Tianditu key must be refused by name: {refused}"
        ));
    }
    browser.execute(
        "document.querySelector('[data-test=tianditu-key]').value = '';",
        json!([]),
    )?;
    browser.type_into("[data-test=tianditu-key]", KEY)?;
    browser.click("[data-test=settings-form] button[type=submit]")?;
    let drawn = browser.wait_for(
        "the Tianditu base map",
        READY_TIMEOUT,
        "const m = window.wanggeMap, style = m.getStyle();
         const base = style.sources['basemap'], labels = style.sources['basemap-labels'];
         if (!base || !labels) return null;
         const layers = style.layers.map((l) => l.id);
         return {base: base.tiles, labels: labels.tiles, attribution: base.attribution,
           under: layers.indexOf('basemap-labels') < layers.findIndex((l) => l.startsWith('grid')),
           stored: localStorage.getItem('wangge.settings.v1')};",
    )?;
    let tiles = |member: &str| strings(&drawn[member]);
    let (base, labels) = (tiles("base"), tiles("labels"));
    let key = KEY.to_ascii_lowercase();
    let hosts_ok = |urls: &[String], layer: &str| {
        urls.len() == 8
            && urls.iter().enumerate().all(|(i, u)| {
                u.starts_with(&format!("https://t{i}.tianditu.gov.cn/{layer}_w/wmts?"))
                    && u.contains(&format!("LAYER={layer}&"))
                    && u.ends_with(&format!("&tk={key}"))
                    && u.contains("TILEMATRIX={z}&TILEROW={y}&TILECOL={x}")
            })
    };
    if !hosts_ok(&base, "vec") || !hosts_ok(&labels, "cva") {
        return Err(format!("Tianditu's tiles are not as documented: {drawn}"));
    }
    if drawn["under"] != json!(true)
        || !drawn["attribution"]
            .as_str()
            .unwrap_or("")
            .contains("天地图")
    {
        return Err(format!(
            "Tianditu must lie under the grids, credited: {drawn}"
        ));
    }
    browser.click("[data-test=settings-form] button.button:not(.primary)")?;
    browser.wait_for(
        "the base map to be cleared",
        READY_TIMEOUT,
        "const m = window.wanggeMap;
         return !m.getSource('basemap') && !m.getSource('basemap-labels')
           && !localStorage.getItem('wangge.settings.v1').includes('tianditu') ? true : null;",
    )?;
    Ok(())
}

/// The tabs the panel shows.
fn tabs(browser: &Browser) -> Result<Vec<String>, String> {
    let ids = browser.execute(
        "return [...document.querySelectorAll('[role=tab]')].map((t) => t.dataset.test);",
        json!([]),
    )?;
    Ok(strings(&ids))
}

/// The strings of a JSON array (none for anything else).
fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn drive(browser: &Browser, server: &DemoServer, artifacts: &Path) -> Result<(), String> {
    let accept = browser.execute("return navigator.languages", json!([]))?;
    if accept
        .get(0)
        .and_then(Value::as_str)
        .is_none_or(|l| !l.starts_with("zh"))
    {
        return Err(format!("the browser should prefer Chinese: {accept}"));
    }
    server.open_map_as(browser, "admin")?;
    browser.wait_for(
        "the map to draw",
        READY_TIMEOUT,
        "return document.body.dataset.mapReady === '1' && document.body.dataset.appReady === '1' || null",
    )?;
    // The check can fail: an image without a text alternative (critical)
    // planted for a moment is found.
    browser.execute(
        "const img = document.createElement('img'); img.id = 'planted'; img.src = 'data:,';
         document.getElementById('panel').append(img);",
        json!([]),
    )?;
    let planted = axe(browser)?;
    browser.execute("document.getElementById('planted').remove();", json!([]))?;
    if !planted.iter().any(|v| v.starts_with("image-alt")) {
        return Err(format!(
            "axe-core did not find a planted image without alt: {planted:?}"
        ));
    }
    let mut report = String::new();
    let mut failures = Vec::new();
    for (size, (width, height)) in [("desktop", (1440, 900)), ("phone", (390, 844))] {
        browser.call(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        )?;
        std::thread::sleep(Duration::from_millis(500));
        for tab in tabs(browser)? {
            browser.click(&format!("[data-test={tab}]"))?;
            std::thread::sleep(Duration::from_millis(700));
            let violations = axe(browser)?;
            let words = english(browser)?;
            report.push_str(&format!(
                "{size} {tab}: {} serious/critical, English {:?}\n",
                violations.len(),
                words
            ));
            for v in &violations {
                report.push_str(&format!("    {v}\n"));
            }
            if !violations.is_empty() || !words.is_empty() {
                failures.push(format!("{size} {tab}: {violations:?} English {words:?}"));
            }
        }
        browser.screenshot(&artifacts.join(format!("a11y-{size}.png")))?;
        // The statistics report, over the whole window.
        browser.click("[data-test=tab-stats]")?;
        browser.click("[data-test=stats-open]")?;
        browser.wait_for(
            "the statistics report",
            READY_TIMEOUT,
            "const v = document.querySelector('[data-test=stats-view]'); return v && v.dataset.ready === '1' || null",
        )?;
        let violations = axe(browser)?;
        let words = english(browser)?;
        report.push_str(&format!(
            "{size} statistics report: {} serious/critical, English {words:?}\n",
            violations.len()
        ));
        for v in &violations {
            report.push_str(&format!("    {v}\n"));
        }
        if !violations.is_empty() || !words.is_empty() {
            failures.push(format!(
                "{size} statistics report: {violations:?} English {words:?}"
            ));
        }
        browser.click("[data-test=stats-close]")?;
    }
    std::fs::write(artifacts.join("a11y.txt"), &report).map_err(|e| e.to_string())?;
    settings_refuse_offset_base_maps(browser)?;
    report_by_keyboard(browser, server)?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n{report}", failures.join("\n")))
    }
}
