"""The lean v1/v2c codec decodes exactly what pysnmp decodes, and nothing else crashes it.

pysnmp (pyasn1's BER codec + ``pysnmp_transport.to_snmp_value``) is the
reference: responses it encodes must decode to the same fields here, our
requests must decode to the same PDU fields there, and on mutated input our
decoder raises only ``BerError``; where both decoders accept a mutated
message, they agree.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from tests.support.agents import run_snmpd
from wifimon.snmp.ber import (
    BerError,
    decode_integer,
    decode_oid,
    decode_value,
    encode_integer,
    encode_length,
    encode_oid,
    encode_value,
    read_header,
)
from wifimon.snmp.pysnmp_transport import to_snmp_value
from wifimon.snmp.types import Oid, SnmpValue, ValueKind, VarBind
from wifimon.snmp.v2c_codec import (
    Response,
    decode_message,
    decode_response,
    encode_get,
    encode_getbulk,
    encode_getnext,
    encode_response,
    encode_varbind,
)

UINT32 = 2**32 - 1
UINT64 = 2**64 - 1

# --- strategies -------------------------------------------------------------

subids = st.one_of(st.integers(0, 127), st.integers(0, UINT32), st.integers(0, 2**70))
oids: st.SearchStrategy[Oid] = st.one_of(
    st.tuples(st.integers(0, 1), st.integers(0, 39)),
    st.tuples(st.just(2), st.integers(0, 2**40)),
).flatmap(lambda head: st.lists(subids, max_size=16).map(lambda rest: head + tuple(rest)))

_KIND_VALUES: dict[ValueKind, st.SearchStrategy[Any]] = {
    # pysnmp constrains INTEGER values to Integer32
    ValueKind.INTEGER: st.integers(-(2**31), 2**31 - 1),
    ValueKind.OCTET_STRING: st.binary(max_size=300),
    ValueKind.NULL: st.none(),
    ValueKind.OBJECT_ID: oids,
    ValueKind.IP_ADDRESS: st.binary(min_size=4, max_size=4),
    ValueKind.COUNTER32: st.integers(0, UINT32),
    ValueKind.GAUGE32: st.integers(0, UINT32),
    ValueKind.TIMETICKS: st.integers(0, UINT32),
    ValueKind.OPAQUE: st.binary(max_size=40),
    ValueKind.COUNTER64: st.integers(0, UINT64),
    ValueKind.NO_SUCH_OBJECT: st.none(),
    ValueKind.NO_SUCH_INSTANCE: st.none(),
    ValueKind.END_OF_MIB_VIEW: st.none(),
}
values = st.sampled_from(list(ValueKind)).flatmap(
    lambda kind: _KIND_VALUES[kind].map(lambda raw: SnmpValue(kind, raw))
)
varbinds = st.lists(st.builds(VarBind, oids, values), max_size=30)
request_ids = st.integers(-(2**31), 2**31 - 1)
communities = st.binary(max_size=40)

# --- pysnmp as the reference --------------------------------------------------

_PYSNMP_CLASS: dict[ValueKind, Any] = {
    ValueKind.INTEGER: v2c.Integer,
    ValueKind.OCTET_STRING: v2c.OctetString,
    ValueKind.OBJECT_ID: v2c.ObjectIdentifier,
    ValueKind.IP_ADDRESS: v2c.IpAddress,
    ValueKind.COUNTER32: v2c.Counter32,
    ValueKind.GAUGE32: v2c.Gauge32,
    ValueKind.TIMETICKS: v2c.TimeTicks,
    ValueKind.OPAQUE: v2c.Opaque,
    ValueKind.COUNTER64: v2c.Counter64,
    ValueKind.NO_SUCH_OBJECT: v2c.NoSuchObject,
    ValueKind.NO_SUCH_INSTANCE: v2c.NoSuchInstance,
    ValueKind.END_OF_MIB_VIEW: v2c.EndOfMibView,
}
_PDU_TAG = {
    v2c.GetRequestPDU.tagSet: 0xA0,
    v2c.GetNextRequestPDU.tagSet: 0xA1,
    v2c.ResponsePDU.tagSet: 0xA2,
    v2c.GetBulkRequestPDU.tagSet: 0xA5,
}


def pysnmp_value(value: SnmpValue) -> Any:
    if value.kind is ValueKind.NULL:
        return v2c.null
    if value.kind.is_exception:
        return _PYSNMP_CLASS[value.kind]("")
    return _PYSNMP_CLASS[value.kind](value.value)


def pysnmp_encode_response(
    community: bytes, request_id: int, status: int, index: int, binds: list[VarBind]
) -> bytes:
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_error_status(pdu, status)
    v2c.apiPDU.set_error_index(pdu, index)
    v2c.apiPDU.set_varbinds(
        pdu, [(v2c.ObjectIdentifier(bind.oid), pysnmp_value(bind.value)) for bind in binds]
    )
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, community)
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def pysnmp_decode(data: bytes) -> tuple[int, Response]:
    """What pysnmp makes of ``data``, mapped as the pysnmp transport maps it."""
    message, rest = decoder.decode(data, asn1Spec=v2c.Message())
    if rest:
        raise ValueError("trailing bytes")
    pdu = v2c.apiMessage.get_pdu(message)
    tag = _PDU_TAG[pdu.tagSet]
    # raw positions: pysnmp's getters validate error-index against the varbinds
    second, third = int(pdu[1]), int(pdu[2])
    binds = [
        VarBind(tuple(int(part) for part in name.asTuple()), to_snmp_value(value))
        for name, value in v2c.apiPDU.get_varbinds(pdu)
    ]
    response = Response(
        int(message["version"]),
        bytes(message["community"]),
        int(pdu[0]),
        second,
        third,
        binds,
    )
    return tag, response


# --- round trips --------------------------------------------------------------


@given(st.integers(-(2**200), 2**200))
def test_integer_round_trips_with_minimal_octets(number: int) -> None:
    content = encode_integer(number)
    assert decode_integer(content) == number
    assert len(content) == 1 or (content[0], content[1] & 0x80) not in ((0, 0), (0xFF, 0x80))


@given(oids)
def test_oid_round_trips(oid: Oid) -> None:
    assert decode_oid(encode_oid(oid)) == oid


@given(values)
def test_value_round_trips(value: SnmpValue) -> None:
    encoded = encode_value(value)
    tag, start, stop = read_header(encoded, 0, len(encoded))
    assert stop == len(encoded)
    assert decode_value(tag, encoded[start:stop]) == value


@given(st.integers(0, 2**32 - 1))
def test_length_round_trips_in_short_and_long_form(length: int) -> None:
    header = b"\x04" + encode_length(length)
    assert read_header(header, 0, len(header) + length) == (4, len(header), len(header) + length)


@given(st.integers(0, 1), communities, request_ids, st.lists(oids, max_size=30))
def test_get_and_getnext_round_trip(
    version: int, community: bytes, request_id: int, wanted: list[Oid]
) -> None:
    for encode, tag in ((encode_get, 0xA0), (encode_getnext, 0xA1)):
        pdu_tag, message = decode_message(encode(version, community, request_id, wanted))
        assert pdu_tag == tag
        assert (message.version, message.community, message.request_id) == (
            version,
            community,
            request_id,
        )
        assert [bind.oid for bind in message.varbinds] == wanted
        assert all(bind.value == SnmpValue(ValueKind.NULL, None) for bind in message.varbinds)


# --- differential against pysnmp ---------------------------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(communities, request_ids, st.integers(0, 18), st.integers(0, 30), varbinds)
def test_responses_encoded_by_pysnmp_decode_identically(
    community: bytes, request_id: int, status: int, index: int, binds: list[VarBind]
) -> None:
    data = pysnmp_encode_response(community, request_id, status, index, binds)
    expected = pysnmp_decode(data)
    assert expected == (0xA2, Response(1, community, request_id, status, index, binds))
    assert decode_response(data) == expected[1]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(communities, request_ids, st.integers(0, 18), st.integers(0, 30), varbinds)
def test_pysnmp_decodes_our_responses_to_the_same_fields(
    community: bytes, request_id: int, status: int, index: int, binds: list[VarBind]
) -> None:
    """The simulator's response encoder (wifimon.simulator.responder). Not
    byte for byte: pysnmp encodes e.g. the request id -128 in two octets."""
    ours = encode_response(
        1, community, request_id, status, index, [encode_varbind(bind) for bind in binds]
    )
    assert pysnmp_decode(ours) == (0xA2, Response(1, community, request_id, status, index, binds))


@given(
    st.integers(0, 1),
    communities,
    request_ids,
    st.integers(0, 2**31 - 1),
    st.integers(0, 2**31 - 1),
    st.lists(oids, max_size=30),
)
def test_pysnmp_decodes_our_requests_to_the_same_fields(  # noqa: PLR0917 - one per strategy
    version: int,
    community: bytes,
    request_id: int,
    non_repeaters: int,
    max_repetitions: int,
    wanted: list[Oid],
) -> None:
    null_binds = [VarBind(oid, SnmpValue(ValueKind.NULL, None)) for oid in wanted]
    get = pysnmp_decode(encode_get(version, community, request_id, wanted))
    assert get == (0xA0, Response(version, community, request_id, 0, 0, null_binds))
    nxt = pysnmp_decode(encode_getnext(version, community, request_id, wanted))
    assert nxt == (0xA1, Response(version, community, request_id, 0, 0, null_binds))
    bulk = encode_getbulk(community, request_id, non_repeaters, max_repetitions, wanted)
    expected = Response(1, community, request_id, non_repeaters, max_repetitions, null_binds)
    assert pysnmp_decode(bulk) == (0xA5, expected)


# --- fuzz ----------------------------------------------------------------------


def _mutate(data: bytes, source: st.DataObject) -> bytes:
    draw = source.draw
    mutated = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not mutated:
            break
        where = draw(st.integers(0, len(mutated) - 1))
        operation = draw(st.sampled_from(["flip", "byte", "truncate", "delete", "insert"]))
        if operation == "flip":
            mutated[where] ^= 1 << draw(st.integers(0, 7))
        elif operation == "byte":
            mutated[where] = draw(st.integers(0, 255))
        elif operation == "truncate":
            del mutated[where:]
        elif operation == "delete":
            del mutated[where]
        else:
            mutated.insert(where, draw(st.integers(0, 255)))
    return bytes(mutated)


def _assert_consistent_with_pysnmp(data: bytes) -> None:
    try:
        ours = decode_message(data)
    except BerError:
        return  # stricter than pysnmp is allowed; any other exception fails the test
    try:
        theirs = pysnmp_decode(data)
    except Exception:  # pysnmp raises many types; only agreement matters
        return
    assert ours == theirs


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(communities, request_ids, st.integers(0, 18), st.integers(0, 30), varbinds, st.data())
def test_mutated_responses_raise_only_ber_error_and_agree_with_pysnmp(  # noqa: PLR0917 - one per strategy
    community: bytes,
    request_id: int,
    status: int,
    index: int,
    binds: list[VarBind],
    data: st.DataObject,
) -> None:
    original = pysnmp_encode_response(community, request_id, status, index, binds)
    _assert_consistent_with_pysnmp(_mutate(original, data))


@settings(max_examples=1000)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_ber_error(data: bytes) -> None:
    _assert_consistent_with_pysnmp(data)


@settings(max_examples=500)
@given(st.binary(max_size=60))
def test_random_content_after_a_valid_prefix_raises_only_ber_error(tail: bytes) -> None:
    _assert_consistent_with_pysnmp(bytes.fromhex("302502010104067075626c6963a218") + tail)


@pytest.mark.parametrize(
    ("hex_message", "reason"),
    [
        ("3080020101", "indefinite length"),
        ("30ff", "length field too long"),
        ("3005020101", "length beyond buffer"),
        ("30", "truncated header"),
        ("3003020101" + "00", "trailing bytes after message"),
        ("301002010104067075626c6963a210020101", "length beyond buffer"),
    ],
)
def test_malformed_framing_is_rejected_with_a_reason(hex_message: str, reason: str) -> None:
    with pytest.raises(BerError, match=reason):
        decode_response(bytes.fromhex(hex_message))


@pytest.mark.parametrize(
    ("tag", "content_hex", "reason"),
    [
        (0x41, "0100000000", "out of range"),  # Counter32 2^32
        (0x42, "0100000000", "out of range"),  # Gauge32 2^32
        (0x43, "0100000000", "out of range"),  # TimeTicks 2^32
        (0x46, "010000000000000000", "out of range"),  # Counter64 2^64
        (0x41, "", "empty"),
        (0x02, "", "empty INTEGER"),
        (0x06, "", "empty OBJECT IDENTIFIER"),
        (0x06, "2b86", "truncated sub-identifier"),
        (0x06, "2b8001", "non-minimal"),
        (0x40, "7f0000", "not 4 octets"),
        (0x05, "00", "non-empty NULL"),
        (0x80, "00", "non-empty NULL"),
        (0x47, "01", "unsupported value tag"),
    ],
)
def test_malformed_values_are_rejected(tag: int, content_hex: str, reason: str) -> None:
    with pytest.raises(BerError, match=reason):
        decode_value(tag, bytes.fromhex(content_hex))


def test_unsigned_types_accept_leading_zero_octets_up_to_their_maximum() -> None:
    assert decode_value(0x41, bytes.fromhex("00ffffffff")).value == UINT32
    assert decode_value(0x46, bytes.fromhex("00ffffffffffffffff")).value == UINT64
    assert decode_value(0x42, bytes.fromhex("0000000001")).value == 1


# --- fixed vectors captured from net-snmp 5.9 snmpd on 127.0.0.1 -------------------

SYS = (1, 3, 6, 1, 2, 1, 1)
IP_AD_ENT = (1, 3, 6, 1, 2, 1, 4, 20, 1)
CAPTURED = {
    # v2c GET sysDescr, sysObjectID, an absent sysDescr sibling, sysName
    "get": "307402010104067075626c6963a267020203e9020100020100305b301e06082b060102010101000412"
    "776966696d6f6e2074657374206167656e74301606082b06010201010200060a2b06010401bf0803020a"
    "300c06082b060102010163008000301306082b06010201010500040761702d74657374",
    # v2c GETBULK ipAdEntAddr, max-repetitions 5 (long-form outer length 0x81)
    "bulk_ip": "30818802010104067075626c6963a27b020203ec020100020100306f3015060d2b0601020104140101"
    "7f00000140047f0000013016060e2b060102010414010181400002024004c00002023012060d2b06010201"
    "041401027f0000010201013013060e2b060102010414010281400002020201043015060d2b060102010414"
    "01037f0000014004ff000000",
    # v2c GETNEXT past the end of the agent's view
    "next_end": "302502010104067075626c6963a218020203ed020100020100300c300a06062b06010603638200",
    # v1 GET sysDescr
    "v1_get": "303902010004067075626c6963a22c020203ee0201000201003020301e06082b0601020101010004"
    "12776966696d6f6e2074657374206167656e74",
}


def _octets(text: bytes) -> SnmpValue:
    return SnmpValue(ValueKind.OCTET_STRING, text)


EXPECTED = {
    "get": Response(
        1,
        b"public",
        1001,
        0,
        0,
        [
            VarBind((*SYS, 1, 0), _octets(b"wifimon test agent")),
            VarBind(
                (*SYS, 2, 0), SnmpValue(ValueKind.OBJECT_ID, (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10))
            ),
            VarBind((*SYS, 99, 0), SnmpValue(ValueKind.NO_SUCH_OBJECT, None)),
            VarBind((*SYS, 5, 0), _octets(b"ap-test")),
        ],
    ),
    "bulk_ip": Response(
        1,
        b"public",
        1004,
        0,
        0,
        [
            VarBind((*IP_AD_ENT, 1, 127, 0, 0, 1), SnmpValue(ValueKind.IP_ADDRESS, b"\x7f\0\0\1")),
            VarBind((*IP_AD_ENT, 1, 192, 0, 2, 2), SnmpValue(ValueKind.IP_ADDRESS, b"\xc0\0\2\2")),
            VarBind((*IP_AD_ENT, 2, 127, 0, 0, 1), SnmpValue(ValueKind.INTEGER, 1)),
            VarBind((*IP_AD_ENT, 2, 192, 0, 2, 2), SnmpValue(ValueKind.INTEGER, 4)),
            VarBind((*IP_AD_ENT, 3, 127, 0, 0, 1), SnmpValue(ValueKind.IP_ADDRESS, b"\xff\0\0\0")),
        ],
    ),
    "next_end": Response(
        1,
        b"public",
        1005,
        0,
        0,
        [VarBind((1, 3, 6, 1, 6, 3, 99), SnmpValue(ValueKind.END_OF_MIB_VIEW, None))],
    ),
    "v1_get": Response(
        0, b"public", 1006, 0, 0, [VarBind((*SYS, 1, 0), _octets(b"wifimon test agent"))]
    ),
}


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_captured_agent_responses_decode_as_pysnmp_decodes_them(name: str) -> None:
    data = bytes.fromhex(CAPTURED[name])
    assert decode_response(data) == EXPECTED[name]
    assert pysnmp_decode(data) == (0xA2, EXPECTED[name])


@pytest.mark.e2e
def test_live_snmpd_answers_our_requests(tmp_path: Path) -> None:
    conf = ["rocommunity public 127.0.0.1", "sysDescr wifimon test agent", "sysName ap-test"]
    ifx_in_octets = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6)
    with (
        run_snmpd(tmp_path, conf) as address,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
    ):
        sock.settimeout(5)
        requests = [
            encode_get(1, b"public", 41, [(*SYS, 1, 0), (*SYS, 3, 0), (*SYS, 99, 0)]),
            encode_getbulk(b"public", 42, 0, 25, [(1, 3, 6, 1, 2, 1, 2, 2, 1)]),
            encode_getbulk(b"public", 43, 0, 4, [ifx_in_octets]),
        ]
        answers = []
        for request in requests:
            sock.sendto(request, address)
            answers.append(sock.recv(65535))
    for request_id, data in zip((41, 42, 43), answers, strict=True):
        response = decode_response(data)
        assert (response.request_id, response.error_status) == (request_id, 0)
        assert pysnmp_decode(data) == (0xA2, response)
    get, bulk, ifx = (decode_response(data).varbinds for data in answers)
    assert get[0].value == _octets(b"wifimon test agent")
    assert get[1].value.kind is ValueKind.TIMETICKS
    assert get[2].value.kind is ValueKind.NO_SUCH_OBJECT
    assert len(bulk) == 25
    assert {bind.value.kind for bind in bulk} >= {ValueKind.INTEGER, ValueKind.OCTET_STRING}
    assert ifx[0].value.kind is ValueKind.COUNTER64
