"""The planner dashboard's InfluxQL: district trends from ``wifimon_district_hourly``.

InfluxQL is what InfluxDB 1.x, 2.x (through its 1.x compatibility API and a
DBRP mapping) and 3.x all answer, and what Grafana's InfluxDB datasource
speaks in its InfluxQL mode. Every query reads only the hourly rollups the
daemon writes, so a year of a city costs a few thousand points per district.

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
        f'SELECT mean("availability_ratio") {_FROM} '
        'GROUP BY time($__interval), "district" fill(none)',
        "Share of AP-polls that found the AP up, averaged over the hours of each bucket.",
    ),
    PlannerPanel(
        "Clients by district (mean)",
        "short",
        "timeseries",
        f'SELECT mean("clients_mean") {_FROM} GROUP BY time($__interval), "district" fill(none)',
        "Associated clients summed over the district's APs, averaged over each bucket.",
    ),
    PlannerPanel(
        "Peak clients by district",
        "short",
        "timeseries",
        f'SELECT max("clients_max") {_FROM} GROUP BY time($__interval), "district" fill(none)',
        "The most clients any single poll found in the district within each bucket.",
    ),
    PlannerPanel(
        "Traffic by district",
        "decbytes",
        "timeseries",
        f'SELECT sum("receive_bytes") AS "received", sum("transmit_bytes") AS "transmitted" '
        f'{_FROM} GROUP BY time($__interval), "district" fill(none)',
        "Bytes the district's AP uplinks received and transmitted in each bucket.",
    ),
    PlannerPanel(
        "Access points by district",
        "short",
        "timeseries",
        f'SELECT last("aps") AS "aps", mean("aps_up") AS "aps_up" {_FROM} '
        'GROUP BY time($__interval), "district" fill(none)',
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
        'SELECT mean("availability_ratio") AS "availability", '
        'max("clients_max") AS "peak_clients", '
        'sum("receive_bytes") AS "received", sum("transmit_bytes") AS "transmitted" '
        f'{_FROM} GROUP BY "district"',
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
