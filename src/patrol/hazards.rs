//! The hazard register: hazards read from GeoJSON (one feature or a whole
//! collection, checked field by field), located in the grids, written all or
//! nothing; changes guarded by version; listing with filters.

use geo::Contains;
use geojson::{Feature, GeoJson, Geometry, GeometryValue, JsonObject};
use jiff::Timestamp;
use serde_json::json;

use crate::geom::{Bbox, LonLat};
use crate::index::GridIndex;
use crate::model::{ChangeKind, NewChange, Text, View};
use crate::model::{
    GridChain, GridId, HAZARD_CATEGORIES, Hazard, HazardDraft, HazardId, HazardStatus, RiskClass,
    hazard_category_name,
};
use crate::patrol::PatrolError;
use crate::services::feed::{Feed, LOCATE_ATTEMPTS, grids_moved};
use crate::store::{NewHazard, Store};
use crate::text;

/// A hazard area may cover at most this much (km²): a slope, a river
/// stretch, a school's surroundings; not a district.
pub const MAX_AREA_KM2: f64 = 5.0;
/// At most this many hazards in one import.
pub const MAX_IMPORT: usize = 50_000;
/// Longest accepted inspection interval, days.
const MAX_INTERVAL_DAYS: u64 = 366;

/// Read one hazard from a GeoJSON Feature; `at` prefixes field names in
/// errors (e.g. `features[3].`).
pub fn draft_from_feature(feature: &Feature, at: &str) -> Result<HazardDraft, PatrolError> {
    let field = |name: &str| format!("{at}{name}");
    let empty = JsonObject::new();
    let props = feature.properties.as_ref().unwrap_or(&empty);
    let text = |name: &str| -> Result<Option<String>, PatrolError> {
        match props.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(other) => Err(PatrolError::not_a_string(field, name, other)),
        }
    };
    let name = text("name")?.filter(|s| !s.is_empty()).ok_or_else(|| {
        let f = field("properties.name");
        PatrolError::invalid(
            f.clone(),
            text!(
                "{f} is required: what the hazard is called",
                "缺少 {f}：请填写隐患名称"
            ),
        )
    })?;
    super::bounded(&field("properties.name"), &name, super::MAX_NAME_CHARS)?;
    let categories = HAZARD_CATEGORIES
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ");
    let category = text("category")?.unwrap_or_default();
    if hazard_category_name(&category).is_none() {
        let f = field("properties.category");
        return Err(PatrolError::invalid(
            f.clone(),
            text!(
                "{f} must be one of {categories}, got {category:?}",
                "{f} 须为 {categories} 之一，收到的是 {category:?}"
            ),
        ));
    }
    let risk_text = text("risk")?.unwrap_or_default();
    let risk = RiskClass::parse(&risk_text).ok_or_else(|| {
        let f = field("properties.risk");
        PatrolError::invalid(
            f.clone(),
            text!(
                "{f} must be major, significant, general or low, got {risk_text:?}",
                "{f} 须为 major、significant、general 或 low，收到的是 {risk_text:?}"
            ),
        )
    })?;
    let interval_days = match props.get("interval_days") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            // A whole number, also when written `30.0` (JSON has one
            // number type).
            v.as_u64()
                .or_else(|| {
                    v.as_f64()
                        .filter(|f| f.fract() == 0.0 && (1.0..=366.0).contains(f))
                        .map(|f| f as u64)
                })
                .filter(|d| (1..=MAX_INTERVAL_DAYS).contains(d))
                .ok_or_else(|| {
                    let f = field("properties.interval_days");
                    PatrolError::invalid(
                        f.clone(),
                        text!(
                            "{f} must be a whole number of days from 1 to {MAX_INTERVAL_DAYS}, got {v}",
                            "{f} 须为 1 至 {MAX_INTERVAL_DAYS} 之间的整数天数，收到的是 {v}"
                        ),
                    )
                })? as u32,
        ),
    };
    let status = match text("status")? {
        None => HazardStatus::Open,
        Some(s) => HazardStatus::parse(&s).ok_or_else(|| {
            let f = field("properties.status");
            PatrolError::invalid(
                f.clone(),
                text!(
                    "{f} must be open, mitigated or closed, got {s:?}",
                    "{f} 须为 open、mitigated 或 closed，收到的是 {s:?}"
                ),
            )
        })?,
    };
    let last_inspected_at = match text("last_inspected_at")? {
        None => None,
        Some(s) => Some(s.parse::<Timestamp>().map_err(|e| {
            let f = field("properties.last_inspected_at");
            PatrolError::invalid(
                f.clone(),
                text!(
                    "{f} must be an RFC 3339 time such as 2026-05-01T08:00:00+08:00 ({e})",
                    "{f} 须为 RFC 3339 时间，例如 2026-05-01T08:00:00+08:00（{e}）"
                ),
            )
        })?),
    };
    let (location, area) = place(feature.geometry.as_ref(), &field("geometry"))?;
    Ok(HazardDraft {
        name,
        category,
        risk,
        interval_days,
        status,
        location,
        area,
        description: {
            let description = text("description")?.unwrap_or_default();
            super::bounded(
                &field("properties.description"),
                &description,
                super::MAX_TEXT_CHARS,
            )?;
            description
        },
        last_inspected_at,
    })
}

