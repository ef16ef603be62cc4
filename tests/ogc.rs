//! OGC API - Features under `/ogc`, through the router (no sockets), on the
//! four-town county of `support::four_towns` with a 5 x 5 lattice of village
//! clusters added in t-ne, so that one collection has enough features to
//! page through:
//!
//! ```text
//!  34.8 +-----------+--+--+--+--+--+
//!       |   t-nw    |  5 x 5 lattice|   v-ne-0-0 (south-west) .. v-ne-4-4,
//!  34.7 +-----+-----+--+--+--+--+--+   0.02° squares tiling t-ne
//!       |  t-sw     |   t-se        |
//!  34.6 +-----+-----+---------------+
//!     106.0      106.1           106.2
//! ```
//!
//! Collections: towns 4, village-clusters 2 + 25 = 27, group-clusters 2,
//! basic-grids 1, sub-areas 2. Each test names in one line what it pins.

mod support;

use axum::Router;
use axum::http::StatusCode;
use geo::{Intersects, MultiPolygon, Rect, coord};
use serde_json::{Value, json};
use support::admin_app as router;
use tempfile::TempDir;
use wangge::geom::Bbox;
use wangge::model::{Grid, GridId, Level};
use wangge::state::AppState;
use wangge::store::WriteMode;

use support::four_towns::four_towns;
use support::http::Answer;

/// The host the requests name; links must be built on it.
const HOST: &str = "ogc.test:8080";
/// The base of every link.
const BASE: &str = "http://ogc.test:8080";

/// The collection ids, level 1 first.
const COLLECTIONS: [&str; 5] = [
    "towns",
    "village-clusters",
    "group-clusters",
    "basic-grids",
    "sub-areas",
];

/// The edges of the lattice in t-ne, west to east (or south to north). The
/// outer edges are the town's own, so the lattice stays inside it exactly.
fn lattice_edge(i: usize, min: f64, max: f64) -> f64 {
    match i {
        0 => min,
        5 => max,
        _ => min + i as f64 * 0.02,
    }
}

/// The fixture: four towns plus the 25 village clusters of t-ne, each with
/// a population so that numbers travel too.
fn fixture() -> Vec<Grid> {
    let mut grids = four_towns();
    for row in 0..5 {
        for col in 0..5 {
            let id = format!("v-ne-{row}-{col}");
            let rect = Rect::new(
                coord! { x: lattice_edge(col, 106.1, 106.2), y: lattice_edge(row, 34.7, 34.8) },
                coord! { x: lattice_edge(col + 1, 106.1, 106.2), y: lattice_edge(row + 1, 34.7, 34.8) },
            );
            let mut properties = serde_json::Map::new();
            properties.insert("code".into(), json!(format!("C-{id}")));
            properties.insert("population".into(), json!(1000 + 10 * row + col));
            grids.push(Grid {
                id: GridId(id.clone()),
                level: Level::new(2).expect("level 2"),
                parent_id: Some(GridId::from("t-ne")),
                name: format!("东北{row}{col}村"),
                geometry: MultiPolygon(vec![rect.to_polygon()]),
                properties,
            });
        }
    }
    grids
}

/// The fixture's grids of one level, ordered by id (the API's order).
fn level_grids(level: u8) -> Vec<Grid> {
    let mut grids: Vec<Grid> = fixture()
        .into_iter()
        .filter(|g| g.level.get() == level)
        .collect();
    grids.sort_by(|a, b| a.id.cmp(&b.id));
    grids
}

/// A router over a fresh SQLite store holding the fixture. Keep the folder alive.
async fn app() -> (TempDir, Router) {
    let (store, dir) = support::sqlite_store().await;
    let state = AppState::open(store).await.expect("state opens");
    state
        .import_grids(fixture(), WriteMode::Replace)
        .await
        .expect("the fixture is a valid county");
    (dir, router(state))
}

