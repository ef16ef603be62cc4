//! What a collection is: a [`FeatureSource`] that names and describes
//! itself and hands out a [`Snapshot`] of its features, and the
//! [`CATALOG`] of every collection this server offers.
//!
//! To add a collection (as `hazards.rs` does): implement [`FeatureSource`] and
//! [`Snapshot`] in a file of its own, as `grid_levels.rs` does, and add one
//! entry to [`CATALOG`]. The landing page, `/collections`, paging, `bbox`
//! and links are shared and need no change; the OpenAPI text that lists the
//! collection ids and describes the grid properties wants a line more.

use async_trait::async_trait;

use super::filter::Queryable;
use super::grid_levels::GridLevel;
use super::hazards::Hazards;
use crate::api::ApiError;
use crate::geom::Bbox;
use crate::model::Level;
use crate::state::AppState;
use crate::text;

/// A feature's position inside one [`Snapshot`]: meaningful only to the
/// snapshot that returned it.
pub(super) type FeatureKey = u32;

/// What `datetime` selects in a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CollectionTime {
    /// The collection has versions: an instant picks the version in force
    /// then (the grids, by their revisions).
    Versions,
    /// Each feature has one time (a hazard's registration): an instant or
    /// an interval picks the features whose time falls in it.
    PerFeature,
}

/// One collection: what it is called and where its features come from.
#[async_trait]
pub(super) trait FeatureSource: Send + Sync {
    /// The collection id in URLs, e.g. `basic-grids`: lowercase ASCII and
    /// hyphens.
    fn id(&self) -> &'static str;

    /// A short human-readable title.
    fn title(&self) -> &'static str;

    /// A sentence or two on what the features are.
    fn description(&self) -> &'static str;

    /// The properties a `filter` may name (Part 3).
    fn queryables(&self) -> &'static [Queryable];

    /// What `datetime` means for this collection.
    fn time(&self) -> CollectionTime;

    /// The features as they are now, or, for a collection of
    /// [`CollectionTime::Versions`], as they were (or will be) at
    /// `datetime`. Every answer to one request comes from one snapshot, so
    /// counts, pages and links agree with each other.
    /// `contacts`: whether the reader may see leaders' mobile numbers
    /// (see `api::scope::sees_contacts`).
    async fn snapshot(
        &self,
        state: &AppState,
        datetime: Option<jiff::Timestamp>,
        contacts: bool,
    ) -> Result<Box<dyn Snapshot>, ApiError>;
}

/// The features of one collection at one moment. The methods do the CPU
/// work (filters, serialisation): call them off the async runtime.
pub(super) trait Snapshot: Send + Sync {
    /// The box around every feature in CRS84 (lon/lat degrees), or `None`
    /// when the collection is empty.
    fn extent(&self) -> Option<Bbox>;

    /// The features whose geometry intersects `bbox` (touching its edge
    /// counts), or every feature without one, in the collection's stable
    /// order: the same request always pages the same way.
    fn select(&self, bbox: Option<Bbox>) -> Vec<FeatureKey>;

    /// The feature with this id, if the collection has it.
    fn find(&self, id: &str) -> Option<FeatureKey>;

    /// The feature's id, as it appears in its URL.
    fn feature_id(&self, key: FeatureKey) -> &str;

    /// The feature's id as its features write it (a number or a string),
    /// and its flat properties, for filters.
    fn filter_view(&self, key: FeatureKey) -> (serde_json::Value, serde_json::Value);

    /// The feature's time, for a collection of [`CollectionTime::PerFeature`].
    fn instant(&self, _key: FeatureKey) -> Option<jiff::Timestamp> {
        None
    }

    /// Append one feature as a GeoJSON Feature (RFC 7946 §3.2) with flat
    /// properties to `out`, with `links` as its `links` member unless empty.
    fn write_feature(
        &self,
        key: FeatureKey,
        links: &[super::links::Link],
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()>;
}

/// Every collection, in the order `/ogc/collections` lists them.
pub(super) static CATALOG: &[&dyn FeatureSource] = &[
    &GridLevel {
        level: Level::ALL[0],
        id: "towns",
        title: "Towns",
        description: "Level 1 of the county's grids: its towns and townships (乡镇).",
    },
    &GridLevel {
        level: Level::ALL[1],
        id: "village-clusters",
        title: "Village clusters",
        description: "Level 2: village and community clusters (村/社区) inside each town.",
    },
    &GridLevel {
        level: Level::ALL[2],
        id: "group-clusters",
        title: "Village-group clusters",
        description: "Level 3: clusters of village groups (村民小组) inside each village cluster.",
    },
    &GridLevel {
        level: Level::ALL[3],
        id: "basic-grids",
        title: "Basic grids",
        description: "Level 4: the basic grids (基础网格), each with a grid leader \
            responsible for it.",
    },
    &GridLevel {
        level: Level::ALL[4],
        id: "sub-areas",
        title: "Sub-areas",
        description: "Level 5: sub-areas (片区) that split some basic grids into parts.",
    },
    &Hazards,
];

/// The collection with this id, or a 404 naming the ones there are.
pub(super) fn find(id: &str) -> Result<&'static dyn FeatureSource, ApiError> {
    CATALOG
        .iter()
        .copied()
        .find(|source| source.id() == id)
        .ok_or_else(|| {
            let known = CATALOG
                .iter()
                .map(|s| s.id())
                .collect::<Vec<&str>>()
                .join(", ");
            ApiError::NotFound(text!(
                "no collection has id {id:?}; the collections are {known}",
                "未找到编号为 {id:?} 的集合，现有集合：{known}"
            ))
        })
}
