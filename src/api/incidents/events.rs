//! `GET /api/incidents/events`: incident changes as server-sent events, so
//! that open dispatcher maps show new reports and changes without reloading.
//!
//! Events: `ready` once subscribed (data `{}`), then `reported` and
//! `changed`, each with the incident as `GET /api/incidents/{id}` writes it
//! (without history) and its id as the event id. A listener that fell too
//! far behind gets `lagged` (data: how many changes it missed) and should
//! reload its list. Comments keep the connection alive every 15 s. The
//! stream ends when the server shuts down; browsers reconnect by themselves.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use jiff::Timestamp;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::dto::IncidentDto;
use crate::state::AppState;

/// Follow incident changes.
#[utoipa::path(
    get,
    path = "/api/incidents/events",
    tag = "incidents",
    responses(
        (status = 200, description = "A `text/event-stream`: `ready`, then `reported` and \
            `changed` events whose data is the incident (JSON), and `lagged` when changes \
            were missed", content_type = "text/event-stream"),
    )
)]
pub(super) async fn events(
    State(state): State<Arc<AppState>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before answering, so that nothing recorded after `ready`
    // is missed.
    let changes = BroadcastStream::new(state.live().subscribe());
    let ready = Event::default().event("ready").data("{}");
    let shutdown = state.shutdown_begun();
    let stream = futures_util::stream::once(std::future::ready(ready))
        .chain(changes.map(move |change| match change {
            Ok(change) => {
                let dto = IncidentDto::new(&change.incident, &state.index(), Timestamp::now());
                Event::default()
                    .event(change.kind.name())
                    .id(change.incident.id.0.to_string())
                    .json_data(dto)
                    .unwrap_or_else(|_| Event::default().event("lagged").data("1"))
            }
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                Event::default().event("lagged").data(missed.to_string())
            }
        }))
        .map(Ok)
        .take_until(shutdown);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
