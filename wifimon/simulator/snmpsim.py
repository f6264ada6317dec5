"""Run snmpsim, the SNMP agent simulator, as a child process.

Used by the sandbox command (and later the demo city) to serve recorded
devices over real UDP on 127.0.0.1. Facts measured on these machines
(../shared/reference/snmpsim-notes.md): snmpsim is 6x faster under a Python
with gdbm, 30-200x faster on plain ``.snmprec`` than on ``.bz2``, and as
root it must be told to stay root or it cannot import its own stdlib.
"""

from __future__ import annotations

import bz2
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wifimon.snmp.v2c_codec import VERSION_2C, encode_get

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 120.0  # first start indexes big recordings (about 40 s for 250 MB)
STOP_GRACE = 10.0  # s; agents stop within a second on SIGTERM, this is for a stuck one


def find_snmpsim() -> str:
    """The command-responder executable: $WIFIMON_SNMPSIM, the project's
    dedicated venv, or whatever is on PATH."""
    candidates = [
        os.environ.get("WIFIMON_SNMPSIM", ""),
        str(REPO_ROOT / ".venv-snmpsim" / "bin" / "snmpsim-command-responder"),
        shutil.which("snmpsim-command-responder") or "",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise FileNotFoundError(
        "snmpsim-command-responder not found: run `make setup` or set WIFIMON_SNMPSIM"
    )


def recording_path(relative: str) -> Path:
    """A recording inside the PyPI package snmpsim-data, e.g.
    ``network/appliance/cisco-controller.snmprec.bz2``."""
    import snmpsim_data  # type: ignore[import-untyped]  # noqa: PLC0415 - a dev/demo dependency

    return Path(snmpsim_data.__file__).parent / "data" / relative


def install_recording(source: Path, data_dir: Path, community: str) -> Path:
    """Copy (decompressing ``.bz2``) a recording to ``data_dir`` so that
    snmpsim serves it under ``community``; skipped when already there."""
    target = data_dir / f"{community}.snmprec"
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    opener = bz2.open if source.suffix == ".bz2" else open
    with opener(source, "rb") as reader, partial.open("wb") as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)
    partial.replace(target)
    return target


SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)


def answers(host: str, port: int, community: str, timeout: float = 1.0) -> bool:
    """Send one SNMPv2c GET of sysDescr.0 and wait briefly for any reply."""
    packet = encode_get(VERSION_2C, community, 1, [SYS_DESCR])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(packet, (host, port))
            return bool(sock.recv(65535))
        except OSError:
            return False


@dataclass
class AgentProcess:
    """A running agent (snmpsim, the responder, net-snmp snmpd) on ``host:port``;
    ``stop()`` ends it by PID: SIGTERM, then SIGKILL after ``STOP_GRACE`` seconds."""

    process: subprocess.Popen[bytes]
    host: str
    port: int

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_snmpsim(
    data_dir: Path,
    cache_dir: Path,
    port: int,
    probe_community: str,
    *,
    host: str = "127.0.0.1",
    log: Path | None = None,
) -> AgentProcess:
    """Start snmpsim serving every recording in ``data_dir`` and wait until
    it answers ``probe_community``. The process is stopped again if it does
    not come up (or the wait is interrupted)."""
    check_port_free(host, port)
    cache_dir.mkdir(parents=True, exist_ok=True)
    command = [
        find_snmpsim(),
        f"--data-dir={data_dir}",
        f"--cache-dir={cache_dir}",
        f"--agent-udpv4-endpoint={host}:{port}",
        "--process-user=root" if os.geteuid() == 0 else "",
        "--process-group=root" if os.geteuid() == 0 else "",
        f"--logging-method=file:{log}" if log else "--logging-method=null",
    ]
    process = subprocess.Popen(
        [part for part in command if part], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    agent = AgentProcess(process, host, port)
    try:
        wait_ready(agent, probe_community)
    except BaseException:
        agent.stop()
        raise
    return agent


def free_port(kind: int = socket.SOCK_DGRAM, host: str = "127.0.0.1") -> int:
    """A port on ``host`` that was free a moment ago (UDP by default)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def check_port_free(host: str, port: int) -> None:
    """Fail clearly when another agent holds the port: snmpsim would not
    say so, and probes would reach the other agent instead."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            raise RuntimeError(
                f"UDP {host}:{port} is already in use; choose another port"
            ) from None


def wait_ready(agent: AgentProcess, probe_community: str, what: str = "snmpsim") -> None:
    """Wait until ``agent`` answers ``probe_community`` (``what`` names it in errors)."""
    wait_answering(
        agent, lambda: answers(agent.host, agent.port, probe_community), what, READY_TIMEOUT
    )


def wait_answering(
    agent: AgentProcess,
    is_ready: Callable[[], bool],
    what: str,
    timeout: float,
    *,
    log: Path | None = None,
    interval: float = 0.2,
) -> None:
    """Poll ``is_ready()`` every ``interval`` seconds until it holds; raise
    RuntimeError if ``agent`` exits first, TimeoutError after ``timeout``
    seconds, either quoting the end of ``log`` when given."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if agent.process.poll() is not None:
            status = agent.process.returncode
            raise RuntimeError(f"{what} exited with status {status}{_log_tail(log)}")
        if is_ready():
            return
        time.sleep(interval)
    raise TimeoutError(
        f"{what} did not answer on {agent.host}:{agent.port} within {timeout:g} s{_log_tail(log)}"
    )


def _log_tail(log: Path | None) -> str:
    if log is None:
        return ""
    try:
        return f"; the end of {log}:\n{log.read_text(errors='replace')[-2000:]}"
    except OSError:
        return f"; no log at {log}"
