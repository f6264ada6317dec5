"""District-level usage for a city's open-data portal: CSV, JSON and a data dictionary.

No AP identifiers unless asked for, and small counts suppressed: where a
district (or AP) had fewer than ``threshold`` clients at its busiest, its
client and traffic figures are left empty so no person can be singled out.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from wifimon.report.compute import Figures, figures
from wifimon.report.sources import open_source

DEFAULT_THRESHOLD = 5
PERIODS = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    unit: str
    description: str


COLUMNS = (
    Column("period_start", "string", "ISO 8601 UTC", "First moment of the period."),
    Column("period_end", "string", "ISO 8601 UTC", "End of the period (excluded)."),
    Column("district", "string", "", "City district the access points stand in."),
    Column("aps", "integer", "access points", "Public Wi-Fi access points in the district."),
    Column("availability_ratio", "number", "ratio 0..1",
           "Share of the time the access points were working."),
    Column("clients_mean", "number", "devices",
           "Devices connected at a time, on average. Empty when suppressed."),
    Column("clients_peak", "number", "devices",
           "Most devices connected at the same moment. Empty when suppressed."),
    Column("receive_bytes", "integer", "bytes",
           "Data received by the access points (uploaded by visitors). Empty when suppressed."),
    Column("transmit_bytes", "integer", "bytes",
           "Data sent by the access points (downloaded by visitors). Empty when suppressed."),
    Column("suppressed", "boolean", "",
           "True when fewer devices than the threshold were ever connected at once, "
           "so the usage figures are withheld to protect privacy."),
)  # fmt: skip
AP_COLUMN = Column("ap", "string", "", "Access point identifier (only when published).")
SUPPRESSED = ("clients_mean", "clients_peak", "receive_bytes", "transmit_bytes")


def period_bounds(period: str, now: datetime) -> tuple[datetime, datetime]:
    """The last complete ``period`` (day, week from Monday, month) before ``now``, UTC."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return today - timedelta(days=1), today
    if period == "week":
        end = today - timedelta(days=today.weekday())
        return end - timedelta(days=7), end
    if period == "month":
        end = today.replace(day=1)
        return (end - timedelta(days=1)).replace(day=1), end
    raise ValueError(f"unknown period {period!r}: one of {', '.join(PERIODS)}")


def record(
    name: str, value: Figures, start: datetime, end: datetime, threshold: int
) -> dict[str, object]:
    """One published row; usage figures ``None`` when below ``threshold``."""
    hidden = value.clients_peak < threshold
    row: dict[str, object] = {
        "period_start": start.astimezone(UTC).isoformat(),
        "period_end": end.astimezone(UTC).isoformat(),
        "district": name,
        "aps": value.aps,
        "availability_ratio": round(value.availability_ratio, 6),
        "clients_mean": round(value.clients_mean, 3),
        "clients_peak": value.clients_peak,
        "receive_bytes": int(value.receive_bytes),
        "transmit_bytes": int(value.transmit_bytes),
        "suppressed": hidden,
    }
    if hidden:
        row.update(dict.fromkeys(SUPPRESSED))
    return row


def write_opendata(
    rows: list[dict[str, object]], columns: tuple[Column, ...], threshold: int, out: Path
) -> list[Path]:
    """``usage.csv``, ``usage.json`` and ``data-dictionary.json`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    names = [c.name for c in columns]
    paths = [out / "usage.csv", out / "usage.json", out / "data-dictionary.json"]
    with paths[0].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row[k] is None else row[k]) for k in names})
    paths[1].write_text(json.dumps([{k: row[k] for k in names} for row in rows], indent=1) + "\n")
    dictionary = {
        "title": "Public Wi-Fi usage by district",
        "suppression": f"Usage figures are withheld where fewer than {threshold} devices were "
        "ever connected at the same moment.",
        "columns": [
            {"name": c.name, "type": c.type, "unit": c.unit, "description": c.description}
            for c in columns
        ],
    }  # fmt: skip
    paths[2].write_text(json.dumps(dictionary, indent=1, ensure_ascii=False) + "\n")
    return paths


def run_opendata(  # noqa: PLR0917 - the command's options, one to one
    source: str,
    url: str,
    start: datetime,
    end: datetime,
    out: Path,
    progress: TextIO = sys.stderr,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    include_aps: bool = False,
    step: float | None = None,
) -> int:
    """District usage for [start, end) (with ``include_aps``, AP rows too) to ``out``."""
    begin, finish = start.timestamp(), end.timestamp()
    if finish <= begin:
        progress.write("error: the period is empty\n")
        return 2
    try:
        history = open_source(source, url, progress, step).history(begin, finish)
    except (OSError, RuntimeError, ValueError) as error:  # URLError is an OSError
        progress.write(f"error: {source} at {url}: {error}\n")
        return 1
    rows = [
        record(name, figures(points), start, end, threshold)
        for name, points in sorted(history.districts.items())
    ]
    columns: tuple[Column, ...] = COLUMNS
    if include_aps:
        columns = (*COLUMNS[:3], AP_COLUMN, *COLUMNS[3:])
        for row in rows:
            row["ap"] = ""
        for (ap, district), points in sorted(history.aps.items()):
            rows.append({**record(district, figures(points), start, end, threshold), "ap": ap})
    for path in write_opendata(rows, columns, threshold, out):
        progress.write(f"wrote {path}\n")
    return 0
