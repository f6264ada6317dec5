"""The InfluxDB schema, derived from the metric catalogue (METRICS.md).

One measurement per entity (``wifimon_ap``, ``wifimon_radio``,
``wifimon_ssid``, ``wifimon_controller``, ``wifimon_target``,
``wifimon_daemon``); a metric's labels are its tags and its quantity
(``Metric.field``) is a field of that measurement. A field's type is fixed
here once and never changes: counters and counts are integers, quantities
with a unit of time, ratio or dBm are floats (17 and 17.0 dBm alike).

Info metrics are measurements of their own (``wifimon_ap_info``,
``wifimon_build_info``), since their tag sets are not the entity's. Of
``wifimon_ap_info``'s labels, those planners group by (vendor, model,
controller) are tags next to ap, site and district; the per-AP attributes
(name, serial, AP MAC, IP, firmware) are string fields and the position is
float fields, so a firmware upgrade or a new IP changes a value, not the
series. None of them identifies a client: the MAC is the AP's.

``python -m wifimon_exporters.influx_schema`` rewrites the committed
contract ``influx_schema.json``; a test fails while it is stale.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wifimon.catalogue import CATALOGUE, Kind, Metric

FieldType = Literal["integer", "float", "string"]

CONTRACT_PATH = Path(__file__).with_name("influx_schema.json")
PREFIX = "wifimon_"
# Quantities measured on a continuous scale; everything else is a count.
FLOAT_UNITS = frozenset({"seconds", "ratio", "dbm"})
ROLLUP_MEASUREMENT = "wifimon_district_hourly"
# ``shard`` only on the points of a sharded daemon (``--shard 2/3``: "2"), so
# the shards' points of one district and hour are separate series.
ROLLUP_TAGS = ("district", "shard")
ROLLUP_FIELDS: dict[str, FieldType] = {
    "aps": "integer",
    "aps_up": "integer",
    "availability_ratio": "float",
    "clients_mean": "float",
    "clients_max": "integer",
    "receive_bytes": "integer",
    "transmit_bytes": "integer",
    # Added with the shard tag, last so older lines keep their prefix: what
    # availability is recomputed from across shards, sum(up) / sum(ap).
    "ap_polls": "integer",
    "up_polls": "integer",
}
HISTOGRAM_FIELDS: dict[str, FieldType] = {"count": "integer", "sum": "float"}


@dataclass(frozen=True, slots=True)
class InfoLayout:
    """How an info metric's labels land: as tags, string fields or float fields."""

    tags: tuple[str, ...]
    strings: tuple[str, ...] = ()
    floats: tuple[str, ...] = ()


INFO_LAYOUTS: dict[str, InfoLayout] = {
    "wifimon_ap_info": InfoLayout(
        tags=("ap", "site", "district", "vendor", "model", "controller"),
        strings=("name", "serial", "mac", "ip", "firmware"),
        floats=("latitude", "longitude"),
    ),
    "wifimon_build_info": InfoLayout(tags=("version", "python")),
}


def measurement(metric: Metric) -> str:
    """E.g. ``wifimon_radio`` for ``wifimon_radio_clients``; info metrics keep their name."""
    if metric.kind is Kind.INFO:
        return metric.name
    return PREFIX + metric.entity.value


def field_type(metric: Metric) -> FieldType:
    """``integer`` for counters, info values and unitless counts, else ``float``."""
    if metric.kind in (Kind.COUNTER, Kind.INFO):
        return "integer"
    return "float" if metric.unit in FLOAT_UNITS else "integer"


def info_layout(metric: Metric) -> InfoLayout:
    """The layout of an info metric; one without an entry keeps all labels as tags."""
    return INFO_LAYOUTS.get(metric.name, InfoLayout(tags=metric.labels))


def _metric_fields(metric: Metric) -> Iterator[tuple[str, FieldType]]:
    if metric.kind is Kind.HISTOGRAM:
        for suffix, kind in HISTOGRAM_FIELDS.items():
            yield f"{metric.field}_{suffix}", kind
        return
    yield metric.field, field_type(metric)
    if metric.kind is Kind.INFO:
        layout = info_layout(metric)
        yield from ((name, "string") for name in layout.strings)
        yield from ((name, "float") for name in layout.floats)


def contract() -> dict[str, dict[str, dict[str, str] | list[str]]]:
    """Every measurement with its tag keys and typed fields, e.g.
    ``{"wifimon_ap": {"tags": ["ap", "district", "site"], "fields": {"clients": "integer"}}}``."""
    found: dict[str, tuple[set[str], dict[str, FieldType]]] = {}
    for metric in CATALOGUE:
        tags, fields = found.setdefault(measurement(metric), (set(), {}))
        tags.update(info_layout(metric).tags if metric.kind is Kind.INFO else metric.labels)
        for name, kind in _metric_fields(metric):
            if fields.setdefault(name, kind) != kind:
                raise ValueError(f"{measurement(metric)}.{name} would change type")
    found[ROLLUP_MEASUREMENT] = (set(ROLLUP_TAGS), dict(ROLLUP_FIELDS))
    return {
        name: {"tags": sorted(tags), "fields": dict(sorted(fields.items()))}
        for name, (tags, fields) in sorted(found.items())
    }


def render_contract() -> str:
    return json.dumps(contract(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    CONTRACT_PATH.write_text(render_contract(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
