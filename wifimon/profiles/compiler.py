"""Profile value specs compiled into closures, once per profile.

A large controller's poll evaluates the same few dozen value specs on each
of its 10^4..10^5 rows, so everything a spec says that does not depend on
the row (which table and column, which index components select the source
row, which finishing steps apply) is decided once, here; ``evaluate.py``
then only calls the closures. Results are the same as interpreting the
spec on every row: the golden device cases prove it byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wifimon.profiles.schema import Profile, ValueSpec
from wifimon.profiles.tables import IndexValue, RowKey, Table
from wifimon.profiles.transforms import TRANSFORMS, apply_transform
from wifimon.snmp.types import SnmpValue, ValueKind, format_oid

Plain = int | float | str | bytes


@dataclass(frozen=True, slots=True)
class Measured:
    """A value and the SNMP kind it came from (``None`` when computed)."""

    value: Plain
    kind: ValueKind | None = None


@dataclass
class PollData:
    """What the transport fetched for one target, ready for evaluation."""

    scalars: dict[str, SnmpValue]
    system: dict[str, SnmpValue]
    tables: dict[str, Table]


class RowContext:
    """The entity row being evaluated: its index components and fields."""

    __slots__ = ("data", "fields", "index", "key", "missing")

    def __init__(self, key: RowKey, index: dict[str, IndexValue], data: PollData) -> None:
        self.key = key  # the row's index values, in the order of ``index``
        self.index = index
        self.fields: dict[str, Measured] = {}
        self.data = data
        self.missing = 0


# A compiled value spec: the value for the row in the context, or None when
# missing. Missing values are counted by the caller (``counted``).
Getter = Callable[[RowContext], "Measured | None"]
_Ref = Callable[[RowContext], "IndexValue | Plain | None"]


def _plain(value: SnmpValue) -> Plain | None:
    raw = value.value
    if raw is None:
        return None
    if isinstance(raw, tuple):
        return format_oid(raw)
    return raw


def _measured(cell: SnmpValue | None) -> Measured | None:
    if cell is None:
        return None
    plain = _plain(cell)
    return Measured(plain, cell.kind) if plain is not None else None


def _combine(how: str, values: list[Measured]) -> Measured | None:
    if how == "count":
        return Measured(len(values))
    numbers = [m for m in values if isinstance(m.value, (int, float))]
    if how == "first":
        return values[0] if values else None
    if not numbers:
        return None
    kind = numbers[0].kind
    picked = [m.value for m in numbers if isinstance(m.value, (int, float))]
    if how == "sum":
        return Measured(sum(picked), kind)
    return Measured(max(picked) if how == "max" else min(picked), kind)


class Compiler:
    """Turns the value specs of one entity into closures, once per profile.

    Everything a spec says that does not depend on the row (which table and
    column, which index components select the source row, which finishing
    steps apply) is decided here instead of on each of the 10^4..10^5 rows
    of a large controller's poll; ``index`` holds the entity's index names,
    the same for every one of its rows.
    """

    def __init__(self, profile: Profile, index: tuple[str, ...]) -> None:
        self.profile = profile
        self.index = index

    def value(self, spec: ValueSpec) -> Getter:
        """Source, then ``_finish``, then ``default``."""
        source = self._source(spec)
        finish = _finisher(spec)
        default = Measured(spec.default) if spec.default is not None and spec.map is None else None
        if finish is None and default is None:
            return source
        if finish is None:

            def or_default(ctx: RowContext) -> Measured | None:
                measured = source(ctx)
                return default if measured is None else measured

            return or_default
        if default is None:

            def finished(ctx: RowContext) -> Measured | None:
                measured = source(ctx)
                return finish(measured) if measured is not None else None

            return finished

        def finished_or_default(ctx: RowContext) -> Measured | None:
            measured = source(ctx)
            if measured is not None:
                measured = finish(measured)
            return default if measured is None else measured

        return finished_or_default

    def _source(self, spec: ValueSpec) -> Getter:
        if spec.value is not None:
            return self._lookup(spec.value, spec.at, spec.aggregate)
        if spec.index is not None:
            return _index_source(spec.index)
        if spec.field is not None:
            name = spec.field
            return lambda ctx: ctx.fields.get(name)
        if spec.const is not None:
            const = Measured(spec.const)
            return lambda ctx: const
        if spec.first is not None:
            return _first_of([self.value(option) for option in spec.first])
        assert spec.pick is not None
        assert spec.choices is not None
        return _picked(
            self.ref(spec.pick),
            [self._lookup(choice, spec.at, None) for choice in spec.choices],
        )

    def ref(self, name: str) -> _Ref:
        """An index component of the row, else an earlier field's value."""
        if name in self.index:
            return lambda ctx: ctx.index[name]

        def field_value(ctx: RowContext) -> IndexValue | Plain | None:
            found = ctx.fields.get(name)
            return found.value if found is not None else None

        return field_value

    def _lookup(self, value: str, at: list[str] | None, aggregate: str | None) -> Getter:
        source, column = value.split(".")
        if source in ("scalars", "system"):
            return _scalar_lookup(source, column)
        index = tuple(self.profile.tables[source].index)
        refs = at if at is not None else _default_at(index, self.index)
        getters = [self.ref(name) for name in refs]
        whole_index = len(refs) == len(index)
        if tuple(refs) == self.index:
            # The source row has the entity row's own index (the usual case):
            # its key is the entity row's key, no need to rebuild it.
            prefix_of: _Prefix = _own_key
        else:
            prefix_of = _prefix_builder(getters)
        if aggregate is not None:
            return _aggregated(source, column, aggregate, prefix_of)
        if whole_index:
            return _row_lookup(source, column, prefix_of)
        return _first_matching(source, column, prefix_of)


