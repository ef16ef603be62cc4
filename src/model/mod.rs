//! Domain types: grids, their ids and levels, and the errors that describe a
//! grid that cannot be accepted. Nothing here knows about SQL or HTTP.

mod grid;

pub use grid::{Grid, GridId, Leader, Level, LevelError};
