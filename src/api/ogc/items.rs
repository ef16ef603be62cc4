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

use super::crs::Crs;
use super::crs::CrsName;
use super::filter::Filter;
use super::grid_levels::GridProperties;
use super::links::{Link, Urls, items_query};
use super::source::{self, CollectionTime, FeatureKey, FeatureSource, Snapshot};
use super::{GEOJSON, JSON, QueryParams, blocking};
use crate::api::ApiError;
use crate::api::access::Caller;
use crate::api::error::ProblemDocument;
use crate::api::extract::{BaseUrl, Path, Query};
use crate::api::scope::sees_contacts;
use crate::api::value_schemas::{FeatureId, OptionalMoment, PageLimit};
use crate::geom::Bbox;
use crate::model::Text;
use crate::state::AppState;
use crate::text;

/// Features per page when the request gives no `limit`.
const DEFAULT_LIMIT: usize = 10;

/// The most features one page holds. A larger `limit` is served as this
/// one, not refused, as the standard requires; links then carry this value.
const MAX_LIMIT: usize = 10_000;

/// The query parameters of the items resource.
const ITEMS_PARAMS: [&str; 10] = [
    "bbox",
    "bbox-crs",
    "limit",
    "offset",
    "f",
    "datetime",
    "crs",
    "filter",
    "filter-lang",
    "filter-crs",
];

/// The encodings of features: both names mean GeoJSON.
const FEATURE_FORMATS: [&str; 2] = ["json", "geojson"];

/// The query parameters of `GET .../items` (documentation only: the query
/// is read by [`ItemsRequest::parse`], which refuses unknown names).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct ItemsParams {
    /// `minLon,minLat,maxLon,maxLat` in CRS84 degrees (or four numbers in
    /// `bbox-crs`, in its axis order): only features whose geometry
    /// intersects this box (touching its edge counts). The six-number form
    /// (with heights) is accepted; the heights are ignored.
    #[param(value_type = Option<String>, example = "106.10,34.70,106.20,34.76")]
    bbox: (),
    /// The CRS of `bbox`: CRS84 (the default), EPSG:4326, EPSG:4490 or
    /// EPSG:3857, by URI (`http://www.opengis.net/def/crs/EPSG/0/4490`) or
    /// as `EPSG:4490`.
    #[param(rename = "bbox-crs", value_type = Option<CrsName>, inline,
        example = "http://www.opengis.net/def/crs/OGC/1.3/CRS84")]
    bbox_crs: (),
    /// The CRS of the features' coordinates: CRS84 (the default),
    /// EPSG:4326 or EPSG:4490 (latitude first) or EPSG:3857 (metres);
    /// `Content-Crs` says which was used.
    #[param(value_type = Option<CrsName>, inline,
        example = "http://www.opengis.net/def/crs/EPSG/0/4490")]
    crs: (),
    /// A CQL2 filter on the collection's queryables
    /// (`/ogc/collections/{collectionId}/queryables`), e.g.
    /// `population > 5000 AND name LIKE '永%'`.
    #[param(value_type = Option<String>, example = "level = 1")]
    filter: (),
    /// `cql2-text` (the default) or `cql2-json`; `cql-text`, the draft's
    /// name that GDAL sends, is read as `cql2-text`.
    #[param(rename = "filter-lang", value_type = Option<FilterLang>, inline, example = "cql2-text")]
    filter_lang: (),
    /// The CRS of geometries in `filter`: CRS84 only.
    #[param(rename = "filter-crs", value_type = Option<String>,
        pattern = "^(http://www\\.opengis\\.net/def/crs/OGC/1\\.3/CRS84|CRS84|OGC:CRS84)?$",
        example = "http://www.opengis.net/def/crs/OGC/1.3/CRS84")]
    filter_crs: (),
    /// Features per page, from 1; values over 10,000 are served as 10,000
    /// (as OGC API - Features says of a limit over the server's maximum).
    #[param(value_type = Option<PageLimit>, default = 10, example = 100)]
    limit: (),
    /// How many matching features to skip, in the collection's order (by id).
    #[param(value_type = Option<i64>, minimum = 0,
        default = 0, example = 0)]
    offset: (),
    /// The encoding: `json` or `geojson`, both GeoJSON (the default).
    #[param(value_type = Option<String>, pattern = "^(json|geojson)?$", example = "json")]
    f: (),
    /// An instant (RFC 3339, or a date in China Standard Time) or an
    /// interval `start/end` (either end `..` or empty for open). The grid
    /// collections: the grids in force at the instant (a date: its first
    /// moment), past or scheduled, instead of now (an interval is refused:
    /// a grid collection has one version at a time). `hazards`: those
    /// registered within the instant's span (a date: that day; a time
    /// without a fraction: that second) or the interval (an end given as
    /// a date includes that day).
    #[param(value_type = Option<String>, example = "2027-01-01T00:00:00+08:00")]
    datetime: (),
}

