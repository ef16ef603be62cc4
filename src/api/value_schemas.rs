//! JSON Schemas of the values the handlers read as text or arrays and check
//! themselves (times, `[lon, lat]` pairs, boxes, names of roles and
//! statuses), so that the OpenAPI document states what the code enforces
//! and a client generating requests from it (Schemathesis, a code
//! generator) sends what is accepted.
//!
//! Each type here exists only to be named in `value_type = …` on a
//! parameter or a body field, which utoipa writes as a `$ref` to
//! `#/components/schemas/<Type>`; nothing is deserialised into it. The
//! definitions themselves are JSON ([`definitions`]), put into the document
//! by `openapi::openapi_document`: utoipa's schema types cannot hold an
//! `anyOf` of formats or `prefixItems`, and JSON is how the document reads.
//!
//! A query parameter left blank is absent (`extract::Query`), so the
//! schemas of query values also accept `""` (as do the optional body
//! times, `OptionalMoment` and `TimeOrNow`, which read `""` as absent too);
//! `Moment`, for a required time, does not.

use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema};

use crate::model::account::{Capability, Role};
use crate::model::{
    Action, HAZARD_CATEGORIES, HazardStatus, ReportSource, RiskClass, Severity, Status, Tier,
};

/// An array of numbers starting with a longitude and a latitude in WGS84
/// degrees (at least those two).
fn lon_lat_first() -> Value {
    json!({
        "type": "array",
        "items": {"type": "number"},
        "prefixItems": [
            {"type": "number", "minimum": -180, "maximum": 180},
            {"type": "number", "minimum": -90, "maximum": 90}
        ],
        "minItems": 2
    })
}

/// A number pattern within ±`whole` degrees: `180`, `-12.5`, `179.99`.
fn degrees_pattern(whole: u32) -> String {
    let below = match whole {
        180 => r"(1[0-7][0-9]|[0-9]{1,2})",
        _ => r"([0-8]?[0-9])",
    };
    format!(r"-?({whole}(\.0+)?|{below}(\.[0-9]+)?)")
}

/// `schema`, or a blank (a query value left empty, read as absent).
fn or_blank(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "string", "maxLength": 0}]})
}

/// A comma-separated list of `words` (any of them, at least one; spaces
/// around each are trimmed).
fn word_list_pattern<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let one = words.into_iter().collect::<Vec<_>>().join("|");
    format!(r"^\s*({one})\s*(,\s*({one})\s*)*$")
}

/// An RFC 3339 time.
fn time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

/// An RFC 3339 time or a date.
fn moment() -> Value {
    json!({"anyOf": [time(), {"type": "string", "format": "date"}]})
}

