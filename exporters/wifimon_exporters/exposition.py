"""Prometheus exposition text, rendered from a snapshot in one pass.

Text format 0.0.4 and OpenMetrics 1.0.0 share the sample lines; only the
HELP/TYPE headers differ, so each family is rendered once to bytes and a body
in either format is a join. Rendering yields the GIL regularly so that the
event loop (SNMP I/O) and scrape threads keep running during a large render.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from wifimon.catalogue import BY_NAME, CATALOGUE, Entity, Kind, Metric
from wifimon.snapshot import HistogramValue, Sample, Snapshot

log = logging.getLogger("wifimon.exporters.prometheus")

# Samples rendered between voluntary GIL hand-offs (~1 ms of work).
GIL_YIELD_EVERY = 1000

T = TypeVar("T")
_CATALOGUE_ORDER = {metric.name: index for index, metric in enumerate(CATALOGUE)}


def format_value(value: float) -> str:
    """A sample value as Prometheus parses it: ``3``, ``0.25``, ``+Inf``, ``NaN``.

    Ints are printed exactly (no ``.0``); floats use ``repr``, the shortest
    text that reads back to the same float64.
    """
    if type(value) is int:  # not isinstance: bool would print as "True"
        return str(value)
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return repr(number)


def format_bound(bound: float) -> str:
    """A histogram ``le`` value in Go's float style, as client_python writes it.

    ``1`` becomes ``1.0`` so the ``le`` label is the same series in the text
    and OpenMetrics formats.
    """
    return format_value(float(bound))


def escape_label_value(value: str) -> str:
    r"""Escape ``\``, ``"`` and newline, e.g. ``a"b`` becomes ``a\"b``."""
    # The common value needs no escaping; checking first is ~3x faster than
    # three unconditional replace() calls over 10^5..10^6 values per render.
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def _escape_help(text: str, openmetrics: bool) -> str:
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
    # Text 0.0.4 leaves quotes in HELP alone; OpenMetrics escapes them.
    return escaped.replace('"', '\\"') if openmetrics else escaped


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family, UTF-8: headers per format, sample lines shared by both.

    Bytes per family, so building a body is one ``b"".join`` (a memcpy) and
    no encode of the whole exposition holds the GIL for tens of ms.
    """

    text_header: bytes
    openmetrics_header: bytes
    body: bytes


def _headers(metric: Metric) -> tuple[str, str]:
    """``# HELP``/``# TYPE`` lines for text 0.0.4 and for OpenMetrics."""
    kind = "gauge" if metric.kind is Kind.INFO else metric.kind.value
    text = f"# HELP {metric.name} {_escape_help(metric.help, False)}\n"
    text += f"# TYPE {metric.name} {kind}\n"
    family = metric.name
    if metric.kind is Kind.COUNTER:
        # OpenMetrics names the family without the `_total` its samples carry.
        if metric.name.endswith("_total"):
            family = metric.name.removesuffix("_total")
        else:
            kind = "unknown"
    om = f"# HELP {family} {_escape_help(metric.help, True)}\n# TYPE {family} {kind}\n"
    if metric.unit and family.endswith(f"_{metric.unit}"):
        om += f"# UNIT {family} {metric.unit}\n"
    return text, om


_LabelCaches = dict[tuple[str, ...], dict[tuple[str, ...], str]]
# The label texts of the previous render, by label names then label values.
# A fleet's label sets hardly change between polls (values do), so most are
# found here instead of formatted again; a render keeps only what it used,
# so APs that left stop costing memory one render later. Formatting is a
# pure function of names and values: a race between two renders can only
# lose entries, never serve a wrong one.
_previous_labels: _LabelCaches = {}


class _LabelFormatter:
    """Formats ``{ap="a1",site="s"}`` once per distinct label set.

    The same AP label values recur in a dozen metrics, so memoising the
    formatted text saves most of the escaping and joining; texts of the
    previous render are reused. One cache per tuple of label names, so a
    family looks its cache up once.
    """

    def __init__(self, previous: _LabelCaches | None = None) -> None:
        self.caches: _LabelCaches = {}
        self._previous = previous or {}
        self.malformed = 0

    def lines(self, metric: Metric, series: Iterable[Sample]) -> str:
        """The family's sample lines, e.g. ``wifimon_ap_up{ap="a1",...} 1``."""
        cache = self.caches.setdefault(metric.labels, {})
        known = self._previous.get(metric.labels, {})
        name, out = metric.name, []
        for sample in _yielding_gil(series):
            labels = cache.get(sample.labels)
            if labels is None:
                if len(sample.labels) != len(metric.labels):
                    self.malformed += 1
                    continue
                labels = known.get(sample.labels)
                if labels is None:
                    labels = _format_labels(metric.labels, sample.labels)
                cache[sample.labels] = labels
            value = sample.value
            out.append(f"{name}{labels} {value if type(value) is int else format_value(value)}\n")
        return "".join(out)


