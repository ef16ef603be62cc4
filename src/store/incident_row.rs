//! The stored columns of incidents and history entries, the same in both
//! backends (INTEGER/BIGINT, REAL/DOUBLE PRECISION, TEXT), decoded back into
//! the model here so both report a damaged row the same way.

use jiff::Timestamp;

use crate::geom::{InputCrs, LonLat};
use crate::model::{Action, Severity, Status, Tier, WorkflowKind};
use crate::model::{
    Category, EventKind, GridChain, GridId, HistoryEntry, Incident, IncidentId, Person,
    ReportSource, ReportedPoint,
};
use crate::store::StoreError;

/// The columns every incident query selects, in [`StoredIncident`]'s order.
pub(crate) const INCIDENT_COLUMNS: &str = "id, category, workflow, status, severity, description, \
     reporter_name, reporter_phone, source, photos, lon, lat, original_lon, original_lat, crs, \
     grid_l1, grid_l2, grid_l3, grid_l4, grid_l5, tier, responsible_name, responsible_phone, \
     owner_name, owner_phone, follow_up_due, reported_at, updated_at, tier_since, deadline, \
     resolved_at, closed_at, version";

/// The columns of one incident.
#[derive(Debug)]
pub(crate) struct StoredIncident {
    pub id: i64,
    pub category: String,
    pub workflow: String,
    pub status: String,
    pub severity: String,
    pub description: String,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub source: String,
    pub photos: String,
    pub lon: f64,
    pub lat: f64,
    pub original_lon: f64,
    pub original_lat: f64,
    pub crs: String,
    pub grids: [Option<String>; 5],
    pub tier: i64,
    pub responsible_name: Option<String>,
    pub responsible_phone: Option<String>,
    pub owner_name: Option<String>,
    pub owner_phone: Option<String>,
    pub follow_up_due: Option<i64>,
    pub reported_at: i64,
    pub updated_at: i64,
    pub tier_since: i64,
    pub deadline: i64,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub version: i64,
}

/// A time as stored: whole milliseconds since 1970 UTC.
pub(crate) fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// A time as it reads back: truncated to the millisecond.
fn stored_time(t: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(t.as_millisecond()).unwrap_or(t)
}

/// The incident a `create_incident` with row id `id` stored, as it will read
/// back, built without reading it.
pub(crate) fn created(id: i64, new: &crate::store::NewIncident) -> Incident {
    let at = stored_time(new.reported_at);
    Incident {
        id: IncidentId(id),
        category: new.category.clone(),
        workflow: new.workflow,
        status: new.workflow.initial(),
        severity: new.severity,
        description: new.description.clone(),
        reporter: new.reporter.clone(),
        source: new.source,
        photos: new.photos.clone(),
        point: new.point,
        chain: new.chain.clone(),
        tier: new.tier,
        responsible: new.responsible.clone(),
        owner: None,
        follow_up_due: None,
        reported_at: at,
        updated_at: at,
        tier_since: at,
        deadline: stored_time(new.deadline),
        resolved_at: None,
        closed_at: None,
        version: 1,
    }
}

fn person(name: Option<String>, phone: Option<String>) -> Option<Person> {
    name.map(|name| Person {
        name,
        phone: phone.unwrap_or_default(),
    })
}

/// The stored name and phone columns of an optional person.
pub(crate) fn person_columns(p: &Option<Person>) -> (Option<&str>, Option<&str>) {
    match p {
        Some(p) => (Some(p.name.as_str()), Some(p.phone.as_str())),
        None => (None, None),
    }
}