async fn get_with(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut all = vec![("host", HOST)];
    all.extend_from_slice(headers);
    support::http::get_with(app, uri, &all).await
}

async fn get(app: &Router, uri: &str) -> Answer {
    get_with(app, uri, &[]).await
}

/// The first link with this relation; panics if several, but for the
/// OpenAPI document, linked in 3.0 then 3.1.
fn link<'a>(doc: &'a Value, rel: &str) -> Option<&'a Value> {
    let links: Vec<&Value> = doc["links"]
        .as_array()
        .expect("links is an array")
        .iter()
        .filter(|l| l["rel"] == rel)
        .collect();
    assert!(
        links.len() <= 1 || rel == "service-desc",
        "several {rel} links: {links:?}"
    );
    links.first().copied()
}

/// The href of the link with this relation, as a path and query on this
/// server (the part a test can request).
#[track_caller]
fn link_path(doc: &Value, rel: &str) -> String {
    let href =
        link(doc, rel).unwrap_or_else(|| panic!("no {rel} link in {}", doc["links"]))["href"]
            .as_str()
            .expect("href is a string");
    href.strip_prefix(BASE)
        .unwrap_or_else(|| panic!("{href} is not absolute on {BASE}"))
        .to_owned()
}

/// Assert every link is absolute on [`BASE`] and has a type and a title.
#[track_caller]
fn assert_links_complete(doc: &Value) {
    for l in doc["links"].as_array().expect("links is an array") {
        assert!(
            l["href"].as_str().is_some_and(|h| h.starts_with(BASE)),
            "absolute href: {l}"
        );
        assert!(
            l["type"].as_str().is_some_and(|t| !t.is_empty()),
            "type: {l}"
        );
        assert!(l["title"].is_string(), "title: {l}");
    }
}

/// The ids of a page's features, in order.
fn page_ids(page: &Value) -> Vec<String> {
    assert_eq!(page["type"], "FeatureCollection");
    page["features"]
        .as_array()
        .expect("features is an array")
        .iter()
        .map(|f| f["id"].as_str().expect("string id").to_owned())
        .collect()
}

fn ids(grids: &[Grid]) -> Vec<String> {
    grids.iter().map(|g| g.id.to_string()).collect()
}

