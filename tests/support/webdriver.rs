//! A minimal W3C WebDriver client for the browser tests: Debian's headless
//! Chromium driven by Debian's chromedriver, over a few plain HTTP/1.1
//! requests on a local socket (one endpoint per step, no dependency needed
//! beyond base64 for screenshots).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// Debian's Chromium and its WebDriver (packages chromium, chromium-driver).
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Fail, not skip, when the browser is missing: a green run must mean the
/// map was seen working.
pub fn require_browser() {
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(path).exists(),
            "the browser test needs {path} (Debian package {package}): run ./scripts/test, \
             which installs chromium, chromium-driver, fonts-liberation and fonts-noto-cjk"
        );
    }
}

/// `artifacts/browser/` under the crate, created.
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/browser");
    std::fs::create_dir_all(&dir).expect("artifacts/browser can be created");
    dir
}

/// Start a browser, run `steps` in it with the artifacts folder, and on
/// failure panic with the step's error, the time taken and a screenshot
/// saved as `failure_png` in `artifacts/browser/`.
pub fn run_in_browser(
    failure_png: &str,
    steps: impl FnOnce(&Browser, &Path) -> Result<(), String>,
) {
    require_browser();
    run_in(Browser::start(), failure_png, steps);
}

/// [`run_in_browser`] in a browser set up in Chinese ([`Browser::start_chinese`]).
#[allow(dead_code)]
pub fn run_in_chinese_browser(
    failure_png: &str,
    steps: impl FnOnce(&Browser, &Path) -> Result<(), String>,
) {
    require_browser();
    run_in(Browser::start_chinese(), failure_png, steps);
}

