//! Changes to a recorded incident: an action of its process, escalation one
//! tier up (by a person, or by the deadline sweep), a new responsible
//! person, a note. Each reads the incident, checks the change, and writes
//! the new state with its history entry guarded by the version read.

use jiff::Timestamp;
use serde_json::json;

use super::Dispatcher;
use super::report::{check_note, check_person};
use super::{DispatchError, deadline, responsible_at};
use crate::model::{EventKind, Incident, IncidentId, NewChange, Person, Text};
use crate::services::feed::Effect;
use crate::store::{IncidentFilter, NewEvent, StoreError};
use crate::text;
use crate::workflow::{Action, escalation_target};

/// How many overdue incidents one sweep escalates at most; the rest wait
/// for the next sweep.
const SWEEP_BATCH: u32 = 500;

/// The actor written in the history of automatic escalations.
const SYSTEM_ACTOR: &str = "system";

/// An action of an incident's process, with what it carries.
#[derive(Debug, Clone)]
pub struct ActionRequest {
    /// The action.
    pub action: Action,
    /// Who does it.
    pub actor: String,
    /// Their note (required by some actions).
    pub note: Option<String>,
    /// The assignee or case owner (for `assign` and `name_owner`).
    pub person: Option<Person>,
    /// When the follow-up visit is due (for `schedule_follow_up`).
    pub due: Option<Timestamp>,
    /// The version the client read, if it wants the change refused when
    /// someone else changed the incident since.
    pub version: Option<i64>,
}

/// Read an incident for a change: it exists, and is at the version the
/// client read (when it said).
async fn load(
    desk: &Dispatcher,
    id: IncidentId,
    version: Option<i64>,
) -> Result<Incident, DispatchError> {
    let incident = desk
        .store()
        .incident(id)
        .await?
        .ok_or(DispatchError::NotFound(id))?;
    match version {
        Some(read) if read != incident.version => Err(DispatchError::Stale {
            id,
            read,
            current: incident.version,
        }),
        _ => Ok(incident),
    }
}

fn check_actor(actor: &str) -> Result<(), DispatchError> {
    if actor.trim().is_empty() {
        return Err(DispatchError::invalid(
            "actor",
            text!("actor (who acts) is empty", "actor（操作人）为空"),
        ));
    }
    Ok(())
}

/// Write a change and publish it; a concurrent writer's version bump
/// becomes [`Stale`]. The write and the publication run in a task of their
/// own, so that a client going away cannot leave a committed change
/// unpublished (see `events.rs`).
///
/// [`Stale`]: DispatchError::Stale
async fn save(
    desk: &Dispatcher,
    before: &Incident,
    after: &Incident,
    event: &NewEvent,
) -> Result<Incident, DispatchError> {
    let feed = desk.feed().clone();
    let (before, after, event) = (before.clone(), after.clone(), event.clone());
    let written = tokio::spawn(crate::services::origin::inherit(async move {
        let mut change = feed.begin().await?;
        let saved = change
            .unit()
            .update_incident(&before, &after, &event)
            .await?;
        change.record(
            NewChange::new(
                crate::model::ChangeKind::Incident,
                [saved.id.0],
                &event.actor,
                event.at,
                event_summary(&event),
            ),
            Some(Effect::Incident {
                kind: crate::dispatch::events::ChangeKind::Changed,
                incident: Box::new(saved.clone()),
            }),
        );
        change.commit().await?;
        Ok(saved)
    }))
    .await
    .unwrap_or_else(|_| Err(StoreError::Unavailable("saving a change panicked".into())));
    match written {
        Err(StoreError::Conflict { id, version }) => {
            let current = desk
                .store()
                .incident(id)
                .await?
                .map_or(version, |i| i.version);
            Err(DispatchError::Stale {
                id,
                read: version,
                current,
            })
        }
        other => Ok(other?),
    }
}

/// The feed's one-line summary of an incident change.
fn event_summary(event: &NewEvent) -> String {
    match event.action {
        Some(action) => format!("{} ({})", event.kind.name(), action.name()),
        None => event.kind.name().to_owned(),
    }
}

