//! Links between OGC API resources: the [`Link`] object every response
//! carries, and [`Urls`], which spells the absolute URL of each resource
//! from the base URL the client used (`BaseUrl`). Every link has a `type`:
//! GDAL has failed on OGC API links without one.

use serde::Serialize;
use utoipa::ToSchema;

use super::{GEOJSON, JSON};
use crate::geom::Bbox;

/// A web link (RFC 8288) as OGC API - Features writes it in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(super) struct Link {
    /// The absolute URL of the target.
    #[schema(example = "http://127.0.0.1:8080/ogc/collections/towns/items")]
    pub(super) href: String,
    /// The relation: `self`, `next`, `items`, `service-desc`, …
    #[schema(example = "items")]
    pub(super) rel: &'static str,
    /// The target's media type.
    #[serde(rename = "type")]
    #[schema(example = "application/geo+json")]
    pub(super) media_type: &'static str,
    /// A human-readable label.
    pub(super) title: String,
}

impl Link {
    /// A link with all four members.
    pub(super) fn new(
        href: String,
        rel: &'static str,
        media_type: &'static str,
        title: impl Into<String>,
    ) -> Link {
        Link {
            href,
            rel,
            media_type,
            title: title.into(),
        }
    }
}

/// The absolute URLs of the OGC API resources under one base URL, such as
/// `http://127.0.0.1:8080`.
#[derive(Debug, Clone)]
pub(super) struct Urls {
    base: String,
}

impl Urls {
    /// URLs under `base` (scheme and authority, no trailing slash).
    pub(super) fn new(base: String) -> Urls {
        Urls { base }
    }

    /// The landing page.
    pub(super) fn landing(&self) -> String {
        format!("{}/ogc", self.base)
    }

    /// The OpenAPI document of the whole server, 3.0 or 3.1.
    pub(super) fn openapi(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A collection's queryables.
    pub(super) fn queryables(&self, collection: &str) -> String {
        format!("{}/queryables", self.collection(collection))
    }

    /// The conformance declaration.
    pub(super) fn conformance(&self) -> String {
        format!("{}/ogc/conformance", self.base)
    }

    /// The list of collections.
    pub(super) fn collections(&self) -> String {
        format!("{}/ogc/collections", self.base)
    }

    /// One collection's description.
    pub(super) fn collection(&self, collection: &str) -> String {
        format!("{}/ogc/collections/{}", self.base, path_segment(collection))
    }

    /// A collection's items, without a query.
    pub(super) fn items(&self, collection: &str) -> String {
        format!("{}/items", self.collection(collection))
    }

    /// One feature of a collection.
    pub(super) fn item(&self, collection: &str, feature: &str) -> String {
        format!("{}/{}", self.items(collection), path_segment(feature))
    }

    /// The links every JSON document (landing page, conformance, collections)
    /// carries about itself.
    pub(super) fn self_json(&self, href: String, title: &str) -> Link {
        Link::new(href, "self", JSON, title)
    }

    /// The links to the API definition: the OGC API's own, 3.0, first
    /// (what OWSLib and GDAL look for), then the whole server's in 3.1.
    pub(super) fn service_descs(&self) -> [Link; 2] {
        [
            Link::new(
                format!("{}/api", self.landing()),
                "service-desc",
                crate::api::OPENAPI_30_MEDIA_TYPE,
                "The OpenAPI 3.0 definition of this OGC API",
            ),
            Link::new(
                self.openapi(crate::api::OPENAPI_31_PATH),
                "service-desc",
                crate::api::OPENAPI_31_MEDIA_TYPE,
                "The OpenAPI 3.1 definition of the whole server",
            ),
        ]
    }

    /// A link to a collection's items as GeoJSON.
    pub(super) fn items_link(&self, collection: &str, rel: &'static str, title: &str) -> Link {
        Link::new(self.items(collection), rel, GEOJSON, title)
    }
}

/// The query string of an items page, in a fixed order so that links are
/// stable: `limit`, `offset`, then `bbox` and `f` when the request had them.
pub(super) fn items_query(
    limit: usize,
    offset: usize,
    bbox: Option<Bbox>,
    f: Option<&str>,
) -> String {
    let mut q = format!("limit={limit}&offset={offset}");
    if let Some(b) = bbox {
        // `Display` of f64 is the shortest text that parses back to the same
        // number, so the box in a link selects exactly what this one did.
        q.push_str(&format!(
            "&bbox={},{},{},{}",
            b.min_lon, b.min_lat, b.max_lon, b.max_lat
        ));
    }
    if let Some(f) = f {
        q.push_str("&f=");
        q.push_str(f);
    }
    q
}

/// Percent-encode one path segment (RFC 3986): everything but the
/// unreserved characters, byte by byte in UTF-8. Grid ids are opaque
/// strings and may hold spaces, slashes or Chinese characters.
pub(super) fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unreserved characters pass; everything else is encoded byte by byte.
    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("620521100"), "620521100");
        assert_eq!(path_segment("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(path_segment("a b/c?"), "a%20b%2Fc%3F");
        assert_eq!(path_segment("网"), "%E7%BD%91");
    }

    /// The items query keeps a fixed order and round-trips the box exactly.
    #[test]
    fn items_query_is_stable_and_exact() {
        let bbox = Bbox {
            min_lon: 116.3912345678901,
            min_lat: 39.9,
            max_lon: 116.5,
            max_lat: 40.0,
        };
        assert_eq!(items_query(10, 0, None, None), "limit=10&offset=0");
        let q = items_query(5, 15, Some(bbox), Some("json"));
        assert_eq!(
            q,
            "limit=5&offset=15&bbox=116.3912345678901,39.9,116.5,40&f=json"
        );
    }
}
