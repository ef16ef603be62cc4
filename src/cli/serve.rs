//! `wangge serve`: open the database, load the demo county (with its roads
//! and hazards) into it when it is empty, and serve the API until Ctrl-C (or
//! SIGTERM), then finish the requests in flight.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use super::progress::Steps;
use crate::dispatch::DispatchSettings;
use crate::generate::{DEMO_SEED, generate};
use crate::services::accounts::{AccessSettings, FIRST_ADMIN};
use crate::services::grids::GridChangeError;
use crate::state::AppState;
use crate::store::WriteMode;
use crate::workflow::Deadlines;

/// Options of `wangge serve`.
#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    listen: SocketAddr,

    /// Start with an empty database as it is, without the demo county.
    #[arg(long)]
    no_demo: bool,

    /// Memory for cached tiles, MiB (0 to 1048576); least recently used
    /// tiles go first.
    #[arg(
        long,
        default_value_t = DEFAULT_TILE_CACHE_MB,
        value_name = "MIB",
        value_parser = clap::value_parser!(u64).range(0..=MAX_TILE_CACHE_MB),
    )]
    tile_cache_mb: u64,

    /// Days each tier has before an open incident is overdue, as
    /// TIER=DAYS pairs (tiers county, town, village, group, grid, patch);
    /// unnamed tiers keep the defaults village=1 (and the grid tiers under
    /// it), town=7, county=20.
    #[arg(long, value_name = "TIER=DAYS,…", value_parser = Deadlines::parse)]
    deadlines: Option<Deadlines>,

    /// Seconds between sweeps that escalate overdue incidents one tier up
    /// (0: never sweep).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    escalation_sweep_secs: u64,

    /// Publish the grid map: anyone, logged in or not, may read the grid
    /// outlines and labels, locate points, and read the style, the grid
    /// tiles, the road network and the OGC grid collections.
    #[arg(long, env = "WANGGE_PUBLIC_GRID_MAP")]
    public_grid_map: bool,

    /// A reverse proxy whose X-Forwarded-For names the client (repeat, or
    /// comma-separate); other clients' X-Forwarded-* headers are ignored.
    #[arg(
        long,
        env = "WANGGE_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "IP"
    )]
    trusted_proxy: Vec<std::net::IpAddr>,

    /// Seconds a client may take to send a request's headers (or say
    /// anything at all on a new connection) before it is cut off.
    #[arg(long, default_value_t = 10, value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=600))]
    header_timeout_secs: u64,

    /// Seconds a request's body may pause (between two pieces of it)
    /// before the request is refused and the connection closed.
    #[arg(long, default_value_t = 30, value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout_secs: u64,

    /// Session cookies without `Secure`, so that browsers keep them over
    /// plain HTTP on a local network (a trial without TLS). Never on a
    /// server reachable from outside: the session would travel in clear.
    #[arg(long, env = "WANGGE_PLAIN_HTTP_SESSIONS")]
    plain_http_sessions: bool,

    /// Reports (JSON API and Open311) one account may submit per minute;
    /// one address may submit four times as many. Past that, 429.
    #[arg(long, env = "WANGGE_REPORTS_PER_MINUTE",
        default_value_t = crate::services::throttle::DEFAULT_REPORTS_PER_MINUTE,
        value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    reports_per_minute: u32,

    /// Photos one account may upload in any 24 hours. Past that, 429.
    #[arg(long, env = "WANGGE_PHOTOS_PER_DAY",
        default_value_t = crate::patrol::photos::PhotoQuota::default().photos,
        value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    photos_per_day: u64,

    /// Megabytes of photos one account may upload in any 24 hours (at least
    /// 12: one photo of the largest size accepted).
    #[arg(long, env = "WANGGE_PHOTO_MB_PER_DAY",
        default_value_t = crate::patrol::photos::PhotoQuota::default().bytes / (1024 * 1024),
        value_name = "MB", value_parser = clap::value_parser!(u64).range(12..=10_000_000))]
    photo_mb_per_day: u64,

    /// The Open311 `jurisdiction_id` this server answers to (a request
    /// naming another is 404; one naming none is served).
    #[arg(long, env = "WANGGE_OPEN311_JURISDICTION",
        default_value = crate::api::OPEN311_DEFAULT_JURISDICTION, value_name = "ID")]
    open311_jurisdiction: String,

    /// A web origin (`https://gis.example.cn`, or `*` for any) whose pages
    /// may read the public read-only layers: the OGC API, tiles, the
    /// style, the API description and Open311's discovery and services
    /// (repeat, or comma-separate). Writes are never opened to other
    /// origins.
    #[arg(long, env = "WANGGE_CORS_ORIGINS", value_delimiter = ',',
        value_name = "ORIGIN", value_parser = parse_origin)]
    cors_origin: Vec<String>,

    /// Connections served at once; past it new ones are closed at once.
    #[arg(long, default_value_t = 10_000, value_name = "N",
        value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
}

/// The environment variable that sets the first admin's password (read
/// only when the database has no users yet).
pub const ADMIN_PASSWORD_VAR: &str = "WANGGE_ADMIN_PASSWORD";

/// [`crate::tiles::DEFAULT_BUDGET_BYTES`] in MiB.
const DEFAULT_TILE_CACHE_MB: u64 = (crate::tiles::DEFAULT_BUDGET_BYTES / (1024 * 1024)) as u64;

