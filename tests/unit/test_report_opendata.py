"""Open data: district rows, small counts suppressed, a data dictionary for every column."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wifimon.report.compute import Figures
from wifimon.report.opendata import COLUMNS, period_bounds, record, write_opendata

START, END = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)


def test_a_busy_district_is_published_in_full() -> None:
    row = record("Gare", Figures(4, 0.9, 12.34567, 30, 1e9, 2e9), START, END, threshold=5)
    assert row == {
        "period_start": "2024-05-01T00:00:00+00:00",
        "period_end": "2024-06-01T00:00:00+00:00",
        "district": "Gare",
        "aps": 4,
        "availability_ratio": 0.9,
        "clients_mean": 12.346,
        "clients_peak": 30,
        "receive_bytes": 1_000_000_000,
        "transmit_bytes": 2_000_000_000,
        "suppressed": False,
    }


def test_small_counts_are_suppressed_below_the_threshold() -> None:
    quiet = Figures(2, 1.0, 1.5, 4, 1000, 2000)
    row = record("Doller", quiet, START, END, threshold=5)
    assert row["suppressed"] is True
    usage = ("clients_mean", "clients_peak", "receive_bytes", "transmit_bytes")
    assert [row[k] for k in usage] == [None, None, None, None]
    assert (row["aps"], row["availability_ratio"]) == (2, 1.0)  # infrastructure stays public
    assert record("Doller", quiet, START, END, threshold=4)["suppressed"] is False


def test_files_and_dictionary(tmp_path: Path) -> None:
    rows = [
        record("Gare", Figures(4, 0.9, 12, 30, 1e9, 2e9), START, END, 5),
        record("Doller", Figures(1, 1.0, 0.2, 1, 10, 20), START, END, 5),
    ]
    paths = write_opendata(rows, COLUMNS, 5, tmp_path)
    assert [p.name for p in paths] == ["usage.csv", "usage.json", "data-dictionary.json"]
    with paths[0].open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == [c.name for c in COLUMNS]
    assert "ap" not in table[0]  # no AP identifiers unless asked for
    assert table[1]["clients_peak"] == ""
    assert table[1]["suppressed"] == "True"
    assert json.loads(paths[1].read_text())[1]["clients_peak"] is None
    dictionary = json.loads(paths[2].read_text())
    assert [c["name"] for c in dictionary["columns"]] == list(table[0])
    assert all(c["description"] for c in dictionary["columns"])
    assert "fewer than 5" in dictionary["suppression"]


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("month", datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)),
        ("week", datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 11, tzinfo=UTC)),
        ("day", datetime(2024, 3, 12, tzinfo=UTC), datetime(2024, 3, 13, tzinfo=UTC)),
    ],
)
def test_the_last_complete_period(period: str, start: datetime, end: datetime) -> None:
    now = datetime(2024, 3, 13, 15, 30, tzinfo=UTC)  # a Wednesday
    assert period_bounds(period, now) == (start, end)


def test_an_unknown_period_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown period"):
        period_bounds("fortnight", datetime(2024, 3, 13, tzinfo=UTC))
