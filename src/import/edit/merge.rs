//! Edits that join areas: merging siblings, and handing a grid to another
//! parent (its old parent gives up the grid's area, the new one takes it,
//! and so on up to the ancestor both share). Unions and differences go
//! through `overlay`, so the borders the results share with grids the edit
//! leaves alone keep every vertex, bit for bit.

use geo::MultiPolygon;

use crate::model::GridId;

use super::gate::SLIVER_MIN_M2;
use super::{EditRefusal, NewGrid, Working, overlay};
use crate::import::area_m2;

pub(super) fn merge(
    work: &mut Working<'_>,
    ids: &[GridId],
    into: &NewGrid,
) -> Result<(), EditRefusal> {
    let mut distinct = ids.to_vec();
    distinct.sort();
    distinct.dedup();
    if distinct.len() < 2 || distinct.len() != ids.len() {
        return Err(EditRefusal::TooFewToMerge);
    }
    let grids = ids
        .iter()
        .map(|id| work.grid(id).cloned())
        .collect::<Result<Vec<_>, _>>()?;
    let first = &grids[0];
    if let Some(other) = grids
        .iter()
        .find(|g| g.level != first.level || g.parent_id != first.parent_id)
    {
        return Err(EditRefusal::NotSiblings {
            first: first.id.clone(),
            grid: other.id.clone(),
        });
    }
    work.check_new_id(&into.id, ids)?;
    let shapes: Vec<&MultiPolygon<f64>> = grids.iter().map(|g| &g.geometry).collect();
    let merged = overlay::union(&shapes);
    let pieces: usize = shapes.iter().map(|s| s.0.len()).sum();
    // Every grid that shares a border with another joins two pieces.
    if merged.0.len() + (ids.len() - 1) > pieces {
        return Err(EditRefusal::NotAdjacent {
            grids: ids.to_vec(),
        });
    }
    let children: Vec<_> = ids
        .iter()
        .flat_map(|id| work.children_of(id).cloned().collect::<Vec<_>>())
        .collect();
    for id in ids {
        work.remove(id);
    }
    let merged_grid = match grids.iter().find(|g| g.id == into.id) {
        Some(kept) => into.inheriting(kept),
        None => into.clone(),
    };
    work.put(merged_grid.into_grid(first.level, first.parent_id.clone(), merged));
    for mut child in children {
        child.parent_id = Some(into.id.clone());
        work.put(child);
    }
    Ok(())
}

