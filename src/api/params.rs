//! Parameters several resources read the same way: times and grids. Each
//! refusal is a 400 naming the parameter.

use jiff::Timestamp;

use super::error::ApiError;
use crate::index::GridIndex;
use crate::model::{GridId, Level};

/// An RFC 3339 time, e.g. `from` / `to`.
pub(super) fn parse_time(name: &str, value: &str) -> Result<Timestamp, ApiError> {
    value.parse().map_err(|_| {
        ApiError::bad_parameter(
            name,
            format!("{name}: {value:?} is not an RFC 3339 time such as 2026-03-01T08:00:00Z"),
        )
    })
}

/// An RFC 3339 time, or `now`.
pub(super) fn parse_time_or_now(
    name: &str,
    value: &str,
    now: Timestamp,
) -> Result<Timestamp, ApiError> {
    if value == "now" {
        Ok(now)
    } else {
        parse_time(name, value)
    }
}

/// An optional time (RFC 3339 or `now`); `now` when absent.
pub(super) fn time_or_now(
    name: &str,
    value: Option<&str>,
    now: Timestamp,
) -> Result<Timestamp, ApiError> {
    value.map_or(Ok(now), |v| parse_time_or_now(name, v, now))
}

/// `grid`: a grid of the current index, as the (level, id) of its subtree.
pub(super) fn parse_grid(index: &GridIndex, value: &str) -> Result<(Level, GridId), ApiError> {
    let id = GridId::from(value);
    let grid = index.get(&id).ok_or_else(|| {
        ApiError::bad_parameter("grid", format!("grid: there is no grid {value:?}"))
    })?;
    Ok((grid.level, id))
}
