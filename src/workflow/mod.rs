//! How incidents move: the county's two processes as state machines
//! (`states.rs`) and the escalation rules that decide which level of the
//! grid hierarchy handles an incident and for how long (`escalation.rs`).
//! Pure rules: nothing here knows about storage, HTTP or time sources; the
//! caller passes the clock in.

mod escalation;
mod states;

pub use escalation::{Deadlines, DeadlinesError, Severity, Tier, escalation_target};
pub use states::{Action, Requirements, Status, TransitionError, WorkflowKind};
