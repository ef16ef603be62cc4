//! `GET /api/incidents/events`: incident changes as server-sent events, so
//! that open dispatcher maps show new reports and changes without reloading.
//!
//! Events: `ready` once subscribed (data `{}`), then `reported`, `changed`
//! and `handed_over` (an open incident a grid change gave to another grid
//! and its leader: news to that leader, as a report is), each with the
//! incident as `GET /api/incidents/{id}` writes it (without history) and
//! the change-feed sequence number as the event id. A reconnect's replay
//! sends each incident as it now stands, under the kind of its last
//! change. A listener that fell too far behind gets `lagged` (data: how
//! many changes it missed) and should reload its list. Comments keep the
//! connection alive every 15 s. The stream ends when the server shuts
//! down, and within [`RECHECK`] of its credential ending (logout, a revoked
//! token, a disabled user) or its user's role or grid changing; browsers
//! reconnect by themselves (and get their new view). One user holds
//! at most [`MAX_STREAMS_PER_USER`] streams; past that, 429.

use crate::api::ApiError;
use crate::api::access::{Caller, credential_secret};
use crate::api::scope::View;
use crate::dispatch::events::MAX_STREAMS_PER_USER;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use jiff::Timestamp;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::dto::IncidentDto;
use crate::model::{ChangeKind, Incident, IncidentId};
use crate::state::AppState;
use crate::text;

