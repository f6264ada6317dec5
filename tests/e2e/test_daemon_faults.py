"""The real daemon over real UDP and HTTP: bad targets never disturb good ones.

One snmpsim process serves the hand-made recordings of ``tests/e2e/agents/``
under secret-looking communities (a healthy controller, one with truncated
and odd tables, one without a system group); a second one serves the slow
controller (snmpsim's ``delay`` module sleeps in its only thread, so sharing
a process would slow every recording); a black-hole UDP port never answers.
``python -m wifimon run`` polls them and the tests scrape ``/metrics`` as
Prometheus would, send SIGHUP and SIGTERM, and read the daemon's JSON log.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.faulty_agents import ap_id, black_hole, load_agent, serve_recordings
from tests.support.prometheus import free_tcp_port, wait_for
from wifimon.poller import poll_target
from wifimon.profiles.registry import default_registry
from wifimon.snmp.recorded import RecordedTransport
from wifimon.snmp.types import SnmpCredentials, SnmpTarget

pytestmark = pytest.mark.e2e

HOST = "127.0.0.1"
# Recording name -> the community that selects it (never logged, never exported).
COMMUNITIES = {
    "healthy": "c0mm-healthy-4b1d",
    "odd": "c0mm-odd-92fe",
    "nosystem": "c0mm-nosystem-0c3a",
}
SLOW_COMMUNITY = "c0mm-slow-6e07"
WRONG_COMMUNITY = "c0mm-unknown-d51b"
# snmpsim's default SNMPv3 user is "simulator" (MD5 key "auctoritas", DES key
# "privatus"); this target offers a wrong authentication key.
WRONG_AUTH_KEY = "not-the-auth-key-18f3"
SECRETS = (*COMMUNITIES.values(), SLOW_COMMUNITY, WRONG_COMMUNITY, WRONG_AUTH_KEY, "privatus")

HEALTHY_APS = {ap_id(n) for n in (0x01, 0x02, 0x03)}
ODD_APS = {ap_id(n) for n in (0x11, 0x12, 0x13)}

Metrics = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass(frozen=True)
class Fleet:
    """Where the agents listen: (host, port) each."""

    main: tuple[str, int]
    slow: tuple[str, int]
    black_hole: tuple[str, int]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    base = tmp_path_factory.mktemp("agents")
    recordings = {community: name for name, community in COMMUNITIES.items()}
    with ExitStack() as stack:
        main = stack.enter_context(serve_recordings(base / "main", recordings))
        slow = stack.enter_context(serve_recordings(base / "slow", {SLOW_COMMUNITY: "slow"}))
        hole = stack.enter_context(black_hole())
        yield Fleet(main, slow, hole.address)


# --- config ------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def controller(name: str, address: tuple[str, int], credentials: str) -> dict[str, Any]:
    return {"name": name, "host": address[0], "port": address[1], "credentials": credentials}


CREDENTIALS = {
    "healthy": {"version": "2c", "community": COMMUNITIES["healthy"]},
    "odd": {"version": "2c", "community": COMMUNITIES["odd"]},
    "nosystem": {"version": "2c", "community": COMMUNITIES["nosystem"]},
    "slow": {"version": "2c", "community": SLOW_COMMUNITY},
    "unknown": {"version": "2c", "community": WRONG_COMMUNITY},
    "wrong-key": {
        "version": "3",
        "user": "simulator",
        "auth_protocol": "md5",
        "auth_password": WRONG_AUTH_KEY,
        "priv_protocol": "des",
        "priv_password": "privatus",
    },
}


def write_config(
    path: Path,
    controllers: list[dict[str, Any]],
    *,
    metrics_port: int,
    interval: float,
    budget: float,
    timeout: float = 1.0,
) -> str:
    """Write the daemon's config to ``path``; returns its text."""
    config = {
        "poll": {
            "interval": _ms(interval),
            "timeout": _ms(timeout),
            "retries": 1,
            "target_budget": _ms(budget),
            "jitter": "0s",
        },
        "credentials": CREDENTIALS,
        "controllers": controllers,
        "exporters": {"prometheus": {"listen": f"{HOST}:{metrics_port}"}},
        "state_dir": str(path.parent / "state"),
        "log": {"level": "info", "format": "json"},
    }
    text = yaml.safe_dump(config, sort_keys=False)
    path.write_text(text)
    return text


# --- the daemon ----------------------------------------------------------------


