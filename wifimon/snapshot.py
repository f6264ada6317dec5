"""The latest value of every series: what the exporters read.

A poll produces one ``TargetSnapshot`` per SNMP target; the daemon keeps
the newest of each and publishes them, together with its own self-metrics,
as an immutable ``Snapshot``. Exporters never see an OID or a profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from wifimon.catalogue import Metric


@dataclass(frozen=True, slots=True)
class Sample:
    """One series value.

    ``labels`` holds the label values in the order of ``metric.labels``;
    ``value`` is an ``int`` for counts and counters, a ``float`` otherwise;
    ``timestamp`` is the Unix time (seconds) of the poll that produced it.
    """

    metric: Metric
    labels: tuple[str, ...]
    value: int | float
    timestamp: float


@dataclass(frozen=True, slots=True)
class HistogramValue:
    """A cumulative histogram: ``buckets`` maps upper bound to count."""

    buckets: tuple[tuple[float, int], ...]
    count: int
    total: float


@dataclass(frozen=True, slots=True)
class TargetSnapshot:
    """Everything one poll of one target produced."""

    target: str
    started: float
    samples: tuple[Sample, ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An immutable view for exporters: per-target samples plus self-metrics."""

    targets: Mapping[str, TargetSnapshot] = field(default_factory=dict)
    daemon: tuple[Sample, ...] = ()
    histograms: Mapping[str, HistogramValue] = field(default_factory=dict)
    generation: int = 0

    def samples(self) -> Iterator[Sample]:
        for target in self.targets.values():
            yield from target.samples
        yield from self.daemon

    def by_metric(self) -> dict[str, list[Sample]]:
        grouped: dict[str, list[Sample]] = {}
        for sample in self.samples():
            grouped.setdefault(sample.metric.name, []).append(sample)
        return grouped


def merge_target(snapshot: Snapshot, result: TargetSnapshot, generation: int) -> Snapshot:
    targets = dict(snapshot.targets)
    targets[result.target] = result
    return Snapshot(targets, snapshot.daemon, snapshot.histograms, generation)


def samples_of(snapshots: Iterable[TargetSnapshot]) -> list[Sample]:
    return [sample for snap in snapshots for sample in snap.samples]
