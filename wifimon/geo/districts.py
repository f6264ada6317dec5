"""The city's districts and which one a point lies in.

``read_districts`` loads the ``districts_geojson`` file named by the config
(see ``geojson.py`` for what is checked); ``DistrictMap.locate`` finds the
district of many points at once through an STRtree, so placing 50,000 APs
takes a fraction of a second. A point on the border of two districts goes
to the one listed first in the file, so the answer never depends on luck.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from wifimon.geo.geojson import (
    DistrictShape,
    FileIssue,
    Geometry,
    parse_districts,
    shapely_module,
)

log = logging.getLogger("wifimon.geo")

DEFAULT_NAME_PROPERTY = "name"
UNASSIGNED = "unassigned"  # the district label of an AP outside every district (as normalise's)
MAX_LOGGED_IDS = 20  # the log line names a few APs, never thousands


class DistrictMap:
    """Districts in file order, with a spatial index over their polygons.

    ``names`` e.g. ``("Centre", "Gare")``; ``geometries`` the matching
    shapely polygons in WGS84 (x = longitude, y = latitude).
    """

    def __init__(self, shapes: Sequence[DistrictShape]) -> None:
        self.names: tuple[str, ...] = tuple(shape.name for shape in shapes)
        self.geometries: tuple[Geometry, ...] = tuple(shape.geometry for shape in shapes)
        self._tree = shapely_module().STRtree(self.geometries)

    def __len__(self) -> int:
        return len(self.names)

    def locate(self, points: Sequence[tuple[float, float]]) -> list[str | None]:
        """The district of each ``(longitude, latitude)``, None when outside all,
        e.g. ``locate([(7.3392, 47.7478)])`` -> ``["Centre"]``."""
        if not points or not self.names:
            return [None] * len(points)
        import numpy as np  # noqa: PLC0415 - see shapely_module

        coordinates = np.asarray(points, dtype=float).reshape(-1, 2)
        found = self._tree.query(shapely_module().points(coordinates), predicate="covered_by")
        best: dict[int, int] = {}
        for point, district in zip(found[0].tolist(), found[1].tolist(), strict=True):
            if district < best.get(point, len(self.names)):
                best[point] = district  # on a shared border, the first listed wins
        return [self.names[best[index]] if index in best else None for index in range(len(points))]


def read_districts(
    path: Path, display: str, name_property: str = DEFAULT_NAME_PROPERTY
) -> tuple[DistrictMap | None, list[FileIssue]]:
    """The districts of ``path`` (shown in messages as ``display``), or None
    and the issues that make the file unusable; ``OSError`` if unreadable."""
    shapes, issues = parse_districts(path.read_bytes(), display, name_property)
    if issues:
        return None, issues
    return DistrictMap(shapes), []


def log_unassigned(ap_ids: Sequence[str], display: str) -> None:
    """One warning per config load for APs whose coordinates lie outside every
    district (AP ids only: never an address, a MAC or a secret)."""
    if not ap_ids:
        return
    shown = ", ".join(ap_ids[:MAX_LOGGED_IDS])
    more = f" and {len(ap_ids) - MAX_LOGGED_IDS} more" if len(ap_ids) > MAX_LOGGED_IDS else ""
    log.warning(
        "%d access points lie outside every district of %s, labelled 'unassigned': %s%s",
        len(ap_ids),
        display,
        shown,
        more,
    )
