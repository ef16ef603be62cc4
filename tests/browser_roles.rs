//! The web map shows each user only what their role may do, in a real
//! browser (headless Chromium over WebDriver) against a real wangge server:
//!
//! 1. nobody logged in: the login page, not the map; a wrong password is
//!    refused with a message and the page stays;
//! 2. a viewer: the map and the incidents, but no report button, no
//!    editing or patrol tab, and an incident opened shows no action
//!    buttons;
//! 3. after logging out, the login page again; a planner then gets the
//!    editing tools;
//! 4. a grid leader (bound to one basic grid) sees their grid's incident in
//!    the list and not another town's, which the admin sees.
//!
//! Screenshots in `artifacts/browser/`: `roles-viewer.png`,
//! `roles-planner.png`, and `roles-failure.png` when a step fails.

mod support;

use std::time::Duration;

use serde_json::json;
use support::server::{DemoServer, spawn_demo_server};
use support::webdriver::{Browser, run_in_browser};

/// How long a page may take: software WebGL on two busy cores.
const TIMEOUT: Duration = Duration::from_secs(90);

#[test]
fn a_grid_leader_sees_only_their_grids_incidents() {
    let server = spawn_demo_server();
    run_in_browser("roles-leader-failure.png", |browser, artifacts| {
        leader_sees_their_grid(browser, &server, artifacts)
    });
}

#[test]
fn each_role_sees_only_what_it_may_do() {
    let server = spawn_demo_server();
    run_in_browser("roles-failure.png", |browser, artifacts| {
        drive(browser, &server, artifacts)
    });
}

fn present(browser: &Browser, css: &str) -> Result<bool, String> {
    Ok(browser
        .execute(
            "return document.querySelector(arguments[0]) !== null",
            json!([css]),
        )?
        .as_bool()
        .unwrap_or(false))
}

