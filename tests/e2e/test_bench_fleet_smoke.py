"""bench/fleet.py measures a daemon that really polled the whole fleet.

Runs the benchmark small (30 APs answered by a real snmpd, the real daemon
as a child process, two short rounds, a scrape burst) and checks what its
figures stand on, never a speed: every AP came up with its two radios,
every target answered, no round overran, and each figure line is printed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

FLEET = Path(__file__).resolve().parents[2] / "bench" / "fleet.py"
APS = 30


def test_the_fleet_bench_polls_every_ap_with_snmpd(tmp_path: Path) -> None:
    command = [sys.executable, str(FLEET), "--agent", "snmpd", "--aps", str(APS), "--no-scg"]
    options = ["--rounds", "3", "--interval", "8", "--scrape-every", "1", "--burst", "20"]
    run = subprocess.run(
        [*command, *options, "--work-dir", str(tmp_path), "--deadline", "120"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = run.stdout
    assert run.returncode == 0, output[-3000:] + run.stderr[-3000:]
    assert f"directly polled APs up: {APS} of {APS};" in output
    assert "every target answered: yes" in output
    assert re.search(r"overruns 0,", output), output
    # per AP: up, uptime, 2 traffic counters, ... and 2 radios with channel and band
    series = int(re.search(r"series on /metrics (\d+)", output).group(1))  # type: ignore[union-attr]
    assert series > APS * 15
    for figure in ("steady state:", "first complete poll published", "/metrics burst:", "RSS"):
        assert figure in output, f"no '{figure}' line:\n{output}"
