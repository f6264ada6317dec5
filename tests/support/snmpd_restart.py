"""net-snmp snmpd on a fixed 127.0.0.1 port whose state survives a restart.

``run_snmpd`` (agents.py) picks a new port each time; to restart an agent
the way a device reboots, the port and the persistent folder (where
net-snmp keeps ``engineBoots`` and, without an ``engineID`` line, its
engine id) must stay the same, and snmpd must read that folder back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.support.agents import run_snmpd


@contextmanager
def snmpd_on_port(directory: Path, port: int, conf_lines: Sequence[str]) -> Iterator[int]:
    """snmpd on ``HOST:port`` with ``conf_lines``; its persistent state in ``directory``."""
    with run_snmpd(directory, conf_lines, port, persistent=True):
        yield port


def engine_boots(directory: Path) -> int | None:
    """The ``engineBoots`` net-snmp saved in ``directory`` at its last stop."""
    saved = directory / "persistent" / "snmpd.conf"
    if not saved.exists():
        return None
    for line in saved.read_text().splitlines():
        if line.startswith("engineBoots"):
            return int(line.split()[1])
    return None