/// The landing page has a title, a description and the four links, each
/// absolute and typed, the API definition as OpenAPI JSON.
#[tokio::test]
async fn landing_page_links_everything_with_a_type() {
    let (_dir, app) = app().await;
    let doc = get(&app, "/ogc").await.ok("application/json");
    assert!(doc["title"].is_string() && doc["description"].is_string());
    assert_links_complete(&doc);
    let expect = [
        ("self", "/ogc", "application/json"),
        (
            "service-desc",
            "/ogc/api",
            "application/vnd.oai.openapi+json;version=3.0",
        ),
        ("conformance", "/ogc/conformance", "application/json"),
        ("data", "/ogc/collections", "application/json"),
    ];
    let versions: Vec<(&str, &str)> = doc["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter(|l| l["rel"] == "service-desc")
        .map(|l| {
            (
                l["href"].as_str().expect("href"),
                l["type"].as_str().expect("type"),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            (
                format!("{BASE}/ogc/api").as_str(),
                "application/vnd.oai.openapi+json;version=3.0"
            ),
            (
                format!("{BASE}/api/openapi.json").as_str(),
                "application/vnd.oai.openapi+json;version=3.1"
            )
        ]
    );
    for (rel, path, media_type) in expect {
        assert_eq!(link_path(&doc, rel), path, "{rel}");
        assert_eq!(
            link(&doc, rel).expect("present")["type"],
            media_type,
            "{rel}"
        );
    }
}

/// Conformance declares Core, GeoJSON and OpenAPI 3.0 of Part 1, Part 2
/// (CRS), Part 3 (filtering) and the CQL2 classes the filter takes.
#[tokio::test]
async fn conformance_declares_core_geojson_and_openapi_30() {
    let (_dir, app) = app().await;
    let doc = get(&app, "/ogc/conformance").await.ok("application/json");
    let base = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf";
    assert_eq!(
        doc["conformsTo"],
        json!([
            format!("{base}/core"),
            format!("{base}/geojson"),
            format!("{base}/oas30"),
            "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
            "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
            "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
            "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
            "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
        ])
    );
}

/// The OpenAPI document (3.1, as its link's type says) describes every OGC
/// path, with limit's bounds and the problem responses.
#[tokio::test]
async fn openapi_documents_the_ogc_paths() {
    let (_dir, app) = app().await;
    let doc = get(&app, "/api/openapi.json").await.json();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "the service-desc link says 3.1: {}",
        doc["openapi"]
    );
    for path in [
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/{collectionId}",
        "/ogc/collections/{collectionId}/items",
        "/ogc/collections/{collectionId}/items/{featureId}",
    ] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "GET {path} is missing"
        );
    }
    let items = &doc["paths"]["/ogc/collections/{collectionId}/items"]["get"];
    let params = items["parameters"].as_array().expect("parameters");
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "collectionId",
            "bbox",
            "bbox-crs",
            "crs",
            "filter",
            "filter-lang",
            "filter-crs",
            "limit",
            "offset",
            "f",
            "datetime"
        ]
    );
    // A whole number from 1 (larger than 10,000 is served as 10,000), or
    // blank (absent).
    let limit = params.iter().find(|p| p["name"] == "limit").expect("limit");
    let number = &limit["schema"]["anyOf"][0];
    assert_eq!(number["default"], 10, "{limit}");
    let reference = number["$ref"].as_str().expect("a reference");
    let name = reference.rsplit('/').next().expect("a name");
    assert_eq!(
        doc["components"]["schemas"][name],
        serde_json::json!({"type": "integer", "minimum": 1})
    );
    assert_eq!(limit["schema"]["anyOf"][1]["maxLength"], 0, "{limit}");
    assert!(items["responses"]["200"]["content"]["application/geo+json"].is_object());
    assert!(items["responses"]["400"]["content"]["application/problem+json"].is_object());
    for name in [
        "OgcLandingPage",
        "OgcCollection",
        "OgcFeatureCollection",
        "OgcGridProperties",
    ] {
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "schema {name} is missing"
        );
    }
}

/// `/collections` lists the five grid levels in order, then the hazard
/// register, each a feature collection in CRS84 with self and GeoJSON items
/// links.
#[tokio::test]
async fn collections_are_the_five_grid_levels_and_the_hazards() {
    let (_dir, app) = app().await;
    let doc = get(&app, "/ogc/collections").await.ok("application/json");
    assert_links_complete(&doc);
    assert_eq!(link_path(&doc, "self"), "/ogc/collections");
    let collections = doc["collections"].as_array().expect("collections");
    let got: Vec<&str> = collections
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(got[..COLLECTIONS.len()], COLLECTIONS);
    assert_eq!(got[COLLECTIONS.len()..], ["hazards"]);
    let hazards = &collections[COLLECTIONS.len()];
    assert_eq!(hazards["itemType"], "feature");
    assert!(
        hazards.get("extent").is_none(),
        "no hazards in the fixture: no extent"
    );
    assert_eq!(
        link_path(hazards, "items"),
        "/ogc/collections/hazards/items"
    );
    for c in &collections[..COLLECTIONS.len()] {
        let id = c["id"].as_str().expect("id");
        assert!(
            c["title"].is_string() && c["description"].is_string(),
            "{id}"
        );
        assert_eq!(c["itemType"], "feature", "{id}");
        assert_eq!(
            c["crs"],
            json!([
                "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                "http://www.opengis.net/def/crs/EPSG/0/4326",
                "http://www.opengis.net/def/crs/EPSG/0/4490",
                "http://www.opengis.net/def/crs/EPSG/0/3857"
            ]),
            "{id}"
        );
        assert_eq!(
            c["storageCrs"], "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            "{id}"
        );
        assert_eq!(
            c["extent"]["spatial"]["crs"],
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        );
        assert_links_complete(c);
        assert_eq!(link_path(c, "self"), format!("/ogc/collections/{id}"));
        assert_eq!(
            link_path(c, "items"),
            format!("/ogc/collections/{id}/items")
        );
        assert_eq!(
            link(c, "items").expect("items link")["type"],
            "application/geo+json"
        );
    }
}

