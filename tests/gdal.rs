//! GDAL, a real and widely used OGC API client, against a running wangge
//! server with the demo county (`support::server`): `ogrinfo` finds the five
//! grid collections with their counts and fields, and `ogr2ogr` pages
//! through every collection by following `next` links, getting every grid
//! with the values the index holds; GDAL's MVT driver reads the vector
//! tiles.
//!
//! GDAL's command-line tools (Debian `gdal-bin`) are required: without them
//! these tests fail, saying to run `scripts/test`, which installs them.
//! Each test names in one line what it pins.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;
use wangge::generate::LEVEL_COUNTS;
use wangge::index::GridIndex;
use wangge::model::{GridId, Level};
use wangge::tiles::TileId;

use support::server::{DemoServer, spawn_demo_server, spawn_demo_server_with_patrols};

/// The collection ids, level 1 first.
const COLLECTIONS: [&str; 5] = [
    "towns",
    "village-clusters",
    "group-clusters",
    "basic-grids",
    "sub-areas",
];

/// The demo county's seat, the town 永清镇 (`src/generate`).
const COUNTY_SEAT: &str = "620521100";

/// Features per request when ogr2ogr pages: small enough that every
/// collection but the towns takes several pages (1,063 basic grids: 11).
const PAGE_SIZE: usize = 100;

/// A GDAL tool, checked to be runnable. Panics, saying how to install it,
/// when it is not: a GDAL test never passes by not running.
fn gdal_tool(name: &str) -> Command {
    match Command::new(name).arg("--version").output() {
        Ok(out) if out.status.success() => Command::new(name),
        Ok(out) => panic!(
            "`{name} --version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "cannot run {name} ({e}): the GDAL tests need GDAL's command-line tools \
             (Debian package gdal-bin); run scripts/test, which installs them"
        ),
    }
}

/// Run a command to success; return its standard output.
#[track_caller]
/// A GDAL command that sends the admin's bearer token with every request
/// (GDAL's `GDAL_HTTP_HEADERS`, as a user with a token would set it).
fn as_admin(mut command: Command, server: &DemoServer) -> Command {
    command.env(
        "GDAL_HTTP_HEADERS",
        format!("Authorization: Bearer {}", server.admin_token()),
    );
    command
}

fn run(command: &mut Command) -> String {
    run_with_log(command).0
}

/// Run a command to success; return its standard output and error.
#[track_caller]
fn run_with_log(command: &mut Command) -> (String, String) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} does not start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{stdout}\n{stderr}",
        out.status,
    );
    (stdout, stderr)
}

/// The `offset`s of the items pages GDAL fetched, from its HTTP debug log
/// (`HTTP: Fetch(URL)` lines), each once, in order.
fn fetched_offsets(log: &str, collection: &str) -> BTreeSet<usize> {
    let items = format!("/collections/{collection}/items");
    log.lines()
        .filter_map(|line| line.split_once("HTTP: Fetch(").map(|(_, url)| url))
        .filter(|url| url.contains(&items))
        .map(|url| {
            url.split(['?', '&', ')'])
                .find_map(|p| p.strip_prefix("offset="))
                .map_or(0, |o| o.parse().expect("a numeric offset"))
        })
        .collect()
}

/// The ids of one level's grids in the index, ordered by id.
fn index_ids(index: &GridIndex, level: Level) -> Vec<String> {
    index
        .grids()
        .iter()
        .filter(|g| g.level == level)
        .map(|g| g.id.to_string())
        .collect()
}

