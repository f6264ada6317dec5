"""`wifimon run` against stand-alone APs of Ubiquiti, MikroTik and Linux, end to end.

One snmpsim on 127.0.0.1 serves the real NanoStation M5 recording of
snmpsim-data and the three hand-built walks of tests/devices (UniFi
UAP-AC-Pro, MikroTik hAP ac alone and as a CAPsMAN manager, a Linux AP
answering only standard MIBs), each under its own community. One real
`wifimon run` polls the five as access points with `profile: auto`, so the
sysObjectID/sysDescr detection is part of
the test, and its /metrics page is compared exactly with
tests/support/vendor_truth.py, which reads the walks with code of its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.agents import decompressed_recording, run_snmpsim
from tests.support.daemon import Scrape
from tests.support.e2e_compare import (
    ApTruth,
    Differences,
    ExportedAps,
    compare_ap,
    first_scrape,
    poll_settings,
)
from tests.support.vendor_truth import airmax_truth, generic_truth, mikrotik_truth, unifi_truth
from wifimon.profiles.registry import default_registry
from wifimon.snmp.types import parse_oid

pytestmark = pytest.mark.e2e

DEVICES = Path(__file__).resolve().parents[1] / "devices"
M5 = "network/wifi/ubiquiti-m5"


@dataclass(frozen=True)
class Device:
    """One AP of the test: its inventory id, community, truth and vendor."""

    ap: str
    community: str
    walk: Path
    read_truth: Callable[[Path], ApTruth]
    vendor: str
    site: str


HAND_BUILT = {
    "unifi-library": ("ubiquiti-unifi-uap-ac-pro", unifi_truth, "Ubiquiti", "library"),
    "mikrotik-harbour": ("mikrotik-hap-ac", mikrotik_truth, "MikroTik", "harbour"),
    "mikrotik-capsman": ("mikrotik-hap-ac-capsman", mikrotik_truth, "MikroTik", "harbour"),
    "linux-bench": ("generic-linux-ap", generic_truth, "generic", "bench"),
}


@dataclass(frozen=True)
class Polled:
    scrape: Scrape
    exported: ExportedAps
    devices: dict[str, Device]

    def info(self, ap: str) -> dict[str, str]:
        found = [s for s in self.exported.info.values() if s.labels["ap"] == ap]
        assert len(found) == 1, f"{len(found)} wifimon_ap_info series for {ap}"
        return dict(found[0].labels)


def _devices(walks: Path) -> dict[str, Device]:
    m5 = decompressed_recording(M5)
    devices = {
        "airmax-m5": Device(
            "airmax-m5",
            m5.community,
            m5.data_dir / f"{M5}.snmprec",
            airmax_truth,
            "Ubiquiti",
            "river",
        )
    }
    for ap, (case, read_truth, vendor, site) in HAND_BUILT.items():
        # The community is the file name: snmpsim serves <data dir>/<community>.snmprec.
        walk = walks / f"{case}.snmprec"
        shutil.copyfile(DEVICES / case / "walk.snmprec", walk)
        devices[ap] = Device(ap, case, walk, read_truth, vendor, site)
    return devices


def _config(host: str, port: int, devices: dict[str, Device]) -> dict[str, object]:
    return {
        "poll": poll_settings("300s"),
        "credentials": {
            ap: {"version": "2c", "community": device.community} for ap, device in devices.items()
        },
        "access_points": [
            {
                "ap": ap,
                "host": host,
                "port": port,
                "credentials": ap,
                "profile": "auto",
                "site": device.site,
                "district": "Test",
            }
            for ap, device in devices.items()
        ],
    }


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Polled:
    walks = tmp_path_factory.mktemp("walks")
    devices = _devices(walks)
    m5 = decompressed_recording(M5)
    logs = tmp_path_factory.mktemp("snmpsim-aps")
    # A private index: the copied walks live in a temporary folder.
    index = tmp_path_factory.mktemp("snmpsim-index")
    extra = [f"--data-dir={walks}"]
    with run_snmpsim(m5.data_dir, logs, m5.community, extra, cache_dir=index) as (host, port):
        scrape = first_scrape(tmp_path_factory.mktemp("wifimon"), _config(host, port, devices))
    return Polled(scrape, ExportedAps(scrape), devices)


@pytest.mark.parametrize("ap", ["airmax-m5", *HAND_BUILT])
def test_each_ap_is_exported_as_its_walk_says(polled: Polled, ap: str) -> None:
    device = polled.devices[ap]
    truth = device.read_truth(device.walk)
    assert polled.scrape.value("wifimon_target_up", target=ap) == 1
    info = polled.exported.info[truth.mac]
    assert info.labels["ap"] == ap
    labels = {"vendor": device.vendor, "controller": "", "site": device.site, "district": "Test"}
    out = Differences()
    compare_ap(polled.exported, truth, labels, out)
    out.assert_none()
    assert polled.scrape.value("wifimon_ap_up", ap=ap) == 1


def test_airmax_radio_comes_from_the_frequency_and_the_index_column(polled: Polled) -> None:
    """ubntRadioFreq 5860 MHz is channel 172 at 5 GHz; the radio row is
    indexed 1, but its not-accessible index column says 5, the ifIndex of
    ath0, whose IF-MIB bytes are the radio's."""
    exported = polled.exported
    assert exported.radios("airmax-m5") == {"1"}
    labels = {"radio": "1", "band": "5GHz"}
    assert exported.value("wifimon_radio_channel", "airmax-m5", **labels) == 172
    assert exported.value("wifimon_radio_tx_power_dbm", "airmax-m5", **labels) == 27
    assert exported.value("wifimon_radio_receive_bytes_total", "airmax-m5", **labels) == (
        676838716  # ifInOctets.5 (ath0)
    )
    assert polled.info("airmax-m5")["model"] == "NanoStation M5"
    assert exported.value("wifimon_radio_channel_utilization_ratio", "airmax-m5", **labels) is None


