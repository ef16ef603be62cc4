//! Fuzzing the parsers and parameters that read what anyone can send: the
//! GeoJSON grid import, the Open311 form, GPX (and GeoJSON) tracks, the
//! tile path, and the locate query and batch body.
//!
//! Each target starts from its seed corpus in `fuzz/corpus/<target>/` (in
//! the repository: add an input there when a run finds one) and mutates
//! seeds with proptest: bytes flipped, inserted, deleted and replaced by
//! tokens that break parsers (`NaN`, `1e400`, unbalanced brackets, stray
//! `%`, invalid UTF-8, …). The property is the one users rely on: no input
//! panics a parser, and through the server no input gets a 5xx; a refusal
//! is a 4xx that says why. On a failure proptest shrinks the mutations
//! and prints the smallest input it found.
//!
//! The budget is bounded so the test command stays fast: `WANGGE_FUZZ_CASES`
//! cases per target (default 2,000, a few seconds in all), from a fixed seed so that CI runs are
//! reproducible; `WANGGE_FUZZ_SEED` (any text) explores other inputs, e.g.
//! `WANGGE_FUZZ_CASES=20000 WANGGE_FUZZ_SEED=$RANDOM cargo test --test fuzz`.

mod support;

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, Uri, header};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use support::TestStore;
use support::four_towns::four_towns_app;
use support::http::send;
use wangge::store::{Backend, WriteMode};

/// Tokens spliced into seeds: what breaks number, JSON, XML, form and path
/// parsers.
const TOKENS: &[&[u8]] = &[
    b"NaN",
    b"-Infinity",
    b"1e400",
    b"-0",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"0.000000000000000000000000000001",
    b"null",
    b"true",
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b"\\u0000",
    b"\\ud800",
    b",",
    b":",
    b"<",
    b">",
    b"</trkpt>",
    b"<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]>",
    b"&a;",
    b"%",
    b"%FF",
    b"%00",
    b"+",
    b"&",
    b"=",
    b"/",
    b"..",
    b"\xff\xfe",
    b"\xe5\x9e",
    b"\r\n",
    b"\t",
    b" ",
];

/// One change to a seed.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Delete(prop::sample::Index, u8),
    Token(prop::sample::Index, prop::sample::Index),
    Duplicate(prop::sample::Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<prop::sample::Index>(), 1..16u8).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(i, t)| Mutation::Token(i, t)),
        (any::<prop::sample::Index>(), 1..64u8).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for m in mutations {
        // Positions range over the bytes as they are now (one past the end
        // for insertions).
        let at = |i: &prop::sample::Index, len: usize| i.index(len + 1).min(len);
        match m {
            Mutation::Flip(i, mask) if !bytes.is_empty() => {
                let k = i.index(bytes.len());
                // The low bits only: ASCII stays ASCII, so most cases get
                // past the UTF-8 check to the parsers behind it (invalid
                // UTF-8 comes from insertions and tokens).
                bytes[k] ^= (mask & 0x3f) | 1;
            }
            Mutation::Insert(i, b) => {
                let k = at(i, bytes.len());
                bytes.insert(k, *b);
            }
            Mutation::Delete(i, n) if !bytes.is_empty() => {
                let k = i.index(bytes.len());
                let end = (k + usize::from(*n)).min(bytes.len());
                bytes.drain(k..end);
            }
            Mutation::Token(i, t) => {
                let k = at(i, bytes.len());
                let token = TOKENS[t.index(TOKENS.len())];
                bytes.splice(k..k, token.iter().copied());
            }
            Mutation::Duplicate(i, n) if !bytes.is_empty() => {
                let k = i.index(bytes.len());
                let end = (k + usize::from(*n)).min(bytes.len());
                let copy = bytes[k..end].to_vec();
                bytes.splice(end..end, copy);
            }
            _ => {}
        }
    }
    bytes
}

/// The seeds of a target, in name order.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus {} is readable: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).expect("a seed reads"))
        .collect();
    assert!(!seeds.is_empty(), "{} holds seeds", dir.display());
    seeds
}

/// Seeds as they are, then mutated: each case picks a seed and up to
/// eight mutations.
fn inputs(target: &str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = corpus(target);
    (
        any::<prop::sample::Index>(),
        prop::collection::vec(mutation(), 0..8),
    )
        .prop_map(move |(pick, mutations)| apply(&seeds[pick.index(seeds.len())], &mutations))
}

