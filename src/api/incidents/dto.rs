//! The JSON of incidents as the API writes them: the stored incident plus
//! what a dispatcher needs at a glance (grid names from the current index,
//! whether it is overdue, which actions the process allows now).

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::geom::LonLat;
use crate::index::GridIndex;
use crate::model::{Category, EventKind, HistoryEntry, Incident, Person};

/// A point in WGS84 degrees.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Location {
    /// Degrees east.
    lon: f64,
    /// Degrees north.
    lat: f64,
}

impl From<LonLat> for Location {
    fn from(p: LonLat) -> Self {
        Location {
            lon: p.lon,
            lat: p.lat,
        }
    }
}

/// The point as the reporter sent it.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReportedLocation {
    /// As sent.
    lon: f64,
    /// As sent.
    lat: f64,
    /// The system it was sent in: `wgs84`, `gcj02` or `bd09`.
    crs: &'static str,
}

/// One grid of an incident's chain.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ChainGrid {
    /// 1 (town) to 5 (sub-area).
    level: u8,
    /// Grid id.
    id: String,
    /// Its name, if the grid is still in the current index.
    name: Option<String>,
}

/// A person.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PersonDto {
    /// Name.
    name: String,
    /// Phone (may be empty).
    phone: String,
}

impl From<&Person> for PersonDto {
    fn from(p: &Person) -> Self {
        PersonDto {
            name: p.name.clone(),
            phone: p.phone.clone(),
        }
    }
}

/// An incident.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct IncidentDto {
    /// Its number.
    id: i64,
    /// Category code.
    category: String,
    /// The process: `community_issue` or `dispute`.
    workflow: &'static str,
    /// Where it stands in its process.
    status: &'static str,
    /// `minor`, `major` or `critical`.
    severity: &'static str,
    /// What happened.
    description: String,
    /// Who reported it.
    reporter: Option<PersonDto>,
    /// `grid_member`, `hotline`, `citizen` or `patrol`.
    source: &'static str,
    /// Photo URLs.
    photos: Vec<String>,
    /// Where, in WGS84: what was located.
    location: Location,
    /// Where, as sent.
    reported_location: ReportedLocation,
    /// The grids there when it was reported, town first.
    grids: Vec<ChainGrid>,
    /// Who handles it: `county`, `town`, `village`, `group`, `grid` or `patch`.
    tier: &'static str,
    /// The grid handling it (none at the county).
    handling_grid: Option<String>,
    /// The person responsible now.
    responsible: Option<PersonDto>,
    /// The named case owner (包案).
    owner: Option<PersonDto>,
    /// When the next follow-up visit is due.
    #[schema(value_type = Option<String>, format = DateTime)]
    follow_up_due: Option<Timestamp>,
    /// When reported.
    #[schema(value_type = String, format = DateTime)]
    reported_at: Timestamp,
    /// When last changed.
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
    /// When the current tier took it.
    #[schema(value_type = String, format = DateTime)]
    tier_since: Timestamp,
    /// When the current tier's time runs out.
    #[schema(value_type = String, format = DateTime)]
    deadline: Timestamp,
    /// Open and past the deadline.
    overdue: bool,
    /// When resolved.
    #[schema(value_type = Option<String>, format = DateTime)]
    resolved_at: Option<Timestamp>,
    /// When closed or dismissed.
    #[schema(value_type = Option<String>, format = DateTime)]
    closed_at: Option<Timestamp>,
    /// The actions its process allows now (`POST …/actions`).
    allowed_actions: Vec<&'static str>,
    /// Whether `POST …/escalate` is possible now.
    can_escalate: bool,
    /// Send back as `version` to have a change refused if someone else
    /// changed the incident first.
    version: i64,
}

