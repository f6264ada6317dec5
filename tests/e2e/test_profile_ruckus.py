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

import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.agents import decompressed_recording, run_snmpsim
from tests.support.daemon import Scrape
from tests.support.e2e_compare import (
    ControllerTruth,
    Differences,
    ExportedAps,
    compare_aps,
    controllers_config,
    exported_clients_by_band,
    first_scrape,
    poll_settings,
)
from tests.support.ruckus_truth import (
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
    exported: ExportedAps
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
    poll = poll_settings(f"{POLL_INTERVAL_S:.0f}s", budget="55s")
    return controllers_config(
        agents.host, agents.port, {name: community}, {name: (SITE, DISTRICT)}, poll
    )


@pytest.fixture(scope="module")
def scg(agents: RuckusAgents, tmp_path_factory: pytest.TempPathFactory) -> ScgRun:
    truth = smartzone_truth(agents.scg_file)
    assert len(truth.aps) == 7682, "the oracle must see the whole recording"
    config = controller_config(agents, "scg", agents.scg_community)
    scrape = first_scrape(tmp_path_factory.mktemp("scg"), config)
    return ScgRun(scrape, ExportedAps(scrape), truth, agents.scg_file)


def compare_aps_of(exported: ExportedAps, truth: ControllerTruth, controller: str) -> Differences:
    """Identity, info labels, state, every AP and radio quantity, AP by AP."""
    labels = {"site": SITE, "district": DISTRICT, "vendor": "Ruckus", "controller": controller}
    out = compare_aps(exported, truth.aps.values(), labels, source="walk")
    out.equal("APs by MAC", set(exported.info), set(truth.aps))
    return out


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
    clients = scg.exported.values("wifimon_ap_clients")
    assert sum(clients.values()) == sum(ap.clients or 0 for ap in truth.aps.values())
    compare_aps_of(scg.exported, truth, "scg").assert_none()
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
    truth, exported = scg.truth, scg.exported
    info = exported.info
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
    uptime = exported.values("wifimon_ap_uptime_seconds")
    assert len(down) == 103
    assert all(uptime[ap.mac.replace(":", "")] > 0 for ap in down)
    # The obsolete ruckusWLANAPTable, walked seconds apart, disagrees on
    # 2,801 APs; clients come from the current ruckusSCGAPTable.
    obsolete = scg_obsolete_clients(scg.recording)
    differing = [mac for mac, count in obsolete.items() if count != truth.aps[mac].clients]
    assert len(differing) == 2801
    clients = exported.values("wifimon_ap_clients")
    assert all(clients[mac.replace(":", "")] == truth.aps[mac].clients for mac in differing)


# --- hand-built walks: ZoneDirector 1200 and SmartZone 100 (SZ tree) -------------


def poll_hand_built_walk(
    agents: RuckusAgents,
    tmp_path: Path,
    name: str,
    walk: tuple[str, Path],
    read_truth: Callable[[Path], ControllerTruth],
) -> tuple[Scrape, ControllerTruth]:
    """Poll a hand-built walk (three APs, two of them up) as controller
    ``name``; everything exported must be its truth."""
    community, path = walk
    truth = read_truth(path)
    assert (len(truth.aps), truth.up_count) == (3, 2)

    scrape = first_scrape(tmp_path, controller_config(agents, name, community))

    assert scrape.value("wifimon_target_up", target=name) == 1
    assert scrape.value("wifimon_controller_aps", controller=name, state="up") == 2
    assert scrape.value("wifimon_controller_aps", controller=name, state="down") == 1
    compare_aps_of(ExportedAps(scrape), truth, name).assert_none()
    return scrape, truth


def test_zonedirector_exports_aps_and_radios_of_the_walk(
    agents: RuckusAgents, tmp_path: Path
) -> None:
    scrape, truth = poll_hand_built_walk(agents, tmp_path, "zd", ZD_WALK, zonedirector_truth)

    assert exported_clients_by_band(scrape) == {"2.4GHz": 12, "5GHz": 14}
    assert exported_clients_by_band(scrape) == truth.clients_by_band()
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
    scrape, _ = poll_hand_built_walk(agents, tmp_path, "sz", SZ_WALK, smartzone_truth)

    # AP :23 has no byte counters yet: no series, two gaps counted.
    assert scrape.optional("wifimon_ap_receive_bytes_total", ap="00005e005323") is None
    assert scrape.value("wifimon_target_missing_values_total", target="sz") == 2
    assert radio_series(scrape) == []
