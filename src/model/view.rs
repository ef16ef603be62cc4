//! Where a user's view of people's data ends: a grid leader, member or
//! grid-bound dispatcher sees (and changes) what lies inside their grid's
//! subtree and nothing else; a county-wide user all; a department user
//! nothing yet (departments are not called on cases yet).
//!
//! The API works out a caller's view (`api::scope`); services that change
//! located things (hazards, patrol routes) take it to refuse a change
//! outside it.

use super::{GridChain, GridId, Incident, Level};

/// What part of the county's located records a user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// All of them.
    All,
    /// Those located inside this grid (at this level) and its subtree.
    Subtree(Level, GridId),
    /// None.
    Nothing,
}

impl View {
    /// Whether a record located in this chain is in view.
    pub fn sees_chain(&self, chain: &GridChain) -> bool {
        match self {
            View::All => true,
            View::Subtree(level, id) => chain[level.index()].as_ref() == Some(id),
            View::Nothing => false,
        }
    }

    /// Whether an incident is in view.
    pub fn sees(&self, incident: &Incident) -> bool {
        self.sees_chain(&incident.chain)
    }

    /// The grid a view is bound to, for messages: `grid X`, `the county`.
    pub fn describe(&self) -> String {
        match self {
            View::All => "the county".into(),
            View::Subtree(_, id) => format!("grid {id}"),
            View::Nothing => "nothing".into(),
        }
    }
}
