"""Benchmark: where the daemon's memory goes for a city-scale fleet.

Runs the daemon's own pieces in one process (``PollRound`` with its
normaliser and counter reconciler, the Prometheus exporter's renderer, the
state encoder) over ``--aps`` generic APs as ``bench/fleet.py`` serves them
(same per-AP values) plus, unless ``--no-scg``, the Ruckus SCG recording,
answered by the in-process ``RecordedTransport`` so no agent is needed.
After ``--rounds`` rounds it prints the process's RSS after each stage and
tracemalloc's biggest live allocation sites, without the agents' own data
(measured apart and subtracted). A figure, not a test.

    .venv/bin/python bench/memory.py [--aps 10000] [--no-scg] [--rounds 3] [--top 15]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet import SCG_COMMUNITY, SCG_RECORDING, ap_id, ap_rows

from wifimon.counters import CounterReconciler
from wifimon.memory import release_free_memory, tune_garbage_collector
from wifimon.normalise import KnownAp, TargetRole
from wifimon.profiles.registry import default_registry
from wifimon.scheduler import PollRound, PollTarget
from wifimon.simulator.snmpsim import install_recording, recording_path
from wifimon.snapshot import Snapshot
from wifimon.snmp.recorded import RecordedTransport
from wifimon.snmp.snmprec import load_snmprec, parse_snmprec
from wifimon.snmp.types import SnmpCredentials, SnmpTarget, VarBind
from wifimon.state import PersistedState, encode
from wifimon.targets import known_to_state
from wifimon_exporters.prometheus import _Renderer

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else float("nan")


def agents(aps: int, scg: bool, work: Path) -> dict[str, list[VarBind]]:
    served: dict[str, list[VarBind]] = {}
    for number in range(aps):
        text = "".join(f"{'.'.join(map(str, oid))}|{value}\n" for oid, value in ap_rows(number))
        served[ap_id(number)] = parse_snmprec(text)
    if scg:
        path = install_recording(recording_path(SCG_RECORDING), work / "scg", SCG_COMMUNITY)
        served["ruckus-scg"] = load_snmprec(path)
    return served


def targets(aps: int, scg: bool) -> list[PollTarget]:
    credentials = SnmpCredentials("2c", community="public")
    found = []
    for number in range(aps):
        name = ap_id(number)
        snmp = SnmpTarget(name, "127.0.0.1", 161, credentials, 5.0, 2, 25)
        known = KnownAp(ap=name, name=f"fleet-ap-{number:05d}", site=f"site-{number % 500:03d}")
        role = TargetRole(name, controller=False, inventory=(known,))
        found.append(PollTarget(snmp, "auto", role, 60.0))
    if scg:
        snmp = SnmpTarget("ruckus-scg", "127.0.0.1", 161, credentials, 5.0, 2, 25)
        role = TargetRole("ruckus-scg", controller=True, inventory=())
        found.append(PollTarget(snmp, "auto", role, 60.0))
    return found


async def run(args: argparse.Namespace) -> None:
    stages: list[tuple[str, float]] = [("start", rss_mb())]
    served = agents(args.aps, args.scg, args.work_dir)
    transport = RecordedTransport(served)
    gc.collect()
    agents_mb = rss_mb() - stages[-1][1]
    stages.append(("agents' data (harness only)", rss_mb()))
    if args.trace:
        tracemalloc.start(args.frames)
    baseline = tracemalloc.take_snapshot() if args.trace else None
    tune_garbage_collector()  # as the daemon does once started
    counters = CounterReconciler()
    rounds = PollRound(transport, default_registry(), counters, 60.0)
    renderer = _Renderer()
    renderer.start()
    polled = targets(args.aps, args.scg)
    snapshot = Snapshot()
    for number in range(1, args.rounds + 1):
        began = time.perf_counter()
        result = await rounds.run(polled)
        snapshot = Snapshot(
            targets={snap.target: snap for snap in result.snapshots},
            generation=snapshot.generation + 1,
        )
        renderer.submit(snapshot)
        while (latest := renderer.latest(60.0)) is None or latest.generation < number:
            await asyncio.sleep(0.05)
        state = encode(PersistedState(known_to_state(rounds.known), counters.export_state()))
        del state  # the daemon writes it out and drops it
        if args.trim:
            release_free_memory()
        traced = " (under tracemalloc)" if args.trace else ""
        print(f"round {number}: {time.perf_counter() - began:.1f} s{traced}")
        stages.append((f"after round {number}", rss_mb()))
    series = sum(len(target.samples) for target in snapshot.targets.values())
    renderer.stop()
    print(f"{args.aps} generic APs{' + the SCG recording' if args.scg else ''}: {series} series")
    for name, value in stages:
        print(f"  RSS {value:7.1f} MB  {name}")
    rest = stages[-1][1] - agents_mb
    print(f"  RSS without the agents' data ({agents_mb:.0f} MB): {rest:.1f} MB")
    if baseline is not None:
        report_allocations(baseline, args.top, args.frames, series)


def report_allocations(baseline: tracemalloc.Snapshot, top: int, frames: int, series: int) -> None:
    current = tracemalloc.take_snapshot()
    traced, peak = tracemalloc.get_traced_memory()
    print(
        f"traced by tracemalloc: {traced / 2**20:.1f} MB live (peak {peak / 2**20:.1f} MB), "
        f"{traced / max(1, series):.0f} bytes per series; its own bookkeeping inflates RSS"
    )
    stats = current.compare_to(baseline, "traceback" if frames > 1 else "lineno")
    print(f"biggest live allocation sites (top {top}):")
    for stat in stats[:top]:
        lines = stat.traceback.format()
        size = stat.size_diff / 2**20
        print(f"  {size:7.1f} MB {stat.count_diff:>9} blocks  {lines[-1].strip()}")
        for line in lines[:-1] if frames > 1 else ():
            print(f"        {line.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aps", type=int, default=10_000)
    parser.add_argument("--scg", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--trim",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="give freed memory back after each round, as the daemon does",
    )
    parser.add_argument(
        "--trace",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="tracemalloc's allocation sites (slower, and its bookkeeping adds RSS)",
    )
    parser.add_argument("--frames", type=int, default=1, help="traceback depth per site")
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".work" / "bench" / "memory")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
