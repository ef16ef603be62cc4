//! OGC API - Features Part 3 (filtering): a collection's queryables and
//! the `filter` parameter in CQL2.
//!
//! The CQL2 is parsed and evaluated by the `cql2` crate (text, or JSON
//! with `filter-lang=cql2-json`) against each feature's flat properties and
//! its `id`. Before anything is evaluated, every property the filter names
//! must be a queryable of the collection (400 naming it otherwise), so a
//! misspelt name is an error rather than an empty page. Basic CQL2 is what
//! the conformance declaration claims (comparisons, `AND`/`OR`/`NOT`,
//! `IS NULL`) with the advanced comparisons `LIKE`, `BETWEEN` and `IN`.

use serde_json::{Map, Value, json};

use crate::api::ApiError;
use crate::text;

/// The longest `filter` read, in bytes: a page of conditions. Longer ones
/// are refused before parsing, as are ones nested deeper than
/// [`MAX_FILTER_DEPTH`]: the parser recurses once per level, on a worker
/// thread's stack.
pub(super) const MAX_FILTER_BYTES: usize = 4096;

/// The deepest nesting of parentheses and `NOT`s a `filter` may have.
pub(super) const MAX_FILTER_DEPTH: usize = 32;

/// One queryable property of a collection.
#[derive(Debug, Clone, Copy)]
pub(super) struct Queryable {
    /// Its name in filters and in the features' properties (`id` is the
    /// feature's id).
    pub(super) name: &'static str,
    /// Its JSON Schema type: `string`, `integer`, `number` or `boolean`.
    pub(super) kind: &'static str,
    /// What it is.
    pub(super) title: &'static str,
}

/// The queryables document (a JSON Schema) of a collection.
pub(super) fn queryables_document(id_url: String, title: &str, queryables: &[Queryable]) -> Value {
    let properties: Map<String, Value> = queryables
        .iter()
        .map(|q| (q.name.to_owned(), json!({"type": q.kind, "title": q.title})))
        .collect();
    // The same list in the form of Part 3's drafts, which GDAL's OGC API
    // driver reads to decide what it may send as a filter; JSON Schema
    // ignores a keyword it does not know.
    let draft: Vec<Value> = queryables
        .iter()
        .map(|q| json!({"id": q.name, "queryable": q.name, "type": q.kind, "title": q.title}))
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": id_url,
        "type": "object",
        "title": title,
        "properties": properties,
        "additionalProperties": false,
        "queryables": draft,
    })
}

/// A checked `filter`.
#[derive(Debug, Clone)]
pub(super) struct Filter {
    expr: cql2::Expr,
    /// As given, for paging links.
    pub(super) text: String,
    /// `filter-lang` as given, for paging links.
    pub(super) lang: Option<String>,
}

impl Filter {
    /// `filter-lang` given without a filter: one of the names [`Filter::parse`]
    /// reads, or a 400 naming it.
    pub(super) fn check_lang(lang: Option<&str>) -> Result<(), ApiError> {
        match lang {
            None | Some("cql2-text" | "cql-text" | "cql2-json") => Ok(()),
            Some(other) => Err(bad_lang(other)),
        }
    }

    /// Parse `text` in `lang` (`cql2-text`, the default, or `cql2-json`;
    /// `cql-text`, the name in the drafts of Part 3 that GDAL still sends,
    /// is CQL2 text) and check every property it names against
    /// `queryables`.
    pub(super) fn parse(
        text: &str,
        lang: Option<&str>,
        queryables: &[Queryable],
    ) -> Result<Filter, ApiError> {
        if text.len() > MAX_FILTER_BYTES {
            let n = text.len();
            return Err(ApiError::bad_parameter(
                "filter",
                text!(
                    "filter is {n} bytes long; at most {MAX_FILTER_BYTES} are read",
                    "filter 长 {n} 字节，最多只读取 {MAX_FILTER_BYTES} 字节"
                ),
            ));
        }
        if nesting(text) > MAX_FILTER_DEPTH {
            return Err(ApiError::bad_parameter(
                "filter",
                text!(
                    "filter nests parentheses or NOTs more than {MAX_FILTER_DEPTH} deep",
                    "filter 中括号或 NOT 的嵌套超过 {MAX_FILTER_DEPTH} 层"
                ),
            ));
        }
        let expr = match lang.unwrap_or("cql2-text") {
            "cql2-text" | "cql-text" => cql2::parse_text(text).map_err(|e| {
                ApiError::bad_parameter(
                    "filter",
                    text!(
                        "filter is not valid CQL2 text ({e}): {text:?}",
                        "filter 不是有效的 CQL2 文本（{e}）：{text:?}"
                    ),
                )
            })?,
            "cql2-json" => cql2::parse_json(text).map_err(|e| {
                ApiError::bad_parameter(
                    "filter",
                    text!(
                        "filter is not valid CQL2 JSON ({e}): {text:?}",
                        "filter 不是有效的 CQL2 JSON（{e}）：{text:?}"
                    ),
                )
            })?,
            other => return Err(bad_lang(other)),
        };
        let mut named = Vec::new();
        properties(&expr, &mut named);
        if let Some(unknown) = named
            .iter()
            .find(|n| !queryables.iter().any(|q| q.name == n.as_str()))
        {
            let names = queryables
                .iter()
                .map(|q| q.name)
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ApiError::bad_parameter(
                "filter",
                text!(
                    "filter names {unknown:?}, which is not a queryable of this collection; \
                     its queryables are {names}",
                    "filter 中的 {unknown:?} 不是此集合可查询的属性，可查询的属性有：{names}"
                ),
            ));
        }
        Ok(Filter {
            expr,
            text: text.to_owned(),
            lang: lang.map(str::to_owned),
        })
    }

    /// Whether a feature with this id and these properties passes (a
    /// comparison with a null property is not a match). An expression that
    /// cannot be evaluated to true or false on it (comparing text with a
    /// number, say) is a 400: it would fail on every feature alike.
    pub(super) fn matches(&self, id: Value, properties: Value) -> Result<bool, ApiError> {
        let feature = json!({"id": id, "properties": properties});
        match self.expr.clone().matches(Some(&feature)) {
            Ok(passes) => Ok(passes),
            Err(e) => Err(ApiError::bad_parameter(
                "filter",
                text!(
                    "filter cannot be evaluated on this collection's features: {e}",
                    "无法对此集合的要素计算 filter：{e}"
                ),
            )),
        }
    }
}

