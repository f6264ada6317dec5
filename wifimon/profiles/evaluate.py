"""Interpret a profile over one poll's data: rows become observed APs.

The result (``Observation``) is still vendor-neutral raw data: AP base
MACs, info strings, numbers tagged with their SNMP kind (so counters know
their width). Inventory join, ids, counters and samples come later
(``normalise.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from wifimon.profiles.compiler import (
    Compiler,
    Getter,
    Measured,
    PollData,
    RowContext,
    counted,
)
from wifimon.profiles.schema import TEXT_FIELDS, EntitySpec, Profile, ValueSpec
from wifimon.profiles.tables import RowKey

# The data types of an observation, importable from here as before.
__all__ = ["Measured", "Observation", "ObservedAp", "ObservedRadio", "PollData", "observe"]

Plain = int | float | str | bytes


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


@dataclass(frozen=True, slots=True)
class _EntityPlan:
    """An entity spec compiled: its rows' index names and its value getters."""

    spec: EntitySpec
    index: tuple[str, ...]
    lets: tuple[tuple[str, Getter], ...]
    fields: tuple[tuple[str, Getter, bool], ...]  # name, getter, text field
    extra: dict[str, Getter | None]  # mac/up, ap/radio/band, ap/ssid


def _entity_plan(
    profile: Profile, spec: EntitySpec, extra: dict[str, ValueSpec | None]
) -> _EntityPlan:
    index = tuple(profile.tables[spec.from_[0]].index) if spec.from_ else ()
    compiler = Compiler(profile, index)
    return _EntityPlan(
        spec,
        index,
        tuple((name, compiler.value(value)) for name, value in spec.let.items()),
        tuple(
            (name, compiler.value(value), name in TEXT_FIELDS)
            for name, value in spec.fields.items()
        ),
        {
            name: compiler.value(value) if value is not None else None
            for name, value in extra.items()
        },
    )


@dataclass(frozen=True, slots=True)
class _ProfilePlan:
    ap: _EntityPlan
    radio: _EntityPlan | None
    ssid: _EntityPlan | None


_PLANS: dict[int, tuple[Profile, _ProfilePlan]] = {}
_MAX_PLANS = 64  # profiles of a few registries; tests build many registries


def _plan(profile: Profile) -> _ProfilePlan:
    """The compiled plan of ``profile``, built on its first poll and kept
    (with the profile, so its id cannot be reused while cached)."""
    cached = _PLANS.get(id(profile))
    if cached is not None and cached[0] is profile:
        return cached[1]
    ap = profile.ap
    plan = _ProfilePlan(
        _entity_plan(profile, ap, {"mac": ap.mac, "up": ap.up}),
        _entity_plan(
            profile,
            profile.radio,
            {"ap": profile.radio.ap, "radio": profile.radio.radio, "band": profile.radio.band},
        )
        if profile.radio is not None
        else None,
        _entity_plan(profile, profile.ssid, {"ap": profile.ssid.ap, "ssid": profile.ssid.ssid})
        if profile.ssid is not None
        else None,
    )
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[id(profile)] = (profile, plan)
    return plan


def _rows(spec: EntitySpec, data: PollData) -> list[RowKey]:
    if not spec.from_:
        return [()]
    keys: dict[RowKey, None] = {}
    for name in spec.from_:
        keys.update(dict.fromkeys(data.tables[name].rows))
    return list(keys)


def _contexts(plan: _EntityPlan, data: PollData) -> list[RowContext]:
    names = plan.index
    return [
        RowContext(key, dict(zip(names, key, strict=True)), data) for key in _rows(plan.spec, data)
    ]


def _fill(plan: _EntityPlan, ctx: RowContext) -> dict[str, Measured]:
    """Compute ``let`` then ``fields``; return only the exported fields."""
    fields = ctx.fields
    for name, getter in plan.lets:
        result = counted(getter, ctx)
        if result is not None:
            fields[name] = result
    for name, getter, text in plan.fields:
        result = counted(getter, ctx)
        if result is None:
            continue
        if not text and not _is_number(result.value):
            ctx.missing += 1  # e.g. an OCTET STRING where a count belongs
            continue
        fields[name] = result
    return {name: fields[name] for name, _, _ in plan.fields if name in fields}


def _is_number(value: Plain) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(getter: Getter | None, ctx: RowContext) -> str | None:
    if getter is None:
        return None
    result = counted(getter, ctx)
    if result is None:
        return None
    value = result.value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _observe_aps(plan: _EntityPlan, data: PollData) -> tuple[list[ObservedAp], int]:
    aps: list[ObservedAp] = []
    missing = 0
    mac_of, up_of = plan.extra["mac"], plan.extra["up"]
    for ctx in _contexts(plan, data):
        values = _fill(plan, ctx)
        mac = _text(mac_of, ctx)
        up_value = counted(up_of, ctx) if up_of is not None else _UP
        up = up_value is not None and up_value.value == 1
        aps.append(ObservedAp(mac=mac, up=up, values=values))
        missing += ctx.missing
    return aps, missing


_UP = Measured(1)


def _owner(
    aps: list[ObservedAp], by_mac: dict[str, ObservedAp], mac: str | None
) -> ObservedAp | None:
    if mac is None:
        # A stand-alone agent is its own single AP.
        return aps[0] if len(aps) == 1 else None
    return by_mac.get(mac)


def observe(profile: Profile, data: PollData) -> Observation:
    """Evaluate every entity of ``profile`` over ``data``."""
    plan = _plan(profile)
    aps, missing = _observe_aps(plan.ap, data)
    by_mac = {ap.mac: ap for ap in aps if ap.mac is not None}
    if plan.radio is not None:
        extra = plan.radio.extra
        for ctx in _contexts(plan.radio, data):
            values = _fill(plan.radio, ctx)
            owner = _owner(aps, by_mac, _text(extra["ap"], ctx))
            radio_id = _text(extra["radio"], ctx)
            band = _text(extra["band"], ctx) if extra["band"] is not None else "unknown"
            missing += ctx.missing
            if owner is None or radio_id is None:
                continue
            radio = owner.radios.setdefault(radio_id, ObservedRadio(radio_id, band or "unknown"))
            if radio.band == "unknown" and band:
                radio.band = band
            _merge(radio.values, values)
    if plan.ssid is not None:
        extra = plan.ssid.extra
        for ctx in _contexts(plan.ssid, data):
            values = _fill(plan.ssid, ctx)
            owner = _owner(aps, by_mac, _text(extra["ap"], ctx))
            ssid = _text(extra["ssid"], ctx)
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