/// The languages `filter` is read in.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the parameter read by `Filter::parse`
pub(super) enum FilterLang {
    #[schema(rename = "cql2-text")]
    Cql2Text,
    #[schema(rename = "cql2-json")]
    Cql2Json,
    #[schema(rename = "cql-text")]
    CqlText,
}

/// The `f` parameter of a single feature.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct FeatureFormat {
    /// The encoding: `json` or `geojson`, both GeoJSON (the default).
    #[param(value_type = Option<String>, pattern = "^(json|geojson)?$", example = "json")]
    f: (),
    /// As for the items: the grid as it was (or will be) at this instant.
    #[param(value_type = Option<OptionalMoment>, example = "2027-01-01T00:00:00+08:00")]
    datetime: (),
    /// As for the items: the CRS of the coordinates.
    #[param(value_type = Option<CrsName>, inline, example = "EPSG:4490")]
    crs: (),
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
    /// In CRS84, whatever `bbox-crs` it was given in.
    bbox: Option<Bbox>,
    paging: Paging,
    /// The `f` given, repeated in links.
    f: Option<String>,
    /// `datetime`, and its text as given (repeated in links).
    datetime: Option<(When, String)>,
    /// The CRS of the answer's coordinates.
    crs: Crs,
    /// `filter`, checked against the collection's queryables.
    filter: Option<Filter>,
}

/// What `datetime` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// An instant, and the end of the span its text names: a date is its
    /// whole day, a time its second (or, with a fraction, that instant).
    Instant(Timestamp, Timestamp),
    /// From, and until (exclusive; a date as the end includes its day).
    /// Either end open (`..` or empty).
    Interval(Option<Timestamp>, Option<Timestamp>),
}

impl When {
    /// Whether `t` falls in it.
    fn contains(self, t: Timestamp) -> bool {
        match self {
            When::Instant(from, until) => t >= from && t < until,
            When::Interval(from, until) => {
                from.is_none_or(|f| t >= f) && until.is_none_or(|u| t < u)
            }
        }
    }
}

/// A moment as `datetime` gives it, and the end of the span its text
/// names (exclusive).
fn moment_span(text: &str) -> Result<(Timestamp, Timestamp), ApiError> {
    let text = text.trim();
    let at = crate::api::params::parse_moment("datetime", text)?;
    let length = if !text.contains('T') && !text.contains('t') {
        jiff::SignedDuration::from_hours(24)
    } else if text.contains('.') {
        jiff::SignedDuration::from_nanos(1)
    } else {
        jiff::SignedDuration::from_secs(1)
    };
    let until = at.checked_add(length).map_err(|_| {
        ApiError::bad_parameter(
            "datetime",
            text!(
                "datetime: {text:?} is out of range",
                "datetime：{text:?} 超出范围"
            ),
        )
    })?;
    Ok((at, until))
}