/// Each collection's extent is the box around its grids, computed by brute
/// force here, and `/collections/{id}` says the same as the list.
#[tokio::test]
async fn collection_extent_is_the_box_around_its_grids() {
    let (_dir, app) = app().await;
    let list = get(&app, "/ogc/collections").await.json();
    for (i, id) in COLLECTIONS.into_iter().enumerate() {
        let want = level_grids(i as u8 + 1)
            .iter()
            .filter_map(|g| Bbox::of(&g.geometry))
            .reduce(Bbox::union)
            .expect("every level of the fixture has grids");
        let one = get(&app, &format!("/ogc/collections/{id}"))
            .await
            .ok("application/json");
        assert_eq!(
            one["extent"]["spatial"]["bbox"],
            json!([[want.min_lon, want.min_lat, want.max_lon, want.max_lat]]),
            "{id}"
        );
        assert_eq!(one, list["collections"][i], "{id}: the same as in the list");
    }
}

/// An unknown collection is a 404 problem on every path under it.
#[tokio::test]
async fn unknown_collection_is_404() {
    let (_dir, app) = app().await;
    for uri in [
        "/ogc/collections/villages",
        "/ogc/collections/villages/items",
        "/ogc/collections/villages/items/t-sw",
    ] {
        let doc = get(&app, uri).await.problem(StatusCode::NOT_FOUND);
        assert!(
            doc["detail"].as_str().expect("detail").contains("villages"),
            "{uri}: {doc}"
        );
    }
}

/// Without parameters a page holds the first 10 features by id, counts all
/// matches, links to the next page and not to a previous one, and is GeoJSON.
#[tokio::test]
async fn first_page_has_the_default_limit_and_a_next_link() {
    let (_dir, app) = app().await;
    let page = get(&app, "/ogc/collections/village-clusters/items")
        .await
        .ok("application/geo+json");
    let all = ids(&level_grids(2));
    assert_eq!(page["numberMatched"], 27);
    assert_eq!(page["numberReturned"], 10);
    assert_eq!(page_ids(&page), all[..10]);
    let stamp = page["timeStamp"].as_str().expect("timeStamp");
    assert!(
        stamp.len() == 20 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
        "RFC 3339 UTC: {stamp}"
    );
    assert_links_complete(&page);
    assert_eq!(
        link_path(&page, "self"),
        "/ogc/collections/village-clusters/items?limit=10&offset=0"
    );
    assert_eq!(
        link_path(&page, "next"),
        "/ogc/collections/village-clusters/items?limit=10&offset=10"
    );
    assert_eq!(
        link(&page, "next").expect("next")["type"],
        "application/geo+json"
    );
    assert_eq!(
        link_path(&page, "collection"),
        "/ogc/collections/village-clusters"
    );
    assert!(link(&page, "prev").is_none());
}

/// Following `next` links from the first page visits every feature exactly
/// once, in id order, with consistent counts on every page.
#[tokio::test]
async fn following_next_links_visits_every_feature_once() {
    let (_dir, app) = app().await;
    let mut uri = "/ogc/collections/village-clusters/items?limit=4".to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = get(&app, &uri).await.ok("application/geo+json");
        pages += 1;
        assert_eq!(page["numberMatched"], 27, "{uri}");
        let ids = page_ids(&page);
        assert_eq!(page["numberReturned"], ids.len(), "{uri}");
        assert_eq!(link(&page, "prev").is_some(), pages > 1, "{uri}");
        seen.extend(ids);
        match link(&page, "next") {
            Some(_) => uri = link_path(&page, "next"),
            None => break,
        }
    }
    assert_eq!(pages, 7, "27 features, 4 a page");
    assert_eq!(seen, ids(&level_grids(2)));
}

