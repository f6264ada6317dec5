"""Two `wifimon run` daemons split one fleet: shard 1/2 and shard 2/2.

The fleet is ten stand-alone APs served by two real net-snmp ``snmpd``
agents on 127.0.0.1 (five AP names on each). One daemon takes its shard
from the config file (``shard: 1/2``), the other from the command line
(``--shard 2/2``). Together their ``/metrics`` must show every AP exactly
once: the union of their ``wifimon_target_up`` targets is the whole fleet,
the intersection is empty, and every target answered.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.agents import run_snmpd
from tests.support.daemon import (
    DaemonConfig,
    RunningDaemon,
    Scrape,
    running_daemon,
    write_config,
)
from wifimon.sharding import owner

pytestmark = pytest.mark.e2e

COMMUNITY = "shards-e2e"
FLEET = [f"lamp-{number:02d}" for number in range(10)]
POLL = {"interval": "10s", "timeout": "1s", "retries": 1, "jitter": "0s"}


def fleet_config(agents: list[tuple[str, int]], shard: str | None) -> dict[str, object]:
    aps = [
        {"ap": ap, "host": agents[n % 2][0], "port": agents[n % 2][1], "credentials": "lab"}
        for n, ap in enumerate(FLEET)
    ]
    config: dict[str, object] = {
        "poll": POLL,
        "credentials": {"lab": {"version": "2c", "community": COMMUNITY}},
        "access_points": aps,
    }
    if shard is not None:
        config["shard"] = shard
    return config


def targets_up(scrape: Scrape) -> dict[str, float]:
    return {series.labels["target"]: series.value for series in scrape.series("wifimon_target_up")}


def test_two_shards_poll_every_target_exactly_once(tmp_path: Path) -> None:
    # Both shards must own something for the test to mean anything; the
    # split depends only on the names, so this holds on every run.
    assert {owner(ap, 2) for ap in FLEET} == {1, 2}
    lines = [f"rocommunity {COMMUNITY} 127.0.0.1", "sysName shard-lab"]
    with (
        run_snmpd(_mkdir(tmp_path / "snmpd-a"), lines) as agent_a,
        run_snmpd(_mkdir(tmp_path / "snmpd-b"), lines) as agent_b,
    ):
        first = write_config(tmp_path / "shard-1", fleet_config([agent_a, agent_b], "1/2"))
        second = write_config(tmp_path / "shard-2", fleet_config([agent_a, agent_b], None))
        with running_daemon(first) as daemon_1, _run_with_shard_option(second, "2/2") as daemon_2:
            daemon_1.wait_generation(1)
            daemon_2.wait_generation(1)
            scrape_1, scrape_2 = daemon_1.scrape(), daemon_2.scrape()

    up_1, up_2 = targets_up(scrape_1), targets_up(scrape_2)
    assert set(up_1) | set(up_2) == set(FLEET)
    assert set(up_1) & set(up_2) == set()
    assert set(up_1) == {ap for ap in FLEET if owner(ap, 2) == 1}
    assert all(value == 1 for value in (*up_1.values(), *up_2.values()))
    for scrape, index in ((scrape_1, "1"), (scrape_2, "2")):
        assert scrape.value("wifimon_shard_info", index=index, count="2") == 1
        assert scrape.value("wifimon_fleet_targets") == len(FLEET)
    assert sum(
        scrape.value("wifimon_targets", state="up") for scrape in (scrape_1, scrape_2)
    ) == len(FLEET)


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


@contextmanager
def _run_with_shard_option(config: DaemonConfig, shard: str) -> Iterator[RunningDaemon]:
    """``wifimon run -c FILE --shard I/N`` (``running_daemon`` passes no
    options), stopped by PID and required to exit 0, or killed on failure."""
    log = config.path.parent / "wifimon.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "wifimon", "run", "-c", str(config.path), "--shard", shard],
            cwd=config.path.parent,
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )
    daemon = RunningDaemon(process, config, log)
    try:
        yield daemon
    except BaseException:
        daemon.kill()
        raise
    daemon.stop()
