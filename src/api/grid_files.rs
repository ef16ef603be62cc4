//! The grid file a request sends or asks for: its format by `Content-Type`
//! (import) or `format` (export), and its coordinate system by `crs`. The
//! reading and writing is the service's ([`crate::services::grid_files`]).

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::geom::PlanningCrs;
use crate::model::Grid;
use crate::services::grid_files::{self, GridFileFormat};
use crate::text;

/// The format a request body's `Content-Type` names: GeoJSON
/// (`application/geo+json` or `application/json`), a zipped Shapefile
/// (`application/zip`) or a GeoPackage (`application/geopackage+sqlite3`);
/// any other type is refused (415).
pub(super) fn format_of_body(headers: &HeaderMap) -> Result<GridFileFormat, ApiError> {
    let media = super::extract::declared_media(
        headers,
        &[
            "application/geo+json",
            "application/json",
            "application/zip",
            "application/x-zip-compressed",
            "application/geopackage+sqlite3",
        ],
    )?;
    Ok(match media.as_str() {
        "application/zip" | "application/x-zip-compressed" => GridFileFormat::Shapefile,
        "application/geopackage+sqlite3" => GridFileFormat::GeoPackage,
        _ => GridFileFormat::GeoJson,
    })
}

/// The format an export's `format` parameter names.
pub(super) fn parse_format(name: Option<&str>) -> Result<GridFileFormat, ApiError> {
    match name {
        None | Some("" | "geojson") => Ok(GridFileFormat::GeoJson),
        Some("shapefile") => Ok(GridFileFormat::Shapefile),
        Some("geopackage" | "gpkg") => Ok(GridFileFormat::GeoPackage),
        Some(other) => Err(ApiError::bad_parameter(
            "format",
            text!(
                "format must be geojson, shapefile or geopackage, got {other:?}",
                "format 必须是 geojson、shapefile 或 geopackage，收到的是 {other:?}"
            ),
        )),
    }
}

/// A `crs` parameter, if given.
pub(super) fn parse_crs(crs: Option<&str>) -> Result<Option<PlanningCrs>, ApiError> {
    match crs {
        None | Some("") => Ok(None),
        Some(text) => PlanningCrs::parse(text)
            .map(Some)
            .map_err(|e| ApiError::bad_parameter("crs", crate::import::unsupported_crs(&e))),
    }
}

/// `grids` as an attachment in `format` and `crs`.
pub(super) async fn attachment(
    grids: Vec<Grid>,
    format: GridFileFormat,
    crs: PlanningCrs,
) -> Result<Response, ApiError> {
    let name = match format {
        GridFileFormat::GeoJson => "grids.geojson",
        GridFileFormat::Shapefile => "grids.zip",
        GridFileFormat::GeoPackage => "grids.gpkg",
    };
    let body = grid_files::write(grids, format, crs)
        .await
        .map_err(|e| ApiError::internal("exporting grids", e))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.media_type()),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .expect("an ASCII file name"),
            ),
        ],
        body,
    )
        .into_response())
}
