//! Service requests: submit (form-encoded, with an `api_key`), list, one
//! by id, and the request a token stands for.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use geo::InteriorPoint;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::format::{Format, Open311Error, bad, internal};
use super::services::categories;
use super::{check_jurisdiction, field};
use crate::api::access::Caller;
use crate::api::extract::{Path, Query};
use crate::api::scope::View;
use crate::api::value_schemas::OptionalMoment;
use crate::dispatch::{self, Report};
use crate::geom::{InputCrs, LonLat};
use crate::index::GridIndex;
use crate::model::account::Capability;
use crate::model::{Category, GridId, Incident, IncidentFilter, IncidentId, Person, ReportSource};
use crate::state::AppState;
use crate::workflow::{Severity, Status};

/// Requests answered by one list at most (the spec: "a maximum of 1000").
const MAX_REQUESTS: u32 = 1000;

/// The longest window a list may span, and its default (the spec's 90
/// days).
const WINDOW: SignedDuration = SignedDuration::from_hours(90 * 24);

/// The longest `address_string` read, in characters.
const MAX_ADDRESS_CHARS: usize = 200;

/// The most ids one `service_request_id` list may name.
const MAX_IDS: usize = 1000;

/// The form of `POST /requests.{json,xml}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the form read by `create`
pub(super) struct CreateForm {
    /// An API token of a login that may report (or send a bearer token).
    api_key: Option<String>,
    /// This server's jurisdiction (optional).
    jurisdiction_id: Option<String>,
    /// The service (category) code.
    #[schema(min_length = 1)]
    service_code: String,
    /// Latitude, WGS84 (with `long`; or send `address_id` or `address_string`).
    #[schema(minimum = -90, maximum = 90)]
    lat: Option<f64>,
    /// Longitude, WGS84.
    #[schema(minimum = -180, maximum = 180)]
    long: Option<f64>,
    /// A grid's name, placed by the grid search when there is no `lat`/`long`.
    #[schema(max_length = 200)]
    address_string: Option<String>,
    /// A grid id: the report is placed inside that grid.
    address_id: Option<String>,
    /// What happened (optional).
    #[schema(max_length = 4000)]
    description: Option<String>,
    /// A photo's address.
    #[schema(max_length = 2000)]
    media_url: Option<String>,
    /// The reporter's given name.
    first_name: Option<String>,
    /// The reporter's family name.
    last_name: Option<String>,
    /// The reporter's phone number.
    phone: Option<String>,
    /// Not stored.
    email: Option<String>,
    /// Not stored.
    device_id: Option<String>,
    /// Not stored.
    account_id: Option<String>,
    /// Non-standard: `wgs84` (the default), `gcj02` or `bd09`.
    crs: Option<String>,
}

/// The answer to a submitted request.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the JSON written by `create`
pub(super) struct CreatedDoc {
    /// The incident number.
    service_request_id: String,
    /// The same number.
    token: String,
    /// Where it was assigned.
    service_notice: String,
    /// Always null.
    account_id: Option<String>,
}

/// A token and its request.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the JSON written by `token`
pub(super) struct TokenDoc {
    /// The incident number.
    service_request_id: String,
    /// The token asked for.
    token: String,
}

/// One request, as GeoReport writes it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the JSON written by `service_request`
pub(super) struct ServiceRequestDoc {
    service_request_id: String,
    /// `open` or `closed`.
    status: String,
    /// The status's name.
    status_notes: String,
    service_name: String,
    service_code: String,
    description: String,
    /// The handling grid and the person responsible.
    agency_responsible: String,
    service_notice: String,
    requested_datetime: String,
    updated_datetime: String,
    /// The deadline.
    expected_datetime: String,
    /// The grids' names, town first.
    address: String,
    /// The deepest grid's id.
    address_id: String,
    zipcode: String,
    lat: f64,
    long: f64,
    /// The first photo, or empty.
    media_url: String,
}

