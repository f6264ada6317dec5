"""packaging/systemd/wifimon.service: sandboxed, valid for systemd, runs `wifimon run`.

systemd's own ``systemd-analyze`` (Debian ``systemd``; no running systemd is
needed) checks the unit (``verify``) and scores its sandbox (``security
--offline``). Both are first shown to catch a broken or weakened unit.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from wifimon.cli import main as wifimon_cli

UNIT = Path(__file__).resolve().parents[2] / "packaging" / "systemd" / "wifimon.service"
SHIPPED_BINARY = "/usr/local/bin/wifimon"
# systemd-analyze security scores exposure 0..100 (printed /10); ours is ~14.
MAX_EXPOSURE = 20


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """``{section: {key: [values in order]}}``; keys may repeat in unit files."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, separator, value = line.partition("=")
        assert separator, f"not a key=value line: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def service() -> dict[str, list[str]]:
    return parse_unit(UNIT.read_text())["Service"]


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    assert found, "systemd-analyze is missing: apt-get install systemd"
    return found


def runnable_copy(tmp_path: Path, edit: str = "") -> Path:
    """The unit with the installed wifimon in place of /usr/local/bin/wifimon
    (verify checks that the executable exists), plus ``edit`` lines."""
    installed = Path(sys.executable).with_name("wifimon")
    assert installed.exists(), installed
    text = UNIT.read_text().replace(SHIPPED_BINARY, str(installed))
    if edit:
        text = text.replace("[Install]", f"{edit}\n\n[Install]")
    path = tmp_path / "wifimon.service"
    path.write_text(text)
    return path


def verify(path: Path) -> str:
    result = subprocess.run(
        [systemd_analyze(), "verify", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return f"{result.returncode}\n{result.stdout}{result.stderr}".strip()


def exposure_within_limit(path: Path) -> bool:
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", f"--threshold={MAX_EXPOSURE}", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode == 0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DynamicUser", "yes"),
        ("StateDirectory", "wifimon"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallFilter", "@system-service"),
        ("ReadOnlyPaths", "/etc/wifimon"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("RestartPreventExitStatus", "2"),
        ("UMask", "0077"),
    ],
)
def test_the_sandbox_directive_is_set(service: dict[str, list[str]], key: str, value: str) -> None:
    assert value in service.get(key, []), f"{key}={value} missing; has {service.get(key)}"


def test_secrets_come_from_root_only_files_as_credentials(service: dict[str, list[str]]) -> None:
    credentials = dict(entry.split(":", 1) for entry in service["LoadCredential"])
    assert set(credentials) == {"snmp-community", "snmp-auth", "snmp-priv", "influx-token"}
    assert all(path.startswith("/etc/wifimon/secrets/") for path in credentials.values())
    assert not any("PASSWORD" in key.upper() or "TOKEN" in key.upper() for key in service)
    assert "Environment" not in service  # no secret in the unit itself


@pytest.mark.parametrize("key", ["ExecStart", "ExecStartPre"])
def test_the_command_lines_are_valid_wifimon_invocations(
    service: dict[str, list[str]], key: str
) -> None:
    (line,) = service[key]
    argv = shlex.split(line)
    assert argv[0] == SHIPPED_BINARY
    expected = {"ExecStart": "run", "ExecStartPre": "check-config"}[key]
    context = wifimon_cli.make_context("wifimon", argv[1:])
    name, command, rest = wifimon_cli.resolve_command(context, argv[1:])
    assert name == expected
    assert command is not None
    # click's own parser: an unknown or missing option raises UsageError
    sub = command.make_context(name, rest, parent=context)
    assert sub.params["config_path"] == Path("/etc/wifimon/wifimon.yaml")


def test_click_refuses_a_wrong_flag_in_the_same_check() -> None:
    argv = ["run", "--config-file", "/etc/wifimon/wifimon.yaml"]
    context = wifimon_cli.make_context("wifimon", argv)
    name, command, rest = wifimon_cli.resolve_command(context, argv)
    assert command is not None
    with pytest.raises(click.UsageError):
        command.make_context(str(name), rest, parent=context)


def test_systemd_analyze_verify_finds_nothing_to_complain_about(tmp_path: Path) -> None:
    assert verify(runnable_copy(tmp_path)) == "0"


def test_systemd_analyze_verify_would_catch_a_misspelt_directive(tmp_path: Path) -> None:
    broken = runnable_copy(tmp_path, "[Service]\nProtectSystm=strict")
    assert "Unknown key" in verify(broken)


def test_the_sandbox_scores_low_exposure(tmp_path: Path) -> None:
    assert exposure_within_limit(runnable_copy(tmp_path))


def test_the_exposure_check_fails_a_weakened_unit(tmp_path: Path) -> None:
    text = runnable_copy(tmp_path).read_text()
    weakened = "\n".join(
        line
        for line in text.splitlines()
        if not line.startswith(
            (
                "ProtectSystem",
                "CapabilityBoundingSet",
                "SystemCallFilter",
                "DynamicUser",
                "PrivateTmp",
                "ProtectHome",
                "RestrictAddressFamilies",
                "PrivateDevices",
            )
        )
    )
    path = tmp_path / "weak.service"
    path.write_text(weakened + "\n")
    assert not exposure_within_limit(path)
