"""A report as files: ``districts.csv``, ``aps.csv`` and a self-contained ``report.html``.

The HTML carries its style inline and its charts as inline SVG drawn here:
no script, no font or image fetched, so it opens offline, from a mail or a
USB stick, and prints as it shows.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TextIO

from wifimon.report.compute import FIGURES, Figures, Report, build_report, change, only_district
from wifimon.report.sources import open_source

DISTRICT_COLUMNS = ("district", *FIGURES, "coverage_ratio")
AP_COLUMNS = ("ap", "district", *FIGURES)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --- CSV ---------------------------------------------------------------------------


def _row(figures: Figures) -> list[str]:
    return [
        str(figures.aps),
        f"{figures.availability_ratio:.6f}",
        f"{figures.clients_mean:.3f}",
        f"{figures.clients_peak:g}",
        f"{figures.receive_bytes:.0f}",
        f"{figures.transmit_bytes:.0f}",
    ]


def write_csvs(report: Report, out: Path) -> list[Path]:
    """``districts.csv`` and ``aps.csv`` (header only when the source has no APs)."""
    out.mkdir(parents=True, exist_ok=True)
    districts, aps = out / "districts.csv", out / "aps.csv"
    with districts.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(DISTRICT_COLUMNS)
        for name, figures in report.districts.items():
            coverage = report.coverage.get(name)
            shown = "" if coverage is None else f"{coverage:.6f}"  # empty: not known
            writer.writerow([name, *_row(figures), shown])
    with aps.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(AP_COLUMNS)
        for (ap, district), figures in report.aps.items():
            writer.writerow([ap, district, *_row(figures)])
    return [districts, aps]


# --- plain-language numbers ----------------------------------------------------------


def human_bytes(value: float) -> str:
    """``1.5 GB`` (decimal units, as on an ISP's bill)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def percent(ratio: float) -> str:
    return f"{ratio * 100:.1f} %"


def change_text(current: float, previous: float) -> str:
    ratio = change(current, previous)
    if ratio is None:
        return "no earlier data"
    if abs(ratio) < 0.0005:
        return "unchanged"
    arrow = "▲ up" if ratio > 0 else "▼ down"
    return f"{arrow} {abs(ratio) * 100:.1f} %"


def day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%d %B %Y %H:%M UTC")


# --- SVG -----------------------------------------------------------------------------


def bar_chart(
    title: str, rows: Sequence[tuple[str, float, float]], label: Callable[[float], str]
) -> str:
    """Horizontal bars, this period (dark) over the previous one (light)."""
    width, bar_h, left = 640, 14, 170
    top = max((max(a, b) for _, a, b in rows), default=0) or 1
    height = 30 + len(rows) * (2 * bar_h + 10)
    parts = [
        f'<svg role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
    ]
    for i, (name, current, previous) in enumerate(rows):
        y = 20 + i * (2 * bar_h + 10)
        for j, (value, colour) in enumerate(((current, "#1f5f8b"), (previous, "#9ec5e0"))):
            w = (width - left - 90) * value / top
            parts.append(
                f'<rect x="{left}" y="{y + j * bar_h}" width="{w:.1f}" height="{bar_h - 2}" '
                f'fill="{colour}"/><text x="{left + w + 4:.1f}" y="{y + j * bar_h + 11}" '
                f'font-size="11">{escape(label(value))}</text>'
            )
        parts.append(f'<text x="4" y="{y + bar_h + 4}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def heatmap(cells: list[list[float | None]]) -> str:
    """Weekday x hour, darker = more clients; empty cells grey."""
    size, left, top = 22, 90, 20
    peak = max((v for row in cells for v in row if v is not None), default=0) or 1
    width, height = left + 24 * size + 10, top + 7 * size + 10
    parts = [
        f'<svg role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>Busiest hours by weekday</title>'
    ]
    for hour in range(0, 24, 3):
        parts.append(f'<text x="{left + hour * size}" y="14" font-size="11">{hour:02d}h</text>')
    for d, row in enumerate(cells):
        y = top + d * size
        parts.append(f'<text x="4" y="{y + 15}" font-size="12">{WEEKDAYS[d]}</text>')
        for hour, value in enumerate(row):
            fill = "#eeeeee" if value is None else _shade(value / peak)
            tip = "no data" if value is None else f"{value:.1f} clients on average"
            parts.append(
                f'<rect x="{left + hour * size}" y="{y}" width="{size - 2}" height="{size - 2}" '
                f'fill="{fill}"><title>{WEEKDAYS[d]} {hour:02d}:00: {tip}</title></rect>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _shade(level: float) -> str:
    light, dark = (255, 245, 235), (166, 54, 3)
    rgb = (round(a + (b - a) * level) for a, b in zip(light, dark, strict=True))
    return "#" + "".join(f"{c:02x}" for c in rgb)


# --- HTML ----------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}
td,th{padding:.25rem .6rem;border-bottom:1px solid #e4e4e4;text-align:right}
td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:.9rem}
.key span{display:inline-block;width:1rem;height:.8rem;margin:0 .3rem 0 1rem}
"""


def _summary(report: Report) -> str:
    now, before = report.city(), report.city(previous=True)
    rows = [
        ("Access points", str(now.aps), str(before.aps), change_text(now.aps, before.aps)),
        ("Time the access points were working", percent(now.availability_ratio),
         percent(before.availability_ratio),
         change_text(now.availability_ratio, before.availability_ratio)),
        ("Devices connected, on average", f"{now.clients_mean:.1f}", f"{before.clients_mean:.1f}",
         change_text(now.clients_mean, before.clients_mean)),
        ("Data downloaded by visitors (sent by the access points)",
         human_bytes(now.transmit_bytes), human_bytes(before.transmit_bytes),
         change_text(now.transmit_bytes, before.transmit_bytes)),
        ("Data uploaded by visitors (received by the access points)",
         human_bytes(now.receive_bytes), human_bytes(before.receive_bytes),
         change_text(now.receive_bytes, before.receive_bytes)),
    ]  # fmt: skip
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return (
        "<table><tr><th></th><th>This period</th><th>Previous period</th><th>Change</th></tr>"
        f"{body}</table>"
    )


def _district_table(report: Report) -> str:
    rows = []
    for name, now in report.districts.items():
        before = report.previous.get(name)
        versus = change_text(now.clients_mean, before.clients_mean if before else 0)
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{now.aps}</td><td>{percent(now.availability_ratio)}</td>"
            f"<td>{now.clients_mean:.1f}</td><td>{now.clients_peak:g}</td>"
            f"<td>{human_bytes(now.receive_bytes + now.transmit_bytes)}</td>"
            f"<td>{escape(versus)}</td></tr>"
        )
    return (
        "<table><tr><th>District</th><th>Access points</th><th>Working</th>"
        "<th>Devices, average</th><th>Devices, most at once</th><th>Data, both ways</th>"
        "<th>Devices vs previous period</th></tr>" + "".join(rows) + "</table>"
    )


def _coverage(report: Report) -> str:
    if not report.coverage:
        return (
            "<p>Not available from this source: it needs the district boundaries "
            "(districts_geojson) and a Prometheus source (the InfluxDB rollups do not "
            "keep coverage).</p>"
        )
    before = report.previous_coverage
    series = [(name, now, before.get(name, 0.0)) for name, now in sorted(report.coverage.items())]
    return bar_chart("Coverage by district", series, percent)


def _hotspots(report: Report) -> str:
    if not report.hotspots:
        note = "None: no access point's radio channel was busy most of the time."
        if not report.aps:
            note = "Not available from this source (it keeps district totals only)."
        return f"<p>{note}</p>"
    rows = "".join(
        f"<tr><td>{escape(ap)}</td><td>{escape(district)}</td><td>{percent(mean)}</td>"
        f"<td>{percent(share)}</td></tr>"
        for (ap, district), mean, share in report.hotspots
    )
    return (
        "<table><tr><th>Access point</th><th>District</th><th>Channel busy, average</th>"
        f"<th>Share of time 70 % busy or more</th></tr>{rows}</table>"
    )


def render_html(report: Report, title: str = "Public Wi-Fi report") -> str:
    """The whole page, self-contained."""

    def series(attr: str) -> list[tuple[str, float, float]]:
        return [
            (name, getattr(now, attr), getattr(report.previous.get(name, now), attr)
             if name in report.previous else 0.0)
            for name, now in report.districts.items()
        ]  # fmt: skip

    traffic = [
        (n, now.receive_bytes + now.transmit_bytes,
         (p.receive_bytes + p.transmit_bytes) if (p := report.previous.get(n)) else 0.0)
        for n, now in report.districts.items()
    ]  # fmt: skip
    key = (
        '<p class="key"><span style="background:#1f5f8b"></span>this period'
        '<span style="background:#9ec5e0"></span>previous period of the same length</p>'
    )
    sections = [
        f"<h1>{escape(title)}</h1>",
        f'<p>From {day(report.start)} to {day(report.end)}, compared with the same length '
        f"of time just before ({day(2 * report.start - report.end)} to {day(report.start)}).</p>",
        "<h2>At a glance</h2>", _summary(report),
        "<h2>Districts</h2>", _district_table(report),
        "<h2>Were the access points working?</h2>",
        "<p>Share of the time the district's access points were up (100 % = always).</p>", key,
        bar_chart("Availability by district", series("availability_ratio"), percent),
        "<h2>How many devices were connected?</h2>",
        "<p>Average number of phones, laptops and other devices connected at a time.</p>", key,
        bar_chart("Mean clients by district", series("clients_mean"), lambda v: f"{v:.1f}"),
        "<p>The most devices connected at the same moment.</p>", key,
        bar_chart("Peak clients by district", series("clients_peak"), lambda v: f"{v:g}"),
        "<h2>How much data went through?</h2>",
        "<p>Data uploaded and downloaded over the public Wi-Fi, in bytes (1 GB = 1,000 MB).</p>",
        key, bar_chart("Traffic by district", traffic, human_bytes),
        "<h2>When is the Wi-Fi busiest?</h2>",
        "<p>Average devices connected by day of the week and hour of the day (UTC); "
        "darker means busier.</p>", heatmap(report.busiest),
        "<h2>Where is the Wi-Fi crowded?</h2>",
        "<p>Access points whose radio channel was busy (70 % of the time or more) "
        "for at least half of the period: candidates for an extra access point nearby.</p>",
        _hotspots(report),
        "<h2>How much of each district has Wi-Fi?</h2>",
        "<p>Average share of the district's area within reach of a working access point "
        "(100 % = everywhere, all the time).</p>", key,
        _coverage(report),
        '<p class="note">Produced by wifimon.</p>',
    ]  # fmt: skip
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )


# --- the command ----------------------------------------------------------------------


def run_report(  # noqa: PLR0917 - the command's options, one to one
    source: str,
    url: str,
    start: datetime,
    end: datetime,
    district: str | None,
    out: Path,
    progress: TextIO = sys.stderr,
    *,
    step: float | None = None,
) -> int:
    """Query ``source`` (``prometheus``|``influxdb``) at ``url`` for [start, end)
    and the period of the same length before; write the three files to
    ``out``. Progress lines go to ``progress``. Returns an exit status."""
    begin, finish = start.timestamp(), end.timestamp()
    if finish <= begin:
        progress.write("error: --to must be after --from\n")
        return 2
    progress.write(f"this period: {day(begin)} .. {day(finish)}\n")
    try:
        reader = open_source(source, url, progress, step)
        current = only_district(reader.history(begin, finish), district)
        progress.write("previous period\n")
        previous = only_district(reader.history(2 * begin - finish, begin), district)
    except (OSError, RuntimeError, ValueError) as error:  # URLError is an OSError
        progress.write(f"error: {source} at {url}: {error}\n")
        return 1
    report = build_report(begin, finish, current, previous)
    written = write_csvs(report, out)
    html = out / "report.html"
    html.write_text(render_html(report), encoding="utf-8")
    for path in [*written, html]:
        progress.write(f"wrote {path}\n")
    return 0
