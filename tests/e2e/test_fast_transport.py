"""FastTransport over real UDP on 127.0.0.1: the whole PysnmpTransport suite, and more.

Every test function of ``test_pysnmp_transport`` is re-collected here and run
with ``FastTransport`` in place of ``PysnmpTransport`` (those tests build the
transport through the module-level name ``PysnmpTransport``, which the autouse
fixture below swaps). SNMPv3 tests exercise the delegation to PysnmpTransport.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from tests.e2e import test_pysnmp_transport as pysnmp_suite
from tests.e2e.conftest import SYS_NAME, Agent
from tests.support.agents import free_udp_port
from wifimon.poller import PollOutcome, poll_target
from wifimon.profiles.registry import default_registry
from wifimon.snmp.ber import (
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
from wifimon.snmp.pysnmp_transport import PysnmpTransport
from wifimon.snmp.types import (
    SnmpError,
    SnmpTarget,
    SnmpValue,
    Transport,
    ValueKind,
    VarBind,
    parse_oid,
)
from wifimon.snmp.v2c_codec import decode_message

pytestmark = pytest.mark.e2e

# Reaches into PysnmpTransport's engines to find its socket; FastTransport has
# no engines (its own close behaviour is tested below instead).
_PYSNMP_INTERNALS = {"test_close_releases_the_socket_and_fails_pending_requests"}

for _name in dir(pysnmp_suite):
    if _name.startswith("test_") and _name not in _PYSNMP_INTERNALS:
        globals()[_name] = getattr(pysnmp_suite, _name)


@pytest.fixture(autouse=True)
def fast_transport_in_the_pysnmp_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pysnmp_suite, "PysnmpTransport", FastTransport)


def test_the_reused_suite_really_gets_a_fast_transport() -> None:
    async def kind(transport: object) -> str:
        return type(transport).__name__

    assert pysnmp_suite.with_transport(kind)[0] == "FastTransport"


SYS_NAME_OID = parse_oid("1.3.6.1.2.1.1.5.0")
SYS_UPTIME = parse_oid("1.3.6.1.2.1.1.3.0")


def encode_reply(
    version: int, community: bytes, request_id: int, varbinds: list[VarBind], status: int = 0
) -> bytes:
    """A v1/v2c Response datagram built with wifimon's own BER encoder."""
    listed = b"".join(
        encode_tlv(
            TAG_SEQUENCE, encode_tlv(TAG_OBJECT_ID, encode_oid(vb.oid)) + encode_value(vb.value)
        )
        for vb in varbinds
    )
    pdu = b"".join(
        encode_tlv(TAG_INTEGER, encode_integer(number)) for number in (request_id, status, 0)
    ) + encode_tlv(TAG_SEQUENCE, listed)
    body = (
        encode_tlv(TAG_INTEGER, encode_integer(version))
        + encode_tlv(TAG_OCTET_STRING, community)
        + encode_tlv(TAG_RESPONSE, pdu)
    )
    return encode_tlv(TAG_SEQUENCE, body)


Answer = Callable[[int, bytes, int, list[VarBind]], list[tuple[str, bytes]]]


@asynccontextmanager
async def lying_agent(answer: Answer) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A UDP agent on 127.0.0.1 whose ``answer`` returns (sender, datagram) pairs:
    sender "agent" is its own socket, "other-port" a second socket on
    127.0.0.1, "other-address" a socket on 127.0.0.2 with the agent's port."""
    loop = asyncio.get_running_loop()
    main = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    main.bind(("127.0.0.1", 0))
    port = main.getsockname()[1]
    other_port = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other_port.bind(("127.0.0.1", 0))
    other_address = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other_address.bind(("127.0.0.2", port))
    senders = {"agent": main, "other-port": other_port, "other-address": other_address}
    received: list[bytes] = []
    main.setblocking(False)

    def readable() -> None:
        data, addr = main.recvfrom(65535)
        received.append(data)
        _, request = decode_message(data)
        nulls = request.varbinds
        for sender, datagram in answer(
            request.version, request.community, request.request_id, nulls
        ):
            senders[sender].sendto(datagram, addr)

    loop.add_reader(main.fileno(), readable)
    try:
        yield port, received
    finally:
        loop.remove_reader(main.fileno())
        for sock in senders.values():
            sock.close()


