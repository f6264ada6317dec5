"""The city's past as files: OpenMetrics for Prometheus, line protocol for InfluxDB.

``write_history`` walks the same model the live agents serve, one AP at a
time over every step, turns each moment into what the daemon would have
exported (``exported.ApExporter``: catalogue names, labels, reconciled
counters) and streams it out:

- ``wifimon-history.om``: OpenMetrics text for
  ``promtool tsdb create-blocks-from openmetrics FILE DIR``. OpenMetrics
  wants each family's samples together and each series' samples together
  in time order, so lines go first to one spool file per family and
  sub-series (radio, SSID), joined at the end.
- ``wifimon-history.lp``: InfluxDB line protocol (nanosecond timestamps),
  one measurement per entity as METRICS.md says, plus the planners' hourly
  ``wifimon_district_hourly`` rollup.

Both also hold each quartier's coverage (``coverage_history``), as the
demo daemon exports it with the shipped quartier polygons.

Memory stays bounded whatever the city: one AP's counter state at a time,
and per-step sums per district and controller.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from wifimon.catalogue import BY_NAME, Kind, Metric
from wifimon.simulator.city import AccessPoint, City
from wifimon.simulator.coverage_history import CoverageHistory
from wifimon.simulator.exported import ApExporter, Exported
from wifimon.simulator.load import state
from wifimon.simulator.rollup import Rollup

OPENMETRICS_FILE = "wifimon-history.om"
LINE_PROTOCOL_FILE = "wifimon-history.lp"

# What dashboards and planners chart; "all" adds every static radio gauge
# and counter (about twice the size).
CORE_METRICS = frozenset({
    "wifimon_ap_info", "wifimon_ap_up", "wifimon_ap_clients", "wifimon_ap_uptime_seconds",
    "wifimon_ap_receive_bytes_total", "wifimon_ap_transmit_bytes_total",
    "wifimon_radio_clients", "wifimon_radio_channel_utilization_ratio",
    "wifimon_radio_noise_floor_dbm", "wifimon_ssid_clients",
})  # fmt: skip
INTEGER_GAUGES = frozenset({
    "wifimon_ap_up", "wifimon_ap_clients", "wifimon_radio_clients", "wifimon_ssid_clients",
    "wifimon_radio_channel", "wifimon_controller_aps", "wifimon_target_up",
    "wifimon_district_area_square_meters", "wifimon_district_unassigned_aps",
})  # fmt: skip
NANOSECONDS = 1_000_000_000


def steps(start: float, end: float, step: float) -> list[float]:
    """Whole-second moments on the ``step`` grid in [start, end]."""
    first = math.ceil(start / step) * step
    count = int((end - first) // step) + 1
    return [float(math.floor(first + i * step)) for i in range(max(0, count))]


def write_history(
    city: City, start: float, end: float, step: float, out_dir: Path, *, metrics: str = "core"
) -> list[Path]:
    """Write both files for [start, end] every ``step`` seconds; returns their paths."""
    wanted = CORE_METRICS if metrics == "core" else frozenset(BY_NAME)
    moments = steps(start, end, step)
    out_dir.mkdir(parents=True, exist_ok=True)
    om_path, lp_path = out_dir / OPENMETRICS_FILE, out_dir / LINE_PROTOCOL_FILE
    rollup = Rollup(city, moments)
    coverage = CoverageHistory(city, moments)
    with ExitStack() as stack:
        spool = stack.enter_context(
            _Spool(Path(stack.enter_context(tempfile.TemporaryDirectory())))
        )
        lines = stack.enter_context(lp_path.open("w", encoding="utf-8", newline="\n"))
        for ap in city.aps:
            _write_ap(city, ap, moments, step, wanted, spool, lines, (rollup, coverage))
        for sample_time, sample in (*rollup.samples(), *coverage.samples()):
            spool.write(sample, sample_time)
            _write_line(lines, [sample], sample_time)
        for line in rollup.hourly_lines():
            lines.write(line)
        spool.join(om_path)
    return [om_path, lp_path]


def _write_ap(  # noqa: PLR0917 - one AP's pass over every moment
    city: City,
    ap: AccessPoint,
    moments: list[float],
    step: float,
    wanted: frozenset[str],
    spool: _Spool,
    lines: IO[str],
    sums: tuple[Rollup, CoverageHistory],
) -> None:
    exporter = ApExporter(city.seed, ap, step)
    for index, moment in enumerate(moments):
        samples = exporter.samples(state(city.seed, ap, moment), moment)
        for accumulator in sums:
            accumulator.add(ap, index, samples)
        kept = [sample for sample in samples if sample.name in wanted]
        for sample in kept:
            spool.write(sample, moment)
        _write_line(lines, kept, moment)


# --- OpenMetrics -----------------------------------------------------------


def openmetrics_header(metric: Metric) -> str:
    """``# HELP``/``# TYPE`` (and ``# UNIT``) as wifimon's exporter writes them:
    an info metric is a gauge, a counter family drops ``_total``."""
    family, kind = metric.name, "gauge" if metric.kind is Kind.INFO else metric.kind.value
    if metric.kind is Kind.COUNTER:
        family = metric.name.removesuffix("_total")
    help_text = metric.help.replace("\\", "\\\\").replace('"', '\\"')
    header = f"# HELP {family} {help_text}\n# TYPE {family} {kind}\n"
    if metric.unit and family.endswith(f"_{metric.unit}"):
        header += f"# UNIT {family} {metric.unit}\n"
    return header


def format_number(value: float) -> str:
    return str(value) if type(value) is int else repr(float(value))


def _labels(metric: Metric, values: tuple[str, ...]) -> str:
    pairs = ",".join(
        f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for name, value in zip(metric.labels, values, strict=True)
    )
    return "{" + pairs + "}" if pairs else ""


class _Spool:
    """One spool file per (family, sub-series position), joined in catalogue order."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: dict[tuple[str, str], IO[str]] = {}
        self._labels: dict[tuple[str, tuple[str, ...]], str] = {}

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self.files.values():
            handle.close()

    def write(self, sample: Exported, moment: float) -> None:
        metric = BY_NAME[sample.name]
        # Radio, SSID, state: the labels after the AP's three tell sub-series apart.
        key = (sample.name, "\x1f".join(sample.labels[3:] if len(sample.labels) > 3 else ()))
        handle = self.files.get(key)
        if handle is None:
            path = self.directory / f"{len(self.files):04d}.om"
            handle = self.files[key] = path.open("w", encoding="utf-8", newline="\n")
        labels = self._labels.get((sample.name, sample.labels))
        if labels is None:
            if len(self._labels) > 100_000:  # bound the cache, not the output
                self._labels.clear()
            labels = self._labels[(sample.name, sample.labels)] = _labels(metric, sample.labels)
        handle.write(f"{sample.name}{labels} {format_number(sample.value)} {int(moment)}\n")

    def join(self, target: Path) -> None:
        order = {name: index for index, name in enumerate(BY_NAME)}
        with target.open("w", encoding="utf-8", newline="\n") as out:
            families: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for key in self.files:
                families[key[0]].append(key)
            for name in sorted(families, key=lambda n: order[n]):
                out.write(openmetrics_header(BY_NAME[name]))
                for key in families[name]:
                    handle = self.files[key]
                    handle.flush()
                    with Path(handle.name).open(encoding="utf-8") as part:
                        shutil.copyfileobj(part, out, 1 << 20)
            out.write("# EOF\n")


