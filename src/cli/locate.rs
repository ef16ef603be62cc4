//! `wangge locate`: which grid at each level covers a point, answered from
//! an index built from the database (no server needed). One point prints its
//! chain; `--csv` appends the ids of levels 1-5 to every row of a file.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::open_store;
use crate::geom::LonLat;
use crate::index::GridIndex;
use crate::state::AppState;

/// Options of `wangge locate`.
#[derive(Debug, Args)]
pub(super) struct LocateArgs {
    /// Longitude, WGS84 degrees east.
    #[arg(
        allow_negative_numbers = true,
        required_unless_present = "csv",
        conflicts_with = "csv"
    )]
    lon: Option<f64>,

    /// Latitude, WGS84 degrees north.
    #[arg(
        allow_negative_numbers = true,
        required_unless_present = "csv",
        conflicts_with = "csv"
    )]
    lat: Option<f64>,

    /// CSV file with a header and `lon` and `lat` columns (`-` for standard
    /// input). Its rows are written to standard output as they are, with
    /// columns `l1`-`l5` appended: the grid ids, empty where none.
    #[arg(long, value_name = "IN.csv|-")]
    csv: Option<PathBuf>,
}

/// Build the index from the database and answer.
pub(super) async fn run(database: &str, args: LocateArgs) -> anyhow::Result<()> {
    // Read and check the points before the (slower) index build.
    let input = match (&args.csv, args.lon, args.lat) {
        (Some(path), _, _) => Input::Csv(read_points(path)?),
        (None, Some(lon), Some(lat)) => {
            let p = LonLat::new(lon, lat);
            anyhow::ensure!(
                p.is_valid(),
                "{lon}, {lat} is not a longitude (-180 to 180) and latitude (-90 to 90)"
            );
            Input::Point(p)
        }
        _ => anyhow::bail!("give LON LAT, or --csv FILE"),
    };
    let store = open_store(database).await?;
    let index = AppState::open(store)
        .await
        .context("loading the stored grids")?
        .index();
    let mut out = io::BufWriter::new(io::stdout().lock());
    match input {
        Input::Point(p) => print_chain(&index, p, &mut out)?,
        Input::Csv(table) => write_csv(&index, table, &mut out)?,
    }
    out.flush().context("writing to standard output")
}

enum Input {
    Point(LonLat),
    Csv(Table),
}

/// A CSV file read whole, every row's point already checked, so that a bad
/// row is reported before any output is written.
struct Table {
    headers: csv::StringRecord,
    rows: Vec<(csv::StringRecord, LonLat)>,
}

/// One line per level: level, id, name, leader (name and phone), tab-separated.
fn print_chain(index: &GridIndex, p: LonLat, out: &mut impl Write) -> anyhow::Result<()> {
    let chain = index.locate(p);
    if chain.is_empty() {
        writeln!(out, "{}, {} is outside every grid", p.lon, p.lat)?;
        return Ok(());
    }
    for &ix in chain.0.iter().flatten() {
        let grid = index.grid(ix);
        let leader = grid
            .leader()
            .map(|l| format!("{} {}", l.name, l.phone))
            .unwrap_or_default();
        writeln!(
            out,
            "{}\t{}\t{}\t{}",
            grid.level, grid.id, grid.name, leader
        )?;
    }
    Ok(())
}

fn read_points(path: &PathBuf) -> anyhow::Result<Table> {
    let name = path.display().to_string();
    let source: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(std::fs::File::open(path).with_context(|| format!("opening {name}"))?)
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(source);
    let headers = reader
        .headers()
        .with_context(|| format!("{name}: reading the header"))?
        .clone();
    let column = |wanted: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(wanted))
            .with_context(|| format!("{name}: the header has no {wanted} column"))
    };
    let (lon_col, lat_col) = (column("lon")?, column("lat")?);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{name}: reading a row"))?;
        let line = record.position().map_or(0, csv::Position::line);
        let field = |col: usize, what: &str, limit: f64| -> anyhow::Result<f64> {
            let text = record.get(col).unwrap_or("");
            match text.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && (-limit..=limit).contains(&v) => Ok(v),
                _ => anyhow::bail!(
                    "{name}, line {line}: {what} {text:?} is not a number from -{limit} to {limit}"
                ),
            }
        };
        let p = LonLat::new(field(lon_col, "lon", 180.0)?, field(lat_col, "lat", 90.0)?);
        rows.push((record, p));
    }
    Ok(Table { headers, rows })
}

fn write_csv(index: &GridIndex, table: Table, out: &mut impl Write) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let mut headers = table.headers;
    for column in ["l1", "l2", "l3", "l4", "l5"] {
        headers.push_field(column);
    }
    writer.write_record(&headers)?;
    for (mut record, p) in table.rows {
        let chain = index.locate(p);
        for id in index.chain_ids(&chain) {
            record.push_field(id.map_or("", |id| id.as_str()));
        }
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}