/// Where a hazard is: a Point, or a small Polygon (inspected at its pole
/// of inaccessibility, a point always inside it).
fn place(
    geometry: Option<&Geometry>,
    field: &str,
) -> Result<(LonLat, Option<Geometry>), PatrolError> {
    let bad = |why: Text| {
        PatrolError::invalid(
            field,
            Text::new(
                format!("{field} {}", why.en()),
                format!("{field} {}", why.zh()),
            ),
        )
    };
    let geometry = geometry.ok_or_else(|| {
        bad(text!(
            "is required: a Point or a small Polygon",
            "为必填项：应为 Point 或较小的 Polygon"
        ))
    })?;
    match &geometry.value {
        GeometryValue::Point { coordinates } => {
            let at = match coordinates.as_slice() {
                [lon, lat, ..] => LonLat::new(*lon, *lat),
                _ => {
                    return Err(bad(text!(
                        "needs a longitude and a latitude",
                        "须包含经度和纬度"
                    )));
                }
            };
            if !at.is_valid() {
                return Err(bad(text!(
                    "[{}, {}] is not a WGS84 longitude/latitude",
                    "[{}, {}] 不是有效的 WGS84 经纬度",
                    at.lon,
                    at.lat
                )));
            }
            Ok((at, None))
        }
        GeometryValue::Polygon { coordinates } => {
            // geo's conversion indexes [0] and [1] of every position.
            if let Some((r, p)) = coordinates
                .iter()
                .enumerate()
                .find_map(|(r, ring)| ring.iter().position(|p| p.len() < 2).map(|p| (r, p)))
            {
                return Err(bad(text!(
                    "ring {r} position {p} needs a longitude and a latitude",
                    "的环 {r} 中坐标点 {p} 须包含经度和纬度"
                )));
            }
            let polygon: geo::Polygon<f64> = geometry.value.clone().try_into().map_err(|e| {
                bad(text!(
                    "is not a readable polygon ({e})",
                    "无法读取为多边形（{e}）"
                ))
            })?;
            let valid = polygon
                .exterior()
                .coords()
                .all(|c| LonLat::new(c.x, c.y).is_valid());
            if !valid || polygon.exterior().0.len() < 4 {
                return Err(bad(text!(
                    "must be a closed ring of WGS84 longitude/latitude",
                    "须为由 WGS84 经纬度组成的闭合环"
                )));
            }
            let km2 = crate::import::area_m2(&geo::MultiPolygon(vec![polygon.clone()])) / 1e6;
            if km2 > MAX_AREA_KM2 {
                return Err(bad(text!(
                    "covers {km2:.1} km²: a hazard area may cover at most {MAX_AREA_KM2} km²",
                    "面积为 {km2:.1} km²：隐患区域最大为 {MAX_AREA_KM2} km²"
                )));
            }
            let inside = polylabel::polylabel(&polygon, &0.000_01).map_err(|e| {
                bad(text!(
                    "has no inside point ({e})",
                    "找不到位于其内部的点（{e}）"
                ))
            })?;
            if !polygon.contains(&inside) {
                return Err(bad(text!("has no inside point", "找不到位于其内部的点")));
            }
            Ok((LonLat::new(inside.x(), inside.y()), Some(geometry.clone())))
        }
        other => {
            let kind = other.type_name();
            Err(bad(text!(
                "must be a Point or a Polygon, got a {kind}",
                "须为 Point 或 Polygon，收到的是 {kind}"
            )))
        }
    }
}

