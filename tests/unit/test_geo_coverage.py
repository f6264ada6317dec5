"""Coverage per district, checked against geometry whose answer is known.

The oracle for areas is pyproj's geodesic area on the WGS84 ellipsoid
(Karney's algorithm), computed independently of wifimon's projection. A
disc is drawn with 64 sides, whose area is (64/2)·r²·sin(2π/64): that is the
exact value the model must reproduce, and it is 0.16 % below π·r².
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pyproj
import pytest
import yaml

from wifimon.catalogue import metric
from wifimon.config import load_config
from wifimon.geo.coverage import QUAD_SEGMENTS, CoverageModel, CoveringAp
from wifimon.geo.district_metrics import DistrictMetrics
from wifimon.geo.districts import DistrictMap, read_districts
from wifimon.normalise import KnownAp
from wifimon.snapshot import Sample, TargetSnapshot

GEOD = pyproj.Geod(ellps="WGS84")
CENTRE = (7.3392, 47.7478)  # Place de la Réunion, Mulhouse (lon, lat)
SIDES = 4 * QUAD_SEGMENTS


def polygon_area(radius: float) -> float:
    """The area of the regular polygon the model draws for a disc of ``radius``."""
    return SIDES / 2 * radius**2 * math.sin(2 * math.pi / SIDES)


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point ``east_m``/``north_m`` metres away along geodesics."""
    lon, lat, _ = GEOD.fwd(lon, lat, 90.0, east_m)
    lon, lat, _ = GEOD.fwd(lon, lat, 0.0, north_m)
    return lon, lat


def square(centre: tuple[float, float], side_m: float) -> list[list[float]]:
    """A square ring of ``side_m`` metres around ``centre``: corners at
    ``side/√2`` from the centre on the diagonals, as a surveyor would set them."""
    half_diagonal = side_m / math.sqrt(2)
    corners = [GEOD.fwd(*centre, azimuth, half_diagonal)[:2] for azimuth in (45, 135, 225, 315)]
    return [[lon, lat] for lon, lat in [*corners, corners[0]]]


def geodesic_area(ring: list[list[float]]) -> float:
    area, _ = GEOD.polygon_area_perimeter([p[0] for p in ring], [p[1] for p in ring])
    return abs(area)


def district_file(tmp_path: Path, rings: dict[str, list[list[float]]]) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for name, ring in rings.items()
    ]
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def load_map(path: Path) -> DistrictMap:
    districts, issues = read_districts(path, path.name)
    assert issues == []
    assert districts is not None
    return districts


@pytest.fixture
def km_square(tmp_path: Path) -> tuple[DistrictMap, float]:
    ring = square(CENTRE, 1000.0)
    return load_map(district_file(tmp_path, {"Square": ring})), geodesic_area(ring)


def test_one_ap_in_the_middle_of_a_square_kilometre(km_square: tuple[DistrictMap, float]) -> None:
    districts, true_area = km_square
    model = CoverageModel(districts, [CoveringAp("ap-1", *CENTRE, 100.0)])
    assert model.areas()["Square"] == pytest.approx(true_area, rel=1e-4)
    assert true_area == pytest.approx(1e6, rel=5e-3)
    ratio = model.ratios({"ap-1"})["Square"]
    assert ratio == pytest.approx(math.pi * 100**2 / 1e6, rel=5e-3)
    assert ratio == pytest.approx(polygon_area(100.0) / true_area, rel=1e-4)


def test_a_down_ap_covers_nothing(km_square: tuple[DistrictMap, float]) -> None:
    districts, _ = km_square
    model = CoverageModel(districts, [CoveringAp("ap-1", *CENTRE, 100.0)])
    assert model.ratios(set()) == {"Square": 0.0}
    assert model.ratios({"another-ap"}) == {"Square": 0.0}


def test_overlapping_discs_count_once(km_square: tuple[DistrictMap, float]) -> None:
    districts, true_area = km_square
    twins = [CoveringAp("a", *CENTRE, 100.0), CoveringAp("b", *CENTRE, 100.0)]
    apart = [*twins, CoveringAp("c", *offset(*CENTRE, 300.0, 0.0), 50.0)]
    model = CoverageModel(districts, apart)
    assert model.ratios({"a", "b"})["Square"] == pytest.approx(
        polygon_area(100.0) / true_area, rel=1e-4
    )
    expected = (polygon_area(100.0) + polygon_area(50.0)) / true_area
    assert model.ratios({"a", "b", "c"})["Square"] == pytest.approx(expected, rel=1e-4)
    assert model.ratios({"b", "c"})["Square"] == pytest.approx(expected, rel=1e-4)


def test_a_disc_on_a_border_covers_both_districts_by_half(tmp_path: Path) -> None:
    west_centre = offset(*CENTRE, -500.0, 0.0)
    east_centre = offset(*CENTRE, 500.0, 0.0)
    west, east = square(west_centre, 1000.0), square(east_centre, 1000.0)
    # Share the border exactly: the east square's west corners (SW, NW) are
    # the west square's east corners (SE, NE). Rings run NE, SE, SW, NW, NE.
    east_ring = [east[0], east[1], west[1], west[0], east[0]]
    districts = load_map(district_file(tmp_path, {"West": west, "East": east_ring}))
    model = CoverageModel(districts, [CoveringAp("mid", *CENTRE, 100.0)])
    ratios = model.ratios({"mid"})
    areas = model.areas()
    covered = {name: ratios[name] * areas[name] for name in ratios}
    assert covered["West"] == pytest.approx(polygon_area(100.0) / 2, rel=2e-3)
    assert covered["East"] == pytest.approx(polygon_area(100.0) / 2, rel=2e-3)


