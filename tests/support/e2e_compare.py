"""What the end-to-end tests expect of each AP, and how a scrape is compared with it.

The truth modules (recording_truth, aruba_truth, ruckus_truth, vendor_truth)
fill in these records from the raw recordings with code of their own;
``compare_ap`` checks everything a ``wifimon run`` exports for an AP against
them. Also the plumbing the e2e modules share: a config polling controllers,
the scrape of a daemon's first poll, a ``wifimon poll --format json`` run.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.daemon import DaemonConfig, Scrape, Series, running_daemon, write_config


@dataclass(frozen=True)
class RadioTruth:
    """One radio as wifimon must export it; ``None``: no value, so no series."""

    slot: str
    band: str
    clients: int | None
    channel: int | None
    tx_power_dbm: float | None
    noise_floor_dbm: int | None
    channel_utilization_ratio: float | None
    retries_total: int | None
    failures_total: int | None
    receive_bytes_total: int | None
    transmit_bytes_total: int | None


@dataclass(frozen=True)
class ApTruth:
    """One AP; ``mac`` is the MAC wifimon identifies it by, e.g. "00:3a:98:b0:2e:70"."""

    mac: str
    name: str
    up: bool
    model: str
    serial: str
    firmware: str
    ip: str
    uptime_seconds: float | None
    clients: int | None
    receive_bytes_total: int | None
    transmit_bytes_total: int | None
    radios: dict[str, RadioTruth] = field(default_factory=dict)
    ssid_clients: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ControllerTruth:
    """APs a controller shows, by MAC; ``unidentified`` names the APs it
    lists without a usable MAC (wifimon cannot give them an id)."""

    aps: dict[str, ApTruth]
    unidentified: list[str] = field(default_factory=list)

    @property
    def up_count(self) -> int:
        return sum(ap.up for ap in self.aps.values())

    def clients_by_band(self) -> dict[str, int]:
        """Sum of every radio's clients, by band (radios without a count skipped)."""
        totals: dict[str, int] = defaultdict(int)
        for ap in self.aps.values():
            for radio in ap.radios.values():
                if radio.clients is not None:
                    totals[radio.band] += radio.clients
        return dict(totals)

    def mac_of_name(self, name: str) -> str | None:
        """The MAC of the only AP called ``name``; None if absent or ambiguous."""
        found = [ap.mac for ap in self.aps.values() if ap.name == name]
        return found[0] if len(found) == 1 else None


# --- comparing a scrape with the truth ---------------------------------------------

RADIO_QUANTITIES = (
    "clients",
    "channel",
    "tx_power_dbm",
    "noise_floor_dbm",
    "channel_utilization_ratio",
    "retries_total",
    "failures_total",
    "receive_bytes_total",
    "transmit_bytes_total",
)
RADIO_METRICS = tuple(f"wifimon_radio_{quantity}" for quantity in RADIO_QUANTITIES)
AP_QUANTITIES = (
    ("wifimon_ap_uptime_seconds", "uptime_seconds"),
    ("wifimon_ap_clients", "clients"),
    ("wifimon_ap_receive_bytes_total", "receive_bytes_total"),
    ("wifimon_ap_transmit_bytes_total", "transmit_bytes_total"),
)
# AP-level metrics: one series per ``ap`` label at the most.
AP_METRICS = (
    "wifimon_ap_info",
    "wifimon_ap_up",
    "wifimon_ap_last_seen_timestamp_seconds",
    *(metric for metric, _ in AP_QUANTITIES),
)


class Differences:
    """Collects every mismatch so one run shows them all, not just the first;
    ``source`` names what the truth was read from ("recording", "walk")."""

    def __init__(self, source: str = "recording") -> None:
        self.source = source
        self.found: list[str] = []

    def check(self, what: str, exported: float | None, expected: float | None) -> None:
        if exported is None or expected is None:
            same = exported == expected
        else:  # scaled values (ticks/100, percent/100) may differ in the last bit
            same = math.isclose(exported, expected, rel_tol=1e-12, abs_tol=1e-12)
        if not same:
            self.found.append(f"{what}: exported {exported}, {self.source} says {expected}")

    def equal(self, what: str, exported: object, expected: object) -> None:
        if exported != expected:
            self.found.append(f"{what}: exported {exported!r}, {self.source} says {expected!r}")

    def assert_none(self) -> None:
        shown = "\n".join(self.found[:40])
        assert not self.found, f"{len(self.found)} differences with the {self.source}:\n{shown}"


