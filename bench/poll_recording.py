"""Benchmark: poll the real Cisco 5508 recording (226 APs) over real UDP.

Starts snmpsim on 127.0.0.1 serving the recording from snmpsim-data, polls
it ``--polls`` times with wifimon's real transport, poller and normaliser,
and prints CPU seconds per poll (this process only: snmpsim's own CPU is
not ours), wall seconds per poll and varbinds per CPU second.

    .venv/bin/python bench/poll_recording.py [--polls 5]

A figure, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import time
from collections.abc import Sequence
from pathlib import Path

from wifimon.counters import CounterReconciler
from wifimon.normalise import TargetRole
from wifimon.profiles.registry import default_registry
from wifimon.scheduler import PollRound, PollTarget
from wifimon.simulator.snmpsim import install_recording, recording_path, start_snmpsim
from wifimon.snmp.pysnmp_transport import PysnmpTransport
from wifimon.snmp.types import Oid, SnmpCredentials, SnmpTarget, TransportStats, VarBind

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".work" / "bench"
COMMUNITY = "cisco-5508"


class CountingTransport:
    """Wraps a transport to count the varbinds it returns."""

    def __init__(self, inner: PysnmpTransport) -> None:
        self.inner = inner
        self.varbinds = 0

    @property
    def stats(self) -> TransportStats:
        return self.inner.stats

    async def get(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        result = await self.inner.get(target, oids)
        self.varbinds += len(result)
        return result

    async def walk(self, target: SnmpTarget, root: Oid, max_rows: int = 100_000) -> list[VarBind]:
        result = await self.inner.walk(target, root, max_rows)
        self.varbinds += len(result)
        return result

    async def close(self) -> None:
        await self.inner.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _polls(port: int, count: int) -> list[tuple[float, float, int, int]]:
    transport = CountingTransport(PysnmpTransport())
    credentials = SnmpCredentials(version="2c", community=COMMUNITY)
    target = PollTarget(
        SnmpTarget("wlc-5508", "127.0.0.1", port, credentials, timeout=10.0, retries=1),
        "auto",
        TargetRole("wlc-5508", controller=True, inventory=()),
        budget=300.0,
    )
    rounds = PollRound(transport, default_registry(), CounterReconciler(), 60.0)  # type: ignore[arg-type]
    results = []
    try:
        for _ in range(count):
            before_cpu, before_wall, before_vb = (
                time.process_time(),
                time.perf_counter(),
                transport.varbinds,
            )
            snapshot = (await rounds.run([target])).snapshots[0]
            up = next(s.value for s in snapshot.samples if s.metric.name == "wifimon_target_up")
            if up != 1:
                raise RuntimeError("the recording did not answer a complete poll")
            results.append(
                (
                    time.process_time() - before_cpu,
                    time.perf_counter() - before_wall,
                    transport.varbinds - before_vb,
                    len(snapshot.samples),
                )
            )
    finally:
        await transport.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Poll the Cisco 5508 recording and print figures.")
    parser.add_argument("--polls", type=int, default=5)
    args = parser.parse_args()
    data_dir = WORK / "data"
    install_recording(
        recording_path("network/appliance/cisco-controller.snmprec.bz2"), data_dir, COMMUNITY
    )
    port = _free_port()
    agent = start_snmpsim(data_dir, WORK / "snmpsim-cache", port, COMMUNITY)
    try:
        results = asyncio.run(_polls(port, args.polls))
    finally:
        agent.stop()
    header = ("poll", "cpu s", "wall s", "varbinds", "varbinds/cpu s", "samples")
    print("{:>4} {:>7} {:>7} {:>9} {:>15} {:>8}".format(*header))
    for number, (cpu, wall, varbinds, samples) in enumerate(results, 1):
        rate = varbinds / cpu
        print(f"{number:>4} {cpu:>7.3f} {wall:>7.3f} {varbinds:>9} {rate:>15.0f} {samples:>8}")
    steady = results[1:] or results
    cpu = sum(r[0] for r in steady) / len(steady)
    varbinds = sum(r[2] for r in steady) / len(steady)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"steady state: {cpu:.3f} CPU s/poll, {varbinds / cpu:.0f} varbinds per CPU second, "
        f"max RSS {rss_mb:.0f} MB (polls after the first; the first includes warm-up)"
    )


if __name__ == "__main__":
    main()
