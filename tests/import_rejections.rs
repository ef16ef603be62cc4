//! Every kind of bad import is refused, through the same path the API and
//! the CLI use (`AppState::import_geojson`), on both backends: the refusal
//! names the feature and the reason, and the store and the running index are
//! exactly as they were before.

mod support;

use serde_json::{Value, json};
use wangge::import::Problem;
use wangge::model::geojson::grids_to_feature_collection;
use wangge::services::grids::GridChangeError;
use wangge::state::AppState;
use wangge::store::WriteMode;

use support::{ORIGIN, assert_grids_identical, small_county};

/// The small county as GeoJSON features: T; V1, V2 under T; G1 under V1; E under V2.
fn features() -> Vec<Value> {
    let fc = grids_to_feature_collection(&small_county());
    serde_json::to_value(fc).expect("serialisable")["features"]
        .as_array()
        .expect("features")
        .clone()
}

fn body(features: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features}))
        .expect("serialisable")
}

/// The feature with this id.
fn with_id<'a>(features: &'a mut [Value], id: &str) -> &'a mut Value {
    features
        .iter_mut()
        .find(|f| f["properties"]["id"] == id)
        .expect("fixture id")
}

/// A polygon from offsets (degrees) east and north of the fixtures' origin.
fn polygon(corners: &[(f64, f64)]) -> Value {
    let ring: Vec<Value> = corners
        .iter()
        .map(|(dx, dy)| json!([ORIGIN.0 + dx, ORIGIN.1 + dy]))
        .collect();
    json!({"type": "Polygon", "coordinates": [ring]})
}

struct Case {
    name: &'static str,
    mode: WriteMode,
    body: Vec<u8>,
    feature: &'static str,
    problem: fn(&Problem) -> bool,
}

fn case(
    name: &'static str,
    feature: &'static str,
    problem: fn(&Problem) -> bool,
    edit: impl FnOnce(&mut Vec<Value>),
) -> Case {
    let mut f = features();
    edit(&mut f);
    Case {
        name,
        mode: WriteMode::Replace,
        body: body(f),
        feature,
        problem,
    }
}

