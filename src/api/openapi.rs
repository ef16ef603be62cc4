//! The OpenAPI description of the whole HTTP surface, served twice:
//!
//! | address | version | media type |
//! |---|---|---|
//! | `/api/openapi.json` | 3.1, as utoipa writes it | `application/vnd.oai.openapi+json;version=3.1` |
//! | `/api/openapi-3.0.json` | 3.0.3, converted from it by [`to_openapi_30`] | `application/vnd.oai.openapi+json;version=3.0` |
//!
//! Clients that read only 3.0 (GDAL and OWSLib look for that media type on
//! an OGC `service-desc` link, code generators of the 3.0 era) take the
//! second. The conversion rewrites what 3.0 cannot say: `type` arrays with
//! `null` become `nullable`, a `oneOf` with a null branch a nullable
//! `allOf`, `const` a one-value `enum`, schema `examples` an `example`,
//! numeric exclusive bounds the boolean form, and a `$ref` with siblings an
//! `allOf` (3.0 ignores a `$ref`'s siblings).

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

/// The media type of the 3.1 document.
pub const OPENAPI_31_MEDIA_TYPE: &str = "application/vnd.oai.openapi+json;version=3.1";

/// The media type of the 3.0 document.
pub const OPENAPI_30_MEDIA_TYPE: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The address of the 3.1 document.
pub const OPENAPI_31_PATH: &str = "/api/openapi.json";

/// The address of the 3.0 document.
pub const OPENAPI_30_PATH: &str = "/api/openapi-3.0.json";

/// The OpenAPI 3.1 document of the API, as served: the handlers'
/// descriptions with the answers every route shares (see
/// [`document_shared_answers`]).
pub fn openapi_document() -> Value {
    DOCUMENT_31.clone()
}

/// The 3.1 document, built once: the handlers' descriptions do not change
/// while the process runs.
static DOCUMENT_31: LazyLock<Value> = LazyLock::new(build_document);

/// The 3.1 and 3.0 documents as served, serialised once.
static TEXT_31: LazyLock<String> = LazyLock::new(|| DOCUMENT_31.to_string());
static TEXT_30: LazyLock<String> = LazyLock::new(|| openapi_30().to_string());

fn build_document() -> Value {
    let mut doc = serde_json::to_value(openapi()).unwrap_or(Value::Null);
    document_shared_answers(&mut doc);
    define_value_schemas(&mut doc);
    document_blank_query_values(&mut doc);
    doc
}

/// A query parameter left blank (`?level=`) is absent (`extract::Query`,
/// and the OGC and Open311 readers alike): each optional query
/// parameter's schema also admits the empty string, so that the document
/// says what the server accepts.
fn document_blank_query_values(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let operations = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let Some(parameters) = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for parameter in parameters {
            let optional_query = parameter.get("in").is_some_and(|i| i == "query")
                && !parameter
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
            if !optional_query {
                continue;
            }
            let Some(schema) = parameter.get_mut("schema") else {
                continue;
            };
            // An enumeration takes `""` as one more value, where clients
            // look for it (GDAL reads `filter-lang`'s enum to decide to
            // send filters); anything else becomes "this, or blank".
            if let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut) {
                if !values.iter().any(|v| v == "") {
                    values.push(json!(""));
                }
                continue;
            }
            let inner = schema.take();
            *schema = json!({"anyOf": [inner, {"type": "string", "maxLength": 0}]});
        }
    }
}

/// Put the definitions of [`super::value_schemas`] into the document's
/// components, where the handlers' `$ref`s point (utoipa wrote a
/// placeholder there, or nothing).
fn define_value_schemas(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (name, definition) in super::value_schemas::definitions() {
        schemas.insert(name.to_owned(), definition);
    }
}

