//! The query parameters of `GET /api/incidents`, checked one by one: an
//! unknown or repeated parameter, or a value that cannot be read, is a 400
//! naming it.

use jiff::Timestamp;
use utoipa::IntoParams;

use crate::api::ApiError;
use crate::api::params::{parse_grid, parse_time};
use crate::api::value_schemas::{StatusList, TierName, Time, WgsBbox};
use crate::index::GridIndex;
use crate::model::{IncidentFilter, IncidentOrder, Text};
use crate::text;
use crate::workflow::{Status, Tier};

/// Incidents per page when `limit` is not given.
const DEFAULT_LIMIT: u32 = 50;

/// The largest page.
const MAX_LIMIT: u32 = 1000;

/// The `status` value that means every open status.
const OPEN: &str = "open";

/// The parameters, for the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct ListParams {
    /// Statuses, comma-separated (any of them), e.g. `found,reported`;
    /// `open` stands for every status still being worked on (all but
    /// resolved, follow_up, closed and dismissed).
    #[param(value_type = Option<StatusList>)]
    status: Option<String>,
    /// A category code.
    category: Option<String>,
    /// A grid id: incidents reported inside it (its whole subtree).
    grid: Option<String>,
    /// The tier handling them now: `county`, `town`, `village`, `group`,
    /// `grid` or `patch`.
    #[param(value_type = Option<TierName>)]
    tier: Option<String>,
    /// Reported at or after (RFC 3339).
    #[param(value_type = Option<Time>)]
    from: Option<String>,
    /// Reported before (RFC 3339).
    #[param(value_type = Option<Time>)]
    to: Option<String>,
    /// `minLon,minLat,maxLon,maxLat`, WGS84 degrees.
    #[param(value_type = Option<WgsBbox>)]
    bbox: Option<String>,
    /// `true`: only open incidents past their deadline.
    overdue: Option<bool>,
    /// Search: an incident number, or text its description contains
    /// (letters compared without case); up to 100 characters.
    #[param(max_length = 100)]
    q: Option<String>,
    /// `newest` (default): newest report first; `oldest`: what has waited
    /// longest first; `deadline`: earliest deadline first (the most
    /// overdue, then the next due).
    #[param(pattern = "^(newest|oldest|deadline)?$")]
    sort: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Incidents to skip.
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    offset: Option<u64>,
}

const NAMES: [&str; 12] = [
    "status", "category", "grid", "tier", "from", "to", "bbox", "overdue", "q", "sort", "limit",
    "offset",
];

/// The longest search text, characters.
const MAX_SEARCH_CHARS: usize = 100;

/// A checked list request.
#[derive(Debug)]
pub(super) struct ListRequest {
    pub filter: IncidentFilter,
    pub limit: u32,
    pub offset: u64,
}

