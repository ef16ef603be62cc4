//! `GET /api/grids` for a client that draws a long list: the demo county's
//! 1,063 basic grids in pages that follow each other by their `next` links
//! to exactly the full list, and boundaries simplified for a zoom that keep
//! every grid, its properties and its corners' places while shedding most
//! of the bytes. Bad paging values are refused by name.

mod support;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::Value;

fn ids(page: &Value) -> Vec<String> {
    page["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// Every corner of a feature's geometry (a Polygon or a MultiPolygon).
fn corners(feature: &Value) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let coordinates = &feature["geometry"]["coordinates"];
    let polygons = match feature["geometry"]["type"].as_str() {
        Some("Polygon") => vec![coordinates.clone()],
        _ => coordinates.as_array().expect("a MultiPolygon").clone(),
    };
    for polygon in &polygons {
        for ring in polygon.as_array().expect("rings") {
            for p in ring.as_array().expect("positions") {
                out.push((p[0].as_f64().expect("lon"), p[1].as_f64().expect("lat")));
            }
        }
    }
    out
}

#[tokio::test]
async fn basic_grids_page_by_next_links_and_simplify_by_zoom() {
    let (_state, app, _dir) = support::demo_county_app().await;
    let full = support::http::get(&app, "/api/grids?level=4")
        .await
        .expect(StatusCode::OK);
    let all = ids(&full);
    assert_eq!(all.len(), 1_063);
    assert_eq!(full["numberMatched"], 1_063);
    assert_eq!(full["numberReturned"], 1_063);
    assert!(
        full.get("links").is_none(),
        "an unpaged list has no next page"
    );

    // Pages of 400, followed by their links, give the full list in order.
    let mut uri = "/api/grids?level=4&limit=400".to_owned();
    let mut paged = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let page = support::http::get(&app, &uri).await.expect(StatusCode::OK);
        assert_eq!(page["numberMatched"], 1_063);
        let got = ids(&page);
        assert_eq!(page["numberReturned"], got.len());
        sizes.push(got.len());
        paged.extend(got);
        match page["links"].as_array().and_then(|l| l.first()) {
            Some(next) => {
                assert_eq!(next["rel"], "next");
                let href = next["href"].as_str().expect("an href");
                assert!(href.starts_with('?'), "relative to the list: {href}");
                uri = format!("/api/grids{href}");
            }
            None => break,
        }
    }
    assert_eq!(sizes, [400, 400, 263]);
    assert_eq!(paged, all);
    let beyond = support::http::get(&app, "/api/grids?level=4&limit=10&offset=5000")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (beyond["numberReturned"].as_u64(), ids(&beyond).len()),
        (Some(0), 0)
    );

    // Simplified for zoom 10: the same grids and properties, every corner
    // kept is one of the grid's own, far fewer corners and bytes.
    let simple = support::http::get(&app, "/api/grids?level=4&zoom=10").await;
    let simple_bytes = simple.body.len();
    let simple = simple.expect(StatusCode::OK);
    assert_eq!(ids(&simple), all);
    let (mut before, mut after) = (0, 0);
    for (f, s) in full["features"]
        .as_array()
        .expect("features")
        .iter()
        .zip(simple["features"].as_array().expect("features"))
    {
        assert_eq!(f["properties"], s["properties"]);
        let own: BTreeSet<(u64, u64)> = corners(f)
            .into_iter()
            .map(|(x, y)| (x.to_bits(), y.to_bits()))
            .collect();
        let kept = corners(s);
        assert!(kept.len() >= 4, "{} keeps a ring", f["id"]);
        assert!(
            kept.iter()
                .all(|(x, y)| own.contains(&(x.to_bits(), y.to_bits()))),
            "{}: simplification only drops corners",
            f["id"]
        );
        before += own.len();
        after += kept.len();
    }
    assert!(
        after * 3 < before,
        "zoom 10 keeps {after} of {before} corners"
    );
    assert!(
        simple_bytes * 2 < full.to_string().len(),
        "zoom 10 is {simple_bytes} bytes"
    );
    let closer = support::http::get(&app, "/api/grids?level=4&zoom=16")
        .await
        .expect(StatusCode::OK);
    let at_16: usize = closer["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| corners(f).len())
        .sum();
    assert!(
        at_16 > after,
        "zoom 16 keeps more ({at_16}) than zoom 10 ({after})"
    );

    for (query, parameter) in [
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("zoom=23", "zoom"),
        ("zoom=1.5", "zoom"),
    ] {
        let problem = support::http::get(&app, &format!("/api/grids?level=4&{query}"))
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["parameter"], parameter, "{query}");
    }
}
