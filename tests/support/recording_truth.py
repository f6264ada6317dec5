"""What wifimon must export for a Cisco AireOS recording, computed from the raw file.

This is the end-to-end tests' independent oracle: it reads the ``.snmprec``
text itself (tests/support/raw_snmprec.py) and applies the rules of
../shared/reference/wifi-mibs.md §3 with a few lines of plain code each. It
shares nothing with wifimon (no profile, no evaluator, no transport), so a
mistake in wifimon's profile language or in the Cisco profile shows up as a
difference instead of being repeated.

Cisco's AP tables are indexed by the AP's base radio MAC as 6 sub-identifiers.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from tests.support.e2e_compare import ApTruth, ControllerTruth, RadioTruth
from tests.support.raw_snmprec import (
    Index,
    Table,
    hundredths,
    ipv4,
    mac_text,
    number,
    read_columns,
    rewrite,
    rows_under,
    text,
    total,
)

BSN_AP = "1.3.6.1.4.1.14179.2.2.1.1"  # bsnAPTable entry
BSN_AP_IF = "1.3.6.1.4.1.14179.2.2.2.1"  # bsnAPIfTable entry (per radio)
BSN_TX_POWER = "1.3.6.1.4.1.14179.2.2.8.1"  # bsnAPIfDot11PhyTxPowerTable entry
BSN_COUNTERS = "1.3.6.1.4.1.14179.2.2.6.1"  # bsnAPIfDot11CountersTable entry
BSN_LOAD = "1.3.6.1.4.1.14179.2.2.13.1"  # bsnAPIfLoadParametersTable entry
BSN_NOISE = "1.3.6.1.4.1.14179.2.2.15.1"  # bsnAPIfChannelNoiseInfoTable entry
BSN_ESS = "1.3.6.1.4.1.14179.2.1.1.1"  # bsnDot11EssTable entry (WLANs)
CLAP = "1.3.6.1.4.1.9.9.513.1.1.1.1"  # cLApTable entry
CLAP_ETHERNET = "1.3.6.1.4.1.9.9.513.1.2.2.1"  # cLApEthernetIfTable entry
CLAP_WLAN_STATS = "1.3.6.1.4.1.9.9.513.1.9.1.1"  # cLApWlanStatsTable entry

# bsnAPIfDot11TxPowerLevel1..8: level N lives in this column (8 is column 28).
TX_POWER_COLUMN = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7, 7: 8, 8: 28}
BAND_OF_IF_TYPE = {1: "2.4GHz", 2: "5GHz", 6: "6GHz"}  # bsnAPIfType
ASSOCIATED = 1  # bsnAPOperationStatus associated(1): the AP has joined

# Every column the truth needs: "entry.column".
COLUMNS = {
    "ap_name": f"{BSN_AP}.3",
    "ap_status": f"{BSN_AP}.6",
    "ap_firmware": f"{BSN_AP}.8",
    "ap_model": f"{BSN_AP}.16",
    "ap_serial": f"{BSN_AP}.17",
    "ap_ip": f"{BSN_AP}.19",
    "radio_type": f"{BSN_AP_IF}.2",
    "radio_channel": f"{BSN_AP_IF}.4",
    "radio_power_level": f"{BSN_AP_IF}.6",
    "radio_users": f"{BSN_AP_IF}.15",
    "utilization": f"{BSN_LOAD}.3",
    "noise": f"{BSN_NOISE}.21",
    "retries": f"{BSN_COUNTERS}.3",
    "failures": f"{BSN_COUNTERS}.33",
    "ssid": f"{BSN_ESS}.2",
    "uptime": f"{CLAP}.6",
    "clients": f"{CLAP}.54",
    "uplink_rx": f"{CLAP_ETHERNET}.13",
    "uplink_tx": f"{CLAP_ETHERNET}.14",
    "wlan_tx_bytes": f"{CLAP_WLAN_STATS}.2",
    "wlan_rx_bytes": f"{CLAP_WLAN_STATS}.4",
    "wlan_clients": f"{CLAP_WLAN_STATS}.6",
} | {f"tx_power_{level}": f"{BSN_TX_POWER}.{column}" for level, column in TX_POWER_COLUMN.items()}


def _radio(data: dict[str, Table], index: Index) -> RadioTruth:
    mac = index[:6]
    if_type = number(data["radio_type"].get(index))
    channel = number(data["radio_channel"].get(index))
    level = number(data["radio_power_level"].get(index))

    def wlan_bytes(column: str) -> int | None:  # cLApWlanStats rows: mac . radio type . WLAN
        return None if if_type is None else total(rows_under(data[column], (*mac, if_type)))

    return RadioTruth(
        slot=str(index[6]),
        band=BAND_OF_IF_TYPE.get(if_type or 0, "unknown"),
        clients=number(data["radio_users"].get(index)),
        channel=channel,
        tx_power_dbm=(
            number(data[f"tx_power_{level}"].get(index)) if level in TX_POWER_COLUMN else None
        ),
        noise_floor_dbm=number(data["noise"].get((*index, channel))) if channel else None,
        channel_utilization_ratio=hundredths(data["utilization"].get(index)),
        retries_total=number(data["retries"].get(index)),
        failures_total=number(data["failures"].get(index)),
        receive_bytes_total=wlan_bytes("wlan_rx_bytes"),
        transmit_bytes_total=wlan_bytes("wlan_tx_bytes"),
    )


def _ssid_clients(data: dict[str, Table], mac: Index) -> dict[str, int]:
    ssids = {index[0]: text(value) for index, value in data["ssid"].items()}
    clients: dict[str, int] = defaultdict(int)
    for index, value in data["wlan_clients"].items():
        wlan = index[7]
        if index[:6] == mac and wlan in ssids and isinstance(value, int):
            clients[ssids[wlan]] += value
    return dict(clients)


def _ap(data: dict[str, Table], mac: Index) -> ApTruth:
    radios = [_radio(data, index) for index in data["radio_type"] if index[:6] == mac]
    return ApTruth(
        mac=mac_text(mac),
        name=text(data["ap_name"][mac]),
        up=data["ap_status"].get(mac) == ASSOCIATED,
        model=text(data["ap_model"].get(mac)),
        serial=text(data["ap_serial"].get(mac)),
        firmware=text(data["ap_firmware"].get(mac)),
        ip=ipv4(data["ap_ip"].get(mac)),
        uptime_seconds=hundredths(data["uptime"].get(mac)),
        clients=number(data["clients"].get(mac)),
        receive_bytes_total=total(rows_under(data["uplink_rx"], mac)),
        transmit_bytes_total=total(rows_under(data["uplink_tx"], mac)),
        radios={radio.slot: radio for radio in radios},
        ssid_clients=_ssid_clients(data, mac),
    )


def cisco_truth(path: Path) -> ControllerTruth:
    """Every AP of a decompressed Cisco AireOS recording, keyed by base MAC."""
    data = read_columns(path, COLUMNS)
    aps = (_ap(data, mac) for mac in data["ap_name"])
    return ControllerTruth({ap.mac: ap for ap in aps})


def without_ap(source: Path, target: Path, mac: str) -> Path:
    """Copy ``source`` to ``target`` minus every row indexed by the AP ``mac``.

    A row belongs to the AP when the MAC's six sub-identifiers follow the
    column OID of any Cisco AP table (bsnAP*, cLAp*); written atomically.
    """
    suffix = "." + ".".join(str(int(part, 16)) for part in mac.split(":")) + "."
    roots = ("1.3.6.1.4.1.14179.2.2.", "1.3.6.1.4.1.9.9.513.1.")

    def kept(line: str) -> bool:
        oid = line.partition("|")[0] + "."
        return not (oid.startswith(roots) and suffix in oid)

    return rewrite(source, target, lambda lines: filter(kept, lines))
