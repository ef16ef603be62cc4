"""GDAL (3.12, as bundled with pyogrio from PyPI) reading a wangge
collection through its OGC API - Features driver, with an attribute filter
and in EPSG:3857.

Usage: gdal_oapif.py BASE_URL TOKEN COLLECTION WHERE LOG_FILE

GDAL turns the OGR SQL `WHERE` into a CQL `filter` when the server's API
definition and queryables allow it; its HTTP debug log (written to
LOG_FILE) shows whether it did. Prints the ids read, the layer's CRS and
the first position of each feature.
"""
import json
import os
import sys

base, token, collection, where, log = sys.argv[1:6]
os.environ.update({
    "GDAL_HTTP_AUTH": "BEARER",
    "GDAL_HTTP_BEARER": token,
    "CPL_DEBUG": "ON",
    "CPL_LOG": log,
})

import pyogrio.raw  # noqa: E402  (GDAL reads the environment when loaded)

meta, fids, geometries, fields = pyogrio.raw.read(
    f"OAPIF:{base}/ogc", layer=collection, where=where, CRS="EPSG:3857", return_fids=True)
from shapely import wkb  # noqa: E402

ids = list(fields[list(meta["fields"]).index("id")]) if "id" in list(meta["fields"]) else []
positions = []
for geometry in geometries:
    shape = wkb.loads(bytes(geometry))
    first = shape.geoms[0].exterior.coords[0] if hasattr(shape, "geoms") else shape.exterior.coords[0]
    positions.append(list(first))
print(json.dumps({
    "crs": meta["crs"],
    "ids": [str(i) for i in ids],
    "first_positions": positions,
    "gdal": pyogrio.__gdal_version_string__,
}))
