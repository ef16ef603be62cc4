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
    gzip: OnceLock<Bytes>,
    /// Bytes charged to the cache budget, fixed when made so that adding and
    /// removing the tile charge the same (its gzip copy may come later).
    weight: usize,
}

impl EncodedTile {
    /// Wrap rendered bytes (`None`: an empty tile).
    pub fn new(body: Option<Vec<u8>>) -> EncodedTile {
        let body = Bytes::from(body.unwrap_or_default());
        let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&body));
        // The gzip copy is at most about the size of the body.
        let weight = 2 * body.len() + 128;
        EncodedTile {
            body,
            etag,
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
        let mut inner = self.lock();
        inner.source = source;
        let margin = f64::from(BUFFER) / f64::from(EXTENT);
        let stale: Vec<TileKey> = inner
            .tiles
            .iter()
            .filter(|(key, _)| {
                let bounds = key.tile.lonlat_bounds(margin);
                changed.iter().any(|b| b.intersects(&bounds))
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
