"""Write the demo city's district polygons (mulhouse-quartiers.geojson).

Two identical copies: ``wifimon/simulator/data/`` (the demo daemon's
``districts_geojson``) and ``dashboards/maps/`` (for Grafana's
``public/maps/``, drawn by the City overview's coverage map).

Provenance: these are NOT official boundaries. The outline of the commune
is drawn by hand as a rough 18-point polygon around Mulhouse (about 7.28 to
7.37 E, 47.726 to 47.785 N), shrunk to 85 % about its centre (22.3 km², the
commune has 22.2 km²) and widened where needed so every simulated site
lies inside. Inside it, each point of the city belongs to the quartier of
the nearest simulated landmark (``wifimon.simulator.city.DISTRICTS``):
Voronoi cells of points sampled every 20 m over each landmark's AP disc,
merged per quartier, clipped to the outline and simplified as one coverage
(shared borders stay shared). So the 15 quartiers tile the city
plausibly, and every simulated AP (placed within its landmark's radius)
lies inside its own quartier, whatever the city's size or seed.

Run after changing the landmarks::

    .venv/bin/python scripts/generate_demo_districts.py           # rewrite the file
    .venv/bin/python scripts/generate_demo_districts.py --check   # exit 1 if stale
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pyproj
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wifimon.simulator.city import DISTRICTS, KIND_RADIUS_M  # noqa: E402 - after the path

OUTPUTS = (
    ROOT / "wifimon" / "simulator" / "data" / "mulhouse-quartiers.geojson",
    ROOT / "dashboards" / "maps" / "mulhouse-quartiers.geojson",
)
SAMPLE_SPACING_M = 20.0
SITE_MARGIN_M = 15.0  # sampled beyond the AP disc, so APs sit well inside
OUTLINE_MARGIN_M = 150.0
SIMPLIFY_M = 8.0
OUTLINE_SCALE = 0.85
# A rough outline of the commune of Mulhouse, clockwise from the north (lon, lat).
OUTLINE = (
    (7.3290, 47.7850), (7.3450, 47.7800), (7.3600, 47.7720), (7.3700, 47.7620),
    (7.3720, 47.7520), (7.3620, 47.7430), (7.3600, 47.7340), (7.3530, 47.7270),
    (7.3400, 47.7260), (7.3250, 47.7270), (7.3100, 47.7260), (7.2960, 47.7300),
    (7.2850, 47.7390), (7.2830, 47.7480), (7.2900, 47.7560), (7.2980, 47.7640),
    (7.3080, 47.7720), (7.3180, 47.7800),
)  # fmt: skip
TO_METRES = pyproj.Transformer.from_crs(
    "EPSG:4326",
    pyproj.CRS.from_dict(
        {"proj": "laea", "lat_0": 47.75, "lon_0": 7.33, "datum": "WGS84", "units": "m"}
    ),
    always_xy=True,
)


def _metres(lon: float, lat: float) -> tuple[float, float]:
    x, y = TO_METRES.transform(lon, lat)
    return float(x), float(y)


def _transform(
    geometry: shapely.Geometry, direction: pyproj.enums.TransformDirection
) -> shapely.Geometry:
    def apply(xy: np.ndarray) -> np.ndarray:
        x, y = TO_METRES.transform(xy[:, 0], xy[:, 1], direction=direction)
        return np.column_stack([x, y])

    return shapely.transform(geometry, apply)


def _samples() -> tuple[list[tuple[float, float]], list[int], list[shapely.Geometry]]:
    """Points over every landmark's disc, the index of their quartier, and
    each quartier's union of discs."""
    points: list[tuple[float, float]] = []
    owners: list[int] = []
    discs: list[shapely.Geometry] = []
    for owner, district in enumerate(DISTRICTS):
        parts = []
        for site in district.sites:
            cx, cy = _metres(site.longitude, site.latitude)
            radius = KIND_RADIUS_M[site.kind] + SITE_MARGIN_M
            parts.append(shapely.Point(cx, cy).buffer(radius))
            steps = math.ceil(radius / SAMPLE_SPACING_M)
            for i in range(-steps, steps + 1):
                for j in range(-steps, steps + 1):
                    dx, dy = i * SAMPLE_SPACING_M, j * SAMPLE_SPACING_M
                    if dx * dx + dy * dy <= radius * radius:
                        points.append((cx + dx, cy + dy))
                        owners.append(owner)
        discs.append(shapely.union_all(parts))
    return points, owners, discs


def quartiers() -> list[tuple[str, shapely.Geometry]]:
    """Each quartier's polygon in WGS84, in the order of ``DISTRICTS``."""
    points, owners, discs = _samples()
    outline = shapely.Polygon([_metres(lon, lat) for lon, lat in OUTLINE])
    # The hand-drawn outline is generous; shrunk, it is near the commune's 22 km².
    outline = shapely.affinity.scale(outline, OUTLINE_SCALE, OUTLINE_SCALE)
    outline = shapely.union_all([outline, *(d.buffer(OUTLINE_MARGIN_M) for d in discs)])
    outline = outline.buffer(200).buffer(-200)  # round off the bumps the discs add
    cells = shapely.voronoi_polygons(shapely.MultiPoint(points), extend_to=outline)
    owner_of = shapely.STRtree(shapely.points(points))
    merged: list[list[shapely.Geometry]] = [[] for _ in DISTRICTS]
    for cell in cells.geoms:
        inside = owner_of.query(cell, predicate="contains")
        merged[owners[int(inside[0])]].append(cell)
    shapes = [shapely.union_all(parts).intersection(outline) for parts in merged]
    shapes = list(shapely.coverage_simplify(shapes, SIMPLIFY_M))
    back = pyproj.enums.TransformDirection.INVERSE
    result = []
    for district, shape in zip(DISTRICTS, shapes, strict=True):
        degrees = shapely.set_precision(_transform(shape, back), 1e-6)
        result.append((district.name, shapely.make_valid(degrees)))
    return result


def render() -> str:
    features = [
        {
            "type": "Feature",
            "id": name,  # Grafana's dynamic GeoJSON layer matches query rows on the feature id
            "properties": {"name": name},
            "geometry": shapely.geometry.mapping(shape),
        }
        for name, shape in quartiers()
    ]
    document = {
        "type": "FeatureCollection",
        "name": "mulhouse-quartiers (approximate, generated; see "
        "scripts/generate_demo_districts.py)",
        "features": features,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    text = render()
    if parser.parse_args().check:
        stale = [p for p in OUTPUTS if not p.is_file() or p.read_text(encoding="utf-8") != text]
        print("\n".join(f"stale: {path}" for path in stale) or "fresh")
        return 1 if stale else 0
    for path in OUTPUTS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
