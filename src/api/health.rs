//! `/healthz`: is the server up and does its store answer? For load
//! balancers and orchestrators: 200 with the grid count, or 503.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::error::{ApiError, ProblemDocument};
use crate::state::AppState;

/// How long the store may take to answer before the server reports itself
/// unavailable: a health check that hangs is worse than one that fails.
const STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// The routes of this resource.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/healthz", get(healthz))
}

/// The OpenAPI description of this resource.
#[derive(OpenApi)]
#[openapi(paths(healthz))]
pub(super) struct HealthApi;

/// The server is up and its store answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Health)]
struct HealthDto {
    /// Always `ok`.
    #[schema(example = "ok")]
    status: &'static str,
    /// Grids in the store, all levels.
    #[schema(example = 2403)]
    grids: u64,
    /// The store's backend: `sqlite` or `postgis`.
    #[schema(example = "sqlite")]
    backend: &'static str,
    /// The grid-set version this server serves (a grid import names it to
    /// be refused if another change committed first).
    #[schema(example = 1)]
    grid_version: i64,
    /// The last change-feed sequence number this server has applied.
    #[schema(example = 42)]
    change: i64,
    /// Change-feed entries this server passed over since it started,
    /// because it cannot read them or the record they name (each is logged
    /// as an error): anything but 0 needs a look.
    #[schema(example = 0)]
    changes_skipped: u64,
}

/// Whether the server and its store answer.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses(
        (status = 200, description = "Up; the store answered", body = HealthDto),
        (status = 503, description = "The store did not answer (within 5 s)",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn healthz(State(state): State<Arc<AppState>>) -> Result<axum::Json<HealthDto>, ApiError> {
    let counts = tokio::time::timeout(STORE_TIMEOUT, state.stored_grid_counts())
        .await
        .map_err(|e| ApiError::ServiceUnavailable {
            context: "health check: counting grids in the store",
            source: e.into(),
        })?
        .map_err(|e| ApiError::ServiceUnavailable {
            context: "health check: counting grids in the store",
            source: e.into(),
        })?;
    Ok(axum::Json(HealthDto {
        status: "ok",
        grids: counts.iter().sum(),
        backend: state.backend_name(),
        grid_version: state.index().version(),
        change: state.feed().applied(),
        changes_skipped: state.feed().skipped(),
    }))
}
