//! Several wangge processes on one database, as the real binary runs them:
//!
//! - two `wangge serve` processes on one PostgreSQL: two grid changes
//!   planned on the same version, sent to the two servers at once, and
//!   exactly one commits (the other answers 409); each server then shows
//!   the other's change through the feed, without a restart;
//! - a `wangge import` from the command line while a server runs on the
//!   same SQLite file: the server's locate and change feed follow it.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;
use wangge::model::Grid;
use wangge::model::geojson::grids_to_feature_collection;

use support::four_towns::{four_towns, grid};
use support::process::{Endpoint, get_json, request, start};

/// The schema the two servers share (created afresh by the test).
const SCHEMA: &str = "two_servers";

fn body(grids: &[Grid]) -> String {
    serde_json::to_string(&grids_to_feature_collection(grids)).expect("serialises")
}

/// t-se split into two basic grids at `border`, under one village and one
/// group cluster that cover it.
fn t_se_split(border: f64) -> Vec<Grid> {
    vec![
        grid(
            "v-se",
            2,
            Some("t-se"),
            "东南村",
            (106.1, 34.6),
            (106.2, 34.7),
        ),
        grid(
            "g-se",
            3,
            Some("v-se"),
            "东南社",
            (106.1, 34.6),
            (106.2, 34.7),
        ),
        grid(
            "b-se-w",
            4,
            Some("g-se"),
            "西格",
            (106.1, 34.6),
            (border, 34.7),
        ),
        grid(
            "b-se-e",
            4,
            Some("g-se"),
            "东格",
            (border, 34.6),
            (106.2, 34.7),
        ),
    ]
}

/// Ask until `check` holds (the other process follows the feed once a
/// second), for at most ten seconds.
fn eventually(what: &str, mut check: impl FnMut() -> Option<Value>) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        match check() {
            None => return,
            Some(last) if Instant::now() > until => panic!("{what}: still {last}"),
            Some(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn basic_grid_at(addr: &Endpoint, lon: f64, lat: f64) -> Value {
    get_json(addr, &format!("/api/locate?lon={lon}&lat={lat}"))["l4"].clone()
}

#[test]
fn two_servers_on_one_postgresql_commit_one_of_two_changes() {
    let base = support::postgres_url();
    tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(async {
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("PostgreSQL is reachable");
            for statement in [
                format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"),
                format!("CREATE SCHEMA {SCHEMA}"),
            ] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                    .execute(&mut conn)
                    .await
                    .expect("schema reset");
            }
        });
    let database = format!("{base}&options[search_path]={SCHEMA},public");
    let a = start(&database, &["--no-demo"]);
    let b = start(&database, &["--no-demo"]);
    let (status, answer) = request(
        &a.addr,
        "POST",
        "/api/grids/import",
        Some(("application/geo+json", &body(&four_towns()))),
    );
    assert_eq!(status, 200, "{answer}");
    let version = answer["version"].as_i64().expect("a version");
    eventually("server b loads the county a imported", || {
        let health = get_json(&b.addr, "/healthz");
        (health["grid_version"] != json!(version)).then_some(health)
    });

    // Both planned on `version`, sent at the same time, one to each server.
    let send = |addr: Endpoint, border: f64| {
        let body = body(&t_se_split(border));
        std::thread::spawn(move || {
            request(
                &addr,
                "POST",
                &format!("/api/grids/import?mode=upsert&version={version}"),
                Some(("application/geo+json", &body)),
            )
        })
    };
    let first = send(a.addr.clone(), 106.15);
    let second = send(b.addr.clone(), 106.13);
    let answers = [
        first.join().expect("a answered"),
        second.join().expect("b answered"),
    ];
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort();
    assert_eq!(statuses, vec![200, 409], "{answers:?}");
    let (winner, border) = if answers[0].0 == 200 {
        (&a, 106.15)
    } else {
        (&b, 106.13)
    };
    let refused = &answers.iter().find(|(s, _)| *s == 409).expect("a 409").1;
    assert_eq!(refused["current_version"], version + 1, "{refused}");

    // Both servers answer with the winner's border, the loser after
    // following the feed; the loser's grids are nowhere.
    for server in [&a, &b] {
        eventually("both servers serve the committed change", || {
            let l4 = basic_grid_at(&server.addr, border - 0.005, 34.65);
            (l4 != json!("b-se-w")).then_some(l4)
        });
        let l4 = basic_grid_at(&server.addr, border + 0.005, 34.65);
        assert_eq!(l4, "b-se-e", "{}", server.addr);
    }
    let feed = get_json(&winner.addr, "/api/changes");
    let grid_changes = feed["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["kind"] == "grids")
        .count();
    assert_eq!(grid_changes, 2, "the county, then one of the two: {feed}");
}

#[test]
fn a_server_follows_an_import_made_from_the_command_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = format!("sqlite://{}", dir.path().join("wangge.db").display());
    let server = start(&database, &["--no-demo"]);
    let file = dir.path().join("county.geojson");
    let mut county = four_towns();
    county.extend(t_se_split(106.15));
    std::fs::write(&file, body(&county)).expect("file written");
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["--database", &database, "import"])
        .arg(&file)
        .output()
        .expect("wangge import runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually("the running server serves the imported grids", || {
        let l4 = basic_grid_at(&server.addr, 106.12, 34.65);
        (l4 != json!("b-se-w")).then_some(l4)
    });
    let health = get_json(&server.addr, "/healthz");
    assert_eq!(health["grids"], 15, "{health}");
    let feed = get_json(&server.addr, "/api/changes");
    assert_eq!(feed["changes"][0]["kind"], "grids", "{feed}");
    assert_eq!(feed["changes"][0]["actor"], "cli", "{feed}");
}
