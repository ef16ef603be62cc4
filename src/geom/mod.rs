//! Coordinate types and geometry conversions shared by every module:
//! labelled lon/lat points and boxes, GeoJSON and WKB encodings of grids, and
//! local metric distances. Nothing here knows about storage or HTTP.

mod coords;
pub mod geojson_io;
pub mod wkb;

pub use coords::{Bbox, LonLat, METRES_PER_DEGREE_LAT, metres_between};
