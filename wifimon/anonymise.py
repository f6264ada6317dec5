"""Anonymise a recorded walk before it is committed (``wifimon record``).

What is replaced: MAC addresses (6-byte values, ``aa:bb:..`` text, and the
MAC sub-ids of the indexes of tables a profile indexes by ``mac`` or
``mac_prefixed``), IPv4 addresses (IpAddress values, dotted text in columns
mapped to ``ip``, and the address sub-ids of the standard IP-indexed tables),
and the text of columns mapped to ``name``, ``serial`` or ``ip``, of
sysContact, sysName, sysLocation and of a few standard private columns.
What is kept: numbers, enums, counters, OIDs, sysDescr, and the columns a
profile maps to ``model``, ``firmware`` or an SSID (public by nature).

Every fake value is a keyed hash (HMAC-SHA-256) of the original, so the same
MAC becomes the same fake MAC wherever it appears, in an index or a value,
and joined tables still join; the same text becomes the same fake text in
every column. Fakes never equal an original of the same recording (a clash
is hashed again), and their ranges say "not real": MACs are locally
administered unicast (``02:...``), addresses come from 198.18.0.0/15
(RFC 2544 benchmarking), texts read ``name-1f2e3d4c5b``. 0.0.0.0 and
255.255.255.255 are kept: they say "no address", not which.

Example::

    plan = plan_for(profile)
    result = anonymise(varbinds, plan, key=b"per-recording salt")
    result.varbinds     # sorted by OID, ready for the snmprec writer
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from wifimon.profiles.registry import SYSTEM_SCALARS
from wifimon.profiles.schema import EntitySpec, IndexType, Profile, ValueSpec
from wifimon.snmp.types import Oid, SnmpValue, ValueKind, VarBind

IndexKind = IndexType | Literal["ip"]
TextKind = Literal["name", "serial", "ip", "location", "contact"]

MAC_LENGTH = 6
IPV4_LENGTH = 4
KEPT_IPS = frozenset({bytes(4), b"\xff" * 4})
FAKE_MAC_FIRST_BYTE = 0x02  # locally administered, unicast
SYS_CONTACT: Oid = (1, 3, 6, 1, 2, 1, 1, 4, 0)

# Private text of standard MIBs that no profile maps: who runs the device,
# where it stands, which box it is.
STANDARD_TEXT_COLUMNS: dict[Oid, TextKind] = {
    SYS_CONTACT: "contact",
    SYSTEM_SCALARS["name"]: "name",
    SYSTEM_SCALARS["location"]: "location",
    (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 11): "serial",  # entPhysicalSerialNum
    (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 15): "serial",  # entPhysicalAssetID
    (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18): "location",  # ifAlias: circuit ids, street names
}
# MIB-2 tables indexed by IPv4 addresses (RFC 1213), e.g. ipAddrTable rows
# are ``column.a.b.c.d``; their address sub-ids are replaced like values.
STANDARD_LAYOUTS: dict[Oid, tuple[IndexKind, ...]] = {
    (1, 3, 6, 1, 2, 1, 4, 20, 1): ("ip",),  # ipAddrEntry
    (1, 3, 6, 1, 2, 1, 4, 21, 1): ("ip",),  # ipRouteEntry
    (1, 3, 6, 1, 2, 1, 4, 22, 1): ("int", "ip"),  # ipNetToMediaEntry
    (1, 3, 6, 1, 2, 1, 6, 13, 1): ("ip", "int", "ip", "int"),  # tcpConnEntry
    (1, 3, 6, 1, 2, 1, 7, 5, 1): ("ip", "int"),  # udpEntry
}
FIELD_TEXT_KINDS: dict[str, TextKind] = {"name": "name", "serial": "serial", "ip": "ip"}
PUBLIC_FIELDS = frozenset({"model", "firmware"})
_MAC_TEXT = re.compile(rb"^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}$")
_DOTTED_QUAD = re.compile(rb"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")


# --- fake values: pure functions of the key and the original -------------------


def _digest(key: bytes, label: bytes, original: bytes, attempt: int) -> bytes:
    message = label + b"\0" + attempt.to_bytes(4, "big") + original
    return hmac.new(key, message, hashlib.sha256).digest()


def fake_mac(key: bytes, mac: bytes, attempt: int = 0) -> bytes:
    """A locally administered unicast MAC for ``mac``, e.g. ``02:5c:..``."""
    return bytes([FAKE_MAC_FIRST_BYTE]) + _digest(key, b"mac", mac, attempt)[:5]


def fake_ip(key: bytes, address: bytes, attempt: int = 0) -> bytes:
    """An address in 198.18.0.0/15 for the 4-byte ``address``."""
    digest = _digest(key, b"ip", address, attempt)
    return bytes([198, 18 | (digest[0] & 1), digest[1], digest[2]])


def fake_text(key: bytes, kind: TextKind, text: bytes, attempt: int = 0) -> bytes:
    """E.g. ``b"serial-0a1b2c3d4e"`` for a serial number."""
    return f"{kind}-{_digest(key, b'text', text, attempt)[:5].hex()}".encode()


# --- what to replace, from the profile ----------------------------------------


@dataclass(frozen=True)
class IndexLayout:
    """How a table's row index is cut; ``private`` maps the position of a
    string component that holds a name, serial or address to its kind."""

    kinds: tuple[IndexKind, ...]
    private: dict[int, TextKind] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """Which OIDs hold what: ``layouts`` by table entry OID (a column OID
    without its last sub-id); the column sets by column or scalar OID."""

    layouts: dict[Oid, IndexLayout]
    text_columns: dict[Oid, TextKind]
    mac_columns: frozenset[Oid]
    public_columns: frozenset[Oid]

    @cached_property
    def _entry_lengths(self) -> tuple[int, ...]:
        return tuple(sorted({len(entry) for entry in self.layouts}, reverse=True))

    def entry_of(self, oid: Oid) -> Oid | None:
        """The table entry ``oid`` is a row of, if the plan knows the table."""
        for length in self._entry_lengths:
            if len(oid) > length + 1 and oid[:length] in self.layouts:
                return oid[:length]
        return None

    def column_of(self, oid: Oid) -> Oid:
        """The column of a row OID; a scalar (or an unknown OID) is its own column."""
        entry = self.entry_of(oid)
        return oid[: len(entry) + 1] if entry is not None else oid


def _nested(spec: ValueSpec) -> Iterator[ValueSpec]:
    yield spec
    for option in spec.first or []:
        yield from _nested(option)


def _column_oids(profile: Profile, spec: ValueSpec) -> Iterator[Oid]:
    """Every column or scalar OID ``spec`` (and its ``first`` options) reads."""
    for part in _nested(spec):
        for reference in [*([part.value] if part.value else []), *(part.choices or [])]:
            source, name = reference.split(".", 1)
            if source == "system":
                yield SYSTEM_SCALARS[name]
            elif source == "scalars":
                yield profile.scalars[name]
            else:
                yield profile.tables[source].columns[name]


def _all_specs(profile: Profile) -> Iterator[tuple[str, ValueSpec]]:
    """(field or key name, spec) of every value the profile computes."""
    entities: list[tuple[EntitySpec, dict[str, ValueSpec | None]]] = [
        (profile.ap, {"mac": profile.ap.mac, "up": profile.ap.up})
    ]
    if profile.radio is not None:
        entities.append((profile.radio, {"ap": profile.radio.ap}))
    if profile.ssid is not None:
        entities.append((profile.ssid, {"ap": profile.ssid.ap, "ssid": profile.ssid.ssid}))
    for entity, extra in entities:
        yield from entity.let.items()
        yield from entity.fields.items()
        yield from ((name, spec) for name, spec in extra.items() if spec is not None)


def _mac_columns(profile: Profile) -> frozenset[Oid]:
    """Columns read with ``transform: mac`` (an outer transform covers its
    ``first`` options too, as the evaluator applies it to their result)."""
    columns: set[Oid] = set()
    for _, spec in _all_specs(profile):
        for option in _nested(spec):
            if option.transform == "mac":
                columns.update(_column_oids(profile, option))
    return frozenset(columns)


def _private_index_names(profile: Profile) -> dict[str, TextKind]:
    """Index components whose value is exported as a name, serial or address."""
    names: dict[str, TextKind] = {}
    for field_name, spec in _all_specs(profile):
        kind = FIELD_TEXT_KINDS.get(field_name)
        if kind is None:
            continue
        for option in _nested(spec):
            if option.index is not None:
                names.setdefault(option.index, kind)
    return names


def _layouts(profile: Profile) -> dict[Oid, IndexLayout]:
    layouts = {entry: IndexLayout(kinds) for entry, kinds in STANDARD_LAYOUTS.items()}
    private = _private_index_names(profile)
    for table in profile.tables.values():
        positions = {
            position: private[name]
            for position, (name, kind) in enumerate(table.index.items())
            if name in private and kind in ("string", "string_implied")
        }
        for column in table.columns.values():
            layouts[column[:-1]] = IndexLayout(tuple(table.index.values()), positions)
    return layouts


def plan_for(profile: Profile) -> Plan:
    """What to replace in a recording of an agent that ``profile`` describes."""
    text_columns = dict(STANDARD_TEXT_COLUMNS)
    public: set[Oid] = {SYSTEM_SCALARS["descr"]}
    for field_name, spec in _all_specs(profile):
        if field_name in FIELD_TEXT_KINDS:
            for column in _column_oids(profile, spec):
                text_columns[column] = FIELD_TEXT_KINDS[field_name]
        elif field_name in PUBLIC_FIELDS or field_name == "ssid":
            public.update(_column_oids(profile, spec))
    return Plan(_layouts(profile), text_columns, _mac_columns(profile), frozenset(public))


# --- reading indexes and values ------------------------------------------------

Segment = tuple[IndexKind, tuple[int, ...]]


def _octets_ok(sub_ids: Sequence[int]) -> bool:
    return all(0 <= part <= 255 for part in sub_ids)


def _cut(kind: IndexKind, rest: Oid) -> tuple[tuple[int, ...], Oid] | None:
    """Cut one component's sub-ids off ``rest``, as tables.parse_index does."""
    width = {"int": 1, "mac": MAC_LENGTH, "ip": IPV4_LENGTH}.get(kind)
    if kind == "mac_prefixed":
        prefixed = len(rest) > MAC_LENGTH and rest[0] == MAC_LENGTH
        width = MAC_LENGTH + 1 if prefixed else MAC_LENGTH
    elif kind == "string":
        width = rest[0] + 1 if rest else None
    elif kind in ("string_implied", "oid_rest"):
        width = len(rest)
    if width is None or len(rest) < width:
        return None
    part = rest[:width]
    if kind in ("mac", "mac_prefixed", "ip", "string", "string_implied") and not _octets_ok(part):
        return None
    return part, rest[width:]


