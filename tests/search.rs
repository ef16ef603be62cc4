//! `GET /api/grids/search` through the router (no sockets), on a SQLite
//! store holding the four-town county of `support::four_towns`:
//!
//! ```text
//!  西北镇 t-nw | 东北镇 t-ne        names below level 1, all inside 西南镇 t-sw:
//!  ------------+------------         西村 v-sw-w, 东村 v-sw-e (level 2)
//!  西南镇 t-sw | 东南镇 t-se         南社 g-sw-w-s, 北社 g-sw-w-n (level 3, in 西村)
//!                                    南社第一网格 b-sw-w-s (level 4, in 南社)
//!                                    一片区 s-1, 二片区 s-2 (level 5)
//! ```
//!
//! Every grid's code is `C-` and its id. Each test names in one line what it
//! pins.

mod support;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use support::admin_app as router;
use tempfile::TempDir;
use wangge::state::AppState;
use wangge::store::WriteMode;

use support::four_towns::four_towns;

/// A router over a fresh SQLite store holding the four towns. Keep the folder.
async fn app() -> (TempDir, Router) {
    let (store, dir) = support::sqlite_store().await;
    let state: Arc<AppState> = AppState::open(store).await.expect("state opens");
    state
        .import_grids(four_towns(), WriteMode::Replace)
        .await
        .expect("the four towns are a valid county");
    (dir, router(state))
}

/// GET a URI: status and JSON body.
async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let answer = support::http::get(app, uri).await;
    (answer.status, answer.json())
}

/// The ids and match kinds of a search answer, in order.
async fn search(app: &Router, query: &str) -> Vec<(String, String)> {
    let (status, answer) = get(app, &format!("/api/grids/search?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {answer}");
    answer["results"]
        .as_array()
        .expect("results is an array")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_owned(),
                r["match"].as_str().expect("match").to_owned(),
            )
        })
        .collect()
}

fn hits(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(id, kind)| ((*id).to_owned(), (*kind).to_owned()))
        .collect()
}

/// Name prefixes before name substrings; within each, coarser levels first.
#[tokio::test]
async fn orders_prefix_before_substring_and_towns_first() {
    let (_dir, app) = app().await;
    // 南社 (3) and 南社第一网格 (4) start with 南; 东南镇 and 西南镇 (1) contain it.
    assert_eq!(
        search(&app, "q=南").await,
        hits(&[
            ("g-sw-w-s", "prefix"),
            ("b-sw-w-s", "prefix"),
            ("t-se", "substring"),
            ("t-sw", "substring"),
        ])
    );
}

/// A whole name is an exact match and comes before names it starts.
#[tokio::test]
async fn exact_name_comes_first() {
    let (_dir, app) = app().await;
    assert_eq!(
        search(&app, "q=南社").await,
        hits(&[("g-sw-w-s", "exact"), ("b-sw-w-s", "prefix")])
    );
}

/// Ids and codes match by prefix, whole ids exactly; their middles do not match.
#[tokio::test]
async fn ids_and_codes_match_by_prefix() {
    let (_dir, app) = app().await;
    assert_eq!(
        search(&app, "q=t-s").await,
        hits(&[("t-se", "prefix"), ("t-sw", "prefix")])
    );
    assert_eq!(
        search(&app, "q=C-s-").await,
        hits(&[("s-1", "prefix"), ("s-2", "prefix")])
    );
    assert_eq!(search(&app, "q=s-1").await, hits(&[("s-1", "exact")]));
    // Upper case and full-width forms are the same query.
    assert_eq!(
        search(&app, "q=%EF%BC%B3-1").await,
        hits(&[("s-1", "exact")])
    );
    assert!(search(&app, "q=sw").await.is_empty());
}

/// Each result carries what the map needs: summary, leader, bbox and path.
#[tokio::test]
async fn results_carry_bbox_leader_and_path() {
    let (_dir, app) = app().await;
    let (status, answer) = get(
        &app,
        "/api/grids/search?q=%20%E4%B8%80%E7%89%87%E5%8C%BA%20",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        answer,
        json!({
            "query": "一片区",
            "results": [{
                "id": "s-1", "level": 5, "name": "一片区", "code": "C-s-1",
                "leader": {"name": "Leader s-1", "phone": "13800000000"},
                "bbox": [106.0, 34.6, 106.025, 34.65],
                "match": "exact",
                "path": ["西南镇", "西村", "南社", "南社第一网格"]
            }]
        })
    );
}

/// `limit` keeps the best matches; the default is 10; no match is an empty list.
#[tokio::test]
async fn limit_keeps_the_best() {
    let (_dir, app) = app().await;
    // Four towns contain 镇, all level 1 with three characters: by id.
    assert_eq!(
        search(&app, "q=镇&limit=2").await,
        hits(&[("t-ne", "substring"), ("t-nw", "substring")])
    );
    assert_eq!(search(&app, "q=镇").await.len(), 4);
    assert_eq!(search(&app, "q=C-&limit=50").await.len(), 11);
    assert_eq!(search(&app, "q=C-").await.len(), 10);
    assert!(search(&app, "q=不存在").await.is_empty());
}

/// A missing, blank or overlong `q`, or a `limit` outside 1 to 50, is a 400 naming it.
#[tokio::test]
async fn rejects_bad_parameters() {
    let (_dir, app) = app().await;
    let long = "网".repeat(101);
    for (query, parameter) in [
        (String::new(), "q"),
        ("q=%20%20".to_owned(), "q"),
        (format!("q={long}"), "q"),
        ("q=镇&limit=0".to_owned(), "limit"),
        ("q=镇&limit=51".to_owned(), "limit"),
        ("q=镇&limit=ten".to_owned(), "limit"),
    ] {
        let (status, doc) = get(&app, &format!("/api/grids/search?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {doc}");
        assert_eq!(doc["parameter"], parameter, "{query}: {doc}");
    }
}

/// The OpenAPI document describes the search.
#[tokio::test]
async fn openapi_documents_the_search() {
    let (_dir, app) = app().await;
    let (_, doc) = get(&app, "/api/openapi.json").await;
    let op = &doc["paths"]["/api/grids/search"]["get"];
    assert_eq!(op["tags"], json!(["grids"]));
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(params, ["q", "limit"]);
}