def _own_key(ctx: RowContext) -> RowKey | None:
    return ctx.key


def _prefix_builder(getters: list[_Ref]) -> _Prefix:
    """The source rows' index prefix from index components and fields of the row."""

    def prefix_of(ctx: RowContext) -> RowKey | None:
        parts = []
        for get in getters:
            part = get(ctx)
            if part is None:
                return None
            parts.append(part)
        return tuple(parts)  # type: ignore[arg-type]

    return prefix_of


def _default_at(table_index: tuple[str, ...], entity_index: tuple[str, ...]) -> list[str]:
    """The longest leading run of the source table's index names that the
    entity row also has."""
    refs: list[str] = []
    for name in table_index:
        if name not in entity_index:
            break
        refs.append(name)
    return refs


def _index_source(name: str) -> Getter:
    def index_value(ctx: RowContext) -> Measured | None:
        found = ctx.index.get(name)
        if found is None:
            return None
        return Measured(format_oid(found) if isinstance(found, tuple) else found)

    return index_value


def _first_of(options: list[Getter]) -> Getter:
    def first(ctx: RowContext) -> Measured | None:
        for option in options:
            result = option(ctx)
            if result is not None:
                return result
        return None

    return first


def _picked(pick: _Ref, choices: list[Getter]) -> Getter:
    def picked(ctx: RowContext) -> Measured | None:
        chosen = pick(ctx)
        if not isinstance(chosen, int) or not 1 <= chosen <= len(choices):
            return None
        return choices[chosen - 1](ctx)

    return picked


def _scalar_lookup(source: str, column: str) -> Getter:
    def scalar(ctx: RowContext) -> Measured | None:
        scalars = ctx.data.scalars if source == "scalars" else ctx.data.system
        found = scalars.get(column)
        if found is None or found.kind.is_exception:
            return None
        return _measured(found)

    return scalar


_Prefix = Callable[[RowContext], "RowKey | None"]


def _row_lookup(source: str, column: str, prefix_of: _Prefix) -> Getter:
    """The row named by the whole index: one dict lookup."""

    def row_value(ctx: RowContext) -> Measured | None:
        prefix = prefix_of(ctx)
        if prefix is None:
            return None
        row = ctx.data.tables[source].rows.get(prefix)
        return _measured(row.get(column)) if row is not None else None

    return row_value


