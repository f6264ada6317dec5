"""Where a report's history comes from: a Prometheus-compatible API or InfluxDB.

Both sources return a ``History``: per district (and, where the source has
them, per AP) a list of ``Point`` in time order. A point is one moment
(Prometheus: one query step) or one hour (InfluxDB rollups).
"""

from __future__ import annotations

import itertools
import json
import math
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, TextIO

from wifimon.catalogue import metric

# Catalogue names, looked up so a renamed metric fails here, at import.
UP = metric("wifimon_ap_up").name
CLIENTS = metric("wifimon_ap_clients").name
RECEIVE = metric("wifimon_ap_receive_bytes_total").name
TRANSMIT = metric("wifimon_ap_transmit_bytes_total").name
UTILISATION = metric("wifimon_radio_channel_utilization_ratio").name
COVERAGE = metric("wifimon_district_coverage_ratio").name
ROLLUP = "wifimon_district_hourly"
_ROLLUP_SELECT = (
    'SELECT "aps", "availability_ratio", "clients_mean", "clients_max", '
    '"receive_bytes", "transmit_bytes" FROM "wifimon_district_hourly"'
)
MAX_POINTS = 10_000  # below Prometheus' 11,000 points per series


@dataclass(frozen=True, slots=True)
class Point:
    """One moment or hour of a district or AP.

    ``time`` Unix seconds (1717200000.0); ``up`` APs up (2.0, a mean over an
    hour may be fractional); ``known`` APs known (3); ``clients`` associated
    clients, mean over the point (11.5); ``clients_peak`` the most at once
    (14); ``receive_bytes``/``transmit_bytes`` traffic counted in the point.
    """

    time: float
    up: float
    known: int
    clients: float
    clients_peak: float
    receive_bytes: float = 0.0
    transmit_bytes: float = 0.0


ApKey = tuple[str, str]  # (ap, district)


@dataclass
class History:
    """A period's series: ``districts`` always, ``aps`` and ``utilisation``
    (per AP, the busiest radio's channel utilisation 0..1 per moment) when
    the source has them, and ``coverage`` (per district, the coverage ratio
    0..1 per moment) when the daemon had district polygons and the source
    keeps it (Prometheus does; the InfluxDB rollups do not)."""

    districts: dict[str, list[Point]] = field(default_factory=dict)
    aps: dict[ApKey, list[Point]] = field(default_factory=dict)
    utilisation: dict[ApKey, list[float]] = field(default_factory=dict)
    coverage: dict[str, list[float]] = field(default_factory=dict)


def _post(url: str, params: dict[str, str], timeout: float = 60.0) -> Any:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    data = urllib.parse.urlencode(params).encode()
    with urllib.request.urlopen(url, data=data, timeout=timeout) as response:  # noqa: S310 - checked
        return json.loads(response.read())


def increase(before: float, after: float) -> float:
    """Traffic between two counter reads; a reset counts its new value."""
    return after - before if after >= before else after


def default_step(start: float, end: float) -> float:
    """A query step (seconds, whole minutes) keeping a series under MAX_POINTS."""
    return float(max(60, math.ceil((end - start) / MAX_POINTS / 60) * 60))


class PrometheusSource:
    """``query_range`` over ``/api/v1``: Prometheus, VictoriaMetrics, Thanos Query."""

    def __init__(self, url: str, progress: TextIO, step: float | None = None) -> None:
        self.url, self.progress, self.step = url.rstrip("/"), progress, step

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Any]:
        self.progress.write(f"querying {expr} ...\n")
        answer = _post(
            f"{self.url}/api/v1/query_range",
            {"query": expr, "start": repr(start), "end": repr(end), "step": repr(step)},
        )
        if answer.get("status") != "success":
            raise RuntimeError(f"{expr}: {answer.get('error', answer)}")
        result: list[Any] = answer["data"]["result"]
        self.progress.write(f"  {len(result)} series\n")
        return result

    def _per_ap(
        self, name: str, start: float, end: float, step: float
    ) -> dict[ApKey, dict[float, float]]:
        expr = f"max by (ap, district) ({name})"
        series: dict[ApKey, dict[float, float]] = {}
        for item in self.query_range(expr, start, end, step):
            labels = item["metric"]
            key = (labels.get("ap", ""), labels.get("district", ""))
            series[key] = {float(t): float(v) for t, v in item["values"]}
        return series

    def history(self, start: float, end: float) -> History:
        """Series for [start, end), on a grid of ``step`` seconds from ``start``.

        One step before ``start`` is read too, so traffic counted in the
        first step (since the read before it) belongs to the period.
        """
        step = self.step or default_step(start, end)
        window = (start - step, end - step / 2, step)
        up = self._per_ap(UP, *window)
        clients = self._per_ap(CLIENTS, *window)
        received = self._per_ap(RECEIVE, *window)
        transmitted = self._per_ap(TRANSMIT, *window)
        utilisation = self._per_ap(UTILISATION, *window)
        result = History()
        for key, all_ups in sorted(up.items()):
            ups = {t: v for t, v in all_ups.items() if t >= start}
            rx = _increases(received.get(key, {}))
            tx = _increases(transmitted.get(key, {}))
            seen = clients.get(key, {})
            result.aps[key] = [
                Point(
                    t, value, 1, seen.get(t, 0.0), seen.get(t, 0.0), rx.get(t, 0.0), tx.get(t, 0.0)
                )
                for t, value in sorted(ups.items())
            ]
            if key in utilisation:
                result.utilisation[key] = [
                    v for t, v in sorted(utilisation[key].items()) if t >= start
                ]
        result.districts = sum_districts(result.aps)
        result.coverage = self._coverage(start, *window)
        return result

    def _coverage(self, start: float, *window: float) -> dict[str, list[float]]:
        """Each district's coverage ratio at every step of the period."""
        found = self.query_range(f"max by (district) ({COVERAGE})", *window)
        return {
            item["metric"].get("district", ""): [
                float(v) for t, v in item["values"] if float(t) >= start
            ]
            for item in found
        }