/// `prev` steps back by `limit` and stops at offset 0; `next` is absent
/// from the last page.
#[tokio::test]
async fn prev_links_step_back_and_stop_at_zero() {
    let (_dir, app) = app().await;
    let items = "/ogc/collections/village-clusters/items";
    let page = get(&app, &format!("{items}?limit=10&offset=25"))
        .await
        .json();
    assert_eq!(page["numberReturned"], 2);
    assert_eq!(
        link_path(&page, "prev"),
        format!("{items}?limit=10&offset=15")
    );
    assert!(link(&page, "next").is_none(), "the last page has no next");
    let page = get(&app, &format!("{items}?limit=10&offset=3"))
        .await
        .json();
    assert_eq!(
        link_path(&page, "prev"),
        format!("{items}?limit=10&offset=0")
    );
    assert_eq!(
        link_path(&page, "next"),
        format!("{items}?limit=10&offset=13")
    );
    assert_eq!(page_ids(&page), ids(&level_grids(2))[3..13]);
}

/// An offset past the last feature is an empty page (not an error) that
/// still counts the matches and links back.
#[tokio::test]
async fn offset_past_the_end_is_an_empty_page() {
    let (_dir, app) = app().await;
    let items = "/ogc/collections/towns/items";
    let page = get(&app, &format!("{items}?offset=100&limit=10"))
        .await
        .ok("application/geo+json");
    assert_eq!(page["numberMatched"], 4);
    assert_eq!(page["numberReturned"], 0);
    assert_eq!(page["features"], json!([]));
    assert!(link(&page, "next").is_none());
    assert_eq!(
        link_path(&page, "prev"),
        format!("{items}?limit=10&offset=90")
    );
}

/// A limit above 10,000 is served as 10,000 (not refused), and links carry
/// the capped value, in `prev` arithmetic too.
#[tokio::test]
async fn limit_above_the_maximum_is_capped() {
    let (_dir, app) = app().await;
    let items = "/ogc/collections/village-clusters/items";
    let page = get(&app, &format!("{items}?limit=20000"))
        .await
        .ok("application/geo+json");
    assert_eq!(page["numberReturned"], 27);
    assert_eq!(
        link_path(&page, "self"),
        format!("{items}?limit=10000&offset=0")
    );
    let page = get(
        &app,
        &format!("{items}?limit=99999999999999999999999&offset=20000"),
    )
    .await
    .ok("application/geo+json");
    assert_eq!(page["numberReturned"], 0);
    assert_eq!(
        link_path(&page, "prev"),
        format!("{items}?limit=10000&offset=10000")
    );
    let page = get(&app, &format!("{items}?limit=10000")).await.json();
    assert_eq!(
        link_path(&page, "self"),
        format!("{items}?limit=10000&offset=0")
    );
}

