//! A grid leader's patrol in a real browser (headless Chromium over
//! WebDriver) against a real wangge server with the demo county, its roads
//! and its hazards: pick the start in a basic grid on the map, see the
//! grid's due hazards, plan a day patrol, move a stop, save the route (in
//! the adjusted order), start a patrol; then a synthetic GPS track along the
//! first part of the route is uploaded through the panel (as a patrol app's
//! export would be), and the page shows the stops visited and the grid's
//! coverage going up; finishing, once confirmed, turns the rest into missed
//! stops.
//!
//! Then a grid member in the field on a phone-sized window: the grid's
//! saved route is listed, they start it, check in where Chromium's
//! geolocation override puts the phone (refused first at ±500 m, accepted
//! at ±8 m at the first stop, with a photo whose thumbnail shows and which
//! the stored check-in names), see the stop visited, reload and find the
//! patrol still running, and finish it after confirming; every button of
//! the patrol is at least 44 px high.
//!
//! Screenshots in `artifacts/browser/`: `patrol-planned.png` (the route and
//! its stops), `patrol-covered.png` (after the track), `hazard-panel.png`
//! (a hazard and its inspections), and
//! `patrol-failure.png` when a step fails.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use wangge::generate::roads::settlements;
use wangge::model::Level;

use support::server::{CLICK_MARGIN_M, DemoServer, spawn_demo_server_with_patrols};
use support::webdriver::{Browser, map_error, run_in_browser};
use support::wire::CountingRelay;

/// How long the first view may take to draw: software WebGL on two busy cores.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How long an answer to a click may take to show.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
const PICK_ZOOM: f64 = 15.0;

#[test]
fn a_grid_leader_plans_saves_and_follows_a_patrol() {
    let server = spawn_demo_server_with_patrols();
    run_in_browser("patrol-failure.png", |browser, artifacts| {
        drive(browser, &server, artifacts)?;
        member_in_the_field(browser, &server, artifacts)
    });
}

/// Put the phone at `(lon, lat)` with `accuracy` metres (DevTools'
/// geolocation override, permission granted to the page at `origin`).
fn place_phone(
    browser: &Browser,
    origin: &str,
    lon: f64,
    lat: f64,
    accuracy: f64,
) -> Result<(), String> {
    browser.call(
        "POST",
        "/goog/cdp/execute",
        json!({"cmd": "Browser.grantPermissions", "params": {
            "permissions": ["geolocation"], "origin": origin}}),
    )?;
    browser.call(
        "POST",
        "/goog/cdp/execute",
        json!({"cmd": "Emulation.setGeolocationOverride", "params": {
            "latitude": lat, "longitude": lon, "accuracy": accuracy}}),
    )?;
    Ok(())
}

