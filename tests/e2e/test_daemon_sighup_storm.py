"""`wifimon run` under a storm of SIGHUPs while it polls, configs flipping good and bad.

200 SIGHUPs in about a second, each after the config file was replaced
(atomically, as editors and config management do) by a good or a broken
version, then one last good config and one last SIGHUP. The daemon must
not crash or hang, must keep polling, must end up running the last config,
and its reload metrics must agree with what it logged.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.agents import run_snmpd
from tests.support.daemon import DaemonConfig, Scrape, running_daemon
from tests.support.prometheus import HOST, free_tcp_port, wait_for

pytestmark = pytest.mark.e2e

SIGNALS = 200
STORM_S = 1.0
WAIT_S = 60.0


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    community = "hup-" + secrets.token_hex(6)
    lines = [f"rocommunity {community} 127.0.0.1", "sysName lamp"]
    with run_snmpd(tmp_path_factory.mktemp("snmpd"), lines) as (_, port):
        yield port, community


def config_text(port: int, community: str, http_port: int, aps: list[str]) -> str:
    body = {
        "poll": {"interval": "1s", "timeout": "500ms", "retries": 0, "jitter": "0s"},
        "credentials": {"lab": {"version": "2c", "community": community}},
        "access_points": [
            {"ap": ap, "host": HOST, "port": port, "credentials": "lab", "profile": "generic"}
            for ap in aps
        ],
        "exporters": {"prometheus": {"listen": f"{HOST}:{http_port}"}},
        "state_dir": "state",
    }
    return yaml.safe_dump(body, sort_keys=False)


def broken_texts(good: str) -> list[str]:
    """Broken in different ways: an unknown key, bad YAML, a bad port, a torn file."""
    return [
        good + "pol: {interval: 1s}\n",
        good + "access_points: [\n",
        good.replace("port: ", "port: 70000 #", 1),
        good[: len(good) // 2],
    ]


def replace_atomically(path: Path, text: str) -> None:
    temp = path.with_suffix(".new")
    temp.write_text(text)
    os.replace(temp, path)


def targets(scrape: Scrape) -> set[str]:
    return {series.labels["target"] for series in scrape.series("wifimon_target_up")}


def test_a_sighup_storm_with_flipping_configs_ends_on_the_last_config(
    agent: tuple[int, str], tmp_path: Path
) -> None:
    port, community = agent
    http_port = free_tcp_port()
    path = tmp_path / "wifimon.yaml"
    goods = [
        config_text(port, community, http_port, ["lamp-1", "lamp-2"]),
        config_text(port, community, http_port, ["kiosk-1", "kiosk-2", "kiosk-3"]),
    ]
    last = config_text(port, community, http_port, [f"final-{n}" for n in range(4)])
    variants = [*goods, *broken_texts(goods[0])]
    path.write_text(goods[0])
    rng = random.Random(200)  # the same storm every run

    with running_daemon(DaemonConfig(path, http_port)) as daemon:
        daemon.wait_generation(1)
        for _ in range(SIGNALS):
            replace_atomically(path, rng.choice(variants))
            os.kill(daemon.pid, signal.SIGHUP)
            time.sleep(STORM_S / SIGNALS)
        replace_atomically(path, last)
        final_signal = time.time()
        os.kill(daemon.pid, signal.SIGHUP)

        def applied() -> Scrape | None:
            scrape = daemon.scrape()
            stamp = scrape.value("wifimon_config_last_reload_timestamp_seconds")
            done = stamp >= final_signal and targets(scrape) == {f"final-{n}" for n in range(4)}
            return scrape if done else None

        wait_for(applied, WAIT_S, "the last config running")
        now = daemon.wait_generation(0)
        daemon.wait_generation(now + 2, timeout=WAIT_S)  # still polling

        def all_polled() -> Scrape | None:
            # A reload publishes too: on a busy machine the final targets'
            # first round may end a few generations later.
            scrape = daemon.scrape()
            return scrape if scrape.value("wifimon_targets", state="up") == 4 else None

        scrape = wait_for(all_polled, WAIT_S, "every target of the last config polled")

    assert scrape.value("wifimon_config_last_reload_success") == 1
    assert scrape.value("wifimon_targets", state="up") == 4
    successes = scrape.value("wifimon_config_reloads_total", result="success")
    failures = scrape.value("wifimon_config_reloads_total", result="failure")
    log = daemon.log()
    # Signals arriving while a reload waits are merged into it, never queued up.
    assert 2 <= successes + failures <= SIGNALS + 1
    assert log.count("config reloaded") == successes
    assert log.count("reload failed, keeping the running config") == failures
    assert failures >= 1
    assert "Traceback" not in log