fn run_in(
    browser: Browser,
    failure_png: &str,
    steps: impl FnOnce(&Browser, &Path) -> Result<(), String>,
) {
    let artifacts = artifacts_dir();
    let started = Instant::now();
    if let Err(failure) = steps(&browser, &artifacts) {
        let shot = artifacts.join(failure_png);
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

/// What the map last reported as an error, for failure messages.
pub fn map_error(browser: &Browser) -> String {
    browser
        .execute("return document.body.dataset.mapError || 'none'", json!([]))
        .map_or_else(|e| e, |v| v.as_str().unwrap_or("none").to_owned())
}

/// A chromedriver process with one Chromium session; both end on drop.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    /// Chromium's profile folder: fresh for every run, deleted after.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Start chromedriver on a free local port and open a headless session.
    pub fn start() -> Browser {
        Browser::start_with(&[])
    }

    /// [`Browser::start`] with Chromium's interface and `Accept-Language`
    /// in Chinese, as the county's computers are set up.
    #[allow(dead_code)]
    pub fn start_chinese() -> Browser {
        Browser::start_with(&["--lang=zh-CN", "--accept-lang=zh-CN,zh"])
    }

    fn start_with(extra_args: &[&str]) -> Browser {
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
        let args: Vec<String> = args
            .into_iter()
            .chain(extra_args.iter().map(|a| (*a).to_owned()))
            .collect();
        // The performance log carries the DevTools network events, whose
        // byte counts `network_bytes` adds up (the page's own Resource
        // Timing misses what MapLibre's worker fetches: the tiles).
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "perfLoggingPrefs": {"enableNetwork": true, "enablePage": false},
            },
            "goog:loggingPrefs": {"performance": "ALL"},
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

    /// What the browser received over the network since the session began
    /// or the last call: every finished request's URL and its bytes on the
    /// wire (headers and encoded body, DevTools' `encodedDataLength`),
    /// largest first. Reading the log empties it.
    pub fn network_bytes(&self) -> Result<Vec<(String, u64)>, String> {
        let log = self.call("POST", "/se/log", json!({"type": "performance"}))?;
        let mut urls = std::collections::HashMap::new();
        let mut finished = Vec::new();
        for entry in log.as_array().ok_or("the performance log is a list")? {
            let Some(text) = entry["message"].as_str() else {
                continue;
            };
            let event: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            let (method, params) = (&event["message"]["method"], &event["message"]["params"]);
            let id = params["requestId"].as_str().unwrap_or_default().to_owned();
            match method.as_str() {
                Some("Network.requestWillBeSent") => {
                    urls.insert(
                        id,
                        params["request"]["url"].as_str().unwrap_or("?").to_owned(),
                    );
                }
                Some("Network.loadingFinished") => {
                    let bytes = params["encodedDataLength"].as_f64().unwrap_or(0.0) as u64;
                    finished.push((id, bytes));
                }
                _ => {}
            }
        }
        let mut out: Vec<(String, u64)> = finished
            .into_iter()
            .map(|(id, bytes)| (urls.get(&id).cloned().unwrap_or(id), bytes))
            .collect();
        out.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
        Ok(out)
    }

    /// Save downloads (a clicked `<a download>`) into `dir` without asking
    /// (DevTools' `Browser.setDownloadBehavior`: headless Chromium refuses
    /// downloads otherwise).
    #[allow(dead_code)]
    pub fn allow_downloads(&self, dir: &Path) -> Result<(), String> {
        self.call(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": "Browser.setDownloadBehavior", "params": {
                "behavior": "allow", "downloadPath": dir.display().to_string(),
                "eventsEnabled": false,
            }}),
        )
        .map(drop)
    }

    /// A command of this session (`path` after `/session/{id}`).
    pub fn call(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let body = (method == "POST").then_some(&body);
        http(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
    }

    pub fn navigate(&self, url: &str) -> Result<(), String> {
        self.call("POST", "/url", json!({"url": url})).map(drop)
    }

    /// Run a script in the page; its `return` value comes back as JSON.
    pub fn execute(&self, script: &str, args: Value) -> Result<Value, String> {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
    }

    /// Run a script that calls its last argument with the result.
    pub fn execute_async(&self, script: &str, args: Value) -> Result<Value, String> {
        self.call(
            "POST",
            "/execute/async",
            json!({"script": script, "args": args}),
        )
    }

    /// Poll a script every 200 ms until it returns something other than
    /// `null`; that value, or an error naming `what` after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, script: &str) -> Result<Value, String> {
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
    pub fn find(&self, css: &str) -> Result<String, String> {
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

    /// Type `text` into the element matching `css`.
    pub fn type_into(&self, css: &str, text: &str) -> Result<(), String> {
        let element = self.find(css)?;
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .map(drop)
    }

    /// Click the element matching `css`.
    pub fn click(&self, css: &str) -> Result<(), String> {
        let element = self.find(css)?;
        self.call("POST", &format!("/element/{element}/click"), json!({}))
            .map(drop)
    }

    /// Show `(lon, lat)` at the centre of the page's map (`window.wanggeMap`)
    /// at `zoom` and click it, once the map has settled; fails when the
    /// pixel is covered by something other than the map's canvas.
    pub fn click_map_at(&self, lon: f64, lat: f64, zoom: f64) -> Result<(), String> {
        let pixel = self.execute_async(
            "const [lon, lat, zoom, done] = arguments; const m = window.wanggeMap;
             m.once('idle', () => {
               const p = m.project([lon, lat]);
               const hit = document.elementFromPoint(p.x, p.y);
               done({x: Math.round(p.x), y: Math.round(p.y),
                     onCanvas: !!hit && hit.classList.contains('maplibregl-canvas')});
             });
             m.jumpTo({center: [lon, lat], zoom});",
            json!([lon, lat, zoom]),
        )?;
        if pixel["onCanvas"] != json!(true) {
            return Err(format!(
                "the point's pixel {pixel} is not on the map canvas"
            ));
        }
        self.click_at(
            pixel["x"].as_i64().unwrap_or(0),
            pixel["y"].as_i64().unwrap_or(0),
        )
    }

    /// A real mouse click (move, press, release) at a viewport pixel.
    pub fn click_at(&self, x: i64, y: i64) -> Result<(), String> {
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

    /// Press at one pixel, move to another in steps, release: a mouse drag.
    pub fn drag(&self, from: (i64, i64), to: (i64, i64)) -> Result<(), String> {
        let mut actions = vec![
            json!({"type": "pointerMove", "origin": "viewport", "x": from.0, "y": from.1, "duration": 0}),
            json!({"type": "pointerDown", "button": 0}),
            json!({"type": "pause", "duration": 100}),
        ];
        for step in 1..=10 {
            let f = f64::from(step) / 10.0;
            actions.push(json!({"type": "pointerMove", "origin": "viewport",
                "x": from.0 + ((to.0 - from.0) as f64 * f).round() as i64,
                "y": from.1 + ((to.1 - from.1) as f64 * f).round() as i64,
                "duration": 50}));
        }
        actions.push(json!({"type": "pause", "duration": 100}));
        actions.push(json!({"type": "pointerUp", "button": 0}));
        self.call(
            "POST",
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse",
                "parameters": {"pointerType": "mouse"}, "actions": actions}]}),
        )?;
        self.call("DELETE", "/actions", json!({})).map(drop)
    }

    /// Save a PNG of the viewport.
    pub fn screenshot(&self, path: &Path) -> Result<(), String> {
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
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// One JSON request over HTTP/1.1 to a local port: the status and the
/// body as JSON (the wangge API and WebDriver both answer JSON).
pub fn http_json(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    http_json_with(port, method, path, body, &[])
}

/// [`http_json`] with more request headers.
pub fn http_json_with(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Result<(u16, Value), String> {
    let fail = |e: std::io::Error| format!("{method} {path}: {e}");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(fail)?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\
         {}Connection: close\r\n\r\n{body}",
        body.len(),
        headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect::<String>()
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
    Ok((status, answer))
}

/// One WebDriver request: JSON in, the answer's `value` out; a WebDriver
/// error becomes `Err` with its error code and message.
pub fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let (status, answer) = http_json(port, method, path, body)?;
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
pub fn read_response(stream: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
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
pub fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
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
