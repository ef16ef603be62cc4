//! The tile cache, and the one place where the tiles' version of the grids
//! changes.
//!
//! Tiles are cached in memory by (tileset, z, x, y), least recently used
//! first out when over the byte budget. Staleness is prevented, not expired:
//!
//! - [`TileService::swap`] installs a new [`TileSource`] and evicts, at every
//!   zoom, exactly the cached tiles whose buffered bounds meet a changed
//!   grid's old or new bounding box, under the same lock;
//! - a tile rendered from an older source (a request that was already
//!   cutting when the swap happened) is answered but not cached, because
//!   the cache knows which generation is current.
//!
//! So once a swap returns, no request can be served a tile that misses the
//! change, and the tiles away from it stay warm.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::body::Bytes;
use lru::LruCache;
use rstar::primitives::Rectangle;
use rstar::{AABB, RTree};

use super::coord::TileId;
use super::source::TileSource;
use super::{BUFFER, EXTENT, Tileset};
use crate::geom::Bbox;

/// The default byte budget: every tile of the demo county from zoom 5 to
/// 14 is about 60 MB, so this holds the county several times over.
pub const DEFAULT_BUDGET_BYTES: usize = 256 * 1024 * 1024;

/// A cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// Which tileset.
    pub tileset: Tileset,
    /// Which tile.
    pub tile: TileId,
}

/// One encoded tile, ready to send.
#[derive(Debug)]
pub struct EncodedTile {
    /// The MVT bytes; empty for a tile with no features (sent as 204).
    pub body: Bytes,
    /// A strong validator of `body` (quoted, as the header wants it).
    pub etag: String,
    /// The validator of the gzip-encoded body: another representation, so
    /// another strong ETag (RFC 9110 §8.8.3), the same hash marked `-gz`.
    pub etag_gzip: String,
    gzip: OnceLock<Bytes>,
    /// Bytes charged to the cache budget, fixed when made so that adding and
    /// removing the tile charge the same (its gzip copy may come later).
    weight: usize,
}

impl EncodedTile {
    /// Wrap rendered bytes (`None`: an empty tile).
    pub fn new(body: Option<Vec<u8>>) -> EncodedTile {
        let body = Bytes::from(body.unwrap_or_default());
        let hash = xxhash_rust::xxh3::xxh3_64(&body);
        let etag = format!("\"{hash:016x}\"");
        let etag_gzip = format!("\"{hash:016x}-gz\"");
        // The gzip copy is at most about the size of the body.
        let weight = 2 * body.len() + 128;
        EncodedTile {
            body,
            etag,
            etag_gzip,
            gzip: OnceLock::new(),
            weight,
        }
    }

    /// True when the tile holds no feature.
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// The body gzip-compressed, made on first request and kept.
    pub fn gzip(&self) -> &Bytes {
        self.gzip.get_or_init(|| {
            use std::io::Write;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder
                .write_all(&self.body)
                .expect("writing to a Vec does not fail");
            Bytes::from(encoder.finish().expect("writing to a Vec does not fail"))
        })
    }

    /// Bytes charged to the cache budget.
    fn weight(&self) -> usize {
        self.weight
    }
}

/// Counters for `/metrics` and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Tiles in the cache.
    pub tiles: usize,
    /// Bytes they hold.
    pub bytes: usize,
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests that had to cut a tile.
    pub misses: u64,
    /// Tiles removed because grids under them changed.
    pub evicted_by_change: u64,
}

struct Inner {
    source: Arc<TileSource>,
    tiles: LruCache<TileKey, Arc<EncodedTile>>,
    budget: usize,
    stats: CacheStats,
}

/// The current tile source and the cache of tiles cut from it.
pub struct TileService {
    inner: Mutex<Inner>,
}

