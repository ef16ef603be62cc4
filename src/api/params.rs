//! Parameters several resources read the same way: times, grids and the
//! language a person reads. Each refusal is a 400 naming the parameter.

use jiff::Timestamp;

use super::error::ApiError;
use crate::index::GridIndex;
use crate::model::{GridId, Level, Text};
use crate::text;

/// An RFC 3339 time, e.g. `from` / `to`.
pub(super) fn parse_time(name: &str, value: &str) -> Result<Timestamp, ApiError> {
    value.parse().map_err(|_| {
        ApiError::bad_parameter(
            name,
            text!(
                "{name}: {value:?} is not an RFC 3339 time such as 2026-03-01T08:00:00Z",
                "{name}：{value:?} 不是 RFC 3339 格式的时间（例如 2026-03-01T08:00:00Z）"
            ),
        )
    })
}

/// A moment to read the grids as of, or for a change to take effect: an
/// RFC 3339 time, or a date `YYYY-MM-DD`, meaning its first moment in China
/// Standard Time (UTC+08:00), the county's day.
pub(super) fn parse_moment(name: &str, value: &str) -> Result<Timestamp, ApiError> {
    if value.len() == 10
        && let Ok(date) = value.parse::<jiff::civil::Date>()
        && let Ok(at) =
            jiff::tz::offset(8).to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
    {
        return Ok(at);
    }
    value.parse().map_err(|_| {
        ApiError::bad_parameter(
            name,
            text!(
                "{name}: {value:?} is neither an RFC 3339 time such as 2027-01-01T00:00:00+08:00 \
                 nor a date such as 2027-01-01",
                "{name}：{value:?} 既不是 RFC 3339 格式的时间（例如 2027-01-01T00:00:00+08:00），\
                 也不是日期（例如 2027-01-01）"
            ),
        )
    })
}

/// An optional [`parse_moment`]; empty is absent.
pub(super) fn moment(name: &str, value: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    match value {
        None | Some("") => Ok(None),
        Some(v) => parse_moment(name, v).map(Some),
    }
}

/// The grid index `as_of` a moment ([`moment`]), or the current one.
pub(super) async fn index_as_of(
    state: &crate::state::AppState,
    as_of: Option<&str>,
) -> Result<std::sync::Arc<GridIndex>, ApiError> {
    let at = moment("as_of", as_of)?;
    state
        .index_as_of(at)
        .await
        .map_err(|e| ApiError::internal("reading the grids as of a time", e))
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

/// An optional time (RFC 3339 or `now`); `now` when absent or blank.
pub(super) fn time_or_now(
    name: &str,
    value: Option<&str>,
    now: Timestamp,
) -> Result<Timestamp, ApiError> {
    match value {
        None | Some("") => Ok(now),
        Some(v) => parse_time_or_now(name, v, now),
    }
}

/// `grid`: a grid of the current index, as the (level, id) of its subtree.
pub(super) fn parse_grid(index: &GridIndex, value: &str) -> Result<(Level, GridId), ApiError> {
    let id = GridId::from(value);
    let grid = index.get(&id).ok_or_else(|| {
        ApiError::bad_parameter(
            "grid",
            text!(
                "grid: there is no grid {value:?}",
                "grid：未找到编号为 {value:?} 的网格"
            ),
        )
    })?;
    Ok((grid.level, id))
}

/// The `version` a delete names (`?version=`): required, as for every
/// change of something that exists, so that a change made since is not
/// deleted unseen.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct DeleteQuery {
    /// The version read (required).
    #[param(value_type = i64, minimum = 1)]
    version: Option<String>,
}

impl DeleteQuery {
    /// The version, or a 400 naming `version`.
    pub(super) fn version(&self) -> Result<i64, super::ApiError> {
        let text = self.version.as_deref().unwrap_or_default().trim();
        if text.is_empty() {
            return Err(super::ApiError::bad_parameter(
                "version",
                Text::new(
                    "version is required: the version as read, so that a change made since is \
                     not deleted unseen",
                    "缺少 version：应为读取时的版本号，以免误删读取之后他人所作的更改",
                ),
            ));
        }
        text.parse::<i64>().ok().filter(|v| *v >= 1).ok_or_else(|| {
            super::ApiError::bad_parameter(
                "version",
                text!(
                    "version must be a whole number from 1, got {text:?}",
                    "version 必须是不小于 1 的整数，收到的是 {text:?}"
                ),
            )
        })
    }
}

/// The language to answer in: Chinese when the client prefers it
/// ([`prefers_chinese`], as the web map asks), else English.
pub(super) fn language(headers: &axum::http::HeaderMap) -> crate::model::Language {
    if prefers_chinese(headers) {
        crate::model::Language::Chinese
    } else {
        crate::model::Language::English
    }
}

/// True when the client's `Accept-Language` prefers Chinese: of the
/// languages it lists, one with the highest quality (the first of equals)
/// is `zh` or a `zh-…` tag. No header, or one that cannot be read, is not
/// a preference for Chinese: API clients get English.
pub(super) fn prefers_chinese(headers: &axum::http::HeaderMap) -> bool {
    let mut best: Option<(f32, bool)> = None;
    for item in headers
        .get_all(axum::http::header::ACCEPT_LANGUAGE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';').map(str::trim);
        let tag = parts.next().unwrap_or("").to_ascii_lowercase();
        let quality = parts
            .find_map(|p| p.strip_prefix("q="))
            .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
            .unwrap_or(0.0);
        if tag.is_empty() || quality <= 0.0 {
            continue;
        }
        let chinese = tag == "zh" || tag.starts_with("zh-");
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, chinese));
        }
    }
    best.is_some_and(|(_, chinese)| chinese)
}

#[cfg(test)]
mod tests {
    use super::prefers_chinese;
    use axum::http::{HeaderMap, HeaderValue, header};

    fn prefers(value: &'static str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(value));
        prefers_chinese(&headers)
    }

    #[test]
    fn accept_language_is_read_by_quality() {
        assert!(prefers("zh-CN,zh;q=0.9,en;q=0.8"));
        assert!(prefers("zh"));
        assert!(prefers("en;q=0.5, zh-Hans-CN"));
        assert!(!prefers("en-US,en;q=0.9,zh-CN;q=0.8"));
        assert!(!prefers("zh;q=0, en"));
        assert!(!prefers("zhx"));
        assert!(!prefers_chinese(&HeaderMap::new()));
    }
}
