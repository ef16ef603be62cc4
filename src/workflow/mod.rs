//! How incidents move: the county's two processes as state machines
//! (`states.rs`) and the escalation rules that decide which level of the
//! grid hierarchy handles an incident and for how long (`escalation.rs`).
//! Pure rules: nothing here knows about storage, HTTP or time sources; the
//! caller passes the clock in.

mod escalation;
mod states;

pub use escalation::{Deadlines, DeadlinesError, escalation_target};
pub use states::{Requirements, TransitionError};

// The vocabulary the rules speak lives in `model`; re-exported here so that
// the rules and their types read together.
pub use crate::model::{Action, Severity, Status, Tier, WorkflowKind};
