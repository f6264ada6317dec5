"""The small subset of BER (X.690) that SNMPv1/v2c messages use.

Why not pyasn1? Profiling showed its generic, schema-driven decoder is more
than half of pysnmp's cost per varbind. SNMP needs a dozen tags and definite
lengths only, so this module handles exactly those, with slicing and
``int.from_bytes`` instead of per-byte Python loops where it can.

Decoding is strict: truncated input, a length beyond its enclosing value,
indefinite lengths, non-minimal OID sub-identifiers, oversize unsigned
values and unknown tags all raise ``BerError`` and nothing else.
"""

from __future__ import annotations

from wifimon.snmp.types import Oid, SnmpValue, ValueKind

TAG_INTEGER = 0x02
TAG_OCTET_STRING = 0x04
TAG_NULL = 0x05
TAG_OBJECT_ID = 0x06
TAG_SEQUENCE = 0x30
TAG_IP_ADDRESS = 0x40
TAG_COUNTER32 = 0x41
TAG_GAUGE32 = 0x42
TAG_TIMETICKS = 0x43
TAG_OPAQUE = 0x44
TAG_COUNTER64 = 0x46
TAG_NO_SUCH_OBJECT = 0x80
TAG_NO_SUCH_INSTANCE = 0x81
TAG_END_OF_MIB_VIEW = 0x82
TAG_GET_REQUEST = 0xA0
TAG_GET_NEXT_REQUEST = 0xA1
TAG_RESPONSE = 0xA2
TAG_GET_BULK_REQUEST = 0xA5

MAX_UINT32 = 2**32 - 1
MAX_UINT64 = 2**64 - 1
# Four length octets already allow 4 GiB; a UDP datagram is at most 64 KiB.
_MAX_LENGTH_OCTETS = 4
# Decoded OIDs repeat on every poll; caching them by their encoding turns
# the only per-byte loop left into a dict lookup. Bounded, cleared when full.
_OID_CACHE_LIMIT = 100_000
_oid_cache: dict[bytes, Oid] = {}


class BerError(ValueError):
    """Malformed or unsupported BER; the message is a short reason."""


_KIND_BY_TAG: dict[int, ValueKind] = {
    TAG_INTEGER: ValueKind.INTEGER,
    TAG_OCTET_STRING: ValueKind.OCTET_STRING,
    TAG_NULL: ValueKind.NULL,
    TAG_OBJECT_ID: ValueKind.OBJECT_ID,
    TAG_IP_ADDRESS: ValueKind.IP_ADDRESS,
    TAG_COUNTER32: ValueKind.COUNTER32,
    TAG_GAUGE32: ValueKind.GAUGE32,
    TAG_TIMETICKS: ValueKind.TIMETICKS,
    TAG_OPAQUE: ValueKind.OPAQUE,
    TAG_COUNTER64: ValueKind.COUNTER64,
    TAG_NO_SUCH_OBJECT: ValueKind.NO_SUCH_OBJECT,
    TAG_NO_SUCH_INSTANCE: ValueKind.NO_SUCH_INSTANCE,
    TAG_END_OF_MIB_VIEW: ValueKind.END_OF_MIB_VIEW,
}
_TAG_BY_KIND = {kind: tag for tag, kind in _KIND_BY_TAG.items()}
_UNSIGNED_LIMIT: dict[int, int] = {
    TAG_COUNTER32: MAX_UINT32,
    TAG_GAUGE32: MAX_UINT32,
    TAG_TIMETICKS: MAX_UINT32,
    TAG_COUNTER64: MAX_UINT64,
}
_EMPTY_TAGS = frozenset({TAG_NULL, TAG_NO_SUCH_OBJECT, TAG_NO_SUCH_INSTANCE, TAG_END_OF_MIB_VIEW})


# --- decoding ---------------------------------------------------------------


