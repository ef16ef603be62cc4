//! The `incidents` tileset: open incidents as points, clustered below
//! [`MAX_ZOOM`] so that a county of tens of thousands of incidents stays
//! legible and small on the wire.
//!
//! Tiles are cut from [`OpenIncidents`], an in-memory R-tree of the open
//! incidents kept in step with the store: loaded at start, then updated by
//! every committed report and change (`dispatch::events::LiveIncidents`).
//! Duplicate hints for new reports read it too ([`OpenIncidents::near`]).
//! Incidents change by the second, so these
//! tiles are cut per request (a tile is a range query and a few hundred
//! points) and never cached; the strong ETag still spares the bytes when
//! nothing changed.
//!
//! Clustering is by a fixed grid of cells per tile, 64 pixels across: every
//! incident belongs to exactly one cell of one tile, so a cluster is never
//! counted twice where tiles meet and the same data always gives the same
//! tile. A cell holding one incident shows the incident itself.
//!
//! | feature | attributes |
//! |---|---|
//! | an incident | `id`, `category`, `status`, `severity`, `tier`, `overdue` |
//! | a cluster | `count`, `overdue` (how many of them are past their deadline) |

use std::collections::HashMap;

use geo::{Geometry, Point};
use geozero::ToMvt;
use geozero::mvt::tile::Layer;
use geozero::mvt::{Message, TagsBuilder, Tile, TileValue};
use jiff::Timestamp;
use rstar::primitives::GeomWithData;
use rstar::{AABB, RTree};

use super::coord::{TileId, WorldXY};
use super::{EXTENT, MAX_ZOOM};
use crate::geom::{LonLat, METRES_PER_DEGREE_LAT, metres_between};
use crate::model::{GridChain, Incident, IncidentId};
use crate::workflow::{Severity, Status, Tier};

/// The MVT layer (and tileset) name.
pub const LAYER: &str = "incidents";

/// The lowest zoom incident tiles hold anything at.
pub const INCIDENTS_MIN_ZOOM: u8 = 5;

/// Cluster cell size in tile units: 64 pixels of a 512-pixel tile.
const CELL_UNITS: u32 = 512;

/// An open incident as the map shows it.
#[derive(Debug, Clone)]
struct MapIncident {
    at: [f64; 2],
    lonlat: LonLat,
    reported_at: Timestamp,
    category: String,
    status: Status,
    severity: Severity,
    tier: Tier,
    deadline: Timestamp,
    /// The grids it was reported in, for cutting a tile of one caller's view.
    chain: GridChain,
}

type Entry = GeomWithData<[f64; 2], i64>;

/// The open incidents, by place (world coordinates).
#[derive(Default)]
pub struct OpenIncidents {
    tree: RTree<Entry>,
    by_id: HashMap<i64, MapIncident>,
    /// The version of every incident loaded or taken in since start (open
    /// or not), so that a late, older publication cannot undo a newer one.
    /// One integer pair per incident reported or changed while the server
    /// runs: a few megabytes for a county's year.
    versions: HashMap<i64, i64>,
}

impl OpenIncidents {
    /// The open ones of `incidents`, bulk-loaded.
    pub fn new<'a>(incidents: impl IntoIterator<Item = &'a Incident>) -> OpenIncidents {
        let mut versions = HashMap::new();
        let by_id: HashMap<i64, MapIncident> = incidents
            .into_iter()
            .filter(|i| i.status.is_open())
            .map(|i| {
                versions.insert(i.id.0, i.version);
                (i.id.0, map_incident(i))
            })
            .collect();
        let entries = by_id.iter().map(|(id, m)| Entry::new(m.at, *id)).collect();
        OpenIncidents {
            tree: RTree::bulk_load(entries),
            by_id,
            versions,
        }
    }

    /// Take in an incident as it now stands: added or moved while open,
    /// dropped once resolved, closed or dismissed. Returns false (and changes
    /// nothing) when a newer version of it was taken in already.
    pub fn apply(&mut self, incident: &Incident) -> bool {
        let id = incident.id.0;
        if self
            .versions
            .get(&id)
            .is_some_and(|&v| v >= incident.version)
        {
            return false;
        }
        self.versions.insert(id, incident.version);
        if let Some(old) = self.by_id.remove(&id) {
            self.tree.remove(&Entry::new(old.at, id));
        }
        if incident.status.is_open() {
            let m = map_incident(incident);
            self.tree.insert(Entry::new(m.at, id));
            self.by_id.insert(id, m);
        }
        true
    }

    /// Open incidents of `category` within `radius_m` metres of `p`,
    /// reported at or after `since`, nearest first.
    pub fn near(
        &self,
        category: &str,
        p: LonLat,
        radius_m: f64,
        since: Timestamp,
    ) -> Vec<IncidentId> {
        let dlat = radius_m / METRES_PER_DEGREE_LAT;
        let dlon = dlat / p.lat.to_radians().cos().max(0.01);
        let nw = WorldXY::from_lonlat(LonLat::new(p.lon - dlon, p.lat + dlat));
        let se = WorldXY::from_lonlat(LonLat::new(p.lon + dlon, p.lat - dlat));
        let envelope = AABB::from_corners([nw.x, nw.y], [se.x, se.y]);
        let mut near: Vec<(f64, i64)> = self
            .tree
            .locate_in_envelope_intersecting(&envelope)
            .filter_map(|entry| {
                let m = &self.by_id[&entry.data];
                let d = metres_between(m.lonlat, p);
                (m.category == category && m.reported_at >= since && d <= radius_m)
                    .then_some((d, entry.data))
            })
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        near.into_iter().map(|(_, id)| IncidentId(id)).collect()
    }

    /// How many are open.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Whether incident `id` is open (as far as the map knows).
    pub fn contains(&self, id: IncidentId) -> bool {
        self.by_id.contains_key(&id.0)
    }
}

