"""What wifimon must export for Huawei, Ubiquiti, MikroTik and generic agents,
computed from the raw ``.snmprec`` file.

The end-to-end tests' independent oracle for the ``huawei-ac``,
``ubiquiti-airmax``, ``ubiquiti-unifi``, ``mikrotik`` and ``generic``
profiles: it reads the recording's text itself (tests/support/raw_snmprec.py)
and applies each vendor's rules (../shared/reference/wifi-mibs.md §2, §6, §7,
§8 and the MIB texts the profiles cite) with a few lines of plain code,
sharing nothing with wifimon (no profile, no evaluator, no transport). Its
records are tests/support/e2e_compare.py's, so every test compares the same
fields the same way.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from tests.support.e2e_compare import ApTruth, ControllerTruth, RadioTruth
from tests.support.raw_snmprec import (
    Index,
    Table,
    Value,
    hundredths,
    ipv4,
    mac_text,
    number,
    read_columns,
    text,
    total,
)

IF_ENTRY = "1.3.6.1.2.1.2.2.1"  # IF-MIB ifEntry
IFX_ENTRY = "1.3.6.1.2.1.31.1.1.1"  # IF-MIB ifXEntry
SYSTEM = "1.3.6.1.2.1.1"  # SNMPv2-MIB system group
ETHERNET_CSMACD = 6  # IANAifType ethernetCsmacd
IF_COLUMNS = {
    "if_type": f"{IF_ENTRY}.3",
    "if_mac": f"{IF_ENTRY}.6",
    "if_in": f"{IF_ENTRY}.10",
    "if_out": f"{IF_ENTRY}.16",
    "if_hc_in": f"{IFX_ENTRY}.6",
    "if_hc_out": f"{IFX_ENTRY}.10",
    "sys_uptime": f"{SYSTEM}.3",
    "sys_name": f"{SYSTEM}.5",
}
ALL_ONES_MAC = b"\xff" * 6  # Huawei: an AP added by serial number that never joined
ALL_ONES_IP = b"\xff" * 4  # Huawei: the address of an AP that is not up


# --- small decoders -------------------------------------------------------------


def mac(value: Value | Index | None) -> str:
    """Six bytes, or an index of six sub-ids, as a MAC; anything else: ""."""
    return mac_text(value) if isinstance(value, bytes | tuple) and len(value) == 6 else ""


def band_of_mhz(mhz: int | None) -> str:
    """802.11 bands by centre frequency: 2.4 GHz ISM, 5 GHz U-NII, 6 GHz."""
    if mhz is None:
        return "unknown"
    if 2400 <= mhz < 2500:
        return "2.4GHz"
    if 5150 <= mhz < 5925:
        return "5GHz"
    if 5925 <= mhz <= 7125:
        return "6GHz"
    return "unknown"


def channel_of_mhz(mhz: int | None) -> int | None:
    """IEEE channel number (802.11-2020 Annex E) of a centre frequency."""
    if mhz is None:
        return None
    if mhz == 2484:
        return 14
    if 2412 <= mhz <= 2472:
        return (mhz - 2407) // 5
    if 5000 <= mhz < 5925:
        return (mhz - 5000) // 5
    if 5955 <= mhz <= 7115:
        return (mhz - 5950) // 5
    return None


def band_of_channel(channel: int | None) -> str:
    if channel is None:
        return "unknown"
    if 1 <= channel <= 14:
        return "2.4GHz"
    if 32 <= channel <= 177:
        return "5GHz"
    return "unknown"


def scalar(data: Mapping[str, Table], name: str) -> Value | None:
    return data[name].get((0,))


def uplink(data: Mapping[str, Table]) -> int | None:
    """The first Ethernet interface (lowest ifIndex typed ethernetCsmacd)."""
    ethernet = sorted(i for i, kind in data["if_type"].items() if kind == ETHERNET_CSMACD)
    return ethernet[0][0] if ethernet else None


def octets(data: Mapping[str, Table], if_index: int | None, direction: str) -> int | None:
    """An interface's byte counter: the 64-bit one if the agent has it."""
    if if_index is None:
        return None
    key = (if_index,)
    found = data[f"if_hc_{direction}"].get(key)
    if found is None:
        found = data[f"if_{direction}"].get(key)
    return number(found)


# --- Huawei AC (HUAWEI-WLAN-AP/-AP-RADIO/-VAP-MIB) --------------------------------