/// A one-line text: no control characters (`patrol::bounded` refuses
/// them), at least one character that is not a space (names are trimmed).
fn one_line(max: usize) -> Value {
    json!({
        "type": "string",
        "maxLength": max,
        "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    })
}

/// A GeoJSON Feature with `geometry` and `properties` schemas (required
/// when `properties` may not be null).
fn feature(geometry: Value, properties: Value) -> Value {
    let required = if properties["type"] == "object" {
        json!(["type", "geometry", "properties"])
    } else {
        json!(["type", "geometry"])
    };
    json!({
        "type": "object",
        "required": required,
        "properties": {
            "type": {"enum": ["Feature"]},
            "id": {"type": ["string", "number", "null"]},
            "geometry": geometry,
            "properties": properties
        }
    })
}

/// A GeoJSON FeatureCollection of `feature`s, at most `max`.
fn feature_collection(feature: Value, max: usize) -> Value {
    json!({
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": feature, "maxItems": max}
        }
    })
}

/// A line's positions: two or more (that two of them differ is checked by
/// the server; a loop repeats its first position, so no array rule says it).
fn line_positions() -> Value {
    json!({
        "type": "array",
        "items": {"$ref": "#/components/schemas/GeoJsonPosition"},
        "minItems": 2
    })
}

/// A multi-line text: no control characters but line breaks and tabs
/// (`patrol::bounded` for texts longer than a name).
fn text(max: usize) -> Value {
    json!({
        "type": "string",
        "maxLength": max,
        "pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
    })
}

/// A road's class (`RoadClass::parse`): wangge's, or OpenStreetMap's
/// `highway` values that map to one.
fn road_class() -> Value {
    json!({"enum": ["main", "village", "path", "motorway", "trunk", "primary", "secondary",
        "tertiary", "residential", "unclassified", "service", "living_street", "track", "road",
        "footway", "pedestrian", "steps", "bridleway", "cycleway"]})
}

/// One hazard as a GeoJSON Feature (`patrol::hazards::draft_from_feature`).
fn hazard_feature() -> Value {
    let categories: Vec<&str> = HAZARD_CATEGORIES.iter().map(|(code, _)| *code).collect();
    let statuses = [
        HazardStatus::Open,
        HazardStatus::Mitigated,
        HazardStatus::Closed,
    ]
    .map(HazardStatus::name);
    feature(
        json!({"oneOf": [
            {"type": "object", "required": ["type", "coordinates"], "properties": {
                "type": {"enum": ["Point"]},
                "coordinates": {"$ref": "#/components/schemas/GeoJsonPosition"}}},
            {"type": "object", "required": ["type", "coordinates"], "properties": {
                "type": {"enum": ["Polygon"]},
                // Three positions make a ring: it is closed when read.
                "coordinates": {"type": "array", "minItems": 1, "items": {
                    "type": "array", "minItems": 3,
                    "items": {"$ref": "#/components/schemas/GeoJsonPosition"}}}}}
        ]}),
        json!({
            "type": "object",
            "required": ["name", "category", "risk"],
            "properties": {
                "name": one_line(crate::patrol::MAX_NAME_CHARS),
                "category": {"enum": categories},
                "risk": {"enum": RiskClass::ALL.map(RiskClass::name)},
                "interval_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 366},
                "status": {"anyOf": [{"enum": statuses}, {"type": "null"}]},
                "description": {"anyOf": [text(crate::patrol::MAX_TEXT_CHARS), {"type": "null"}]},
                "last_inspected_at": {"oneOf": [time(), {"type": "null"}]}
            }
        }),
    )
}

macro_rules! value_schemas {
    ($($(#[$doc:meta])* $name:ident => $body:expr;)+) => {
        $(
            $(#[$doc])*
            pub(crate) struct $name;

            /// A placeholder: the document's definition is [`definitions`]'s.
            impl utoipa::PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    ObjectBuilder::new().into()
                }
            }

            impl utoipa::ToSchema for $name {}
        )+

        /// The definition of each value schema, by its component name.
        pub(crate) fn definitions() -> Vec<(&'static str, Value)> {
            vec![$((stringify!($name), $body)),+]
        }
    };
}

value_schemas! {
    /// `[lon, lat]`: WGS84 degrees, exactly two numbers.
    Position => {
        let mut pair = lon_lat_first();
        pair["maxItems"] = json!(2);
        pair
    };
    /// An RFC 3339 time, or a date `YYYY-MM-DD` (its first moment in China
    /// Standard Time): `params::parse_moment`. Required body fields.
    Moment => moment();
    /// [`Moment`] or blank (absent): `params::moment`.
    OptionalMoment => or_blank(moment());
    /// An RFC 3339 time, or blank (absent): `params::parse_time`.
    Time => or_blank(time());
    /// An RFC 3339 time, `now`, or blank (absent, which is now):
    /// `params::time_or_now`.
    TimeOrNow => json!({"anyOf": [time(), {"enum": ["now", ""]}]});
    /// `minLon,minLat,maxLon,maxLat` in WGS84 degrees, or blank. That each
    /// minimum comes before its maximum is checked by the server; a schema
    /// cannot say it.
    WgsBbox => or_blank(json!({
        "type": "string",
        "pattern": format!(
            "^{lon},{lat},{lon},{lat}$",
            lon = degrees_pattern(180),
            lat = degrees_pattern(90)
        )
    }));
    /// A page size that is capped rather than refused when large: any
    /// whole number from 1, of any size (OGC API - Features' `limit`).
    PageLimit => json!({"type": "integer", "minimum": 1});
    /// A GeoJSON feature's id as served: a string (grids) or a number
    /// (hazards).
    FeatureId => json!({"type": ["string", "integer"]});
    /// A GeoJSON position: longitude and latitude in WGS84 degrees, and
    /// an altitude or more that are ignored (RFC 7946 §3.1.1). Named only
    /// by the GeoJSON bodies' own JSON, never as a Rust type.
    #[allow(dead_code)]
    GeoJsonPosition => lon_lat_first();
    /// A role's name.
    RoleName => json!({"enum": Role::ALL.map(Role::as_str)});
    /// A capability's name.
    CapabilityName => json!({"enum": Capability::ALL.map(Capability::as_str)});
    /// Incident statuses, comma-separated, or `open` (every status still
    /// being worked on); or blank.
    StatusList => or_blank(json!({
        "type": "string",
        "pattern": word_list_pattern(Status::ALL.iter().map(|s| s.name()).chain(["open"]))
    }));
    /// A tier's name, or blank.
    TierName => json!({"enum": Tier::ALL.iter().map(|t| t.name()).chain([""]).collect::<Vec<_>>()});
    /// An action on an incident.
    ActionName => json!({"enum": Action::ALL.map(Action::name)});
    /// How a report's source is named.
    SourceName => json!({"enum": ReportSource::ALL.map(ReportSource::name)});
    /// A severity's name.
    SeverityName => json!({"enum": Severity::ALL.map(Severity::name)});
    /// What `POST /api/hazards` reads: one hazard as a Feature, or many as
    /// a FeatureCollection. A polygon must also be small (5 km²) and have
    /// an inside point, checked by the server.
    HazardFeatures => json!({"oneOf": [
        hazard_feature(),
        feature_collection(hazard_feature(), crate::patrol::hazards::MAX_IMPORT)
    ]});
    /// What `PUT /api/roads` reads: a FeatureCollection of LineStrings or
    /// MultiLineStrings with an optional `class` (or OpenStreetMap
    /// `highway`) and `name`.
    RoadLines => feature_collection(
        feature(
            json!({"oneOf": [
                {"type": "object", "required": ["type", "coordinates"], "properties": {
                    "type": {"enum": ["LineString"]}, "coordinates": line_positions()}},
                {"type": "object", "required": ["type", "coordinates"], "properties": {
                    "type": {"enum": ["MultiLineString"]},
                    "coordinates": {"type": "array", "minItems": 1, "items": line_positions()}}}
            ]}),
            json!({
                "type": ["object", "null"],
                "properties": {
                    "class": {"anyOf": [road_class(), {"type": "null"}]},
                    "highway": {"type": ["string", "null"]},
                    "name": {"type": ["string", "null"]}
                },
                // Without a `class`, `highway` must name one.
                "anyOf": [
                    {"required": ["class"], "properties": {"class": road_class()}},
                    {"properties": {"highway": {"anyOf": [road_class(), {"type": "null"}]}}}
                ]
            }),
        ),
        crate::patrol::roads::MAX_LINES
    );
    /// A stop of a saved route: a hazard by number, or a named key point
    /// with its place.
    Stop => json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "hazard": {"type": ["integer", "null"]},
            "name": {"type": ["string", "null"]},
            "location": {"oneOf": [{"$ref": "#/components/schemas/Position"}, {"type": "null"}]}
        },
        "anyOf": [
            {"required": ["hazard"], "properties": {"hazard": {"type": "integer"}}},
            {"required": ["name", "location"], "properties": {
                "name": one_line(crate::patrol::MAX_NAME_CHARS),
                "location": {"$ref": "#/components/schemas/Position"}}}
        ]
    });
    /// A one-line name of at most 200 characters, not blank.
    Name => one_line(crate::patrol::MAX_NAME_CHARS);
    /// The coordinate system of a reported position, as `InputCrs::parse`
    /// reads it (the EPSG codes and CGCS2000 name WGS84: they differ by
    /// centimetres). The schema lists the canonical spellings.
    InputCrsName => json!({
        "enum": ["wgs84", "cgcs2000", "EPSG:4326", "EPSG:4490", "CRS84", "gcj02", "bd09"]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The box pattern takes what the server takes and refuses what it
    /// refuses.
    #[test]
    fn the_box_pattern_matches_the_parser() {
        let (_, bbox) = definitions()
            .into_iter()
            .find(|(name, _)| *name == "WgsBbox")
            .expect("WgsBbox is defined");
        let pattern = bbox["anyOf"][0]["pattern"].as_str().expect("a pattern");
        let re = regex::Regex::new(pattern).expect("the pattern compiles");
        for good in [
            "106.10,34.70,106.20,34.76",
            "-180,-90,180,90",
            "0,0,0.5,89.9",
        ] {
            assert!(re.is_match(good), "{good}");
            assert!(crate::api::grids::parse_bbox(good).is_ok(), "{good}");
        }
        for bad in ["181,0,1,1", "0,91,1,1", "1,2,3", "a,b,c,d", "0,0,180.5,1"] {
            assert!(!re.is_match(bad), "{bad}");
            assert!(crate::api::grids::parse_bbox(bad).is_err(), "{bad}");
        }
    }
}
