//! Answers go out compressed when the client asks: the county's basic grids
//! (`/api/grids?level=4`, the largest list a web map asks for) in brotli or
//! gzip, decompressing to the very bytes sent uncompressed; nothing is
//! compressed for a client that did not ask, and a refused coding (`q=0`)
//! is never used.

mod support;

use std::io::Read;

use axum::http::{StatusCode, header};

fn brotli_decoded(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli_decompressor::BrotliDecompress(&mut &bytes[..], &mut out).expect("valid brotli");
    out
}

fn gzip_decoded(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[tokio::test]
async fn the_basic_grids_go_out_compressed_when_asked() {
    let (_state, app, _dir) = support::demo_county_app().await;
    let uri = "/api/grids?level=4";

    let plain = support::http::get_with(&app, uri, &[]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header(header::CONTENT_ENCODING), "");
    let features = plain.json()["features"].as_array().map_or(0, Vec::len);
    assert_eq!(features, 1_063, "the demo county's basic grids");

    // Chromium's own header: brotli is preferred.
    let br =
        support::http::get_with(&app, uri, &[("accept-encoding", "gzip, deflate, br, zstd")]).await;
    assert_eq!(br.status, StatusCode::OK);
    assert_eq!(br.header(header::CONTENT_ENCODING), "br");
    assert!(
        br.header(header::VARY)
            .to_ascii_lowercase()
            .contains("accept-encoding"),
        "caches must keep the encodings apart: {:?}",
        br.headers
    );
    assert_eq!(brotli_decoded(&br.body), plain.body);

    let gz = support::http::get_with(&app, uri, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.header(header::CONTENT_ENCODING), "gzip");
    assert_eq!(gzip_decoded(&gz.body), plain.body);

    let refused =
        support::http::get_with(&app, uri, &[("accept-encoding", "br;q=0, gzip;q=0")]).await;
    assert_eq!(refused.header(header::CONTENT_ENCODING), "");
    assert_eq!(refused.body, plain.body);

    eprintln!(
        "/api/grids?level=4: {} bytes, brotli {} ({:.1}%), gzip {} ({:.1}%)",
        plain.body.len(),
        br.body.len(),
        100.0 * br.body.len() as f64 / plain.body.len() as f64,
        gz.body.len(),
        100.0 * gz.body.len() as f64 / plain.body.len() as f64,
    );
    assert!(
        br.body.len() * 4 < plain.body.len(),
        "brotli saves most of it"
    );
    assert!(
        gz.body.len() * 3 < plain.body.len(),
        "gzip saves most of it"
    );
}