/// `ogrinfo` lists the five grid collections in order as MultiPolygon
/// layers, then the hazards, with `numberMatched` as the feature count and
/// the flat fields.
#[test]
fn ogrinfo_lists_the_grid_and_hazard_collections() {
    let server = spawn_demo_server_with_patrols();
    let ogrinfo = || as_admin(gdal_tool("ogrinfo"), &server);
    let url = format!("OAPIF:{}/ogc", server.base_url());

    let listing = run(ogrinfo().args(["-ro", "-so", &url]));
    let layers: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_once(": ").filter(|(n, _)| n.parse::<u32>().is_ok()))
        .map(|(_, rest)| rest)
        .collect();
    assert_eq!(layers.len(), 6, "{listing}");
    assert!(layers[5].starts_with("hazards "), "{listing}");
    for (layer, id) in layers.iter().zip(COLLECTIONS) {
        assert!(
            layer.starts_with(&format!("{id} ")) && layer.ends_with("(Multi Polygon)"),
            "{layer:?} is not the {id} collection as MultiPolygons:\n{listing}"
        );
    }

    // One layer's summary: count, extent, fields.
    let summary = run(ogrinfo().args(["-ro", "-so", &url, "basic-grids"]));
    assert!(
        summary.contains(&format!("Feature Count: {}", LEVEL_COUNTS[3])),
        "{summary}"
    );
    assert!(summary.contains("Extent: ("), "{summary}");
    for field in [
        "code: String",
        "name: String",
        "level: Integer",
        "parent: String",
        "population: Integer",
        "leader: String",
        "leader_phone: String",
    ] {
        assert!(summary.contains(field), "{field} in:\n{summary}");
    }

    // The hazard register: every hazard the store holds, as points.
    let register: Value = serde_json::from_slice(&http_get(&server, "/api/hazards"))
        .expect("the register is GeoJSON");
    let stored = register["features"].as_array().expect("features").len();
    assert!(stored > 3_000, "the demo register is loaded: {stored}");
    let hazards = run(ogrinfo().args(["-ro", "-so", &url, "hazards"]));
    assert!(
        hazards.contains(&format!("Feature Count: {stored}")),
        "{hazards}"
    );
    assert!(hazards.contains("Geometry: Point"), "{hazards}");
    for field in [
        "name: String",
        "risk: String",
        "interval_days: Integer",
        "grid: String",
        "due: ",
    ] {
        assert!(hazards.contains(field), "{field} in:\n{hazards}");
    }
}

/// `ogr2ogr` with a small page size follows the `next` links through every
/// collection and gets each grid of the level exactly once (18 / 142 /
/// 267 / 1,063 / 913), with the code, name, level and parent the index
/// holds.
#[test]
fn ogr2ogr_pages_through_every_collection() {
    let started = Instant::now();
    let server = spawn_demo_server();
    let ogr2ogr = || as_admin(gdal_tool("ogr2ogr"), &server);
    eprintln!(
        "demo server up in {:.2} s (the first in this binary also generates the county)",
        started.elapsed().as_secs_f64()
    );
    let url = format!("OAPIF:{}/ogc", server.base_url());
    let index = server.state().index();
    let dir = tempfile::tempdir().expect("a temporary folder");

    for ((id, level), want_count) in COLLECTIONS.into_iter().zip(Level::ALL).zip(LEVEL_COUNTS) {
        let out = dir.path().join(format!("{id}.geojson"));
        let started = Instant::now();
        let (_, log) = run_with_log(ogr2ogr().args(["-f", "GeoJSON"]).arg(&out).args([
            &url,
            id,
            "-oo",
            &format!("PAGE_SIZE={PAGE_SIZE}"),
            "--debug",
            "on",
        ]));
        // GDAL really paged, following the `next` links: one request per
        // page of 100, no page skipped.
        let want_offsets: BTreeSet<usize> = (0..want_count).step_by(PAGE_SIZE).collect();
        assert_eq!(
            fetched_offsets(&log, id),
            want_offsets,
            "{id}: the pages GDAL fetched"
        );
        eprintln!(
            "ogr2ogr {id}: {want_count} features, {} pages, {:.2} s",
            want_count.div_ceil(PAGE_SIZE),
            started.elapsed().as_secs_f64()
        );
        let features = read_features(&out);
        assert_eq!(features.len(), want_count, "{id}: features written by GDAL");

        // Every grid of the level, each once: GDAL kept the feature id as `id`.
        let got: Vec<String> = features
            .iter()
            .map(|f| {
                f["properties"]["id"]
                    .as_str()
                    .expect("string id")
                    .to_owned()
            })
            .collect();
        let unique: BTreeSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "{id}: a grid came twice");
        assert_eq!(
            unique.into_iter().cloned().collect::<Vec<_>>(),
            index_ids(&index, level),
            "{id}: the grids of level {level}"
        );

        for f in &features {
            let p = &f["properties"];
            for field in ["code", "name", "level", "parent"] {
                assert!(p.get(field).is_some(), "{id}: no {field} in {p}");
            }
            assert_eq!(f["geometry"]["type"], "MultiPolygon", "{id}");
        }

        // The first and last grids of the level, field by field.
        for known in [got.iter().min(), got.iter().max()] {
            let known = known.expect("the level has grids");
            let grid = index
                .get(&known.as_str().into())
                .expect("GDAL's ids are the index's");
            let p = &features[got.iter().position(|g| g == known).expect("present")]["properties"];
            let leader = grid.leader().expect("demo grids have leaders");
            assert_eq!(
                p["code"],
                grid.code().expect("demo grids have codes"),
                "{known}"
            );
            assert_eq!(p["name"], grid.name.as_str(), "{known}");
            assert_eq!(p["level"], grid.level.get(), "{known}");
            assert_eq!(
                p["parent"].as_str(),
                grid.parent_id.as_ref().map(|p| p.as_str()),
                "{known}"
            );
            assert_eq!(p["population"].as_u64(), grid.population(), "{known}");
            assert_eq!(p["leader"], leader.name.as_str(), "{known}");
            assert_eq!(p["leader_phone"], leader.phone.as_str(), "{known}");
        }
    }
}

