"""Poll targets for N rounds and print what each round exported, as JSON.

Run as ``python -m tests.support.poll_rounds SPEC.json`` where the poller
must live elsewhere than the test process (inside a network namespace, see
``tests/support/netns.py``). It drives the daemon's own ``PollRound`` over
``FastTransport``. The clock is frozen at one instant, so rounds with the
same answers export the same values, timestamps included, and a lossy run
can be compared value for value with a loss-free one.

The spec::

    {"rounds": 40, "targets": [{"name": "wlc", "host": "127.0.0.1", "port": 1161,
      "community": "public", "timeout": 0.3, "retries": 2, "budget": 20.0,
      "max_repetitions": 25}]}

The output: ``{"rounds": [{"wlc": {"up": 1, "errors": {...}, "duration": 0.4,
"values": [[metric, labels, value], ...]}}], "stats": {"requests": ...}}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from wifimon.counters import CounterReconciler
from wifimon.normalise import TargetRole
from wifimon.profiles.registry import default_registry
from wifimon.scheduler import PollRound, PollTarget
from wifimon.snapshot import TargetSnapshot
from wifimon.snmp.fast_transport import FastTransport
from wifimon.snmp.types import SnmpCredentials, SnmpTarget

FROZEN_NOW = 1_750_000_000.0
INTERVAL = 60.0
DURATION = "wifimon_target_poll_duration_seconds"
ERRORS = "wifimon_target_poll_errors_total"


def _target(spec: dict[str, Any]) -> PollTarget:
    snmp = SnmpTarget(
        spec["name"],
        spec["host"],
        int(spec["port"]),
        SnmpCredentials("2c", community=spec["community"]),
        timeout=float(spec["timeout"]),
        retries=int(spec["retries"]),
        max_repetitions=int(spec.get("max_repetitions", 25)),
    )
    role = TargetRole(spec["name"], controller=True, inventory=())
    return PollTarget(snmp, spec.get("profile", "auto"), role, float(spec["budget"]))


def _summary(snapshot: TargetSnapshot) -> dict[str, Any]:
    values = []
    summary: dict[str, Any] = {"up": 0, "errors": {}, "duration": 0.0}
    for sample in snapshot.samples:
        name = sample.metric.name
        if name == DURATION:
            summary["duration"] = sample.value
        elif name == "wifimon_target_up":
            summary["up"] = sample.value
        elif name == ERRORS:
            summary["errors"][sample.labels[1]] = sample.value
        else:
            values.append([name, list(sample.labels), sample.value])
    summary["values"] = sorted(values, key=lambda row: (row[0], row[1]))
    return summary


async def poll(spec: dict[str, Any]) -> dict[str, Any]:
    transport = FastTransport()
    registry = default_registry()
    targets = [_target(target) for target in spec["targets"]]
    # One PollRound per target (as if each were the only one polled), so
    # targets serving the same recording never share known APs.
    pollers = [
        PollRound(transport, registry, CounterReconciler(), INTERVAL, clock=lambda: FROZEN_NOW)
        for _ in targets
    ]
    rounds = []
    try:
        for _ in range(int(spec["rounds"])):
            results = await asyncio.gather(
                *(poller.run([target]) for poller, target in zip(pollers, targets, strict=True))
            )
            snapshots = [snap for result in results for snap in result.snapshots]
            rounds.append({snap.target: _summary(snap) for snap in snapshots})
    finally:
        await transport.close()
    stats = transport.stats
    return {
        "rounds": rounds,
        "stats": {
            "requests": stats.requests,
            "retries": stats.retries,
            "dropped_replies": stats.dropped_replies,
        },
    }


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text())
    json.dump(asyncio.run(poll(spec)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
