//! Who a change is made for and from where, carried beside the request
//! rather than through every service's arguments.
//!
//! The API's access guard runs each request inside [`acting_as`] with the
//! authenticated caller; [`Changing::commit`](super::feed::Changing::commit)
//! reads it ([`current`]) to write the audit entries of the change in the
//! same transaction as the change. A task-local is used on purpose: every
//! write path (fifteen kinds of change, more to come) goes through that one
//! commit, so no service can forget to pass the caller's address on, and a
//! change made outside a request (the command line, scheduled versions
//! coming due) simply has no origin and is audited under the actor its
//! feed entry names, with an empty source.

use std::future::Future;

use super::accounts::Actor;
use crate::model::account::NewAudit;
use crate::model::{ChangeKind, NewChange};

/// How many feed entries of one commit get an audit entry each; the rest
/// (a grid change that re-chains hundreds of incidents) share one.
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

/// The origin of the change being made, when it is made for a request.
pub fn current() -> Option<Actor> {
    ORIGIN.try_with(Clone::clone).ok()
}

/// The audit entries of a commit's feed entries: who (the request's caller,
/// else the actor the entry names), from where, what kind of change, to
/// what, and its summary.
pub fn audit_entries(changes: &[NewChange]) -> Vec<NewAudit> {
    let origin = current();
    let entry = |change: &NewChange, target: String, detail: String| NewAudit {
        at: change.at,
        actor: origin
            .as_ref()
            .map_or_else(|| change.actor.clone(), |o| o.login.clone()),
        source: origin
            .as_ref()
            .map(|o| o.source.clone())
            .unwrap_or_default(),
        action: action(change.kind),
        target,
        detail: detail.chars().take(DETAIL_CHARS).collect(),
    };
    let mut entries: Vec<NewAudit> = changes
        .iter()
        .take(AUDITED_ONE_BY_ONE)
        .map(|c| entry(c, target(c.kind, &c.ids), c.summary.clone()))
        .collect();
    if let Some(rest) = changes.get(AUDITED_ONE_BY_ONE..)
        && let Some(last) = rest.last()
    {
        let ids: Vec<String> = rest.iter().flat_map(|c| c.ids.iter().cloned()).collect();
        entries.push(entry(
            last,
            target(last.kind, &ids),
            format!(
                "{} more changes in the same commit (the change feed lists each)",
                rest.len()
            ),
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
}

#[cfg(test)]
mod audit_tests {
    use super::*;

    fn change(kind: ChangeKind, id: i64) -> NewChange {
        NewChange::new(
            kind,
            [id],
            "hazard register",
            jiff::Timestamp::UNIX_EPOCH,
            format!("{} {id} edited", kind.name()),
        )
    }

    #[tokio::test]
    async fn a_request_s_caller_and_address_are_audited() {
        let actor = Actor {
            login: "planner".into(),
            source: "192.0.2.4".into(),
        };
        let entries = acting_as(actor, async {
            audit_entries(&[change(ChangeKind::Hazard, 7)])
        })
        .await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].actor, "planner");
        assert_eq!(entries[0].source, "192.0.2.4");
        assert_eq!(entries[0].action, "hazard_changed");
        assert_eq!(entries[0].target, "hazard 7");
        assert_eq!(entries[0].detail, "hazard 7 edited");
    }

    #[test]
    fn outside_a_request_the_feed_s_actor_stands() {
        let entries = audit_entries(&[change(ChangeKind::Roads, 1)]);
        assert_eq!(entries[0].actor, "hazard register");
        assert_eq!(entries[0].source, "");
    }

    #[test]
    fn a_commit_of_many_changes_is_audited_in_bounded_entries() {
        let changes: Vec<NewChange> = (0..500)
            .map(|id| change(ChangeKind::Incident, id))
            .collect();
        let entries = audit_entries(&changes);
        assert_eq!(entries.len(), AUDITED_ONE_BY_ONE + 1);
        let last = entries.last().expect("a grouped entry");
        assert_eq!(
            last.target,
            "incident 20, 21, 22, 23, 24, 25, 26, 27, 28, 29 and 470 more"
        );
        assert!(
            last.detail.starts_with("480 more changes"),
            "{}",
            last.detail
        );
    }
}
