"""Read snmpsim ``.snmprec`` recordings into sorted varbinds.

One record a line: ``OID|TAG|VALUE``, e.g. ``1.3.6.1.2.1.1.3.0|67|12345``.
TAG is the SMI type's BER tag as a decimal number (2 INTEGER, 4 OCTET STRING,
5 NULL, 6 OBJECT IDENTIFIER, 64 IpAddress, 65 Counter32, 66 Gauge32,
67 TimeTicks, 68 Opaque, 70 Counter64, 128-130 the exception values). A
trailing ``x`` (``4x``) means VALUE is hex. A ``:module`` suffix
(``65:numeric|rate=10,initial=5``) names an snmpsim variation module; we
take its ``initial=`` (or ``value=``, as ``writecache`` spells it) option as
the value, else zero, since tests want a fixed snapshot.

Files are read as ISO-8859-1, exactly as snmpsim does, so non-hex string
values keep their original bytes. Many real recordings repeat an OID on
consecutive lines; as in snmpsim's index, the last record wins.
"""

from __future__ import annotations

import bz2
import ipaddress
from collections.abc import Iterable
from pathlib import Path

from wifimon.snmp.types import Oid, SnmpValue, ValueKind, VarBind, parse_oid

_KIND_BY_TAG = {
    2: ValueKind.INTEGER,
    4: ValueKind.OCTET_STRING,
    5: ValueKind.NULL,
    6: ValueKind.OBJECT_ID,
    64: ValueKind.IP_ADDRESS,
    65: ValueKind.COUNTER32,
    66: ValueKind.GAUGE32,
    67: ValueKind.TIMETICKS,
    68: ValueKind.OPAQUE,
    70: ValueKind.COUNTER64,
    128: ValueKind.NO_SUCH_OBJECT,
    129: ValueKind.NO_SUCH_INSTANCE,
    130: ValueKind.END_OF_MIB_VIEW,
}
# Inclusive value ranges of the numeric SMI types.
_RANGES = {
    ValueKind.INTEGER: (-(2**31), 2**31 - 1),
    ValueKind.COUNTER32: (0, 2**32 - 1),
    ValueKind.GAUGE32: (0, 2**32 - 1),
    ValueKind.TIMETICKS: (0, 2**32 - 1),
    ValueKind.COUNTER64: (0, 2**64 - 1),
}
_HEX_KINDS = frozenset({ValueKind.OCTET_STRING, ValueKind.IP_ADDRESS, ValueKind.OPAQUE})
_ENCODING = "iso-8859-1"


def load_snmprec(path: Path) -> list[VarBind]:
    """Read ``path`` (``.snmprec``, or ``.snmprec.bz2`` decompressed on the fly)."""
    if path.suffix == ".bz2":
        with bz2.open(path, "rt", encoding=_ENCODING, newline="") as stream:
            return parse_snmprec(stream, source=str(path))
    with path.open("r", encoding=_ENCODING, newline="") as stream:
        return parse_snmprec(stream, source=str(path))


def parse_snmprec(lines: Iterable[str] | str, source: str = "<snmprec>") -> list[VarBind]:
    """Parse records into varbinds sorted by OID (a repeated OID: the last wins).

    Raises ``ValueError`` naming ``source`` and the line number of the first
    bad line.
    """
    if isinstance(lines, str):
        lines = lines.splitlines()
    by_oid: dict[Oid, VarBind] = {}
    for number, line in enumerate(lines, start=1):
        try:
            varbind = parse_snmprec_line(line)
        except ValueError as exc:
            raise ValueError(f"{source}:{number}: {exc}") from None
        if varbind is not None:
            by_oid[varbind.oid] = varbind
    return [by_oid[oid] for oid in sorted(by_oid)]


