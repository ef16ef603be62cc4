//! Who may call what, as a table: every route × every role (and anonymous),
//! on both backends, expecting allow or deny. The table here is written
//! out by hand, independently of the server's own (`api::access::RULES`):
//! a route added to the server without a row here, or a row the server no
//! longer has, fails the test, and so does a `.route("…")` in the sources
//! without an access rule.
//!
//! "Allow" means the request got past access control: any answer but 401
//! and 403 (most requests here carry no valid body, so an allowed write is
//! refused later, with 400, 404, 415 or 422, and changes nothing). "Deny"
//! means 401 for anonymous callers and 403 for a logged-in role without
//! the capability.
//!
//! Also here: logging in and out with the cookie, the CSRF token a cookie
//! write needs, tokens, disabled users, the published grid map, and the
//! audit trail.

#[macro_use]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use support::http::{Answer, get_with, send};
use support::{TestStore, four_towns::four_towns_app};
use wangge::model::GridId;
use wangge::model::account::{Role, Scope};
use wangge::services::accounts::{AccessSettings, Actor};
use wangge::store::Backend;

/// Who calls.
const CALLERS: [&str; 8] = [
    "admin",
    "planner",
    "dispatcher",
    "grid_leader",
    "grid_member",
    "department",
    "viewer",
    "anonymous",
];

/// Everyone who is logged in.
const ANY: &[&str] = &[
    "admin",
    "planner",
    "dispatcher",
    "grid_leader",
    "grid_member",
    "department",
    "viewer",
];
/// Everyone, logged in or not.
const ALL: &[&str] = &[
    "admin",
    "planner",
    "dispatcher",
    "grid_leader",
    "grid_member",
    "department",
    "viewer",
    "anonymous",
];
const ADMIN: &[&str] = &["admin"];
const PLANNERS: &[&str] = &["admin", "planner"];
/// Who sees incidents: everyone logged in.
const SEE_INCIDENTS: &[&str] = ANY;
const REPORTERS: &[&str] = &["admin", "dispatcher", "grid_leader", "grid_member"];
const DISPATCHERS: &[&str] = &["admin", "dispatcher", "grid_leader", "department"];
const SEE_HAZARDS: &[&str] = &[
    "admin",
    "planner",
    "dispatcher",
    "grid_leader",
    "grid_member",
    "viewer",
];
const EDIT_HAZARDS: &[&str] = &["admin", "dispatcher", "grid_leader"];
const PATROLLERS: &[&str] = &["admin", "grid_leader", "grid_member"];
const SEE_PATROLS: &[&str] = &[
    "admin",
    "planner",
    "dispatcher",
    "grid_leader",
    "grid_member",
    "viewer",
];

/// One row: method, route as the server routes it, a concrete path, who
/// may.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