impl IncidentDto {
    /// The JSON of an incident, with grid names from `index` and overdue
    /// judged at `now`.
    pub(super) fn new(i: &Incident, index: &GridIndex, now: Timestamp) -> IncidentDto {
        let grids = i
            .chain
            .iter()
            .enumerate()
            .filter_map(|(k, id)| {
                let id = id.as_ref()?;
                Some(ChainGrid {
                    level: k as u8 + 1,
                    id: id.0.clone(),
                    name: index.get(id).map(|g| g.name.clone()),
                })
            })
            .collect();
        let can_escalate = i.workflow.can_escalate(i.status)
            && crate::workflow::escalation_target(i.tier, |l| i.chain[l.index()].is_some())
                .is_some();
        IncidentDto {
            id: i.id.0,
            category: i.category.clone(),
            workflow: i.workflow.name(),
            status: i.status.name(),
            severity: i.severity.name(),
            description: i.description.clone(),
            reporter: i.reporter.as_ref().map(PersonDto::from),
            source: i.source.name(),
            photos: i.photos.clone(),
            location: i.point.wgs84.into(),
            reported_location: ReportedLocation {
                lon: i.point.original.lon,
                lat: i.point.original.lat,
                crs: i.point.crs.name(),
            },
            grids,
            tier: i.tier.name(),
            handling_grid: i.handling_grid().map(|g| g.0.clone()),
            responsible: i.responsible.as_ref().map(PersonDto::from),
            owner: i.owner.as_ref().map(PersonDto::from),
            follow_up_due: i.follow_up_due,
            reported_at: i.reported_at,
            updated_at: i.updated_at,
            tier_since: i.tier_since,
            deadline: i.deadline,
            overdue: i.is_overdue(now),
            resolved_at: i.resolved_at,
            closed_at: i.closed_at,
            allowed_actions: i
                .workflow
                .actions_from(i.status)
                .into_iter()
                .map(|a| a.name())
                .collect(),
            can_escalate,
            version: i.version,
        }
    }
}

/// One entry of an incident's history.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct HistoryDto {
    /// 1 for the report, counting up.
    seq: i64,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    at: Timestamp,
    /// Who (`system` for automatic escalation).
    actor: String,
    /// `created`, `transition`, `reassigned`, `escalated` or `note`.
    kind: &'static str,
    /// The action, for a transition.
    action: Option<&'static str>,
    /// Status before.
    status_from: &'static str,
    /// Status after.
    status_to: &'static str,
    /// Tier before.
    tier_from: &'static str,
    /// Tier after.
    tier_to: &'static str,
    /// The note given.
    note: Option<String>,
    /// Who was responsible (or the case owner, for `name_owner`) before a
    /// change of person: an escalation, a reassignment, `assign` or
    /// `name_owner`; null when no one was, or for other entries (and for
    /// entries recorded before wangge kept it).
    #[schema(value_type = Option<Object>)]
    person_from: serde_json::Value,
    /// Who is responsible (or the case owner) after such a change.
    #[schema(value_type = Option<Object>)]
    person_to: serde_json::Value,
    /// What else the change set.
    #[schema(value_type = Object)]
    detail: serde_json::Value,
}

impl From<&HistoryEntry> for HistoryDto {
    fn from(h: &HistoryEntry) -> Self {
        HistoryDto {
            seq: h.seq,
            at: h.at,
            actor: h.actor.clone(),
            kind: h.kind.name(),
            action: h.action.map(|a| a.name()),
            status_from: h.status.0.name(),
            status_to: h.status.1.name(),
            tier_from: h.tier.0.name(),
            tier_to: h.tier.1.name(),
            note: h.note.clone(),
            person_from: people_changed(h).0,
            person_to: people_changed(h).1,
            detail: h.detail.clone(),
        }
    }
}

/// (from whom, to whom) for an entry that changes the person in charge,
/// read from its detail (`dispatch::actions` writes both).
fn people_changed(h: &HistoryEntry) -> (serde_json::Value, serde_json::Value) {
    use serde_json::Value;
    let field = |key: &str| h.detail.get(key).cloned().unwrap_or(Value::Null);
    match h.kind {
        EventKind::Escalated => (field("from_responsible"), field("responsible")),
        EventKind::Reassigned | EventKind::Transition if h.detail.get("person").is_some() => {
            (field("from"), field("person"))
        }
        _ => (Value::Null, Value::Null),
    }
}

/// A category.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CategoryDto {
    /// Code, used in reports.
    code: String,
    /// Name.
    name: String,
    /// The process its incidents follow.
    workflow: &'static str,
}

impl From<&Category> for CategoryDto {
    fn from(c: &Category) -> Self {
        CategoryDto {
            code: c.code.clone(),
            name: c.name.clone(),
            workflow: c.workflow.name(),
        }
    }
}
