//! What checking who is asking costs a request: `GET /api/grids/{id}` (one
//! basic grid of the demo county, from the in-memory index) through the
//! router, timed three ways in the same run:
//!
//! - **baseline**: no credential, the grid map published to anonymous
//!   readers: the route table is looked up, no credential is checked;
//! - **bearer token**: `Authorization: Bearer …`, a county viewer's token;
//! - **session cookie**: the web map's cookie, a county viewer's session.
//!
//! A checked credential is remembered for 10 s (`RECHECK_AFTER`), so
//! almost every timed request finds it remembered; the first after that
//! reads the store again. Target: a credential adds under 50 µs to the
//! median request. The answers are compared before the clock starts: the
//! same grid, 200, for all three. Run with `cargo bench --bench access`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use tower::ServiceExt;
use wangge::generate::{DEMO_SEED, generate};
use wangge::model::account::{Role, Scope, UserDraft};
use wangge::services::accounts::{AccessSettings, Actor};
use wangge::state::AppState;
use wangge::store::WriteMode;
use wangge::store::sqlite::SqliteStore;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = rt.block_on(async {
        let store = SqliteStore::open(dir.path().join("bench.db"))
            .await
            .expect("SQLite opens");
        let state = AppState::open(Arc::new(store)).await.expect("state opens");
        state
            .import_grids(generate(DEMO_SEED), WriteMode::Replace)
            .await
            .expect("the demo county imports");
        state
    });
    state.set_access(AccessSettings {
        public_grid_map: true,
        ..AccessSettings::default()
    });
    let (token, cookie) = rt.block_on(async {
        let actor = Actor::default();
        let user = state
            .accounts()
            .create_user(
                UserDraft {
                    login: "viewer".into(),
                    display_name: String::new(),
                    role: Role::Viewer,
                    scope: Scope::County,
                },
                "bench password 1234",
                &actor,
            )
            .await
            .expect("a user is created");
        let (token, _) = state
            .accounts()
            .issue_token(user.id, "bench", 1, &[], &actor)
            .await
            .expect("a token is issued");
        let (session, _) = state
            .accounts()
            .login("viewer", "bench password 1234", "")
            .await
            .expect("the viewer logs in");
        (token, format!("wangge_session={session}"))
    });
    let grid = state
        .index()
        .grids()
        .iter()
        .find(|g| g.level.get() == 4)
        .map(|g| g.id.to_string())
        .expect("a basic grid");
    let app = wangge::api::router(state.clone());
    let uri = format!("/api/grids/{grid}");
    let ask = |credential: Option<(&'static str, &str)>| {
        let mut request = Request::get(&uri);
        if let Some((name, value)) = credential {
            request = request.header(name, value);
        }
        let request = request.body(Body::empty()).expect("a request");
        let app = app.clone();
        rt.block_on(async move {
            let response = app.oneshot(request).await.expect("infallible");
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            (status, body)
        })
    };
    let bearer = format!("Bearer {token}");
    let ways: [(&str, Option<(&'static str, &str)>); 3] = [
        ("baseline: anonymous, published map", None),
        (
            "bearer token",
            Some((header::AUTHORIZATION.as_str(), &bearer)),
        ),
        ("session cookie", Some((header::COOKIE.as_str(), &cookie))),
    ];
    // The checks before the clock: all three answer the same grid.
    let answers: Vec<_> = ways
        .iter()
        .map(|(_, credential)| ask(*credential))
        .collect();
    for ((name, _), (status, body)) in ways.iter().zip(&answers) {
        assert_eq!(
            *status,
            StatusCode::OK,
            "{name}: {}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(body, &answers[0].1, "{name} answers another grid");
    }
    // And without the published map, no credential is refused.
    state.set_access(AccessSettings::default());
    assert_eq!(ask(None).0, StatusCode::UNAUTHORIZED);
    state.set_access(AccessSettings {
        public_grid_map: true,
        ..AccessSettings::default()
    });

    let mut group = c.benchmark_group("access");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(5));
    for (name, credential) in ways {
        group.bench_function(name, |b| b.iter(|| black_box(ask(credential))));
    }
    group.finish();

    // Medians of 2,001 requests each, interleaved so that the machine's
    // load falls on all three alike.
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); ways.len()];
    for _ in 0..2001 {
        for (i, (_, credential)) in ways.iter().enumerate() {
            let started = Instant::now();
            black_box(ask(*credential));
            times[i].push(started.elapsed());
        }
    }
    let medians: Vec<Duration> = times.into_iter().map(median).collect();
    for ((name, _), m) in ways.iter().zip(&medians) {
        println!("access: {name}: median {:.1} µs", m.as_secs_f64() * 1e6);
    }
    for (i, (name, _)) in ways.iter().enumerate().skip(1) {
        let added = medians[i].as_secs_f64() - medians[0].as_secs_f64();
        println!(
            "access: {name} adds {:.1} µs to the median request (target: under 50 µs)",
            added * 1e6
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
