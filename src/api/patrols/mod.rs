//! Patrol routes and patrols over HTTP: plan a route for a grid and shift,
//! save and edit routes, start a patrol, post its track (GeoJSON or GPX) and
//! check-ins, finish it; coverage and the due calendar. Handlers parse and
//! answer; the rules are in [`crate::patrol`]. Routes are answered as GeoJSON
//! FeatureCollections (the way as a LineString, then the stops as Points)
//! so a map can draw them as they come.
//!
//! | route | file |
//! |---|---|
//! | `POST /api/patrol-plans`, `/api/routes…` | `planning.rs` |
//! | `/api/routes/{id}/patrols`, `/api/patrols…` | `patrolling.rs` |
//! | `GET /api/coverage`, `GET /api/hazards/calendar` | `coverage.rs` |

mod coverage;
mod patrolling;
mod planning;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use jiff::Timestamp;
use utoipa::OpenApi;

use super::access::Caller;
use super::error::ApiError;
use super::params::parse_time_or_now;
use super::scope::View;
use crate::index::GridIndex;
use crate::model::account::Role;
use crate::model::{GridId, Text};
use crate::state::AppState;
use crate::text;

/// Where a caller may see and change routes and patrols: those of the
/// grids in their view. Outside it a route or patrol answers 404 and is
/// left out of lists; planning or saving a route for a grid outside it is
/// refused (the grid map is no secret, so that refusal names the grid).
struct Reach {
    view: View,
    index: Arc<GridIndex>,
    caller: Caller,
}

impl Reach {
    fn of(state: &AppState, caller: Caller) -> Reach {
        let index = state.index();
        Reach {
            view: View::of(&caller, &index),
            index,
            caller,
        }
    }

    /// Whether a route or patrol of this grid is in reach.
    fn sees(&self, grid: &GridId) -> bool {
        self.view.sees_grid(grid, &self.index)
    }

    /// Refuse to plan, save or review patrols for a grid outside the
    /// caller's view.
    fn may_plan_for(&self, grid: &GridId) -> Result<(), ApiError> {
        // A grid that does not exist is refused by the handler as such,
        // for everyone alike.
        if self.sees(grid) || self.index.get(grid).is_none() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(Text::new(
                format!(
                    "grid {grid} lies outside {}, where you may plan and review patrols",
                    self.view.describe()
                ),
                format!(
                    "网格 {grid} 在{v}之外，您只能在{v}内规划和查看巡查",
                    v = crate::patrol::view_zh(&self.view)
                ),
            )))
        }
    }

    /// The login patrols are recorded under.
    fn login(&self) -> String {
        self.caller.login()
    }

    /// Refuse a grid member's write to a patrol someone else walks (its
    /// leader and the centre may correct any patrol in their view).
    fn may_record_for(&self, member: &str) -> Result<(), ApiError> {
        let is_member = self
            .caller
            .principal
            .as_ref()
            .is_some_and(|p| p.user.role == Role::GridMember);
        if is_member && member != self.login() {
            return Err(ApiError::Forbidden(text!(
                "this patrol is walked by {member}; a grid member records their own patrols only",
                "此次巡查由 {member} 执行，网格员只能记录本人的巡查"
            )));
        }
        Ok(())
    }
}
/// The routes of these resources.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/patrol-plans", post(planning::plan_route))
        .route(
            "/api/routes",
            post(planning::save_route).get(planning::list_routes),
        )
        .route(
            "/api/routes/{id}",
            get(planning::one_route)
                .put(planning::edit_route)
                .delete(planning::delete_route),
        )
        .route("/api/routes/{id}/patrols", post(patrolling::start_patrol))
        .route("/api/patrols", get(patrolling::list_patrols))
        .route("/api/patrols/{id}", get(patrolling::one_patrol))
        .route("/api/patrols/{id}/track", post(patrolling::post_track))
        .route("/api/patrols/{id}/checkins", post(patrolling::post_checkin))
        .route("/api/patrols/{id}/finish", post(patrolling::finish_patrol))
        .route("/api/coverage", get(coverage::coverage_of))
        .route("/api/hazards/calendar", get(coverage::calendar_of))
        .route("/api/hazards/{id}/inspections", get(coverage::inspections))
}

/// The OpenAPI description of these resources.
#[derive(OpenApi)]
#[openapi(
    paths(
        planning::plan_route,
        planning::save_route,
        planning::list_routes,
        planning::one_route,
        planning::edit_route,
        planning::delete_route,
        patrolling::start_patrol,
        patrolling::list_patrols,
        patrolling::one_patrol,
        patrolling::post_track,
        patrolling::post_checkin,
        patrolling::finish_patrol,
        coverage::coverage_of,
        coverage::calendar_of,
        coverage::inspections
    ),
    tags((name = "patrols", description = "Patrol routes (巡查 / 巡更), patrols, check-ins and coverage"))
)]
pub(super) struct PatrolsApi;

/// The period `[from, to)` of a listing: `to` defaults to now, `from` to 30
/// days before `to`.
fn period(
    from: Option<&str>,
    to: Option<&str>,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp), ApiError> {
    let to = to
        .map(|s| parse_time_or_now("to", s, now))
        .transpose()?
        .unwrap_or(now + jiff::SignedDuration::from_secs(1));
    let from = from
        .map(|s| parse_time_or_now("from", s, now))
        .transpose()?
        .unwrap_or(to - jiff::SignedDuration::from_hours(24 * 30));
    if from >= to {
        return Err(ApiError::bad_parameter(
            "to",
            text!("to must be after from", "to 必须晚于 from"),
        ));
    }
    Ok((from, to))
}