/// The features of a GeoJSON file GDAL wrote.
fn read_features(path: &Path) -> Vec<Value> {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut doc: Value = serde_json::from_slice(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    match doc["features"].take() {
        Value::Array(features) => features,
        other => panic!("{}: features is {other}", path.display()),
    }
}

/// GDAL's MVT driver reads the `grids` and `labels` tiles over the county
/// seat at zoom 12: each holds one layer of its name, with the documented
/// attribute fields, and the county seat among its features.
#[test]
fn gdal_reads_the_vector_tiles_over_the_county_seat() {
    let server = spawn_demo_server();
    let ogrinfo = || as_admin(gdal_tool("ogrinfo"), &server);
    let index = server.state().index();
    let seat = index
        .position(&GridId::from(COUNTY_SEAT))
        .expect("the demo county has its seat");
    // The tile holding the seat's label point holds its label, and its
    // polygon too (the point is inside it).
    let label = server
        .state()
        .tiles()
        .source()
        .label_point(seat)
        .expect("the seat has a label point");
    let tile = TileId::containing(label, 12);
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (tileset, fields) in [
        ("grids", &["id", "code", "name", "level", "parent"][..]),
        ("labels", &["id", "code", "name", "level"][..]),
    ] {
        let path = format!("/tiles/{tileset}/{}/{}/{}.mvt", tile.z, tile.x, tile.y);
        let file = dir.path().join(format!("{tileset}.mvt"));
        std::fs::write(&file, http_get(&server, &path)).expect("the tile is saved");
        let info = run(ogrinfo()
            .args(["-ro", "-al"])
            .args(["-oo", &format!("Z={}", tile.z)])
            .args(["-oo", &format!("X={}", tile.x)])
            .args(["-oo", &format!("Y={}", tile.y)])
            .arg(&file));
        let layers: Vec<&str> = info
            .lines()
            .filter_map(|l| l.strip_prefix("Layer name: "))
            .collect();
        assert_eq!(layers, [tileset], "{path}: one layer named {tileset}");
        for field in fields {
            assert!(
                info.lines().any(|l| l.starts_with(&format!("{field}: "))),
                "{path}: no field {field} in:\n{}",
                &info[..info.len().min(3000)]
            );
        }
        // Feature attributes print as `  id (String) = 620521100`.
        let ids: Vec<&str> = info
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("id ("))
            .filter_map(|l| l.split(" = ").nth(1))
            .collect();
        assert!(
            ids.contains(&COUNTY_SEAT),
            "{path}: the county seat is not among the features {ids:?}"
        );
    }
}

/// GET a path over plain HTTP/1.0 (no chunked encoding to undo); the body
/// of a 200 answer.
#[track_caller]
fn http_get(server: &DemoServer, path: &str) -> Vec<u8> {
    let addr = server.addr();
    let mut stream = TcpStream::connect(addr).expect("the server accepts connections");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
        server.admin_token()
    )
    .expect("request sent");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("the headers end");
    let head = String::from_utf8_lossy(&response[..split]);
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "GET {path}: {head}"
    );
    response[split + 4..].to_vec()
}
