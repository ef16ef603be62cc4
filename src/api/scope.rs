//! Where a caller's view of people's data ends: a grid leader, member or
//! grid-bound dispatcher sees the incidents reported inside their grid's
//! subtree and nothing else; a county-wide user sees all; a department
//! user sees none yet (departments are not called on cases yet, so there
//! is nothing of theirs to show).
//!
//! Outside the view, a single object answers 404 exactly as one that does
//! not exist, and lists leave it out: nobody learns what they may not see.

use crate::index::GridIndex;
use crate::model::account::Scope;
use crate::model::{GridChain, GridId, Incident, IncidentFilter, Level};

use super::access::Caller;

/// What part of the county's incidents a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// All of them.
    All,
    /// Those reported inside this grid (at this level) and its subtree.
    Subtree(Level, GridId),
    /// None.
    Nothing,
}

impl View {
    /// The caller's view, with the current index (a scope grid that no
    /// longer exists shows nothing). Anonymous callers only reach routes
    /// that carry no incidents, and see nothing.
    pub fn of(caller: &Caller, index: &GridIndex) -> View {
        let Some(principal) = &caller.principal else {
            return View::Nothing;
        };
        match &principal.user.scope {
            Scope::County => View::All,
            Scope::Grid(id) => index
                .get(id)
                .map_or(View::Nothing, |g| View::Subtree(g.level, id.clone())),
            Scope::Department(_) => View::Nothing,
        }
    }

    /// Whether an incident reported with this chain is in view.
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

    /// Narrow a list's filter to the view: a grid asked for inside the
    /// view stays, the view's grid replaces one that contains it. `false`
    /// when nothing the filter asks for is in view (the list is empty).
    pub fn narrow(&self, filter: &mut IncidentFilter, index: &GridIndex) -> bool {
        match self {
            View::All => true,
            View::Nothing => false,
            View::Subtree(level, id) => match &filter.grid {
                None => {
                    filter.grid = Some((*level, id.clone()));
                    true
                }
                Some((_, asked)) if index.is_within(asked, id) => true,
                Some((_, asked)) if index.is_within(id, asked) => {
                    filter.grid = Some((*level, id.clone()));
                    true
                }
                Some(_) => false,
            },
        }
    }
}
