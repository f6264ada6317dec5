"""Start and stop real SNMP agents on 127.0.0.1 for end-to-end tests.

Two agents are used: net-snmp's ``snmpd`` (fast, configurable users and
communities) and ``snmpsim`` (serves recorded devices from ``.snmprec``
files); snmpd is started by ``wifimon.simulator.snmpd``, as the bench does.
Every process started here is stopped by its PID when the context manager
exits, and both only ever listen on 127.0.0.1. For misbehaviour no
real agent shows on demand (loops, repeated OIDs, tooBig, wrong answers),
``scripted_agent`` runs a scripted SNMPv2c responder in the test's own loop.
"""

from __future__ import annotations

import asyncio
import bz2
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from wifimon.simulator.snmpd import start_snmpd

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
SYS_DESCR = "1.3.6.1.2.1.1.1.0"

# Shared across tests and runs: decompressed recordings and snmpsim's index
# are expensive to build (seconds to tens of seconds) and never change.
CACHE_DIR = Path(os.environ.get("WIFIMON_TEST_CACHE", "/tmp/wifimon-snmpsim-cache"))


class AgentError(RuntimeError):
    """An agent did not start or did not become ready in time."""


class Recording(NamedTuple):
    """A decompressed snmpsim recording: serve ``data_dir``, ask with ``community``."""

    data_dir: Path
    community: str


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def snmpsim_command() -> Path:
    """Where the snmpsim responder lives (a separate Debian-Python venv, see snmpsim-notes)."""
    configured = os.environ.get("WIFIMON_SNMPSIM")
    if configured:
        return Path(configured)
    return REPO_ROOT / ".venv-snmpsim" / "bin" / "snmpsim-command-responder"


def snmpsim_data_root() -> Path:
    """The ``data`` folder of the installed ``snmpsim-data`` package."""
    # imported here: only the tests that serve recordings need the package
    import snmpsim_data  # type: ignore[import-untyped]  # noqa: PLC0415

    return Path(snmpsim_data.__file__).parent / "data"


def decompressed_recording(relative_path: str) -> Recording:
    """Decompress ``snmpsim_data/data/<relative_path>.snmprec.bz2`` once into the cache.

    Each recording gets a data dir of its own, so snmpsim indexes only that
    file. ``relative_path`` is e.g. ``"network/appliance/cisco-controller"``,
    which is also the community that selects it.
    """
    source = snmpsim_data_root() / f"{relative_path}.snmprec.bz2"
    data_dir = CACHE_DIR / "data" / relative_path.replace("/", "__")
    target = data_dir / f"{relative_path}.snmprec"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".partial-{os.getpid()}")
        with bz2.open(source, "rb") as compressed, partial.open("wb") as plain:
            shutil.copyfileobj(compressed, plain, length=1 << 20)
        # Atomic, so a parallel test run never serves a half-written file.
        partial.replace(target)
    return Recording(data_dir, relative_path)


def _answers_v2c_get(port: int, community: str) -> bool:
    command = ["snmpget", "-v2c", "-c", community, "-r0", "-t1", "-Ln", "-m", ""]
    result = subprocess.run(
        [*command, f"{HOST}:{port}", SYS_DESCR], capture_output=True, check=False
    )
    return result.returncode == 0


def _wait_ready(
    process: subprocess.Popen[bytes], log: Path, is_ready: Callable[[], bool], deadline_s: float
) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AgentError(f"agent exited with {process.returncode}: {_tail(log)}")
        if is_ready():
            return
        time.sleep(0.05)  # polling interval only; readiness is decided by an answer
    raise AgentError(f"agent not ready after {deadline_s}s: {_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def run_snmpd(
    folder: Path, conf_lines: Sequence[str], port: int | None = None, *, persistent: bool = False
) -> Iterator[tuple[str, int]]:
    """Run net-snmp ``snmpd`` with ``conf_lines`` as its whole configuration.

    Its config, log and persistent state (engine boots, localised v3 keys)
    go to ``folder``, never to /etc/snmp or /var/lib/snmp, so runs do not
    leak users into each other; ``start_snmpd`` says what ``port`` and
    ``persistent`` do.
    """
    agent = start_snmpd(conf_lines, folder, port, persistent=persistent, host=HOST)
    try:
        yield agent.host, agent.port
    finally:
        agent.stop()


