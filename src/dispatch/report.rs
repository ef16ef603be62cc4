//! A new report: checked field by field, converted to WGS84, located in the
//! current index, assigned to the tier its severity says and that grid's
//! leader, given its first deadline, recorded, and answered with the open
//! incidents of the same category nearby (possible duplicates).

use jiff::Timestamp;

use super::Dispatcher;
use super::{DispatchError, deadline, responsible_in};
use crate::geom::{InputCrs, LonLat};
use crate::model::{GridChain, Incident, Level, Person, ReportSource, ReportedPoint};
use crate::services::feed::{LOCATE_ATTEMPTS, grids_moved};
use crate::store::NewIncident;
use crate::text;
use crate::workflow::Severity;

/// The longest description accepted, in characters.
const MAX_DESCRIPTION_CHARS: usize = 4000;

/// The most photos on one report.
const MAX_PHOTOS: usize = 20;

/// The longest photo URL, characters.
const MAX_URL_CHARS: usize = 2000;

/// The longest note (of a report, an action, escalation or reassignment),
/// characters: a paragraph or two, as the description.
pub(crate) const MAX_NOTE_CHARS: usize = 4000;

/// The longest person's name, characters.
const MAX_NAME_CHARS: usize = 100;

/// The longest phone number, characters.
const MAX_PHONE_CHARS: usize = 40;

/// The most possible duplicates listed with a report.
const MAX_DUPLICATES: usize = 20;

/// What a reporter sends.
#[derive(Debug, Clone)]
pub struct Report {
    /// Category code.
    pub category: String,
    /// What happened.
    pub description: String,
    /// Where, in `crs`.
    pub point: LonLat,
    /// The system `point` is written in.
    pub crs: InputCrs,
    /// How serious (minor when not said).
    pub severity: Severity,
    /// How it came in.
    pub source: ReportSource,
    /// Who reported it.
    pub reporter: Option<Person>,
    /// Photo URLs.
    pub photos: Vec<String>,
    /// Who records it (the dispatcher or the reporting app).
    pub actor: String,
    /// A note for the history.
    pub note: Option<String>,
}

/// A recorded report and the open incidents it may duplicate.
#[derive(Debug, Clone)]
pub struct Reported {
    /// The new incident.
    pub incident: Incident,
    /// Open incidents of the same category within the duplicate radius and
    /// window, nearest first.
    pub duplicates: Vec<Incident>,
}

/// Check a report as [`report`] would and list the open incidents it may
/// duplicate, recording nothing: the form shows them before the report is
/// sent, so that a second call about the same thing can be linked to the
/// first instead of becoming a case of its own.
pub async fn preview(
    desk: &Dispatcher,
    report: &Report,
    now: Timestamp,
) -> Result<Vec<Incident>, DispatchError> {
    category_of(desk, &report.category).await?;
    check(report)?;
    let wgs84 = report.crs.to_wgs84(report.point);
    if desk.index().locate(wgs84).at(Level::TOWN).is_none() {
        return Err(outside_the_county(wgs84));
    }
    nearby_open(desk, &report.category, wgs84, now).await
}

fn outside_the_county(wgs84: LonLat) -> DispatchError {
    let (lon, lat) = (wgs84.lon, wgs84.lat);
    DispatchError::invalid(
        "location",
        text!(
            "the location {lon:.6}, {lat:.6} (WGS84) is outside the county: no town's grid \
             covers it; check the coordinates and their crs",
            "位置 {lon:.6}, {lat:.6}（WGS84）不在本县范围内，不属于任何乡镇网格：请检查坐标及 crs 是否正确"
        ),
    )
}