/// The login a report is recorded under: the `api_key`'s holder (the spec
/// puts the key in the form), or the credential the request came with.
/// 403 without either, or when the holder may not report.
async fn reporting_account(
    state: &AppState,
    caller: &Caller,
    api_key: Option<&str>,
) -> Result<String, Open311Error> {
    let refused = |why: &str| Open311Error::new(StatusCode::FORBIDDEN, why.to_owned());
    let principal = match (api_key, &caller.principal) {
        (Some(key), _) => state
            .accounts()
            .authenticate(key)
            .await
            .map_err(internal)?
            .ok_or_else(|| refused("api_key is unknown, expired or revoked"))?,
        (None, Some(p)) => p.clone(),
        (None, None) => return Err(refused("api_key was not provided")),
    };
    if !principal.may(Capability::Report) {
        return Err(refused("this api_key may not submit requests"));
    }
    Ok(principal.user.login)
}

/// The fields of a form body (`application/x-www-form-urlencoded`, 415
/// otherwise). Bytes that are not UTF-8, raw or percent-encoded, are
/// refused with 400 rather than stored as replacement characters (which
/// is what a lenient form parser makes of them).
fn strict_form(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, Open311Error> {
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
            let (name, value) = (decode(name)?, decode(value)?);
            // No text wangge keeps holds a NUL (PostgreSQL cannot store one).
            if name.contains('\0') || value.contains('\0') {
                return Err(bad(format!(
                    "{name:?} holds a NUL character, which no field may; nothing was recorded"
                )));
            }
            Ok((name, value))
        })
        .collect()
}

fn number(form: &[(String, String)], name: &str) -> Result<f64, Open311Error> {
    let text = field(form, name)
        .ok_or_else(|| bad(format!("{name} is required with the other coordinate")))?;
    text.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| bad(format!("{name} must be a number, got {text:?}")))
}

/// Where a report is: `lat`/`long` (in `crs`), else inside the grid
/// `address_id` names, else inside the grid `address_string` names. A
/// place outside the county is refused.
fn place(form: &[(String, String)], index: &GridIndex) -> Result<(LonLat, InputCrs), Open311Error> {
    if field(form, "address_string").is_some_and(|a| a.chars().count() > MAX_ADDRESS_CHARS) {
        return Err(bad(format!(
            "address_string is longer than {MAX_ADDRESS_CHARS} characters"
        )));
    }
    let (point, crs) = if field(form, "lat").is_some() || field(form, "long").is_some() {
        let crs = field(form, "crs")
            .map(InputCrs::parse)
            .transpose()
            .map_err(|e| bad(e.to_string()))?
            .unwrap_or_default();
        let point = LonLat::new(number(form, "long")?, number(form, "lat")?);
        if !point.is_valid() {
            return Err(bad(format!(
                "lat must be -90 to 90 and long -180 to 180, got lat {} long {}",
                point.lat, point.lon
            )));
        }
        (point, crs)
    } else if let Some(id) = field(form, "address_id") {
        let grid = index.get(&GridId(id.to_owned())).ok_or_else(|| {
            bad(format!(
                "address_id {id:?} is not a grid of this county; send lat and long"
            ))
        })?;
        (inside(&grid.geometry, id)?, InputCrs::Wgs84)
    } else if let Some(name) = field(form, "address_string") {
        let hit = index.search(name, 1).into_iter().next().ok_or_else(|| {
            bad(format!(
                "address_string {name:?} names no grid of this county; send lat and long"
            ))
        })?;
        let grid = index.grid(hit.ix);
        (inside(&grid.geometry, &grid.id.0)?, InputCrs::Wgs84)
    } else {
        return Err(bad(
            "lat/long, address_string, or address_id was not provided".into(),
        ));
    };
    let wgs84 = crs.to_wgs84(point);
    if index.grids().iter().any(|g| g.level.index() == 0) && index.locate(wgs84).is_empty() {
        return Err(bad(format!(
            "the location lat {} long {} is outside the county: no town covers it",
            point.lat, point.lon
        )));
    }
    Ok((point, crs))
}

/// A point inside a grid's area.
fn inside(shape: &geo::MultiPolygon<f64>, id: &str) -> Result<LonLat, Open311Error> {
    shape
        .interior_point()
        .map(|p| LonLat::new(p.x(), p.y()))
        .ok_or_else(|| bad(format!("the grid {id:?} has no area to place a report in")))
}

