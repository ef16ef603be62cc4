//! The dispatcher's map in a real browser (headless Chromium over WebDriver,
//! see `support::webdriver`) against a real wangge server with the demo
//! county: a dispatcher picks a place on the map and reports an incident,
//! sees the grid and leader it goes to before and after sending, finds it on
//! the map's incident layer and in the live list, moves it through the
//! community-issue process to closed with the buttons the panel offers, and
//! reads its history; then a report made elsewhere (through the API) shows
//! up in the open page without a reload, through the event stream, and the
//! grids can be coloured by their open incidents.
//!
//! Screenshots in `artifacts/browser/`: `incident-report.png` (the form with
//! its grid and leader), `incident-closed.png` (the closed incident and its
//! history), `incident-live.png` (after the live update), and
//! `incident-failure.png` when a step fails.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use wangge::model::GridId;

use support::server::{DemoServer, Target, pick_point, spawn_demo_server};
use support::webdriver::{Browser, map_error, run_in_browser};

/// How long the first view may take to draw: software WebGL on two busy cores.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How long an answer to a click may take to show.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// The zoom the place is picked at: single incidents, not clusters.
const PICK_ZOOM: f64 = 15.0;
/// Who works the incident: the demo server's dispatcher (the history
/// names the logged-in user).
const DISPATCHER: &str = "dispatcher";

#[test]
fn a_dispatcher_reports_an_incident_on_the_map_and_closes_it() {
    let server = spawn_demo_server();
    let target = pick_point(&server.state().index());
    run_in_browser("incident-failure.png", |browser, artifacts| {
        drive(browser, &server, &target, artifacts)
    });
}

/// Wait until the incident shown has `status`.
fn wait_status(browser: &Browser, status: &str) -> Result<Value, String> {
    browser.wait_for(
        &format!("the incident to show status {status}"),
        ANSWER_TIMEOUT,
        &format!(
            "const el = document.querySelector('[data-test=incident-status]');
             const msg = document.querySelector('[data-test=action-message]');
             if (msg && msg.classList.contains('error')) return {{error: msg.textContent}};
             return el && el.dataset.status === '{status}' ? {{ok: true}} : null;"
        ),
    )
}

/// Wait until incident `id` is drawn on the incident layer and listed;
/// on timeout, say which of the two is missing and what is there.
fn wait_on_map_and_list(browser: &Browser, id: i64, what: &str) -> Result<(), String> {
    let probe = format!(
        "const onMap = window.wanggeMap.queryRenderedFeatures({{layers: ['incidents-point']}})
             .map((f) => f.properties.id);
         const inList = [...document.querySelectorAll('[data-test=incident-item]')]
             .map((li) => Number(li.dataset.incidentId));
         window.__probe = {{onMap, inList, tiles: document.body.dataset.incidentTiles}};
         return onMap.includes({id}) && inList.includes({id}) || null;"
    );
    browser
        .wait_for(
            &format!("{what} (incident {id}) on the map's incident layer and in the list"),
            ANSWER_TIMEOUT,
            &probe,
        )
        .map(drop)
        .map_err(|e| {
            let seen = browser
                .execute("return window.__probe;", json!([]))
                .unwrap_or_default();
            format!("{e}; seen {seen}")
        })
}

