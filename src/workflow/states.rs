//! The two processes of the county's seed document as state machines: which
//! statuses each has, which actions move an incident from one to the next,
//! and what an action must carry. The server refuses any other move.
//!
//! Community issues (水电暖气, parking, greening, sanitation), "collect,
//! verify, study, assign, feed back":
//!
//! ```text
//! collected ─verify→ verified ─study→ studied ─assign→ assigned ─resolve→ resolved ─record_feedback→ closed
//!     └──────────dismiss───────┴→ dismissed          resolved ─reopen→ assigned
//! ```
//!
//! Disputes, the "six steps" (六步走): a grid member finds it (1), the
//! information officer reports it (2), the governance-centre head convenes
//! mediation (3), serious ones are escalated level by level (4: an
//! escalation, not a status; see `escalation.rs`), stability cases get a
//! named case owner, 包案 (5), and mediators revisit, 回访 (6):
//!
//! ```text
//! found ─report→ reported ─convene→ mediating ─resolve→ resolved ─schedule_follow_up→ follow_up ─record_follow_up→ closed
//!   └──dismiss──────┴→ dismissed        └─name_owner→ owner_named ─resolve→ resolved      follow_up ─schedule_follow_up→ follow_up
//! ```
//!
//! `reopen` (a resident's feedback says it is not fixed) and `dismiss` (a
//! report that verification finds false or duplicated) are not in the seed's
//! lists; every real desk needs them, and both require a note saying why.

use serde::{Deserialize, Serialize};

/// Which process an incident follows; a category names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowKind {
    /// Collect → verify → study → assign → resolve → feedback.
    CommunityIssue,
    /// The six steps of dispute mediation.
    Dispute,
}

impl WorkflowKind {
    /// Both processes.
    pub const ALL: [WorkflowKind; 2] = [WorkflowKind::CommunityIssue, WorkflowKind::Dispute];

    /// The name stored and written by the API.
    pub fn name(self) -> &'static str {
        match self {
            WorkflowKind::CommunityIssue => "community_issue",
            WorkflowKind::Dispute => "dispute",
        }
    }

    /// The workflow with this name.
    pub fn from_name(name: &str) -> Option<WorkflowKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The status a new incident of this process starts in.
    pub fn initial(self) -> Status {
        match self {
            WorkflowKind::CommunityIssue => Status::Collected,
            WorkflowKind::Dispute => Status::Found,
        }
    }

    /// The statuses of this process, in order.
    pub fn statuses(self) -> &'static [Status] {
        use Status::*;
        match self {
            WorkflowKind::CommunityIssue => &[
                Collected, Verified, Studied, Assigned, Resolved, Closed, Dismissed,
            ],
            WorkflowKind::Dispute => &[
                Found, Reported, Mediating, OwnerNamed, Resolved, FollowUp, Closed, Dismissed,
            ],
        }
    }

    /// The moves this process allows: (from, action, to).
    fn transitions(self) -> &'static [(Status, Action, Status)] {
        use Action::*;
        use Status::*;
        match self {
            WorkflowKind::CommunityIssue => &[
                (Collected, Verify, Verified),
                (Verified, Study, Studied),
                (Studied, Assign, Assigned),
                (Assigned, Resolve, Resolved),
                (Resolved, RecordFeedback, Closed),
                (Resolved, Reopen, Assigned),
                (Collected, Dismiss, Dismissed),
                (Verified, Dismiss, Dismissed),
            ],
            WorkflowKind::Dispute => &[
                (Found, Report, Reported),
                (Reported, Convene, Mediating),
                (Mediating, NameOwner, OwnerNamed),
                (Mediating, Resolve, Resolved),
                (OwnerNamed, Resolve, Resolved),
                (Resolved, ScheduleFollowUp, FollowUp),
                (FollowUp, ScheduleFollowUp, FollowUp),
                (FollowUp, RecordFollowUp, Closed),
                (Found, Dismiss, Dismissed),
                (Reported, Dismiss, Dismissed),
            ],
        }
    }

    /// Where `action` takes an incident in `from`, or why it cannot.
    pub fn next(self, from: Status, action: Action) -> Result<Status, TransitionError> {
        self.transitions()
            .iter()
            .find(|(f, a, _)| *f == from && *a == action)
            .map(|(_, _, to)| *to)
            .ok_or_else(|| TransitionError {
                workflow: self,
                from,
                action,
                allowed: self.actions_from(from),
            })
    }

    /// The actions allowed from a status, in the order of the process.
    pub fn actions_from(self, from: Status) -> Vec<Action> {
        self.transitions()
            .iter()
            .filter(|(f, _, _)| *f == from)
            .map(|(_, a, _)| *a)
            .collect()
    }

    /// Whether an incident in this status can still be escalated: it is
    /// being handled (not closed or dismissed), and for disputes it has been
    /// reported (escalation is step 4, after the report).
    pub fn can_escalate(self, status: Status) -> bool {
        let unreported_dispute = self == WorkflowKind::Dispute && status == Status::Found;
        !(status.is_terminal() || unreported_dispute)
    }
}

