"""SNMPv3 against net-snmp snmpd: every protocol pair, wrong keys, agent restarts.

Every auth x priv pair wifimon supports that this snmpd (5.9.3) can create
is polled by both transports; 3DES is the one it cannot (``createUser``
knows no 3DES), so it is tested nowhere against a real agent. Both
transports are driven through the public ``Transport`` API, so whatever each
does inside (FastTransport's native USM, pysnmp's engine) must end the same.
An agent restarted the way a device reboots (same port, same persistent
folder, so the same engine id and engineBoots + 1) and an agent replaced or
reset (its persistent folder wiped: a new engine id) must both be polled
again without an operator; the daemon test does it through ``wifimon run``.
A wrong privacy password, which net-snmp answers with silence, becomes
``auth`` through ``DiagnosingTransport``.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.agents import HOST, free_udp_port, run_snmpd
from tests.support.daemon import RunningDaemon, Scrape, running_daemon, write_config
from tests.support.prometheus import wait_for
from tests.support.snmpd_restart import engine_boots, snmpd_on_port
from wifimon.snmp.fast_transport import FastTransport
from wifimon.snmp.pysnmp_transport import PysnmpTransport
from wifimon.snmp.types import (
    AuthProtocol,
    ErrorReason,
    PrivProtocol,
    SnmpCredentials,
    SnmpError,
    SnmpTarget,
    Transport,
    parse_oid,
)
from wifimon.snmp.v3_diagnosis import PRIV_HINT, DiagnosingTransport

pytestmark = pytest.mark.e2e

SYS_NAME = "lamp-post-restart"
SYS_NAME_OID = parse_oid("1.3.6.1.2.1.1.5.0")
AUTH_PASSWORD = "auth-" + secrets.token_hex(6)
PRIV_PASSWORD = "priv-" + secrets.token_hex(6)
TRANSPORTS: dict[str, Callable[[], Transport]] = {
    "pysnmp": PysnmpTransport,
    "fast": FastTransport,
}


def agent_conf(engine_id: str) -> list[str]:
    return [
        f"engineID {engine_id}",
        f"sysName {SYS_NAME}",
        f"createUser monitor SHA-256 {AUTH_PASSWORD} AES {PRIV_PASSWORD}",
        "rouser monitor priv",
    ]


def credentials(**changes: str) -> SnmpCredentials:
    fields: dict[str, Any] = {
        "user": "monitor",
        "auth_protocol": "sha256",
        "auth_password": AUTH_PASSWORD,
        "priv_protocol": "aes128",
        "priv_password": PRIV_PASSWORD,
        **changes,
    }
    return SnmpCredentials("3", **fields)


def v3_target(port: int, creds: SnmpCredentials | None = None) -> SnmpTarget:
    return SnmpTarget("ap-v3", HOST, port, creds or credentials(), timeout=1.0, retries=1)


async def sys_name(transport: Transport, target: SnmpTarget) -> bytes:
    [value] = await transport.get(target, [SYS_NAME_OID])
    assert isinstance(value.value.value, bytes)
    return value.value.value


# --- every protocol pair -----------------------------------------------------------

NET_SNMP_AUTH = {
    "md5": "MD5",
    "sha": "SHA",
    "sha224": "SHA-224",
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
}
# wifimon's aes192/aes256 are the Reeder key extension: net-snmp's "-C" variants
NET_SNMP_PRIV = {
    "des": "DES",
    "aes": "AES",
    "aes128": "AES",
    "aes192": "AES-192-C",
    "aes256": "AES-256-C",
}
PAIRS: list[tuple[str | None, str | None]] = [
    (None, None),
    *[(auth, priv) for auth in NET_SNMP_AUTH for priv in (None, *NET_SNMP_PRIV)],
]


def pair_user(auth: str | None, priv: str | None) -> str:
    return f"{auth or 'noauth'}-{priv or 'nopriv'}"


def pair_credentials(auth: str | None, priv: str | None, **changes: str) -> SnmpCredentials:
    user = pair_user(auth, priv)
    fields: dict[str, Any] = {
        "user": user,
        "auth_protocol": auth,
        "auth_password": f"{AUTH_PASSWORD}-{user}" if auth else "",
        "priv_protocol": priv,
        "priv_password": f"{PRIV_PASSWORD}-{user}" if priv else "",
        **changes,
    }
    return SnmpCredentials("3", **fields)


def matrix_conf() -> list[str]:
    lines = [f"sysName {SYS_NAME}"]
    for auth, priv in PAIRS:
        user = pair_user(auth, priv)
        creds = pair_credentials(auth, priv)
        if auth is None:
            lines += [f"createUser {user}", f"rouser {user} noauth"]
        elif priv is None:
            lines += [f"createUser {user} {NET_SNMP_AUTH[auth]} {creds.auth_password}"]
            lines += [f"rouser {user} auth"]
        else:
            lines.append(
                f"createUser {user} {NET_SNMP_AUTH[auth]} {creds.auth_password} "
                f"{NET_SNMP_PRIV[priv]} {creds.priv_password}"
            )
            lines.append(f"rouser {user} priv")
    return lines


@pytest.fixture(scope="module")
def matrix_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with run_snmpd(tmp_path_factory.mktemp("snmpd-matrix"), matrix_conf()) as (_, port):
        yield port


def outcome(kind: str, target: SnmpTarget, diagnose: bool = False) -> bytes | ErrorReason:
    """What one GET of sysName through a fresh ``kind`` transport ends with."""

    async def main() -> bytes | ErrorReason:
        inner = TRANSPORTS[kind]()
        transport: Transport = DiagnosingTransport(inner) if diagnose else inner
        try:
            return await sys_name(transport, target)
        except SnmpError as error:
            return error.reason
        finally:
            await transport.close()

    return asyncio.run(main())


def test_every_supported_protocol_is_in_the_matrix_or_named_untestable() -> None:
    supported_auth = set(typing.get_args(AuthProtocol))
    supported_priv = set(typing.get_args(PrivProtocol))
    assert supported_auth == set(NET_SNMP_AUTH)
    assert supported_priv - set(NET_SNMP_PRIV) == {"3des"}  # net-snmp 5.9.3 has no 3DES


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
@pytest.mark.parametrize(("auth", "priv"), PAIRS, ids=[pair_user(*pair) for pair in PAIRS])
def test_every_auth_and_priv_pair_reads_the_agent(
    matrix_agent: int, kind: str, auth: str | None, priv: str | None
) -> None:
    target = v3_target(matrix_agent, pair_credentials(auth, priv))
    assert outcome(kind, target) == SYS_NAME.encode()


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
@pytest.mark.parametrize("auth", list(NET_SNMP_AUTH))
def test_a_wrong_auth_password_is_auth_for_every_auth_protocol(
    matrix_agent: int, kind: str, auth: str
) -> None:
    creds = pair_credentials(auth, "aes128", auth_password="wrong-" + secrets.token_hex(6))
    assert outcome(kind, v3_target(matrix_agent, creds)) is ErrorReason.AUTH


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
@pytest.mark.parametrize("priv", list(NET_SNMP_PRIV))
def test_a_wrong_priv_password_is_diagnosed_for_every_priv_protocol(
    matrix_agent: int, kind: str, priv: str
) -> None:
    creds = pair_credentials("sha256", priv, priv_password="wrong-" + secrets.token_hex(6))
    target = SnmpTarget("ap-v3", HOST, matrix_agent, creds, timeout=0.3, retries=0)
    assert outcome(kind, target) is ErrorReason.TIMEOUT  # what the wire shows
    assert outcome(kind, target, diagnose=True) is ErrorReason.AUTH


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
def test_a_rebooted_then_replaced_agent_is_polled_again(tmp_path: Path, kind: str) -> None:
    port = free_udp_port()
    target = v3_target(port)

    async def main() -> list[bytes]:
        transport = TRANSPORTS[kind]()
        names = []
        try:
            with snmpd_on_port(tmp_path, port, agent_conf("city-ap-a")):
                names.append(await sys_name(transport, target))
            boots = engine_boots(tmp_path)
            # reboot: same engine id, engineBoots + 1, engineTime back to 0
            with snmpd_on_port(tmp_path, port, agent_conf("city-ap-a")):
                assert engine_boots(tmp_path) == (boots or 0) + 1
                names.append(await sys_name(transport, target))
                names.append(await sys_name(transport, target))
            # replaced (or factory reset): a new engine id at the same address
            shutil.rmtree(tmp_path / "persistent")
            with snmpd_on_port(tmp_path, port, agent_conf("city-ap-b")):
                names.append(await sys_name(transport, target))
                names.append(await sys_name(transport, target))
        finally:
            await transport.close()
        return names

    assert asyncio.run(main()) == [SYS_NAME.encode()] * 5


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
def test_a_wrong_priv_password_is_diagnosed_as_auth(tmp_path: Path, kind: str) -> None:
    port = free_udp_port()
    wrong = v3_target(port, credentials(priv_password="wrong-" + secrets.token_hex(6)))

    async def main() -> tuple[SnmpError, SnmpError]:
        plain = TRANSPORTS[kind]()
        diagnosing = DiagnosingTransport(TRANSPORTS[kind]())
        try:
            with snmpd_on_port(tmp_path, port, agent_conf("city-ap-a")):
                with pytest.raises(SnmpError) as bare:
                    await plain.get(wrong, [SYS_NAME_OID])
                with pytest.raises(SnmpError) as diagnosed:
                    await diagnosing.get(wrong, [SYS_NAME_OID])
                # the right keys through the same wrapper are untouched
                assert await sys_name(diagnosing, v3_target(port)) == SYS_NAME.encode()
            return bare.value, diagnosed.value
        finally:
            await plain.close()
            await diagnosing.close()

    bare, diagnosed = asyncio.run(main())
    assert bare.reason is ErrorReason.TIMEOUT  # all the wire shows: net-snmp drops it
    assert diagnosed.reason is ErrorReason.AUTH
    assert PRIV_HINT in str(diagnosed)
    for secret in (PRIV_PASSWORD, AUTH_PASSWORD, wrong.credentials.priv_password):
        assert secret not in str(diagnosed)


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
def test_a_silent_agent_stays_a_timeout_through_the_diagnosis(kind: str) -> None:
    target = v3_target(free_udp_port())  # nothing listens there

    async def main() -> SnmpError:
        transport = DiagnosingTransport(TRANSPORTS[kind]())
        try:
            with pytest.raises(SnmpError) as caught:
                await transport.get(target, [SYS_NAME_OID])
            return caught.value
        finally:
            await transport.close()

    assert asyncio.run(main()).reason is ErrorReason.TIMEOUT


# --- the daemon --------------------------------------------------------------


def wait_for_scrape(daemon: RunningDaemon, check: Callable[[Scrape], bool], what: str) -> Scrape:
    """The first scrape for which ``check`` holds."""

    def attempt() -> Scrape | None:
        daemon.wait_generation(1)
        scrape = daemon.scrape()
        return scrape if check(scrape) else None

    return wait_for(attempt, 60, what)


def up(scrape: Scrape, ap: str) -> float | None:
    return scrape.optional("wifimon_target_up", target=ap)


def test_the_daemon_polls_a_rebooted_and_a_replaced_agent_again(tmp_path: Path) -> None:
    port = free_udp_port()
    agent_dir = tmp_path / "agent"
    v3 = {
        "version": 3,
        "user": "monitor",
        "auth_protocol": "sha256",
        "auth_password": AUTH_PASSWORD,
        "priv_protocol": "aes128",
        "priv_password": PRIV_PASSWORD,
    }
    wrong_password = "wrong-" + secrets.token_hex(6)
    wrong_auth = {**v3, "auth_password": wrong_password}
    aps = [
        {"ap": ap, "host": HOST, "port": port, "credentials": cred, "profile": "generic"}
        for ap, cred in (("ap-v3", "v3"), ("ap-wrong-auth", "wrong-auth"))
    ]
    config = write_config(
        tmp_path / "wifimon",
        {
            "poll": {"interval": "2s", "timeout": "0.5s", "retries": 1, "jitter": "0s"},
            "credentials": {"v3": v3, "wrong-auth": wrong_auth},
            "access_points": aps,
        },
    )
    with running_daemon(config) as daemon:
        with snmpd_on_port(agent_dir, port, agent_conf("city-ap-a")):
            first = wait_for_scrape(daemon, lambda s: up(s, "ap-v3") == 1, "ap-v3 up")
        wait_for_scrape(daemon, lambda s: up(s, "ap-v3") == 0, "ap-v3 down, its agent stopped")
        with snmpd_on_port(agent_dir, port, agent_conf("city-ap-a")):  # rebooted
            wait_for_scrape(daemon, lambda s: up(s, "ap-v3") == 1, "ap-v3 up after a reboot")
        wait_for_scrape(daemon, lambda s: up(s, "ap-v3") == 0, "ap-v3 down again")
        shutil.rmtree(agent_dir / "persistent")
        with snmpd_on_port(agent_dir, port, agent_conf("city-ap-b")):  # replaced
            last = wait_for_scrape(daemon, lambda s: up(s, "ap-v3") == 1, "up after replacement")
    assert (
        first.value("wifimon_target_poll_errors_total", target="ap-wrong-auth", reason="auth") >= 1
    )
    assert up(first, "ap-wrong-auth") == 0
    assert last.value("wifimon_ap_up", ap="ap-v3") == 1
    log = daemon.log()
    for secret in (AUTH_PASSWORD, PRIV_PASSWORD, wrong_password):
        assert secret not in log
