//! The web map: its HTTP surface through the router (the page, the style,
//! unknown assets), then the real thing in a browser: Debian's headless
//! Chromium, driven over W3C WebDriver by Debian's chromedriver, against a
//! real wangge server with the demo county (`support::server`). It loads `/`,
//! waits until MapLibre has drawn the tiles, checks that the county's grids
//! and names are on the map, clicks a point whose grids the index knows and
//! reads them back from the panel, finds a grid with the search box, and
//! looks at the phone layout.
//!
//! Chromium and chromedriver are required: without them the test fails,
//! saying to run `scripts/test`, which installs them (with the fonts the
//! Chinese names are drawn in). Screenshots land in `artifacts/browser/`:
//! `map.png` (the county), `locate.png` (after the click), `phone.png`, and
//! `failure.png` when a step fails.
//!
//! The WebDriver client is a few plain HTTP/1.1 requests over a local socket:
//! one endpoint per step, no dependency needed beyond base64 for screenshots.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use wangge::geom::LonLat;
use wangge::index::GridIndex;
use wangge::model::Level;

use support::four_towns::four_towns;
use support::server::{DemoServer, spawn_demo_server};

/// Debian's Chromium and its WebDriver (packages chromium, chromium-driver).
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long the first view may take to draw: software WebGL on two busy cores.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How long an answer to a click or a search may take to show.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// The zoom the click happens at: basic grids and sub-areas are drawn, and a
/// pixel is about 16 m, far less than the chosen point's distance to a border.
const CLICK_ZOOM: f64 = 13.0;
/// The least distance from the clicked point to its grid's border, metres, so
/// that rounding to a whole pixel cannot move the click into a neighbour.
const CLICK_MARGIN_M: f64 = 150.0;

/// GET through the router: status, content type and body.
async fn get(app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> (u16, String, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut request = axum::http::Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(
            request
                .body(axum::body::Body::empty())
                .expect("valid request"),
        )
        .await
        .expect("the router is infallible");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    (status, content_type, body.to_vec())
}

/// The page, the style with absolute URLs for the host asked, the fonts it
/// names, and a 404 problem document for an asset the bundle lacks.
#[tokio::test]
async fn serves_the_page_the_style_and_problem_404s() {
    let (store, _dir) = support::sqlite_store().await;
    let state = wangge::state::AppState::open(store)
        .await
        .expect("state opens");
    state
        .import_grids(four_towns(), wangge::store::WriteMode::Replace)
        .await
        .expect("the four towns are a valid county");
    let app = wangge::api::router(state);

    let (status, content_type, body) = get(&app, "/", &[]).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/html; charset=utf-8")
    );
    let html = String::from_utf8(body).expect("UTF-8");
    assert!(html.contains("src=\"assets/app-"), "{html}");

    let (status, content_type, body) = get(
        &app,
        "/style.json",
        &[
            ("host", "maps.example:8443"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let style: Value = serde_json::from_slice(&body).expect("the style is JSON");
    assert_eq!(style["version"], 8);
    assert_eq!(
        style["sources"]["grids"]["url"],
        "https://maps.example:8443/tiles/grids.json"
    );
    assert_eq!(
        style["sources"]["labels"]["url"],
        "https://maps.example:8443/tiles/labels.json"
    );
    for (name, faces) in style["font-faces"].as_object().expect("font-faces") {
        let url = faces[0]["url"].as_str().expect("a font URL");
        let path = url
            .strip_prefix("https://maps.example:8443")
            .unwrap_or_else(|| panic!("{name}: {url} is under the asked host"));
        let (status, content_type, _) = get(&app, path, &[]).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "font/woff2"),
            "{path}"
        );
    }

    let (status, content_type, body) = get(&app, "/assets/app-NOSUCHFILE.js", &[]).await;
    assert_eq!(
        (status, content_type.as_str()),
        (404, "application/problem+json")
    );
    let problem: Value = serde_json::from_slice(&body).expect("a problem document");
    assert_eq!(problem["status"], 404);

    let (_, _, body) = get(&app, "/api/openapi.json", &[]).await;
    let openapi: Value = serde_json::from_slice(&body).expect("OpenAPI is JSON");
    assert!(openapi["paths"]["/style.json"]["get"].is_object());
}

/// A point inside the county and the grids the index says own it.
struct Target {
    point: LonLat,
    /// (level, id, name) of each grid in its chain, level 1 first.
    chain: Vec<(u8, String, String)>,
}

/// The map draws the county's grids and names; a click on a known point
/// lists that point's grids, town to deepest; the search finds a basic grid
/// by name; on a phone-sized screen the panel is a bottom sheet.
#[test]
fn web_map_draws_the_county_and_names_the_grids_at_a_click() {
    require_browser();
    let server = spawn_demo_server();
    let target = pick_point(&server.state().index());
    let artifacts = artifacts_dir();
    let browser = Browser::start();
    let started = Instant::now();
    if let Err(failure) = drive(&browser, &server, &target, &artifacts) {
        let shot = artifacts.join("failure.png");
        let saved = browser.screenshot(&shot).map_or_else(
            |e| format!("(no screenshot: {e})"),
            |()| format!("(screenshot: {})", shot.display()),
        );
        panic!(
            "after {:.1} s: {failure} {saved}",
            started.elapsed().as_secs_f64()
        );
    }
}

/// Fail, not skip, when the browser is missing: a green run must mean the
/// map was seen working.
fn require_browser() {
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(path).exists(),
            "the browser test needs {path} (Debian package {package}): run ./scripts/test, \
             which installs chromium, chromium-driver, fonts-liberation and fonts-noto-cjk"
        );
    }
}

