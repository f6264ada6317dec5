"""The city's inventory CSV and a wifimon config watching the city.

The CSV is what a city's asset register would hold: every AP with its
site, district and coordinates; controller APs name their controller and
base MAC, stand-alone APs their address, credentials and profile. The
config polls the controllers and the stand-alone agents on 127.0.0.1,
each with its own community (snmpsim picks an agent's data file by
community; a real city would use one community and many addresses). The
quartiers' polygons (``data/mulhouse-quartiers.geojson``, approximate, made
by ``scripts/generate_demo_districts.py``) are copied next to the config as
``districts.geojson``, so the daemon exports coverage per district.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from wifimon.config import CSV_COLUMNS
from wifimon.simulator.agents import community
from wifimon.simulator.city import GENERIC, AccessPoint, City

HOST = "127.0.0.1"
DISTRICTS_GEOJSON = Path(__file__).with_name("data") / "mulhouse-quartiers.geojson"
DISTRICTS_FILE = "districts.geojson"
COVERAGE_RADIUS_M = 60.0  # outdoor city APs reach 50-100 m


@dataclass(frozen=True)
class PollPlan:
    """How the daemon polls the city: ``interval`` and ``timeout`` in
    seconds (e.g. ``10.0`` and ``2.0``), GETBULK ``max_repetitions``."""

    interval: float
    timeout: float = 2.0
    retries: int = 1
    max_repetitions: int = 50
    concurrency: int = 64

    @classmethod
    def every(cls, interval: float) -> PollPlan:
        """A plan for ``interval`` seconds: the timeout stays within the
        target budget (80% of the interval), e.g. 0.8 s for a 2 s interval."""
        return cls(interval=interval, timeout=min(2.0, round(0.4 * interval, 3)))


def default_interval(aps: int) -> float:
    """Seconds between polls that keep snmpsim (a few hundred requests per
    second, one core) below about half its capacity: 10 s up to ~400 APs."""
    return float(max(10, round(aps / 40)))


def write_inventory_csv(city: City, path: Path, snmp_port: int) -> None:
    """One row per AP, columns in the contract's order (``CSV_COLUMNS``)."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for ap in city.aps:
            writer.writerow(_row(ap, snmp_port))


def _row(ap: AccessPoint, snmp_port: int) -> dict[str, str]:
    row = {
        "ap": ap.ap,
        "name": ap.name,
        "mac": ap.mac,
        "site": ap.site,
        "district": ap.district,
        "latitude": f"{ap.latitude:.6f}",
        "longitude": f"{ap.longitude:.6f}",
    }
    if ap.controller:
        return {**row, "controller": ap.controller}
    return {
        **row,
        "host": HOST,
        "port": str(snmp_port),
        "credentials": ap.ap,
        "profile": GENERIC,
    }


def config_document(
    city: City, snmp_port: int, listen: str, plan: PollPlan, csv_name: str = "aps.csv"
) -> dict[str, object]:
    """The wifimon config (as YAML data) watching ``city``."""
    credentials = {
        controller.name: {"version": "2c", "community": controller.community}
        for controller in city.controllers
    }
    for ap in city.standalone_aps():
        credentials[ap.ap] = {"version": "2c", "community": community(ap.ap)}
    controllers = [
        {
            "name": controller.name,
            "host": HOST,
            "port": snmp_port,
            "credentials": controller.name,
            "profile": "auto",  # chosen by sysObjectID, as for a real controller
            "district": controller.district,
        }
        for controller in city.controllers
    ]
    return {
        "poll": {
            "interval": f"{plan.interval:g}s",
            "timeout": f"{plan.timeout:g}s",
            "retries": plan.retries,
            "concurrency": plan.concurrency,
            "max_repetitions": plan.max_repetitions,
        },
        "credentials": credentials,
        "controllers": controllers,
        "inventory_csv": csv_name,
        "districts_geojson": DISTRICTS_FILE,
        "coverage": {"default_radius_m": COVERAGE_RADIUS_M},
        "exporters": {"prometheus": {"listen": listen}},
        "state_dir": "state",
        "log": {"level": "warning"},
    }


def write_city_config(
    city: City, directory: Path, snmp_port: int, listen: str, plan: PollPlan
) -> Path:
    """Write ``aps.csv`` and ``wifimon.yaml`` into ``directory``; returns the config path."""
    directory.mkdir(parents=True, exist_ok=True)
    write_inventory_csv(city, directory / "aps.csv", snmp_port)
    shutil.copyfile(DISTRICTS_GEOJSON, directory / DISTRICTS_FILE)
    path = directory / "wifimon.yaml"
    header = (
        f"# wifimon watching the simulated city of Mulhouse ({len(city.aps)} APs, "
        f"seed {city.seed}); written by `wifimon demo`.\n"
    )
    body = yaml.safe_dump(config_document(city, snmp_port, listen, plan), sort_keys=False)
    path.write_text(header + body, encoding="utf-8")
    return path
