//! `wangge demo-incidents`: a year of synthetic incidents over the stored
//! grids (see `crate::generate::incidents`), with a progress bar.

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;

use super::demo::load_demo_incidents;
use crate::state::AppState;

/// Arguments of `wangge demo-incidents`.
#[derive(Debug, Args)]
pub(super) struct DemoIncidentsArgs {
    /// How many incidents to report.
    #[arg(long, default_value_t = 20_000)]
    count: usize,
    /// Seed: the same seed over the same grids gives the same incidents.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// The end of the simulated year (RFC 3339); now when not given.
    #[arg(long, value_name = "TIME")]
    until: Option<Timestamp>,
}

/// Report and play the incidents into the database.
pub(super) async fn run(database: &str, args: DemoIncidentsArgs) -> anyhow::Result<()> {
    let store = super::open_store(database).await?;
    let state = AppState::open(store)
        .await
        .context("loading the grids from the database")?;
    anyhow::ensure!(
        !state.index().grids().is_empty(),
        "the database has no grids: run `wangge serve` once (it loads the demo county) or \
         `wangge import` first"
    );
    let bar = ProgressBar::new(args.count as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} incidents, {per_sec}, eta {eta}")
            .context("a progress template")?,
    );
    let end = args.until.unwrap_or_else(Timestamp::now);
    let started = std::time::Instant::now();
    let summary = load_demo_incidents(state.dispatch(), args.count, args.seed, end, |n| {
        bar.set_position(n as u64);
    })
    .await
    .context("loading demo incidents")?;
    bar.finish_and_clear();
    println!(
        "reported {} incidents and applied {} actions in {:.1} s",
        summary.reported,
        summary.actions,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
