"""The ``wifimon`` command as people run it: real subprocesses, exit codes, output.

Exit codes are a contract (ARCHITECTURE.md): 0 ok, 2 bad config or bad
usage, 1 runtime failure. Every config here that names an agent points it
at a black-hole socket on 127.0.0.1, which also proves nothing was sent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest
import yaml

from tests.support.agents import REPO_ROOT
from tests.support.faulty_agents import black_hole
from tests.support.prometheus import free_tcp_port
from wifimon.cli import main

pytestmark = pytest.mark.e2e

CONFIGS = REPO_ROOT / "tests" / "configs"
# Secrets in the environment, as a deployment would have them.
SECRET_ENV = {
    "WIFIMON_COMMUNITY": "cli-c0mmunity-5be2",
    "WIFIMON_INFLUX_TOKEN": "cli-t0ken-a91c",
    "WIFIMON_AUTH": "cli-4uth-pass-7f10",
}
PRIV_SECRET = "cli-pr1v-pass-33d0"
SECRETS = (*SECRET_ENV.values(), PRIV_SECRET)
EXIT_OK, EXIT_BAD_CONFIG = 0, 2


def clean_environment() -> dict[str, str]:
    """This process's environment without any WIFIMON_* variable."""
    return {name: value for name, value in os.environ.items() if not name.startswith("WIFIMON_")}


def wifimon(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m wifimon *args``; ``env`` defaults to the secrets above."""
    return subprocess.run(
        [sys.executable, "-m", "wifimon", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env if env is not None else {**clean_environment(), **SECRET_ENV},
        cwd=REPO_ROOT,
        check=False,
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def assert_no_secret(text: str) -> None:
    assert not [secret for secret in SECRETS if secret in text]


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group under ``group``, e.g. ``("profiles", "show")``."""
    paths = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, (*prefix, name)))
        else:
            paths.append((*prefix, name))
    return paths


def write_agent_config(directory: Path, port: int, *, extra: str = "") -> Path:
    """A valid config (v2c and v3 secrets from the environment and a file)
    whose two targets are the black hole at ``port``; ``extra`` is appended."""
    (directory / "priv.secret").write_text(PRIV_SECRET + "\n")
    metrics_port = free_tcp_port()
    path = directory / "wifimon.yaml"
    path.write_text(
        f"""\
poll: {{interval: 10s, timeout: 1s, retries: 0}}
credentials:
  city-v2c: {{version: 2c, community: "${{WIFIMON_COMMUNITY}}"}}
  city-v3:
    version: 3
    user: monitor
    auth_protocol: sha256
    auth_password: "${{WIFIMON_AUTH}}"
    priv_protocol: aes128
    priv_password_file: priv.secret
controllers:
  - {{name: wlc-1, host: 127.0.0.1, port: {port}, credentials: city-v2c, profile: cisco-aireos}}
access_points:
  - {{ap: ap-1, host: 127.0.0.1, port: {port}, credentials: city-v3}}
exporters:
  prometheus: {{listen: "127.0.0.1:{metrics_port}"}}
state_dir: state
{extra}"""
    )
    return path


# --- help --------------------------------------------------------------------


@pytest.mark.parametrize("path", command_paths(main), ids=lambda path: " ".join(path) or "wifimon")
def test_help_of_every_command_exits_0_without_secrets(path: tuple[str, ...]) -> None:
    result = wifimon(*path, "--help")
    assert result.returncode == EXIT_OK, output(result)
    assert "Usage:" in result.stdout
    assert_no_secret(output(result))


# --- check-config --------------------------------------------------------------


def test_check_config_accepts_a_good_config() -> None:
    result = wifimon("check-config", "-c", str(CONFIGS / "good" / "minimal.yaml"))
    assert result.returncode == EXIT_OK, output(result)
    assert ": ok: 0 controller(s), 1 access point(s), 1 poll target(s)" in result.stdout


def test_check_config_dump_hides_every_secret(tmp_path: Path) -> None:
    with black_hole() as hole:
        config = write_agent_config(tmp_path, hole.port)
        result = wifimon("check-config", "--dump", "-c", str(config))
        assert result.returncode == EXIT_OK, output(result)
        assert result.stdout.count("<secret>") >= 3  # community, auth and priv password
        assert_no_secret(output(result))
        assert not hole.received()


def expected_issues(case: Path) -> list[tuple[str, str, str, str]]:
    """The ``# expect: FILE:LINE: PATH: FRAGMENT`` lines of a broken case."""
    issues = []
    for line in case.read_text().splitlines():
        if line.startswith("# expect: "):
            location, path, fragment = line.removeprefix("# expect: ").split(": ", 2)
            file, number = location.rsplit(":", 1)
            issues.append((file, number, path, fragment))
    return issues


def case_environment(case: Path) -> dict[str, str]:
    env = clean_environment()
    for line in case.read_text().splitlines():
        if line.startswith("# env: "):
            name, _, text = line.removeprefix("# env: ").partition("=")
            env[name] = text
    return env


