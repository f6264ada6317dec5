"""PysnmpTransport over real UDP on 127.0.0.1 against net-snmp's snmpd and snmpsim."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from tests.e2e.conftest import (
    CISCO_CONTROLLER,
    COMMUNITY,
    SYS_LOCATION,
    SYS_NAME,
    SYSTEM_ONLY_COMMUNITY,
    V3_USERS,
    Agent,
    auth_password,
    priv_password,
)
from tests.support.agents import (
    Script,
    ScriptedReply,
    ScriptedRequest,
    decompressed_recording,
    free_udp_port,
    scripted_agent,
)
from wifimon.snmp.pdus import RECEIVE_BUFFER_BYTES
from wifimon.snmp.pdus import walk_step as _walk_step
from wifimon.snmp.pysnmp_transport import PysnmpTransport
from wifimon.snmp.recorded import RecordedTransport
from wifimon.snmp.snmprec import load_snmprec
from wifimon.snmp.types import (
    ErrorReason,
    SnmpCredentials,
    SnmpError,
    SnmpTarget,
    SnmpValue,
    ValueKind,
    VarBind,
    format_oid,
    parse_oid,
)

pytestmark = pytest.mark.e2e

T = TypeVar("T")
K = ValueKind

SYS_DESCR = parse_oid("1.3.6.1.2.1.1.1.0")
SYS_OBJECT_ID = parse_oid("1.3.6.1.2.1.1.2.0")
SYS_UPTIME = parse_oid("1.3.6.1.2.1.1.3.0")
SYS_NAME_OID = parse_oid("1.3.6.1.2.1.1.5.0")
SYS_LOCATION_OID = parse_oid("1.3.6.1.2.1.1.6.0")
IF_TABLE = parse_oid("1.3.6.1.2.1.2.2.1")
SYSTEM = parse_oid("1.3.6.1.2.1.1")
NET_SNMP_AGENT_OID = parse_oid("1.3.6.1.4.1.8072.3.2.10")  # netSnmpAgentOIDs.linux


def with_transport(
    use: Callable[[PysnmpTransport], Awaitable[T]], **options: Any
) -> tuple[T, PysnmpTransport]:
    """Run ``use`` with a fresh transport in a fresh event loop; always close it."""

    async def main() -> T:
        try:
            return await use(transport)
        finally:
            await transport.close()

    transport = PysnmpTransport(**options)
    return asyncio.run(main()), transport


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


async def wait_until(condition: Callable[[], bool], limit_s: float = 5.0) -> None:
    """Poll ``condition`` on the event loop; fail after ``limit_s`` seconds."""
    async with asyncio.timeout(limit_s):
        while not condition():
            await asyncio.sleep(0.005)


def expect_error(target: SnmpTarget, oids: list[tuple[int, ...]]) -> tuple[SnmpError, float, Any]:
    """Do a GET that must fail; return the error, the seconds it took and the stats."""

    async def use(transport: PysnmpTransport) -> SnmpError:
        try:
            await transport.get(target, oids)
        except SnmpError as error:
            return error
        raise AssertionError("the GET did not fail")

    started = time.monotonic()
    error, transport = with_transport(use)
    return error, time.monotonic() - started, transport.stats


def snmpbulkwalk_oids(agent: Agent, root: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The OIDs net-snmp's own snmpbulkwalk sees under ``root``."""
    command = ["snmpbulkwalk", "-v2c", "-c", COMMUNITY, "-On", "-Oq", "-m", "", "-Cr25"]
    result = subprocess.run(
        [*command, f"{agent.host}:{agent.port}", format_oid(root)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [parse_oid(line.split(" ", 1)[0]) for line in result.stdout.splitlines()]


# -- GET --------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2c"])
def test_get_several_oids_in_one_pdu(snmpd: Agent, version: str) -> None:
    target = snmpd.v1() if version == "1" else snmpd.v2c()
    oids = [SYS_NAME_OID, SYS_OBJECT_ID, SYS_UPTIME, SYS_LOCATION_OID]
    values, transport = with_transport(lambda t: t.get(target, oids))
    assert [varbind.oid for varbind in values] == oids
    assert values[0].value == SnmpValue(K.OCTET_STRING, SYS_NAME.encode())
    assert values[1].value == SnmpValue(K.OBJECT_ID, NET_SNMP_AGENT_OID)
    assert values[2].value.kind is K.TIMETICKS
    assert isinstance(values[2].value.value, int)
    assert values[3].value == SnmpValue(K.OCTET_STRING, SYS_LOCATION.encode())
    assert transport.stats.requests == 1


def test_v2c_missing_objects_come_back_as_exception_values(snmpd: Agent) -> None:
    oids = [SYS_NAME_OID, parse_oid("1.3.6.1.2.1.1.5.1"), parse_oid("1.3.6.1.2.1.1.99.0")]
    values, _ = with_transport(lambda t: t.get(snmpd.v2c(), oids))
    assert [varbind.value.kind for varbind in values] == [
        K.OCTET_STRING,
        K.NO_SUCH_INSTANCE,
        K.NO_SUCH_OBJECT,
    ]


def test_v1_no_such_name_marks_that_oid_and_still_answers_the_others(snmpd: Agent) -> None:
    oids = [SYS_NAME_OID, parse_oid("1.3.6.1.2.1.1.99.0"), SYS_LOCATION_OID]
    values, transport = with_transport(lambda t: t.get(snmpd.v1(), oids))
    assert values == [
        VarBind(SYS_NAME_OID, SnmpValue(K.OCTET_STRING, SYS_NAME.encode())),
        VarBind(oids[1], SnmpValue(K.NO_SUCH_OBJECT, None)),
        VarBind(SYS_LOCATION_OID, SnmpValue(K.OCTET_STRING, SYS_LOCATION.encode())),
    ]
    assert transport.stats.requests == 2  # the failed PDU, then the rest again


def test_a_large_get_is_split_into_pdus_of_at_most_n_varbinds(snmpd: Agent) -> None:
    oids = [SYS_NAME_OID, SYS_UPTIME, SYS_LOCATION_OID] * 24  # 72 OIDs
    values, transport = with_transport(lambda t: t.get(snmpd.v2c(), oids), max_get_varbinds=30)
    assert [varbind.oid for varbind in values] == oids
    assert transport.stats.requests == 3  # 30 + 30 + 12


# -- walk -------------------------------------------------------------------


def test_bulk_walk_matches_net_snmp_snmpbulkwalk(snmpd: Agent) -> None:
    expected = snmpbulkwalk_oids(snmpd, IF_TABLE)
    assert len(expected) > 10
    rows, transport = with_transport(lambda t: t.walk(snmpd.v2c(max_repetitions=10), IF_TABLE))
    assert [row.oid for row in rows] == expected
    # GETBULK with 10 repetitions: full PDUs, then the one that leaves the subtree
    assert transport.stats.requests == len(expected) // 10 + 1


def test_v1_walk_uses_getnext_and_sees_the_same_oids(snmpd: Agent) -> None:
    expected = snmpbulkwalk_oids(snmpd, IF_TABLE)
    rows, transport = with_transport(lambda t: t.walk(snmpd.v1(), IF_TABLE))
    assert [row.oid for row in rows] == expected
    assert transport.stats.requests == len(expected) + 1


def test_walk_stops_at_max_rows(snmpd: Agent) -> None:
    expected = snmpbulkwalk_oids(snmpd, IF_TABLE)[:7]
    rows, _ = with_transport(lambda t: t.walk(snmpd.v2c(), IF_TABLE, max_rows=7))
    assert [row.oid for row in rows] == expected


@pytest.mark.parametrize("version", ["1", "2c"])
def test_walk_past_the_last_object_in_view_ends_cleanly(snmpd: Agent, version: str) -> None:
    # This community sees only the system group: walking all of .1.3.6.1 must
    # return that group and stop at endOfMibView (v2c) / noSuchName (v1).
    expected = snmpbulkwalk_oids(snmpd, SYSTEM)
    target = snmpd.target(SnmpCredentials(version, community=SYSTEM_ONLY_COMMUNITY))  # type: ignore[arg-type]
    rows, _ = with_transport(lambda t: t.walk(target, parse_oid("1.3.6.1")))
    assert [row.oid for row in rows] == expected


# -- SNMPv3 -----------------------------------------------------------------


@pytest.mark.parametrize("user", sorted(V3_USERS))
def test_v3_get_with_each_auth_and_priv_protocol(snmpd: Agent, user: str) -> None:
    values, _ = with_transport(lambda t: t.get(snmpd.v3(user), [SYS_NAME_OID]))
    assert values[0].value == SnmpValue(K.OCTET_STRING, SYS_NAME.encode())


def test_v3_walk_matches_v2c_walk(snmpd: Agent) -> None:
    async def both(transport: PysnmpTransport) -> tuple[list[VarBind], list[VarBind]]:
        v3_rows = await transport.walk(snmpd.v3("sha256-aes256"), IF_TABLE)
        v2c_rows = await transport.walk(snmpd.v2c(), IF_TABLE)
        return v3_rows, v2c_rows

    (v3_rows, v2c_rows), _ = with_transport(both)
    assert [row.oid for row in v3_rows] == [row.oid for row in v2c_rows]


def test_v3_engine_discovery_happens_once_per_agent(snmpd: Agent) -> None:
    async def requests_per_get(transport: PysnmpTransport) -> list[int]:
        counts = []
        for user in ["sha-aes", "sha-aes", "md5-des"]:
            before = transport.stats.requests
            await transport.get(snmpd.v3(user), [SYS_NAME_OID])
            counts.append(transport.stats.requests - before)
        return counts

    counts, transport = with_transport(requests_per_get)
    # first GET: discovery probe + request; later ones, even as another user,
    # reuse the agent's engine ID, boots and time
    assert counts == [2, 1, 1]
    assert transport.stats.retries == 0


# -- errors -----------------------------------------------------------------


def test_a_wrong_community_times_out_after_the_targets_retries(snmpd: Agent) -> None:
    target = snmpd.v2c(community="not-the-community", timeout=0.3, retries=2)
    error, seconds, stats = expect_error(target, [SYS_NAME_OID])
    assert error.reason is ErrorReason.TIMEOUT
    assert (stats.requests, stats.retries) == (3, 2)
    assert 0.85 <= seconds < 2.5  # 3 attempts x 0.3 s, on pysnmp's 0.1 s timer
    assert "not-the-community" not in str(error)


@pytest.mark.parametrize(
    ("user", "auth_pw", "priv_pw"),
    [
        ("sha-aes", "wrong-auth-password", None),
        ("md5-des", "wrong-auth-password", None),
        ("sha224-nopriv", "wrong-auth-password", None),
    ],
)
def test_a_wrong_v3_auth_password_fails_with_auth_at_once(
    snmpd: Agent, user: str, auth_pw: str | None, priv_pw: str | None
) -> None:
    error, seconds, stats = expect_error(snmpd.v3(user, auth_pw, priv_pw), [SYS_NAME_OID])
    assert error.reason is ErrorReason.AUTH
    assert "WrongDigest" in str(error)
    assert seconds < 1.5  # the agent reports usmStatsWrongDigests; no timeout involved
    # discovery, then the request and its one retry, each rejected by a report
    assert (stats.requests, stats.retries) == (3, 1)
    for secret in ("wrong-auth-password", auth_password(user), priv_password(user)):
        assert secret not in str(error)


def test_a_wrong_v3_priv_password_times_out_because_net_snmp_drops_it(snmpd: Agent) -> None:
    # net-snmp cannot parse the wrongly decrypted PDU and sends no report
    # ("security service 3 error parsing ScopedPDU" in its log).
    target = snmpd.v3("sha-aes", priv_pw="wrong-priv-password", timeout=0.3)
    error, _, _ = expect_error(target, [SYS_NAME_OID])
    assert error.reason is ErrorReason.TIMEOUT
    assert "wrong-priv-password" not in str(error)


def test_an_unknown_v3_user_fails_with_auth(snmpd: Agent) -> None:
    auth, _, priv, _ = V3_USERS["sha-aes"]
    credentials = SnmpCredentials(
        "3",
        user="nobody",
        auth_protocol=auth,  # type: ignore[arg-type]
        auth_password="whatever-password",
        priv_protocol=priv,  # type: ignore[arg-type]
        priv_password="whatever-password",
    )
    error, _, _ = expect_error(snmpd.target(credentials), [SYS_NAME_OID])
    assert error.reason is ErrorReason.AUTH
    assert "UnknownUserName" in str(error)


def test_a_silent_port_times_out_per_timeout_and_retries() -> None:
    silent = Agent("127.0.0.1", free_udp_port())  # nothing listens there
    error, seconds, stats = expect_error(silent.v2c(timeout=0.2, retries=1), [SYS_NAME_OID])
    assert error.reason is ErrorReason.TIMEOUT
    assert stats.requests == 2
    assert 0.35 <= seconds < 1.5


def test_an_os_level_send_failure_is_unreachable() -> None:
    # Linux refuses to send to port 0 (EINVAL) without any packet leaving.
    bad = Agent("127.0.0.1", 0)
    error, seconds, _ = expect_error(bad.v2c(timeout=5.0), [SYS_NAME_OID])
    assert error.reason is ErrorReason.UNREACHABLE
    assert seconds < 1.0  # reported at once, not after the 5 s timeout


def test_an_unresolvable_host_is_unreachable() -> None:
    target = SnmpTarget("bad", "300.1.2.3", 161, SnmpCredentials("2c", community="x"))
    error, _, _ = expect_error(target, [SYS_NAME_OID])
    assert error.reason is ErrorReason.UNREACHABLE


def test_a_too_short_v3_password_is_auth_without_quoting_it(snmpd: Agent) -> None:
    error, _, _ = expect_error(snmpd.v3("sha-aes", auth_pw="short7!"), [SYS_NAME_OID])
    assert error.reason is ErrorReason.AUTH
    assert "short7!" not in str(error)


def test_one_v3_user_name_with_two_key_sets_is_refused(snmpd: Agent) -> None:
    async def use(transport: PysnmpTransport) -> SnmpError:
        await transport.get(snmpd.v3("sha-aes"), [SYS_NAME_OID])
        other_keys = snmpd.v3("sha-aes", auth_pw="another-password")
        with pytest.raises(SnmpError) as caught:
            await transport.get(other_keys, [SYS_NAME_OID])
        # the first key set keeps working
        await transport.get(snmpd.v3("sha-aes"), [SYS_NAME_OID])
        return caught.value

    error, _ = with_transport(use)
    assert error.reason is ErrorReason.AUTH
    assert "another-password" not in str(error)


# -- concurrency, cancellation, resources ------------------------------------


def test_200_concurrent_gets_are_all_answered(snmpd: Agent) -> None:
    async def many(transport: PysnmpTransport) -> list[list[VarBind]]:
        target = snmpd.v2c(timeout=5.0, retries=1)
        return await asyncio.gather(
            *(transport.get(target, [SYS_NAME_OID, SYS_UPTIME]) for _ in range(200))
        )

    answers, transport = with_transport(many, concurrency=256)
    assert len(answers) == 200
    assert all(values[0].value.value == SYS_NAME.encode() for values in answers)
    assert transport.stats.requests == 200 + transport.stats.retries


def test_the_concurrency_bound_holds_requests_back() -> None:
    async def measure(transport: PysnmpTransport) -> tuple[int, int]:
        silent = Agent("127.0.0.1", free_udp_port()).v2c(timeout=5.0, retries=0)
        tasks = [asyncio.create_task(transport.get(silent, [SYS_NAME_OID])) for _ in range(10)]
        await wait_until(lambda: transport.stats.requests >= 4)
        for _ in range(20):  # give any wrongly admitted request a chance to go out
            await asyncio.sleep(0)
        in_flight = transport.stats.requests
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        after_cancel = transport.stats.requests
        return in_flight, after_cancel

    (in_flight, after_cancel), _ = with_transport(measure, concurrency=4)
    assert in_flight == 4
    assert after_cancel == 4  # cancelled waiters never sent anything


def test_the_socket_gets_a_4_mib_receive_buffer(snmpd: Agent) -> None:
    async def size(transport: PysnmpTransport) -> int | None:
        await transport.get(snmpd.v2c(), [SYS_NAME_OID])
        return transport.receive_buffer_size()

    buffer, _ = with_transport(size)
    assert buffer is not None
    assert buffer >= RECEIVE_BUFFER_BYTES  # Linux reports twice what was set


def test_a_cancelled_request_leaves_the_transport_usable(snmpd: Agent) -> None:
    problems: list[dict[str, Any]] = []

    async def use(transport: PysnmpTransport) -> list[VarBind]:
        asyncio.get_running_loop().set_exception_handler(
            lambda _, context: problems.append(context)
        )
        silent = Agent("127.0.0.1", free_udp_port()).v2c(timeout=0.3, retries=0)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await transport.get(silent, [SYS_NAME_OID])
        values = await transport.get(snmpd.v2c(), [SYS_NAME_OID])
        await asyncio.sleep(0.5)  # let pysnmp expire the abandoned request
        return values

    values, _ = with_transport(use)
    assert values[0].value.value == SYS_NAME.encode()
    assert problems == []


def test_close_releases_the_socket_and_fails_pending_requests(snmpd: Agent) -> None:
    async def use(transport: PysnmpTransport) -> tuple[BaseException | list[VarBind], int]:
        await transport.get(snmpd.v2c(), [SYS_NAME_OID])
        engine = transport._engines[0]  # reaching in, to see the very socket closed
        assert engine is not None
        assert engine.udp_socket.transport is not None
        sock = engine.udp_socket.transport.get_extra_info("socket")
        silent = Agent("127.0.0.1", free_udp_port()).v2c(timeout=5.0, retries=0)
        pending = asyncio.create_task(transport.get(silent, [SYS_NAME_OID]))
        await wait_until(lambda: transport.stats.requests == 2)
        await transport.close()
        [outcome] = await asyncio.gather(pending, return_exceptions=True)
        return outcome, sock.fileno()

    (outcome, fileno), _ = with_transport(use)
    assert isinstance(outcome, SnmpError)
    assert outcome.reason is ErrorReason.OTHER
    assert fileno == -1


# -- misbehaving agents (scripted, over real UDP) -----------------------------

COLUMN = parse_oid("1.3.6.1.4.1.99.1")


def row(index: int) -> tuple[int, ...]:
    return (*COLUMN, index)


def with_scripted_agent(
    script: Script, use: Callable[[PysnmpTransport, SnmpTarget], Awaitable[T]]
) -> tuple[T | SnmpError, list[ScriptedRequest]]:
    """Run ``use`` against a scripted agent; an SnmpError is returned, not raised."""

    async def main(transport: PysnmpTransport) -> tuple[T | SnmpError, list[ScriptedRequest]]:
        async with scripted_agent(script) as (host, port, requests):
            target = Agent(host, port).v2c(timeout=0.3, retries=0, max_repetitions=3)
            try:
                return await use(transport, target), requests
            except SnmpError as error:
                return error, requests

    return with_transport(main)[0]


def bulk_after(cursor: tuple[int, ...], last: int, repeat_cursor: bool) -> ScriptedReply:
    """Rows after ``cursor`` up to ``last``; optionally repeating the cursor first."""
    start = cursor[-1] + 1 if cursor[: len(COLUMN)] == COLUMN and len(cursor) > len(COLUMN) else 1
    rows = [(row(index), index) for index in range(start, min(start + 3, last + 1))]
    if repeat_cursor and start > 1:
        rows = [(cursor, start - 1), *rows[:2]]
    if len(rows) < 3:
        rows.append(((1, 3, 6, 1, 4, 1, 100), 0))  # the next object, outside the walk
    return ScriptedReply(rows)


def test_walk_ignores_a_repeated_varbind() -> None:
    rows, _ = with_scripted_agent(
        lambda request: bulk_after(request.oids[0], last=8, repeat_cursor=True),
        lambda transport, target: transport.walk(target, COLUMN),
    )
    assert isinstance(rows, list)
    assert [varbind.oid for varbind in rows] == [row(index) for index in range(1, 9)]


def test_walk_stops_when_the_agent_goes_backwards() -> None:
    def backwards(request: ScriptedRequest) -> ScriptedReply:
        if request.oids[0] == COLUMN:
            return ScriptedReply([(row(1), 1), (row(2), 2), (row(3), 3)])
        return ScriptedReply([(row(4), 4), (row(2), 2), (row(5), 5)])  # a broken agent

    rows, requests = with_scripted_agent(backwards, lambda t, target: t.walk(target, COLUMN))
    assert isinstance(rows, list)
    assert [varbind.oid for varbind in rows] == [row(1), row(2), row(3), row(4)]
    assert len(requests) == 2


def test_walk_stops_when_the_agent_makes_no_progress() -> None:
    # answers every GETBULK with the same first rows: a loop without a backwards step
    stuck = ScriptedReply([(row(1), 1), (row(2), 2)])
    rows, requests = with_scripted_agent(lambda _: stuck, lambda t, target: t.walk(target, COLUMN))
    assert isinstance(rows, list)
    assert [varbind.oid for varbind in rows] == [row(1), row(2)]
    assert len(requests) == 2


def test_get_splits_a_pdu_the_agent_finds_too_big() -> None:
    def small_agent(request: ScriptedRequest) -> ScriptedReply:
        if len(request.oids) > 2:
            return ScriptedReply([], error_status=1)  # tooBig
        return ScriptedReply([(oid, oid[-1]) for oid in request.oids])

    oids = [row(index) for index in range(1, 6)]
    values, requests = with_scripted_agent(small_agent, lambda t, target: t.get(target, oids))
    assert values == [VarBind(oid, SnmpValue(K.INTEGER, oid[-1])) for oid in oids]
    assert [len(request.oids) for request in requests] == [5, 2, 3, 1, 2]  # halves, recursively


def test_walk_halves_repetitions_when_the_agent_finds_them_too_big() -> None:
    def small_agent(request: ScriptedRequest) -> ScriptedReply:
        if request.max_repetitions > 1:
            return ScriptedReply([], error_status=1)
        return bulk_after(request.oids[0], last=2, repeat_cursor=False)

    rows, requests = with_scripted_agent(small_agent, lambda t, target: t.walk(target, COLUMN))
    assert isinstance(rows, list)
    assert [varbind.oid for varbind in rows] == [row(1), row(2)]
    assert [request.max_repetitions for request in requests][:2] == [3, 1]


def test_a_gen_err_reply_is_other() -> None:
    gen_err = ScriptedReply([(row(1), 0)], error_status=5, error_index=1)
    error, _ = with_scripted_agent(lambda _: gen_err, lambda t, target: t.get(target, [row(1)]))
    assert isinstance(error, SnmpError)
    assert error.reason is ErrorReason.OTHER
    assert "genErr" in str(error)


def test_a_reply_for_other_oids_is_decode() -> None:
    wrong = ScriptedReply([(row(2), 2)])
    error, _ = with_scripted_agent(lambda _: wrong, lambda t, target: t.get(target, [row(1)]))
    assert isinstance(error, SnmpError)
    assert error.reason is ErrorReason.DECODE


def test_an_undecodable_datagram_is_dropped_by_pysnmp_and_times_out() -> None:
    # pysnmp counts it in snmpInASNParseErrs and keeps waiting for a real reply
    error, _ = with_scripted_agent(lambda _: b"\x30\x03garbage", lambda t, tg: t.get(tg, [row(1)]))
    assert isinstance(error, SnmpError)
    assert error.reason is ErrorReason.TIMEOUT


# -- snmpsim serving a recorded Cisco wireless controller --------------------

BSN_AP_COLUMN = parse_oid("1.3.6.1.4.1.14179.2.2.1.1.6")  # AIRESPACE-WIRELESS-MIB bsnAPTable


def test_walk_of_the_cisco_controller_recording(cisco_controller: tuple[Agent, str]) -> None:
    agent, community = cisco_controller
    rows, _ = with_transport(lambda t: t.walk(agent.v2c(community, timeout=5.0), BSN_AP_COLUMN))
    assert len(rows) == 226
    assert {row.value for row in rows} == {SnmpValue(K.INTEGER, 1)}


def test_snmpsim_serves_what_the_snmprec_parser_reads(cisco_controller: tuple[Agent, str]) -> None:
    agent, community = cisco_controller
    recording = decompressed_recording(CISCO_CONTROLLER)
    varbinds = load_snmprec(recording.data_dir / f"{CISCO_CONTROLLER}.snmprec")
    subtree = parse_oid("1.3.6.1.4.1.14179.2.2.1.1")  # bsnAPEntry, 40-odd columns
    target = agent.v2c(community, timeout=5.0)
    served, _ = with_transport(lambda t: t.walk(target, subtree))
    recorded = run(RecordedTransport({target.name: varbinds}).walk(target, subtree))
    assert len(served) > 1000
    assert served == recorded


def test_an_unordered_walk_follows_backward_steps_and_stops_at_a_loop() -> None:
    root = (1, 3, 6, 1, 4, 1, 9)
    rows = [
        VarBind((*root, 5), SnmpValue(ValueKind.INTEGER, 1)),
        VarBind((*root, 2), SnmpValue(ValueKind.INTEGER, 2)),  # backwards
        VarBind((*root, 7), SnmpValue(ValueKind.INTEGER, 3)),
        VarBind((*root, 5), SnmpValue(ValueKind.INTEGER, 1)),  # seen before: a loop
    ]
    ordered, ordered_end = _walk_step(rows, root, root)
    assert [vb.oid[-1] for vb in ordered] == [5]
    assert ordered_end == "cut"
    seen: set[tuple[int, ...]] = set()
    unordered, unordered_end = _walk_step(rows, root, root, seen)
    assert [vb.oid[-1] for vb in unordered] == [5, 2, 7]
    assert unordered_end == "cut"
    outside = [VarBind((1, 3, 6, 1, 5), SnmpValue(ValueKind.INTEGER, 1))]
    assert _walk_step(outside, root, root) == ([], "end")
