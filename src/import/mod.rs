//! Reading and checking grids before they reach a store, in two pure
//! functions (no SQL, no HTTP):
//!
//! 1. [`parse_feature_collection`] (`parse`): GeoJSON bytes → grids, exact
//!    coordinates, every unreadable feature named;
//! 2. [`validate`] (`checks`): the rules a set of grids must obey, against the
//!    stored set for an upsert: unique ids, valid polygons (`validity`),
//!    known parents one level up, children inside their parent, siblings not
//!    overlapping.
//!
//! Boundary edits ([`edit`]) draw up the grids an edit changes (a shared
//! vertex moved in every grid that has it) and measure the gaps an edit
//! would open; the grid service then gates them with the same checks.
//!
//! An import is all or nothing: a refused one names every offending feature
//! (its id, or `#N` by position) with the reason, as data ([`Problem`]), and
//! the caller writes nothing.

mod checks;
pub mod edit;
mod layer;
mod parse;
mod validity;
mod zipped_shapefile;

use std::fmt;

use serde::{Serialize, Serializer};

use crate::geom::UnsupportedCrs;
use crate::model::{Localized, Text};

pub(crate) use checks::area_m2;
pub use checks::{
    CONTAINMENT_TOLERANCE_M2, OVERLAP_TOLERANCE_M2, validate, validate_upsert_removing,
};
pub use layer::grids_from_layer;
pub use parse::parse_feature_collection;
pub use zipped_shapefile::{read_zipped_shapefile, write_zipped_shapefile};

/// One reason an import was refused, naming the feature it concerns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportIssue {
    /// The feature's `id`, or `#N` (0-based position) when it has none yet.
    pub feature: String,
    /// The property or part at fault (`geometry`, `parent_id`, …), if one is.
    pub field: Option<String>,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a feature (or with the document as a whole, where
/// `feature` is `#document`).
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The body is not JSON, or not a GeoJSON FeatureCollection.
    #[error("not a GeoJSON FeatureCollection: {detail}")]
    NotGeoJson {
        /// Parser message.
        detail: Phrase,
    },
    /// A required property is missing or has the wrong type.
    #[error("property {property:?} {expected}")]
    BadProperty {
        /// Property name.
        property: String,
        /// What was expected, e.g. "must be a non-empty string".
        expected: Phrase,
    },
    /// The geometry is missing or not a Polygon/MultiPolygon.
    #[error("geometry must be a Polygon or MultiPolygon, found {found}")]
    WrongGeometryType {
        /// What was found.
        found: Phrase,
    },
    /// A ring is not closed (first and last positions differ).
    #[error("ring {ring} of polygon {polygon} is not closed")]
    UnclosedRing {
        /// 0-based polygon index within the MultiPolygon.
        polygon: usize,
        /// 0-based ring index (0 = exterior).
        ring: usize,
    },
    /// A ring has fewer than four positions.
    #[error("ring {ring} of polygon {polygon} has {positions} positions; at least 4 are needed")]
    RingTooShort {
        /// 0-based polygon index.
        polygon: usize,
        /// 0-based ring index.
        ring: usize,
        /// How many positions it has.
        positions: usize,
    },
    /// A position is not a finite longitude -180..180 and latitude -90..90
    /// (JSON cannot carry NaN or infinity: such values arrive as `null`, or
    /// as a number too large for a double, like `1e400`).
    #[error(
        "position {index} of ring {ring} of polygon {polygon}, {position}, is not a valid [longitude, latitude]"
    )]
    BadCoordinate {
        /// 0-based polygon index within the MultiPolygon.
        polygon: usize,
        /// 0-based ring index (0 = exterior).
        ring: usize,
        /// 0-based position within the ring.
        index: usize,
        /// The position as it was written, e.g. `[200, 39.9]` or `[1e400, 39.9]`.
        position: String,
    },
    /// The boundary is not a valid polygon by the OGC rules
    /// (self-intersection, hole outside its shell, overlapping parts, …),
    /// or its `coordinates` are not nested the way its type needs.
    #[error("invalid polygon: {detail}")]
    InvalidPolygon {
        /// The first problem found and where, e.g. "ring 0 of polygon 0
        /// crosses or touches itself near [106.1, 34.7]".
        detail: Phrase,
    },
    /// Two features share an id.
    #[error("duplicate id {id:?}")]
    DuplicateId {
        /// The repeated id.
        id: String,
    },
    /// `parent_id` names no grid in the import or the store.
    #[error("parent {parent:?} does not exist")]
    UnknownParent {
        /// The missing parent id.
        parent: String,
    },
    /// Level 1 with a parent, or a level other than the parent's plus one.
    #[error("level {level} cannot sit under {parent_desc}")]
    WrongLevel {
        /// The feature's level.
        level: u8,
        /// The parent and its level, or "no parent".
        parent_desc: Phrase,
    },
    /// Part of the grid lies outside its parent, beyond the tolerance.
    #[error("{outside_m2:.1} m² lies outside parent {parent:?} (tolerance {tolerance_m2} m²)")]
    OutsideParent {
        /// Parent id.
        parent: String,
        /// Area outside, square metres.
        outside_m2: f64,
        /// The tolerance, square metres.
        tolerance_m2: f64,
    },
    /// The grid overlaps a sibling, beyond the tolerance.
    #[error("overlaps sibling {sibling:?} by {overlap_m2:.1} m² (tolerance {tolerance_m2} m²)")]
    OverlapsSibling {
        /// The sibling's id.
        sibling: String,
        /// Overlap area, square metres.
        overlap_m2: f64,
        /// The tolerance, square metres.
        tolerance_m2: f64,
    },
    /// Replacing the set would leave a stored grid without its parent.
    #[error("its parent {parent:?} is not in the new set")]
    OrphanedChild {
        /// The missing parent id.
        parent: String,
    },
}

