//! A reader of server-sent events off a streaming response body, for the
//! tests of the incident event stream.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// An event read off a `text/event-stream`.
#[derive(Debug)]
pub struct Event {
    /// The `event:` field (`message` when absent).
    pub kind: String,
    /// The `id:` field.
    pub id: Option<String>,
    /// The `data:` lines, joined.
    pub data: String,
}

/// Reads events from a streaming body, frame by frame.
pub struct EventReader {
    body: Body,
    buffer: String,
}

impl EventReader {
    /// `GET /api/incidents/events` on `app`, reconnecting after the event
    /// `last_event_id` (the replay of what was missed comes first).
    pub async fn reconnect(app: &Router, last_event_id: i64) -> EventReader {
        let response = app
            .clone()
            .oneshot(
                Request::get("/api/incidents/events")
                    .header("last-event-id", last_event_id.to_string())
                    .body(Body::empty())
                    .expect("a request"),
            )
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        EventReader::new(response.into_body())
    }

    /// A reader of `body`, a `text/event-stream`.
    pub fn new(body: Body) -> EventReader {
        EventReader {
            body,
            buffer: String::new(),
        }
    }

    /// Whether the server ends the stream within `wait` (events and
    /// keep-alives before the end are read and dropped).
    #[allow(dead_code)]
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return false,
                Ok(None) => return true,
                Ok(Some(frame)) => {
                    frame.expect("a frame");
                }
            }
        }
    }

    /// The next event (keep-alive comments skipped); panics after 10 s
    /// without one.
    pub async fn next(&mut self) -> Event {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event {
                    kind: "message".into(),
                    id: None,
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event.kind = v.trim().to_owned();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("id:") {
                        event.id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data.push_str(v.trim_start());
                        any = true;
                    }
                }
                if any {
                    return event;
                }
                continue; // a keep-alive comment
            }
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame())
                .await
                .expect("an event within 10 s")
                .expect("the stream is open")
                .expect("a frame");
            if let Ok(bytes) = frame.into_data() {
                self.buffer
                    .push_str(std::str::from_utf8(&bytes).expect("UTF-8"));
            }
        }
    }
}
