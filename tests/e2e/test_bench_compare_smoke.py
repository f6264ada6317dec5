"""bench/compare.py compares like with like: every client fetched the same values.

Runs the benchmark in its ``--tiny`` mode (a few polls per client, a small
ifTable, real snmpd, real snmp_exporter, real pysnmp) and checks the
correctness of the comparison, never its speed: for the GET workload, over
SNMPv2c and SNMPv3, wifimon, snmp_exporter and plain pysnmp report the same
30 values for every target, and every client's row is in the printed table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

COMPARE = Path(__file__).resolve().parents[2] / "bench" / "compare.py"
CLIENTS = ("wifimon", "snmp_exporter", "pysnmp")
TINY_TARGETS = 4
OIDS_PER_GET = 30


def test_all_clients_fetch_the_same_get_values(tmp_path: Path) -> None:
    values_path = tmp_path / "values.json"
    run = subprocess.run(
        [sys.executable, str(COMPARE), "--tiny", "--values-out", str(values_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    values = json.loads(values_path.read_text())
    runs = [f"{client} v{version}" for client in CLIENTS for version in ("2c", "3")]
    assert sorted(values) == sorted(runs)
    reference = values["wifimon v2c"]
    assert len(reference) == TINY_TARGETS
    for by_oid in reference.values():
        assert len(by_oid) == OIDS_PER_GET
        assert None not in by_oid.values()  # every OID exists in snmpd: no exceptions
        assert by_oid["1.3.6.1.2.1.1.5.0"] == "wifimon-bench"  # sysName from its config
    for name in runs:
        assert values[name] == reference, f"{name} fetched other values than wifimon v2c"

    table = run.stdout
    for workload in ("get", "walk"):
        for version in ("2c", "3"):
            for client in CLIENTS:
                assert any(
                    line.split()[:3] == [workload, f"v{version}", client]
                    for line in table.splitlines()
                ), f"no row for {workload} v{version} {client}:\n{table}"
