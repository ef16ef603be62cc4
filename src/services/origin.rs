//! Where a change comes from, carried beside the request rather than
//! through every service's arguments, and the audit entries of a commit.
//!
//! The API's access guard runs each request inside [`acting_as`] with the
//! authenticated caller. [`Changing::record`](super::feed::Changing::record)
//! reads it ([`current`]) and stamps each feed entry with the client's
//! address; [`audit_entries`] then turns the entries into the audit trail,
//! written in the same transaction as the change. A task-local is used on
//! purpose: every write path (fifteen kinds of change, more to come) goes
//! through that one `record`, so no service can forget the address.
//!
//! A task-local does not follow `tokio::spawn`: work a request hands to a
//! task of its own (so that a client going away cannot cancel a commit
//! halfway) is spawned through [`inherit`], and the report writer, which
//! commits many clients' reports together, takes each report's address
//! with it. A change made outside a request (the command line, scheduled
//! versions coming due) has no origin and is audited with an empty source.

use std::future::Future;

use super::accounts::Actor;
use crate::model::account::NewAudit;
use crate::model::{ChangeKind, NewChange};

/// How many feed entries of one commit get an audit entry each; the rest
/// (a grid change that re-chains hundreds of incidents, a burst of
/// reports) share one per actor, address and kind.
const AUDITED_ONE_BY_ONE: usize = 20;

/// How many ids an audit entry's target names before it counts the rest.
const IDS_NAMED: usize = 10;

/// How long a change's summary may be in the audit trail.
const DETAIL_CHARS: usize = 1_000;

tokio::task_local! {
    static ORIGIN: Actor;
}

/// Run `work` (a request's handling) with `actor` as the origin of every
/// change it commits.
pub async fn acting_as<F: Future>(actor: Actor, work: F) -> F::Output {
    ORIGIN.scope(actor, work).await
}

/// `work` with the current origin (if any) carried along: for
/// `tokio::spawn`, which starts its task without the caller's task-locals.
pub fn inherit<F: Future>(work: F) -> impl Future<Output = F::Output> {
    let origin = current();
    async move {
        match origin {
            Some(actor) => acting_as(actor, work).await,
            None => work.await,
        }
    }
}

/// The origin of the change being made, when it is made for a request.
pub fn current() -> Option<Actor> {
    ORIGIN.try_with(Clone::clone).ok()
}

/// The audit entries of a commit's feed entries: who (the actor each
/// entry names, the logged-in user for every API change), from where (the
/// address it was stamped with), what kind of change, to what, and its
/// summary.
pub fn audit_entries(changes: &[NewChange]) -> Vec<NewAudit> {
    let entry = |change: &NewChange, target: String, detail: String| NewAudit {
        at: change.at,
        actor: change.actor.clone(),
        source: change.source.clone(),
        action: action(change.kind),
        target,
        detail: detail.chars().take(DETAIL_CHARS).collect(),
    };
    let mut entries: Vec<NewAudit> = changes
        .iter()
        .take(AUDITED_ONE_BY_ONE)
        .map(|c| entry(c, target(c.kind, &c.ids), c.summary.clone()))
        .collect();
    // The rest, one entry per actor, address and kind, in order of first
    // appearance: nobody's changes are counted under someone else's name.
    let mut groups: Vec<(&NewChange, Vec<String>, usize)> = Vec::new();
    for change in changes.iter().skip(AUDITED_ONE_BY_ONE) {
        let same = |(first, _, _): &&mut (&NewChange, Vec<String>, usize)| {
            first.kind == change.kind
                && first.actor == change.actor
                && first.source == change.source
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some((_, ids, count)) => {
                ids.extend(change.ids.iter().cloned());
                *count += 1;
            }
            None => groups.push((change, change.ids.clone(), 1)),
        }
    }
    for (first, ids, count) in groups {
        entries.push(entry(
            first,
            target(first.kind, &ids),
            format!("{count} more changes in the same commit (the change feed lists each)"),
        ));
    }
    entries
}

