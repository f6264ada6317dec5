"""District polygons: loading a hostile GeoJSON file, and placing APs in them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wifimon.config import ConfigError, load_config
from wifimon.geo.districts import UNASSIGNED, read_districts
from wifimon.geo.geojson import parse_districts
from wifimon.normalise import UNASSIGNED as NORMALISE_UNASSIGNED

# Two 0.01° squares side by side near Mulhouse's centre: West then East.
WEST = [[7.33, 47.74], [7.34, 47.74], [7.34, 47.75], [7.33, 47.75], [7.33, 47.74]]
EAST = [[7.34, 47.74], [7.35, 47.74], [7.35, 47.75], [7.34, 47.75], [7.34, 47.74]]


def feature(name: object, rings: object, kind: str = "Polygon") -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": kind, "coordinates": rings},
    }


def collection(*features: object) -> dict[str, object]:
    return {"type": "FeatureCollection", "features": list(features)}


def issues_of(document: object) -> list[str]:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    _, issues = parse_districts(raw, "q.geojson", "name")
    return [str(issue) for issue in issues]


def test_points_are_placed_in_the_polygon_around_them(tmp_path: Path) -> None:
    path = tmp_path / "q.geojson"
    path.write_text(json.dumps(collection(feature("West", [WEST]), feature("East", [EAST]))))
    districts, issues = read_districts(path, "q.geojson")
    assert issues == []
    assert districts is not None
    assert districts.names == ("West", "East")
    points = [(7.335, 47.745), (7.345, 47.745), (7.2, 47.745), (7.34, 47.745), (7.33, 47.74)]
    # Outside both -> None; on the shared border -> the first listed; a corner is covered.
    assert districts.locate(points) == ["West", "East", None, "West", "West"]


def test_multipolygons_and_holes_are_honoured() -> None:
    hole = [[7.334, 47.744], [7.336, 47.744], [7.336, 47.746], [7.334, 47.746], [7.334, 47.744]]
    document = collection(
        feature("Ring", [WEST, hole]), feature("Islands", [[EAST], [hole]], "MultiPolygon")
    )
    shapes, issues = parse_districts(json.dumps(document).encode(), "q.geojson", "name")
    assert issues == []
    from wifimon.geo.districts import DistrictMap  # noqa: PLC0415 - the class under test

    found = DistrictMap(shapes).locate([(7.335, 47.745), (7.345, 47.745), (7.331, 47.741)])
    assert found == ["Islands", "Islands", "Ring"]  # the hole belongs to the island only


BOWTIE = [[7.33, 47.74], [7.34, 47.75], [7.34, 47.74], [7.33, 47.75], [7.33, 47.74]]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b'{"type": "FeatureCollection",\n "features": [}', "q.geojson:2: not valid JSON"),
        (b"\xff\xfe not text", "q.geojson:1: district file is not UTF-8 text"),
        ({"type": "Feature"}, 'q.geojson:1: type: must be a GeoJSON FeatureCollection, got type "'),
        ([1, 2], "q.geojson:1: type: must be a GeoJSON FeatureCollection, got a list"),
        ({"type": "FeatureCollection"}, "q.geojson:1: features: must be a list of features"),
        (collection(), "q.geojson:1: features: the collection has no features"),
        (
            collection(feature(None, [WEST])),
            "features[0].properties: feature (unnamed): has no 'name'",
        ),
        (
            collection(feature(" ", [WEST])),
            "features[0].properties: feature (unnamed): property 'name' is empty",
        ),
        (
            collection(feature("Bow", [BOWTIE])),
            "q.geojson:1: features[0].geometry: feature 'Bow': polygon is not valid: "
            "Self-intersection",
        ),
        (
            collection(feature("A", [WEST]), feature("A", [EAST])),
            "features[1]: feature 'A': duplicate district name, already used by features[0]",
        ),
        (
            collection(feature("Metres", [[[1e6, 6e6], [1e6 + 5, 6e6], [1e6, 6e7], [1e6, 6e6]]])),
            "feature 'Metres': position [1e+06, 6e+06] is outside WGS84",
        ),
        (
            collection(feature("Line", [[7.33, 47.74], [7.34, 47.75]], "LineString")),
            'feature \'Line\': geometry must be a Polygon or MultiPolygon, got "LineString"',
        ),
        (collection(feature("Open", [WEST[:-1]])), "a linear ring must end where it starts"),
        (collection(feature("Few", [[WEST[0], WEST[1], WEST[0]]])), "needs at least 4 positions"),
        (b'{"type": "FeatureCollection", "features": [NaN]}', "NaN is not a JSON number"),
        (b"[" * 100_000 + b"]" * 100_000, "q.geojson:1: not valid JSON"),
        (collection("a string"), "features[0]: feature (unnamed): must be a GeoJSON Feature"),
    ],
)  # fmt: skip
def test_problems_name_the_file_and_the_feature(document: object, expected: str) -> None:
    issues = issues_of(document)
    assert any(expected in issue for issue in issues), issues


def test_every_bad_feature_is_reported_at_once() -> None:
    document = collection(feature("Bow", [BOWTIE]), feature("Good", [EAST]), feature(7, "x"))
    issues = issues_of(document)
    assert [issue.split(":")[2].strip() for issue in issues] == [
        "features[0].geometry",
        "features[2].geometry.coordinates",
    ]


# --- hostile input: anything either loads or is a clear issue -------------------

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(min_value=7.2, max_value=7.5),
    st.floats(min_value=47.6, max_value=47.9),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=8))
KEYS = st.sampled_from(["type", "features", "geometry", "properties", "coordinates", "name"])
TYPES = st.sampled_from(
    ["FeatureCollection", "Feature", "Polygon", "MultiPolygon", "Point", "LineString"]
)
JSONISH = st.recursive(
    st.one_of(SCALARS, TYPES),
    lambda inner: st.one_of(
        st.lists(inner, max_size=6), st.dictionaries(st.one_of(KEYS, st.text(max_size=4)), inner)
    ),
    max_leaves=40,
)
POSITION = st.lists(NUMBERS, min_size=0, max_size=4)
RING = st.lists(POSITION, max_size=7).map(lambda r: [*r, r[0]] if r else r)
GEOMETRY = st.fixed_dictionaries(
    {"type": TYPES, "coordinates": st.one_of(st.lists(RING, max_size=2), JSONISH)}
)
FEATURE = st.fixed_dictionaries(
    {
        "type": st.one_of(st.just("Feature"), TYPES),
        "properties": st.one_of(st.fixed_dictionaries({"name": SCALARS}), JSONISH),
        "geometry": st.one_of(GEOMETRY, JSONISH),
    }
)
# Plausible districts (rectangles, maybe overlapping, maybe sharing a name)
# so that whole files load too, not only fail.
RECTANGLE = st.tuples(
    st.floats(-179.5, 179.5), st.floats(-89.5, 89.5), st.floats(1e-4, 0.4), st.floats(1e-4, 0.4)
).map(lambda r: [[[r[0], r[1]], [r[0] + r[2], r[1]], [r[0] + r[2], r[1] + r[3]],
                  [r[0], r[1] + r[3]], [r[0], r[1]]]])  # fmt: skip
PLAUSIBLE = st.builds(feature, st.text(min_size=1, max_size=3), RECTANGLE)
DOCUMENTS = st.one_of(
    JSONISH,
    st.fixed_dictionaries(
        {"type": st.just("FeatureCollection"), "features": st.lists(FEATURE, max_size=4)}
    ),
    st.builds(
        lambda features: collection(*features),
        st.lists(st.one_of(PLAUSIBLE, PLAUSIBLE, FEATURE), min_size=1, max_size=4),
    ),
)


def _dump(document: object) -> bytes:
    return json.dumps(document, allow_nan=True).encode()


def _check_issues(raw: bytes) -> None:
    shapes, issues = parse_districts(raw, "q.geojson", "name")
    for issue in issues:
        assert issue.file == "q.geojson"
        assert issue.line >= 1
        assert issue.path in ("", "type", "features") or issue.path.startswith("features[")
        if issue.path.startswith("features["):
            assert issue.message.startswith("feature ")
    if not issues:
        assert all(shape.geometry.is_valid and shape.geometry.area > 0 for shape in shapes)
        assert len({shape.name for shape in shapes}) == len(shapes)


@settings(max_examples=400, deadline=None)
@given(DOCUMENTS)
def test_garbled_geojson_loads_or_names_file_and_feature(document: object) -> None:
    _check_issues(_dump(document))


@settings(max_examples=200, deadline=None)
@given(DOCUMENTS, st.data())
def test_truncated_or_corrupted_bytes_never_escape(document: object, data: st.DataObject) -> None:
    raw = bytearray(_dump(document))
    if raw:
        cut = data.draw(st.integers(0, len(raw)))
        flip = data.draw(st.integers(0, len(raw) - 1))
        raw[flip] = data.draw(st.integers(0, 255))
        raw = raw[:cut] if data.draw(st.booleans()) else raw
    _check_issues(bytes(raw))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(DOCUMENTS)
def test_garbled_geojson_through_load_config_is_a_config_error(
    tmp_path: Path, document: object
) -> None:
    (tmp_path / "q.geojson").write_bytes(_dump(document))
    (tmp_path / "c.yaml").write_text("districts_geojson: q.geojson\n")
    files: set[str] = set()
    try:
        load_config(tmp_path / "c.yaml", environ={})
    except ConfigError as error:
        files = {issue.file for issue in error.issues}
    assert files <= {str(tmp_path / "q.geojson")}


# --- the config: districts_geojson -----------------------------------------------


def write_city(tmp_path: Path, aps: str, districts: object | None = None) -> Path:
    if districts is None:
        districts = collection(feature("West", [WEST]), feature("East", [EAST]))
    (tmp_path / "q.geojson").write_text(json.dumps(districts))
    (tmp_path / "aps.csv").write_text(aps)
    (tmp_path / "c.yaml").write_text(
        "districts_geojson: q.geojson\ninventory_csv: aps.csv\n"
        "credentials: {c: {version: 2c, community: public}}\n"
        "controllers: [{name: wlc, host: 10.0.0.1, credentials: c, district: FromWlc}]\n"
    )
    return tmp_path / "c.yaml"


def test_aps_without_district_are_placed_by_position(tmp_path: Path) -> None:
    path = write_city(
        tmp_path,
        "ap,name,controller,district,latitude,longitude,coverage_radius_m\n"
        "in-west,w,wlc,,47.745,7.335,\n"
        "in-east,e,wlc,,47.745,7.345,80\n"
        "explicit,x,wlc,Harbour,47.745,7.345,\n"
        "far-away,f,wlc,,48.8566,2.3522,\n"
        "no-position,n,wlc,,,,\n",
    )
    config = load_config(path, environ={})
    districts = {ap.ap: ap.district for ap in config.access_points}
    assert districts == {
        "in-west": "West",
        "in-east": "East",
        "explicit": "Harbour",  # its own district wins over the polygon
        "far-away": UNASSIGNED,  # outside every polygon, not the controller's
        "no-position": "FromWlc",  # without coordinates, the controller's default
    }
    assert config.districts is not None
    assert config.districts_geojson == tmp_path / "q.geojson"
    assert [ap.coverage_radius_m for ap in config.access_points][:2] == [None, 80.0]


def test_unassigned_is_the_label_normalise_uses() -> None:
    assert UNASSIGNED == NORMALISE_UNASSIGNED


def test_a_bad_district_file_is_a_config_error_with_the_feature(tmp_path: Path) -> None:
    path = write_city(
        tmp_path, "ap,name,controller\nap-1,one,wlc\n", collection(feature("Bow", [BOWTIE]))
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    (issue,) = caught.value.issues
    assert issue.file == str(tmp_path / "q.geojson")
    assert issue.path == "features[0].geometry"
    assert issue.message.startswith("feature 'Bow': polygon is not valid")


def test_a_missing_district_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("# districts\ndistricts_geojson: nowhere.geojson\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "c.yaml", environ={})
    assert [str(issue) for issue in caught.value.issues] == [
        f"{tmp_path / 'c.yaml'}:2: districts_geojson: district file "
        f"{tmp_path / 'nowhere.geojson'} does not exist"
    ]


def test_the_name_property_is_configurable(tmp_path: Path) -> None:
    named = {**feature("x", [WEST]), "properties": {"nom_quartier": "Ouest"}}
    (tmp_path / "q.geojson").write_text(json.dumps(collection(named)))
    (tmp_path / "c.yaml").write_text(
        "districts_geojson: q.geojson\ndistricts_name_property: nom_quartier\n"
    )
    config = load_config(tmp_path / "c.yaml", environ={})
    assert config.districts is not None
    assert config.districts.names == ("Ouest",)


def test_placing_fifty_thousand_aps_is_vectorised(tmp_path: Path) -> None:
    # Not a timing assertion: it checks the answer for a city-sized batch.
    path = tmp_path / "q.geojson"
    path.write_text(json.dumps(collection(feature("West", [WEST]), feature("East", [EAST]))))
    districts, _ = read_districts(path, "q.geojson")
    assert districts is not None
    points = [
        (7.33 + 0.02 * (i % 1000 + 0.5) / 1000, 47.745 + 0.001 * math.sin(i)) for i in range(50_000)
    ]
    found = districts.locate(points)
    assert found.count("West") == 25_000  # 1000 columns, none on the border
    assert found.count("East") == 25_000


def test_check_config_exits_2_naming_the_bad_feature(tmp_path: Path) -> None:
    from click.testing import CliRunner  # noqa: PLC0415 - only this test drives the CLI

    from wifimon.cli import main  # noqa: PLC0415

    path = write_city(
        tmp_path, "ap,name,controller\nap-1,one,wlc\n", collection(feature("Bow", [BOWTIE]))
    )
    result = CliRunner().invoke(main, ["check-config", "-c", str(path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'q.geojson'}:1: features[0].geometry: feature 'Bow'" in result.output
