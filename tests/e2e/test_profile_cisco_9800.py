"""`wifimon poll` against the hand-made Catalyst 9800 walk served by snmpsim.

The walk (tests/devices/cisco-catalyst-9800-c9800-40/walk.snmprec, see its
case.yaml) is served over real UDP on 127.0.0.1; wifimon runs as a child
process with profile ``auto``, so detection, the transport and the profile
are all exercised. The expected numbers are the walk's own, spelled out
below with the arithmetic that makes them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.agents import REPO_ROOT, run_snmpsim
from tests.support.daemon import write_config
from tests.support.e2e_compare import poll_json

pytestmark = pytest.mark.e2e

WALK = REPO_ROOT / "tests" / "devices" / "cisco-catalyst-9800-c9800-40" / "walk.snmprec"
COMMUNITY = "c9800-40"
COMMUNITY_ENV = "WIFIMON_E2E_9800_COMMUNITY"
CONTROLLER = "wlc-9800"


@dataclass(frozen=True)
class PollResult:
    rows: list[dict[str, Any]]

    def values(self, metric: str, **labels: str) -> list[float]:
        return [
            row["value"]
            for row in self.rows
            if row["metric"] == metric
            and all(row["labels"].get(key) == value for key, value in labels.items())
        ]

    def value(self, metric: str, **labels: str) -> float:
        found = self.values(metric, **labels)
        assert len(found) == 1, f"{len(found)} samples of {metric}{labels}"
        return found[0]

    def ap_of(self, name: str) -> str:
        """The ``ap`` label of the AP the controller calls ``name``."""
        (info,) = [
            row["labels"]
            for row in self.rows
            if row["metric"] == "wifimon_ap_info" and row["labels"]["name"] == name
        ]
        return str(info["ap"])

    def info(self, name: str) -> dict[str, str]:
        return next(
            row["labels"]
            for row in self.rows
            if row["metric"] == "wifimon_ap_info" and row["labels"]["name"] == name
        )


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> PollResult:
    """One `wifimon poll --format json` of the walk, served by snmpsim."""
    directory = tmp_path_factory.mktemp("c9800")
    data_dir = directory / "data"
    data_dir.mkdir()
    shutil.copy(WALK, data_dir / f"{COMMUNITY}.snmprec")  # the community names the file
    with run_snmpsim(data_dir, directory, COMMUNITY, cache_dir=directory / "index") as (host, port):
        config = write_config(
            directory,
            {
                "poll": {"interval": "30s", "timeout": "2s", "retries": 1},
                "credentials": {"lab": {"version": "2c", "community": "${" + COMMUNITY_ENV + "}"}},
                "controllers": [
                    {"name": CONTROLLER, "host": host, "port": port, "credentials": "lab"}
                ],
            },
        )
        rows = poll_json(config, {COMMUNITY_ENV: COMMUNITY}, timeout=120)
    return PollResult(rows)


def test_the_controller_is_detected_as_a_9800_with_its_four_aps(polled: PollResult) -> None:
    assert polled.value("wifimon_target_up", target=CONTROLLER) == 1
    assert polled.value("wifimon_controller_aps", controller=CONTROLLER, state="up") == 4
    infos = [row["labels"] for row in polled.rows if row["metric"] == "wifimon_ap_info"]
    assert {info["vendor"] for info in infos} == {"Cisco"}
    assert sorted(info["name"] for info in infos) == [
        "MUSEUM-03",
        "PARK-NORTH-01",
        "SQUARE-04",
        "STATION-HALL-02",
    ]


def test_identity_comes_from_cisco_lwapp_and_bsnap_tables(polled: PollResult) -> None:
    info = polled.info("MUSEUM-03")
    assert info["mac"] == "00:00:5e:00:53:30"  # the cLApTable index
    assert (info["model"], info["serial"], info["ip"]) == ("CW9166I-E", "DOC2301A003", "192.0.2.13")
    assert info["firmware"] == "17.9.4.27"
    assert info["controller"] == CONTROLLER


def test_every_ap_of_the_lwapp_ap_table_is_up_with_uptime_and_clients(polled: PollResult) -> None:
    # cLApAssociatedClientCount and cLApUpTime (ticks / 100)
    expected = {
        "PARK-NORTH-01": (13, 8_640_000),
        "STATION-HALL-02": (26, 17_280_000),
        "MUSEUM-03": (13, 259_200),
        "SQUARE-04": (0, 3_600),
    }
    for name, (clients, uptime) in expected.items():
        ap = polled.ap_of(name)
        assert polled.value("wifimon_ap_up", ap=ap) == 1
        assert polled.value("wifimon_ap_clients", ap=ap) == clients, name
        assert polled.value("wifimon_ap_uptime_seconds", ap=ap) == uptime, name


def test_radios_come_from_the_lwapp_dot11_table_with_their_bands(polled: PollResult) -> None:
    bands = {
        name: sorted(
            (row["labels"]["radio"], row["labels"]["band"])
            for row in polled.rows
            if row["metric"] == "wifimon_radio_clients"
            and row["labels"]["ap"] == polled.ap_of(name)
        )
        for name in ("PARK-NORTH-01", "STATION-HALL-02", "MUSEUM-03", "SQUARE-04")
    }
    assert bands == {
        "PARK-NORTH-01": [("0", "2.4GHz"), ("1", "5GHz")],
        "STATION-HALL-02": [("0", "2.4GHz"), ("1", "5GHz"), ("2", "5GHz")],
        # slot 2 is dot11-xor-5-6ghz(7); cLApDot11XorRadioBand says 6G(3)
        "MUSEUM-03": [("0", "2.4GHz"), ("1", "5GHz"), ("2", "6GHz")],
        "SQUARE-04": [("0", "2.4GHz"), ("1", "5GHz")],
    }


def test_radio_clients_are_per_slot_even_with_two_5ghz_radios(polled: PollResult) -> None:
    hall = polled.ap_of("STATION-HALL-02")
    # slot 1 serves 10 + 3 clients on two WLANs, slot 2 serves 8: summing
    # cLApWlanStats by radio type would have given both 5 GHz radios 21.
    assert polled.value("wifimon_radio_clients", ap=hall, radio="1") == 13
    assert polled.value("wifimon_radio_clients", ap=hall, radio="2") == 8
    assert polled.value("wifimon_radio_transmit_bytes_total", ap=hall, radio="1") == 1_590_000_000


def test_channel_and_power_only_where_bsn_radio_tables_have_rows(polled: PollResult) -> None:
    park = polled.ap_of("PARK-NORTH-01")
    assert polled.value("wifimon_radio_channel", ap=park, radio="0") == 6
    assert polled.value("wifimon_radio_channel", ap=park, radio="1") == 36
    assert polled.value("wifimon_radio_tx_power_dbm", ap=park, radio="0") == 14  # level 3
    assert polled.value("wifimon_radio_noise_floor_dbm", ap=park, radio="0") == -88  # channel 6
    assert polled.value("wifimon_radio_channel_utilization_ratio", ap=park, radio="1") == 0.12
    # The known gap: the other three APs' eight radios have no bsnAPIf* rows,
    # so nothing is invented for them, and each absent value is counted.
    channels = [row for row in polled.rows if row["metric"] == "wifimon_radio_channel"]
    assert {row["labels"]["ap"] for row in channels} == {park}
    assert polled.value("wifimon_target_missing_values_total", target=CONTROLLER) == 8 * 7


def test_ssid_clients_come_from_lwapp_wlan_stats_and_wlan_config(
    polled: PollResult,
) -> None:
    museum = polled.ap_of("MUSEUM-03")
    assert polled.value("wifimon_ssid_clients", ap=museum, ssid="City-IoT") == 6
    # CityWiFi on three radio types (2 + 4 + 1), merged into one series
    assert polled.value("wifimon_ssid_clients", ap=museum, ssid="CityWiFi") == 7
    hall = polled.ap_of("STATION-HALL-02")
    assert polled.value("wifimon_ssid_clients", ap=hall, ssid="CityWiFi-Staff") == 3


def test_uplink_bytes_come_from_the_lwapp_ethernet_table(polled: PollResult) -> None:
    park = polled.ap_of("PARK-NORTH-01")
    assert polled.value("wifimon_ap_receive_bytes_total", ap=park) == 3_210_987_654
    assert polled.value("wifimon_ap_transmit_bytes_total", ap=park) == 1_234_567_890
