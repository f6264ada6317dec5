"""Run ``wifimon run`` as a real child process for end-to-end tests.

The daemon is started with this interpreter (``python -m wifimon``), listens
on 127.0.0.1 on a free TCP port, and is stopped by its PID: SIGTERM first,
and the exit status must then be 0; a daemon still alive when the test ends
(because the test failed) is killed. Its stderr (the log) goes to a file the
test can read.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.prometheus import HOST, free_tcp_port, wait_for

READY_TIMEOUT = 120.0  # a first poll of a 226-AP recording takes ~7-15 s; leave room
STOP_TIMEOUT = 30.0
# /healthz: "ok generation=3 age_seconds=1.2 rendered_generation=3". /metrics
# serves the last *rendered* snapshot, which may lag the published one.
_GENERATIONS = re.compile(r"\bgeneration=(\d+)\b.*\brendered_generation=(\d+|none)\b")


@dataclass(frozen=True)
class DaemonConfig:
    """A config file written for a test, and the port its exporter listens on."""

    path: Path
    http_port: int


def write_config(
    directory: Path, config: Mapping[str, object], name: str = "wifimon.yaml"
) -> DaemonConfig:
    """Write ``config`` (the YAML keys of config.example.yaml) into ``directory``.

    Adds the Prometheus exporter on 127.0.0.1 and a free port, and, unless
    given, ``state_dir: state`` next to the file.
    """
    port = free_tcp_port()
    body = {
        "state_dir": "state",
        **config,
        "exporters": {"prometheus": {"listen": f"{HOST}:{port}"}},
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return DaemonConfig(path, port)


@dataclass(frozen=True)
class Series:
    labels: Mapping[str, str]
    value: float


class Scrape:
    """A ``/metrics`` page parsed by prometheus_client's own parser."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.by_name: dict[str, list[Series]] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                series = Series(dict(sample.labels), float(sample.value))
                self.by_name.setdefault(sample.name, []).append(series)

    def series(self, name: str, **labels: str) -> list[Series]:
        """Every series of ``name`` whose labels include ``labels``."""
        return [
            series
            for series in self.by_name.get(name, [])
            if all(series.labels.get(key) == value for key, value in labels.items())
        ]

    def value(self, name: str, **labels: str) -> float:
        """The value of the one series of ``name`` matching ``labels``."""
        found = self.series(name, **labels)
        assert len(found) == 1, f"{len(found)} series {name}{labels}, expected exactly one"
        return found[0].value

    def optional(self, name: str, **labels: str) -> float | None:
        """Like ``value``, but None when no series matches."""
        found = self.series(name, **labels)
        assert len(found) <= 1, f"{len(found)} series {name}{labels}, expected at most one"
        return found[0].value if found else None


def _http_get(url: str, timeout: float = 10.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
        body: bytes = response.read()
        return body.decode()


class RunningDaemon:
    """A ``wifimon run`` child process; ``url`` is e.g. ``http://127.0.0.1:39123``."""

    def __init__(self, process: subprocess.Popen[bytes], config: DaemonConfig, log: Path) -> None:
        self.process = process
        self.config = config
        self.url = f"http://{HOST}:{config.http_port}"
        self.log_path = log

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _generation(self) -> int | None:
        if self.process.poll() is not None:
            raise AssertionError(
                f"wifimon exited with status {self.process.returncode}:\n{self.log()[-3000:]}"
            )
        try:
            match = _GENERATIONS.search(_http_get(f"{self.url}/healthz", timeout=2.0))
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None  # not listening yet
        if match is None or match.group(2) == "none":
            return None
        return min(int(match.group(1)), int(match.group(2)))

    def wait_generation(self, at_least: int = 1, timeout: float = READY_TIMEOUT) -> int:
        """Wait until ``/healthz`` reports a snapshot ``>= at_least`` both
        published and rendered (so ``/metrics`` serves it)."""

        def reached() -> int | None:
            generation = self._generation()
            return generation if generation is not None and generation >= at_least else None

        return wait_for(reached, timeout, f"wifimon /healthz generation>={at_least}")

    def scrape(self) -> Scrape:
        return Scrape(_http_get(f"{self.url}/metrics"))

    def stop(self) -> None:
        """SIGTERM by PID; the daemon must exit by itself with status 0."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
        try:
            status = self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"wifimon ignored SIGTERM for {STOP_TIMEOUT} s") from None
        assert status == 0, f"wifimon exited with {status} after SIGTERM:\n{self.log()[-3000:]}"

    def kill(self) -> None:
        """SIGKILL by PID if it still runs (cleanup after a failed test)."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)


def start_daemon(
    config: DaemonConfig, env: Mapping[str, str] | None = None, log_name: str = "wifimon.log"
) -> RunningDaemon:
    """Start ``python -m wifimon run -c FILE``; its stderr goes to ``log_name``."""
    log = config.path.parent / log_name
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "wifimon", "run", "-c", str(config.path)],
            cwd=config.path.parent,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )
    return RunningDaemon(process, config, log)


@contextmanager
def running_daemon(
    config: DaemonConfig, env: Mapping[str, str] | None = None, log_name: str = "wifimon.log"
) -> Iterator[RunningDaemon]:
    """``start_daemon`` that always ends the process: if the test body ends
    normally and left it running, it is stopped (and must exit 0); if the
    body failed, it is killed."""
    daemon = start_daemon(config, env, log_name)
    try:
        yield daemon
    except BaseException:
        daemon.kill()
        raise
    else:
        daemon.stop()
    finally:
        daemon.kill()
