//! The `hazards` collection: the hazard register as points, with flat
//! properties (GIS tools read nested objects badly), so QGIS or ogr2ogr can
//! map and export what patrols inspect. Ids are the hazards' numbers.

use async_trait::async_trait;
use jiff::Timestamp;
use serde::Serialize;

use super::filter::Queryable;
use super::links::Link;
use super::source::{CollectionTime, FeatureKey, FeatureSource, Snapshot};
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

    fn queryables(&self) -> &'static [Queryable] {
        &HAZARD_QUERYABLES
    }

    fn time(&self) -> CollectionTime {
        CollectionTime::PerFeature
    }

    async fn snapshot(
        &self,
        state: &AppState,
        _datetime: Option<jiff::Timestamp>,
        _contacts: bool,
    ) -> Result<Box<dyn Snapshot>, ApiError> {
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

/// What a filter may name in the hazards: the id and every property.
const HAZARD_QUERYABLES: [Queryable; 13] = [
    Queryable {
        name: "id",
        kind: "integer",
        title: "The hazard's number",
    },
    Queryable {
        name: "name",
        kind: "string",
        title: "Name",
    },
    Queryable {
        name: "category",
        kind: "string",
        title: "Category code",
    },
    Queryable {
        name: "category_name",
        kind: "string",
        title: "Category name",
    },
    Queryable {
        name: "risk",
        kind: "string",
        title: "Risk class: major, significant, general or low",
    },
    Queryable {
        name: "interval_days",
        kind: "integer",
        title: "Days between inspections",
    },
    Queryable {
        name: "status",
        kind: "string",
        title: "Status",
    },
    Queryable {
        name: "grid",
        kind: "string",
        title: "The deepest grid it lies in",
    },
    Queryable {
        name: "town",
        kind: "string",
        title: "Its town",
    },
    Queryable {
        name: "registered_at",
        kind: "string",
        title: "When it was registered (RFC 3339; what datetime selects by)",
    },
    Queryable {
        name: "last_inspected_at",
        kind: "string",
        title: "The last inspection (RFC 3339)",
    },
    Queryable {
        name: "due_at",
        kind: "string",
        title: "When the next inspection is due (RFC 3339)",
    },
    Queryable {
        name: "due",
        kind: "boolean",
        title: "Whether an inspection is due now",
    },
];

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

    fn filter_view(&self, key: FeatureKey) -> (serde_json::Value, serde_json::Value) {
        let h = &self.hazards[key as usize];
        (
            serde_json::Value::from(h.id.0),
            serde_json::to_value(self.properties(h)).unwrap_or_default(),
        )
    }

    fn instant(&self, key: FeatureKey) -> Option<Timestamp> {
        Some(self.hazards[key as usize].created_at)
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
            properties: self.properties(h),
            links: (!links.is_empty()).then_some(links),
        };
        serde_json::to_writer(out, &feature)
    }
}

impl HazardSnapshot {
    fn properties<'a>(&self, h: &'a Hazard) -> HazardProperties<'a> {
        HazardProperties {
            name: &h.name,
            category: &h.category,
            category_name: hazard_category_name(&h.category),
            risk: h.risk.name(),
            interval_days: h.interval_days,
            status: h.status.name(),
            grid: h.grid().map(GridId::as_str),
            town: h.chain[0].as_ref().map(GridId::as_str),
            registered_at: h.created_at.to_string(),
            last_inspected_at: h.last_inspected_at.map(|t| t.to_string()),
            due_at: h.due_at().to_string(),
            due: h.is_due(self.now),
        }
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
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OgcHazardProperties)]
pub(super) struct HazardProperties<'a> {
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
    registered_at: String,
    last_inspected_at: Option<String>,
    due_at: String,
    due: bool,
}
