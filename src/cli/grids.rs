//! `wangge generate`, `wangge import` and `wangge export`: grids in and out
//! as GeoJSON FeatureCollections, zipped Shapefiles or GeoPackages.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::progress::Steps;
use super::{Output, open_store, read_input};
use crate::generate::{DEMO_SEED, generate as generate_county};
use crate::geom::PlanningCrs;
use crate::import::MAX_ISSUES;
use crate::model::Grid;
use crate::model::geojson::grids_to_feature_collection;
use crate::services::grid_files::{self, GridFileFormat};
use crate::services::grids::{GridChange, GridChangeError};
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
    /// File to import: a GeoJSON FeatureCollection, a zipped Shapefile
    /// (`.zip`) or a GeoPackage (`.gpkg`), by its name; `-` reads GeoJSON
    /// from standard input.
    #[arg(value_name = "FILE|-")]
    file: PathBuf,

    /// The coordinate system of a Shapefile without a `.prj`, e.g.
    /// `EPSG:4544` (a `.prj` says it otherwise).
    #[arg(long, value_parser = parse_crs)]
    crs: Option<PlanningCrs>,

    /// Check the file and list what importing would move; change nothing.
    #[arg(long)]
    dry_run: bool,

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

    /// `geojson`, `shapefile` (zipped) or `geopackage`.
    #[arg(long, value_enum, default_value_t = Format::Geojson)]
    format: Format,

    /// The coordinate system of a Shapefile or GeoPackage: EPSG:4490
    /// (CGCS2000, the default), EPSG:4326 or a CGCS2000 3-degree
    /// Gauss–Krüger projection (EPSG:4513–4554; Qingshui: EPSG:4544).
    /// Refused for GeoJSON, which is always longitude/latitude.
    #[arg(long, value_parser = parse_crs)]
    crs: Option<PlanningCrs>,
}

/// The export formats, as the command line spells them.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Geojson,
    Shapefile,
    Geopackage,
}

impl From<Format> for GridFileFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Geojson => GridFileFormat::GeoJson,
            Format::Shapefile => GridFileFormat::Shapefile,
            Format::Geopackage => GridFileFormat::GeoPackage,
        }
    }
}

fn parse_crs(text: &str) -> Result<PlanningCrs, String> {
    PlanningCrs::parse(text).map_err(|e| e.to_string())
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
    steps.step(format!("checking the grids of {name}"));
    let format = if args.file.as_os_str() == "-" {
        GridFileFormat::GeoJson
    } else {
        GridFileFormat::of_file_name(&name)
    };
    let result = match grid_files::read(format, bytes, args.crs).await {
        Ok(grids) if args.dry_run => {
            let planned = state
                .grids()
                .plan(GridChange {
                    grids,
                    mode: args.mode.into(),
                    remove: Vec::new(),
                    version: None,
                    actor: "cli".into(),
                    reason: String::new(),
                    effective: None,
                })
                .await;
            steps.finish();
            return match planned {
                Ok(plan) => {
                    let impact = &plan.impact;
                    println!(
                        "dry run: {name} would change {} grid(s) and move {} open incident(s), \
                         {} hazard(s) and {} route(s); nothing was changed",
                        plan.changed_grids.len(),
                        impact.incidents.len(),
                        impact.hazards.len(),
                        impact.routes.len()
                    );
                    Ok(())
                }
                Err(e) => report_refusal(&name, e),
            };
        }
        Ok(grids) => state.import_grids(grids, args.mode.into()).await,
        Err(errors) => Err(GridChangeError::Invalid(errors)),
    };
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
        Err(e) => report_refusal(&name, e),
    }
}

/// Print every issue of a refused import and fail.
fn report_refusal(name: &str, e: GridChangeError) -> anyhow::Result<()> {
    match e {
        GridChangeError::Invalid(errors) => {
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
        other => Err(other).context("applying the grids; the database is unchanged"),
    }
}

/// Write every stored grid.
pub(super) async fn export(database: &str, args: ExportArgs) -> anyhow::Result<()> {
    if matches!(args.format, Format::Geojson) && args.crs.is_some() {
        // Refused rather than writing longitude/latitude where a projection
        // was asked for.
        anyhow::bail!(
            "--crs applies to --format shapefile or geopackage; GeoJSON is always \
             longitude/latitude (RFC 7946)"
        );
    }
    let out = Output::from_arg(&args.out);
    let store = open_store(database).await?;
    let grids = store
        .load_grids()
        .await
        .context("loading the stored grids")?;
    let count = grids.len();
    match args.format {
        Format::Geojson => write_grids(&out, &grids)?,
        other => {
            let crs = args.crs.unwrap_or(PlanningCrs::Cgcs2000);
            let bytes = grid_files::write(grids, other.into(), crs)
                .await
                .map_err(anyhow::Error::msg)
                .context("writing the grids")?;
            out.write_with(|w| {
                w.write_all(&bytes)
                    .with_context(|| format!("writing {}", out.describe()))
            })?;
        }
    }
    tracing::info!(grids = count, "exported to {}", out.describe());
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
