"""Walk results arranged as tables: rows keyed by their parsed index.

A row OID is ``column OID . index sub-ids``; the table's index spec says
how to cut the sub-ids into named components (a 6-sub-id MAC, a
length-prefixed string, ...). Rows whose index does not parse are dropped
and counted, never guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from wifimon.profiles.schema import IndexType, TableSpec
from wifimon.snmp.types import Oid, SnmpValue, ValueKind, VarBind

IndexValue = int | bytes | Oid
_NO_OBJECT, _NO_INSTANCE, _END = (
    ValueKind.NO_SUCH_OBJECT,
    ValueKind.NO_SUCH_INSTANCE,
    ValueKind.END_OF_MIB_VIEW,
)
RowKey = tuple[IndexValue, ...]

MAC_LENGTH = 6


def _take_bytes(sub_ids: Sequence[int]) -> bytes | None:
    try:
        return bytes(sub_ids)  # checks every sub-id is 0..255, in C
    except ValueError:
        return None


def _parse_component(kind: IndexType, rest: Oid) -> tuple[IndexValue, Oid] | None:
    """Cut one component off the front of ``rest``; ``None`` if malformed."""
    if kind == "int":
        return (rest[0], rest[1:]) if rest else None
    if kind == "mac":
        mac = _take_bytes(rest[:MAC_LENGTH]) if len(rest) >= MAC_LENGTH else None
        return (mac, rest[MAC_LENGTH:]) if mac is not None else None
    if kind == "mac_prefixed":
        # Ruckus SCG prefixes the MAC with its length (parse_index also tries
        # the bare reading); this is the prefixed reading only.
        if len(rest) >= MAC_LENGTH + 1 and rest[0] == MAC_LENGTH:
            return _parse_component("mac", rest[1:])
        return None
    if kind == "string":
        if not rest or len(rest) < rest[0] + 1:
            return None
        text = _take_bytes(rest[1 : rest[0] + 1])
        return (text, rest[rest[0] + 1 :]) if text is not None else None
    if kind == "string_implied":
        text = _take_bytes(rest)
        return (text, ()) if text is not None else None
    return (rest, ())  # oid_rest


def _parse_single(kind: IndexType, suffix: Oid) -> RowKey | None:
    """``parse_index`` for a one-component index of the common kinds: the
    same readings without the general recursion (10^5 rows per controller)."""
    if kind == "int":
        return (suffix[0],) if len(suffix) == 1 else None
    if kind == "mac_prefixed" and len(suffix) == MAC_LENGTH + 1 and suffix[0] == MAC_LENGTH:
        mac = _take_bytes(suffix[1:])
        if mac is not None:
            return (mac,)
    # A bare MAC ("mac", or "mac_prefixed" read without its length sub-id).
    if len(suffix) != MAC_LENGTH:
        return None
    mac = _take_bytes(suffix)
    return (mac,) if mac is not None else None


_SINGLE_KINDS = frozenset({"int", "mac", "mac_prefixed"})


def parse_index(kinds: Sequence[IndexType], suffix: Oid) -> RowKey | None:
    """Parse a row's index sub-ids; the whole suffix must be consumed.

    A ``mac_prefixed`` component is read with its length sub-id first and,
    if that leaves an index that does not parse, as a bare MAC (SZ agents
    omit the length; a bare MAC may itself start with 6).
    """
    if not kinds:
        return () if not suffix else None
    kind, later = kinds[0], kinds[1:]
    readings = ["mac_prefixed", "mac"] if kind == "mac_prefixed" else [kind]
    for reading in readings:
        parsed = _parse_component(reading, suffix)  # type: ignore[arg-type]
        if parsed is None:
            continue
        value, rest = parsed
        tail = parse_index(later, rest)
        if tail is not None:
            return (value, *tail)
    return None


@dataclass
class Table:
    """Rows of one table: ``rows[key][column] = value``."""

    spec: TableSpec
    rows: dict[RowKey, dict[str, SnmpValue]] = field(default_factory=dict)
    malformed: int = 0
    _by_prefix: dict[int, dict[RowKey, list[RowKey]]] = field(default_factory=dict)

    @property
    def index_names(self) -> tuple[str, ...]:
        return tuple(self.spec.index)

    def add_column(self, column: str, varbinds: Iterable[VarBind]) -> None:
        root = self.spec.columns[column]
        width = len(root)
        kinds = tuple(self.spec.index.values())
        single = kinds[0] if len(kinds) == 1 and kinds[0] in _SINGLE_KINDS else None
        rows = self.rows
        for varbind in varbinds:
            oid = varbind.oid
            kind = varbind.value.kind
            # Identity tests: hashing an Enum member runs Python code.
            if oid[:width] != root or kind is _NO_OBJECT or kind is _NO_INSTANCE or kind is _END:
                continue
            suffix = oid[width:]
            key = _parse_single(single, suffix) if single else parse_index(kinds, suffix)
            if key is None:
                self.malformed += 1
                continue
            row = rows.get(key)
            if row is None:
                row = rows[key] = {}
            row[column] = varbind.value

    def apply_where(self) -> None:
        """Drop rows the spec filters out (rows lacking the column too)."""
        for column, allowed in self.spec.where.items():
            self.rows = {
                key: row
                for key, row in self.rows.items()
                if column in row and row[column].value in allowed
            }

    def matching(self, prefix: RowKey) -> list[RowKey]:
        """Keys of the rows whose index starts with ``prefix``, in OID order."""
        if len(prefix) == len(self.spec.index):
            return [prefix] if prefix in self.rows else []
        groups = self._by_prefix.get(len(prefix))
        if groups is None:
            groups = {}
            for key in self.rows:
                groups.setdefault(key[: len(prefix)], []).append(key)
            self._by_prefix[len(prefix)] = groups
        return groups.get(prefix, [])