def segments(kinds: Sequence[IndexKind], suffix: Oid) -> list[Segment] | None:
    """``suffix`` cut into one (kind, sub-ids) per component; ``None`` if it
    does not parse or has sub-ids left over."""
    found: list[Segment] = []
    rest = suffix
    for kind in kinds:
        cut = _cut(kind, rest)
        if cut is None:
            return None
        part, rest = cut
        found.append((kind, part))
    return found if not rest else None


def _string_bytes(kind: IndexKind, part: tuple[int, ...]) -> bytes:
    return bytes(part[1:] if kind == "string" else part)


def _mac_bytes(kind: IndexKind, part: tuple[int, ...]) -> bytes:
    return bytes(part[-MAC_LENGTH:]) if kind in ("mac", "mac_prefixed") else b""


class ValueClass(enum.Enum):
    """What a value is, for anonymisation."""

    KEEP = "keep"  # numbers, OIDs, public text
    MAC = "mac"  # 6 bytes
    MAC_TEXT = "mac_text"  # "aa:bb:cc:dd:ee:ff" or with dashes
    IP = "ip"  # 4 bytes (IpAddress, or an octet string in an ip column)
    IP_TEXT = "ip_text"  # "192.0.2.1" in an ip column
    TEXT = "text"  # a name, serial, location... of a known column
    FREE_TEXT = "free_text"  # text of a column nobody described


