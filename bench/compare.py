"""Side by side: wifimon's engine, Prometheus snmp_exporter and plain pysnmp, same workloads.

    .venv/bin/python bench/compare.py [--targets 50] [--get-rounds 20]
        [--interfaces 500] [--walk-rounds 3] [--clients wifimon,snmp_exporter,pysnmp]

One command starts everything on loopback, runs every client on the same
two workloads, each over SNMPv2c and SNMPv3 (authPriv, SHA + AES-128),
prints one table and stops everything it started, by PID:

* ``get``:  ``--targets`` agents x ``--get-rounds`` polls, one poll being a GET
  of 30 OIDs (system scalars and ifTable/ifXTable instances), 50 in flight;
* ``walk``: ``--walk-rounds`` polls of one agent, one poll being a GETBULK
  walk (25 repetitions) of ifTable and ifXTable, the tables snmp_exporter's
  ``if_mib`` module reads: per-row counters like a controller's AP tables.

The agent is net-snmp ``snmpd`` (it answers >10,000 requests/s, so the
client is what is measured). Its ifTable is made large for real: the
benchmark runs inside a network namespace of its own holding ``--interfaces``
veth pairs (500 pairs: 1,001 rows, ~41,000 varbinds per walk). The same
snmpd listens on ``--targets`` loopback addresses (127.0.1.1, 127.0.1.2...),
which the clients see as that many agents. Without the rights to create a
namespace it runs on the host's own (small) ifTable and says so.

The clients, each run in a process of its own so CPU and RSS are its own:

* ``wifimon``: ``wifimon.snmp.fast_transport.FastTransport``, the daemon's
  engine, through its public ``get``/``walk``;
* ``snmp_exporter``: Debian's ``prometheus-snmp-exporter`` 0.21 with a
  hand-written ``snmp.yml`` (no lookups, plain ``ifIndex`` label), driven by
  ``/snmp?target=...&module=...`` HTTP requests; CPU and peak RSS are the
  exporter process's (from /proc), varbinds its own
  ``snmp_scrape_pdus_returned``. Its CPU includes turning varbinds into
  metrics and the HTTP exposition: that is what it costs to use;
* ``pysnmp``: pysnmp 7's high-level asyncio API (``get_cmd``,
  ``bulk_walk_cmd`` with ``lookupMib=False``), as its documentation shows.

CPU seconds exclude start-up and one warm-up poll per target (imports,
SNMPv3 engine discovery); RSS is the peak of the whole run. "vs exporter" is
the client's varbinds per CPU second divided by snmp_exporter's.

A figure, not a test: nothing here asserts a time. tests/e2e/
test_bench_compare_smoke.py runs it with ``--tiny`` and checks that all
clients fetched the same values.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wifimon.snmp.types import (  # noqa: E402
    SnmpCredentials,
    SnmpTarget,
    SnmpValue,
    ValueKind,
    format_oid,
    parse_oid,
)

HOST = "127.0.0.1"
COMMUNITY = "bench"
V3_USER = "bench-v3"
EXPORTER = "/usr/bin/prometheus-snmp-exporter"
CLIENTS = ("wifimon", "snmp_exporter", "pysnmp")
MAX_REPETITIONS = 25
CHILD_TIMEOUT_S = 1800.0  # a whole client run; it is killed by PID after that

Workload = Literal["get", "walk"]
Version = Literal["2c", "3"]
Plain = int | str | None  # a varbind value as all three clients can report it

# --- what is fetched ------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A MIB object as snmp_exporter needs it: name, OID, metric type."""

    name: str
    oid: str
    type: str  # gauge, counter, DisplayString or PhysAddress48
    indexed: bool = True


SYSTEM = "1.3.6.1.2.1.1"
IF_ENTRY = "1.3.6.1.2.1.2.2.1"
IF_X_ENTRY = "1.3.6.1.2.1.31.1.1.1"
WALK_ROOTS = ("1.3.6.1.2.1.2.2", "1.3.6.1.2.1.31.1.1")  # ifTable, ifXTable

