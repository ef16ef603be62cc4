"""The `georeport` client from PyPI reading a wangge server's Open311
endpoint in both formats.

Usage: georeport_client.py BASE_URL API_KEY LAT LONG

First posts a request the way the spec says (a form with `api_key`, no
description) with `requests`, since the `georeport` client only reads.
The client sends no credential on reads; the key is added as the
`api_key` query parameter, which wangge accepts on Open311 paths. Prints
one JSON document: the id posted and what the client read, per format,
for the Rust test to compare with wangge's own API.
"""
import json
import sys

import requests
import georeport.georeport as client_module
from georeport import GeoReport

base, key, lat, long = sys.argv[1:5]

posted = requests.post(
    f"{base}/open311/v2/requests.json",
    data={"api_key": key, "service_code": "sanitation", "lat": lat, "long": long,
          "jurisdiction_id": "wangge"},
)
posted.raise_for_status()
request_id = posted.json()[0]["service_request_id"]

plain_get = requests.get


def get_with_key(url, params=None, **kwargs):
    params = dict(params or {})
    params["api_key"] = key
    return plain_get(url, params=params, **kwargs)


client_module.requests.get = get_with_key


def as_list(value):
    """xmltodict gives a dict for one element, a list for several."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


out = {"posted": request_id}
for fmt in ("json", "xml"):
    client = GeoReport(f"{base}/open311/v2", jurisdiction="wangge", output_format=fmt)
    services = as_list(client.get_service_list())
    definition = client.get_service_definition(services[0]["service_code"])
    one = client.get_service_request(request_id)
    listed = as_list(client.get_service_requests(status="open,closed"))
    out[fmt] = {
        "service_codes": [s["service_code"] for s in services],
        "service_names": [s["service_name"] for s in services],
        "definition_code": definition["service_code"],
        "request": {k: str(one[k]) for k in ("service_request_id", "status", "service_code",
                                              "description", "lat", "long", "address_id")},
        "listed_ids": [r["service_request_id"] for r in listed],
    }
print(json.dumps(out, ensure_ascii=False))