def read_header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """Read the tag and length at ``pos``; return ``(tag, content_start, content_end)``.

    ``end`` is where the enclosing value stops; the content must fit in it.
    Example: ``read_header(b"\\x02\\x01\\x05", 0, 3) == (2, 2, 3)``.
    """
    if pos + 2 > end:
        raise BerError("truncated header")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0:
            raise BerError("indefinite length")
        if count > _MAX_LENGTH_OCTETS:
            raise BerError("length field too long")
        if pos + count > end:
            raise BerError("truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    stop = pos + length
    if stop > end:
        raise BerError("length beyond buffer")
    return tag, pos, stop


def expect(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    """Like ``read_header`` but the tag must be ``tag``; return the content span."""
    found, start, stop = read_header(data, pos, end)
    if found != tag:
        raise BerError(f"expected tag 0x{tag:02x}, got 0x{found:02x}")
    return start, stop


def decode_integer(content: bytes) -> int:
    """Two's complement, any length: ``decode_integer(b"\\xff") == -1``."""
    if not content:
        raise BerError("empty INTEGER")
    return int.from_bytes(content, "big", signed=True)


def decode_unsigned(content: bytes, limit: int) -> int:
    """An unsigned application integer (leading 0x00 allowed) up to ``limit``."""
    if not content:
        raise BerError("empty unsigned integer")
    value = int.from_bytes(content, "big")
    if value > limit:
        raise BerError("unsigned integer out of range")
    return value


def decode_oid(content: bytes) -> Oid:
    """``decode_oid(b"\\x2b\\x06\\x01") == (1, 3, 6, 1)``; 40*x+y first, base-128 after."""
    cached = _oid_cache.get(content)
    if cached is not None:
        return cached
    if not content:
        raise BerError("empty OBJECT IDENTIFIER")
    if content[-1] & 0x80:
        raise BerError("truncated sub-identifier")
    subids = list(content) if max(content) < 0x80 else _decode_subids(content)
    first = subids[0]
    if first < 40:
        head: Oid = (0, first)
    elif first < 80:
        head = (1, first - 40)
    else:
        head = (2, first - 80)
    oid = head + tuple(subids[1:])
    if len(_oid_cache) >= _OID_CACHE_LIMIT:
        _oid_cache.clear()
    _oid_cache[bytes(content)] = oid
    return oid


def _decode_subids(content: bytes) -> list[int]:
    subids: list[int] = []
    value = 0
    starting = True
    for byte in content:
        if starting and byte == 0x80:
            raise BerError("non-minimal sub-identifier")
        value = (value << 7) | (byte & 0x7F)
        if byte & 0x80:
            starting = False
        else:
            subids.append(value)
            value = 0
            starting = True
    return subids


def decode_value(tag: int, content: bytes) -> SnmpValue:
    """The varbind value with BER ``tag`` and ``content`` as wifimon's ``SnmpValue``."""
    kind = _KIND_BY_TAG.get(tag)
    if kind is None:
        raise BerError(f"unsupported value tag 0x{tag:02x}")
    if tag == TAG_INTEGER:
        return SnmpValue(kind, decode_integer(content))
    limit = _UNSIGNED_LIMIT.get(tag)
    if limit is not None:
        return SnmpValue(kind, decode_unsigned(content, limit))
    if tag in (TAG_OCTET_STRING, TAG_OPAQUE):
        return SnmpValue(kind, bytes(content))
    if tag == TAG_OBJECT_ID:
        return SnmpValue(kind, decode_oid(content))
    if tag == TAG_IP_ADDRESS:
        if len(content) != 4:
            raise BerError("IpAddress is not 4 octets")
        return SnmpValue(kind, bytes(content))
    if content:  # NULL and the three exceptions carry nothing
        raise BerError("non-empty NULL")
    return SnmpValue(kind, None)


# --- encoding ---------------------------------------------------------------


def encode_length(length: int) -> bytes:
    """Short form below 128, else long form: ``encode_length(200) == b"\\x81\\xc8"``."""
    if length < 0x80:
        return bytes((length,))
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def encode_tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + encode_length(len(content)) + content


def encode_integer(value: int) -> bytes:
    """Minimal two's complement content octets: ``encode_integer(128) == b"\\x00\\x80"``."""
    magnitude = value if value >= 0 else ~value
    return value.to_bytes((magnitude.bit_length() + 8) // 8, "big", signed=True)


def encode_unsigned(value: int, limit: int) -> bytes:
    if not 0 <= value <= limit:
        raise BerError("unsigned integer out of range")
    return value.to_bytes((value.bit_length() + 8) // 8, "big")


def encode_oid(oid: Oid) -> bytes:
    """Content octets of an OID of at least two arcs, e.g. ``(1, 3, 6, 1)``."""
    if len(oid) < 2 or not 0 <= oid[0] <= 2 or oid[1] < 0 or (oid[0] < 2 and oid[1] >= 40):
        raise BerError(f"not an encodable OID: {oid!r}")
    subids = (oid[0] * 40 + oid[1], *oid[2:])
    if min(subids) < 0:
        raise BerError(f"negative sub-identifier in {oid!r}")
    if max(subids) < 0x80:
        return bytes(subids)
    return b"".join(_encode_subid(subid) for subid in subids)


def _encode_subid(subid: int) -> bytes:
    if subid < 0x80:
        return bytes((subid,))
    octets = [subid & 0x7F]
    subid >>= 7
    while subid:
        octets.append(0x80 | (subid & 0x7F))
        subid >>= 7
    return bytes(reversed(octets))


def encode_value(value: SnmpValue) -> bytes:
    """The whole TLV for ``value``; inverse of ``decode_value``."""
    tag = _TAG_BY_KIND[value.kind]
    raw = value.value
    if tag == TAG_INTEGER and isinstance(raw, int):
        return encode_tlv(tag, encode_integer(raw))
    limit = _UNSIGNED_LIMIT.get(tag)
    if limit is not None and isinstance(raw, int):
        return encode_tlv(tag, encode_unsigned(raw, limit))
    if tag in (TAG_OCTET_STRING, TAG_OPAQUE, TAG_IP_ADDRESS) and isinstance(raw, bytes):
        if tag == TAG_IP_ADDRESS and len(raw) != 4:
            raise BerError("IpAddress is not 4 octets")
        return encode_tlv(tag, raw)
    if tag == TAG_OBJECT_ID and isinstance(raw, tuple):
        return encode_tlv(tag, encode_oid(raw))
    if tag in _EMPTY_TAGS and raw is None:
        return bytes((tag, 0))
    raise BerError(f"value does not fit its kind {value.kind.value}")