impl StoredIncident {
    /// The incident these columns store.
    pub(crate) fn into_incident(self) -> Result<Incident, StoreError> {
        let id = self.id;
        let corrupt = |what: &str, value: &str| StoreError::Corrupt {
            id: format!("incident {id}"),
            reason: format!("{what} {value:?} is not one wangge knows"),
        };
        let time =
            |ms: i64| Timestamp::from_millisecond(ms).map_err(|_| corrupt("time", &ms.to_string()));
        let optional_time = |ms: Option<i64>| ms.map(time).transpose();
        let workflow = WorkflowKind::from_name(&self.workflow)
            .ok_or_else(|| corrupt("workflow", &self.workflow))?;
        let status =
            Status::from_name(&self.status).ok_or_else(|| corrupt("status", &self.status))?;
        let severity = Severity::from_name(&self.severity)
            .ok_or_else(|| corrupt("severity", &self.severity))?;
        let source =
            ReportSource::from_name(&self.source).ok_or_else(|| corrupt("source", &self.source))?;
        let crs = InputCrs::parse(&self.crs).map_err(|_| corrupt("crs", &self.crs))?;
        let tier =
            Tier::from_number(self.tier).ok_or_else(|| corrupt("tier", &self.tier.to_string()))?;
        let photos: Vec<String> =
            serde_json::from_str(&self.photos).map_err(|_| corrupt("photos", &self.photos))?;
        let chain: GridChain = self.grids.map(|g| g.map(GridId));
        Ok(Incident {
            id: IncidentId(id),
            category: self.category,
            workflow,
            status,
            severity,
            description: self.description,
            reporter: person(self.reporter_name, self.reporter_phone),
            source,
            photos,
            point: ReportedPoint {
                wgs84: LonLat::new(self.lon, self.lat),
                original: LonLat::new(self.original_lon, self.original_lat),
                crs,
            },
            chain,
            tier,
            responsible: person(self.responsible_name, self.responsible_phone),
            owner: person(self.owner_name, self.owner_phone),
            follow_up_due: optional_time(self.follow_up_due)?,
            reported_at: time(self.reported_at)?,
            updated_at: time(self.updated_at)?,
            tier_since: time(self.tier_since)?,
            deadline: time(self.deadline)?,
            resolved_at: optional_time(self.resolved_at)?,
            closed_at: optional_time(self.closed_at)?,
            version: self.version,
        })
    }
}

/// The columns of one history entry.
#[derive(Debug)]
pub(crate) struct StoredEvent {
    pub incident_id: i64,
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub action: Option<String>,
    pub status_from: String,
    pub status_to: String,
    pub tier_from: i64,
    pub tier_to: i64,
    pub note: Option<String>,
    pub detail: String,
}

/// The columns every history query selects, in [`StoredEvent`]'s order.
pub(crate) const EVENT_COLUMNS: &str = "incident_id, seq, at, actor, kind, action, status_from, \
     status_to, tier_from, tier_to, note, detail";

impl StoredEvent {
    /// The history entry these columns store.
    pub(crate) fn into_entry(self) -> Result<HistoryEntry, StoreError> {
        let corrupt = |what: &str, value: &str| StoreError::Corrupt {
            id: format!("incident {} history entry {}", self.incident_id, self.seq),
            reason: format!("{what} {value:?} is not one wangge knows"),
        };
        let status = |s: &str| Status::from_name(s).ok_or_else(|| corrupt("status", s));
        let tier = |t: i64| Tier::from_number(t).ok_or_else(|| corrupt("tier", &t.to_string()));
        Ok(HistoryEntry {
            seq: self.seq,
            at: Timestamp::from_millisecond(self.at)
                .map_err(|_| corrupt("time", &self.at.to_string()))?,
            actor: self.actor.clone(),
            kind: EventKind::from_name(&self.kind).ok_or_else(|| corrupt("kind", &self.kind))?,
            action: match &self.action {
                Some(a) => Some(Action::from_name(a).ok_or_else(|| corrupt("action", a))?),
                None => None,
            },
            status: (status(&self.status_from)?, status(&self.status_to)?),
            tier: (tier(self.tier_from)?, tier(self.tier_to)?),
            note: self.note.clone(),
            detail: serde_json::from_str(&self.detail)
                .map_err(|_| corrupt("detail", &self.detail))?,
        })
    }
}

/// The columns of one category.
pub(crate) fn category(
    code: String,
    name: String,
    workflow: String,
) -> Result<Category, StoreError> {
    let workflow = WorkflowKind::from_name(&workflow).ok_or_else(|| StoreError::Corrupt {
        id: format!("category {code}"),
        reason: format!("workflow {workflow:?} is not one wangge knows"),
    })?;
    Ok(Category {
        code,
        name,
        workflow,
    })
}