impl ListRequest {
    /// Read the parameters against the current grids, judging `overdue` at
    /// `now`.
    pub(super) fn parse(
        params: Vec<(String, String)>,
        index: &GridIndex,
        now: Timestamp,
    ) -> Result<ListRequest, ApiError> {
        let mut request = ListRequest {
            filter: IncidentFilter::default(),
            limit: DEFAULT_LIMIT,
            offset: 0,
        };
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in &params {
            let Some(&known) = NAMES.iter().find(|n| **n == name) else {
                let (names, zh_names) = (NAMES.join(", "), NAMES.join("、"));
                return Err(ApiError::bad_parameter(
                    name.clone(),
                    text!(
                        "unknown parameter {name:?}; the filters are {names}",
                        "未知参数 {name:?}，可用的筛选条件有：{zh_names}"
                    ),
                ));
            };
            if seen.contains(&known) {
                return Err(ApiError::bad_parameter(
                    known,
                    text!("{known} is given twice", "参数 {known} 重复出现"),
                ));
            }
            seen.push(known);
            let bad = |what: Text| {
                ApiError::bad_parameter(
                    known,
                    Text::new(
                        format!("{known}: {}", what.en()),
                        format!("{known}：{}", what.zh()),
                    ),
                )
            };
            let f = &mut request.filter;
            match known {
                "status" => {
                    for s in value.split(',').map(str::trim) {
                        if s == OPEN {
                            let open: Vec<Status> =
                                Status::open().filter(|s| !f.statuses.contains(s)).collect();
                            f.statuses.extend(open);
                            continue;
                        }
                        let status = Status::from_name(s).ok_or_else(|| {
                            let all: Vec<&str> = Status::ALL.iter().map(|s| s.name()).collect();
                            let (list, zh_list) = (all.join(", "), all.join("、"));
                            bad(text!(
                                "{s:?} is not a status; they are {list} (or {OPEN}: every one \
                                 still being worked on)",
                                "{s:?} 不是有效的状态，可选：{zh_list}（或 {OPEN}，即所有仍在办理中的状态）"
                            ))
                        })?;
                        if !f.statuses.contains(&status) {
                            f.statuses.push(status);
                        }
                    }
                }
                "category" => f.category = Some(value.clone()),
                "grid" => f.grid = Some(parse_grid(index, value)?),
                "tier" => {
                    f.tier = Some(Tier::from_name(value).ok_or_else(|| {
                        bad(text!(
                            "{value:?} is not a tier; they are county, town, village, group, \
                             grid, patch",
                            "{value:?} 不是有效的办理层级，可选：county、town、village、group、\
                             grid、patch"
                        ))
                    })?);
                }
                "from" => f.reported_from = Some(parse_time(known, value)?),
                "to" => f.reported_to = Some(parse_time(known, value)?),
                "bbox" => f.bbox = Some(crate::api::grids::parse_bbox(value)?),
                "overdue" => match value.as_str() {
                    "true" => f.overdue_at = Some(now),
                    "false" => {}
                    _ => {
                        return Err(bad(text!(
                            "true or false, got {value:?}",
                            "应为 true 或 false，收到的是 {value:?}"
                        )));
                    }
                },
                "q" => {
                    let text = value.trim();
                    let n = text.chars().count();
                    if n > MAX_SEARCH_CHARS {
                        return Err(bad(text!(
                            "at most {MAX_SEARCH_CHARS} characters, got {n}",
                            "不能超过 {MAX_SEARCH_CHARS} 个字符，收到 {n} 个"
                        )));
                    }
                    if !text.is_empty() {
                        f.search = Some(text.to_owned());
                    }
                }
                "sort" => {
                    f.order = match value.as_str() {
                        "newest" => IncidentOrder::Newest,
                        "oldest" => IncidentOrder::Oldest,
                        "deadline" => IncidentOrder::Deadline,
                        _ => {
                            return Err(bad(text!(
                                "newest, oldest or deadline, got {value:?}",
                                "应为 newest、oldest 或 deadline，收到的是 {value:?}"
                            )));
                        }
                    };
                }
                "limit" => {
                    request.limit = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            bad(text!(
                                "a whole number from 1 to {MAX_LIMIT}, got {value:?}",
                                "应为 1 至 {MAX_LIMIT} 的整数，收到的是 {value:?}"
                            ))
                        })?;
                }
                "offset" => {
                    // The stores count in 64-bit signed integers: a larger
                    // offset is refused rather than wrapped.
                    request.offset = value
                        .parse::<u64>()
                        .ok()
                        .filter(|n| i64::try_from(*n).is_ok())
                        .ok_or_else(|| {
                            let max = i64::MAX;
                            bad(text!(
                                "a whole number from 0 to {max}, got {value:?}",
                                "应为 0 至 {max} 的整数，收到的是 {value:?}"
                            ))
                        })?;
                }
                _ => unreachable!("every name in NAMES is handled"),
            }
        }
        Ok(request)
    }
}
