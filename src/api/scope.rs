//! A caller's [`View`] (defined in the model, where services read it):
//! a grid leader, member or grid-bound dispatcher sees the incidents
//! reported inside their grid's subtree, the patrol routes and patrols of
//! the grids in it, and changes hazards there only; a county-wide user
//! sees all; a department user sees none yet (departments are not called
//! on cases yet, so there is nothing of theirs to show). The grid map,
//! hazards and roads are read county-wide: they name nobody.
//!
//! Outside the view, a single object answers 404 exactly as one that does
//! not exist, and lists leave it out: nobody learns what they may not see.
//! (These methods are the API's half of `View`: working out a caller's
//! view needs the caller and the index, which the model does not know.)

use crate::index::GridIndex;
pub use crate::model::View;
use crate::model::account::Scope;
use crate::model::{GridId, IncidentFilter};

use super::access::Caller;

/// Whether a caller may read grid leaders' mobile numbers: every logged-in
/// user may (they work with the leaders); the published grid map, read
/// anonymously, names each leader without their number.
pub fn sees_contacts(caller: &Caller) -> bool {
    caller.principal.is_some()
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

    /// Whether a grid (a patrol route's, a patrol's) lies in view: the
    /// view's grid or one beneath it.
    pub fn sees_grid(&self, grid: &GridId, index: &GridIndex) -> bool {
        match self {
            View::All => true,
            View::Subtree(_, id) => index.is_within(grid, id),
            View::Nothing => false,
        }
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