/// The first point of a lattice around the county seat that lies in a basic
/// grid at least [`CLICK_MARGIN_M`] from its deepest grid's border.
fn pick_point(index: &GridIndex) -> Target {
    for step in 0..400 {
        // A square spiral would do; rows are as good and easier to read.
        let (dx, dy) = (step % 20 - 10, step / 20 - 10);
        let point = LonLat::new(
            106.14 + f64::from(dx) * 0.004,
            34.73 + f64::from(dy) * 0.004,
        );
        let chain = index.locate(point);
        if chain.at(Level::new(4).expect("4 is a level")).is_none() {
            continue;
        }
        if index.boundary_distance_m(point, &chain).unwrap_or(0.0) < CLICK_MARGIN_M {
            continue;
        }
        let chain = chain
            .0
            .iter()
            .flatten()
            .map(|&ix| {
                let grid = index.grid(ix);
                (grid.level.get(), grid.id.0.clone(), grid.name.clone())
            })
            .collect();
        return Target { point, chain };
    }
    panic!("no point near the county seat lies well inside a basic grid");
}

/// `artifacts/browser/` under the crate, created.
fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/browser");
    std::fs::create_dir_all(&dir).expect("artifacts/browser can be created");
    dir
}

/// Every step of the test; an error says which step failed and why.
fn drive(
    browser: &Browser,
    server: &DemoServer,
    target: &Target,
    artifacts: &Path,
) -> Result<(), String> {
    // 1. The page, until MapLibre has drawn the first view with both tilesets.
    browser.navigate(&format!("{}/", server.base_url()))?;
    browser
        .wait_for(
            "the map to draw its first view (data-map-ready)",
            READY_TIMEOUT,
            "return document.body.dataset.mapReady === '1' || null",
        )
        .map_err(|e| format!("{e}; map error: {}", map_error(browser)))?;
    if let Some(error) = browser
        .execute("return document.body.dataset.mapError || null", json!([]))?
        .as_str()
    {
        return Err(format!("the map reported an error: {error}"));
    }

    // 2. The county is on the map: every town's outline, and their names.
    let drawn = browser.execute(
        "const m = window.wanggeMap;
         const ids = (layer) => new Set(m.queryRenderedFeatures({layers: [layer]})
             .map((f) => f.properties.id)).size;
         return {towns: ids('grids-line-1'), villages: ids('grids-line-2'),
                 townNames: ids('labels-1'), zoom: m.getZoom()};",
        json!([]),
    )?;
    browser.screenshot(&artifacts.join("map.png"))?;
    let count = |key: &str| drawn[key].as_u64().unwrap_or(0);
    if count("towns") != 18 || count("villages") < 100 || count("townNames") < 15 {
        return Err(format!(
            "the first view should show all 18 towns' outlines, most of the 142 village \
             clusters and the towns' names; it shows {drawn}"
        ));
    }

    // 3. Click the chosen point and read its chain from the panel.
    let pixel = browser.execute_async(
        "const [lon, lat, zoom, done] = arguments; const m = window.wanggeMap;
         m.once('idle', () => {
           const p = m.project([lon, lat]);
           const hit = document.elementFromPoint(p.x, p.y);
           done({x: Math.round(p.x), y: Math.round(p.y),
                 onCanvas: !!hit && hit.classList.contains('maplibregl-canvas')});
         });
         m.jumpTo({center: [lon, lat], zoom});",
        json!([target.point.lon, target.point.lat, CLICK_ZOOM]),
    )?;
    if pixel["onCanvas"] != json!(true) {
        return Err(format!(
            "the point's pixel {pixel} is not on the map canvas"
        ));
    }
    let (x, y) = (
        pixel["x"].as_i64().unwrap_or(0),
        pixel["y"].as_i64().unwrap_or(0),
    );
    browser.click_at(x, y)?;
    let chain = browser.wait_for(
        "the panel to list the clicked point's grids",
        ANSWER_TIMEOUT,
        CHAIN_SCRIPT,
    )?;
    browser.screenshot(&artifacts.join("locate.png"))?;
    let want: Vec<Value> = target
        .chain
        .iter()
        .map(|(level, id, name)| json!({"level": level, "id": id, "name": name}))
        .collect();
    if chain["items"] != json!(want) {
        return Err(format!(
            "clicking ({}, {}) should list {}, the panel lists {}",
            target.point.lon,
            target.point.lat,
            json!(want),
            chain["items"]
        ));
    }
    if chain["phones"].as_u64() != Some(target.chain.len() as u64) {
        return Err(format!(
            "every grid in the chain should have a tel: link for its leader: {chain}"
        ));
    }

    // 4. The search box finds the basic grid by name and shows it.
    let (_, basic_id, basic_name) = target
        .chain
        .iter()
        .find(|(level, _, _)| *level == 4)
        .ok_or("the chosen point has a basic grid")?;
    let input = browser.find("[data-test=search-input]")?;
    browser.call(
        "POST",
        &format!("/element/{input}/value"),
        json!({"text": basic_name}),
    )?;
    browser.wait_for(
        "the search to list the basic grid",
        ANSWER_TIMEOUT,
        &format!(
            "const el = document.querySelector('[data-test=search-result][data-grid-id=\"{basic_id}\"]');
             if (!el) return null;
             el.id = 'wanted-result'; return true;"
        ),
    )?;
    let element = browser.find("#wanted-result")?;
    browser.call("POST", &format!("/element/{element}/click"), json!({}))?;
    browser.wait_for(
        "the panel to show the grid picked in the search",
        ANSWER_TIMEOUT,
        &format!(
            "const items = document.querySelectorAll('[data-test=locate-chain] > li');
             return items.length === 4 && items[3].dataset.gridId === '{basic_id}' || null;"
        ),
    )?;

    // 5. A phone-sized window: the panel becomes a sheet along the bottom.
    browser.call("POST", "/window/rect", json!({"width": 390, "height": 844}))?;
    browser.wait_for(
        "the panel to become a bottom sheet",
        ANSWER_TIMEOUT,
        "const r = document.getElementById('panel').getBoundingClientRect();
         const sheet = innerWidth <= 640 && r.left === 0 && Math.abs(r.right - innerWidth) < 1
             && Math.abs(r.bottom - innerHeight) < 1 && r.height < innerHeight * 0.6;
         return sheet ? {width: innerWidth, height: innerHeight, sheet: r.height} : null;",
    )?;
    browser.screenshot(&artifacts.join("phone.png"))?;
    Ok(())
}

