"""Schemathesis hooks for tests/openapi_tools.rs.

Two kinds, both for schema-valid (positive) cases only:

* Rules between parameters that a JSON Schema cannot state are made to
  hold, so that a positive case is positive: a box's minimum before its
  maximum, a period's start before its end, a coordinate system only for
  the formats that have one, Open311's 90-day window.
* The run never locks itself out: it does not disable, demote or change
  the password of the user whose token it sends, nor revoke that token
  (`WANGGE_ST_USER_ID`, `WANGGE_ST_TOKEN_ID`); such a case is sent to a
  user number nobody has instead. This applies to every case.
"""

import datetime
import os

import schemathesis
from schemathesis import GenerationMode


def _positive(case):
    meta = getattr(case, "meta", None)
    return meta is None or meta.generation.mode == GenerationMode.POSITIVE


def _ordered_bbox(text):
    try:
        a0, b0, a1, b1 = (float(v) for v in text.split(","))
    except ValueError:
        return text
    parts = text.split(",")
    lon = sorted([(a0, parts[0]), (a1, parts[2])])
    lat = sorted([(b0, parts[1]), (b1, parts[3])])
    return ",".join([lon[0][1], lat[0][1], lon[1][1], lat[1][1]])


def _lines_with_two_places(body):
    """A road line needs two different positions (a loop may repeat its
    first one, so the schema cannot say it): a line generated with one
    place only gets its last position moved by 0.001 degree."""
    features = body.get("features") if isinstance(body, dict) else None
    for feature in features if isinstance(features, list) else []:
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict):
            continue
        coordinates = geometry.get("coordinates")
        if not isinstance(coordinates, list):
            continue
        lines = coordinates if geometry.get("type") == "MultiLineString" else [coordinates]
        for line in lines:
            if not isinstance(line, list) or len(line) < 2:
                continue
            places = {tuple(p[:2]) for p in line if isinstance(p, list)}
            if len(places) == 1 and isinstance(line[-1], list) and len(line[-1]) >= 2:
                lon = line[-1][0]
                line[-1] = [lon + 0.001 if lon < 179 else lon - 0.001] + line[-1][1:]


def _when(text):
    if text == "now":
        return datetime.datetime.now(datetime.timezone.utc)
    try:
        if len(text) == 10:
            return datetime.datetime.fromisoformat(text + "T00:00:00+08:00")
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# A user number no user has: the run's own user is replaced by it where a
# case would lock the run out (the answer is then 404).
NOBODY = "999999999"


def _protect_own_credentials(case):
    user = os.environ.get("WANGGE_ST_USER_ID")
    token = os.environ.get("WANGGE_ST_TOKEN_ID")
    params = case.path_parameters
    if not isinstance(params, dict) or not _same_number(params.get("id"), user):
        return
    path, method = case.operation.path, case.method.upper()
    if method == "PATCH" and path == "/api/users/{id}":
        params["id"] = NOBODY
    elif (
        method == "DELETE"
        and path == "/api/users/{id}/tokens/{token_id}"
        and _same_number(params.get("token_id"), token)
    ):
        params["id"] = NOBODY


def _same_number(value, number):
    """Whether a path value names `number` as the server reads it (`01`,
    `+1` and ` 1` are 1 too)."""
    if value is None or number is None:
        return False
    try:
        return int(str(value).strip()) == int(number)
    except ValueError:
        return False


@schemathesis.hook
def before_call(context, case, kwargs):
    _protect_own_credentials(case)
    if not _positive(case):
        return
    query = case.query
    if not isinstance(query, dict):
        return
    path = case.operation.path
    bbox = query.get("bbox")
    if isinstance(bbox, str) and bbox and path.startswith("/api/"):
        query["bbox"] = _ordered_bbox(bbox)
    start, end = query.get("from"), query.get("to")
    if path.startswith("/api/") and isinstance(start, str) and start:
        a = _when(start)
        b = _when(end) if isinstance(end, str) and end else None
        if isinstance(end, str) and end and a and b and a.tzinfo and b.tzinfo and a >= b:
            query["from"], query["to"] = end, start
            if a == b:
                del query["from"]
        elif not end and a and a.tzinfo and a >= _when("now"):
            # `to` defaults to now: a start later than that is no period.
            del query["from"]
    if path == "/api/roads" and case.method.upper() == "PUT":
        _lines_with_two_places(case.body)
    if path == "/api/grids/export" and query.get("format") in (None, "", "geojson"):
        query.pop("crs", None)
    if path == "/open311/v2/requests.{format}":
        a, b = _when(query.get("start_date") or ""), _when(query.get("end_date") or "")
        if a is not None and b is not None:
            # At most 90 days apart, start first: keep the start.
            del query["end_date"]
