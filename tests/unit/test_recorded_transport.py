"""RecordedTransport answers like a well-behaved agent serving a recording."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wifimon.snmp.recorded import RecordedTransport
from wifimon.snmp.snmprec import parse_snmprec
from wifimon.snmp.types import (
    ErrorReason,
    SnmpCredentials,
    SnmpError,
    SnmpTarget,
    SnmpValue,
    Transport,
    ValueKind,
    VarBind,
    parse_oid,
)

T = TypeVar("T")
K = ValueKind

RECORDING = parse_snmprec(
    """
1.3.6.1.2.1.1.1.0|4|Test AP
1.3.6.1.2.1.1.3.0|67|4200
1.3.6.1.2.1.1.5.0|4|ap-1
1.3.6.1.2.1.2.2.1.2.1|4|eth0
1.3.6.1.2.1.2.2.1.2.2|4|wlan0
1.3.6.1.2.1.2.2.1.2.3|4|wlan1
1.3.6.1.2.1.2.2.1.10.1|65|100
1.3.6.1.2.1.2.2.1.10.2|65|200
1.3.6.1.2.1.2.2.1.10.3|65|300
1.3.6.1.4.1.99.1.1|2|1
1.3.6.1.4.1.99.1.2|130|
1.3.6.1.4.1.99.1.3|2|3
"""
)
IF_DESCR = parse_oid("1.3.6.1.2.1.2.2.1.2")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def target(name: str = "ap-1", version: str = "2c", **options: Any) -> SnmpTarget:
    credentials = SnmpCredentials(version, community="public")  # type: ignore[arg-type]
    return SnmpTarget(name, "127.0.0.1", 161, credentials, **options)


@pytest.fixture
def transport() -> RecordedTransport:
    return RecordedTransport({"ap-1": RECORDING})


def test_it_satisfies_the_transport_protocol(transport: RecordedTransport) -> None:
    typed: Transport = transport
    assert typed.stats.requests == 0


def test_get_returns_one_varbind_per_oid_in_request_order(transport: RecordedTransport) -> None:
    oids = [parse_oid("1.3.6.1.2.1.1.5.0"), parse_oid("1.3.6.1.2.1.1.1.0")]
    assert run(transport.get(target(), oids)) == [
        VarBind(oids[0], SnmpValue(K.OCTET_STRING, b"ap-1")),
        VarBind(oids[1], SnmpValue(K.OCTET_STRING, b"Test AP")),
    ]


def test_a_missing_instance_of_a_known_object_is_no_such_instance(
    transport: RecordedTransport,
) -> None:
    [varbind] = run(transport.get(target(), [parse_oid("1.3.6.1.2.1.2.2.1.10.9")]))
    assert varbind.value == SnmpValue(K.NO_SUCH_INSTANCE, None)


def test_a_missing_object_is_no_such_object(transport: RecordedTransport) -> None:
    [varbind] = run(transport.get(target(), [parse_oid("1.3.6.1.2.1.1.99.0")]))
    assert varbind.value == SnmpValue(K.NO_SUCH_OBJECT, None)


def test_snmpv1_reports_any_missing_oid_as_no_such_object(transport: RecordedTransport) -> None:
    # SNMPv1 only knows noSuchName, which the real transport maps to noSuchObject
    [varbind] = run(transport.get(target(version="1"), [parse_oid("1.3.6.1.2.1.2.2.1.10.9")]))
    assert varbind.value.kind is K.NO_SUCH_OBJECT


def test_walk_returns_the_subtree_in_oid_order_without_the_root(
    transport: RecordedTransport,
) -> None:
    rows = run(transport.walk(target(), IF_DESCR))
    assert [row.value.value for row in rows] == [b"eth0", b"wlan0", b"wlan1"]


def test_walk_stops_at_max_rows(transport: RecordedTransport) -> None:
    rows = run(transport.walk(target(), parse_oid("1.3.6.1.2.1.2.2"), max_rows=4))
    assert [row.oid[-2:] for row in rows] == [(2, 1), (2, 2), (2, 3), (10, 1)]


def test_walk_stops_at_an_end_of_mib_view_value(transport: RecordedTransport) -> None:
    rows = run(transport.walk(target(), parse_oid("1.3.6.1.4.1.99")))
    assert [row.oid for row in rows] == [parse_oid("1.3.6.1.4.1.99.1.1")]


def test_walk_of_an_absent_subtree_is_empty(transport: RecordedTransport) -> None:
    assert run(transport.walk(target(), parse_oid("1.3.6.1.2.1.4"))) == []


def test_get_counts_one_request_per_chunk_of_varbinds() -> None:
    transport = RecordedTransport({"ap-1": RECORDING}, max_get_varbinds=2)
    run(transport.get(target(), [parse_oid("1.3.6.1.2.1.1.5.0")] * 5))
    assert transport.stats.requests == 3


@pytest.mark.parametrize(
    ("version", "max_repetitions", "max_rows", "requests"),
    [
        ("2c", 25, 100, 1),  # 3 rows and the end of the subtree fit in one GETBULK
        ("2c", 3, 100, 2),  # 3 rows fill the first; a second sees the end
        ("2c", 2, 100, 2),
        ("2c", 1, 2, 2),  # capped by max_rows: no PDU to find the end
        ("1", 25, 100, 4),  # GETNEXT: one row per PDU, plus the one past the end
    ],
)
def test_walk_counts_the_pdus_a_real_agent_would_need(
    version: str, max_repetitions: int, max_rows: int, requests: int
) -> None:
    transport = RecordedTransport({"ap-1": RECORDING})
    walked = target(version=version, max_repetitions=max_repetitions)
    run(transport.walk(walked, IF_DESCR, max_rows=max_rows))
    assert transport.stats.requests == requests


def test_a_target_made_to_time_out_raises_timeout_after_its_retries(
    transport: RecordedTransport,
) -> None:
    transport.time_out("ap-1")
    with pytest.raises(SnmpError) as caught:
        run(transport.get(target(retries=2), [parse_oid("1.3.6.1.2.1.1.5.0")]))
    assert caught.value.reason is ErrorReason.TIMEOUT
    assert (transport.stats.requests, transport.stats.retries) == (3, 2)


def test_a_target_made_to_fail_auth_raises_auth_until_healed(
    transport: RecordedTransport,
) -> None:
    transport.fail_auth("ap-1")
    with pytest.raises(SnmpError) as caught:
        run(transport.walk(target(), IF_DESCR))
    assert caught.value.reason is ErrorReason.AUTH
    transport.heal("ap-1")
    assert len(run(transport.walk(target(), IF_DESCR))) == 3


def test_any_reason_can_be_injected(transport: RecordedTransport) -> None:
    transport.fail("ap-1", ErrorReason.DECODE)
    with pytest.raises(SnmpError) as caught:
        run(transport.get(target(), [parse_oid("1.3.6.1.2.1.1.5.0")]))
    assert caught.value.reason is ErrorReason.DECODE


def test_an_unknown_target_times_out_like_a_silent_host(transport: RecordedTransport) -> None:
    with pytest.raises(SnmpError) as caught:
        run(transport.get(target("nobody"), [parse_oid("1.3.6.1.2.1.1.5.0")]))
    assert caught.value.reason is ErrorReason.TIMEOUT


def test_after_close_requests_fail(transport: RecordedTransport) -> None:
    run(transport.close())
    with pytest.raises(SnmpError):
        run(transport.get(target(), [parse_oid("1.3.6.1.2.1.1.5.0")]))


def test_agents_can_be_added_later(transport: RecordedTransport) -> None:
    transport.add_agent("ap-2", parse_snmprec("1.3.6.1.2.1.1.5.0|4|ap-2"))
    [varbind] = run(transport.get(target("ap-2"), [parse_oid("1.3.6.1.2.1.1.5.0")]))
    assert varbind.value.value == b"ap-2"


_oids = st.lists(st.integers(0, 5), min_size=1, max_size=5).map(lambda parts: (1, 3, *parts))


@given(
    st.sets(_oids, max_size=40),
    st.lists(st.integers(0, 5), max_size=4).map(lambda parts: (1, 3, *parts)),
)
def test_walk_equals_filtering_the_sorted_recording(
    recorded: set[tuple[int, ...]], root: tuple[int, ...]
) -> None:
    varbinds = [VarBind(oid, SnmpValue(K.INTEGER, index)) for index, oid in enumerate(recorded)]
    transport = RecordedTransport({"ap-1": varbinds})
    expected = sorted(
        (
            varbind
            for varbind in varbinds
            if varbind.oid[: len(root)] == root and varbind.oid != root
        ),
        key=lambda varbind: varbind.oid,
    )
    assert run(transport.walk(target(), root)) == expected
