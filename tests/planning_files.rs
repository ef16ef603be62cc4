//! The planners' file formats, with GDAL on the other side: the demo
//! county exported as GeoJSON, turned by `ogr2ogr` into a zipped Shapefile
//! in EPSG:4544 (CGCS2000 Gauss–Krüger, central meridian 105°E, where the
//! county lies) and into a GeoPackage in EPSG:4490, imports back as the same
//! grids (every vertex within 1 cm); and `ogrinfo` reads wangge's own
//! Shapefile and GeoPackage exports with every grid in them. A dry run of a
//! Shapefile import plans without writing; a Shapefile without a `.prj`
//! is refused naming the layer and the file.
//!
//! Needs `ogr2ogr` and `ogrinfo` (Debian `gdal-bin`, which the test
//! command installs).

mod support;

use std::process::Command;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use wangge::model::Grid;
use wangge::state::AppState;

use support::http::{Answer, send};

/// 1 cm in degrees of latitude (a degree of longitude is shorter here).
const ONE_CM_DEG: f64 = 0.01 / 111_000.0;

async fn app() -> (std::sync::Arc<AppState>, Router, tempfile::TempDir) {
    support::demo_county_app().await
}

async fn download(app: &Router, uri: &str) -> Vec<u8> {
    let answer = send(
        app,
        Request::get(uri).body(Body::empty()).expect("a request"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{uri}");
    answer.body.to_vec()
}

async fn upload(app: &Router, query: &str, media: &str, body: Vec<u8>) -> Answer {
    let uri = support::http::with_grid_version(app, &format!("/api/grids/import?{query}")).await;
    send(
        app,
        Request::post(uri)
            .header("content-type", media)
            .body(Body::from(body))
            .expect("a request"),
    )
    .await
}

fn gdal(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (Debian gdal-bin): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every grid of `got` is the grid of `want` with the same id, level,
/// parent, name and leader, its vertices within 1 cm (Shapefiles turn
/// outer rings clockwise, so vertices are compared in sorted order).
fn assert_same_grids(want: &[Grid], got: &[Grid], how: &str) {
    assert_eq!(want.len(), got.len(), "{how}: grid count");
    let sorted = |g: &Grid| {
        let mut v: Vec<(f64, f64)> = g
            .geometry
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0[..r.0.len() - 1].iter().map(|c| (c.x, c.y)))
            .collect();
        v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
        v
    };
    let mut worst = 0.0f64;
    for w in want {
        let g = got
            .iter()
            .find(|g| g.id == w.id)
            .unwrap_or_else(|| panic!("{how}: {} is missing", w.id));
        assert_eq!(
            (w.level, &w.parent_id, &w.name, w.leader(), w.population()),
            (g.level, &g.parent_id, &g.name, g.leader(), g.population()),
            "{how}: {}",
            w.id
        );
        let (a, b) = (sorted(w), sorted(g));
        assert_eq!(a.len(), b.len(), "{how}: vertices of {}", w.id);
        for (p, q) in a.iter().zip(&b) {
            worst = worst.max((p.0 - q.0).abs()).max((p.1 - q.1).abs());
        }
    }
    assert!(
        worst < ONE_CM_DEG,
        "{how}: a vertex moved {:.4} m",
        worst * 111_000.0
    );
    eprintln!("{how}: worst vertex {:.6} m", worst * 111_000.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_files_of_the_demo_county_import_back_as_the_same_grids() {
    let (state, app, _dir) = app().await;
    let county = state.index().grids().to_vec();
    let work = tempfile::tempdir().expect("a directory");
    let geojson = work.path().join("grids.geojson");
    std::fs::write(&geojson, download(&app, "/api/grids/export").await).expect("saved");
    let source = geojson.to_str().expect("a path");

    // A zipped Shapefile in Gauss–Krüger metres, UTF-8 as QGIS writes it.
    let shp = work.path().join("grids.shp.zip");
    gdal(
        "ogr2ogr",
        &[
            "-f",
            "ESRI Shapefile",
            "-t_srs",
            "EPSG:4544",
            "-lco",
            "ENCODING=UTF-8",
            shp.to_str().expect("a path"),
            source,
        ],
    );
    let zipped = std::fs::read(&shp).expect("written");
    let version = state.index().version();
    let planned = upload(
        &app,
        "mode=replace&dry_run=true",
        "application/zip",
        zipped.clone(),
    )
    .await;
    assert_eq!(planned.status, StatusCode::OK, "{:?}", planned.json());
    assert_eq!(state.index().version(), version, "a dry run wrote");
    let applied = upload(&app, "mode=replace", "application/zip", zipped).await;
    assert_eq!(applied.status, StatusCode::OK, "{:?}", applied.json());
    assert_same_grids(&county, state.index().grids(), "Shapefile EPSG:4544");

    // A GeoPackage in CGCS2000 longitude/latitude.
    let gpkg = work.path().join("grids.gpkg");
    gdal(
        "ogr2ogr",
        &[
            "-f",
            "GPKG",
            "-t_srs",
            "EPSG:4490",
            gpkg.to_str().expect("a path"),
            source,
        ],
    );
    let applied = upload(
        &app,
        "mode=replace",
        "application/geopackage+sqlite3",
        std::fs::read(&gpkg).expect("written"),
    )
    .await;
    assert_eq!(applied.status, StatusCode::OK, "{:?}", applied.json());
    assert_same_grids(&county, state.index().grids(), "GeoPackage EPSG:4490");
}

fn feature_count(info: &str) -> usize {
    info.lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no feature count in {info}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_the_shapefile_and_geopackage_exports() {
    let (state, app, _dir) = app().await;
    let count = state.index().grids().len();
    let work = tempfile::tempdir().expect("a directory");
    let save = |name: &str, bytes: Vec<u8>| {
        let path = work.path().join(name);
        std::fs::write(&path, bytes).expect("saved");
        path
    };
    let zip = save(
        "grids.zip",
        download(&app, "/api/grids/export?format=shapefile&crs=EPSG:4544").await,
    );
    let info = gdal(
        "ogrinfo",
        &["-so", "-al", &format!("/vsizip/{}", zip.display())],
    );
    assert_eq!(feature_count(&info), count, "{info}");
    assert!(
        info.contains("CGCS2000_3_Degree_GK_CM_105E") || info.contains("CM 105E"),
        "{info}"
    );
    // The county seat's name comes through in Chinese.
    let seat = state.index().grids()[0].clone();
    let one = gdal(
        "ogrinfo",
        &[
            "-al",
            "-where",
            &format!("id = '{}'", seat.id),
            &format!("/vsizip/{}", zip.display()),
        ],
    );
    assert!(one.contains(&seat.name), "{one}");

    let gpkg = save(
        "grids.gpkg",
        download(&app, "/api/grids/export?format=geopackage&crs=EPSG:4490").await,
    );
    let info = gdal("ogrinfo", &["-so", "-al", gpkg.to_str().expect("a path")]);
    assert_eq!(feature_count(&info), count, "{info}");
    assert!(info.contains("4490"), "{info}");

    // And they read back into wangge as what was exported.
    let county = state.index().grids().to_vec();
    let back = upload(
        &app,
        "mode=replace",
        "application/geopackage+sqlite3",
        std::fs::read(&gpkg).expect("saved"),
    )
    .await;
    assert_eq!(back.status, StatusCode::OK, "{:?}", back.json());
    assert_same_grids(&county, state.index().grids(), "wangge's GeoPackage");
}

#[tokio::test]
async fn a_shapefile_without_its_coordinate_system_is_refused_by_name() {
    let (state, app, _dir) = app().await;
    let version = state.index().version();
    // A zip of the layer without its .prj.
    let full = download(&app, "/api/grids/export?format=shapefile&crs=EPSG:4544").await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(full)).expect("a zip");
    let mut stripped = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let file = archive.by_index(i).expect("an entry");
        if !file.name().expect("a name").ends_with(".prj") {
            stripped.raw_copy_file(file).expect("copied");
        }
    }
    let stripped = stripped.finish().expect("zipped").into_inner();
    let refused = upload(&app, "mode=replace", "application/zip", stripped.clone()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let issue = &refused.json()["issues"][0];
    assert_eq!(
        (issue["feature"].as_str(), issue["field"].as_str()),
        (Some("grids:#layer"), Some(".prj")),
        "{issue}"
    );
    assert_eq!(state.index().version(), version, "a refused import wrote");
    // Declared, it imports.
    let declared = upload(
        &app,
        "mode=replace&crs=EPSG:4544",
        "application/zip",
        stripped,
    )
    .await;
    assert_eq!(declared.status, StatusCode::OK, "{:?}", declared.json());
}