impl ItemsRequest {
    fn parse(
        query: Vec<(String, String)>,
        source: &dyn FeatureSource,
    ) -> Result<ItemsRequest, ApiError> {
        let params = QueryParams::accept(query, &ITEMS_PARAMS)?;
        let bbox_crs = params
            .get("bbox-crs")
            .map(|t| Crs::parse("bbox-crs", t))
            .transpose()?
            .unwrap_or(Crs::Crs84);
        if let Some(t) = params.get("filter-crs")
            && Crs::parse("filter-crs", t)? != Crs::Crs84
        {
            return Err(ApiError::bad_parameter(
                "filter-crs",
                text!(
                    "filter-crs: filters take CRS84 coordinates only",
                    "filter-crs：filter 只接受 CRS84 坐标"
                ),
            ));
        }
        let datetime = params.get("datetime").map(parse_datetime).transpose()?;
        if source.time() == CollectionTime::Versions
            && let Some((When::Interval(..), text)) = &datetime
        {
            let id = source.id();
            return Err(ApiError::bad_parameter(
                "datetime",
                text!(
                    "datetime: the collection {id:?} holds one version of the grids at a time; \
                     give one instant such as 2027-01-01T00:00:00+08:00, not the interval {text:?}",
                    "datetime：集合 {id:?} 每次只提供网格的一个版本，请给出一个时刻（例如 \
                     2027-01-01T00:00:00+08:00），不能给出时段 {text:?}"
                ),
            ));
        }
        Ok(ItemsRequest {
            bbox: params
                .get("bbox")
                .map(|b| parse_bbox(b, bbox_crs))
                .transpose()?,
            paging: Paging {
                limit: params.get("limit").map_or(Ok(DEFAULT_LIMIT), parse_limit)?,
                offset: params.get("offset").map_or(Ok(0), parse_offset)?,
            },
            f: params.format(&FEATURE_FORMATS)?,
            datetime,
            crs: params
                .get("crs")
                .map(|t| Crs::parse("crs", t))
                .transpose()?
                .unwrap_or(Crs::Crs84),
            filter: match params.get("filter") {
                Some(t) => Some(Filter::parse(
                    t,
                    params.get("filter-lang"),
                    source.queryables(),
                )?),
                None => {
                    // Checked without a filter too: a wrong name is a
                    // mistake to report, not to ignore.
                    Filter::check_lang(params.get("filter-lang"))?;
                    None
                }
            },
        })
    }

    /// The instant of the version to read, for a collection with versions.
    fn version_at(&self, source: &dyn FeatureSource) -> Option<Timestamp> {
        match (&self.datetime, source.time()) {
            (Some((When::Instant(at, _), _)), CollectionTime::Versions) => Some(*at),
            _ => None,
        }
    }

    /// The time window features must fall in, for a collection whose
    /// features each have a time.
    fn window(&self, source: &dyn FeatureSource) -> Option<When> {
        match (&self.datetime, source.time()) {
            (Some((when, _)), CollectionTime::PerFeature) => Some(*when),
            _ => None,
        }
    }

    /// The query string of another page of the same selection.
    fn query(&self, paging: Paging) -> String {
        let mut q = items_query(paging.limit, paging.offset, self.bbox, self.f.as_deref());
        let mut add = |name: &str, value: &str| {
            q.push('&');
            q.push_str(name);
            q.push('=');
            q.push_str(&super::links::path_segment(value));
        };
        if let Some((_, text)) = &self.datetime {
            add("datetime", text);
        }
        if self.crs != Crs::Crs84 {
            add("crs", self.crs.uri());
        }
        if let Some(filter) = &self.filter {
            add("filter", &filter.text);
            if let Some(lang) = &filter.lang {
                add("filter-lang", lang);
            }
        }
        q
    }
}