def _printable(raw: bytes) -> bool:
    return all(0x20 <= byte < 0x7F for byte in raw)


def _dotted_quad(raw: bytes) -> bytes | None:
    match = _DOTTED_QUAD.match(raw)
    if match is None or any(int(part) > 255 for part in match.groups()):
        return None
    return bytes(int(part) for part in match.groups())


def _mac_text(raw: bytes) -> bytes | None:
    if _MAC_TEXT.match(raw) is None:
        return None
    return bytes.fromhex(raw.decode("ascii").replace(raw[2:3].decode("ascii"), ""))


def classify(varbind: VarBind, plan: Plan) -> tuple[ValueClass, TextKind | None]:
    """What ``varbind``'s value is, and for TEXT, which kind of text."""
    value = varbind.value
    if value.kind is ValueKind.IP_ADDRESS:
        return ValueClass.IP, None
    raw = value.value
    if value.kind is not ValueKind.OCTET_STRING or not isinstance(raw, bytes):
        return ValueClass.KEEP, None
    column = plan.column_of(varbind.oid)
    text_kind = plan.text_columns.get(varbind.oid) or plan.text_columns.get(column)
    if column in plan.public_columns or varbind.oid in plan.public_columns:
        return ValueClass.KEEP, None
    if len(raw) == MAC_LENGTH and (column in plan.mac_columns or not _printable(raw)):
        return ValueClass.MAC, None
    if _mac_text(raw) is not None:
        return ValueClass.MAC_TEXT, None
    if text_kind == "ip" and len(raw) == IPV4_LENGTH:  # what the ip transform reads
        return ValueClass.IP, None
    if text_kind == "ip" and _dotted_quad(raw) is not None:
        return ValueClass.IP_TEXT, None
    if text_kind is not None:
        return ValueClass.TEXT, text_kind
    return ValueClass.FREE_TEXT, None


