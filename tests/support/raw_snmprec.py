"""The end-to-end oracles' own reader of raw ``.snmprec`` recordings.

Every truth module (recording_truth, aruba_truth, ruckus_truth, vendor_truth)
reads the recordings with this and nothing of wifimon's: no
``wifimon.snmp.snmprec``, no profile, no evaluator, so a mistake in wifimon's
reader shows up as a difference instead of being repeated in the truth.

A ``.snmprec`` line is ``OID|TAG|VALUE``; a TAG ending in ``x`` carries a
hex-encoded value; ``#`` starts a comment. Table rows are
``column OID . index``. Values come back as plain ``int`` or ``bytes`` (the
file's bytes: it is read as latin-1, which maps each byte to one character).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

Index = tuple[int, ...]
Value = int | bytes
Table = dict[Index, Value]  # one column: {row index: value}
Row = dict[str, Value]  # one row: {column name: value}

NUMERIC_TAGS = {"2", "65", "66", "67", "70"}  # INTEGER, Counter32, Gauge32, TimeTicks, Counter64
BYTES_TAGS = {"4", "64"}  # OCTET STRING, IpAddress


def decode(tag: str, text: str) -> Value:
    hexed = tag.endswith("x")
    base = tag.removesuffix("x")
    if base in NUMERIC_TAGS and not hexed:
        return int(text)
    if base in BYTES_TAGS:
        return bytes.fromhex(text) if hexed else text.encode("latin-1")
    raise ValueError(f"snmprec tag {tag!r} is not handled by this reader")


def _matches(path: Path, prefixes: Mapping[str, str]) -> Iterator[tuple[str, Index, Value]]:
    """``(name, index, value)`` of each line whose OID starts with a ``prefixes``
    key (``"column OID."``), in file order; one file pass whatever their number."""
    by_length: dict[int, dict[str, str]] = defaultdict(dict)
    for prefix, name in prefixes.items():
        by_length[len(prefix)][prefix] = name
    with path.open(encoding="latin-1") as lines:
        for line in lines:
            oid, _, rest = line.rstrip("\n").partition("|")
            for length, names in by_length.items():
                column = names.get(oid[:length])
                if column is not None:
                    tag, _, text = rest.partition("|")
                    index = tuple(int(part) for part in oid[length:].split("."))
                    yield column, index, decode(tag, text)
                    break


def read_columns(path: Path, columns: Mapping[str, str]) -> dict[str, Table]:
    """``{name: {row index: value}}`` for each ``name: column OID`` of ``columns``."""
    found: dict[str, Table] = {name: {} for name in columns}
    for name, index, value in _matches(path, {f"{oid}.": name for name, oid in columns.items()}):
        found[name][index] = value
    return found


def read_rows(path: Path, entry: str, columns: Mapping[str, int]) -> dict[Index, Row]:
    """``{index: {column name: value}}`` for the ``name: column number`` of
    table ``entry``, rows in the order the file first names them."""
    prefixes = {f"{entry}.{number}.": name for name, number in columns.items()}
    rows: dict[Index, Row] = defaultdict(dict)
    for name, index, value in _matches(path, prefixes):
        rows[index][name] = value
    return dict(rows)


def oid_of(line: str) -> Index:
    """The OID of a record line, as numbers (so it sorts as an agent walks)."""
    return tuple(int(part) for part in line.partition("|")[0].split("."))


def rewrite(source: Path, target: Path, edit: Callable[[Iterable[str]], Iterable[str]]) -> Path:
    """Write ``target`` with the lines ``edit`` makes of ``source``'s, atomically
    (a partial file, then a rename), creating its folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    with source.open(encoding="latin-1") as lines, partial.open("w", encoding="latin-1") as out:
        out.writelines(edit(lines))
    partial.replace(target)
    return target


# --- decoding values ------------------------------------------------------------


def text(value: Value | None) -> str:
    """A DisplayString as a label shows it: NULs and surrounding blanks dropped."""
    if not isinstance(value, bytes):
        return ""
    return value.decode("utf-8", "replace").replace("\x00", "").strip()


def number(value: Value | None) -> int | None:
    return value if isinstance(value, int) else None


def total(values: Iterable[Value | None]) -> int | None:
    """The sum of the numbers among ``values``; None when there is none."""
    numbers = [value for value in values if isinstance(value, int)]
    return sum(numbers) if numbers else None


def hundredths(value: Value | None) -> float | None:
    """TimeTicks as seconds, a percentage as a ratio."""
    return value / 100 if isinstance(value, int) else None


def ipv4(value: Value | None) -> str:
    """An IpAddress: four bytes, or the dotted text snmprec may spell it as."""
    if not isinstance(value, bytes):
        return ""
    if len(value) == 4:
        return ".".join(str(byte) for byte in value)
    return value.decode("ascii")


def mac_text(parts: Iterable[int]) -> str:
    """The first six numbers (an index or the bytes of a MAC) as "00:3a:98:b0:2e:70"."""
    return ":".join(f"{part:02x}" for part in list(parts)[:6])


def rows_under(table: Table, prefix: Index) -> list[Value]:
    """The values of the rows whose index starts with ``prefix``."""
    return [value for index, value in table.items() if index[: len(prefix)] == prefix]
