"""The share of each district within reach of an AP that is up.

Each AP covers a disc of its radius around its position. A district's
coverage ratio is the area of the union of the discs of the APs that are up,
clipped to the district, divided by the district's area. Overlapping discs
count once, and a disc reaching over a border covers both districts.

Geometry happens in metres, in a Lambert azimuthal equal-area projection
centred on the districts: areas there are exact whatever the city's place
on Earth (no UTM zone edge, no national grid), and distances within a few
tens of kilometres of the centre are off by less than 0.01 %.

Cost: everything that does not depend on which APs are up is done once, in
``CoverageModel(...)``: projecting, buffering each AP into a 64-sided disc
and clipping it to every district it touches. ``ratios(up)`` then only
unions the clipped discs of the up APs. The discs of a district are kept in
blocks of neighbours (``BLOCK_SIZE``), each block's union cached under the
set of its APs that were up: when one AP goes down, only its block's few
discs and the district's few block unions are merged again, and a district
whose APs did not change costs nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely  # type: ignore[import-untyped]  # shapely 2 ships no type hints

from wifimon.geo.districts import DistrictMap
from wifimon.geo.geojson import Geometry

# Segments per quarter circle of a disc: 64 sides in all, whose area is
# 0.16 % below the true circle's.
QUAD_SEGMENTS = 16
# Discs per cached block, and the grid (m) that orders them so that a block
# holds neighbours. Measured on the 10,000-AP demo city: one AP down per
# district costs ~10x less than re-merging whole districts.
BLOCK_SIZE = 32
BLOCK_GRID_M = 250.0


@dataclass(frozen=True, slots=True)
class CoveringAp:
    """An AP that can cover ground: ``ap`` its id (e.g. ``"mul-0042"``),
    position in degrees (e.g. ``7.3392``, ``47.7478``), ``radius_m`` the
    distance it reaches in metres (e.g. ``50.0``)."""

    ap: str
    longitude: float
    latitude: float
    radius_m: float


@dataclass
class _Block:
    """Neighbouring discs of one district (clipped to it), by AP, and the
    union of those that were up at the last call."""

    aps: tuple[str, ...]
    pieces: Sequence[Geometry]
    last_up: frozenset[str] | None = None
    last_union: Geometry | None = None

    def union(self, up: Collection[str]) -> Geometry | None:
        alive = frozenset(ap for ap in self.aps if ap in up)
        if alive != self.last_up:
            pieces = [p for ap, p in zip(self.aps, self.pieces, strict=True) if ap in alive]
            self.last_up = alive
            self.last_union = shapely.union_all(pieces) if pieces else None
        return self.last_union


@dataclass
class _DistrictPieces:
    """One district: its area (m²) and its blocks of clipped discs."""

    area: float
    blocks: list[_Block]
    last_unions: list[Geometry | None] | None = None
    last_ratio: float = 0.0

    def ratio(self, up: Collection[str]) -> float:
        unions = [block.union(up) for block in self.blocks]
        same = self.last_unions is not None and all(
            a is b for a, b in zip(unions, self.last_unions, strict=True)
        )
        if not same:
            present = [union for union in unions if union is not None]
            covered = float(shapely.union_all(present).area) if present else 0.0
            # Clipping and union round at the last bits: keep the ratio within 0..1.
            ratio = covered / self.area if self.area > 0 else 0.0
            self.last_ratio = min(1.0, max(0.0, ratio))
            self.last_unions = unions
        return self.last_ratio


def local_projection(districts: DistrictMap) -> pyproj.Transformer:
    """WGS84 degrees to metres, equal-area, centred on the districts' extent."""
    west, south, east, north = shapely.total_bounds(list(districts.geometries)).tolist()
    crs = pyproj.CRS.from_dict(
        {
            "proj": "laea",
            "lat_0": (south + north) / 2,
            "lon_0": (west + east) / 2,
            "datum": "WGS84",
            "units": "m",
        }
    )
    return pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def project(geometry: Geometry, transformer: pyproj.Transformer) -> Geometry:
    """A shapely geometry in degrees, in the projection's metres."""

    def to_metres(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, to_metres)


class CoverageModel:
    """Coverage of ``districts`` by ``aps``; build once per config load."""

    def __init__(self, districts: DistrictMap, aps: Sequence[CoveringAp]) -> None:
        self.names = districts.names
        transformer = local_projection(districts)
        shapes = [project(geometry, transformer) for geometry in districts.geometries]
        discs = self._discs(aps, transformer)
        by_district: list[list[int]] = [[] for _ in shapes]
        clipped: dict[tuple[int, int], Geometry] = {}
        if len(discs):
            disc_index, district_index = shapely.STRtree(shapes).query(
                discs, predicate="intersects"
            )
            pieces = shapely.intersection(discs[disc_index], np.asarray(shapes)[district_index])
            for disc, district, piece in zip(
                disc_index.tolist(), district_index.tolist(), pieces, strict=True
            ):
                by_district[district].append(disc)
                clipped[(disc, district)] = piece
        centres = shapely.get_coordinates(shapely.centroid(discs)) if len(discs) else None
        self._districts = []
        for d, (shape, members) in enumerate(zip(shapes, by_district, strict=True)):
            if centres is not None:
                members.sort(key=lambda i: (centres[i][0] // BLOCK_GRID_M, centres[i][1]))
            chunks = [members[i : i + BLOCK_SIZE] for i in range(0, len(members), BLOCK_SIZE)]
            blocks = [
                _Block(tuple(aps[i].ap for i in chunk), [clipped[(i, d)] for i in chunk])
                for chunk in chunks
            ]
            self._districts.append(_DistrictPieces(float(shape.area), blocks))
        self._last_up: frozenset[str] | None = None
        self._last_ratios: dict[str, float] = {}

    @staticmethod
    def _discs(aps: Sequence[CoveringAp], transformer: pyproj.Transformer) -> np.ndarray:
        if not aps:
            return np.empty(0, dtype=object)
        x, y = transformer.transform([ap.longitude for ap in aps], [ap.latitude for ap in aps])
        centres = shapely.points(np.column_stack([x, y]))
        radii = np.asarray([ap.radius_m for ap in aps], dtype=float)
        discs: np.ndarray = shapely.buffer(centres, radii, quad_segs=QUAD_SEGMENTS)
        return discs

    def areas(self) -> dict[str, float]:
        """Each district's area in square metres, e.g. ``{"Gare": 1520000.0}``."""
        return {
            name: district.area for name, district in zip(self.names, self._districts, strict=True)
        }

    def ratios(self, up: Collection[str]) -> dict[str, float]:
        """Each district's covered share, 0..1, when the APs ``up`` are up,
        e.g. ``ratios({"mul-0001"})`` -> ``{"Centre": 0.031, "Gare": 0.0}``."""
        up_set = frozenset(up)
        if up_set == self._last_up:
            return dict(self._last_ratios)  # nothing changed since the last poll
        ratios = {
            name: district.ratio(up_set)
            for name, district in zip(self.names, self._districts, strict=True)
        }
        self._last_up, self._last_ratios = up_set, ratios
        return dict(ratios)
