"""The planner dashboard's InfluxQL: district trends from ``wifimon_district_hourly``.

InfluxQL is what InfluxDB 1.x, 2.x (through its 1.x compatibility API and a
DBRP mapping) and 3.x all answer, and what Grafana's InfluxDB datasource
speaks in its InfluxQL mode. Every query reads only the hourly rollups the
daemon writes, so a year of a city costs a few thousand points per district.

Sharded daemons (``--shard I/N``) each write a partial point per district
and hour, tagged ``shard``; one daemon writes a single untagged point. So a
query first sums a district's points of each hour (``_hourly``, a subquery
grouped by hour and district), then aggregates those hours: the figures
are the district's whether one daemon or N shards wrote them.

- ``availability_ratio`` of an hour is sum(up_polls) / sum(ap_polls). Points
  written before those fields existed count through their own
  ``availability_ratio`` (see ``_AVAILABILITY``), so older history still
  shows its availability;
- the bytes: sums over the shards, exact (each AP is polled by one shard);
- ``clients_mean``: the sum of the shards' means, the district's mean as
  the shards poll equally often (one interval for all);
- ``aps``: the sum of the shards' counts, the district's unless APs came
  or went within the hour;
- ``aps_up``: the sum of the shards' rounded means, off by at most half an
  AP per shard;
- ``clients_max``: the sum of the shards' peaks, an upper bound of the
  district's peak (the shards may peak at different polls); exact unsharded.

Queries that only sum (traffic, the city's clients) need no subquery: a
sum over all points of a bucket is already the sum over shards and hours.

The queries carry Grafana's macros: ``$timeFilter`` (the dashboard's time
range), ``$__interval`` (the panel's bucket; panels set a minimum interval
of ``1h``, the rollups' resolution) and ``$district`` (a multi-value
variable filled by ``DISTRICT_VARIABLE``, regex-formatted by Grafana).
``render`` expands them the way Grafana does, for tests and for anyone
running a query by hand. The dashboard generator builds its panels from
``PANELS``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from wifimon_exporters.influx_schema import ROLLUP_MEASUREMENT

MIN_INTERVAL = "1h"
_FROM = f'FROM "{ROLLUP_MEASUREMENT}" WHERE "district" =~ /^$district$/ AND $timeFilter'
DISTRICT_VARIABLE = f'SHOW TAG VALUES FROM "{ROLLUP_MEASUREMENT}" WITH KEY = "district"'

# (sum(up_polls) + old * mean(availability_ratio)) / (sum(ap_polls) + old), where
# old = count(aps) - count(ap_polls) counts the hour's points without ap_polls
# (written before the field existed). The subquery's fill(0) turns the sums
# of absent fields into 0, so an hour of new points gives sum(up) / sum(ap),
# and an hour of old points (one daemon's) its own availability_ratio. In
# the hour of an upgrade an old point weighs one AP-poll. mean() also makes
# the column a float: InfluxDB 1.x types a subquery's integer / integer
# column as an integer and truncates every ratio below 1 to 0.
_OLD_POINTS = '(count("aps") - count("ap_polls"))'
_AVAILABILITY = (
    f'(sum("up_polls") + {_OLD_POINTS} * mean("availability_ratio")) '
    f'/ (sum("ap_polls") + {_OLD_POINTS})'
)
# Per district and hour: a column over the shards' points (one when unsharded).
_HOURLY_COLUMNS = {
    "availability_ratio": _AVAILABILITY,
    "aps": 'sum("aps")',
    "aps_up": 'sum("aps_up")',
    "clients_mean": 'sum("clients_mean")',
    "clients_max": 'sum("clients_max")',
    "receive_bytes": 'sum("receive_bytes")',
    "transmit_bytes": 'sum("transmit_bytes")',
    "points": 'count("aps")',  # every point has aps; 0 for an hour without any
}


def _hourly(select: str, *columns: str, group_by: str) -> str:
    """``SELECT select`` over the district-hours of the rollups: a subquery
    with ``columns`` (of ``_HOURLY_COLUMNS``) summed over each hour's points.

    fill(0) is what makes absent fields count as 0 (see ``_AVAILABILITY``);
    the hours it invents, with no point at all, are dropped by ``points > 0``.
    """
    summed = ", ".join(f'{_HOURLY_COLUMNS[name]} AS "{name}"' for name in (*columns, "points"))
    hours = f'SELECT {summed} {_FROM} GROUP BY time(1h), "district" fill(0)'
    outer = f'FROM ({hours}) WHERE "points" > 0 AND $timeFilter GROUP BY {group_by}'
    return f"SELECT {select} {outer}"


_PER_BUCKET = 'time($__interval), "district" fill(none)'


@dataclass(frozen=True, slots=True)
class PlannerPanel:
    """One panel: ``title``, its Grafana ``unit`` and ``kind``, and its InfluxQL."""

    title: str
    unit: str
    kind: str  # "timeseries" or "table"
    influxql: str
    description: str


PANELS: tuple[PlannerPanel, ...] = (
    PlannerPanel(
        "Availability by district",
        "percentunit",
        "timeseries",
        _hourly('mean("availability_ratio")', "availability_ratio", group_by=_PER_BUCKET),
        "Share of AP-polls that found the AP up, averaged over the hours of each bucket.",
    ),
    PlannerPanel(
        "Clients by district (mean)",
        "short",
        "timeseries",
        _hourly('mean("clients_mean")', "clients_mean", group_by=_PER_BUCKET),
        "Associated clients summed over the district's APs, averaged over each bucket.",
    ),
    PlannerPanel(
        "Peak clients by district",
        "short",
        "timeseries",
        _hourly('max("clients_max")', "clients_max", group_by=_PER_BUCKET),
        "The most clients any single poll found in the district within each bucket "
        "(with shards, the sum of the shards' peaks of an hour: an upper bound).",
    ),
    PlannerPanel(
        "Traffic by district",
        "decbytes",
        "timeseries",
        f'SELECT sum("receive_bytes") AS "received", sum("transmit_bytes") AS "transmitted" '
        f"{_FROM} GROUP BY {_PER_BUCKET}",
        "Bytes the district's AP uplinks received and transmitted in each bucket.",
    ),
    PlannerPanel(
        "Access points by district",
        "short",
        "timeseries",
        _hourly(
            'last("aps") AS "aps", mean("aps_up") AS "aps_up"',
            "aps",
            "aps_up",
            group_by=_PER_BUCKET,
        ),
        "APs in the district and the mean number of them up.",
    ),
    PlannerPanel(
        "City clients (hourly mean)",
        "short",
        "timeseries",
        f'SELECT sum("clients_mean") {_FROM} GROUP BY time(1h) fill(none)',
        "Clients over all selected districts, hour by hour.",
    ),
    PlannerPanel(
        "District summary",
        "short",
        "table",
        _hourly(
            'mean("availability_ratio") AS "availability", max("clients_max") AS "peak_clients", '
            'sum("receive_bytes") AS "received", sum("transmit_bytes") AS "transmitted"',
            "availability_ratio",
            "clients_max",
            "receive_bytes",
            "transmit_bytes",
            group_by='"district"',
        ),
        "The whole time range per district: availability, peak clients and traffic.",
    ),
)


def _regex_value(districts: Sequence[str]) -> str:
    """Grafana's regex format of a multi-value variable: ``(A|B)``, metacharacters escaped."""
    escaped = [re.sub(r"([\\^$.|?*+()\[\]{}/])", r"\\\1", name) for name in districts]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def render(influxql: str, start_s: int, end_s: int, interval: str, districts: Sequence[str]) -> str:
    """``influxql`` with Grafana's macros expanded, e.g. for the range
    [start_s, end_s] (Unix seconds), buckets of ``interval`` (``"1d"``) and
    the selected ``districts``."""
    time_filter = f"time >= {start_s * 1000}ms and time <= {end_s * 1000}ms"
    return (
        influxql.replace("$timeFilter", time_filter)
        .replace("$__interval", interval)
        .replace("$district", _regex_value(districts))
    )
