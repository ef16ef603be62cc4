//! Boundary edits that keep every level a partition of its parent. An edit
//! is drawn up here, on the current grids, into the grids it writes and the
//! grids it removes ([`Drawn`]); the grid service then gates it with the
//! import's checks (valid polygons, children inside parents, siblings not
//! overlapping) and the two an edit adds (no gap opened in a parent's
//! cover, [`gaps_opened`]; no sliver, [`slivers`]), and applies it like an
//! import.
//!
//! The edits:
//!
//! - [`Edit::MoveVertices`] (`vertices`): a vertex or a stretch of border
//!   moves in every grid that shares it;
//! - [`Edit::Split`] (`split`): a grid cut in two along a line;
//! - [`Edit::Merge`] and [`Edit::Reparent`] (`merge`): siblings joined, or a
//!   grid handed with its subtree to a neighbouring parent;
//! - [`Edit::CreateSubArea`] and [`Edit::DeleteSubArea`]: level 5 inside a
//!   basic grid.
//!
//! Shared borders stay bit-identical: vertices move everywhere at once,
//! a new vertex goes into both sides of the border it lies on, unions and
//! differences snap back to the input vertices (`overlay`), and a vertex a
//! written grid has on a sibling's edge (or a sibling on its edge) goes
//! into that edge too (`vertices::conform`).
//! Populations of the grids whose shape changes are re-estimated from the
//! area they take from each old grid (`population`), unless given.
//!
//! Kept beside the import's checks because an edit is a grid change that
//! those checks gate; the pure layer has no store, no service, no state.

mod gate;
mod merge;
mod overlay;
mod population;
mod split;
mod vertices;

use std::collections::{BTreeMap, HashMap};

use geo::Coord;
use serde_json::{Map, Value};

use crate::geom::{Bbox, LonLat};
use crate::model::{Grid, GridId, Level, Localized};

pub use gate::{
    GAP_TOLERANCE_M2, Gap, SLIVER_MIN_M2, Sliver, gaps_opened, offending_part, slivers,
};
pub use split::{SNAP_M, Split, Straddling};
pub use vertices::VertexMove;

/// One boundary edit.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Move vertices of the borders at `level` (one vertex, or the vertices
    /// of a stretch of border): grids of this level and below move; a grid
    /// above it sharing a vertex refuses the edit.
    MoveVertices {
        /// The level the planner edits at.
        level: Level,
        /// The vertices, each moved once.
        moves: Vec<VertexMove>,
    },
    /// Cut a grid in two along a line.
    Split(Split),
    /// Join adjacent siblings into one grid; their children are kept under
    /// it.
    Merge {
        /// The grids joined (two or more, one parent).
        grids: Vec<GridId>,
        /// The grid they become (its id may be one of theirs).
        into: NewGrid,
    },
    /// Hand a grid with its subtree to another parent across its border:
    /// the old parent (and its ancestors up to the one both share) gives up
    /// the grid's area, the new one takes it.
    Reparent {
        /// The grid moved.
        grid: GridId,
        /// Its new parent, one level up, bordering it.
        parent: GridId,
    },
    /// Add a sub-area (level 5) inside a basic grid.
    CreateSubArea(Grid),
    /// Remove a sub-area (level 5); what lay in it falls to its basic grid.
    DeleteSubArea(GridId),
}

/// A grid an edit creates: what the request says about it (its level,
/// parent and shape come from the edit). One that keeps the id of a grid
/// the edit replaces keeps that grid's properties where it gives none.
#[derive(Debug, Clone, PartialEq)]
pub struct NewGrid {
    /// Its id (new, or the id of a grid the edit replaces).
    pub id: GridId,
    /// Its display name.
    pub name: String,
    /// `code`, `leader`, `population` and any other property.
    pub properties: Map<String, Value>,
}

impl NewGrid {
    /// This grid, which keeps the id of `old`, with `old`'s properties
    /// (code, leader, …) under the ones given; the population is estimated
    /// afresh unless given.
    fn inheriting(&self, old: &Grid) -> NewGrid {
        let mut properties = old.properties.clone();
        properties.remove("population");
        properties.extend(self.properties.clone());
        NewGrid {
            properties,
            ..self.clone()
        }
    }

    fn into_grid(
        self,
        level: Level,
        parent_id: Option<GridId>,
        geometry: geo::MultiPolygon<f64>,
    ) -> Grid {
        Grid {
            id: self.id,
            level,
            parent_id,
            name: self.name,
            geometry,
            properties: self.properties,
        }
    }
}

