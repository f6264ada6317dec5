"""The lean responder's edges, without sockets: what it never answers, and
how it keeps a reply inside one datagram. Its answers themselves are
checked against snmpsim over UDP in tests/e2e/test_responder.py."""

from __future__ import annotations

from wifimon.simulator.responder import (
    MAX_BULK_VARBINDS,
    REPLY_VARBIND_BYTES,
    Recording,
    respond,
)
from wifimon.snmp.types import SnmpValue, ValueKind, VarBind
from wifimon.snmp.v2c_codec import (
    VERSION_1,
    VERSION_2C,
    decode_response,
    encode_get,
    encode_getbulk,
    encode_getnext,
)

BIG = b"x" * 1_000
ROWS = 200
TABLE = (1, 3, 6, 1, 4, 1, 99, 1)
RECORDINGS = {
    b"site": Recording(
        [VarBind((*TABLE, row), SnmpValue(ValueKind.OCTET_STRING, BIG)) for row in range(ROWS)]
        + [VarBind((1, 3, 6, 1, 4, 1, 99, 2, 0), SnmpValue(ValueKind.COUNTER64, 2**40))]
    )
}
ROW_BYTES = len(RECORDINGS[b"site"].encoded(0))  # one encoded row, about 1 kB


def test_it_stays_silent_for_what_no_agent_answers() -> None:
    assert respond(RECORDINGS, b"\x30\x03\x02\x01") is None  # cut short
    assert respond(RECORDINGS, encode_get(VERSION_2C, b"other", 1, [(*TABLE, 0)])) is None
    assert respond(RECORDINGS, encode_get(VERSION_2C, b"site", 1, [])) is not None
    # GETBULK is SNMPv2c's; one that asks for nothing gets nothing (as snmpsim)
    bulk_v1 = bytearray(encode_getbulk(b"site", 1, 0, 5, [TABLE]))
    bulk_v1[4] = VERSION_1
    assert respond(RECORDINGS, bytes(bulk_v1)) is None
    assert respond(RECORDINGS, encode_getbulk(b"site", 1, 0, 0, [TABLE])) is None


def test_a_getbulk_reply_is_cut_to_snmpsims_varbinds_and_one_datagram() -> None:
    reply = respond(RECORDINGS, encode_getbulk(b"site", 7, 0, 100, [TABLE]))
    assert reply is not None
    rows = decode_response(reply).varbinds
    # 64 varbinds of ~1 kB would not fit a datagram: the reply is cut
    assert len(rows) == REPLY_VARBIND_BYTES // ROW_BYTES < MAX_BULK_VARBINDS
    assert [varbind.oid for varbind in rows] == [(*TABLE, row) for row in range(len(rows))]
    assert len(reply) < 65_507


def test_a_get_too_big_for_one_datagram_is_too_big() -> None:
    oids = [(*TABLE, row) for row in range(100)]
    reply = respond(RECORDINGS, encode_get(VERSION_2C, b"site", 3, oids))
    assert reply is not None
    answer = decode_response(reply)
    assert (answer.error_status, answer.varbinds) == (1, [])


def test_snmpv1_never_sees_a_counter64() -> None:
    counter = (1, 3, 6, 1, 4, 1, 99, 2, 0)
    reply = respond(RECORDINGS, encode_get(VERSION_1, b"site", 4, [(*TABLE, 0), counter]))
    assert reply is not None
    answer = decode_response(reply)
    assert (answer.error_status, answer.error_index) == (2, 2)  # noSuchName, the counter
    assert [v.value.kind for v in answer.varbinds] == [ValueKind.NULL, ValueKind.NULL]
    # a GETNEXT walks past it, here to the end of the view: noSuchName too
    reply = respond(RECORDINGS, encode_getnext(VERSION_1, b"site", 5, [(*TABLE, ROWS - 1)]))
    assert reply is not None
    assert decode_response(reply).error_status == 2
    reply = respond(RECORDINGS, encode_getnext(VERSION_2C, b"site", 6, [(*TABLE, ROWS - 1)]))
    assert reply is not None
    assert decode_response(reply).varbinds[0].value == SnmpValue(ValueKind.COUNTER64, 2**40)