/// Where an incident stands. The statuses of both processes, as one type;
/// each process uses its own subset ([`WorkflowKind::statuses`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 收集: collected from a resident or a grid member (community issues).
    Collected,
    /// 核实: checked on site.
    Verified,
    /// 研究: discussed by the village's meeting ("three discussions").
    Studied,
    /// 交办: handed to the person or office who will fix it.
    Assigned,
    /// 发现: a grid member found a dispute on patrol (disputes, step 1).
    Found,
    /// 上报: the information officer reported it (step 2).
    Reported,
    /// 调解: the governance-centre head convened mediation (step 3).
    Mediating,
    /// 包案: a stability case with a named responsible official (step 5).
    OwnerNamed,
    /// Handled; awaiting feedback (community issues) or follow-up (disputes).
    Resolved,
    /// 回访: follow-up visits scheduled (step 6).
    FollowUp,
    /// Finished: feedback or the last follow-up recorded.
    Closed,
    /// Not an incident after all (false or duplicate report), with the reason.
    Dismissed,
}

impl Status {
    /// Every status, in the order of the processes.
    pub const ALL: [Status; 12] = [
        Status::Collected,
        Status::Verified,
        Status::Studied,
        Status::Assigned,
        Status::Found,
        Status::Reported,
        Status::Mediating,
        Status::OwnerNamed,
        Status::Resolved,
        Status::FollowUp,
        Status::Closed,
        Status::Dismissed,
    ];

    /// The name stored and written by the API.
    pub fn name(self) -> &'static str {
        match self {
            Status::Collected => "collected",
            Status::Verified => "verified",
            Status::Studied => "studied",
            Status::Assigned => "assigned",
            Status::Found => "found",
            Status::Reported => "reported",
            Status::Mediating => "mediating",
            Status::OwnerNamed => "owner_named",
            Status::Resolved => "resolved",
            Status::FollowUp => "follow_up",
            Status::Closed => "closed",
            Status::Dismissed => "dismissed",
        }
    }

    /// The status with this name.
    pub fn from_name(name: &str) -> Option<Status> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// No action leads out of it.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Dismissed)
    }

    /// The incident is still being worked on: not resolved, closed or
    /// dismissed. Deadlines apply only to open incidents.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            Status::Resolved | Status::FollowUp | Status::Closed | Status::Dismissed
        )
    }

    /// Every open status (see [`Status::is_open`]).
    pub fn open() -> impl Iterator<Item = Status> {
        Status::ALL.into_iter().filter(|s| s.is_open())
    }
}

/// A move through a process. What it must carry is [`Action::requires`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// collected → verified.
    Verify,
    /// verified → studied.
    Study,
    /// studied → assigned; names who will handle it.
    Assign,
    /// → resolved.
    Resolve,
    /// resolved → closed (community issues): the resident's feedback.
    RecordFeedback,
    /// resolved → assigned: feedback says it is not fixed.
    Reopen,
    /// found → reported (disputes, step 2).
    Report,
    /// reported → mediating (step 3).
    Convene,
    /// mediating → owner_named (step 5, 包案): names the responsible official.
    NameOwner,
    /// → follow_up (step 6): when the next visit is due.
    ScheduleFollowUp,
    /// follow_up → closed: the visit's record.
    RecordFollowUp,
    /// → dismissed: a false or duplicate report, with the reason.
    Dismiss,
}

/// What an action must carry besides who does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirements {
    /// A note saying what was found, agreed or why.
    pub note: bool,
    /// A person (name, phone): the assignee or the case owner.
    pub person: bool,
    /// A time: when the follow-up visit is due.
    pub due: bool,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 12] = [
        Action::Verify,
        Action::Study,
        Action::Assign,
        Action::Resolve,
        Action::RecordFeedback,
        Action::Reopen,
        Action::Report,
        Action::Convene,
        Action::NameOwner,
        Action::ScheduleFollowUp,
        Action::RecordFollowUp,
        Action::Dismiss,
    ];

    /// The name used by the API.
    pub fn name(self) -> &'static str {
        match self {
            Action::Verify => "verify",
            Action::Study => "study",
            Action::Assign => "assign",
            Action::Resolve => "resolve",
            Action::RecordFeedback => "record_feedback",
            Action::Reopen => "reopen",
            Action::Report => "report",
            Action::Convene => "convene",
            Action::NameOwner => "name_owner",
            Action::ScheduleFollowUp => "schedule_follow_up",
            Action::RecordFollowUp => "record_follow_up",
            Action::Dismiss => "dismiss",
        }
    }

    /// The action with this name.
    pub fn from_name(name: &str) -> Option<Action> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// What the action must carry.
    pub fn requires(self) -> Requirements {
        let none = Requirements {
            note: false,
            person: false,
            due: false,
        };
        match self {
            Action::Assign | Action::NameOwner => Requirements {
                person: true,
                ..none
            },
            Action::ScheduleFollowUp => Requirements { due: true, ..none },
            Action::RecordFeedback
            | Action::Reopen
            | Action::RecordFollowUp
            | Action::Dismiss
            | Action::Resolve => Requirements { note: true, ..none },
            Action::Verify | Action::Study | Action::Report | Action::Convene => none,
        }
    }
}

