"""Interpret a profile over one poll's data: rows become observed APs.

The result (``Observation``) is still vendor-neutral raw data: AP base
MACs, info strings, numbers tagged with their SNMP kind (so counters know
their width). Inventory join, ids, counters and samples come later
(``normalise.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from wifimon.profiles.schema import TEXT_FIELDS, ApSpec, EntitySpec, Profile, ValueSpec
from wifimon.profiles.tables import IndexValue, RowKey, Table
from wifimon.profiles.transforms import apply_transform
from wifimon.snmp.types import SnmpValue, ValueKind, format_oid

Plain = int | float | str | bytes


@dataclass(frozen=True, slots=True)
class Measured:
    """A value and the SNMP kind it came from (``None`` when computed)."""

    value: Plain
    kind: ValueKind | None = None


@dataclass
class ObservedRadio:
    radio: str
    band: str
    values: dict[str, Measured] = field(default_factory=dict)


@dataclass
class ObservedAp:
    """One AP as the agent reports it. ``mac`` is "aa:bb:cc:dd:ee:ff" or None."""

    mac: str | None
    up: bool
    values: dict[str, Measured] = field(default_factory=dict)
    radios: dict[str, ObservedRadio] = field(default_factory=dict)
    ssids: dict[str, dict[str, Measured]] = field(default_factory=dict)


@dataclass
class Observation:
    aps: list[ObservedAp]
    missing: int = 0  # values a profile asked for that the agent did not give


@dataclass
class PollData:
    """What the transport fetched for one target, ready for evaluation."""

    scalars: dict[str, SnmpValue]
    system: dict[str, SnmpValue]
    tables: dict[str, Table]


class _Context:
    """The entity row being evaluated: its index components and fields."""

    def __init__(self, index: Mapping[str, IndexValue], data: PollData) -> None:
        self.index = dict(index)
        self.fields: dict[str, Measured] = {}
        self.data = data
        self.missing = 0

    def ref(self, name: str) -> IndexValue | Plain | None:
        if name in self.index:
            return self.index[name]
        found = self.fields.get(name)
        return found.value if found is not None else None


def _plain(value: SnmpValue) -> Plain | None:
    raw = value.value
    if raw is None:
        return None
    if isinstance(raw, tuple):
        return format_oid(raw)
    return raw


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


def _lookup(spec: ValueSpec, ctx: _Context) -> Measured | None:
    assert spec.value is not None
    source, column = spec.value.split(".")
    if source in ("scalars", "system"):
        scalars = ctx.data.scalars if source == "scalars" else ctx.data.system
        found = scalars.get(column)
        if found is None or found.kind.is_exception:
            return None
        plain = _plain(found)
        return Measured(plain, found.kind) if plain is not None else None
    table = ctx.data.tables[source]
    refs = spec.at if spec.at is not None else _default_at(table, ctx)
    prefix = tuple(ctx.ref(name) for name in refs)
    if any(part is None for part in prefix):
        return None
    measured: list[Measured] = []
    for key in table.matching(prefix):  # type: ignore[arg-type]
        cell = table.rows[key].get(column)
        plain = _plain(cell) if cell is not None else None
        if cell is not None and plain is not None:
            measured.append(Measured(plain, cell.kind))
    if spec.aggregate is not None:
        return _combine(spec.aggregate, measured) if measured or spec.aggregate == "count" else None
    return measured[0] if measured else None


def _default_at(table: Table, ctx: _Context) -> list[str]:
    refs: list[str] = []
    for name in table.index_names:
        if name not in ctx.index:
            break
        refs.append(name)
    return refs


def _source(spec: ValueSpec, ctx: _Context) -> Measured | None:
    if spec.value is not None:
        return _lookup(spec, ctx)
    if spec.index is not None:
        found = ctx.index.get(spec.index)
        if found is None:
            return None
        return Measured(format_oid(found) if isinstance(found, tuple) else found)
    if spec.field is not None:
        return ctx.fields.get(spec.field)
    if spec.const is not None:
        return Measured(spec.const)
    if spec.first is not None:
        for option in spec.first:
            result = evaluate(option, ctx, count_missing=False)
            if result is not None:
                return result
        return None
    assert spec.pick is not None
    assert spec.choices is not None
    chosen = ctx.ref(spec.pick)
    if not isinstance(chosen, int) or not 1 <= chosen <= len(spec.choices):
        return None
    return _lookup(ValueSpec(value=spec.choices[chosen - 1], at=spec.at), ctx)


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


def evaluate(spec: ValueSpec, ctx: _Context, *, count_missing: bool = True) -> Measured | None:
    """The value of ``spec`` for the row in ``ctx``; ``None`` when missing."""
    measured = _source(spec, ctx)
    result = _finish(spec, measured) if measured is not None else None
    if result is None and spec.default is not None and spec.map is None:
        result = Measured(spec.default)
    if result is None and count_missing:
        ctx.missing += 1
    return result


def _rows(spec: EntitySpec, data: PollData) -> list[tuple[tuple[str, ...], RowKey]]:
    if not spec.from_:
        return [((), ())]
    keys: dict[RowKey, None] = {}
    for name in spec.from_:
        keys.update(dict.fromkeys(data.tables[name].rows))
    names = data.tables[spec.from_[0]].index_names
    return [(names, key) for key in keys]


def _contexts(spec: EntitySpec, data: PollData) -> list[_Context]:
    return [_Context(dict(zip(names, key, strict=True)), data) for names, key in _rows(spec, data)]


def _fill(spec: EntitySpec, ctx: _Context) -> dict[str, Measured]:
    """Compute ``let`` then ``fields``; return only the exported fields."""
    for name, value_spec in spec.let.items():
        result = evaluate(value_spec, ctx)
        if result is not None:
            ctx.fields[name] = result
    for name, value_spec in spec.fields.items():
        result = evaluate(value_spec, ctx)
        if result is not None and name not in TEXT_FIELDS and not _is_number(result.value):
            ctx.missing += 1  # e.g. an OCTET STRING where a count belongs
            continue
        if result is not None:
            ctx.fields[name] = result
    return {name: ctx.fields[name] for name in spec.fields if name in ctx.fields}


def _is_number(value: Plain) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(spec: ValueSpec | None, ctx: _Context) -> str | None:
    if spec is None:
        return None
    result = evaluate(spec, ctx)
    if result is None:
        return None
    value = result.value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _observe_aps(spec: ApSpec, data: PollData) -> tuple[list[ObservedAp], int]:
    aps: list[ObservedAp] = []
    missing = 0
    for ctx in _contexts(spec, data):
        values = _fill(spec, ctx)
        mac = _text(spec.mac, ctx)
        up_value = evaluate(spec.up, ctx) if spec.up is not None else Measured(1)
        up = up_value is not None and up_value.value == 1
        aps.append(ObservedAp(mac=mac, up=up, values=values))
        missing += ctx.missing
    return aps, missing


def _owner(
    aps: list[ObservedAp], by_mac: dict[str, ObservedAp], mac: str | None
) -> ObservedAp | None:
    if mac is None:
        # A stand-alone agent is its own single AP.
        return aps[0] if len(aps) == 1 else None
    return by_mac.get(mac)


def observe(profile: Profile, data: PollData) -> Observation:
    """Evaluate every entity of ``profile`` over ``data``."""
    aps, missing = _observe_aps(profile.ap, data)
    by_mac = {ap.mac: ap for ap in aps if ap.mac is not None}
    if profile.radio is not None:
        for ctx in _contexts(profile.radio, data):
            values = _fill(profile.radio, ctx)
            owner = _owner(aps, by_mac, _text(profile.radio.ap, ctx))
            radio_id = _text(profile.radio.radio, ctx)
            band = _text(profile.radio.band, ctx) if profile.radio.band else "unknown"
            missing += ctx.missing
            if owner is None or radio_id is None:
                continue
            radio = owner.radios.setdefault(radio_id, ObservedRadio(radio_id, band or "unknown"))
            if radio.band == "unknown" and band:
                radio.band = band
            _merge(radio.values, values)
    if profile.ssid is not None:
        for ctx in _contexts(profile.ssid, data):
            values = _fill(profile.ssid, ctx)
            owner = _owner(aps, by_mac, _text(profile.ssid.ap, ctx))
            ssid = _text(profile.ssid.ssid, ctx)
            missing += ctx.missing
            if owner is None or ssid is None:
                continue
            _merge(owner.ssids.setdefault(ssid, {}), values)
    return Observation(aps, missing + sum(t.malformed for t in data.tables.values()))


def _additive(field_name: str) -> bool:
    """Counts and counters add up over rows; a channel or a power does not."""
    return field_name == "clients" or field_name.endswith("_total")


def _merge(into: dict[str, Measured], values: Mapping[str, Measured]) -> None:
    """Fold another row of the same radio or SSID (e.g. one UniFi VAP per
    SSID on a radio, one Cisco WLAN row per band) into ``into``: additive
    quantities are summed, the first row's value wins for the others."""
    for name, measured in values.items():
        previous = into.get(name)
        if previous is None:
            into[name] = measured
        elif (
            _additive(name)
            and isinstance(previous.value, (int, float))
            and isinstance(measured.value, (int, float))
        ):
            into[name] = Measured(previous.value + measured.value, measured.kind)
