"""SIGTERM while the InfluxDB spool is being replayed: a clean exit, then nothing lost or doubled.

The daemon writes to a real VictoriaMetrics through a relay the test
controls: first the relay answers 503 for several polls (the points go to
the spool), then it passes requests on, slowly, so the replay of the spool
takes a while. After a few replayed batches the daemon gets SIGTERM: it
must exit with status 0 (within tests.support.daemon's stop bound) and
leave the rest spooled. A second start replays the rest; every sample the
stdout exporter witnessed must then be in VictoriaMetrics exactly once.
"""

from __future__ import annotations

import http.server
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_influxdb_victoria import (  # the witness and its helpers
    TOKEN_ENV,
    Agent,
    assert_exactly_once,
    polls_of,
    start,
    wait_polls,
    wait_replayed,
    witnessed,
)
from tests.support.agents import run_snmpd
from tests.support.daemon import DaemonConfig
from tests.support.influx_servers import running_victoria_metrics, victoria_metrics_binary
from tests.support.prometheus import HOST, free_tcp_port, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(victoria_metrics_binary() is None, reason="victoria-metrics not installed"),
]

BATCH = 10  # points per spool record and per replayed request: many requests
DELAY_S = 0.3  # per relayed request while "slow"
REPLAYED_BEFORE_SIGTERM = 3


@dataclass
class Relay:
    """An HTTP relay to ``upstream``: ``down`` answers 503, otherwise it forwards
    after ``delay`` seconds; ``forwarded`` counts requests passed on."""

    upstream: str
    url: str = ""
    down: bool = True
    delay: float = 0.0
    forwarded: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def forward(self, path: str, data: bytes, headers: dict[str, str]) -> int:
        time.sleep(self.delay)
        request = urllib.request.Request(self.upstream + path, data=data, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
                response.read()
                status: int = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        with self.lock:
            self.forwarded += 1
        return status


@contextmanager
def running_relay(upstream: str) -> Iterator[Relay]:
    relay = Relay(upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # name fixed by BaseHTTPRequestHandler
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if relay.down:
                status = 503
            else:
                keep = ("content-type", "content-encoding", "authorization")
                headers = {k: v for k, v in self.headers.items() if k.lower() in keep}
                status = relay.forward(self.path, data, headers)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    relay.url = f"http://{HOST}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    community = "replay-" + secrets.token_hex(6)
    lines = [f"rocommunity {community} 127.0.0.1", "sysName lamp"]
    with run_snmpd(tmp_path_factory.mktemp("snmpd"), lines) as (_, port):
        yield Agent(port, community)


def lamp(name: str, port: int) -> dict[str, object]:
    return {
        "ap": name,
        "host": HOST,
        "port": port,
        "credentials": "lab",
        "profile": "generic",
        "site": "market square",
        "district": "Old Town",
    }


def write_config(directory: Path, agent: Agent, url: str) -> DaemonConfig:
    port = free_tcp_port()
    config = {
        "poll": {"interval": "2s", "timeout": "1s", "retries": 0, "jitter": "0s"},
        "credentials": {"lab": {"version": "2c", "community": agent.community}},
        "access_points": [lamp(f"lamp-{n}", agent.port) for n in range(1, 5)],
        "exporters": {
            "prometheus": {"listen": f"{HOST}:{port}"},
            "stdout": {"format": "json"},
            "influxdb": {
                "url": url,
                "org": "city",
                "bucket": "wifi",
                "token": "${" + TOKEN_ENV + "}",
                "flush_interval": "200ms",
                "batch_size": BATCH,
                "timeout": "3s",
                "max_retry_delay": "1s",
            },
        },
        "state_dir": "state",
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "wifimon.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return DaemonConfig(path, port)


def test_sigterm_mid_replay_exits_cleanly_and_the_next_start_lands_every_point_once(
    agent: Agent, tmp_path: Path
) -> None:
    token = "tok-" + secrets.token_hex(12)
    with (
        running_victoria_metrics(tmp_path / "vm") as vm,
        running_relay(vm.url) as relay,
    ):
        config = write_config(tmp_path / "wifimon", agent, relay.url)
        spool = config.path.parent / "state" / "influxdb" / "spool"
        first = start(config, "first", token)
        try:
            wait_polls(first, 5)  # relay down: every point is spooled
            spooled = first.scrape().value("wifimon_influxdb_spool_points")
            assert spooled > BATCH * (REPLAYED_BEFORE_SIGTERM + 5)
            relay.delay, relay.down = DELAY_S, False
            wait_for(
                lambda: True if relay.forwarded >= REPLAYED_BEFORE_SIGTERM else None,
                60,
                "the replay under way",
            )
        finally:
            first.stop()  # SIGTERM; must exit 0 within the stop bound
        assert list(spool.glob("*.seg")), "SIGTERM came before the replay ended"

        relay.delay = 0.0
        second = start(config, "second", token)
        try:
            wait_polls(second, 1)
            wait_replayed(second)
            wait_polls(second, 1)
        finally:
            second.stop()
        expected = witnessed(config.path.parent)
        points = assert_exactly_once(expected, vm)

    assert polls_of(expected) >= 6
    assert points > spooled
    assert "replaying" in second.log()
    assert not list(spool.glob("*.seg"))
    assert token not in first.log() + second.log()
