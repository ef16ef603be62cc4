//! `/open311/v2`: Open311 GeoReport v2, so that civic-reporting apps can
//! submit and follow reports. JSON only (`.json` paths). Requests are
//! incidents; services are incident categories. How the fields map:
//!
//! | GeoReport v2 | wangge |
//! |---|---|
//! | `service_code`, `service_name` | category code, name |
//! | `service_request_id`, `token` | the incident number (reports are recorded at once, so the token is the id) |
//! | `lat`, `long` | the WGS84 location (a non-standard `crs` parameter accepts `gcj02` or `bd09`) |
//! | `description`, `media_url` | description, first photo |
//! | `first_name` + `last_name`, `phone` | reporter name, phone (`email`, `device_id`, `account_id` are not stored) |
//! | `status` `open` / `closed` | any status but closed and dismissed / closed, dismissed |
//! | `status_notes` | the status name and the last note |
//! | `agency_responsible` | the handling grid's name and the responsible person |
//! | `requested_datetime`, `updated_datetime`, `expected_datetime` | reported, last changed, deadline |
//! | `address` | the grid chain's names, town first |
//!
//! Errors are answered in GeoReport's format, `[{"code": …, "description": …}]`.

use super::access::Caller;
use super::scope::View;
use crate::model::account::Capability;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::Serialize;

use super::extract::Path;
use crate::dispatch::{self, DispatchError, Report};
use crate::geom::{InputCrs, LonLat};
use crate::index::GridIndex;
use crate::model::IncidentFilter;
use crate::model::{Category, Incident, IncidentId, Person, ReportSource};
use crate::state::AppState;
use crate::workflow::{Severity, Status};

/// Requests answered by `GET /requests.json` at most (the spec's default
/// window is 90 days and "a maximum of 1000").
const MAX_REQUESTS: u32 = 1000;

/// The routes of this resource.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/open311/v2/services.json", get(services))
        .route("/open311/v2/services/{code}", get(service_definition))
        .route("/open311/v2/requests.json", post(create).get(list))
        .route("/open311/v2/requests/{id}", get(one))
        .route("/open311/v2/tokens/{token}", get(token))
}

/// A GeoReport error answer: `[{"code", "description"}]`, and for a
/// throttled client (429) `Retry-After`.
struct Open311Error {
    status: StatusCode,
    description: String,
    retry_after_secs: Option<u64>,
}

