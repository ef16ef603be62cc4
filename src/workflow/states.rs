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

use crate::model::{Action, Localized, Status, WorkflowKind};

impl WorkflowKind {
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

/// In Chinese, with the names the web map shows: "矛盾纠纷类事件当前状态为
/// “已发现”，不能办结，现在可以：上报、不予受理".
impl Localized for TransitionError {
    fn zh(&self) -> String {
        let allowed = if self.allowed.is_empty() {
            "该事件已结束，不能再做任何操作".to_owned()
        } else {
            let names: Vec<&str> = self.allowed.iter().map(|a| a.zh_name()).collect();
            format!("现在可以：{}", names.join("、"))
        };
        format!(
            "{}类事件当前状态为“{}”，不能{}，{allowed}",
            self.workflow.zh_name(),
            self.from.zh_name(),
            self.action.zh_name(),
        )
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

    #[test]
    fn refusals_say_what_is_allowed_in_chinese() {
        let e = WorkflowKind::Dispute
            .next(Status::Found, Action::Resolve)
            .expect_err("a found dispute is not resolved before mediation");
        assert_eq!(
            e.zh(),
            "矛盾纠纷类事件当前状态为“已发现”，不能办结，现在可以：上报、不予受理"
        );
        let e = WorkflowKind::CommunityIssue
            .next(Status::Closed, Action::Reopen)
            .expect_err("closed is final");
        assert!(
            e.zh().ends_with("该事件已结束，不能再做任何操作"),
            "{}",
            e.zh()
        );
    }
}
