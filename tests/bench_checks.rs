//! The benchmarks' answer checks fail on a wrong answer (the benchmarks
//! themselves only run under `cargo bench`; their checks are shown here).

#[path = "../benches/checks.rs"]
mod checks;

use std::collections::BTreeSet;

use checks::{round_visits_every_stop_once, same_grids, stores_hold_what_was_reported};

/// A round that drops a stop, repeats one, or starts elsewhere is refused.
#[test]
fn a_round_that_drops_or_repeats_a_stop_fails() {
    assert!(round_visits_every_stop_once(&[0, 3, 1, 2], 3).is_ok());
    let dropped = round_visits_every_stop_once(&[0, 3, 1], 3).expect_err("a stop is missing");
    assert!(dropped.contains("missing [2]"), "{dropped}");
    assert!(round_visits_every_stop_once(&[0, 1, 1, 2], 3).is_err());
    assert!(round_visits_every_stop_once(&[1, 0, 2, 3], 3).is_err());
    assert!(round_visits_every_stop_once(&[0, 1, 2, 3, 4], 3).is_err());
}

/// Tiles that differ by one grid are refused, naming it.
#[test]
fn tiles_with_different_grids_fail() {
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert!(same_grids("z12", &set(&["a", "b"]), &set(&["b", "a"])).is_ok());
    let e = same_grids("z12", &set(&["a", "b"]), &set(&["a"])).expect_err("b is extra");
    assert!(e.contains("\"b\""), "{e}");
}

/// A backend that lost a report, or a list that miscounts, is refused.
#[test]
fn a_lost_report_fails() {
    assert!(stores_hold_what_was_reported(10, &[("sqlite", 10, 10), ("postgis", 10, 10)]).is_ok());
    assert!(stores_hold_what_was_reported(10, &[("sqlite", 10, 10), ("postgis", 9, 9)]).is_err());
    assert!(stores_hold_what_was_reported(10, &[("sqlite", 10, 11)]).is_err());
}
