"""`wifimon record` against real agents over UDP on 127.0.0.1.

1. snmpsim serves the real Cisco AIR-CT5508-K9 recording (226 APs); wifimon
   records it, anonymised. Polling the recording it wrote must give the
   same APs, states, clients, channels... as polling the original file,
   while none of the original MACs, addresses, serials or names is left.
2. net-snmp's snmpd (a C agent, independent of pysnmp and snmpsim) is
   recorded over SNMPv3 authPriv; the values are checked against net-snmp's
   own tools, and no secret may appear anywhere.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Agent
from tests.support.agents import decompressed_recording, run_snmpd
from wifimon.anonymise import plan_for, segments
from wifimon.poller import PollOutcome, poll_target
from wifimon.profiles.registry import default_registry
from wifimon.snmp.recorded import RecordedTransport
from wifimon.snmp.snmprec import load_snmprec
from wifimon.snmp.types import SnmpCredentials, SnmpTarget, VarBind, format_oid, parse_oid

pytestmark = pytest.mark.e2e

CISCO_RECORDING = "network/appliance/cisco-controller"
BSN_AP = "1.3.6.1.4.1.14179.2.2.1.1"  # bsnAPTable entry, indexed by the AP's base MAC
IDENTIFYING_COLUMNS = {  # column of bsnAPTable: what it holds
    "3": "name",
    "17": "serial",
    "19": "ip",
    "33": "ethernet mac",
}


def wifimon_record(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wifimon", "record", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        check=False,
    )


def poll_file(varbinds: list[VarBind]) -> PollOutcome:
    transport = RecordedTransport({"wlc": varbinds})
    target = SnmpTarget("wlc", "127.0.0.1", 161, SnmpCredentials("2c", community="x"))
    return asyncio.run(poll_target(transport, target, default_registry(), "auto"))


def without_identity(outcome: PollOutcome) -> Counter[Any]:
    """Every AP as (state, every number and public text, radios, SSIDs), with
    nothing that names it: the multiset two polls must share."""

    def values(measured: dict[str, Any]) -> tuple[Any, ...]:
        hidden = {"name", "serial", "ip"}
        return tuple(sorted((k, m.value) for k, m in measured.items() if k not in hidden))

    return Counter(
        (
            ap.up,
            values(ap.values),
            tuple(sorted((r.radio, r.band, values(r.values)) for r in ap.radios.values())),
            tuple(sorted((ssid, values(v)) for ssid, v in ap.ssids.items())),
        )
        for ap in outcome.observation.aps
    )


@dataclass(frozen=True)
class CiscoRecording:
    original: list[VarBind]
    written: list[VarBind]
    text: str
    result: subprocess.CompletedProcess[str]
    community: str
    seconds: float


@pytest.fixture(scope="module")
def cisco_recorded(
    cisco_controller: tuple[Agent, str], tmp_path_factory: pytest.TempPathFactory
) -> CiscoRecording:
    agent, community = cisco_controller
    output = tmp_path_factory.mktemp("record") / "cisco-5508.snmprec"
    started = time.monotonic()
    result = wifimon_record(
        "--host", agent.host, "--port", str(agent.port), "--community-env", "E2E_COMMUNITY",
        "--salt-env", "E2E_SALT", "-o", str(output), "--timeout", "10",
        env={"E2E_COMMUNITY": community, "E2E_SALT": "e2e-" + secrets.token_hex(8)},
    )  # fmt: skip
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    original = load_snmprec(
        decompressed_recording(CISCO_RECORDING).data_dir / f"{CISCO_RECORDING}.snmprec"
    )
    return CiscoRecording(
        original, load_snmprec(output), output.read_text(), result, community, seconds
    )


def test_the_cisco_recording_is_chosen_walked_and_reported(cisco_recorded: CiscoRecording) -> None:
    stderr = cisco_recorded.result.stderr
    tables = len(default_registry().get("cisco-aireos").tables)
    assert f"recording: {tables}/{tables} tables" in stderr
    assert f"{tables} table(s), profile cisco-aireos, anonymised" in stderr
    assert cisco_recorded.community not in stderr + cisco_recorded.result.stdout
    assert cisco_recorded.seconds < 120, f"recording took {cisco_recorded.seconds:.1f} s"


def test_polling_the_anonymised_recording_gives_what_the_original_gives(
    cisco_recorded: CiscoRecording,
) -> None:
    original = poll_file(cisco_recorded.original)
    recorded = poll_file(cisco_recorded.written)
    assert recorded.profile.name == original.profile.name == "cisco-aireos"
    assert len(recorded.observation.aps) == len(original.observation.aps) == 226
    assert sum(ap.up for ap in recorded.observation.aps) == sum(
        ap.up for ap in original.observation.aps
    )
    assert recorded.observation.missing == original.observation.missing
    # APs, states, clients, channels, powers, counters, SSIDs: all equal, AP by AP
    assert without_identity(recorded) == without_identity(original)


def identifiers_of_the_original(original: list[VarBind]) -> dict[str, set[bytes]]:
    """What must not survive: AP MACs (index and Ethernet), names, serials, addresses."""
    found: dict[str, set[bytes]] = {kind: set() for kind in IDENTIFYING_COLUMNS.values()}
    found["base mac"] = set()
    entry = parse_oid(BSN_AP)
    for varbind in original:
        if varbind.oid[: len(entry)] != entry:
            continue
        found["base mac"].add(bytes(varbind.oid[len(entry) + 1 :]))
        kind = IDENTIFYING_COLUMNS.get(str(varbind.oid[len(entry)]))
        if kind is not None and isinstance(varbind.value.value, bytes) and varbind.value.value:
            found[kind].add(varbind.value.value)
    found["ip"] -= {bytes(4)}  # 0.0.0.0 (layer-2 mode APs) says nothing and is kept
    return found


def test_no_original_mac_address_serial_or_name_is_left(cisco_recorded: CiscoRecording) -> None:
    original = identifiers_of_the_original(cisco_recorded.original)
    assert all(len(values) >= 200 for values in original.values()), {
        kind: len(values) for kind, values in original.items()
    }
    plan = plan_for(default_registry().get("cisco-aireos"))
    binary = original["base mac"] | original["ethernet mac"] | original["ip"]
    for varbind in cisco_recorded.written:
        assert varbind.value.value not in binary, format_oid(varbind.oid)
        entry = plan.entry_of(varbind.oid)
        parts = segments(plan.layouts[entry].kinds, varbind.oid[len(entry) + 1 :]) if entry else []
        assert not {bytes(part[-6:]) for _, part in parts or []} & binary, format_oid(varbind.oid)
    text = cisco_recorded.text
    for kind in ("serial", "name"):
        left = [value for value in original[kind] if value.decode("latin-1") in text]
        assert left == [], f"original {kind}s in the recording"
    for mac in original["base mac"] | original["ethernet mac"]:
        assert mac.hex() not in text
        assert f".{format_oid(tuple(mac))}." not in text
        assert f".{format_oid(tuple(mac))}|" not in text
    for address in original["ip"]:
        assert f"|{address.hex()}\n" not in text


# --- net-snmp snmpd over SNMPv3 authPriv ----------------------------------------------

SYSTEM = {
    "1.3.6.1.2.1.1.4.0": "noc-" + secrets.token_hex(4) + "@example.net",  # sysContact
    "1.3.6.1.2.1.1.5.0": "lamp-" + secrets.token_hex(4),  # sysName
    "1.3.6.1.2.1.1.6.0": "Harbour street " + secrets.token_hex(4),  # sysLocation
}
IF_TYPE = "1.3.6.1.2.1.2.2.1.3"
IF_PHYS_ADDRESS = "1.3.6.1.2.1.2.2.1.6"


@dataclass(frozen=True)
class V3Agent:
    host: str
    port: int
    user: str
    auth_password: str
    priv_password: str

    def walk(self, oid: str, *output: str) -> dict[str, str]:
        """``oid``'s subtree read with net-snmp's snmpwalk, one line per row
        (``-Ox`` shows strings as hex; long ones would wrap)."""
        command = [
            "snmpwalk", "-v3", "-l", "authPriv", "-u", self.user, "-a", "SHA-256",
            "-A", self.auth_password, "-x", "AES", "-X", self.priv_password,
            "-m", "", "-On", "-Oq", "-Oe", *output, "-r1", "-t2", f"{self.host}:{self.port}", oid,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30)
        rows = (line.split(" ", 1) for line in result.stdout.splitlines() if line.strip())
        return {oid.lstrip("."): value.strip().strip('"') for oid, value in rows}


@pytest.fixture(scope="module")
def v3_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[V3Agent]:
    user = V3Agent(
        "", 0, "rec-" + secrets.token_hex(3), secrets.token_hex(10), secrets.token_hex(10)
    )
    lines = [
        f'createUser {user.user} SHA-256 "{user.auth_password}" AES "{user.priv_password}"',
        f"rouser {user.user} priv",
        f"sysContact {SYSTEM['1.3.6.1.2.1.1.4.0']}",
        f"sysName {SYSTEM['1.3.6.1.2.1.1.5.0']}",
        f"sysLocation {SYSTEM['1.3.6.1.2.1.1.6.0']}",
    ]
    with run_snmpd(tmp_path_factory.mktemp("snmpd-record"), lines) as (host, port):
        yield V3Agent(host, port, user.user, user.auth_password, user.priv_password)


def record_v3(
    agent: V3Agent, directory: Path, *extra: str, auth_password: str | None = None
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Record ``agent``: auth password from a variable, privacy password from a file."""
    (directory / "priv").write_text(agent.priv_password + "\n")
    output = directory / "snmpd.snmprec"
    result = wifimon_record(
        "--host", agent.host, "--port", str(agent.port), "--v3-user", agent.user,
        "--auth-protocol", "sha256", "--auth-password-env", "E2E_AUTH",
        "--priv-protocol", "aes128", "--priv-password-file", str(directory / "priv"),
        "-o", str(output), "--timeout", "2", "--retries", "1", *extra,
        env={"E2E_AUTH": auth_password or agent.auth_password},
    )  # fmt: skip
    return result, output


