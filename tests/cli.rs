//! The `wangge` binary end to end, against a SQLite file in a temporary
//! folder: import a small county, export it back, locate one point and a CSV
//! file of points, and refuse a bad import naming the feature.
//!
//! The county (0.1° towns; t-sw holds a chain down to level 5):
//!
//! ```text
//!  34.7 +-----------+-----------+
//!       |  v-w      |           |      t-sw: v-w (west half) and v-e (east half)
//!       +-----+     |  t-se     |      v-w: g-s (south half), g-n
//!       |s1|s2| v-e |           |      g-s: b (same square), split into s-1 and s-2
//!  34.6 +-----+-----+-----------+
//!     106.0    .05  106.1     106.2
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use geo::{MultiPolygon, Rect, coord};
use serde_json::{Map, Value, json};
use tempfile::TempDir;
use wangge::model::geojson::grids_to_feature_collection;
use wangge::model::{Grid, GridId, Level};
use wangge::store::WriteMode;

fn grid(
    id: &str,
    level: i64,
    parent: Option<&str>,
    name: &str,
    min: (f64, f64),
    max: (f64, f64),
) -> Grid {
    let rect = Rect::new(coord! { x: min.0, y: min.1 }, coord! { x: max.0, y: max.1 });
    let mut properties = Map::new();
    properties.insert(
        "leader".into(),
        json!({"name": format!("Leader {id}"), "phone": "13800000000"}),
    );
    Grid {
        id: GridId::from(id),
        level: Level::new(level).expect("fixture levels are 1 to 5"),
        parent_id: parent.map(GridId::from),
        name: name.to_owned(),
        geometry: MultiPolygon(vec![rect.to_polygon()]),
        properties,
    }
}

/// The county in the module diagram: 9 grids.
fn county() -> Vec<Grid> {
    vec![
        grid("t-sw", 1, None, "西南镇", (106.0, 34.6), (106.1, 34.7)),
        grid("t-se", 1, None, "东南镇", (106.1, 34.6), (106.2, 34.7)),
        grid(
            "v-w",
            2,
            Some("t-sw"),
            "西村",
            (106.0, 34.6),
            (106.05, 34.7),
        ),
        grid(
            "v-e",
            2,
            Some("t-sw"),
            "东村",
            (106.05, 34.6),
            (106.1, 34.7),
        ),
        grid(
            "g-s",
            3,
            Some("v-w"),
            "南社",
            (106.0, 34.6),
            (106.05, 34.65),
        ),
        grid(
            "g-n",
            3,
            Some("v-w"),
            "北社",
            (106.0, 34.65),
            (106.05, 34.7),
        ),
        grid(
            "b",
            4,
            Some("g-s"),
            "南社第一网格",
            (106.0, 34.6),
            (106.05, 34.65),
        ),
        grid(
            "s-1",
            5,
            Some("b"),
            "一片区",
            (106.0, 34.6),
            (106.025, 34.65),
        ),
        grid(
            "s-2",
            5,
            Some("b"),
            "二片区",
            (106.025, 34.6),
            (106.05, 34.65),
        ),
    ]
}

/// A temporary folder with a database URL inside it.
struct Workspace {
    dir: TempDir,
    database: String,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("temporary folder");
        let database = format!("sqlite://{}", dir.path().join("wangge.db").display());
        Workspace { dir, database }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write grids as a GeoJSON file in the folder.
    fn geojson(&self, name: &str, grids: &[Grid]) -> PathBuf {
        let path = self.path(name);
        let text = serde_json::to_string(&grids_to_feature_collection(grids)).expect("serializes");
        std::fs::write(&path, text).expect("fixture written");
        path
    }

