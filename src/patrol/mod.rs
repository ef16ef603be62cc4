//! Hazards and patrols: the register of hazards, the road network patrols
//! follow, route planning per grid and shift, saved routes and the grids
//! they pass, patrols with their tracks and check-ins, and coverage. Each
//! operation reads what it needs from the store and the current grid index,
//! applies the rules here and of [`crate::routing`], and writes in one store
//! transaction; a refused operation writes nothing.
//!
//! - `hazards.rs`: register, import (GeoJSON), change, delete and list hazards.
//! - `roads.rs`: importing a road network (GeoJSON LineStrings).
//! - `notice.rs`: what a plan tells the leader, in English or Chinese.
//! - `plan.rs`: choosing the due stops and ordering them into a route.
//! - `routes.rs`: saving and editing routes; the grids a route passes.
//! - `service.rs`: the reads the HTTP layer asks for.
//! - `tracks.rs`: reading GPS tracks from GeoJSON and GPX.
//! - `execute.rs`: patrols: start, check-ins, tracks, visited and missed stops.
//! - `coverage.rs`: per grid and period, due against inspected; the due calendar.

pub mod coverage;
pub mod execute;
pub mod hazards;
pub mod notice;
pub mod photos;
pub mod plan;
pub mod roads;
pub mod routes;
pub mod service;
pub mod tracks;

use crate::store::StoreError;

/// Why a hazard or patrol operation did not happen. In every case nothing
/// was written.
#[derive(Debug, thiserror::Error)]
pub enum PatrolError {
    /// A field of the request is missing or wrong.
    #[error("{reason}")]
    Invalid {
        /// The field, e.g. `risk` or `features[3].geometry`.
        field: String,
        /// A sentence naming it and what is accepted.
        reason: String,
    },
    /// No such hazard, route or patrol.
    #[error("{0}")]
    NotFound(String),
    /// The record changed since it was read, is in use, or is in a state
    /// that refuses the change (a finished patrol).
    #[error("{0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl PatrolError {
    /// A refusal naming the field at fault.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> PatrolError {
        PatrolError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The longest name of a hazard, route, stop or assignee, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The longest description or note, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;

/// The longest photo URL, in characters.
pub const MAX_URL_CHARS: usize = 2_000;

/// How many members one route may be assigned to.
pub const MAX_ASSIGNEES: usize = 50;

/// Refuse a text of more than `max` characters, or (for a one-line text,
/// `max` at most [`MAX_NAME_CHARS`]) one with control characters.
pub fn bounded(field: &str, text: &str, max: usize) -> Result<(), PatrolError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(PatrolError::invalid(
            field,
            format!("{field} is {chars} characters long; at most {max}"),
        ));
    }
    let one_line = max <= MAX_NAME_CHARS;
    if text
        .chars()
        .any(|c| c.is_control() && (one_line || !matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(PatrolError::invalid(
            field,
            format!("{field} holds control characters"),
        ));
    }
    Ok(())
}

/// A request body as GeoJSON, or a refusal naming `field` (UTF-8 first).
fn read_geojson(bytes: &[u8], field: &str) -> Result<geojson::GeoJson, PatrolError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| PatrolError::invalid(field, format!("the body is not UTF-8 ({e})")))?;
    text.parse()
        .map_err(|e| PatrolError::invalid(field, format!("the body is not GeoJSON ({e})")))
}

impl From<StoreError> for PatrolError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Stale { .. } | StoreError::InUse(_) => PatrolError::Conflict(e.to_string()),
            other => PatrolError::Store(other),
        }
    }
}
