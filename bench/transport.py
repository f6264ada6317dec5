"""Benchmark: PysnmpTransport against FastTransport on the same snmpd workload.

Starts net-snmp's snmpd on 127.0.0.1 (as the e2e tests do) and runs, with
each transport in turn, ``--rounds`` polls of two workloads, over SNMPv2c
and over SNMPv3 authPriv (``--v3-auth``/``--v3-priv``, default SHA-256 +
AES-128, FastTransport's native USM path):

* ``get``:  ``--gets`` GET requests of 30 OIDs each, ``--in-flight`` at a time;
* ``walk``: a GETBULK walk (25 repetitions) of 1.3.6.1.2.1, snmpd's MIB-2.

It prints per workload and transport the CPU seconds of this process per
poll (snmpd's CPU is not ours), the wall seconds per poll, CPU ms per
request, µs per varbind, varbinds per CPU second, and the ratio pysnmp/fast
of the CPU seconds.

    .venv/bin/python bench/transport.py [--rounds 5] [--gets 300] [--only v3]

A figure, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.support.agents (the snmpd launcher)

from tests.support.agents import run_snmpd  # noqa: E402
from wifimon.snmp.fast_transport import FastTransport  # noqa: E402
from wifimon.snmp.pysnmp_transport import PysnmpTransport  # noqa: E402
from wifimon.snmp.types import Oid, SnmpCredentials, SnmpTarget, Transport, VarBind  # noqa: E402

COMMUNITY = "bench"
V3_USER = "bench-v3"
# the benchmark's own throw-away snmpd user, not a secret
V3_AUTH_PASSWORD = "bench-auth-password"  # noqa: S105
V3_PRIV_PASSWORD = "bench-priv-password"  # noqa: S105
NET_SNMP_AUTH = {"md5": "MD5", "sha": "SHA", "sha224": "SHA-224", "sha256": "SHA-256"}
NET_SNMP_AUTH |= {"sha384": "SHA-384", "sha512": "SHA-512"}
NET_SNMP_PRIV = {"des": "DES", "aes128": "AES", "aes192": "AES-192-C", "aes256": "AES-256-C"}
MIB_2: Oid = (1, 3, 6, 1, 2, 1)
OIDS_PER_GET = 30

Workload = Callable[[Transport], Awaitable[int]]  # returns the varbinds fetched


@dataclass(frozen=True)
class Figures:
    cpu: float  # CPU seconds per poll
    wall: float  # wall seconds per poll
    varbinds: int  # per poll
    requests: int  # per poll

    @property
    def per_cpu_second(self) -> float:
        return self.varbinds / self.cpu if self.cpu else float("inf")

    @property
    def ms_per_request(self) -> float:
        return self.cpu / self.requests * 1e3 if self.requests else float("nan")

    @property
    def us_per_varbind(self) -> float:
        return self.cpu / self.varbinds * 1e6 if self.varbinds else float("nan")


def get_workload(target: SnmpTarget, oids: list[Oid], gets: int, in_flight: int) -> Workload:
    async def run(transport: Transport) -> int:
        gate = asyncio.Semaphore(in_flight)

        async def one() -> int:
            async with gate:
                return len(await transport.get(target, oids))

        return sum(await asyncio.gather(*(one() for _ in range(gets))))

    return run


def walk_workload(target: SnmpTarget) -> Workload:
    async def run(transport: Transport) -> int:
        return len(await transport.walk(target, MIB_2))

    return run


def measure(make: Callable[[], Transport], workload: Workload, rounds: int) -> Figures:
    async def main() -> Figures:
        transport = make()
        try:
            await workload(transport)  # warm-up: sockets, caches, pysnmp's LCD
            requests_before = transport.stats.requests
            cpu_before, wall_before = time.process_time(), time.perf_counter()
            varbinds = 0
            for _ in range(rounds):
                varbinds += await workload(transport)
            cpu = time.process_time() - cpu_before
            wall = time.perf_counter() - wall_before
            requests = transport.stats.requests - requests_before
        finally:
            await transport.close()
        return Figures(cpu / rounds, wall / rounds, varbinds // rounds, requests // rounds)

    return asyncio.run(main())


def v3_credentials(auth: str, priv: str) -> SnmpCredentials:
    return SnmpCredentials(
        "3",
        user=V3_USER,
        auth_protocol=auth,  # type: ignore[arg-type]
        auth_password=V3_AUTH_PASSWORD,
        priv_protocol=priv,  # type: ignore[arg-type]
        priv_password=V3_PRIV_PASSWORD,
    )


def snmpd_conf(auth: str, priv: str) -> list[str]:
    return [
        f"rocommunity {COMMUNITY} 127.0.0.1",
        "sysName wifimon-bench",
        f"createUser {V3_USER} {NET_SNMP_AUTH[auth]} {V3_AUTH_PASSWORD} "
        f"{NET_SNMP_PRIV[priv]} {V3_PRIV_PASSWORD}",
        f"rouser {V3_USER} priv",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gets", type=int, default=300, help="GETs of 30 OIDs per poll")
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--only", choices=["v2c", "v3"], help="one SNMP version only")
    parser.add_argument("--v3-auth", choices=sorted(NET_SNMP_AUTH), default="sha256")
    parser.add_argument("--v3-priv", choices=sorted(NET_SNMP_PRIV), default="aes128")
    args = parser.parse_args()

    conf = snmpd_conf(args.v3_auth, args.v3_priv)
    with tempfile.TemporaryDirectory() as tmp, run_snmpd(Path(tmp), conf) as (host, port):
        targets = {
            "v2c": SnmpTarget(
                "snmpd", host, port, SnmpCredentials("2c", community=COMMUNITY), timeout=5.0
            ),
            "v3": SnmpTarget(
                "snmpd", host, port, v3_credentials(args.v3_auth, args.v3_priv), timeout=5.0
            ),
        }
        mib_2 = asyncio.run(_first_rows(targets["v2c"]))
        oids = [varbind.oid for varbind in mib_2[:OIDS_PER_GET]]
        print(f"snmpd on {host}:{port}; {args.rounds} polls per figure")
        print(f"v3 is authPriv {args.v3_auth}/{args.v3_priv}")
        print(
            f"{'workload':<22} {'transport':<8} {'CPU s/poll':>11} {'wall s/poll':>12} "
            f"{'requests':>9} {'varbinds':>9} {'CPU ms/req':>11} {'µs/varbind':>11} "
            f"{'varbinds/CPU s':>15}"
        )
        for version, target in targets.items():
            if args.only not in (None, version):
                continue
            workloads = {
                f"{version} get {args.gets}x{OIDS_PER_GET}": get_workload(
                    target, oids, args.gets, args.in_flight
                ),
                f"{version} walk {len(mib_2)} rows": walk_workload(target),
            }
            for name, workload in workloads.items():
                _report(name, workload, args.rounds)


def _report(name: str, workload: Workload, rounds: int) -> None:
    transports: dict[str, Callable[[], Transport]] = {
        "pysnmp": PysnmpTransport,
        "fast": FastTransport,
    }
    figures = {label: measure(make, workload, rounds) for label, make in transports.items()}
    for label, fig in figures.items():
        print(
            f"{name:<22} {label:<8} {fig.cpu:>11.4f} {fig.wall:>12.4f} "
            f"{fig.requests:>9} {fig.varbinds:>9} {fig.ms_per_request:>11.3f} "
            f"{fig.us_per_varbind:>11.2f} {fig.per_cpu_second:>15,.0f}"
        )
    ratio = figures["pysnmp"].cpu / figures["fast"].cpu
    print(f"{name:<22} ratio    pysnmp/fast CPU = {ratio:.1f}x")


async def _first_rows(target: SnmpTarget) -> list[VarBind]:
    transport = FastTransport()
    try:
        return await transport.walk(target, MIB_2)
    finally:
        await transport.close()


if __name__ == "__main__":
    main()
