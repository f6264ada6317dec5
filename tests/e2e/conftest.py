"""Real agents on 127.0.0.1 shared by the end-to-end tests of one run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.agents import decompressed_recording, run_snmpd, run_snmpsim
from wifimon.snmp.types import SnmpCredentials, SnmpTarget

SYS_NAME = "wifimon-e2e"
SYS_LOCATION = "Test rack, 127.0.0.1"
COMMUNITY = "e2e-public"
SYSTEM_ONLY_COMMUNITY = "e2e-system-only"

# One v3 user per protocol pair we claim to support. net-snmp's "AES-192-C"
# and "AES-256-C" are the Reeder (Cisco) key extension that our aes192/aes256
# mean; net-snmp's plain "AES-256" is Blumenthal's and is a different protocol.
V3_USERS = {
    "sha-aes": ("sha", "SHA", "aes", "AES"),
    "sha256-aes256": ("sha256", "SHA-256", "aes256", "AES-256-C"),
    "sha512-aes192": ("sha512", "SHA-512", "aes192", "AES-192-C"),
    "sha384-aes128": ("sha384", "SHA-384", "aes128", "AES"),
    "md5-des": ("md5", "MD5", "des", "DES"),
    "sha224-nopriv": ("sha224", "SHA-224", None, None),
}


def auth_password(user: str) -> str:
    return f"auth-{user}-pw"


def priv_password(user: str) -> str:
    return f"priv-{user}-pw"


def _snmpd_conf() -> list[str]:
    lines = [
        f"rocommunity {COMMUNITY} 127.0.0.1",
        # a community that sees only the system group, so a walk reaches endOfMibView
        "view systemonly included .1.3.6.1.2.1.1",
        f"rocommunity {SYSTEM_ONLY_COMMUNITY} 127.0.0.1 -V systemonly",
        f"sysName {SYS_NAME}",
        f"sysLocation {SYS_LOCATION}",
    ]
    for user, (_, net_auth, _, net_priv) in V3_USERS.items():
        if net_priv is None:
            lines += [f"createUser {user} {net_auth} {auth_password(user)}", f"rouser {user} auth"]
        else:
            lines.append(
                f"createUser {user} {net_auth} {auth_password(user)} "
                f"{net_priv} {priv_password(user)}"
            )
            lines.append(f"rouser {user} priv")
    return lines


@dataclass(frozen=True)
class Agent:
    """A running agent and how to make targets for it."""

    host: str
    port: int

    def target(self, credentials: SnmpCredentials, **options: Any) -> SnmpTarget:
        options = {"timeout": 2.0, "retries": 1, **options}
        return SnmpTarget("e2e", self.host, self.port, credentials, **options)

    def v2c(self, community: str = COMMUNITY, **options: Any) -> SnmpTarget:
        return self.target(SnmpCredentials("2c", community=community), **options)

    def v1(self, **options: Any) -> SnmpTarget:
        return self.target(SnmpCredentials("1", community=COMMUNITY), **options)

    def v3(
        self, user: str, auth_pw: str | None = None, priv_pw: str | None = None, **options: Any
    ) -> SnmpTarget:
        auth, _, priv, _ = V3_USERS[user]
        credentials = SnmpCredentials(
            "3",
            user=user,
            auth_protocol=auth,  # type: ignore[arg-type]
            auth_password=auth_pw or auth_password(user),
            priv_protocol=priv,  # type: ignore[arg-type]
            priv_password=(priv_pw or priv_password(user)) if priv else "",
        )
        return self.target(credentials, **options)


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    with run_snmpd(tmp_path_factory.mktemp("snmpd"), _snmpd_conf()) as (host, port):
        yield Agent(host, port)


CISCO_CONTROLLER = "network/appliance/cisco-controller"


@pytest.fixture(scope="session")
def cisco_controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Agent, str]]:
    """snmpsim serving the Cisco wireless controller recording; yields (agent, community)."""
    recording = decompressed_recording(CISCO_CONTROLLER)
    with run_snmpsim(
        recording.data_dir, tmp_path_factory.mktemp("snmpsim"), recording.community
    ) as (host, port):
        yield Agent(host, port), recording.community
