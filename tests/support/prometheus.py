"""Start and stop a real Prometheus (Debian ``prometheus``) on 127.0.0.1 for tests.

The server runs in a temporary directory of the caller's, on a free port,
and is stopped by its PID. Its config is JSON, which is valid YAML.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

HOST = "127.0.0.1"
T = TypeVar("T")


class PrometheusError(RuntimeError):
    """Prometheus did not start, or a query failed."""


def prometheus_binary() -> str | None:
    """The ``prometheus`` executable on PATH, or None when it is not installed."""
    return shutil.which("prometheus")


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Call ``check`` every 0.1 s until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def _get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http on loopback
        body: bytes = response.read()
        return body


@dataclass
class PrometheusServer:
    """A running Prometheus; ``url`` is e.g. ``http://127.0.0.1:39123``."""

    process: subprocess.Popen[bytes]
    url: str
    directory: Path

    def query(self, expr: str) -> list[dict[str, object]]:
        """The ``result`` of an instant query, e.g. ``[{"metric": {...}, "value": [t, "1"]}]``."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        answer = json.loads(_get(url))
        if answer.get("status") != "success":
            raise PrometheusError(f"query {expr!r} failed: {answer}")
        result: list[dict[str, object]] = answer["data"]["result"]
        return result

    def targets(self) -> list[dict[str, object]]:
        """Active scrape targets with their health and last error."""
        answer = json.loads(_get(f"{self.url}/api/v1/targets"))
        active: list[dict[str, object]] = answer["data"]["activeTargets"]
        return active

    def log(self) -> str:
        return (self.directory / "prometheus.log").read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop by PID: SIGTERM, then SIGKILL if it does not exit in ``timeout`` s."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)


def write_config(directory: Path, targets: Sequence[str], scrape_interval: str) -> Path:
    """A config scraping ``targets`` (``host:port``) as job ``wifimon``."""
    config = {
        "global": {"scrape_interval": scrape_interval, "scrape_timeout": scrape_interval},
        "scrape_configs": [{"job_name": "wifimon", "static_configs": [{"targets": list(targets)}]}],
    }
    path = directory / "prometheus.yml"
    path.write_text(json.dumps(config, indent=2))
    return path


def _ready(server: PrometheusServer) -> bool | None:
    if server.process.poll() is not None:
        raise PrometheusError(f"prometheus exited early:\n{server.log()[-2000:]}")
    try:
        return True if _get(f"{server.url}/-/ready", timeout=1.0) else None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def start_prometheus(
    directory: Path, targets: Sequence[str], scrape_interval: str = "1s", timeout: float = 30.0
) -> PrometheusServer:
    """Start Prometheus in ``directory`` scraping ``targets``; returns once it is ready."""
    binary = prometheus_binary()
    if binary is None:
        raise PrometheusError("prometheus is not installed")
    config = write_config(directory, targets, scrape_interval)
    port = free_tcp_port()
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={directory / 'tsdb'}",
        f"--web.listen-address={HOST}:{port}",
    ]
    with (directory / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    server = PrometheusServer(process, f"http://{HOST}:{port}", directory)
    try:
        wait_for(lambda: _ready(server), timeout, "prometheus /-/ready")
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def running_prometheus(
    directory: Path, targets: Sequence[str], scrape_interval: str = "1s"
) -> Iterator[PrometheusServer]:
    """``start_prometheus`` as a context manager that always stops it."""
    server = start_prometheus(directory, targets, scrape_interval)
    try:
        yield server
    finally:
        server.stop()
