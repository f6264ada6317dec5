"""The planner dashboard's InfluxQL against a real InfluxDB 1.6, over real rollups.

Two days of polls of a small synthetic city (every 10 minutes, APs going
down, a reboot resetting a counter) go through the daemon's own rollup code;
its line protocol is written with InfluxDB 1.6's ``/write`` (1.6 predates
``/api/v2/write``). Every query of ``influx_queries`` then runs with
Grafana's macros expanded and must return the numbers an independent oracle
computes from the same polls: per hour first, then aggregated per query.
Last, every InfluxQL target of the generated Grafana dashboard runs as
Grafana would send it, with the districts its variable lists.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.influx_servers import Influx1, influxd_binary, running_influx1
from wifimon.catalogue import metric
from wifimon.snapshot import Sample
from wifimon_exporters.influx_queries import DISTRICT_VARIABLE, PANELS, render
from wifimon_exporters.influx_rollups import DistrictRollup

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(influxd_binary() is None, reason="InfluxDB (influxd) not installed"),
]

DATABASE = "wifi"
DASHBOARD = Path(__file__).resolve().parents[2] / "dashboards/grafana/district-trends-influxdb.json"
DAY0 = 1_717_200_000  # 2024-06-01 00:00 UTC
HOURS, POLLS_PER_HOUR, STEP = 48, 6, 600
DISTRICTS = {"Old Town": 4, "Gare Nord": 2, "Rebberg, Süd": 3}
REBOOT_POLL = 100  # Old Town's first AP reboots: its counter starts again


# --- the synthetic city and its oracle --------------------------------------------


def is_up(district: int, ap: int, k: int) -> bool:
    return (k + ap + district) % 5 != 0


def clients(district: int, ap: int, k: int) -> int:
    return (k * 7 + ap * 3 + district) % 11 if is_up(district, ap, k) else 0


def received(district: int, ap: int, k: int) -> int:
    if district == 0 and ap == 0 and k >= REBOOT_POLL:
        return 500 * (k - REBOOT_POLL + 1)
    return 1000 * (ap + 1) * k + 17 * k * k


def increase(before: int, after: int) -> int:
    """What a counter carried between two reads; a reset counts its new value."""
    return after - before if after >= before else after


@dataclass(frozen=True)
class Hour:
    aps: int
    aps_up: int
    availability_ratio: float
    clients_mean: float
    clients_max: int
    receive_bytes: int
    transmit_bytes: int
    ap_polls: int
    up_polls: int


def oracle() -> dict[tuple[str, int], Hour]:
    """(district, hour start) -> the rollup's fields, computed from the definitions."""
    hours: dict[tuple[str, int], Hour] = {}
    for d, (name, aps) in enumerate(DISTRICTS.items()):
        for hour in range(HOURS):
            polls = range(hour * POLLS_PER_HOUR, (hour + 1) * POLLS_PER_HOUR)
            up = [sum(is_up(d, ap, k) for ap in range(aps)) for k in polls]
            total = [sum(clients(d, ap, k) for ap in range(aps)) for k in polls]
            rx = sum(
                increase(received(d, ap, k - 1), received(d, ap, k))
                for ap in range(aps)
                for k in polls
                if k > 0
            )
            hours[(name, DAY0 + hour * 3600)] = Hour(
                aps, round(sum(up) / len(up)), sum(up) / (aps * len(up)),
                sum(total) / len(total), max(total), rx, 3 * rx, aps * len(up), sum(up),
            )  # fmt: skip
    return hours


def rollup_lines(directory: Path) -> list[str]:
    """The daemon's rollup code fed every poll, then one poll to close the last hour."""
    rollup = DistrictRollup(directory / "rollup.json")
    lines: list[str] = []
    for k in range(HOURS * POLLS_PER_HOUR + 1):
        t = float(DAY0 + k * STEP)
        samples: list[Sample] = []
        for d, (name, aps) in enumerate(DISTRICTS.items()):
            for ap in range(aps):
                labels = (f"{name}-{ap}", "site", name)
                rx = received(d, ap, k)
                samples += [
                    Sample(metric("wifimon_ap_up"), labels, int(is_up(d, ap, k)), t),
                    Sample(metric("wifimon_ap_clients"), labels, clients(d, ap, k), t),
                    Sample(metric("wifimon_ap_receive_bytes_total"), labels, rx, t),
                    Sample(metric("wifimon_ap_transmit_bytes_total"), labels, 3 * rx, t),
                ]
        lines += rollup.observe(samples, t)
    return lines


# --- the server ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influx1]:
    with running_influx1(tmp_path_factory.mktemp("influx16")) as server:
        server.query(f'CREATE DATABASE "{DATABASE}"')
        server.write(DATABASE, rollup_lines(tmp_path_factory.mktemp("rollup")))
        yield server


def run(influx: Influx1, influxql: str, interval: str = "1d") -> dict[str, list[list[Any]]]:
    """Rows per series (tagged by district, or ``""``) of the query over both days."""
    query = render(influxql, DAY0, DAY0 + HOURS * 3600 - 1, interval, list(DISTRICTS))
    (result,) = influx.query(query, DATABASE)
    series = result.get("series", [])
    assert isinstance(series, list), result
    return {s.get("tags", {}).get("district", ""): s["values"] for s in series}


