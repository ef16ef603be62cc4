//! The README's first command, as a new user meets it: `wangge serve` on an
//! empty embedded store generates and imports the demo county, then the API
//! answers with the county's counts per level. A restart serves the same
//! grids from the file without generating them again.

mod support;

use support::process::{get_json, start};

fn counts(addr: &str) -> Vec<usize> {
    (1..=5)
        .map(|level| {
            get_json(addr, &format!("/api/grids?level={level}"))["features"]
                .as_array()
                .expect("a FeatureCollection")
                .len()
        })
        .collect()
}

/// First start loads the demo county; the API then reports 18 / 142 / 267 /
/// 1,063 / 913 grids, locates a point in the county seat, and a restart keeps them.
#[test]
fn first_start_serves_the_demo_county() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("wangge.db").display());

    let server = start(&database, &[]);
    assert_eq!(counts(&server.addr), [18, 142, 267, 1_063, 913]);
    let located = get_json(&server.addr, "/api/locate?lon=106.14&lat=34.73");
    assert_eq!(
        located["l1"], "620521100",
        "the county centre lies in the county seat: {located}"
    );
    assert!(located["l4"].is_string(), "{located}");
    let health = get_json(&server.addr, "/healthz");
    assert_eq!(health["grids"], 2_403, "{health}");
    drop(server);

    let again = start(&database, &[]);
    assert_eq!(counts(&again.addr), [18, 142, 267, 1_063, 913]);
}