def test_unifi_radios_are_its_vaps_grouped_by_radio_code(polled: Polled) -> None:
    """Two SSIDs per radio: clients, bytes and retries are summed per radio
    code; the 32-bit VAP byte counters of one radio add up past 2^32."""
    exported = polled.exported
    assert exported.radios("unifi-library") == {"ng", "na"}
    ng = {"radio": "ng", "band": "2.4GHz"}
    na = {"radio": "na", "band": "5GHz"}
    assert exported.value("wifimon_radio_clients", "unifi-library", **ng) == 14 + 5
    assert exported.value("wifimon_radio_clients", "unifi-library", **na) == 23 + 9
    received = exported.value("wifimon_radio_receive_bytes_total", "unifi-library", **na)
    assert received is not None
    assert received > 2**32
    assert exported.ssid_clients("unifi-library") == {"CityNet": 37, "CityNet-Guest": 14}
    assert exported.value("wifimon_ap_clients", "unifi-library") == 51


def test_mikrotik_counts_typed_counter32_are_exported_as_gauges(polled: Polled) -> None:
    """mtxrWlApClientCount is a Counter32 in the MIB but a count: exported as
    is (no counter treatment), and the AP's clients are its radios' sum."""
    scrape, exported = polled.scrape, polled.exported
    assert "# TYPE wifimon_radio_clients gauge" in scrape.text
    assert (
        exported.value("wifimon_radio_clients", "mikrotik-harbour", radio="7", band="2.4GHz") == 12
    )
    assert exported.value("wifimon_radio_clients", "mikrotik-harbour", radio="8", band="5GHz") == 21
    assert exported.value("wifimon_ap_clients", "mikrotik-harbour") == 33
    assert exported.value("wifimon_radio_channel", "mikrotik-harbour", radio="8", band="5GHz") == 36
    for absent in ("tx_power_dbm", "channel_utilization_ratio", "retries_total"):
        assert not [
            s
            for s in scrape.series(f"wifimon_radio_{absent}")
            if s.labels["ap"] == "mikrotik-harbour"
        ]
    assert polled.info("mikrotik-harbour")["firmware"] == "6.49.10"  # RouterOS, not RouterBOOT


def test_the_linux_ap_uplink_is_eth0_not_the_bridge(polled: Polled) -> None:
    """br-lan is also typed ethernetCsmacd: the uplink is the first such
    interface, eth0, and both radios come from the 802.11 PHY tables."""
    exported = polled.exported
    assert polled.info("linux-bench")["mac"] == "00:00:5e:00:53:10"
    assert exported.value("wifimon_ap_receive_bytes_total", "linux-bench") == 912345678901
    assert exported.radios("linux-bench") == {"3", "4"}
    assert exported.value("wifimon_radio_channel", "linux-bench", radio="4", band="5GHz") == 36


def test_every_poll_is_fast(polled: Polled) -> None:
    for ap in polled.devices:
        took = polled.scrape.value("wifimon_target_poll_duration_seconds", target=ap)
        assert 0 < took < 5


def test_a_capsman_cap_counts_under_its_manager(polled: Polled) -> None:
    """mtxrWlCMTable row of cap1: 7 clients; its channel is the text
    "5180/20-Ceee/ac(17dBm)", whose leading frequency gives band and channel.
    The manager's AP clients are its local radios' and the CAP's."""
    exported = polled.exported
    assert exported.radios("mikrotik-capsman") == {"7", "8", "10"}
    cap = {"radio": "10", "band": "5GHz"}
    assert exported.value("wifimon_radio_clients", "mikrotik-capsman", **cap) == 7
    assert exported.value("wifimon_radio_channel", "mikrotik-capsman", **cap) == 36
    assert exported.value("wifimon_radio_noise_floor_dbm", "mikrotik-capsman", **cap) is None
    assert exported.value("wifimon_ap_clients", "mikrotik-capsman") == 12 + 21 + 7
    assert exported.ssid_clients("mikrotik-capsman") == {"CityNet": 33}  # CAPs name no SSID


@pytest.mark.parametrize(
    ("sys_object_id", "sys_descr", "profile"),
    [
        ("1.3.6.1.4.1.41112.1.4", "Linux 2.6.32.61 #1 Wed May 21 mips", "ubiquiti-airmax"),
        ("1.3.6.1.4.1.10002.1", "Linux 2.6.32.68 #1 Fri Jan 15 mips", "ubiquiti-airmax"),
        ("1.3.6.1.4.1.8072.3.2.10", "UAP-AC-Pro-Gen2 6.5.62.14789", "ubiquiti-unifi"),
        ("1.3.6.1.4.1.41112", "U6-Lite 6.6.55.15189", "ubiquiti-unifi"),
        ("1.3.6.1.4.1.10002.1", "UAP-AC-LR 4.3.28.11361", "ubiquiti-unifi"),
        ("1.3.6.1.4.1.8072.3.2.10", "Linux bench-ap-1 5.15.134 #0 SMP mips", "generic"),
        ("1.3.6.1.4.1.14988.1", "RouterOS RB962UiGS-5HacT2HnT", "mikrotik"),
    ],
)
def test_detection_tells_airmax_unifi_and_plain_linux_apart(
    sys_object_id: str, sys_descr: str, profile: str
) -> None:
    chosen = default_registry().select(parse_oid(sys_object_id), sys_descr)
    assert chosen is not None
    assert chosen.name == profile
