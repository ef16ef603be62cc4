"""OWSLib's OGC API - Features client against a wangge server.

Usage: owslib_client.py BASE_URL TOKEN BBOX FILTER

Walks the landing page (given with a trailing slash, as users paste it),
the conformance declaration, the API definition, the collections, and
items with bbox (paged), datetime, crs=EPSG:4490 and filter (paged).
Prints one JSON document of what it read for the Rust test to compare
with wangge's own JSON API.
"""
import json
import sys

from owslib.ogcapi.features import Features

base, token, bbox, cql = sys.argv[1:5]
api = Features(f"{base}/ogc/", headers={"Authorization": f"Bearer {token}"})


def all_pages(collection, page_size, **kwargs):
    """Every feature, by limit/offset pages; the ids and the counts seen."""
    ids, offset, matched = [], 0, None
    while True:
        page = api.collection_items(collection, limit=page_size, offset=offset, **kwargs)
        matched = page["numberMatched"]
        ids.extend(str(f["id"]) for f in page["features"])
        offset += page_size
        if offset >= matched:
            return ids, matched


out = {
    "landing_links": sorted({link["rel"] for link in api.links}),
    "conformance": api.conformance()["conformsTo"],
    "api_version": api.api()["openapi"],
    "collections": [c["id"] for c in api.collections()["collections"]],
    "feature_collections": api.feature_collections(),
    "queryables": sorted(api.collection_queryables("basic-grids")["properties"]),
}
out["bbox_ids"], out["bbox_matched"] = all_pages(
    "basic-grids", 50, bbox=[float(v) for v in bbox.split(",")])
out["filter_ids"], out["filter_matched"] = all_pages("basic-grids", 100, filter=cql)
out["hazards_since_2000"], _ = all_pages("hazards", 500, datetime_="2000-01-01T00:00:00Z/..")
out["hazards_before_2000"], _ = all_pages("hazards", 500, datetime_="../2000-01-01T00:00:00Z")
town = api.collection_items("towns", limit=1, crs="EPSG:4490")
out["town_4490"] = {
    "id": town["features"][0]["id"],
    "first_position": town["features"][0]["geometry"]["coordinates"][0][0][0],
    "content_crs": api.response_headers.get("Content-Crs"),
}
print(json.dumps(out, ensure_ascii=False))