fn member_in_the_field(
    browser: &Browser,
    server: &DemoServer,
    artifacts: &Path,
) -> Result<(), String> {
    // The member's grid (the demo users' grid), a route of its first two
    // hazards assigned to them, saved by the admin.
    let grid = server
        .state()
        .index()
        .grids()
        .iter()
        .find(|g| g.level.get() == 4)
        .map(|g| g.id.0.clone())
        .ok_or("a basic grid")?;
    let (_, hazards) = server.api("GET", &format!("/api/hazards?grid={grid}"), None)?;
    let features = hazards["features"].as_array().ok_or("hazards")?;
    if features.len() < 2 {
        return Err(format!(
            "the member's grid {grid} has {} hazards",
            features.len()
        ));
    }
    let at = |k: usize| -> (f64, f64) {
        let c = &features[k]["geometry"]["coordinates"];
        (c[0].as_f64().unwrap_or(0.0), c[1].as_f64().unwrap_or(0.0))
    };
    let (first, second) = (at(0), at(1));
    let (status, route) = server.api(
        "POST",
        "/api/routes",
        Some(
            &json!({"name": "手机巡查", "grid": grid, "shift": "day", "start": [first.0, first.1],
            "stops": [{"hazard": features[0]["id"]}, {"hazard": features[1]["id"]}],
            "assignees": ["member"]}),
        ),
    )?;
    if status != 201 {
        return Err(format!("saving the member's route: {status} {route}"));
    }
    let route_id = route["features"][0]["id"].as_i64().ok_or("a route id")?;

    browser.call("POST", "/window/rect", json!({"width": 390, "height": 844}))?;
    // The phone reaches the server through a relay, so its network can go.
    let relay = CountingRelay::start(server.addr());
    let origin = relay.base_url();
    // Far from anything, and imprecise: refused.
    place_phone(browser, &origin, second.0, second.1, 500.0)?;
    server.open_map_at(browser, &origin, "member")?;
    browser.wait_for(
        "the patrol tab",
        READY_TIMEOUT,
        "return document.querySelector('[data-test=tab-patrols]') ? true : null",
    )?;
    // On a phone the panel is a sheet along the bottom: raise it, and wait
    // for it to settle (it slides up; a click while it moves can miss).
    browser.click("#sheet-handle")?;
    browser.wait_for(
        "the raised sheet to settle",
        ANSWER_TIMEOUT,
        "const t = document.querySelector('[data-test=tab-patrols]').getBoundingClientRect();
         const key = `${Math.round(t.top)}`;
         const settled = window.__tabTop === key && t.bottom <= window.innerHeight;
         window.__tabTop = key;
         return settled || null;",
    )?;
    browser.click("[data-test=tab-patrols]")?;
    browser.wait_for(
        "the grid's saved route listed",
        ANSWER_TIMEOUT,
        &format!(
            "const li = document.querySelector('[data-test=my-route][data-route-id=\"{route_id}\"]');
             if (!li) return null; li.querySelector('button').id = 'start-mine'; return true;"
        ),
    )?;
    browser.click("#start-mine")?;
    let patrol = data(
        browser,
        "the patrol under way",
        "[data-test=patrol-id]",
        "status",
        "active",
    )?;
    let _ = patrol;
    let patrol_id = browser.execute(
        "return document.querySelector('[data-test=patrol-id]').dataset.patrolId",
        json!([]),
    )?;
    browser.click("[data-test=patrol-checkin]")?;
    let refused = browser.wait_for(
        "a check-in at ±500 m to be refused",
        ANSWER_TIMEOUT,
        "const r = document.querySelector('[data-test=checkin-refused]');
         if (r && r.textContent.includes('±500')) return true;
         const s = document.querySelector('[data-test=patrol-checkin-status]');
         return s && s.querySelector('.error') ? s.textContent : null;",
    )?;
    if refused != json!(true) {
        return Err(format!(
            "a check-in at ±500 m is refused for its accuracy: {refused}"
        ));
    }
    // At the first stop, good to 8 m, with a photo from the camera: visited.
    place_phone(browser, &origin, first.0, first.1, 8.0)?;
    let photo_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let photo_path = photo_dir.path().join("hazard.png");
    image::RgbImage::from_fn(800, 600, |x, y| {
        image::Rgb([(x % 200) as u8, (y % 180) as u8, 90])
    })
    .save(&photo_path)
    .map_err(|e| e.to_string())?;
    let input = browser.find("[data-test=patrol-photo]")?;
    browser.call(
        "POST",
        &format!("/element/{input}/value"),
        json!({"text": photo_path.display().to_string()}),
    )?;
    browser.click("[data-test=patrol-checkin]")?;
    let shown = browser.wait_for(
        "the check-in accepted with its photo's thumbnail",
        ANSWER_TIMEOUT,
        "const img = document.querySelector('[data-test=checkin-photo]');
         return document.querySelector('[data-test=checkin-done]') && img && img.complete
           && img.naturalWidth > 0 ? {id: img.dataset.photoToken, width: img.naturalWidth} : null;",
    )?;
    if shown["width"] != json!(320) {
        return Err(format!("the thumbnail is 320 px across: {shown}"));
    }
    let (_, patrol_doc) = server.api(
        "GET",
        &format!("/api/patrols/{}", patrol_id.as_str().unwrap_or("0")),
        None,
    )?;
    let photo_id = shown["id"].as_str().unwrap_or("?");
    let named = patrol_doc["checkins"].as_array().is_some_and(|c| {
        c.iter().any(|c| {
            c["photo_url"]
                .as_str()
                .is_some_and(|u| u.ends_with(&format!("/api/photos/{photo_id}")))
        })
    });
    if !named {
        return Err(format!("the check-in names its photo: {patrol_doc}"));
    }
    data(
        browser,
        "the first stop visited",
        "[data-test=patrol-id]",
        "visited",
        "1",
    )?;
    // The phone's positions went to the patrol as its live track.
    let live = browser.wait_for(
        "the live track sent",
        ANSWER_TIMEOUT,
        "const l = document.querySelector('[data-test=live-track]');
         return l && !l.hidden && Number(l.dataset.kept) >= 1 && l.dataset.waiting === '0'
           ? {kept: Number(l.dataset.kept), text: l.textContent} : null;",
    )?;
    // The patrol as the server has it, and its track's fixes (counted by
    // their times: one fix is a Point, whose coordinates are its numbers).
    let stored = || {
        server.api(
            "GET",
            &format!("/api/patrols/{}", patrol_id.as_str().unwrap_or("")),
            None,
        )
    };
    let fixes = |patrol: &Value| {
        patrol["track"]["properties"]["times"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let (_, walked) = stored()?;
    let points = fixes(&walked);
    let kept = live["kept"].as_u64().unwrap_or(0) as usize;
    if points < kept {
        return Err(format!(
            "the {kept} positions kept are on the server's track ({points} points): {walked}"
        ));
    }
    // The network goes; the phone walks on 25 m: the position waits on the
    // device, and is sent when the network is back.
    relay.cut();
    place_phone(browser, &origin, first.0 + 0.000_27, first.1, 8.0)?;
    browser.wait_for(
        "the position kept on the phone while offline",
        ANSWER_TIMEOUT,
        &format!(
            "const l = document.querySelector('[data-test=live-track]');
             return l && Number(l.dataset.kept) > {kept} && Number(l.dataset.waiting) >= 1
               && l.textContent.includes('网络中断') ? true : null;"
        ),
    )?;
    relay.restore();
    browser.wait_for(
        "the kept position sent once the network is back",
        ANSWER_TIMEOUT,
        &format!(
            "const l = document.querySelector('[data-test=live-track]');
             return l && Number(l.dataset.kept) > {kept} && l.dataset.waiting === '0' ? true : null;"
        ),
    )?;
    let (_, walked) = stored()?;
    let after = fixes(&walked);
    if after <= points {
        let said = browser.execute(
            "return document.querySelector('[data-test=live-track]').textContent;",
            json!([]),
        )?;
        return Err(format!(
            "the position kept offline reached the server's track ({points} → {after} \
             points); the page says {said}; the track {}",
            walked["track"]
        ));
    }
    let small = browser.execute(
        "return [...document.querySelectorAll('.patrol-actions button, [data-test=my-route-start]')]
           .filter((b) => b.offsetParent && b.getBoundingClientRect().height < 44)
           .map((b) => b.textContent + ' ' + Math.round(b.getBoundingClientRect().height));",
        json!([]),
    )?;
    if small.as_array().is_some_and(|s| !s.is_empty()) {
        return Err(format!("touch targets under 44 px on the phone: {small}"));
    }
    browser.screenshot(&artifacts.join("patrol-phone.png"))?;

    // A reload finds the patrol still running.
    browser.call("POST", "/refresh", json!({}))?;
    browser.wait_for(
        "the running patrol restored after a reload",
        READY_TIMEOUT,
        &format!(
            "const p = document.querySelector('[data-test=patrol-id]');
             return p && p.dataset.patrolId === '{}' && p.dataset.status === 'active'
               && p.dataset.visited === '1' || null;",
            patrol_id.as_str().unwrap_or("")
        ),
    )?;
    browser.click("[data-test=patrol-finish]")?;
    browser.wait_for(
        "the confirmation naming the stop not reached",
        ANSWER_TIMEOUT,
        "const c = document.querySelector('[data-test=patrol-confirm]');
         return c && c.textContent.includes('还有 1 个点位未到') ? true : null;",
    )?;
    browser.click("[data-test=patrol-finish-confirm]")?;
    data(
        browser,
        "the finished patrol",
        "[data-test=patrol-id]",
        "status",
        "finished",
    )?;
    data(
        browser,
        "one stop missed",
        "[data-test=patrol-id]",
        "missed",
        "1",
    )?;

    // The route's past patrols list this one (finished, one stop reached);
    // opened again, it is replayed and takes no more check-ins.
    browser.click("[data-test=my-route-history]")?;
    let listed = browser.wait_for(
        "the route's past patrols",
        ANSWER_TIMEOUT,
        &format!(
            "const p = document.querySelector('[data-test=past-patrol][data-patrol-id=\"{}\"]');
             return p ? {{status: p.dataset.status, visited: p.dataset.visited, text: p.textContent}} : null;",
            patrol_id.as_str().unwrap_or("")
        ),
    )?;
    if listed["status"] != "finished" || listed["visited"] != "1" {
        return Err(format!("the finished patrol in the list: {listed}"));
    }
    browser.click("[data-test=past-patrol-open]")?;
    browser.wait_for(
        "the past patrol opened for replay, with no more check-ins",
        ANSWER_TIMEOUT,
        &format!(
            "const p = document.querySelector('[data-test=patrol-id]');
             const checkIn = document.querySelector('[data-test=patrol-checkin]');
             const replay = document.querySelector('[data-test=patrol-replay]');
             return p && p.dataset.patrolId === '{}' && checkIn.disabled && !replay.disabled
               && document.querySelector('#map [data-test=replay-marker]') ? true : null;",
            patrol_id.as_str().unwrap_or("")
        ),
    )?;
    Ok(())
}

/// A basic grid with at least three due hazards, and a start deep inside it
/// (its settlement, where its roads meet).
fn pick_grid(server: &DemoServer) -> Result<(String, [f64; 2], usize), String> {
    let index = server.state().index();
    for s in settlements(index.grids()) {
        let grid = &index.grids()[s.grid];
        let chain = index.locate(s.at);
        if chain
            .at(Level::new(4).expect("level"))
            .map(|ix| &index.grid(ix).id)
            != Some(&grid.id)
            || index.boundary_distance_m(s.at, &chain).unwrap_or(0.0) < CLICK_MARGIN_M
        {
            continue;
        }
        let (_, due) = server.api(
            "GET",
            &format!("/api/hazards?grid={}&due=now", grid.id.0),
            None,
        )?;
        let count = due["features"].as_array().map_or(0, Vec::len);
        if count >= 3 {
            return Ok((grid.id.0.clone(), [s.at.lon, s.at.lat], count));
        }
    }
    Err("no basic grid of the demo county has three due hazards".into())
}

fn data(browser: &Browser, what: &str, css: &str, key: &str, want: &str) -> Result<Value, String> {
    browser.wait_for(
        what,
        ANSWER_TIMEOUT,
        &format!(
            "const msg = document.querySelector('[data-test=patrol-message]');
             if (msg && msg.classList.contains('error')) return {{error: msg.textContent}};
             const el = document.querySelector('{css}');
             return el && el.dataset.{key} === '{want}' ? {{ok: true}} : null;"
        ),
    )
}

/// Wait until the element matching `css` has a number in `data-{key}`.
fn number_in(browser: &Browser, what: &str, css: &str, key: &str) -> Result<i64, String> {
    let found = browser.wait_for(
        what,
        ANSWER_TIMEOUT,
        &format!(
            "const el = document.querySelector('{css}');
             return el && el.dataset.{key} ? el.dataset.{key} : null;"
        ),
    )?;
    found
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{what}: {found} is not a number"))
}

fn drive(browser: &Browser, server: &DemoServer, artifacts: &Path) -> Result<(), String> {
    let (grid, start, due) = pick_grid(server)?;

    // 1. The page; the patrol tab; pick the start on the map.
    server.open_map_as(browser, "admin")?;
    browser
        .wait_for(
            "the map to draw its first view",
            READY_TIMEOUT,
            "return document.body.dataset.mapReady === '1' || null",
        )
        .map_err(|e| format!("{e}; map error: {}", map_error(browser)))?;
    browser.click("[data-test=tab-patrols]")?;
    browser.click("[data-test=patrol-pick]")?;
    browser.click_map_at(start[0], start[1], PICK_ZOOM)?;
    data(
        browser,
        "the picked grid",
        "[data-test=patrol-grid]",
        "gridId",
        &grid,
    )?;
    data(
        browser,
        "the grid's due hazards",
        "[data-test=patrol-due-count]",
        "due",
        &due.to_string(),
    )?;

    // 2. Plan: every due hazard is a stop, and the route is drawn.
    browser.click("[data-test=patrol-plan]")?;
    data(
        browser,
        "the planned route",
        "[data-test=route-summary]",
        "stops",
        &due.to_string(),
    )?;
    browser.wait_for(
        "the route and its stops on the map",
        ANSWER_TIMEOUT,
        "const m = window.wanggeMap;
         return m.queryRenderedFeatures({layers: ['patrol-route-line']}).length > 0
             && m.queryRenderedFeatures({layers: ['patrol-stops']}).length > 0 || null;",
    )?;
    // Legs that leave the roads are said and drawn dashed, one line each;
    // the notices are in Chinese; the roads themselves are drawn.
    let drawn = browser.wait_for(
        "the off-road legs drawn and the roads loaded",
        ANSWER_TIMEOUT,
        "const m = window.wanggeMap;
         const said = Number(document.querySelector('[data-test=route-summary]').dataset.offRoad);
         const dashed = m.getSource('patrol-offroad').serialize().data.features.length;
         const roads = m.getSource('roads').serialize().data.features.length;
         const drawnRoads = m.queryRenderedFeatures({layers: ['roads-main', 'roads-village', 'roads-path']}).length;
         const notices = [...document.querySelectorAll('.notice')].map((n) => n.textContent);
         return roads > 0 && drawnRoads > 0 ? {said, dashed, roads, drawnRoads, notices} : null;",
    )?;
    if drawn["said"] != drawn["dashed"] {
        return Err(format!("every off-road leg is drawn dashed: {drawn}"));
    }
    let notices = drawn["notices"].as_array().ok_or("notices")?;
    if notices.iter().any(|n| {
        n.as_str()
            .is_none_or(|n| n.chars().any(|c| c.is_ascii_alphabetic()))
    }) {
        return Err(format!("route notices are in Chinese: {drawn}"));
    }
    if drawn["said"].as_i64() > Some(0)
        && !notices
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.contains("离开道路")))
    {
        return Err(format!("a notice names the off-road legs: {drawn}"));
    }
    // Hazards are drawn on the patrol tab, not on the dispatch tab (where a
    // red hazard dot would pass for an overdue incident) unless asked for.
    let hazards_shown = |browser: &Browser| {
        browser.execute(
            "return window.wanggeMap.getLayoutProperty('patrol-hazards', 'visibility') !== 'none';",
            json!([]),
        )
    };
    browser.click("[data-test=tab-incidents]")?;
    if hazards_shown(browser)? != json!(false) {
        return Err("hazards are hidden on the dispatch tab".into());
    }
    browser.click("[data-test=tab-patrols]")?;
    if hazards_shown(browser)? != json!(true) {
        return Err("hazards are shown again on the patrol tab".into());
    }
    browser.screenshot(&artifacts.join("patrol-planned.png"))?;

    // 3. Adjust: the first stop goes second. Save; start a patrol.
    let order = |browser: &Browser| -> Result<Vec<i64>, String> {
        let found = browser.execute(
            "return [...document.querySelectorAll('[data-test=route-stops] > li')]
                 .map((li) => Number(li.dataset.hazard));",
            json!([]),
        )?;
        serde_json::from_value(found).map_err(|e| e.to_string())
    };
    let planned = order(browser)?;
    browser.click("[data-test=route-stops] > li:first-child button[title='下移']")?;
    let mut adjusted = planned.clone();
    adjusted.swap(0, 1);
    if order(browser)? != adjusted {
        return Err(format!(
            "moving stop 1 down should give {adjusted:?}, not {:?}",
            order(browser)?
        ));
    }
    browser.type_into("[data-test=route-assignees]", "李四")?;
    browser.click("[data-test=route-save]")?;
    let route = number_in(
        browser,
        "the saved route's number",
        "[data-test=patrol-route]",
        "routeId",
    )?;
    let (_, doc) = server.api("GET", &format!("/api/routes/{route}"), None)?;
    let saved: Vec<i64> = doc["features"].as_array().ok_or("features")?[1..]
        .iter()
        .map(|f| f["properties"]["hazard"].as_i64().unwrap_or(-1))
        .collect();
    if saved != adjusted {
        return Err(format!(
            "the route should be saved in the adjusted order {adjusted:?}, not {saved:?}"
        ));
    }
    browser.click("[data-test=patrol-start]")?;
    let patrol = number_in(
        browser,
        "the started patrol",
        "[data-test=patrol-id]",
        "patrolId",
    )?;
    data(
        browser,
        "no inspections yet",
        "[data-test=coverage-figures]",
        "inspections",
        "0",
    )?;

    // 4. A synthetic GPS track along the route as far as its second stop,
    // uploaded through the panel's file field as a patrol app's export would be.
    let path = doc["features"][0]["geometry"]["coordinates"]
        .as_array()
        .ok_or("a path")?
        .clone();
    let second = doc["features"][2]["geometry"]["coordinates"].clone();
    let end = path
        .iter()
        .position(|p| *p == second)
        .ok_or("the way passes its second stop")?;
    let now = jiff::Timestamp::now();
    let times: Vec<String> = (0..=end)
        .map(|k| (now + jiff::SignedDuration::from_secs(10 * k as i64)).to_string())
        .collect();
    let track = json!({"type": "Feature", "properties": {"times": times},
        "geometry": {"type": "LineString", "coordinates": path[..=end]}});
    let file = artifacts.join("patrol-track.geojson");
    std::fs::write(&file, track.to_string()).map_err(|e| format!("{}: {e}", file.display()))?;
    browser.type_into("[data-test=patrol-track-file]", &file.to_string_lossy())?;
    browser.wait_for(
        "the uploaded track's visits",
        ANSWER_TIMEOUT,
        "const msg = document.querySelector('[data-test=patrol-message]');
         if (msg && msg.classList.contains('error')) return {error: msg.textContent};
         const el = document.querySelector('[data-test=patrol-id]');
         return el && Number(el.dataset.visited) >= 2 || null;",
    )?;
    let (_, answer) = server.api("GET", &format!("/api/patrols/{patrol}"), None)?;
    let visited = answer["visited"].as_u64().ok_or("visited")?;
    let inspected = answer["visits"]
        .as_array()
        .ok_or("visits")?
        .iter()
        .filter(|v| !v["visited_at"].is_null() && !v["hazard"].is_null())
        .count();
    if answer["track"]["geometry"]["coordinates"]
        .as_array()
        .map(Vec::len)
        != Some(end + 1)
    {
        return Err(format!("the whole track is kept: {answer}"));
    }

    // 5. The page shows the visits and the coverage, also after 刷新.
    data(
        browser,
        "the coverage",
        "[data-test=coverage-figures]",
        "inspections",
        &inspected.to_string(),
    )?;
    browser.click("[data-test=patrol-refresh]")?;
    data(
        browser,
        "the visits",
        "[data-test=patrol-id]",
        "visited",
        &visited.to_string(),
    )?;
    data(
        browser,
        "the coverage",
        "[data-test=coverage-figures]",
        "inspections",
        &inspected.to_string(),
    )?;
    browser.screenshot(&artifacts.join("patrol-covered.png"))?;

    // 5b. The second stop's hazard, clicked on the map, opens its own panel
    // with this patrol among its inspections.
    let hazard = doc["features"][2]["properties"]["hazard"].clone();
    let at = second.as_array().ok_or("the second stop's place")?;
    browser.click_map_at(
        at[0].as_f64().unwrap_or(0.0),
        at[1].as_f64().unwrap_or(0.0),
        PICK_ZOOM,
    )?;
    let shown = browser.wait_for(
        "the hazard's panel with its inspections",
        ANSWER_TIMEOUT,
        "const p = document.querySelector('[data-test=hazard-panel]');
         if (!p || p.hidden || !p.dataset.hazardId) return null;
         const rows = [...p.querySelectorAll('[data-test=hazard-inspections] li')];
         return {hazard: Number(p.dataset.hazardId), patrols: rows.map((r) => Number(r.dataset.patrolId)),
                 text: p.textContent};",
    )?;
    browser.screenshot(&artifacts.join("hazard-panel.png"))?;
    if shown["hazard"] != hazard
        || !shown["patrols"]
            .as_array()
            .is_some_and(|p| p.contains(&json!(patrol)))
    {
        return Err(format!(
            "hazard {hazard}'s panel lists patrol {patrol} among its inspections: {shown}"
        ));
    }

    // 6. Finish, once confirmed: the stops not reached are missed.
    browser.click("[data-test=patrol-finish]")?;
    let asked = browser.wait_for(
        "the confirmation before finishing",
        ANSWER_TIMEOUT,
        "const c = document.querySelector('[data-test=patrol-confirm]');
         return c && c.textContent.includes('确定结束巡查') ? c.textContent : null;",
    )?;
    let still = browser.execute(
        "return document.querySelector('[data-test=patrol-id]').dataset.status",
        json!([]),
    )?;
    if still != json!("active") {
        return Err(format!(
            "asking ({asked}) must not finish the patrol yet: {still}"
        ));
    }
    browser.click("[data-test=patrol-finish-confirm]")?;
    data(
        browser,
        "the finished patrol",
        "[data-test=patrol-id]",
        "status",
        "finished",
    )?;
    let missed = due as u64 - visited;
    data(
        browser,
        "the missed stops",
        "[data-test=coverage-figures]",
        "missed",
        &missed.to_string(),
    )?;
    Ok(())
}
