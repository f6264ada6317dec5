"""net-snmp snmpd on a fixed 127.0.0.1 port whose state survives a restart.

``run_snmpd`` (agents.py) picks a new port and folder each time; to restart
an agent the way a device reboots, the port and the persistent folder
(where net-snmp keeps ``engineBoots`` and, without an ``engineID`` line, its
engine id) must stay the same. Stopped by PID.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.support.agents import HOST, AgentError, _answers_v3_probe

START_SECONDS = 15.0


@contextmanager
def snmpd_on_port(directory: Path, port: int, conf_lines: Sequence[str]) -> Iterator[int]:
    """snmpd on ``HOST:port`` with ``conf_lines``; its persistent state in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "agent.conf"
    conf.write_text("\n".join(conf_lines) + "\n")
    persistent = directory / "persistent"
    persistent.mkdir(exist_ok=True)
    # No -C (it skips the persistent file too, so engineBoots would never
    # grow); an empty folder first on SNMPCONFPATH keeps /etc/snmp out, and
    # the persistent folder must be on it, as net-snmp only looks there by
    # itself when SNMPCONFPATH is unset.
    nothing = directory / "no-host-config"
    nothing.mkdir(exist_ok=True)
    log = directory / "agent.log"
    env = {
        **os.environ,
        "SNMP_PERSISTENT_DIR": str(persistent),
        "SNMPCONFPATH": f"{nothing}:{persistent}",
    }
    command = ["snmpd", "-f", "-m", "", "-c", str(conf), "-Lf", str(log)]
    process = subprocess.Popen(
        [*command, f"udp:{HOST}:{port}"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers_v3_probe(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AgentError(f"snmpd did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        yield port
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def engine_boots(directory: Path) -> int | None:
    """The ``engineBoots`` net-snmp saved in ``directory`` at its last stop."""
    saved = directory / "persistent" / "snmpd.conf"
    if not saved.exists():
        return None
    for line in saved.read_text().splitlines():
        if line.startswith("engineBoots"):
            return int(line.split()[1])
    return None
