"""Reading a GeoJSON FeatureCollection of district polygons, as hostile input.

The file comes from a city's GIS export and may be anything: not JSON, a
single Feature, a MultiLineString, a bowtie polygon, coordinates in Lambert
metres instead of degrees, ``NaN``, nesting a million levels deep. Every
problem becomes a ``FileIssue`` naming the file and the feature (its
index, and its name when it has one), e.g.
``quartiers.geojson:1: features[3].geometry: feature 'Gare': polygon is not
valid: Self-intersection[7.34 47.74]``; nothing else escapes. (The config
loader turns them into its own ``ConfigIssue``; this package does not import
the config, which imports it.)

The structure is checked by hand before shapely sees it, so that shapely is
only ever asked to build polygons out of lists of finite numbers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

# Shapely geometries are untyped; the alias says what the value holds.
Geometry = Any


def shapely_module() -> Any:
    """shapely (with numpy), imported when districts are first used: ~40 MB
    of RSS a daemon without a district map should not carry."""
    import shapely  # type: ignore[import-untyped]  # noqa: PLC0415 - shapely 2 has no hints

    return shapely


POLYGON_TYPES = ("Polygon", "MultiPolygon")
MAX_ISSUES_PER_FILE = 50  # a wholly wrong file gives a readable list, not 10,000 lines


@dataclass(frozen=True, slots=True)
class FileIssue:
    """One problem: ``file`` as shown (e.g. ``"quartiers.geojson"``), ``line``
    1-based, ``path`` inside the document (e.g. ``"features[3].geometry"``,
    empty for the whole file) and ``message``."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f" {self.path}:" if self.path else ""
        return f"{self.file}:{self.line}:{where} {self.message}"


@dataclass(frozen=True, slots=True)
class DistrictShape:
    """One district as read: ``name`` e.g. ``"Gare"``, ``geometry`` a valid
    shapely Polygon or MultiPolygon in WGS84 (x = longitude, y = latitude),
    ``index`` its position in ``features`` (e.g. ``3``)."""

    name: str
    geometry: Geometry
    index: int