const MATRIX: &[Row] = &[
    ("POST", "/api/session", "/api/session", ALL),
    ("GET", "/api/session", "/api/session", ANY),
    ("DELETE", "/api/session", "/api/session", ALL),
    ("GET", "/api/users", "/api/users", ADMIN),
    ("POST", "/api/users", "/api/users", ADMIN),
    ("GET", "/api/users/{id}", "/api/users/999", ADMIN),
    ("PATCH", "/api/users/{id}", "/api/users/999", ADMIN),
    (
        "GET",
        "/api/users/{id}/tokens",
        "/api/users/999/tokens",
        ADMIN,
    ),
    (
        "POST",
        "/api/users/{id}/tokens",
        "/api/users/999/tokens",
        ADMIN,
    ),
    (
        "DELETE",
        "/api/users/{id}/tokens/{token_id}",
        "/api/users/999/tokens/1",
        ADMIN,
    ),
    ("GET", "/api/audit", "/api/audit?limit=0", ADMIN),
    ("GET", "/api/grids", "/api/grids", ANY),
    ("GET", "/api/grids/{id}", "/api/grids/t-sw", ANY),
    ("GET", "/api/grids/search", "/api/grids/search?q=镇", ANY),
    (
        "GET",
        "/api/grids/export",
        "/api/grids/export?format=bogus",
        ANY,
    ),
    ("POST", "/api/grids/import", "/api/grids/import", PLANNERS),
    ("POST", "/api/grids/edits", "/api/grids/edits", PLANNERS),
    (
        "GET",
        "/api/grids/versions",
        "/api/grids/versions",
        PLANNERS,
    ),
    (
        "GET",
        "/api/grids/versions/{revision}",
        "/api/grids/versions/1",
        PLANNERS,
    ),
    (
        "DELETE",
        "/api/grids/versions/{revision}",
        "/api/grids/versions/999",
        PLANNERS,
    ),
    ("POST", "/api/grids/restore", "/api/grids/restore", PLANNERS),
    ("GET", "/api/changes", "/api/changes", PLANNERS),
    (
        "GET",
        "/api/locate",
        "/api/locate?lon=106.01&lat=34.61",
        ANY,
    ),
    ("POST", "/api/locate", "/api/locate", ANY),
    ("POST", "/api/incidents", "/api/incidents", REPORTERS),
    ("GET", "/api/incidents", "/api/incidents", SEE_INCIDENTS),
    (
        "GET",
        "/api/incidents/categories",
        "/api/incidents/categories",
        SEE_INCIDENTS,
    ),
    (
        "GET",
        "/api/incidents/stats",
        "/api/incidents/stats?level=1&format=bogus",
        SEE_INCIDENTS,
    ),
    (
        "GET",
        "/api/incidents/events",
        "/api/incidents/events",
        SEE_INCIDENTS,
    ),
    (
        "GET",
        "/api/incidents/{id}",
        "/api/incidents/999",
        SEE_INCIDENTS,
    ),
    (
        "POST",
        "/api/incidents/{id}/actions",
        "/api/incidents/999/actions",
        DISPATCHERS,
    ),
    (
        "POST",
        "/api/incidents/{id}/escalate",
        "/api/incidents/999/escalate",
        DISPATCHERS,
    ),
    (
        "POST",
        "/api/incidents/{id}/assign",
        "/api/incidents/999/assign",
        DISPATCHERS,
    ),
    (
        "POST",
        "/api/incidents/{id}/notes",
        "/api/incidents/999/notes",
        REPORTERS,
    ),
    ("POST", "/api/hazards", "/api/hazards", EDIT_HAZARDS),
    ("GET", "/api/hazards", "/api/hazards", SEE_HAZARDS),
    ("GET", "/api/hazards/{id}", "/api/hazards/999", SEE_HAZARDS),
    (
        "PATCH",
        "/api/hazards/{id}",
        "/api/hazards/999",
        EDIT_HAZARDS,
    ),
    (
        "DELETE",
        "/api/hazards/{id}",
        "/api/hazards/999",
        EDIT_HAZARDS,
    ),
    (
        "GET",
        "/api/hazards/calendar",
        "/api/hazards/calendar?grid=nowhere",
        SEE_HAZARDS,
    ),
    (
        "GET",
        "/api/hazards/{id}/inspections",
        "/api/hazards/999999/inspections",
        SEE_HAZARDS,
    ),
    (
        "GET",
        "/api/coverage",
        "/api/coverage?grid=nowhere",
        SEE_HAZARDS,
    ),
    ("GET", "/api/roads", "/api/roads", ANY),
    ("PUT", "/api/roads", "/api/roads", PLANNERS),
    ("POST", "/api/patrol-plans", "/api/patrol-plans", PATROLLERS),
    ("POST", "/api/routes", "/api/routes", PATROLLERS),
    ("GET", "/api/routes", "/api/routes", SEE_PATROLS),
    ("GET", "/api/routes/{id}", "/api/routes/999", SEE_PATROLS),
    ("PUT", "/api/routes/{id}", "/api/routes/999", PATROLLERS),
    ("DELETE", "/api/routes/{id}", "/api/routes/999", PATROLLERS),
    (
        "POST",
        "/api/routes/{id}/patrols",
        "/api/routes/999/patrols",
        PATROLLERS,
    ),
    ("POST", "/api/photos", "/api/photos", REPORTERS),
    (
        "GET",
        "/api/photos/{token}",
        "/api/photos/0000",
        SEE_INCIDENTS,
    ),
    (
        "GET",
        "/api/photos/{token}/thumbnail",
        "/api/photos/0000/thumbnail",
        SEE_INCIDENTS,
    ),
    ("GET", "/api/patrols", "/api/patrols", SEE_PATROLS),
    ("GET", "/api/patrols/{id}", "/api/patrols/999", SEE_PATROLS),
    (
        "POST",
        "/api/patrols/{id}/track",
        "/api/patrols/999/track",
        PATROLLERS,
    ),
    (
        "POST",
        "/api/patrols/{id}/checkins",
        "/api/patrols/999/checkins",
        PATROLLERS,
    ),
    (
        "POST",
        "/api/patrols/{id}/finish",
        "/api/patrols/999/finish",
        PATROLLERS,
    ),
    (
        "GET",
        "/open311/v2/discovery.json",
        "/open311/v2/discovery.json",
        ALL,
    ),
    (
        "GET",
        "/open311/v2/discovery.xml",
        "/open311/v2/discovery.xml",
        ALL,
    ),
    (
        "GET",
        "/open311/v2/services.json",
        "/open311/v2/services.json",
        ALL,
    ),
    (
        "GET",
        "/open311/v2/services.xml",
        "/open311/v2/services.xml",
        ALL,
    ),
    (
        "GET",
        "/open311/v2/services/{code}",
        "/open311/v2/services/sanitation.json",
        ALL,
    ),
    // The key is in the form: checked by the handler (see below).
    (
        "POST",
        "/open311/v2/requests.json",
        "/open311/v2/requests.json",
        REPORTERS,
    ),
    (
        "POST",
        "/open311/v2/requests.xml",
        "/open311/v2/requests.xml",
        REPORTERS,
    ),
    (
        "GET",
        "/open311/v2/requests.json",
        "/open311/v2/requests.json",
        SEE_INCIDENTS,
    ),
    (
        "GET",
        "/open311/v2/requests.xml",
        "/open311/v2/requests.xml",
        SEE_INCIDENTS,
    ),
    (
        "GET",
        "/open311/v2/requests/{id}",
        "/open311/v2/requests/999.json",
        SEE_INCIDENTS,
    ),
    // Whoever submits may follow a token; a number alone would tell
    // anyone how many incidents there are.
    (
        "GET",
        "/open311/v2/tokens/{token}",
        "/open311/v2/tokens/999.json",
        REPORTERS,
    ),
    ("GET", "/ogc", "/ogc", ALL),
    ("GET", "/ogc/conformance", "/ogc/conformance", ALL),
    ("GET", "/ogc/api", "/ogc/api", ALL),
    ("GET", "/ogc/collections", "/ogc/collections", ANY),
    (
        "GET",
        "/ogc/collections/{collectionId}",
        "/ogc/collections/hazards",
        SEE_HAZARDS,
    ),
    (
        "GET",
        "/ogc/collections/{collectionId}",
        "/ogc/collections/towns",
        ANY,
    ),
    (
        "GET",
        "/ogc/collections/{collectionId}/items",
        "/ogc/collections/hazards/items",
        SEE_HAZARDS,
    ),
    (
        "GET",
        "/ogc/collections/{collectionId}/items",
        "/ogc/collections/towns/items",
        ANY,
    ),
    (
        "GET",
        "/ogc/collections/{collectionId}/items/{featureId}",
        "/ogc/collections/hazards/items/999",
        SEE_HAZARDS,
    ),
    (
        "GET",
        "/ogc/collections/{collectionId}/items/{featureId}",
        "/ogc/collections/towns/items/t-sw",
        ANY,
    ),
    (
        "GET",
        "/ogc/collections/{collectionId}/queryables",
        "/ogc/collections/hazards/queryables",
        SEE_HAZARDS,
    ),
    (
        "GET",
        "/ogc/collections/{collectionId}/queryables",
        "/ogc/collections/towns/queryables",
        ANY,
    ),
    ("GET", "/tiles/{tilejson}", "/tiles/grids.json", ANY),
    (
        "GET",
        "/tiles/{tilejson}",
        "/tiles/incidents.json",
        SEE_INCIDENTS,
    ),
    (
        "GET",
        "/tiles/{tileset}/{z}/{x}/{y}",
        "/tiles/grids/10/815/408.mvt",
        ANY,
    ),
    (
        "GET",
        "/tiles/{tileset}/{z}/{x}/{y}",
        "/tiles/incidents/10/815/408.mvt",
        SEE_INCIDENTS,
    ),
    // Percent-encoded names are the same tileset and collection.
    (
        "GET",
        "/tiles/{tileset}/{z}/{x}/{y}",
        "/tiles/%69ncidents/10/815/408.mvt",
        SEE_INCIDENTS,
    ),
    (
        "GET",
        "/ogc/collections/{collectionId}/items",
        "/ogc/collections/%68azards/items",
        SEE_HAZARDS,
    ),
    ("GET", "/style.json", "/style.json", ANY),
    ("GET", "/healthz", "/healthz", ALL),
    ("GET", "/api/openapi.json", "/api/openapi.json", ALL),
    ("GET", "/api/openapi-3.0.json", "/api/openapi-3.0.json", ALL),
];

