//! What both backends keep for a grid, apart from SQL: the stored columns,
//! decoded back into a [`Grid`]. Each backend reads its own row type (column
//! types differ) and hands the values here, so both report a damaged row the
//! same way: [`StoreError::Corrupt`], naming the grid.

use serde_json::{Map, Value};

use crate::geom::wkb;
use crate::model::{Grid, GridId, Level};
use crate::store::StoreError;

/// The stored columns of one grid.
pub(crate) struct StoredGrid {
    pub id: String,
    pub level: i64,
    pub parent_id: Option<String>,
    pub name: String,
    /// The properties object as JSON text, keys in their imported order.
    pub properties: String,
    /// The boundary as WKB.
    pub geom: Vec<u8>,
}

impl StoredGrid {
    /// The grid these columns store.
    pub(crate) fn into_grid(self) -> Result<Grid, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            id: format!("grid {}", self.id),
            reason,
        };
        let level = Level::new(self.level).map_err(|e| corrupt(e.to_string()))?;
        let properties: Map<String, Value> = serde_json::from_str(&self.properties)
            .map_err(|e| corrupt(format!("properties are not a JSON object: {e}")))?;
        let geometry = wkb::from_wkb(&self.geom).map_err(|e| corrupt(e.to_string()))?;
        Ok(Grid {
            id: GridId(self.id),
            level,
            parent_id: self.parent_id.map(GridId),
            name: self.name,
            geometry,
            properties,
        })
    }
}