/// Follow incident changes.
#[utoipa::path(
    get,
    path = "/api/incidents/events",
    tag = "incidents",
    params(("Last-Event-ID" = Option<String>, Header,
        description = "The id of the last event received: what was committed since is sent \
            first. As browsers send back whatever id they were given, a value that is not a \
            64-bit event id is ignored (the stream starts from now)")),
    responses(
        (status = 429, description = "The user already holds as many streams as one user may",
            body = crate::api::error::ProblemDocument, content_type = "application/problem+json"),
        (status = 200, description = "A `text/event-stream`: `ready`, then `reported`, \
            `changed` and `handed_over` (moved to another grid and its leader by a grid \
            change) events whose data is the incident (JSON) and whose id is the change-feed \
            sequence number, and `lagged` when changes were missed. A client reconnecting \
            with `Last-Event-ID` first receives every incident changed since, as it now \
            stands", content_type = "text/event-stream"),
    )
)]
pub(super) async fn events(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Subscribe before answering (and before reading what was missed), so
    // that nothing committed after this point is lost; what the replay
    // already sent is skipped from the live stream by its sequence number.
    let login = caller.login();
    let listener = state
        .live()
        .listen_as(&login)
        .ok_or_else(|| ApiError::TooManyRequests {
            detail: text!(
                "{login} already holds {MAX_STREAMS_PER_USER} event streams, as many as one user \
                 may: close one first",
                "{login} 已打开 {MAX_STREAMS_PER_USER} 个事件推送连接，已达每个用户的上限，\
                 请先关闭一个"
            ),
            retry_after_secs: RECHECK.as_secs(),
        })?;
    let changes = BroadcastStream::new(listener.changes);
    // The slot is given back when the stream (which owns this) is dropped.
    let slot = listener.slot;
    let ended = credential_ended(state.clone(), credential_secret(&headers), caller.clone());
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let (missed, replayed_to, complete) = match last_seen {
        Some(seen) => replay(&state, seen).await,
        None => (Vec::new(), 0, true),
    };
    let ready = Event::default().event("ready").data("{}");
    let shutdown = state.shutdown_begun();
    let index = state.index();
    let now = Timestamp::now();
    // Only the caller's view is sent (the view as of connecting).
    let view = View::of(&caller, &index);
    let missed: Vec<Event> = missed
        .into_iter()
        .filter(|(_, _, incident)| view.sees(incident))
        .map(|(seq, kind, incident)| incident_event(seq, kind, &incident, &index, now))
        .collect();
    // A replay that could not send everything missed says so, as a slow
    // listener is told: the client reloads its list.
    let lagged = (!complete).then(|| Event::default().event("lagged").data("replay"));
    let stream = futures_util::stream::once(std::future::ready(ready))
        .chain(futures_util::stream::iter(missed))
        .chain(futures_util::stream::iter(lagged))
        .chain(changes.filter_map(move |change| {
            let event = match change {
                Ok(change) if change.seq <= replayed_to => None,
                Ok(change) if !view.sees(&change.incident) => None,
                Ok(change) => Some(incident_event(
                    change.seq,
                    change.kind.name(),
                    &change.incident,
                    &state.index(),
                    Timestamp::now(),
                )),
                Err(BroadcastStreamRecvError::Lagged(missed)) => {
                    Some(Event::default().event("lagged").data(missed.to_string()))
                }
            };
            std::future::ready(event)
        }))
        .map(move |event| {
            let _held = &slot;
            Ok(event)
        })
        .take_until(shutdown)
        .take_until(ended);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// How often an open stream checks that its credential still holds.
pub const RECHECK: Duration = Duration::from_secs(10);

/// Resolves once the credential the stream was opened with no longer
/// names the same holder as they were: logged out, revoked, expired,
/// disabled, or given another role or grid. A stream must not keep
/// showing a view its user no longer has.
async fn credential_ended(state: Arc<AppState>, secret: Option<String>, caller: Caller) {
    let Some(secret) = secret else {
        // Anonymous callers never reach this route; nothing to watch.
        return std::future::pending().await;
    };
    let Some(opened) = caller.principal else {
        return std::future::pending().await;
    };
    loop {
        tokio::time::sleep(RECHECK).await;
        match state.accounts().authenticate(&secret).await {
            // The same credential of the same user, unchanged: a new role
            // or grid means a new view, which the client gets by
            // reconnecting.
            Ok(Some(now)) if now.credential == opened.credential && now.user == opened.user => {}
            // A store failure is not a logout: check again later.
            Err(e) => tracing::warn!(error = %e, "rechecking an event stream's credential"),
            Ok(_) => return,
        }
    }
}

/// The most changes one reconnect replays; a client further behind is told
/// it lagged and should reload its list.
const MAX_REPLAY: u32 = 1000;

/// Every incident changed after `seen`, as it now stands, with the sequence
/// number of its last change; the sequence number replayed to; and whether
/// that is everything (false when the feed could not be read or holds more
/// than one replay's worth).
async fn replay(state: &AppState, seen: i64) -> (Vec<(i64, &'static str, Incident)>, i64, bool) {
    let mut latest: HashMap<i64, (i64, &'static str)> = HashMap::new();
    let read =
        futures_util::future::try_join(state.feed().latest(), state.feed().read(seen, MAX_REPLAY));
    let (newest, changes) = match read.await {
        Ok(read) => read,
        Err(e) => {
            tracing::error!(error = %e, "reading the change feed for a reconnecting listener");
            return (Vec::new(), seen.min(0), false);
        }
    };
    let complete = changes.len() < MAX_REPLAY as usize;
    // An id from the future (a database reset since) hides nothing.
    let seen = seen.min(newest);
    let replayed_to = changes.last().map_or(seen, |c| c.seq);
    for change in changes.iter().filter(|c| c.kind == ChangeKind::Incident) {
        for id in change.ids.iter().filter_map(|id| id.parse::<i64>().ok()) {
            let kind = match latest.get(&id) {
                Some((_, "reported")) => "reported",
                _ if change.summary.starts_with(crate::dispatch::REPORTED) => "reported",
                _ if change.summary == crate::dispatch::HANDED_OVER => "handed_over",
                _ => "changed",
            };
            latest.insert(id, (change.seq, kind));
        }
    }
    let mut missed = Vec::with_capacity(latest.len());
    for (id, (seq, kind)) in latest {
        match state.dispatch().incident(IncidentId(id)).await {
            Ok(Some(incident)) => missed.push((seq, kind, incident)),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, id, "reading a missed incident"),
        }
    }
    missed.sort_by_key(|(seq, _, _)| *seq);
    (missed, replayed_to, complete)
}

fn incident_event(
    seq: i64,
    kind: &str,
    incident: &Incident,
    index: &crate::index::GridIndex,
    now: Timestamp,
) -> Event {
    let dto = IncidentDto::new(incident, index, now);
    Event::default()
        .event(kind)
        .id(seq.to_string())
        .json_data(dto)
        .unwrap_or_else(|_| Event::default().event("lagged").data("1"))
}