/// The rows a published grid map opens to anonymous readers.
const PUBLISHED: &[&str] = &[
    "/api/grids",
    "/api/grids/t-sw",
    "/api/locate?lon=106.01&lat=34.61",
    "/ogc/collections",
    "/ogc/collections/towns/items",
    "/tiles/grids.json",
    "/tiles/grids/10/815/408.mvt",
    "/style.json",
    "/api/roads",
];

conformance!(
    the_matrix_holds,
    sessions_work_as_a_browser_uses_them,
    a_grid_leader_sees_only_their_grid,
    failed_logins_are_throttled,
    malformed_input_is_refused_and_changes_nothing,
    report_submission_is_rate_limited,
    plain_http_sessions_leave_out_secure,
);

/// A bearer token per role (users made through the account service).
async fn tokens(state: &wangge::state::AppState) -> BTreeMap<&'static str, String> {
    let accounts = state.accounts();
    let mut tokens = BTreeMap::new();
    tokens.insert("admin", support::admin_token(accounts).await);
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
        let scope = match role {
            Role::GridLeader | Role::GridMember => Scope::Grid(GridId::from("b-sw-w-s")),
            Role::Department => Scope::Department("水务局".into()),
            _ => Scope::County,
        };
        let login = format!("{}-1", role.as_str());
        let token = support::user_token(accounts, &login, role, scope).await;
        tokens.insert(role.as_str(), token);
    }
    tokens
}

async fn call(app: &axum::Router, method: &str, path: &str, token: Option<&str>) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    match token {
        Some(token) => request = request.header(header::AUTHORIZATION, format!("Bearer {token}")),
        None => request = request.header("x-test-anonymous", "1"),
    }
    let body = if method == "GET" || method == "DELETE" {
        Body::empty()
    } else if path.starts_with("/open311/") {
        // GeoReport v2 posts forms.
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        Body::from("service_code=sanitation")
    } else {
        request = request.header(header::CONTENT_TYPE, "application/json");
        Body::from("{}")
    };
    let request = request.body(body).expect("a request");
    if path.starts_with("/api/incidents/events") {
        // An event stream never ends: its status and headers are the answer.
        use tower::ServiceExt;
        let response = app.clone().oneshot(request).await.expect("infallible");
        return Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: axum::body::Bytes::new(),
        };
    }
    send(app, request).await
}

