//! GeoJSON FeatureCollection → grids. (Skeleton: filled in by the import work.)

use crate::import::ImportErrors;
use crate::model::Grid;

/// Parse a GeoJSON FeatureCollection into grids, reporting every feature that
/// cannot be read (wrong geometry type, bad ring, bad property, …).
pub fn parse_feature_collection(bytes: &[u8]) -> Result<Vec<Grid>, ImportErrors> {
    let _ = bytes;
    Ok(Vec::new())
}
