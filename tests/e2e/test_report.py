"""``run_report`` against a real Prometheus and a real InfluxDB 1.6 holding the demo city.

The small demo city's history (wifimon.simulator.history) is written once:
its OpenMetrics go into Prometheus' TSDB through ``promtool tsdb
create-blocks-from openmetrics``, its ``wifimon_district_hourly`` rollup
lines into InfluxDB 1.6. An oracle reads the same OpenMetrics file line by
line and computes each district's figures from their definitions; both
reports must agree with it. The HTML is then rendered by headless Chromium.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.influx_servers import Influx1, influxd_binary, running_influx1
from tests.support.prometheus import PrometheusServer, start_prometheus
from wifimon.report import run_opendata, run_report
from wifimon.simulator.city import build_city
from wifimon.simulator.history import write_history

pytestmark = pytest.mark.e2e

APS, SEED = 20, 1
STEP = 900  # a coarse history: four samples an hour
DAYS = 2  # the report's period; the previous period is as long
HOUR = 3600
CHROMIUM = Path("/usr/bin/chromium")
DATABASE = "wifi"
# The period ends on a whole hour, an hour ago: inside Prometheus' retention.
END = (int(time.time()) // HOUR - 1) * HOUR
START = END - DAYS * 86400
HISTORY_START = START - DAYS * 86400 - STEP  # one read before the previous period


@dataclass
class Written:
    openmetrics: Path
    line_protocol: Path


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Written:
    directory = tmp_path_factory.mktemp("history")
    om, lp = write_history(build_city(APS, SEED), HISTORY_START, END, STEP, directory)
    return Written(om, lp)


@pytest.fixture(scope="module")
def prometheus(
    history: Written, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        pytest.fail("Debian prometheus (prometheus, promtool) is not installed")
    directory = tmp_path_factory.mktemp("prometheus")
    (directory / "tsdb").mkdir()
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=240h",
         str(history.openmetrics), str(directory / "tsdb")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    server = start_prometheus(directory, [], scrape_interval="1m")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def influx(history: Written, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influx1]:
    if influxd_binary() is None:
        pytest.fail("InfluxDB (influxd) is not installed")
    lines = []
    for line in history.line_protocol.read_text().splitlines():
        if line.startswith("wifimon_district_hourly,"):
            head, nanoseconds = line.rsplit(" ", 1)
            lines.append(f"{head} {int(nanoseconds) // 1_000_000_000}")
    with running_influx1(tmp_path_factory.mktemp("influx16")) as server:
        server.query(f'CREATE DATABASE "{DATABASE}"')
        server.write(DATABASE, lines)
        yield server


# --- the oracle: the OpenMetrics file, read directly ----------------------------------


def _parse(line: str) -> tuple[str, dict[str, str], float, int]:
    name_labels, value, timestamp = line.rsplit(" ", 2)
    name, _, rest = name_labels.partition("{")
    labels = dict(
        pair.split("=", 1) for pair in rest.rstrip("}").replace('"', "").split(",") if pair
    )
    return name, labels, float(value), int(timestamp)


def oracle(openmetrics: Path, start: int, end: int) -> dict[str, dict[str, float]]:
    """Per district: the figures of [start, end) from their definitions."""
    wanted = {"wifimon_ap_up", "wifimon_ap_clients", "wifimon_ap_receive_bytes_total",
              "wifimon_ap_transmit_bytes_total"}  # fmt: skip
    series: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)
    with openmetrics.open() as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            name, labels, value, timestamp = _parse(line)
            if name in wanted:
                series[(name, labels["district"], labels["ap"])][timestamp] = value
    result: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    moments = range(start, end, STEP)
    for (name, district, _ap), values in series.items():
        figures = result[district]
        if name == "wifimon_ap_up":
            figures["aps"] += 1
            figures["up"] += sum(values[t] for t in moments)
            figures["known"] += len(moments)
        elif name == "wifimon_ap_clients":
            for t in moments:
                figures[f"clients@{t}"] += values[t]
        else:
            column = "receive_bytes" if "receive" in name else "transmit_bytes"
            for t in moments:
                before, after = values[t - STEP], values[t]
                figures[column] += after - before if after >= before else after
    answer = {}
    for district, figures in result.items():
        totals = [figures.get(f"clients@{t}", 0.0) for t in moments]
        answer[district] = {
            "aps": figures["aps"],
            "availability_ratio": figures["up"] / figures["known"],
            "clients_mean": sum(totals) / len(totals),
            "clients_peak": max(totals),
            "receive_bytes": figures["receive_bytes"],
            "transmit_bytes": figures["transmit_bytes"],
        }
    return answer


def coverage_oracle(openmetrics: Path, start: int, end: int) -> dict[str, float]:
    """Per district: the mean of its exported coverage ratio at the steps of [start, end)."""
    values: dict[str, list[float]] = defaultdict(list)
    with openmetrics.open() as handle:
        for line in handle:
            if line.startswith("wifimon_district_coverage_ratio{"):
                _, labels, value, timestamp = _parse(line)
                if start <= timestamp < end:
                    values[labels["district"]].append(value)
    return {district: sum(v) / len(v) for district, v in values.items()}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_districts_match(
    got: list[dict[str, str]], expected: dict[str, dict[str, float]]
) -> None:
    assert {row["district"] for row in got} == set(expected)
    for row in got:
        truth = expected[row["district"]]
        for column, value in truth.items():
            assert math.isclose(float(row[column]), value, rel_tol=1e-6, abs_tol=1e-3), (
                row["district"], column, row[column], value,
            )  # fmt: skip


def report(source: str, url: str, out: Path, district: str | None = None) -> str:
    progress = io.StringIO()
    status = run_report(
        source, url, datetime.fromtimestamp(START, UTC), datetime.fromtimestamp(END, UTC),
        district, out, progress, step=STEP,
    )  # fmt: skip
    assert status == 0, progress.getvalue()
    return progress.getvalue()


# --- the tests ----------------------------------------------------------------------


def test_prometheus_report_matches_the_history(
    prometheus: PrometheusServer, history: Written, tmp_path: Path
) -> None:
    progress = report("prometheus", prometheus.url, tmp_path)
    assert "querying" in progress
    districts = read_csv(tmp_path / "districts.csv")
    assert_districts_match(districts, oracle(history.openmetrics, START, END))
    coverage = coverage_oracle(history.openmetrics, START, END)
    assert len(coverage) == 15  # every quartier of the demo city
    for row in districts:
        expected = coverage[row["district"]]
        assert float(row["coverage_ratio"]) == pytest.approx(expected, abs=5e-7)  # 6 decimals
    aps = read_csv(tmp_path / "aps.csv")
    assert len(aps) == APS
    assert list(aps[0]) == ["ap", "district", "aps", "availability_ratio", "clients_mean",
                            "clients_peak", "receive_bytes", "transmit_bytes"]  # fmt: skip


def test_the_previous_period_is_compared(
    prometheus: PrometheusServer, history: Written, tmp_path: Path
) -> None:
    report("prometheus", prometheus.url, tmp_path)
    previous = oracle(history.openmetrics, START - (END - START), START)
    html = (tmp_path / "report.html").read_text()
    assert "Previous period" in html
    city_mean = sum(d["clients_mean"] for d in previous.values())
    assert f"{city_mean:.1f}" in html


def test_one_district_only(prometheus: PrometheusServer, tmp_path: Path) -> None:
    districts = {row["district"] for row in read_csv(_full(prometheus, tmp_path / "all"))}
    chosen = sorted(districts)[0]
    report("prometheus", prometheus.url, tmp_path / "one", chosen)
    assert [row["district"] for row in read_csv(tmp_path / "one" / "districts.csv")] == [chosen]
    assert {row["district"] for row in read_csv(tmp_path / "one" / "aps.csv")} == {chosen}


def _full(prometheus: PrometheusServer, out: Path) -> Path:
    report("prometheus", prometheus.url, out)
    return out / "districts.csv"


def test_influxdb_report_matches_the_history(
    influx: Influx1, history: Written, tmp_path: Path
) -> None:
    report("influxdb", f"{influx.url}/{DATABASE}", tmp_path)
    districts = read_csv(tmp_path / "districts.csv")
    assert_districts_match(districts, oracle(history.openmetrics, START, END))
    # The hourly rollups keep no coverage: the column is there, empty.
    assert {row["coverage_ratio"] for row in districts} == {""}
    assert read_csv(tmp_path / "aps.csv") == []  # rollups hold no APs


def test_chromium_renders_the_report(prometheus: PrometheusServer, tmp_path: Path) -> None:
    assert CHROMIUM.exists(), "Debian chromium is not installed (apt-get install chromium)"
    report("prometheus", prometheus.url, tmp_path)
    png = tmp_path / "report.png"
    result = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
         "--window-size=1200,2400", (tmp_path / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_opendata_publishes_districts_and_suppresses_small_counts(
    influx: Influx1, prometheus: PrometheusServer, history: Written, tmp_path: Path
) -> None:
    expected = oracle(history.openmetrics, START, END)
    threshold = 20  # between the demo districts' peaks: some published, some withheld
    window = (datetime.fromtimestamp(START, UTC), datetime.fromtimestamp(END, UTC))
    status = run_opendata(
        "influxdb", f"{influx.url}/{DATABASE}", *window, tmp_path / "influx", io.StringIO(),
        threshold=threshold,
    )  # fmt: skip
    assert status == 0
    rows = json.loads((tmp_path / "influx" / "usage.json").read_text())
    assert {row["district"] for row in rows} == set(expected)
    assert all("ap" not in row for row in rows)
    for row in rows:
        truth = expected[row["district"]]
        assert row["suppressed"] is (truth["clients_peak"] < threshold)
        if row["suppressed"]:
            assert row["clients_peak"] is None
            assert row["receive_bytes"] is None
        else:
            assert row["clients_peak"] == truth["clients_peak"]
            assert row["receive_bytes"] == int(truth["receive_bytes"])
    assert {True, False} == {row["suppressed"] for row in rows}
    status = run_opendata(
        "prometheus", prometheus.url, *window, tmp_path / "prom", io.StringIO(),
        threshold=threshold, include_aps=True, step=STEP,
    )  # fmt: skip
    assert status == 0
    with_aps = json.loads((tmp_path / "prom" / "usage.json").read_text())
    assert len([row for row in with_aps if row["ap"]]) == APS
