//! Incidents through the HTTP API, on both backends (`sqlite::<case>` and
//! `postgis::<case>`), over the four-town county: reports located and
//! assigned (in GCJ-02 too), every allowed and every refused move of both
//! processes, escalation by hand and by deadline, duplicate hints, stale
//! versions, listing filters, and bad input that changes nothing.

#[macro_use]
mod support;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use wangge::dispatch::{self, Report};
use wangge::geom::{InputCrs, LonLat, metres_between};
use wangge::model::{IncidentId, ReportSource};
use wangge::state::AppState;
use wangge::store::Backend;
use wangge::workflow::Severity;

use support::TestStore;
use support::four_towns::four_towns_app;
use support::http::{get, post_change, post_json};

conformance!(
    a_report_is_located_and_assigned_to_the_grid_leader,
    severity_sets_who_handles_it_first,
    gcj02_and_bd09_reports_are_located_where_they_are,
    every_move_of_both_processes_is_allowed_or_refused_as_specified,
    actions_refuse_missing_fields_and_change_nothing,
    escalation_walks_up_to_the_county,
    escalating_and_reassigning_need_a_reason_and_say_from_whom_to_whom,
    overdue_incidents_are_escalated_by_the_sweep,
    nearby_open_reports_of_a_category_are_hinted_as_duplicates,
    a_stale_version_is_refused,
    lists_filter_by_grid_status_and_overdue,
    lists_search_by_number_and_text_and_sort_by_deadline,
    a_dry_run_lists_duplicates_and_records_nothing,
    bad_reports_are_refused_and_record_nothing,
    statistics_per_grid_as_json_and_csv,
    demo_incidents_are_deterministic_and_play_their_lives,
);

async fn app(t: &TestStore) -> (Arc<AppState>, Router) {
    four_towns_app(t).await
}

/// Inside sub-area s-1 (chain t-sw, v-sw-w, g-sw-w-s, b-sw-w-s, s-1).
const IN_S1: (f64, f64) = (106.01, 34.61);

fn report_body(category: &str, (lon, lat): (f64, f64)) -> Value {
    json!({
    "category": category,
    "description": "楼道堆放杂物",
    "lon": lon,
    "lat": lat,
    "source": "citizen",
    "reporter": {"name": "王芳", "phone": "13800000001"},
    "photos": ["https://photos.example/a.jpg"],
    })
}

/// Report and return the answer's incident.
async fn report(app: &Router, body: &Value) -> Value {
    post_json(app, "/api/incidents", body)
        .await
        .expect(StatusCode::CREATED)["incident"]
        .clone()
}

