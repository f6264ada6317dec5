"""The vendor profile language: YAML data that says what to poll and how.

A profile names the agents it matches (by sysObjectID prefix, optionally a
sysDescr pattern), the scalars to GET and the table columns to walk, and how
rows become the three entities of the catalogue: ``ap``, ``radio`` and
``ssid``. Python only interprets it (see ``evaluate.py``); no vendor code.

Example (abridged)::

    name: cisco-aireos
    vendor: Cisco
    kind: controller
    match: {sys_object_id: ["1.3.6.1.4.1.9.1"], sys_descr: "^Cisco Controller"}
    tables:
      ap:
        index: {mac: mac}
        columns: {name: 1.3.6.1.4.1.14179.2.2.1.1.3}
    ap:
      from: ap
      mac: {index: mac, transform: mac}
      fields: {name: {value: ap.name, transform: string}}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from wifimon.snmp.types import Oid, parse_oid

IndexType = Literal["int", "mac", "mac_prefixed", "string", "string_implied", "oid_rest"]
Transform = Literal[
    "string",  # bytes -> text (UTF-8, NULs and surrounding blanks stripped)
    "mac",  # 6 bytes, or a 6-sub-id index -> "aa:bb:cc:dd:ee:ff"
    "ip",  # 4 bytes -> dotted quad
    "hex",  # bytes -> lower-case hex
    "band_from_channel",  # channel number -> 2.4GHz / 5GHz / unknown
    "band_from_frequency",  # centre frequency in MHz -> 2.4GHz / 5GHz / 6GHz / unknown
    "channel_from_frequency",  # centre frequency in MHz -> channel number (2412 -> 1)
    "leading_int",  # text starting with digits -> that number ("116E" -> 116)
]
Aggregate = Literal["sum", "max", "min", "first", "count"]
# Fields whose values are text (the descriptive labels of wifimon_ap_info);
# every other field is a number, and a non-number there is a missing value.
TEXT_FIELDS = frozenset({"name", "model", "serial", "ip", "firmware"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _oid(value: object, key: str = "") -> Oid:
    where = f"{key}: " if key else ""
    if isinstance(value, (int, float)):
        value = str(value)
    try:
        if not isinstance(value, str):
            raise ValueError
        return parse_oid(value)
    except ValueError:
        raise ValueError(
            f"{where}an OID is dotted numbers, e.g. 1.3.6.1.2.1.1.5.0; got {value!r}"
        ) from None


class TableSpec(Strict):
    """A conceptual SNMP table.

    ``index`` maps index component names to how they are encoded in the row
    OID, in order (e.g. ``{mac: mac, slot: int}``). ``columns`` maps short
    names to column OIDs (without index). ``where`` keeps only rows whose
    named column has one of the listed integer values (e.g. ifType 71).
    ``unordered: true`` is for agents that return this table out of OID
    order (Huawei's VAP table): its walks follow backward steps and stop
    only at a repeated OID, instead of ending at the first step back.
    """

    index: dict[str, IndexType] = Field(default_factory=dict)
    columns: dict[str, Annotated[Oid, Field()]]
    where: dict[str, list[int]] = Field(default_factory=dict)
    unordered: bool = False

    @field_validator("columns", mode="before")
    @classmethod
    def _parse_columns(cls, value: object) -> object:
        if isinstance(value, dict):
            return {key: _oid(oid, str(key)) for key, oid in value.items()}
        return value

    @model_validator(mode="after")
    def _where_names_columns(self) -> TableSpec:
        for name in self.where:
            if name not in self.columns:
                raise ValueError(f"where: {name!r} is not a column of this table")
        implied = [n for n, t in self.index.items() if t in ("string_implied", "oid_rest")]
        if implied and implied[-1] != list(self.index)[-1]:
            raise ValueError("an implied/rest index component must come last")
        return self


class ValueSpec(Strict):
    """How one value is computed for an entity row.

    Exactly one source: ``value`` ("table.column" or "scalars.name"),
    ``index`` (a component of the entity's own row index), ``first`` (the
    first of several specs that yields a value, e.g. a 64-bit counter before
    its 32-bit twin), ``pick`` + ``choices`` (``choices[pick - 1]``, e.g. the
    tx power of the current power level), ``field`` (an earlier field of the
    same entity) or ``const``.

    ``at`` names what selects the row in the source table: index components
    of the entity row or earlier fields, matched against the leading index
    components of the source table. Left out, it is the longest leading run
    of the source table's index names that the entity row also has. When
    several rows match, ``aggregate`` combines them.

    Then, in order: ``missing`` (raw values that mean "unknown": integers,
    or byte strings written as hex, e.g. ``[255]`` or ``["ffffffffffff"]``;
    such a value counts as missing), ``mask`` (bitwise AND, e.g. 255 keeps
    the low byte),
    ``map`` (an integer code or a text such as "Connect" -> value; unmapped
    values use ``default`` or count as missing), ``transform``, ``scale``,
    ``offset``.
    """

    value: str | None = None
    index: str | None = None
    first: list[ValueSpec] | None = None
    pick: str | None = None
    choices: list[str] | None = None
    field: str | None = None
    const: int | float | str | None = None
    at: list[str] | None = None
    aggregate: Aggregate | None = None
    missing: list[int | str] | None = None
    mask: int | None = None
    map: dict[int | str, int | float | str] | None = None
    default: int | float | str | None = None
    transform: Transform | None = None
    scale: float | None = None
    offset: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        # "table.column" alone is the common case; keep profiles short.
        if isinstance(data, str):
            return {"value": data}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> ValueSpec:
        sources = [
            name
            for name in ("value", "index", "first", "pick", "field", "const")
            if getattr(self, name) is not None
        ]
        if len(sources) != 1:
            raise ValueError(
                "give exactly one of value, index, first, pick, field, const; got "
                + (", ".join(sources) or "none")
            )
        if (self.pick is None) != (self.choices is None):
            raise ValueError("pick and choices go together")
        if self.value is not None and self.value.count(".") != 1:
            raise ValueError(f"value must be 'table.column', got {self.value!r}")
        return self


class EntitySpec(Strict):
    """Rows of ``from`` (one table, or several with the same index, united)
    become entities; without ``from`` there is one entity, the agent itself.
    ``let`` names helper values (computed first, never exported) that
    ``at``, ``pick`` and ``field`` may refer to; ``fields`` are exported.
    """

    from_: list[str] = Field(default_factory=list, alias="from")
    let: dict[str, ValueSpec] = Field(default_factory=dict)
    fields: dict[str, ValueSpec] = Field(default_factory=dict)

    @field_validator("from_", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class ApSpec(EntitySpec):
    """``mac`` gives the AP's base MAC (its stable identity); ``up`` its state
    (1 operational, 0 not; absent means "answered, so up")."""

    mac: ValueSpec | None = None
    up: ValueSpec | None = None


class RadioSpec(EntitySpec):
    """``ap`` links a radio row to its AP's ``mac`` (absent for a stand-alone
    agent); ``radio`` is the radio's slot/index; ``band`` its band. Rows that
    name the same radio are merged: counts and counters summed, the first
    row's value kept for the rest (channel, power, noise, utilisation)."""

    ap: ValueSpec | None = None
    radio: ValueSpec
    band: ValueSpec | None = None


