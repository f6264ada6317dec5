"""`wifimon run` with its state_dir on a real file system that fills up or turns read-only.

``state_dir`` is a small tmpfs mounted for the test; the InfluxDB exporter
points at a port where nothing listens, so every point goes to its spool
under ``state_dir``. Filling the tmpfs (the kernel's ENOSPC) and remounting
it read-only (EROFS) must not stop polling or exporting: each failure is
logged once, counted by reason in ``wifimon_state_write_errors_total`` and
``wifimon_influxdb_points_dropped_total{reason="spool_unwritable"}``, and
saving recovers by itself, logged once, when the space or write access returns.
A state file damaged on disk is moved aside, logged once and counted in
``wifimon_state_load_errors_total``, and the daemon starts without it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.agents import run_snmpd
from tests.support.daemon import DaemonConfig, RunningDaemon, Scrape, running_daemon
from tests.support.mounts import fill, free, set_read_only, tmpfs
from tests.support.prometheus import HOST, free_tcp_port, wait_for
from wifimon.state import StateStore

pytestmark = pytest.mark.e2e

STATE_ERRORS = "wifimon_state_write_errors_total"
SAVE_FAILED = "cannot save state to"
SAVE_WORKS = "works again"
SAVE_WORKS_STATE = "state.json works again"
SPOOL_FAILED = "cannot write the InfluxDB spool"
SPOOL_WORKS = "writing the InfluxDB spool works again"
WAIT_S = 60.0


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    community = "disk-" + secrets.token_hex(6)
    lines = [f"rocommunity {community} 127.0.0.1", "sysName lamp"]
    with run_snmpd(tmp_path_factory.mktemp("snmpd"), lines) as (_, port):
        yield port, community


def lamp(name: str, port: int) -> dict[str, object]:
    return {
        "ap": name,
        "host": HOST,
        "port": port,
        "credentials": "lab",
        "profile": "generic",
        "site": "square",
        "district": "Centre",
    }


def daemon_config(
    directory: Path, state_dir: Path, port: int, community: str, *, influxdb: bool
) -> DaemonConfig:
    http_port = free_tcp_port()
    body = {
        "poll": {"interval": "1s", "timeout": "500ms", "retries": 0, "jitter": "0s"},
        "credentials": {"lab": {"version": "2c", "community": community}},
        "access_points": [lamp(f"lamp-{n}", port) for n in (1, 2)],
        "state_dir": str(state_dir),
        "exporters": {
            "prometheus": {"listen": f"{HOST}:{http_port}"},
            "influxdb": {
                # Nothing listens there: every point is spooled under state_dir.
                "url": f"http://{HOST}:{free_tcp_port()}",
                "org": "city",
                "bucket": "wifi",
                "token": "t",
                "flush_interval": "100ms",
                "timeout": "1s",
                "max_retry_delay": "1s",
            },
        },
    }
    if not influxdb:
        del body["exporters"]["influxdb"]  # type: ignore[attr-defined]
    path = directory / "wifimon.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return DaemonConfig(path, http_port)


def errors(scrape: Scrape, reason: str) -> float:
    return scrape.value(STATE_ERRORS, reason=reason)


def wait_errors(daemon: RunningDaemon, reason: str, at_least: float) -> Scrape:
    def reached() -> Scrape | None:
        scrape = daemon.scrape()
        return scrape if errors(scrape, reason) >= at_least else None

    return wait_for(reached, WAIT_S, f"{STATE_ERRORS}{{reason={reason!r}}} >= {at_least}")


def unwritable(daemon: RunningDaemon) -> float:
    return daemon.scrape().value("wifimon_influxdb_points_dropped_total", reason="spool_unwritable")


def wait_log(daemon: RunningDaemon, text: str, count: int) -> None:
    wait_for(lambda: True if daemon.log().count(text) >= count else None, WAIT_S, repr(text))


def assert_polling(daemon: RunningDaemon) -> None:
    """Two more rounds are published and the targets still answer."""
    now = daemon.wait_generation(0)
    daemon.wait_generation(now + 2, timeout=WAIT_S)
    scrape = daemon.scrape()
    assert scrape.value("wifimon_target_up", target="lamp-1") == 1
    assert scrape.value("wifimon_targets", state="up") == 2


def test_a_full_state_dir_is_survived_counted_and_recovered(
    agent: tuple[int, str], tmp_path: Path
) -> None:
    port, community = agent
    with tmpfs(tmp_path / "state", size_kib=1024) as state_dir:
        config = daemon_config(tmp_path, state_dir, port, community, influxdb=True)
        with running_daemon(config) as daemon:
            daemon.wait_generation(2)
            assert errors(daemon.scrape(), "full") == 0
            wait_for(lambda: StateStore(state_dir).load().known_aps or None, WAIT_S, "a save")

            filler = fill(state_dir)
            wait_errors(daemon, "full", 3)
            wait_for(lambda: unwritable(daemon) or None, WAIT_S, "spool_unwritable drops")
            assert_polling(daemon)
            free(filler)
            wait_log(daemon, SAVE_WORKS, 1)
            wait_log(daemon, SPOOL_WORKS, 1)
            saved_at = (state_dir / "state.json").stat().st_mtime
            assert_polling(daemon)
            assert (state_dir / "state.json").stat().st_mtime > saved_at, "saving goes on"
            final = daemon.scrape()
        assert StateStore(state_dir).load().known_aps.keys() == {"lamp-1", "lamp-2"}

    log = daemon.log()
    # Once per run of failures, however many rounds failed.
    assert log.count(SAVE_FAILED) == 1, log[-3000:]
    assert log.count(SAVE_WORKS_STATE) == 1
    assert log.count(SPOOL_FAILED) == 1
    assert log.count(SPOOL_WORKS) == 1
    assert "Traceback" not in log
    assert errors(final, "full") >= 3
    assert errors(final, "read_only") == errors(final, "other") == 0


def test_a_read_only_state_dir_is_survived_counted_and_recovered(
    agent: tuple[int, str], tmp_path: Path
) -> None:
    port, community = agent
    with tmpfs(tmp_path / "state", size_kib=1024) as state_dir:
        config = daemon_config(tmp_path, state_dir, port, community, influxdb=False)
        with running_daemon(config) as daemon:
            wait_for(lambda: StateStore(state_dir).load().known_aps or None, WAIT_S, "a save")
            set_read_only(state_dir, True)
            try:
                wait_errors(daemon, "read_only", 3)
                assert_polling(daemon)
                assert StateStore(state_dir).load().known_aps.keys() == {"lamp-1", "lamp-2"}
            finally:
                set_read_only(state_dir, False)
            wait_log(daemon, SAVE_WORKS_STATE, 1)
            assert_polling(daemon)
            final = daemon.scrape()

    log = daemon.log()
    assert log.count(SAVE_FAILED) == 1, log[-3000:]
    assert "(read_only: [Errno 30] Read-only file system" in log
    assert log.count(SAVE_WORKS_STATE) == 1
    assert errors(final, "read_only") >= 3
    assert errors(final, "full") == errors(final, "other") == 0


def test_a_corrupt_state_file_is_set_aside_logged_once_counted_and_replaced(
    agent: tuple[int, str], tmp_path: Path
) -> None:
    port, community = agent
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    damaged = b'{"version": 1, "known_aps": {"lamp-1": {"last_seen": 17\x00\x00\x00'
    (state_dir / "state.json").write_bytes(damaged)
    config = daemon_config(tmp_path, state_dir, port, community, influxdb=False)
    with running_daemon(config) as daemon:
        daemon.wait_generation(2)
        scrape = daemon.scrape()
        wait_for(lambda: StateStore(state_dir).load().known_aps or None, WAIT_S, "a new save")

    assert scrape.value("wifimon_state_load_errors_total", reason="corrupt") == 1
    assert scrape.value("wifimon_state_load_errors_total", reason="unreadable") == 0
    assert scrape.value("wifimon_targets", state="up") == 2
    (aside,) = state_dir.glob("state.json.corrupt-*")
    assert aside.read_bytes() == damaged
    assert daemon.log().count("is corrupt") == 1
    assert StateStore(state_dir).load().known_aps.keys() == {"lamp-1", "lamp-2"}
