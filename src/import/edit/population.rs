//! Population of the grids an edit reshapes, re-estimated from the areas
//! moved: a grid's new population is, over each grid of its level whose
//! shape the edit changed or removed, that grid's population times the
//! share of its area the new grid now holds. Residents are taken to be
//! spread evenly within each old grid (the only assumption the data
//! supports; a planner who knows better gives the figure, which wins). The
//! estimate keeps the total: area a grid gives up takes its people with it.
//!
//! Rounded to whole people; grids whose old sources carried no population
//! keep what they had.

use std::collections::BTreeMap;

use geo::BooleanOps;
use geo::orient::{Direction, Orient};
use serde_json::Value;

use crate::import::area_m2;
use crate::model::{Grid, GridId};

use super::{EditRefusal, Working};

/// Re-estimate the population of every grid `work` reshaped, then apply
/// `given` (by id; each must be a grid the edit writes).
pub(super) fn estimate(
    work: &mut Working<'_>,
    given: &BTreeMap<GridId, u64>,
) -> Result<(), EditRefusal> {
    if let Some(id) = given.keys().find(|id| !work.changed.contains_key(*id)) {
        return Err(EditRefusal::PopulationOfUnchanged { id: id.clone() });
    }
    // The old grids whose area the edit redistributes: changed in shape,
    // or removed.
    let sources: Vec<&Grid> = work
        .changed
        .keys()
        .chain(work.removed.iter())
        .filter_map(|id| work.stored(id))
        .filter(|old| {
            work.get(&old.id)
                .is_none_or(|new| new.geometry != old.geometry)
        })
        .filter(|old| old.population().is_some())
        .collect();
    let oriented: Vec<_> = sources
        .iter()
        .map(|g| {
            (
                g,
                g.geometry.orient(Direction::Default),
                area_m2(&g.geometry),
            )
        })
        .collect();
    let mut estimates: Vec<(GridId, u64)> = Vec::new();
    for grid in work.changed.values() {
        let reshaped = match work.stored(&grid.id) {
            Some(old) => old.geometry != grid.geometry,
            // A new grid: estimated unless the request gave a figure.
            None => grid.population().is_none(),
        };
        if !reshaped {
            continue;
        }
        let shape = grid.geometry.orient(Direction::Default);
        let mut total = 0.0;
        let mut any = false;
        for (old, old_shape, old_area) in &oriented {
            if old.level != grid.level || *old_area <= 0.0 {
                continue;
            }
            let shared = area_m2(&shape.intersection(old_shape));
            if shared > 0.0 {
                any = true;
                total += old.population().unwrap_or(0) as f64 * shared / old_area;
            }
        }
        if any {
            estimates.push((grid.id.clone(), total.round() as u64));
        }
    }
    for (id, population) in estimates.into_iter().chain(given.clone()) {
        if let Some(grid) = work.changed.get_mut(&id) {
            grid.properties
                .insert("population".into(), Value::from(population));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{county, lonlat};
    use super::super::{Edit, NewGrid, Split, VertexMove, draw};
    use super::*;
    use crate::model::Level;
    use serde_json::Map;

    fn peopled() -> Vec<Grid> {
        let mut set = county();
        for (g, n) in set.iter_mut().zip([3000, 1000, 2000]) {
            g.properties.insert("population".into(), Value::from(n));
        }
        set
    }

    fn population(drawn: &super::super::Drawn, id: &str) -> Option<u64> {
        drawn
            .upsert
            .iter()
            .find(|g| g.id.as_str() == id)
            .and_then(Grid::population)
    }

    /// Moving the A|B border a tenth of the way into B moves a tenth of
    /// B's people to A; the total stays 3,000.
    #[test]
    fn people_move_with_the_area() {
        let edit = Edit::MoveVertices {
            level: Level::new(2).expect("a level"),
            moves: [0.0, 1.0]
                .map(|y| VertexMove {
                    from: lonlat(1.0, y),
                    to: lonlat(1.1, y),
                })
                .to_vec(),
        };
        let drawn = draw(&peopled(), &edit, &BTreeMap::new()).expect("moved");
        assert_eq!(population(&drawn, "A"), Some(1200));
        assert_eq!(population(&drawn, "B"), Some(1800));
        let given = BTreeMap::from([(GridId::from("A"), 1500)]);
        let drawn = draw(&peopled(), &edit, &given).expect("moved");
        assert_eq!(population(&drawn, "A"), Some(1500));
        assert_eq!(
            draw(&peopled(), &edit, &BTreeMap::from([(GridId::from("T"), 1)])),
            Err(EditRefusal::PopulationOfUnchanged {
                id: GridId::from("T")
            })
        );
    }

    #[test]
    fn a_split_shares_the_people_by_area() {
        let part = |id: &str| NewGrid {
            id: GridId::from(id),
            name: id.into(),
            properties: Map::new(),
        };
        let edit = Edit::Split(Split {
            grid: GridId::from("B"),
            line: vec![lonlat(1.5, 0.0), lonlat(1.5, 1.0)],
            parts: [part("B1"), part("B2")],
            straddling: Default::default(),
            child_parts: Default::default(),
        });
        let drawn = draw(&peopled(), &edit, &BTreeMap::new()).expect("split");
        assert_eq!(population(&drawn, "B1"), Some(1000));
        assert_eq!(population(&drawn, "B2"), Some(1000));
    }
}
