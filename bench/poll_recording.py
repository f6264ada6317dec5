"""Benchmark: poll a real controller recording from snmpsim-data over real UDP.

Two recordings: ``cisco`` (AIR-CT5508-K9, 226 APs) and ``ruckus`` (SmartCell
Gateway, 7,682 APs). Starts snmpsim on 127.0.0.1 serving the recording,
polls it ``--polls`` times with wifimon's real transport, poller and
normaliser, and prints per poll: CPU seconds of this process (snmpsim's own
CPU is not ours, and is shown apart), wall seconds, SNMP requests, varbinds,
varbinds per CPU second and samples. When snmpsim's CPU time is close to the
wall time, the agent simulator, not wifimon, is what the poll waits for.

    .venv/bin/python bench/poll_recording.py [--recording ruckus] [--polls 5]
        [--max-repetitions 25]

A figure, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wifimon.counters import CounterReconciler
from wifimon.normalise import TargetRole
from wifimon.profiles.registry import default_registry
from wifimon.scheduler import PollRound, PollTarget
from wifimon.simulator.snmpsim import install_recording, recording_path, start_snmpsim
from wifimon.snmp.fast_transport import FastTransport
from wifimon.snmp.pysnmp_transport import PysnmpTransport
from wifimon.snmp.types import (
    Oid,
    SnmpCredentials,
    SnmpTarget,
    TransportStats,
    VarBind,
    WalkRows,
)

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".work" / "bench"


@dataclass(frozen=True)
class Recording:
    """A recording of snmpsim-data and the community it is served under."""

    path: str
    community: str
    target: str


RECORDINGS = {
    "cisco": Recording("network/appliance/cisco-controller.snmprec.bz2", "cisco-5508", "wlc-5508"),
    "ruckus": Recording(
        "network/wifi/ruckus-smartcell-gateway.snmprec.bz2", "ruckus-scg", "ruckus-scg"
    ),
}


@dataclass(frozen=True)
class PollFigures:
    cpu: float
    wall: float
    agent_cpu: float | None
    requests: int
    varbinds: int
    samples: int


class CountingTransport:
    """Wraps a transport to count the varbinds it returns."""

    def __init__(self, inner: FastTransport | PysnmpTransport) -> None:
        self.inner = inner
        self.varbinds = 0

    @property
    def stats(self) -> TransportStats:
        return self.inner.stats

    async def get(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        result = await self.inner.get(target, oids)
        self.varbinds += len(result)
        return result

    async def walk(
        self, target: SnmpTarget, root: Oid, max_rows: int = 100_000, *, unordered: bool = False
    ) -> list[VarBind]:
        result = await self.inner.walk(target, root, max_rows, unordered=unordered)
        self.varbinds += len(result)
        return result

    async def walk_columns(
        self, target: SnmpTarget, roots: Sequence[Oid], max_rows: int, *, unordered: bool = False
    ) -> dict[Oid, WalkRows]:
        result = await self.inner.walk_columns(target, roots, max_rows, unordered=unordered)
        self.varbinds += sum(len(rows) for rows in result.values())
        return result

    async def get_and_walk_columns(
        self, target: SnmpTarget, oids: Sequence[Oid], roots: Sequence[Oid], max_rows: int
    ) -> tuple[list[VarBind], dict[Oid, WalkRows]]:
        values, walked = await self.inner.get_and_walk_columns(target, oids, roots, max_rows)
        self.varbinds += len(values) + sum(len(rows) for rows in walked.values())
        return values, walked

    async def close(self) -> None:
        await self.inner.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of another process (Linux /proc), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _polls(  # noqa: PLR0917 - the benchmark's knobs
    recording: Recording, port: int, agent_pid: int, count: int, repetitions: int, kind: str
) -> list[PollFigures]:
    inner = FastTransport() if kind == "fast" else PysnmpTransport()
    transport = CountingTransport(inner)
    credentials = SnmpCredentials(version="2c", community=recording.community)
    snmp = SnmpTarget(
        recording.target,
        "127.0.0.1",
        port,
        credentials,
        timeout=10.0,
        retries=1,
        max_repetitions=repetitions,
    )
    target = PollTarget(
        snmp, "auto", TargetRole(recording.target, controller=True, inventory=()), budget=300.0
    )
    rounds = PollRound(transport, default_registry(), CounterReconciler(), 60.0)  # type: ignore[arg-type]
    results = []
    try:
        for _ in range(count):
            cpu, wall = time.process_time(), time.perf_counter()
            varbinds, requests = transport.varbinds, transport.stats.requests
            agent_cpu = _process_cpu(agent_pid)
            snapshot = (await rounds.run([target])).snapshots[0]
            agent_after = _process_cpu(agent_pid)
            up = next(s.value for s in snapshot.samples if s.metric.name == "wifimon_target_up")
            if up != 1:
                raise RuntimeError("the recording did not answer a complete poll")
            results.append(
                PollFigures(
                    cpu=time.process_time() - cpu,
                    wall=time.perf_counter() - wall,
                    agent_cpu=None
                    if agent_cpu is None or agent_after is None
                    else agent_after - agent_cpu,
                    requests=transport.stats.requests - requests,
                    varbinds=transport.varbinds - varbinds,
                    samples=len(snapshot.samples),
                )
            )
    finally:
        await transport.close()
    return results


def _report(results: list[PollFigures]) -> None:
    header = ("poll", "cpu s", "wall s", "agent s", "requests", "varbinds", "vb/cpu s", "samples")
    print("{:>4} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>8}".format(*header))
    for number, r in enumerate(results, 1):
        agent = f"{r.agent_cpu:>8.2f}" if r.agent_cpu is not None else f"{'-':>8}"
        print(
            f"{number:>4} {r.cpu:>7.3f} {r.wall:>7.3f} {agent} {r.requests:>8} "
            f"{r.varbinds:>9} {r.varbinds / r.cpu:>9.0f} {r.samples:>8}"
        )
    steady = results[1:] or results
    cpu = sum(r.cpu for r in steady) / len(steady)
    wall = sum(r.wall for r in steady) / len(steady)
    varbinds = sum(r.varbinds for r in steady) / len(steady)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"steady state: {cpu:.3f} CPU s/poll, {wall:.3f} wall s/poll, "
        f"{varbinds / cpu:.0f} varbinds per CPU second, max RSS {rss_mb:.0f} MB "
        "(polls after the first; the first includes warm-up)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Poll a controller recording; print figures.")
    parser.add_argument("--recording", choices=sorted(RECORDINGS), default="cisco")
    parser.add_argument("--polls", type=int, default=5)
    parser.add_argument("--transport", choices=["fast", "pysnmp"], default="fast")
    parser.add_argument(
        "--max-repetitions", type=int, default=25, help="GETBULK max-repetitions (poll config)"
    )
    args = parser.parse_args()
    recording = RECORDINGS[args.recording]
    # One data dir per recording: snmpsim indexes every file it is given.
    data_dir = WORK / "data" / args.recording
    install_recording(recording_path(recording.path), data_dir, recording.community)
    port = _free_port()
    agent = start_snmpsim(data_dir, WORK / "snmpsim-cache", port, recording.community)
    try:
        results = asyncio.run(
            _polls(
                recording,
                port,
                agent.process.pid,
                args.polls,
                args.max_repetitions,
                args.transport,
            )
        )
    finally:
        agent.stop()
    print(
        f"recording {recording.path}, max-repetitions {args.max_repetitions}, "
        f"transport {args.transport}"
    )
    _report(results)


if __name__ == "__main__":
    main()