/// Apply an action of the incident's process at `now`.
pub async fn act(
    desk: &Dispatcher,
    id: IncidentId,
    request: ActionRequest,
    now: Timestamp,
) -> Result<Incident, DispatchError> {
    check_actor(&request.actor)?;
    check_note("note", request.note.as_deref())?;
    let before = load(desk, id, request.version).await?;
    let action = request.action;
    let next = before.workflow.next(before.status, action)?;
    let needs = action.requires();
    let (name, zh_name) = (action.name(), action.zh_name());
    let note = request
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if needs.note && note.is_none() {
        return Err(DispatchError::invalid(
            "note",
            Text::new(
                format!("{name} needs a note saying what was done or why"),
                format!("“{zh_name}”须填写办理说明，写明办理情况或原因"),
            ),
        ));
    }
    let person = match (&request.person, needs.person) {
        (Some(p), true) => {
            check_person("person.name", p)?;
            Some(p.clone())
        }
        (None, true) => {
            return Err(DispatchError::invalid(
                "person",
                Text::new(
                    format!("{name} needs the person (name, phone) it names"),
                    format!("“{zh_name}”须填写所指定人员的姓名和电话"),
                ),
            ));
        }
        (_, false) => None,
    };
    let due = match (request.due, needs.due) {
        (Some(due), true) if due > now => Some(due),
        (Some(due), true) => {
            return Err(DispatchError::invalid(
                "due",
                text!(
                    "the follow-up must be due after now, got {due}",
                    "回访时间必须晚于当前时间，收到的是 {due}"
                ),
            ));
        }
        (None, true) => {
            return Err(DispatchError::invalid(
                "due",
                Text::new(
                    format!("{name} needs when the visit is due"),
                    format!("“{zh_name}”须填写回访时间"),
                ),
            ));
        }
        (_, false) => None,
    };

    let mut after = Incident {
        status: next,
        updated_at: now,
        ..before.clone()
    };
    match action {
        Action::Assign => after.responsible = person.clone(),
        Action::NameOwner => after.owner = person.clone(),
        Action::ScheduleFollowUp => after.follow_up_due = due,
        Action::Resolve => after.resolved_at = Some(now),
        Action::Reopen => {
            // Back to work: the tier's clock starts again.
            after.resolved_at = None;
            after.tier_since = now;
            after.deadline = deadline(desk, after.tier, now);
        }
        _ => {}
    }
    if next.is_terminal() {
        after.closed_at = Some(now);
        after.follow_up_due = None;
    }
    let mut detail = json!({});
    if let Some(p) = &person {
        // Whom the step names, and whom it replaces (assign: the
        // responsible person; name_owner: the case owner).
        let replaced = match action {
            Action::NameOwner => &before.owner,
            _ => &before.responsible,
        };
        detail["from"] = json!(replaced);
        detail["person"] = json!(p);
    }
    if let Some(due) = due {
        detail["due"] = json!(due);
    }
    let event = NewEvent {
        at: now,
        actor: request.actor,
        kind: EventKind::Transition,
        action: Some(action),
        note: note.map(str::to_owned),
        detail,
    };
    save(desk, &before, &after, &event).await
}

/// Move an incident one tier up, to the parent grid's leader (or the
/// county), and restart its clock.
pub async fn escalate(
    desk: &Dispatcher,
    id: IncidentId,
    actor: &str,
    note: Option<String>,
    version: Option<i64>,
    now: Timestamp,
) -> Result<Incident, DispatchError> {
    check_actor(actor)?;
    let note = required_reason(note, Text::new("escalating an incident", "上移事件"))?;
    let before = load(desk, id, version).await?;
    escalate_loaded(desk, before, actor, Some(note), now).await
}

/// The reason a dispatcher must give for a step outside the process
/// (escalating, reassigning): checked like any note, and not blank. The
/// history keeps it, so whoever picks the incident up next knows why.
fn required_reason(note: Option<String>, doing: Text) -> Result<String, DispatchError> {
    check_note("note", note.as_deref())?;
    match note.as_deref().map(str::trim) {
        Some(reason) if !reason.is_empty() => Ok(reason.to_owned()),
        _ => Err(DispatchError::invalid(
            "note",
            Text::new(
                format!("{} needs a note saying why", doing.en()),
                format!("{}须在办理说明中写明原因", doing.zh()),
            ),
        )),
    }
}

