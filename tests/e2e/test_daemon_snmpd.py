"""`wifimon run` polling a real net-snmp ``snmpd`` as a stand-alone AP.

snmpd (Debian's, a C agent independent of pysnmp and snmpsim) runs on
127.0.0.1 with a community and SNMPv3 users of several protocol pairs. The
expected values are read from the same agent with net-snmp's own command-line
tools, never through wifimon. Secrets are random per run, so finding one in
the daemon's log cannot be a coincidence.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.agents import run_snmpd
from tests.support.daemon import Scrape, running_daemon, write_config
from tests.support.prometheus import wait_for

pytestmark = pytest.mark.e2e

SYS_NAME = "lamp-post-7.harbour"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_TYPE = "1.3.6.1.2.1.2.2.1.3"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
ETHERNET_CSMACD = 6


@dataclass(frozen=True)
class V3User:
    """A USM user: net-snmp's protocol names, wifimon's, and the passwords."""

    user: str
    snmpd_auth: str  # e.g. "SHA-256"
    snmpd_priv: str  # e.g. "AES" (AES-128 in net-snmp)
    auth_protocol: str  # wifimon's name, e.g. "sha256"
    priv_protocol: str  # wifimon's name, e.g. "aes128"
    auth_password: str
    priv_password: str


def _user(name: str, snmpd: tuple[str, str], wifimon: tuple[str, str]) -> V3User:
    return V3User(
        name, *snmpd, *wifimon, "auth-" + secrets.token_hex(8), "priv-" + secrets.token_hex(8)
    )


@dataclass(frozen=True)
class Snmpd:
    host: str
    port: int
    community: str
    users: dict[str, V3User]

    def get(self, *oids: str) -> list[str]:
        """Values read with net-snmp's ``snmpget`` (not with wifimon)."""
        command = ["snmpget", "-v2c", "-c", self.community, "-m", "", "-Oqvt", "-r1", "-t2"]
        result = subprocess.run(
            [*command, f"{self.host}:{self.port}", *oids],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return result.stdout.split()

    def first_ethernet_interface(self) -> int | None:
        """ifIndex of the first ethernetCsmacd(6) row of ifTable, as net-snmp walks it."""
        command = ["snmpwalk", "-v2c", "-c", self.community, "-m", "", "-Oqn", "-r1", "-t2"]
        result = subprocess.run(
            [*command, f"{self.host}:{self.port}", IF_TYPE],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        for line in result.stdout.splitlines():
            oid, value = line.split()
            if int(value) == ETHERNET_CSMACD:
                return int(oid.rsplit(".", 1)[1])
        return None


def v3_user_lines(user: V3User) -> list[str]:
    """snmpd.conf lines creating ``user`` with read access at authPriv only."""
    return [
        f'createUser {user.user} {user.snmpd_auth} "{user.auth_password}"'
        f' {user.snmpd_priv} "{user.priv_password}"',
        f"rouser {user.user} priv",
    ]


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    users = {
        "sha256-aes128": _user("mon-sha256", ("SHA-256", "AES"), ("sha256", "aes128")),
        "sha-aes": _user("mon-sha-aes", ("SHA", "AES"), ("sha", "aes")),
        "sha-des": _user("mon-sha-des", ("SHA", "DES"), ("sha", "des")),
        "bad-auth": _user("mon-bad-auth", ("SHA-256", "AES"), ("sha256", "aes128")),
        "bad-priv": _user("mon-bad-priv", ("SHA-256", "AES"), ("sha256", "aes128")),
    }
    community = "community-" + secrets.token_hex(8)
    lines = [
        f"rocommunity {community} 127.0.0.1",
        f"sysName {SYS_NAME}",
        "sysLocation Harbour, lamp post 7",
    ]
    for user in users.values():
        lines += v3_user_lines(user)
    with run_snmpd(tmp_path_factory.mktemp("snmpd"), lines) as (host, port):
        yield Snmpd(host, port, community, users)


def direct_ap(snmpd: Snmpd, ap: str, credentials: str, profile: str) -> dict[str, object]:
    return {
        "ap": ap,
        "host": snmpd.host,
        "port": snmpd.port,
        "credentials": credentials,
        "profile": profile,
        "site": "harbour",
        "district": "Harbour",
    }


POLL = {"interval": "10s", "timeout": "1s", "retries": 1, "jitter": "0s"}


def test_snmpd_is_polled_as_a_stand_alone_ap(snmpd: Snmpd, tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        {
            "poll": POLL,
            "credentials": {"lab": {"version": "2c", "community": snmpd.community}},
            # profile auto: no vendor profile claims net-snmp, so "generic" must.
            "access_points": [direct_ap(snmpd, "lamp-post-7", "lab", "auto")],
        },
    )
    # Let the agent's uptime grow past the tolerance below, so that a wrong
    # scale (ticks, or 0) cannot pass by luck on a freshly started agent.
    wait_for(lambda: float(snmpd.get(SYS_UPTIME)[0]) >= 300 or None, 10, "3 s of agent uptime")
    ethernet = snmpd.first_ethernet_interface()
    octets_oid = f"{IF_HC_IN_OCTETS}.{ethernet}"
    octets_before = int(snmpd.get(octets_oid)[0]) if ethernet else None

    with running_daemon(config) as daemon:
        daemon.wait_generation(1)
        scrape = daemon.scrape()
        # sysUpTime now, and when "now" was (between sending and the answer).
        sent = time.time()
        uptime_now = int(snmpd.get(SYS_UPTIME)[0]) / 100
        answered = time.time()
        octets_after = int(snmpd.get(octets_oid)[0]) if ethernet else None

    labels = {"ap": "lamp-post-7", "site": "harbour", "district": "Harbour"}
    assert scrape.value("wifimon_target_up", target="lamp-post-7") == 1
    assert scrape.value("wifimon_ap_up", **labels) == 1
    polled_at = scrape.value("wifimon_target_last_success_timestamp_seconds", target="lamp-post-7")
    # wifimon stamps a poll with its start time and reads sysUpTime first thing.
    expected_uptime = uptime_now - ((sent + answered) / 2 - polled_at)
    tolerance = 0.5 + (answered - sent) / 2
    assert scrape.value("wifimon_ap_uptime_seconds", **labels) == pytest.approx(
        expected_uptime, abs=tolerance
    )
    (info,) = scrape.series("wifimon_ap_info", **labels)
    assert info.labels["name"] == SYS_NAME
    assert info.labels["vendor"] == "generic"
    received = scrape.optional("wifimon_ap_receive_bytes_total", **labels)
    if ethernet is None:
        # No ethernetCsmacd interface in this container: nothing to report.
        assert received is None
    else:
        # The generic profile's uplink is the first ethernetCsmacd row. Where an
        # idle device (ifb0 in these containers, 0 octets) precedes eth0, that
        # row is it: the bounds check the value came from that very row.
        assert received is not None, "ifTable has an Ethernet row but no uplink bytes exported"
        assert octets_before is not None
        assert octets_after is not None
        assert octets_before <= received <= octets_after


# --- SNMPv3 -------------------------------------------------------------------

GOOD_V3 = ("sha256-aes128", "sha-aes", "sha-des")
BAD_V3 = ("bad-auth", "bad-priv")


@dataclass(frozen=True)
class V3Run:
    scrape: Scrape
    log: str
    secrets: list[str]


def _v3_credentials(directory: Path, snmpd: Snmpd) -> tuple[dict[str, object], dict[str, str]]:
    """wifimon credentials, one per user: the auth password in a file, the
    privacy password from an environment variable; the bad ones are wrong."""
    (directory / "secrets").mkdir(parents=True)
    credentials: dict[str, object] = {}
    environment: dict[str, str] = {}
    for variant, user in snmpd.users.items():
        auth = "wrong-" + secrets.token_hex(8) if variant == "bad-auth" else user.auth_password
        priv = "wrong-" + secrets.token_hex(8) if variant == "bad-priv" else user.priv_password
        (directory / "secrets" / f"{variant}.auth").write_text(auth + "\n")
        variable = "WIFIMON_E2E_PRIV_" + variant.upper().replace("-", "_")
        environment[variable] = priv
        credentials[variant] = {
            "version": 3,
            "user": user.user,
            "auth_protocol": user.auth_protocol,
            "auth_password_file": f"secrets/{variant}.auth",
            "priv_protocol": user.priv_protocol,
            "priv_password": "${" + variable + "}",
        }
    return credentials, environment


@pytest.fixture(scope="module")
def v3_run(snmpd: Snmpd, tmp_path_factory: pytest.TempPathFactory) -> V3Run:
    """One daemon polling snmpd as six APs (v2c, three good v3 users, two
    wrong passwords) at debug log level; read once, then stopped."""
    directory = tmp_path_factory.mktemp("v3")
    credentials, environment = _v3_credentials(directory, snmpd)
    credentials["lab"] = {"version": "2c", "community": snmpd.community}
    aps = [direct_ap(snmpd, f"ap-{variant}", variant, "generic") for variant in snmpd.users]
    config = write_config(
        directory,
        {
            "poll": POLL,
            "credentials": credentials,
            "access_points": [*aps, direct_ap(snmpd, "ap-v2c", "lab", "generic")],
            "log": {"level": "debug"},
        },
    )
    with running_daemon(config, environment) as daemon:
        daemon.wait_generation(1)
        scrape = daemon.scrape()
    # The daemon has exited (cleanly, checked by running_daemon): the log is complete.
    words = [snmpd.community, *environment.values()]  # the wrong privacy passwords too
    words += [(directory / "secrets" / f"{v}.auth").read_text().strip() for v in snmpd.users]
    for user in snmpd.users.values():
        words += [user.auth_password, user.priv_password]
    return V3Run(scrape, daemon.log(), sorted(set(words)))


@pytest.mark.parametrize("variant", GOOD_V3)
def test_snmpv3_authpriv_targets_are_up_with_values(v3_run: V3Run, variant: str) -> None:
    scrape, ap = v3_run.scrape, f"ap-{variant}"
    assert scrape.value("wifimon_target_up", target=ap) == 1
    assert scrape.value("wifimon_ap_up", ap=ap) == 1
    assert scrape.value("wifimon_ap_uptime_seconds", ap=ap) > 0
    (info,) = scrape.series("wifimon_ap_info", ap=ap)
    assert info.labels["name"] == SYS_NAME
    assert scrape.series("wifimon_target_poll_errors_total", target=ap) == []


def test_a_wrong_v3_auth_password_is_an_auth_failure_while_good_targets_stay_up(
    v3_run: V3Run,
) -> None:
    scrape = v3_run.scrape
    assert scrape.value("wifimon_target_up", target="ap-bad-auth") == 0
    assert scrape.value("wifimon_ap_up", ap="ap-bad-auth") == 0
    assert (
        scrape.value("wifimon_target_poll_errors_total", target="ap-bad-auth", reason="auth") >= 1
    )
    for good in ("ap-v2c", *(f"ap-{v}" for v in GOOD_V3)):
        assert scrape.value("wifimon_target_up", target=good) == 1, good


def test_a_wrong_v3_privacy_password_is_an_auth_error(v3_run: V3Run) -> None:
    # snmpd cannot decrypt the scoped PDU, logs "error parsing ScopedPDU" and
    # drops the request without a Report (net-snmp's own snmpget times out),
    # but it still answers engine discovery: the daemon tells the two apart.
    scrape = v3_run.scrape
    assert scrape.value("wifimon_target_up", target="ap-bad-priv") == 0
    assert scrape.value("wifimon_ap_up", ap="ap-bad-priv") == 0
    errors = scrape.series("wifimon_target_poll_errors_total", target="ap-bad-priv")
    assert {s.labels["reason"] for s in errors} == {"auth"}


def test_only_the_wrong_passwords_fail(v3_run: V3Run) -> None:
    failing = {s.labels["target"] for s in v3_run.scrape.series("wifimon_target_poll_errors_total")}
    assert failing == {f"ap-{variant}" for variant in BAD_V3}


def test_the_v2c_target_of_the_v3_daemon_is_up(v3_run: V3Run) -> None:
    assert v3_run.scrape.value("wifimon_target_up", target="ap-v2c") == 1


def test_the_log_names_failing_targets_but_never_a_secret(v3_run: V3Run) -> None:
    assert "wifimon started" in v3_run.log
    for variant in BAD_V3:
        assert f"ap-{variant}" in v3_run.log, "a target going down must be logged"
    leaked = [secret for secret in v3_run.secrets if secret in v3_run.log]
    assert leaked == [], "community or v3 passwords appear in the daemon's log"


def test_agents_sharing_a_v3_user_name_with_different_passwords_are_all_up(
    tmp_path: Path,
) -> None:
    # A city often names its SNMPv3 user "monitor" everywhere but gives each
    # site its own passwords. USM keys are per agent (localised to its engine
    # ID), so each agent accepting its own password must be polled fine.
    sites = {site: _user("monitor", ("SHA-256", "AES"), ("sha256", "aes128")) for site in "ab"}
    for site in sites:
        (tmp_path / f"snmpd-{site}").mkdir()
    with (
        run_snmpd(tmp_path / "snmpd-a", v3_user_lines(sites["a"])) as (host, port_a),
        run_snmpd(tmp_path / "snmpd-b", v3_user_lines(sites["b"])) as (_, port_b),
    ):
        credentials = {
            f"site-{site}": {
                "version": 3,
                "user": user.user,
                "auth_protocol": user.auth_protocol,
                "auth_password": user.auth_password,
                "priv_protocol": user.priv_protocol,
                "priv_password": user.priv_password,
            }
            for site, user in sites.items()
        }
        aps = [
            {"ap": f"ap-{site}", "host": host, "port": port, "credentials": f"site-{site}"}
            for site, port in (("a", port_a), ("b", port_b))
        ]
        config = write_config(
            tmp_path / "wifimon",
            {"poll": POLL, "credentials": credentials, "access_points": aps},
        )
        with running_daemon(config) as daemon:
            daemon.wait_generation(1)
            scrape = daemon.scrape()
    up = {ap: scrape.value("wifimon_target_up", target=ap) for ap in ("ap-a", "ap-b")}
    assert up == {"ap-a": 1, "ap-b": 1}, scrape.series("wifimon_target_poll_errors_total")
