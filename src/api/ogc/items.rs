//! `GET /ogc/collections/{collectionId}/items` (a page of features, with
//! `bbox`, `limit` and `offset`) and `.../items/{featureId}` (one feature).
//!
//! A page is a GeoJSON FeatureCollection with `timeStamp`, `numberMatched`,
//! `numberReturned` and links `self`, `collection`, `next` (while features
//! remain) and `prev` (when `offset` > 0), all carrying the request's
//! `bbox` and `f` so that following them pages through the same selection.
//! The document is written straight to bytes on a blocking thread: 10,000
//! basic grids with hundreds of vertices each are megabytes of JSON.

use jiff::Timestamp;
use std::ops::Range;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::grid_levels::GridProperties;
use super::links::{Link, Urls, items_query};
use super::source::{self, FeatureKey, Snapshot};
use super::{GEOJSON, JSON, QueryParams, blocking};
use crate::api::ApiError;
use crate::api::access::Caller;
use crate::api::error::ProblemDocument;
use crate::api::extract::{BaseUrl, Path, Query};
use crate::api::scope::sees_contacts;
use crate::geom::Bbox;
use crate::state::AppState;

/// Features per page when the request gives no `limit`.
const DEFAULT_LIMIT: usize = 10;

/// The most features one page holds. A larger `limit` is served as this
/// one, not refused, as the standard requires; links then carry this value.
const MAX_LIMIT: usize = 10_000;

/// The query parameters of the items resource.
const ITEMS_PARAMS: [&str; 5] = ["bbox", "limit", "offset", "f", "datetime"];

/// The encodings of features: both names mean GeoJSON.
const FEATURE_FORMATS: [&str; 2] = ["json", "geojson"];

/// The query parameters of `GET .../items` (documentation only: the query
/// is read by [`ItemsRequest::parse`], which refuses unknown names).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct ItemsParams {
    /// `minLon,minLat,maxLon,maxLat` in CRS84 degrees: only features whose
    /// geometry intersects this box (touching its edge counts). The
    /// six-number (3D) form is refused.
    #[param(value_type = Option<String>, example = "106.10,34.70,106.20,34.76")]
    bbox: (),
    /// Features per page, 1 to 10,000; larger values are served as 10,000.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000, default = 10, example = 100)]
    limit: (),
    /// How many matching features to skip, in the collection's order (by id).
    #[param(value_type = Option<u32>, minimum = 0, default = 0, example = 0)]
    offset: (),
    /// The encoding: `json` or `geojson`, both GeoJSON (the default).
    #[param(value_type = Option<String>, pattern = "^(json|geojson)$", example = "json")]
    f: (),
    /// The grid collections: the grids in force at this instant (RFC 3339,
    /// or a date, meaning its first moment in China Standard Time), past
    /// or scheduled, instead of now. Intervals are not supported yet, nor
    /// is `datetime` on `hazards`.
    #[param(value_type = Option<String>, example = "2027-01-01T00:00:00+08:00")]
    datetime: (),
}

/// The `f` parameter of a single feature.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct FeatureFormat {
    /// The encoding: `json` or `geojson`, both GeoJSON (the default).
    #[param(value_type = Option<String>, pattern = "^(json|geojson)$", example = "json")]
    f: (),
    /// As for the items: the grid as it was (or will be) at this instant.
    #[param(value_type = Option<String>, example = "2027-01-01T00:00:00+08:00")]
    datetime: (),
}

/// Which page of the matching features: `limit` of them after the first
/// `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Paging {
    /// Features per page, 1 to [`MAX_LIMIT`].
    limit: usize,
    /// Matching features skipped.
    offset: usize,
}

impl Paging {
    /// The positions, among `matched` features, that this page returns
    /// (empty past the end).
    fn window(self, matched: usize) -> Range<usize> {
        let start = self.offset.min(matched);
        start..self.offset.saturating_add(self.limit).min(matched)
    }