/// What an edit writes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Drawn {
    /// Grids added or changed, whole (an upsert).
    pub upsert: Vec<Grid>,
    /// Grids removed.
    pub remove: Vec<GridId>,
}

/// Why an edit cannot even be drawn up. Nothing is changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditRefusal {
    /// No grid of the level edited has a vertex there.
    #[error(
        "no grid of level {level} has a vertex at ({lon}, {lat}): give a vertex exactly as \
         stored (GET /api/grids/{{id}})"
    )]
    NoSuchVertex {
        /// The level edited.
        level: u8,
        /// The point given.
        lon: f64,
        /// The point given.
        lat: f64,
    },
    /// The vertex is also on the border of a grid above the level edited.
    #[error(
        "the vertex is on the border of {grid} (level {grid_level}); moving it would move \
         that border: edit at level {grid_level}"
    )]
    ParentBorder {
        /// The grid whose border it is.
        grid: GridId,
        /// Its level.
        grid_level: u8,
    },
    /// A point given is not a WGS84 longitude/latitude.
    #[error("({lon}, {lat}) is not a longitude/latitude")]
    BadPoint {
        /// The point given.
        lon: f64,
        /// The point given.
        lat: f64,
    },
    /// A split line of fewer than two points.
    #[error("a split line needs two or more points")]
    LineTooShort,
    /// An edit that changes nothing (no vertex to move, a grid given
    /// the parent it has).
    #[error("the edit changes nothing")]
    Empty,
    /// The same vertex is moved twice.
    #[error("the vertex ({lon}, {lat}) is moved twice")]
    RepeatedVertex {
        /// The vertex.
        lon: f64,
        /// The vertex.
        lat: f64,
    },
    /// A grid named is not stored.
    #[error("there is no grid {id}")]
    NoSuchGrid {
        /// The id given.
        id: GridId,
    },
    /// A new grid's id is already another grid's.
    #[error(
        "the id {id} is taken by another grid: give a new one (or the id of a grid the edit replaces)"
    )]
    IdTaken {
        /// The id given.
        id: GridId,
    },
    /// A split line that does not start or end on the grid's outer border.
    #[error(
        "the split line's {end} point ({lon}, {lat}) is not on the outer border of {grid} \
         (within {SNAP_M} m)"
    )]
    LineNotOnBorder {
        /// `first` or `last`.
        end: &'static str,
        /// The grid split.
        grid: GridId,
        /// The point given.
        lon: f64,
        /// The point given.
        lat: f64,
    },
    /// A split line that leaves the grid, or touches its border, between
    /// its ends (or meets it at one point twice).
    #[error(
        "the split line must run inside {grid} from border to border; it meets the border near ({lon}, {lat})"
    )]
    LineLeavesGrid {
        /// The grid split.
        grid: GridId,
        /// Where it meets the border.
        lon: f64,
        /// Where it meets the border.
        lat: f64,
    },
    /// Children of a split grid that the line crosses.
    #[error("the split line crosses {}: draw it along their borders, or split them first", ids(.children))]
    Straddles {
        /// The children crossed.
        children: Vec<GridId>,
    },
    /// A child a split cuts too that its line enters more than once.
    #[error(
        "the split line enters {child} more than once: split it first, or draw the line across it once"
    )]
    CrossesTwice {
        /// The child.
        child: GridId,
    },
    /// Parts given for a child the split does not cut.
    #[error(
        "parts are given for {child}, which the split does not cut (the line does not cross it, or straddling is not \"split\")"
    )]
    NotCut {
        /// The child named.
        child: GridId,
    },
    /// Grids merged that are not siblings at one level.
    #[error("{grid} is not a sibling of {first}: only grids with one parent merge")]
    NotSiblings {
        /// The first grid.
        first: GridId,
        /// The one that differs.
        grid: GridId,
    },
    /// Grids that would come out in separate pieces.
    #[error("{} do not share a border: the result would be in pieces", ids(.grids))]
    NotAdjacent {
        /// The grids.
        grids: Vec<GridId>,
    },
    /// A merge of fewer than two grids, or the same grid twice.
    #[error("a merge needs two or more different grids")]
    TooFewToMerge,
    /// A grid at a level where the edit cannot act.
    #[error("{id} is level {level}: {expected}")]
    WrongLevel {
        /// The grid.
        id: GridId,
        /// Its level.
        level: u8,
        /// What the edit needs.
        expected: &'static str,
        /// The same, in Chinese.
        expected_zh: &'static str,
    },
    /// A re-parent that would leave the old parent with nothing.
    #[error("{parent} would be left empty: merge it instead")]
    WouldEmpty {
        /// The grid left empty.
        parent: GridId,
    },
    /// A population given for a grid the edit does not write.
    #[error("a population is given for {id}, which the edit does not change")]
    PopulationOfUnchanged {
        /// The grid named.
        id: GridId,
    },
}