def _increases(values: dict[float, float]) -> dict[float, float]:
    """Counter reads -> traffic since the previous read, at the later read's time."""
    moments = sorted(values)
    return {
        after: increase(values[before], values[after])
        for before, after in itertools.pairwise(moments)
    }


def sum_districts(aps: dict[ApKey, list[Point]]) -> dict[str, list[Point]]:
    """Per district and moment, the sum over its APs' points."""
    moments: dict[str, dict[float, list[Point]]] = defaultdict(lambda: defaultdict(list))
    for (_, district), points in aps.items():
        for point in points:
            moments[district][point.time].append(point)
    return {
        district: [_sum_points(t, points) for t, points in sorted(by_time.items())]
        for district, by_time in sorted(moments.items())
    }


def _sum_points(time: float, points: list[Point]) -> Point:
    """One point from ``points`` of the same ``time`` covering different APs:
    a district's APs at one moment, or the shards' rollups of one
    district-hour (``--shard I/N``). The peak is the sum of the peaks: exact
    for single moments (an AP's peak is its clients then), an upper bound
    for shards' hours (they may peak at different polls)."""
    return Point(
        time,
        sum(p.up for p in points),
        sum(p.known for p in points),
        sum(p.clients for p in points),
        sum(p.clients_peak for p in points),
        sum(p.receive_bytes for p in points),
        sum(p.transmit_bytes for p in points),
    )


class InfluxSource:
    """InfluxQL over the daemon's hourly ``wifimon_district_hourly`` rollups.

    ``url`` is the server with the database as its path or ``?db=``:
    ``http://127.0.0.1:8086/wifi`` or ``http://127.0.0.1:8086?db=wifi``.
    Rollups are per district, so the report has no per-AP figures. Shards
    each write a point per district and hour (tagged ``shard``); the points
    of one district and hour are summed into one.
    """

    def __init__(self, url: str, progress: TextIO) -> None:
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query)
        self.database = query.get("db", [parts.path.strip("/")])[0]
        if not self.database:
            raise ValueError(f"no database in {url!r}: give it as the path or ?db=")
        self.url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        self.progress = progress

    def history(self, start: float, end: float) -> History:
        """The rollup hours starting in [start, end)."""
        # Only whole seconds are interpolated: nothing a user typed reaches the query.
        window = f"WHERE time >= {int(start)}s AND time < {int(end)}s"
        influxql = f'{_ROLLUP_SELECT} {window} GROUP BY "district"'
        self.progress.write(f"querying {ROLLUP} in {self.database} ...\n")
        answer = _post(f"{self.url}/query", {"q": influxql, "db": self.database, "epoch": "s"})
        hours: dict[str, dict[float, list[Point]]] = defaultdict(lambda: defaultdict(list))
        for statement in answer.get("results", []):
            if "error" in statement:
                raise RuntimeError(f"InfluxQL failed: {statement['error']}")
            for series in statement.get("series", []):
                district = series.get("tags", {}).get("district", "")
                for row in series["values"]:
                    point = _rollup_point(row)
                    hours[district][point.time].append(point)
        result = History()
        for district, by_time in sorted(hours.items()):
            result.districts[district] = [
                _sum_points(time, points) for time, points in sorted(by_time.items())
            ]
        self.progress.write(f"  {len(result.districts)} districts\n")
        return result


def _rollup_point(row: list[Any]) -> Point:
    time, aps, ratio, clients, peak, rx, tx = row
    known = int(aps or 0)
    return Point(
        float(time), float(ratio or 0.0) * known, known, float(clients or 0.0),
        float(peak or 0.0), float(rx or 0), float(tx or 0),
    )  # fmt: skip


def open_source(
    source: str, url: str, progress: TextIO, step: float | None = None
) -> PrometheusSource | InfluxSource:
    """``source`` is ``prometheus`` or ``influxdb``."""
    if source == "prometheus":
        return PrometheusSource(url, progress, step)
    if source == "influxdb":
        return InfluxSource(url, progress)
    raise ValueError(f"unknown source {source!r}: prometheus or influxdb")