def parse_snmprec_line(line: str) -> VarBind | None:
    """One record, or ``None`` for a blank or ``#`` comment line."""
    # snmpsim strips the whole line before splitting; doing the same keeps
    # what we parse identical to what snmpsim serves.
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    parts = text.split("|", 2)
    if len(parts) != 3:
        raise ValueError(f"expected OID|TAG|VALUE, got {_shorten(text)!r}")
    oid_text, tag_text, value_text = parts
    oid = parse_oid(oid_text)
    tag_text, has_variation = _strip_variation(tag_text)
    is_hex = tag_text.endswith("x")
    kind = _kind(tag_text.removesuffix("x"))
    if is_hex and kind not in _HEX_KINDS:
        raise ValueError(f"hex value not allowed for tag {tag_text!r}")
    if has_variation:
        return VarBind(oid, _variation_value(kind, is_hex, value_text))
    return VarBind(oid, _parse_value(kind, is_hex, value_text))


def _strip_variation(tag_text: str) -> tuple[str, bool]:
    base, separator, module = tag_text.partition(":")
    if separator and not base:
        # ":module" serves a whole subtree from elsewhere (e.g. SQL); no value here
        raise ValueError(f"subtree variation record {tag_text!r} has no fixed value")
    if separator and not module:
        raise ValueError(f"empty variation module in tag {tag_text!r}")
    return base, bool(separator)


def _kind(tag: str) -> ValueKind:
    kind = _KIND_BY_TAG.get(int(tag)) if tag.isdigit() else None
    if kind is None:
        raise ValueError(f"unknown tag {tag!r}")
    return kind


def _variation_value(kind: ValueKind, is_hex: bool, options_text: str) -> SnmpValue:
    options = dict(
        option.partition("=")[::2] for option in options_text.split(",") if "=" in option
    )
    fixed = options.get("initial", options.get("value"))
    if fixed is not None:
        return _parse_value(kind, is_hex, fixed)
    return _zero(kind)


def _zero(kind: ValueKind) -> SnmpValue:
    if kind.is_numeric:
        return SnmpValue(kind, 0)
    if kind is ValueKind.IP_ADDRESS:
        return SnmpValue(kind, bytes(4))
    if kind in _HEX_KINDS:
        return SnmpValue(kind, b"")
    if kind is ValueKind.OBJECT_ID:
        return SnmpValue(kind, (0, 0))
    return SnmpValue(kind, None)


def _parse_value(kind: ValueKind, is_hex: bool, text: str) -> SnmpValue:
    if kind.is_numeric:
        return SnmpValue(kind, _number(kind, text))
    if kind is ValueKind.OBJECT_ID:
        return SnmpValue(kind, parse_oid(text))
    if kind is ValueKind.IP_ADDRESS:
        return SnmpValue(kind, _ip_address(text, is_hex))
    if kind in _HEX_KINDS:
        return SnmpValue(kind, _octets(text, is_hex))
    return SnmpValue(kind, None)  # NULL and the exception kinds carry no value


def _number(kind: ValueKind, text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        # variation modules may record a float initial value, e.g. "2.0"
        try:
            number = int(float(text))
        except OverflowError:
            raise ValueError(f"not a finite number: {text!r}") from None
    low, high = _RANGES[kind]
    if not low <= number <= high:
        raise ValueError(f"{number} out of range for {kind.value}")
    return number


def _octets(text: str, is_hex: bool) -> bytes:
    if is_hex:
        return bytes.fromhex(text)
    return text.encode(_ENCODING)


def _ip_address(text: str, is_hex: bool) -> bytes:
    if is_hex:
        packed = bytes.fromhex(text)
    elif len(text) == 4:  # a dotted quad is at least 7 characters
        packed = text.encode(_ENCODING)  # 4 raw octets, as pysnmp's IpAddress accepts
    else:
        packed = ipaddress.IPv4Address(text).packed
    if len(packed) != 4:
        raise ValueError(f"IpAddress must be 4 bytes, got {len(packed)}")
    return packed


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
