"""The inventory CSV: one access point per row, header row first.

Columns may come in any order; unknown, duplicate or unnamed columns are
errors. Empty cells mean "not set". Cells are validated by the same
``AccessPoint`` model as the YAML ``access_points`` entries, and every issue
names the file, the row's line and the column, e.g.
``aps.csv:7: mac: must be a MAC address like aa:bb:cc:dd:ee:ff, ...``.
The file is read as UTF-8; a leading byte order mark (Excel) is ignored.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from wifimon.config.errors import ConfigIssue, list_choices, suggest
from wifimon.config.location import Located, Origin, fixed_line
from wifimon.config.schema import AccessPoint
from wifimon.config.validation import validate

CSV_COLUMNS = (
    "ap",
    "name",
    "host",
    "port",
    "credentials",
    "profile",
    "controller",
    "mac",
    "site",
    "district",
    "latitude",
    "longitude",
    "coverage_radius_m",
)


def read_inventory_csv(
    path: Path, display: str
) -> tuple[list[Located[AccessPoint]], list[ConfigIssue]]:
    """Every valid row and every issue; ``OSError`` if the file cannot be read."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [], [ConfigIssue(display, line, "", "inventory file is not UTF-8 text")]
    return parse_inventory_csv(text, display)


def parse_inventory_csv(
    text: str, display: str
) -> tuple[list[Located[AccessPoint]], list[ConfigIssue]]:
    parser = _Parser(display)
    reader = csv.reader(io.StringIO(text, newline=""))
    end_line = 0
    try:
        for row in reader:
            # line_num is where a record ends; a quoted cell may span lines.
            start_line, end_line = end_line + 1, reader.line_num
            parser.feed(row, start_line)
    except csv.Error as exc:
        parser.issues.append(ConfigIssue(display, reader.line_num, "", f"CSV syntax error: {exc}"))
    if parser.header_line == 0 and not parser.issues:
        parser.issues.append(ConfigIssue(display, 1, "", "inventory file has no header row"))
    return parser.entries, parser.issues


@dataclass
class _Parser:
    file: str
    header_line: int = 0
    width: int = 0
    # Column index -> column name, for the usable (known, first-seen) columns.
    columns: dict[int, str] = field(default_factory=dict)
    usable: bool = False
    entries: list[Located[AccessPoint]] = field(default_factory=list)
    issues: list[ConfigIssue] = field(default_factory=list)

    def feed(self, row: list[str], line: int) -> None:
        if not any(cell.strip() for cell in row):
            return
        if self.header_line == 0:
            self._read_header(row, line)
        elif self.usable:
            self._read_row(row, line)

    def _read_header(self, row: list[str], line: int) -> None:
        self.header_line, self.width = line, len(row)
        origin = Origin(self.file, (), fixed_line(line))
        for index, cell in enumerate(row):
            name = cell.strip().lower()
            problem = self._header_problem(name, index)
            if problem:
                self.issues.append(origin.issue(problem, *([name] if name else [])))
            else:
                self.columns[index] = name
        self.usable = "ap" in self.columns.values()
        if not self.usable:
            self.issues.append(origin.issue("the header has no 'ap' column (required)"))

    def _header_problem(self, name: str, index: int) -> str | None:
        if not name:
            return f"column {index + 1} of the header has no name"
        if name in self.columns.values():
            return f"duplicate column '{name}'"
        if name not in CSV_COLUMNS:
            hint = suggest(name, CSV_COLUMNS) or f"; allowed: {list_choices(CSV_COLUMNS)}"
            return f"unknown column '{name}'{hint}"
        return None

    def _read_row(self, row: list[str], line: int) -> None:
        origin = Origin(self.file, (), fixed_line(line))
        extra = row[self.width :]
        if len(row) < self.width or any(cell.strip() for cell in extra):
            message = f"row has {len(row)} cells but the header has {self.width} columns"
            self.issues.append(origin.issue(message))
            return
        cells = {
            name: row[index].strip() for index, name in self.columns.items() if row[index].strip()
        }
        entry, issues = validate(AccessPoint, cells, origin, frozenset())
        self.issues += issues
        if entry is not None:
            self.entries.append(Located(entry, origin))