HW_AP = "1.3.6.1.4.1.2011.6.139.13.3.10.1"  # hwWlanIDIndexedApEntry
HW_RADIO = "1.3.6.1.4.1.2011.6.139.16.1.2.1"  # hwWlanRadioInfoEntry
HW_VAP = "1.3.6.1.4.1.2011.6.139.17.1.1.1"  # hwWlanVapInfoEntry
HW_NORMAL = 8  # hwWlanIDIndexedApRunState normal(8)
HW_BANDS = {1: "2.4GHz", 2: "5GHz", 3: "6GHz"}  # hwWlanRadioFreqType
HW_EIRP_INVALID = 255
HW_NOISE_INVALID = 0
HW_COLUMNS = {
    "mac": f"{HW_AP}.2",
    "serial": f"{HW_AP}.3",
    "model": f"{HW_AP}.4",
    "name": f"{HW_AP}.5",
    "state": f"{HW_AP}.7",
    "firmware": f"{HW_AP}.8",
    "ip": f"{HW_AP}.14",
    "run_time": f"{HW_AP}.19",  # seconds, whatever the MIB's "tick" says
    "users": f"{HW_AP}.45",
    "up_rx": f"{HW_AP}.65",
    "up_tx": f"{HW_AP}.66",
    "freq_type": f"{HW_RADIO}.5",
    "channel": f"{HW_RADIO}.7",
    "noise": f"{HW_RADIO}.24",
    "utilization": f"{HW_RADIO}.25",
    "rx_bytes": f"{HW_RADIO}.31",
    "tx_bytes": f"{HW_RADIO}.36",
    "radio_users": f"{HW_RADIO}.40",
    "eirp": f"{HW_RADIO}.45",
    "retries": f"{HW_RADIO}.49",
    "vap_ssid": f"{HW_VAP}.6",
    "vap_users": f"{HW_VAP}.9",
}
# A radio row is a radio when it has any of these (a faulted AP leaves rows
# with only configuration columns and an invalid noise of 0 behind).
HW_RADIO_DATA = (
    "freq_type",
    "channel",
    "utilization",
    "rx_bytes",
    "tx_bytes",
    "radio_users",
    "eirp",
    "retries",
)


def _huawei_radio(data: Mapping[str, Table], key: Index) -> RadioTruth:
    eirp = number(data["eirp"].get(key))
    noise = number(data["noise"].get(key))
    return RadioTruth(
        slot=str(key[6]),
        band=HW_BANDS.get(number(data["freq_type"].get(key)) or 0, "unknown"),
        clients=number(data["radio_users"].get(key)),
        channel=number(data["channel"].get(key)),
        tx_power_dbm=None if eirp == HW_EIRP_INVALID else eirp,
        noise_floor_dbm=None if noise == HW_NOISE_INVALID else noise,
        channel_utilization_ratio=hundredths(data["utilization"].get(key)),
        retries_total=number(data["retries"].get(key)),
        failures_total=None,
        receive_bytes_total=number(data["rx_bytes"].get(key)),
        transmit_bytes_total=number(data["tx_bytes"].get(key)),
    )


def _huawei_radios(data: Mapping[str, Table]) -> dict[Index, dict[str, RadioTruth]]:
    keys = {key for column in HW_RADIO_DATA for key in data[column]}
    by_ap: dict[Index, dict[str, RadioTruth]] = defaultdict(dict)
    for key in keys:
        radio = _huawei_radio(data, key)
        by_ap[key[:6]][radio.slot] = radio
    return by_ap


