//! Rows of the `grids` table as SQLite returns them, and their conversion to
//! and from [`Grid`]. Column types are enforced by the STRICT table, so a row
//! always decodes into [`GridRow`]; what can still be wrong (a level out of
//! range, properties that are not a JSON object, bytes that are not WKB) is
//! reported as [`StoreError::Corrupt`] naming the grid.

use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row};

use crate::geom::{Bbox, wkb};
use crate::model::Grid;
use crate::store::StoreError;
use crate::store::row::StoredGrid;

/// The columns every grid query selects, in [`GridRow`]'s order.
pub(super) const GRID_COLUMNS: &str = "id, level, parent_id, name, properties, geom";

/// One stored grid, column by column.
pub(super) struct GridRow {
    id: String,
    level: i64,
    parent_id: Option<String>,
    name: String,
    properties: String,
    geom: Vec<u8>,
}

impl<'r> FromRow<'r, SqliteRow> for GridRow {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(GridRow {
            id: row.try_get("id")?,
            level: row.try_get("level")?,
            parent_id: row.try_get("parent_id")?,
            name: row.try_get("name")?,
            properties: row.try_get("properties")?,
            geom: row.try_get("geom")?,
        })
    }
}

impl GridRow {
    /// The grid this row stores.
    pub(super) fn into_grid(self) -> Result<Grid, StoreError> {
        StoredGrid {
            level: self.level,
            id: self.id,
            parent_id: self.parent_id,
            name: self.name,
            properties: self.properties,
            geom: self.geom,
        }
        .into_grid()
    }
}

/// A grid encoded for an INSERT: everything the database needs, computed
/// before the write transaction opens so that it holds the lock briefly.
pub(super) struct NewRow<'g> {
    /// The grid being written (its id, level, parent and name are bound as is).
    pub grid: &'g Grid,
    /// Its bounding box, `None` for an empty geometry.
    pub bbox: Option<Bbox>,
    /// Properties serialised in their given order.
    pub properties: String,
    /// The boundary as WKB.
    pub geom: Vec<u8>,
}

impl<'g> NewRow<'g> {
    /// Encode one grid.
    pub(super) fn new(grid: &'g Grid) -> Self {
        NewRow {
            grid,
            bbox: Bbox::of(&grid.geometry),
            properties: serde_json::to_string(&grid.properties)
                .expect("a map of JSON values with string keys always serialises"),
            geom: wkb::to_wkb(&grid.geometry),
        }
    }
}
