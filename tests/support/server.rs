//! A real wangge HTTP server with the demo county loaded, for tests that
//! drive it with outside clients (GDAL, a browser) over a socket.
//!
//! ```no_run
//! let server = support::server::spawn_demo_server();
//! let url = format!("{}/ogc", server.base_url()); // http://127.0.0.1:PORT/ogc
//! // ... run a client against `url` while `server` is held ...
//! drop(server); // stops the server and deletes its database
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, mpsc};
use std::thread::JoinHandle;

use wangge::generate::{DEMO_SEED, generate};
use wangge::geom::LonLat;
use wangge::index::GridIndex;
use wangge::model::account::{Role, Scope};
use wangge::model::{Grid, Level};
use wangge::state::AppState;
use wangge::store::{Backend, WriteMode};

/// The demo county (seed [`DEMO_SEED`], 2,403 grids), as `wangge serve`
/// loads it on first start. Generated once per test binary: it takes
/// seconds.
pub fn demo_county() -> &'static [Grid] {
    static COUNTY: OnceLock<Vec<Grid>> = OnceLock::new();
    COUNTY.get_or_init(|| generate(DEMO_SEED))
}

/// A running wangge server. It serves until dropped; dropping it stops the
/// server (requests in flight finish), joins its thread and deletes its
/// data (the SQLite file, or the PostgreSQL schema).
pub struct DemoServer {
    /// Where it listens.
    addr: SocketAddr,
    /// The state it serves, to compare answers with the index.
    state: Arc<AppState>,
    /// Tells the server to stop; `None` once sent.
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// The thread running the server's own Tokio runtime, so that the
    /// server keeps answering while a test blocks on a child process.
    thread: Option<JoinHandle<()>>,
    /// A bearer token of the admin, for the test's own API calls.
    admin_token: String,
}

/// The password of every user [`spawn_demo_server`] creates.
pub const USER_PASSWORD: &str = "browser-test-password";

/// The users a demo server has besides `admin`: login, role, scope (a
/// leader's grid is the first basic grid of the demo county).
pub const USERS: [(&str, Role); 5] = [
    ("dispatcher", Role::Dispatcher),
    ("planner", Role::Planner),
    ("viewer", Role::Viewer),
    ("leader", Role::GridLeader),
    ("member", Role::GridMember),
];

impl DemoServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state it serves: `state().index()` is what the server answers from.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// A bearer token of the admin.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// One JSON request to this server as the admin: status and body.
    pub fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), String> {
        super::webdriver::http_json_with(
            self.addr.port(),
            method,
            path,
            body,
            &[("Authorization", &format!("Bearer {}", self.admin_token))],
        )
    }

    /// Open the web map in `browser` and log in as `login` (`admin` or one
    /// of [`USERS`]); returns once the map's page has started (the caller
    /// waits for what it needs drawn).
    pub fn open_map_as(
        &self,
        browser: &super::webdriver::Browser,
        login: &str,
    ) -> Result<(), String> {
        self.open_map_at(browser, &self.base_url(), login)
    }

    /// [`DemoServer::open_map_as`] through another address of the same
    /// server (a relay in front of it).
    pub fn open_map_at(
        &self,
        browser: &super::webdriver::Browser,
        base_url: &str,
        login: &str,
    ) -> Result<(), String> {
        let timeout = std::time::Duration::from_secs(60);
        browser.navigate(&format!("{base_url}/"))?;
        // The session cookie outlives a reload: the page may open as
        // someone already.
        let shown = browser.wait_for(
            "the login page or the map",
            timeout,
            "if (document.body.dataset.loginReady === '1') return '';
             const badge = document.querySelector('[data-test=user-badge]');
             return badge ? badge.dataset.login : null;",
        )?;
        if shown == login {
            return Ok(());
        }
        if shown != "" {
            browser.click("[data-test=logout]")?;
            browser.wait_for(
                "the login page after logging out",
                timeout,
                "return document.body.dataset.loginReady === '1' || null",
            )?;
        }
        let password = if login == "admin" {
            super::ADMIN_PASSWORD
        } else {
            USER_PASSWORD
        };
        browser.type_into("[data-test=login-name]", login)?;
        browser.type_into("[data-test=login-password]", password)?;
        browser.click("[data-test=login-submit]")?;
        browser
            .wait_for(
                "the map page after logging in",
                timeout,
                "return document.querySelector('[data-test=user-badge]') ? true : null",
            )
            .map(drop)
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread has already been printed; do not
            // panic again while a failing test unwinds.
            let _ = thread.join();
        }
    }
}

