//! The web map as an installable app that opens without a network, in
//! headless Chromium: the page names its manifest (name, icons, standalone
//! display) and registers its service worker; after a visit online, the
//! network is cut (a relay between browser and server closes every
//! connection and refuses new ones, as when a phone loses its signal), and
//! a reload still opens the map, draws the county's towns and their names
//! from what was kept, and says it is offline. Skipped when Chromium is missing.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use support::server::{DemoServer, spawn_demo_server};
use support::webdriver::{Browser, map_error, run_in_browser};
use support::wire::CountingRelay;

const READY_TIMEOUT: Duration = Duration::from_secs(90);

#[test]
fn the_map_opens_offline_after_a_visit() {
    let server = spawn_demo_server();
    run_in_browser("offline-failure.png", |browser, artifacts| {
        drive(browser, &server, artifacts)
    });
}

/// Wait until the map has drawn its view, saying what it reported if not.
fn map_ready(browser: &Browser, what: &str) -> Result<(), String> {
    browser
        .wait_for(
            what,
            READY_TIMEOUT,
            "return document.body.dataset.mapReady === '1' || null",
        )
        .map(drop)
        .map_err(|e| format!("{e}; map error: {}", map_error(browser)))
}

fn drive(browser: &Browser, server: &DemoServer, artifacts: &Path) -> Result<(), String> {
    let relay = CountingRelay::start(server.addr());
    server.open_map_at(browser, &relay.base_url(), "admin")?;
    map_ready(browser, "the first view online")?;

    // 1. Installable: a manifest with a name, a standalone display, a start
    // address and icons of the sizes phones ask for, all served.
    let manifest = browser.execute_async(
        "const done = arguments[arguments.length - 1];
         const link = document.querySelector('link[rel=manifest]');
         fetch(link.href).then(async (r) => {
           const doc = await r.json();
           const icons = await Promise.all(doc.icons.map(async (i) => {
             const icon = await fetch(new URL(i.src, link.href));
             return {sizes: i.sizes, ok: icon.ok, type: icon.headers.get('content-type')};
           }));
           done({type: r.headers.get('content-type'), name: doc.name, display: doc.display,
                 start: doc.start_url, lang: doc.lang, icons});
         }).catch((e) => done({error: String(e)}));",
        json!([]),
    )?;
    if manifest["type"] != "application/manifest+json"
        || manifest["display"] != "standalone"
        || manifest["lang"] != "zh-CN"
        || !manifest["name"]
            .as_str()
            .is_some_and(|n| n.contains("网格"))
    {
        return Err(format!("the manifest: {manifest}"));
    }
    let icons = manifest["icons"].as_array().ok_or("icons")?;
    for size in ["192x192", "512x512"] {
        let icon = icons
            .iter()
            .find(|i| i["sizes"] == size)
            .ok_or_else(|| format!("an icon of {size}: {manifest}"))?;
        if icon["ok"] != true || icon["type"] != "image/png" {
            return Err(format!("the {size} icon is served as a PNG: {icon}"));
        }
    }

    // 2. The service worker takes the page; a second visit online keeps the
    // map's data as it is shown.
    browser.wait_for(
        "the service worker to control the page",
        READY_TIMEOUT,
        "return navigator.serviceWorker.controller ? true : null",
    )?;
    browser.navigate(&format!("{}/", relay.base_url()))?;
    map_ready(browser, "the second view online")?;
    // The worker writes what it keeps just after answering: look a few times.
    let deadline = std::time::Instant::now() + READY_TIMEOUT;
    let (kept, kept_paths) = loop {
        let kept = browser.execute_async(
            "const done = arguments[arguments.length - 1];
             caches.open('wangge-data').then((c) => c.keys())
               .then((keys) => done(keys.map((k) => new URL(k.url).pathname)))
               .catch((e) => done({error: String(e)}));",
            json!([]),
        )?;
        let paths: Vec<String> = kept
            .as_array()
            .map(|k| {
                k.iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let complete = ["/style.json", "/api/session"]
            .iter()
            .all(|want| paths.iter().any(|p| p == want))
            && paths.iter().any(|p| p.starts_with("/tiles/grids/"));
        if complete || std::time::Instant::now() > deadline {
            break (kept, paths);
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    for want in ["/style.json", "/api/session"] {
        if !kept_paths.iter().any(|p| p == want) {
            return Err(format!("{want} is kept for offline use: {kept}"));
        }
    }
    if !kept_paths.iter().any(|p| p.starts_with("/tiles/grids/")) {
        return Err(format!("grid tiles are kept for offline use: {kept}"));
    }

    // 3. The network goes. A reload opens the map from what was kept: the
    // page, the session, the style and the towns' tiles; it says it is offline.
    relay.cut();
    browser.navigate(&format!("{}/", relay.base_url()))?;
    map_ready(browser, "the view offline")?;
    let offline = browser.wait_for(
        "the offline banner",
        READY_TIMEOUT,
        "const b = document.querySelector('[data-test=offline-banner]');
         const m = window.wanggeMap;
         const ids = (layer) => new Set(m.queryRenderedFeatures({layers: [layer]})
             .map((f) => f.properties.id)).size;
         const towns = ids('grids-line-1');
         const names = ids('labels-1');
         return b && !b.hidden ? {text: b.textContent, towns, names,
             user: document.querySelector('[data-test=user-badge]')?.dataset.login} : null;",
    )?;
    browser.screenshot(&artifacts.join("offline.png"))?;
    if offline["towns"] != json!(18)
        || offline["names"].as_u64().unwrap_or(0) < 15
        || offline["user"] != "admin"
    {
        return Err(format!(
            "offline, the map shows the 18 towns kept and their names, as admin: {offline}"
        ));
    }
    if !offline["text"].as_str().is_some_and(|t| t.contains("离线")) {
        return Err(format!("the banner says it is offline: {offline}"));
    }
    // Answers the worker kept (the session, the categories) come marked,
    // so that the page does not take them for the server being back (and
    // drop the banner while still offline).
    let session = browser.execute_async(
        "const done = arguments[arguments.length - 1];
         fetch('api/session').then((r) => done({status: r.status, kept: r.headers.get('x-wangge-kept')}),
           (e) => done({error: String(e)}));",
        json!([]),
    )?;
    if session != json!({"status": 200, "kept": "1"}) {
        return Err(format!(
            "offline, the session comes from the worker, marked kept: {session}"
        ));
    }
    let banner = browser.execute(
        "return !document.querySelector('[data-test=offline-banner]').hidden;",
        json!([]),
    )?;
    if banner != json!(true) {
        return Err("the offline banner went away while the network is still cut".into());
    }
    Ok(())
}
