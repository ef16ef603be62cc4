//! wangge (网格, "grid"): a GIS server for county grid governance.
//!
//! A county divides itself into nested grids: towns (level 1), village
//! clusters (2), village-group clusters (3), basic grids (4) and sub-areas
//! (5). wangge stores those polygons, says which grids cover any point,
//! assigns incidents, hazards and patrol routes to them, and serves them
//! over HTTP.
//!
//! # Layers, bottom up
//!
//! Each layer uses only the ones above it in this list; `tests/layers.rs`
//! reads the sources and fails on a `use` that breaks the table.
//!
//! | layer | modules | may use |
//! |---|---|---|
//! | types | [`geom`] (coordinates, CRS, WKB, metric frames, distances), [`model`] (domain types, filters, the change feed's entries, grid GeoJSON) | `model` may use `geom`; `geom` nothing |
//! | pure logic | [`workflow`] (the processes' rules), [`index`] (R-tree, the boundary rule, locate), [`routing`], [`tiles`], [`import`] (GeoJSON and Shapefile parsing, checks, boundary edits) | types, each other |
//! | storage | [`store`]: `trait Store` (reads), `Unit` (one transaction per change, with its change-feed entries), SQLite and PostGIS; GeoPackage files | types |
//! | services | [`services`] (the change feed follower, grid changes planned then applied with their impact, grid files), [`dispatch`] (incidents), [`patrol`] (hazards, routes, patrols) | everything above |
//! | demo data | [`generate`]: the demo county, roads, hazards and a year of incidents, as plain values | types, pure logic |
//! | faces | [`api`] (axum routers; never the store), [`web`] (the map), [`state`] (what the HTTP layer holds), [`cli`] (seeds demo data through the services) | services and below |
//!
//! # How a change travels
//!
//! A handler parses the request and calls a service. The service plans
//! (validates, computes, for grids also the new index and the impact on
//! incidents, hazards and routes), then applies in one unit of work: every
//! row, history entry and change-feed row in one transaction, guarded by the
//! versions it read. After the commit, in feed order, [`services::feed`]
//! applies the in-process effects: the index swap, the tile eviction, the
//! live incident layer and its event stream. Changes other processes commit
//! (the CLI, another server on the same PostgreSQL) reach this process the
//! same way, by following the feed.

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
