//! The HTTP API (skeleton; filled in by the API work).

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

/// The whole HTTP surface over shared state.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new().route("/healthz", get(|| async { "ok" })).with_state(state)
}
