"""What wifimon must export for Aruba agents, computed from the raw walk file.

The end-to-end tests' independent oracle for the ``aruba-controller`` and
``aruba-instant`` profiles: it reads the ``.snmprec`` text itself and applies
the rules of ../shared/reference/wifi-mibs.md §4 with plain code of its own
(and tests/support/raw_snmprec.py to read the lines). It shares nothing with
wifimon (no profile, no evaluator, no transport), so a mistake in the
profiles or in the profile language shows up as a difference.

Row indexes are the AP's MAC as six sub-identifiers, then the radio number,
then (per-BSSID tables) the BSSID.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from tests.support.e2e_compare import ApTruth, ControllerTruth, RadioTruth
from tests.support.raw_snmprec import (
    Index,
    Table,
    Value,
    ipv4,
    mac_text,
    number,
    read_columns,
    rows_under,
    text,
    total,
)
from tests.support.vendor_truth import band_of_channel

WLAN = "1.3.6.1.4.1.14823.2.2.1.5"  # WLSX-WLAN-MIB
AP_ENTRY = f"{WLAN}.2.1.4.1"  # wlsxWlanAPEntry
RADIO_ENTRY = f"{WLAN}.2.1.5.1"  # wlsxWlanRadioEntry
BSSID_ENTRY = f"{WLAN}.2.1.7.1"  # wlsxWlanAPBssidEntry
BSSID_STATS = f"{WLAN}.3.1.1.1"  # wlsxWlanAPStatsEntry
CHANNEL_STATS = f"{WLAN}.3.1.6.1"  # wlsxWlanAPChStatsEntry
WIRED = f"{WLAN}.3.1.7.1"  # wlsxWlanAPWiredStatsEntry
RADIO_STATS = f"{WLAN}.3.1.9.1"  # wlsxWlanAPRadioStatsEntry
WIRED_PORT = f"{WLAN}.3.1.10.1"  # wlsxWlanAPWiredPortStatsEntry

CONTROLLER_COLUMNS = {
    "ap_ip": f"{AP_ENTRY}.2",
    "ap_name": f"{AP_ENTRY}.3",
    "ap_serial": f"{AP_ENTRY}.6",
    "ap_uptime": f"{AP_ENTRY}.12",
    "ap_model": f"{AP_ENTRY}.13",
    "ap_status": f"{AP_ENTRY}.19",
    "ap_firmware": f"{AP_ENTRY}.34",
    "radio_type": f"{RADIO_ENTRY}.2",
    "radio_channel": f"{RADIO_ENTRY}.3",
    "radio_power_half_dbm": f"{RADIO_ENTRY}.4",
    "radio_clients": f"{RADIO_ENTRY}.7",
    "radio_power_tenth_dbm": f"{RADIO_ENTRY}.17",
    "essid": f"{BSSID_ENTRY}.2",
    "bssid_clients": f"{BSSID_ENTRY}.12",
    "bssid_rx64": f"{BSSID_STATS}.23",
    "bssid_tx64": f"{BSSID_STATS}.25",
    "noise": f"{CHANNEL_STATS}.9",
    "failed": f"{CHANNEL_STATS}.23",
    "retries": f"{CHANNEL_STATS}.24",
    "busy_percent": f"{CHANNEL_STATS}.37",
    "wired_rx": f"{WIRED}.3",
    "wired_tx": f"{WIRED}.4",
    "radio_rx": f"{RADIO_STATS}.2",
    "radio_tx": f"{RADIO_STATS}.4",
    "port_rx": f"{WIRED_PORT}.6",
    "port_tx": f"{WIRED_PORT}.10",
}

AI = "1.3.6.1.4.1.14823.2.3.3.1"  # AI-AP-MIB
INSTANT_COLUMNS = {
    "version": f"{AI}.1.4",  # aiVirtualControllerVersion (scalar: index 0)
    "ap_name": f"{AI}.2.1.1.2",
    "ap_ip": f"{AI}.2.1.1.3",
    "ap_serial": f"{AI}.2.1.1.4",
    "ap_model": f"{AI}.2.1.1.6",
    "ap_uptime": f"{AI}.2.1.1.9",
    "ap_status": f"{AI}.2.1.1.11",
    "radio_channel": f"{AI}.2.2.1.4",
    "radio_power": f"{AI}.2.2.1.5",
    "noise": f"{AI}.2.2.1.6",
    "busy_percent": f"{AI}.2.2.1.8",
    "radio_tx": f"{AI}.2.2.1.12",
    "radio_rx": f"{AI}.2.2.1.16",
    "radio_clients": f"{AI}.2.2.1.21",
}

# The columns of each radio table: a row in any of them is a radio.
CONTROLLER_RADIO_TABLE = (
    "radio_type",
    "radio_channel",
    "radio_power_half_dbm",
    "radio_clients",
    "radio_power_tenth_dbm",
)
INSTANT_RADIO_TABLE = tuple(
    name for name in INSTANT_COLUMNS if name.startswith(("radio_", "noise", "busy"))
)

UP = 1  # wlanAPStatus / aiAPStatus up(1)
BAND_OF_PHY = {1: "5GHz", 2: "2.4GHz", 3: "2.4GHz"}  # ArubaPhyType dot11a/b/g
CHANNELS_24 = set(range(1, 15))
CHANNELS_5 = {*range(36, 65, 4), *range(100, 145, 4), *range(149, 178, 4)}
# aiRadioChannel text: primary channel, then Aruba's width suffix.
INSTANT_CHANNEL_TEXT = re.compile(r"(\d+)[-+ES]?")


def _scaled(value: Value | None, factor: float) -> float | None:
    return value * factor if isinstance(value, int) else None


# --- ArubaOS controllers ------------------------------------------------------


def _controller_radio(data: dict[str, Table], index: Index) -> RadioTruth:
    phy = number(data["radio_type"].get(index))
    channel = number(data["radio_channel"].get(index))
    tenth = number(data["radio_power_tenth_dbm"].get(index))
    half = number(data["radio_power_half_dbm"].get(index))
    noise = number(data["noise"].get(index))
    rx = number(data["radio_rx"].get(index))
    tx = number(data["radio_tx"].get(index))
    return RadioTruth(
        slot=str(index[6]),
        band=BAND_OF_PHY.get(phy or 0) or band_of_channel(channel),
        clients=number(data["radio_clients"].get(index)),
        channel=channel,
        tx_power_dbm=tenth / 10 if tenth is not None else _scaled(half, 0.5),
        noise_floor_dbm=None if noise is None else -noise,
        channel_utilization_ratio=_scaled(data["busy_percent"].get(index), 0.01),
        retries_total=number(data["retries"].get(index)),
        failures_total=number(data["failed"].get(index)),
        receive_bytes_total=rx if rx is not None else total(rows_under(data["bssid_rx64"], index)),
        transmit_bytes_total=tx if tx is not None else total(rows_under(data["bssid_tx64"], index)),
    )


def _ssid_clients(data: dict[str, Table], mac: Index) -> dict[str, int]:
    clients: dict[str, int] = defaultdict(int)
    for index, essid in data["essid"].items():
        count = number(data["bssid_clients"].get(index))
        if index[:6] == mac and count is not None:
            clients[text(essid)] += count
    return dict(clients)


def _uplink(data: dict[str, Table], mac: Index, direction: str) -> int | None:
    ports = total(rows_under(data[f"port_{direction}"], mac))
    return ports if ports is not None else number(data[f"wired_{direction}"].get(mac))


def _radio_rows(data: dict[str, Table], columns: Iterable[str], mac: Index) -> list[Index]:
    """A radio exists when any column of the radio table has a row for it."""
    rows = {index for column in columns for index in data[column] if index[:6] == mac}
    return sorted(rows)


def _ap(  # noqa: PLR0917 - what the two MIBs give differently
    data: dict[str, Table],
    mac: Index,
    radios: Iterable[RadioTruth],
    firmware: Value | None,
    uplink: tuple[int | None, int | None],
    ssid_clients: dict[str, int],
) -> ApTruth:
    """The AP columns both MIBs name alike (the AI-AP-MIB copied WLSX's names)."""
    return ApTruth(
        mac=mac_text(mac),
        name=text(data["ap_name"].get(mac)),
        up=data["ap_status"].get(mac) == UP,
        model=text(data["ap_model"].get(mac)),
        serial=text(data["ap_serial"].get(mac)),
        firmware=text(firmware),
        ip=ipv4(data["ap_ip"].get(mac)),
        uptime_seconds=_scaled(data["ap_uptime"].get(mac), 0.01),
        clients=total(rows_under(data["radio_clients"], mac)),
        receive_bytes_total=uplink[0],
        transmit_bytes_total=uplink[1],
        radios={radio.slot: radio for radio in radios},
        ssid_clients=ssid_clients,
    )


def _controller_ap(data: dict[str, Table], mac: Index) -> ApTruth:
    rows = _radio_rows(data, CONTROLLER_RADIO_TABLE, mac)
    radios = [_controller_radio(data, index) for index in rows]
    uplink = (_uplink(data, mac, "rx"), _uplink(data, mac, "tx"))
    firmware = data["ap_firmware"].get(mac)
    return _ap(data, mac, radios, firmware, uplink, _ssid_clients(data, mac))


def controller_truth(path: Path) -> ControllerTruth:
    """Every AP of a decompressed ArubaOS controller recording, keyed by MAC."""
    data = read_columns(path, CONTROLLER_COLUMNS)
    aps = (_controller_ap(data, mac) for mac in data["ap_status"])
    return ControllerTruth({ap.mac: ap for ap in aps})


# --- Aruba Instant virtual controllers ---------------------------------------


def instant_channel(value: Value | None) -> int | None:
    """Text "36E"/"52+"/"6" -> its primary channel if it is a 2.4 or 5 GHz
    one; an integer carries the primary channel in its low byte."""
    if isinstance(value, int):
        return value & 0xFF
    match = INSTANT_CHANNEL_TEXT.fullmatch(text(value))
    channel = int(match.group(1)) if match else None
    return channel if channel in CHANNELS_24 | CHANNELS_5 else None


def _instant_radio(data: dict[str, Table], index: Index) -> RadioTruth:
    channel = instant_channel(data["radio_channel"].get(index))
    noise = number(data["noise"].get(index))
    return RadioTruth(
        slot=str(index[6]),
        band=band_of_channel(channel),
        clients=number(data["radio_clients"].get(index)),
        channel=channel,
        tx_power_dbm=number(data["radio_power"].get(index)),
        noise_floor_dbm=None if noise is None else -noise,
        channel_utilization_ratio=_scaled(data["busy_percent"].get(index), 0.01),
        retries_total=None,  # AI-AP-MIB has no 802.11 retry/failure counters
        failures_total=None,
        receive_bytes_total=number(data["radio_rx"].get(index)),
        transmit_bytes_total=number(data["radio_tx"].get(index)),
    )


def _instant_ap(data: dict[str, Table], mac: Index) -> ApTruth:
    rows = _radio_rows(data, INSTANT_RADIO_TABLE, mac)
    radios = [_instant_radio(data, index) for index in rows]
    # The conductor's version; no wired-side counters and no SSID clients in AI-AP-MIB.
    return _ap(data, mac, radios, data["version"].get((0,)), (None, None), {})


def instant_truth(path: Path) -> ControllerTruth:
    """Every AP of an Aruba Instant virtual controller walk, keyed by MAC."""
    data = read_columns(path, INSTANT_COLUMNS)
    aps = (_instant_ap(data, mac) for mac in data["ap_status"])
    return ControllerTruth({ap.mac: ap for ap in aps})
