"""`wifimon check-config` on every case of the broken corpus: exit 2, each issue named.

tests/configs/broken/README.md describes the cases; test_config.py checks
``load_config`` on them. Here the command itself runs (in-process, through
click's runner) with the built-in profiles, as an operator would run it:
it must exit 2, print every expected ``file:line: key.path: message`` on
stderr, and print nothing on stdout.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from wifimon.cli import EXIT_BAD_CONFIG, main

BROKEN = Path(__file__).parent.parent / "configs" / "broken"
CASES = sorted(BROKEN.glob("*.yaml"))


def expectations(case: Path) -> tuple[list[tuple[str, str, str, str]], dict[str, str]]:
    """``(file, line, path, fragment)`` per ``# expect:`` line, and the ``# env:`` values."""
    text = case.read_text(encoding="utf-8")
    # The command checks profile names against the built-in profiles, not the
    # case's own list, so a "did you mean" suggestion may differ.
    own_profiles = "# known_profiles: " in text
    expected, env = [], {}
    for line in text.splitlines():
        if line.startswith("# expect: "):
            location, path, fragment = line.removeprefix("# expect: ").split(": ", 2)
            file, number = location.rsplit(":", 1)
            if own_profiles:
                fragment = fragment.split(";")[0]
            expected.append((file, number, "" if path == "-" else path, fragment))
        elif line.startswith("# env: "):
            name, _, value = line.removeprefix("# env: ").partition("=")
            env[name] = value
    return expected, env


def test_every_category_of_the_issue_has_a_case() -> None:
    names = {case.stem for case in CASES}
    categories = {
        "types": {"wrong_type_retries", "wrong_type_section", "huge_numbers"},
        "unknown keys": {"unknown_key_top", "unknown_key_controller", "csv_unknown_column"},
        "duplicate AP ids": {"duplicate_ap_yaml", "duplicate_ap_csv", "duplicate_ap_yaml_csv"},
        "missing or unreadable secrets": {
            "missing_secret_file",
            "secret_file_is_directory",
            "missing_env",
        },
        "bad ports and coordinates": {"bad_port", "bad_lat_lon", "csv_bad_cells"},
        "unknown profiles": {"unknown_profile", "csv_unknown_profile"},
        "controllers that do not exist": {"ap_unknown_controller", "csv_unknown_controller"},
        "odd bytes": {"control_character", "csv_control_characters", "yaml_syntax_error"},
    }
    for category, cases in categories.items():
        assert cases <= names, f"{category}: missing {sorted(cases - names)}"


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_check_config_exits_2_naming_every_issue(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected, env = expectations(case)
    assert expected, f"{case.name} has no '# expect:' line"
    monkeypatch.chdir(BROKEN)
    result = CliRunner().invoke(
        main, ["check-config", "-c", case.name], env=env, catch_exceptions=False
    )
    assert result.exit_code == EXIT_BAD_CONFIG, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    for file, number, path, fragment in expected:
        where = f"{file}:{number}: " + (f"{path}: " if path else "")
        pattern = re.compile(rf"^{re.escape(where)}.*{re.escape(fragment)}")
        assert any(pattern.search(line) for line in lines), (where, fragment, result.stderr)
    assert lines[-1] == f"{case.name}: {len(lines) - 1} error(s); nothing was started"
