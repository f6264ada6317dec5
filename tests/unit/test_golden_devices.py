"""Every profile against real recorded devices (tests/devices/*/)."""

from __future__ import annotations

import json

import pytest

from tests.devices.golden import Case, discover, expected_path, run_case
from wifimon.profiles.registry import default_registry

CASES = discover()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_device_case_matches_expected_output(case: Case) -> None:
    registry = default_registry()
    outcome, data = run_case(case, registry)
    assert outcome.profile.name == case.profile, "auto-detection chose another profile"
    expected = json.loads(expected_path(case).read_text())
    assert data == expected


def test_every_profile_has_a_golden_case() -> None:
    covered = {case.profile for case in CASES}
    missing = set(default_registry().profiles) - covered
    assert not missing, f"profiles without a case in tests/devices/: {sorted(missing)}"