/// `POST /requests.{json,xml}` (form-encoded, as the spec says): a new
/// report, recorded and assigned at once.
#[utoipa::path(
    post,
    path = "/open311/v2/requests.{format}",
    operation_id = "open311_create_request",
    tag = "open311",
    params(("format" = super::services::FormatDoc, Path, description = "`json` or `xml`")),
    request_body(content = CreateForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Recorded: the request's id and where it was assigned",
            content(([CreatedDoc] = "application/json"), ([CreatedDoc] = "text/xml"))),
        (status = 400, description = "service_code or the location is missing or malformed, \
            the location is outside the county, or a field is too long; nothing was recorded",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
        (status = 403, description = "api_key was not provided, is invalid, or may not report",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
        (status = 404, description = "service_code or jurisdiction_id was not found",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
        (status = 413, description = "The body is over 16 MiB",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
        (status = 415, description = "The body is not application/x-www-form-urlencoded",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
        (status = 429, description = "Too many reports from this key or address; \
            Retry-After says when to try again",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
    )
)]
pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    uri: Uri,
    headers: HeaderMap,
    // The API's extractor: a body over the limit is a problem document,
    // which `georeport_errors` rewrites like every other.
    crate::api::extract::Body(body): crate::api::extract::Body,
) -> Result<Response, Open311Error> {
    let format = Format::of(uri.path());
    create_in(&state, &caller, &headers, &body, format)
        .await
        .map_err(|e| e.in_format(format))
}

async fn create_in(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: &[u8],
    format: Format,
) -> Result<Response, Open311Error> {
    let form = strict_form(headers, body)?;
    check_jurisdiction(state, field(&form, "jurisdiction_id"), format)?;
    let reporter_account = reporting_account(state, caller, field(&form, "api_key")).await?;
    let service = field(&form, "service_code")
        .ok_or_else(|| bad("service_code was not provided".into()))?
        .to_owned();
    let known = categories(state).await?;
    let Some(category) = known.iter().find(|c| c.code == service) else {
        return Err(Open311Error::new(
            StatusCode::NOT_FOUND,
            format!(
                "service_code {service:?} was not found; the services are {}",
                known
                    .iter()
                    .map(|c| c.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let (point, crs) = place(&form, &state.index())?;
    // Counted once the request is whole: a client correcting a refused
    // field does not use up its rate.
    crate::api::incidents::take_report(state, &reporter_account, &caller.source).map_err(|e| {
        let retry_after_secs = match &e {
            crate::api::ApiError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let mut error = Open311Error::new(StatusCode::TOO_MANY_REQUESTS, e.to_string());
        error.retry_after_secs = retry_after_secs;
        error
    })?;
    let name = [field(&form, "first_name"), field(&form, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let reporter = (!name.is_empty()).then(|| Person {
        name,
        phone: field(&form, "phone").unwrap_or_default().to_owned(),
    });
    let description = match field(&form, "description") {
        Some(text) => text.to_owned(),
        // The spec makes it optional; the desk needs a line to show.
        None => format!("{}（报告未附描述）", category.name),
    };
    let report = Report {
        category: service,
        description,
        point,
        crs,
        severity: Severity::Minor,
        source: ReportSource::Citizen,
        reporter,
        photos: field(&form, "media_url")
            .map(|u| vec![u.to_owned()])
            .unwrap_or_default(),
        actor: reporter_account,
        note: field(&form, "address_string").map(|a| format!("地址：{a}")),
    };
    let reported = dispatch::report(state.dispatch(), report, Timestamp::now()).await?;
    let id = reported.incident.id.to_string();
    let notice = match reported.incident.handling_grid() {
        Some(grid) => format!("assigned to grid {grid}"),
        None => "assigned to the county governance centre".to_owned(),
    };
    Ok(format.answer(
        "service_requests",
        &json!([{
            "service_request_id": id,
            "token": id,
            "service_notice": notice,
            "account_id": null,
        }]),
    ))
}

/// One incident as GeoReport writes a request.
fn service_request(i: &Incident, categories: &[Category], index: &GridIndex) -> Value {
    let grid_name = |id: &GridId| {
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
    json!({
        "service_request_id": i.id.to_string(),
        "status": if i.status.is_terminal() { "closed" } else { "open" },
        "status_notes": i.status.name(),
        "service_name": categories
            .iter()
            .find(|c| c.code == i.category)
            .map_or_else(|| i.category.clone(), |c| c.name.clone()),
        "service_code": i.category,
        "description": i.description,
        "agency_responsible": agency,
        "service_notice": "",
        "requested_datetime": i.reported_at,
        "updated_datetime": i.updated_at,
        "expected_datetime": i.deadline,
        "address": i.chain.iter().flatten().map(grid_name).collect::<Vec<_>>().join(" "),
        "address_id": i.chain.iter().flatten().last().map(|g| g.0.clone()).unwrap_or_default(),
        "zipcode": "",
        "lat": i.point.wgs84.lat,
        "long": i.point.wgs84.lon,
        "media_url": i.photos.first().cloned().unwrap_or_default(),
    })
}

/// A W3C date-time (`2026-01-01T00:00:00Z`, an offset, or a date alone,
/// its first moment in China Standard Time, UTC+08:00).
fn w3c_time(fields: &[(String, String)], name: &str) -> Result<Option<Timestamp>, Open311Error> {
    let Some(text) = field(fields, name) else {
        return Ok(None);
    };
    // A date alone is exactly ten characters: jiff would also read the
    // date of a date-time without an offset and drop its time.
    let parsed = text.parse::<Timestamp>().ok().or_else(|| {
        (text.len() == 10).then_some(())?;
        text.parse::<jiff::civil::Date>()
            .ok()
            // A bare date is the county's day (China Standard Time), as
            // everywhere else in wangge.
            .and_then(|d| {
                d.to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                    .ok()
            })
            .map(|z| z.timestamp())
    });
    parsed.map(Some).ok_or_else(|| {
        bad(format!(
            "{name} must be a W3C date-time such as 2026-01-01T00:00:00Z, got {text:?}"
        ))
    })
}

/// The reporting window of a list: the spec's defaults (the last 90 days;
/// 90 days from a start or up to an end), at most 90 days.
fn window(fields: &[(String, String)]) -> Result<(Timestamp, Timestamp), Open311Error> {
    // A window reaching past the last (or first) time there is ends there.
    let shift = |t: Timestamp, by: SignedDuration| -> Result<Timestamp, Open311Error> {
        Ok(t.checked_add(by).unwrap_or(if by.is_negative() {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        }))
    };
    let (from, to) = match (
        w3c_time(fields, "start_date")?,
        w3c_time(fields, "end_date")?,
    ) {
        (Some(from), Some(to)) => (from, to),
        (Some(from), None) => (from, shift(from, WINDOW)?),
        (None, Some(to)) => (shift(to, -WINDOW)?, to),
        (None, None) => {
            let now = Timestamp::now();
            (shift(now, -WINDOW)?, now)
        }
    };
    if from > to {
        return Err(bad(format!("start_date ({from}) is after end_date ({to})")));
    }
    if to.duration_since(from) > WINDOW {
        return Err(bad(format!(
            "start_date to end_date may span at most 90 days, got {from} to {to}"
        )));
    }
    Ok((from, to))
}

/// The statuses of a comma list of `open` and `closed` (empty: any).
fn statuses(fields: &[(String, String)]) -> Result<Vec<Status>, Open311Error> {
    let Some(list) = field(fields, "status") else {
        return Ok(Vec::new());
    };
    let mut wanted = Vec::new();
    for word in list.split(',').map(str::trim) {
        let terminal = match word {
            "open" => false,
            "closed" => true,
            other => {
                return Err(bad(format!(
                    "status must be open, closed or both (comma-separated), got {other:?}"
                )));
            }
        };
        for status in Status::ALL {
            if status.is_terminal() == terminal && !wanted.contains(&status) {
                wanted.push(status);
            }
        }
    }
    Ok(wanted)
}

/// `GET /requests.{json,xml}`: by ids, or filtered by services, window and
/// status, newest first.
#[utoipa::path(
    get,
    path = "/open311/v2/requests.{format}",
    operation_id = "open311_requests",
    tag = "open311",
    params(
        ("format" = super::services::FormatDoc, Path, description = "`json` or `xml`"),
        ("jurisdiction_id" = Option<String>, Query, description = "This server's jurisdiction"),
        ("api_key" = Option<String>, Query, description = "An API token that may see \
            incidents (or send it as a bearer token)"),
        ("service_request_id" = Option<String>, Query, description = "Comma-separated \
            request ids (at most 1000); overrides every other filter",
            pattern = "^(\\s*[1-9][0-9]{0,17}\\s*(,\\s*[1-9][0-9]{0,17}\\s*)*|\\s*)$"),
        ("service_code" = Option<String>, Query, description = "Comma-separated service codes"),
        ("start_date" = Option<OptionalMoment>, Query, description = "Earliest report time (W3C); \
            default 90 days before end_date or now"),
        ("end_date" = Option<OptionalMoment>, Query, description = "Latest report time (W3C); \
            default 90 days after start_date or now; the window spans at most 90 days"),
        ("status" = Option<String>, Query, description = "`open`, `closed` or `open,closed`",
            pattern = "^(\\s*(open|closed)\\s*(,\\s*(open|closed)\\s*)*|\\s*)$"),
    ),
    responses(
        (status = 200, description = "The requests (at most 1000), newest first",
            content(([ServiceRequestDoc] = "application/json"),
                ([ServiceRequestDoc] = "text/xml"))),
        (status = 400, description = "A malformed id, date, status or window",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
        (status = 403, description = "api_key was not provided or is invalid",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
        (status = 404, description = "A service_code or jurisdiction_id was not found",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
    )
)]
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    uri: Uri,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, Open311Error> {
    let format = Format::of(uri.path());
    list_in(&state, &caller, &query, format)
        .await
        .map_err(|e| e.in_format(format))
}

async fn list_in(
    state: &AppState,
    caller: &Caller,
    query: &[(String, String)],
    format: Format,
) -> Result<Response, Open311Error> {
    check_jurisdiction(state, field(query, "jurisdiction_id"), format)?;
    let categories = categories(state).await?;
    let index = state.index();
    let view = View::of(caller, &index);
    let desk = state.dispatch();
    let mut found: Vec<Incident> = Vec::new();
    if let Some(ids) = field(query, "service_request_id") {
        // The ids override the other filters (GeoReport v2), but a
        // malformed one is still a mistake to report.
        statuses(query)?;
        w3c_time(query, "start_date")?;
        w3c_time(query, "end_date")?;
        let ids = ids
            .split(',')
            .map(parse_id)
            .collect::<Result<Vec<_>, _>>()?;
        if ids.len() > MAX_IDS {
            return Err(bad(format!(
                "service_request_id names at most {MAX_IDS} requests, got {}",
                ids.len()
            )));
        }
        for id in ids {
            if let Some(i) = desk
                .incident(id)
                .await
                .map_err(internal)?
                .filter(|i| view.sees(i))
            {
                found.push(i);
            }
        }
    } else {
        let (from, to) = window(query)?;
        let codes: Vec<Option<String>> = match field(query, "service_code") {
            None => vec![None],
            Some(list) => list
                .split(',')
                .map(|code| {
                    let code = code.trim();
                    if categories.iter().any(|c| c.code == code) {
                        Ok(Some(code.to_owned()))
                    } else {
                        Err(Open311Error::new(
                            StatusCode::NOT_FOUND,
                            format!("service_code {code:?} was not found"),
                        ))
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        let statuses = statuses(query)?;
        for category in codes {
            let mut filter = IncidentFilter {
                category,
                statuses: statuses.clone(),
                reported_from: Some(from),
                // The store's bound is exclusive; the spec's end is included.
                reported_to: to.checked_add(SignedDuration::from_nanos(1)).ok(),
                ..IncidentFilter::default()
            };
            if view.narrow(&mut filter, &index) {
                found.extend(
                    desk.incidents(&filter, MAX_REQUESTS, 0)
                        .await
                        .map_err(internal)?
                        .incidents,
                );
            }
        }
        found.sort_by(|a, b| b.reported_at.cmp(&a.reported_at).then(b.id.0.cmp(&a.id.0)));
        found.dedup_by_key(|i| i.id);
        found.truncate(MAX_REQUESTS as usize);
    }
    let list: Vec<Value> = found
        .iter()
        .map(|i| service_request(i, &categories, &index))
        .collect();
    Ok(format.answer("service_requests", &Value::Array(list)))
}

fn parse_id(s: &str) -> Result<IncidentId, Open311Error> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(IncidentId)
        .ok_or_else(|| {
            bad(format!(
                "service_request_id must be a positive number, got {s:?}"
            ))
        })
}

/// `GET /requests/{id}.{json,xml}`: one request, as a one-element list.
#[utoipa::path(
    get,
    path = "/open311/v2/requests/{service_request_id}.{format}",
    operation_id = "open311_request",
    tag = "open311",
    params(
        ("service_request_id" = String, Path, description = "The request's id",
            pattern = "^[1-9][0-9]{0,17}$", example = "1"),
        ("format" = super::services::FormatDoc, Path, description = "`json` or `xml`"),
        ("jurisdiction_id" = Option<String>, Query, description = "This server's jurisdiction"),
        ("api_key" = Option<String>, Query, description = "An API token that may see incidents"),
    ),
    responses(
        (status = 200, description = "The request",
            content(([ServiceRequestDoc] = "application/json"),
                ([ServiceRequestDoc] = "text/xml"))),
        (status = 400, description = "The id is not a positive number",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
        (status = 403, description = "api_key was not provided or is invalid",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
        (status = 404, description = "No such request (or not one the key may see), another \
            jurisdiction, or a format other than json or xml",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
    )
)]
pub(super) async fn one(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(segment): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, Open311Error> {
    let (stem, format) = Format::strip(&segment)?;
    let found = async {
        check_jurisdiction(&state, field(&query, "jurisdiction_id"), format)?;
        let id = parse_id(stem)?;
        let index = state.index();
        let view = View::of(&caller, &index);
        let incident = state
            .dispatch()
            .incident(id)
            .await
            .map_err(internal)?
            .filter(|i| view.sees(i))
            .ok_or_else(|| {
                Open311Error::new(
                    StatusCode::NOT_FOUND,
                    format!("service_request_id {id} was not found"),
                )
            })?;
        let categories = categories(&state).await?;
        Ok(format.answer(
            "service_requests",
            &json!([service_request(&incident, &categories, &index)]),
        ))
    };
    found.await.map_err(|e: Open311Error| e.in_format(format))
}

/// `GET /tokens/{token}.{json,xml}`: the request a token stands for (the
/// same number: requests are recorded when posted).
#[utoipa::path(
    get,
    path = "/open311/v2/tokens/{token}.{format}",
    operation_id = "open311_token",
    tag = "open311",
    params(
        ("token" = String, Path, description = "A token from a submission (opaque to \
            clients; wangge's are the request's number)", example = "1"),
        ("format" = super::services::FormatDoc, Path, description = "`json` or `xml`"),
        ("jurisdiction_id" = Option<String>, Query, description = "This server's jurisdiction"),
    ),
    responses(
        (status = 200, description = "The request's id",
            content(([TokenDoc] = "application/json"), ([TokenDoc] = "text/xml"))),
        (status = 404, description = "No such token, another jurisdiction, or a format other \
            than json or xml",
            content(([super::ErrorDoc] = "application/json"), ([super::ErrorDoc] = "text/xml"))),
    )
)]
pub(super) async fn token(
    State(state): State<Arc<AppState>>,
    Path(segment): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, Open311Error> {
    let (stem, format) = Format::strip(&segment)?;
    let found = async {
        check_jurisdiction(&state, field(&query, "jurisdiction_id"), format)?;
        // A token is opaque to clients: one wangge did not hand out
        // (not a request's number) is as unknown as a number without a
        // request.
        let not_found =
            || Open311Error::new(StatusCode::NOT_FOUND, format!("token {stem} was not found"));
        let id = parse_id(stem).map_err(|_| not_found())?;
        if state
            .dispatch()
            .incident(id)
            .await
            .map_err(internal)?
            .is_none()
        {
            return Err(not_found());
        }
        Ok(format.answer(
            "service_requests",
            &json!([{"service_request_id": id.to_string(), "token": id.to_string()}]),
        ))
    };
    found.await.map_err(|e: Open311Error| e.in_format(format))
}