fn map_incident(i: &Incident) -> MapIncident {
    let w = WorldXY::from_lonlat(i.point.wgs84);
    MapIncident {
        at: [w.x, w.y],
        lonlat: i.point.wgs84,
        reported_at: i.reported_at,
        category: i.category.clone(),
        status: i.status,
        severity: i.severity,
        tier: i.tier,
        deadline: i.deadline,
        chain: i.chain.clone(),
    }
}

/// Cut one tile of the open incidents `shown` (by the grids they were
/// reported in: a caller's view) as they stand at `now` (which decides
/// `overdue`). `None` when the tile holds none.
pub fn render_incidents(
    open: &OpenIncidents,
    tile: TileId,
    now: Timestamp,
    shown: impl Fn(&GridChain) -> bool,
) -> Option<Vec<u8>> {
    if tile.z < INCIDENTS_MIN_ZOOM {
        return None;
    }
    let s = tile.scale();
    let envelope = AABB::from_corners(
        [f64::from(tile.x) / s, f64::from(tile.y) / s],
        [f64::from(tile.x + 1) / s, f64::from(tile.y + 1) / s],
    );
    let extent = f64::from(EXTENT);
    // Points on the tile's east or south edge belong to the next tile.
    let inside = open
        .tree
        .locate_in_envelope_intersecting(&envelope)
        .filter(|entry| shown(&open.by_id[&entry.data].chain))
        .filter_map(|entry| {
            let [x, y] = *entry.geom();
            let (ux, uy) = tile.to_tile_units(WorldXY { x, y }, extent);
            ((0.0..extent).contains(&ux) && (0.0..extent).contains(&uy))
                .then_some((entry.data, ux, uy))
        });
    let mut layer = IncidentLayer::default();
    if tile.z >= MAX_ZOOM {
        for (id, x, y) in inside {
            layer.incident(id, &open.by_id[&id], x, y, now);
        }
    } else {
        let cells_across = EXTENT / CELL_UNITS;
        let mut cells: HashMap<u32, Vec<(i64, f64, f64)>> = HashMap::new();
        for (id, x, y) in inside {
            let cell = (y as u32 / CELL_UNITS) * cells_across + x as u32 / CELL_UNITS;
            cells.entry(cell).or_default().push((id, x, y));
        }
        // In cell order, so that the same incidents always give the same bytes.
        let mut cells: Vec<_> = cells.into_iter().collect();
        cells.sort_unstable_by_key(|(cell, _)| *cell);
        for (_, members) in cells {
            if let [(id, x, y)] = members[..] {
                layer.incident(id, &open.by_id[&id], x, y, now);
                continue;
            }
            let n = members.len() as f64;
            let x = members.iter().map(|m| m.1).sum::<f64>() / n;
            let y = members.iter().map(|m| m.2).sum::<f64>() / n;
            let overdue = members
                .iter()
                .filter(|m| open.by_id[&m.0].deadline < now)
                .count();
            layer.cluster(members.len(), overdue, x, y);
        }
    }
    layer.finish()
}

/// The layer under construction.
#[derive(Default)]
struct IncidentLayer {
    tags: TagsBuilder,
    features: Vec<geozero::mvt::tile::Feature>,
}

impl IncidentLayer {
    fn point(&mut self, x: f64, y: f64) -> geozero::mvt::tile::Feature {
        Geometry::Point(Point::new(x.floor(), y.floor()))
            .to_mvt_unscaled()
            .expect("a point always encodes")
    }

    fn incident(&mut self, id: i64, m: &MapIncident, x: f64, y: f64, now: Timestamp) {
        let mut feature = self.point(x, y);
        feature.id = u64::try_from(id).ok();
        let mut tag = |key: &str, value: TileValue| {
            let (k, v) = self.tags.insert_ref(key, value);
            feature.tags.extend([k, v]);
        };
        tag("id", TileValue::Uint(u64::try_from(id).unwrap_or_default()));
        tag("category", TileValue::Str(m.category.clone()));
        tag("status", TileValue::Str(m.status.name().to_owned()));
        tag("severity", TileValue::Str(m.severity.name().to_owned()));
        tag("tier", TileValue::Uint(u64::from(m.tier.number())));
        tag("overdue", TileValue::Bool(m.deadline < now));
        self.features.push(feature);
    }

    fn cluster(&mut self, count: usize, overdue: usize, x: f64, y: f64) {
        let mut feature = self.point(x, y);
        let mut tag = |key: &str, value: TileValue| {
            let (k, v) = self.tags.insert_ref(key, value);
            feature.tags.extend([k, v]);
        };
        tag("count", TileValue::Uint(count as u64));
        tag("overdue", TileValue::Uint(overdue as u64));
        self.features.push(feature);
    }

    fn finish(self) -> Option<Vec<u8>> {
        if self.features.is_empty() {
            return None;
        }
        let (keys, values) = self.tags.into_tags();
        let layer = Layer {
            version: 2,
            name: LAYER.to_owned(),
            features: self.features,
            keys,
            values: values.into_iter().map(Into::into).collect(),
            extent: Some(EXTENT),
        };
        Some(
            Tile {
                layers: vec![layer],
            }
            .encode_to_vec(),
        )
    }
}