async fn the_matrix_holds(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    let tokens = tokens(&state).await;
    let mut wrong = Vec::new();
    for (method, _, path, allowed) in MATRIX {
        for caller in CALLERS {
            let answer = call(&app, method, path, tokens.get(caller).map(String::as_str)).await;
            let denied = matches!(
                answer.status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            );
            let should_allow = allowed.contains(&caller);
            // GeoReport answers a missing api_key with 403, as its spec says.
            let want = if caller == "anonymous" && !path.starts_with("/open311/") {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            };
            if should_allow == denied || (!should_allow && answer.status != want) {
                wrong.push(format!(
                    "{method} {path} as {caller}: {} ({})",
                    answer.status,
                    String::from_utf8_lossy(&answer.body)
                        .chars()
                        .take(160)
                        .collect::<String>()
                ));
            }
            if answer.status.is_server_error() {
                wrong.push(format!("{method} {path} as {caller}: {}", answer.status));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{}: {} wrong answer(s):\n{}",
        t.name,
        wrong.len(),
        wrong.join("\n")
    );

    // A 401 says how to authenticate.
    let answer = call(&app, "GET", "/api/incidents", None).await;
    assert_eq!(
        answer.header(header::WWW_AUTHENTICATE),
        "Bearer realm=\"wangge\""
    );
    answer.problem(StatusCode::UNAUTHORIZED);
    // A token that is not one is refused even where anonymous callers may go.
    let answer = call(&app, "GET", "/healthz", Some("wgt_forged")).await;
    answer.problem(StatusCode::UNAUTHORIZED);

    // Published, the grid map opens to anonymous readers; nothing else does.
    state.set_access(AccessSettings {
        public_grid_map: true,
        ..AccessSettings::default()
    });
    for path in PUBLISHED {
        let answer = call(&app, "GET", path, None).await;
        assert!(
            !matches!(
                answer.status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            ),
            "{}: {path} is published: {}",
            t.name,
            answer.status
        );
    }
    for path in [
        "/api/incidents",
        "/tiles/%69ncidents.json",
        "/ogc/collections/%68azards/items",
        "/tiles/incidents.json",
        "/api/hazards",
        "/ogc/collections/hazards/items",
    ] {
        call(&app, "GET", path, None)
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    // A viewer still cannot write, published or not.
    call(
        &app,
        "PUT",
        "/api/roads",
        tokens.get("viewer").map(String::as_str),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
}

/// The table here and the server's name the same routes, and every route
/// the sources declare has a rule.
#[test]
fn the_table_covers_every_route_the_server_has() {
    let ours: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, route, _, _)| ((*m).to_owned(), (*route).to_owned()))
        .collect();
    let server: BTreeSet<(String, String)> = wangge::api::access::RULES
        .iter()
        .map(|(m, route, _)| ((*m).to_owned(), (*route).to_owned()))
        .collect();
    let missing: Vec<_> = server.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&server).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes with a server rule but no row here: {missing:?}; rows here for no route: {extra:?}"
    );
    let declared = declared_routes();
    assert!(declared.len() > 40, "found only {declared:?}");
    let ruled: BTreeSet<String> = server.iter().map(|(_, route)| route.clone()).collect();
    let unruled: Vec<_> = declared.difference(&ruled).collect();
    assert!(
        unruled.is_empty(),
        "routes declared in src/api without an access rule: {unruled:?}"
    );
}

/// Every path literal given to `.route(` under src/api.
fn declared_routes() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut dirs = vec![std::path::PathBuf::from("src/api")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/api is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            for (i, _) in text.match_indices(".route(") {
                let rest = text[i + ".route(".len()..].trim_start();
                if let Some(literal) = rest.strip_prefix('"') {
                    let end = literal.find('"').expect("a closed literal");
                    found.insert(literal[..end].to_owned());
                }
            }
        }
    }
    found
}

