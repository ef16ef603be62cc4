//! The services: one per capability, each built from the dependencies it
//! names (a store, the current index, the tile cache, the change feed, its
//! settings) and none reaching for the application state. A change travels
//! one way through them: plan (validate, compute, list the impact), apply
//! in one unit of work with its change-feed entries, then, after commit and
//! in sequence order, the in-process effects (see [`feed`]).
//!
//! - [`accounts`]: logins, sessions and tokens checked on every request,
//!   users, and the audit trail of all of it;
//! - [`feed`]: follows the change feed and applies in-process effects (index
//!   swap, tile eviction, live incidents, road network) in sequence order,
//!   for this process's changes and other processes' alike.
//! - [`grids`]: grid changes (imports and boundary edits), planned then
//!   applied;
//! - [`grid_files`]: grids read from and written to the planners' files
//!   (GeoJSON, zipped Shapefiles, GeoPackages);
//! - [`origin`]: the caller a request's changes are made for, read by
//!   the commit that writes their audit entries;
//! - [`throttle`]: rate limits on report submission, per account and per
//!   address;
//! - [`impact`]: what a grid change moves (incidents, hazards, routes,
//!   area and population, leaders' cases), for the plan and the apply;
//! - [`versions`]: the grid set's dated versions: the grids as of any
//!   time, scheduled changes applied when they come due, restoring and
//!   cancelling.

pub mod accounts;
pub mod feed;
pub mod grid_files;
pub mod grids;
pub mod impact;
pub mod origin;
pub mod throttle;
pub mod versions;

use std::sync::{Arc, RwLock};

/// A value swapped whole (the grid index, the road network): readers take
/// the `Arc` as it is now and keep it for as long as they need one version.
pub struct Current<T>(RwLock<Arc<T>>);

impl<T> Current<T> {
    /// Start with `value`.
    pub fn new(value: Arc<T>) -> Current<T> {
        Current(RwLock::new(value))
    }

    /// The value as it is now.
    pub fn get(&self) -> Arc<T> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replace the value.
    pub fn set(&self, value: Arc<T>) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = value;
    }
}