async fn escalate_loaded(
    desk: &Dispatcher,
    before: Incident,
    actor: &str,
    note: Option<String>,
    now: Timestamp,
) -> Result<Incident, DispatchError> {
    let id = before.id;
    if !before.workflow.can_escalate(before.status) {
        let (status, zh_status) = (before.status.name(), before.status.zh_name());
        let (dispute, zh_dispute) = if before.status.is_terminal() {
            ("", "")
        } else {
            (" (a dispute once reported)", "（矛盾纠纷须先上报）")
        };
        return Err(DispatchError::CannotEscalate {
            id,
            reason: Text::new(
                format!("it is {status}; escalation applies to incidents being handled{dispute}"),
                format!("当前状态为“{zh_status}”，只有正在办理的事件才能上移{zh_dispute}"),
            ),
        });
    }
    let Some(target) =
        escalation_target(before.tier, |level| before.chain[level.index()].is_some())
    else {
        return Err(DispatchError::CannotEscalate {
            id,
            reason: text!("it is already handled by the county", "已由县级办理"),
        });
    };
    let responsible = responsible_at(desk, &before.chain, target);
    let after = Incident {
        tier: target,
        tier_since: now,
        deadline: deadline(desk, target, now),
        responsible: responsible.clone(),
        updated_at: now,
        ..before.clone()
    };
    let event = NewEvent {
        at: now,
        actor: actor.to_owned(),
        kind: EventKind::Escalated,
        action: None,
        note,
        // From which tier, grid and person to which: the history reads
        // "县 ← 乡镇, 张三 → 李四" without looking anything up.
        detail: json!({
            "from": before.tier.name(),
            "from_grid": before.handling_grid().map(|g| g.as_str()),
            "from_responsible": before.responsible,
            "to": target.name(),
            "grid": after.handling_grid().map(|g| g.as_str()),
            "responsible": responsible,
        }),
    };
    save(desk, &before, &after, &event).await
}

/// Escalate every open incident past its deadline at `now` that can go up
/// (at most 500 per call), as the actor `system`. Incidents the
/// county already holds stay overdue (and listed as such). Returns the
/// escalated incidents.
pub async fn escalate_overdue(
    desk: &Dispatcher,
    now: Timestamp,
) -> Result<Vec<Incident>, DispatchError> {
    let filter = IncidentFilter {
        overdue_at: Some(now),
        ..IncidentFilter::default()
    };
    let overdue = desk.store().incidents_page(&filter, SWEEP_BATCH, 0).await?;
    let mut escalated = Vec::new();
    for incident in overdue {
        let note = format!(
            "deadline {} passed at the {} tier",
            incident.deadline,
            incident.tier.name()
        );
        match escalate_loaded(desk, incident, SYSTEM_ACTOR, Some(note), now).await {
            Ok(done) => escalated.push(done),
            // At the county already, an unreported dispute, or a dispatcher
            // acted on it in the meantime: nothing to do here.
            Err(DispatchError::CannotEscalate { .. } | DispatchError::Stale { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(escalated)
}

/// Make `person` responsible (a dispatcher's decision outside the process's
/// own `assign` step).
pub async fn reassign(
    desk: &Dispatcher,
    id: IncidentId,
    person: Person,
    actor: &str,
    note: Option<String>,
    version: Option<i64>,
    now: Timestamp,
) -> Result<Incident, DispatchError> {
    check_actor(actor)?;
    check_person("person.name", &person)?;
    let note = required_reason(note, Text::new("reassigning an incident", "改派事件"))?;
    let before = load(desk, id, version).await?;
    if before.status.is_terminal() {
        return Err(DispatchError::invalid(
            "status",
            Text::new(
                format!(
                    "incident {id} is {}; it has no one to reassign",
                    before.status.name()
                ),
                format!(
                    "事件 {id} 当前状态为“{}”，不能再改派",
                    before.status.zh_name()
                ),
            ),
        ));
    }
    let after = Incident {
        responsible: Some(person.clone()),
        updated_at: now,
        ..before.clone()
    };
    let event = NewEvent {
        at: now,
        actor: actor.to_owned(),
        kind: EventKind::Reassigned,
        action: None,
        note: Some(note),
        detail: json!({ "from": before.responsible, "person": person }),
    };
    save(desk, &before, &after, &event).await
}

/// Add a note to the history, changing nothing else.
pub async fn add_note(
    desk: &Dispatcher,
    id: IncidentId,
    actor: &str,
    note: &str,
    now: Timestamp,
) -> Result<Incident, DispatchError> {
    check_actor(actor)?;
    let note = note.trim();
    if note.is_empty() {
        return Err(DispatchError::invalid(
            "note",
            text!("the note is empty", "备注不能为空"),
        ));
    }
    check_note("note", Some(note))?;
    let before = load(desk, id, None).await?;
    let after = Incident {
        updated_at: now,
        ..before.clone()
    };
    let event = NewEvent {
        at: now,
        actor: actor.to_owned(),
        kind: EventKind::Note,
        action: None,
        note: Some(note.to_owned()),
        detail: json!({}),
    };
    save(desk, &before, &after, &event).await
}