def _huawei_ssids(data: Mapping[str, Table]) -> dict[Index, dict[str, int]]:
    by_ap: dict[Index, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, ssid in data["vap_ssid"].items():
        users = number(data["vap_users"].get(key))
        if users is not None:
            by_ap[key[:6]][text(ssid)] += users
    return {ap: dict(ssids) for ap, ssids in by_ap.items()}


def huawei_truth(path: Path) -> ControllerTruth:
    """Every AP of a Huawei AC recording (AP-id-indexed table), by base MAC."""
    data = read_columns(path, HW_COLUMNS)
    radios = _huawei_radios(data)
    ssids = _huawei_ssids(data)
    aps: dict[str, ApTruth] = {}
    unidentified: list[str] = []
    for key in sorted(data["name"]):
        raw_mac = data["mac"].get(key)
        if not isinstance(raw_mac, bytes) or raw_mac == ALL_ONES_MAC:
            unidentified.append(text(data["name"][key]))
            continue
        mac_index = tuple(raw_mac)
        raw_ip = data["ip"].get(key)
        assert mac(raw_mac) not in aps, f"two AP ids share the MAC {mac(raw_mac)}"
        aps[mac(raw_mac)] = ApTruth(
            mac=mac(raw_mac),
            name=text(data["name"][key]),
            up=data["state"].get(key) == HW_NORMAL,
            model=text(data["model"].get(key)),
            serial=text(data["serial"].get(key)),
            firmware=text(data["firmware"].get(key)),
            ip="" if raw_ip == ALL_ONES_IP else ipv4(raw_ip),
            uptime_seconds=number(data["run_time"].get(key)),
            clients=number(data["users"].get(key)),
            receive_bytes_total=number(data["up_rx"].get(key)),
            transmit_bytes_total=number(data["up_tx"].get(key)),
            radios=radios.get(mac_index, {}),
            ssid_clients=ssids.get(mac_index, {}),
        )
    return ControllerTruth(aps, unidentified)


# --- Ubiquiti airMAX (UBNT-AirMAX-MIB) -------------------------------------------

UBNT_RADIO = "1.3.6.1.4.1.41112.1.4.1.1"  # ubntRadioEntry
UBNT_WLSTAT = "1.3.6.1.4.1.41112.1.4.5.1"  # ubntWlStatEntry
DOT11_COUNTERS = "1.2.840.10036.2.2.1"  # dot11CountersEntry
DOT11_RESOURCE = "1.2.840.10036.3.1.2.1"  # dot11ResourceInfoEntry
AIRMAX_COLUMNS = IF_COLUMNS | {
    "radio_ifindex": f"{UBNT_RADIO}.1",  # airOS answers it with the ifIndex
    "radio_freq": f"{UBNT_RADIO}.4",
    "radio_power": f"{UBNT_RADIO}.6",
    "wl_ssid": f"{UBNT_WLSTAT}.2",
    "wl_noise": f"{UBNT_WLSTAT}.8",
    "wl_stations": f"{UBNT_WLSTAT}.15",
    "dot11_failed": f"{DOT11_COUNTERS}.3",
    "dot11_retry": f"{DOT11_COUNTERS}.4",
    "product": f"{DOT11_RESOURCE}.3",
    "version": f"{DOT11_RESOURCE}.4",
}


def _first_row(table: Table) -> Value | None:
    return table[min(table)] if table else None


def _ssid_clients(data: Mapping[str, Table], ssid: str, clients: str) -> dict[str, int]:
    """Clients by SSID: ``ssid`` names each row's SSID, ``clients`` counts its clients."""
    found: dict[str, int] = defaultdict(int)
    for key, name in data[ssid].items():
        found[text(name)] += number(data[clients].get(key)) or 0
    return dict(found)


def _stand_alone_ap(
    data: Mapping[str, Table],
    radios: dict[str, RadioTruth],
    *,
    model: Value | None,
    serial: Value | None = None,
    firmware: Value | None,
    clients: int | None,
    ssid_clients: dict[str, int],
) -> ApTruth:
    """An AP answering for itself: its name and uptime from the system group,
    its MAC and traffic from its uplink, the first Ethernet interface."""
    port = uplink(data)
    return ApTruth(
        mac=mac(data["if_mac"].get((port,))) if port else "",
        name=text(scalar(data, "sys_name")),
        up=True,
        model=text(model),
        serial=text(serial),
        firmware=text(firmware),
        ip="",
        uptime_seconds=hundredths(scalar(data, "sys_uptime")),
        clients=clients,
        receive_bytes_total=octets(data, port, "in"),
        transmit_bytes_total=octets(data, port, "out"),
        radios=radios,
        ssid_clients=ssid_clients,
    )


def _airmax_radio(data: Mapping[str, Table], key: Index) -> RadioTruth:
    if_index = number(data["radio_ifindex"].get(key))
    freq = number(data["radio_freq"].get(key))
    at_if = (if_index,) if if_index is not None else None
    return RadioTruth(
        slot=str(key[0]),
        band=band_of_mhz(freq),
        clients=number(data["wl_stations"].get(key)),
        channel=channel_of_mhz(freq),
        tx_power_dbm=number(data["radio_power"].get(key)),
        noise_floor_dbm=number(data["wl_noise"].get(key)),
        channel_utilization_ratio=None,
        retries_total=number(data["dot11_retry"].get(at_if)) if at_if else None,
        failures_total=number(data["dot11_failed"].get(at_if)) if at_if else None,
        receive_bytes_total=octets(data, if_index, "in"),
        transmit_bytes_total=octets(data, if_index, "out"),
    )


def airmax_truth(path: Path) -> ApTruth:
    data = read_columns(path, AIRMAX_COLUMNS)
    radio_keys = set(data["radio_freq"]) | set(data["radio_power"]) | set(data["radio_ifindex"])
    radios = {radio.slot: radio for radio in (_airmax_radio(data, k) for k in radio_keys)}
    return _stand_alone_ap(
        data,
        radios,
        model=_first_row(data["product"]),
        firmware=_first_row(data["version"]),
        clients=total(data["wl_stations"].values()),
        ssid_clients=_ssid_clients(data, "wl_ssid", "wl_stations"),
    )


# --- Ubiquiti UniFi (UBNT-UniFi-MIB) ---------------------------------------------

UNIFI = "1.3.6.1.4.1.41112.1.6"
UNIFI_VAP = f"{UNIFI}.1.2.1"  # unifiVapEntry
UNIFI_IF = f"{UNIFI}.2.1.1"  # unifiIfEntry
UNIFI_BANDS = {"ng": "2.4GHz", "na": "5GHz"}  # unifiVapRadio codes
UNIFI_COLUMNS = IF_COLUMNS | {
    "vap_channel": f"{UNIFI_VAP}.4",
    "vap_ssid": f"{UNIFI_VAP}.6",
    "vap_stations": f"{UNIFI_VAP}.8",
    "vap_radio": f"{UNIFI_VAP}.9",
    "vap_rx": f"{UNIFI_VAP}.10",
    "vap_tx": f"{UNIFI_VAP}.16",
    "vap_tx_errors": f"{UNIFI_VAP}.18",
    "vap_tx_retries": f"{UNIFI_VAP}.20",
    "vap_power": f"{UNIFI_VAP}.21",
    "uif_mac": f"{UNIFI_IF}.4",
    "uif_rx": f"{UNIFI_IF}.6",
    "uif_tx": f"{UNIFI_IF}.12",
    "ap_ip": f"{UNIFI}.3.1",
    "ap_model": f"{UNIFI}.3.3",
    "ap_version": f"{UNIFI}.3.6",
}


def _unifi_radio(data: Mapping[str, Table], code: str, vaps: list[Index]) -> RadioTruth:
    first = vaps[0]

    def summed(column: str) -> int | None:
        return total(data[column].get(vap) for vap in vaps)

    return RadioTruth(
        slot=code,
        band=UNIFI_BANDS.get(code, "unknown"),
        clients=summed("vap_stations"),
        channel=number(data["vap_channel"].get(first)),
        tx_power_dbm=number(data["vap_power"].get(first)),
        noise_floor_dbm=None,
        channel_utilization_ratio=None,
        retries_total=summed("vap_tx_retries"),
        failures_total=summed("vap_tx_errors"),
        receive_bytes_total=summed("vap_rx"),
        transmit_bytes_total=summed("vap_tx"),
    )


def unifi_truth(path: Path) -> ApTruth:
    data = read_columns(path, UNIFI_COLUMNS)
    vaps_by_radio: dict[str, list[Index]] = defaultdict(list)
    ssids: dict[str, int] = defaultdict(int)
    for key in sorted(data["vap_radio"]):
        vaps_by_radio[text(data["vap_radio"][key])].append(key)
        ssids[text(data["vap_ssid"].get(key))] += number(data["vap_stations"].get(key)) or 0
    port = uplink(data)
    first_if = min(data["uif_mac"]) if data["uif_mac"] else None

    def wired(direction: str, fallback: str) -> int | None:
        # IF-MIB's 64-bit counter of eth0 first, else UniFi's 32-bit one.
        found = number(data[f"if_hc_{direction}"].get((port,))) if port else None
        if found is None and first_if is not None:
            found = number(data[fallback].get(first_if))
        return found

    return ApTruth(
        mac=mac(data["uif_mac"].get(first_if)) if first_if else "",
        name=text(scalar(data, "sys_name")),
        up=True,
        model=text(scalar(data, "ap_model")),
        serial="",
        firmware=text(scalar(data, "ap_version")),
        ip=ipv4(scalar(data, "ap_ip")),
        uptime_seconds=hundredths(scalar(data, "sys_uptime")),
        clients=total(data["vap_stations"].values()),
        receive_bytes_total=wired("in", "uif_rx"),
        transmit_bytes_total=wired("out", "uif_tx"),
        radios={code: _unifi_radio(data, code, keys) for code, keys in vaps_by_radio.items()},
        ssid_clients=dict(ssids),
    )


# --- MikroTik RouterOS (MIKROTIK-MIB) ---------------------------------------------

MTXR = "1.3.6.1.4.1.14988.1.1"
MTXR_WLAP = f"{MTXR}.1.3.1"  # mtxrWlApEntry, index = ifIndex
MTXR_CM = f"{MTXR}.1.7.1"  # mtxrWlCMEntry, index = ifIndex
MIKROTIK_COLUMNS = IF_COLUMNS | {
    "wl_ssid": f"{MTXR_WLAP}.4",
    "wl_clients": f"{MTXR_WLAP}.6",
    "wl_freq": f"{MTXR_WLAP}.7",
    "wl_noise": f"{MTXR_WLAP}.9",
    "cm_clients": f"{MTXR_CM}.2",
    "cm_channel": f"{MTXR_CM}.5",  # text "5180/20-Ceee/ac(17dBm)": MHz first
    "serial": f"{MTXR}.7.3",
    "board": f"{MTXR}.7.9",
    "version": f"{MTXR}.4.4",  # mtxrLicVersion: RouterOS, not RouterBOOT
}


def _cap_frequency(value: Value | None) -> int | None:
    found = re.match(r"\s*(\d+)", text(value))
    return int(found.group(1)) if found else None


def _mikrotik_radio(data: Mapping[str, Table], key: Index) -> RadioTruth:
    freq = number(data["wl_freq"].get(key))
    if freq is None:
        freq = _cap_frequency(data["cm_channel"].get(key))
    clients = number(data["wl_clients"].get(key))
    return RadioTruth(
        slot=str(key[0]),
        band=band_of_mhz(freq),
        clients=clients if clients is not None else number(data["cm_clients"].get(key)),
        channel=channel_of_mhz(freq),
        tx_power_dbm=None,
        noise_floor_dbm=number(data["wl_noise"].get(key)),
        channel_utilization_ratio=None,
        retries_total=None,
        failures_total=None,
        receive_bytes_total=octets(data, key[0], "in"),
        transmit_bytes_total=octets(data, key[0], "out"),
    )


def mikrotik_truth(path: Path) -> ApTruth:
    data = read_columns(path, MIKROTIK_COLUMNS)
    keys = set(data["wl_clients"]) | set(data["wl_freq"]) | set(data["cm_clients"])
    radios = {radio.slot: radio for radio in (_mikrotik_radio(data, key) for key in keys)}
    return _stand_alone_ap(
        data,
        radios,
        model=scalar(data, "board"),
        serial=scalar(data, "serial"),
        firmware=scalar(data, "version"),
        # No AP-level count in the MIB: the AP's clients are its radios'.
        clients=total(radio.clients for radio in radios.values()),
        ssid_clients=_ssid_clients(data, "wl_ssid", "wl_clients"),
    )


# --- generic stand-alone AP (IF-MIB, IEEE802dot11-MIB) ------------------------------

GENERIC_COLUMNS = IF_COLUMNS | {
    "dsss_channel": "1.2.840.10036.4.5.1.1",  # dot11CurrentChannel
    "ofdm_channel": "1.2.840.10036.4.11.1.1",  # dot11CurrentFrequency (a channel number)
    "dot11_failed": f"{DOT11_COUNTERS}.3",
    "dot11_retry": f"{DOT11_COUNTERS}.4",
    "product": f"{DOT11_RESOURCE}.3",
    "version": f"{DOT11_RESOURCE}.4",
}


def generic_truth(path: Path) -> ApTruth:
    data = read_columns(path, GENERIC_COLUMNS)
    radios: dict[str, RadioTruth] = {}
    for key in sorted(set(data["dsss_channel"]) | set(data["ofdm_channel"])):
        channel = number(data["dsss_channel"].get(key))
        if channel is None:
            channel = number(data["ofdm_channel"].get(key))
        radios[str(key[0])] = RadioTruth(
            slot=str(key[0]),
            band=band_of_channel(channel),
            clients=None,
            channel=channel,
            tx_power_dbm=None,
            noise_floor_dbm=None,
            channel_utilization_ratio=None,
            retries_total=number(data["dot11_retry"].get(key)),
            failures_total=number(data["dot11_failed"].get(key)),
            receive_bytes_total=octets(data, key[0], "in"),
            transmit_bytes_total=octets(data, key[0], "out"),
        )
    return _stand_alone_ap(
        data,
        radios,
        model=_first_row(data["product"]),
        firmware=_first_row(data["version"]),
        clients=None,
        ssid_clients={},
    )
