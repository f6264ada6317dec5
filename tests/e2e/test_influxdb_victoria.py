"""`wifimon run` writing to a real VictoriaMetrics through the InfluxDB v2 write API.

net-snmp's snmpd serves four "APs" (one agent, four inventory entries in
districts whose names need escaping); the daemon polls them every 2 s and
writes to VictoriaMetrics, which is stopped for several polls and started
again, and in a second test outlives a daemon restart. The daemon's own
stdout exporter is the witness: every sample it printed must be in
VictoriaMetrics exactly once, at its poll second, with its value, and
nothing else may be there (floats to VictoriaMetrics' ~12 significant digits).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support.agents import run_snmpd
from tests.support.daemon import DaemonConfig, RunningDaemon
from tests.support.influx_servers import (
    VictoriaMetrics,
    running_victoria_metrics,
    victoria_metrics_binary,
)
from tests.support.prometheus import HOST, free_tcp_port, wait_for
from wifimon.catalogue import BY_NAME, Kind
from wifimon_exporters.influx_schema import info_layout, measurement

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(victoria_metrics_binary() is None, reason="victoria-metrics not installed"),
]

INTERVAL_S = 2.0
TOKEN_ENV = "WIFIMON_E2E_INFLUX_TOKEN"
# (ap, site, district): spaces, commas and equals signs all need escaping.
APS = (
    ("lamp-1", "market square", "Old Town"),
    ("lamp-2", "rue des Fleurs, 3", "Old Town"),
    ("kiosk=3", "station", "Gare Nord"),
    ("museum 4", "museum", "Rebberg"),
)
# Fields VictoriaMetrics keeps as 0 (strings) or that stdout does not print.
NOT_WITNESSED = ("_name", "_serial", "_mac", "_ip", "_firmware", "_seconds_count", "_seconds_sum")

SeriesKey = tuple[str, frozenset[tuple[str, str]]]


@dataclass(frozen=True)
class Agent:
    port: int
    community: str


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    community = "influx-" + secrets.token_hex(6)
    lines = [f"rocommunity {community} 127.0.0.1", "sysName lamp"]
    with run_snmpd(tmp_path_factory.mktemp("snmpd"), lines) as (_, port):
        yield Agent(port, community)


def write_daemon_config(directory: Path, agent: Agent, vm: VictoriaMetrics) -> DaemonConfig:
    port = free_tcp_port()
    influx = {
        "url": vm.url,
        "org": "city",
        "bucket": "wifi",
        "token": "${" + TOKEN_ENV + "}",
        "flush_interval": "200ms",
        "batch_size": 40,  # several requests per poll, so replay order matters
        "timeout": "2s",
        "max_retry_delay": "1s",
    }
    config = {
        "poll": {"interval": f"{INTERVAL_S}s", "timeout": "1s", "retries": 0, "jitter": "0s"},
        "credentials": {"lab": {"version": "2c", "community": agent.community}},
        "access_points": [
            {
                "ap": ap,
                "host": HOST,
                "port": agent.port,
                "credentials": "lab",
                "profile": "generic",
                "site": site,
                "district": district,
            }
            for ap, site, district in APS
        ],
        "exporters": {
            "prometheus": {"listen": f"{HOST}:{port}"},
            "stdout": {"format": "json"},
            "influxdb": influx,
        },
        "state_dir": "state",
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "wifimon.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return DaemonConfig(path, port)


def start(config: DaemonConfig, run: str, token: str) -> RunningDaemon:
    """``wifimon run``: stdout (the witness) to ``<run>.jsonl``, the log to ``<run>.log``."""
    directory = config.path.parent
    log = directory / f"{run}.log"
    with (directory / f"{run}.jsonl").open("wb") as out, log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "wifimon", "run", "-c", str(config.path)],
            cwd=directory,
            env={**os.environ, TOKEN_ENV: token},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    return RunningDaemon(process, config, log)


def wait_polls(daemon: RunningDaemon, count: int) -> int:
    """Wait until ``count`` more snapshots are published; the newest generation."""
    now = daemon.wait_generation(0)
    return daemon.wait_generation(now + count, timeout=count * INTERVAL_S + 30)


def self_metric(daemon: RunningDaemon, name: str, **labels: str) -> float:
    return daemon.scrape().value(name, **labels)


def wait_replayed(daemon: RunningDaemon) -> None:
    """Until the spool is empty and something was replayed (as /metrics shows)."""

    def drained() -> bool | None:
        scrape = daemon.scrape()
        empty = scrape.value("wifimon_influxdb_spool_points") == 0
        replayed = scrape.value("wifimon_influxdb_points_replayed_total") > 0
        return True if empty and replayed else None

    wait_for(drained, 60, "the spool replayed to VictoriaMetrics")


# --- the witness ----------------------------------------------------------------


def witnessed(directory: Path) -> dict[SeriesKey, dict[int, float]]:
    """Every sample the stdout exporter printed, as VictoriaMetrics should hold it:
    series ``<measurement>_<field>`` with non-empty labels, timestamp in ms."""
    expected: dict[SeriesKey, dict[int, float]] = defaultdict(dict)
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            entry = BY_NAME[row["metric"]]
            labels: dict[str, str] = row["labels"]
            tags = labels
            if entry.kind is Kind.INFO:
                tags = {name: labels[name] for name in info_layout(entry).tags}
            key = (f"{measurement(entry)}_{entry.field}", _tags(tags))
            stamp = int(row["timestamp"]) * 1000
            previous = expected[key].setdefault(stamp, float(row["value"]))
            assert previous == float(row["value"]), f"{key} changed within one poll"
    return expected


def _tags(labels: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset((name, value) for name, value in labels.items() if value)


def landed(vm: VictoriaMetrics) -> dict[SeriesKey, list[tuple[int, float]]]:
    found: dict[SeriesKey, list[tuple[int, float]]] = {}
    for series in vm.export('{__name__=~"wifimon_.*"}'):
        labels = dict(series["metric"])
        name = labels.pop("__name__")
        if name.endswith(NOT_WITNESSED) or name.startswith("wifimon_district_hourly"):
            continue
        values, stamps = series["values"], series["timestamps"]
        assert isinstance(values, list)
        assert isinstance(stamps, list)
        found[(name, _tags(labels))] = list(zip(stamps, values, strict=True))
    return found


def same(expected: dict[int, float], stamp: int, value: float) -> bool:
    # VictoriaMetrics stores floats as decimals of ~12 significant digits;
    # integers (counters, counts) stay exact.
    want = expected.get(stamp, value)
    return math.isclose(value, want, rel_tol=1e-11) if want != int(want) else value == want


def assert_exactly_once(expected: dict[SeriesKey, dict[int, float]], vm: VictoriaMetrics) -> int:
    """Every witnessed sample landed once with its value, and nothing else did."""
    actual = landed(vm)
    problems = [f"missing series {key}" for key in expected.keys() - actual.keys()]
    problems += [f"unexpected series {key}" for key in actual.keys() - expected.keys()]
    for key in expected.keys() & actual.keys():
        counts = Counter(stamp for stamp, _ in actual[key])
        twice = sorted(stamp for stamp, count in counts.items() if count > 1)
        lost = sorted(expected[key].keys() - counts.keys())
        extra = sorted(counts.keys() - expected[key].keys())
        wrong = [(s, v, expected[key][s]) for s, v in actual[key] if not same(expected[key], s, v)]
        for what, items in (("twice", twice), ("lost", lost), ("extra", extra), ("wrong", wrong)):
            if items:
                problems.append(f"{key} {what}: {items[:5]}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:30])
    return sum(len(stamps) for stamps in expected.values())


def polls_of(expected: dict[SeriesKey, dict[int, float]]) -> int:
    return len(expected[("wifimon_target_up", frozenset({("target", "lamp-1")}))])


# --- the tests ---------------------------------------------------------------------


def test_an_outage_of_several_polls_loses_nothing_and_duplicates_nothing(
    agent: Agent, tmp_path: Path
) -> None:
    token = "tok-" + secrets.token_hex(12)
    with running_victoria_metrics(tmp_path / "vm") as vm:
        config = write_daemon_config(tmp_path / "wifimon", agent, vm)
        daemon = start(config, "run", token)
        try:
            wait_polls(daemon, 3)
            vm.stop()
            wait_polls(daemon, 4)
            assert self_metric(daemon, "wifimon_influxdb_spool_points") > 0
            assert self_metric(daemon, "wifimon_influxdb_write_errors_total", kind="unreachable")
            vm.start()
            wait_replayed(daemon)
            wait_polls(daemon, 1)
        finally:
            daemon.stop()
        expected = witnessed(config.path.parent)
        points = assert_exactly_once(expected, vm)

    log = daemon.log()
    assert polls_of(expected) >= 8
    assert points > 100
    assert log.count("cannot reach InfluxDB") == 1, "an outage is reported once"
    assert "InfluxDB accepts writes again" in log
    assert token not in log


def test_a_daemon_restart_in_the_middle_of_an_outage_loses_nothing(
    agent: Agent, tmp_path: Path
) -> None:
    token = "tok-" + secrets.token_hex(12)
    with running_victoria_metrics(tmp_path / "vm") as vm:
        config = write_daemon_config(tmp_path / "wifimon", agent, vm)
        first = start(config, "first", token)
        try:
            wait_polls(first, 2)
            vm.stop()
            wait_polls(first, 3)
        finally:
            first.stop()
        spool = config.path.parent / "state" / "influxdb" / "spool"
        assert list(spool.glob("*.seg")), "the pending points wait on disk"

        second = start(config, "second", token)
        try:
            wait_polls(second, 2)  # still down: more points join the spool
            vm.start()
            wait_replayed(second)
            wait_polls(second, 1)
        finally:
            second.stop()
        expected = witnessed(config.path.parent)
        assert_exactly_once(expected, vm)

    assert polls_of(expected) >= 8
    assert "spooled InfluxDB points (" in second.log()
    assert not list(spool.glob("*.seg")), "a drained spool leaves no segment behind"