/// The county's category with this code (the list is read again once
/// when the code is unknown: another server may have added it).
async fn category_of(
    desk: &Dispatcher,
    code: &str,
) -> Result<crate::model::Category, DispatchError> {
    let mut categories = desk.categories();
    if !categories.iter().any(|c| c.code == code) {
        categories = desk.reload_categories().await?;
    }
    categories
        .iter()
        .find(|c| c.code == code)
        .cloned()
        .ok_or_else(|| {
            let known: Vec<&str> = categories.iter().map(|c| c.code.as_str()).collect();
            let (list, zh_list) = (known.join(", "), known.join("、"));
            DispatchError::invalid(
                "category",
                text!(
                    "category {code:?} is not one of the county's: {list}",
                    "类别 {code:?} 不在本县的事件类别中，可选：{zh_list}"
                ),
            )
        })
}

/// Record a report made at `now`.
pub async fn report(
    desk: &Dispatcher,
    report: Report,
    now: Timestamp,
) -> Result<Reported, DispatchError> {
    let category = category_of(desk, &report.category).await?;
    check(&report)?;

    let wgs84 = report.crs.to_wgs84(report.point);
    let duplicates = nearby_open(desk, &report.category, wgs84, now).await?;
    let point = ReportedPoint {
        wgs84,
        original: report.point,
        crs: report.crs,
    };
    // Located in the grids as this server holds them; should a grid change
    // commit before the report does, the write is refused and the report is
    // located again in the new grids (after catching up with the feed).
    let mut attempt = 0;
    let incident = loop {
        attempt += 1;
        let index = desk.index();
        let located = index.locate(wgs84);
        let chain: GridChain =
            Level::ALL.map(|level| located.at(level).map(|ix| index.grid(ix).id.clone()));
        if chain[0].is_none() {
            return Err(outside_the_county(wgs84));
        }
        let deepest = located.deepest().map(|ix| index.grid(ix).level);
        let tier = report.severity.first_tier(deepest);
        let new = NewIncident {
            category: category.code.clone(),
            workflow: category.workflow,
            severity: report.severity,
            description: report.description.trim().to_owned(),
            reporter: report.reporter.clone(),
            source: report.source,
            photos: report.photos.clone(),
            point,
            responsible: responsible_in(desk, &index, &chain, tier),
            chain,
            grid_version: Some(index.version()),
            tier,
            reported_at: now,
            deadline: deadline(desk, tier, now),
            actor: report.actor.clone(),
            note: report.note.clone(),
        };
        // Recorded and published by the writer.
        match desk.report_writer().record(new).await {
            Err(e) if grids_moved(&e) && attempt < LOCATE_ATTEMPTS => {
                desk.feed().catch_up().await?;
            }
            other => break other?,
        }
    };
    Ok(Reported {
        incident,
        duplicates,
    })
}

/// Every field of a report that can be wrong, named.
fn check(report: &Report) -> Result<(), DispatchError> {
    let p = report.point;
    if !p.is_valid() {
        let (lon, lat) = (p.lon, p.lat);
        return Err(DispatchError::invalid(
            "location",
            text!(
                "the location must be longitude -180 to 180 and latitude -90 to 90, got {lon}, {lat}",
                "位置的经度必须在 -180 至 180 之间，纬度必须在 -90 至 90 之间，收到的是 {lon}, {lat}"
            ),
        ));
    }
    let description = report.description.trim();
    if description.is_empty() {
        return Err(DispatchError::invalid(
            "description",
            text!(
                "description must say what happened; it is empty",
                "description 为空，请说明发生了什么"
            ),
        ));
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(DispatchError::invalid(
            "description",
            text!(
                "description is longer than {MAX_DESCRIPTION_CHARS} characters",
                "description 不能超过 {MAX_DESCRIPTION_CHARS} 个字符"
            ),
        ));
    }
    if report.photos.len() > MAX_PHOTOS {
        let n = report.photos.len();
        return Err(DispatchError::invalid(
            "photos",
            text!(
                "at most {MAX_PHOTOS} photos, got {n}",
                "照片最多 {MAX_PHOTOS} 张，收到 {n} 张"
            ),
        ));
    }
    if let Some(long) = report
        .photos
        .iter()
        .find(|u| u.chars().count() > MAX_URL_CHARS)
    {
        let n = long.chars().count();
        return Err(DispatchError::invalid(
            "photos",
            text!(
                "a photo URL is longer than {MAX_URL_CHARS} characters ({n})",
                "有一张照片的 URL 超过 {MAX_URL_CHARS} 个字符（长 {n} 个字符）"
            ),
        ));
    }
    if let Some(bad) = report.photos.iter().find(|u| !is_web_url(u)) {
        return Err(DispatchError::invalid(
            "photos",
            text!(
                "photos must be http(s) URLs, got {bad:?}",
                "照片必须是 http(s) 开头的 URL，收到的是 {bad:?}"
            ),
        ));
    }
    if let Some(person) = &report.reporter {
        check_person("reporter.name", person)?;
    }
    check_note("note", report.note.as_deref())?;
    if report.actor.trim().is_empty() {
        return Err(DispatchError::invalid(
            "actor",
            text!(
                "actor (who records the report) is empty",
                "actor（录入此次上报的人）为空"
            ),
        ));
    }
    Ok(())
}