impl Localized for Problem {
    fn zh(&self) -> String {
        match self {
            Problem::NotGeoJson { detail } => {
                format!("不是 GeoJSON 要素集合：{}", detail.zh())
            }
            Problem::BadProperty { property, expected } => {
                format!("属性 {property:?} {}", expected.zh())
            }
            Problem::WrongGeometryType { found } => format!(
                "几何类型必须是 \"Polygon\" 或 \"MultiPolygon\"，实际为 {}",
                found.zh()
            ),
            Problem::UnclosedRing { polygon, ring } => {
                format!("多边形 {polygon} 的环 {ring} 未闭合")
            }
            Problem::RingTooShort {
                polygon,
                ring,
                positions,
            } => format!("多边形 {polygon} 的环 {ring} 只有 {positions} 个坐标点，至少需要 4 个"),
            Problem::BadCoordinate {
                polygon,
                ring,
                index,
                position,
            } => format!(
                "多边形 {polygon} 的环 {ring} 中的坐标点 {index}（{position}）不是有效的 [经度, 纬度]"
            ),
            Problem::InvalidPolygon { detail } => format!("多边形无效：{}", detail.zh()),
            Problem::DuplicateId { id } => format!("编号 {id:?} 重复"),
            Problem::UnknownParent { parent } => format!("上级网格 {parent:?} 不存在"),
            Problem::WrongLevel { level, parent_desc } => {
                format!("{level} 级网格的上级不能是：{}", parent_desc.zh())
            }
            Problem::OutsideParent {
                parent,
                outside_m2,
                tolerance_m2,
            } => format!("有 {outside_m2:.1} m² 超出上级网格 {parent:?}（容差 {tolerance_m2} m²）"),
            Problem::OverlapsSibling {
                sibling,
                overlap_m2,
                tolerance_m2,
            } => {
                format!("与同级网格 {sibling:?} 重叠 {overlap_m2:.1} m²（容差 {tolerance_m2} m²）")
            }
            Problem::OrphanedChild { parent } => {
                format!("其上级网格 {parent:?} 不在新导入的网格中")
            }
        }
    }
}

