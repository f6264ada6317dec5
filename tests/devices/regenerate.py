"""Rewrite every golden case's expected.json from the current profiles.

Run after a deliberate profile change and review the diff before committing:
``.venv/bin/python -m tests.devices.regenerate``.
"""

from __future__ import annotations

from tests.devices.golden import discover, run_case, write_expected
from wifimon.profiles.registry import default_registry


def main() -> None:
    registry = default_registry()
    for case in discover():
        outcome, data = run_case(case, registry)
        write_expected(case, data)
        print(f"{case.name}: profile {outcome.profile.name}, {len(data['aps'])} AP(s)")


if __name__ == "__main__":
    main()
