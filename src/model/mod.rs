//! Domain types: grids, their ids and levels, and the errors that describe a
//! grid that cannot be accepted; incidents and their history; hazards, patrol routes and patrols. Nothing here
//! knows about SQL or HTTP.

mod change;
mod grid;
mod hazard;
mod incident;
mod patrol;

pub use change::{Change, ChangeKind, NewChange};
pub use grid::{Grid, GridId, Leader, Level, LevelError};
pub use hazard::{
    HAZARD_CATEGORIES, Hazard, HazardDraft, HazardId, HazardStatus, RiskClass, hazard_category_name,
};
pub use incident::{
    Category, EventKind, GridChain, HistoryEntry, Incident, IncidentId, Person, ReportSource,
    ReportedPoint,
};
pub use patrol::{
    CheckIn, Patrol, PatrolId, PatrolStatus, Route, RouteId, RouteStop, Shift, StopVisit,
    TrackPoint, TravelMode,
};
