"""FastTransport's native SNMPv3 against net-snmp snmpd on 127.0.0.1.

Every auth x priv pair FastTransport claims (``NATIVE_AUTH`` x
``NATIVE_PRIV``) gets a user on one snmpd; GETs and walks through the native
path must equal what ``PysnmpTransport`` reads with the same credentials,
without the pysnmp delegate ever being created. Wrong passwords and unknown
users end as ``auth``; an snmpd restarted on the same port (engine boots up
by one, or a new engine id) is followed on the very next request.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pytest

from tests.support.agents import HOST, free_udp_port, run_snmpd
from tests.support.snmpd_restart import snmpd_on_port
from wifimon.snmp.fast_transport import NATIVE_AUTH, NATIVE_PRIV, FastTransport, is_native_v3
from wifimon.snmp.pysnmp_transport import PysnmpTransport
from wifimon.snmp.types import (
    ErrorReason,
    Oid,
    SnmpCredentials,
    SnmpError,
    SnmpTarget,
    TransportStats,
    VarBind,
    parse_oid,
)
from wifimon.snmp.v3_codec import FLAG_AUTH, decode_message

pytestmark = pytest.mark.e2e

SYS_NAME = "wifimon-v3"
NET_SNMP_AUTH = {
    "md5": "MD5",
    "sha": "SHA",
    "sha224": "SHA-224",
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
}
# aes192/aes256 are the Reeder key extension: net-snmp's "-C" variants
NET_SNMP_PRIV = {
    "des": "DES",
    "aes": "AES",
    "aes128": "AES",
    "aes192": "AES-192-C",
    "aes256": "AES-256-C",
}
COMBOS: list[tuple[str | None, str | None]] = [
    (None, None),
    *[(auth, priv) for auth in sorted(NET_SNMP_AUTH) for priv in [None, *sorted(NET_SNMP_PRIV)]],
]
GET_OIDS = [
    parse_oid("1.3.6.1.2.1.1.5.0"),  # sysName
    parse_oid("1.3.6.1.2.1.1.2.0"),  # sysObjectID
    parse_oid("1.3.6.1.2.1.1.6.0"),  # sysLocation
    parse_oid("1.3.6.1.2.1.1.99.0"),  # absent: noSuchObject
    parse_oid("1.3.6.1.2.1.1.5.1"),  # absent: noSuchInstance
]
SYS_OR_TABLE = parse_oid("1.3.6.1.2.1.1.9")  # sysORTable: static, dozens of rows
IF_DESCR = parse_oid("1.3.6.1.2.1.2.2.1.2")


def user_name(auth: str | None, priv: str | None) -> str:
    return f"{auth or 'noauth'}-{priv or 'nopriv'}"


def credentials(auth: str | None, priv: str | None, **changes: str | None) -> SnmpCredentials:
    user = user_name(auth, priv)
    fields: dict[str, Any] = {
        "user": user,
        "auth_protocol": auth,
        "auth_password": f"auth-{user}-pw" if auth else "",
        "priv_protocol": priv,
        "priv_password": f"priv-{user}-pw" if priv else "",
        **changes,
    }
    return SnmpCredentials("3", **fields)


# non-ASCII passwords: net-snmp hashes its config file's UTF-8 octets, and so
# does wifimon (pysnmp would hash them as Latin-1)
UTF8_USER, UTF8_AUTH, UTF8_PRIV = "utf8-user", "mot-de-passe-été", "clé-privée-ünï"


def snmpd_conf(engine_id: str | None = None) -> list[str]:
    lines = [f"sysName {SYS_NAME}", "sysLocation v3 rack"]
    lines += [f"createUser {UTF8_USER} SHA {UTF8_AUTH} AES {UTF8_PRIV}", f"rouser {UTF8_USER} priv"]
    if engine_id is not None:
        lines.append(f"engineID {engine_id}")
    for auth, priv in COMBOS:
        user = user_name(auth, priv)
        if auth is None:
            lines += [f"createUser {user}", f"rouser {user} noauth"]
        elif priv is None:
            lines += [
                f"createUser {user} {NET_SNMP_AUTH[auth]} auth-{user}-pw",
                f"rouser {user} auth",
            ]
        else:
            lines.append(
                f"createUser {user} {NET_SNMP_AUTH[auth]} auth-{user}-pw "
                f"{NET_SNMP_PRIV[priv]} priv-{user}-pw"
            )
            lines.append(f"rouser {user} priv")
    return lines


@pytest.fixture(scope="module")
def v3_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with run_snmpd(tmp_path_factory.mktemp("snmpd-v3"), snmpd_conf()) as (_, port):
        yield port


def target(port: int, creds: SnmpCredentials, **options: Any) -> SnmpTarget:
    return SnmpTarget("v3", HOST, port, creds, **{"timeout": 2.0, "retries": 1, **options})


async def read_all(transport: FastTransport | PysnmpTransport, agent: SnmpTarget) -> list[Any]:
    return [
        await transport.get(agent, GET_OIDS),
        await transport.walk(agent, SYS_OR_TABLE),
        await transport.walk(agent, IF_DESCR),
    ]


def test_every_claimed_protocol_pair_is_tested_here() -> None:
    claimed = {(a, p) for a in NATIVE_AUTH for p in NATIVE_PRIV if a is not None or p is None}
    assert claimed == set(COMBOS)
    assert not is_native_v3(credentials("sha", None, priv_protocol="3des"))


@pytest.mark.parametrize(("auth", "priv"), COMBOS, ids=[user_name(*combo) for combo in COMBOS])
def test_native_v3_reads_what_pysnmp_reads(
    v3_agent: int, auth: str | None, priv: str | None
) -> None:
    agent = target(v3_agent, credentials(auth, priv), max_repetitions=7)

    async def main() -> tuple[list[Any], list[Any], FastTransport]:
        fast, slow = FastTransport(), PysnmpTransport()
        try:
            ours = await read_all(fast, agent)
            assert fast._v3 is None  # nothing went through pysnmp
            return ours, await read_all(slow, agent), fast
        finally:
            await fast.close()
            await slow.close()

    ours, theirs, fast = asyncio.run(main())
    assert ours == theirs
    got, sys_or, if_descr = ours
    assert got[0].value.value == SYS_NAME.encode()
    assert [varbind.value.kind.value for varbind in got[3:]] == ["noSuchObject", "noSuchInstance"]
    assert len(sys_or) > 7  # several GETBULKs
    assert len(if_descr) >= 1
    # discovery, the GET, then one GETBULK per 7 rows and the one leaving the subtree
    expected = 2 + len(sys_or) // 7 + 1 + len(if_descr) // 7 + 1
    assert (fast.stats.requests, fast.stats.retries, fast.stats.dropped_replies) == (expected, 0, 0)


def expect_failure(agent: SnmpTarget) -> tuple[SnmpError, TransportStats]:
    async def main() -> tuple[SnmpError, TransportStats]:
        transport = FastTransport()
        try:
            with pytest.raises(SnmpError) as caught:
                await transport.get(agent, GET_OIDS[:1])
            assert transport._v3 is None
            return caught.value, transport.stats
        finally:
            await transport.close()

    return asyncio.run(main())


@pytest.mark.parametrize("auth", sorted(NET_SNMP_AUTH))
def test_a_wrong_auth_password_is_auth_and_never_quoted(v3_agent: int, auth: str) -> None:
    wrong = credentials(auth, "aes", auth_password="not-the-auth-password")
    error, stats = expect_failure(target(v3_agent, wrong, timeout=5.0))
    assert error.reason is ErrorReason.AUTH
    assert "WrongDigest" in str(error)
    # discovery, then the request and its one retry, each answered by a report
    assert (stats.requests, stats.retries) == (3, 1)
    for secret in ("not-the-auth-password", f"priv-{auth}-aes-pw"):
        assert secret not in str(error)


def test_an_unknown_user_is_auth(v3_agent: int) -> None:
    nobody = credentials("sha", "aes", user="nobody")
    error, _ = expect_failure(target(v3_agent, nobody, timeout=5.0))
    assert error.reason is ErrorReason.AUTH
    assert "UnknownUserName" in str(error)


def test_a_lower_security_level_than_the_user_needs_is_auth(v3_agent: int) -> None:
    downgraded = credentials("sha", "aes", priv_protocol=None, priv_password="")
    error, _ = expect_failure(target(v3_agent, downgraded, timeout=5.0))
    assert error.reason is ErrorReason.AUTH


def test_non_ascii_passwords_are_hashed_as_utf_8_like_net_snmp(v3_agent: int) -> None:
    creds = SnmpCredentials(
        "3",
        user=UTF8_USER,
        auth_protocol="sha",
        auth_password=UTF8_AUTH,
        priv_protocol="aes",
        priv_password=UTF8_PRIV,
    )

    async def main() -> list[VarBind]:
        transport = FastTransport()
        try:
            return await transport.get(target(v3_agent, creds), GET_OIDS[:1])
        finally:
            await transport.close()

    assert asyncio.run(main())[0].value.value == SYS_NAME.encode()


def test_a_wrong_priv_password_times_out_because_net_snmp_drops_it(v3_agent: int) -> None:
    wrong = credentials("sha256", "aes256", priv_password="not-the-priv-password")
    error, stats = expect_failure(target(v3_agent, wrong, timeout=0.3, retries=1))
    assert error.reason is ErrorReason.TIMEOUT
    assert "not-the-priv-password" not in str(error)
    assert (stats.requests, stats.retries) == (3, 1)


def test_many_concurrent_requests_share_one_discovery(v3_agent: int) -> None:
    agent = target(v3_agent, credentials("sha512", "aes256"), timeout=5.0)

    async def main() -> tuple[list[list[VarBind]], TransportStats]:
        transport = FastTransport()
        try:
            answers = await asyncio.gather(*(transport.get(agent, GET_OIDS) for _ in range(100)))
            return answers, transport.stats
        finally:
            await transport.close()

    answers, stats = asyncio.run(main())
    assert all(values[0].value.value == SYS_NAME.encode() for values in answers)
    assert (stats.requests, stats.retries, stats.dropped_replies) == (101, 0, 0)


def test_a_restarted_agent_is_followed_on_the_next_request(tmp_path: Path) -> None:
    port = free_udp_port()
    agent = target(port, credentials("sha", "aes"), timeout=5.0, retries=0)
    sys_name: Oid = GET_OIDS[0]

    async def poll(transport: FastTransport) -> tuple[int, bytes, int]:
        before = transport.stats.requests
        [value] = await transport.get(agent, [sys_name])
        assert value.value.value == SYS_NAME.encode()
        clock = transport._clocks[(HOST, port)]
        return transport.stats.requests - before, clock.engine_id, clock.boots

    async def main() -> list[tuple[int, bytes, int]]:
        transport = FastTransport()
        seen = []
        try:
            with snmpd_on_port(tmp_path, port, snmpd_conf("wifimon-engine-a")):
                seen.append(await poll(transport))
                seen.append(await poll(transport))
            with snmpd_on_port(tmp_path, port, snmpd_conf("wifimon-engine-a")):
                seen.append(await poll(transport))  # same engine, one boot later
            # net-snmp keeps its first engine id in the persistent state over
            # the config's: a new one needs a fresh state directory
            replaced = tmp_path / "replaced"
            replaced.mkdir()
            with snmpd_on_port(replaced, port, snmpd_conf("wifimon-engine-b")):
                seen.append(await poll(transport))  # a new engine id, boots 1 again
                seen.append(await poll(transport))
            assert transport._v3 is None
            assert (transport.stats.retries, transport.stats.dropped_replies) == (0, 0)
            return seen
        finally:
            await transport.close()

    seen = asyncio.run(main())
    requests = [count for count, _, _ in seen]
    engines = [engine for _, engine, _ in seen]
    boots = [boot for _, _, boot in seen]
    # discovery + GET; GET; NotInTimeWindow report + GET; UnknownEngineID report + GET; GET
    assert requests == [2, 1, 2, 2, 1]
    assert engines[0] == engines[1] == engines[2] != engines[3] == engines[4]
    assert boots[2] == boots[1] + 1
    assert boots[3] == 1


class _Relay(asyncio.DatagramProtocol):
    """Forwards requests to the agent; every authenticated reply is preceded by
    forgeries: the reply with its last octet flipped, v3-looking garbage, the
    previous genuine reply (a replay), and the reply sent from another port."""

    def __init__(self, agent: tuple[str, int], upstream: socket.socket, other: socket.socket):
        self.agent, self.upstream, self.other = agent, upstream, other
        self.transport: asyncio.DatagramTransport | None = None
        self.client: tuple[str, int] | None = None
        self.previous: bytes | None = None
        self.forged = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.client = addr
        self.upstream.sendto(data, self.agent)

    def reply_received(self) -> None:
        reply = self.upstream.recv(65535)
        assert self.transport is not None
        assert self.client is not None
        if decode_message(reply).flags & FLAG_AUTH:
            forgeries = [reply[:-1] + bytes((reply[-1] ^ 1,)), b"\x30\x03\x02\x01\x03"]
            if self.previous is not None:
                forgeries.append(self.previous)
            for forged in forgeries:
                self.transport.sendto(forged, self.client)
            self.other.sendto(reply, self.client)
            self.forged += len(forgeries) + 1
            self.previous = reply
        self.transport.sendto(reply, self.client)


@asynccontextmanager
async def meddling_relay(agent_port: int) -> AsyncIterator[tuple[int, _Relay]]:
    loop = asyncio.get_running_loop()
    upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upstream.bind((HOST, 0))
    other.bind((HOST, 0))
    upstream.setblocking(False)
    transport, relay = await loop.create_datagram_endpoint(
        lambda: _Relay((HOST, agent_port), upstream, other), local_addr=(HOST, 0)
    )
    loop.add_reader(upstream.fileno(), relay.reply_received)
    try:
        yield transport.get_extra_info("sockname")[1], relay
    finally:
        loop.remove_reader(upstream.fileno())
        transport.close()
        upstream.close()
        other.close()


def test_forged_replayed_and_misrouted_replies_are_dropped_and_counted(v3_agent: int) -> None:
    creds = credentials("sha256", "aes128")

    async def main() -> tuple[list[Any], list[Any], int, TransportStats]:
        direct, meddled = FastTransport(), FastTransport()
        try:
            async with meddling_relay(v3_agent) as (port, relay):
                through = await read_all(meddled, target(port, creds, max_repetitions=7))
            expected = await read_all(direct, target(v3_agent, creds, max_repetitions=7))
            return through, expected, relay.forged, meddled.stats
        finally:
            await direct.close()
            await meddled.close()

    through, expected, forged, stats = asyncio.run(main())
    assert through == expected
    assert forged > 10
    assert (stats.dropped_replies, stats.retries) == (forged, 0)
