"""Run net-snmp's ``snmpd`` as a child process on 127.0.0.1.

snmpd is the fast real agent of the end-to-end tests and of the fleet bench:
any v3 user or community a test needs is one config line, and it answers
more than 10,000 requests/s here. Every start goes through this module so
that all of them get right what is easy to get subtly wrong: the host's
/etc/snmp and /var/lib/snmp are neither read nor written, the agent counts
as started only once it answers, a failed start says why (the end of
snmpd's log) and leaves no process behind, and the process is stopped by
its PID. Recorded devices are served by snmpsim instead (``snmpsim.py``).
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from wifimon.simulator.snmpsim import (
    AgentProcess,
    answers,
    check_port_free,
    free_port,
    wait_answering,
)
from wifimon.snmp.v3_codec import encode_discovery

READY_TIMEOUT = 15.0  # s; generous: snmpd answers in 0.25 s here, with 40 v3 users too
# tests start snmpd dozens of times, so each start should cost no more than it must
POLL_INTERVAL = 0.05  # s


def start_snmpd(
    conf_lines: Sequence[str],
    folder: Path,
    port: int | None = None,
    *,
    persistent: bool = False,
    probe_community: str | None = None,
    host: str = "127.0.0.1",
    ready_timeout: float = READY_TIMEOUT,
) -> AgentProcess:
    """Start snmpd on ``host:port`` with ``conf_lines`` as its whole config
    and return it once it answers; ``stop()`` on the result ends it.

    ``folder`` (created if missing) holds ``snmpd.conf``, ``snmpd.log`` and
    ``persistent/``, where snmpd keeps engineBoots, its engine id and the
    localised keys of its users. ``port`` None picks a free one. With
    ``persistent`` snmpd reads that state back, so a second start in the
    same folder and port is a reboot of the same agent (engineBoots one
    higher); without, every start is a new agent. Ready means it answered an
    SNMPv3 discovery (snmpd does whatever users it has, so this needs no
    credentials) or, with ``probe_community``, an SNMPv2c GET with it.
    Raises RuntimeError when snmpd exits first and TimeoutError after
    ``ready_timeout`` seconds, both quoting the end of ``snmpd.log``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    conf, log = folder / "snmpd.conf", folder / "snmpd.log"
    # net-snmp localises the keys from the UTF-8 octets of the file, as wifimon does
    conf.write_text("\n".join(conf_lines) + "\n", encoding="utf-8")
    if port is None:
        port = free_port(host=host)
    else:
        check_port_free(host, port)
    # -C makes snmpd skip the persistent file too, so a restart would not be a reboot
    flags = ["-f", *([] if persistent else ["-C"]), "-m", "", "-c", str(conf), "-Lf", str(log)]
    process = subprocess.Popen(
        ["snmpd", *flags, f"udp:{host}:{port}"],
        env=_isolated_env(folder),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    agent = AgentProcess(process, host, port)
    try:
        is_ready = _ready_probe(host, port, probe_community)
        wait_answering(agent, is_ready, "snmpd", ready_timeout, log=log, interval=POLL_INTERVAL)
    except BaseException:  # a failed or interrupted start leaves no snmpd behind
        agent.stop()
        raise
    return agent


def _isolated_env(folder: Path) -> dict[str, str]:
    persistent = folder / "persistent"
    persistent.mkdir(exist_ok=True)
    # SNMPCONFPATH replaces net-snmp's search path (/etc/snmp, ~/.snmp, ...):
    # an empty folder keeps the host's config out, and the persistent folder
    # must be named too, as net-snmp only looks there by itself when
    # SNMPCONFPATH is unset.
    no_host_config = folder / "no-host-config"
    no_host_config.mkdir(exist_ok=True)
    return {
        **os.environ,
        "SNMP_PERSISTENT_DIR": str(persistent),
        "SNMPCONFPATH": f"{no_host_config}:{persistent}",
    }


def _ready_probe(host: str, port: int, community: str | None) -> Callable[[], bool]:
    if community is not None:
        return lambda: answers(host, port, community)
    return lambda: _answers_discovery(host, port)


def _answers_discovery(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether anything answers an SNMPv3 discovery (RFC 3414 4) at ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(encode_discovery(1), (host, port))
            return bool(sock.recv(65535))
        except OSError:  # a timeout, or refused while snmpd has not bound yet
            return False
