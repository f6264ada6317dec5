"""Coverage per district over real UDP: an agent that dies leaves a hole.

Two net-snmp ``snmpd`` agents on 127.0.0.1 are two lamp-post APs inside a
square kilometre district near Mulhouse's centre; a third AP (polling the
first agent again) stands 5 km away, outside every district. ``wifimon run``
polls them with the district file; when the second agent is stopped, the
first /metrics page that shows its AP down must also show the district's
coverage reduced to exactly the first AP's disc. Expected values come from
pyproj's geodesic area (independent of wifimon's projection) and the area
of the 64-sided polygon the model draws for a disc.
"""

from __future__ import annotations

import json
import math
from contextlib import ExitStack
from pathlib import Path

import pyproj
import pytest

from tests.support.agents import run_snmpd
from tests.support.daemon import Scrape, running_daemon, write_config
from tests.support.prometheus import wait_for

pytestmark = pytest.mark.e2e

GEOD = pyproj.Geod(ellps="WGS84")
CENTRE = (7.3392, 47.7478)
COMMUNITY = "coverage-e2e"
SIDES = 64


def polygon_area(radius: float) -> float:
    return SIDES / 2 * radius**2 * math.sin(2 * math.pi / SIDES)


def square_ring(side_m: float) -> list[list[float]]:
    corners = [GEOD.fwd(*CENTRE, az, side_m / math.sqrt(2))[:2] for az in (45, 135, 225, 315)]
    return [[lon, lat] for lon, lat in [*corners, corners[0]]]


def east_of_centre(metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(*CENTRE, 90.0, metres)
    return lon, lat


def lamp_post(
    ap: str, port: int, position: tuple[float, float], radius: float
) -> dict[str, object]:
    return {
        "ap": ap,
        "host": "127.0.0.1",
        "port": port,
        "credentials": "lab",
        "profile": "generic",
        "longitude": round(position[0], 7),
        "latitude": round(position[1], 7),
        "coverage_radius_m": radius,
    }


def test_a_stopped_agent_shows_as_a_coverage_hole_in_the_next_poll(tmp_path: Path) -> None:
    ring = square_ring(1000.0)
    area, _ = GEOD.polygon_area_perimeter([p[0] for p in ring], [p[1] for p in ring])
    area = abs(area)
    feature = {"type": "Feature", "properties": {"name": "Réunion"},
               "geometry": {"type": "Polygon", "coordinates": [ring]}}  # fmt: skip
    (tmp_path / "districts.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]})
    )
    conf = [f"rocommunity {COMMUNITY} 127.0.0.1", "sysName lamp-post"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with ExitStack() as agents:
        _, port_a = agents.enter_context(run_snmpd(tmp_path / "a", conf))
        second = ExitStack()
        agents.enter_context(second)
        _, port_b = second.enter_context(run_snmpd(tmp_path / "b", conf))
        config = write_config(
            tmp_path,
            {
                "poll": {"interval": "2s", "timeout": "500ms", "retries": 0, "jitter": "0s"},
                "credentials": {"lab": {"version": "2c", "community": COMMUNITY}},
                "districts_geojson": "districts.geojson",
                "coverage": {"default_radius_m": 50},
                "access_points": [
                    lamp_post("centre", port_a, CENTRE, 100.0),
                    lamp_post("east", port_b, east_of_centre(300.0), 80.0),
                    lamp_post("far", port_a, east_of_centre(5000.0), 100.0),
                ],
            },
        )
        with running_daemon(config) as daemon:
            daemon.wait_generation(1)
            both = daemon.scrape()
            second.close()  # stop the second agent: "east" goes dark

            def hole_seen() -> Scrape | None:
                scrape = daemon.scrape()
                return scrape if scrape.value("wifimon_ap_up", ap="east") == 0 else None

            hole = wait_for(hole_seen, 30, "the east AP reported down")
            log = daemon.log()

    district = {"district": "Réunion"}
    assert both.value("wifimon_ap_up", ap="east", district="Réunion") == 1
    assert both.value("wifimon_ap_up", ap="far", district="unassigned") == 1
    assert both.value("wifimon_district_unassigned_aps") == 1
    assert both.value("wifimon_district_area_square_meters", **district) == pytest.approx(
        area, rel=1e-4
    )
    assert both.value("wifimon_district_coverage_ratio", **district) == pytest.approx(
        (polygon_area(100.0) + polygon_area(80.0)) / area, rel=1e-4
    )
    # The same page that first shows "east" down shows its disc gone.
    assert hole.value("wifimon_district_coverage_ratio", **district) == pytest.approx(
        polygon_area(100.0) / area, rel=1e-4
    )
    assert "far" in log  # the unassigned AP is named in the log, once
    assert log.count("lie outside every district") == 1
    assert COMMUNITY not in log