def test_a_district_far_from_the_centre_of_projection_keeps_exact_areas(tmp_path: Path) -> None:
    # Two districts 300 km apart (Mulhouse and Paris): the projection is
    # centred between them, where distances stretch most; areas stay exact.
    paris = (2.3522, 48.8566)
    rings = {"Mulhouse": square(CENTRE, 1000.0), "Paris": square(paris, 2000.0)}
    districts = load_map(district_file(tmp_path, rings))
    model = CoverageModel(districts, [CoveringAp("p", *paris, 100.0)])
    assert model.areas()["Paris"] == pytest.approx(geodesic_area(rings["Paris"]), rel=1e-4)
    assert model.areas()["Mulhouse"] == pytest.approx(geodesic_area(rings["Mulhouse"]), rel=1e-4)
    assert model.ratios({"p"})["Paris"] == pytest.approx(math.pi * 100**2 / 4e6, rel=5e-3)


def test_unchanged_up_set_returns_the_same_numbers(km_square: tuple[DistrictMap, float]) -> None:
    districts, _ = km_square
    model = CoverageModel(districts, [CoveringAp("a", *CENTRE, 100.0)])
    first = model.ratios({"a"})
    again = model.ratios(frozenset({"a"}))
    assert again == first
    again["Square"] = 9.9  # a caller's copy: the cache is not shared
    assert model.ratios({"a"}) == first


# --- from a poll round to samples --------------------------------------------------

AP_UP = metric("wifimon_ap_up")


def direct_ap(ap: str, host: int, position: tuple[float, float]) -> dict[str, object]:
    return {
        "ap": ap,
        "host": f"10.0.0.{host}",
        "credentials": "c",
        "longitude": position[0],
        "latitude": position[1],
    }


def write_config(tmp_path: Path, aps: list[dict[str, object]], **settings: object) -> None:
    document = {
        "districts_geojson": "districts.geojson",
        "credentials": {"c": {"version": "2c", "community": "public"}},
        "access_points": aps,
        **settings,
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(document))


def up_sample(ap: str, value: int, when: float) -> Sample:
    return Sample(AP_UP, (ap, "site", "Square"), value, when)


def test_samples_follow_the_up_state_of_each_round(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ring = square(CENTRE, 1000.0)
    district_file(tmp_path, {"Square": ring})
    east = offset(*CENTRE, 300.0, 0.0)
    outside = offset(*CENTRE, 5000.0, 0.0)
    write_config(
        tmp_path,
        [
            direct_ap("mid", 1, CENTRE),
            {**direct_ap("east", 2, east), "coverage_radius_m": 50},
            direct_ap("far", 3, outside),
        ],
        coverage={"default_radius_m": 100},
    )
    config = load_config(tmp_path / "c.yaml", environ={})
    polled = [KnownAp(ap) for ap in ("mid", "east", "far")]
    metrics = DistrictMetrics()

    def round_at(when: float, east_up: int) -> dict[str, float]:
        rounds = [
            TargetSnapshot("mid", when, (up_sample("mid", 1, when),)),
            TargetSnapshot("east", when, (up_sample("east", east_up, when),)),
            TargetSnapshot("far", when, (up_sample("far", 1, when),)),
        ]
        samples = metrics.samples(config, polled, rounds, when)
        return {f"{s.metric.name}{list(s.labels)}": s.value for s in samples}

    area = geodesic_area(ring)
    with caplog.at_level(logging.WARNING, logger="wifimon.geo"):
        both = round_at(100.0, 1)
        round_at(130.0, 1)
    warnings = [r.getMessage() for r in caplog.records if r.name == "wifimon.geo"]
    assert len(warnings) == 1  # once per config, not per round
    assert "1 access points lie outside every district" in warnings[0]
    assert warnings[0].endswith(": far")  # ids only, never positions or addresses
    assert both["wifimon_district_coverage_ratio['Square']"] == pytest.approx(
        (polygon_area(100.0) + polygon_area(50.0)) / area, rel=1e-4
    )
    assert both["wifimon_district_area_square_meters['Square']"] == pytest.approx(area, rel=1e-4)
    assert both["wifimon_district_unassigned_aps[]"] == 1
    hole = round_at(160.0, 0)
    assert hole["wifimon_district_coverage_ratio['Square']"] == pytest.approx(
        polygon_area(100.0) / area, rel=1e-4
    )


def test_no_district_file_means_no_district_samples(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("state_dir: s\n")
    config = load_config(tmp_path / "c.yaml", environ={})
    assert DistrictMetrics().samples(config, [], [], 1.0) == []


def test_only_the_aps_this_daemon_polls_are_counted(tmp_path: Path) -> None:
    # With sharding, another daemon polls the other APs: they are not "down" here.
    district_file(tmp_path, {"Square": square(CENTRE, 1000.0)})
    write_config(tmp_path, [direct_ap("mine", 1, CENTRE), direct_ap("theirs", 2, CENTRE)])
    config = load_config(tmp_path / "c.yaml", environ={})
    from wifimon.geo.district_metrics import covering_aps  # noqa: PLC0415 - the function under test

    assert [ap.ap for ap in covering_aps(config, [KnownAp("mine")])] == ["mine"]
