"""A failed or interrupted snmpd start says why and leaves no snmpd behind.

The end-to-end tests and the fleet bench exercise ``start_snmpd`` when it
works; these check the ways out that they never take: snmpd exiting at
start, snmpd never answering the probe, and the wait being interrupted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wifimon.simulator import snmpd
from wifimon.simulator.snmpd import start_snmpd

pytestmark = pytest.mark.e2e


def snmpd_pids(folder: Path) -> list[int]:
    """PIDs of the processes started with ``folder``'s snmpd.conf."""
    conf = str(folder / "snmpd.conf").encode()
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # not a process, or one that ended meanwhile
            continue
        if conf in arguments:
            pids.append(int(entry.name))
    return pids


def test_an_snmpd_that_exits_at_start_raises_with_its_log(tmp_path: Path) -> None:
    # port 99999 does not exist, so snmpd cannot open this endpoint and exits
    conf = ["sysName launcher-test", "agentaddress udp:127.0.0.1:99999"]
    with pytest.raises(RuntimeError, match="snmpd exited with status 1") as raised:
        start_snmpd(conf, tmp_path)
    assert 'Error opening specified endpoint "udp:127.0.0.1:99999"' in str(raised.value)
    assert snmpd_pids(tmp_path) == []


def test_an_snmpd_that_never_answers_the_probe_is_stopped(tmp_path: Path) -> None:
    conf = ["rocommunity launcher-known 127.0.0.1"]  # snmpd ignores other communities
    with pytest.raises(TimeoutError, match=r"snmpd did not answer on 127\.0\.0\.1:") as raised:
        start_snmpd(conf, tmp_path, probe_community="launcher-unknown", ready_timeout=1.0)
    assert "NET-SNMP version" in str(raised.value)  # the log's first line
    assert snmpd_pids(tmp_path) == []


def test_an_interrupted_start_leaves_no_snmpd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers_discovery = snmpd._answers_discovery

    def interrupt_once_it_answers(host: str, port: int) -> bool:
        if not answers_discovery(host, port):
            return False
        # only now: /proc shows an empty cmdline for a moment after the exec
        assert snmpd_pids(tmp_path) != []
        raise KeyboardInterrupt

    monkeypatch.setattr(snmpd, "_answers_discovery", interrupt_once_it_answers)
    with pytest.raises(KeyboardInterrupt):
        start_snmpd(["sysName launcher-test"], tmp_path)
    assert snmpd_pids(tmp_path) == []
