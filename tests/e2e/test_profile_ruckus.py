"""`wifimon run` against Ruckus controllers over real UDP, end to end.

One snmpsim serves three agents: the real 7,682-AP SmartCell Gateway
recording of snmpsim-data (profile ruckus-smartzone, SCG tree) and the two
hand-built walks of tests/devices (a ZoneDirector 1200, profile
ruckus-zonedirector, and a SmartZone 100 answering the SZ tree). wifimon
runs as a child process and is read over HTTP as Prometheus reads it; every
number is compared with tests/support/ruckus_truth.py, which reads the raw
walks with code of its own. The SCG daemon runs once for the module (its
first poll walks ~77,000 values) and several tests read that one scrape.
"""

from __future__ import annotations

import math
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.agents import decompressed_recording, run_snmpsim
from tests.support.daemon import Scrape, Series, running_daemon, write_config
from tests.support.ruckus_truth import (
    ApTruth,
    ControllerTruth,
    scg_index_lengths,
    scg_obsolete_clients,
    smartzone_truth,
    zonedirector_truth,
)

pytestmark = pytest.mark.e2e

SCG_RECORDING = "network/wifi/ruckus-smartcell-gateway"
DEVICES = Path(__file__).resolve().parents[1] / "devices"
# Hand-built walks, served under these communities (their file names).
ZD_WALK = ("ruckus-zd1200", DEVICES / "ruckus-zonedirector-zd1200" / "walk.snmprec")
SZ_WALK = ("ruckus-sz100", DEVICES / "ruckus-smartzone-sz100" / "walk.snmprec")
SITE, DISTRICT = "depot", "East"
POLL_INTERVAL_S = 60.0
RADIO_QUANTITIES = (
    "clients",
    "channel",
    "channel_utilization_ratio",
    "receive_bytes_total",
    "transmit_bytes_total",
    "retries_total",
    "failures_total",
)


@dataclass(frozen=True)
class RuckusAgents:
    """snmpsim on ``host:port``; ``scg_file`` is the decompressed recording."""

    host: str
    port: int
    scg_community: str
    scg_file: Path


@dataclass(frozen=True)
class ScgRun:
    """The first scrape of a daemon polling the SCG recording."""

    scrape: Scrape
    truth: ControllerTruth
    recording: Path


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuckusAgents]:
    recording = decompressed_recording(SCG_RECORDING)
    walks = tmp_path_factory.mktemp("ruckus-walks")
    for community, walk in (ZD_WALK, SZ_WALK):
        shutil.copyfile(walk, walks / f"{community}.snmprec")
    log_dir = tmp_path_factory.mktemp("snmpsim")
    extra = [f"--data-dir={walks}"]
    with run_snmpsim(recording.data_dir, log_dir, recording.community, extra) as (host, port):
        scg_file = recording.data_dir / f"{SCG_RECORDING}.snmprec"
        yield RuckusAgents(host, port, recording.community, scg_file)


def controller_config(agents: RuckusAgents, name: str, community: str) -> dict[str, object]:
    """A daemon watching one controller with the default GETBULK size (25)."""
    poll = {
        "interval": f"{POLL_INTERVAL_S:.0f}s",
        "timeout": "5s",
        "retries": 2,
        "jitter": "0s",
        "target_budget": "55s",
    }
    return {
        "poll": poll,
        "credentials": {"walk": {"version": "2c", "community": community}},
        "controllers": [
            {
                "name": name,
                "host": agents.host,
                "port": agents.port,
                "credentials": "walk",
                "site": SITE,
                "district": DISTRICT,
            }
        ],
    }


def scrape_first_poll(tmp_path: Path, config: dict[str, object]) -> Scrape:
    with running_daemon(write_config(tmp_path, config)) as daemon:
        daemon.wait_generation(1)
        return daemon.scrape()


@pytest.fixture(scope="module")
def scg(agents: RuckusAgents, tmp_path_factory: pytest.TempPathFactory) -> ScgRun:
    truth = smartzone_truth(agents.scg_file)
    assert len(truth.aps) == 7682, "the oracle must see the whole recording"
    config = controller_config(agents, "scg", agents.scg_community)
    scrape = scrape_first_poll(tmp_path_factory.mktemp("scg"), config)
    return ScgRun(scrape, truth, agents.scg_file)


# --- reading a scrape -----------------------------------------------------------


def by_ap(scrape: Scrape, metric: str) -> dict[str, float]:
    """``{ap label: value}`` of an AP-level metric; one series per AP."""
    found: dict[str, float] = {}
    for series in scrape.series(metric):
        ap = series.labels["ap"]
        assert ap not in found, f"two {metric} series for AP {ap}"
        found[ap] = series.value
    return found


def info_by_mac(scrape: Scrape) -> dict[str, Series]:
    found: dict[str, Series] = {}
    for series in scrape.series("wifimon_ap_info"):
        mac = series.labels["mac"]
        assert mac not in found, f"two wifimon_ap_info series for MAC {mac}"
        found[mac] = series
    return found


