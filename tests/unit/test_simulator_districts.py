"""The demo city's quartier polygons: fresh, tiling the city, holding their APs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import shapely

from wifimon.config import load_config
from wifimon.geo.districts import DistrictMap, read_districts
from wifimon.simulator import inventory
from wifimon.simulator.city import DISTRICTS, build_city

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "generate_demo_districts.py"


@pytest.fixture(scope="module")
def quartiers() -> DistrictMap:
    districts, issues = read_districts(inventory.DISTRICTS_GEOJSON, "mulhouse-quartiers.geojson")
    assert issues == []
    assert districts is not None
    return districts


def test_the_committed_file_is_what_the_script_generates() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_polygon_per_quartier_of_the_simulator(quartiers: DistrictMap) -> None:
    assert quartiers.names == tuple(district.name for district in DISTRICTS)


def test_quartiers_tile_the_city_without_overlap(quartiers: DistrictMap) -> None:
    union = shapely.union_all(list(quartiers.geometries))
    total = sum(geometry.area for geometry in quartiers.geometries)
    assert union.geom_type == "Polygon"  # one piece, no holes between quartiers
    assert len(union.interiors) == 0
    assert total == pytest.approx(union.area, rel=1e-6)


@pytest.mark.parametrize(("aps", "seed"), [(300, 1), (3000, 7), (20, 3)])
def test_every_simulated_ap_lies_in_its_own_quartier(
    quartiers: DistrictMap, aps: int, seed: int
) -> None:
    city = build_city(aps, seed)
    found = quartiers.locate([(ap.longitude, ap.latitude) for ap in city.aps])
    misplaced = [(ap.ap, ap.district, where) for ap, where in zip(city.aps, found, strict=True)
                 if where != ap.district]  # fmt: skip
    assert misplaced == []


def test_the_demo_config_uses_the_quartiers(tmp_path: Path) -> None:
    city = build_city(300, 1)
    plan = inventory.PollPlan.every(10.0)
    path = inventory.write_city_config(city, tmp_path, 16100, "127.0.0.1:19877", plan)
    config = load_config(path, environ={})
    assert config.districts is not None
    assert config.districts.names == tuple(district.name for district in DISTRICTS)
    assert config.coverage.default_radius_m == inventory.COVERAGE_RADIUS_M
    by_id = {ap.ap: ap.district for ap in config.access_points}
    assert by_id == {ap.ap: ap.district for ap in city.aps}


def test_the_history_holds_the_coverage_the_daemon_would_export(tmp_path: Path) -> None:
    from wifimon.geo.coverage import CoverageModel, CoveringAp  # noqa: PLC0415
    from wifimon.simulator.history import write_history  # noqa: PLC0415

    city = build_city(20, 1)
    om, lp = write_history(city, 1_717_200_000, 1_717_200_000 + 4 * 3600, 600, tmp_path)
    up: dict[int, set[str]] = {}
    coverage: dict[tuple[int, str], float] = {}
    for line in om.read_text().splitlines():
        if line.startswith("wifimon_ap_up{") and line.split()[1] == "1":
            up.setdefault(int(line.split()[2]), set()).add(line.split('ap="')[1].split('"')[0])
        elif line.startswith("wifimon_district_coverage_ratio{"):
            district = line.split('district="')[1].split('"')[0]
            coverage[(int(line.split()[2]), district)] = float(line.split()[1])
    radius = inventory.COVERAGE_RADIUS_M
    model = CoverageModel(
        read_districts(inventory.DISTRICTS_GEOJSON, "q")[0],  # type: ignore[arg-type]
        [CoveringAp(ap.ap, ap.longitude, ap.latitude, radius) for ap in city.aps],
    )
    assert len(up) == 25
    for moment, aps in up.items():
        for district, ratio in model.ratios(aps).items():
            assert coverage[(moment, district)] == ratio
    lines = lp.read_text().splitlines()
    assert any(line.startswith("wifimon_district,district=") for line in lines)
