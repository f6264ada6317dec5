"""`wifimon run` with only the stdout exporter, polling a real net-snmp snmpd."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.agents import run_snmpd

pytestmark = pytest.mark.e2e

CONFIG = """\
poll: {{interval: 5s, timeout: 2s, retries: 1}}
credentials:
  lab: {{version: 2c, community: "${{STDOUT_TEST_COMMUNITY}}"}}
access_points:
  - {{ap: kiosk-1, host: 127.0.0.1, port: {port}, credentials: lab, district: Gare, site: station}}
exporters:
  stdout: {{format: json}}
state_dir: state
"""


def _first_lines(process: subprocess.Popen[bytes], timeout: float) -> list[dict[str, object]]:
    """JSON rows of the first snapshot written (bounded wait). Reads the raw
    pipe: a buffered reader would hide lines from select()."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    data = b""
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=0.5):
            if data.endswith(b"\n"):
                break  # a pause after complete lines: the snapshot is written
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        data += chunk
    return [json.loads(line) for line in data.splitlines()]


def test_stdout_exporter_streams_json_rows_of_each_poll(tmp_path: Path) -> None:
    community = "stdout-" + os.urandom(4).hex()
    with run_snmpd(tmp_path, [f"rocommunity {community} 127.0.0.1", "sysName kiosk-1"]) as (
        _,
        port,
    ):
        config = tmp_path / "wifimon.yaml"
        config.write_text(CONFIG.format(port=port))
        process = subprocess.Popen(
            [sys.executable, "-m", "wifimon", "run", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "STDOUT_TEST_COMMUNITY": community},
        )
        try:
            rows = _first_lines(process, timeout=30)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
    assert process.returncode == 0
    by_metric = {(row["metric"], json.dumps(row["labels"], sort_keys=True)): row for row in rows}
    up = by_metric[
        (
            "wifimon_ap_up",
            json.dumps({"ap": "kiosk-1", "district": "Gare", "site": "station"}, sort_keys=True),
        )
    ]
    assert up["value"] == 1
    assert any(
        row["metric"] == "wifimon_ap_info" and row["labels"]["name"] == "kiosk-1" for row in rows
    )  # type: ignore[index]
    assert community not in json.dumps(rows)
