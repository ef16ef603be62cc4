//! Mapbox Vector Tiles (MVT 2.1) of the grids, and the cache in front of them.
//!
//! A tile is a pure function of the grid index: the same grids give the same
//! bytes on either store. The pipeline for one tile (`render.rs`):
//!
//! 1. find the grids whose bounding box meets the tile plus its buffer (the
//!    index's per-level R-trees), for the levels shown at that zoom;
//! 2. take their rings, projected to Web Mercator once per index version
//!    (`source.rs`), into tile units (extent 4096, y down);
//! 3. cut each ring to the buffered tile, cheaply (`preclip.rs`);
//! 4. snap to whole tile units and simplify to a pixel (`simplify.rs`),
//!    dropping rings that collapse;
//! 5. clip exactly and repair in one integer overlay, which also orients
//!    rings as MVT wants (exterior clockwise on screen), and encode.
//!
//! Tilesets ("layers" in the URL `/tiles/{layer}/{z}/{x}/{y}.mvt`) each hold
//! one MVT layer of the same name:
//!
//! | tileset | geometry | attributes |
//! |---|---|---|
//! | `grids` | the grid polygons of every level shown at the zoom | `id`, `code`, `name`, `level`, `parent`, `population` |
//! | `labels` | one point per grid at its pole of inaccessibility | `id`, `code`, `name`, `level` |
//! | `incidents` | open incidents, clustered below zoom 14 (`incidents.rs`) | see there |
//!
//! The grid tilesets are cut from the grid index and cached; the incidents
//! tileset is cut per request from the open incidents in memory.

/// The tile extent: tile units across one tile (MVT's default).
pub const EXTENT: u32 = 4096;

/// Tile units drawn beyond each tile edge, so that polygon outlines and fills
/// meet across tiles without seams.
pub const BUFFER: u32 = 64;

/// The highest zoom tiles are made for; clients overzoom beyond it.
pub const MAX_ZOOM: u8 = 14;

/// The lowest zoom tiles are made for: the whole county is a handful of
/// pixels below it.
pub const MIN_ZOOM: u8 = 5;

/// From which zoom the polygons of each level (index 0 = level 1, towns) are
/// in the `grids` tiles. Lower zooms would draw hundreds of outlines into a
/// few pixels.
pub const GRID_MIN_ZOOM: [u8; 5] = [5, 9, 10, 11, 12];

/// From which zoom each level's label points are in the `labels` tiles: one
/// zoom after its outlines appear, when a grid is large enough on screen to
/// carry its name.
pub const LABEL_MIN_ZOOM: [u8; 5] = [5, 10, 11, 12, 13];

mod cache;
mod changes;
pub mod coord;
pub mod incidents;
mod preclip;
mod render;
mod simplify;
mod source;
pub mod style;

pub use cache::{CacheStats, DEFAULT_BUDGET_BYTES, EncodedTile, TileKey, TileService};
pub use changes::{bounds_of, changed_bounds};
pub use coord::{TileId, TileIdError, WorldXY};
pub use render::{render, simplify_tolerance};
pub use simplify::simplify_for_zoom;
pub use source::TileSource;

/// A tileset: one kind of feature, served at `/tiles/{name}/{z}/{x}/{y}.mvt`
/// as tiles holding one MVT layer of the same name. Later point layers
/// (hazards, patrol routes) join here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tileset {
    /// The grid polygons.
    Grids,
    /// One label point per grid.
    Labels,
    /// Open incidents and clusters of them.
    Incidents,
}

impl Tileset {
    /// Every tileset.
    pub const ALL: [Tileset; 3] = [Tileset::Grids, Tileset::Labels, Tileset::Incidents];

    /// The name in URLs and of the MVT layer.
    pub fn name(self) -> &'static str {
        match self {
            Tileset::Grids => "grids",
            Tileset::Labels => "labels",
            Tileset::Incidents => incidents::LAYER,
        }
    }

    /// The tileset with this name.
    pub fn from_name(name: &str) -> Option<Tileset> {
        Tileset::ALL.into_iter().find(|t| t.name() == name)
    }

    /// What the layer holds, for TileJSON.
    pub fn description(self) -> &'static str {
        match self {
            Tileset::Grids => {
                "Grid polygons; each level from the zoom where its outlines become legible"
            }
            Tileset::Labels => "One point per grid, at its pole of inaccessibility, for its name",
            Tileset::Incidents => {
                "Open incidents; below zoom 14 incidents sharing a 64-pixel cell are one \
                 cluster point"
            }
        }
    }

    /// The attributes of its features and what each means, for TileJSON's
    /// `vector_layers[].fields`.
    pub fn fields(self) -> &'static [(&'static str, &'static str)] {
        const COMMON: [(&str, &str); 4] = [
            ("id", "String: the grid id"),
            ("code", "String: the grid's hierarchical code"),
            ("name", "String: display name"),
            (
                "level",
                "Number: 1 town, 2 village cluster, 3 group cluster, 4 basic grid, 5 sub-area",
            ),
        ];
        const GRIDS: [(&str, &str); 6] = [
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            ("parent", "String: the parent grid's id (absent for towns)"),
            ("population", "Number: residents"),
        ];
        const INCIDENTS: [(&str, &str); 7] = [
            ("id", "Number: the incident (absent on clusters)"),
            ("category", "String: category code"),
            ("status", "String: where it is in its process"),
            ("severity", "String: minor, major or critical"),
            ("tier", "Number: who handles it, 0 county to 5 sub-area"),
            (
                "overdue",
                "Boolean on incidents: past its deadline; Number on clusters: how many are",
            ),
            ("count", "Number: incidents in the cluster (clusters only)"),
        ];
        match self {
            Tileset::Grids => &GRIDS,
            Tileset::Labels => &COMMON,
            Tileset::Incidents => &INCIDENTS,
        }
    }

    /// The lowest zoom at which any of its features appear.
    pub fn min_zoom(self) -> u8 {
        let per_level = match self {
            Tileset::Grids => GRID_MIN_ZOOM,
            Tileset::Labels => LABEL_MIN_ZOOM,
            Tileset::Incidents => return incidents::INCIDENTS_MIN_ZOOM,
        };
        per_level
            .into_iter()
            .min()
            .unwrap_or(MIN_ZOOM)
            .max(MIN_ZOOM)
    }
}
