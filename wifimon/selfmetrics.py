"""The daemon's own metrics: builds, rounds, overruns, reloads, SNMP PDUs, state file."""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from wifimon import __version__
from wifimon.catalogue import metric
from wifimon.sharding import WHOLE_FLEET, Shard
from wifimon.snapshot import HistogramValue, Sample

# Poll rounds of a city take from well under a second (a few APs) to most
# of an interval (thousands of APs behind slow controllers).
ROUND_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)


@dataclass
class Histogram:
    bounds: tuple[float, ...] = ROUND_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(ROUND_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, value: float) -> None:
        self.total += value
        for position, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[position] += 1
                return
        self.counts[-1] += 1

    def value(self) -> HistogramValue:
        cumulative, buckets = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        return HistogramValue(tuple(buckets), cumulative, self.total)


@dataclass
class DaemonMetrics:
    rounds: Histogram = field(default_factory=Histogram)
    overruns: int = 0
    reload_success: bool = True
    reload_timestamp: float = 0.0
    shard: Shard = WHOLE_FLEET
    fleet_targets: int = 0  # targets of the whole fleet, before sharding
    # Reload attempts by result, e.g. {"success": 3, "failure": 1}.
    reloads: dict[str, int] = field(default_factory=lambda: {"success": 0, "failure": 0})

    def count_reload(self, success: bool, now: float) -> None:
        self.reload_success = success
        self.reload_timestamp = now
        self.reloads["success" if success else "failure"] += 1

    def samples(
        self,
        now: float,
        target_states: Iterable[bool | None],
        requests: int,
        retries: int,
        dropped_replies: int = 0,
    ) -> list[Sample]:
        states = {"up": 0, "down": 0, "unknown": 0}
        for state in target_states:
            states["unknown" if state is None else "up" if state else "down"] += 1
        shard = self.shard
        out = [
            Sample(metric("wifimon_build_info"), (__version__, platform.python_version()), 1, now),
            Sample(metric("wifimon_shard_info"), (str(shard.index), str(shard.count)), 1, now),
            Sample(metric("wifimon_fleet_targets"), (), self.fleet_targets, now),
            Sample(metric("wifimon_snmp_requests_total"), (), requests, now),
            Sample(metric("wifimon_snmp_replies_dropped_total"), (), dropped_replies, now),
            Sample(metric("wifimon_snmp_retries_total"), (), retries, now),
            Sample(metric("wifimon_poll_overruns_total"), (), self.overruns, now),
            Sample(metric("wifimon_config_last_reload_success"), (), int(self.reload_success), now),
        ]
        if self.reload_timestamp:
            out.append(
                Sample(
                    metric("wifimon_config_last_reload_timestamp_seconds"),
                    (),
                    self.reload_timestamp,
                    now,
                )
            )
        out.extend(
            Sample(metric("wifimon_targets"), (state,), count, now)
            for state, count in states.items()
        )
        out.extend(
            Sample(metric("wifimon_config_reloads_total"), (result,), count, now)
            for result, count in self.reloads.items()
        )
        return out


def state_file_samples(
    now: float, write_errors: Mapping[str, int], load_errors: Mapping[str, int]
) -> list[Sample]:
    """``wifimon_state_write_errors_total`` and ``wifimon_state_load_errors_total``,
    one series per reason (zeros included, so a rate() sees the first error)."""
    writes = metric("wifimon_state_write_errors_total")
    loads = metric("wifimon_state_load_errors_total")
    return [
        *(Sample(writes, (reason,), count, now) for reason, count in write_errors.items()),
        *(Sample(loads, (reason,), count, now) for reason, count in load_errors.items()),
    ]
