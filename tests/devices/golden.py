"""Golden device cases: run the real poller over a recorded walk and turn the
observation into stable, anonymised JSON (see README.md beside this file)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wifimon.poller import PollOutcome, poll_target
from wifimon.profiles.evaluate import Measured, Observation
from wifimon.profiles.registry import ProfileRegistry
from wifimon.simulator.snmpsim import recording_path
from wifimon.snmp.recorded import RecordedTransport
from wifimon.snmp.snmprec import load_snmprec
from wifimon.snmp.types import SnmpCredentials, SnmpTarget

CASES = Path(__file__).parent
# Device identifiers are hashed so no real network's MACs, serials or
# addresses are committed; the hash still proves the value is right.
IDENTIFIERS = frozenset({"mac", "serial", "ip"})


@dataclass(frozen=True)
class Case:
    folder: Path
    profile: str
    walk: Path

    @property
    def name(self) -> str:
        return self.folder.name


def discover() -> list[Case]:
    cases = []
    for case_file in sorted(CASES.glob("*/case.yaml")):
        spec = yaml.safe_load(case_file.read_text())
        if "recording" in spec:
            walk = recording_path(spec["recording"])
        else:
            walk = case_file.parent / spec["walk"]
        cases.append(Case(case_file.parent, spec["profile"], walk))
    return cases


def anonymise(value: str) -> str:
    return "h:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def _value(name: str, measured: Measured) -> Any:
    value = measured.value
    if isinstance(value, bytes):
        value = value.hex()
    if name in IDENTIFIERS and isinstance(value, str):
        value = anonymise(value)
    return [value, measured.kind.value if measured.kind else None]


def _values(values: dict[str, Measured]) -> dict[str, Any]:
    return {name: _value(name, measured) for name, measured in sorted(values.items())}


def serialise(observation: Observation) -> dict[str, Any]:
    aps = []
    for ap in observation.aps:
        aps.append(
            {
                "mac": anonymise(ap.mac) if ap.mac else None,
                "up": ap.up,
                "values": _values(ap.values),
                "radios": {
                    radio_id: {"band": radio.band, "values": _values(radio.values)}
                    for radio_id, radio in sorted(ap.radios.items())
                },
                "ssids": {ssid: _values(values) for ssid, values in sorted(ap.ssids.items())},
            }
        )
    aps.sort(key=lambda ap: str(ap["mac"]))
    return {"missing": observation.missing, "aps": aps}


def run_case(case: Case, registry: ProfileRegistry) -> tuple[PollOutcome, dict[str, Any]]:
    transport = RecordedTransport({case.name: load_snmprec(case.walk)})
    target = SnmpTarget(case.name, "127.0.0.1", 161, SnmpCredentials(version="2c", community="x"))
    outcome = asyncio.run(poll_target(transport, target, registry, "auto"))
    return outcome, serialise(outcome.observation)


def expected_path(case: Case) -> Path:
    return case.folder / "expected.json"


def write_expected(case: Case, data: dict[str, Any]) -> None:
    expected_path(case).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