fn chain_ids(incident: &Value) -> Vec<String> {
    incident["grids"]
        .as_array()
        .expect("grids")
        .iter()
        .map(|g| g["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn a_report_is_located_and_assigned_to_the_grid_leader(t: &TestStore) {
    let (_state, app) = app(t).await;
    let incident = report(&app, &report_body("sanitation", IN_S1)).await;
    assert_eq!(
        chain_ids(&incident),
        ["t-sw", "v-sw-w", "g-sw-w-s", "b-sw-w-s", "s-1"],
        "{}",
        t.name
    );
    assert_eq!(incident["grids"][0]["name"], "西南镇");
    assert_eq!(incident["tier"], "patch");
    assert_eq!(incident["handling_grid"], "s-1");
    assert_eq!(
        incident["responsible"],
        json!({"name": "Leader s-1", "phone": "13800000000"})
    );
    assert_eq!(incident["status"], "collected");
    assert_eq!(incident["workflow"], "community_issue");
    assert_eq!(incident["allowed_actions"], json!(["verify", "dismiss"]));
    assert_eq!(incident["overdue"], false);
    assert_eq!(incident["version"], 1);
    let reported: Timestamp = incident["reported_at"]
        .as_str()
        .expect("a time")
        .parse()
        .expect("RFC 3339");
    let deadline: Timestamp = incident["deadline"]
        .as_str()
        .expect("a time")
        .parse()
        .expect("RFC 3339");
    assert_eq!(
        deadline.duration_since(reported),
        SignedDuration::from_hours(24)
    );

    // Read back with its history.
    let id = incident["id"].as_i64().expect("id");
    let doc = get(&app, &format!("/api/incidents/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(doc["incident"], incident);
    assert_eq!(doc["history"][0]["kind"], "created");
    assert_eq!(
        doc["history"][0]["actor"], "admin",
        "the history names the logged-in user"
    );

    // A point in v-sw-e has no grid below level 2: the village handles it.
    let east = report(&app, &report_body("sanitation", (106.07, 34.65))).await;
    assert_eq!(chain_ids(&east), ["t-sw", "v-sw-e"]);
    assert_eq!(east["tier"], "village");
    assert_eq!(east["responsible"]["name"], "Leader v-sw-e");
}

async fn severity_sets_who_handles_it_first(t: &TestStore) {
    let (_state, app) = app(t).await;
    let mut body = report_body("public_order", IN_S1);
    body["severity"] = json!("major");
    let major = report(&app, &body).await;
    assert_eq!(major["tier"], "town");
    assert_eq!(major["handling_grid"], "t-sw");
    assert_eq!(major["responsible"]["name"], "Leader t-sw");
    body["severity"] = json!("critical");
    let critical = report(&app, &body).await;
    assert_eq!(critical["tier"], "county");
    assert_eq!(critical["handling_grid"], Value::Null);
    assert_eq!(critical["responsible"]["name"], "县综治中心");
    // Outside every grid: refused, saying where and why, nothing stored.
    let before = get(&app, "/api/incidents").await.expect(StatusCode::OK)["total"].clone();
    for (lon, lat) in [(107.0, 35.0), (0.0, 0.0)] {
        let problem = post_json(&app, "/api/incidents", &report_body("other", (lon, lat)))
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["parameter"], "location", "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("outside the county")),
            "{problem}"
        );
    }
    let after = get(&app, "/api/incidents").await.expect(StatusCode::OK)["total"].clone();
    assert_eq!(before, after, "a refused report stores nothing");
}

async fn gcj02_and_bd09_reports_are_located_where_they_are(t: &TestStore) {
    let (_state, app) = app(t).await;
    let wgs = LonLat::new(IN_S1.0, IN_S1.1);
    for crs in [InputCrs::Gcj02, InputCrs::Bd09] {
        let sent = crs.from_wgs84(wgs);
        // The offset is hundreds of metres: taken as WGS84, the point would
        // be somewhere else.
        assert!(metres_between(sent, wgs) > 300.0, "{crs:?}");
        let mut body = report_body("sanitation", (sent.lon, sent.lat));
        body["crs"] = json!(crs.name());
        let incident = report(&app, &body).await;
        let located = LonLat::new(
            incident["location"]["lon"].as_f64().expect("lon"),
            incident["location"]["lat"].as_f64().expect("lat"),
        );
        assert!(metres_between(located, wgs) < 0.01, "{crs:?}: {located:?}");
        assert_eq!(
            incident["reported_location"],
            json!({"lon": sent.lon, "lat": sent.lat, "crs": crs.name()}),
            "the point as sent is kept exactly"
        );
        assert_eq!(incident["handling_grid"], "s-1", "{crs:?} {}", t.name);
    }
    let mut body = report_body("sanitation", IN_S1);
    body["crs"] = json!("epsg:3857");
    let problem = post_json(&app, "/api/incidents", &body)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("unknown crs"),
        "{problem}"
    );
}

/// The processes as the county's seed and issue 4 state them, written out
/// here independently of the server's tables: (from, action, to).
/// One move: (from, action, to).
type Move = (&'static str, &'static str, &'static str);

const COMMUNITY: [Move; 8] = [
    ("collected", "verify", "verified"),
    ("verified", "study", "studied"),
    ("studied", "assign", "assigned"),
    ("assigned", "resolve", "resolved"),
    ("resolved", "record_feedback", "closed"),
    ("resolved", "reopen", "assigned"),
    ("collected", "dismiss", "dismissed"),
    ("verified", "dismiss", "dismissed"),
];
const DISPUTE: [Move; 10] = [
    ("found", "report", "reported"),
    ("reported", "convene", "mediating"),
    ("mediating", "name_owner", "owner_named"),
    ("mediating", "resolve", "resolved"),
    ("owner_named", "resolve", "resolved"),
    ("resolved", "schedule_follow_up", "follow_up"),
    ("follow_up", "schedule_follow_up", "follow_up"),
    ("follow_up", "record_follow_up", "closed"),
    ("found", "dismiss", "dismissed"),
    ("reported", "dismiss", "dismissed"),
];
const ACTIONS: [&str; 12] = [
    "verify",
    "study",
    "assign",
    "resolve",
    "record_feedback",
    "reopen",
    "report",
    "convene",
    "name_owner",
    "schedule_follow_up",
    "record_follow_up",
    "dismiss",
];

/// An action body carrying everything any action may need.
fn full_action(action: &str) -> Value {
    let due = (Timestamp::now() + SignedDuration::from_hours(24 * 7)).to_string();
    json!({
        "action": action,
        "note": format!("{action} done"),
        "person": {"name": "张伟", "phone": "13700000003"},
        "due": due,
    })
}

/// The shortest list of actions from `start` to `status` in `table`.
fn path_to(table: &[Move], start: &str, status: &str) -> Vec<String> {
    let mut paths: Vec<(String, Vec<String>)> = vec![(start.to_owned(), Vec::new())];
    let mut i = 0;
    while i < paths.len() {
        let (at, path) = paths[i].clone();
        if at == status {
            return path;
        }
        for (from, action, to) in table {
            if *from == at && !paths.iter().any(|(s, _)| s == to) {
                let mut next = path.clone();
                next.push((*action).to_owned());
                paths.push(((*to).to_owned(), next));
            }
        }
        i += 1;
    }
    panic!("{status} is unreachable from {start}")
}

/// A new incident of `category` moved to `status` along the table.
async fn incident_at(
    app: &Router,
    category: &str,
    table: &[Move],
    start: &str,
    status: &str,
) -> i64 {
    let id = report(app, &report_body(category, IN_S1)).await["id"]
        .as_i64()
        .expect("id");
    for action in path_to(table, start, status) {
        post_change(
            app,
            &format!("/api/incidents/{id}/actions"),
            &full_action(&action),
        )
        .await
        .expect(StatusCode::OK);
    }
    id
}

async fn every_move_of_both_processes_is_allowed_or_refused_as_specified(t: &TestStore) {
    let (_state, app) = app(t).await;
    let processes: [(&str, &[Move], &str); 2] = [
        ("sanitation", &COMMUNITY, "collected"),
        ("dispute", &DISPUTE, "found"),
    ];
    let (mut allowed, mut refused) = (0, 0);
    for (category, table, start) in processes {
        let mut statuses: Vec<&str> = vec![start];
        for (from, _, to) in table {
            for s in [from, to] {
                if !statuses.contains(s) {
                    statuses.push(s);
                }
            }
        }
        for status in statuses {
            // One incident at this status takes every refused action and
            // must come out of them exactly as it was.
            let id = incident_at(&app, category, table, start, status).await;
            let uri = format!("/api/incidents/{id}");
            let before = get(&app, &uri).await.expect(StatusCode::OK);
            assert_eq!(before["incident"]["status"], status);
            let allowed_here: Vec<&str> = table
                .iter()
                .filter(|(f, _, _)| *f == status)
                .map(|(_, a, _)| *a)
                .collect();
            assert_eq!(
                before["incident"]["allowed_actions"],
                json!(allowed_here),
                "{category} {status}"
            );
            for action in ACTIONS {
                let want = table
                    .iter()
                    .find(|(f, a, _)| *f == status && *a == action)
                    .map(|(_, _, to)| *to);
                match want {
                    None => {
                        let problem =
                            post_change(&app, &format!("{uri}/actions"), &full_action(action))
                                .await
                                .problem(StatusCode::CONFLICT);
                        let detail = problem["detail"].as_str().expect("detail");
                        assert!(
                            detail.contains(action) && detail.contains(status),
                            "{detail}"
                        );
                        refused += 1;
                    }
                    Some(to) => {
                        let fresh = incident_at(&app, category, table, start, status).await;
                        let after = post_change(
                            &app,
                            &format!("/api/incidents/{fresh}/actions"),
                            &full_action(action),
                        )
                        .await
                        .expect(StatusCode::OK);
                        assert_eq!(after["status"], to, "{category}: {status} --{action}->");
                        let history = get(&app, &format!("/api/incidents/{fresh}"))
                            .await
                            .expect(StatusCode::OK)["history"]
                            .clone();
                        let last = history.as_array().expect("history").last().cloned();
                        let last = last.expect("an entry");
                        assert_eq!(last["action"], action);
                        assert_eq!(last["status_from"], status);
                        assert_eq!(last["status_to"], to);
                        assert_eq!(last["actor"], "admin");
                        allowed += 1;
                    }
                }
            }
            let after = get(&app, &uri).await.expect(StatusCode::OK);
            assert_eq!(
                after, before,
                "{category} {status}: refusals changed nothing"
            );
        }
    }
    assert_eq!(allowed, COMMUNITY.len() + DISPUTE.len());
    assert_eq!(refused, 7 * 12 + 8 * 12 - allowed);
}

async fn actions_refuse_missing_fields_and_change_nothing(t: &TestStore) {
    let (_state, app) = app(t).await;
    let studied = incident_at(&app, "sanitation", &COMMUNITY, "collected", "studied").await;
    let uri = format!("/api/incidents/{studied}");
    let before = get(&app, &uri).await.expect(StatusCode::OK);
    let cases = [
        (json!({"action": "assign"}), "person"),
        (
            json!({"action": "assign", "person": {"name": " "}}),
            "person.name",
        ),
    ];
    for (body, parameter) in cases {
        let problem = post_change(&app, &format!("{uri}/actions"), &body)
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["parameter"], parameter, "{body}");
    }
    let resolved = incident_at(&app, "dispute", &DISPUTE, "found", "resolved").await;
    let resolved_uri = format!("/api/incidents/{resolved}");
    for (body, parameter) in [
        (json!({"action": "schedule_follow_up"}), "due"),
        (
            json!({"action": "schedule_follow_up", "due": "2000-01-01T00:00:00Z"}),
            "due",
        ),
    ] {
        let problem = post_change(&app, &format!("{resolved_uri}/actions"), &body)
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["parameter"], parameter, "{body}");
    }
    let mediating_closed = post_change(
        &app,
        &format!("{resolved_uri}/actions"),
        &json!({"action": "bogus"}),
    )
    .await;
    assert_eq!(mediating_closed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(get(&app, &uri).await.expect(StatusCode::OK), before);
    let missing = post_change(
        &app,
        "/api/incidents/999/actions",
        &json!({"action": "verify"}),
    )
    .await;
    missing.problem(StatusCode::NOT_FOUND);
}

async fn escalation_walks_up_to_the_county(t: &TestStore) {
    let (_state, app) = app(t).await;
    let id = report(&app, &report_body("infrastructure", IN_S1)).await["id"]
        .as_i64()
        .expect("id");
    let uri = format!("/api/incidents/{id}/escalate");
    let body = json!({"note": "需要上级协调"});
    for (tier, grid, leader) in [
        ("grid", Some("b-sw-w-s"), "Leader b-sw-w-s"),
        ("group", Some("g-sw-w-s"), "Leader g-sw-w-s"),
        ("village", Some("v-sw-w"), "Leader v-sw-w"),
        ("town", Some("t-sw"), "Leader t-sw"),
        ("county", None, "县综治中心"),
    ] {
        let incident = post_change(&app, &uri, &body).await.expect(StatusCode::OK);
        assert_eq!(incident["tier"], tier, "{}", t.name);
        assert_eq!(incident["handling_grid"], json!(grid));
        assert_eq!(incident["responsible"]["name"], leader);
        assert_eq!(
            incident["status"], "collected",
            "escalation is not a status"
        );
    }
    let last = get(&app, &format!("/api/incidents/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(last["incident"]["can_escalate"], false);
    let problem = post_change(&app, &uri, &body)
        .await
        .problem(StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("county"),
        "{problem}"
    );
    let history = last["history"].as_array().expect("history");
    assert_eq!(history.len(), 6);
    assert_eq!(history[5]["kind"], "escalated");
    assert_eq!(history[5]["tier_from"], "town");
    assert_eq!(history[5]["tier_to"], "county");
    assert_eq!(history[5]["note"], "需要上级协调");
    // A dispute is escalated only once reported (step 4 follows step 2).
    let found = report(&app, &report_body("dispute", IN_S1)).await["id"]
        .as_i64()
        .expect("id");
    post_change(&app, &format!("/api/incidents/{found}/escalate"), &body)
        .await
        .problem(StatusCode::CONFLICT);
}

/// 上移 and 改派 are a dispatcher's decisions outside the process: the
/// server refuses them without a reason (missing or blank), changing
/// nothing, and the history says who had the incident before and who has
/// it now.
async fn escalating_and_reassigning_need_a_reason_and_say_from_whom_to_whom(t: &TestStore) {
    let (_state, app) = app(t).await;
    let id = report(&app, &report_body("infrastructure", IN_S1)).await["id"]
        .as_i64()
        .expect("id");
    let uri = format!("/api/incidents/{id}");
    let before = get(&app, &uri).await.expect(StatusCode::OK);
    for body in [json!({}), json!({"note": "  \n "}), json!({"note": null})] {
        let problem = post_change(&app, &format!("{uri}/escalate"), &body)
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["parameter"], "note", "{}: {problem}", t.name);
        let mut assign = body.clone();
        assign["person"] = json!({"name": "李四", "phone": "13900000002"});
        let problem = post_change(&app, &format!("{uri}/assign"), &assign)
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["parameter"], "note", "{}: {problem}", t.name);
    }
    assert_eq!(
        get(&app, &uri).await.expect(StatusCode::OK),
        before,
        "{}: a refused change changes nothing",
        t.name
    );

    post_change(
        &app,
        &format!("{uri}/escalate"),
        &json!({"note": "需要村里协调"}),
    )
    .await
    .expect(StatusCode::OK);
    post_change(
        &app,
        &format!("{uri}/assign"),
        &json!({"note": "熟悉该片区", "person": {"name": "李四", "phone": "13900000002"}}),
    )
    .await
    .expect(StatusCode::OK);
    let after = get(&app, &uri).await.expect(StatusCode::OK);
    let history = after["history"].as_array().expect("history");
    let escalated = &history[history.len() - 2];
    assert_eq!(escalated["kind"], "escalated");
    assert_eq!(escalated["person_from"]["name"], "Leader s-1");
    assert_eq!(escalated["person_to"]["name"], "Leader b-sw-w-s");
    assert_eq!(escalated["note"], "需要村里协调");
    let reassigned = &history[history.len() - 1];
    assert_eq!(reassigned["kind"], "reassigned");
    assert_eq!(reassigned["person_from"]["name"], "Leader b-sw-w-s");
    assert_eq!(reassigned["person_to"]["name"], "李四");
    assert_eq!(reassigned["note"], "熟悉该片区");
    assert_eq!(after["incident"]["responsible"]["name"], "李四");
}

/// `q` finds an incident by its number or by words of its description
/// (wildcards are text), `sort=deadline` puts the most overdue first and
/// `sort=oldest` what has waited longest.
async fn lists_search_by_number_and_text_and_sort_by_deadline(t: &TestStore) {
    let (_state, app) = app(t).await;
    let mut first = report_body("sanitation", IN_S1);
    first["description"] = json!("Street LAMP out_of order 100%");
    let first = report(&app, &first).await;
    let critical = {
        let mut body = report_body("sanitation", IN_S1);
        body["severity"] = json!("critical");
        body["description"] = json!("化粪池外溢");
        report(&app, &body).await
    };
    let third = report(&app, &report_body("dispute", IN_S1)).await;
    let list = |query: &'static str| {
        let app = app.clone();
        async move {
            get(&app, &format!("/api/incidents?{query}"))
                .await
                .expect(StatusCode::OK)
        }
    };
    let id = |i: &Value| i["id"].as_i64().expect("id");
    assert_eq!(
        incident_ids(&list("q=lamp").await),
        [id(&first)],
        "{}",
        t.name
    );
    assert_eq!(
        incident_ids(&list("q=%25").await),
        [id(&first)],
        "a % is a percent sign"
    );
    assert_eq!(
        incident_ids(&list("q=t_o").await),
        [id(&first)],
        "an _ is an underscore"
    );
    assert_eq!(
        incident_ids(&list("q=%E5%8C%96%E7%B2%AA").await),
        [id(&critical)]
    );
    let by_number = get(&app, &format!("/api/incidents?q={}", id(&third)))
        .await
        .expect(StatusCode::OK);
    assert!(incident_ids(&by_number).contains(&id(&third)));
    let with_hash = get(&app, &format!("/api/incidents?q=%23{}", id(&third)))
        .await
        .expect(StatusCode::OK);
    assert!(
        incident_ids(&with_hash).contains(&id(&third)),
        "#N finds incident N"
    );
    assert_eq!(
        incident_ids(&list("q=nothing-like-this").await),
        Vec::<i64>::new()
    );
    assert_eq!(
        incident_ids(&list("sort=oldest").await),
        [id(&first), id(&critical), id(&third)]
    );
    // A critical report goes to a higher tier with a shorter deadline than
    // the minor ones reported after it... or at least not later: the order
    // is by deadline, then newest.
    let by_deadline = list("sort=deadline").await;
    // Compared as instants: the text drops trailing zeros of the fraction
    // ("41.01Z" is before "41.016Z" but sorts after it as a string).
    let deadlines: Vec<Timestamp> = by_deadline["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .map(|i| {
            let text = i["deadline"].as_str().expect("deadline");
            text.parse()
                .unwrap_or_else(|e| panic!("deadline {text}: {e}"))
        })
        .collect();
    let mut sorted = deadlines.clone();
    sorted.sort();
    assert_eq!(deadlines, sorted, "{by_deadline}");
    for (query, parameter) in [("sort=soonest", "sort"), ("q=", "")] {
        let answer = get(&app, &format!("/api/incidents?{query}")).await;
        if parameter.is_empty() {
            assert_eq!(answer.status, StatusCode::OK, "a blank search is no search");
        } else {
            assert_eq!(
                answer.problem(StatusCode::BAD_REQUEST)["parameter"],
                parameter
            );
        }
    }
    let long = "长".repeat(101);
    let answer = get(
        &app,
        &format!("/api/incidents?q={}", support::http::urlencode(&long)),
    )
    .await;
    assert_eq!(answer.problem(StatusCode::BAD_REQUEST)["parameter"], "q");
}