    /// The page after this one, while features remain.
    fn next(self, matched: usize) -> Option<Paging> {
        let offset = self.offset.saturating_add(self.limit);
        (offset < matched).then_some(Paging { offset, ..self })
    }

    /// The page before this one, when this one skipped any: it ends where
    /// this one starts (or earlier, past the end), and starts at 0 at the
    /// earliest.
    fn prev(self) -> Option<Paging> {
        (self.offset > 0).then(|| Paging {
            offset: self.offset.saturating_sub(self.limit),
            ..self
        })
    }
}

/// A checked items request.
#[derive(Debug)]
struct ItemsRequest {
    bbox: Option<Bbox>,
    paging: Paging,
    /// The `f` given, repeated in links.
    f: Option<String>,
    /// `datetime`: the instant, and its text as given (repeated in links).
    datetime: Option<(Timestamp, String)>,
}

impl ItemsRequest {
    fn parse(query: Vec<(String, String)>) -> Result<ItemsRequest, ApiError> {
        let params = QueryParams::accept(query, &ITEMS_PARAMS)?;
        Ok(ItemsRequest {
            bbox: params.get("bbox").map(parse_bbox).transpose()?,
            paging: Paging {
                limit: params.get("limit").map_or(Ok(DEFAULT_LIMIT), parse_limit)?,
                offset: params.get("offset").map_or(Ok(0), parse_offset)?,
            },
            f: params.format(&FEATURE_FORMATS)?,
            datetime: params.get("datetime").map(parse_datetime).transpose()?,
        })
    }

    /// The query string of another page of the same selection.
    fn query(&self, paging: Paging) -> String {
        let mut q = items_query(paging.limit, paging.offset, self.bbox, self.f.as_deref());
        if let Some((_, text)) = &self.datetime {
            q.push_str("&datetime=");
            q.push_str(&super::links::path_segment(text));
        }
        q
    }
}

/// `datetime`: one instant (RFC 3339, or a date). Intervals are refused by
/// name until a collection can answer them.
fn parse_datetime(s: &str) -> Result<(Timestamp, String), ApiError> {
    if s.contains('/') {
        return Err(ApiError::bad_parameter(
            "datetime",
            format!(
                "datetime: intervals are not supported yet; give one instant such as \
                 2027-01-01T00:00:00+08:00 (got {s:?})"
            ),
        ));
    }
    let at = crate::api::params::parse_moment("datetime", s)?;
    Ok((at, s.to_owned()))
}

/// `limit`: a whole number of at least 1; above [`MAX_LIMIT`] (however
/// large) it is [`MAX_LIMIT`].
fn parse_limit(s: &str) -> Result<usize, ApiError> {
    let bad = || {
        ApiError::bad_parameter(
            "limit",
            format!(
                "limit must be a whole number from 1 to {MAX_LIMIT} (larger values are \
                 served as {MAX_LIMIT}), got {s:?}"
            ),
        )
    };
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // All digits: the only parse failure left is a number too large for
    // usize, which is capped like any other large limit.
    match s.parse::<usize>() {
        Ok(0) => Err(bad()),
        Ok(n) => Ok(n.min(MAX_LIMIT)),
        Err(_) => Ok(MAX_LIMIT),
    }
}

/// `offset`: a whole number, 0 or more.
fn parse_offset(s: &str) -> Result<usize, ApiError> {
    if !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = s.parse::<usize>()
    {
        return Ok(n);
    }
    Err(ApiError::bad_parameter(
        "offset",
        format!("offset must be a whole number, 0 or more, got {s:?}"),
    ))
}

