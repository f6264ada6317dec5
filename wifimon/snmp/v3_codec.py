"""SNMPv3 messages (RFC 3412) with USM security parameters (RFC 3414), on ``ber``.

No cryptography here: ``encode_message`` leaves msgAuthenticationParameters
as zeros and says where they are, so the transport signs the whole message
in place (RFC 3414 6.3.1); ``decode_message`` returns the same offset so the
digest can be checked over the datagram with that field zeroed. An
encrypted scopedPDU comes back as its ciphertext, to be decrypted by ``usm``
and then read with ``decode_scoped_pdu``.

Decoding is strict (see ``ber``): anything malformed, or a field outside the
range RFC 3412/3414 give it, raises ``BerError`` and nothing else.
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
    TAG_OCTET_STRING,
    TAG_RESPONSE,
    TAG_SEQUENCE,
    BerError,
    decode_integer,
    encode_length,
    encode_tlv,
    expect,
    read_header,
)
from wifimon.snmp.types import Oid, VarBind
from wifimon.snmp.varbinds import decode_pdu_body, int_tlv, null_varbind

VERSION_3 = 3
USM_SECURITY_MODEL = 3
TAG_REPORT = 0xA8
FLAG_AUTH = 0x01
FLAG_PRIV = 0x02
FLAG_REPORTABLE = 0x04
MAX_MESSAGE_SIZE = 65507  # the largest UDP payload over IPv4
MAX_INT32 = 2**31 - 1
MIN_MAX_SIZE = 484  # RFC 3412: msgMaxSize (484..2^31-1)
MAX_USER_NAME = 32
_PDU_TAGS = frozenset(
    {TAG_GET_REQUEST, TAG_GET_NEXT_REQUEST, TAG_RESPONSE, TAG_GET_BULK_REQUEST, TAG_REPORT}
)


@dataclass(frozen=True, slots=True)
class V3Message:
    """One decoded SNMPv3 message, its scopedPDU still opaque.

    ``flags`` is msgFlags as a number (1 auth, 2 priv, 4 reportable);
    ``engine_id``/``engine_boots``/``engine_time`` the authoritative engine's
    (e.g. ``b"\\x80\\x00\\x1f\\x88\\x80..."``, 3, 1042); ``auth_offset`` is
    where msgAuthenticationParameters' content starts in the datagram;
    ``scoped`` is the plaintext ScopedPDU TLV, or with ``encrypted`` the
    encryptedPDU octets.
    """

    msg_id: int
    max_size: int
    flags: int
    security_model: int
    engine_id: bytes
    engine_boots: int
    engine_time: int
    user_name: bytes
    auth_params: bytes
    priv_params: bytes
    auth_offset: int
    scoped: bytes
    encrypted: bool


@dataclass(frozen=True, slots=True)
class ScopedPdu:
    """A decoded ScopedPDU; ``field2``/``field3`` are error-status/-index
    (non-repeaters/max-repetitions for GetBulk)."""

    context_engine_id: bytes
    context_name: bytes
    pdu_tag: int
    request_id: int
    field2: int
    field3: int
    varbinds: list[VarBind]

    @property
    def error_status(self) -> int:
        return self.field2

    @property
    def error_index(self) -> int:
        return self.field3


# --- encoding ---------------------------------------------------------------


def encode_scoped_pdu(
    context_engine_id: bytes,
    context_name: bytes,
    pdu_tag: int,
    request_id: int,
    oids: Sequence[Oid],
    *,
    field2: int = 0,
    field3: int = 0,
) -> bytes:
    """A ScopedPDU TLV holding a request PDU of ``oids`` with NULL values."""
    if pdu_tag not in _PDU_TAGS:
        raise BerError(f"unsupported PDU tag 0x{pdu_tag:02x}")
    if not -(2**31) <= request_id <= MAX_INT32:
        raise BerError("request id outside Integer32")
    if not (0 <= field2 <= MAX_INT32 and 0 <= field3 <= MAX_INT32):
        raise BerError("PDU fields must be 0..2^31-1")
    varbinds = b"".join([null_varbind(oid) for oid in oids])
    pdu = int_tlv(request_id) + int_tlv(field2) + int_tlv(field3)
    pdu += encode_tlv(TAG_SEQUENCE, varbinds)
    return encode_tlv(
        TAG_SEQUENCE,
        encode_tlv(TAG_OCTET_STRING, context_engine_id)
        + encode_tlv(TAG_OCTET_STRING, context_name)
        + encode_tlv(pdu_tag, pdu),
    )


def encode_message(
    msg_id: int,
    flags: int,
    security: tuple[bytes, int, int, bytes],
    priv_params: bytes,
    scoped: bytes,
    *,
    digest_length: int,
    max_size: int = MAX_MESSAGE_SIZE,
) -> tuple[bytes, int]:
    """The whole message with a zeroed digest, and the digest's offset in it.

    ``security`` is (engine id, boots, time, user name); ``scoped`` the
    ScopedPDU TLV, or the encryptedPDU octets when ``flags`` has FLAG_PRIV.
    """
    engine_id, boots, engine_time, user = security
    if not (0 <= msg_id <= MAX_INT32 and 0 <= boots <= MAX_INT32 and 0 <= engine_time <= MAX_INT32):
        raise BerError("msgID, engine boots and time must be 0..2^31-1")
    if len(user) > MAX_USER_NAME:
        raise BerError("user name longer than 32 octets")
    if not 0 <= flags <= 7:
        raise BerError("msgFlags out of range")
    if len(priv_params) >= 0x80 or digest_length >= 0x80:
        raise BerError("security parameters too long")
    engine_tlv, user_and_digest = _usm_constants(engine_id, user, digest_length)
    usm = (
        engine_tlv
        + int_tlv(boots)
        + int_tlv(engine_time)
        + user_and_digest
        + bytes((TAG_OCTET_STRING, len(priv_params)))
        + priv_params
    )
    usm = b"\x30" + encode_length(len(usm)) + usm
    global_data = int_tlv(msg_id) + int_tlv(max_size) + bytes((TAG_OCTET_STRING, 1, flags))
    global_data += b"\x02\x01\x03"  # msgSecurityModel: USM
    data = encode_tlv(TAG_OCTET_STRING, scoped) if flags & FLAG_PRIV else scoped
    body = (
        b"\x02\x01\x03"  # msgVersion 3
        + bytes((TAG_SEQUENCE, len(global_data)))
        + global_data
        + b"\x04"
        + encode_length(len(usm))
        + usm
        + data
    )
    message = b"\x30" + encode_length(len(body)) + body
    # the digest's content ends where the privacy parameters' TLV begins
    usm_end = len(message) - len(data)
    return message, usm_end - (2 + len(priv_params)) - digest_length


@lru_cache(maxsize=4096)
def _usm_constants(engine_id: bytes, user: bytes, digest_length: int) -> tuple[bytes, bytes]:
    # the same for every request to one agent as one user: encoded once
    return encode_tlv(TAG_OCTET_STRING, engine_id), encode_tlv(TAG_OCTET_STRING, user) + encode_tlv(
        TAG_OCTET_STRING, bytes(digest_length)
    )


def encode_discovery(msg_id: int) -> bytes:
    """RFC 3414 4: a reportable noAuthNoPriv GET with no engine id, user or varbinds."""
    scoped = encode_scoped_pdu(b"", b"", TAG_GET_REQUEST, msg_id, [])
    message, _ = encode_message(
        msg_id, FLAG_REPORTABLE, (b"", 0, 0, b""), b"", scoped, digest_length=0
    )
    return message


# --- decoding ---------------------------------------------------------------


def is_v3_message(data: bytes) -> bool:
    """Whether ``data`` starts like an SNMPv3 message (SEQUENCE, INTEGER 3);
    a cheap look for dispatching datagrams, not a validation."""
    try:
        _, start, _ = read_header(data, 0, len(data))
    except BerError:
        return False
    return data[0] == TAG_SEQUENCE and data[start : start + 3] == b"\x02\x01\x03"


def decode_message(data: bytes) -> V3Message:
    """Decode an SNMPv3 message's framing and USM header; raise only ``BerError``."""
    try:
        return _decode_message(bytes(data))
    except BerError:
        raise
    except (IndexError, ValueError, TypeError, OverflowError) as exc:  # defence in depth
        raise BerError(f"malformed message ({type(exc).__name__})") from exc