pub(super) fn reparent(
    work: &mut Working<'_>,
    id: &GridId,
    parent: &GridId,
) -> Result<(), EditRefusal> {
    let mut grid = work.grid(id)?.clone();
    let new_parent = work.grid(parent)?;
    let Some(old_parent) = grid.parent_id.clone() else {
        return Err(EditRefusal::WrongLevel {
            id: id.clone(),
            level: grid.level.get(),
            expected: "a town has no parent to change",
            expected_zh: "乡镇没有可以更换的上级网格",
        });
    };
    if new_parent.level.child() != Some(grid.level) {
        return Err(EditRefusal::WrongLevel {
            id: parent.clone(),
            level: new_parent.level.get(),
            expected: "the new parent must be one level above the grid",
            expected_zh: "新的上级网格必须比该网格高一级",
        });
    }
    if &old_parent == parent {
        return Err(EditRefusal::Empty);
    }
    // Up the two lines of ancestors until they meet (at the county, above
    // the towns, at the latest).
    let (mut from, mut to) = (Some(old_parent), Some(parent.clone()));
    while let (Some(f), Some(t)) = (&from, &to) {
        if f == t {
            break;
        }
        let (giver, taker) = (work.grid(f)?.clone(), work.grid(t)?.clone());
        let given = overlay::difference(&giver.geometry, &grid.geometry);
        if area_m2(&given) < SLIVER_MIN_M2 {
            return Err(EditRefusal::WouldEmpty {
                parent: giver.id.clone(),
            });
        }
        let taken = overlay::union(&[&taker.geometry, &grid.geometry]);
        if taken.0.len() + 1 > taker.geometry.0.len() + grid.geometry.0.len() {
            return Err(EditRefusal::NotAdjacent {
                grids: vec![grid.id.clone(), taker.id.clone()],
            });
        }
        (from, to) = (giver.parent_id.clone(), taker.parent_id.clone());
        let mut giver = giver;
        giver.geometry = given;
        let mut taker = taker;
        taker.geometry = taken;
        work.put(giver);
        work.put(taker);
    }
    grid.parent_id = Some(parent.clone());
    work.put(grid);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{county, grid};
    use super::super::vertices::has_vertex;
    use super::super::{Edit, draw};
    use super::*;
    use geo::Coord;
    use serde_json::Map;

    fn into(id: &str) -> NewGrid {
        NewGrid {
            id: GridId::from(id),
            name: id.into(),
            properties: Map::new(),
        }
    }

    /// Two towns, T (A | B) and U (C) to its east, U sharing B's east edge.
    fn two_towns() -> Vec<crate::model::Grid> {
        let mut set = county();
        set.push(grid(
            "U",
            1,
            None,
            &[
                (2.0, 0.0),
                (3.0, 0.0),
                (3.0, 1.0),
                (2.0, 1.0),
                (2.0, 0.5),
                (2.0, 0.0),
            ],
        ));
        set.push(grid(
            "C",
            2,
            Some("U"),
            &[
                (2.0, 0.0),
                (3.0, 0.0),
                (3.0, 1.0),
                (2.0, 1.0),
                (2.0, 0.5),
                (2.0, 0.0),
            ],
        ));
        set
    }

    #[test]
    fn siblings_merge_and_keep_their_children() {
        let mut set = county();
        set.push(grid(
            "b1",
            3,
            Some("B"),
            &[(1.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0), (1.0, 0.0)],
        ));
        let drawn = draw(
            &set,
            &Edit::Merge {
                grids: vec![GridId::from("A"), GridId::from("B")],
                into: into("AB"),
            },
            &Default::default(),
        )
        .expect("neighbours merge");
        assert_eq!(drawn.remove, [GridId::from("A"), GridId::from("B")]);
        let ab = drawn
            .upsert
            .iter()
            .find(|g| g.id.as_str() == "AB")
            .expect("AB");
        assert_eq!(ab.parent_id, Some(GridId::from("T")));
        assert!((area_m2(&ab.geometry) - area_m2(&set[0].geometry)).abs() < 1.0);
        let b1 = drawn
            .upsert
            .iter()
            .find(|g| g.id.as_str() == "b1")
            .expect("b1");
        assert_eq!(b1.parent_id, Some(GridId::from("AB")));
    }

    #[test]
    fn only_adjacent_siblings_merge() {
        let set = two_towns();
        let edit = |a: &str, b: &str| Edit::Merge {
            grids: vec![GridId::from(a), GridId::from(b)],
            into: into("X"),
        };
        let none = Default::default();
        assert!(matches!(
            draw(&set, &edit("A", "C"), &none),
            Err(EditRefusal::NotSiblings { .. })
        ));
        assert_eq!(
            draw(&set, &edit("A", "A"), &none),
            Err(EditRefusal::TooFewToMerge)
        );
        assert!(matches!(
            draw(&set, &edit("A", "U"), &none),
            Err(EditRefusal::NotSiblings { .. })
        ));
        // Three strips in a row under one town: the outer two do not touch.
        let strip = |id: &str, x: f64| {
            grid(
                id,
                2,
                Some("V"),
                &[(x, 5.0), (x + 1.0, 5.0), (x + 1.0, 6.0), (x, 6.0), (x, 5.0)],
            )
        };
        let row = vec![
            grid(
                "V",
                1,
                None,
                &[(0.0, 5.0), (3.0, 5.0), (3.0, 6.0), (0.0, 6.0), (0.0, 5.0)],
            ),
            strip("P", 0.0),
            strip("Q", 1.0),
            strip("R", 2.0),
        ];
        assert!(matches!(
            draw(&row, &edit("P", "R"), &none),
            Err(EditRefusal::NotAdjacent { .. })
        ));
        let three = Edit::Merge {
            grids: ["P", "Q", "R"].map(GridId::from).to_vec(),
            into: into("Q"),
        };
        let drawn = draw(&row, &three, &none).expect("a row merges");
        assert_eq!(drawn.remove, [GridId::from("P"), GridId::from("R")]);
    }

    /// B moves from T to U: T shrinks to A's area, U grows by B's, and
    /// T's new east border is A's, vertex for vertex.
    #[test]
    fn a_grid_moves_to_the_neighbouring_parent_with_its_area() {
        let set = two_towns();
        let drawn = draw(
            &set,
            &Edit::Reparent {
                grid: GridId::from("B"),
                parent: GridId::from("U"),
            },
            &Default::default(),
        )
        .expect("B borders U");
        let by_id = |id: &str| drawn.upsert.iter().find(|g| g.id.as_str() == id).expect(id);
        assert_eq!(by_id("B").parent_id, Some(GridId::from("U")));
        assert!((area_m2(&by_id("T").geometry) - area_m2(&set[1].geometry)).abs() < 1.0);
        let u_after = area_m2(&set[3].geometry) + area_m2(&set[2].geometry);
        assert!((area_m2(&by_id("U").geometry) - u_after).abs() < 1.0);
        // T's new east border is A's: the same vertices, exactly.
        for c in [(1.0, 0.0), (1.0, 1.0)] {
            assert!(has_vertex(by_id("T"), Coord { x: c.0, y: c.1 }), "{c:?}");
        }
        assert!(matches!(
            draw(
                &set,
                &Edit::Reparent {
                    grid: GridId::from("A"),
                    parent: GridId::from("U"),
                },
                &Default::default()
            ),
            Err(EditRefusal::NotAdjacent { .. })
        ));
    }
}
