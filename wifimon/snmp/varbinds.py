"""The pieces of a PDU both lean codecs share: small INTEGER fields, the
NULL-valued varbinds of a request, and the varbind list of a response.

One copy, so SNMPv1/v2c and SNMPv3 decode values exactly alike.
"""

from __future__ import annotations

from wifimon.snmp.ber import (
    TAG_INTEGER,
    TAG_OBJECT_ID,
    TAG_SEQUENCE,
    BerError,
    decode_integer,
    decode_oid,
    decode_value,
    encode_integer,
    encode_oid,
    encode_tlv,
    expect,
    read_header,
)
from wifimon.snmp.types import Oid, VarBind

# A poller asks for the same OIDs every poll: their encoded request varbinds
# are kept, up to a bound that a city's profiles never reach.
_VARBIND_CACHE_LIMIT = 100_000
_varbind_cache: dict[Oid, bytes] = {}


def int_tlv(value: int) -> bytes:
    """A complete INTEGER TLV, e.g. ``int_tlv(5) == b"\\x02\\x01\\x05"``."""
    content = encode_integer(value)
    return bytes((TAG_INTEGER, len(content))) + content


def null_varbind(oid: Oid) -> bytes:
    """The request varbind ``oid = NULL``, encoded once per OID."""
    encoded = _varbind_cache.get(oid)
    if encoded is None:
        encoded = encode_tlv(TAG_SEQUENCE, encode_tlv(TAG_OBJECT_ID, encode_oid(oid)) + b"\x05\x00")
        if len(_varbind_cache) >= _VARBIND_CACHE_LIMIT:
            _varbind_cache.clear()
        _varbind_cache[tuple(oid)] = encoded
    return encoded


def decode_varbinds(data: bytes, pos: int, end: int) -> list[VarBind]:
    """The varbinds between ``pos`` and ``end`` of ``data``; ``BerError`` if
    any is malformed."""
    # The hot loop (every varbind of every walk): the usual short-form
    # lengths are read inline, anything else through ``ber.expect`` and
    # ``ber.read_header``; either way every span is checked against its
    # enclosing one.
    varbinds: list[VarBind] = []
    append = varbinds.append
    while pos < end:
        if pos + 2 <= end and data[pos] == TAG_SEQUENCE and data[pos + 1] < 0x80:
            start, stop = pos + 2, pos + 2 + data[pos + 1]
            if stop > end:
                raise BerError("length beyond buffer")
        else:
            start, stop = expect(data, pos, end, TAG_SEQUENCE)
        if start + 2 <= stop and data[start] == TAG_OBJECT_ID and data[start + 1] < 0x80:
            name_start, name_end = start + 2, start + 2 + data[start + 1]
        else:
            name_start, name_end = expect(data, start, stop, TAG_OBJECT_ID)
        if name_end + 2 <= stop and data[name_end + 1] < 0x80:
            tag, value_start = data[name_end], name_end + 2
            value_end = value_start + data[name_end + 1]
        else:
            tag, value_start, value_end = read_header(data, name_end, stop)
        if value_end != stop:  # also catches an OID running past its varbind
            raise BerError("varbind length mismatch")
        append(
            VarBind(
                decode_oid(data[name_start:name_end]),
                decode_value(tag, data[value_start:value_end]),
            )
        )
        pos = stop
    return varbinds


def decode_pdu_body(data: bytes, pos: int, pdu_end: int) -> tuple[int, int, int, list[VarBind]]:
    """Request id, the two status fields and the varbinds of the PDU whose
    content runs from ``pos`` to ``pdu_end``; ``BerError`` if malformed."""
    numbers = []
    for _ in range(3):
        start, field_end = expect(data, pos, pdu_end, TAG_INTEGER)
        numbers.append(decode_integer(data[start:field_end]))
        pos = field_end
    pos, list_end = expect(data, pos, pdu_end, TAG_SEQUENCE)
    if list_end != pdu_end:
        raise BerError("trailing bytes after varbind list")
    return numbers[0], numbers[1], numbers[2], decode_varbinds(data, pos, list_end)
