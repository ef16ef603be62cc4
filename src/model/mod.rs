//! Domain types: grids, their ids and levels, and the errors that describe a
//! grid that cannot be accepted; incidents and their history; hazards, patrol routes and patrols. Nothing here
//! knows about SQL or HTTP.

pub mod account;
mod change;
pub mod geojson;
mod grid;
mod hazard;
mod incident;
mod language;
mod patrol;
mod process;
mod query;
mod revision;
mod road;
mod text;
mod view;

pub use change::{Change, ChangeKind, NewChange};
pub use grid::{Grid, GridId, Leader, Level, LevelError};
pub use hazard::{
    HAZARD_CATEGORIES, Hazard, HazardDraft, HazardId, HazardStatus, RiskClass, hazard_category_name,
};
pub use incident::{
    Category, EventKind, GridChain, HistoryEntry, Incident, IncidentId, Person, ReportSource,
    ReportedPoint,
};
pub use language::Language;
pub use patrol::{
    CheckIn, NewPhoto, Patrol, PatrolId, PatrolStatus, PhotoBytes, PhotoUploads, Route, RouteId,
    RouteStop, Shift, StopVisit, THUMBNAIL_PX, TrackPoint, TravelMode,
};
pub use process::{Action, Severity, Status, Tier, WorkflowKind};
pub use query::{GridFilter, IncidentFilter, IncidentOrder, WriteMode};
pub use revision::{GridRevision, NewRevision, RevisionGrids, RevisionState, fold_revisions};
pub use road::{RoadClass, RoadLine};
pub use text::{Localized, Text};
pub use view::View;