/// How deep a CQL2 text nests: parentheses, and `NOT`s in a row, outside
/// string literals (an upper bound: every `NOT` counts as a level).
fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest, mut nots, mut in_string) = (0usize, 0usize, 0usize, false);
    for (i, c) in text.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => depth = depth.saturating_sub(1),
            _ => {}
        }
        if !in_string
            && text[i..]
                .get(..3)
                .is_some_and(|w| w.eq_ignore_ascii_case("not"))
        {
            nots += 1;
        }
        deepest = deepest.max(depth + nots);
    }
    deepest
}

/// Every property name an expression refers to.
fn properties(expr: &cql2::Expr, out: &mut Vec<String>) {
    use cql2::Expr;
    match expr {
        Expr::Property { property } => out.push(property.clone()),
        Expr::Operation { args, .. } => args.iter().for_each(|a| properties(a, out)),
        Expr::Interval { interval } => interval.iter().for_each(|a| properties(a, out)),
        Expr::Array(items) => items.iter().for_each(|a| properties(a, out)),
        Expr::BBox { bbox } => bbox.iter().for_each(|a| properties(a, out)),
        Expr::Timestamp { timestamp } => properties(timestamp, out),
        Expr::Date { date } => properties(date, out),
        Expr::Float(_) | Expr::Literal(_) | Expr::Bool(_) | Expr::Geometry(_) | Expr::Null => {}
    }
}

/// The refusal of an unknown `filter-lang`.
fn bad_lang(lang: &str) -> ApiError {
    ApiError::bad_parameter(
        "filter-lang",
        text!(
            "filter-lang must be cql2-text or cql2-json, got {lang:?}",
            "filter-lang 须为 cql2-text 或 cql2-json，收到的是 {lang:?}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERYABLES: [Queryable; 3] = [
        Queryable {
            name: "name",
            kind: "string",
            title: "Name",
        },
        Queryable {
            name: "population",
            kind: "integer",
            title: "Residents",
        },
        Queryable {
            name: "code",
            kind: "string",
            title: "Code",
        },
    ];

    fn passes(filter: &str, properties: Value) -> bool {
        Filter::parse(filter, None, &QUERYABLES)
            .expect("a valid filter")
            .matches(json!("g-1"), properties)
            .expect("evaluates")
    }

    #[test]
    fn basic_cql2_evaluates_on_properties() {
        let p = json!({"name": "永清镇", "population": 5200, "code": null});
        assert!(passes("population > 5000 AND name LIKE '永清%'", p.clone()));
        assert!(!passes(
            "population < 5000 OR NOT name = '永清镇'",
            p.clone()
        ));
        assert!(passes("code IS NULL", p.clone()));
        assert!(passes("name IN ('红堡镇', '永清镇')", p.clone()));
        assert!(passes("population BETWEEN 5000 AND 6000", p));
    }

    #[test]
    fn long_deep_or_mistyped_filters_are_400() {
        let deep = format!("{}name = 'x'{}", "(".repeat(1000), ")".repeat(1000));
        assert!(Filter::parse(&deep, None, &QUERYABLES).is_err());
        let nots = format!("{}name = 'x'", "NOT ".repeat(1000));
        assert!(Filter::parse(&nots, None, &QUERYABLES).is_err());
        let long = format!("name IN ({})", vec!["'x'"; 2000].join(","));
        assert!(Filter::parse(&long, None, &QUERYABLES).is_err());
        let mistyped = Filter::parse("name > 5", None, &QUERYABLES).expect("parses");
        assert!(
            mistyped
                .matches(json!("g"), json!({"name": "永清镇"}))
                .is_err()
        );
        // Nesting in a literal counts for nothing.
        assert!(
            Filter::parse(
                "name = '((((((((((((((((((((((((((((((((((('",
                None,
                &QUERYABLES
            )
            .is_ok()
        );
    }

    #[test]
    fn unknown_properties_and_bad_text_are_400_naming_the_parameter() {
        let e = Filter::parse("leader_phone = '138'", None, &QUERYABLES).expect_err("refused");
        assert!(e.to_string().contains("leader_phone"), "{e}");
        let e = Filter::parse("name = ", None, &QUERYABLES).expect_err("refused");
        assert!(e.to_string().contains("not valid CQL2"), "{e}");
        let e = Filter::parse("name = 'x'", Some("ecql"), &QUERYABLES).expect_err("refused");
        assert!(e.to_string().contains("filter-lang"), "{e}");
    }
}
