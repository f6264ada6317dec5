"""Real InfluxDB-protocol servers on 127.0.0.1 for tests, stopped by PID.

- VictoriaMetrics (Debian ``victoria-metrics``) answers the InfluxDB v2 write
  API (``/api/v2/write``, what influxdb-client posts); what landed is read
  back raw with ``/api/v1/export`` as series ``<measurement>_<field>``. It
  keeps every sample it is sent (no deduplication flag), so a point written
  twice shows up twice. It can be stopped and started again on the same port
  and data folder to make an outage.
- InfluxDB 1.6 (Debian ``influxdb``) answers InfluxQL on ``/query`` and line
  protocol on ``/write``; it predates ``/api/v2/write``.
- ``stub_server`` is a tiny HTTP server answering every request with one
  status (or never answering), for the refusals VictoriaMetrics never makes;
  with ``refuse``, only bodies holding a marker get the status and the
  rest are passed on to a real server (``upstream``).
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.prometheus import HOST, free_tcp_port, wait_for

START_TIMEOUT = 30.0


def _request(url: str, data: bytes | None = None, timeout: float = 10.0) -> bytes:
    request = urllib.request.Request(url, data=data)  # noqa: S310 - loopback http only
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body: bytes = response.read()
        return body


def _answers(url: str) -> bool | None:
    try:
        _request(url, timeout=1.0)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    return True


def _stop_process(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(15)


# --- VictoriaMetrics ------------------------------------------------------------


def victoria_metrics_binary() -> str | None:
    return shutil.which("victoria-metrics")


@dataclass
class VictoriaMetrics:
    """One VictoriaMetrics data folder on one port; ``start``/``stop`` may repeat."""

    directory: Path
    port: int = field(default_factory=free_tcp_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        log = (self.directory / "vm.log").open("ab")
        command = [
            "victoria-metrics",
            f"-httpListenAddr={HOST}:{self.port}",
            f"-storageDataPath={self.directory / 'data'}",
            "-retentionPeriod=100y",  # tests write rollup hours of the past too
        ]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        wait_for(self._healthy, START_TIMEOUT, "VictoriaMetrics /health")

    def _healthy(self) -> bool | None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"victoria-metrics exited:\n{self.log()[-2000:]}")
        return _answers(f"{self.url}/health")

    def stop(self) -> None:
        _stop_process(self.process)
        self.process = None

    def log(self) -> str:
        return (self.directory / "vm.log").read_text(errors="replace")

    def export(self, selector: str) -> list[dict[str, Any]]:
        """Every raw sample of the series matching ``selector``, e.g.
        ``[{"metric": {"__name__": "wifimon_ap_up", ...}, "values": [1], "timestamps": [...]}]``."""
        _request(f"{self.url}/internal/force_flush")
        query = urllib.parse.urlencode({"match[]": selector})
        body = _request(f"{self.url}/api/v1/export?{query}")
        return [json.loads(line) for line in body.decode().splitlines() if line]


@contextmanager
def running_victoria_metrics(directory: Path) -> Iterator[VictoriaMetrics]:
    directory.mkdir(parents=True, exist_ok=True)
    server = VictoriaMetrics(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- InfluxDB 1.6 --------------------------------------------------------------


def influxd_binary() -> str | None:
    return shutil.which("influxd")


@dataclass
class Influx1:
    """A running InfluxDB 1.x; ``url`` is e.g. ``http://127.0.0.1:38086``."""

    process: subprocess.Popen[bytes]
    url: str
    directory: Path

    def query(self, influxql: str, database: str = "") -> list[dict[str, Any]]:
        """The ``results`` of an InfluxQL statement (epoch seconds)."""
        params = {"q": influxql, "epoch": "s"}
        if database:
            params["db"] = database
        body = _request(f"{self.url}/query", urllib.parse.urlencode(params).encode())
        answer = json.loads(body)
        results: list[dict[str, Any]] = answer["results"]
        for result in results:
            if "error" in result:
                raise RuntimeError(f"InfluxQL {influxql!r} failed: {result['error']}")
        return results

    def write(self, database: str, lines: list[str]) -> None:
        """Line protocol with second timestamps through 1.x's ``/write``."""
        query = urllib.parse.urlencode({"db": database, "precision": "s"})
        _request(f"{self.url}/write?{query}", "\n".join(lines).encode())


def _influx_conf(directory: Path, http_port: int, rpc_port: int) -> Path:
    conf = directory / "influxdb.conf"
    conf.write_text(
        f"""reporting-disabled = true
bind-address = "{HOST}:{rpc_port}"
[meta]
  dir = "{directory / "meta"}"
[data]
  dir = "{directory / "data"}"
  wal-dir = "{directory / "wal"}"
  query-log-enabled = false
[http]
  bind-address = "{HOST}:{http_port}"
  log-enabled = false
"""
    )
    return conf


@contextmanager
def running_influx1(directory: Path) -> Iterator[Influx1]:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_tcp_port()
    conf = _influx_conf(directory, port, free_tcp_port())
    with (directory / "influxd.log").open("wb") as log:
        process = subprocess.Popen(
            ["influxd", "-config", str(conf)], stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    server = Influx1(process, f"http://{HOST}:{port}", directory)
    try:

        def ready() -> bool | None:
            if process.poll() is not None:
                log_text = (directory / "influxd.log").read_text(errors="replace")
                raise RuntimeError(f"influxd exited:\n{log_text[-2000:]}")
            return _answers(f"{server.url}/ping")

        wait_for(ready, START_TIMEOUT, "InfluxDB /ping")
        yield server
    finally:
        _stop_process(process)


# --- a refusing or silent HTTP server --------------------------------------------


@dataclass
class StubServer:
    """Answers every request with ``status`` and ``body``; ``requests`` counts them.
    With ``status`` 0 it accepts the connection and never answers. ``bodies``
    (gunzipped) and ``answers`` (the status each got) are in arrival order."""

    url: str
    status: int
    requests: int = 0
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


def _forward(url: str, data: bytes, headers: dict[str, str]) -> int:
    """POST ``data`` as it came (gzip and all) to ``url``; the status it gets."""
    passed = {
        name: value
        for name, value in headers.items()
        if name.lower() in ("content-type", "content-encoding", "authorization")
    }
    request = urllib.request.Request(url, data=data, headers=passed)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


@contextmanager
def stub_server(
    status: int, body: bytes = b"", *, refuse: Collection[bytes] = (), upstream: str = ""
) -> Iterator[StubServer]:
    """With ``refuse``, only bodies holding one of its markers get ``status``;
    the others are passed on to ``upstream`` and answered as it answers."""
    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # name fixed by BaseHTTPRequestHandler
            length = int(self.headers.get("Content-Length", "0"))
            data = self.rfile.read(length)
            plain = (
                gzip.decompress(data) if self.headers.get("Content-Encoding") == "gzip" else data
            )
            stub.requests += 1
            stub.paths.append(self.path)
            stub.headers.append(dict(self.headers.items()))
            stub.bodies.append(plain)
            if refuse and not any(marker in plain for marker in refuse):
                answer = _forward(upstream + self.path, data, dict(self.headers.items()))
                stub.answers.append(answer)
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            stub.answers.append(stub.status)
            if stub.status == 0:
                release.wait(60)  # hold the connection open, never answer
                return
            self.send_response(stub.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            del format, args  # keep test output quiet

    server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    stub = StubServer(f"http://{HOST}:{server.server_address[1]}", status)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        release.set()
        server.shutdown()
        server.server_close()