    /// Run `wangge ARGS` on this folder's database (given by environment).
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_wangge"))
            .args(args)
            .current_dir(self.dir.path())
            .env("WANGGE_DATABASE_URL", &self.database)
            .env("RUST_LOG", "warn")
            .output()
            .expect("the binary runs")
    }

    /// Run and require success; return standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "wangge {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// A database holding the county, written through the library so that
    /// only the command under test runs through the binary.
    fn with_county() -> Workspace {
        let ws = Workspace::new();
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let store = wangge::store::connect(&ws.database)
                .await
                .expect("store opens");
            wangge::store::seed_grids(store.as_ref(), &county(), WriteMode::Replace, "test")
                .await
                .expect("county written");
        });
        ws
    }
}

fn ids_of(collection: &Value) -> Vec<String> {
    assert_eq!(collection["type"], "FeatureCollection");
    collection["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["properties"]["id"].as_str().expect("id").to_owned())
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("file exists")).expect("JSON")
}

const ORDERED: [&str; 9] = [
    "t-se", "t-sw", "v-e", "v-w", "g-n", "g-s", "b", "s-1", "s-2",
];

/// Import then export (to a file, and to standard output) gives the same grids back.
#[test]
fn import_then_export_round_trips() {
    let ws = Workspace::new();
    let file = ws.geojson("county.geojson", &county());
    let out = ws.ok(&["import", file.to_str().expect("UTF-8 path")]);
    assert!(out.contains("imported 9 grids"), "{out}");
    let out = ws.path("out/grids.geojson");
    ws.ok(&["export", "--out", out.to_str().expect("UTF-8 path")]);
    let exported = read_json(&out);
    assert_eq!(ids_of(&exported), ORDERED);
    let s1 = &exported["features"][7];
    assert_eq!(s1["properties"]["parent_id"], "b");
    assert_eq!(s1["properties"]["name"], "一片区");
    assert_eq!(s1["properties"]["leader"]["name"], "Leader s-1");
    let stdout = ws.ok(&["export"]);
    let exported: Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    assert_eq!(ids_of(&exported), ORDERED);
}

/// The planners' files through the command line: exported as a zipped
/// Shapefile in EPSG:4544 and as a GeoPackage, each checked with
/// `--dry-run` (nothing changes) and imported back into an empty database
/// as the same grids.
#[test]
fn shapefile_and_geopackage_round_trip_through_the_command_line() {
    let ws = Workspace::with_county();
    let shp = ws.path("grids.zip");
    let gpkg = ws.path("grids.gpkg");
    let path = |p: &PathBuf| p.to_str().expect("UTF-8 path").to_owned();
    ws.ok(&[
        "export",
        "--format",
        "shapefile",
        "--crs",
        "EPSG:4544",
        "--out",
        &path(&shp),
    ]);
    ws.ok(&["export", "--format", "geopackage", "--out", &path(&gpkg)]);
    // GeoJSON is longitude/latitude: a projection asked for is refused,
    // not silently ignored.
    let geojson_in_4544 = ws.run(&["export", "--crs", "EPSG:4544"]);
    assert!(
        !geojson_in_4544.status.success()
            && String::from_utf8_lossy(&geojson_in_4544.stderr).contains("GeoJSON is always"),
        "{geojson_in_4544:?}"
    );
    let before = ws.ok(&["export"]);
    let dry = ws.ok(&["import", &path(&shp), "--dry-run"]);
    // Projected and back, every vertex differs from the stored one in its
    // last bits: the grids count as changed, and nothing is written.
    assert!(
        dry.contains("would change 9 grid(s)") && dry.contains("nothing was changed"),
        "{dry}"
    );
    assert_eq!(ws.ok(&["export"]), before, "a dry run wrote");
    for file in [&shp, &gpkg] {
        let fresh = Workspace::new();
        let out = fresh.ok(&["import", &path(file)]);
        assert!(out.contains("imported 9 grids"), "{out}");
        let exported: Value = serde_json::from_str(&fresh.ok(&["export"])).expect("JSON");
        assert_eq!(ids_of(&exported), ORDERED, "{}", file.display());
        assert_eq!(exported["features"][7]["properties"]["name"], "一片区");
    }
}