def test_replies_from_the_wrong_peer_or_for_another_request_are_dropped() -> None:
    good_value = SnmpValue(ValueKind.OCTET_STRING, b"right")
    bad_value = SnmpValue(ValueKind.OCTET_STRING, b"wrong")

    def answer(
        version: int, community: bytes, request_id: int, asked: list[VarBind]
    ) -> list[tuple[str, bytes]]:
        good = [VarBind(vb.oid, good_value) for vb in asked]
        bad = [VarBind(vb.oid, bad_value) for vb in asked]
        return [
            ("other-port", encode_reply(version, community, request_id, bad)),
            ("other-address", encode_reply(version, community, request_id, bad)),
            ("agent", encode_reply(version, b"not-the-community", request_id, bad)),
            ("agent", encode_reply(version, community, request_id ^ 1, bad)),
            ("agent", encode_reply(1 - version, community, request_id, bad)),
            ("agent", b"\x30\x03garbage"),
            ("agent", encode_reply(version, community, request_id, good)),
        ]

    async def main() -> tuple[list[list[VarBind]], FastTransport, int]:
        transport = FastTransport()
        try:
            async with lying_agent(answer) as (port, received):
                results = []
                agent = Agent("127.0.0.1", port)
                for target in (agent.v1(timeout=1.0, retries=0), agent.v2c(timeout=1.0, retries=0)):
                    results.append(await transport.get(target, [SYS_NAME_OID]))
                await asyncio.sleep(0.05)
                return results, transport, len(received)
        finally:
            await transport.close()

    results, transport, received = asyncio.run(main())
    assert results == [[VarBind(SYS_NAME_OID, good_value)]] * 2
    assert received == 2
    assert (transport.stats.requests, transport.stats.retries) == (2, 0)
    assert transport.dropped_replies == 12


def test_only_wrong_replies_end_as_timeout_after_the_retries() -> None:
    def answer(
        version: int, community: bytes, request_id: int, asked: list[VarBind]
    ) -> list[tuple[str, bytes]]:
        return [("other-port", encode_reply(version, community, request_id, asked))]

    async def main() -> tuple[str, FastTransport]:
        transport = FastTransport()
        try:
            async with lying_agent(answer) as (port, _):
                target = Agent("127.0.0.1", port).v2c(timeout=0.2, retries=1)
                try:
                    await transport.get(target, [SYS_NAME_OID])
                except SnmpError as error:
                    return error.reason.value, transport
                raise AssertionError("the GET did not fail")
        finally:
            await transport.close()

    reason, transport = asyncio.run(main())
    assert reason == "timeout"
    assert (transport.stats.requests, transport.stats.retries) == (2, 1)
    assert transport.dropped_replies == 2


def test_200_concurrent_gets_against_snmpd_all_answered_without_retries(snmpd: Agent) -> None:
    async def main() -> tuple[list[list[VarBind]], FastTransport]:
        transport = FastTransport(concurrency=256)
        try:
            target = snmpd.v2c(timeout=5.0, retries=0)
            answers = await asyncio.gather(
                *(transport.get(target, [SYS_NAME_OID, SYS_UPTIME]) for _ in range(200))
            )
            return answers, transport
        finally:
            await transport.close()

    answers, transport = asyncio.run(main())
    assert len(answers) == 200
    assert all(values[0].value.value == SYS_NAME.encode() for values in answers)
    assert transport.stats.requests == 200
    assert transport.dropped_replies == 0


def test_close_fails_pending_requests_and_closes_the_socket() -> None:
    async def main() -> tuple[BaseException | list[VarBind], int | None]:
        transport = FastTransport()
        silent = Agent("127.0.0.1", free_udp_port()).v2c(timeout=5.0, retries=0)
        pending = asyncio.create_task(transport.get(silent, [SYS_NAME_OID]))
        await pysnmp_suite.wait_until(lambda: transport.stats.requests == 1)
        assert transport.receive_buffer_size() is not None
        await transport.close()
        [outcome] = await asyncio.gather(pending, return_exceptions=True)
        return outcome, transport.receive_buffer_size()

    outcome, size = asyncio.run(main())
    assert isinstance(outcome, SnmpError)
    assert outcome.reason.value == "other"
    assert size is None


def test_polling_the_cisco_recording_observes_the_same_with_both_transports(
    cisco_controller: tuple[Agent, str],
) -> None:
    agent, community = cisco_controller
    target: SnmpTarget = agent.v2c(community, timeout=5.0)
    registry = default_registry()

    async def poll(transport: Transport) -> PollOutcome:
        try:
            return await poll_target(transport, target, registry, "auto")
        finally:
            await transport.close()

    slow = asyncio.run(poll(PysnmpTransport()))
    fast = asyncio.run(poll(FastTransport()))
    assert len(fast.observation.aps) == 226
    assert fast.profile.name == slow.profile.name
    assert fast.observation == slow.observation
    uptime = "uptime"  # snmpsim may advance sysUpTime between the polls
    assert {k: v for k, v in fast.system.items() if k != uptime} == {
        k: v for k, v in slow.system.items() if k != uptime
    }
