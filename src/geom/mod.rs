//! Coordinate types and geometry conversions shared by every module:
//! labelled lon/lat points and boxes, the Chinese input systems (GCJ-02,
//! BD-09) converted to WGS84, the planning systems (CGCS2000 and its
//! Gauss–Krüger projections) for files, GeoJSON and WKB encodings of grids, and
//! local metric distances. Nothing here knows about storage or HTTP.

mod china_crs;
mod coords;
mod frame;
mod planning_crs;

pub mod wkb;

pub use china_crs::{InputCrs, UnknownCrs};
pub use coords::{Bbox, LonLat, METRES_PER_DEGREE_LAT, metres_between};
pub use frame::{LocalFrame, nearest_on_segment};
pub use planning_crs::{PlanningCrs, Projection, UnsupportedCrs};
