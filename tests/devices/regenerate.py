"""Rewrite golden cases' expected.json from the current profiles.

Run after a deliberate profile change and review the diff before committing:
``.venv/bin/python -m tests.devices.regenerate [CASE ...]`` (no names: all).
"""

from __future__ import annotations

import sys

from tests.devices.golden import discover, run_case, write_expected
from wifimon.profiles.registry import default_registry


def main(names: list[str]) -> int:
    registry = default_registry()
    cases = [case for case in discover() if not names or case.name in names]
    unknown = set(names) - {case.name for case in cases}
    if unknown:
        print(f"no such case: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    for case in cases:
        outcome, data = run_case(case, registry)
        write_expected(case, data)
        count = data["aps_total"] if case.compact else len(data["aps"])
        print(f"{case.name}: profile {outcome.profile.name}, {count} AP(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