fn cases() -> Vec<Case> {
    let square = [
        (0.45, 0.05),
        (0.55, 0.05),
        (0.55, 0.1),
        (0.45, 0.1),
        (0.45, 0.05),
    ];
    let mut all = vec![
        Case {
            name: "invalid JSON",
            mode: WriteMode::Replace,
            body: b"{\"type\": \"FeatureCollection\", \"features\": [{".to_vec(),
            feature: "#document",
            problem: |p| matches!(p, Problem::NotGeoJson { .. }),
        },
        Case {
            name: "a number beyond a double (1e400)",
            mode: WriteMode::Replace,
            body: {
                let mut f = features();
                with_id(&mut f, "V2")["geometry"]["coordinates"][0][1] = json!([777.25, 39.9]);
                String::from_utf8(body(f))
                    .expect("utf-8")
                    .replace("777.25", "1e400")
                    .into_bytes()
            },
            feature: "V2",
            problem: |p| matches!(p, Problem::BadCoordinate { index: 1, position, .. } if position.starts_with("[1e400,")),
        },
        Case {
            name: "not a FeatureCollection",
            mode: WriteMode::Replace,
            body: serde_json::to_vec(&features()[0]).expect("serialisable"),
            feature: "#document",
            problem: |p| matches!(p, Problem::NotGeoJson { .. }),
        },
        case(
            "wrong geometry type",
            "V2",
            |p| matches!(p, Problem::WrongGeometryType { .. }),
            |f| {
                with_id(f, "V2")["geometry"] =
                    json!({"type": "Point", "coordinates": [ORIGIN.0 + 0.5, ORIGIN.1 + 0.1]});
            },
        ),
        case(
            "LineString geometry",
            "V2",
            |p| matches!(p, Problem::WrongGeometryType { found } if found == "LineString"),
            |f| {
                with_id(f, "V2")["geometry"] = json!({"type": "LineString",
                    "coordinates": [[ORIGIN.0 + 0.5, ORIGIN.1 + 0.1], [ORIGIN.0 + 0.6, ORIGIN.1 + 0.1]]});
            },
        ),
        case(
            "missing geometry",
            "V2",
            |p| matches!(p, Problem::WrongGeometryType { .. }),
            |f| {
                with_id(f, "V2")["geometry"] = Value::Null;
            },
        ),
        case(
            "self-intersecting ring",
            "V2",
            |p| matches!(p, Problem::InvalidPolygon { .. }),
            |f| {
                with_id(f, "V2")["geometry"] =
                    polygon(&[(0.4, 0.0), (0.8, 0.4), (0.8, 0.0), (0.4, 0.4), (0.4, 0.0)]);
            },
        ),
        case(
            "unclosed ring",
            "V2",
            |p| matches!(p, Problem::UnclosedRing { .. }),
            |f| {
                with_id(f, "V2")["geometry"] = polygon(&square[..4]);
            },
        ),
        case(
            "too-short ring",
            "V2",
            |p| matches!(p, Problem::RingTooShort { positions: 3, .. }),
            |f| {
                with_id(f, "V2")["geometry"] = polygon(&[(0.45, 0.05), (0.55, 0.05), (0.45, 0.05)]);
            },
        ),
        case(
            "longitude out of range",
            "V2",
            |p| matches!(p, Problem::BadCoordinate { .. }),
            |f| {
                with_id(f, "V2")["geometry"]["coordinates"][0][1] = json!([200.0, 39.9]);
            },
        ),
        case(
            "latitude out of range",
            "V2",
            |p| matches!(p, Problem::BadCoordinate { .. }),
            |f| {
                with_id(f, "V2")["geometry"]["coordinates"][0][1] = json!([116.5, 95.0]);
            },
        ),
        case(
            "null coordinate (how JSON carries NaN)",
            "V2",
            |p| matches!(p, Problem::BadCoordinate { .. }),
            |f| {
                with_id(f, "V2")["geometry"]["coordinates"][0][1] = json!([null, 39.9]);
            },
        ),
        case(
            "missing level",
            "V2",
            |p| matches!(p, Problem::BadProperty { property, .. } if property == "level"),
            |f| {
                with_id(f, "V2")["properties"]
                    .as_object_mut()
                    .expect("object")
                    .remove("level");
            },
        ),
        case(
            "duplicate id",
            "V2",
            |p| matches!(p, Problem::DuplicateId { id } if id == "V2"),
            |f| {
                let copy = with_id(f, "V2").clone();
                f.push(copy);
            },
        ),
        case(
            "unknown parent",
            "G1",
            |p| matches!(p, Problem::UnknownParent { parent } if parent == "NOPE"),
            |f| {
                with_id(f, "G1")["properties"]["parent_id"] = json!("NOPE");
            },
        ),
        case(
            "level not one below the parent",
            "G1",
            |p| matches!(p, Problem::WrongLevel { level: 2, .. }),
            |f| {
                with_id(f, "G1")["properties"]["level"] = json!(2);
            },
        ),
        case(
            "level 1 with a parent",
            "T",
            |p| matches!(p, Problem::WrongLevel { level: 1, .. }),
            |f| {
                with_id(f, "T")["properties"]["parent_id"] = json!("V1");
            },
        ),
        case(
            "level 3 under a level 1",
            "G1",
            |p| matches!(p, Problem::WrongLevel { level: 3, .. }),
            |f| {
                with_id(f, "G1")["properties"]["parent_id"] = json!("T");
            },
        ),
        case(
            "level 2 without a parent",
            "V1",
            |p| matches!(p, Problem::WrongLevel { .. }),
            |f| {
                with_id(f, "V1")["properties"]["parent_id"] = Value::Null;
            },
        ),
        case(
            "child outside its parent",
            "G1",
            |p| matches!(p, Problem::OutsideParent { parent, .. } if parent == "V1"),
            |f| {
                with_id(f, "G1")["geometry"] =
                    polygon(&[(0.3, 0.1), (0.5, 0.1), (0.5, 0.3), (0.3, 0.3), (0.3, 0.1)]);
            },
        ),
        case(
            "overlap with a sibling",
            "V2",
            |p| matches!(p, Problem::OverlapsSibling { sibling, .. } if sibling == "V1"),
            |f| {
                with_id(f, "V2")["geometry"] =
                    polygon(&[(0.3, 0.0), (0.8, 0.0), (0.8, 0.4), (0.3, 0.4), (0.3, 0.0)]);
            },
        ),
    ];
    // Upserts are checked against the stored grids they join.
    let upsert = |name, feature, problem: fn(&Problem) -> bool, edit: fn(&mut Value)| {
        let mut f = features()
            .into_iter()
            .find(|f| f["properties"]["id"] == feature)
            .expect("fixture id");
        edit(&mut f);
        Case {
            name,
            mode: WriteMode::Upsert,
            body: body(vec![f]),
            feature,
            problem,
        }
    };
    all.push(upsert(
        "upsert moving a grid out of its parent",
        "E",
        |p| matches!(p, Problem::OutsideParent { .. }),
        |f| {
            f["geometry"] = polygon(&[
                (0.1, 0.05),
                (0.2, 0.05),
                (0.2, 0.08),
                (0.1, 0.08),
                (0.1, 0.05),
            ]);
        },
    ));
    all.push(upsert(
        "upsert naming an unknown parent",
        "E",
        |p| matches!(p, Problem::UnknownParent { .. }),
        |f| {
            f["properties"]["parent_id"] = json!("V9");
        },
    ));
    all.push(upsert(
        "upsert of a self-intersecting grid",
        "E",
        |p| matches!(p, Problem::InvalidPolygon { .. }),
        |f| {
            f["geometry"] = polygon(&[(0.6, 0.1), (0.7, 0.2), (0.7, 0.1), (0.6, 0.2), (0.6, 0.1)]);
        },
    ));
    all.push(upsert(
        "upsert putting a grid at the wrong level",
        "E",
        |p| matches!(p, Problem::WrongLevel { level: 4, .. }),
        |f| {
            f["properties"]["level"] = json!(4);
        },
    ));
    all.push(upsert(
        "upsert overlapping a stored sibling",
        "V1",
        |p| matches!(p, Problem::OverlapsSibling { .. }),
        |f| {
            f["geometry"] = polygon(&[(0.0, 0.0), (0.5, 0.0), (0.5, 0.4), (0.0, 0.4), (0.0, 0.0)]);
        },
    ));
    all
}