/// `--database` on the command line is honoured like the environment variable.
#[test]
fn database_flag_names_the_store() {
    let ws = Workspace::with_county();
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["export", "--database", &ws.database])
        .current_dir(std::env::temp_dir())
        .env_remove("WANGGE_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    assert!(out.status.success());
    let exported: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(ids_of(&exported).len(), 9);
}

/// `locate LON LAT` prints one line per level: level, id, name, leader.
#[test]
fn locates_one_point() {
    let ws = Workspace::with_county();
    let out = ws.ok(&["locate", "106.01", "34.61"]);
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    let ids: Vec<&str> = lines.iter().map(|l| l[1]).collect();
    assert_eq!(ids, ["t-sw", "v-w", "g-s", "b", "s-1"], "{out}");
    assert_eq!(
        lines[4],
        ["5", "s-1", "一片区", "Leader s-1 13800000000"],
        "{out}"
    );
    let out = ws.ok(&["locate", "106.15", "34.65"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    let out = ws.ok(&["locate", "--", "-73.5", "40.7"]);
    assert!(out.contains("outside"), "{out}");
}

/// An invalid coordinate is an error, not a silent empty answer.
#[test]
fn locate_rejects_an_invalid_point() {
    let ws = Workspace::new();
    let out = ws.run(&["locate", "106", "95"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("95"));
}

/// `locate --csv` keeps every column and the header, in any order, and
/// appends l1-l5 (empty outside the county or below the deepest grid).
#[test]
fn locates_a_csv_file() {
    let ws = Workspace::with_county();
    let input = ws.path("points.csv");
    std::fs::write(
        &input,
        "case,lat,note,lon\n\
         deep,34.61,\"in s-1, deep\",106.01\n\
         outside,34.0,,105.5\n\
         town,34.65,only a town,106.15\n",
    )
    .expect("CSV written");
    let out = ws.ok(&["locate", "--csv", input.to_str().expect("UTF-8 path")]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "case,lat,note,lon,l1,l2,l3,l4,l5",
            "deep,34.61,\"in s-1, deep\",106.01,t-sw,v-w,g-s,b,s-1",
            "outside,34.0,,105.5,,,,,",
            "town,34.65,only a town,106.15,t-se,,,,",
        ],
        "{out}"
    );
}

/// A row with a bad coordinate fails naming its line, before any output.
#[test]
fn csv_with_a_bad_row_names_the_line() {
    let ws = Workspace::with_county();
    let input = ws.path("bad.csv");
    std::fs::write(&input, "lon,lat\n106.01,34.61\n106.01,north\n").expect("CSV written");
    let out = ws.run(&["locate", "--csv", input.to_str().expect("UTF-8 path")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(out.stdout.is_empty(), "no partial output");
    let missing = ws.path("missing.csv");
    std::fs::write(&missing, "x,lat\n1,2\n").expect("CSV written");
    let out = ws.run(&["locate", "--csv", missing.to_str().expect("UTF-8 path")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("lon"));
}

/// A refused import exits non-zero, prints each issue naming its feature,
/// and leaves the database as it was.
#[test]
fn refused_import_names_the_feature() {
    let ws = Workspace::with_county();
    let orphan = grid(
        "orphan",
        2,
        Some("no-such-town"),
        "孤村",
        (106.3, 34.6),
        (106.35, 34.7),
    );
    let file = ws.geojson("bad.geojson", &[orphan]);
    let out = ws.run(&[
        "import",
        file.to_str().expect("UTF-8 path"),
        "--mode",
        "upsert",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("orphan"), "{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");
    let exported: Value = serde_json::from_str(&ws.ok(&["export"])).expect("JSON");
    assert_eq!(ids_of(&exported), ORDERED);
}

/// A missing file is a plain error naming it.
#[test]
fn import_of_a_missing_file_fails() {
    let ws = Workspace::new();
    let out = ws.run(&["import", "nowhere.geojson"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere.geojson"));
}
