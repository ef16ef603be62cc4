//! Tile addresses and the coordinate systems a tile passes through.
//!
//! - [`LonLat`]: WGS84 degrees, as the grids are stored.
//! - [`WorldXY`]: spherical Web Mercator (EPSG:3857) scaled to the unit
//!   square, x east from 180°W, y **down** from the north edge (85.05°N), the
//!   frame of the XYZ ("slippy map") tile scheme. Multiplying by `2^z` gives
//!   tile numbers at zoom `z`.
//! - tile units: `0..EXTENT` across one tile, y down, as MVT stores them.
//!
//! XYZ numbers rows from the north; TMS (and MBTiles) from the south. The
//! URLs here are XYZ, as MapLibre, TileJSON's default scheme and GDAL's MVT
//! driver expect; nothing here flips y.

use std::f64::consts::PI;

use crate::geom::{Bbox, LonLat};
use crate::model::Localized;

/// The highest zoom a tile address may have. Tiles above
/// [`MAX_ZOOM`](super::MAX_ZOOM) are still made (on request), just never
/// advertised: clients overzoom instead.
pub const MAX_ADDRESSABLE_ZOOM: u8 = 24;

/// Web Mercator's latitude limit: the square's north and south edges.
pub const MAX_MERCATOR_LAT: f64 = 85.051_128_779_806_59;

/// A point in normalised Web Mercator: both coordinates 0 to 1, y down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorldXY {
    /// 0 at 180°W, 1 at 180°E.
    pub x: f64,
    /// 0 at the north edge, 1 at the south edge.
    pub y: f64,
}

impl WorldXY {
    /// Project a WGS84 point (latitudes beyond Web Mercator's limit are
    /// clamped to it).
    pub fn from_lonlat(p: LonLat) -> WorldXY {
        let lat = p
            .lat
            .clamp(-MAX_MERCATOR_LAT, MAX_MERCATOR_LAT)
            .to_radians();
        WorldXY {
            x: (p.lon + 180.0) / 360.0,
            y: (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0,
        }
    }

    /// The WGS84 point this projects from.
    pub fn to_lonlat(self) -> LonLat {
        let lat = (PI * (1.0 - 2.0 * self.y)).sinh().atan().to_degrees();
        LonLat::new(self.x * 360.0 - 180.0, lat)
    }
}

/// One tile's address in the XYZ scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom level: the world is `2^z` tiles across.
    pub z: u8,
    /// Column, 0 at 180°W.
    pub x: u32,
    /// Row, 0 at the north edge.
    pub y: u32,
}

/// Why a tile address does not name a tile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileIdError {
    /// The zoom is above [`MAX_ADDRESSABLE_ZOOM`].
    #[error("zoom {z} is above the highest zoom, {MAX_ADDRESSABLE_ZOOM}")]
    Zoom {
        /// The zoom asked for.
        z: u32,
    },
    /// `x` or `y` is not below `2^z`.
    #[error("tile {x}/{y} does not exist at zoom {z}: x and y must be below {}", 1u64 << z)]
    OutOfRange {
        /// Zoom.
        z: u8,
        /// Column asked for.
        x: u64,
        /// Row asked for.
        y: u64,
    },
}

impl Localized for TileIdError {
    fn zh(&self) -> String {
        match self {
            TileIdError::Zoom { z } => {
                format!("缩放级别 {z} 超过最高级别 {MAX_ADDRESSABLE_ZOOM}")
            }
            TileIdError::OutOfRange { z, x, y } => format!(
                "缩放级别 {z} 下没有瓦片 {x}/{y}：x 和 y 必须小于 {}",
                1u64 << z
            ),
        }
    }
}

impl TileId {
    /// A tile address, checked.
    pub fn new(z: u32, x: u64, y: u64) -> Result<TileId, TileIdError> {
        if z > u32::from(MAX_ADDRESSABLE_ZOOM) {
            return Err(TileIdError::Zoom { z });
        }
        let z = z as u8;
        let n = 1u64 << z;
        if x >= n || y >= n {
            return Err(TileIdError::OutOfRange { z, x, y });
        }
        Ok(TileId {
            z,
            x: x as u32,
            y: y as u32,
        })
    }

    /// Tiles across the world at this zoom.
    pub fn scale(self) -> f64 {
        f64::from(1u32 << self.z)
    }

    /// Where a world point falls in this tile, in tile units of `extent`
    /// across (y down); points outside the tile fall outside `0..extent`.
    pub fn to_tile_units(self, p: WorldXY, extent: f64) -> (f64, f64) {
        let s = self.scale();
        (
            (p.x * s - f64::from(self.x)) * extent,
            (p.y * s - f64::from(self.y)) * extent,
        )
    }

