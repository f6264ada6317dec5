"""Columns walked together over real UDP equal walks of each column alone.

net-snmp ``snmpd`` answers the multi-varbind GETBULKs of
``RequestLogic.walk_columns`` (RFC 3416 4.2.3, what ``snmptable`` sends);
FastTransport (SNMPv2c and native SNMPv3) and PysnmpTransport must give the
same rows as one walk per column, in fewer requests. Counters move between
two walks of a live agent, so values are compared for the static columns
and OIDs for every column.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.agents import run_snmpd
from wifimon.snmp.fast_transport import FastTransport
from wifimon.snmp.pysnmp_transport import PysnmpTransport
from wifimon.snmp.types import Oid, SnmpCredentials, SnmpTarget, VarBind, parse_oid

pytestmark = pytest.mark.e2e

COMMUNITY = "columns-community"
USER, AUTH_PASSWORD, PRIV_PASSWORD = "columns", "columns-auth-pw", "columns-priv-pw"
IF_ENTRY = parse_oid("1.3.6.1.2.1.2.2.1")
SYS_OR_ENTRY = parse_oid("1.3.6.1.2.1.1.9.1")
# ifIndex .. ifPhysAddress, ifAdminStatus: fixed while the test runs
STATIC_IF_COLUMNS = frozenset({1, 2, 3, 4, 5, 6, 7})
# ifTable's 22 columns, a column the agent lacks (ifTable.99) and sysORTable's
ROOTS: list[Oid] = [
    *[(*IF_ENTRY, column) for column in range(1, 23)],
    (*IF_ENTRY, 99),
    *[(*SYS_OR_ENTRY, column) for column in (2, 3, 4)],
]

CREDENTIALS = {
    "v2c": SnmpCredentials("2c", community=COMMUNITY),
    "v3": SnmpCredentials(
        "3",
        user=USER,
        auth_protocol="sha",
        auth_password=AUTH_PASSWORD,
        priv_protocol="aes",
        priv_password=PRIV_PASSWORD,
    ),
}


# Both transports, each over SNMPv2c and native/pysnmp SNMPv3 (SHA/AES).
TRANSPORTS = [
    (FastTransport, "v2c"),
    (FastTransport, "v3"),
    (PysnmpTransport, "v2c"),
    (PysnmpTransport, "v3"),
]
TRANSPORT_IDS = ["fast-v2c", "fast-v3", "pysnmp-v2c", "pysnmp-v3"]


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    lines = [
        f"rocommunity {COMMUNITY} 127.0.0.1",
        f"createUser {USER} SHA {AUTH_PASSWORD} AES {PRIV_PASSWORD}",
        f"rouser {USER} priv",
        "sysDescr wifimon column walk agent",
    ]
    directory: Path = tmp_path_factory.mktemp("snmpd-columns")
    with run_snmpd(directory, lines) as address:
        yield address


def comparable(root: Oid, rows: list[VarBind]) -> list[object]:
    if root[: len(IF_ENTRY)] == IF_ENTRY and root[-1] not in STATIC_IF_COLUMNS:
        return [row.oid for row in rows]
    return list(rows)


async def walk_both(
    transport: FastTransport | PysnmpTransport, target: SnmpTarget
) -> tuple[dict[Oid, list[object]], dict[Oid, list[object]], int, int]:
    try:
        before = transport.stats.requests
        alone = {root: comparable(root, await transport.walk(target, root)) for root in ROOTS}
        middle = transport.stats.requests
        walked = await transport.walk_columns(target, ROOTS, 100_000)
        after = transport.stats.requests
        for rows in walked.values():
            assert not rows.cut
        together = {root: comparable(root, rows) for root, rows in walked.items()}
    finally:
        await transport.close()
    return alone, together, middle - before, after - middle


@pytest.mark.parametrize("max_repetitions", [25, 3])
@pytest.mark.parametrize(("transport_class", "version"), TRANSPORTS, ids=TRANSPORT_IDS)
def test_columns_walked_together_equal_walks_alone(
    agent: tuple[str, int],
    transport_class: type[FastTransport] | type[PysnmpTransport],
    version: str,
    max_repetitions: int,
) -> None:
    host, port = agent
    target = SnmpTarget(
        "snmpd", host, port, CREDENTIALS[version], 2.0, 2, max_repetitions=max_repetitions
    )
    alone, together, requests_alone, requests_together = asyncio.run(
        walk_both(transport_class(), target)
    )
    assert list(together) == ROOTS
    assert together == alone
    interfaces = len(alone[(*IF_ENTRY, 1)])
    assert interfaces >= 1  # at least the loopback
    assert len(alone[(*SYS_OR_ENTRY, 2)]) >= 5
    assert alone[(*IF_ENTRY, 99)] == []
    assert requests_together < requests_alone


# sysDescr.0, sysObjectID.0, sysName.0, sysContact.0, one the agent lacks
# (system.99.0: its GETNEXT finds sysORTable) and sysServices.0
SCALARS: list[Oid] = [
    parse_oid("1.3.6.1.2.1.1.1.0"),
    parse_oid("1.3.6.1.2.1.1.2.0"),
    parse_oid("1.3.6.1.2.1.1.5.0"),
    parse_oid("1.3.6.1.2.1.1.4.0"),
    parse_oid("1.3.6.1.2.1.1.99.0"),
    parse_oid("1.3.6.1.2.1.1.7.0"),
]


async def get_and_walk_both(
    transport: FastTransport | PysnmpTransport, target: SnmpTarget
) -> tuple[tuple[list[object], dict[Oid, list[object]], int], ...]:
    try:
        await transport.get(target, SCALARS[:1])  # SNMPv3 discovery, out of the counts
        ways = []
        for shared in (False, True):
            before = transport.stats.requests
            if shared:
                got, walked = await transport.get_and_walk_columns(target, SCALARS, ROOTS, 100_000)
            else:
                got = await transport.get(target, SCALARS)
                walked = await transport.walk_columns(target, ROOTS, 100_000)
            values: list[object] = [(vb.oid, vb.value.kind.is_exception or vb.value) for vb in got]
            rows = {root: comparable(root, found) for root, found in walked.items()}
            ways.append((values, rows, transport.stats.requests - before))
    finally:
        await transport.close()
    return tuple(ways)


@pytest.mark.parametrize(("transport_class", "version"), TRANSPORTS, ids=TRANSPORT_IDS)
def test_a_get_riding_in_the_first_getbulk_equals_a_get_then_the_walk(
    agent: tuple[str, int],
    transport_class: type[FastTransport] | type[PysnmpTransport],
    version: str,
) -> None:
    """snmpd answers the scalars as GETBULK non-repeaters exactly as a GET
    (a missing one as an exception), the columns as before, one request fewer."""
    host, port = agent
    target = SnmpTarget("snmpd", host, port, CREDENTIALS[version], 2.0, 2, max_repetitions=25)
    (values, rows, plain_requests), (got, together, requests) = asyncio.run(
        get_and_walk_both(transport_class(), target)
    )
    assert got == values
    assert together == rows
    assert values[4] == (SCALARS[4], True)  # the missing scalar
    assert values[0][1] is not True  # sysDescr.0
    assert values[2][1] is not True  # sysName.0
    assert requests == plain_requests - 1