/// An action the process does not allow from the incident's status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a {} incident that is {} cannot {}: {}",
    workflow.name(),
    from.name(),
    action.name(),
    allowed_text(allowed)
)]
pub struct TransitionError {
    /// The incident's process.
    pub workflow: WorkflowKind,
    /// Its status.
    pub from: Status,
    /// The action refused.
    pub action: Action,
    /// What it could do instead.
    pub allowed: Vec<Action>,
}

fn allowed_text(allowed: &[Action]) -> String {
    if allowed.is_empty() {
        "it is finished and allows no action".to_owned()
    } else {
        let names: Vec<&str> = allowed.iter().map(|a| a.name()).collect();
        format!("allowed now: {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (status, action) pair of each process: exactly the listed
    /// moves succeed, and every other pair is refused naming what is allowed.
    #[test]
    fn exactly_the_listed_moves_are_allowed() {
        for kind in WorkflowKind::ALL {
            let mut allowed = 0;
            for &from in kind.statuses() {
                for action in Action::ALL {
                    let listed = kind
                        .transitions()
                        .iter()
                        .find(|(f, a, _)| *f == from && *a == action);
                    match (kind.next(from, action), listed) {
                        (Ok(to), Some((_, _, want))) => {
                            assert_eq!(to, *want);
                            assert!(kind.statuses().contains(&to));
                            allowed += 1;
                        }
                        (Err(e), None) => {
                            assert_eq!(e.allowed, kind.actions_from(from));
                            assert!(e.to_string().contains(action.name()), "{e}");
                        }
                        (got, want) => panic!("{kind:?} {from:?} {action:?}: {got:?} vs {want:?}"),
                    }
                }
            }
            assert_eq!(allowed, kind.transitions().len());
        }
    }

    /// The happy paths of the seed, start to finish.
    #[test]
    fn the_seed_processes_run_to_closed() {
        use Action::*;
        let run = |kind: WorkflowKind, actions: &[Action]| {
            actions.iter().fold(kind.initial(), |s, &a| {
                kind.next(s, a).unwrap_or_else(|e| panic!("{kind:?}: {e}"))
            })
        };
        assert_eq!(
            run(
                WorkflowKind::CommunityIssue,
                &[Verify, Study, Assign, Resolve, RecordFeedback]
            ),
            Status::Closed
        );
        assert_eq!(
            run(
                WorkflowKind::Dispute,
                &[
                    Report,
                    Convene,
                    NameOwner,
                    Resolve,
                    ScheduleFollowUp,
                    ScheduleFollowUp,
                    RecordFollowUp
                ]
            ),
            Status::Closed
        );
        assert_eq!(
            run(
                WorkflowKind::Dispute,
                &[Report, Convene, Resolve, ScheduleFollowUp, RecordFollowUp]
            ),
            Status::Closed
        );
    }

    /// Every status of a process is reachable from its start, and every
    /// non-terminal one can still reach closed or dismissed.
    #[test]
    fn every_status_is_reachable_and_can_finish() {
        for kind in WorkflowKind::ALL {
            let mut reached = vec![kind.initial()];
            let mut i = 0;
            while i < reached.len() {
                for a in kind.actions_from(reached[i]) {
                    let to = kind.next(reached[i], a).expect("listed");
                    if !reached.contains(&to) {
                        reached.push(to);
                    }
                }
                i += 1;
            }
            for s in kind.statuses() {
                assert!(reached.contains(s), "{kind:?}: {s:?} unreachable");
                assert_eq!(s.is_terminal(), kind.actions_from(*s).is_empty(), "{s:?}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_name(s.name()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
        for k in WorkflowKind::ALL {
            assert_eq!(WorkflowKind::from_name(k.name()), Some(k));
        }
    }

    #[test]
    fn refusals_say_what_is_allowed() {
        let e = WorkflowKind::Dispute
            .next(Status::Found, Action::Resolve)
            .expect_err("a found dispute is not resolved before mediation");
        assert_eq!(
            e.to_string(),
            "a dispute incident that is found cannot resolve: allowed now: report, dismiss"
        );
        let e = WorkflowKind::CommunityIssue
            .next(Status::Closed, Action::Reopen)
            .expect_err("closed is final");
        assert!(
            e.to_string()
                .ends_with("it is finished and allows no action")
        );
    }
}