# Scalars that do not move while the benchmark runs (sysUpTime would), so
# the smoke test can require every client to report the same values.
SYSTEM_COLUMNS = (
    Column("sysDescr", f"{SYSTEM}.1", "DisplayString", indexed=False),
    Column("sysContact", f"{SYSTEM}.4", "DisplayString", indexed=False),
    Column("sysName", f"{SYSTEM}.5", "DisplayString", indexed=False),
    Column("sysLocation", f"{SYSTEM}.6", "DisplayString", indexed=False),
    Column("sysServices", f"{SYSTEM}.7", "gauge", indexed=False),
    Column("sysORLastChange", f"{SYSTEM}.8", "gauge", indexed=False),
)
_IF_TABLE = (
    "ifIndex gauge",
    "ifDescr DisplayString",
    "ifType gauge",
    "ifMtu gauge",
    "ifSpeed gauge",
    "ifPhysAddress PhysAddress48",
    "ifAdminStatus gauge",
    "ifOperStatus gauge",
    "ifLastChange gauge",
    "ifInOctets counter",
    "ifInUcastPkts counter",
    "ifInNUcastPkts counter",
    "ifInDiscards counter",
    "ifInErrors counter",
    "ifInUnknownProtos counter",
    "ifOutOctets counter",
    "ifOutUcastPkts counter",
    "ifOutNUcastPkts counter",
    "ifOutDiscards counter",
    "ifOutErrors counter",
    "ifOutQLen gauge",
)  # column 22, ifSpecific, is an OID: walked, no metric
_IF_X_TABLE = (
    "ifName DisplayString",
    "ifInMulticastPkts counter",
    "ifInBroadcastPkts counter",
    "ifOutMulticastPkts counter",
    "ifOutBroadcastPkts counter",
    "ifHCInOctets counter",
    "ifHCInUcastPkts counter",
    "ifHCInMulticastPkts counter",
    "ifHCInBroadcastPkts counter",
    "ifHCOutOctets counter",
    "ifHCOutUcastPkts counter",
    "ifHCOutMulticastPkts counter",
    "ifHCOutBroadcastPkts counter",
    "ifLinkUpDownTrapEnable gauge",
    "ifHighSpeed gauge",
    "ifPromiscuousMode gauge",
    "ifConnectorPresent gauge",
    "ifAlias DisplayString",
    "ifCounterDiscontinuityTime gauge",
)
IF_COLUMNS = tuple(
    Column(spec.split()[0], f"{entry}.{number}", spec.split()[1])
    for entry, table in ((IF_ENTRY, _IF_TABLE), (IF_X_ENTRY, _IF_X_TABLE))
    for number, spec in enumerate(table, 1)
)
COLUMNS_BY_NAME = {column.name: column for column in (*SYSTEM_COLUMNS, *IF_COLUMNS)}
# Per interface in the GET: 8 objects; 6 scalars + 3 interfaces x 8 = 30 OIDs.
GET_IF_COLUMNS = (
    "ifDescr",
    "ifType",
    "ifMtu",
    "ifAdminStatus",
    "ifOperStatus",
    "ifInOctets",
    "ifOutOctets",
    "ifName",
)
GET_INTERFACES = 3
SOFTWARE_LOOPBACK = 24  # ifType of lo, whose counters move with every request


def get_oids(if_indexes: Sequence[int]) -> list[str]:
    """The 30 OIDs of one GET poll, e.g. ``1.3.6.1.2.1.1.1.0``, ``1.3.6.1.2.1.2.2.1.2.2``."""
    scalars = [f"{column.oid}.0" for column in SYSTEM_COLUMNS]
    columns = [COLUMNS_BY_NAME[name].oid for name in GET_IF_COLUMNS]
    return scalars + [f"{oid}.{index}" for index in if_indexes for oid in columns]


# --- what a client is asked to do, and what it reports -----------------------------


@dataclass
class Spec:
    """One client run: written as JSON for the client's own process."""

    client: str
    workload: Workload
    version: Version
    targets: list[tuple[str, int]]  # (address, UDP port)
    rounds: int
    in_flight: int
    oids: list[str]  # GET workload
    auth_password: str
    priv_password: str
    keep_values: bool = False
    work_dir: str = ""