def parse_metrics(text: str) -> Metrics:
    metrics: Metrics = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            metrics[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return metrics


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.get((name, frozenset(labels.items())))


def by_label(metrics: Metrics, name: str, label: str) -> dict[str, float]:
    """One metric's values keyed by one label, e.g. ``wifimon_target_up`` by target."""
    return {
        dict(labels)[label]: number
        for (metric, labels), number in metrics.items()
        if metric == name and label in dict(labels)
    }


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    metrics_port: int
    log_path: Path

    def scrape(self) -> Metrics | None:
        """The current /metrics, or None while it is not served yet."""
        if self.process.poll() is not None:
            raise AssertionError(f"the daemon exited with {self.process.returncode}:\n{self.log()}")
        url = f"http://{HOST}:{self.metrics_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return parse_metrics(response.read().decode())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    def rounds(self, metrics: Metrics) -> int:
        return int(value(metrics, "wifimon_poll_duration_seconds_count") or 0)

    def wait_for_round(self, number: int, timeout: float) -> Metrics:
        """The metrics published right after poll round ``number`` (1-based) ended."""

        def done() -> Metrics | None:
            metrics = self.scrape()
            return metrics if metrics is not None and self.rounds(metrics) >= number else None

        metrics = wait_for(done, timeout, f"poll round {number}")
        assert self.rounds(metrics) == number, "a round was missed: poll the metrics faster"
        return metrics

    def wait_until(self, check: Callable[[Metrics], bool], timeout: float, what: str) -> Metrics:
        def ready() -> Metrics | None:
            metrics = self.scrape()
            return metrics if metrics is not None and check(metrics) else None

        return wait_for(ready, timeout, what)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def events(self, event: str) -> list[dict[str, Any]]:
        """The JSON log lines of one event, e.g. ``"target down"``."""
        lines = []
        for line in self.log().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("event") == event:
                lines.append(record)
        return lines

    def stop(self, timeout: float) -> tuple[int, float]:
        """SIGTERM by PID; returns (exit code, seconds it took)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        return code, time.monotonic() - started


@contextmanager
def running_daemon(config: Path, metrics_port: int) -> Iterator[Daemon]:
    """``python -m wifimon run -c config`` in the config's folder; killed by PID at the end."""
    log_path = config.parent / "daemon.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "wifimon", "run", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=config.parent,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    daemon = Daemon(process, metrics_port, log_path)
    try:
        wait_for(daemon.scrape, 30, "the daemon's /metrics")
        yield daemon
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def missing_per_poll(recording: str) -> int:
    """What the fake transport counts missing in one poll of a recording."""
    transport = RecordedTransport({recording: load_agent(recording)})
    target = SnmpTarget(recording, HOST, 161, SnmpCredentials("2c", community="-"))
    outcome = asyncio.run(poll_target(transport, target, default_registry(), "auto"))
    return outcome.observation.missing


# --- the tests -----------------------------------------------------------------

INTERVAL, BUDGET = 5.0, 2.0
ROUNDS = 3
# Target -> the reason its every poll fails.
FAILING = {
    "wlc-nosystem": "no_such_object",
    "wlc-unknown-community": "timeout",
    "wlc-wrong-v3-key": "auth",
    "wlc-slow": "timeout",
    "wlc-black-hole": "timeout",
}


def _fleet_config(fleet: Fleet) -> list[dict[str, Any]]:
    slow = controller("wlc-slow", fleet.slow, "slow")
    # Patient per request, so only the target budget can stop its 2.7 s walk.
    slow.update(timeout=_ms(BUDGET), retries=0)
    return [
        controller("wlc-healthy", fleet.main, "healthy"),
        controller("wlc-odd", fleet.main, "odd"),
        controller("wlc-nosystem", fleet.main, "nosystem"),
        controller("wlc-unknown-community", fleet.main, "unknown"),
        controller("wlc-wrong-v3-key", fleet.main, "wrong-key"),
        slow,
        controller("wlc-black-hole", fleet.black_hole, "healthy"),
    ]


def test_bad_targets_never_disturb_the_healthy_one(fleet: Fleet, tmp_path: Path) -> None:
    port = free_tcp_port()
    config = tmp_path / "wifimon.yaml"
    write_config(config, _fleet_config(fleet), metrics_port=port, interval=INTERVAL, budget=BUDGET)
    odd_missing = missing_per_poll("odd")
    assert odd_missing > 0
    with running_daemon(config, port) as daemon:
        last_success = 0.0
        for number in range(1, ROUNDS + 1):
            metrics = daemon.wait_for_round(number, INTERVAL + BUDGET + 10)
            up = by_label(metrics, "wifimon_target_up", "target")
            assert up == {"wlc-healthy": 1, "wlc-odd": 1, **dict.fromkeys(FAILING, 0)}
            durations = by_label(metrics, "wifimon_target_poll_duration_seconds", "target")
            # The slow and dead targets take the whole budget (2 s); had the
            # healthy poll waited for any of them, it would take as long. Alone
            # it takes 0.2-0.5 s here; the margin is for a busy machine.
            assert durations["wlc-healthy"] < BUDGET * 0.75, durations
            for name in ("wlc-slow", "wlc-black-hole", "wlc-unknown-community"):
                assert durations[name] >= BUDGET * 0.9, durations
            success = value(
                metrics, "wifimon_target_last_success_timestamp_seconds", target="wlc-healthy"
            )
            assert success is not None
            assert success > last_success, "the healthy controller was not polled this round"
            last_success = success

        errors = {
            (dict(labels)["target"], dict(labels)["reason"]): number
            for (name, labels), number in metrics.items()
            if name == "wifimon_target_poll_errors_total"
        }
        assert errors == {(target, reason): ROUNDS for target, reason in FAILING.items()}
        aps_up = by_label(metrics, "wifimon_ap_up", "ap")
        assert aps_up == dict.fromkeys(HEALTHY_APS | ODD_APS, 1)
        assert value(metrics, "wifimon_controller_aps", controller="wlc-healthy", state="up") == 3
        missing = by_label(metrics, "wifimon_target_missing_values_total", "target")
        assert missing["wlc-healthy"] == 0
        assert missing["wlc-odd"] == ROUNDS * odd_missing  # as counted over the fake transport
        assert value(metrics, "wifimon_poll_overruns_total") == 0
        assert value(metrics, "wifimon_targets", state="up") == 2
        assert value(metrics, "wifimon_targets", state="down") == len(FAILING)

        # Logged once per outage, with the target and reason, never a secret.
        down = {(event["target"], event["reason"]) for event in daemon.events("target down")}
        assert len(daemon.events("target down")) == len(FAILING)
        assert down == set(FAILING.items())
        assert not [secret for secret in SECRETS if secret in daemon.log()]

        assert daemon.process.poll() is None, "the daemon stays up"
        code, took = daemon.stop(timeout=10)
        assert code == 0, daemon.log()
        assert took < 5


def test_sighup_keeps_the_old_config_on_error_and_applies_a_fixed_one(
    fleet: Fleet, tmp_path: Path
) -> None:
    interval, budget = 2.0, 1.0
    port = free_tcp_port()
    config = tmp_path / "wifimon.yaml"
    before = [controller(name, fleet.main, name) for name in ("healthy", "nosystem")]
    text = write_config(config, before, metrics_port=port, interval=interval, budget=budget)
    wait = interval + budget + 10
    with running_daemon(config, port) as daemon:
        metrics = daemon.wait_for_round(1, wait)
        assert value(metrics, "wifimon_config_last_reload_success") == 1

        config.write_text(text + "surprise_key: 1\n")
        daemon.process.send_signal(signal.SIGHUP)
        metrics = daemon.wait_until(
            lambda m: value(m, "wifimon_config_last_reload_success") == 0, wait, "failed reload"
        )
        failed_at = value(metrics, "wifimon_config_last_reload_timestamp_seconds")
        assert failed_at is not None
        (failure,) = daemon.events("reload failed, keeping the running config")
        assert "surprise_key" in failure["errors"]

        def polled_since(moment: float, target: str) -> Callable[[Metrics], bool]:
            def check(metrics: Metrics) -> bool:
                since = value(
                    metrics, "wifimon_target_last_success_timestamp_seconds", target=target
                )
                return since is not None and since > moment

            return check

        metrics = daemon.wait_until(polled_since(failed_at, "healthy"), wait, "a poll after it")
        up = by_label(metrics, "wifimon_target_up", "target")
        assert up == {"healthy": 1, "nosystem": 0}, "the old target list keeps running"

        after = [controller(name, fleet.main, name) for name in ("healthy", "odd")]
        write_config(config, after, metrics_port=port, interval=interval, budget=budget)
        daemon.process.send_signal(signal.SIGHUP)
        metrics = daemon.wait_until(
            lambda m: value(m, "wifimon_config_last_reload_success") == 1, wait, "good reload"
        )
        reloaded_at = value(metrics, "wifimon_config_last_reload_timestamp_seconds")
        assert reloaded_at is not None
        assert reloaded_at > failed_at
        metrics = daemon.wait_until(polled_since(reloaded_at, "odd"), wait, "the new target")
        assert by_label(metrics, "wifimon_target_up", "target") == {"healthy": 1, "odd": 1}
        assert by_label(metrics, "wifimon_ap_up", "ap") == dict.fromkeys(HEALTHY_APS | ODD_APS, 1)
        assert daemon.process.poll() is None


def test_sigterm_exits_cleanly_and_leaves_a_valid_state_file(fleet: Fleet, tmp_path: Path) -> None:
    interval, budget = 2.0, 1.6
    port = free_tcp_port()
    config = tmp_path / "wifimon.yaml"
    # Each round waits 1.6 s of every 2 s for the black hole; SIGTERM comes
    # 0.6 s after a round ended, so the next one is in flight: stopping must
    # not wait for it.
    targets = [
        controller("healthy", fleet.main, "healthy"),
        controller("black-hole", fleet.black_hole, "healthy"),
    ]
    write_config(config, targets, metrics_port=port, interval=interval, budget=budget)
    with running_daemon(config, port) as daemon:
        daemon.wait_for_round(1, interval + budget + 10)
        time.sleep(0.6)
        code, took = daemon.stop(timeout=10)
        assert code == 0, daemon.log()
        assert took < 5
        assert daemon.events("wifimon stopped")
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    assert state["version"] == 1
    assert set(state["known_aps"]) == HEALTHY_APS
    assert all(entry["last_seen"] > 0 for entry in state["known_aps"].values())
    assert {entry["controller"] for entry in state["known_aps"].values()} == {"healthy"}