async fn sessions_work_as_a_browser_uses_them(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    let _ = tokens(&state).await;
    let login = |body: Value| {
        let app = app.clone();
        async move {
            send(
                &app,
                Request::post("/api/session")
                    .header(header::CONTENT_TYPE, "application/json")
                    .header("x-test-anonymous", "1")
                    .body(Body::from(body.to_string()))
                    .expect("a request"),
            )
            .await
        }
    };
    // Wrong password and unknown user read the same.
    let wrong = login(json!({"login": "viewer-1", "password": "wrong password!"})).await;
    let unknown = login(json!({"login": "nobody", "password": "wrong password!"})).await;
    assert_eq!(
        wrong.problem(StatusCode::UNAUTHORIZED)["detail"],
        unknown.problem(StatusCode::UNAUTHORIZED)["detail"]
    );

    let answer =
        login(json!({"login": "dispatcher-1", "password": "a long enough password"})).await;
    let session = answer.expect(StatusCode::OK);
    let cookie = answer.header(header::SET_COOKIE).to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let pair = cookie.split(';').next().expect("name=value").to_owned();
    let csrf = session["csrf_token"]
        .as_str()
        .expect("a CSRF token")
        .to_owned();
    assert_eq!(session["user"]["role"], "dispatcher");
    assert!(
        session["capabilities"]
            .as_array()
            .expect("capabilities")
            .contains(&json!("dispatch"))
    );

    // The cookie reads; GET /api/session says who and the same CSRF token.
    let me = get_with(&app, "/api/session", &[("cookie", &pair)]).await;
    assert_eq!(me.expect(StatusCode::OK)["csrf_token"], csrf);
    get_with(&app, "/api/incidents", &[("cookie", &pair)])
        .await
        .expect(StatusCode::OK);

    // A write with the cookie but not the token is refused, as a page on
    // another site would send it; with the token it goes through.
    let report = json!({"category": "sanitation", "description": "垃圾堆积",
        "lon": 106.01, "lat": 34.61, "source": "hotline"});
    let post = |extra: Option<&str>| {
        let mut request = Request::post("/api/incidents")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, &pair);
        if let Some(token) = extra {
            request = request.header("x-csrf-token", token);
        }
        let app = app.clone();
        let body = report.to_string();
        async move { send(&app, request.body(Body::from(body)).expect("a request")).await }
    };
    post(None).await.problem(StatusCode::FORBIDDEN);
    post(Some("0123")).await.problem(StatusCode::FORBIDDEN);
    let created = post(Some(&csrf)).await.expect(StatusCode::CREATED);
    let id = created["incident"]["id"].as_i64().expect("an id");
    let stored = get_with(&app, &format!("/api/incidents/{id}"), &[("cookie", &pair)])
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        stored["history"][0]["actor"], "dispatcher-1",
        "the history names the logged-in user: {stored}"
    );

    // Logging out ends the session.
    let out = send(
        &app,
        Request::delete("/api/session")
            .header(header::COOKIE, &pair)
            .header("x-csrf-token", &csrf)
            .body(Body::empty())
            .expect("a request"),
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.header(header::SET_COOKIE).contains("Max-Age=0"));
    get_with(&app, "/api/session", &[("cookie", &pair)])
        .await
        .problem(StatusCode::UNAUTHORIZED);

    // Disabling a user ends their tokens at once.
    let viewer = state
        .accounts()
        .user_by_login("viewer-1")
        .await
        .expect("read")
        .expect("the viewer");
    let (token, _) = state
        .accounts()
        .issue_token(viewer.id, "t", 1, &[], &Actor::default())
        .await
        .expect("issued");
    let bearer = format!("Bearer {token}");
    get_with(&app, "/api/grids", &[("authorization", &bearer)])
        .await
        .expect(StatusCode::OK);
    let changed = support::http::send(
        &app,
        Request::patch(format!("/api/users/{}", viewer.id))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"version": viewer.version, "disabled": true}).to_string(),
            ))
            .expect("a request"),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(changed["disabled"], true);
    get_with(&app, "/api/grids", &[("authorization", &bearer)])
        .await
        .problem(StatusCode::UNAUTHORIZED);

    // A token limited to reporting reports and reads nothing else.
    let leader = state
        .accounts()
        .user_by_login("grid_leader-1")
        .await
        .expect("read")
        .expect("the leader");
    let issued = support::http::post_json(
        &app,
        &format!("/api/users/{}/tokens", leader.id),
        &json!({"label": "kiosk", "days": 30, "capabilities": ["report"]}),
    )
    .await
    .expect(StatusCode::CREATED);
    let kiosk = format!(
        "Bearer {}",
        issued["token"].as_str().expect("the secret, once")
    );
    get_with(&app, "/api/incidents", &[("authorization", &kiosk)])
        .await
        .problem(StatusCode::FORBIDDEN);
    let listed = get_with(&app, &format!("/api/users/{}/tokens", leader.id), &[])
        .await
        .expect(StatusCode::OK);
    assert!(listed.to_string().contains("kiosk") && !listed.to_string().contains("wgt_"));

    // The audit trail has all of it, newest first, and no API changes it.
    let trail = get_with(&app, "/api/audit?limit=1000", &[])
        .await
        .expect(StatusCode::OK);
    let actions: Vec<&str> = trail["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "login_failed",
        "login",
        "logout",
        "user_created",
        "user_changed",
        "token_issued",
    ] {
        assert!(
            actions.contains(&action),
            "{}: {action} in {actions:?}",
            t.name
        );
    }
    let failed = get_with(&app, "/api/audit?action=login_failed", &[])
        .await
        .expect(StatusCode::OK);
    let names: BTreeSet<&str> = failed["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["actor"].as_str())
        .collect();
    assert_eq!(names, BTreeSet::from(["nobody", "viewer-1"]));
    let csv = get_with(&app, "/api/audit?format=csv", &[]).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type().starts_with("text/csv"));
    assert!(
        String::from_utf8_lossy(&csv.body).starts_with("id,at,actor,source,action,target,detail")
    );
    // Not even the database lets the trail be rewritten.
    for sql in [
        "DELETE FROM audit",
        "UPDATE audit SET actor = 'someone else'",
    ] {
        let refused = t.try_execute_raw(sql).await;
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("append-only")),
            "{}: {sql}: {refused:?}",
            t.name
        );
    }
}