/// For boxes all over the county (edges on grid edges, points, slivers,
/// boxes outside), `bbox` selects exactly the grids whose geometry
/// intersects the box, by brute force over every grid of the level.
#[tokio::test]
async fn bbox_matches_brute_force() {
    let (_dir, app) = app().await;
    let lons = [
        105.9, 106.0, 106.01, 106.025, 106.05, 106.1, 106.13, 106.16, 106.2, 106.3,
    ];
    let lats = [
        34.5, 34.6, 34.61, 34.65, 34.7, 34.72, 34.74, 34.75, 34.8, 34.9,
    ];
    let mut boxes = Vec::new();
    for (i, &x0) in lons.iter().enumerate() {
        for &x1 in &lons[i..] {
            for (j, &y0) in lats.iter().enumerate() {
                for &y1 in &lats[j..] {
                    boxes.push((x0, y0, x1, y1));
                }
            }
        }
    }
    // Every 13th box: about 230 boxes of every shape, 1,150 requests.
    let boxes: Vec<_> = boxes.into_iter().step_by(13).collect();
    let mut non_empty = 0;
    for (level, id) in COLLECTIONS.into_iter().enumerate() {
        let grids = level_grids(level as u8 + 1);
        for &(x0, y0, x1, y1) in &boxes {
            let rect = Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 });
            let want: Vec<String> = grids
                .iter()
                .filter(|g| g.geometry.intersects(&rect))
                .map(|g| g.id.to_string())
                .collect();
            let uri = format!("/ogc/collections/{id}/items?bbox={x0},{y0},{x1},{y1}&limit=10000");
            let page = get(&app, &uri).await.ok("application/geo+json");
            assert_eq!(page_ids(&page), want, "{uri}");
            assert_eq!(page["numberMatched"], want.len(), "{uri}");
            non_empty += usize::from(!want.is_empty());
        }
    }
    assert!(non_empty > 200, "the boxes hit grids often: {non_empty}");
}

/// A box whose west edge is east of its east edge crosses the antimeridian
/// (OGC API - Features 1.0, 7.15.3): it selects what the two boxes either
/// side of 180° select, not a 400.
#[tokio::test]
async fn bbox_across_the_antimeridian_is_both_sides() {
    let (_dir, app) = app().await;
    for id in COLLECTIONS {
        let items = format!("/ogc/collections/{id}/items");
        let ids = |bbox: String| {
            let app = &app;
            let uri = format!("{items}?bbox={bbox}&limit=10000");
            async move { page_ids(&get(app, &uri).await.ok("application/geo+json")) }
        };
        // West of the county's middle, reached eastward from 170°E.
        let west = ids("-180,34.6,106.1,34.8".into()).await;
        assert!(!west.is_empty(), "{id}");
        assert_eq!(ids("170,34.6,106.1,34.8".into()).await, west, "{id}");
        // East of the middle, reaching round to 170°W.
        // (The fixture's lower levels lie in its south-west only.)
        let east = ids("106.1,34.6,180,34.8".into()).await;
        assert!(id != "towns" || !east.is_empty());
        assert_eq!(ids("106.1,34.6,-170,34.8".into()).await, east, "{id}");
        // Both sides of 180° away from the county: nothing.
        assert!(ids("170,34.6,-170,34.8".into()).await.is_empty(), "{id}");
    }
}

/// The `bbox` (and `f`) of a request are carried into its paging links, so
/// that following them pages through the same selection.
#[tokio::test]
async fn paging_links_keep_the_bbox() {
    let (_dir, app) = app().await;
    let items = "/ogc/collections/village-clusters/items";
    // The lattice's west three columns (15 village clusters) and v-sw-e,
    // whose north edge the box's south edge touches, which counts.
    let page = get(
        &app,
        &format!("{items}?bbox=106.09,34.7,106.15,34.8&limit=5&f=geojson"),
    )
    .await
    .ok("application/geo+json");
    let matched = page["numberMatched"].as_u64().expect("count");
    assert_eq!(matched, 16);
    assert_eq!(
        link_path(&page, "next"),
        format!("{items}?limit=5&offset=5&bbox=106.09,34.7,106.15,34.8&f=geojson")
    );
    let mut all = page_ids(&page);
    let mut page = page;
    while link(&page, "next").is_some() {
        page = get(&app, &link_path(&page, "next")).await.json();
        assert_eq!(page["numberMatched"], matched);
        all.extend(page_ids(&page));
    }
    let everything = get(
        &app,
        &format!("{items}?bbox=106.09,34.7,106.15,34.8&limit=100"),
    )
    .await
    .json();
    assert_eq!(all, page_ids(&everything));
    assert_eq!(all.len() as u64, matched);
}

