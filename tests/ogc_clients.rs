//! Real OGC API - Features clients from PyPI against a running wangge
//! server with the demo county, its roads and hazards: OWSLib walks the
//! landing page (with a trailing slash), conformance, the API definition,
//! the collections, and items with `bbox`, `datetime`, `crs=EPSG:4490`,
//! `filter` and paging; GDAL 3.12 (bundled with pyogrio) reads a
//! collection with an attribute filter it sends as CQL, in EPSG:3857.
//! Every answer must equal the same query through wangge's JSON API.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;

use support::python::{python, run_ok, script};
use support::server::{DemoServer, spawn_demo_server_with_patrols};

/// A box around the county seat.
const BBOX: &str = "106.10,34.70,106.20,34.76";

/// The JSON API's answer as the admin.
fn api(server: &DemoServer, path: &str) -> Value {
    let (status, body) = server.api("GET", path, None).expect(path);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// The ids of a FeatureCollection of grids from the JSON API.
fn grid_ids(collection: &Value) -> Vec<String> {
    collection["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["properties"]["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// The first position of a GeoJSON geometry, whatever its nesting.
fn first_position(geometry: &Value) -> (f64, f64) {
    let mut at = &geometry["coordinates"];
    while at[0].is_array() {
        at = &at[0];
    }
    (at[0].as_f64().expect("x"), at[1].as_f64().expect("y"))
}

/// The median population of the basic grids, and the ids of those above it.
fn above_median(basic: &Value) -> (i64, BTreeSet<String>) {
    let features = basic["features"].as_array().expect("features");
    let mut populations: Vec<i64> = features
        .iter()
        .filter_map(|f| f["properties"]["population"].as_i64())
        .collect();
    populations.sort_unstable();
    let median = populations[populations.len() / 2];
    let ids = features
        .iter()
        .filter(|f| f["properties"]["population"].as_i64() > Some(median))
        .map(|f| f["properties"]["id"].as_str().expect("id").to_owned())
        .collect();
    (median, ids)
}

#[test]
fn owslib_reads_what_the_json_api_holds() {
    let server = spawn_demo_server_with_patrols();
    let basic = api(&server, "/api/grids?level=4");
    let (median, wanted) = above_median(&basic);
    let filter = format!("level = 4 AND population > {median}");
    let out = run_ok(
        std::process::Command::new(python())
            .arg(script("owslib_client.py"))
            .arg(server.base_url())
            .arg(server.admin_token())
            .arg(BBOX)
            .arg(&filter),
    );
    let read: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");

    assert_eq!(read["api_version"], "3.0.3");
    let conformance: Vec<&str> = read["conformance"]
        .as_array()
        .expect("conformance")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for class in ["core", "geojson", "oas30"] {
        let uri = format!("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{class}");
        assert!(conformance.contains(&uri.as_str()), "{uri}");
    }
    assert_eq!(
        read["collections"],
        serde_json::json!([
            "towns",
            "village-clusters",
            "group-clusters",
            "basic-grids",
            "sub-areas",
            "hazards"
        ])
    );
    assert!(
        read["queryables"]
            .as_array()
            .expect("queryables")
            .contains(&Value::from("population"))
    );

    // bbox, paged 50 at a time: the grids the JSON API finds in the box.
    let mut in_box = grid_ids(&api(&server, &format!("/api/grids?level=4&bbox={BBOX}")));
    in_box.sort();
    let mut paged: Vec<String> = serde_json::from_value(read["bbox_ids"].clone()).expect("ids");
    assert_eq!(
        paged.len(),
        read["bbox_matched"].as_u64().expect("matched") as usize
    );
    paged.sort();
    assert!(
        in_box.len() > 50,
        "the box spans several pages: {}",
        in_box.len()
    );
    assert_eq!(paged, in_box, "every grid in the box once");

    // filter, paged.
    let filtered: BTreeSet<String> =
        serde_json::from_value(read["filter_ids"].clone()).expect("ids");
    assert_eq!(filtered, wanted, "{filter}");
    assert_eq!(read["filter_matched"], wanted.len());

    // datetime on the hazards: all registered since 2000, none before.
    let hazards = api(&server, "/api/hazards");
    let mut registered: Vec<String> = hazards["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].to_string())
        .collect();
    registered.sort();
    assert!(!registered.is_empty());
    let mut since: Vec<String> =
        serde_json::from_value(read["hazards_since_2000"].clone()).expect("ids");
    since.sort();
    assert_eq!(since, registered);
    assert_eq!(read["hazards_before_2000"], serde_json::json!([]));

    // crs=EPSG:4490: latitude first, the numbers the JSON API has.
    let town = &read["town_4490"];
    assert_eq!(
        town["content_crs"],
        "<http://www.opengis.net/def/crs/EPSG/0/4490>"
    );
    let id = town["id"].as_str().expect("a town id");
    let grid = api(&server, &format!("/api/grids/{id}"));
    let (lon, lat) = first_position(&grid["grid"]["geometry"]);
    assert_eq!(town["first_position"][0], lat);
    assert_eq!(town["first_position"][1], lon);
}

#[test]
fn gdal_sends_the_filter_and_reads_web_mercator() {
    let server = spawn_demo_server_with_patrols();
    let basic = api(&server, "/api/grids?level=4");
    let (median, wanted) = above_median(&basic);
    let log = tempfile::NamedTempFile::new().expect("a log file");
    let out = run_ok(
        std::process::Command::new(python())
            .arg(script("gdal_oapif.py"))
            .arg(server.base_url())
            .arg(server.admin_token())
            .arg("basic-grids")
            .arg(format!("population > {median}"))
            .arg(log.path()),
    );
    let read: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert_eq!(read["crs"], "EPSG:3857", "{read}");
    let ids: BTreeSet<String> = serde_json::from_value(read["ids"].clone()).expect("ids");
    assert_eq!(ids, wanted);

    // The filter travelled to the server as CQL, with the CRS.
    let log = std::fs::read_to_string(log.path()).expect("GDAL's log");
    let fetch = log
        .lines()
        .find(|l| l.contains("Fetch(") && l.contains("filter="))
        .unwrap_or_else(|| panic!("GDAL filtered on the client side:\n{log}"));
    assert!(
        fetch.contains("crs=http://www.opengis.net/def/crs/EPSG/0/3857"),
        "{fetch}"
    );
    assert!(
        fetch.contains(&format!("population%20%3E%20{median}")),
        "{fetch}"
    );

    // Web Mercator metres, as computed here from the JSON API's degrees.
    let features = basic["features"].as_array().expect("features");
    let read_ids: Vec<String> = serde_json::from_value(read["ids"].clone()).expect("ids");
    for (id, position) in read_ids
        .iter()
        .zip(read["first_positions"].as_array().expect("positions"))
    {
        let grid = features
            .iter()
            .find(|f| f["properties"]["id"] == id.as_str())
            .expect("the grid is in the JSON API");
        let (lon, lat) = first_position(&grid["geometry"]);
        let r = 6_378_137.0_f64;
        let x = r * lon.to_radians();
        let y = r
            * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                .tan()
                .ln();
        let (gx, gy) = (
            position[0].as_f64().expect("x"),
            position[1].as_f64().expect("y"),
        );
        assert!(
            (gx - x).abs() < 0.01 && (gy - y).abs() < 0.01,
            "{id}: {gx},{gy} vs {x},{y}"
        );
    }
}
