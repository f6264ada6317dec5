"""`wifimon run` against Aruba agents over real UDP, end to end.

One snmpsim process on 127.0.0.1 serves the three real Aruba controller
recordings of snmpsim-data (the 7210 on ArubaOS 6.5 with most tables, and
the partial ArubaOS 8.3 walks of a 7010 and a "7020") and the hand-built
Aruba Instant virtual controller walk of tests/devices/aruba-instant-ap515;
the community selects the agent. Two ``wifimon run`` child processes poll
them (the 7210 and the 7010/7020 share APs, so they are never polled by one
daemon) and are scraped over HTTP as Prometheus would. Every number is
compared with tests/support/aruba_truth.py, which reads the raw walk files
with code of its own.
"""

from __future__ import annotations

import json
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.agents import CACHE_DIR, REPO_ROOT, decompressed_recording, run_snmpsim
from tests.support.aruba_truth import controller_truth, instant_truth
from tests.support.daemon import Scrape, running_daemon, write_config
from tests.support.e2e_compare import (
    RADIO_QUANTITIES,
    ControllerTruth,
    ExportedAps,
    compare_aps,
    controllers_config,
    exported_clients_by_band,
    poll_settings,
)

pytestmark = pytest.mark.e2e

RECORDINGS = {
    "aruba-7210": "network/wifi/aruba-7210",
    "aruba-7010": "network/wifi/aruba-7010",
    "aruba-7020": "network/wifi/aruba-7020",
}
INSTANT = "aruba-instant"
INSTANT_CASE = REPO_ROOT / "tests" / "devices" / "aruba-instant-ap515"
INSTANT_DIR = CACHE_DIR / "data" / "wifimon-e2e-aruba-instant"
INSTANT_COMMUNITY = "aruba-instant-ap515"
GOLDEN_CASES = {
    "aruba-7010": REPO_ROOT / "tests" / "devices" / "aruba-controller-7010-partial",
    "aruba-7020": REPO_ROOT / "tests" / "devices" / "aruba-controller-7020-partial",
}
# Two daemons: the 7210 and the 7010/7020 recordings list some of the same APs.
DAEMONS = (("aruba-7210", INSTANT), ("aruba-7010", "aruba-7020"))
SITE, DISTRICT = "old-town", "Centre"
VENDOR = "Aruba"


@dataclass(frozen=True)
class Agent:
    """One agent snmpsim serves: its community and what it must yield."""

    community: str
    truth: ControllerTruth


@dataclass(frozen=True)
class Polled:
    """Every agent, and the scrape of the daemon that polled it."""

    agents: dict[str, Agent]
    scrapes: dict[str, Scrape]


def _staged_instant_walk() -> Path:
    """Copy the hand-built walk to a stable data dir (so snmpsim's index in
    the shared cache is reused), only when its content changed."""
    source = INSTANT_CASE / "walk.snmprec"
    target = INSTANT_DIR / f"{INSTANT_COMMUNITY}.snmprec"
    if not target.exists() or target.read_bytes() != source.read_bytes():
        INSTANT_DIR.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(source, partial)
        partial.replace(target)
    return target


def _config(
    names: tuple[str, ...], agents: dict[str, Agent], host: str, port: int
) -> dict[str, object]:
    """Poll ``names`` once per 30 s (each test reads the first poll)."""
    communities = {name: agents[name].community for name in names}
    places = dict.fromkeys(names, (SITE, DISTRICT))
    return controllers_config(host, port, communities, places, poll_settings("30s", budget="28s"))


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Polled:
    """One poll of every agent; snmpsim and both daemons are stopped (by PID,
    the daemons must exit 0) before any test looks at the scrapes."""
    recordings = {name: decompressed_recording(path) for name, path in RECORDINGS.items()}
    agents = {
        name: Agent(
            recording.community,
            controller_truth(recording.data_dir / f"{recording.community}.snmprec"),
        )
        for name, recording in recordings.items()
    }
    agents[INSTANT] = Agent(INSTANT_COMMUNITY, instant_truth(_staged_instant_walk()))
    first, *others = [recording.data_dir for recording in recordings.values()]
    extra = [f"--data-dir={folder}" for folder in (*others, INSTANT_DIR)]
    log_dir = tmp_path_factory.mktemp("snmpsim")
    probe = recordings["aruba-7210"].community
    scrapes: dict[str, Scrape] = {}
    with run_snmpsim(first, log_dir, probe, extra_args=extra) as (host, port), ExitStack() as stack:
        daemons = []
        for names in DAEMONS:
            folder = tmp_path_factory.mktemp("wifimon")
            config = write_config(folder, _config(names, agents, host, port))
            daemons.append((names, stack.enter_context(running_daemon(config))))
        for names, daemon in daemons:
            daemon.wait_generation(1)
            scrapes.update(dict.fromkeys(names, daemon.scrape()))
    return Polled(agents, scrapes)