def close(actual: object, expected: float) -> bool:
    return isinstance(actual, int | float) and math.isclose(actual, expected, rel_tol=1e-9)


def panel(title: str) -> str:
    (found,) = [p.influxql for p in PANELS if p.title == title]
    return found


# --- the tests ------------------------------------------------------------------------


def test_the_written_rollups_are_the_oracles_hours(influx: Influx1) -> None:
    (result,) = influx.query(
        'SELECT * FROM "wifimon_district_hourly" GROUP BY "district"', DATABASE
    )
    truth = oracle()
    seen = 0
    for series in result["series"]:
        district = series["tags"]["district"]
        columns = series["columns"]
        for row in series["values"]:
            fields = dict(zip(columns, row, strict=True))
            expected = truth[(district, fields.pop("time"))]
            for name, value in vars(expected).items():
                assert close(fields[name], value), (district, name, fields[name], value)
            seen += 1
    assert seen == len(truth) == HOURS * len(DISTRICTS)


def test_the_district_variable_lists_every_district(influx: Influx1) -> None:
    (result,) = influx.query(DISTRICT_VARIABLE, DATABASE)
    values = {row[1] for row in result["series"][0]["values"]}
    assert values == set(DISTRICTS)


def daily(name: str, field: str) -> list[list[float]]:
    """The oracle's hourly ``field`` of ``name``, split into the two days."""
    truth = oracle()
    values = [getattr(truth[(name, DAY0 + h * 3600)], field) for h in range(HOURS)]
    return [values[:24], values[24:]]


def test_every_time_series_panel_returns_the_oracles_numbers(influx: Influx1) -> None:
    checks: dict[str, list[tuple[str, Callable[[list[float]], float]]]] = {
        "Availability by district": [("availability_ratio", statistics.fmean)],
        "Clients by district (mean)": [("clients_mean", statistics.fmean)],
        "Peak clients by district": [("clients_max", max)],
        "Traffic by district": [("receive_bytes", sum), ("transmit_bytes", sum)],
        "Access points by district": [("aps", lambda v: v[-1]), ("aps_up", statistics.fmean)],
    }
    for title, columns in checks.items():
        rows = run(influx, panel(title))
        assert set(rows) == set(DISTRICTS), title
        for name in DISTRICTS:
            assert [row[0] for row in rows[name]] == [DAY0, DAY0 + 86400], (title, name)
            for column, (field, aggregate) in enumerate(columns, start=1):
                for day, values in enumerate(daily(name, field)):
                    got = rows[name][day][column]
                    assert close(got, aggregate(values)), (title, name, day, field, got)


def test_the_city_panel_sums_the_districts_hour_by_hour(influx: Influx1) -> None:
    truth = oracle()
    rows = run(influx, panel("City clients (hourly mean)"))[""]
    assert [row[0] for row in rows] == [DAY0 + h * 3600 for h in range(HOURS)]
    for hour, (_, value) in enumerate(rows):
        expected = sum(truth[(name, DAY0 + hour * 3600)].clients_mean for name in DISTRICTS)
        assert close(value, expected), hour


def test_the_summary_table_covers_the_whole_range(influx: Influx1) -> None:
    rows = run(influx, panel("District summary"))
    for name in DISTRICTS:
        (row,) = rows[name]
        both = [value for day in daily(name, "availability_ratio") for value in day]
        assert close(row[1], statistics.fmean(both))
        assert close(row[2], max(max(day) for day in daily(name, "clients_max")))
        assert close(row[3], sum(sum(day) for day in daily(name, "receive_bytes")))
        assert close(row[4], sum(sum(day) for day in daily(name, "transmit_bytes")))


def test_one_selected_district_filters_the_others_out(influx: Influx1) -> None:
    query = render(panel("Peak clients by district"), DAY0, DAY0 + 86399, "1d", ["Rebberg, Süd"])
    (result,) = influx.query(query, DATABASE)
    assert [s["tags"]["district"] for s in result["series"]] == ["Rebberg, Süd"]


def test_every_target_of_the_generated_dashboard_returns_data(influx: Influx1) -> None:
    board = json.loads(DASHBOARD.read_text())
    (variable,) = (v for v in board["templating"]["list"] if v["name"] == "district")
    (listed,) = influx.query(variable["query"], DATABASE)
    districts = sorted(row[1] for row in listed["series"][0]["values"])
    assert districts == sorted(DISTRICTS)
    targets = [
        (panel, target)
        for panel in board["panels"]
        for target in panel.get("targets", [])
        if target["datasource"]["type"] == "influxdb"
    ]
    assert len(targets) == len(PANELS)
    for panel, target in targets:
        assert target["rawQuery"] is True, panel["title"]
        # The span is two days: Grafana's $__interval is the panel's minimum.
        query = render(target["query"], DAY0, DAY0 + HOURS * 3600 - 1, panel["interval"], districts)
        (result,) = influx.query(query, DATABASE)
        series = result.get("series", [])
        assert series, f"{panel['title']}: no data for {query}"
        assert all(s["values"] for s in series), panel["title"]
        if '"district"' in query.rpartition("GROUP BY")[2]:  # the outermost query's
            assert {s["tags"]["district"] for s in series} == set(DISTRICTS), panel["title"]
