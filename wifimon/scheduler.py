"""One poll round over every target, each in its own time budget.

A round starts every target (spread over a jitter window so a thousand
APs do not all get their first request in the same millisecond), bounds
each by its budget, and turns every outcome, good or bad, into a
``TargetSnapshot`` with the target's self-metrics. A failure is logged
once when a target goes down, not on every poll while it stays down.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from wifimon.catalogue import metric
from wifimon.counters import CounterReconciler
from wifimon.normalise import KnownAp, Normaliser, TargetRole
from wifimon.poller import PollOutcome, poll_target
from wifimon.profiles.registry import ProfileRegistry
from wifimon.profiles.schema import Profile
from wifimon.snapshot import Sample, TargetSnapshot
from wifimon.snmp.types import ErrorReason, SnmpError, SnmpTarget, Transport

log = logging.getLogger("wifimon.scheduler")

# Targets polled at once (see PollRound.__init__): an AP has one request in
# flight, a controller up to poller.WALKS_IN_FLIGHT_PER_TARGET, so this keeps
# the transport's default 256 PDUs in flight busy.
TARGETS_IN_FLIGHT = 256


@dataclass(frozen=True, slots=True)
class PollTarget:
    """A target to poll: how to reach it, which profile, what it is.

    ``budget`` is the wall-clock seconds its whole poll may take (e.g. 30.0).
    """

    snmp: SnmpTarget
    profile: str
    role: TargetRole
    budget: float


@dataclass
class TargetHealth:
    """Per-target counters that outlive a single poll."""

    up: bool | None = None
    errors: dict[str, int] = field(default_factory=dict)
    missing_values: int = 0
    last_success: float = 0.0
    duration: float = 0.0
    profile: Profile | None = None  # chosen by the last successful poll


@dataclass
class RoundResult:
    snapshots: list[TargetSnapshot]
    duration: float


class PollRound:
    """Runs rounds; keeps known APs, counter state and target health."""

    def __init__(
        self,
        transport: Transport,
        registry: ProfileRegistry,
        counters: CounterReconciler,
        interval: float,
        *,
        known: Mapping[str, KnownAp] | None = None,
        max_rows: int = 100_000,
        clock: Callable[[], float] = time.time,
        targets_in_flight: int = TARGETS_IN_FLIGHT,
    ) -> None:
        self.transport = transport
        self.registry = registry
        self.normaliser = Normaliser(counters, interval)
        self.known: dict[str, KnownAp] = dict(known or {})
        self.health: dict[str, TargetHealth] = {}
        self.max_rows = max_rows
        self.clock = clock
        self.rounds_run = 0
        # Targets polled at once. Without a bound, 10^4 targets started
        # together share the transport's queue FIFO, so each one's requests
        # wait behind everybody's and every poll ends near the end of the
        # round, its budget spent in the queue (measured: 1,000 APs on slow
        # agents all timed out together). With it, a target's budget starts
        # when its turn comes. Targets down at their last poll take no slot:
        # they mostly wait for timeouts, and must not hold up live ones.
        self._in_flight = asyncio.Semaphore(targets_in_flight)

    async def run(self, targets: list[PollTarget], jitter: float = 0.0) -> RoundResult:
        """Poll every target once. ``jitter`` spreads their starts over that
        many seconds, except in the first round: after a (re)start nothing has
        been exported yet, so every target starts at once (the transport's
        concurrency bound still paces the requests) and the first snapshot
        comes as soon as the agents have answered."""
        started = time.monotonic()
        if not self.rounds_run:
            jitter = 0.0
        self.rounds_run += 1
        # Random offsets spread load; nothing secret depends on them.
        offsets = [random.uniform(0, jitter) if jitter else 0.0 for _ in targets]  # noqa: S311
        tasks = [
            self._delayed(target, offset) for target, offset in zip(targets, offsets, strict=True)
        ]
        snapshots = await asyncio.gather(*tasks)
        return RoundResult(list(snapshots), time.monotonic() - started)

    async def _delayed(self, target: PollTarget, delay: float) -> TargetSnapshot:
        if delay:
            await asyncio.sleep(delay)
        health = self.health.get(target.snmp.name)
        if health is not None and health.up is False:
            return await self.poll(target)
        async with self._in_flight:
            return await self.poll(target)

    async def poll(self, target: PollTarget) -> TargetSnapshot:
        name = target.snmp.name
        health = self.health.setdefault(name, TargetHealth())
        now = self.clock()
        began = time.monotonic()
        outcome: PollOutcome | None = None
        reason: ErrorReason | None = None
        try:
            async with asyncio.timeout(target.budget):
                outcome = await poll_target(
                    self.transport,
                    target.snmp,
                    self.registry,
                    target.profile,
                    self.max_rows,
                    presumed_alive=health.up is not False,  # not known to be down
                    first_poll=health.up is None,
                    columns_together=not target.role.controller,
                    expected_profile=health.profile,
                )
        except TimeoutError:
            reason = ErrorReason.TIMEOUT
        except SnmpError as error:
            reason = error.reason
        except Exception:  # a bug or an agent answer nobody foresaw: never stop polling
            # Once per outage, like "target down": a lasting fault must not
            # write a traceback every interval.
            if health.up is not False:
                log.exception("poll failed unexpectedly", extra={"target": name})
            reason = ErrorReason.OTHER
        health.duration = time.monotonic() - began
        self._account(target, health, outcome, reason, now)
        vendor = outcome.profile.vendor if outcome else ""
        aps = outcome.observation.aps if outcome else None
        result = self.normaliser.normalise(target.role, aps, self.known, vendor, now)
        self.known.update(result.known)
        samples = result.samples + _target_samples(name, health, now)
        return TargetSnapshot(name, now, tuple(samples))

    def _account(
        self,
        target: PollTarget,
        health: TargetHealth,
        outcome: PollOutcome | None,
        reason: ErrorReason | None,
        now: float,
    ) -> None:
        name = target.snmp.name
        if reason is not None:
            health.errors[reason.value] = health.errors.get(reason.value, 0) + 1
            if health.up is not False:
                log.warning(
                    "target down",
                    extra={"target": name, "host": target.snmp.host, "reason": reason.value},
                )
            health.up = False
            return
        assert outcome is not None
        if health.up is False:
            log.info("target back up", extra={"target": name})
        health.up = True
        health.last_success = now
        health.profile = outcome.profile
        health.missing_values += outcome.observation.missing

    def forget_targets(self, names: set[str]) -> None:
        """Drop the health of targets removed by a reload."""
        for name in list(self.health):
            if name not in names:
                del self.health[name]


def _target_samples(name: str, health: TargetHealth, now: float) -> list[Sample]:
    labels = (name,)
    samples = [
        Sample(metric("wifimon_target_up"), labels, 1 if health.up else 0, now),
        Sample(metric("wifimon_target_poll_duration_seconds"), labels, health.duration, now),
        Sample(metric("wifimon_target_missing_values_total"), labels, health.missing_values, now),
    ]
    if health.last_success:
        samples.append(
            Sample(
                metric("wifimon_target_last_success_timestamp_seconds"),
                labels,
                health.last_success,
                now,
            )
        )
    errors = metric("wifimon_target_poll_errors_total")
    samples.extend(
        Sample(errors, (name, reason), count, now)
        for reason, count in sorted(health.errors.items())
    )
    return samples
