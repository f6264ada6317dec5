"""The report's files: CSV columns as issue 9 lists them, a self-contained HTML page."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

from tests.support.prometheus import free_tcp_port
from wifimon.report import run_opendata, run_report
from wifimon.report.compute import Figures, Report
from wifimon.report.render import change_text, human_bytes, render_html, write_csvs

GARE = Figures(2, 0.75, 7.5, 12, 1_500_000_000, 300_000)
GARE_BEFORE = Figures(2, 1.0, 6.0, 10, 1_000_000_000, 200_000)


def sample_report(*, with_aps: bool = True) -> Report:
    busiest: list[list[float | None]] = [[None] * 24 for _ in range(7)]
    busiest[0][9], busiest[4][18] = 3.0, 12.0
    return Report(
        start=1_717_200_000,
        end=1_717_200_000 + 7 * 86400,
        districts={"Gare": GARE, "Rebberg, Süd <b>": Figures(1, 1.0, 0.5, 1, 10, 20)},
        previous={"Gare": GARE_BEFORE},
        aps={("ap-1", "Gare"): Figures(1, 0.5, 3.0, 5, 1_000_000_000, 100)} if with_aps else {},
        busiest=busiest,
        hotspots=[(("ap-1", "Gare"), 0.82, 0.9)] if with_aps else [],
    )


def read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_csv_columns_are_the_issues(tmp_path: Path) -> None:
    report = sample_report()
    report.coverage = {"Gare": 0.25}  # Rebberg's is unknown: an empty cell
    districts, aps = write_csvs(report, tmp_path)
    columns = ["aps", "availability_ratio", "clients_mean", "clients_peak", "receive_bytes",
               "transmit_bytes"]  # fmt: skip
    assert read(districts)[0] == ["district", *columns, "coverage_ratio"]
    assert read(aps)[0] == ["ap", "district", *columns]
    assert read(districts)[1] == [
        "Gare", "2", "0.750000", "7.500", "12", "1500000000", "300000", "0.250000"
    ]  # fmt: skip
    assert read(districts)[2][0] == "Rebberg, Süd <b>"  # quoted by the csv module
    assert read(districts)[2][-1] == ""
    assert read(aps)[1][:3] == ["ap-1", "Gare", "1"]


def test_the_page_shows_coverage_or_says_why_not() -> None:
    report = sample_report()
    assert "Not available from this source" in render_html(report)
    report.coverage, report.previous_coverage = {"Gare": 0.25}, {"Gare": 0.5}
    html = render_html(report)
    assert "<title>Coverage by district</title>" in html
    assert ">25.0 %<" in html  # this period
    assert ">50.0 %<" in html  # the one before


def test_aps_csv_has_its_header_when_the_source_has_no_aps(tmp_path: Path) -> None:
    _, aps = write_csvs(sample_report(with_aps=False), tmp_path)
    assert len(read(aps)) == 1


def test_the_page_is_self_contained() -> None:
    html = render_html(sample_report())
    assert not re.search(r"https?://", html)
    assert "<script" not in html.lower()
    assert not re.search(r"<(link|img|iframe)\b", html, re.IGNORECASE)
    assert "url(" not in html
    assert html.count("<svg") == 5  # four bar charts and the heatmap


def test_the_page_speaks_plainly_with_units_and_change() -> None:
    html = render_html(sample_report())
    assert "Were the access points working?" in html
    assert "75.0 %" in html  # availability as a percentage
    assert "1.5 GB" in html
    assert "▲ up 25.0 %" in html  # clients 7.5 vs 6.0
    assert "Rebberg, Süd &lt;b&gt;" in html  # names are escaped
    assert "ap-1" in html  # the hotspot
    assert "Friday 18:00: 12.0 clients on average" in html


def test_the_page_says_when_hotspots_cannot_be_known() -> None:
    assert "Not available from this source" in render_html(sample_report(with_aps=False))


def test_plain_numbers() -> None:
    assert human_bytes(999) == "999 bytes"
    assert human_bytes(1_500_000) == "1.5 MB"
    assert human_bytes(2.5e15) == "2500.0 TB"
    assert change_text(90, 100) == "▼ down 10.0 %"
    assert change_text(100, 100) == "unchanged"
    assert change_text(5, 0) == "no earlier data"


def test_an_unreachable_source_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    port = free_tcp_port()  # nothing listens there
    progress = io.StringIO()
    start, end = datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 6, 2, tzinfo=UTC)
    status = run_report(
        "prometheus", f"http://127.0.0.1:{port}", start, end, None, tmp_path, progress
    )
    assert status == 1
    assert "error: prometheus at" in progress.getvalue()
    assert not (tmp_path / "report.html").exists()
    assert run_report("graphite", "http://127.0.0.1:1", start, end, None, tmp_path, progress) == 1
    assert run_report("prometheus", "http://127.0.0.1:1", end, start, None, tmp_path, progress) == 2
    assert (
        run_opendata("influxdb", f"http://127.0.0.1:{port}/db", start, end, tmp_path, progress) == 1
    )
