"""SNMPv1/v2c messages without pyasn1: request encoders and a response decoder
(and, for the simulator, a response encoder).

Requests are built from pre-encoded pieces: the version + community prefix
is constant per target and each requested OID's varbind (OID, NULL) is
constant too, so only the request id and the lengths change per request.
``decode_response`` walks the datagram once with slicing; it yields exactly
what pysnmp's decoder followed by ``pysnmp_transport.to_snmp_value`` yields
(tests/unit/test_ber_codec.py checks that against pysnmp itself).

``version`` is the wire value: 0 for SNMPv1, 1 for SNMPv2c.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from wifimon.snmp.ber import (
    TAG_GET_BULK_REQUEST,
    TAG_GET_NEXT_REQUEST,
    TAG_GET_REQUEST,
    TAG_INTEGER,
    TAG_OBJECT_ID,
    TAG_OCTET_STRING,
    TAG_RESPONSE,
    TAG_SEQUENCE,
    BerError,
    decode_integer,
    encode_integer,
    encode_length,
    encode_oid,
    encode_tlv,
    encode_value,
    expect,
    read_header,
)
from wifimon.snmp.types import Oid, VarBind
from wifimon.snmp.varbinds import decode_pdu_body, int_tlv, null_varbind

VERSION_1 = 0
VERSION_2C = 1
_PDU_TAGS = frozenset({TAG_GET_REQUEST, TAG_GET_NEXT_REQUEST, TAG_RESPONSE, TAG_GET_BULK_REQUEST})
_MIN_INT32 = -(2**31)
_MAX_INT32 = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Response:
    """One decoded SNMPv1/v2c message.

    ``version`` is 0 (v1) or 1 (v2c); ``community`` the raw octets, e.g.
    ``b"public"``; ``error_status``/``error_index`` are 0 on success (for a
    GetBulk request they carry non-repeaters and max-repetitions).
    """

    version: int
    community: bytes
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]


# --- encoding ---------------------------------------------------------------


@lru_cache(maxsize=4096)
def _message_prefix(version: int, community: bytes) -> bytes:
    if version not in (VERSION_1, VERSION_2C):
        raise BerError(f"unsupported SNMP version {version}")
    return encode_tlv(TAG_INTEGER, encode_integer(version)) + encode_tlv(
        TAG_OCTET_STRING, community
    )


def _encode_request(
    version: int,
    community: bytes | str,
    pdu_tag: int,
    request_id: int,
    oids: Sequence[Oid],
    *,
    field2: int = 0,
    field3: int = 0,
) -> bytes:
    # field2/field3 are error-status/error-index, or non-repeaters/max-repetitions
    if not _MIN_INT32 <= request_id <= _MAX_INT32:
        raise BerError("request id outside Integer32")
    varbinds = b"".join([null_varbind(oid) for oid in oids])
    return _encode_message(version, community, pdu_tag, request_id, field2, field3, varbinds)


def _encode_message(  # noqa: PLR0917 - the fields of the message, in wire order
    version: int,
    community: bytes | str,
    pdu_tag: int,
    request_id: int,
    field2: int,
    field3: int,
    varbinds: bytes,
) -> bytes:
    if isinstance(community, str):
        community = community.encode()
    pdu = (
        int_tlv(request_id)
        + int_tlv(field2)
        + int_tlv(field3)
        + b"\x30"
        + encode_length(len(varbinds))
        + varbinds
    )
    body = _message_prefix(version, community) + bytes((pdu_tag,)) + encode_length(len(pdu)) + pdu
    return b"\x30" + encode_length(len(body)) + body


def encode_get(version: int, community: bytes | str, request_id: int, oids: Sequence[Oid]) -> bytes:
    """A GetRequest, e.g. ``encode_get(1, b"public", 7, [(1, 3, 6, 1, 2, 1, 1, 5, 0)])``."""
    return _encode_request(version, community, TAG_GET_REQUEST, request_id, oids)


def encode_getnext(
    version: int, community: bytes | str, request_id: int, oids: Sequence[Oid]
) -> bytes:
    """A GetNextRequest for ``oids``."""
    return _encode_request(version, community, TAG_GET_NEXT_REQUEST, request_id, oids)


def encode_getbulk(
    community: bytes | str,
    request_id: int,
    non_repeaters: int,
    max_repetitions: int,
    oids: Sequence[Oid],
) -> bytes:
    """A GetBulkRequest (SNMPv2c only); ``max_repetitions`` e.g. 25."""
    if not 0 <= non_repeaters <= _MAX_INT32 or not 0 <= max_repetitions <= _MAX_INT32:
        raise BerError("non-repeaters and max-repetitions must be 0..2^31-1")
    return _encode_request(
        VERSION_2C,
        community,
        TAG_GET_BULK_REQUEST,
        request_id,
        oids,
        field2=non_repeaters,
        field3=max_repetitions,
    )


def encode_varbind(varbind: VarBind) -> bytes:
    """The complete varbind TLV of ``varbind`` (OID and value), as an agent
    puts it in a Response."""
    return encode_tlv(
        TAG_SEQUENCE,
        encode_tlv(TAG_OBJECT_ID, encode_oid(varbind.oid)) + encode_value(varbind.value),
    )


def encode_response(  # noqa: PLR0917 - the fields of the message, in wire order
    version: int,
    community: bytes | str,
    request_id: int,
    error_status: int,
    error_index: int,
    varbinds: Sequence[bytes],
) -> bytes:
    """A Response (the agent's side) carrying ``varbinds``, each already
    encoded by ``encode_varbind``."""
    return _encode_message(
        version, community, TAG_RESPONSE, request_id, error_status, error_index, b"".join(varbinds)
    )


# --- decoding ---------------------------------------------------------------


def decode_response(data: bytes) -> Response:
    """Decode a Response datagram; anything malformed raises ``BerError``."""
    pdu_tag, response = decode_message(data)
    if pdu_tag != TAG_RESPONSE:
        raise BerError(f"not a Response PDU (tag 0x{pdu_tag:02x})")
    return response


def decode_message(data: bytes) -> tuple[int, Response]:
    """Decode any v1/v2c Get/GetNext/GetBulk/Response message; return ``(pdu_tag, fields)``."""
    try:
        return _decode_message(bytes(data))
    except BerError:
        raise
    except (IndexError, ValueError, TypeError, OverflowError) as exc:  # defence in depth
        raise BerError(f"malformed message ({type(exc).__name__})") from exc


def _decode_message(data: bytes) -> tuple[int, Response]:
    end = len(data)
    start, stop = expect(data, 0, end, TAG_SEQUENCE)
    if stop != end:
        raise BerError("trailing bytes after message")
    pos, field_end = expect(data, start, stop, TAG_INTEGER)
    version = decode_integer(data[pos:field_end])
    if version not in (VERSION_1, VERSION_2C):
        raise BerError(f"unsupported SNMP version {version}")
    pos, field_end = expect(data, field_end, stop, TAG_OCTET_STRING)
    community = data[pos:field_end]
    pdu_tag, pos, pdu_end = read_header(data, field_end, stop)
    if pdu_tag not in _PDU_TAGS:
        raise BerError(f"unsupported PDU tag 0x{pdu_tag:02x}")
    if pdu_end != stop:
        raise BerError("trailing bytes after PDU")
    request_id, status, index, varbinds = decode_pdu_body(data, pos, pdu_end)
    return pdu_tag, Response(version, community, request_id, status, index, varbinds)