impl Open311Error {
    fn new(status: StatusCode, description: String) -> Open311Error {
        Open311Error {
            status,
            description,
            retry_after_secs: None,
        }
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Item {
            code: u16,
            description: String,
        }
        let body = [Item {
            code: self.status.as_u16(),
            description: self.description,
        }];
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<DispatchError> for Open311Error {
    fn from(e: DispatchError) -> Self {
        match e {
            DispatchError::Invalid { .. } => {
                Open311Error::new(StatusCode::BAD_REQUEST, e.to_string())
            }
            DispatchError::NotFound(_) => Open311Error::new(StatusCode::NOT_FOUND, e.to_string()),
            DispatchError::Store(source) => internal(source),
            other => Open311Error::new(StatusCode::CONFLICT, other.to_string()),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> Open311Error {
    tracing::error!(error = %e, "Open311 request failed");
    Open311Error::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the server failed; the request was not recorded".into(),
    )
}

fn bad(description: String) -> Open311Error {
    Open311Error::new(StatusCode::BAD_REQUEST, description)
}

/// A path segment ending in `.json`, without it.
fn json_suffix(segment: &str) -> Result<&str, Open311Error> {
    segment.strip_suffix(".json").ok_or_else(|| {
        Open311Error::new(
            StatusCode::NOT_FOUND,
            format!("{segment:?}: only the .json format is served"),
        )
    })
}

async fn categories(state: &AppState) -> Result<Vec<Category>, Open311Error> {
    state.dispatch().stored_categories().await.map_err(internal)
}

#[derive(Serialize)]
struct Service {
    service_code: String,
    service_name: String,
    description: String,
    metadata: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    keywords: String,
    group: &'static str,
}

/// `GET /services.json`: the categories.
async fn services(State(state): State<Arc<AppState>>) -> Result<Response, Open311Error> {
    let list: Vec<Service> = categories(&state)
        .await?
        .into_iter()
        .map(|c| Service {
            description: format!("{} ({})", c.name, c.workflow.name()),
            service_code: c.code,
            service_name: c.name,
            metadata: false,
            kind: "realtime",
            keywords: String::new(),
            group: "网格化管理",
        })
        .collect();
    Ok(Json(list).into_response())
}

/// `GET /services/{code}.json`: no extra attributes for any service.
async fn service_definition(
    State(state): State<Arc<AppState>>,
    Path(segment): Path<String>,
) -> Result<Response, Open311Error> {
    let code = json_suffix(&segment)?;
    if !categories(&state).await?.iter().any(|c| c.code == code) {
        return Err(Open311Error::new(
            StatusCode::NOT_FOUND,
            format!("there is no service {code:?}"),
        ));
    }
    Ok(Json(serde_json::json!({"service_code": code, "attributes": []})).into_response())
}

/// The login a report is recorded under: the `api_key`'s holder (the spec
/// puts the key in the form), or a bearer token's. 401 without either,
/// 403 when the holder may not report.
async fn reporting_account(
    state: &AppState,
    caller: &Caller,
    api_key: Option<&str>,
) -> Result<String, Open311Error> {
    let principal = match (api_key, &caller.principal) {
        (Some(key), _) => state
            .accounts()
            .authenticate(key)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                Open311Error::new(
                    StatusCode::UNAUTHORIZED,
                    "api_key is unknown, expired or revoked".into(),
                )
            })?,
        (None, Some(p)) => p.clone(),
        (None, None) => {
            return Err(Open311Error::new(
                StatusCode::UNAUTHORIZED,
                "api_key is required to submit a request".into(),
            ));
        }
    };
    if !principal.may(Capability::Report) {
        return Err(Open311Error::new(
            StatusCode::FORBIDDEN,
            "this api_key may not submit requests".into(),
        ));
    }
    Ok(principal.user.login)
}

/// The fields of a form body (`application/x-www-form-urlencoded`, 415
/// otherwise). Bytes that are not UTF-8, raw or percent-encoded, are
/// refused with 400 rather than stored as replacement characters (which
/// is what a lenient form parser makes of them).
fn strict_form(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, Open311Error> {
    let media = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if media.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Open311Error::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "a request is posted as application/x-www-form-urlencoded".into(),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| bad("the form is not valid UTF-8; nothing was recorded".into()))?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| {
                bad(format!(
                    "{s:?} is not valid UTF-8 once decoded; nothing was recorded"
                ))
            })
    };
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

/// The value of a form field, trimmed, if present and not empty.
fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn number(form: &[(String, String)], name: &str) -> Result<f64, Open311Error> {
    let text = field(form, name).ok_or_else(|| bad(format!("{name} is required")))?;
    text.parse()
        .map_err(|_| bad(format!("{name} must be a number, got {text:?}")))
}

/// `POST /requests.json` (form-encoded, as the spec says): a new report.
async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Open311Error> {
    let form = strict_form(&headers, &body)?;
    let reporter_account = reporting_account(&state, &caller, field(&form, "api_key")).await?;
    super::incidents::take_report(&state, &reporter_account, &caller.source).map_err(|e| {
        let retry_after_secs = match &e {
            super::ApiError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        Open311Error {
            status: StatusCode::TOO_MANY_REQUESTS,
            description: e.to_string(),
            retry_after_secs,
        }
    })?;
    let service = field(&form, "service_code")
        .ok_or_else(|| bad("service_code is required".into()))?
        .to_owned();
    if field(&form, "lat").is_none() && field(&form, "address_string").is_some() {
        return Err(bad(
            "this server locates by lat and long only; address_string is not geocoded".into(),
        ));
    }
    let point = LonLat::new(number(&form, "long")?, number(&form, "lat")?);
    let crs = field(&form, "crs")
        .map(InputCrs::parse)
        .transpose()
        .map_err(|e| bad(e.to_string()))?
        .unwrap_or_default();
    let name = [field(&form, "first_name"), field(&form, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let reporter = (!name.is_empty()).then(|| Person {
        name,
        phone: field(&form, "phone").unwrap_or_default().to_owned(),
    });
    let report = Report {
        category: service,
        description: field(&form, "description").unwrap_or_default().to_owned(),
        point,
        crs,
        severity: Severity::Minor,
        source: ReportSource::Citizen,
        reporter,
        photos: field(&form, "media_url")
            .map(|u| vec![u.to_owned()])
            .unwrap_or_default(),
        actor: reporter_account,
        note: None,
    };
    let reported = dispatch::report(state.dispatch(), report, Timestamp::now()).await?;
    let id = reported.incident.id.to_string();
    let notice = match reported.incident.handling_grid() {
        Some(grid) => format!("assigned to grid {grid}"),
        None => "assigned to the county governance centre".to_owned(),
    };
    Ok(Json(serde_json::json!([{
        "service_request_id": id,
        "token": id,
        "service_notice": notice,
        "account_id": null,
    }]))
    .into_response())
}

/// One request as GeoReport writes it.
#[derive(Serialize)]
struct ServiceRequest {
    service_request_id: String,
    status: &'static str,
    status_notes: String,
    service_name: String,
    service_code: String,
    description: String,
    agency_responsible: String,
    service_notice: String,
    requested_datetime: Timestamp,
    updated_datetime: Timestamp,
    expected_datetime: Timestamp,
    address: String,
    address_id: String,
    zipcode: String,
    lat: f64,
    long: f64,
    media_url: String,
}

fn service_request(i: &Incident, categories: &[Category], index: &GridIndex) -> ServiceRequest {
    let grid_name = |id: &crate::model::GridId| {
        index
            .get(id)
            .map_or_else(|| id.0.clone(), |g| g.name.clone())
    };
    let agency = match (i.handling_grid(), &i.responsible) {
        (Some(g), Some(p)) => format!("{} ({})", grid_name(g), p.name),
        (Some(g), None) => grid_name(g),
        (None, Some(p)) => p.name.clone(),
        (None, None) => String::new(),
    };
    ServiceRequest {
        service_request_id: i.id.to_string(),
        status: if i.status.is_terminal() {
            "closed"
        } else {
            "open"
        },
        status_notes: i.status.name().to_owned(),
        service_name: categories
            .iter()
            .find(|c| c.code == i.category)
            .map_or_else(|| i.category.clone(), |c| c.name.clone()),
        service_code: i.category.clone(),
        description: i.description.clone(),
        agency_responsible: agency,
        service_notice: String::new(),
        requested_datetime: i.reported_at,
        updated_datetime: i.updated_at,
        expected_datetime: i.deadline,
        address: i
            .chain
            .iter()
            .flatten()
            .map(grid_name)
            .collect::<Vec<_>>()
            .join(" "),
        address_id: i
            .chain
            .iter()
            .flatten()
            .last()
            .map(|g| g.0.clone())
            .unwrap_or_default(),
        zipcode: String::new(),
        lat: i.point.wgs84.lat,
        long: i.point.wgs84.lon,
        media_url: i.photos.first().cloned().unwrap_or_default(),
    }
}

/// `GET /requests.json`: by ids, or filtered by service, dates and status.
async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Form(query): Form<Vec<(String, String)>>,
) -> Result<Response, Open311Error> {
    let categories = categories(&state).await?;
    let index = state.index();
    let view = View::of(&caller, &index);
    let desk = state.dispatch();
    if let Some(ids) = field(&query, "service_request_id") {
        let mut found = Vec::new();
        for id in ids.split(',') {
            let id = parse_id(id)?;
            if let Some(i) = desk
                .incident(id)
                .await
                .map_err(internal)?
                .filter(|i| view.sees(i))
            {
                found.push(service_request(&i, &categories, &index));
            }
        }
        return Ok(Json(found).into_response());
    }
    let time = |name: &str| {
        field(&query, name)
            .map(|t| {
                t.parse::<Timestamp>()
                    .map_err(|_| bad(format!("{name} must be a W3C date-time, got {t:?}")))
            })
            .transpose()
    };
    let mut filter = IncidentFilter {
        category: field(&query, "service_code").map(str::to_owned),
        reported_from: time("start_date")?,
        reported_to: time("end_date")?,
        ..IncidentFilter::default()
    };
    // The spec's default window: the last 90 days.
    if filter.reported_from.is_none() && filter.reported_to.is_none() {
        filter.reported_from = Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(90 * 24))
            .ok();
    }
    filter.statuses = match field(&query, "status") {
        None => Vec::new(),
        Some("open") => Status::ALL
            .into_iter()
            .filter(|s| !s.is_terminal())
            .collect(),
        Some("closed") => Status::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect(),
        Some(other) => return Err(bad(format!("status must be open or closed, got {other:?}"))),
    };
    let incidents = if view.narrow(&mut filter, &index) {
        desk.incidents(&filter, MAX_REQUESTS, 0)
            .await
            .map_err(internal)?
            .incidents
    } else {
        Vec::new()
    };
    let list: Vec<ServiceRequest> = incidents
        .iter()
        .map(|i| service_request(i, &categories, &index))
        .collect();
    Ok(Json(list).into_response())
}

fn parse_id(s: &str) -> Result<IncidentId, Open311Error> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(IncidentId)
        .ok_or_else(|| bad(format!("service_request_id must be a number, got {s:?}")))
}

/// `GET /requests/{id}.json`: one request, as a one-element array.
async fn one(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(segment): Path<String>,
) -> Result<Response, Open311Error> {
    let id = parse_id(json_suffix(&segment)?)?;
    let view = View::of(&caller, &state.index());
    let incident = state
        .dispatch()
        .incident(id)
        .await
        .map_err(internal)?
        .filter(|i| view.sees(i))
        .ok_or_else(|| {
            Open311Error::new(StatusCode::NOT_FOUND, format!("there is no request {id}"))
        })?;
    let categories = categories(&state).await?;
    Ok(Json([service_request(&incident, &categories, &state.index())]).into_response())
}

/// `GET /tokens/{token}.json`: the request a token stands for (the same
/// number: requests are recorded when posted).
async fn token(
    State(state): State<Arc<AppState>>,
    Path(segment): Path<String>,
) -> Result<Response, Open311Error> {
    let id = parse_id(json_suffix(&segment)?)?;
    if state
        .dispatch()
        .incident(id)
        .await
        .map_err(internal)?
        .is_none()
    {
        return Err(Open311Error::new(
            StatusCode::NOT_FOUND,
            format!("there is no token {id}"),
        ));
    }
    Ok(
        Json(serde_json::json!([{"service_request_id": id.to_string(), "token": id.to_string()}]))
            .into_response(),
    )
}