def _integer(data: bytes, pos: int, end: int, low: int, high: int) -> tuple[int, int]:
    start, stop = expect(data, pos, end, TAG_INTEGER)
    value = decode_integer(data[start:stop])
    if not low <= value <= high:
        raise BerError("integer field out of range")
    return value, stop


def _octets(data: bytes, pos: int, end: int) -> tuple[bytes, int, int]:
    start, stop = expect(data, pos, end, TAG_OCTET_STRING)
    return data[start:stop], start, stop


def _decode_message(data: bytes) -> V3Message:
    end = len(data)
    pos, stop = expect(data, 0, end, TAG_SEQUENCE)
    if stop != end:
        raise BerError("trailing bytes after message")
    version, pos = _integer(data, pos, stop, 0, MAX_INT32)
    if version != VERSION_3:
        raise BerError(f"not an SNMPv3 message (version {version})")
    start, global_end = expect(data, pos, stop, TAG_SEQUENCE)
    msg_id, field_end = _integer(data, start, global_end, 0, MAX_INT32)
    max_size, field_end = _integer(data, field_end, global_end, MIN_MAX_SIZE, MAX_INT32)
    flags_octets, _, field_end = _octets(data, field_end, global_end)
    if len(flags_octets) != 1:
        raise BerError("msgFlags is not one octet")
    flags = flags_octets[0]
    model, field_end = _integer(data, field_end, global_end, 0, MAX_INT32)
    if model != USM_SECURITY_MODEL or field_end != global_end:
        raise BerError("not a USM message")
    _, usm_start, usm_end = _octets(data, global_end, stop)
    pos, usm_stop = expect(data, usm_start, usm_end, TAG_SEQUENCE)
    if usm_stop != usm_end:
        raise BerError("trailing bytes after security parameters")
    engine_id, _, pos = _octets(data, pos, usm_stop)
    boots, pos = _integer(data, pos, usm_stop, 0, MAX_INT32)
    engine_time, pos = _integer(data, pos, usm_stop, 0, MAX_INT32)
    user_name, _, pos = _octets(data, pos, usm_stop)
    if len(user_name) > MAX_USER_NAME:
        raise BerError("user name longer than 32 octets")
    auth_params, auth_offset, pos = _octets(data, pos, usm_stop)
    priv_params, _, pos = _octets(data, pos, usm_stop)
    if pos != usm_stop:
        raise BerError("trailing bytes in security parameters")
    tag, scoped_start, scoped_end = read_header(data, usm_end, stop)
    if scoped_end != stop:
        raise BerError("trailing bytes after scopedPDU")
    if tag == TAG_OCTET_STRING:
        scoped, encrypted = data[scoped_start:scoped_end], True
    elif tag == TAG_SEQUENCE:
        scoped, encrypted = data[usm_end:stop], False
    else:
        raise BerError(f"unexpected msgData tag 0x{tag:02x}")
    return V3Message(
        msg_id,
        max_size,
        flags,
        model,
        engine_id,
        boots,
        engine_time,
        user_name,
        auth_params,
        priv_params,
        auth_offset,
        scoped,
        encrypted,
    )