/// `bbox`: `minLon,minLat,maxLon,maxLat` in degrees. `minLon` greater than
/// `maxLon` is a box across the antimeridian (see [`select`]).
fn parse_bbox(s: &str) -> Result<Bbox, ApiError> {
    let bad = |why: &str| {
        ApiError::bad_parameter(
            "bbox",
            format!("bbox must be minLon,minLat,maxLon,maxLat in degrees ({why}), got {s:?}"),
        )
    };
    let numbers: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("four numbers"))?;
    let [min_lon, min_lat, max_lon, max_lat] = numbers[..] else {
        return Err(bad(if numbers.len() == 6 {
            "boxes with heights are not supported"
        } else {
            "four numbers"
        }));
    };
    let lon_ok = |v: f64| v.is_finite() && (-180.0..=180.0).contains(&v);
    let lat_ok = |v: f64| v.is_finite() && (-90.0..=90.0).contains(&v);
    if !(lon_ok(min_lon) && lon_ok(max_lon) && lat_ok(min_lat) && lat_ok(max_lat)) {
        return Err(bad("longitudes -180 to 180, latitudes -90 to 90"));
    }
    if min_lat > max_lat {
        return Err(bad("the minimum latitude first"));
    }
    // A west edge east of the east edge is, as the standard says, a box
    // across the antimeridian: kept as written, split when selecting.
    Ok(Bbox {
        min_lon,
        min_lat,
        max_lon,
        max_lat,
    })
}

/// The features of a snapshot in `bbox`, in id order. A box across the
/// antimeridian (west edge east of the east edge) is the two boxes either
/// side of it, each selected and the results merged without repeats.
fn select(snapshot: &dyn Snapshot, bbox: Option<Bbox>) -> Vec<FeatureKey> {
    match bbox {
        Some(b) if b.min_lon > b.max_lon => {
            let east_of_it = Bbox {
                max_lon: 180.0,
                ..b
            };
            let west_of_it = Bbox {
                min_lon: -180.0,
                ..b
            };
            let mut keys = snapshot.select(Some(east_of_it));
            keys.extend(snapshot.select(Some(west_of_it)));
            keys.sort_unstable();
            keys.dedup();
            keys
        }
        _ => snapshot.select(bbox),
    }
}

/// A GeoJSON response.
fn geojson_response(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, GEOJSON)], body).into_response()
}

