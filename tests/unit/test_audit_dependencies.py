"""scripts/audit_dependencies.py: a dependency audit never passes without auditing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


audit_script = _load()

SKIPPED = "Dependency not found on PyPI and could not be audited: {name} ({version})"
PROJECTS = {
    "attrs": {"info": {"version": "26.1.0"}, "vulnerabilities": []},
    "jinja2": {"info": {"version": "3.1.2"}, "vulnerabilities": [{"id": "GHSA-h5c8-rqwp-cp95"}]},
    "numpy": {"info": {"version": "2.5.5"}, "vulnerabilities": []},
}


def skipped(name: str, version: str) -> dict[str, object]:
    return {"name": name, "skip_reason": SKIPPED.format(name=name, version=version)}


def lookup(name: str) -> dict[str, object] | None:
    return PROJECTS.get(name)  # type: ignore[return-value]


def test_a_skipped_dependency_at_its_latest_release_is_audited_from_the_project_json() -> None:
    result = audit_script.audit([skipped("attrs", "26.1.0")], lookup)
    assert (result.by_latest_release, result.clean, result.unaudited) == (1, ["attrs 26.1.0"], {})
    assert audit_script.exit_status(result, strict=True) == 0


def test_a_known_vulnerability_fails_the_audit() -> None:
    result = audit_script.audit([skipped("jinja2", "3.1.2"), skipped("attrs", "26.1.0")], lookup)
    assert result.vulnerable == {"jinja2 3.1.2": ["GHSA-h5c8-rqwp-cp95"]}
    assert audit_script.exit_status(result, strict=False) == 1
    assert "VULNERABLE jinja2 3.1.2: GHSA-h5c8-rqwp-cp95" in audit_script.report(result)


def test_an_older_release_is_named_as_not_audited_and_fails_only_when_strict() -> None:
    result = audit_script.audit([skipped("numpy", "2.4.6"), skipped("attrs", "26.1.0")], lookup)
    assert result.unaudited == {
        "numpy 2.4.6": "not the latest release (2.5.5) and no per-version data"
    }
    assert audit_script.exit_status(result, strict=False) == 0
    assert audit_script.exit_status(result, strict=True) == 1
    assert "1 NOT audited" in audit_script.report(result)


def test_nothing_audited_is_a_failure_not_a_pass() -> None:
    result = audit_script.audit([skipped("numpy", "2.4.6"), skipped("unknown", "1.0")], lookup)
    assert result.audited == 0
    assert audit_script.exit_status(result, strict=False) == 1
    assert "NOTHING WAS AUDITED" in audit_script.report(result)


def test_what_pip_audit_did_audit_counts_with_its_findings() -> None:
    audited = {"name": "pyyaml", "version": "6.0.2", "vulns": [{"id": "PYSEC-1"}]}
    result = audit_script.audit([audited], lookup)
    assert (result.by_pip_audit, result.vulnerable) == (1, {"pyyaml 6.0.2": ["PYSEC-1"]})


@pytest.mark.parametrize("name", ["wifimon", "WifiMon"])
def test_this_project_is_left_out(name: str) -> None:
    result = audit_script.audit([skipped(name, "0.1.0")], lookup, ignore=["wifimon"])
    assert (result.audited, result.unaudited) == (0, {})