class ExportedAps:
    """A scrape indexed by AP id: thousands of APs compare in linear time.

    Asserts on construction that no AP-level metric has two series for one
    ``ap`` label and no two ``wifimon_ap_info`` series share a ``mac``."""

    def __init__(self, scrape: Scrape) -> None:
        self.scrape = scrape
        self.info: dict[str, Series] = {}  # by MAC label
        self.by_ap: dict[tuple[str, str], list[Series]] = defaultdict(list)
        self.of_ap: dict[str, list[Series]] = defaultdict(list)
        for name, series_list in scrape.by_name.items():
            for series in series_list:
                ap = series.labels.get("ap")
                if ap is not None:
                    self.by_ap[(name, ap)].append(series)
                    self.of_ap[ap].append(series)
        for metric in AP_METRICS:
            self.values(metric)
        for series in scrape.series("wifimon_ap_info"):
            assert series.labels["mac"] not in self.info, f"two APs with MAC {series.labels['mac']}"
            self.info[series.labels["mac"]] = series

    def series(self, metric: str, ap: str, **labels: str) -> list[Series]:
        return [series for series in self.by_ap.get((metric, ap), []) if _has(series, labels)]

    def value(self, metric: str, ap: str, **labels: str) -> float | None:
        found = self.series(metric, ap, **labels)
        assert len(found) <= 1, f"{len(found)} series {metric}{{ap={ap}, {labels}}}"
        return found[0].value if found else None

    def values(self, metric: str) -> dict[str, float]:
        """``{ap label: value}`` of an AP-level metric; one series per AP."""
        found: dict[str, float] = {}
        for series in self.scrape.series(metric):
            ap = series.labels["ap"]
            assert ap not in found, f"two {metric} series for AP {ap}"
            found[ap] = series.value
        return found

    def macs(self, **labels: str) -> set[str]:
        """The MACs of the ``wifimon_ap_info`` series with ``labels``, e.g. a controller."""
        return {mac for mac, info in self.info.items() if _has(info, labels)}

    def ids(self, **labels: str) -> set[str]:
        """The ``ap`` labels of the ``wifimon_ap_info`` series with ``labels``."""
        return {info.labels["ap"] for info in self.info.values() if _has(info, labels)}

    def radio_bands(self, ap: str) -> set[tuple[str, str]]:
        """``(radio, band)`` of every radio series of ``ap``."""
        return {
            (series.labels["radio"], series.labels["band"])
            for metric in RADIO_METRICS
            for series in self.by_ap.get((metric, ap), [])
        }

    def radios(self, ap: str) -> set[str]:
        """The ``radio`` labels of every radio series of ``ap``."""
        return {radio for radio, _ in self.radio_bands(ap)}

    def ssid_clients(self, ap: str) -> dict[str, float]:
        found = self.by_ap.get(("wifimon_ssid_clients", ap), [])
        return {series.labels["ssid"]: series.value for series in found}


def _has(series: Series, labels: Mapping[str, str]) -> bool:
    return all(series.labels.get(key) == want for key, want in labels.items())