/// Read hazards from a GeoJSON FeatureCollection (or a single Feature: then
/// the flag is true, and errors name fields without `features[i].`).
pub fn drafts_from_geojson(bytes: &[u8]) -> Result<(Vec<HazardDraft>, bool), PatrolError> {
    match super::read_geojson(bytes, "body")? {
        GeoJson::Feature(f) => Ok((vec![draft_from_feature(&f, "")?], true)),
        GeoJson::FeatureCollection(fc) => {
            if fc.features.len() > MAX_IMPORT {
                let n = fc.features.len();
                return Err(PatrolError::invalid(
                    "features",
                    text!(
                        "{n} hazards in one import; send at most {MAX_IMPORT}",
                        "一次导入 {n} 个隐患，每次最多 {MAX_IMPORT} 个"
                    ),
                ));
            }
            let drafts = fc
                .features
                .iter()
                .enumerate()
                .map(|(i, f)| draft_from_feature(f, &format!("features[{i}].")))
                .collect::<Result<_, _>>()?;
            Ok((drafts, false))
        }
        GeoJson::Geometry(_) => Err(PatrolError::invalid(
            "body",
            text!(
                "send a Feature or a FeatureCollection of hazards, not a bare geometry",
                "请提交隐患的 Feature 或 FeatureCollection，不能只提交几何图形"
            ),
        )),
    }
}

/// The grids at a point, town to sub-area, or a refusal naming `field`
/// when it lies outside every grid.
pub fn chain_at(index: &GridIndex, at: LonLat, field: &str) -> Result<GridChain, PatrolError> {
    let chain = index.grid_chain(at);
    if chain.iter().all(Option::is_none) {
        return Err(PatrolError::invalid(
            field,
            text!(
                "{field} [{}, {}] lies outside every grid of the county",
                "{field} [{}, {}] 不在本县任何网格内",
                at.lon,
                at.lat
            ),
        ));
    }
    Ok(chain)
}

/// Who changes the register: the login the change is recorded under, and
/// the part of the county they may change (a grid leader their subtree).
/// A hazard outside it is refused as if it did not exist; a location
/// outside it is refused by name.
#[derive(Debug, Clone, Copy)]
pub struct Editor<'a> {
    /// The login.
    pub actor: &'a str,
    /// Where they may register, change and delete hazards.
    pub view: &'a View,
}

impl Editor<'_> {
    /// Refuse a location (of `field`) outside the editor's view.
    fn may_place(&self, chain: &GridChain, field: &str) -> Result<(), PatrolError> {
        if self.view.sees_chain(chain) {
            Ok(())
        } else {
            Err(PatrolError::invalid(
                field,
                Text::new(
                    format!(
                        "{field} lies outside {}, where you may register hazards",
                        self.view.describe()
                    ),
                    format!(
                        "{field} 在{v}之外，您只能在{v}内登记隐患",
                        v = super::view_zh(self.view)
                    ),
                ),
            ))
        }
    }
}

/// Register hazards: locate each, then write them all in one transaction.
/// `one_feature` says the drafts came as a single Feature (errors then name
/// `geometry`, not `features[i].geometry`).
pub async fn register(
    feed: &Feed,
    editor: Editor<'_>,
    drafts: Vec<HazardDraft>,
    now: Timestamp,
    one_feature: bool,
) -> Result<Vec<Hazard>, PatrolError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let index = feed.index();
        let mut news = Vec::with_capacity(drafts.len());
        for (i, draft) in drafts.iter().enumerate() {
            let field = if one_feature {
                "geometry".to_owned()
            } else {
                format!("features[{i}].geometry")
            };
            let chain = chain_at(&index, draft.location, &field)?;
            editor.may_place(&chain, &field)?;
            news.push(NewHazard {
                draft: draft.clone(),
                chain,
                at: now,
            });
        }
        // Located in the grids as this server holds them: should a grid
        // change have committed since, locate again in the new grids.
        let mut unit = match feed.begin_located(&index).await {
            Err(e) if grids_moved(&e) && attempt < LOCATE_ATTEMPTS => {
                feed.catch_up().await?;
                continue;
            }
            other => other?,
        };
        let created = unit.unit().create_hazards(&news).await?;
        let summary = format!("{} hazard(s) registered", created.len());
        commit_hazard_change(unit, editor, created.iter().map(|h| h.id.0), now, summary).await?;
        return Ok(created);
    }
}