/// A free-form part of a [`Problem`] (what was found, what was expected,
/// the reader's words about a file) in English and Chinese. It is
/// serialized, displayed and compared with a `str` as its English, so the
/// machine-readable `problem` of an issue reads the same in every language.
#[derive(Debug, Clone, PartialEq)]
pub struct Phrase(Text);

impl From<Text> for Phrase {
    fn from(text: Text) -> Self {
        Phrase(text)
    }
}

impl std::ops::Deref for Phrase {
    type Target = Text;

    fn deref(&self) -> &Text {
        &self.0
    }
}

impl fmt::Display for Phrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.en())
    }
}

impl PartialEq<str> for Phrase {
    fn eq(&self, other: &str) -> bool {
        self.0.en() == other
    }
}

impl PartialEq<&str> for Phrase {
    fn eq(&self, other: &&str) -> bool {
        self.0.en() == *other
    }
}

impl Serialize for Phrase {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.en())
    }
}

impl fmt::Display for ImportIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "feature {}", self.feature)?;
        if let Some(field) = &self.field {
            write!(f, " ({field})")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl Localized for ImportIssue {
    fn zh(&self) -> String {
        let mut s = format!("要素 {}", self.feature);
        if let Some(field) = &self.field {
            s.push_str(&format!("（{field}）"));
        }
        s.push_str(&format!("：{}", self.problem.zh()));
        s
    }
}

/// All the issues that refused one import (at most [`MAX_ISSUES`]).
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("import refused: {}", summary(.issues))]
pub struct ImportErrors {
    /// Every issue found, in feature order.
    pub issues: Vec<ImportIssue>,
}

impl ImportErrors {
    /// One issue that refuses a file as a whole, or a part of it that is
    /// not a feature's property (`feature` `#document`, or `layer:#layer`
    /// with `field` `.prj`): it could not be read at all.
    pub fn unreadable(feature: &str, field: Option<&str>, detail: Text) -> ImportErrors {
        ImportErrors {
            issues: vec![ImportIssue {
                feature: feature.to_owned(),
                field: field.map(str::to_owned),
                problem: Problem::NotGeoJson {
                    detail: detail.into(),
                },
            }],
        }
    }

    /// [`ImportErrors::unreadable`] for the document as a whole.
    pub fn document(detail: Text) -> ImportErrors {
        ImportErrors::unreadable("#document", None, detail)
    }
}

impl Localized for ImportErrors {
    fn zh(&self) -> String {
        let summary = match self.issues.as_slice() {
            [] => "没有问题".to_owned(),
            [one] => one.zh(),
            [first, rest @ ..] => format!("{}（另有 {} 个问题）", first.zh(), rest.len()),
        };
        format!("导入被拒绝：{summary}")
    }
}

/// The sentence of a coordinate system wangge cannot read or write
/// ([`UnsupportedCrs`], from a `crs` parameter or a `.prj`), in both
/// languages (`geom` errors have their English only).
pub(crate) fn unsupported_crs(e: &UnsupportedCrs) -> Text {
    let what = &e.0;
    let what_zh = if let Some(code) = what.strip_suffix(" is not an EPSG code") {
        format!("{code} 不是 EPSG 代码")
    } else if let Some(name) = what.strip_prefix("the .prj describes ") {
        format!("不支持 .prj 中的坐标系 {name}")
    } else {
        format!("不支持 {what}")
    };
    Text::new(
        e.to_string(),
        format!(
            "{what_zh}：本系统只能读写 EPSG:4326、EPSG:4490 和 2000 国家大地坐标系 3 度带高斯–克吕格投影（EPSG:4513–4554）"
        ),
    )
}

/// How many vertices one grid's boundary may have. A town boundary drawn
/// at 1:2,000 has tens of thousands; past a million, the checks and every
/// tile cut from it would be slow for every user, so the feature is
/// refused by name instead.
pub const MAX_GRID_VERTICES: usize = 1_000_000;

/// How many issues one refused import reports before it stops looking.
pub const MAX_ISSUES: usize = 100;

fn summary(issues: &[ImportIssue]) -> String {
    match issues {
        [] => "no issues".into(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}
