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
    """``compact``: for recordings of thousands of APs, expected.json keeps a
    summary, three APs in full and a SHA-256 of the whole serialised output
    instead of megabytes of JSON."""

    folder: Path
    profile: str
    walk: Path
    compact: bool = False

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
        cases.append(Case(case_file.parent, spec["profile"], walk, bool(spec.get("compact"))))
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


def summarise(full: dict[str, Any]) -> dict[str, Any]:
    """The compact form: counts, sums per band, three APs, and a digest."""
    aps = full["aps"]
    clients_by_band: dict[str, int | float] = {}
    for ap in aps:
        for radio in ap["radios"].values():
            clients = radio["values"].get("clients")
            if clients is not None:
                band = radio["band"]
                clients_by_band[band] = clients_by_band.get(band, 0) + clients[0]
    canonical = json.dumps(full, sort_keys=True, separators=(",", ":"))
    return {
        "missing": full["missing"],
        "aps_total": len(aps),
        "aps_up": sum(1 for ap in aps if ap["up"]),
        "radios_total": sum(len(ap["radios"]) for ap in aps),
        "radio_clients_by_band": dict(sorted(clients_by_band.items())),
        "first_aps": aps[:3],
        "sha256": hashlib.sha256(canonical.encode()).hexdigest(),
    }


def run_case(case: Case, registry: ProfileRegistry) -> tuple[PollOutcome, dict[str, Any]]:
    transport = RecordedTransport({case.name: load_snmprec(case.walk)})
    target = SnmpTarget(case.name, "127.0.0.1", 161, SnmpCredentials(version="2c", community="x"))
    outcome = asyncio.run(poll_target(transport, target, registry, "auto"))
    full = serialise(outcome.observation)
    return outcome, summarise(full) if case.compact else full


def expected_path(case: Case) -> Path:
    return case.folder / "expected.json"


def write_expected(case: Case, data: dict[str, Any]) -> None:
    expected_path(case).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