/// Start a wangge server on `127.0.0.1` on a free port, in a background
/// thread with its own Tokio runtime, over a fresh SQLite database in a
/// temporary folder (see [`spawn_demo_server_on`] for PostGIS) into which
/// the demo county ([`demo_county`]) was
/// imported through [`AppState::import_grids`] (the same checks as
/// `wangge serve`'s first start). Returns once the server accepts
/// connections. Panics, saying why, if it cannot start.
///
/// Each call starts its own server; the county is generated once per test
/// binary.
pub fn spawn_demo_server() -> DemoServer {
    spawn(Backend::Sqlite, false)
}

/// [`spawn_demo_server`] with the demo road network and hazard register
/// loaded too (as `wangge serve` loads them on a first start).
pub fn spawn_demo_server_with_patrols() -> DemoServer {
    spawn(Backend::Sqlite, true)
}

/// [`spawn_demo_server_with_patrols`] over a fresh store of `backend`: a
/// SQLite file, or a PostGIS schema of its own, dropped when the server
/// stops (also when the test fails; only a panic in the server's own
/// thread leaves it, for `sweep_stale_schemas`).
pub fn spawn_demo_server_on(backend: Backend) -> DemoServer {
    spawn(backend, true)
}

/// [`spawn_demo_server`] with `count` demo incidents over the year before
/// `end`, played through the real rules (`wangge demo-incidents` does the
/// same with 20,000).
#[allow(dead_code)]
pub fn spawn_demo_server_with_incidents(count: usize, end: jiff::Timestamp) -> DemoServer {
    spawn_with(Backend::Sqlite, false, Some((count, end)))
}

fn spawn(backend: Backend, patrols: bool) -> DemoServer {
    spawn_with(backend, patrols, None)
}

fn spawn_with(
    backend: Backend,
    patrols: bool,
    incidents: Option<(usize, jiff::Timestamp)>,
) -> DemoServer {
    let grids = demo_county().to_vec();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("demo-server".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a Tokio runtime starts");
            runtime.block_on(async move {
                let store = super::TestStore::open(backend).await;
                let state = AppState::open(store.store.clone())
                    .await
                    .expect("an empty store loads");
                state
                    .import_grids(grids, WriteMode::Replace)
                    .await
                    .expect("the demo county passes the import checks");
                let admin_token = super::admin_token(state.accounts()).await;
                let leader_grid = state
                    .index()
                    .grids()
                    .iter()
                    .find(|g| g.level.get() == 4)
                    .map(|g| g.id.clone())
                    .expect("the demo county has basic grids");
                for (login, role) in USERS {
                    let scope = match role {
                        Role::GridLeader | Role::GridMember => Scope::Grid(leader_grid.clone()),
                        _ => Scope::County,
                    };
                    super::create_user(state.accounts(), login, role, scope, USER_PASSWORD).await;
                }
                if patrols {
                    wangge::cli::demo::load_demo_roads_and_hazards(&state, jiff::Timestamp::now())
                        .await
                        .expect("the demo roads and hazards load");
                }
                if let Some((count, end)) = incidents {
                    wangge::cli::demo::load_demo_incidents(
                        state.dispatch(),
                        count,
                        2026,
                        end,
                        |_| {},
                    )
                    .await
                    .expect("the demo incidents load");
                }
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a free port on 127.0.0.1 can be bound");
                let addr = listener
                    .local_addr()
                    .expect("a bound socket has an address");
                ready_tx
                    .send((addr, state.clone(), admin_token))
                    .expect("the test waits for the server");
                wangge::api::serve(listener, state, async {
                    // Stop when told, or when the handle is gone.
                    let _ = shutdown_rx.await;
                })
                .await
                .expect("the server runs");
                store.cleanup().await;
            });
        })
        .expect("a thread can be started");
    let (addr, state, admin_token) = ready_rx
        .recv()
        .expect("the demo server starts (its panic message is above)");
    DemoServer {
        addr,
        state,
        admin_token,
        shutdown: Some(shutdown_tx),
        thread: Some(thread),
    }
}

/// The least distance from the clicked point to its grid's border, metres, so
/// that rounding to a whole pixel cannot move the click into a neighbour.
pub const CLICK_MARGIN_M: f64 = 150.0;

/// A point inside the county and the grids the index says own it.
pub struct Target {
    pub point: LonLat,
    /// (level, id, name) of each grid in its chain, level 1 first.
    pub chain: Vec<(u8, String, String)>,
}

/// The first point of a lattice around the county seat that lies in a basic
/// grid at least [`CLICK_MARGIN_M`] from its deepest grid's border.
pub fn pick_point(index: &GridIndex) -> Target {
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