/// The audit action of a kind of change.
fn action(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Grids => "grids_changed",
        ChangeKind::Incident => "incident_changed",
        ChangeKind::Hazard => "hazard_changed",
        ChangeKind::Route => "route_changed",
        ChangeKind::Patrol => "patrol_changed",
        ChangeKind::Roads => "roads_changed",
        ChangeKind::Unreadable => "unreadable_change",
    }
}

/// `incident 12`, `grids 6205…, 6205… and 2,398 more`.
fn target(kind: ChangeKind, ids: &[String]) -> String {
    let named = ids
        .iter()
        .take(IDS_NAMED)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    match ids.len() {
        0 => kind.name().to_owned(),
        n if n <= IDS_NAMED => format!("{} {named}", kind.name()),
        n => format!("{} {named} and {} more", kind.name(), n - IDS_NAMED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_origin_is_known_inside_the_request_only() {
        assert_eq!(current(), None);
        let actor = Actor {
            login: "leader".into(),
            source: "10.0.0.7".into(),
        };
        let seen = acting_as(actor.clone(), async { current() }).await;
        assert_eq!(seen, Some(actor));
        assert_eq!(current(), None);
    }

    fn change(kind: ChangeKind, id: i64, actor: &str, source: &str) -> NewChange {
        let mut change = NewChange::new(
            kind,
            [id],
            actor,
            jiff::Timestamp::UNIX_EPOCH,
            format!("{} {id} edited", kind.name()),
        );
        change.source = source.into();
        change
    }

    #[test]
    fn an_entry_says_who_from_where_and_what() {
        let entries = audit_entries(&[change(ChangeKind::Hazard, 7, "planner", "192.0.2.4")]);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].actor, "planner");
        assert_eq!(entries[0].source, "192.0.2.4");
        assert_eq!(entries[0].action, "hazard_changed");
        assert_eq!(entries[0].target, "hazard 7");
        assert_eq!(entries[0].detail, "hazard 7 edited");
    }

    #[tokio::test]
    async fn spawned_work_keeps_its_request_s_origin() {
        let actor = Actor {
            login: "leader".into(),
            source: "10.0.0.7".into(),
        };
        let seen = acting_as(actor.clone(), async {
            tokio::spawn(inherit(async { current() }))
                .await
                .expect("the task ends")
        })
        .await;
        assert_eq!(seen, Some(actor));
        let lost = acting_as(Actor::default(), async {
            tokio::spawn(async { current() })
                .await
                .expect("the task ends")
        })
        .await;
        assert_eq!(lost, None, "without inherit, a task starts with no origin");
    }

    #[test]
    fn a_commit_of_many_changes_is_audited_in_bounded_entries_per_actor() {
        let mut changes: Vec<NewChange> = (0..500)
            .map(|id| change(ChangeKind::Incident, id, "dispatcher-1", "10.0.0.1"))
            .collect();
        changes.push(change(ChangeKind::Incident, 900, "app-2", "10.0.0.2"));
        changes.push(change(ChangeKind::Hazard, 901, "dispatcher-1", "10.0.0.1"));
        let entries = audit_entries(&changes);
        assert_eq!(entries.len(), AUDITED_ONE_BY_ONE + 3);
        let grouped = &entries[AUDITED_ONE_BY_ONE..];
        assert_eq!(
            grouped[0].target,
            "incident 20, 21, 22, 23, 24, 25, 26, 27, 28, 29 and 470 more"
        );
        assert!(
            grouped[0].detail.starts_with("480 more changes"),
            "{}",
            grouped[0].detail
        );
        assert_eq!(
            (grouped[1].actor.as_str(), grouped[1].target.as_str()),
            ("app-2", "incident 900")
        );
        assert_eq!(
            (grouped[2].action, grouped[2].target.as_str()),
            ("hazard_changed", "hazard 901")
        );
    }
}