impl Localized for EditRefusal {
    fn zh(&self) -> String {
        match self {
            EditRefusal::NoSuchVertex { level, lon, lat } => format!(
                "({lon}, {lat}) 处没有 {level} 级网格的顶点：请按已保存的坐标原样给出顶点\
                 （见 GET /api/grids/{{id}}）"
            ),
            EditRefusal::ParentBorder { grid, grid_level } => format!(
                "该顶点位于 {grid}（{grid_level} 级）的边界上，移动它会改变该边界：\
                 请在 {grid_level} 级网格上编辑"
            ),
            EditRefusal::BadPoint { lon, lat } => format!("({lon}, {lat}) 不是有效的经纬度"),
            EditRefusal::LineTooShort => "分割线至少需要两个点".to_owned(),
            EditRefusal::Empty => "本次编辑未作任何更改".to_owned(),
            EditRefusal::RepeatedVertex { lon, lat } => {
                format!("顶点 ({lon}, {lat}) 重复移动")
            }
            EditRefusal::NoSuchGrid { id } => format!("未找到编号为 {id} 的网格"),
            EditRefusal::IdTaken { id } => {
                format!("编号 {id} 已被其他网格使用：请使用新的编号（或本次编辑所替换网格的编号）")
            }
            EditRefusal::LineNotOnBorder {
                end,
                grid,
                lon,
                lat,
            } => {
                let end = match *end {
                    "first" => "起点",
                    "last" => "终点",
                    other => other,
                };
                format!(
                    "分割线的{end} ({lon}, {lat}) 不在 {grid} 的外边界上（允许偏差 {SNAP_M} m）"
                )
            }
            EditRefusal::LineLeavesGrid { grid, lon, lat } => format!(
                "分割线必须在 {grid} 内从边界画到边界，但它在 ({lon}, {lat}) 附近碰到了边界"
            ),
            EditRefusal::Straddles { children } => format!(
                "分割线穿过了 {}：请沿这些网格的边界画线，或先分割这些网格",
                ids_zh(children)
            ),
            EditRefusal::CrossesTwice { child } => {
                format!("分割线多次进入 {child}：请先分割该网格，或让分割线只穿过它一次")
            }
            EditRefusal::NotCut { child } => format!(
                "给出了 {child} 的分割结果，但本次分割不会切开该网格（分割线未穿过它，\
                 或 straddling 不是 \"split\"）"
            ),
            EditRefusal::NotSiblings { first, grid } => {
                format!("{grid} 不是 {first} 的同级网格：只有上级网格相同的网格才能合并")
            }
            EditRefusal::NotAdjacent { grids } => {
                format!("{} 互不相邻：合并后会分成不相连的几块", ids_zh(grids))
            }
            EditRefusal::TooFewToMerge => "合并至少需要两个不同的网格".to_owned(),
            EditRefusal::WrongLevel {
                id,
                level,
                expected_zh,
                ..
            } => format!("{id} 是 {level} 级网格：{expected_zh}"),
            EditRefusal::WouldEmpty { parent } => {
                format!("{parent} 将不再有任何下级网格：请改为合并该网格")
            }
            EditRefusal::PopulationOfUnchanged { id } => {
                format!("给出了 {id} 的人口，但本次编辑不会改变该网格")
            }
        }
    }
}

