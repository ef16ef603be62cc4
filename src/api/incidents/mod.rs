//! `/api/incidents`: report incidents, list and read them, move them through
//! their process, escalate, reassign, annotate. Handlers parse and answer;
//! the rules are in [`crate::dispatch`].
//!
//! | route | file |
//! |---|---|
//! | `POST /api/incidents`, `GET /api/incidents`, `GET /api/incidents/{id}`, `GET /api/incidents/categories` | this file |
//! | `POST /api/incidents/{id}/actions`, `…/escalate`, `…/assign`, `…/notes` | `changes.rs` |
//! | the JSON written | `dto.rs` |
//! | the list's query parameters | `query.rs` |
//! | `GET /api/incidents/stats` (JSON or CSV) | `stats.rs` |
//! | `GET /api/incidents/events` (server-sent events) | `events.rs` |

mod changes;
mod dto;
pub(super) mod events;
mod query;
mod stats;
mod stats_export;

use crate::api::access::Caller;
use crate::api::scope::View;
use crate::api::value_schemas::{InputCrsName, SeverityName, SourceName};
use crate::model::account::Capability;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::error::{ApiError, ProblemDocument};
use super::extract::{Json, Path, Query};
use crate::dispatch::{self, DispatchError, Report};
use crate::geom::{InputCrs, LonLat};
use crate::model::{IncidentId, Person, ReportSource, Text};
use crate::state::AppState;
use crate::text;
use crate::workflow::Severity;
use dto::{CategoryDto, HistoryDto, IncidentDto};

/// The routes of this resource.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/incidents", post(create).get(list))
        .route("/api/incidents/categories", get(categories))
        .route("/api/incidents/stats", get(stats::stats))
        .route("/api/incidents/events", get(events::events))
        .route("/api/incidents/{id}", get(one))
        .route("/api/incidents/{id}/actions", post(changes::action))
        .route("/api/incidents/{id}/escalate", post(changes::escalate))
        .route("/api/incidents/{id}/assign", post(changes::assign))
        .route("/api/incidents/{id}/notes", post(changes::note))
}

/// The OpenAPI description of this resource.
#[derive(OpenApi)]
#[openapi(
    paths(
        create,
        list,
        one,
        categories,
        stats::stats,
        events::events,
        changes::action,
        changes::escalate,
        changes::assign,
        changes::note
    ),
    tags((name = "incidents", description = "Report, dispatch and follow incidents"))
)]
pub(super) struct IncidentsApi;

impl From<DispatchError> for ApiError {
    fn from(e: DispatchError) -> Self {
        match e {
            DispatchError::Invalid { field, reason } => ApiError::bad_parameter(field, reason),
            DispatchError::NotFound(_) => ApiError::NotFound(Text::of(&e)),
            DispatchError::Refused(_)
            | DispatchError::CannotEscalate { .. }
            | DispatchError::Stale { .. } => ApiError::Conflict(Text::of(&e)),
            DispatchError::Store(source) => ApiError::internal("storing an incident", source),
        }
    }
}

/// A person in a request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PersonInput {
    /// Name.
    name: String,
    /// Phone.
    #[serde(default)]
    phone: String,
}

impl From<PersonInput> for Person {
    fn from(p: PersonInput) -> Self {
        Person {
            name: p.name.trim().to_owned(),
            phone: p.phone.trim().to_owned(),
        }
    }
}

/// A new report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    /// Category code (see `/api/incidents/categories`).
    #[schema(example = "dispute")]
    category: String,
    /// What happened.
    description: String,
    /// Longitude in `crs`.
    #[schema(example = 106.14)]
    lon: f64,
    /// Latitude in `crs`.
    #[schema(example = 34.75)]
    lat: f64,
    /// `wgs84` (default; also `cgcs2000`), `gcj02` (Amap, Tencent, WeChat) or
    /// `bd09` (Baidu).
    #[serde(default)]
    #[schema(value_type = Option<InputCrsName>, example = "gcj02")]
    crs: Option<InputCrs>,
    /// `minor` (default), `major` or `critical`.
    #[serde(default)]
    #[schema(value_type = Option<SeverityName>)]
    severity: Option<Severity>,
    /// `grid_member`, `hotline`, `citizen` or `patrol`.
    #[schema(value_type = SourceName)]
    source: ReportSource,
    /// Who reported it.
    reporter: Option<PersonInput>,
    /// Photo URLs.
    #[serde(default)]
    photos: Vec<String>,
    /// A note for the history.
    note: Option<String>,
}

/// The answer to a report.
#[derive(Debug, Serialize, ToSchema)]
struct Reported {
    /// The new incident, assigned.
    incident: IncidentDto,
    /// Open incidents of the same category nearby and recent: possible
    /// duplicates, nearest first.
    duplicates: Vec<IncidentDto>,
    /// What "nearby and recent" means on this server.
    duplicate_rule: DuplicateRule,
}