/// A grid leader of one basic grid sees their grid's incidents and
/// nothing of another's: not in lists, not one by one (404, as if it did
/// not exist), not in statistics, tiles, the event stream or Open311.
async fn a_grid_leader_sees_only_their_grid(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    let tokens = tokens(&state).await;
    let leader = format!("Bearer {}", tokens["grid_leader"]);
    let as_leader = |method: &'static str, path: String| {
        let app = app.clone();
        let leader = leader.clone();
        async move {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .header(header::AUTHORIZATION, leader);
            let request = if method == "POST" {
                request
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(json!({"note": "已核实"}).to_string()))
            } else {
                request.body(Body::empty())
            };
            send(&app, request.expect("a request")).await
        }
    };
    // The leader listens before anything is reported.
    let listening = {
        use tower::ServiceExt;
        app.clone()
            .oneshot(
                Request::get("/api/incidents/events")
                    .header(header::AUTHORIZATION, &leader)
                    .body(Body::empty())
                    .expect("a request"),
            )
            .await
            .expect("infallible")
    };
    let mut events = support::sse::EventReader::new(listening.into_body());
    assert_eq!(events.next().await.kind, "ready");

    // As the admin: one incident elsewhere (another town), then one in
    // the leader's basic grid b-sw-w-s.
    let report = |lon: f64, lat: f64| {
        let app = app.clone();
        async move {
            support::http::post_json(
                &app,
                "/api/incidents",
                &json!({"category": "sanitation", "description": "垃圾堆积",
                    "lon": lon, "lat": lat, "source": "hotline"}),
            )
            .await
            .expect(StatusCode::CREATED)["incident"]["id"]
                .as_i64()
                .expect("an id")
        }
    };
    let elsewhere = report(106.15, 34.65).await;
    let mine = report(106.01, 34.61).await;

    // The stream carries only the leader's: the first event is theirs.
    let event = events.next().await;
    let data: Value = serde_json::from_str(&event.data).expect("JSON");
    assert_eq!(
        (event.kind.as_str(), data["id"].as_i64()),
        ("reported", Some(mine)),
        "{}",
        t.name
    );

    // One by one: theirs reads; the other is not found, word for word as a
    // number never used.
    as_leader("GET", format!("/api/incidents/{mine}"))
        .await
        .expect(StatusCode::OK);
    let hidden = as_leader("GET", format!("/api/incidents/{elsewhere}"))
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(
        hidden["detail"],
        format!("there is no incident {elsewhere}")
    );
    as_leader("POST", format!("/api/incidents/{elsewhere}/notes"))
        .await
        .problem(StatusCode::NOT_FOUND);
    let unchanged = get_with(&app, &format!("/api/incidents/{elsewhere}"), &[])
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        unchanged["history"].as_array().map(Vec::len),
        Some(1),
        "no note was added"
    );

    // Lists, with and without a grid asked for.
    let ids = |doc: &Value| -> Vec<i64> {
        doc["incidents"]
            .as_array()
            .expect("incidents")
            .iter()
            .filter_map(|i| i["id"].as_i64())
            .collect()
    };
    let all = as_leader("GET", "/api/incidents".into())
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (ids(&all), all["total"].as_u64()),
        (vec![mine], Some(1)),
        "{}",
        t.name
    );
    let town = as_leader("GET", "/api/incidents?grid=t-sw".into())
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&town), vec![mine]);
    let other = as_leader("GET", "/api/incidents?grid=t-se".into())
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&other), Vec::<i64>::new());
    let admin_sees = get_with(&app, "/api/incidents", &[])
        .await
        .expect(StatusCode::OK);
    assert_eq!(admin_sees["total"], 2);

    // Statistics count only theirs.
    let stats = as_leader("GET", "/api/incidents/stats?level=1".into())
        .await
        .expect(StatusCode::OK);
    assert_eq!(stats["total"]["reported"], 1, "{stats}");

    // The incident tile over both towns holds only theirs.
    let features = |answer: &Answer| -> usize {
        if answer.status == StatusCode::NO_CONTENT {
            return 0;
        }
        assert_eq!(answer.status, StatusCode::OK);
        support::mvt::decode(&answer.body)
            .iter()
            .map(|l| l.features.len())
            .sum()
    };
    let tile = "/tiles/incidents/10/813/406.mvt";
    assert_eq!(
        features(&get_with(&app, tile, &[]).await),
        2,
        "the admin sees both"
    );
    assert_eq!(
        features(&as_leader("GET", tile.into()).await),
        1,
        "{}",
        t.name
    );

    // A report next to another grid's incident does not show it to the
    // leader as a possible duplicate (the admin's would).
    let near = json!({"category": "sanitation", "description": "又见垃圾堆积",
        "lon": 106.1501, "lat": 34.6501, "source": "hotline"});
    let theirs = send(
        &app,
        Request::post("/api/incidents")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, &leader)
            .body(Body::from(near.to_string()))
            .expect("a request"),
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(theirs["duplicates"], json!([]), "{}", t.name);
    let admins = support::http::post_json(&app, "/api/incidents", &near)
        .await
        .expect(StatusCode::CREATED);
    assert!(
        admins["duplicates"]
            .as_array()
            .is_some_and(|d| d.iter().any(|i| i["id"] == elsewhere)),
        "{admins}"
    );

    // Open311 reads too.
    let open311 = as_leader("GET", "/open311/v2/requests.json".into())
        .await
        .expect(StatusCode::OK);
    let listed: Vec<&str> = open311
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|r| r["service_request_id"].as_str())
        .collect();
    assert_eq!(listed, vec![mine.to_string()]);
    as_leader("GET", format!("/open311/v2/requests/{elsewhere}.json"))
        .await
        .expect(StatusCode::NOT_FOUND);
}

