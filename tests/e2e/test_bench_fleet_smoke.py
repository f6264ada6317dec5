"""bench/fleet.py measures a daemon that really polled the whole fleet.

Runs the benchmark small (30 APs answered by a real snmpd and the Ruckus
SCG recording by the lean responder, the real daemon as a child process,
three short rounds, a scrape burst) and checks what its figures stand on,
never a speed: every AP came up with its two radios, all of the SCG's APs
were seen, every target answered, no round overran, and each figure line is
printed.
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


def test_the_fleet_bench_polls_every_ap_with_snmpd_and_the_scg_with_the_responder(
    tmp_path: Path,
) -> None:
    command = [sys.executable, str(FLEET), "--agent", "snmpd", "--aps", str(APS)]
    options = ["--rounds", "3", "--interval", "10", "--scrape-every", "1", "--burst", "20"]
    run = subprocess.run(
        [*command, *options, "--work-dir", str(tmp_path), "--deadline", "150"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = run.stdout
    assert run.returncode == 0, output[-3000:] + run.stderr[-3000:]
    assert f"directly polled APs up: {APS} of {APS}, the SCG's 7682 APs;" in output
    # the recording's 7,682 APs, 103 of them disconnected, came through the responder
    assert f"all wifimon_ap_up series: {APS + 7682 - 103} up, 103 down" in output
    assert "every target answered: yes" in output
    assert re.search(r"overruns 0,", output), output
    # the SCG's APs are on /metrics with several series each (54,311 in all)
    series = int(re.search(r"series on /metrics (\d+)", output).group(1))  # type: ignore[union-attr]
    assert series > 7682 * 5
    for figure in ("steady state:", "first complete poll published", "/metrics burst:", "RSS"):
        assert figure in output, f"no '{figure}' line:\n{output}"