/// The statuses the layers every request passes through can answer,
/// added to each operation that does not describe them itself, so that
/// the document lists every status a route can answer:
///
/// | status | when | operations |
/// |---|---|---|
/// | 400 | a query, path or body that cannot be read | with parameters or a body |
/// | 401 | a bearer token that is unknown, expired or revoked, or none where one is needed | all but Open311's (which answer 403, as GeoReport says) |
/// | 403 | a role without the capability, or a cookie write without its CSRF token | all |
/// | 404 | no such resource | with path parameters |
/// | 413, 415, 422 | a body over the limit, of another type, or not of the documented shape (422: JSON bodies, so not Open311's forms) | with a body |
/// | 500 | the store failed | all |
pub fn document_shared_answers(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let georeport = path.starts_with("/open311/");
        for (method, operation) in item.iter_mut() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            let has_params = operation
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|p| !p.is_empty());
            let has_body = operation.contains_key("requestBody");
            let mut shared: Vec<(&str, &str)> = Vec::new();
            if has_params || has_body {
                shared.push((
                    "400",
                    "A parameter or the body cannot be read; the detail names it",
                ));
            }
            if !georeport {
                shared.push((
                    "401",
                    "No credential where one is needed, or a bearer token that is unknown, \
                     expired or revoked",
                ));
            }
            shared.push((
                "403",
                "The caller's role may not do this (a cookie session's write also needs its \
                 CSRF token)",
            ));
            if path.contains('{') {
                shared.push(("404", "No such resource"));
            }
            if has_body {
                shared.push(("413", "The body is over the route's limit"));
                shared.push(("415", "The body is not of a documented media type"));
                if !georeport {
                    shared.push(("422", "The body does not have the documented shape"));
                }
            }
            shared.push(("500", "The server failed; nothing was changed"));
            let responses = operation
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut();
            let Some(responses) = responses else { continue };
            for (status, description) in shared {
                if responses.contains_key(status) {
                    continue;
                }
                let content = if georeport {
                    let errors = json!({"schema": {"type": "array",
                        "items": {"$ref": "#/components/schemas/ErrorDoc"}}});
                    json!({"application/json": errors.clone(), "text/xml": errors})
                } else {
                    json!({super::PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}})
                };
                responses.insert(
                    status.to_owned(),
                    json!({"description": description, "content": content}),
                );
            }
        }
    }
}

/// The OpenAPI 3.1 document of the API as the handlers describe it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::accounts::AccountsApi::openapi());
    doc.merge(super::grids::GridsApi::openapi());
    doc.merge(super::grid_edits::GridEditsApi::openapi());
    doc.merge(super::grid_versions::GridVersionsApi::openapi());
    doc.merge(super::changes::ChangesApi::openapi());
    doc.merge(super::locate::LocateApi::openapi());
    doc.merge(super::ogc::OgcApi::openapi());
    doc.merge(super::tiles::TilesApi::openapi());
    doc.merge(super::health::HealthApi::openapi());
    doc.merge(super::incidents::IncidentsApi::openapi());
    doc.merge(super::hazards::HazardsApi::openapi());
    doc.merge(super::photos::PhotosApi::openapi());
    doc.merge(super::patrols::PatrolsApi::openapi());
    doc.merge(super::style::StyleApi::openapi());
    doc.merge(super::open311::Open311Api::openapi());
    doc
}

/// The same document as OpenAPI 3.0.3.
pub fn openapi_30() -> Value {
    to_openapi_30(openapi_document())
}