/// One feature: the grid id on top, a MultiPolygon with the grid's
/// coordinates, flat properties (leader split in two, null population), and
/// links to itself and its collection.
#[tokio::test]
async fn single_feature_has_flat_properties_and_links() {
    let (_dir, app) = app().await;
    let uri = "/ogc/collections/basic-grids/items/b-sw-w-s";
    let feature = get(&app, uri).await.ok("application/geo+json");
    assert_eq!(feature["type"], "Feature");
    assert_eq!(feature["id"], "b-sw-w-s");
    assert_eq!(
        feature["properties"],
        json!({"code": "C-b-sw-w-s", "name": "南社第一网格", "level": 4,
            "parent": "g-sw-w-s", "population": null, "leader": "Leader b-sw-w-s",
            "leader_phone": "13800000000"})
    );
    let grid = &level_grids(4)[0];
    let coords: Vec<Vec<Vec<[f64; 2]>>> = grid
        .geometry
        .iter()
        .map(|p| {
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(|r| r.coords().map(|c| [c.x, c.y]).collect())
                .collect()
        })
        .collect();
    assert_eq!(
        feature["geometry"],
        json!({"type": "MultiPolygon", "coordinates": coords})
    );
    assert_links_complete(&feature);
    assert_eq!(link_path(&feature, "self"), uri);
    assert_eq!(
        link_path(&feature, "collection"),
        "/ogc/collections/basic-grids"
    );
    // In a page, the same feature without links and with a number.
    let page = get(
        &app,
        "/ogc/collections/village-clusters/items?limit=1&offset=7",
    )
    .await
    .json();
    let f = &page["features"][0];
    assert_eq!(f["id"], "v-ne-1-2");
    assert_eq!(f["properties"]["population"], 1012);
    assert_eq!(f["properties"]["parent"], "t-ne");
    assert_eq!(f["properties"]["leader"], Value::Null);
    assert!(f.get("links").is_none());
}

/// A grid is a feature only of its own level's collection; unknown ids are
/// 404 problems too.
#[tokio::test]
async fn feature_outside_its_collection_is_404() {
    let (_dir, app) = app().await;
    get(&app, "/ogc/collections/towns/items/t-sw")
        .await
        .ok("application/geo+json");
    for uri in [
        "/ogc/collections/basic-grids/items/t-sw",
        "/ogc/collections/towns/items/nope",
        "/ogc/collections/towns/items/T-SW",
    ] {
        get(&app, uri).await.problem(StatusCode::NOT_FOUND);
    }
}