def written(path: Path) -> dict[str, VarBind]:
    return {format_oid(varbind.oid): varbind for varbind in load_snmprec(path)}


def test_snmpd_is_recorded_over_v3_authpriv_and_anonymised(
    v3_agent: V3Agent, tmp_path: Path
) -> None:
    result, output = record_v3(v3_agent, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "profile generic, anonymised" in result.stderr
    records = written(output)
    descr = v3_agent.walk("1.3.6.1.2.1.1.1")["1.3.6.1.2.1.1.1.0"]
    assert records["1.3.6.1.2.1.1.1.0"].value.value == descr.encode()  # kept: it names no one
    for oid, real in SYSTEM.items():  # contact, name and location are replaced
        assert records[oid].value.value not in (None, real.encode()), oid
    # numbers and enums are kept: ifType row for row as snmpwalk reads it
    if_types = {oid: int(value) for oid, value in v3_agent.walk(IF_TYPE).items()}
    assert {oid: records[oid].value.value for oid in if_types} == if_types
    # MACs are replaced, empty ones (loopback) stay empty
    for oid, value in v3_agent.walk(IF_PHYS_ADDRESS, "-Ox").items():
        real = bytes.fromhex(value.replace(" ", ""))
        assert records[oid].value.value == real if not real else records[oid].value.value != real


def test_no_secret_appears_in_the_output_or_the_recording(
    v3_agent: V3Agent, tmp_path: Path
) -> None:
    result, output = record_v3(v3_agent, tmp_path)
    assert result.returncode == 0, result.stderr
    everything = result.stdout + result.stderr + output.read_text()
    for secret in (v3_agent.auth_password, v3_agent.priv_password):
        assert secret not in everything


def test_no_anonymise_keeps_the_agent_as_it_is(v3_agent: V3Agent, tmp_path: Path) -> None:
    result, output = record_v3(v3_agent, tmp_path, "--no-anonymise")
    assert result.returncode == 0, result.stderr
    assert "NOT anonymised" in result.stderr
    records = written(output)
    for oid, real in SYSTEM.items():
        assert records[oid].value.value == real.encode()


def test_a_wrong_auth_password_fails_with_exit_1_and_writes_nothing(
    v3_agent: V3Agent, tmp_path: Path
) -> None:
    wrong = "wrong-" + secrets.token_hex(8)
    result, output = record_v3(v3_agent, tmp_path, auth_password=wrong)
    assert result.returncode == 1
    assert "authentication failed" in result.stderr
    assert not output.exists()
    assert wrong not in result.stdout + result.stderr


def test_a_secret_on_the_command_line_is_not_an_option(tmp_path: Path) -> None:
    result = wifimon_record(
        "--host", "127.0.0.1", "--community", "public", "-o", str(tmp_path / "x.snmprec"), env={}
    )  # fmt: skip
    assert result.returncode == 2
    assert "No such option" in result.stderr
