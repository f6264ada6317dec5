"""Figures for a period: per district and per AP, busiest hours, hotspots.

Definitions (the CSV columns):

- ``aps``: the most APs known at any point of the period;
- ``availability_ratio``: APs up over APs known, summed over all points
  (every AP-moment weighs the same), 0..1;
- ``clients_mean``: mean over the points of the clients associated;
- ``clients_peak``: the most clients at any one point;
- ``receive_bytes``/``transmit_bytes``: traffic counted in the period;
- ``coverage_ratio``: mean over the points of the share of the district's
  area within reach of an AP that is up (``wifimon_district_coverage_ratio``),
  0..1; empty when the source does not keep it (InfluxDB rollups) or the
  daemon had no district polygons.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wifimon.report.sources import ApKey, History, Point

FIGURES = (
    "aps",
    "availability_ratio",
    "clients_mean",
    "clients_peak",
    "receive_bytes",
    "transmit_bytes",
)
HOTSPOT_RATIO = 0.7  # channel busy this much of the time or more is "high"
HOTSPOT_SHARE = 0.5  # ... for at least this share of the period: a hotspot


@dataclass(frozen=True, slots=True)
class Figures:
    """A district's or AP's period, e.g. ``Figures(3, 0.98, 11.5, 20, 1e9, 3e9)``."""

    aps: int
    availability_ratio: float
    clients_mean: float
    clients_peak: float
    receive_bytes: float
    transmit_bytes: float


EMPTY = Figures(0, 0.0, 0.0, 0.0, 0.0, 0.0)


def figures(points: Sequence[Point]) -> Figures:
    """The period's figures from its points (``EMPTY`` when there are none)."""
    if not points:
        return EMPTY
    known = sum(p.known for p in points)
    return Figures(
        max(p.known for p in points),
        sum(p.up for p in points) / known if known else 0.0,
        sum(p.clients for p in points) / len(points),
        max(p.clients_peak for p in points),
        sum(p.receive_bytes for p in points),
        sum(p.transmit_bytes for p in points),
    )


def change(current: float, previous: float) -> float | None:
    """Relative change, ``0.25`` for +25 %; ``None`` when there was nothing before."""
    return None if previous == 0 else (current - previous) / previous


@dataclass
class Report:
    """Everything a report shows, for ``start``..``end`` (Unix s) and the period before."""

    start: float
    end: float
    districts: dict[str, Figures]
    previous: dict[str, Figures]
    aps: dict[ApKey, Figures]
    busiest: list[list[float | None]]  # [weekday 0=Monday][hour UTC] -> mean clients
    hotspots: list[tuple[ApKey, float, float]]  # (ap, mean utilisation, share high)
    # district -> mean coverage ratio over the period; absent when unknown
    coverage: dict[str, float] = field(default_factory=dict)
    previous_coverage: dict[str, float] = field(default_factory=dict)

    def city(self, previous: bool = False) -> Figures:
        return combine((self.previous if previous else self.districts).values())


def combine(parts: Iterable[Figures]) -> Figures:
    """City-wide figures from districts' (availability weighted by APs; peaks
    added, an upper bound since districts peak at different times)."""
    items = list(parts)
    aps = sum(f.aps for f in items)
    return Figures(
        aps,
        sum(f.availability_ratio * f.aps for f in items) / aps if aps else 0.0,
        sum(f.clients_mean for f in items),
        sum(f.clients_peak for f in items),
        sum(f.receive_bytes for f in items),
        sum(f.transmit_bytes for f in items),
    )


def busiest_hours(districts: Iterable[Sequence[Point]]) -> list[list[float | None]]:
    """Mean clients (all given districts together) per weekday and UTC hour."""
    total: dict[float, float] = defaultdict(float)
    for points in districts:
        for point in points:
            total[point.time] += point.clients
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    for time, clients in total.items():
        moment = datetime.fromtimestamp(time, UTC)
        cells[(moment.weekday(), moment.hour)].append(clients)
    return [
        [sum(c) / len(c) if (c := cells.get((day, hour))) else None for hour in range(24)]
        for day in range(7)
    ]


def hotspots(utilisation: dict[ApKey, list[float]]) -> list[tuple[ApKey, float, float]]:
    """APs whose busiest radio is at or above HOTSPOT_RATIO for at least
    HOTSPOT_SHARE of the period, busiest first."""
    found = []
    for key, values in utilisation.items():
        if not values:
            continue
        share = sum(v >= HOTSPOT_RATIO for v in values) / len(values)
        if share >= HOTSPOT_SHARE:
            found.append((key, sum(values) / len(values), share))
    return sorted(found, key=lambda item: (-item[2], -item[1], item[0]))


def build_report(start: float, end: float, current: History, previous: History) -> Report:
    return Report(
        start,
        end,
        {name: figures(points) for name, points in sorted(current.districts.items())},
        {name: figures(points) for name, points in sorted(previous.districts.items())},
        {key: figures(points) for key, points in sorted(current.aps.items())},
        busiest_hours(current.districts.values()),
        hotspots(current.utilisation),
        mean_coverage(current.coverage),
        mean_coverage(previous.coverage),
    )


def mean_coverage(coverage: dict[str, list[float]]) -> dict[str, float]:
    """Each district's mean coverage ratio over the period's points."""
    return {name: sum(values) / len(values) for name, values in coverage.items() if values}


def only_district(history: History, district: str | None) -> History:
    """``history`` narrowed to one district (all when ``district`` is None)."""
    if district is None:
        return history
    return History(
        {k: v for k, v in history.districts.items() if k == district},
        {k: v for k, v in history.aps.items() if k[1] == district},
        {k: v for k, v in history.utilisation.items() if k[1] == district},
        {k: v for k, v in history.coverage.items() if k == district},
    )