@dataclass
class Result:
    client: str
    workload: str
    version: str
    polls: int
    varbinds: int
    cpu_s: float
    wall_s: float
    rss_mb: float
    values: dict[str, dict[str, Plain]] = field(default_factory=dict)  # target -> oid -> value

    @property
    def per_cpu_s(self) -> float | None:
        """Varbinds per CPU second; None when too little CPU was used to tell
        (the kernel counts another process's CPU in 10 ms ticks)."""
        return self.varbinds / self.cpu_s if self.cpu_s > 0 else None


def plain_value(value: SnmpValue) -> Plain:
    """An ``SnmpValue`` as int (numbers), str (text, OIDs) or None (exceptions)."""
    if value.kind.is_numeric:
        assert isinstance(value.value, int)
        return value.value
    if isinstance(value.value, bytes):
        return value.value.decode("utf-8", "replace")
    if value.kind is ValueKind.OBJECT_ID and isinstance(value.value, tuple):
        return format_oid(value.value)
    return None


def _target_key(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


def _credentials(spec: Spec) -> SnmpCredentials:
    if spec.version == "2c":
        return SnmpCredentials("2c", community=COMMUNITY)
    return SnmpCredentials(
        "3",
        user=V3_USER,
        auth_protocol="sha",
        auth_password=spec.auth_password,
        priv_protocol="aes",
        priv_password=spec.priv_password,
    )


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _own_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- client: wifimon ---------------------------------------------------------------


def run_wifimon(spec: Spec) -> Result:
    from wifimon.snmp.fast_transport import FastTransport  # noqa: PLC0415 - own process

    credentials = _credentials(spec)
    targets = [
        SnmpTarget(_target_key(a), a[0], a[1], credentials, 5.0, 1, MAX_REPETITIONS)
        for a in spec.targets
    ]
    oids = [parse_oid(oid) for oid in spec.oids]
    roots = [parse_oid(root) for root in WALK_ROOTS]
    values: dict[str, dict[str, Plain]] = {}

    async def poll(transport: FastTransport, target: SnmpTarget) -> int:
        if spec.workload == "get":
            varbinds = await transport.get(target, oids)
            if spec.keep_values:
                values[target.name] = {format_oid(vb.oid): plain_value(vb.value) for vb in varbinds}
            return len(varbinds)
        rows = 0
        for root in roots:
            rows += len(await transport.walk(target, root, max_rows=10_000_000))
        return rows

    async def main() -> Result:
        transport = FastTransport(concurrency=spec.in_flight)
        try:
            return await _measured(spec, lambda target: poll(transport, target), targets)
        finally:
            await transport.close()

    result = asyncio.run(main())
    result.values = values
    return result


async def _measured(spec: Spec, poll: Callable[[Any], Any], targets: Sequence[Any]) -> Result:
    """Warm up (one poll per target), then time ``spec.rounds`` rounds of
    polls with ``spec.in_flight`` at a time; CPU is this process's."""
    gate = asyncio.Semaphore(spec.in_flight)

    async def one(target: Any) -> int:
        async with gate:
            count: int = await poll(target)
            return count

    await asyncio.gather(*(one(target) for target in targets))
    cpu, wall = _own_cpu(), time.perf_counter()
    varbinds = 0
    for _ in range(spec.rounds):
        varbinds += sum(await asyncio.gather(*(one(target) for target in targets)))
    return Result(
        spec.client,
        spec.workload,
        spec.version,
        polls=spec.rounds * len(targets),
        varbinds=varbinds,
        cpu_s=_own_cpu() - cpu,
        wall_s=time.perf_counter() - wall,
        rss_mb=_own_peak_rss_mb(),
    )


# --- client: plain pysnmp ----------------------------------------------------------


def run_pysnmp(spec: Spec) -> Result:
    # The high-level API, as pysnmp's documentation shows it; own process.
    from pysnmp.hlapi.v3arch.asyncio import (  # noqa: PLC0415
        USM_AUTH_HMAC96_SHA,
        USM_PRIV_CFB128_AES,
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        UsmUserData,
        bulk_walk_cmd,
        get_cmd,
    )

    from wifimon.snmp.pysnmp_transport import to_snmp_value  # noqa: PLC0415

    engine = SnmpEngine()
    auth = (
        CommunityData(COMMUNITY, mpModel=1)  # noqa: S508 - v2c is a workload measured here
        if spec.version == "2c"
        else UsmUserData(
            V3_USER,
            authKey=spec.auth_password,
            privKey=spec.priv_password,
            authProtocol=USM_AUTH_HMAC96_SHA,
            privProtocol=USM_PRIV_CFB128_AES,
        )
    )
    values: dict[str, dict[str, Plain]] = {}

    async def poll(target: tuple[str, Any]) -> int:
        name, transport = target
        if spec.workload == "get":
            error, status, _, varbinds = await get_cmd(
                engine,
                auth,
                transport,
                ContextData(),
                *(ObjectType(ObjectIdentity(oid)) for oid in spec.oids),
                lookupMib=False,
            )
            if error or status:
                raise RuntimeError(f"pysnmp GET {name}: {error or status.prettyPrint()}")
            if spec.keep_values:
                values[name] = {
                    str(oid): plain_value(to_snmp_value(value)) for oid, value in varbinds
                }
            return len(varbinds)
        rows = 0
        for root in WALK_ROOTS:
            async for error, status, _, varbinds in bulk_walk_cmd(
                engine,
                auth,
                transport,
                ContextData(),
                0,
                MAX_REPETITIONS,
                ObjectType(ObjectIdentity(root)),
                lexicographicMode=False,
                lookupMib=False,
            ):
                if error or status:
                    raise RuntimeError(f"pysnmp walk {name}: {error or status.prettyPrint()}")
                rows += len(varbinds)
        return rows

    async def main() -> Result:
        targets = [
            (
                _target_key(address),
                await UdpTransportTarget.create(address, timeout=5.0, retries=1),
            )
            for address in spec.targets
        ]
        try:
            return await _measured(spec, poll, targets)
        finally:
            engine.close_dispatcher()

    result = asyncio.run(main())
    result.values = values
    return result


# --- client: snmp_exporter -----------------------------------------------------------


def exporter_config(spec: Spec) -> dict[str, object]:
    """snmp.yml (0.21 format: each module carries its auth) with one module,
    ``bench``, for this run's workload and SNMP version."""
    if spec.version == "2c":
        auth: dict[str, str] = {"community": COMMUNITY}
    else:
        auth = {
            "username": V3_USER,
            "security_level": "authPriv",
            "password": spec.auth_password,
            "auth_protocol": "SHA",
            "priv_protocol": "AES",
            "priv_password": spec.priv_password,
        }
    module: dict[str, object] = {
        "version": 2 if spec.version == "2c" else 3,
        "auth": auth,
        "timeout": "5s",
        "retries": 1,
    }
    if spec.workload == "get":
        # 0.21 splits a GET into PDUs of max_repetitions OIDs: 30 keeps one PDU
        # of 30 varbinds, as the other two clients send.
        module["max_repetitions"] = len(spec.oids)
        module["get"] = spec.oids
        wanted = {oid.rsplit(".", 1)[0] for oid in spec.oids}
        columns = [c for c in (*SYSTEM_COLUMNS, *IF_COLUMNS) if c.oid in wanted]
    else:
        module["max_repetitions"] = MAX_REPETITIONS
        module["walk"] = list(WALK_ROOTS)
        columns = list(IF_COLUMNS)
    module["metrics"] = [_exporter_metric(column) for column in columns]
    return {"bench": module}


def _exporter_metric(column: Column) -> dict[str, object]:
    metric: dict[str, object] = {"name": column.name, "oid": column.oid, "type": column.type}
    if column.indexed:
        metric["indexes"] = [{"labelname": "ifIndex", "type": "gauge"}]
    return metric


_PDUS_RETURNED = re.compile(r"^snmp_scrape_pdus_returned (\S+)$", re.MULTILINE)


def run_exporter(spec: Spec) -> Result:
    import yaml  # noqa: PLC0415 - own process

    work = Path(spec.work_dir)
    config = work / "snmp.yml"
    config.write_text(yaml.safe_dump(exporter_config(spec), sort_keys=False))
    port = _free_tcp_port()
    log = (work / "snmp_exporter.log").open("wb")
    process = subprocess.Popen(
        [EXPORTER, f"--config.file={config}", f"--web.listen-address={HOST}:{port}"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    try:
        base = f"http://{HOST}:{port}"
        _wait_http(base + "/", process)
        urls = [
            f"{base}/snmp?target={_target_key(address)}&module=bench" for address in spec.targets
        ]
        values: dict[str, dict[str, Plain]] = {}
        with ThreadPoolExecutor(max_workers=min(spec.in_flight, 16)) as pool:
            list(pool.map(_http_get, urls))  # warm-up, v3 discovery included
            cpu, wall = _process_cpu(process.pid), time.perf_counter()
            varbinds = 0
            for _ in range(spec.rounds):
                for url, body in zip(urls, pool.map(_http_get, urls), strict=True):
                    varbinds += _pdus_returned(body)
                    if spec.keep_values:
                        values[url.split("target=")[1].split("&")[0]] = exporter_values(body)
            cpu_s = _process_cpu(process.pid) - cpu
            wall_s = time.perf_counter() - wall
        rss_mb = _process_peak_rss_mb(process.pid)
    finally:
        _stop(process)
        log.close()
    return Result(
        spec.client,
        spec.workload,
        spec.version,
        spec.rounds * len(spec.targets),
        varbinds,
        cpu_s,
        wall_s,
        rss_mb,
        values,
    )


def _pdus_returned(body: str) -> int:
    match = _PDUS_RETURNED.search(body)
    if match is None:
        raise RuntimeError(
            f"snmp_exporter answered without snmp_scrape_pdus_returned: {body[:500]}"
        )
    return int(float(match.group(1)))


def exporter_values(body: str) -> dict[str, Plain]:
    """The varbinds behind an exporter page: ``{oid: value}`` from its metrics."""
    from prometheus_client.parser import text_string_to_metric_families  # noqa: PLC0415

    values: dict[str, Plain] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            # prometheus_client names counter samples *_total; the page does not
            column = COLUMNS_BY_NAME.get(sample.name.removesuffix("_total"))
            if column is None:
                continue  # snmp_scrape_* and other self-metrics
            instance = sample.labels.get("ifIndex", "0")
            value: Plain = (
                sample.labels[column.name] if column.type == "DisplayString" else int(sample.value)
            )
            values[f"{column.oid}.{instance}"] = value
    return values


def _http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - loopback only
        body: bytes = response.read()
    return body.decode()


def _wait_http(url: str, process: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"snmp_exporter exited with {process.returncode}")
        try:
            _http_get(url)
            return
        except OSError:
            time.sleep(0.05)  # only the interval of the readiness probe
    raise RuntimeError(f"snmp_exporter not answering {url} after {deadline_s} s")


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # After the command name, utime and stime are the 12th and 13th fields.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _process_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the agent -----------------------------------------------------------------------


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def agent_addresses(count: int) -> list[str]:
    """``count`` loopback addresses, ``127.0.1.1``, ``127.0.1.2``... (Linux
    routes all of 127/8 to lo), so one snmpd looks like ``count`` agents."""
    return [f"127.0.{1 + n // 250}.{1 + n % 250}" for n in range(count)]


@contextmanager
def snmpd(work: Path, addresses: Sequence[str], auth: str, priv: str) -> Iterator[int]:
    """net-snmp ``snmpd`` on ``addresses`` (and 127.0.0.1) at one UDP port;
    yields the port. v2c community and a v3 authPriv user (SHA, AES-128)."""
    port = _free_udp_port()
    conf = work / "snmpd.conf"
    conf.write_text(
        "\n".join(
            [
                f"rocommunity {COMMUNITY} 127.0.0.0/8",
                f'createUser {V3_USER} SHA "{auth}" AES "{priv}"',
                f"rouser {V3_USER} priv",
                "sysName wifimon-bench",
                "sysContact bench@wifimon.invalid",
                "sysLocation 127.0.0.1",
                "sysServices 72",
            ]
        )
        + "\n"
    )
    persistent = work / "snmpd-persistent"
    persistent.mkdir(exist_ok=True)
    endpoints = ",".join(f"udp:{address}:{port}" for address in (HOST, *addresses))
    env = {**os.environ, "SNMP_PERSISTENT_DIR": str(persistent), "SNMPCONFPATH": str(work)}
    command = ["snmpd", "-f", "-C", "-m", "", "-c", str(conf), "-Lf", str(work / "snmpd.log")]
    process = subprocess.Popen(
        [*command, endpoints],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        probe = ["snmpget", "-v2c", "-c", COMMUNITY, "-r0", "-t1", "-m", "", "-Ln"]
        while subprocess.run(
            [*probe, f"{HOST}:{port}", f"{SYSTEM}.5.0"], capture_output=True, check=False
        ).returncode:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"snmpd did not start: {(work / 'snmpd.log').read_text()}")
            time.sleep(0.05)
        yield port
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def get_if_indexes(port: int, count: int) -> list[int]:
    """ifIndex of ``count`` interfaces, loopbacks (softwareLoopback(24), whose
    counters move with every request) last: a host may have only lo and eth0."""
    from wifimon.snmp.fast_transport import FastTransport  # noqa: PLC0415

    async def walk() -> list[int]:
        transport = FastTransport()
        target = SnmpTarget("probe", HOST, port, SnmpCredentials("2c", community=COMMUNITY))
        try:
            rows = await transport.walk(target, parse_oid(f"{IF_ENTRY}.3"))
        finally:
            await transport.close()
        return [
            vb.oid[-1] for vb in sorted(rows, key=lambda vb: vb.value.value == SOFTWARE_LOOPBACK)
        ]

    indexes = asyncio.run(walk())
    if len(indexes) < count:
        raise RuntimeError(f"snmpd shows {len(indexes)} interfaces, need {count}")
    return indexes[:count]


# --- the namespace ---------------------------------------------------------------------


def in_own_namespace(interfaces: int, argv: Sequence[str]) -> int | None:
    """Run this script again inside a new network namespace holding
    ``interfaces`` veth pairs; its exit status, or None when namespaces
    cannot be made here (not root, no ``ip``)."""
    name = f"wifimon-bench-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, check=False)
    if made.returncode:
        return None
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        batch = "".join(f"link add ap{n} type veth peer name up{n}\n" for n in range(interfaces))
        subprocess.run(["ip", "-n", name, "-batch", "-"], input=batch.encode(), check=True)
        command = ["ip", "netns", "exec", name, sys.executable, __file__, "--inside", *argv]
        child = subprocess.Popen(command)
        try:
            return child.wait()
        except BaseException:
            _stop(child)
            raise
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


# --- the run ---------------------------------------------------------------------------


def run_client_process(spec: Spec, work: Path) -> Result:
    """Run one client in a fresh interpreter; its last stdout line is its Result."""
    spec_path = work / f"spec-{spec.client}-{spec.workload}-{spec.version}.json"
    spec_path.write_text(json.dumps(asdict(spec)))
    spec_path.chmod(0o600)  # holds the run's random v3 passwords
    process = subprocess.Popen(
        [sys.executable, __file__, "--client-spec", str(spec_path)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        out, _ = process.communicate(timeout=CHILD_TIMEOUT_S)
    except BaseException:
        _stop(process)
        raise
    if process.returncode:
        raise RuntimeError(f"client {spec.client} {spec.workload} v{spec.version} failed")
    data = json.loads(out.decode().strip().splitlines()[-1])
    return Result(**data)


def client_main(spec_path: Path) -> None:
    data = json.loads(spec_path.read_text())
    data["targets"] = [tuple(target) for target in data["targets"]]
    spec = Spec(**data)
    runners = {"wifimon": run_wifimon, "snmp_exporter": run_exporter, "pysnmp": run_pysnmp}
    result = runners[spec.client](spec)
    print(json.dumps(asdict(result)))


def print_table(results: list[Result], note: str) -> None:
    print(note)
    header = (
        f"{'workload':<10} {'client':<14} {'polls':>6} {'varbinds':>9} {'CPU s':>8} "
        f"{'varbinds/CPU s':>15} {'CPU ms/poll':>12} {'wall s':>8} {'RSS MB':>7} "
        f"{'vs exporter':>12}"
    )
    print(header)
    print("-" * len(header))
    exporter = {(r.workload, r.version): r for r in results if r.client == "snmp_exporter"}
    for r in results:
        base = exporter.get((r.workload, r.version))
        rate, base_rate = r.per_cpu_s, base.per_cpu_s if base else None
        ratio = f"{rate / base_rate:.1f}x" if rate and base_rate else "-"
        print(
            f"{r.workload + ' v' + r.version:<10} {r.client:<14} {r.polls:>6} {r.varbinds:>9} "
            f"{r.cpu_s:>8.3f} {f'{rate:,.0f}' if rate else '-':>15} "
            f"{1000 * r.cpu_s / r.polls:>12.2f} {r.wall_s:>8.2f} {r.rss_mb:>7.1f} {ratio:>12}"
        )
    print(
        "snmp_exporter's CPU includes turning varbinds into metrics and serving them over "
        "HTTP;\nwifimon's and pysnmp's is the SNMP engine alone (bench/poll_recording.py adds "
        "wifimon's normalisation).\n'vs exporter' = varbinds per CPU second / snmp_exporter's."
    )


def run_bench(args: argparse.Namespace, note: str) -> None:
    auth, priv = "auth-" + secrets.token_hex(8), "priv-" + secrets.token_hex(8)
    addresses = agent_addresses(args.targets)
    clients = [c for c in args.clients.split(",") if c]
    with tempfile.TemporaryDirectory(prefix="wifimon-compare-") as tmp:
        work = Path(tmp)
        with snmpd(work, addresses, auth, priv) as port:
            oids = get_oids(get_if_indexes(port, GET_INTERFACES))
            rows = _count_rows(port)
            results: list[Result] = []
            plan: list[tuple[Workload, list[tuple[str, int]], int]] = [
                ("get", [(a, port) for a in addresses], args.get_rounds),
                ("walk", [(HOST, port)], args.walk_rounds),
            ]
            versions: list[Version] = ["2c", "3"]
            for workload, targets, rounds in plan:
                for version in versions:
                    for client in clients:
                        spec = Spec(
                            client,
                            workload,
                            version,
                            targets,
                            rounds,
                            args.in_flight,
                            oids,
                            auth,
                            priv,
                            keep_values=args.values_out is not None and workload == "get",
                            work_dir=tmp,
                        )
                        results.append(run_client_process(spec, work))
    note += (
        f"\nget: {args.targets} targets x {args.get_rounds} rounds, GET of {len(oids)} OIDs; "
        f"walk: ifTable+ifXTable of {rows} rows x {args.walk_rounds} rounds; "
        f"v3 = authPriv SHA/AES-128; CPU of each client's own process"
    )
    print_table(results, note)
    if args.values_out is not None:
        values = {f"{r.client} v{r.version}": r.values for r in results if r.workload == "get"}
        Path(args.values_out).write_text(json.dumps(values, indent=1, sort_keys=True))


def _count_rows(port: int) -> int:
    """Rows of ifTable (one ifIndex per row)."""
    from wifimon.snmp.fast_transport import FastTransport  # noqa: PLC0415

    async def walk() -> int:
        transport = FastTransport()
        target = SnmpTarget("probe", HOST, port, SnmpCredentials("2c", community=COMMUNITY))
        try:
            return len(await transport.walk(target, parse_oid(f"{IF_ENTRY}.1"), 10_000_000))
        finally:
            await transport.close()

    return asyncio.run(walk())


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--targets", type=int, default=50, help="agents of the GET workload")
    parser.add_argument("--get-rounds", type=int, default=20, help="GET polls per target")
    parser.add_argument("--interfaces", type=int, default=500, help="veth pairs (2 rows each)")
    parser.add_argument("--walk-rounds", type=int, default=3, help="walks of ifTable+ifXTable")
    parser.add_argument("--in-flight", type=int, default=50, help="polls in flight at once")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--tiny", action="store_true", help="a few polls each (smoke test)")
    parser.add_argument("--values-out", help="write each client's GET values here as JSON")
    parser.add_argument("--no-netns", action="store_true", help="use the host's own ifTable")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client-spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.tiny:
        args.targets, args.get_rounds, args.interfaces, args.walk_rounds = 4, 2, 10, 1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.client_spec:
        client_main(Path(args.client_spec))
        return 0
    if args.inside:
        run_bench(args, f"snmpd in a network namespace with {args.interfaces} veth pairs")
        return 0
    if not args.no_netns:
        status = in_own_namespace(args.interfaces, argv)
        if status is not None:
            return status
        print("no network namespace possible here (needs root and `ip`): host ifTable used")
    run_bench(args, "snmpd on the host's own interfaces (small ifTable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