/// `datetime`: an instant (RFC 3339, or a date) or an interval
/// `start/end` whose ends may be open (`..` or empty).
fn parse_datetime(s: &str) -> Result<(When, String), ApiError> {
    let when = match s.split_once('/') {
        None => {
            let (at, until) = moment_span(s)?;
            When::Instant(at, until)
        }
        Some((from, to)) => {
            let end = |t: &str| -> Result<Option<(Timestamp, Timestamp)>, ApiError> {
                match t.trim() {
                    "" | ".." => Ok(None),
                    t => moment_span(t).map(Some),
                }
            };
            let from = end(from)?.map(|(start, _)| start);
            let to = end(to)?.map(|(_, until)| until);
            if let (Some(f), Some(t)) = (from, to)
                && f >= t
            {
                return Err(ApiError::bad_parameter(
                    "datetime",
                    text!(
                        "datetime: the interval {s:?} ends before it starts",
                        "datetime：时段 {s:?} 的结束时间早于开始时间"
                    ),
                ));
            }
            if from.is_none() && to.is_none() {
                return Err(ApiError::bad_parameter(
                    "datetime",
                    text!(
                        "datetime: the interval {s:?} is open at both ends; leave datetime out",
                        "datetime：时段 {s:?} 两端均未限定，请省略 datetime"
                    ),
                ));
            }
            When::Interval(from, to)
        }
    };
    Ok((when, s.to_owned()))
}

