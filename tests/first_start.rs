//! The README's first command, as a new user meets it: `wangge serve` on an
//! empty embedded store generates and imports the demo county, then the API
//! answers with the county's counts per level. A restart serves the same
//! grids from the file without generating them again.

mod support;

use support::process::{Endpoint, get_json, request, start};

fn counts(addr: &Endpoint) -> Vec<usize> {
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
    // The first admin's password is printed once, and it logs in.
    let password = server
        .first_password
        .clone()
        .expect("the first start prints the admin's one-time password");
    let login = format!(r#"{{"login": "admin", "password": "{password}"}}"#);
    let (status, session) = request(
        &server.addr,
        "POST",
        "/api/session",
        Some(("application/json", &login)),
    );
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["user"]["role"], "admin", "{session}");
    // Nothing but the login page answers without logging in.
    let anonymous = Endpoint {
        token: String::new(),
        ..server.addr.clone()
    };
    assert_eq!(request(&anonymous, "GET", "/api/incidents", None).0, 401);
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
    assert_eq!(
        again.first_password, None,
        "the password is printed only once"
    );
    assert_eq!(counts(&again.addr), [18, 142, 267, 1_063, 913]);
}