    /// The tile's bounds in lon/lat, grown by `margin` (a fraction of the
    /// tile's width, e.g. `BUFFER / EXTENT`) on every side.
    pub fn lonlat_bounds(self, margin: f64) -> Bbox {
        let s = self.scale();
        let nw = WorldXY {
            x: (f64::from(self.x) - margin) / s,
            y: (f64::from(self.y) - margin) / s,
        };
        let se = WorldXY {
            x: (f64::from(self.x) + 1.0 + margin) / s,
            y: (f64::from(self.y) + 1.0 + margin) / s,
        };
        let nw = nw.to_lonlat();
        let se = se.to_lonlat();
        Bbox {
            min_lon: nw.lon,
            min_lat: se.lat,
            max_lon: se.lon,
            max_lat: nw.lat,
        }
    }

    /// The tile at zoom `z` that holds a point (clamped to the world).
    pub fn containing(p: LonLat, z: u8) -> TileId {
        let w = WorldXY::from_lonlat(p);
        let n = 1u64 << z;
        let cell = |v: f64| ((v * n as f64).floor().max(0.0) as u64).min(n - 1) as u32;
        TileId {
            z,
            x: cell(w.x),
            y: cell(w.y),
        }
    }

    /// Every tile at zoom `z` that meets a lon/lat box, row by row.
    pub fn covering(bbox: Bbox, z: u8) -> impl Iterator<Item = TileId> {
        let nw = TileId::containing(LonLat::new(bbox.min_lon, bbox.max_lat), z);
        let se = TileId::containing(LonLat::new(bbox.max_lon, bbox.min_lat), z);
        (nw.y..=se.y).flat_map(move |y| (nw.x..=se.x).map(move |x| TileId { z, x, y }))
    }
}

impl std::fmt::Display for TileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The origin of the XYZ scheme is the north-west corner: tile 0/0/0
    /// spans the world, and at zoom 1 the north-west quarter is 1/0/0.
    #[test]
    fn xyz_rows_count_from_the_north() {
        let beijing = LonLat::new(116.39, 39.9);
        assert_eq!(TileId::containing(beijing, 1), TileId { z: 1, x: 1, y: 0 });
        // Qingshui county seat, checked against the usual slippy-map formula.
        let seat = LonLat::new(106.14, 34.75);
        assert_eq!(
            TileId::containing(seat, 12),
            TileId {
                z: 12,
                x: 3255,
                y: 1625
            }
        );
    }

    /// Projecting and unprojecting returns the point (to 1e-9 degrees).
    #[test]
    fn projection_round_trips() {
        for (lon, lat) in [(106.14, 34.75), (-73.98, 40.75), (0.0, 0.0), (179.9, -60.0)] {
            let back = WorldXY::from_lonlat(LonLat::new(lon, lat)).to_lonlat();
            assert!((back.lon - lon).abs() < 1e-9 && (back.lat - lat).abs() < 1e-9);
        }
    }

    /// A tile's corner points land on 0 and EXTENT in its own units.
    #[test]
    fn tile_units_span_the_tile() {
        let t = TileId {
            z: 12,
            x: 3255,
            y: 1625,
        };
        let b = t.lonlat_bounds(0.0);
        let (x0, y0) = t.to_tile_units(
            WorldXY::from_lonlat(LonLat::new(b.min_lon, b.max_lat)),
            4096.0,
        );
        let (x1, y1) = t.to_tile_units(
            WorldXY::from_lonlat(LonLat::new(b.max_lon, b.min_lat)),
            4096.0,
        );
        for (got, want) in [(x0, 0.0), (y0, 0.0), (x1, 4096.0), (y1, 4096.0)] {
            assert!((got - want).abs() < 1e-6, "{got} != {want}");
        }
    }

    /// Addresses outside the pyramid are refused with the reason.
    #[test]
    fn bad_addresses_are_refused() {
        assert_eq!(TileId::new(25, 0, 0), Err(TileIdError::Zoom { z: 25 }));
        assert!(matches!(
            TileId::new(3, 8, 0),
            Err(TileIdError::OutOfRange { z: 3, x: 8, y: 0 })
        ));
        assert!(TileId::new(3, 7, 7).is_ok());
    }

    /// `covering` lists exactly the tiles a box meets.
    #[test]
    fn covering_lists_the_tiles_of_a_box() {
        let county = Bbox {
            min_lon: 105.85,
            min_lat: 34.5,
            max_lon: 106.45,
            max_lat: 34.95,
        };
        let tiles: Vec<_> = TileId::covering(county, 10).collect();
        assert!(!tiles.is_empty());
        for t in &tiles {
            assert!(t.lonlat_bounds(0.0).intersects(&county));
        }
        let span = |v: Vec<u32>| {
            let (lo, hi) = (v.iter().min(), v.iter().max());
            hi.zip(lo).map_or(0, |(hi, lo)| hi - lo + 1)
        };
        let cols = span(tiles.iter().map(|t| t.x).collect());
        let rows = span(tiles.iter().map(|t| t.y).collect());
        assert_eq!(tiles.len() as u32, cols * rows);
    }
}