/// A person must have a name; name and phone are short lines of text.
pub(super) fn check_person(field: &'static str, person: &Person) -> Result<(), DispatchError> {
    if person.name.trim().is_empty() {
        return Err(DispatchError::invalid(
            field,
            text!("{field} is empty", "{field} 为空"),
        ));
    }
    check_line(field, &person.name, MAX_NAME_CHARS)?;
    let phone = if field.starts_with("reporter") {
        "reporter.phone"
    } else {
        "person.phone"
    };
    check_line(phone, &person.phone, MAX_PHONE_CHARS)
}

/// A one-line text field: at most `max` characters, no control characters.
fn check_line(field: &'static str, text: &str, max: usize) -> Result<(), DispatchError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(DispatchError::invalid(
            field,
            text!(
                "{field} is {chars} characters long; at most {max}",
                "{field} 长 {chars} 个字符，最多 {max} 个"
            ),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(DispatchError::invalid(
            field,
            text!("{field} has control characters", "{field} 含有控制字符"),
        ));
    }
    Ok(())
}

/// A note, if given: at most [`MAX_NOTE_CHARS`] characters.
pub(super) fn check_note(field: &'static str, note: Option<&str>) -> Result<(), DispatchError> {
    let chars = note.map_or(0, |n| n.chars().count());
    if chars > MAX_NOTE_CHARS {
        return Err(DispatchError::invalid(
            field,
            text!(
                "{field} is {chars} characters long; at most {MAX_NOTE_CHARS}",
                "{field} 长 {chars} 个字符，最多 {MAX_NOTE_CHARS} 个"
            ),
        ));
    }
    Ok(())
}

fn is_web_url(s: &str) -> bool {
    let lower = s.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace))
}

/// Open incidents of `category` within the duplicate radius of `p`,
/// reported within the window before `now`, nearest first. Found in the
/// open incidents in memory (most reports have none nearby, and then the
/// store is not asked at all), then read from the store.
async fn nearby_open(
    desk: &Dispatcher,
    category: &str,
    p: LonLat,
    now: Timestamp,
) -> Result<Vec<Incident>, DispatchError> {
    let settings = desk.dispatch_settings();
    let window = jiff::SignedDuration::try_from(settings.duplicate_window)
        .unwrap_or(jiff::SignedDuration::MAX);
    let since = now.checked_sub(window).unwrap_or(Timestamp::MIN);
    let ids = desk
        .live()
        .open()
        .near(category, p, settings.duplicate_radius_m, since);
    let mut near = Vec::with_capacity(ids.len());
    for id in ids.into_iter().take(MAX_DUPLICATES) {
        if let Some(incident) = desk.store().incident(id).await?
            && incident.status.is_open()
        {
            near.push(incident);
        }
    }
    Ok(near)
}
