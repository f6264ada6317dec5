"""Replies that must be dropped, never believed; walks that must be cut.

A lying UDP agent on 127.0.0.1 answers each request of ``FastTransport``
with a bad datagram first and, where a test says so, the right reply after
it. A bad datagram must be dropped and counted
(``stats.dropped_replies``, exported as ``wifimon_snmp_replies_dropped_total``)
and the request keep waiting: the right reply is then used, or the request
ends as TIMEOUT after its attempts. Replies from another address or port,
with another community, version or request id are covered in
``test_fast_transport.py``; these are the malformed ones. Walks of agents
that never end are cut at the row limit and marked ``cut`` (the poller
counts a gap for it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import cast

import pytest

from wifimon.snmp.ber import (
    TAG_GET_REQUEST,
    TAG_INTEGER,
    TAG_OBJECT_ID,
    TAG_OCTET_STRING,
    TAG_RESPONSE,
    TAG_SEQUENCE,
    encode_integer,
    encode_oid,
    encode_tlv,
    encode_value,
)
from wifimon.snmp.fast_transport import FastTransport
from wifimon.snmp.types import (
    ErrorReason,
    Oid,
    SnmpCredentials,
    SnmpError,
    SnmpTarget,
    SnmpValue,
    ValueKind,
    VarBind,
)
from wifimon.snmp.v2c_codec import Response, decode_message

pytestmark = pytest.mark.e2e

HOST = "127.0.0.1"
COMMUNITY = "bad-replies-7f3c"
SYS_NAME: Oid = (1, 3, 6, 1, 2, 1, 1, 5, 0)
RIGHT = SnmpValue(ValueKind.OCTET_STRING, b"the right answer")
WRONG = SnmpValue(ValueKind.OCTET_STRING, b"a wrong answer")
TAG_TRAP_V2 = 0xA7
TAG_REPORT = 0xA8

Answer = Callable[[int, Response], list[bytes]]


def encode_message(
    tag: int, request: Response, varbinds: list[VarBind], *, request_id: int | None = None
) -> bytes:
    """A v1/v2c message with PDU ``tag`` answering ``request``."""
    listed = b"".join(
        encode_tlv(
            TAG_SEQUENCE, encode_tlv(TAG_OBJECT_ID, encode_oid(vb.oid)) + encode_value(vb.value)
        )
        for vb in varbinds
    )
    number = request.request_id if request_id is None else request_id
    pdu = b"".join(
        encode_tlv(TAG_INTEGER, encode_integer(field)) for field in (number, 0, 0)
    ) + encode_tlv(TAG_SEQUENCE, listed)
    body = (
        encode_tlv(TAG_INTEGER, encode_integer(request.version))
        + encode_tlv(TAG_OCTET_STRING, request.community)
        + encode_tlv(tag, pdu)
    )
    return encode_tlv(TAG_SEQUENCE, body)


def answer_with(request: Response, value: SnmpValue) -> bytes:
    return encode_message(
        TAG_RESPONSE, request, [VarBind(vb.oid, value) for vb in request.varbinds]
    )


class _Liar(asyncio.DatagramProtocol):
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.transport: asyncio.DatagramTransport | None = None
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        tag, request = decode_message(data)
        self.received += 1
        assert self.transport is not None
        for datagram in self.answer(tag, request):
            self.transport.sendto(datagram, addr)


@asynccontextmanager
async def lying_agent(answer: Answer) -> AsyncIterator[tuple[int, _Liar]]:
    loop = asyncio.get_running_loop()
    transport, liar = await loop.create_datagram_endpoint(
        lambda: _Liar(answer), local_addr=(HOST, 0)
    )
    try:
        yield transport.get_extra_info("sockname")[1], liar
    finally:
        transport.close()


def target(
    port: int, *, timeout: float = 1.0, retries: int = 0, repetitions: int = 10
) -> SnmpTarget:
    credentials = SnmpCredentials("2c", community=COMMUNITY)
    return SnmpTarget("liar", HOST, port, credentials, timeout, retries, repetitions)


def _malformed_value(request: Response) -> bytes:
    good = answer_with(request, SnmpValue(ValueKind.INTEGER, 7))
    # The INTEGER 7 (02 01 07) becomes an unknown tag 0x09 (REAL): undecodable.
    return good[:-3] + b"\x09\x01\x07"


BAD: dict[str, Callable[[Response], bytes]] = {
    "truncated": lambda request: answer_with(request, WRONG)[:-5],
    "oversized, junk after the message": lambda request: (
        answer_with(request, WRONG) + bytes(60_000)
    ),
    "the request reflected back": lambda request: encode_message(
        TAG_GET_REQUEST, request, [VarBind(vb.oid, WRONG) for vb in request.varbinds]
    ),
    "a trap instead of a response": lambda request: encode_message(
        TAG_TRAP_V2, request, [VarBind(vb.oid, WRONG) for vb in request.varbinds]
    ),
    "a report instead of a response": lambda request: encode_message(
        TAG_REPORT, request, [VarBind(vb.oid, WRONG) for vb in request.varbinds]
    ),
    "an undecodable value": _malformed_value,
    "another request id": lambda request: encode_message(
        TAG_RESPONSE,
        request,
        [VarBind(vb.oid, WRONG) for vb in request.varbinds],
        request_id=request.request_id ^ 0x5A5A,
    ),
    "random bytes": lambda request: b"\x30\x82\xff\xff" + bytes(range(256)),
}


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
def test_a_bad_datagram_is_dropped_and_the_right_reply_still_used(
    bad: Callable[[Response], bytes],
) -> None:
    async def main() -> tuple[list[VarBind], FastTransport]:
        transport = FastTransport()
        answer: Answer = lambda tag, request: [bad(request), answer_with(request, RIGHT)]  # noqa: E731
        try:
            async with lying_agent(answer) as (port, _):
                return await transport.get(target(port), [SYS_NAME]), transport
        finally:
            await transport.close()

    varbinds, transport = asyncio.run(main())
    assert varbinds == [VarBind(SYS_NAME, RIGHT)]
    assert (transport.stats.requests, transport.stats.retries) == (1, 0)
    assert transport.stats.dropped_replies == 1


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
def test_only_bad_datagrams_end_as_timeout_never_as_a_value(
    bad: Callable[[Response], bytes],
) -> None:
    async def main() -> tuple[SnmpError, FastTransport, int]:
        transport = FastTransport()
        try:
            async with lying_agent(lambda tag, request: [bad(request)]) as (port, liar):
                with pytest.raises(SnmpError) as failure:
                    await transport.get(target(port, timeout=0.2, retries=1), [SYS_NAME])
                return failure.value, transport, liar.received
        finally:
            await transport.close()

    error, transport, received = asyncio.run(main())
    assert error.reason is ErrorReason.TIMEOUT
    assert received == 2
    assert transport.stats.dropped_replies == 2


ROOT: Oid = (1, 3, 6, 1, 4, 1, 99999, 1)


def _endless(tag: int, request: Response) -> list[bytes]:
    """GETBULK answers that always go on, each OID larger than the last."""
    cursor = request.varbinds[0].oid
    start = cursor[len(ROOT)] + 1 if len(cursor) > len(ROOT) else 1
    rows = [VarBind((*ROOT, start + n), SnmpValue(ValueKind.INTEGER, n)) for n in range(10)]
    return [encode_message(TAG_RESPONSE, request, rows)]


def _ever_longer(tag: int, request: Response) -> list[bytes]:
    """Each answer one sub-identifier longer than the cursor: increasing forever."""
    cursor = request.varbinds[0].oid
    return [
        encode_message(
            TAG_RESPONSE, request, [VarBind((*cursor, 1), SnmpValue(ValueKind.INTEGER, 1))]
        )
    ]


@pytest.mark.parametrize(
    "answer", [_endless, _ever_longer], ids=["ever larger rows", "ever longer OIDs"]
)
def test_a_walk_that_never_ends_is_cut_at_the_row_limit(answer: Answer) -> None:
    max_rows = 60

    async def main() -> tuple[list[VarBind], int]:
        transport = FastTransport()
        try:
            async with lying_agent(answer) as (port, liar):
                rows = await transport.walk(target(port), ROOT, max_rows)
                return rows, liar.received
        finally:
            await transport.close()

    rows, received = asyncio.run(main())
    assert len(rows) == max_rows
    assert getattr(rows, "cut", False) is True
    assert [vb.oid for vb in rows] == sorted({vb.oid for vb in rows})
    assert received <= max_rows  # bounded: never more requests than rows
