"""The demo's child processes: snmpsim serving the city, the daemon, Prometheus.

Each child gets its own session (a Ctrl-C in the terminal reaches only the
demo, which then stops the children in order: daemon first, so its last
poll does not see the agents vanish) and, on Linux, a parent-death signal,
so even a demo killed with SIGKILL leaves no process behind. Every child
is stopped by its PID: SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from wifimon.simulator.agents import MODULE
from wifimon.simulator.snmpsim import answers, find_snmpsim

HOST = "127.0.0.1"
STOP_GRACE_S = 20.0
SNMPSIM_READY_S = 120.0  # a first start indexes every agent's file
_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    """A running child; ``log`` receives its stdout and stderr."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = STOP_GRACE_S) -> int | None:
        """SIGTERM by PID, SIGKILL by PID if it outlives ``grace``; its status."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                return self.process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
        return self.process.wait()

    def log_tail(self, size: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the demo dies (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_child(name: str, argv: list[str], log: Path, cwd: Path) -> Child:
    with log.open("ab") as output:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509 - only sets a signal, no locks
        )
    return Child(name, process, log)


def port_is_free(port: int, kind: int = socket.SOCK_DGRAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def start_city_agents(work: Path, port: int, probe_community: str) -> Child:
    """snmpsim serving ``work/data`` with the city's variation module, ready
    once ``probe_community`` answers."""
    if not port_is_free(port):
        raise RuntimeError(f"UDP {HOST}:{port} is already in use; choose another port")
    root = os.geteuid() == 0  # as root, snmpsim must stay root (snmpsim-notes.md)
    argv = [
        find_snmpsim(),
        f"--data-dir={work / 'data'}",
        f"--cache-dir={work / 'cache'}",
        f"--agent-udpv4-endpoint={HOST}:{port}",
        f"--variation-modules-dir={work / 'variation'}",
        f"--variation-module-options={MODULE}:{work / 'city.json'}",
        *(["--process-user=root", "--process-group=root"] if root else []),
        f"--logging-method=file:{work / 'snmpsim.log'}",
        "--log-level=error",
    ]
    child = start_child("snmpsim", argv, work / "snmpsim.out", work)
    try:
        _wait_answering(child, port, probe_community)
    except BaseException:
        child.stop()
        raise
    return child


def _wait_answering(child: Child, port: int, community: str) -> None:
    deadline = time.monotonic() + SNMPSIM_READY_S
    while time.monotonic() < deadline:
        if not child.running():
            raise RuntimeError(f"snmpsim exited: {child.log_tail()}")
        if answers(HOST, port, community):
            return
        time.sleep(0.2)
    raise TimeoutError(f"snmpsim did not answer within {SNMPSIM_READY_S:.0f} s")


def start_daemon(work: Path, config: Path) -> Child:
    """``python -m wifimon run`` with this interpreter, as a real child."""
    argv = [sys.executable, "-m", "wifimon", "run", "-c", str(config)]
    return start_child("wifimon", argv, work / "wifimon.log", work)


def prometheus_binary() -> str | None:
    return shutil.which("prometheus")


def start_prometheus(
    work: Path, scrape_target: str, interval: float, port: int, rules_dir: Path | None
) -> Child:
    """Prometheus on 127.0.0.1:``port`` scraping the daemon every poll
    ``interval``, evaluating ``rules_dir/*.yml`` if given."""
    binary = prometheus_binary()
    if binary is None:
        raise FileNotFoundError("prometheus is not installed (Debian package `prometheus`)")
    home = work / "prometheus"
    home.mkdir(parents=True, exist_ok=True)
    rules = [str(rules_dir / "*.yml"), str(rules_dir / "*.yaml")] if rules_dir else []
    config = home / "prometheus.yml"
    document = {
        "global": {"scrape_interval": f"{interval:g}s", "evaluation_interval": f"{interval:g}s"},
        "rule_files": rules,
        "scrape_configs": [
            {"job_name": "wifimon", "static_configs": [{"targets": [scrape_target]}]}
        ],
    }
    config.write_text(json.dumps(document, indent=1) + "\n")  # JSON is YAML
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={home / 'data'}",
        f"--web.listen-address={HOST}:{port}",
        "--storage.tsdb.retention.time=2d",
    ]
    return start_child("prometheus", argv, home / "prometheus.log", home)