/// After five wrong passwords for one login, that login is refused with
/// 429 and `Retry-After`, even with the right password; others still log
/// in; the refusals are in the audit trail.
async fn failed_logins_are_throttled(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    let _ = tokens(&state).await;
    let login = |name: &str, password: &str| {
        let app = app.clone();
        let body = json!({"login": name, "password": password}).to_string();
        async move {
            send(
                &app,
                Request::post("/api/session")
                    .header(header::CONTENT_TYPE, "application/json")
                    .header("x-test-anonymous", "1")
                    .body(Body::from(body))
                    .expect("a request"),
            )
            .await
        }
    };
    for _ in 0..wangge::services::accounts::FAILURES_PER_LOGIN {
        login("viewer-1", "a wrong password")
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    let refused = login("viewer-1", "a long enough password").await;
    refused.problem(StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused
        .header(header::RETRY_AFTER)
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=900).contains(&wait), "{}: {wait}", t.name);
    login("dispatcher-1", "a long enough password")
        .await
        .expect(StatusCode::OK);
    let trail = get_with(&app, "/api/audit?action=login_failed&actor=viewer-1", &[])
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        trail["entries"].as_array().map(Vec::len),
        Some(6),
        "{}: {trail}",
        t.name
    );
}

/// Malformed input of every kind is a 4xx with a message, never a 500, and
/// stores nothing: NaN and 1e400 coordinates, JSON nested 100,000 deep,
/// invalid UTF-8 in JSON and in a form, an offset beyond 64 bits.
async fn malformed_input_is_refused_and_changes_nothing(t: &TestStore) {
    let (_state, app) = four_towns_app(t).await;
    let raw = |uri: &str, content_type: &'static str, body: Vec<u8>| {
        let app = app.clone();
        let uri = uri.to_owned();
        async move {
            send(
                &app,
                Request::post(uri)
                    .header(header::CONTENT_TYPE, content_type)
                    .body(Body::from(body))
                    .expect("a request"),
            )
            .await
        }
    };
    let report = |lon: &str| {
        format!(
            r#"{{"category": "sanitation", "description": "x", "lon": {lon}, "lat": 34.61, "source": "hotline"}}"#
        )
        .into_bytes()
    };
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let mut bad_utf8 = report("106.01");
    let at = bad_utf8
        .iter()
        .position(|b| *b == b'x')
        .expect("the description");
    bad_utf8.splice(at..=at, [0xff, 0xfe]);
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("/api/incidents", "application/json", report("NaN")),
        ("/api/incidents", "application/json", report("1e400")),
        ("/api/incidents", "application/json", nested.clone()),
        ("/api/locate", "application/json", nested),
        ("/api/incidents", "application/json", bad_utf8),
        (
            "/open311/v2/requests.json",
            "application/x-www-form-urlencoded",
            b"service_code=sanitation&lat=34.61&long=106.01&description=\xff\xfe".to_vec(),
        ),
    ];
    for (uri, content_type, body) in cases {
        let shown = String::from_utf8_lossy(&body)
            .chars()
            .take(60)
            .collect::<String>();
        let answer = raw(uri, content_type, body).await;
        assert!(
            answer.status.is_client_error(),
            "{}: {uri} {shown}: {} {}",
            t.name,
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
        assert!(!answer.body.is_empty(), "{uri}: a 4xx says why");
    }
    get_with(&app, "/api/incidents?offset=18446744073709551616", &[])
        .await
        .problem(StatusCode::BAD_REQUEST);
    let stored = get_with(&app, "/api/incidents", &[])
        .await
        .expect(StatusCode::OK);
    assert_eq!(stored["total"], 0, "{}: nothing was stored", t.name);

    // Too much: a 50 MB report, 1,000,001 points to locate, a grid of
    // 1,000,001 vertices (refused by name) and one of 10 million (past the
    // import's body limit). The grids stay as they were.
    let grids_before =
        get_with(&app, "/healthz", &[]).await.expect(StatusCode::OK)["grid_version"].clone();
    let mut huge = report("106.01");
    huge.splice(
        1..1,
        format!(r#""pad": "{}", "#, "x".repeat(50 << 20)).into_bytes(),
    );
    raw("/api/incidents", "application/json", huge)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    let points = format!(
        r#"{{"points": [{}[106.01, 34.61]]}}"#,
        "[106.01, 34.61],".repeat(1_000_000)
    );
    let doc = raw("/api/locate", "application/json", points.into_bytes())
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(doc["detail"].to_string().contains("100000"), "{doc}");
    let import = format!("/api/grids/import?mode=upsert&version={grids_before}");
    let grid_of = |vertices: usize| {
        let mut ring = String::with_capacity(vertices * 24);
        ring.push_str("[106.0,34.6],");
        for i in 1..vertices - 1 {
            // Along the south edge, then closed through the north-west.
            let lon = 106.0 + 0.05 * i as f64 / vertices as f64;
            ring.push_str(&format!("[{lon:.9},34.6],"));
        }
        ring.push_str("[106.0,34.6]");
        format!(
            r#"{{"type": "FeatureCollection", "features": [{{"type": "Feature",
            "properties": {{"id": "huge", "level": 1, "name": "巨"}},
            "geometry": {{"type": "Polygon", "coordinates": [[{ring}]]}}}}]}}"#
        )
        .into_bytes()
    };
    let doc = raw(&import, "application/geo+json", grid_of(1_000_001))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let said = doc.to_string();
    assert!(
        said.contains("huge") && said.contains("1000001 vertices"),
        "{}: {said}",
        t.name
    );
    raw(&import, "application/geo+json", grid_of(10_000_000))
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    let unversioned = raw(
        "/api/grids/import?mode=upsert",
        "application/geo+json",
        grid_of(5),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(unversioned["parameter"], "version", "{unversioned}");
    let grids_after =
        get_with(&app, "/healthz", &[]).await.expect(StatusCode::OK)["grid_version"].clone();
    assert_eq!(
        grids_after, grids_before,
        "{}: the grids are unchanged",
        t.name
    );

    // A change without the version it was read at is refused by name and
    // changes nothing.
    let id = support::http::post_json(
        &app,
        "/api/incidents",
        &serde_json::from_slice(&report("106.01")).expect("JSON"),
    )
    .await
    .expect(StatusCode::CREATED)["incident"]["id"]
        .as_i64()
        .expect("an id");
    for (path, body) in [
        ("actions", json!({"action": "verify", "note": "属实"})),
        ("escalate", json!({"note": "需要协调"})),
        (
            "assign",
            json!({"person": {"name": "张伟", "phone": "13700000003"}}),
        ),
    ] {
        let doc = support::http::post_json(&app, &format!("/api/incidents/{id}/{path}"), &body)
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(doc["parameter"], "version", "{path}: {doc}");
    }
    let incident = get_with(&app, &format!("/api/incidents/{id}"), &[])
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (
            incident["incident"]["version"].as_i64(),
            incident["history"].as_array().map(Vec::len)
        ),
        (Some(1), Some(1)),
        "{}: {incident}",
        t.name
    );
}