def _first_matching(source: str, column: str, prefix_of: _Prefix) -> Getter:
    """The first row under the prefix (OID order) that has a usable cell."""

    def first_value(ctx: RowContext) -> Measured | None:
        prefix = prefix_of(ctx)
        if prefix is None:
            return None
        table = ctx.data.tables[source]
        for key in table.matching(prefix):
            measured = _measured(table.rows[key].get(column))
            if measured is not None:
                return measured
        return None

    return first_value


def _aggregated(source: str, column: str, how: str, prefix_of: _Prefix) -> Getter:
    def combined(ctx: RowContext) -> Measured | None:
        prefix = prefix_of(ctx)
        if prefix is None:
            return None
        table = ctx.data.tables[source]
        measured: list[Measured] = []
        for key in table.matching(prefix):
            found = _measured(table.rows[key].get(column))
            if found is not None:
                measured.append(found)
        return _combine(how, measured) if measured or how == "count" else None

    return combined


_Finish = Callable[["Measured"], "Measured | None"]


def _finisher(spec: ValueSpec) -> _Finish | None:
    """``_finish`` for ``spec``, specialised for the common single steps;
    None when no step applies (the measured value passes unchanged)."""
    steps = (spec.missing, spec.mask, spec.map, spec.transform, spec.scale, spec.offset)
    if all(step is None for step in steps):
        return None
    only_transform = spec.transform is not None and all(
        step is None for step in (spec.missing, spec.mask, spec.map, spec.scale, spec.offset)
    )
    if only_transform:
        transform = TRANSFORMS[spec.transform]  # type: ignore[index]

        def transformed(measured: Measured) -> Measured | None:
            value = transform(measured.value)
            return Measured(value, measured.kind) if value is not None else None

        return transformed
    if spec.transform is None and all(step is None for step in (spec.missing, spec.mask, spec.map)):
        return _scaler(spec.scale, spec.offset)
    return lambda measured: _finish(spec, measured)


def _scaler(scale: float | None, offset: float | None) -> _Finish:
    """``_finish`` when only ``scale``/``offset`` apply (e.g. TimeTicks to seconds)."""
    factor = scale if scale is not None else 1
    shift = offset or 0

    def scaled(measured: Measured) -> Measured | None:
        value = measured.value
        if not isinstance(value, (int, float)):
            return None
        # 29 * 0.01 is 0.29000000000000004 in binary; export what the device meant.
        return Measured(round(value * factor + shift, 9), measured.kind)

    return scaled


def _finish(spec: ValueSpec, measured: Measured) -> Measured | None:
    value: Plain | None = measured.value
    if spec.missing is not None and _means_unknown(spec.missing, measured.value):
        return None
    if spec.mask is not None:
        value = value & spec.mask if isinstance(value, int) else None
    if spec.map is not None:
        value = _mapped(spec.map, value)
        if value is None:
            value = spec.default
    if value is not None and spec.transform is not None:
        value = apply_transform(spec.transform, value)
    if value is None:
        return None
    if spec.scale is not None or spec.offset is not None:
        if not isinstance(value, (int, float)):
            return None
        value = value * (spec.scale if spec.scale is not None else 1) + (spec.offset or 0)
        # 29 * 0.01 is 0.29000000000000004 in binary; export what the device meant.
        value = round(value, 9)
    return Measured(value, measured.kind)


def _means_unknown(markers: list[int | str], value: Plain) -> bool:
    """Huawei writes ff:ff:ff:ff:ff:ff for a MAC it does not know, 255 for
    an invalid power: placeholders, not values."""
    if isinstance(value, bytes):
        return value.hex() in markers
    return value in markers


def _mapped(table: Mapping[int | str, int | float | str], value: Plain | None) -> Plain | None:
    """Enum codes map by number, free-text states (Ruckus "Connect") by text."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace").strip()
    if isinstance(value, (int, str)):
        return table.get(value)
    return None


def counted(getter: Getter, ctx: RowContext) -> Measured | None:
    """The value of a compiled spec for the row in ``ctx``; a missing one is counted."""
    result = getter(ctx)
    if result is None:
        ctx.missing += 1
    return result