/// `POST /api/incidents?dry_run=true` checks a report and lists the open
/// incidents it may duplicate, so the form can offer them before sending;
/// nothing is recorded, and a bad report is refused as it would be.
async fn a_dry_run_lists_duplicates_and_records_nothing(t: &TestStore) {
    let (_state, app) = app(t).await;
    let first = report(&app, &report_body("sanitation", IN_S1)).await;
    let before = get(&app, "/api/incidents").await.expect(StatusCode::OK);
    let preview = post_json(
        &app,
        "/api/incidents?dry_run=true",
        &report_body("sanitation", (IN_S1.0 + 0.0005, IN_S1.1)),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        preview["duplicates"][0]["id"], first["id"],
        "{}: {preview}",
        t.name
    );
    assert!(preview.get("incident").is_none(), "nothing was recorded");
    // The rule behind the hint, as the server applies it (its defaults).
    assert_eq!(
        preview["duplicate_rule"],
        json!({"radius_m": 200.0, "window_hours": 72})
    );
    let other_category = post_json(
        &app,
        "/api/incidents?dry_run=true",
        &report_body("dispute", IN_S1),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(other_category["duplicates"], json!([]));
    let outside = post_json(
        &app,
        "/api/incidents?dry_run=true",
        &report_body("sanitation", (100.0, 30.0)),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(outside["parameter"], "location");
    let wrong = post_json(
        &app,
        "/api/incidents?dry_run=maybe",
        &report_body("sanitation", IN_S1),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(wrong["parameter"], "dry_run");
    assert_eq!(
        get(&app, "/api/incidents").await.expect(StatusCode::OK),
        before,
        "dry runs record nothing"
    );
}

fn report_at(category: &str) -> Report {
    Report {
        category: category.into(),
        description: "路灯不亮".into(),
        point: LonLat::new(IN_S1.0, IN_S1.1),
        crs: InputCrs::Wgs84,
        severity: Severity::Minor,
        source: ReportSource::GridMember,
        reporter: None,
        photos: Vec::new(),
        actor: "member-7".into(),
        note: None,
    }
}

async fn overdue_incidents_are_escalated_by_the_sweep(t: &TestStore) {
    let (state, app) = app(t).await;
    let t0: Timestamp = "2026-03-01T08:00:00Z".parse().expect("time");
    let hours = SignedDuration::from_hours;
    let open = dispatch::report(state.dispatch(), report_at("infrastructure"), t0)
        .await
        .expect("reported")
        .incident;
    let resolved = dispatch::report(state.dispatch(), report_at("infrastructure"), t0)
        .await
        .expect("reported")
        .incident;
    for action in ["verify", "study", "assign", "resolve"] {
        post_change(
            &app,
            &format!("/api/incidents/{}/actions", resolved.id),
            &full_action(action),
        )
        .await
        .expect(StatusCode::OK);
    }
    let found_dispute = dispatch::report(state.dispatch(), report_at("dispute"), t0)
        .await
        .expect("reported")
        .incident;

    // Within the day: nothing is due.
    let early = dispatch::escalate_overdue(state.dispatch(), t0 + hours(23))
        .await
        .expect("sweep");
    assert!(early.is_empty(), "{early:?}");

    // A day and an hour on: the open incident goes up one tier; the resolved
    // one is not open; the unreported dispute cannot be escalated yet.
    let now = t0 + hours(25);
    let escalated = dispatch::escalate_overdue(state.dispatch(), now)
        .await
        .expect("sweep");
    let ids: Vec<IncidentId> = escalated.iter().map(|i| i.id).collect();
    assert_eq!(ids, [open.id], "{}", t.name);
    let up = &escalated[0];
    assert_eq!(up.tier.name(), "grid");
    assert_eq!(
        up.responsible.as_ref().map(|p| p.name.as_str()),
        Some("Leader b-sw-w-s")
    );
    assert_eq!(up.tier_since, now);
    assert_eq!(up.deadline, now + hours(24));
    let history = state.dispatch().history(open.id).await.expect("history");
    let last = history.last().expect("entries");
    assert_eq!(last.actor, "system");
    assert!(
        last.note.as_deref().is_some_and(|n| n.contains("deadline")),
        "{last:?}"
    );
    // The dispute stays overdue, and listed so.
    let listed = state
        .dispatch()
        .incidents(
            &wangge::store::IncidentFilter {
                overdue_at: Some(now),
                ..Default::default()
            },
            10,
            0,
        )
        .await
        .expect("list");
    let overdue: Vec<IncidentId> = listed.incidents.iter().map(|i| i.id).collect();
    assert_eq!(overdue, [found_dispute.id]);
    // Swept again at once: nothing more.
    assert!(
        dispatch::escalate_overdue(state.dispatch(), now)
            .await
            .expect("sweep")
            .is_empty()
    );
}

async fn nearby_open_reports_of_a_category_are_hinted_as_duplicates(t: &TestStore) {
    let (_state, app) = app(t).await;
    let first = report(&app, &report_body("sanitation", IN_S1)).await;
    // About 50 m east: a likely duplicate.
    let near = (IN_S1.0 + 0.00055, IN_S1.1);
    let answer = post_json(&app, "/api/incidents", &report_body("sanitation", near))
        .await
        .expect(StatusCode::CREATED);
    let hinted: Vec<&Value> = answer["duplicates"]
        .as_array()
        .expect("duplicates")
        .iter()
        .map(|d| &d["id"])
        .collect();
    assert_eq!(hinted, [&first["id"]], "{}", t.name);
    // Another category at the same place, or the same category 1 km away:
    // no hint.
    for (category, at) in [
        ("dispute", IN_S1),
        ("sanitation", (IN_S1.0 + 0.011, IN_S1.1)),
    ] {
        let answer = post_json(&app, "/api/incidents", &report_body(category, at))
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(answer["duplicates"], json!([]), "{category} {at:?}");
    }
    // Dismissed incidents are not hinted.
    for id in [&first["id"], &answer["incident"]["id"]] {
        post_change(
            &app,
            &format!("/api/incidents/{id}/actions"),
            &full_action("dismiss"),
        )
        .await
        .expect(StatusCode::OK);
    }
    let answer = post_json(&app, "/api/incidents", &report_body("sanitation", IN_S1))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(answer["duplicates"], json!([]));
}

async fn a_stale_version_is_refused(t: &TestStore) {
    let (_state, app) = app(t).await;
    let id = report(&app, &report_body("sanitation", IN_S1)).await["id"]
        .as_i64()
        .expect("id");
    let uri = format!("/api/incidents/{id}");
    let mut verify = full_action("verify");
    verify["version"] = json!(1);
    post_change(&app, &format!("{uri}/actions"), &verify)
        .await
        .expect(StatusCode::OK);
    let before = get(&app, &uri).await.expect(StatusCode::OK);
    // A second dispatcher acting on version 1.
    let mut dismiss = full_action("dismiss");
    dismiss["version"] = json!(1);
    let problem = post_change(&app, &format!("{uri}/actions"), &dismiss)
        .await
        .problem(StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("version 1"),
        "{problem}"
    );
    let escalate = json!({"version": 1, "note": "需要上级协调"});
    post_change(&app, &format!("{uri}/escalate"), &escalate)
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(get(&app, &uri).await.expect(StatusCode::OK), before);
}

async fn lists_filter_by_grid_status_and_overdue(t: &TestStore) {
    let (_state, app) = app(t).await;
    let in_sw = report(&app, &report_body("sanitation", IN_S1)).await;
    let in_se = report(&app, &report_body("sanitation", (106.15, 34.65))).await;
    let dispute = report(&app, &report_body("dispute", IN_S1)).await;
    let id = |i: &Value| i["id"].as_i64().expect("id");
    for (query, want) in [
        ("", vec![id(&dispute), id(&in_se), id(&in_sw)]),
        ("?grid=t-sw", vec![id(&dispute), id(&in_sw)]),
        ("?grid=s-1&status=collected", vec![id(&in_sw)]),
        (
            "?status=found,collected&category=dispute",
            vec![id(&dispute)],
        ),
        ("?tier=patch", vec![id(&dispute), id(&in_sw)]),
        ("?bbox=106.1,34.6,106.2,34.7", vec![id(&in_se)]),
        ("?overdue=true", vec![]),
        ("?limit=1&offset=1", vec![id(&in_se)]),
    ] {
        let doc = get(&app, &format!("/api/incidents{query}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(incident_ids(&doc), want, "{query} {}", t.name);
    }
    let doc = get(&app, "/api/incidents?limit=1")
        .await
        .expect(StatusCode::OK);
    assert_eq!(doc["total"], 3);
    // `open`: every status still being worked on.
    post_change(
        &app,
        &format!("/api/incidents/{}/actions", id(&in_se)),
        &json!({"action": "dismiss", "note": "重复"}),
    )
    .await
    .expect(StatusCode::OK);
    let doc = get(&app, "/api/incidents?status=open")
        .await
        .expect(StatusCode::OK);
    assert_eq!(incident_ids(&doc), vec![id(&dispute), id(&in_sw)]);
    for (query, parameter) in [
        ("?grid=nowhere", "grid"),
        ("?status=opened", "status"),
        ("?tier=province", "tier"),
        ("?from=yesterday", "from"),
        ("?bbox=1,2,3", "bbox"),
        ("?overdue=yes", "overdue"),
        ("?limit=0", "limit"),
        ("?colour=red", "colour"),
        ("?status=found&status=closed", "status"),
    ] {
        let problem = get(&app, &format!("/api/incidents{query}"))
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["parameter"], parameter, "{query}");
    }
    let categories = get(&app, "/api/incidents/categories")
        .await
        .expect(StatusCode::OK);
    assert_eq!(categories.as_array().map(Vec::len), Some(6));
    assert_eq!(
        categories[0],
        json!({"code": "dispute", "name": "矛盾纠纷", "workflow": "dispute"})
    );
}

async fn bad_reports_are_refused_and_record_nothing(t: &TestStore) {
    let (_state, app) = app(t).await;
    let good = report_body("sanitation", IN_S1);
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    for (body, parameter) in [
        (with("category", json!("weather")), "category"),
        (with("lon", json!(190.0)), "location"),
        (with("description", json!("   ")), "description"),
        (with("photos", json!(["file:///etc/passwd"])), "photos"),
        (with("reporter", json!({"name": ""})), "reporter.name"),
        // Every text has a length: a 10 MB note or name is refused.
        (with("note", json!("记".repeat(10_000_000 / 3))), "note"),
        (
            with("reporter", json!({"name": "名".repeat(101)})),
            "reporter.name",
        ),
        (
            with("reporter", json!({"name": "王芳", "phone": "1".repeat(41)})),
            "reporter.phone",
        ),
        (
            with("photos", json!([format!("https://x/{}", "p".repeat(2001))])),
            "photos",
        ),
        // Bobby Tables is refused for what it is (an unknown category),
        // and stored nowhere.
        (
            with("category", json!("x'); DROP TABLE incidents;--")),
            "category",
        ),
    ] {
        let problem = post_json(&app, "/api/incidents", &body)
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["parameter"], parameter, "{body}");
    }
    for body in [
        with("colour", json!("red")),
        // Who reports is the logged-in user, never a field of the request.
        with("actor", json!("县委书记")),
        with("severity", json!("huge")),
        with("source", json!("rumour")),
        json!({"category": "sanitation"}),
    ] {
        post_json(&app, "/api/incidents", &body)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let doc = get(&app, "/api/incidents").await.expect(StatusCode::OK);
    assert_eq!(doc["total"], 0, "nothing recorded ({})", t.name);
}

async fn statistics_per_grid_as_json_and_csv(t: &TestStore) {
    let (_state, app) = app(t).await;
    let mut sw = Vec::new();
    for category in ["sanitation", "sanitation", "dispute"] {
        sw.push(report(&app, &report_body(category, IN_S1)).await["id"].clone());
    }
    report(&app, &report_body("sanitation", (106.15, 34.65))).await;
    for action in ["verify", "study", "assign", "resolve"] {
        post_change(
            &app,
            &format!("/api/incidents/{}/actions", sw[0]),
            &full_action(action),
        )
        .await
        .expect(StatusCode::OK);
    }
    post_change(
        &app,
        &format!("/api/incidents/{}/actions", sw[1]),
        &full_action("dismiss"),
    )
    .await
    .expect(StatusCode::OK);

    let doc = get(&app, "/api/incidents/stats?level=1")
        .await
        .expect(StatusCode::OK);
    let grids = doc["grids"].as_array().expect("grids");
    let ids: Vec<&str> = grids
        .iter()
        .map(|g| g["grid"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["t-se", "t-sw"], "{}", t.name);
    let t_sw = &grids[1];
    assert_eq!(t_sw["name"], "西南镇");
    assert_eq!(
        (
            &t_sw["reported"],
            &t_sw["resolved"],
            &t_sw["dismissed"],
            &t_sw["open"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(1))
    );
    assert_eq!(
        t_sw["resolution_rate"], 0.5,
        "dismissed are not counted to resolve"
    );
    assert!(
        t_sw["median_hours_to_resolve"]
            .as_f64()
            .is_some_and(|h| h >= 0.0)
    );
    assert_eq!(t_sw["by_category"]["sanitation"]["reported"], 2);
    assert_eq!(doc["total"]["reported"], 4);

    // Deeper levels group by their own grids; outside-of-level incidents
    // (t-se has no sub-areas) come last with no grid.
    let doc = get(&app, "/api/incidents/stats?level=5&category=sanitation")
        .await
        .expect(StatusCode::OK);
    let grids = doc["grids"].as_array().expect("grids");
    assert_eq!(grids[0]["grid"], "s-1");
    assert_eq!(grids[0]["reported"], 2);
    assert_eq!(grids[1]["grid"], Value::Null);
    assert_eq!(grids[1]["reported"], 1);

    let csv = support::http::get(&app, "/api/incidents/stats?level=1&format=csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = String::from_utf8(csv.body.to_vec()).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "grid,name,level,reported,resolved,dismissed,open,overdue,resolution_rate,\
         median_hours_to_resolve,dispute_reported,dispute_resolved,sanitation_reported,\
         sanitation_resolved"
    );
    assert!(
        lines[2].starts_with("t-sw,西南镇,1,3,1,1,1,0,0.5000,"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("total,,1,4,1,1,2,0,0.3333,"),
        "{}",
        lines[3]
    );
    // For people: Chinese headers and names, with a byte-order mark so
    // that Excel reads the CSV as UTF-8.
    let csv = support::http::get(&app, "/api/incidents/stats?level=1&format=csv&lang=zh").await;
    let text = String::from_utf8(csv.body.to_vec()).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "网格编码,网格名称,层级,上报,办结,作废,在办,超期,办结率,办结用时中位数（小时）,\
         矛盾纠纷上报,矛盾纠纷办结,环境卫生上报,环境卫生办结"
    );
    assert!(
        lines[3].starts_with("合计,,1,4,1,1,2,0,0.3333,"),
        "{}",
        lines[3]
    );

    // The workbook, read back as a spreadsheet program reads it.
    let xlsx = support::http::get_with(
        &app,
        "/api/incidents/stats?level=1&format=xlsx",
        &[("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")],
    )
    .await;
    assert_eq!(xlsx.status, StatusCode::OK, "{}", t.name);
    assert_eq!(
        xlsx.content_type(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        xlsx.header(header::CONTENT_DISPOSITION)
            .contains("incident-stats.xlsx")
    );
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.body.to_vec()))
            .expect("an XLSX workbook");
    use calamine::Reader;
    assert_eq!(book.sheet_names(), ["按网格", "按月", "条件"]);
    let table = book.worksheet_range("按网格").expect("the table");
    let cell = |r: usize, c: usize| table.get((r, c)).map(|d| d.to_string()).unwrap_or_default();
    assert_eq!(
        (cell(0, 0), cell(0, 3), cell(0, 4), cell(0, 8)),
        (
            "网格编码".into(),
            "上报".into(),
            "办结".into(),
            "办结率".into()
        )
    );
    assert_eq!(
        (cell(2, 0), cell(2, 1), cell(2, 3), cell(2, 4)),
        ("t-sw".into(), "西南镇".into(), "3".into(), "1".into())
    );
    assert_eq!(
        table.get((2, 8)),
        Some(&calamine::Data::Float(0.5)),
        "a rate is a number"
    );
    assert_eq!((cell(3, 0), cell(3, 3)), ("合计".into(), "4".into()));
    let months = book.worksheet_range("按月").expect("the trend");
    let this_month = wangge::dispatch::stats::county_month(jiff::Timestamp::now());
    assert_eq!(months.get((1, 0)).map(|d| d.to_string()), Some(this_month));
    assert_eq!(months.get((1, 1)), Some(&calamine::Data::Float(4.0)));
    // JSON has the same trend.
    let doc = get(&app, "/api/incidents/stats?level=1")
        .await
        .expect(StatusCode::OK);
    assert_eq!(doc["months"][0]["reported"], 4);

    for (query, parameter) in [
        ("?level=9", "level"),
        ("?format=xml", "format"),
        ("?lang=fr", "lang"),
        ("?by=town", "by"),
    ] {
        get(&app, &format!("/api/incidents/stats{query}"))
            .await
            .problem(StatusCode::BAD_REQUEST)["parameter"]
            .as_str()
            .filter(|p| *p == parameter)
            .unwrap_or_else(|| panic!("{query} names {parameter}"));
    }
}

async fn demo_incidents_are_deterministic_and_play_their_lives(t: &TestStore) {
    use wangge::cli::demo::load_demo_incidents;
    use wangge::store::IncidentFilter;
    let (state, _app) = app(t).await;
    let end: Timestamp = "2026-11-01T00:00:00Z".parse().expect("time");
    let mut seen = 0;
    let summary = load_demo_incidents(state.dispatch(), 300, 7, end, |n| seen = n)
        .await
        .expect("demo incidents load");
    assert_eq!((summary.reported, seen), (300, 300));
    assert!(summary.actions > 600, "lives were played: {summary:?}");
    let all = state
        .dispatch()
        .incidents(&IncidentFilter::default(), 1000, 0)
        .await
        .expect("list");
    assert_eq!(all.total, 300);
    let year_before = end - SignedDuration::from_hours(365 * 24);
    let mut categories = std::collections::BTreeSet::new();
    let (mut closed, mut open) = (0, 0);
    for i in &all.incidents {
        assert!(
            i.reported_at >= year_before && i.reported_at <= end,
            "{i:?}"
        );
        assert!(i.updated_at <= end, "no action after the end");
        assert!(i.chain[0].is_some(), "placed inside the county");
        categories.insert(i.category.clone());
        if i.status.is_terminal() {
            closed += 1;
        } else {
            open += 1;
        }
    }
    assert_eq!(categories.len(), 6, "every category occurs: {categories:?}");
    assert!(closed > 250, "most are finished a year on: {closed}");
    assert!(open > 0, "the most recent are still being handled");
    // The same seed over the same grids gives the same incidents.
    let other = TestStore::open(Backend::Sqlite).await;
    let (again, _) = app(&other).await;
    load_demo_incidents(again.dispatch(), 300, 7, end, |_| {})
        .await
        .expect("demo incidents load");
    let replay = again
        .dispatch()
        .incidents(&IncidentFilter::default(), 1000, 0)
        .await
        .expect("list");
    let key = |i: &wangge::model::Incident| {
        (
            i.category.clone(),
            i.status,
            i.point.wgs84.lon,
            i.reported_at,
        )
    };
    assert_eq!(
        replay.incidents.iter().map(key).collect::<Vec<_>>(),
        all.incidents.iter().map(key).collect::<Vec<_>>(),
        "{}",
        t.name
    );
    other.cleanup().await;
}

/// The ids of a list answer's incidents, in its order.
fn incident_ids(doc: &Value) -> Vec<i64> {
    doc["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect()
}