fn ids(grids: &[GridId]) -> String {
    grids
        .iter()
        .map(GridId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`ids`] for a Chinese sentence.
fn ids_zh(grids: &[GridId]) -> String {
    grids
        .iter()
        .map(GridId::as_str)
        .collect::<Vec<_>>()
        .join("、")
}

pub(super) fn at(p: LonLat) -> Coord<f64> {
    Coord { x: p.lon, y: p.lat }
}

/// The box of a point.
pub(super) fn point_box(c: Coord<f64>) -> Bbox {
    Bbox {
        min_lon: c.x,
        min_lat: c.y,
        max_lon: c.x,
        max_lat: c.y,
    }
}

/// The bounding box of a grid's shape (an empty shape: a box that meets
/// nothing).
pub(super) fn bbox(shape: &geo::MultiPolygon<f64>) -> Bbox {
    Bbox::of(shape).unwrap_or(Bbox {
        min_lon: f64::INFINITY,
        min_lat: f64::INFINITY,
        max_lon: f64::NEG_INFINITY,
        max_lat: f64::NEG_INFINITY,
    })
}

/// The grids as the edit leaves them so far: the stored set, with the
/// grids changed and removed by the edit laid over it.
pub(super) struct Working<'a> {
    base: &'a [Grid],
    /// The bounding box of each stored grid (what `near` filters by, so
    /// that finding the few grids at a vertex does not read the county's
    /// every coordinate).
    bounds: &'a [Bbox],
    by_id: HashMap<&'a GridId, usize>,
    changed: BTreeMap<GridId, Grid>,
    removed: Vec<GridId>,
}

impl<'a> Working<'a> {
    fn new(base: &'a [Grid], bounds: &'a [Bbox]) -> Working<'a> {
        debug_assert_eq!(base.len(), bounds.len());
        Working {
            base,
            bounds,
            by_id: base.iter().enumerate().map(|(i, g)| (&g.id, i)).collect(),
            changed: BTreeMap::new(),
            removed: Vec::new(),
        }
    }

    /// The grid with `id` as the edit leaves it so far.
    fn get(&self, id: &GridId) -> Option<&Grid> {
        if self.removed.contains(id) {
            return None;
        }
        self.changed
            .get(id)
            .or_else(|| self.by_id.get(id).map(|&i| &self.base[i]))
    }

    /// The grid with `id`, or the refusal that names it.
    fn grid(&self, id: &GridId) -> Result<&Grid, EditRefusal> {
        self.get(id)
            .ok_or_else(|| EditRefusal::NoSuchGrid { id: id.clone() })
    }

    /// The grid with `id` as stored, before the edit.
    fn stored(&self, id: &GridId) -> Option<&'a Grid> {
        self.by_id.get(id).map(|&i| &self.base[i])
    }

    /// Every grid as the edit leaves it so far.
    fn all(&self) -> impl Iterator<Item = &Grid> {
        self.base
            .iter()
            .filter(|g| !self.changed.contains_key(&g.id) && !self.removed.contains(&g.id))
            .chain(
                self.changed
                    .values()
                    .filter(|g| !self.removed.contains(&g.id)),
            )
    }

    /// Every grid as the edit leaves it so far whose bounding box meets
    /// `area`.
    fn near(&self, area: Bbox) -> impl Iterator<Item = &Grid> {
        self.base
            .iter()
            .zip(self.bounds.iter())
            .filter(move |(g, b)| {
                b.intersects(&area)
                    && !self.changed.contains_key(&g.id)
                    && !self.removed.contains(&g.id)
            })
            .map(|(g, _)| g)
            .chain(self.changed.values().filter(move |g| {
                !self.removed.contains(&g.id)
                    && Bbox::of(&g.geometry).is_some_and(|b| b.intersects(&area))
            }))
    }

    /// The children of `id` as the edit leaves them so far.
    fn children_of<'s>(&'s self, id: &'s GridId) -> impl Iterator<Item = &'s Grid> + 's {
        self.all().filter(move |g| g.parent_id.as_ref() == Some(id))
    }

    /// Write `grid` (new or changed).
    fn put(&mut self, grid: Grid) {
        self.removed.retain(|id| id != &grid.id);
        self.changed.insert(grid.id.clone(), grid);
    }

    /// Remove the grid `id`.
    fn remove(&mut self, id: &GridId) {
        self.changed.remove(id);
        if self.by_id.contains_key(id) && !self.removed.contains(id) {
            self.removed.push(id.clone());
        }
    }

    /// Refuse `id` for a new grid unless it is free (neither stored nor
    /// written by this edit so far) or one of `replaced`.
    fn check_new_id(&self, id: &GridId, replaced: &[GridId]) -> Result<(), EditRefusal> {
        let taken = self.stored(id).is_some() || self.changed.contains_key(id);
        if taken && !replaced.contains(id) {
            return Err(EditRefusal::IdTaken { id: id.clone() });
        }
        Ok(())
    }

    fn finish(self) -> Drawn {
        let mut upsert: Vec<Grid> = self.changed.into_values().collect();
        upsert.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)));
        Drawn {
            upsert,
            remove: self.removed,
        }
    }
}