/// A change to a hazard: every field that is set replaces the stored one.
#[derive(Debug, Clone, Default)]
pub struct HazardChange {
    /// New name.
    pub name: Option<String>,
    /// New category code.
    pub category: Option<String>,
    /// New risk class (the interval follows it unless one is given).
    pub risk: Option<RiskClass>,
    /// New interval, days.
    pub interval_days: Option<u32>,
    /// New status.
    pub status: Option<HazardStatus>,
    /// New location (located again).
    pub location: Option<LonLat>,
    /// New description.
    pub description: Option<String>,
}

/// Apply a change to the hazard at `version`.
pub async fn change(
    feed: &Feed,
    editor: Editor<'_>,
    id: HazardId,
    version: i64,
    change: HazardChange,
    now: Timestamp,
) -> Result<Hazard, PatrolError> {
    let mut hazard = read_in_view(feed, editor, id).await?;
    if hazard.version != version {
        return Err(PatrolError::Conflict(text!(
            "hazard {id} is at version {}, not {version}: read it again",
            "隐患 {id} 当前为版本 {}，不是版本 {version}，请重新读取",
            hazard.version
        )));
    }
    if let Some(name) = change.name {
        super::bounded("name", &name, super::MAX_NAME_CHARS)?;
        if name.trim().is_empty() {
            return Err(PatrolError::invalid(
                "name",
                text!("name must not be empty", "name 不能为空"),
            ));
        }
        hazard.name = name.trim().to_owned();
    }
    if let Some(category) = change.category {
        if hazard_category_name(&category).is_none() {
            return Err(PatrolError::invalid(
                "category",
                text!(
                    "category {category:?} is not a hazard category",
                    "category {category:?} 不是有效的隐患类别"
                ),
            ));
        }
        hazard.category = category;
    }
    if let Some(risk) = change.risk {
        hazard.risk = risk;
        hazard.interval_days = risk.interval_days();
    }
    if let Some(days) = change.interval_days {
        if !(1..=MAX_INTERVAL_DAYS).contains(&u64::from(days)) {
            return Err(PatrolError::invalid(
                "interval_days",
                text!(
                    "interval_days must be from 1 to {MAX_INTERVAL_DAYS}, got {days}",
                    "interval_days 须在 1 至 {MAX_INTERVAL_DAYS} 之间，收到的是 {days}"
                ),
            ));
        }
        hazard.interval_days = days;
    }
    if let Some(status) = change.status {
        hazard.status = status;
    }
    if let Some(at) = change.location {
        if !at.is_valid() {
            return Err(PatrolError::invalid(
                "location",
                text!(
                    "location is not a WGS84 point",
                    "location 不是有效的 WGS84 坐标点"
                ),
            ));
        }
        hazard.location = at;
        hazard.area = None;
    }
    if let Some(description) = change.description {
        super::bounded("description", &description, super::MAX_TEXT_CHARS)?;
        hazard.description = description;
    }
    hazard.updated_at = now;
    // A new location is located in the grids as this server holds them,
    // and again should a grid change have committed since. (A grid change
    // that relocated this hazard meanwhile moved its version on: the write
    // below is then refused as stale.)
    let mut attempt = 0;
    let mut unit = loop {
        attempt += 1;
        if change.location.is_none() {
            break feed.begin().await?;
        }
        let index = feed.index();
        hazard.chain = chain_at(&index, hazard.location, "location")?;
        editor.may_place(&hazard.chain, "location")?;
        match feed.begin_located(&index).await {
            Err(e) if grids_moved(&e) && attempt < LOCATE_ATTEMPTS => {
                feed.catch_up().await?;
            }
            other => break other?,
        }
    };
    let saved = unit
        .unit()
        .update_hazard(&hazard)
        .await?
        .ok_or_else(|| no_hazard(id))?;
    commit_hazard_change(unit, editor, [id.0], now, format!("hazard {id} edited")).await?;
    Ok(saved)
}

/// Delete a hazard (its inspections stay on record); `NotFound` when
/// there is none in the editor's view.
pub async fn delete(
    feed: &Feed,
    editor: Editor<'_>,
    id: HazardId,
    version: i64,
    now: Timestamp,
) -> Result<(), PatrolError> {
    read_in_view(feed, editor, id).await?;
    let mut unit = feed.begin().await?;
    if !unit.unit().delete_hazard(id, version).await? {
        return Err(stale_or_gone(feed, id, version).await);
    }
    commit_hazard_change(unit, editor, [id.0], now, format!("hazard {id} deleted")).await?;
    Ok(())
}