/// The panel's chain as `{items: [{level, id, name}], phones}` once it shows.
const CHAIN_SCRIPT: &str = "
    const items = [...document.querySelectorAll('[data-test=locate-chain] > li')];
    if (items.length === 0) return null;
    return {
      items: items.map((li) => ({level: Number(li.dataset.level), id: li.dataset.gridId,
        name: li.querySelector('[data-test=grid-name]').textContent})),
      phones: document.querySelectorAll('[data-test=locate-chain] a[href^=\"tel:\"]').length,
    };";

/// What the map last reported as an error, for failure messages.
fn map_error(browser: &Browser) -> String {
    browser
        .execute("return document.body.dataset.mapError || 'none'", json!([]))
        .map_or_else(|e| e, |v| v.as_str().unwrap_or("none").to_owned())
}

// ---------------------------------------------------------------------------
// A minimal W3C WebDriver client.

/// A chromedriver process with one Chromium session; both end on drop.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
    /// Chromium's profile folder: fresh for every run, deleted after.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Start chromedriver on a free local port and open a headless session.
    fn start() -> Browser {
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{CHROMEDRIVER} starts: {e}"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while http(port, "GET", "/status", None).is_err() {
            if Instant::now() > deadline {
                let _ = driver.kill();
                panic!("chromedriver did not answer on port {port} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("a temporary profile folder");
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            // WebGL through SwiftShader, software rendering: no GPU here.
            "--enable-unsafe-swiftshader".to_owned(),
            // Containers often have a tiny /dev/shm; Chromium then crashes.
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1280,860".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}
        }}});
        let session = match http(port, "POST", "/session", Some(&capabilities)) {
            Ok(v) => v["sessionId"].as_str().map(str::to_owned),
            Err(e) => {
                let _ = driver.kill();
                panic!("Chromium starts under chromedriver: {e}");
            }
        };
        let Some(session) = session else {
            let _ = driver.kill();
            panic!("chromedriver answered a new session without an id");
        };
        let browser = Browser {
            driver,
            port,
            session,
            _profile: profile,
        };
        browser
            .call(
                "POST",
                "/timeouts",
                json!({"script": 60_000, "pageLoad": 60_000}),
            )
            .expect("timeouts can be set");
        browser
    }

    /// A command of this session (`path` after `/session/{id}`).
    fn call(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let body = (method == "POST").then_some(&body);
        http(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
    }

    fn navigate(&self, url: &str) -> Result<(), String> {
        self.call("POST", "/url", json!({"url": url})).map(drop)
    }

    /// Run a script in the page; its `return` value comes back as JSON.
    fn execute(&self, script: &str, args: Value) -> Result<Value, String> {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
    }

    /// Run a script that calls its last argument with the result.
    fn execute_async(&self, script: &str, args: Value) -> Result<Value, String> {
        self.call(
            "POST",
            "/execute/async",
            json!({"script": script, "args": args}),
        )
    }

    /// Poll a script every 200 ms until it returns something other than
    /// `null`; that value, or an error naming `what` after `timeout`.
    fn wait_for(&self, what: &str, timeout: Duration, script: &str) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.execute(script, json!([]))?;
            if !value.is_null() {
                return Ok(value);
            }
            if Instant::now() > deadline {
                return Err(format!("waited {} s for {what}", timeout.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The WebDriver id of the first element matching a CSS selector.
    fn find(&self, css: &str) -> Result<String, String> {
        let found = self.call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        )?;
        // W3C names the member by this fixed identifier.
        found["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no element id for {css}: {found}"))
    }

    /// A real mouse click (move, press, release) at a viewport pixel.
    fn click_at(&self, x: i64, y: i64) -> Result<(), String> {
        self.call(
            "POST",
            "/actions",
            json!({"actions": [{
                "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
                "actions": [
                    {"type": "pointerMove", "origin": "viewport", "x": x, "y": y, "duration": 0},
                    {"type": "pointerDown", "button": 0},
                    {"type": "pause", "duration": 50},
                    {"type": "pointerUp", "button": 0}
                ]
            }]}),
        )?;
        self.call("DELETE", "/actions", json!({})).map(drop)
    }

    /// Save a PNG of the viewport.
    fn screenshot(&self, path: &Path) -> Result<(), String> {
        let data = self.call("GET", "/screenshot", json!({}))?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .map_err(|e| format!("the screenshot is not base64: {e}"))?;
        std::fs::write(path, png).map_err(|e| format!("writing {}: {e}", path.display()))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A port that was free a moment ago (bound, read, released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// One WebDriver request: JSON in, the answer's `value` out; a WebDriver
/// error becomes `Err` with its error code and message.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let fail = |e: std::io::Error| format!("{method} {path}: {e}");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(fail)?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(fail)?;
    // chromedriver keeps connections open whatever the request says: read
    // the header, then exactly the body it announces.
    let (head, content) = read_response(&mut stream).map_err(fail)?;
    let content = if head.contains("transfer-encoding: chunked") {
        dechunk(&content).ok_or_else(|| format!("{method} {path}: bad chunked body"))?
    } else {
        content
    };
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let answer: Value = serde_json::from_slice(&content).map_err(|e| {
        format!(
            "{method} {path}: HTTP {status}, not JSON ({e}): {}",
            String::from_utf8_lossy(&content)
        )
    })?;
    let value = answer.get("value").cloned().unwrap_or(Value::Null);
    if status == 200 {
        Ok(value)
    } else {
        Err(format!(
            "{method} {path}: HTTP {status}: {}: {}",
            value["error"].as_str().unwrap_or("?"),
            value["message"].as_str().unwrap_or("")
        ))
    }
}

/// An HTTP/1.1 response: its header in lower case, and its body (still
/// chunked if it was sent so), read up to its announced end.
fn read_response(stream: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut head: Option<(String, usize)> = None;
    loop {
        if head.is_none()
            && let Some(split) = buffer.windows(4).position(|w| w == b"\r\n\r\n")
        {
            head = Some((
                String::from_utf8_lossy(&buffer[..split]).to_ascii_lowercase(),
                split + 4,
            ));
        }
        if let Some((text, start)) = &head {
            let body = &buffer[*start..];
            let length = text
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            let complete = match length {
                Some(n) => body.len() >= n,
                None => text.contains("transfer-encoding: chunked") && body.ends_with(b"0\r\n\r\n"),
            };
            if complete {
                let body = match length {
                    Some(n) => body[..n].to_vec(),
                    None => body.to_vec(),
                };
                return Ok((text.clone(), body));
            }
        }
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            // The server closed: whatever arrived is the answer.
            let (text, start) = head.unwrap_or_default();
            let body = buffer.get(start..).unwrap_or_default().to_vec();
            return Ok((text, body));
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// The payload of a chunked HTTP/1.1 body.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}
