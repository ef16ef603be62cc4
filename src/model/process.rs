//! The incident processes' vocabulary: which process a category follows
//! ([`WorkflowKind`]), the statuses and actions of each ([`Status`],
//! [`Action`]), who handles an incident ([`Tier`]) and how serious it is
//! ([`Severity`]). The rules that move an incident between them (the state
//! machines, escalation and deadlines) are in `workflow`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::Level;

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

    /// The name dispatchers read, in Chinese (民生诉求, 矛盾纠纷).
    pub fn zh_name(self) -> &'static str {
        match self {
            WorkflowKind::CommunityIssue => "民生诉求",
            WorkflowKind::Dispute => "矛盾纠纷",
        }
    }

    /// The status a new incident of this process starts in.
    pub fn initial(self) -> Status {
        match self {
            WorkflowKind::CommunityIssue => Status::Collected,
            WorkflowKind::Dispute => Status::Found,
        }
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

    /// The name dispatchers read, in Chinese, as the web map shows it.
    pub fn zh_name(self) -> &'static str {
        match self {
            Status::Collected => "已收集",
            Status::Verified => "已核实",
            Status::Studied => "已研判",
            Status::Assigned => "已交办",
            Status::Found => "已发现",
            Status::Reported => "已上报",
            Status::Mediating => "调解中",
            Status::OwnerNamed => "已包案",
            Status::Resolved => "已办结",
            Status::FollowUp => "回访中",
            Status::Closed => "已反馈办结",
            Status::Dismissed => "不予受理",
        }
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

    /// The name dispatchers read, in Chinese, as the web map shows it.
    pub fn zh_name(self) -> &'static str {
        match self {
            Action::Verify => "核实",
            Action::Study => "研判",
            Action::Assign => "交办",
            Action::Resolve => "办结",
            Action::RecordFeedback => "记录反馈并结案",
            Action::Reopen => "重新办理",
            Action::Report => "上报",
            Action::Convene => "召集调解",
            Action::NameOwner => "指定包案人",
            Action::ScheduleFollowUp => "安排回访",
            Action::RecordFollowUp => "记录回访",
            Action::Dismiss => "不予受理",
        }
    }
}

/// Who handles an incident: a grid level of its chain, or the county.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tier(u8);

impl Tier {
    /// The county's governance centre, above the towns.
    pub const COUNTY: Tier = Tier(0);

    /// Every tier, county first.
    pub const ALL: [Tier; 6] = [Tier(0), Tier(1), Tier(2), Tier(3), Tier(4), Tier(5)];

    /// The tier of a grid level.
    pub fn grid(level: Level) -> Tier {
        Tier(level.get())
    }

    /// The tier numbered 0 (county) to 5 (sub-area), as stored.
    pub fn from_number(n: i64) -> Option<Tier> {
        (0..=5).contains(&n).then_some(Tier(n as u8))
    }

    /// 0 for the county, else the grid level.
    pub fn number(self) -> u8 {
        self.0
    }

    /// The grid level, or `None` for the county.
    pub fn level(self) -> Option<Level> {
        Level::new(i64::from(self.0)).ok()
    }

    /// The name used in configuration and by the API.
    pub fn name(self) -> &'static str {
        ["county", "town", "village", "group", "grid", "patch"][usize::from(self.0)]
    }

    /// The tier with this name.
    pub fn from_name(name: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.name() == name)
    }

    /// One tier up, or `None` at the county.
    pub fn up(self) -> Option<Tier> {
        self.0.checked_sub(1).map(Tier)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How serious an incident is, which sets where it is handled first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 小事: handled in the village, starting with the deepest grid's leader.
    Minor,
    /// 大事: handled by the town.
    Major,
    /// 要事: handled by the county.
    Critical,
}

impl Severity {
    /// Every severity, least first.
    pub const ALL: [Severity; 3] = [Severity::Minor, Severity::Major, Severity::Critical];

    /// The name stored and written by the API.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Critical => "critical",
        }
    }

    /// The severity with this name.
    pub fn from_name(name: &str) -> Option<Severity> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The tier that handles it first, given the deepest level of the
    /// point's chain (`None`: the point is in no grid, so the county).
    pub fn first_tier(self, deepest: Option<Level>) -> Tier {
        match (self, deepest) {
            (_, None) | (Severity::Critical, _) => Tier::COUNTY,
            (Severity::Major, Some(_)) => Tier::grid(Level::TOWN),
            (Severity::Minor, Some(level)) => Tier::grid(level),
        }
    }
}
