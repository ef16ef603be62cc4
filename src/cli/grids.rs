//! `wangge generate`, `wangge import` and `wangge export`: grids in and out
//! as GeoJSON FeatureCollections.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::progress::Steps;
use super::{Output, open_store, read_input};
use crate::generate::{DEMO_SEED, generate as generate_county};
use crate::import::MAX_ISSUES;
use crate::model::Grid;
use crate::model::geojson::grids_to_feature_collection;
use crate::services::grids::GridChangeError;
use crate::state::AppState;
use crate::store::WriteMode;

/// Options of `wangge generate`.
#[derive(Debug, Args)]
pub(super) struct GenerateArgs {
    /// Seed of the county; the same seed always gives the same county.
    #[arg(long, default_value_t = DEMO_SEED)]
    seed: u64,

    /// File to write, or `-` for standard output.
    #[arg(long, default_value = "data/qingshui.geojson", value_name = "FILE|-")]
    out: PathBuf,
}

/// Options of `wangge import`.
#[derive(Debug, Args)]
pub(super) struct ImportArgs {
    /// GeoJSON FeatureCollection to import, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    file: PathBuf,

    /// `replace`: the file becomes the whole set of grids; `upsert`: its
    /// grids are added or replace stored grids with the same id.
    #[arg(long, value_enum, default_value_t = Mode::Replace)]
    mode: Mode,
}

/// Options of `wangge export`.
#[derive(Debug, Args)]
pub(super) struct ExportArgs {
    /// File to write, or `-` for standard output.
    #[arg(long, default_value = "-", value_name = "FILE|-")]
    out: PathBuf,
}

/// The write modes, as the command line spells them.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mode {
    Replace,
    Upsert,
}

impl From<Mode> for WriteMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Replace => WriteMode::Replace,
            Mode::Upsert => WriteMode::Upsert,
        }
    }
}

/// Generate the demo county and write it.
pub(super) fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let out = Output::from_arg(&args.out);
    let mut steps = Steps::new(2);
    steps.step(format!("generating the county for seed {}", args.seed));
    let grids = generate_county(args.seed);
    steps.step(format!(
        "writing {} grids to {}",
        grids.len(),
        out.describe()
    ));
    let written = write_grids(&out, &grids);
    steps.finish();
    written?;
    tracing::info!(
        grids = grids.len(),
        seed = args.seed,
        "wrote the county to {}",
        out.describe()
    );
    Ok(())
}

/// Import a file into the database; print every issue when it is refused.
pub(super) async fn import(database: &str, args: ImportArgs) -> anyhow::Result<()> {
    let bytes = read_input(&args.file)?;
    let name = args.file.display().to_string();
    let mut steps = Steps::new(2);
    steps.step("loading the stored grids");
    let opened = async {
        let store = open_store(database).await?;
        AppState::open(store)
            .await
            .context("loading the stored grids")
    }
    .await;
    let state = match opened {
        Ok(state) => state,
        Err(e) => {
            steps.finish();
            return Err(e);
        }
    };
    steps.step(format!("checking and writing the grids of {name}"));
    let result = state.import_geojson(bytes, args.mode.into()).await;
    steps.finish();
    match result {
        Ok(summary) => {
            let [l1, l2, l3, l4, l5] = summary.counts_by_level;
            let total: usize = summary.counts_by_level.iter().sum();
            println!(
                "imported {} grids from {name}; the database now holds {total} \
                 (levels 1-5: {l1}, {l2}, {l3}, {l4}, {l5})",
                summary.imported
            );
            Ok(())
        }
        Err(GridChangeError::Invalid(errors)) => {
            let mut err = std::io::stderr().lock();
            for issue in &errors.issues {
                writeln!(err, "{name}: {issue}").context("writing to standard error")?;
            }
            let n = errors.issues.len();
            let more = if n >= MAX_ISSUES {
                " (the checks stop after that many)"
            } else {
                ""
            };
            anyhow::bail!(
                "import of {name} refused: {n} issue{}{more}; the database is unchanged",
                if n == 1 { "" } else { "s" }
            )
        }
        Err(e) => Err(e).context("applying the grids; the database is unchanged"),
    }
}

/// Write every stored grid.
pub(super) async fn export(database: &str, args: ExportArgs) -> anyhow::Result<()> {
    let out = Output::from_arg(&args.out);
    let store = open_store(database).await?;
    let grids = store
        .load_grids()
        .await
        .context("loading the stored grids")?;
    write_grids(&out, &grids)?;
    tracing::info!(grids = grids.len(), "exported to {}", out.describe());
    Ok(())
}

fn write_grids(out: &Output, grids: &[Grid]) -> anyhow::Result<()> {
    let collection = grids_to_feature_collection(grids);
    out.write_with(|w| {
        serde_json::to_writer(&mut *w, &collection)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(w))
            .with_context(|| format!("writing {}", out.describe()))
    })
}