/// The OGC API - Features part of the document as OpenAPI 3.0.3, with
/// paths relative to the OGC landing page and that page (`{base}/ogc`) as
/// its server: the API definition OGC clients expect at `/ogc/api`. GDAL
/// finds an items operation's parameters (`filter-lang` among them) by the
/// path relative to the landing page, `/collections/{collectionId}/items`.
pub fn ogc_openapi_30(base: &str) -> Value {
    let mut doc = openapi_30();
    let Some(top) = doc.as_object_mut() else {
        return doc;
    };
    let paths: Map<String, Value> = top
        .get("paths")
        .and_then(Value::as_object)
        .map(|paths| {
            paths
                .iter()
                .filter_map(|(path, item)| {
                    let rest = path.strip_prefix("/ogc")?;
                    let relative = if rest.is_empty() { "/" } else { rest };
                    relative
                        .starts_with('/')
                        .then(|| (relative.to_owned(), item.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    top.insert("paths".into(), Value::Object(paths));
    top.insert("servers".into(), json!([{"url": format!("{base}/ogc")}]));
    top.insert(
        "tags".into(),
        json!([{"name": "ogc", "description": "OGC API - Features"}]),
    );
    doc
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wangge",
        description = "County grid governance: the county's nested grids (towns, village \
            clusters, village-group clusters, basic grids, sub-areas) as GeoJSON, which grid \
            covers a point, and grid import/export. Errors are RFC 9457 problem documents \
            (`application/problem+json`); on the Open311 paths, GeoReport's own errors."
    ),
    paths(openapi_json, openapi_30_json),
    tags(
        (name = "grids", description = "The grids as GeoJSON; import and export"),
        (name = "locate", description = "Which grid at each level covers a point"),
        (name = "tiles", description = "Mapbox Vector Tiles of the grids and their TileJSON"),
        (name = "changes", description = "The change feed: every committed change, in order"),
        (name = "health", description = "Liveness and store reachability"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

fn document(body: String, media_type: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(media_type))],
        body,
    )
        .into_response()
}

/// This OpenAPI document (3.1).
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi_31",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API",
        content_type = "application/vnd.oai.openapi+json;version=3.1", body = Object)),
)]
pub(super) async fn openapi_json() -> Response {
    document(TEXT_31.clone(), OPENAPI_31_MEDIA_TYPE)
}

/// This OpenAPI document as 3.0.3, for clients that read no later version.
#[utoipa::path(
    get,
    path = "/api/openapi-3.0.json",
    operation_id = "openapi_30",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.0.3 document of this API",
        content_type = "application/vnd.oai.openapi+json;version=3.0", body = Object)),
)]
pub(super) async fn openapi_30_json() -> Response {
    document(TEXT_30.clone(), OPENAPI_30_MEDIA_TYPE)
}

/// An OpenAPI 3.1 document as 3.0.3: the rewrites this module's doc lists.
pub fn to_openapi_30(mut doc: Value) -> Value {
    if let Some(top) = doc.as_object_mut() {
        top.insert("openapi".into(), json!("3.0.3"));
        for only_31 in ["jsonSchemaDialect", "webhooks", "$schema"] {
            top.remove(only_31);
        }
        if let Some(license) = top
            .get_mut("info")
            .and_then(|i| i.get_mut("license"))
            .and_then(Value::as_object_mut)
        {
            license.remove("identifier");
        }
    }
    if let Some(top) = doc.as_object_mut() {
        downgrade_members(top);
    }
    doc
}

/// Members whose values are data, not schemas or documents: left as they are.
const DATA_MEMBERS: [&str; 4] = ["example", "default", "enum", "const"];

/// Members whose values are maps from names to schemas: the map itself is
/// no schema (a property may be called `type` or `const`).
const NAME_MAPS: [&str; 4] = ["properties", "schemas", "paths", "responses"];

fn downgrade(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(downgrade),
        Value::Object(object) => {
            downgrade_schema(object);
            downgrade_members(object);
        }
        _ => {}
    }
}

fn downgrade_members(object: &mut Map<String, Value>) {
    for (key, member) in object.iter_mut() {
        if DATA_MEMBERS.contains(&key.as_str()) || key == "examples" {
            continue;
        }
        match member {
            Value::Object(map) if NAME_MAPS.contains(&key.as_str()) => {
                map.values_mut().for_each(downgrade);
            }
            other => downgrade(other),
        }
    }
}

