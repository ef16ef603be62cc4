//! The answer checks the benchmarks make before they time anything: a
//! wrong but fast answer must fail the run. Shared by the benchmarks
//! (`#[path]`) and by `tests/bench_checks.rs`, which shows each failing on
//! a broken answer.

#![allow(dead_code)]

use std::collections::BTreeSet;

/// A patrol's round: it starts at the start (index 0) and visits every
/// stop `1..=stops` exactly once, nothing else.
pub fn round_visits_every_stop_once(order: &[usize], stops: usize) -> Result<(), String> {
    if order.first() != Some(&0) {
        return Err(format!("the round does not start at the start: {order:?}"));
    }
    let visited: BTreeSet<usize> = order[1..].iter().copied().collect();
    let wanted: BTreeSet<usize> = (1..=stops).collect();
    if order.len() != stops + 1 || visited != wanted {
        let missing: Vec<usize> = wanted.difference(&visited).copied().collect();
        return Err(format!(
            "the round has {} stops for {stops}: missing {missing:?}, order {order:?}",
            order.len() - 1
        ));
    }
    Ok(())
}

/// Two tiles hold the same grids: every id in one is in the other.
pub fn same_grids(
    what: &str,
    ours: &BTreeSet<String>,
    theirs: &BTreeSet<String>,
) -> Result<(), String> {
    if ours == theirs {
        return Ok(());
    }
    let only_ours: Vec<&String> = ours.difference(theirs).collect();
    let only_theirs: Vec<&String> = theirs.difference(ours).collect();
    Err(format!(
        "{what}: only in wangge's tile {only_ours:?}, only in the baseline's {only_theirs:?}"
    ))
}

/// Every backend holds exactly the incidents reported, and its list says
/// so: `(backend, stored, list total)` for each.
pub fn stores_hold_what_was_reported(
    reported: u64,
    seen: &[(&str, u64, u64)],
) -> Result<(), String> {
    for (backend, stored, listed) in seen {
        if *stored != reported || *listed != reported {
            return Err(format!(
                "{backend}: {reported} reported, {stored} stored, the list says {listed}"
            ));
        }
    }
    Ok(())
}