def compare_ap(
    exported: ExportedAps,
    ap: ApTruth,
    labels: Mapping[str, str],
    out: Differences,
    *,
    all_ssids: bool = True,
) -> None:
    """Everything wifimon exports for ``ap`` (found by its MAC) against the
    truth; ``labels`` are the info labels the truth cannot know (ap id,
    vendor, controller, site...). Every series of the AP must carry the site
    and district of its info series. ``all_ssids=False`` accepts a subset of
    the SSIDs (each with the right count), for an agent whose SSID table walk
    ends early."""
    info = exported.info.get(ap.mac)
    if info is None:
        out.found.append(f"AP {ap.mac}: no wifimon_ap_info series")
        return
    ap_id = info.labels["ap"]
    where = f"AP {ap.mac} ({ap_id})"
    expected_info = {
        "name": ap.name,
        "model": ap.model,
        "serial": ap.serial,
        "firmware": ap.firmware,
        "ip": ap.ip,
        "mac": ap.mac,
        **labels,
    }
    for key, expected in expected_info.items():
        out.equal(f"{where} info {key}", info.labels.get(key), expected)
    place = {
        (series.labels.get("site"), series.labels.get("district"))
        for series in exported.of_ap[ap_id]
    }
    out.equal(
        f"{where} site and district",
        place,
        {(info.labels.get("site"), info.labels.get("district"))},
    )
    out.check(f"{where} up", exported.value("wifimon_ap_up", ap_id), float(ap.up))
    for metric, quantity in AP_QUANTITIES:
        out.check(f"{where} {metric}", exported.value(metric, ap_id), getattr(ap, quantity))
    expected_ssids: dict[str, float | None] = {
        ssid: float(clients) for ssid, clients in ap.ssid_clients.items()
    }
    ssids = exported.ssid_clients(ap_id)
    if not all_ssids:
        expected_ssids = {ssid: expected_ssids.get(ssid) for ssid in ssids}
    out.equal(f"{where} SSID clients", ssids, expected_ssids)
    expected_radios = {(slot, radio.band) for slot, radio in ap.radios.items()}
    out.equal(f"{where} radios", exported.radio_bands(ap_id), expected_radios)
    for slot, radio in ap.radios.items():
        for quantity, metric in zip(RADIO_QUANTITIES, RADIO_METRICS, strict=True):
            value = exported.value(metric, ap_id, radio=slot, band=radio.band)
            out.check(f"{where} radio {slot} {metric}", value, getattr(radio, quantity))


def compare_aps(
    exported: ExportedAps,
    aps: Iterable[ApTruth],
    labels: Mapping[str, str],
    *,
    source: str = "recording",
    all_ssids: bool = True,
) -> Differences:
    """``compare_ap`` for each of ``aps``, all with the info labels ``labels``
    and ``ap``: the MAC without colons."""
    out = Differences(source)
    for ap in aps:
        ap_labels = {"ap": ap.mac.replace(":", ""), **labels}
        compare_ap(exported, ap, ap_labels, out, all_ssids=all_ssids)
    return out


def exported_clients_by_band(scrape: Scrape, aps: Iterable[str] | None = None) -> dict[str, float]:
    """Sum of ``wifimon_radio_clients`` by band over the AP ids ``aps`` (all if None)."""
    wanted = None if aps is None else set(aps)
    totals: dict[str, float] = defaultdict(float)
    for series in scrape.series("wifimon_radio_clients"):
        if wanted is None or series.labels["ap"] in wanted:
            totals[series.labels["band"]] += series.value
    return dict(totals)


# --- running wifimon against snmpsim ------------------------------------------------


def poll_settings(
    interval: str, budget: str | None = None, timeout: str = "5s"
) -> dict[str, object]:
    """The ``poll`` section: two retries, no jitter, and a target budget if given."""
    poll: dict[str, object] = {
        "interval": interval,
        "timeout": timeout,
        "retries": 2,
        "jitter": "0s",
    }
    if budget is not None:
        poll["target_budget"] = budget
    return poll


def controllers_config(
    host: str,
    port: int,
    communities: Mapping[str, str],
    places: Mapping[str, tuple[str, str]],
    poll: Mapping[str, object],
    **extra: object,
) -> dict[str, object]:
    """A config polling each ``name: community`` of ``communities`` on
    ``host:port`` as a controller at ``places[name]`` (site, district)."""
    return {
        "poll": dict(poll),
        "credentials": {
            name: {"version": "2c", "community": community}
            for name, community in communities.items()
        },
        "controllers": [
            {
                "name": name,
                "host": host,
                "port": port,
                "credentials": name,
                "site": places[name][0],
                "district": places[name][1],
            }
            for name in communities
        ],
        **extra,
    }


def first_scrape(directory: Path, config: Mapping[str, object]) -> Scrape:
    """Write ``config`` into ``directory``, run the daemon until its first poll
    is published, scrape it, and stop it (it must exit 0)."""
    with running_daemon(write_config(directory, config)) as daemon:
        daemon.wait_generation(1)
        return daemon.scrape()


def poll_json(
    config: DaemonConfig, env: Mapping[str, str] | None = None, timeout: float = 180
) -> list[dict[str, Any]]:
    """The rows of one ``wifimon poll --format json``, which must exit 0."""
    result = subprocess.run(
        [sys.executable, "-m", "wifimon", "poll", "-c", str(config.path), "--format", "json"],
        capture_output=True,
        timeout=timeout,
        env=None if env is None else {**os.environ, **env},
        cwd=config.path.parent,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows
