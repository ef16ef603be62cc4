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

use crate::model::{Localized, Text, View};
use crate::store::StoreError;
use crate::text;

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
        reason: Text,
    },
    /// No such hazard, route or patrol.
    #[error("{0}")]
    NotFound(Text),
    /// The record changed since it was read, is in use, or is in a state
    /// that refuses the change (a finished patrol).
    #[error("{0}")]
    Conflict(Text),
    /// An allowance is used up (an account's photos of the day); another
    /// attempt may succeed after `retry_after_secs`.
    #[error("{detail}")]
    TooMany {
        /// The sentence, naming the allowance.
        detail: Text,
        /// Seconds until an attempt may succeed.
        retry_after_secs: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl PatrolError {
    /// The refusal of a GeoJSON property `properties.{name}` (of the
    /// feature `field` names) that is neither a string nor null.
    pub fn not_a_string(
        field: impl Fn(&str) -> String,
        name: &str,
        value: &serde_json::Value,
    ) -> PatrolError {
        let f = field(&format!("properties.{name}"));
        PatrolError::invalid(
            f.clone(),
            text!(
                "{f} must be a string, got {value}",
                "{f} 必须是字符串，收到的是 {value}"
            ),
        )
    }

    /// A refusal naming the field at fault.
    pub fn invalid(field: impl Into<String>, reason: Text) -> PatrolError {
        PatrolError::Invalid {
            field: field.into(),
            reason,
        }
    }
}

impl Localized for PatrolError {
    fn zh(&self) -> String {
        match self {
            PatrolError::Invalid { reason, .. } => reason.zh().to_owned(),
            PatrolError::NotFound(t)
            | PatrolError::Conflict(t)
            | PatrolError::TooMany { detail: t, .. } => t.zh().to_owned(),
            // Logged, never sent: a store failure answers as a 500.
            PatrolError::Store(_) => "数据库操作失败".to_owned(),
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
            text!(
                "{field} is {chars} characters long; at most {max}",
                "{field} 长 {chars} 个字符，最多 {max} 个"
            ),
        ));
    }
    let one_line = max <= MAX_NAME_CHARS;
    if text
        .chars()
        .any(|c| c.is_control() && (one_line || !matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(PatrolError::invalid(
            field,
            text!("{field} holds control characters", "{field} 含有控制字符"),
        ));
    }
    Ok(())
}

/// The Chinese of [`View::describe`], to put between Chinese words: `全县`,
/// `网格 4210 ` (with the space an id needs before the next Chinese word),
/// `可见范围` for a view of nothing.
pub(crate) fn view_zh(view: &View) -> String {
    match view {
        View::All => "全县".to_owned(),
        View::Subtree(_, id) => format!("网格 {id} "),
        View::Nothing => "可见范围".to_owned(),
    }
}

/// A request body as GeoJSON, or a refusal naming `field` (UTF-8 first).
fn read_geojson(bytes: &[u8], field: &str) -> Result<geojson::GeoJson, PatrolError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        PatrolError::invalid(
            field,
            text!(
                "the body is not UTF-8 ({e})",
                "请求体不是 UTF-8 编码（{e}）"
            ),
        )
    })?;
    text.parse().map_err(|e| {
        PatrolError::invalid(
            field,
            text!(
                "the body is not GeoJSON ({e})",
                "请求体不是有效的 GeoJSON（{e}）"
            ),
        )
    })
}

impl From<StoreError> for PatrolError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Stale { .. } | StoreError::InUse(_) => PatrolError::Conflict(Text::of(&e)),
            other => PatrolError::Store(other),
        }
    }
}
