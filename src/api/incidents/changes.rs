//! The routes that change an incident: an action of its process, an
//! escalation, a reassignment, a note. Each answers the incident as it is
//! after the change; a refused change (409) or a wrong field (400) leaves it
//! exactly as it was.

use std::sync::Arc;

use axum::extract::State;
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;

use super::dto::IncidentDto;
use super::{PersonInput, incident_id, visible_incident};
use crate::api::access::Caller;
use crate::api::error::{ApiError, ProblemDocument};
use crate::api::extract::{Json, Path};
use crate::api::value_schemas::ActionName;
use crate::dispatch::{self, ActionRequest};
use crate::model::{Incident, Person, Text};
use crate::state::AppState;
use crate::workflow::Action;

fn answer(state: &AppState, incident: &Incident, now: Timestamp) -> axum::Json<IncidentDto> {
    axum::Json(IncidentDto::new(incident, &state.index(), now))
}

/// An action of the incident's process.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ActionBody {
    /// One of the incident's `allowed_actions`.
    #[schema(value_type = ActionName, example = "report")]
    action: Action,
    /// A note (required by `resolve`, `record_feedback`, `reopen`,
    /// `record_follow_up` and `dismiss`).
    note: Option<String>,
    /// The assignee (`assign`) or case owner (`name_owner`).
    person: Option<PersonInput>,
    /// When the follow-up visit is due (`schedule_follow_up`), RFC 3339.
    #[schema(value_type = Option<String>, format = DateTime)]
    due: Option<Timestamp>,
    /// The version read (required); the action is refused if the incident
    /// has changed since.
    version: Option<i64>,
}

/// Move an incident through its process.
#[utoipa::path(
    post,
    path = "/api/incidents/{id}/actions",
    tag = "incidents",
    params(("id" = i64, Path, description = "The incident's number")),
    request_body = ActionBody,
    responses(
        (status = 200, description = "The incident after the action", body = IncidentDto),
        (status = 400, description = "A field the action needs (or `version`) is missing or wrong",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such incident",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The process does not allow the action now (the \
            detail lists what it allows), or the incident changed since `version`",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn action(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ActionBody>,
) -> Result<axum::Json<IncidentDto>, ApiError> {
    let id = incident_id(&id)?;
    visible_incident(&state, &caller, id).await?;
    let now = Timestamp::now();
    let request = ActionRequest {
        action: body.action,
        actor: caller.login(),
        note: body.note,
        person: body.person.map(Person::from),
        due: body.due,
        version: Some(required_version(body.version)?),
    };
    let incident = dispatch::act(state.dispatch(), id, request, now).await?;
    Ok(answer(&state, &incident, now))
}

/// Escalation by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EscalateBody {
    /// Why (required, not blank: the next tier reads it in the history;
    /// optional in the schema so that its absence is a 400 naming `note`).
    note: Option<String>,
    /// The version read (required).
    version: Option<i64>,
}

/// Escalate an incident one level up the grid hierarchy, to the parent
/// grid's leader (or the county), with a new deadline.
#[utoipa::path(
    post,
    path = "/api/incidents/{id}/escalate",
    tag = "incidents",
    params(("id" = i64, Path, description = "The incident's number")),
    request_body = EscalateBody,
    responses(
        (status = 200, description = "The incident, one tier up", body = IncidentDto),
        (status = 400, description = "`note` or `version` is missing",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such incident",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Closed, not yet reported, already at the county, or \
            changed since `version`",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn escalate(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<EscalateBody>,
) -> Result<axum::Json<IncidentDto>, ApiError> {
    let id = incident_id(&id)?;
    visible_incident(&state, &caller, id).await?;
    let now = Timestamp::now();
    let incident = dispatch::escalate(
        state.dispatch(),
        id,
        &caller.login(),
        body.note,
        Some(required_version(body.version)?),
        now,
    )
    .await?;
    Ok(answer(&state, &incident, now))
}

/// The version a change was read at, which every change of an incident
/// must name: without it, a second dispatcher's action would silently
/// overtake one made since they opened the incident. (Optional in the
/// schema so that its absence is a 400 naming `version`, not a 422.)
fn required_version(version: Option<i64>) -> Result<i64, ApiError> {
    version.ok_or_else(|| {
        ApiError::bad_parameter(
            "version",
            Text::new(
                "version is required: the incident's version as read (GET /api/incidents/{id}), \
                 so that a change made since is not overwritten",
                "缺少 version：应为读取事件时得到的版本号（GET /api/incidents/{id}），\
                 以免覆盖读取之后他人所作的更改",
            ),
        )
    })
}

/// A new responsible person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AssignBody {
    /// Who is responsible from now on.
    person: PersonInput,
    /// Why (required, not blank; optional in the schema so that its
    /// absence is a 400 naming `note`).
    note: Option<String>,
    /// The version read (required).
    version: Option<i64>,
}

/// Make someone else responsible for an incident.
#[utoipa::path(
    post,
    path = "/api/incidents/{id}/assign",
    tag = "incidents",
    params(("id" = i64, Path, description = "The incident's number")),
    request_body = AssignBody,
    responses(
        (status = 200, description = "The incident with its new responsible person",
            body = IncidentDto),
        (status = 400, description = "No name, no `note`, no `version`, or the incident is closed",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such incident",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Changed since `version`",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn assign(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<AssignBody>,
) -> Result<axum::Json<IncidentDto>, ApiError> {
    let id = incident_id(&id)?;
    visible_incident(&state, &caller, id).await?;
    let now = Timestamp::now();
    let incident = dispatch::reassign(
        state.dispatch(),
        id,
        body.person.into(),
        &caller.login(),
        body.note,
        Some(required_version(body.version)?),
        now,
    )
    .await?;
    Ok(answer(&state, &incident, now))
}

/// A note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NoteBody {
    /// The note.
    note: String,
}

/// Add a note to an incident's history.
#[utoipa::path(
    post,
    path = "/api/incidents/{id}/notes",
    tag = "incidents",
    params(("id" = i64, Path, description = "The incident's number")),
    request_body = NoteBody,
    responses(
        (status = 200, description = "The incident (its history has the note)",
            body = IncidentDto),
        (status = 400, description = "An empty note or actor",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such incident",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn note(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NoteBody>,
) -> Result<axum::Json<IncidentDto>, ApiError> {
    let id = incident_id(&id)?;
    visible_incident(&state, &caller, id).await?;
    let now = Timestamp::now();
    let incident =
        dispatch::add_note(state.dispatch(), id, &caller.login(), &body.note, now).await?;
    Ok(answer(&state, &incident, now))
}