/// A page of a collection's features, filtered by `bbox`, in the
/// collection's order (by id).
#[utoipa::path(
    get,
    path = "/ogc/collections/{collectionId}/items",
    operation_id = "ogc_items",
    tag = "ogc",
    params(
        ("collectionId" = String, Path, description = "The collection: towns, \
            village-clusters, group-clusters, basic-grids or sub-areas", example = "towns"),
        ItemsParams,
    ),
    responses(
        (status = 200, description = "A page of features with paging links",
            body = FeatureCollectionDoc, content_type = "application/geo+json"),
        (status = 400, description = "`bbox`, `limit`, `offset`, `f` or \
            `datetime` is malformed (an interval, or `datetime` on hazards, too), or a \
            parameter is unknown; `parameter` names it",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No collection has this id",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    Path(collection): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let source = source::find(&collection)?;
    let request = ItemsRequest::parse(query)?;
    let snapshot = source
        .snapshot(
            &state,
            request.datetime.as_ref().map(|(at, _)| *at),
            sees_contacts(&caller),
        )
        .await?;
    let urls = Urls::new(base);
    let time_stamp = rfc3339(SystemTime::now());
    let body = blocking("writing a page of features", move || {
        write_page(source.id(), snapshot.as_ref(), &request, &urls, &time_stamp)
            .map_err(|e| ApiError::internal("serialising a page of features", e))
    })
    .await?;
    Ok(geojson_response(body))
}

/// The links of a page: itself, its collection, and its neighbours.
fn page_links(collection: &str, request: &ItemsRequest, matched: usize, urls: &Urls) -> Vec<Link> {
    let items = urls.items(collection);
    let page = |rel, paging: Paging, title: &str| {
        Link::new(
            format!("{items}?{}", request.query(paging)),
            rel,
            GEOJSON,
            title,
        )
    };
    let mut links = vec![
        page("self", request.paging, "This page"),
        Link::new(
            urls.collection(collection),
            "collection",
            JSON,
            "The collection",
        ),
    ];
    if let Some(next) = request.paging.next(matched) {
        links.push(page("next", next, "The next page"));
    }
    if let Some(prev) = request.paging.prev() {
        links.push(page("prev", prev, "The previous page"));
    }
    links
}

/// The FeatureCollection of one page, as bytes. The members other than
/// `features` come first, so a client reading a stream knows the counts
/// before the features.
fn write_page(
    collection: &str,
    snapshot: &dyn Snapshot,
    request: &ItemsRequest,
    urls: &Urls,
    time_stamp: &str,
) -> serde_json::Result<Vec<u8>> {
    let keys = select(snapshot, request.bbox);
    let matched = keys.len();
    let page = &keys[request.paging.window(matched)];
    let mut out = Vec::new();
    out.extend_from_slice(br#"{"type":"FeatureCollection","timeStamp":"#);
    serde_json::to_writer(&mut out, time_stamp)?;
    out.extend_from_slice(
        format!(
            r#","numberMatched":{matched},"numberReturned":{},"links":"#,
            page.len()
        )
        .as_bytes(),
    );
    serde_json::to_writer(&mut out, &page_links(collection, request, matched, urls))?;
    out.extend_from_slice(br#","features":["#);
    for (i, &key) in page.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        snapshot.write_feature(key, &[], &mut out)?;
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// One feature, with links to itself and its collection.
#[utoipa::path(
    get,
    path = "/ogc/collections/{collectionId}/items/{featureId}",
    operation_id = "ogc_feature",
    tag = "ogc",
    params(
        ("collectionId" = String, Path, description = "The collection", example = "towns"),
        ("featureId" = String, Path, description = "The feature's id: for grids, the grid id",
            example = "620521100"),
        FeatureFormat,
    ),
    responses(
        (status = 200, description = "The feature", body = FeatureDoc,
            content_type = "application/geo+json"),
        (status = 400, description = "An unknown query parameter, or `f` other than \
            json or geojson", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such collection, or no such feature in it",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(super) async fn one(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    Path((collection, feature)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let source = source::find(&collection)?;
    let params = QueryParams::accept(query, &["f", "datetime"])?;
    params.format(&FEATURE_FORMATS)?;
    let datetime = params.get("datetime").map(parse_datetime).transpose()?;
    let snapshot = source
        .snapshot(&state, datetime.map(|(at, _)| at), sees_contacts(&caller))
        .await?;
    let key = snapshot.find(&feature).ok_or_else(|| {
        ApiError::NotFound(format!(
            "the collection {:?} has no feature with id {feature:?}",
            source.id()
        ))
    })?;
    let urls = Urls::new(base);
    let links = [
        Link::new(
            urls.item(source.id(), snapshot.feature_id(key)),
            "self",
            GEOJSON,
            "This feature",
        ),
        Link::new(
            urls.collection(source.id()),
            "collection",
            JSON,
            "The collection",
        ),
    ];
    // One feature is small enough to write here.
    let mut body = Vec::new();
    snapshot
        .write_feature(key, &links, &mut body)
        .map_err(|e| ApiError::internal("serialising a feature", e))?;
    Ok(geojson_response(body))
}

/// A time as RFC 3339 in UTC to the second, e.g. `2026-05-21T08:30:00Z`.
fn rfc3339(t: SystemTime) -> String {
    // Before 1970 only with a broken clock; print the epoch then.
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// The two types below exist only to describe the responses in the OpenAPI
// document; the responses are written by `write_page` and the sources.

/// A GeoJSON Feature as OGC API - Features serves it.
#[derive(Serialize, ToSchema)]
#[schema(as = OgcFeature)]
#[allow(dead_code)]
struct FeatureDoc {
    /// Always `Feature`.
    #[serde(rename = "type")]
    #[schema(example = "Feature")]
    kind: String,
    /// The feature's id: for grids, the grid id.
    #[schema(example = "620521100")]
    id: String,
    /// A GeoJSON MultiPolygon for grids.
    #[schema(value_type = Object)]
    geometry: (),
    /// Flat properties; for the grid collections, these.
    properties: GridProperties<'static>,
    /// `self` and `collection`: on a single feature only.
    links: Option<Vec<Link>>,
}

/// A page of features.
#[derive(Serialize, ToSchema)]
#[schema(as = OgcFeatureCollection)]
#[allow(dead_code)]
struct FeatureCollectionDoc {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    #[schema(example = "FeatureCollection")]
    kind: String,
    /// When the response was made, RFC 3339 UTC.
    #[serde(rename = "timeStamp")]
    #[schema(example = "2026-05-21T08:30:00Z")]
    time_stamp: String,
    /// Features matching the `bbox`, over all pages.
    #[serde(rename = "numberMatched")]
    #[schema(example = 1063)]
    number_matched: u64,
    /// Features in this page.
    #[serde(rename = "numberReturned")]
    #[schema(example = 10)]
    number_returned: u64,
    /// `self`, `collection`, and `next` / `prev` when there are such pages.
    links: Vec<Link>,
    /// The features of this page, ordered by id.
    features: Vec<FeatureDoc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(limit: usize, offset: usize) -> Paging {
        Paging { limit, offset }
    }

    /// Windows clip to the matched count; next stops at the end; prev
    /// clamps at 0.
    #[test]
    fn paging_math() {
        assert_eq!(paging(10, 0).window(34), 0..10);
        assert_eq!(paging(10, 30).window(34), 30..34);
        assert_eq!(paging(10, 40).window(34), 34..34);
        assert_eq!(paging(10, 0).next(34), Some(paging(10, 10)));
        assert_eq!(paging(10, 20).next(34), Some(paging(10, 30)));
        assert_eq!(paging(10, 30).next(34), None);
        assert_eq!(paging(10, 24).next(34), None);
        assert_eq!(paging(10, 0).prev(), None);
        assert_eq!(paging(10, 3).prev(), Some(paging(10, 0)));
        assert_eq!(paging(10, 25).prev(), Some(paging(10, 15)));
        assert_eq!(paging(10, usize::MAX).window(5), 5..5);
        assert_eq!(paging(10, usize::MAX).next(5), None);
    }

    /// Limits: at least 1, capped (not refused) above the maximum.
    #[test]
    fn limits_are_checked_and_capped() {
        assert_eq!(parse_limit("1").ok(), Some(1));
        assert_eq!(parse_limit("10000").ok(), Some(MAX_LIMIT));
        assert_eq!(parse_limit("10001").ok(), Some(MAX_LIMIT));
        assert_eq!(
            parse_limit("99999999999999999999999999").ok(),
            Some(MAX_LIMIT)
        );
        for bad in ["0", "", "-1", "+5", "1.5", "ten", " 5"] {
            assert!(parse_limit(bad).is_err(), "{bad:?}");
        }
    }

    /// Boxes: four ordered numbers within the WGS84 ranges.
    #[test]
    fn bboxes_are_checked() {
        let b = parse_bbox("106.1, 34.7,106.2,34.8").expect("a valid box");
        assert_eq!(
            (b.min_lon, b.min_lat, b.max_lon, b.max_lat),
            (106.1, 34.7, 106.2, 34.8)
        );
        for bad in [
            "1,2,3",
            "1,2,3,4,5",
            "1,2,0,3,4,1",
            "a,b,c,d",
            "181,0,182,1",
            "0,-91,1,0",
            "0,2,1,1",
            "NaN,0,1,1",
        ] {
            assert!(parse_bbox(bad).is_err(), "{bad:?}");
        }
    }

    /// Time stamps are RFC 3339 UTC, including leap days.
    #[test]
    fn time_stamps() {
        let at = |s: u64| rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
