//! The `hazards` collection: the hazard register as points, with flat
//! properties (GIS tools read nested objects badly), so QGIS or ogr2ogr can
//! map and export what patrols inspect. Ids are the hazards' numbers.

use async_trait::async_trait;
use jiff::Timestamp;
use serde::Serialize;

use super::links::Link;
use super::source::{FeatureKey, FeatureSource, Snapshot};
use crate::api::ApiError;
use crate::geom::Bbox;
use crate::model::{GridId, Hazard, hazard_category_name};
use crate::state::AppState;

/// The hazard register as a collection.
pub(super) struct Hazards;

#[async_trait]
impl FeatureSource for Hazards {
    fn id(&self) -> &'static str {
        "hazards"
    }

    fn title(&self) -> &'static str {
        "Hazards"
    }

    fn description(&self) -> &'static str {
        "The hazard register (安全隐患): where patrols inspect, with category, risk class, \
         inspection interval, status, the basic grid, and when the next inspection is due."
    }

    async fn snapshot(
        &self,
        state: &AppState,
        datetime: Option<jiff::Timestamp>,
        _contacts: bool,
    ) -> Result<Box<dyn Snapshot>, ApiError> {
        if datetime.is_some() {
            return Err(ApiError::bad_parameter(
                "datetime",
                "datetime: the hazards collection has no versions; leave it out",
            ));
        }
        let hazards = state
            .patrols()
            .hazards()
            .await
            .map_err(|e| ApiError::internal("reading hazards", e))?;
        let ids = hazards.iter().map(|h| h.id.0.to_string()).collect();
        Ok(Box::new(HazardSnapshot {
            hazards,
            ids,
            now: Timestamp::now(),
        }))
    }
}

struct HazardSnapshot {
    /// By id (the store's order).
    hazards: Vec<Hazard>,
    /// Their ids as text, for URLs.
    ids: Vec<String>,
    /// What "due" is measured at.
    now: Timestamp,
}

impl Snapshot for HazardSnapshot {
    fn extent(&self) -> Option<Bbox> {
        self.hazards
            .iter()
            .map(|h| Bbox {
                min_lon: h.location.lon,
                min_lat: h.location.lat,
                max_lon: h.location.lon,
                max_lat: h.location.lat,
            })
            .reduce(Bbox::union)
    }

    fn select(&self, bbox: Option<Bbox>) -> Vec<FeatureKey> {
        (0..self.hazards.len() as FeatureKey)
            .filter(|&k| bbox.is_none_or(|b| b.contains(self.hazards[k as usize].location)))
            .collect()
    }

    fn find(&self, id: &str) -> Option<FeatureKey> {
        self.ids
            .iter()
            .position(|i| i == id)
            .map(|k| k as FeatureKey)
    }

    fn feature_id(&self, key: FeatureKey) -> &str {
        &self.ids[key as usize]
    }

    fn write_feature(
        &self,
        key: FeatureKey,
        links: &[Link],
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        let h = &self.hazards[key as usize];
        let feature = HazardFeature {
            r#type: "Feature",
            id: h.id.0,
            geometry: PointGeometry {
                r#type: "Point",
                coordinates: [h.location.lon, h.location.lat],
            },
            properties: HazardProperties {
                name: &h.name,
                category: &h.category,
                category_name: hazard_category_name(&h.category),
                risk: h.risk.name(),
                interval_days: h.interval_days,
                status: h.status.name(),
                grid: h.grid().map(GridId::as_str),
                town: h.chain[0].as_ref().map(GridId::as_str),
                last_inspected_at: h.last_inspected_at.map(|t| t.to_string()),
                due_at: h.due_at().to_string(),
                due: h.is_due(self.now),
            },
            links: (!links.is_empty()).then_some(links),
        };
        serde_json::to_writer(out, &feature)
    }
}

#[derive(Serialize)]
struct HazardFeature<'a> {
    r#type: &'static str,
    id: i64,
    geometry: PointGeometry,
    properties: HazardProperties<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    links: Option<&'a [Link]>,
}

#[derive(Serialize)]
struct PointGeometry {
    r#type: &'static str,
    coordinates: [f64; 2],
}

/// The flat properties of a hazard feature.
#[derive(Serialize)]
struct HazardProperties<'a> {
    name: &'a str,
    category: &'a str,
    category_name: Option<&'static str>,
    risk: &'static str,
    interval_days: u32,
    status: &'static str,
    /// The deepest grid it lies in.
    grid: Option<&'a str>,
    /// Its town.
    town: Option<&'a str>,
    last_inspected_at: Option<String>,
    due_at: String,
    due: bool,
}