def decode_scoped_pdu(data: bytes, *, padded: bool = False) -> ScopedPdu:
    """Decode a plaintext ScopedPDU TLV; ``padded`` allows trailing octets
    (DES pads the plaintext to 8-octet blocks). Raises only ``BerError``."""
    try:
        return _decode_scoped_pdu(bytes(data), padded)
    except BerError:
        raise
    except (IndexError, ValueError, TypeError, OverflowError) as exc:  # defence in depth
        raise BerError(f"malformed scopedPDU ({type(exc).__name__})") from exc


def _decode_scoped_pdu(data: bytes, padded: bool) -> ScopedPdu:
    pos, stop = expect(data, 0, len(data), TAG_SEQUENCE)
    if stop != len(data) and not padded:
        raise BerError("trailing bytes after scopedPDU")
    context_engine_id, _, pos = _octets(data, pos, stop)
    context_name, _, pos = _octets(data, pos, stop)
    pdu_tag, pos, pdu_end = read_header(data, pos, stop)
    if pdu_tag not in _PDU_TAGS:
        raise BerError(f"unsupported PDU tag 0x{pdu_tag:02x}")
    if pdu_end != stop:
        raise BerError("trailing bytes after PDU")
    return ScopedPdu(context_engine_id, context_name, pdu_tag, *decode_pdu_body(data, pos, pdu_end))