/// The largest tile cache accepted, MiB (1 TiB): a typo such as an extra
/// digit should be refused, not overflow.
const MAX_TILE_CACHE_MB: u64 = 1 << 20;

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            no_demo: false,
            tile_cache_mb: DEFAULT_TILE_CACHE_MB,
            deadlines: None,
            escalation_sweep_secs: 60,
            public_grid_map: false,
            trusted_proxy: Vec::new(),
            header_timeout_secs: 10,
            body_timeout_secs: 30,
            reports_per_minute: crate::services::throttle::DEFAULT_REPORTS_PER_MINUTE,
            photos_per_day: crate::patrol::photos::PhotoQuota::default().photos,
            photo_mb_per_day: crate::patrol::photos::PhotoQuota::default().bytes / (1024 * 1024),
            open311_jurisdiction: crate::api::OPEN311_DEFAULT_JURISDICTION.to_owned(),
            cors_origin: Vec::new(),
            plain_http_sessions: false,
            max_connections: 10_000,
        }
    }
}

/// Run the server until a shutdown signal.
pub(super) async fn run(database: &str, args: ServeArgs) -> anyhow::Result<()> {
    let store = super::open_store(database).await?;
    let budget = usize::try_from(args.tile_cache_mb * 1024 * 1024)
        .context("--tile-cache-mb is more memory than this machine can address")?;
    let dispatch = DispatchSettings {
        deadlines: args.deadlines.unwrap_or_default(),
        ..DispatchSettings::default()
    };
    let state = AppState::open_with(store, budget, dispatch)
        .await
        .context("loading the grids from the database")?;
    state.set_access(AccessSettings {
        public_grid_map: args.public_grid_map,
        trusted_proxies: args.trusted_proxy.clone(),
        plain_http_sessions: args.plain_http_sessions,
        cors_origins: args.cors_origin.clone(),
    });
    state.set_reports_per_minute(args.reports_per_minute);
    state
        .patrols()
        .set_photo_quota(crate::patrol::photos::PhotoQuota {
            photos: args.photos_per_day,
            bytes: args.photo_mb_per_day.saturating_mul(1024 * 1024),
        });
    state.set_open311_jurisdiction(&args.open311_jurisdiction);
    let given = std::env::var(ADMIN_PASSWORD_VAR)
        .ok()
        .filter(|p| !p.is_empty());
    if let Some(password) = state
        .accounts()
        .ensure_first_admin(given.as_deref())
        .await
        .context("creating the first admin")?
    {
        println!(
            "first start: log in as \"{FIRST_ADMIN}\" with the one-time password {password}\n\
             (shown only now; set {ADMIN_PASSWORD_VAR} before the first start to choose it)"
        );
    }
    let stored = state.index().grids().len();
    if stored == 0 && !args.no_demo {
        load_demo(&state).await?;
    } else {
        tracing::info!(grids = stored, "loaded grids from the database");
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener
        .local_addr()
        .context("reading the listening address")?;
    println!("wangge is listening on http://{addr}/ (OpenAPI: http://{addr}/api/openapi.json)");
    tracing::info!(%addr, database = %super::redact_url(database), "serving");
    if args.escalation_sweep_secs > 0 {
        crate::dispatch::spawn_deadline_sweeper(
            state.dispatch().clone(),
            std::time::Duration::from_secs(args.escalation_sweep_secs),
        );
    }
    let limits = crate::api::ServeLimits {
        header_timeout: std::time::Duration::from_secs(args.header_timeout_secs),
        body_timeout: std::time::Duration::from_secs(args.body_timeout_secs),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
    };
    crate::api::serve_with(listener, state, shutdown_signal(), limits)
        .await
        .context("serving HTTP")?;
    tracing::info!("stopped");
    Ok(())
}

/// Generate the demo county and import it like any other import, so that it
/// passes the same checks and lands in the store before the index.
async fn load_demo(state: &Arc<AppState>) -> anyhow::Result<()> {
    let mut steps = Steps::new(3);
    steps.step(format!("generating the demo county (seed {DEMO_SEED})"));
    let grids = tokio::task::spawn_blocking(|| generate(DEMO_SEED))
        .await
        .context("generating the demo county")?;
    steps.step(format!(
        "validating, writing and indexing {} grids",
        grids.len()
    ));
    let result = state.import_grids(grids, WriteMode::Replace).await;
    if result.is_ok() {
        steps.step("laying roads and registering hazards".to_owned());
        let loaded = super::demo::load_demo_roads_and_hazards(state, jiff::Timestamp::now())
            .await
            .context("laying the demo roads and registering the demo hazards")?;
        tracing::info!(
            roads = loaded.roads,
            km = loaded.road_km,
            hazards = loaded.hazards,
            "laid the demo road network and registered the demo hazards"
        );
    }
    steps.finish();
    match result {
        Ok(summary) => {
            let [l1, l2, l3, l4, l5] = summary.counts_by_level;
            tracing::info!(
                grids = summary.imported,
                "loaded the demo county into the empty database: \
                 {l1} towns, {l2} village clusters, {l3} village-group clusters, \
                 {l4} basic grids, {l5} sub-areas"
            );
            Ok(())
        }
        Err(GridChangeError::Invalid(errors)) => {
            for issue in &errors.issues {
                tracing::error!("demo county: {issue}");
            }
            Err(errors).context("the generated demo county failed the import checks")
        }
        Err(e) => Err(e).context("writing the demo county"),
    }
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// A CORS origin as browsers send it: `*`, or `scheme://host[:port]` with
/// no path.
fn parse_origin(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s == "*" {
        return Ok(s.to_owned());
    }
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("{s:?}: an origin starts with https:// or http://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(format!(
            "{s:?}: an origin is scheme://host[:port], without a path (no trailing slash)"
        ));
    }
    Ok(s.to_owned())
}
