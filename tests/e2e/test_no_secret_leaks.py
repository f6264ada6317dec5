"""No secret and no client identifier leaves wifimon, in any output.

One ``wifimon run`` at debug level polls the real Cisco 5508 recording
(snmpsim, under a distinctive community) and a net-snmp agent over SNMPv3
authPriv (distinctive passwords), serves /metrics over TLS with basic auth
(a distinctive password), and writes to VictoriaMetrics through a recording
proxy with a distinctive token. The recording's station table holds 95 real
client stations (MAC, IP, user name): wifimon never reads it, and none of it
may show up either. Every output is searched for every planted value in
every encoding we can think of: the daemon's stdout and stderr, /metrics,
the state files and spool, the line protocol written and what
VictoriaMetrics stored, ``check-config`` (with and without ``--dump``),
``--help`` of every command, and ``wifimon poll``.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import click
import pytest
import yaml

from tests.support.agents import CACHE_DIR, decompressed_recording, run_snmpd, run_snmpsim
from tests.support.daemon import DaemonConfig, running_daemon
from tests.support.influx_servers import running_victoria_metrics, stub_server
from tests.support.prometheus import free_tcp_port, wait_for
from tests.support.raw_snmprec import read_columns
from tests.support.tls_certs import Pki, basic_authorization, client_context, https_get, make_pki
from wifimon.cli import main as wifimon_cli

pytestmark = pytest.mark.e2e

HOST = "127.0.0.1"
CISCO = "network/appliance/cisco-controller"
STATION_TABLE = "1.3.6.1.4.1.14179.2.1.4.1."  # AIRESPACE-WIRELESS-MIB bsnMobileStationEntry
SECRETS = {
    "community": "c0mmunity-canary-7Q4zW",
    "v3 auth password": "auth-canary-K9x2Lm",
    "v3 priv password": "priv-canary-P3v7Rt",
    "InfluxDB token": "influx-token-canary-T8w1Yq",
    "basic auth password": "basic-canary-B5n6Hu",
}
SCRAPE_USER = "prometheus"
ENV = {
    "WIFIMON_LEAK_COMMUNITY": SECRETS["community"],
    "WIFIMON_LEAK_PRIV": SECRETS["v3 priv password"],
}
NOT_AN_ADDRESS = {bytes(4), b"\xff" * 4}
MIN_USER_NAME = 10  # shorter user names (7-digit ids) could be any number


# --- what to look for ---------------------------------------------------------


@dataclass(frozen=True)
class Needle:
    """One planted value: ``what`` it is, and regexes for each of its encodings."""

    what: str
    patterns: tuple[re.Pattern[str], ...]

    def found_in(self, text: str) -> bool:
        return any(pattern.search(text) for pattern in self.patterns)


def _literal(*forms: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(re.escape(form), re.IGNORECASE) for form in dict.fromkeys(forms))


def _number_run(text: str) -> re.Pattern[str]:
    """``text`` (digits and dots) not glued to further digits: 10.1.2.3 is not in 10.1.2.30."""
    return re.compile(rf"(?<!\d){re.escape(text)}(?!\d)")


def secret_needle(what: str, secret: str) -> Needle:
    raw = secret.encode()
    forms = [secret, raw.hex(), base64.b64encode(raw).decode()]
    if what == "basic auth password":  # what an Authorization header carries
        forms.append(base64.b64encode(f"{SCRAPE_USER}:{secret}".encode()).decode())
    return Needle(what, _literal(*forms))


def mac_needle(mac: bytes) -> Needle:
    pairs = [f"{byte:02x}" for byte in mac]
    plain = "".join(pairs)
    forms = _literal(
        ":".join(pairs), "-".join(pairs), plain, f"{plain[:4]}.{plain[4:8]}.{plain[8:]}"
    )
    decimal = _number_run(".".join(str(byte) for byte in mac))  # as in an OID index
    return Needle(f"client MAC {':'.join(pairs)}", (*forms, decimal))


def ip_needle(address: bytes) -> Needle:
    dotted = ".".join(str(byte) for byte in address)
    return Needle(f"client IP {dotted}", (_number_run(dotted), *_literal(address.hex())))


def user_needle(name: bytes) -> Needle:
    text = name.decode("latin-1")
    return Needle(
        f"client user name {text}", (re.compile(rf"(?<![\w.]){re.escape(text)}(?![\w.])"),)
    )


@dataclass(frozen=True)
class Stations:
    macs: set[bytes]
    ips: set[bytes]
    users: set[bytes]


def read_stations(recording: Path) -> Stations:
    entry = STATION_TABLE.removesuffix(".")
    columns = read_columns(
        recording, {"mac": f"{entry}.1", "ip": f"{entry}.2", "user": f"{entry}.3"}
    )

    def values(name: str) -> set[bytes]:
        return {value for value in columns[name].values() if isinstance(value, bytes)}

    # the MAC is also the row index
    macs = values("mac") | {bytes(index) for index in columns["mac"]}
    return Stations(
        macs={mac for mac in macs if len(mac) == 6},
        ips={ip for ip in values("ip") if len(ip) == 4 and ip not in NOT_AN_ADDRESS},
        users={name for name in values("user") if len(name) >= MIN_USER_NAME},
    )


def needles(stations: Stations) -> list[Needle]:
    found = [secret_needle(what, secret) for what, secret in SECRETS.items()]
    found += [mac_needle(mac) for mac in sorted(stations.macs)]
    found += [ip_needle(ip) for ip in sorted(stations.ips)]
    found += [user_needle(name) for name in sorted(stations.users)]
    return found


def leaks(text: str, planted: list[Needle]) -> list[str]:
    return [needle.what for needle in planted if needle.found_in(text)]


# --- the run ----------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """Every output of the run, by name, as text (bytes read as latin-1)."""

    outputs: dict[str, str]
    planted: list[Needle]
    stations: Stations
    help_commands: list[str]


def _subcommands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _subcommands(command, (*prefix, name))


def _wifimon(*args: str, env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "wifimon", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def _snmpsim_data() -> Path:
    """The Cisco recording under a file named after the planted community
    (snmpsim picks the file by community); kept with the cache so its index
    is built once."""
    recording = decompressed_recording(CISCO)
    data_dir = CACHE_DIR / "data" / "leak-canary"
    link = data_dir / f"{SECRETS['community']}.snmprec"
    if link.is_symlink():
        link.unlink()
    if not link.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # a hard link: snmpsim does not serve symbolic links
        link.hardlink_to(recording.data_dir / f"{CISCO}.snmprec")
    return data_dir


def _write_config(
    directory: Path, cisco_port: int, v3_port: int, influx_url: str
) -> tuple[DaemonConfig, Pki]:
    pki = make_pki(directory / "pki")
    secrets_dir = directory / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "snmp-auth").write_text(SECRETS["v3 auth password"] + "\n")
    (secrets_dir / "influx-token").write_text(SECRETS["InfluxDB token"] + "\n")
    hashed = bcrypt.hashpw(SECRETS["basic auth password"].encode(), bcrypt.gensalt(10)).decode()
    web = {
        "tls_server_config": {"cert_file": str(pki.server.cert), "key_file": str(pki.server.key)},
        "basic_auth_users": {SCRAPE_USER: hashed},
    }
    (directory / "web.yml").write_text(yaml.safe_dump(web))
    port = free_tcp_port()
    config = {
        "poll": {"interval": "20s", "timeout": "5s", "retries": 1, "jitter": "0s"},
        "credentials": {
            "wlc": {"version": "2c", "community": "${WIFIMON_LEAK_COMMUNITY}"},
            "ap-v3": {
                "version": 3,
                "user": "monitor",
                "auth_protocol": "sha256",
                "auth_password_file": "secrets/snmp-auth",
                "priv_protocol": "aes128",
                "priv_password": "${WIFIMON_LEAK_PRIV}",
            },
        },
        "controllers": [
            {
                "name": "wlc-5508",
                "host": HOST,
                "port": cisco_port,
                "credentials": "wlc",
                "site": "centre",
                "district": "Centre",
            }
        ],
        "access_points": [
            {
                "ap": "ap-v3",
                "host": HOST,
                "port": v3_port,
                "credentials": "ap-v3",
                "profile": "generic",
                "site": "harbour",
                "district": "Harbour",
            }
        ],
        "exporters": {
            "prometheus": {"listen": f"{HOST}:{port}", "web_config_file": "web.yml"},
            "influxdb": {
                "url": influx_url,
                "org": "city",
                "bucket": "wifi",
                "token_file": "secrets/influx-token",
                "flush_interval": "200ms",
            },
            "stdout": {"format": "json"},
        },
        "state_dir": "state",
        "log": {"level": "debug"},
    }
    path = directory / "wifimon.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return DaemonConfig(path, port), pki


def _state_files(state_dir: Path) -> dict[str, str]:
    return {
        f"state file {path.relative_to(state_dir)}": path.read_bytes().decode("latin-1")
        for path in sorted(state_dir.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    directory = tmp_path_factory.mktemp("leaks")
    recording = decompressed_recording(CISCO)
    stations = read_stations(recording.data_dir / f"{CISCO}.snmprec")
    v3_agent = [
        "sysName leak-test-ap",
        f"createUser monitor SHA-256 {SECRETS['v3 auth password']}"
        f" AES {SECRETS['v3 priv password']}",
        "rouser monitor priv",
    ]
    (directory / "snmpd").mkdir()
    (directory / "snmpsim").mkdir()
    env = {**os.environ, **ENV}
    with (
        run_snmpsim(
            _snmpsim_data(), directory / "snmpsim", SECRETS["community"], deadline_s=600
        ) as (_, cisco_port),
        run_snmpd(directory / "snmpd", v3_agent) as (_, v3_port),
        running_victoria_metrics(directory / "vm") as victoria,
        stub_server(400, refuse=(b"\x00never-refused",), upstream=victoria.url) as proxy,
    ):
        config, pki = _write_config(directory / "wifimon", cisco_port, v3_port, proxy.url)
        outputs: dict[str, str] = {}
        with running_daemon(config, ENV) as daemon:
            context = client_context(pki)
            auth = basic_authorization(SCRAPE_USER, SECRETS["basic auth password"])
            base = f"https://{HOST}:{config.http_port}"

            def metrics() -> str | None:
                if daemon.process.poll() is not None:
                    raise AssertionError(daemon.log()[-3000:])
                try:
                    status, _, body = https_get(f"{base}/metrics", context, auth)
                except OSError:
                    return None
                text = body.decode("latin-1")
                return text if status == 200 and 'wifimon_ap_up{ap="ap-v3"' in text else None

            outputs["/metrics"] = wait_for(metrics, 120, "a first poll served over https")
            wait_for(
                lambda: victoria.export('{__name__=~"wifimon_.*"}') or None, 60, "points in VM"
            )
            outputs["VictoriaMetrics export"] = "\n".join(
                str(series) for series in victoria.export('{__name__=~"wifimon_.*"}')
            )
            work = config.path.parent
            for name, args in {
                "check-config": ["check-config", "-c", str(config.path)],
                "check-config --dump": ["check-config", "--dump", "-c", str(config.path)],
                "poll --format table": ["poll", "-c", str(config.path)],
                "poll --format json": ["poll", "--format", "json", "-c", str(config.path)],
            }.items():
                outputs[f"wifimon {name}"] = _wifimon(*args, env=env, cwd=work)
            commands = [(), *_subcommands(wifimon_cli)]
            for command in commands:
                label = " ".join(("wifimon", *command, "--help"))
                outputs[label] = _wifimon(*command, "--help", env=env, cwd=work)
        outputs["daemon stdout and stderr"] = daemon.log()
        outputs["line protocol written"] = "\n".join(b.decode("latin-1") for b in proxy.bodies)
        outputs.update(_state_files(work / "state"))
    help_commands = [" ".join(command) for command in commands]
    return Run(outputs, needles(stations), stations, help_commands)


# --- the checks ----------------------------------------------------------------------

OUTPUT_KINDS = {
    "daemon stdout and stderr (debug level)": ("daemon stdout and stderr",),
    "/metrics": ("/metrics",),
    "state files and spool": ("state file ",),
    "InfluxDB points written": ("line protocol written",),
    "InfluxDB points stored": ("VictoriaMetrics export",),
    "check-config": ("wifimon check-config",),
    "--help of every command": ("wifimon --help", "wifimon check-config --help"),
    "poll": ("wifimon poll",),
}


def _outputs_of(run: Run, kind: str) -> dict[str, str]:
    prefixes = OUTPUT_KINDS[kind]
    if kind == "--help of every command":
        return {name: text for name, text in run.outputs.items() if name.endswith("--help")}
    if kind == "check-config":
        return {
            name: text
            for name, text in run.outputs.items()
            if name.startswith(prefixes) and not name.endswith("--help")
        }
    return {name: text for name, text in run.outputs.items() if name.startswith(prefixes)}


@pytest.mark.parametrize("kind", list(OUTPUT_KINDS))
def test_no_secret_and_no_client_identifier_in(run: Run, kind: str) -> None:
    outputs = _outputs_of(run, kind)
    assert outputs, f"no output of kind {kind} was collected"
    found = {name: leaks(text, run.planted) for name, text in outputs.items()}
    assert {name: what for name, what in found.items() if what} == {}


def test_every_output_was_really_produced(run: Run) -> None:
    outputs = run.outputs
    # the controller's recording was polled: its APs are in /metrics and in the points
    assert outputs["/metrics"].count('wifimon_ap_up{ap="') > 200
    assert 'controller="wlc-5508"' in outputs["/metrics"]
    assert "wifimon_ap" in outputs["line protocol written"]
    assert "wifimon_ap" in outputs["VictoriaMetrics export"]
    assert any(name.startswith("state file ") for name in outputs)
    assert "DEBUG" in outputs["daemon stdout and stderr"].upper()
    assert '"ap":"ap-v3"' in outputs["daemon stdout and stderr"]  # the stdout exporter
    for name in ("check-config", "poll --format table", "poll --format json"):
        assert outputs[f"wifimon {name}"].startswith("exit 0"), outputs[f"wifimon {name}"]
    assert "<secret>" in outputs["wifimon check-config --dump"]
    assert {"check-config", "run", "poll", "profiles list"} <= set(run.help_commands)
    assert all(
        text.startswith("exit 0") for name, text in outputs.items() if name.endswith("--help")
    )


def test_the_station_table_holds_client_identifiers(run: Run) -> None:
    assert len(run.stations.macs) == 95
    assert len(run.stations.ips) > 50
    assert len(run.stations.users) > 10


def test_the_search_finds_every_encoding() -> None:
    mac = mac_needle(bytes.fromhex("044f4c9166ef"))
    for text in (
        "client 04:4f:4c:91:66:ef",
        "04-4F-4C-91-66-EF",
        "mac=044F4C9166EF;",
        "044f.4c91.66ef",
        "oid 1.3.6.1.4.1.14179.2.1.4.1.1.4.79.76.145.102.239 x",
    ):
        assert mac.found_in(text), text
    assert not mac.found_in("1.4.79.76.145.102.2390")
    ip = ip_needle(bytes([10, 10, 183, 195]))
    assert ip.found_in("ip=10.10.183.195")
    assert ip.found_in("0A0AB7C3")
    assert not ip.found_in("10.10.183.19")
    assert not ip.found_in("110.10.183.195")
    secret = secret_needle("basic auth password", SECRETS["basic auth password"])
    header = basic_authorization(SCRAPE_USER, SECRETS["basic auth password"])["Authorization"]
    assert secret.found_in(header)
    assert secret.found_in(SECRETS["basic auth password"].upper())
    assert secret.found_in(SECRETS["basic auth password"].encode().hex())