/// A runner with the bounded budget, from a fixed seed unless told.
fn runner() -> TestRunner {
    let cases = std::env::var("WANGGE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let seed = std::env::var("WANGGE_FUZZ_SEED").unwrap_or_else(|_| "wangge".into());
    let mut key = [0u8; 32];
    for (i, b) in seed.bytes().enumerate() {
        key[i % 32] ^= b;
    }
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    )
}

fn fuzz(target: &str, check: impl Fn(&[u8]) -> Result<(), TestCaseError>) {
    // The seeds themselves first: each must pass as it is.
    for (k, seed) in corpus(target).iter().enumerate() {
        if let Err(e) = check(seed) {
            panic!("{target}: seed {k} fails: {e}");
        }
    }
    if let Err(e) = runner().run(&inputs(target), |input| check(&input)) {
        panic!("{target}: {e}");
    }
}

/// A server answer for a fuzzed input: never a server error, and a
/// refusal says why.
fn answered(status: StatusCode, body: &[u8], input: &[u8]) -> Result<(), TestCaseError> {
    let shown = String::from_utf8_lossy(input);
    prop_assert!(
        !status.is_server_error(),
        "{status} for {shown:?}: {}",
        String::from_utf8_lossy(body)
    );
    if status.is_client_error() && status != StatusCode::NOT_FOUND {
        prop_assert!(!body.is_empty(), "a bare {status} for {shown:?}");
    }
    Ok(())
}

/// Every byte that is not plain in a URI, percent-encoded (so the input
/// reaches the router, which then decodes it).
fn uri_text(bytes: &[u8], keep: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn the_geojson_import_never_panics() {
    let existing = support::four_towns::four_towns();
    fuzz("geojson_import", |bytes| {
        if let Ok(grids) = wangge::import::parse_feature_collection(bytes) {
            // What parses goes on to the partition checks, as an import does.
            let _ = wangge::import::validate(&existing, grids.clone(), WriteMode::Upsert);
            let _ = wangge::import::validate(&[], grids, WriteMode::Replace);
        }
        Ok(())
    });
}

#[test]
fn track_files_never_panic() {
    fuzz("gpx_track", |bytes| {
        let _ = wangge::patrol::tracks::from_gpx(bytes);
        let _ = wangge::patrol::tracks::from_geojson(bytes);
        Ok(())
    });
}

/// The server-side targets share one server over one store.
struct Server {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    store: Option<TestStore>,
}

impl Server {
    fn start() -> Server {
        let rt = tokio::runtime::Runtime::new().expect("a runtime");
        let (store, app) = rt.block_on(async {
            let t = TestStore::open(Backend::Sqlite).await;
            let (state, app) = four_towns_app(&t).await;
            // Every case gets past the report rate to the checks behind it.
            state.set_reports_per_minute(1_000_000);
            (t, app)
        });
        Server {
            rt,
            app,
            store: Some(store),
        }
    }

    fn call(&self, request: Request<Body>) -> (StatusCode, Vec<u8>) {
        self.rt.block_on(async {
            let answer = send(&self.app, request).await;
            (answer.status, answer.body.to_vec())
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(t) = self.store.take() {
            self.rt.block_on(t.cleanup());
        }
    }
}

#[test]
fn the_open311_form_never_gets_a_server_error() {
    let server = Server::start();
    fuzz("open311_form", |bytes| {
        let request = Request::post("/open311/v2/requests.json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(bytes.to_vec()))
            .expect("a request");
        let (status, body) = server.call(request);
        answered(status, &body, bytes)
    });
}

#[test]
fn tile_paths_never_get_a_server_error() {
    let server = Server::start();
    fuzz("tile_path", |bytes| {
        let Ok(uri) = format!("/tiles/{}", uri_text(bytes, b"/%")).parse::<Uri>() else {
            return Ok(());
        };
        let (status, body) = server.call(Request::get(uri).body(Body::empty()).expect("a request"));
        answered(status, &body, bytes)
    });
}

#[test]
fn locate_parameters_never_get_a_server_error() {
    let server = Server::start();
    fuzz("locate_query", |bytes| {
        let Ok(uri) = format!("/api/locate?{}", uri_text(bytes, b"&=%,+")).parse::<Uri>() else {
            return Ok(());
        };
        let (status, body) = server.call(Request::get(uri).body(Body::empty()).expect("a request"));
        answered(status, &body, bytes)
    });
    fuzz("locate_batch", |bytes| {
        let request = Request::post("/api/locate")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(bytes.to_vec()))
            .expect("a request");
        let (status, body) = server.call(request);
        answered(status, &body, bytes)
    });
}
