//! wangge (网格, "grid"): a GIS server for county grid governance.
//!
//! A county divides itself into nested grids: towns (level 1), village
//! clusters (2), village-group clusters (3), basic grids (4) and sub-areas
//! (5). wangge stores those polygons, says which grids cover any point, and
//! serves them over HTTP. The modules, in the order data flows through them:
//!
//! - [`api`]: axum routers, one file per resource, and the problem-details error type.
//! - [`web`]: the web map (built from `web/` by `build.rs`, embedded), served at `/`.
//! - [`state`]: the shared application state: the store, the current index, and the
//!   import pipeline that validates, writes, then swaps the index.
//! - [`import`]: GeoJSON parsing and the rules a set of grids must obey.
//! - [`index`]: the in-memory R-tree over grids and the one boundary rule.
//! - [`store`]: `trait Store` and its SQLite and PostGIS backends.
//! - [`generate`]: the deterministic demo county (Qingshui-like, 2,403 grids).
//! - [`geom`]: labelled coordinates, GeoJSON and WKB conversions, metric distances.
//! - [`dispatch`]: reporting, acting on and escalating incidents (rules + index + store).
//! - [`patrol`]: hazards, road networks, route planning, patrols and coverage (rules + routing + store).
//! - [`routing`]: the road network, shortest paths and round-trip ordering for patrols.
//! - [`workflow`]: the incident processes (state machines) and escalation rules.
//! - [`model`]: domain types: `Grid`, `GridId`, `Level`.
//! - [`cli`]: the `wangge` command line.

pub mod api;
pub mod cli;
pub mod dispatch;
pub mod generate;
pub mod geom;
pub mod import;
pub mod index;
pub mod model;
pub mod patrol;
pub mod routing;
pub mod services;
pub mod state;
pub mod store;
pub mod tiles;
pub mod web;
pub mod workflow;