/// When an open incident counts as a possible duplicate of a report: the
/// same category, within `radius_m` of it, reported within the last
/// `window_hours` (the server's dispatch settings).
#[derive(Debug, Serialize, ToSchema)]
struct DuplicateRule {
    /// Metres.
    #[schema(example = 200.0)]
    radius_m: f64,
    /// Hours.
    #[schema(example = 72)]
    window_hours: u64,
}

impl DuplicateRule {
    fn of(state: &AppState) -> Self {
        let settings = state.dispatch_settings();
        DuplicateRule {
            radius_m: settings.duplicate_radius_m,
            window_hours: settings.duplicate_window.as_secs() / 3600,
        }
    }
}

/// The answer to a dry run: what the report would duplicate.
#[derive(Debug, Serialize, ToSchema)]
struct ReportPreview {
    /// Open incidents of the same category nearby and recent: possible
    /// duplicates, nearest first.
    duplicates: Vec<IncidentDto>,
    /// What "nearby and recent" means on this server.
    duplicate_rule: DuplicateRule,
}

/// `?dry_run=true`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct CreateQuery {
    /// `true`: check the report and list its possible duplicates (200),
    /// recording nothing.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

/// Report an incident: it is located, assigned to its grid and leader, and
/// recorded with its first deadline. With `dry_run=true` it is checked and
/// its possible duplicates listed, and nothing is recorded.
#[utoipa::path(
    post,
    path = "/api/incidents",
    operation_id = "create_incident",
    tag = "incidents",
    params(CreateQuery),
    request_body = ReportBody,
    responses(
        (status = 200, description = "Dry run: the report is valid; its possible duplicates. \
            Nothing recorded", body = ReportPreview),
        (status = 429, description = "Too many reports from this account or address; `Retry-After` says when to try again; nothing recorded",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 201, description = "Recorded and assigned", body = Reported),
        (status = 400, description = "A field is wrong; `parameter` names it. Nothing recorded",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The body is not a report",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<CreateQuery>,
    Json(body): Json<ReportBody>,
) -> Result<Response, ApiError> {
    let dry_run = super::grids::parse_dry_run(query.dry_run.as_deref())?;
    if dry_run {
        take_check(&state, &caller.login(), &caller.source)?;
    } else {
        take_report(&state, &caller.login(), &caller.source)?;
    }
    let now = Timestamp::now();
    let report = Report {
        category: body.category,
        description: body.description,
        point: LonLat::new(body.lon, body.lat),
        crs: body.crs.unwrap_or_default(),
        severity: body.severity.unwrap_or(Severity::Minor),
        source: body.source,
        reporter: body.reporter.map(Person::from),
        photos: body.photos,
        actor: caller.login(),
        note: body.note,
    };
    let index = state.index();
    // Possible duplicates are other people's reports: only those the
    // reporter may see anyway (a token limited to reporting sees none).
    let view = match &caller.principal {
        Some(p) if p.may(Capability::SeeIncidents) => View::of(&caller, &index),
        _ => View::Nothing,
    };
    if dry_run {
        let duplicates = dispatch::preview(state.dispatch(), &report, now).await?;
        let answer = ReportPreview {
            duplicates: duplicates
                .iter()
                .filter(|i| view.sees(i))
                .map(|i| IncidentDto::new(i, &index, now))
                .collect(),
            duplicate_rule: DuplicateRule::of(&state),
        };
        return Ok(axum::Json(answer).into_response());
    }
    let reported = dispatch::report(state.dispatch(), report, now).await?;
    let answer = Reported {
        incident: IncidentDto::new(&reported.incident, &index, now),
        duplicates: reported
            .duplicates
            .iter()
            .filter(|i| view.sees(i))
            .map(|i| IncidentDto::new(i, &index, now))
            .collect(),
        duplicate_rule: DuplicateRule::of(&state),
    };
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// A page of incidents.
#[derive(Debug, Serialize, ToSchema)]
struct IncidentList {
    /// How many match, over all pages.
    total: u64,
    /// The page size used.
    limit: u32,
    /// Incidents skipped.
    offset: u64,
    /// This page, newest first.
    incidents: Vec<IncidentDto>,
}

/// List incidents, newest first, filtered.
#[utoipa::path(
    get,
    path = "/api/incidents",
    operation_id = "list_incidents",
    tag = "incidents",
    params(query::ListParams),
    responses(
        (status = 200, description = "A page of incidents", body = IncidentList),
        (status = 400, description = "A parameter is wrong; `parameter` names it",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<axum::Json<IncidentList>, ApiError> {
    let now = Timestamp::now();
    let index = state.index();
    let mut request = query::ListRequest::parse(params, &index, now)?;
    if !View::of(&caller, &index).narrow(&mut request.filter, &index) {
        return Ok(axum::Json(IncidentList {
            total: 0,
            limit: request.limit,
            offset: request.offset,
            incidents: Vec::new(),
        }));
    }
    let page = state
        .dispatch()
        .incidents(&request.filter, request.limit, request.offset)
        .await
        .map_err(|e| ApiError::internal("listing incidents", e))?;
    Ok(axum::Json(IncidentList {
        total: page.total,
        limit: request.limit,
        offset: request.offset,
        incidents: page
            .incidents
            .iter()
            .map(|i| IncidentDto::new(i, &index, now))
            .collect(),
    }))
}

/// One incident with its history.
#[derive(Debug, Serialize, ToSchema)]
struct IncidentWithHistory {
    /// The incident.
    incident: IncidentDto,
    /// Every change, oldest first.
    history: Vec<HistoryDto>,
}

/// An incident the caller may see; one outside their view is answered
/// exactly as one that does not exist.
pub(super) async fn visible_incident(
    state: &AppState,
    caller: &Caller,
    id: IncidentId,
) -> Result<crate::model::Incident, ApiError> {
    state
        .dispatch()
        .incident(id)
        .await
        .map_err(|e| ApiError::internal("reading an incident", e))?
        .filter(|incident| View::of(caller, &state.index()).sees(incident))
        .ok_or_else(|| {
            ApiError::NotFound(text!(
                "there is no incident {id}",
                "未找到编号为 {id} 的事件"
            ))
        })
}

/// The incident number in a path.
fn incident_id(s: &str) -> Result<IncidentId, ApiError> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(IncidentId)
        .ok_or_else(|| {
            ApiError::NotFound(text!(
                "there is no incident {s:?}: incidents are numbered from 1",
                "未找到编号为 {s:?} 的事件：事件编号从 1 开始"
            ))
        })
}

/// One incident and its history.
#[utoipa::path(
    get,
    path = "/api/incidents/{id}",
    operation_id = "get_incident",
    tag = "incidents",
    params(("id" = i64, Path, description = "The incident's number")),
    responses(
        (status = 200, description = "The incident and its history", body = IncidentWithHistory),
        (status = 404, description = "No such incident",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn one(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<IncidentWithHistory>, ApiError> {
    let id = incident_id(&id)?;
    let desk = state.dispatch();
    let incident = visible_incident(&state, &caller, id).await?;
    let history = desk
        .history(id)
        .await
        .map_err(|e| ApiError::internal("reading an incident's history", e))?;
    Ok(axum::Json(IncidentWithHistory {
        incident: IncidentDto::new(&incident, &state.index(), Timestamp::now()),
        history: history.iter().map(HistoryDto::from).collect(),
    }))
}

/// The incident categories, in the county's order.
#[utoipa::path(
    get,
    path = "/api/incidents/categories",
    tag = "incidents",
    responses((status = 200, description = "The categories", body = Vec<CategoryDto>))
)]
async fn categories(
    State(state): State<Arc<AppState>>,
) -> Result<axum::Json<Vec<CategoryDto>>, ApiError> {
    let categories = state
        .dispatch()
        .stored_categories()
        .await
        .map_err(|e| ApiError::internal("reading incident categories", e))?;
    Ok(axum::Json(
        categories.iter().map(CategoryDto::from).collect(),
    ))
}

/// Count a report's check (`dry_run`) against its account's and address's
/// rate of checks; past it, 429 with `Retry-After`.
fn take_check(state: &AppState, account: &str, address: &str) -> Result<(), ApiError> {
    take(&state.check_rate(), account, address, |per_minute, secs| {
        text!(
            "too many report checks from {account} or this address (at most {per_minute} \
             a minute per account); try again in {secs} s",
            "{account} 或当前网络地址检查上报过于频繁（每个账号每分钟最多 {per_minute} 次），\
             请 {secs} 秒后重试"
        )
    })
}

/// Count a report against its account's and address's rate (see
/// [`crate::services::throttle`]); past it, 429 with `Retry-After`.
pub(super) fn take_report(state: &AppState, account: &str, address: &str) -> Result<(), ApiError> {
    take(
        &state.report_rate(),
        account,
        address,
        |per_minute, secs| {
            text!(
                "too many reports from {account} or this address (at most {per_minute} a minute \
             per account): nothing was recorded; try again in {secs} s",
                "{account} 或当前网络地址上报过于频繁（每个账号每分钟最多 {per_minute} 次），\
             本次未作记录，请 {secs} 秒后重试"
            )
        },
    )
}

/// Take one from `rate` for `account` at `address`, or a 429 whose
/// sentence `refusal` writes from the rate per minute and the seconds to
/// wait (at least 1, as `Retry-After` says).
fn take(
    rate: &crate::services::throttle::ReportRate,
    account: &str,
    address: &str,
    refusal: impl Fn(u32, u64) -> Text,
) -> Result<(), ApiError> {
    rate.take(account, address).map_err(|wait| {
        let secs = wait.as_secs().max(1);
        ApiError::TooManyRequests {
            detail: refusal(rate.per_minute(), secs),
            retry_after_secs: secs,
        }
    })
}