fn drive(
    browser: &Browser,
    server: &DemoServer,
    artifacts: &std::path::Path,
) -> Result<(), String> {
    // An incident for the viewer to open.
    let point = support::server::pick_point(&server.state().index()).point;
    let (status, reported) = server.api(
        "POST",
        "/api/incidents",
        Some(
            &json!({"category": "sanitation", "description": "路边垃圾堆积",
            "lon": point.lon, "lat": point.lat, "source": "hotline"}),
        ),
    )?;
    if status != 201 {
        return Err(format!(
            "the incident should be reported: {status} {reported}"
        ));
    }
    let id = reported["incident"]["id"].as_i64().unwrap_or_default();

    // 1. Nobody logged in: the login page; a wrong password stays there.
    browser.navigate(&format!("{}/", server.base_url()))?;
    browser.wait_for(
        "the login page",
        TIMEOUT,
        "return document.body.dataset.loginReady === '1' || null",
    )?;
    if present(browser, "[data-test=map]")? {
        return Err("the map should not be shown before logging in".into());
    }
    browser.type_into("[data-test=login-name]", "viewer")?;
    browser.type_into("[data-test=login-password]", "not the password")?;
    browser.click("[data-test=login-submit]")?;
    browser.wait_for(
        "the refusal",
        TIMEOUT,
        "const m = document.querySelector('[data-test=login-message]');
         return m && m.textContent.includes('用户名或密码错误') || null",
    )?;

    // 2. A viewer: incidents to read, nothing to do.
    server.open_map_as(browser, "viewer")?;
    browser.wait_for(
        "the map and the incident in the list",
        TIMEOUT,
        &format!(
            "return document.body.dataset.appReady === '1'
                 && document.querySelector(\"[data-test=incident-item][data-incident-id='{id}']\")
                 || null"
        ),
    )?;
    let role = browser.execute(
        "return document.querySelector('[data-test=user-badge]').dataset.role",
        json!([]),
    )?;
    if role != "viewer" {
        return Err(format!("the badge should say viewer, says {role}"));
    }
    for (css, what) in [
        ("[data-test=report-start]", "the report button"),
        ("[data-test=tab-editing]", "the editing tab"),
        ("[data-test=tab-patrols]", "the patrol tab"),
    ] {
        if present(browser, css)? {
            return Err(format!("a viewer should not see {what}"));
        }
    }
    browser.click("[data-test=tab-incidents]")?;
    browser.click(&format!(
        "[data-test=incident-item][data-incident-id='{id}'] button"
    ))?;
    browser.wait_for(
        "the incident's details",
        TIMEOUT,
        "return document.querySelector('[data-test=incident-title]') || null",
    )?;
    if present(browser, "[data-test=incident-actions]")?
        || present(browser, "[data-test=action-escalate]")?
    {
        return Err("a viewer should see no action buttons on an incident".into());
    }
    browser.screenshot(&artifacts.join("roles-viewer.png"))?;

    // 3. Logging out brings the login page back; a planner can edit.
    browser.click("[data-test=logout]")?;
    browser.wait_for(
        "the login page after logging out",
        TIMEOUT,
        "return document.body.dataset.loginReady === '1' || null",
    )?;
    server.open_map_as(browser, "planner")?;
    browser.wait_for(
        "the editing tab",
        TIMEOUT,
        "return document.querySelector('[data-test=tab-editing]') || null",
    )?;
    if present(browser, "[data-test=report-start]")? {
        return Err("a planner should not see the report button".into());
    }
    browser.screenshot(&artifacts.join("roles-planner.png"))?;

    // 4. A county that publishes its grid map shows it to anyone, with a
    //    way to log in and nothing else.
    browser.click("[data-test=logout]")?;
    browser.wait_for(
        "the login page after logging out",
        TIMEOUT,
        "return document.body.dataset.loginReady === '1' || null",
    )?;
    server
        .state()
        .set_access(wangge::services::accounts::AccessSettings {
            public_grid_map: true,
            ..Default::default()
        });
    browser.navigate(&format!("{}/", server.base_url()))?;
    browser.wait_for(
        "the published map",
        TIMEOUT,
        "return document.body.dataset.appReady === '1'
             && document.querySelector('[data-test=user-badge][data-role=anonymous]')
             || null",
    )?;
    for (css, what) in [
        ("[data-test=tab-incidents]", "the incidents tab"),
        ("[data-test=tab-editing]", "the editing tab"),
        ("[data-test=tab-patrols]", "the patrol tab"),
        ("[data-test=logout]", "a logout button"),
    ] {
        if present(browser, css)? {
            return Err(format!(
                "a visitor of the published map should not see {what}"
            ));
        }
    }
    browser.screenshot(&artifacts.join("roles-published.png"))?;
    browser.click("[data-test=login-open]")?;
    browser.wait_for(
        "the login form from the published map",
        TIMEOUT,
        "return document.querySelector('[data-test=login-form]') || null",
    )?;

    // Nothing the page did was blocked by its Content-Security-Policy.
    let violations = browser.execute(
        "return document.body.dataset.cspViolations || null",
        json!([]),
    )?;
    if !violations.is_null() {
        return Err(format!(
            "the page broke its CSP {violations} time(s) (see the console)"
        ));
    }
    Ok(())
}

/// A point inside a grid.
fn inside(grid: &wangge::model::Grid) -> Result<(f64, f64), String> {
    use geo::InteriorPoint;
    let p = grid
        .geometry
        .interior_point()
        .ok_or_else(|| format!("grid {} has no interior point", grid.id))?;
    Ok((p.x(), p.y()))
}

fn leader_sees_their_grid(
    browser: &Browser,
    server: &DemoServer,
    artifacts: &std::path::Path,
) -> Result<(), String> {
    // The leader's grid is the demo server's first basic grid; the other
    // incident goes in the last basic grid, in another town.
    let index = server.state().index();
    let basic: Vec<_> = index
        .grids()
        .iter()
        .filter(|g| g.level.get() == 4)
        .collect();
    let (mine_grid, other_grid) = match (basic.first(), basic.last()) {
        (Some(a), Some(b)) if a.parent_id != b.parent_id => (*a, *b),
        _ => return Err("the demo county should have basic grids under different parents".into()),
    };
    let mut ids = Vec::new();
    for grid in [mine_grid, other_grid] {
        let (lon, lat) = inside(grid)?;
        let (status, reported) = server.api(
            "POST",
            "/api/incidents",
            Some(
                &json!({"category": "sanitation", "description": format!("{} 垃圾堆积", grid.name),
                "lon": lon, "lat": lat, "source": "hotline"}),
            ),
        )?;
        if status != 201 {
            return Err(format!(
                "the incident should be reported: {status} {reported}"
            ));
        }
        ids.push(reported["incident"]["id"].as_i64().unwrap_or_default());
    }
    let (mine, other) = (ids[0], ids[1]);

    server.open_map_as(browser, "leader")?;
    browser.wait_for(
        "the leader's incident in the list",
        TIMEOUT,
        &format!(
            "return document.body.dataset.appReady === '1'
                 && document.querySelector(\"[data-test=incident-item][data-incident-id='{mine}']\")
                 || null"
        ),
    )?;
    let listed = browser.execute(
        "return [...document.querySelectorAll('[data-test=incident-item]')]
             .map((li) => Number(li.dataset.incidentId))",
        json!([]),
    )?;
    if listed != json!([mine]) {
        return Err(format!(
            "the leader's list should hold only incident {mine} (not {other}): {listed}"
        ));
    }
    browser.screenshot(&artifacts.join("roles-leader.png"))?;

    // The admin's list has both.
    server.open_map_as(browser, "admin")?;
    browser.wait_for(
        "both incidents in the admin's list",
        TIMEOUT,
        &format!(
            "return document.querySelector(\"[data-test=incident-item][data-incident-id='{mine}']\")
                 && document.querySelector(\"[data-test=incident-item][data-incident-id='{other}']\")
                 || null"
        ),
    )?;
    Ok(())
}