# --- InfluxDB line protocol ---------------------------------------------------


def _escape_tag(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def field_value(name: str, value: float) -> str:
    """Counters and counts are integer fields, everything else float, so a
    field's type never changes (Aruba's 17.0 dBm and Cisco's 17 alike)."""
    metric = BY_NAME[name]
    if metric.kind is Kind.COUNTER or name in INTEGER_GAUGES:
        return f"{int(value)}i"
    return repr(float(value))


def _write_line(lines: IO[str], samples: list[Exported], moment: float) -> None:
    """One line per (measurement, tag set) holding all of its fields."""
    grouped: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
    for sample in samples:
        metric = BY_NAME[sample.name]
        if metric.kind is Kind.INFO:
            continue  # descriptive labels are no time series in InfluxDB
        key = (f"wifimon_{metric.entity.value}", metric.labels, sample.labels)
        grouped.setdefault(key, []).append(
            f"{metric.field}={field_value(sample.name, sample.value)}"
        )
    timestamp = int(moment) * NANOSECONDS
    for (measurement, names, values), fields in grouped.items():
        tags = "".join(f",{n}={_escape_tag(v)}" for n, v in zip(names, values, strict=True) if v)
        lines.write(f"{measurement}{tags} {','.join(fields)} {timestamp}\n")


def iter_lines(path: Path) -> Iterator[str]:
    """The lines of a written file (for tests and checks), without newlines."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield line.rstrip("\n")