def _format_labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    pairs = ",".join(f'{n}="{escape_label_value(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}" if pairs else ""


def _yielding_gil(items: Iterable[T]) -> Iterator[T]:
    """``items``, letting other threads run every ``GIL_YIELD_EVERY`` items.

    Rendering shares the GIL with the event loop (SNMP I/O) and the HTTP
    threads. Each of their system calls gives the GIL away, and taking it back
    from a busy thread waits up to the 5 ms switch interval; a scrape needs
    dozens of such hand-offs. Measured with 283,500 series: worst event-loop
    lag during a render 6 ms with this, 11-30 ms without.
    """
    for count, item in enumerate(items, 1):
        if count % GIL_YIELD_EVERY == 0:
            time.sleep(0)
        yield item


def _group(snapshot: Snapshot) -> dict[str, dict[tuple[str, ...], Sample]]:
    """Samples by metric name, then by label values; the newest poll's wins.

    Duplicates happen when two targets report the same series (an AP seen on
    two controllers during a roam). Visiting targets oldest poll first and
    letting later samples overwrite keeps one sample per series, cheaply.
    """
    groups: dict[str, dict[tuple[str, ...], Sample]] = {}
    targets = sorted(snapshot.targets.values(), key=lambda target: target.started)
    for samples in [*(target.samples for target in targets), snapshot.daemon]:
        for sample in _yielding_gil(samples):
            series = groups.get(sample.metric.name)
            if series is None:
                series = groups[sample.metric.name] = {}
            series[sample.labels] = sample
    return groups


def _histogram_lines(name: str, histogram: HistogramValue) -> str:
    buckets = sorted(histogram.buckets)
    if not buckets or not math.isinf(buckets[-1][0]):
        # Prometheus requires the +Inf bucket; it always equals the count.
        buckets.append((math.inf, histogram.count))
    lines = [f'{name}_bucket{{le="{format_bound(le)}"}} {count}\n' for le, count in buckets]
    lines.append(f"{name}_sum {format_value(histogram.total)}\n")
    lines.append(f"{name}_count {histogram.count}\n")
    return "".join(lines)


def _histogram_metric(name: str) -> Metric:
    known = BY_NAME.get(name)
    if known is not None:
        return known
    # Not in the catalogue (a test, a newer daemon): still render it.
    return Metric(name, Kind.HISTOGRAM, Entity.DAEMON, (), f"{name} histogram.")


def _order(name: str) -> tuple[int, str]:
    """Catalogue order first, anything else after it by name."""
    return _CATALOGUE_ORDER.get(name, len(_CATALOGUE_ORDER)), name


def render_families(snapshot: Snapshot) -> list[Family]:
    """Every family in the snapshot, in catalogue order, each rendered once."""
    global _previous_labels  # noqa: PLW0603 - the cross-render cache, see its comment
    formatter = _LabelFormatter(_previous_labels)
    bodies: dict[str, tuple[Metric, str]] = {}
    for name, series in _group(snapshot).items():
        metric = next(iter(series.values())).metric
        bodies[name] = (metric, formatter.lines(metric, series.values()))
    _previous_labels = formatter.caches
    if formatter.malformed:
        log.warning(
            "dropped %d samples whose label count differs from the catalogue", formatter.malformed
        )
    for name, histogram in snapshot.histograms.items():
        bodies[name] = (_histogram_metric(name), _histogram_lines(name, histogram))
    families = []
    for name in sorted(bodies, key=_order):
        metric, body = bodies[name]
        text_header, om_header = _headers(metric)
        families.append(Family(text_header.encode(), om_header.encode(), body.encode()))
    return families


def join_families(families: Iterable[Family], openmetrics: bool) -> bytes:
    parts: list[bytes] = []
    for family in families:
        parts += (family.openmetrics_header if openmetrics else family.text_header, family.body)
    if openmetrics:
        parts.append(b"# EOF\n")
    return b"".join(parts)


def render(snapshot: Snapshot) -> bytes:
    """The snapshot in Prometheus text format 0.0.4, UTF-8.

    >>> render(Snapshot())
    b''
    """
    return join_families(render_families(snapshot), openmetrics=False)


def render_openmetrics(snapshot: Snapshot) -> bytes:
    """The snapshot in OpenMetrics 1.0.0 text, ending in ``# EOF``."""
    return join_families(render_families(snapshot), openmetrics=True)
