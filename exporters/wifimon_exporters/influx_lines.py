"""Snapshots as InfluxDB line protocol, following ``influx_schema``.

Samples of one measurement that share their tags and poll second become one
line with all their fields, e.g.
``wifimon_ap,ap=kiosk-1,district=Gare,site=station clients=7i,up=1i 1717171717``.
Timestamps are the poll time in whole seconds (written with precision ``s``).
Escaping follows the official influxdb-client's serializer; empty tags are
left out (line protocol has no empty tag value) and so are NaN and infinite
values, which line protocol cannot carry.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from wifimon.catalogue import Kind, Metric
from wifimon.snapshot import HistogramValue, Sample
from wifimon_exporters.influx_schema import (
    HISTOGRAM_FIELDS,
    FieldType,
    field_type,
    info_layout,
    measurement,
)

_ESCAPE_KEY = str.maketrans(
    {"\\": "\\\\", ",": r"\,", " ": r"\ ", "=": r"\=", "\n": r"\n", "\t": r"\t", "\r": r"\r"}
)
_ESCAPE_MEASUREMENT = str.maketrans(
    {"\\": "\\\\", ",": r"\,", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"}
)
_ESCAPE_STRING = str.maketrans({"\\": "\\\\", '"': r"\""})

Tags = tuple[tuple[str, str], ...]
# (measurement, sorted non-empty tags, timestamp in whole seconds)
LineKey = tuple[str, Tags, int]


def escape_key(text: str) -> str:
    """A tag key, tag value or field key, e.g. ``Old\\ Town`` for ``Old Town``."""
    return text.translate(_ESCAPE_KEY)


def format_value(value: float | str, kind: FieldType) -> str | None:
    """A field value of ``kind``: ``7i``, ``0.25``, ``"text"``; None if unwritable."""
    if kind == "string":
        return '"' + str(value).translate(_ESCAPE_STRING) + '"'
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if math.isnan(value) or math.isinf(value):
        return None
    if kind == "integer":
        return f"{round(value)}i"
    return repr(float(value))


def _tags(pairs: Iterable[tuple[str, str]]) -> Tags:
    return tuple(sorted((name, value) for name, value in pairs if value))


class LineBuilder:
    """Collects fields per line key; ``lines()`` renders them in first-seen order."""

    def __init__(self) -> None:
        self._fields: dict[LineKey, dict[str, str]] = {}

    def add(self, key: LineKey, name: str, value: float | str, kind: FieldType) -> None:
        text = format_value(value, kind)
        if text is not None:
            self._fields.setdefault(key, {})[name] = text

    def add_sample(self, sample: Sample) -> None:
        metric = sample.metric
        stamp = int(sample.timestamp)
        if metric.kind is Kind.INFO:
            self._add_info(metric, sample, stamp)
            return
        key = (measurement(metric), _tags(zip(metric.labels, sample.labels, strict=True)), stamp)
        self.add(key, metric.field, sample.value, field_type(metric))

    def add_histogram(self, metric: Metric, value: HistogramValue, stamp: int) -> None:
        key = (measurement(metric), (), stamp)
        totals = {"count": value.count, "sum": value.total}
        for suffix, kind in HISTOGRAM_FIELDS.items():
            self.add(key, f"{metric.field}_{suffix}", totals[suffix], kind)

    def _add_info(self, metric: Metric, sample: Sample, stamp: int) -> None:
        layout = info_layout(metric)
        labels = dict(zip(metric.labels, sample.labels, strict=True))
        key = (measurement(metric), _tags((name, labels[name]) for name in layout.tags), stamp)
        self.add(key, metric.field, sample.value, field_type(metric))
        for name in layout.strings:
            if labels.get(name):
                self.add(key, name, labels[name], "string")
        for name in layout.floats:
            if labels.get(name):
                self.add(key, name, labels[name], "float")

    def __len__(self) -> int:
        return len(self._fields)

    def lines(self) -> Iterator[str]:
        for (name, tags, stamp), fields in self._fields.items():
            if not fields:
                continue
            tag_text = "".join(f",{escape_key(k)}={escape_key(v)}" for k, v in tags)
            field_text = ",".join(f"{escape_key(k)}={v}" for k, v in fields.items())
            yield f"{name.translate(_ESCAPE_MEASUREMENT)}{tag_text} {field_text} {stamp}"


def encode_samples(samples: Iterable[Sample]) -> list[str]:
    """Line protocol for ``samples``, one line per measurement, tag set and second."""
    builder = LineBuilder()
    for sample in samples:
        builder.add_sample(sample)
    return list(builder.lines())
