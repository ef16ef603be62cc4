//! Grid files in the planners' formats, read and written for the API and
//! the command line alike: GeoJSON, zipped Shapefiles and GeoPackages, the
//! latter two in longitude/latitude or a CGCS2000 Gauss–Krüger projection
//! ([`PlanningCrs`]). A GeoPackage passes through a temporary file (SQLite
//! reads files), removed when done.

use std::io::Write;

use crate::geom::PlanningCrs;
use crate::import::{self, ImportErrors};
use crate::model::geojson::grids_to_feature_collection;
use crate::model::{Grid, Text};
use crate::store::geopackage;
use crate::text;

/// A file format grids are read from and written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridFileFormat {
    /// A GeoJSON FeatureCollection (RFC 7946), longitude/latitude.
    GeoJson,
    /// A zipped Shapefile (one layer, with its `.prj`).
    Shapefile,
    /// A GeoPackage with one feature layer.
    GeoPackage,
}

impl GridFileFormat {
    /// Its media type.
    pub fn media_type(self) -> &'static str {
        match self {
            GridFileFormat::GeoJson => "application/geo+json",
            GridFileFormat::Shapefile => "application/zip",
            GridFileFormat::GeoPackage => "application/geopackage+sqlite3",
        }
    }

    /// The format of a file by its name (`.zip`, `.gpkg`, else GeoJSON).
    pub fn of_file_name(name: &str) -> GridFileFormat {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".zip") {
            GridFileFormat::Shapefile
        } else if lower.ends_with(".gpkg") {
            GridFileFormat::GeoPackage
        } else {
            GridFileFormat::GeoJson
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("reading and writing grid files does not panic")
}

/// The grids of a file; `crs` declares the system of a Shapefile without a
/// `.prj` (and wins over its `.prj`). Refused with every issue, named
/// `layer:feature` for Shapefiles and GeoPackages.
pub async fn read(
    format: GridFileFormat,
    bytes: Vec<u8>,
    crs: Option<PlanningCrs>,
) -> Result<Vec<Grid>, ImportErrors> {
    match format {
        GridFileFormat::GeoJson => blocking(move || import::parse_feature_collection(&bytes)).await,
        GridFileFormat::Shapefile => {
            blocking(move || import::read_zipped_shapefile(&bytes, crs)).await
        }
        GridFileFormat::GeoPackage => {
            let file = blocking(move || {
                let mut file = tempfile::Builder::new().suffix(".gpkg").tempfile()?;
                file.write_all(&bytes)?;
                file.flush()?;
                Ok::<_, std::io::Error>(file)
            })
            .await
            .map_err(|e| {
                ImportErrors::document(text!(
                    "the GeoPackage cannot be saved to read ({e})",
                    "无法暂存 GeoPackage 文件以供读取（{e}）"
                ))
            })?;
            let layer = geopackage::read_geopackage(file.path())
                .await
                .map_err(|e| ImportErrors::document(Text::of(&e)))?;
            blocking(move || import::grids_from_layer(&layer.name, layer.features)).await
        }
    }
}

/// `grids` as a file in `format` (Shapefiles and GeoPackages in `crs`; a
/// GeoJSON file is longitude/latitude whatever `crs` says).
pub async fn write(
    grids: Vec<Grid>,
    format: GridFileFormat,
    crs: PlanningCrs,
) -> Result<Vec<u8>, String> {
    match format {
        GridFileFormat::GeoJson => {
            blocking(move || {
                serde_json::to_vec(&grids_to_feature_collection(&grids)).map_err(|e| e.to_string())
            })
            .await
        }
        GridFileFormat::Shapefile => {
            blocking(move || import::write_zipped_shapefile(&grids, crs, "grids")).await
        }
        GridFileFormat::GeoPackage => {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let path = dir.path().join("grids.gpkg");
            geopackage::write_geopackage(&path, &grids, crs)
                .await
                .map_err(|e| e.to_string())?;
            tokio::fs::read(&path).await.map_err(|e| e.to_string())
        }
    }
}
