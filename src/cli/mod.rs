//! The `wangge` command line: `serve` (the default), `generate`, `import`,
//! `export`, `locate`, `demo-incidents` and `user`. Each command opens what it needs (the database,
//! the index), calls the library and reports; `anyhow` is used here and
//! nowhere else in the crate.
//!
//! - `serve.rs`: the HTTP API, loading the demo county into an empty database.
//! - `grids.rs`: `generate`, `import` and `export` of GeoJSON FeatureCollections.
//! - `locate.rs`: one point, or a CSV file of points, against the stored grids.
//! - `incidents.rs`: `demo-incidents`, a year of synthetic incidents.
//! - `users.rs`: `user add|list|disable|enable|password|token`.

pub mod demo;
mod grids;
mod incidents;
mod locate;
mod progress;
mod serve;
mod users;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::store::{self, Store};

/// The database used when neither `--database` nor `WANGGE_DATABASE_URL` is given.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://wangge.db";

/// County grid governance: nested grids, point-in-polygon locate, GeoJSON API.
#[derive(Debug, Parser)]
#[command(name = "wangge", version, about, long_about = None)]
struct Cli {
    /// Database URL: sqlite://FILE (created if missing) or postgres://…
    #[arg(
        long,
        global = true,
        env = "WANGGE_DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        value_name = "URL",
        hide_env_values = true
    )]
    database: String,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (the default). An empty database is first loaded
    /// with the demo county unless --no-demo is given.
    Serve(serve::ServeArgs),
    /// Write the deterministic demo county as a GeoJSON FeatureCollection.
    Generate(grids::GenerateArgs),
    /// Import a GeoJSON FeatureCollection of grids into the database.
    Import(grids::ImportArgs),
    /// Write every stored grid as a GeoJSON FeatureCollection.
    Export(grids::ExportArgs),
    /// Say which grid at each level covers a point, or each point of a CSV file.
    Locate(locate::LocateArgs),
    /// Report a year of synthetic incidents over the stored grids (by
    /// population and category) and play their lives up to now.
    DemoIncidents(incidents::DemoIncidentsArgs),
    /// Users and their tokens: add, list, disable, enable, password, token.
    User(users::UserArgs),
}

/// Run the command line: parse the arguments, set up logging, run the
/// command, and turn its outcome into an exit code (errors are printed
/// with their causes).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`wangge export | head`) is the reader's choice, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let database = cli.database;
    match cli.command {
        None => runtime.block_on(serve::run(&database, serve::ServeArgs::default())),
        Some(Command::Serve(args)) => runtime.block_on(serve::run(&database, args)),
        Some(Command::Generate(args)) => grids::generate(args),
        Some(Command::Import(args)) => runtime.block_on(grids::import(&database, args)),
        Some(Command::Export(args)) => runtime.block_on(grids::export(&database, args)),
        Some(Command::Locate(args)) => runtime.block_on(locate::run(&database, args)),
        Some(Command::DemoIncidents(args)) => runtime.block_on(incidents::run(&database, args)),
        Some(Command::User(args)) => runtime.block_on(users::run(&database, args)),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Open the store a URL names, saying which one failed (without its password).
async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    store::connect(url)
        .await
        .with_context(|| format!("opening the database {}", redact_url(url)))
}

/// The URL with any password replaced by `***`, for messages and logs.
fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &authority[..colon],
            &rest[at..]
        ),
        _ => url.to_owned(),
    }
}

/// Where a command writes: a file, or standard output for `-`.
#[derive(Debug, Clone)]
enum Output {
    Stdout,
    File(PathBuf),
}

impl Output {
    fn from_arg(arg: &Path) -> Output {
        if arg == Path::new("-") {
            Output::Stdout
        } else {
            Output::File(arg.to_owned())
        }
    }

    /// Name for messages.
    fn describe(&self) -> String {
        match self {
            Output::Stdout => "standard output".into(),
            Output::File(p) => p.display().to_string(),
        }
    }

    /// Write through `f`. A file is written beside its final name and moved
    /// into place only when complete, so a failed write never leaves half a
    /// file where a whole one was.
    fn write_with(
        &self,
        f: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        match self {
            Output::Stdout => {
                let mut out = io::BufWriter::new(io::stdout().lock());
                f(&mut out)?;
                out.flush().context("writing to standard output")
            }
            Output::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating the folder {}", dir.display()))?;
                }
                let mut partial = path.clone().into_os_string();
                partial.push(".partial");
                let partial = PathBuf::from(partial);
                let file = std::fs::File::create(&partial)
                    .with_context(|| format!("creating {}", partial.display()))?;
                let mut out = io::BufWriter::new(file);
                let written = f(&mut out).and_then(|()| {
                    out.flush()
                        .with_context(|| format!("writing {}", partial.display()))
                });
                if let Err(e) = written {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e);
                }
                std::fs::rename(&partial, path)
                    .with_context(|| format!("moving {} into place", partial.display()))
            }
        }
    }
}

/// Read a whole file, or standard input for `-`.
fn read_input(arg: &Path) -> anyhow::Result<Vec<u8>> {
    if arg == Path::new("-") {
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut io::stdin().lock(), &mut bytes)
            .context("reading standard input")?;
        Ok(bytes)
    } else {
        std::fs::read(arg).with_context(|| format!("reading {}", arg.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Passwords never reach messages; URLs without one are unchanged.
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://me:secret@db:5432/wangge?sslmode=require"),
            "postgres://me:***@db:5432/wangge?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres:///wangge?host=/var/run/postgresql&user=root"),
            "postgres:///wangge?host=/var/run/postgresql&user=root"
        );
        assert_eq!(redact_url("sqlite://wangge.db"), "sqlite://wangge.db");
    }

    /// The argument definitions are consistent (clap's own check).
    #[test]
    fn arguments_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    /// No subcommand means `serve`; negative coordinates are not flags.
    #[test]
    fn parses_the_usual_forms() {
        let cli = Cli::try_parse_from(["wangge"]).expect("no arguments is valid");
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from(["wangge", "locate", "-73.5", "-40.25"])
            .expect("negative coordinates parse");
        assert!(matches!(cli.command, Some(Command::Locate(_))));
    }
}
