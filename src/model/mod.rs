//! Domain types: grids, their ids and levels, and the errors that describe a
//! grid that cannot be accepted; incidents and their history; hazards. Nothing here
//! knows about SQL or HTTP.

mod grid;
mod hazard;
mod incident;

pub use grid::{Grid, GridId, Leader, Level, LevelError};
pub use hazard::{
    HAZARD_CATEGORIES, Hazard, HazardDraft, HazardId, HazardStatus, RiskClass, hazard_category_name,
};
pub use incident::{
    Category, EventKind, GridChain, HistoryEntry, Incident, IncidentId, Person, ReportSource,
    ReportedPoint,
};