def _parsed(identifier: bytes | None) -> bytes:
    # classify() said the text parses; a None here is a bug, not bad input
    if identifier is None:
        raise AssertionError("classified as an identifier but does not parse")
    return identifier


def _text_key(raw: bytes) -> bytes:
    """Texts compare without padding: a name may be NUL- or blank-padded."""
    return raw.replace(b"\0", b"").strip()


# --- the two passes --------------------------------------------------------------


@dataclass
class _Originals:
    """Every identifier of the recording, so fakes can avoid them all."""

    macs: set[bytes] = field(default_factory=set)
    ips: set[bytes] = field(default_factory=set)
    texts: dict[bytes, TextKind] = field(default_factory=dict)

    def add_index(self, varbind: VarBind, plan: Plan) -> None:
        entry = plan.entry_of(varbind.oid)
        if entry is None:
            return
        layout = plan.layouts[entry]
        for position, (kind, part) in enumerate(
            segments(layout.kinds, varbind.oid[len(entry) + 1 :]) or []
        ):
            if kind in ("mac", "mac_prefixed"):
                self.macs.add(_mac_bytes(kind, part))
            elif kind == "ip":
                self.ips.add(bytes(part))
            elif position in layout.private:
                self._text(_string_bytes(kind, part), layout.private[position])

    def add_value(self, varbind: VarBind, plan: Plan) -> None:
        how, text_kind = classify(varbind, plan)
        raw = varbind.value.value
        if not isinstance(raw, bytes):
            return
        if how is ValueClass.MAC:
            self.macs.add(raw)
        elif how is ValueClass.MAC_TEXT:
            self.macs.add(_parsed(_mac_text(raw)))
        elif how is ValueClass.IP:
            self.ips.add(raw)
        elif how is ValueClass.IP_TEXT:
            self.ips.add(_parsed(_dotted_quad(raw)))
        elif how is ValueClass.TEXT and text_kind is not None:
            self._text(raw, text_kind)

    def _text(self, raw: bytes, kind: TextKind) -> None:
        key = _text_key(raw)
        if key:
            self.texts.setdefault(key, kind)


def _assign(originals: Iterable[bytes], make: Callable[[bytes, int], bytes]) -> dict[bytes, bytes]:
    """A fake for each original, never equal to an original or another fake;
    sorted first, so the result does not depend on the order of the walk."""
    ordered = sorted(originals)
    taken = set(ordered)
    fakes: dict[bytes, bytes] = {}
    for original in ordered:
        attempt = 0
        while (fake := make(original, attempt)) in taken:
            attempt += 1
        taken.add(fake)
        fakes[original] = fake
    return fakes


@dataclass(frozen=True)
class _Fakes:
    macs: dict[bytes, bytes]
    ips: dict[bytes, bytes]
    texts: dict[bytes, bytes]

    @classmethod
    def build(cls, found: _Originals, key: bytes) -> _Fakes:
        return cls(
            macs=_assign(found.macs, lambda mac, n: fake_mac(key, mac, n)),
            ips=_assign(found.ips - KEPT_IPS, lambda ip, n: fake_ip(key, ip, n)),
            texts=_assign(found.texts, lambda text, n: fake_text(key, found.texts[text], text, n)),
        )

    def ip(self, address: bytes) -> bytes:
        return self.ips.get(address, address)  # only 0.0.0.0 and broadcast are absent


def _rewrite_segment(kind: IndexKind, part: tuple[int, ...], private: bool, fakes: _Fakes) -> Oid:
    if kind in ("mac", "mac_prefixed"):
        return part[: len(part) - MAC_LENGTH] + tuple(fakes.macs[_mac_bytes(kind, part)])
    if kind == "ip":
        return tuple(fakes.ip(bytes(part)))
    if private:
        text = _string_bytes(kind, part)
        fake = fakes.texts.get(_text_key(text), text)
        return ((len(fake),) if kind == "string" else ()) + tuple(fake)
    return part