/// Malformed `bbox`, `limit`, `offset` and `f` are 400 problems naming the
/// parameter.
#[tokio::test]
async fn malformed_parameters_are_400_naming_them() {
    let (_dir, app) = app().await;
    let cases = [
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=2.5", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("offset=99999999999999999999999", "offset"),
        ("bbox=106,34,107", "bbox"),
        ("bbox=106,34,0,107,35", "bbox"),
        ("bbox-crs=EPSG:4547&bbox=1,2,3,4", "bbox-crs"),
        ("crs=EPSG:4547", "crs"),
        ("filter=name%20%3D", "filter"),
        ("filter=leader_phone%20IS%20NULL", "filter"),
        ("filter=level%3D1&filter-lang=ecql", "filter-lang"),
        (
            "datetime=2026-01-01T00:00:00Z/2027-01-01T00:00:00Z",
            "datetime",
        ),
        ("datetime=soon", "datetime"),
        ("bbox=106,35,107,34", "bbox"),
        ("bbox=106,34,107,95", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("f=html", "f"),
        ("limit=5&limit=6", "limit"),
    ];
    // A parameter left blank is absent, as for every query of the API.
    let blank = get(&app, "/ogc/collections/towns/items?limit=&f=&bbox=")
        .await
        .expect(StatusCode::OK);
    assert_eq!(blank["numberReturned"], 4);
    for (query, parameter) in cases {
        let uri = format!("/ogc/collections/towns/items?{query}");
        let doc = get(&app, &uri).await.problem(StatusCode::BAD_REQUEST);
        assert_eq!(doc["parameter"], parameter, "{uri}: {doc}");
        assert!(
            doc["detail"].as_str().expect("detail").contains(parameter),
            "{uri}: {doc}"
        );
    }
}

/// Unknown query parameters (typos, other OGC parts' parameters) are 400
/// problems naming them, on every OGC resource.
#[tokio::test]
async fn unknown_parameters_are_400_naming_them() {
    let (_dir, app) = app().await;
    let cases = [
        ("/ogc/collections/towns/items?limt=5", "limt"),
        (
            "/ogc/collections/towns/items?limit=5&datetime=2026-01-01/..",
            "datetime",
        ),
        ("/ogc/collections/towns/items?bbox-crs=x", "bbox-crs"),
        ("/ogc/collections/towns/items/t-sw?limit=5", "limit"),
        ("/ogc/collections/towns?bbox=1,2,3,4", "bbox"),
        ("/ogc/collections?x=1", "x"),
        ("/ogc/conformance?x=1", "x"),
        ("/ogc?x=1", "x"),
    ];
    for (uri, parameter) in cases {
        let doc = get(&app, uri).await.problem(StatusCode::BAD_REQUEST);
        assert_eq!(doc["parameter"], parameter, "{uri}: {doc}");
    }
}

/// `f=json` is accepted everywhere and `f=geojson` on features; `geojson`
/// is refused for the plain JSON documents.
#[tokio::test]
async fn formats_json_and_geojson_are_accepted() {
    let (_dir, app) = app().await;
    for uri in [
        "/ogc?f=json",
        "/ogc/conformance?f=json",
        "/ogc/collections?f=json",
        "/ogc/collections/towns?f=json",
    ] {
        get(&app, uri).await.ok("application/json");
    }
    for uri in [
        "/ogc/collections/towns/items?f=json",
        "/ogc/collections/towns/items?f=geojson",
        "/ogc/collections/towns/items/t-sw?f=json",
        "/ogc/collections/towns/items/t-sw?f=geojson",
    ] {
        get(&app, uri).await.ok("application/geo+json");
    }
    let doc = get(&app, "/ogc/collections?f=geojson")
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(doc["parameter"], "f");
}

/// Links are built on the host and scheme a trusted reverse proxy
/// forwards; the same headers from anyone else are ignored (a client must
/// not put its host into the links the server hands others).
#[tokio::test]
async fn links_follow_the_forwarded_host_of_a_trusted_proxy_only() {
    let (store, _dir) = support::sqlite_store().await;
    let state = AppState::open(store).await.expect("state opens");
    state
        .import_grids(fixture(), WriteMode::Replace)
        .await
        .expect("the fixture is a valid county");
    let app = router(state.clone());
    let forwarded = [
        ("host", HOST),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "grids.example.cn"),
    ];
    let next_of = |doc: &Value| {
        link(doc, "next").expect("next")["href"]
            .as_str()
            .expect("href")
            .to_owned()
    };
    let uri = "/ogc/collections/towns/items?limit=1";
    let untrusted = support::http::get_via_proxy(&app, uri, &forwarded)
        .await
        .json();
    assert_eq!(
        next_of(&untrusted),
        format!("http://{HOST}/ogc/collections/towns/items?limit=1&offset=1")
    );
    state.set_access(wangge::services::accounts::AccessSettings {
        trusted_proxies: vec![support::http::PROXY.parse().expect("an address")],
        ..Default::default()
    });
    let trusted = support::http::get_via_proxy(&app, uri, &forwarded)
        .await
        .json();
    assert_eq!(
        next_of(&trusted),
        "https://grids.example.cn/ogc/collections/towns/items?limit=1&offset=1"
    );
}