class Differences:
    """Every mismatch of one comparison, so a failure shows them all."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def check(self, what: str, exported: float | None, expected: float | None) -> None:
        same = (
            exported == expected
            if exported is None or expected is None
            else math.isclose(exported, expected, rel_tol=1e-12, abs_tol=1e-12)
        )
        if not same:
            self.found.append(f"{what}: exported {exported}, walk says {expected}")

    def equal(self, what: str, exported: object, expected: object) -> None:
        if exported != expected:
            self.found.append(f"{what}: exported {exported!r}, walk says {expected!r}")

    def assert_none(self) -> None:
        shown = "\n".join(self.found[:40])
        assert not self.found, f"{len(self.found)} differences with the walk:\n{shown}"


def compare_aps(scrape: Scrape, truth: ControllerTruth, controller: str) -> Differences:
    """Identity, info labels, state and every AP quantity, AP by AP."""
    out = Differences()
    info = info_by_mac(scrape)
    out.equal("APs by MAC", set(info), set(truth.aps))
    quantities = {
        metric: by_ap(scrape, f"wifimon_ap_{metric}")
        for metric in (
            "up",
            "uptime_seconds",
            "clients",
            "receive_bytes_total",
            "transmit_bytes_total",
        )
    }
    for mac, ap in truth.aps.items():
        labels = info[mac].labels if mac in info else {}
        ap_id = mac.replace(":", "")
        out.equal(f"AP {mac} identity", (labels.get("ap"), labels.get("site")), (ap_id, SITE))
        expected_labels = {
            "name": ap.name,
            "model": ap.model,
            "serial": ap.serial,
            "firmware": ap.firmware,
            "ip": ap.ip,
            "vendor": "Ruckus",
            "controller": controller,
            "district": DISTRICT,
        }
        for key, text in expected_labels.items():
            out.equal(f"AP {mac} info {key}", labels.get(key), text)
        expected = _ap_quantities(ap)
        for metric, values in quantities.items():
            out.check(f"AP {mac} wifimon_ap_{metric}", values.get(ap_id), expected[metric])
    return out


def _ap_quantities(ap: ApTruth) -> dict[str, float | None]:
    return {
        "up": float(ap.up),
        "uptime_seconds": ap.uptime_seconds,
        "clients": ap.clients,
        "receive_bytes_total": ap.receive_bytes_total,
        "transmit_bytes_total": ap.transmit_bytes_total,
    }


def radio_series(scrape: Scrape) -> list[str]:
    return sorted(name for name in scrape.by_name if name.startswith("wifimon_radio_"))


# --- SmartCell Gateway: the real 7,682-AP recording -------------------------------


def test_scg_every_ap_is_exported_with_the_controllers_state_and_clients(scg: ScgRun) -> None:
    scrape, truth = scg.scrape, scg.truth

    assert scrape.value("wifimon_target_up", target="scg") == 1
    assert scrape.value("wifimon_target_missing_values_total", target="scg") == 0
    up = scrape.series("wifimon_ap_up")
    assert len(up) == len(truth.aps) == 7682
    assert sum(series.value == 1 for series in up) == truth.up_count == 7579
    assert scrape.value("wifimon_controller_aps", controller="scg", state="up") == 7579
    assert scrape.value("wifimon_controller_aps", controller="scg", state="down") == 103
    clients = by_ap(scrape, "wifimon_ap_clients")
    assert sum(clients.values()) == sum(ap.clients or 0 for ap in truth.aps.values())
    compare_aps(scrape, truth, "scg").assert_none()
    # Seen up in this poll: a last-seen time; never seen up: none.
    assert len(scrape.series("wifimon_ap_last_seen_timestamp_seconds")) == truth.up_count


def test_scg_one_poll_fits_well_inside_the_interval(scg: ScgRun) -> None:
    duration = scg.scrape.value("wifimon_target_poll_duration_seconds", target="scg")
    # Measured 9-12 s on an idle 2-core machine, mostly snmpsim and BER
    # decoding; the bound is the default target budget, 80 % of the interval.
    assert duration < 0.8 * POLL_INTERVAL_S, f"one poll took {duration:.1f} s"


def test_scg_reports_no_radio_or_ssid_data(scg: ScgRun) -> None:
    # Neither RUCKUS-SCG nor RUCKUS-SZ has a per-radio table, and the WLAN
    # table counts clients per controller, not per AP.
    assert radio_series(scg.scrape) == []
    assert scg.scrape.series("wifimon_ssid_clients") == []


def test_scg_oddities_of_the_real_recording_are_handled(scg: ScgRun) -> None:
    scrape, truth = scg.scrape, scg.truth
    info = info_by_mac(scrape)
    # Every AP row is indexed "6.<MAC>", not by the bare MAC the MIB defines;
    # every one is exported under its real MAC (compared AP by AP above).
    assert scg_index_lengths(scg.recording) == {7: 7682}
    assert len(info) == 7682
    # 14 APs kept the factory name "RuckusAP": all exported, each by its MAC.
    defaults = [mac for mac, ap in truth.aps.items() if ap.name == "RuckusAP"]
    assert len(defaults) == 14
    assert len({info[mac].labels["ap"] for mac in defaults}) == 14
    # Some models are hex-encoded in the recording; the label is the text.
    models = Counter(series.labels["model"] for series in info.values())
    assert models["ZF7782-S"] == 16
    # A disconnected AP keeps its last uptime and counters on the SCG.
    down = [ap for ap in truth.aps.values() if not ap.up]
    uptime = by_ap(scrape, "wifimon_ap_uptime_seconds")
    assert len(down) == 103
    assert all(uptime[ap.mac.replace(":", "")] > 0 for ap in down)
    # The obsolete ruckusWLANAPTable, walked seconds apart, disagrees on
    # 2,801 APs; clients come from the current ruckusSCGAPTable.
    obsolete = scg_obsolete_clients(scg.recording)
    differing = [mac for mac, count in obsolete.items() if count != truth.aps[mac].clients]
    assert len(differing) == 2801
    clients = by_ap(scrape, "wifimon_ap_clients")
    assert all(clients[mac.replace(":", "")] == truth.aps[mac].clients for mac in differing)


# --- hand-built walks: ZoneDirector 1200 and SmartZone 100 (SZ tree) -------------


def compare_radios(scrape: Scrape, truth: ControllerTruth) -> Differences:
    out = Differences()
    for mac, ap in truth.aps.items():
        ap_id = mac.replace(":", "")
        exported = {
            (s.labels["radio"], s.labels["band"])
            for s in scrape.series("wifimon_radio_clients", ap=ap_id)
        }
        out.equal(f"AP {mac} radios", exported, {(r.radio, r.band) for r in ap.radios.values()})
        for radio in ap.radios.values():
            labels = {"ap": ap_id, "radio": radio.radio, "band": radio.band}
            for quantity in RADIO_QUANTITIES:
                metric = f"wifimon_radio_{quantity}"
                where = f"AP {mac} radio {radio.radio} {metric}"
                out.check(where, scrape.optional(metric, **labels), getattr(radio, quantity))
    return out


def clients_by_band(scrape: Scrape) -> dict[str, float]:
    totals: dict[str, float] = {}
    for series in scrape.series("wifimon_radio_clients"):
        band = series.labels["band"]
        totals[band] = totals.get(band, 0) + series.value
    return totals


def test_zonedirector_exports_aps_and_radios_of_the_walk(
    agents: RuckusAgents, tmp_path: Path
) -> None:
    community, walk = ZD_WALK
    truth = zonedirector_truth(walk)
    assert (len(truth.aps), truth.up_count) == (3, 2)

    scrape = scrape_first_poll(tmp_path, controller_config(agents, "zd", community))

    assert scrape.value("wifimon_target_up", target="zd") == 1
    assert scrape.value("wifimon_controller_aps", controller="zd", state="up") == 2
    assert scrape.value("wifimon_controller_aps", controller="zd", state="down") == 1
    compare_aps(scrape, truth, "zd").assert_none()
    compare_radios(scrape, truth).assert_none()
    assert clients_by_band(scrape) == {"2.4GHz": 12, "5GHz": 14}
    assert clients_by_band(scrape) == truth.clients_by_band()
    # The disconnected AP's radios have no ResourceUtil rows: two gaps, counted.
    assert scrape.value("wifimon_target_missing_values_total", target="zd") == 2
    # Tx power is a step below maximum (full/half), not dBm; no noise column.
    assert "wifimon_radio_tx_power_dbm" not in scrape.by_name
    assert "wifimon_radio_noise_floor_dbm" not in scrape.by_name
    # LAN bytes are exported, not the kbyte StaTx/StaRxBytes columns.
    assert scrape.value("wifimon_ap_receive_bytes_total", ap="00005e005301") == 48213467810


def test_smartzone_reads_the_sz_tree_with_a_bare_mac_index(
    agents: RuckusAgents, tmp_path: Path
) -> None:
    community, walk = SZ_WALK
    truth = smartzone_truth(walk)
    assert (len(truth.aps), truth.up_count) == (3, 2)

    scrape = scrape_first_poll(tmp_path, controller_config(agents, "sz", community))

    assert scrape.value("wifimon_target_up", target="sz") == 1
    assert scrape.value("wifimon_controller_aps", controller="sz", state="up") == 2
    assert scrape.value("wifimon_controller_aps", controller="sz", state="down") == 1
    compare_aps(scrape, truth, "sz").assert_none()
    # AP :23 has no byte counters yet: no series, two gaps counted.
    assert scrape.optional("wifimon_ap_receive_bytes_total", ap="00005e005323") is None
    assert scrape.value("wifimon_target_missing_values_total", target="sz") == 2
    assert radio_series(scrape) == []