/// One object's 3.1-only keywords, if it is a schema.
fn downgrade_schema(object: &mut Map<String, Value>) {
    // `type: ["string", "null"]`.
    if let Some(Value::Array(types)) = object.get("type").cloned() {
        let nullable = types.iter().any(|t| t == "null");
        let rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
        match rest.as_slice() {
            [] => {
                object.remove("type");
            }
            [one] => {
                object.insert("type".into(), one.clone());
            }
            many => {
                object.remove("type");
                let branches = many.iter().map(|t| json!({"type": t})).collect();
                object.insert("anyOf".into(), Value::Array(branches));
            }
        }
        if nullable {
            object.insert("nullable".into(), json!(true));
        }
    }
    // A lone `{"type": "null"}` (a unit value): any value, nullable.
    if object.get("type").is_some_and(|t| t == "null") {
        object.remove("type");
        object.insert("nullable".into(), json!(true));
    }
    // `oneOf`/`anyOf` with a null branch.
    for combinator in ["oneOf", "anyOf"] {
        let Some(Value::Array(branches)) = object.get(combinator).cloned() else {
            continue;
        };
        let is_null = |b: &Value| b.get("type").is_some_and(|t| t == "null");
        if !branches.iter().any(is_null) {
            continue;
        }
        let rest: Vec<Value> = branches.into_iter().filter(|b| !is_null(b)).collect();
        object.remove(combinator);
        if rest.len() == 1 {
            object.insert("allOf".into(), Value::Array(rest));
        } else {
            object.insert(combinator.into(), Value::Array(rest));
        }
        object.insert("nullable".into(), json!(true));
    }
    if let Some(value) = object.remove("const") {
        object.insert("enum".into(), json!([value]));
    }
    if let Some(Value::Array(examples)) = object.get("examples").cloned() {
        object.remove("examples");
        if let Some(first) = examples.into_iter().next() {
            object.insert("example".into(), first);
        }
    }
    for (bound, plain) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(limit) = object.get(bound).filter(|b| b.is_number()).cloned() {
            object.insert(plain.into(), limit);
            object.insert(bound.into(), json!(true));
        }
    }
    if object.contains_key("$ref") && object.len() > 1 {
        let reference = object.remove("$ref").unwrap_or_default();
        object.insert("allOf".into(), json!([{"$ref": reference}]));
    }
    for only_31 in [
        "contentMediaType",
        "contentEncoding",
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "propertyNames",
        "patternProperties",
        "prefixItems",
        "unevaluatedProperties",
        "dependentRequired",
        "dependentSchemas",
    ] {
        object.remove(only_31);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_types_and_refs_become_3_0() {
        let doc = to_openapi_30(json!({
            "openapi": "3.1.0",
            "components": {"schemas": {"A": {"type": "object", "properties": {
                "n": {"type": ["integer", "null"], "exclusiveMinimum": 0},
                "r": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/B"}]},
                "d": {"$ref": "#/components/schemas/B", "description": "a B"},
                "c": {"const": "x", "examples": ["x"]},
                "e": {"type": "string", "example": {"type": ["kept", "null"]}},
                "const": {"type": "object", "propertyNames": {"type": "string"}},
            }}}}
        }));
        assert_eq!(doc["openapi"], "3.0.3");
        let props = &doc["components"]["schemas"]["A"]["properties"];
        assert_eq!(
            props["n"],
            json!({"type": "integer", "nullable": true, "minimum": 0, "exclusiveMinimum": true})
        );
        assert_eq!(
            props["r"],
            json!({"allOf": [{"$ref": "#/components/schemas/B"}], "nullable": true})
        );
        assert_eq!(
            props["d"],
            json!({"allOf": [{"$ref": "#/components/schemas/B"}], "description": "a B"})
        );
        assert_eq!(props["c"], json!({"enum": ["x"], "example": "x"}));
        assert_eq!(props["const"], json!({"type": "object"}));
        // Data is left alone.
        assert_eq!(props["e"]["example"], json!({"type": ["kept", "null"]}));
    }

    /// Every operation lists the statuses the shared layers can answer:
    /// Open311's in GeoReport's format and without 401.
    #[test]
    fn shared_answers_are_documented_on_every_operation() {
        let doc = openapi_document();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                let responses = &operation["responses"];
                let has = |status: &str| responses.get(status).is_some();
                assert!(has("403") && has("500"), "{method} {path}");
                if operation.get("requestBody").is_some() {
                    assert!(has("413") && has("415"), "{method} {path}");
                    assert_eq!(
                        has("422"),
                        !path.starts_with("/open311/"),
                        "{method} {path}"
                    );
                }
                if path.contains('{') {
                    assert!(has("404"), "{method} {path}");
                }
                if path.starts_with("/open311/") {
                    assert!(!has("401"), "{method} {path}");
                    assert!(
                        responses["403"]["content"].get("text/xml").is_some(),
                        "{method} {path}"
                    );
                } else {
                    assert!(has("401"), "{method} {path}");
                }
            }
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = serde_json::to_value(openapi()).expect("the document serialises");
        let mut seen = std::collections::BTreeMap::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                    let earlier = seen.insert(id.to_owned(), format!("{method} {path}"));
                    assert!(earlier.is_none(), "{id}: {earlier:?} and {method} {path}");
                }
            }
        }
        assert!(seen.len() > 60, "{seen:?}");
    }
}
