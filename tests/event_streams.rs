//! The incident event stream under abuse and after logout: one user's
//! 10,000 connection attempts are refused past their share without
//! stopping anyone else's stream, every slot and receiver is given back
//! when the streams close, and a stream ends once its session is logged
//! out, so it stops showing that user's view.

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use support::TestStore;
use support::four_towns::four_towns_app;
use support::http::send;
use support::sse::EventReader;
use tower::ServiceExt;
use wangge::dispatch::events::MAX_STREAMS_PER_USER;
use wangge::model::GridId;
use wangge::model::account::{Role, Scope};
use wangge::store::Backend;

/// Connection attempts made by the one greedy user.
const ATTEMPTS: usize = 10_000;

async fn open_stream(app: &axum::Router, authorization: (&str, &str)) -> axum::response::Response {
    app.clone()
        .oneshot(
            Request::get("/api/incidents/events")
                .header(authorization.0, authorization.1)
                .body(Body::empty())
                .expect("a request"),
        )
        .await
        .expect("infallible")
}

#[tokio::test]
async fn one_user_s_ten_thousand_streams_do_not_stop_others_and_all_are_given_back() {
    let t = TestStore::open(Backend::Sqlite).await;
    let (state, app) = four_towns_app(&t).await;
    let greedy = support::user_token(
        state.accounts(),
        "leader-sw",
        Role::GridLeader,
        Scope::Grid(GridId::from("b-sw-w-s")),
    )
    .await;
    let other = support::user_token(
        state.accounts(),
        "dispatcher-1",
        Role::Dispatcher,
        Scope::County,
    )
    .await;
    let greedy = format!("Bearer {greedy}");
    let other = format!("Bearer {other}");

    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..ATTEMPTS {
        let response = open_stream(&app, ("authorization", &greedy)).await;
        match response.status() {
            StatusCode::OK => held.push(response),
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(response.headers().contains_key(header::RETRY_AFTER));
                refused += 1;
            }
            status => panic!("an attempt answered {status}"),
        }
    }
    assert_eq!(held.len(), MAX_STREAMS_PER_USER);
    assert_eq!(refused, ATTEMPTS - MAX_STREAMS_PER_USER);
    assert_eq!(state.live().listeners(), (MAX_STREAMS_PER_USER, 1));

    // Another user still listens, and hears a report at once.
    let answer = open_stream(&app, ("authorization", &other)).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let mut events = EventReader::new(answer.into_body());
    assert_eq!(events.next().await.kind, "ready");
    let reported = support::http::post_json(
        &app,
        "/api/incidents",
        &json!({"category": "sanitation", "description": "垃圾堆积",
            "lon": 106.15, "lat": 34.65, "source": "hotline"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let event = events.next().await;
    let data: Value = serde_json::from_str(&event.data).expect("JSON");
    assert_eq!(
        (event.kind.as_str(), &data["id"]),
        ("reported", &reported["incident"]["id"])
    );

    // Closing gives everything back: no receiver, no per-user entry; and
    // the greedy user may listen again.
    drop(held);
    drop(events);
    assert_eq!(state.live().listeners(), (0, 0));
    let again = open_stream(&app, ("authorization", &greedy)).await;
    assert_eq!(again.status(), StatusCode::OK);
    drop(again);
    assert_eq!(state.live().listeners(), (0, 0));
    t.cleanup().await;
}

#[tokio::test]
async fn a_stream_ends_when_its_session_is_logged_out() {
    let t = TestStore::open(Backend::Sqlite).await;
    let (state, app) = four_towns_app(&t).await;
    support::user_token(
        state.accounts(),
        "dispatcher-1",
        Role::Dispatcher,
        Scope::County,
    )
    .await;
    let login = support::http::log_in(&app, "dispatcher-1", "a long enough password").await;
    let session = login.expect(StatusCode::OK);
    let cookie = login
        .header(header::SET_COOKIE)
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let csrf = session["csrf_token"]
        .as_str()
        .expect("a CSRF token")
        .to_owned();

    let answer = open_stream(&app, ("cookie", &cookie)).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let mut events = EventReader::new(answer.into_body());
    assert_eq!(events.next().await.kind, "ready");
    assert!(
        !events.ends_within(Duration::from_secs(1)).await,
        "a live session's stream stays open"
    );

    let logout = send(
        &app,
        Request::delete("/api/session")
            .header(header::COOKIE, &cookie)
            .header("x-csrf-token", &csrf)
            .body(Body::empty())
            .expect("a request"),
    )
    .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let wait = wangge::api::EVENT_STREAM_RECHECK + Duration::from_secs(5);
    assert!(
        events.ends_within(wait).await,
        "the stream ends within {wait:?} of the logout"
    );
    // The server drops a body once it ended; so does this client.
    drop(events);
    assert_eq!(state.live().listeners(), (0, 0));
    t.cleanup().await;
}
