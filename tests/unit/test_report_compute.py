"""Report figures from small hand-made series with answers worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from wifimon.report.compute import (
    EMPTY,
    Figures,
    build_report,
    busiest_hours,
    change,
    combine,
    figures,
    hotspots,
    only_district,
)
from wifimon.report.sources import (
    History,
    InfluxSource,
    Point,
    _increases,
    _rollup_point,
    sum_districts,
)

MONDAY_9H = datetime(2024, 6, 3, 9, tzinfo=UTC).timestamp()


def ap(time: float, up: int, clients: float, rx: float = 0.0, tx: float = 0.0) -> Point:
    return Point(time, up, 1, clients, clients, rx, tx)


def test_figures_follow_their_definitions() -> None:
    points = [
        Point(0, 2, 2, 10, 10, 100, 300),
        Point(60, 1, 2, 4, 4, 50, 150),
        Point(120, 2, 3, 7, 9, 0, 0),
    ]
    assert figures(points) == Figures(
        aps=3,
        availability_ratio=5 / 7,  # AP-moments up over AP-moments known
        clients_mean=7.0,
        clients_peak=10,
        receive_bytes=150,
        transmit_bytes=450,
    )


def test_no_points_give_empty_figures() -> None:
    assert figures([]) == EMPTY


def test_counter_increases_count_a_reset_as_its_new_value() -> None:
    assert _increases({0: 100, 60: 160, 120: 20, 180: 50}) == {60: 60, 120: 20, 180: 30}


def test_districts_sum_their_aps_moment_by_moment() -> None:
    aps = {
        ("a1", "Gare"): [ap(0, 1, 3, 10), ap(60, 0, 0, 0)],
        ("a2", "Gare"): [ap(0, 1, 5, 20), ap(60, 1, 7, 5)],
        ("b1", "Rebberg"): [ap(0, 1, 1)],
    }
    districts = sum_districts(aps)
    assert districts["Gare"] == [Point(0, 2, 2, 8, 8, 30, 0), Point(60, 1, 2, 7, 7, 5, 0)]
    gare = figures(districts["Gare"])
    assert (gare.aps, gare.availability_ratio, gare.clients_mean, gare.clients_peak) == (
        2, 0.75, 7.5, 8,
    )  # fmt: skip
    assert list(districts) == ["Gare", "Rebberg"]


def test_change_against_the_previous_period() -> None:
    assert change(125, 100) == pytest.approx(0.25)
    assert change(50, 100) == pytest.approx(-0.5)
    assert change(10, 0) is None


def test_city_figures_weight_availability_by_aps() -> None:
    city = combine([Figures(1, 0.0, 2, 3, 10, 20), Figures(3, 1.0, 4, 5, 1, 2)])
    assert city == Figures(4, 0.75, 6, 8, 11, 22)


def test_busiest_hours_average_clients_per_weekday_and_hour() -> None:
    district = [
        Point(MONDAY_9H, 1, 1, 4, 4),
        Point(MONDAY_9H + 1800, 1, 1, 8, 8),  # same hour: mean 6
        Point(MONDAY_9H + 86400 + 3600, 1, 1, 3, 3),  # Tuesday 10h
    ]
    other = [Point(MONDAY_9H, 1, 1, 2, 2)]  # adds to Monday 9h's first moment
    cells = busiest_hours([district, other])
    assert cells[0][9] == 7.0  # (4 + 2 + 8) / 2 moments
    assert cells[1][10] == 3.0
    assert cells[0][10] is None
    assert sum(v is not None for row in cells for v in row) == 2


def test_hotspots_are_aps_busy_most_of_the_time() -> None:
    found = hotspots({
        ("busy", "Gare"): [0.8, 0.9, 0.75, 0.2],  # 3/4 of the time at 0.7 or more
        ("half", "Gare"): [0.7, 0.1],  # exactly half: still a hotspot
        ("spiky", "Centre"): [1.0, 0.1, 0.1],  # high once: not a hotspot
        ("quiet", "Centre"): [],
    })  # fmt: skip
    assert [key for key, _, _ in found] == [("busy", "Gare"), ("half", "Gare")]
    assert math.isclose(found[0][1], 0.6625)
    assert found[0][2] == 0.75


def test_a_report_narrowed_to_one_district() -> None:
    history = History(
        {"Gare": [Point(0, 1, 1, 2, 2)], "Centre": [Point(0, 1, 1, 5, 5)]},
        {("a", "Gare"): [ap(0, 1, 2)], ("b", "Centre"): [ap(0, 1, 5)]},
        {("a", "Gare"): [0.9]},
    )
    narrowed = only_district(history, "Gare")
    report = build_report(0, 60, narrowed, History())
    assert list(report.districts) == ["Gare"]
    assert list(report.aps) == [("a", "Gare")]
    assert report.previous == {}
    assert [key for key, _, _ in report.hotspots] == [("a", "Gare")]
    assert only_district(history, None) is history


def test_an_influx_rollup_hour_becomes_a_point() -> None:
    source = InfluxSource("http://127.0.0.1:8086/wifi", progress=None)  # type: ignore[arg-type]
    assert (source.url, source.database) == ("http://127.0.0.1:8086", "wifi")
    assert InfluxSource("http://127.0.0.1:8086?db=x", None).database == "x"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no database"):
        InfluxSource("http://127.0.0.1:8086", None)  # type: ignore[arg-type]
    # time, aps, availability_ratio, clients_mean, clients_max, receive, transmit
    point = _rollup_point([3600, 4, 0.75, 12.5, 20, 1000, 3000])
    assert point == Point(3600.0, 3.0, 4, 12.5, 20.0, 1000.0, 3000.0)