@contextmanager
def run_snmpsim(
    data_dir: Path,
    tmp_path: Path,
    community: str,
    extra_args: Sequence[str] = (),
    *,
    cache_dir: Path | None = None,
    deadline_s: float = 120,
) -> Iterator[tuple[str, int]]:
    """Run snmpsim serving ``data_dir``; ready once ``community`` answers a sysDescr GET.

    ``deadline_s`` is generous because the first start indexes the recording
    (tens of seconds for the large ones); later starts reuse the index kept
    in ``cache_dir``.
    """
    command = snmpsim_command()
    if not command.exists():
        raise AgentError(f"snmpsim not found at {command}; see tests/support/agents.py")
    port = free_udp_port()
    log = tmp_path / "snmpsim.log"
    index_dir = cache_dir or CACHE_DIR / "index"
    index_dir.mkdir(parents=True, exist_ok=True)
    args = [
        str(command),
        f"--data-dir={data_dir}",
        f"--agent-udpv4-endpoint={HOST}:{port}",
        f"--cache-dir={index_dir}",
        # Tests run as root; dropping to nobody breaks lazy imports (snmpsim-notes.md).
        "--process-user=root",
        "--process-group=root",
        f"--logging-method=file:{log}",
        "--log-level=error",
        *extra_args,
    ]
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_ready(process, log, lambda: _answers_v2c_get(port, community), deadline_s)
        yield HOST, port
    finally:
        _stop(process)


# -- a scripted SNMPv2c agent ------------------------------------------------


@dataclass(frozen=True)
class ScriptedRequest:
    """What the scripted agent received: ``pdu`` is "get", "next" or "bulk"."""

    pdu: str
    oids: list[tuple[int, ...]]
    max_repetitions: int


@dataclass(frozen=True)
class ScriptedReply:
    """A response PDU; values are ints (sent as Integer32) or pyasn1 objects."""

    varbinds: list[tuple[tuple[int, ...], Any]]
    error_status: int = 0
    error_index: int = 0


Script = Callable[[ScriptedRequest], ScriptedReply | bytes | None]

_PDU_KINDS = {
    v2c.GetRequestPDU.tagSet: "get",
    v2c.GetNextRequestPDU.tagSet: "next",
    v2c.GetBulkRequestPDU.tagSet: "bulk",
}


class _ScriptedAgent(asyncio.DatagramProtocol):
    def __init__(self, script: Script) -> None:
        self.script = script
        self.transport: asyncio.DatagramTransport | None = None
        self.requests: list[ScriptedRequest] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        message, _ = decoder.decode(data, asn1Spec=v2c.Message())
        pdu = v2c.apiMessage.get_pdu(message)
        kind = _PDU_KINDS[pdu.tagSet]
        oids = [tuple(oid) for oid, _ in v2c.apiPDU.get_varbinds(pdu)]
        repetitions = int(v2c.apiBulkPDU.get_max_repetitions(pdu)) if kind == "bulk" else 0
        request = ScriptedRequest(kind, oids, repetitions)
        self.requests.append(request)
        reply = self.script(request)
        if reply is None or self.transport is None:
            return  # stay silent
        if isinstance(reply, bytes):
            self.transport.sendto(reply, addr)
            return
        self.transport.sendto(_encode_reply(message, reply), addr)


def _encode_reply(request: Any, reply: ScriptedReply) -> bytes:
    response = v2c.apiMessage.get_response(request)
    pdu = v2c.apiMessage.get_pdu(response)
    varbinds = [
        (v2c.ObjectIdentifier(oid), v2c.Integer(value) if isinstance(value, int) else value)
        for oid, value in reply.varbinds
    ]
    v2c.apiPDU.set_varbinds(pdu, varbinds)
    v2c.apiPDU.set_error_status(pdu, reply.error_status)
    v2c.apiPDU.set_error_index(pdu, reply.error_index)
    return bytes(encoder.encode(response))


@asynccontextmanager
async def scripted_agent(script: Script) -> AsyncIterator[tuple[str, int, list[ScriptedRequest]]]:
    """Serve ``script`` on 127.0.0.1; yields (host, port, requests received so far)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _ScriptedAgent(script), local_addr=(HOST, 0)
    )
    try:
        yield HOST, transport.get_extra_info("sockname")[1], protocol.requests
    finally:
        transport.close()