class SsidSpec(EntitySpec):
    """Rows that name the same AP and SSID are merged like radio rows (e.g.
    one per band: clients summed)."""

    ap: ValueSpec | None = None
    ssid: ValueSpec


class MatchSpec(Strict):
    """``sys_object_id``: OID prefixes on sub-identifier boundaries; the
    longest matching prefix wins. ``sys_descr``: a regex that must also
    match (search, case-sensitive) and that wins ties."""

    sys_object_id: list[Oid]
    sys_descr: str | None = None

    @field_validator("sys_object_id", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if isinstance(value, list):
            return [_oid(item) for item in value]
        return value


class Profile(Strict):
    """One vendor family. ``kind`` says whether the agent is a controller
    (its tables list many APs) or an access point (the agent is the AP)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    vendor: str
    kind: Literal["controller", "ap"]
    match: MatchSpec | None = None
    scalars: dict[str, Oid] = Field(default_factory=dict)
    tables: dict[str, TableSpec] = Field(default_factory=dict)
    ap: ApSpec
    radio: RadioSpec | None = None
    ssid: SsidSpec | None = None

    @field_validator("scalars", mode="before")
    @classmethod
    def _parse_scalars(cls, value: object) -> object:
        if isinstance(value, dict):
            return {key: _oid(oid, str(key)) for key, oid in value.items()}
        return value