/// Draw up `edit` on `grids` (the whole stored set): the grids it writes
/// and removes, populations re-estimated (`population` overrides them by
/// id).
pub fn draw(
    grids: &[Grid],
    edit: &Edit,
    population: &BTreeMap<GridId, u64>,
) -> Result<Drawn, EditRefusal> {
    let bounds: Vec<Bbox> = grids.iter().map(|g| bbox(&g.geometry)).collect();
    draw_with_bounds(grids, &bounds, edit, population)
}

/// [`draw`], given the bounding box of each grid (as an index holds them),
/// in the same order.
pub fn draw_with_bounds(
    grids: &[Grid],
    bounds: &[Bbox],
    edit: &Edit,
    population: &BTreeMap<GridId, u64>,
) -> Result<Drawn, EditRefusal> {
    let mut work = Working::new(grids, bounds);
    match edit {
        Edit::MoveVertices { level, moves } => vertices::move_vertices(&mut work, *level, moves)?,
        Edit::Split(split) => {
            split::split(&mut work, split)?;
            // Parts named for a child the split did not cut would be
            // silently dropped: refused instead.
            if let Some(child) = split
                .child_parts
                .iter()
                .find(|(_, [_, right])| !work.changed.contains_key(&right.id))
                .map(|(child, _)| child)
            {
                return Err(EditRefusal::NotCut {
                    child: child.clone(),
                });
            }
        }
        Edit::Merge { grids, into } => merge::merge(&mut work, grids, into)?,
        Edit::Reparent { grid, parent } => merge::reparent(&mut work, grid, parent)?,
        Edit::CreateSubArea(grid) => {
            if grid.level != Level::SUB_AREA {
                return Err(EditRefusal::WrongLevel {
                    id: grid.id.clone(),
                    level: grid.level.get(),
                    expected: "only sub-areas (level 5) are created this way; split a grid instead",
                    expected_zh: "只能用这种方式新建片区（5 级），其他网格请用分割",
                });
            }
            work.check_new_id(&grid.id, &[])?;
            work.put(grid.clone());
        }
        Edit::DeleteSubArea(id) => {
            let grid = work.grid(id)?;
            if grid.level != Level::SUB_AREA {
                return Err(EditRefusal::WrongLevel {
                    id: id.clone(),
                    level: grid.level.get(),
                    expected: "only sub-areas (level 5) are deleted; merge other grids instead",
                    expected_zh: "只能删除片区（5 级），其他网格请用合并",
                });
            }
            work.remove(id);
        }
    }
    vertices::conform(&mut work);
    population::estimate(&mut work, population)?;
    Ok(work.finish())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn grid(id: &str, level: u8, parent: Option<&str>, ring: &[(f64, f64)]) -> Grid {
        let poly = geo::Polygon::new(ring.to_vec().into(), vec![]);
        Grid {
            id: GridId::from(id),
            level: Level::new(i64::from(level)).expect("a level"),
            parent_id: parent.map(GridId::from),
            name: id.into(),
            geometry: geo::MultiPolygon::new(vec![poly]),
            properties: Map::new(),
        }
    }

    /// A town T (level 1) split at x = 1 into A and B (level 2).
    pub(crate) fn county() -> Vec<Grid> {
        vec![
            grid(
                "T",
                1,
                None,
                &[(0.0, 0.0), (2.0, 0.0), (2.0, 1.0), (0.0, 1.0), (0.0, 0.0)],
            ),
            grid(
                "A",
                2,
                Some("T"),
                &[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)],
            ),
            grid(
                "B",
                2,
                Some("T"),
                &[(1.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0), (1.0, 0.0)],
            ),
        ]
    }

    pub(crate) fn lonlat(x: f64, y: f64) -> LonLat {
        LonLat::new(x, y)
    }

    #[test]
    fn only_sub_areas_are_created_and_deleted() {
        let none = BTreeMap::new();
        let town = grid(
            "U",
            1,
            None,
            &[(3.0, 0.0), (4.0, 0.0), (4.0, 1.0), (3.0, 0.0)],
        );
        assert!(matches!(
            draw(&county(), &Edit::CreateSubArea(town), &none),
            Err(EditRefusal::WrongLevel { level: 1, .. })
        ));
        assert!(matches!(
            draw(&county(), &Edit::DeleteSubArea(GridId::from("A")), &none),
            Err(EditRefusal::WrongLevel { level: 2, .. })
        ));
        assert_eq!(
            draw(&county(), &Edit::DeleteSubArea(GridId::from("Z")), &none),
            Err(EditRefusal::NoSuchGrid {
                id: GridId::from("Z")
            })
        );
    }
}