/// `limit`: a whole number of at least 1; above [`MAX_LIMIT`] (however
/// large) it is [`MAX_LIMIT`].
fn parse_limit(s: &str) -> Result<usize, ApiError> {
    let bad = || {
        ApiError::bad_parameter(
            "limit",
            text!(
                "limit must be a whole number from 1 (values over {MAX_LIMIT} are served as \
                 {MAX_LIMIT}), got {s:?}",
                "limit 须为不小于 1 的整数（超过 {MAX_LIMIT} 的按 {MAX_LIMIT} 处理），收到的是 {s:?}"
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

/// `offset`: a whole number from 0 to 2^63 − 1 (as documented, and as
/// the JSON API's incident list).
fn parse_offset(s: &str) -> Result<usize, ApiError> {
    if !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = s.parse::<i64>()
        && let Ok(n) = usize::try_from(n)
    {
        return Ok(n);
    }
    Err(ApiError::bad_parameter(
        "offset",
        text!(
            "offset must be a whole number from 0 to {}, got {s:?}",
            "offset 须为 0 至 {} 之间的整数，收到的是 {s:?}",
            i64::MAX
        ),
    ))
}

/// `bbox`: `minLon,minLat,maxLon,maxLat` in degrees, or four numbers in
/// `crs`'s axis order, or six with heights (ignored); as a CRS84 box.
/// `minLon` greater than `maxLon` is a box across the antimeridian (see
/// [`select`]).
fn parse_bbox(s: &str, crs: Crs) -> Result<Bbox, ApiError> {
    let bad = |why: Text| {
        let (why, why_zh) = (why.en(), why.zh());
        ApiError::bad_parameter(
            "bbox",
            Text::new(
                format!(
                    "bbox must be minLon,minLat,maxLon,maxLat in degrees, or four numbers in \
                     bbox-crs ({why}), got {s:?}"
                ),
                format!(
                    "bbox 须为以度为单位的 minLon,minLat,maxLon,maxLat，或按 bbox-crs 给出的四个数\
                     （{why_zh}），收到的是 {s:?}"
                ),
            ),
        )
    };
    let four_or_six = || text!("four or six numbers", "四个或六个数字");
    let numbers: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad(four_or_six()))?;
    let corners = match numbers[..] {
        [a0, b0, a1, b1] => [a0, b0, a1, b1],
        [a0, b0, _, a1, b1, _] => [a0, b0, a1, b1],
        _ => return Err(bad(four_or_six())),
    };
    if corners.iter().any(|v| !v.is_finite()) {
        return Err(bad(text!("finite numbers", "有限数值")));
    }
    let Bbox {
        min_lon,
        min_lat,
        max_lon,
        max_lat,
    } = crs.bbox_to_crs84(corners);
    let lon_ok = |v: f64| v.is_finite() && (-180.0..=180.0).contains(&v);
    let lat_ok = |v: f64| v.is_finite() && (-90.0..=90.0).contains(&v);
    if !(lon_ok(min_lon) && lon_ok(max_lon) && lat_ok(min_lat) && lat_ok(max_lat)) {
        return Err(bad(text!(
            "longitudes -180 to 180, latitudes -90 to 90",
            "经度在 -180 至 180 之间，纬度在 -90 至 90 之间"
        )));
    }
    if min_lat > max_lat {
        return Err(bad(text!("the minimum latitude first", "最小纬度在前")));
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

/// A GeoJSON response whose coordinates are in `crs` (Part 2's
/// `Content-Crs`).
fn geojson_response(body: Vec<u8>, crs: Crs) -> Response {
    (
        [
            (header::CONTENT_TYPE, GEOJSON.to_owned()),
            (
                header::HeaderName::from_static("content-crs"),
                format!("<{}>", crs.uri()),
            ),
        ],
        body,
    )
        .into_response()
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
            body = FeatureCollectionDoc, content_type = "application/geo+json",
            headers(("Content-Crs" = String, description = "The CRS of the coordinates, \
                as a URI in angle brackets (OGC API - Features Part 2)"))),
        (status = 400, description = "`bbox`, `bbox-crs`, `crs`, `limit`, `offset`, `f`, \
            `datetime` (an interval on a grid collection, too), `filter` (a property that \
            is not queryable, too) or `filter-lang` is malformed, or a parameter is \
            unknown; `parameter` names it",
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
    let request = ItemsRequest::parse(query, source)?;
    let snapshot = source
        .snapshot(&state, request.version_at(source), sees_contacts(&caller))
        .await?;
    let urls = Urls::new(base);
    let time_stamp = rfc3339(SystemTime::now());
    let crs = request.crs;
    let body = blocking("writing a page of features", move || {
        write_page(source, snapshot.as_ref(), &request, &urls, &time_stamp)
    })
    .await?;
    Ok(geojson_response(body, crs))
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
    source: &dyn FeatureSource,
    snapshot: &dyn Snapshot,
    request: &ItemsRequest,
    urls: &Urls,
    time_stamp: &str,
) -> Result<Vec<u8>, ApiError> {
    let failed = |e| ApiError::internal("serialising a page of features", e);
    let collection = source.id();
    let mut keys = select(snapshot, request.bbox);
    if let Some(when) = request.window(source) {
        keys.retain(|&k| snapshot.instant(k).is_some_and(|t| when.contains(t)));
    }
    if let Some(filter) = &request.filter {
        let mut kept = Vec::with_capacity(keys.len());
        for key in keys {
            let (id, properties) = snapshot.filter_view(key);
            if filter.matches(id, properties)? {
                kept.push(key);
            }
        }
        keys = kept;
    }
    let matched = keys.len();
    let page = &keys[request.paging.window(matched)];
    let mut out = Vec::new();
    out.extend_from_slice(br#"{"type":"FeatureCollection","timeStamp":"#);
    serde_json::to_writer(&mut out, time_stamp).map_err(failed)?;
    out.extend_from_slice(
        format!(
            r#","numberMatched":{matched},"numberReturned":{},"links":"#,
            page.len()
        )
        .as_bytes(),
    );
    serde_json::to_writer(&mut out, &page_links(collection, request, matched, urls))
        .map_err(failed)?;
    out.extend_from_slice(br#","features":["#);
    for (i, &key) in page.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_in(snapshot, key, &[], request.crs, &mut out).map_err(failed)?;
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// Append one feature in `crs`.
fn write_in(
    snapshot: &dyn Snapshot,
    key: FeatureKey,
    links: &[Link],
    crs: Crs,
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    if crs == Crs::Crs84 {
        return snapshot.write_feature(key, links, out);
    }
    let mut feature = Vec::new();
    snapshot.write_feature(key, links, &mut feature)?;
    out.extend_from_slice(&crs.convert_feature(feature)?);
    Ok(())
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
            content_type = "application/geo+json",
            headers(("Content-Crs" = String, description = "The CRS of the coordinates, \
                as a URI in angle brackets (OGC API - Features Part 2)"))),
        (status = 400, description = "An unknown query parameter, `f` other than \
            json or geojson, a malformed `datetime` or an unknown `crs`",
            body = ProblemDocument, content_type = "application/problem+json"),
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
    let params = QueryParams::accept(query, &["f", "datetime", "crs"])?;
    params.format(&FEATURE_FORMATS)?;
    let crs = params
        .get("crs")
        .map(|t| Crs::parse("crs", t))
        .transpose()?
        .unwrap_or(Crs::Crs84);
    let at = match params.get("datetime").map(parse_datetime).transpose()? {
        Some((When::Instant(at, _), _)) if source.time() == CollectionTime::Versions => Some(at),
        Some((_, text)) if source.time() == CollectionTime::Versions => {
            return Err(ApiError::bad_parameter(
                "datetime",
                text!(
                    "datetime: give one instant for a grid, not the interval {text:?}",
                    "datetime：查询网格时请给出一个时刻，不能给出时段 {text:?}"
                ),
            ));
        }
        // A feature of a collection without versions is the same at any
        // time it is asked for.
        _ => None,
    };
    let snapshot = source.snapshot(&state, at, sees_contacts(&caller)).await?;
    let key = snapshot.find(&feature).ok_or_else(|| {
        let id = source.id();
        ApiError::NotFound(text!(
            "the collection {id:?} has no feature with id {feature:?}",
            "集合 {id:?} 中未找到编号为 {feature:?} 的要素"
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
    write_in(snapshot.as_ref(), key, &links, crs, &mut body)
        .map_err(|e| ApiError::internal("serialising a feature", e))?;
    Ok(geojson_response(body, crs))
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
    /// The feature's id: for grids, the grid id (a string); for hazards,
    /// the hazard's number.
    #[schema(value_type = FeatureId, example = "620521100")]
    id: String,
    /// A GeoJSON MultiPolygon for grids, a Point or Polygon for hazards.
    #[schema(value_type = Object)]
    geometry: (),
    /// Flat properties: a grid's or a hazard's.
    properties: PropertiesDoc,
    /// `self` and `collection`: on a single feature only.
    links: Option<Vec<Link>>,
}

/// The properties of a feature of either kind of collection.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum PropertiesDoc {
    /// The grid collections.
    Grid(GridProperties<'static>),
    /// `hazards`.
    Hazard(super::hazards::HazardProperties<'static>),
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

    /// Boxes: four (or six, heights ignored) ordered numbers within the
    /// WGS84 ranges, in the axis order of their CRS.
    #[test]
    fn bboxes_are_checked() {
        let corners = |b: Bbox| (b.min_lon, b.min_lat, b.max_lon, b.max_lat);
        let b = parse_bbox("106.1, 34.7,106.2,34.8", Crs::Crs84).expect("a valid box");
        assert_eq!(corners(b), (106.1, 34.7, 106.2, 34.8));
        let b = parse_bbox("106.1,34.7,0,106.2,34.8,100", Crs::Crs84).expect("a 3D box");
        assert_eq!(corners(b), (106.1, 34.7, 106.2, 34.8));
        let b = parse_bbox("34.7,106.1,34.8,106.2", Crs::Epsg4490).expect("latitude first");
        assert_eq!(corners(b), (106.1, 34.7, 106.2, 34.8));
        for bad in [
            "1,2,3",
            "1,2,3,4,5",
            "a,b,c,d",
            "181,0,182,1",
            "0,-91,1,0",
            "0,2,1,1",
            "NaN,0,1,1",
        ] {
            assert!(parse_bbox(bad, Crs::Crs84).is_err(), "{bad:?}");
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