def _rewrite_oid(oid: Oid, plan: Plan, fakes: _Fakes) -> Oid | None:
    """``oid`` with its index identifiers replaced; ``None`` if the index of
    a known table does not parse (it could hide a MAC: left out)."""
    entry = plan.entry_of(oid)
    if entry is None:
        return oid
    layout = plan.layouts[entry]
    column = oid[: len(entry) + 1]
    parts = segments(layout.kinds, oid[len(column) :])
    if parts is None:
        return None
    rewritten = [
        _rewrite_segment(kind, part, position in layout.private, fakes)
        for position, (kind, part) in enumerate(parts)
    ]
    return column + tuple(sub_id for part in rewritten for sub_id in part)


def _fake_mac_text(raw: bytes, fakes: _Fakes) -> bytes:
    separator = raw[2:3].decode("ascii")
    text = separator.join(f"{byte:02x}" for byte in fakes.macs[_parsed(_mac_text(raw))])
    return (text.upper() if raw.decode("ascii").isupper() else text).encode("ascii")


def _dotted(address: bytes) -> bytes:
    return ".".join(str(byte) for byte in address).encode("ascii")


def _rewrite_free_text(raw: bytes, fakes: _Fakes) -> bytes | None:
    """A known identifier in a column nobody described, else ``None`` (a
    6-byte MAC that looks like text, e.g. b"ABCDEF", is found this way)."""
    if len(raw) == MAC_LENGTH and raw in fakes.macs:
        return fakes.macs[raw]
    if _text_key(raw) in fakes.texts:
        return fakes.texts[_text_key(raw)]
    address = _dotted_quad(raw)
    if address is not None and address in fakes.ips:
        return _dotted(fakes.ips[address])
    return None


def _rewrite_value(varbind: VarBind, plan: Plan, fakes: _Fakes) -> tuple[bytes | None, bool]:
    """The new bytes (``None``: unchanged) and whether free text was kept."""
    how, _ = classify(varbind, plan)
    raw = varbind.value.value
    if how is ValueClass.KEEP or not isinstance(raw, bytes):
        return None, False
    if how is ValueClass.MAC:
        return fakes.macs[raw], False
    if how is ValueClass.MAC_TEXT:
        return _fake_mac_text(raw, fakes), False
    if how is ValueClass.IP:
        return fakes.ip(raw), False
    if how is ValueClass.IP_TEXT:
        return _dotted(fakes.ip(_parsed(_dotted_quad(raw)))), False
    if how is ValueClass.TEXT:
        return fakes.texts.get(_text_key(raw)), False  # None: empty, nothing to hide
    replaced = _rewrite_free_text(raw, fakes)
    return replaced, replaced is None and bool(_text_key(raw)) and _printable(raw)


@dataclass(frozen=True)
class Anonymised:
    """``varbinds`` sorted by OID; ``dropped``: rows left out because their
    index did not parse as the profile says; ``kept_text``: OIDs (as read)
    of text that no profile describes and that was kept as it was, for a
    person to review, e.g. ``[(1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 7, 1)]``."""

    varbinds: list[VarBind]
    dropped: int
    kept_text: list[Oid]


def anonymise(varbinds: Iterable[VarBind], plan: Plan, key: bytes) -> Anonymised:
    """Replace the identifiers of ``varbinds`` as the module docstring says;
    the same input, plan and key always give the same output."""
    ordered = sorted(varbinds, key=lambda varbind: varbind.oid)
    found = _Originals()
    for varbind in ordered:
        found.add_index(varbind, plan)
        found.add_value(varbind, plan)
    fakes = _Fakes.build(found, key)
    result: dict[Oid, VarBind] = {}
    dropped = 0
    kept: list[Oid] = []
    for varbind in ordered:
        oid = _rewrite_oid(varbind.oid, plan, fakes)
        if oid is None:
            dropped += 1
            continue
        new, kept_text = _rewrite_value(varbind, plan, fakes)
        if kept_text:
            kept.append(varbind.oid)
        value = varbind.value if new is None else SnmpValue(varbind.value.kind, new)
        result[oid] = VarBind(oid, value)
    return Anonymised([result[oid] for oid in sorted(result)], dropped, kept)