/// The hazard, if it exists and lies in the editor's view; the same
/// `NotFound` otherwise, so that nobody learns of hazards outside it.
async fn read_in_view(
    feed: &Feed,
    editor: Editor<'_>,
    id: HazardId,
) -> Result<Hazard, PatrolError> {
    match feed.store().hazard(id).await? {
        Some(hazard) if editor.view.sees_chain(&hazard.chain) => Ok(hazard),
        _ => Err(no_hazard(id)),
    }
}

/// Why a write at `version` touched nothing: changed since, or gone.
async fn stale_or_gone(feed: &Feed, id: HazardId, version: i64) -> PatrolError {
    match feed.store().hazard(id).await {
        Ok(Some(hazard)) => PatrolError::Conflict(text!(
            "hazard {id} is at version {}, not {version}: read it again",
            "隐患 {id} 当前为版本 {}，不是版本 {version}，请重新读取",
            hazard.version
        )),
        Ok(None) => no_hazard(id),
        Err(e) => e.into(),
    }
}

fn no_hazard(id: HazardId) -> PatrolError {
    PatrolError::NotFound(text!("there is no hazard {id}", "未找到编号为 {id} 的隐患"))
}

/// Append the register's feed row for `ids` and commit the unit.
async fn commit_hazard_change(
    mut unit: crate::services::feed::Changing<'_>,
    editor: Editor<'_>,
    ids: impl IntoIterator<Item = i64>,
    now: Timestamp,
    summary: String,
) -> Result<(), PatrolError> {
    unit.record(
        NewChange::new(ChangeKind::Hazard, ids, editor.actor, now, summary),
        None,
    );
    unit.commit().await?;
    Ok(())
}

/// Which hazards to list; every field that is set must match.
#[derive(Debug, Clone, Default)]
pub struct HazardFilter {
    /// In this grid (any level) or below it.
    pub grid: Option<GridId>,
    /// Any of these statuses (empty: any).
    pub statuses: Vec<HazardStatus>,
    /// Any of these classes (empty: any).
    pub risks: Vec<RiskClass>,
    /// This category.
    pub category: Option<String>,
    /// Located in this box.
    pub bbox: Option<Bbox>,
    /// Due for inspection at this time.
    pub due_at: Option<Timestamp>,
}

impl HazardFilter {
    /// True when `h` passes every set condition.
    pub fn matches(&self, h: &Hazard) -> bool {
        self.grid.as_ref().is_none_or(|g| h.lies_in(g))
            && (self.statuses.is_empty() || self.statuses.contains(&h.status))
            && (self.risks.is_empty() || self.risks.contains(&h.risk))
            && self.category.as_ref().is_none_or(|c| *c == h.category)
            && self.bbox.is_none_or(|b| b.contains(h.location))
            && self.due_at.is_none_or(|t| h.is_due(t))
    }
}

/// The hazards matching `filter`, by id.
pub async fn list(store: &dyn Store, filter: &HazardFilter) -> Result<Vec<Hazard>, PatrolError> {
    let mut all = store.hazards().await?;
    all.retain(|h| filter.matches(h));
    Ok(all)
}

/// A hazard as a GeoJSON Feature: the inspection point (its area, when it
/// has one, is the `area` property), id = the hazard's number.
pub fn to_feature(h: &Hazard, at: Timestamp) -> Feature {
    let chain: Vec<Option<&str>> = h
        .chain
        .iter()
        .map(|g| g.as_ref().map(GridId::as_str))
        .collect();
    let properties = json!({
        "name": h.name,
        "category": h.category,
        "category_name": hazard_category_name(&h.category),
        "risk": h.risk.name(),
        "interval_days": h.interval_days,
        "status": h.status.name(),
        "description": h.description,
        "grids": chain,
        "grid": h.grid().map(GridId::as_str),
        "last_inspected_at": h.last_inspected_at.map(|t| t.to_string()),
        "due_at": h.due_at().to_string(),
        "due": h.is_due(at),
        "area": h.area,
        "created_at": h.created_at.to_string(),
        "updated_at": h.updated_at.to_string(),
        "version": h.version,
    });
    Feature {
        bbox: None,
        geometry: Some(Geometry::new(GeometryValue::new_point([
            h.location.lon,
            h.location.lat,
        ]))),
        id: Some(geojson::feature::Id::Number(h.id.0.into())),
        properties: properties.as_object().cloned(),
        foreign_members: None,
    }
}
