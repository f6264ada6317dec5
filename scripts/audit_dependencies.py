"""Audit the installed dependencies for known vulnerabilities, and say how much was audited.

``pip-audit`` reports "No known vulnerabilities found" and exits 0 even when
it could audit nothing: where PyPI's per-version JSON
(``/pypi/NAME/VERSION/json``) is not served, every dependency is skipped as
"not found on PyPI". This wrapper runs it, then audits each skipped
dependency from the project JSON (``/pypi/NAME/json``), whose
``vulnerabilities`` describe the latest release: valid when the installed
version *is* the latest. What still cannot be audited is named.

Exit status: 1 when a known vulnerability is found, when nothing at all
could be audited, or (with ``--strict``) when anything was left unaudited;
0 otherwise. The summary line always gives the counts.

    python scripts/audit_dependencies.py            # CI here
    python scripts/audit_dependencies.py --strict   # where PyPI is fully reachable
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

PYPI_JSON = os.environ.get("WIFIMON_PYPI_JSON", "https://pypi.org/pypi")
TIMEOUT_SECONDS = 20.0

# name -> the project JSON of PyPI, or None when it cannot be fetched
ProjectLookup = Callable[[str], dict[str, object] | None]


@dataclass
class Audit:
    """Per dependency ``name version``: its vulnerability ids, or why it was not audited."""

    vulnerable: dict[str, list[str]] = field(default_factory=dict)
    clean: list[str] = field(default_factory=list)
    unaudited: dict[str, str] = field(default_factory=dict)
    by_pip_audit: int = 0
    by_latest_release: int = 0

    @property
    def audited(self) -> int:
        return self.by_pip_audit + self.by_latest_release

    def summary(self) -> str:
        total = self.audited + len(self.unaudited)
        return (
            f"dependency audit: {total} dependencies, {self.audited} audited "
            f"({self.by_pip_audit} by pip-audit, {self.by_latest_release} from PyPI's "
            f"latest-release data), {len(self.unaudited)} NOT audited; "
            f"{len(self.vulnerable)} with known vulnerabilities"
        )


def run_pip_audit(python: str) -> list[dict[str, object]]:
    """pip-audit's JSON ``dependencies`` for the environment of ``python``."""
    result = subprocess.run(
        [
            python,
            "-m",
            "pip_audit",
            "--format",
            "json",
            "--progress-spinner",
            "off",
            "--skip-editable",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):  # 1: vulnerabilities found
        raise RuntimeError(f"pip-audit failed ({result.returncode}): {result.stderr[-2000:]}")
    dependencies: list[dict[str, object]] = json.loads(result.stdout)["dependencies"]
    return dependencies


def fetch_project(name: str) -> dict[str, object] | None:
    url = f"{PYPI_JSON}/{name}/json"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            project: dict[str, object] = json.load(response)
            return project
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError, OSError):
        return None


def _installed_version(dependency: dict[str, object]) -> str:
    if "version" in dependency:
        return str(dependency["version"])
    # "Dependency not found on PyPI and could not be audited: attrs (26.1.0)"
    reason = str(dependency.get("skip_reason", ""))
    return reason.rpartition("(")[2].rstrip(")") if reason.endswith(")") else ""


def _vulnerability_ids(vulns: Iterable[object]) -> list[str]:
    return [str(v.get("id")) for v in vulns if isinstance(v, dict)]


def audit(
    dependencies: list[dict[str, object]], lookup: ProjectLookup, ignore: Iterable[str] = ()
) -> Audit:
    """Sort every dependency but those in ``ignore`` (this project itself)."""
    result = Audit()
    ignored = {name.lower() for name in ignore}
    for dependency in dependencies:
        name, version = str(dependency["name"]), _installed_version(dependency)
        if name.lower() in ignored:
            continue
        label = f"{name} {version}".strip()
        if "skip_reason" not in dependency:
            result.by_pip_audit += 1
            ids = _vulnerability_ids(dependency.get("vulns", []))  # type: ignore[arg-type]
            _record(result, label, ids)
            continue
        project = lookup(name)
        info = project.get("info") if project else None
        latest = str(info.get("version")) if isinstance(info, dict) else None
        if latest is None:
            result.unaudited[label] = "PyPI has no data for it (or is unreachable)"
        elif latest != version:
            result.unaudited[label] = f"not the latest release ({latest}) and no per-version data"
        else:
            result.by_latest_release += 1
            vulns = project.get("vulnerabilities", []) if project else []
            _record(result, label, _vulnerability_ids(vulns if isinstance(vulns, list) else []))
    return result


def _record(result: Audit, label: str, ids: list[str]) -> None:
    if ids:
        result.vulnerable[label] = ids
    else:
        result.clean.append(label)


def exit_status(result: Audit, strict: bool) -> int:
    if result.vulnerable or result.audited == 0:
        return 1
    return 1 if strict and result.unaudited else 0


def report(result: Audit) -> str:
    lines = [f"VULNERABLE {label}: {', '.join(ids)}" for label, ids in result.vulnerable.items()]
    lines += [f"not audited: {label}: {why}" for label, why in sorted(result.unaudited.items())]
    if result.audited == 0:
        lines.append("NOTHING WAS AUDITED: this is a failure, not a pass")
    lines.append(result.summary())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--strict", action="store_true", help="fail if anything is unaudited")
    parser.add_argument("--python", default=sys.executable, help="the environment to audit")
    parser.add_argument(
        "--ignore", action="append", default=["wifimon"], help="this project (not on PyPI)"
    )
    options = parser.parse_args(argv)
    result = audit(run_pip_audit(options.python), fetch_project, options.ignore)
    print(report(result))
    return exit_status(result, options.strict)


if __name__ == "__main__":
    sys.exit(main())