/// Past its rate, an account's reports are refused with 429 and
/// `Retry-After` (Open311 in GeoReport's error format), nothing of them is
/// stored, and other accounts still report.
async fn report_submission_is_rate_limited(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    let tokens = tokens(&state).await;
    state.set_reports_per_minute(3);
    let report = json!({"category": "sanitation", "description": "垃圾堆积",
        "lon": 106.01, "lat": 34.61, "source": "hotline"});
    for _ in 0..3 {
        support::http::post_json(&app, "/api/incidents", &report)
            .await
            .expect(StatusCode::CREATED);
    }
    let refused = support::http::post_json(&app, "/api/incidents", &report).await;
    assert!(
        refused
            .header(header::RETRY_AFTER)
            .parse::<u64>()
            .is_ok_and(|s| s >= 1)
    );
    let doc = refused.problem(StatusCode::TOO_MANY_REQUESTS);
    assert!(
        doc["detail"]
            .as_str()
            .is_some_and(|d| d.contains("nothing was recorded")),
        "{doc}"
    );

    // Checking a report (the form's duplicate search) has its own budget,
    // ten checks per report allowed: not used up by reports, and limited.
    let check = |n: usize| {
        let app = app.clone();
        let report = report.clone();
        async move {
            let mut statuses = Vec::new();
            for _ in 0..n {
                statuses.push(
                    support::http::post_json(&app, "/api/incidents?dry_run=true", &report)
                        .await
                        .status,
                );
            }
            statuses
        }
    };
    // 30 a minute: the first 30 pass; then one comes back every 2 s, so a
    // slow run may see one or two more before the refusal.
    let statuses = check(33).await;
    assert!(
        statuses[..30].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert!(
        statuses[30..].contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );

    // An Open311 client with its own key goes on, up to its own rate.
    let form = format!(
        "service_code=sanitation&lat=34.61&long=106.01&description=x&api_key={}",
        tokens["dispatcher"]
    );
    let post_form = || {
        let app = app.clone();
        let form = form.clone();
        async move {
            send(
                &app,
                Request::post("/open311/v2/requests.json")
                    .header("x-test-anonymous", "1")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form))
                    .expect("a request"),
            )
            .await
        }
    };
    for _ in 0..3 {
        post_form().await.expect(StatusCode::OK);
    }
    let refused = post_form().await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", t.name);
    assert!(!refused.header(header::RETRY_AFTER).is_empty());
    let errors = refused.json();
    assert_eq!(errors[0]["code"], 429, "{errors}");
    assert!(
        errors[0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("too many reports"))
    );

    let stored = get_with(&app, "/api/incidents", &[])
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        stored["total"], 6,
        "{}: the refused reports were not stored",
        t.name
    );
}

/// `--plain-http-sessions` (a trial over plain HTTP on a local network):
/// the session cookie comes without `Secure`, which browsers would refuse
/// over `http://`; everything else about it is the same.
async fn plain_http_sessions_leave_out_secure(t: &TestStore) {
    let (state, app) = four_towns_app(t).await;
    let _ = tokens(&state).await;
    let login = || support::http::log_in(&app, "viewer-1", "a long enough password");
    let secure = login().await;
    assert!(
        secure.header(header::SET_COOKIE).contains("; Secure;"),
        "{}",
        t.name
    );
    state.set_access(AccessSettings {
        plain_http_sessions: true,
        ..AccessSettings::default()
    });
    let plain = login().await;
    let cookie = plain.header(header::SET_COOKIE);
    assert_eq!(plain.status, StatusCode::OK);
    assert!(!cookie.contains("Secure"), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
}