fn drive(
    browser: &Browser,
    server: &DemoServer,
    target: &Target,
    artifacts: &Path,
) -> Result<(), String> {
    let index = server.state().index();
    let (deepest_level, deepest_id, deepest_name) =
        target.chain.last().ok_or("the point has grids")?.clone();
    let leader = index
        .get(&GridId::from(deepest_id.as_str()))
        .and_then(|g| g.leader())
        .ok_or("the demo county's grids have leaders")?;

    // 1. The page, its map and its event stream.
    server.open_map_as(browser, DISPATCHER)?;
    browser
        .wait_for(
            "the map to draw its first view and the incident feed to connect",
            READY_TIMEOUT,
            "return document.body.dataset.mapReady === '1'
                 && document.body.dataset.incidentFeed === 'ready' || null",
        )
        .map_err(|e| format!("{e}; map error: {}", map_error(browser)))?;
    // Marks this page: a reload would lose it.
    browser.execute("window.__samePage = true; return true;", json!([]))?;

    // 2. Report: pick the place on the map, see where it goes, send.
    browser.click("[data-test=tab-incidents]")?;
    browser.click("[data-test=report-start]")?;
    browser.click_map_at(target.point.lon, target.point.lat, PICK_ZOOM)?;
    let preview = browser.wait_for(
        "the report form to name the grid and leader the incident will go to",
        ANSWER_TIMEOUT,
        "const grid = document.querySelector('[data-test=report-grid]');
         const leader = document.querySelector('[data-test=report-leader]');
         return grid && leader ? {grid: grid.textContent, leader: leader.textContent} : null;",
    )?;
    if preview["grid"] != json!(deepest_name)
        || !preview["leader"]
            .as_str()
            .is_some_and(|l| l.contains(&leader.name))
    {
        return Err(format!(
            "the form should send it to {deepest_name} and {}; it says {preview}",
            leader.name
        ));
    }
    browser.execute(
        "const s = document.querySelector('[data-test=report-category]');
         s.value = 'sanitation'; s.dispatchEvent(new Event('change')); return true;",
        json!([]),
    )?;
    browser.type_into("[data-test=report-description]", "村口垃圾堆积，已有异味")?;
    browser.type_into("[data-test=report-reporter-name]", "王芳")?;
    browser.screenshot(&artifacts.join("incident-report.png"))?;
    browser.click("[data-test=report-submit]")?;
    wait_status(browser, "collected")?;

    // 3. Assigned to the right grids and leader.
    let shown = browser.execute(
        "const grids = [...document.querySelectorAll('[data-test=incident-chain] > li')]
             .map((li) => li.dataset.gridId);
         return {title: document.querySelector('[data-test=incident-title]').textContent,
                 grids,
                 responsible: document.querySelector('[data-test=incident-responsible]').textContent};",
        json!([]),
    )?;
    let want_grids: Vec<&str> = target.chain.iter().map(|(_, id, _)| id.as_str()).collect();
    if shown["grids"] != json!(want_grids)
        || !shown["responsible"]
            .as_str()
            .is_some_and(|r| r.contains(&leader.name))
    {
        return Err(format!(
            "the incident should be in grids {want_grids:?} with {} (level {deepest_level}) \
             responsible; the panel shows {shown}",
            leader.name
        ));
    }
    let id: i64 = shown["title"]
        .as_str()
        .and_then(|t| t.strip_prefix('#'))
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("the title names the incident: {shown}"))?;

    // 4. On the map (the incidents tiles) and in the live list.
    wait_on_map_and_list(browser, id, "the new incident")?;

    // 5. Through the process with the panel's buttons, to closed.
    let steps: [(&str, &str); 5] = [
        ("verify", "verified"),
        ("study", "studied"),
        ("assign", "assigned"),
        ("resolve", "resolved"),
        ("record_feedback", "closed"),
    ];
    for (action, status) in steps {
        browser.click(&format!("[data-test=action-{action}]"))?;
        browser.wait_for(
            &format!("the form for {action}"),
            ANSWER_TIMEOUT,
            &format!(
                "return document.querySelector('[data-test=action-form-{action}]') ? true : null;"
            ),
        )?;
        if action == "assign" {
            browser.type_into("[data-test=action-person-name]", "李明")?;
            browser.type_into("[data-test=action-person-phone]", "13900000002")?;
        }
        browser.type_into("[data-test=action-note]", &format!("{action}：已处理"))?;
        browser.click("[data-test=action-confirm]")?;
        let done = wait_status(browser, status)?;
        if let Some(error) = done.get("error") {
            return Err(format!("{action} was refused: {error}"));
        }
    }
    browser.wait_for(
        "the closed incident to offer no further step",
        ANSWER_TIMEOUT,
        "return document.querySelector('[data-test=incident-finished]') ? true : null;",
    )?;

    // 6. Its history, in the panel and in the store.
    let history = browser.wait_for(
        "the history to list the report and five steps",
        ANSWER_TIMEOUT,
        "const entries = [...document.querySelectorAll('[data-test=history-entry]')];
         return entries.length === 6
             ? entries.map((e) => e.dataset.action || e.dataset.kind) : null;",
    )?;
    let want_history = json!([
        "created",
        "verify",
        "study",
        "assign",
        "resolve",
        "record_feedback"
    ]);
    if history != want_history {
        return Err(format!(
            "the history should read {want_history}, it reads {history}"
        ));
    }
    browser.screenshot(&artifacts.join("incident-closed.png"))?;
    let (status, stored) = server.api("GET", &format!("/api/incidents/{id}"), None)?;
    let actors: Vec<&str> = stored["history"]
        .as_array()
        .map(|h| h.iter().filter_map(|e| e["actor"].as_str()).collect())
        .unwrap_or_default();
    if status != 200
        || stored["incident"]["status"] != "closed"
        || actors != [DISPATCHER; 6]
        || stored["incident"]["reporter"]["name"] != "王芳"
    {
        return Err(format!(
            "the store should hold the closed incident, every step by {DISPATCHER}: {stored}"
        ));
    }

    // 7. A report from elsewhere appears without a reload.
    let (status, answer) = server.api(
        "POST",
        "/api/incidents",
        Some(&json!({
        "category": "public_order",
        "description": "夜间有人聚集喧哗",
        "lon": target.point.lon + 0.0005,
        "lat": target.point.lat,
        "source": "hotline",
        })),
    )?;
    let other = answer["incident"]["id"].as_i64().unwrap_or(0);
    if status != 201 {
        return Err(format!("the API report was refused: {answer}"));
    }
    wait_on_map_and_list(browser, other, "the report made elsewhere")?;
    if browser.execute("return window.__samePage === true;", json!([]))? != json!(true) {
        return Err("the page reloaded to show the new report".into());
    }
    browser.screenshot(&artifacts.join("incident-live.png"))?;

    // 8. The grids coloured by open incidents: the basic grid holding the
    // open one is in the choropleth's classes.
    let basic = target
        .chain
        .iter()
        .find(|(level, _, _)| *level == 4)
        .map(|(_, id, _)| id.clone())
        .ok_or("the point has a basic grid")?;
    browser.execute(
        "const s = document.querySelector('[data-test=colouring-select]');
         s.value = 'incidents'; s.dispatchEvent(new Event('change')); return true;",
        json!([]),
    )?;
    browser.wait_for(
        "the basic grids to be coloured by their open incidents",
        ANSWER_TIMEOUT,
        &format!(
            "const paint = JSON.stringify(window.wanggeMap.getPaintProperty('grids-fill-4', 'fill-color'));
             return paint.includes('\"{basic}\",1') || null;"
        ),
    )?;
    browser.screenshot(&artifacts.join("incident-colouring.png"))?;
    Ok(())
}