BROKEN = [
    "bad_port.yaml",
    "csv_bad_cells.yaml",
    "duplicate_key.yaml",
    "unknown_key_controller.yaml",
]


@pytest.mark.parametrize("name", BROKEN)
def test_check_config_names_file_line_and_key_of_every_error(name: str) -> None:
    case = CONFIGS / "broken" / name
    expected = expected_issues(case)
    assert expected, f"{name} has no '# expect:' line"
    result = wifimon("check-config", "-c", str(case), env=case_environment(case))
    assert result.returncode == EXIT_BAD_CONFIG, output(result)
    lines = result.stderr.splitlines()
    for file, number, path, fragment in expected:
        pattern = re.compile(
            rf"(^|/){re.escape(file)}:{number}: {re.escape(path)}: .*{re.escape(fragment)}"
        )
        assert any(pattern.search(line) for line in lines), (file, number, path, result.stderr)
    assert "nothing was started" in result.stderr
    assert not result.stdout


# --- profiles ----------------------------------------------------------------


def test_profiles_list_names_the_builtin_profiles() -> None:
    result = wifimon("profiles", "list")
    assert result.returncode == EXIT_OK, output(result)
    names = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert {"cisco-aireos", "generic"} <= names


def test_profiles_show_prints_the_profile_yaml() -> None:
    result = wifimon("profiles", "show", "cisco-aireos")
    assert result.returncode == EXIT_OK, output(result)
    profile = yaml.safe_load(result.stdout)
    assert profile["name"] == "cisco-aireos"
    assert profile["kind"] == "controller"
    assert "# " in result.stdout  # as written, comments included


def test_profiles_show_of_an_unknown_profile_exits_2() -> None:
    result = wifimon("profiles", "show", "nope")
    assert result.returncode == EXIT_BAD_CONFIG
    assert "nope" in result.stderr
    assert not result.stdout


# --- poll and run ----------------------------------------------------------------


def test_poll_of_an_unknown_target_exits_2_and_polls_nothing(tmp_path: Path) -> None:
    with black_hole() as hole:
        config = write_agent_config(tmp_path, hole.port)
        result = wifimon("poll", "-c", str(config), "--target", "nope")
        assert result.returncode == EXIT_BAD_CONFIG, output(result)
        assert "no such target: nope" in result.stderr
        assert_no_secret(output(result))
        assert not hole.received()


def test_run_with_a_bad_config_exits_2_and_starts_nothing(tmp_path: Path) -> None:
    with black_hole() as hole:
        config = write_agent_config(tmp_path, hole.port, extra="surprise_key: 1\n")
        started = time.monotonic()
        result = wifimon("run", "-c", str(config), timeout=30)
        assert result.returncode == EXIT_BAD_CONFIG, output(result)
        assert time.monotonic() - started < 20
        assert re.search(r"wifimon\.yaml:\d+: surprise_key: unknown key", result.stderr)
        assert "nothing was started" in result.stderr
        assert_no_secret(output(result))
        assert not hole.received()
    assert not (tmp_path / "state").exists()


def test_an_exporter_this_installation_lacks_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "influx.yaml"
    config.write_text(
        "exporters:\n  influxdb: {url: 'http://127.0.0.1:8086', bucket: wifi}\nstate_dir: state\n"
    )
    installed = {entry.name for entry in entry_points(group="wifimon.exporters")}
    result = wifimon("check-config", "-c", str(config))
    if "influxdb" in installed:
        assert result.returncode == 0, output(result)
    else:
        assert result.returncode == 2
        assert "exporters.influxdb: not available" in result.stderr


def test_report_against_an_unreachable_source_exits_1_with_a_clear_error(tmp_path: Path) -> None:
    closed = free_tcp_port()  # nothing listens there
    result = wifimon(
        "report",
        "--source",
        "prometheus",
        f"http://127.0.0.1:{closed}",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-08",
        "--out",
        str(tmp_path / "report"),
    )
    assert result.returncode == 1, output(result)
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_checks_the_prometheus_web_config(tmp_path: Path) -> None:
    config = tmp_path / "wifimon.yaml"
    config.write_text(
        "exporters:\n"
        "  prometheus: {listen: '127.0.0.1:9877', web_config_file: web.yml}\n"
        "state_dir: state\n"
    )
    web = tmp_path / "web.yml"
    # a bcrypt hash of "scrape-me"; the password itself is never in the file
    web.write_text(
        "basic_auth_users:\n"
        "  prometheus: $2b$04$hCaFxzOyAyVC.P0VBfkTV.Rm5l.991Q5rqBEwUfKx6mpX4dqxKuj2\n"
    )
    good = wifimon("check-config", "-c", str(config))
    assert good.returncode == 0, output(good)

    web.write_text("tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  bogus: 1\n")
    bad = wifimon("check-config", "-c", str(config))
    assert bad.returncode == EXIT_BAD_CONFIG, output(bad)
    assert re.search(r"web\.yml:4: tls_server_config\.bogus: unknown key", bad.stderr)
    assert "nothing was started" in bad.stderr