/// Each bad import is refused naming its feature, and changes nothing, on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_imports_are_refused_and_change_nothing() {
    for (backend, store, _dir) in support::both_stores().await {
        let state = AppState::open(store.clone()).await.expect("open");
        state
            .import_grids(small_county(), WriteMode::Replace)
            .await
            .expect("the fixture is valid");
        let stored = store.load_grids().await.expect("load");
        let indexed = state.index().grids().to_vec();
        for case in cases() {
            let context = format!("{backend}: {}", case.name);
            match state.import_geojson(case.body, case.mode).await {
                Err(GridChangeError::Invalid(errors)) => assert!(
                    errors
                        .issues
                        .iter()
                        .any(|i| i.feature == case.feature && (case.problem)(&i.problem)),
                    "{context}: expected an issue naming {}, got {errors:?}",
                    case.feature
                ),
                other => panic!("{context}: expected a refusal, got {other:?}"),
            }
            assert_grids_identical(&context, &store.load_grids().await.expect("load"), &stored);
            assert_grids_identical(&context, state.index().grids(), &indexed);
        }
    }
}

/// A valid import after all those refusals still goes through (nothing was
/// left locked or half-written), on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_import_follows_refusals() {
    for (backend, store, _dir) in support::both_stores().await {
        let state = AppState::open(store.clone()).await.expect("open");
        for case in cases().into_iter().take(3) {
            assert!(
                state.import_geojson(case.body, case.mode).await.is_err(),
                "{backend}"
            );
        }
        let summary = state
            .import_geojson(body(features()), WriteMode::Replace)
            .await
            .expect("valid import");
        assert_eq!(summary.counts_by_level, [1, 2, 2, 0, 0], "{backend}");
        assert_grids_identical(
            backend,
            &store.load_grids().await.expect("load"),
            &small_county_sorted(),
        );
    }
}

fn small_county_sorted() -> Vec<wangge::model::Grid> {
    support::sorted(small_county())
}