def assert_controller_matches(polled: Polled, controller: str) -> Scrape:
    """Everything the profile exports for ``controller`` equals its truth."""
    scrape, truth = polled.scrapes[controller], polled.agents[controller].truth
    assert scrape.value("wifimon_target_up", target=controller) == 1
    exported = ExportedAps(scrape)
    assert exported.macs(controller=controller) == set(truth.aps)
    up = truth.up_count
    assert scrape.value("wifimon_controller_aps", controller=controller, state="up") == up
    down = len(truth.aps) - up
    assert scrape.value("wifimon_controller_aps", controller=controller, state="down") == down
    expected_bands = {band: float(n) for band, n in truth.clients_by_band().items()}
    ids = {mac.replace(":", "") for mac in truth.aps}
    assert exported_clients_by_band(scrape, ids) == expected_bands
    labels = {"site": SITE, "district": DISTRICT, "vendor": VENDOR, "controller": controller}
    compare_aps(exported, truth.aps.values(), labels, source="walk").assert_none()
    return scrape


# --- the tests ----------------------------------------------------------------


def test_the_7210_recording_is_exported_exactly(polled: Polled) -> None:
    truth = polled.agents["aruba-7210"].truth
    # Guard the oracle: 13 APs, 9 up, 16 radios in service, clients on both bands.
    assert (len(truth.aps), truth.up_count) == (13, 9)
    radios = [radio for ap in truth.aps.values() for radio in ap.radios.values()]
    assert len(radios) == 16
    for quantity in RADIO_QUANTITIES:
        assert all(getattr(radio, quantity) is not None for radio in radios), quantity
    assert truth.clients_by_band() == {"5GHz": 63, "2.4GHz": 6}

    scrape = assert_controller_matches(polled, "aruba-7210")

    # Quirks, as the daemon exports them: half-dBm power, positive noise, and
    # the radio out of service (a channel-statistics row only) never a radio.
    powers = {s.value for s in scrape.series("wifimon_radio_tx_power_dbm")}
    assert 22.5 in powers
    noise = [s.value for s in scrape.series("wifimon_radio_noise_floor_dbm")]
    assert noise
    assert all(-100 < value < -80 for value in noise)
    ids = {mac.replace(":", "") for mac in truth.aps}
    assert len([s for s in scrape.series("wifimon_radio_channel") if s.labels["ap"] in ids]) == 16
    # The gaps: clients and uplink traffic of the four down APs (no radio, no wired row).
    assert scrape.value("wifimon_target_missing_values_total", target="aruba-7210") == 12


def test_partial_8_3_walks_export_what_is_known_and_count_the_gaps(polled: Polled) -> None:
    for controller, case in GOLDEN_CASES.items():
        scrape = assert_controller_matches(polled, controller)
        truth = polled.agents[controller].truth
        ids = {mac.replace(":", "") for mac in truth.aps}
        # Known: identity, state, channels, 64-bit per-BSSID traffic summed per radio.
        channels = [s for s in scrape.series("wifimon_radio_channel") if s.labels["ap"] in ids]
        assert channels
        traffic = scrape.series("wifimon_radio_transmit_bytes_total")
        assert any(s.value > 0 for s in traffic if s.labels["ap"] in ids)
        # Unknown: no invented zeros for what the walk lacks ...
        for metric in ("wifimon_ap_uptime_seconds", "wifimon_ap_clients", "wifimon_ssid_clients"):
            assert not [s for s in scrape.series(metric) if s.labels["ap"] in ids], metric
        # ... and the gaps are counted, the same number as the golden case's.
        expected = json.loads((case / "expected.json").read_text())["missing"]
        assert expected > 0
        gaps = scrape.value("wifimon_target_missing_values_total", target=controller)
        assert gaps == expected


def test_instant_virtual_controller_is_exported_exactly(polled: Polled) -> None:
    truth = polled.agents[INSTANT].truth
    assert set(truth.aps) == {f"00:00:5e:00:53:{n}" for n in ("11", "12", "13")}
    assert truth.up_count == 2
    assert truth.clients_by_band() == {"5GHz": 35, "2.4GHz": 11}

    scrape = assert_controller_matches(polled, INSTANT)

    # "36E" and "52+" became channels 36 and 52; the members' radios report
    # no traffic (the conductor only counts its own), so none is exported.
    channels = {s.value for s in scrape.series("wifimon_radio_channel")}
    assert {36.0, 52.0} <= channels
    member = {"ap": "00005e005312"}
    assert scrape.series("wifimon_radio_channel", **member)
    assert not scrape.series("wifimon_radio_receive_bytes_total", **member)
    assert scrape.value("wifimon_target_missing_values_total", target=INSTANT) == 5