class _FeatureError(Exception):
    """One problem of one feature; ``where`` is a key path below the feature."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where


def parse_districts(
    raw: bytes, display: str, name_property: str
) -> tuple[list[DistrictShape], list[FileIssue]]:
    """Every valid district of the file and every issue found, e.g.
    ``parse_districts(b'{"type": "FeatureCollection", ...}', "q.geojson", "name")``."""
    document, issue = _decode(raw, display)
    if issue is not None:
        return [], [issue]
    features, issue = _features(document, display)
    if issue is not None:
        return [], [issue]
    shapes: list[DistrictShape] = []
    issues: list[FileIssue] = []
    first_index: dict[str, int] = {}
    for index, feature in enumerate(features):
        label = _label(feature, name_property)
        try:
            shape = _district(feature, index, name_property)
        except _FeatureError as problem:
            path = f"features[{index}]{problem.where}"
            issues.append(FileIssue(display, 1, path, f"feature {label}: {problem}"))
            continue
        if shape.name in first_index:
            message = (
                f"feature {label}: duplicate district name, "
                f"already used by features[{first_index[shape.name]}]"
            )
            issues.append(FileIssue(display, 1, f"features[{index}]", message))
            continue
        first_index[shape.name] = index
        shapes.append(shape)
    if not features:
        issues.append(FileIssue(display, 1, "features", "the collection has no features"))
    return shapes, issues[:MAX_ISSUES_PER_FILE]


def _decode(raw: bytes, display: str) -> tuple[object, FileIssue | None]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, FileIssue(display, line, "", "district file is not UTF-8 text")
    try:
        return json.loads(text, parse_constant=_reject_constant), None
    except json.JSONDecodeError as exc:
        return None, FileIssue(display, exc.lineno, "", f"not valid JSON: {exc.msg}")
    except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
        return None, FileIssue(display, 1, "", f"not valid JSON: {exc}")
    except RecursionError:
        return None, FileIssue(display, 1, "", "not valid JSON: nested too deeply")


def _reject_constant(name: str) -> object:
    # Python's json accepts NaN and Infinity; RFC 8259 (and every GIS tool) does not.
    raise ValueError(f"{name} is not a JSON number")


def _features(document: object, display: str) -> tuple[list[object], FileIssue | None]:
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        found = document.get("type") if isinstance(document, dict) else None
        shown = f"type {json.dumps(found)[:40]}" if isinstance(found, str) else _kind(document)
        message = f"must be a GeoJSON FeatureCollection, got {shown}"
        return [], FileIssue(display, 1, "type", message)
    features = document.get("features")
    if not isinstance(features, list):
        return [], FileIssue(display, 1, "features", "must be a list of features")
    return features, None


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "null")


def _label(feature: object, name_property: str) -> str:
    """How messages name a feature: ``'Gare'`` when it has a usable name."""
    properties = feature.get("properties") if isinstance(feature, dict) else None
    name = properties.get(name_property) if isinstance(properties, dict) else None
    if isinstance(name, str) and name.strip():
        return json.dumps(name.strip(), ensure_ascii=False)[:80].replace('"', "'")
    return "(unnamed)"


def _district(feature: object, index: int, name_property: str) -> DistrictShape:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _FeatureError("must be a GeoJSON Feature object")
    name = _name(feature.get("properties"), name_property)
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        raise _FeatureError("has no geometry", ".geometry")
    kind = geometry.get("type")
    if kind not in POLYGON_TYPES:
        shown = json.dumps(kind)[:40] if isinstance(kind, str) else _kind(kind)
        raise _FeatureError(f"geometry must be a Polygon or MultiPolygon, got {shown}", ".geometry")
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else _list(coordinates, "polygons")
    if not polygons:
        raise _FeatureError("a MultiPolygon needs at least one polygon", ".geometry.coordinates")
    parts = [_polygon(rings) for rings in polygons]
    shapely = shapely_module()
    try:
        built = shapely.MultiPolygon(parts)
    except (shapely.errors.GEOSException, ValueError) as exc:  # checked above; belt and braces
        raise _FeatureError(f"polygon cannot be built: {exc}", ".geometry") from None
    shape = built.geoms[0] if kind == "Polygon" else built
    if not shape.is_valid:
        reason = shapely.is_valid_reason(shape)
        raise _FeatureError(f"polygon is not valid: {reason}", ".geometry")
    if shape.area == 0:
        raise _FeatureError("polygon has no area", ".geometry")
    return DistrictShape(name, shape, index)


def _name(properties: object, name_property: str) -> str:
    if not isinstance(properties, dict):
        raise _FeatureError(f"has no properties (the name is read from '{name_property}')")
    value = properties.get(name_property)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _FeatureError(f"has no '{name_property}' property (a text)", ".properties")
    name = str(value).strip()
    if not name:
        raise _FeatureError(f"property '{name_property}' is empty", ".properties")
    return name


def _list(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise _FeatureError(f"coordinates must be a list of {what}", ".geometry.coordinates")
    return value


def _polygon(rings: object) -> tuple[list[tuple[float, float]], list[list[tuple[float, float]]]]:
    checked = [_ring(ring) for ring in _list(rings, "linear rings")]
    if not checked:
        raise _FeatureError("a polygon needs an outer ring", ".geometry.coordinates")
    return checked[0], checked[1:]


def _ring(ring: object) -> list[tuple[float, float]]:
    positions = [_position(position) for position in _list(ring, "positions")]
    if len(positions) < 4:
        raise _FeatureError("a linear ring needs at least 4 positions", ".geometry.coordinates")
    if positions[0] != positions[-1]:
        raise _FeatureError("a linear ring must end where it starts", ".geometry.coordinates")
    return positions


def _position(position: object) -> tuple[float, float]:
    values = _list(position, "numbers")
    if not 2 <= len(values) <= 3 or not all(_is_number(v) for v in values):
        raise _FeatureError("a position must be [longitude, latitude]", ".geometry.coordinates")
    longitude, latitude = float(values[0]), float(values[1])  # type: ignore[arg-type]
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        message = (
            f"position [{longitude:g}, {latitude:g}] is outside WGS84 longitude/latitude "
            "(GeoJSON is in degrees: reproject projected coordinates to EPSG:4326)"
        )
        raise _FeatureError(message, ".geometry.coordinates")
    return longitude, latitude


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer with hundreds of digits
        return False
