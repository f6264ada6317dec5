"""Network namespaces with packet loss made by nftables, for fault tests.

``tc netem`` is missing from these kernels, so loss is made the way
servers-notes.md verified: a namespace of the test's own (unique name, its
own ``lo`` up, nothing else), an agent and the poller inside it talking over
that loopback, and an nftables rule dropping a random share of the UDP
datagrams to the agent's port (requests) and from it (replies). The test
process cannot reach the namespace's loopback, so everything that talks SNMP
runs as a child process under ``ip netns exec``. Every process is stopped by
its PID and the namespace deleted when the context manager exits.

Example::

    with network_namespace() as ns, ns.snmpd(tmp_path, conf) as port:
        ns.drop_udp(port, percent=20)
        result = ns.run([sys.executable, "-m", "tests.support.poll_rounds", ...])
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.agents import REPO_ROOT, AgentError, snmpsim_command

HOST = "127.0.0.1"
TABLE = "wifimon_loss"
_COMMAND_TIMEOUT_S = 30


class NamespaceError(RuntimeError):
    """``ip`` or ``nft`` refused (not root, or the tools are missing)."""


def _check(command: Sequence[str]) -> str:
    result = subprocess.run(
        list(command), capture_output=True, text=True, timeout=_COMMAND_TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        raise NamespaceError(f"{' '.join(command)}: {result.stderr.strip()}")
    return result.stdout


@dataclass(frozen=True)
class Namespace:
    """A network namespace by ``name``; commands run inside it."""

    name: str

    def command(self, command: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *command]

    def run(
        self, command: Sequence[str], timeout: float, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` inside, from the repository root; never raises on exit codes."""
        return subprocess.run(
            self.command(command),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO_ROOT,
            env=env,
            check=False,
        )

    def drop_udp(self, port: int, percent: int) -> None:
        """Drop ``percent`` % of the datagrams to ``port`` and, independently,
        of those from it (0 removes the loss; 100 makes a black hole)."""
        if not 0 <= percent <= 100:
            raise ValueError("percent is 0..100")
        # One chain per agent port, so several agents get their own loss.
        chain = f"port_{port}"
        self.nft(f"add table inet {TABLE}")
        self.nft(f"add chain inet {TABLE} {chain} {{ type filter hook input priority 0 ; }}")
        self.nft(f"flush chain inet {TABLE} {chain}")
        share = "" if percent == 100 else f"numgen random mod 100 lt {percent} "
        if percent:
            for match in ("dport", "sport"):
                self.nft(f"add rule inet {TABLE} {chain} udp {match} {port} {share}counter drop")

    def dropped(self, port: int) -> int:
        """Datagrams dropped so far by ``drop_udp(port, ...)``."""
        listing = self.nft(f"list chain inet {TABLE} port_{port}")
        total = 0
        for line in listing.splitlines():
            words = line.split()
            if "counter" in words and "packets" in words:
                total += int(words[words.index("packets") + 1])
        return total

    def nft(self, statement: str) -> str:
        return _check(self.command(["nft", *statement.split()]))

    @contextmanager
    def process(self, command: Sequence[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
        """``command`` running inside; stopped by its PID on exit."""
        with log.open("wb") as output:
            process = subprocess.Popen(
                self.command(command), stdin=subprocess.DEVNULL, stdout=output, stderr=output
            )
        try:
            yield process
        finally:
            _stop(process)

    def wait_for_agent(
        self, process: subprocess.Popen[bytes], port: int, community: str, log: Path
    ) -> None:
        """Until the agent inside answers a sysDescr GET on ``port`` (at most 120 s)."""
        probe = ["snmpget", "-v2c", "-c", community, "-r0", "-t1", "-Ln", "-m", ""]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AgentError(f"agent exited with {process.returncode}: {_tail(log)}")
            if self.run([*probe, f"{HOST}:{port}", "1.3.6.1.2.1.1.1.0"], 10).returncode == 0:
                return
            time.sleep(0.1)  # polling interval only; readiness is decided by an answer
        raise AgentError(f"agent not ready after 120 s: {_tail(log)}")

    @contextmanager
    def snmpd(self, workdir: Path, conf_lines: Sequence[str], port: int) -> Iterator[int]:
        """net-snmp ``snmpd`` inside, on 127.0.0.1:``port``; yields the port.

        ``conf_lines`` must grant a community named in a ``rocommunity`` line
        first; that one is used to probe readiness.
        """
        conf = workdir / "snmpd.conf"
        conf.write_text("\n".join(conf_lines) + "\n")
        community = next(line.split()[1] for line in conf_lines if line.startswith("rocommunity"))
        persistent = workdir / "snmpd-persistent"
        persistent.mkdir(exist_ok=True)
        command = [
            "env",
            f"SNMP_PERSISTENT_DIR={persistent}",
            f"SNMPCONFPATH={workdir}",
            *("snmpd", "-f", "-C", "-m", "", "-c", str(conf), "-Lf", str(workdir / "snmpd.log")),
            f"udp:{HOST}:{port}",
        ]
        log = workdir / "snmpd.out"
        with self.process(command, log) as process:
            self.wait_for_agent(process, port, community, workdir / "snmpd.log")
            yield port

    @contextmanager
    def snmpsim(
        self,
        data_dir: Path,
        workdir: Path,
        community: str,
        ports: Sequence[int],
        cache_dir: Path,
    ) -> Iterator[Sequence[int]]:
        """snmpsim inside serving ``data_dir`` on 127.0.0.1 at each of ``ports``
        (one port per fault, as nftables tells them apart); yields the ports."""
        cache_dir.mkdir(parents=True, exist_ok=True)
        log = workdir / "snmpsim.log"
        command = [
            str(snmpsim_command()),
            f"--data-dir={data_dir}",
            *(f"--agent-udpv4-endpoint={HOST}:{port}" for port in ports),
            f"--cache-dir={cache_dir}",
            "--process-user=root",
            "--process-group=root",
            f"--logging-method=file:{log}",
            "--log-level=error",
        ]
        with self.process(command, workdir / "snmpsim.out") as process:
            for port in ports:
                self.wait_for_agent(process, port, community, log)
            yield ports


@contextmanager
def network_namespace(prefix: str = "wifimon-test") -> Iterator[Namespace]:
    """A fresh namespace with only ``lo`` (up); deleted on exit, also on errors."""
    name = f"{prefix}-{os.getpid()}-{secrets.token_hex(3)}"
    _check(["ip", "netns", "add", name])
    try:
        namespace = Namespace(name)
        _check(namespace.command(["ip", "link", "set", "lo", "up"]))
        yield namespace
    finally:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


def namespace_exists(name: str) -> bool:
    return name in _check(["ip", "netns", "list"]).split()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"