impl TileService {
    /// A service over a first source, with a byte budget for the cache.
    pub fn new(source: Arc<TileSource>, budget_bytes: usize) -> TileService {
        TileService {
            inner: Mutex::new(Inner {
                source,
                tiles: LruCache::unbounded(),
                budget: budget_bytes,
                stats: CacheStats::default(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The data under the lock stays consistent even if a holder panicked
        // (each operation is a few map updates), so keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The source tiles are being cut from now.
    pub fn source(&self) -> Arc<TileSource> {
        self.lock().source.clone()
    }

    /// A cached tile, if there is one (and mark it recently used).
    pub fn get(&self, key: &TileKey) -> Option<Arc<EncodedTile>> {
        let mut inner = self.lock();
        let hit = inner.tiles.get(key).cloned();
        match hit {
            Some(_) => inner.stats.hits += 1,
            None => inner.stats.misses += 1,
        }
        hit
    }

    /// Keep a tile cut from `source`, unless a newer source has been swapped
    /// in since (then the tile may miss a change and is not kept).
    pub fn put(&self, source: &TileSource, key: TileKey, tile: Arc<EncodedTile>) {
        let mut inner = self.lock();
        if inner.source.generation() != source.generation() {
            return;
        }
        inner.stats.bytes += tile.weight();
        if let Some(old) = inner.tiles.put(key, tile) {
            inner.stats.bytes -= old.weight();
        }
        while inner.stats.bytes > inner.budget {
            match inner.tiles.pop_lru() {
                Some((_, old)) => inner.stats.bytes -= old.weight(),
                None => break,
            }
        }
        inner.stats.tiles = inner.tiles.len();
    }

    /// Install a new source and, in the same step, drop every cached tile
    /// that `changed` (lon/lat boxes of grids added, removed or altered, old
    /// and new extents) touches. Returns how many tiles were dropped.
    pub fn swap(&self, source: Arc<TileSource>, changed: &[Bbox]) -> usize {
        // An R-tree of the changed boxes, built before taking the lock: an
        // import replacing the county changes thousands of boxes, and the
        // cache may hold a hundred thousand tiles, too many pairs to test
        // one by one while every tile request waits.
        let changed = RTree::bulk_load(
            changed
                .iter()
                .map(|b| Rectangle::from_corners([b.min_lon, b.min_lat], [b.max_lon, b.max_lat]))
                .collect(),
        );
        let margin = f64::from(BUFFER) / f64::from(EXTENT);
        let mut inner = self.lock();
        inner.source = source;
        let stale: Vec<TileKey> = inner
            .tiles
            .iter()
            .filter(|(key, _)| {
                let b = key.tile.lonlat_bounds(margin);
                let tile = AABB::from_corners([b.min_lon, b.min_lat], [b.max_lon, b.max_lat]);
                // Edges touching count, as in `Bbox::intersects`.
                changed
                    .locate_in_envelope_intersecting(&tile)
                    .next()
                    .is_some()
            })
            .map(|(key, _)| *key)
            .collect();
        for key in &stale {
            if let Some(old) = inner.tiles.pop(key) {
                inner.stats.bytes -= old.weight();
            }
        }
        inner.stats.evicted_by_change += stale.len() as u64;
        inner.stats.tiles = inner.tiles.len();
        stale.len()
    }

    /// Whether a tile is cached, without touching its recency or the counters.
    pub fn contains(&self, key: &TileKey) -> bool {
        self.lock().tiles.contains(key)
    }

    /// The counters.
    pub fn stats(&self) -> CacheStats {
        self.lock().stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::GridIndex;
    use crate::tiles::TileId;

    fn source(generation: u64) -> Arc<TileSource> {
        Arc::new(TileSource::new(
            Arc::new(GridIndex::build(Vec::new())),
            generation,
        ))
    }

    fn key(z: u8, x: u64, y: u64) -> TileKey {
        TileKey {
            tileset: Tileset::Grids,
            tile: TileId::new(u32::from(z), x, y).expect("a tile"),
        }
    }

    fn tile(bytes: usize) -> Arc<EncodedTile> {
        Arc::new(EncodedTile::new(Some(vec![7; bytes])))
    }

    /// A tile cut from the source that was current when its request began
    /// is not kept once a newer source is in: it may miss the change.
    #[test]
    fn tiles_cut_from_a_replaced_source_are_not_kept() {
        let old = source(1);
        let service = TileService::new(old.clone(), DEFAULT_BUDGET_BYTES);
        service.swap(source(2), &[]);
        service.put(&old, key(12, 3255, 1625), tile(100));
        assert!(!service.contains(&key(12, 3255, 1625)));
        assert_eq!(service.stats().bytes, 0);
        let current = service.source();
        service.put(&current, key(12, 3255, 1625), tile(100));
        assert!(service.contains(&key(12, 3255, 1625)));
    }

    /// Over the byte budget, the least recently used tiles go first, and
    /// the bytes counted are those of the tiles held.
    #[test]
    fn least_recently_used_tiles_go_first_over_budget() {
        let weight = tile(1000).weight();
        let service = TileService::new(source(1), 3 * weight);
        let src = service.source();
        for x in 0..3 {
            service.put(&src, key(12, x, 0), tile(1000));
        }
        // Touch the first, so the second is now the least recently used.
        assert!(service.get(&key(12, 0, 0)).is_some());
        service.put(&src, key(12, 3, 0), tile(1000));
        assert!(service.contains(&key(12, 0, 0)));
        assert!(!service.contains(&key(12, 1, 0)));
        assert!(service.contains(&key(12, 2, 0)));
        assert!(service.contains(&key(12, 3, 0)));
        let stats = service.stats();
        assert_eq!((stats.tiles, stats.bytes), (3, 3 * weight));
        assert_eq!((stats.hits, stats.misses), (1, 0));
    }

    /// A swap drops exactly the tiles whose buffered bounds meet a changed
    /// box, at every zoom, edges touching included.
    #[test]
    fn a_swap_drops_exactly_the_tiles_a_change_meets() {
        let service = TileService::new(source(1), DEFAULT_BUDGET_BYTES);
        let src = service.source();
        let at = |lon: f64, lat: f64, z: u8| TileKey {
            tileset: Tileset::Grids,
            tile: TileId::containing(crate::geom::LonLat::new(lon, lat), z),
        };
        let near = [at(106.1, 34.7, 5), at(106.1, 34.7, 10), at(106.1, 34.7, 14)];
        let far = [at(100.0, 30.0, 10), at(106.3, 34.7, 14)];
        for k in near.iter().chain(&far) {
            service.put(&src, *k, tile(10));
        }
        // A changed box a few metres across at the point.
        let changed = Bbox {
            min_lon: 106.1,
            min_lat: 34.7,
            max_lon: 106.1001,
            max_lat: 34.7001,
        };
        assert_eq!(service.swap(source(2), &[changed]), near.len());
        assert!(near.iter().all(|k| !service.contains(k)));
        assert!(far.iter().all(|k| service.contains(k)));
        // A box that only touches a tile's buffered edge drops it too.
        let edge = far[1]
            .tile
            .lonlat_bounds(f64::from(BUFFER) / f64::from(EXTENT));
        let touching = Bbox {
            min_lon: edge.max_lon,
            max_lon: edge.max_lon + 0.01,
            ..edge
        };
        assert_eq!(service.swap(source(3), &[touching]), 1);
        assert!(!service.contains(&far[1]));
        assert_eq!(service.stats().evicted_by_change, 4);
    }
}
