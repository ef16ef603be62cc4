//! Roads and round trips: the road network as a routable graph, shortest
//! paths over it, and the ordering of stops into the shortest tour. Knows
//! nothing of HTTP, SQL or hazards: it routes between points.
//!
//! - [`network`]: noding GeoJSON-style lines into a graph, snapping points to roads.
//! - [`paths`]: shortest paths between points on roads (multi-seed Dijkstra).
//! - [`travel`]: distance matrices and route legs, over roads or great-circle.
//! - [`tour`]: the travelling-salesman solver (exact when small, iterated
//!   local search otherwise).

pub mod network;
pub mod paths;
pub mod tour;
pub mod travel;

pub use crate::geom::LocalFrame;
pub use crate::model::{RoadClass, RoadLine};
pub use network::{RoadEdge, RoadNetwork, Snap};
pub use tour::{DistanceMatrix, SearchLimits, Tour, shortest_tour};
pub use travel::{Leg, Metric, OFF_ROAD_FACTOR, Travel, Ways, great_circle_m};
