"""What wifimon must export for Ruckus controllers, computed from the raw walk.

The end-to-end tests' independent oracle for the ``ruckus-smartzone`` and
``ruckus-zonedirector`` profiles: it reads the ``.snmprec`` text itself and
applies the rules of ../shared/reference/wifi-mibs.md §5 with plain code of
its own (and tests/support/raw_snmprec.py to read the lines). It shares
nothing with wifimon (no profile, no evaluator, no transport), so a mistake
in the profiles or in the profile language shows up as a difference instead
of being repeated.

Table rows are ``entry OID . column . index``. Ruckus AP tables are indexed
by the AP MAC: 6 sub-ids as the MIBs say, or ``6.<6 sub-ids>`` as the real
SmartCell Gateway sends it.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from tests.support.e2e_compare import ApTruth, ControllerTruth, RadioTruth
from tests.support.raw_snmprec import (
    Index,
    Row,
    hundredths,
    ipv4,
    mac_text,
    number,
    read_rows,
    text,
)

SCG_AP = "1.3.6.1.4.1.25053.1.3.2.1.1.2.2.1"  # ruckusSCGAPEntry (RUCKUS-SCG-WLAN-MIB)
SZ_AP = "1.3.6.1.4.1.25053.1.4.2.1.1.2.2.1"  # ruckusSZAPEntry (RUCKUS-SZ-WLAN-MIB)
# The obsolete ruckusWLANAPEntry the SCG still serves, walked seconds apart.
SCG_OLD_AP = "1.3.6.1.4.1.25053.1.3.2.1.1.2.1.1"
ZD_AP = "1.3.6.1.4.1.25053.1.2.2.1.1.2.1.1"  # ruckusZDWLANAPEntry
ZD_RADIO = "1.3.6.1.4.1.25053.1.2.2.1.1.2.2.1"  # ruckusZDWLANAPRadioStatsEntry

# SCG and SZ AP entries share their column numbers.
SMARTZONE_AP_COLUMNS = {
    "name": 5,
    "uptime": 6,
    "firmware": 7,
    "model": 8,
    "serial": 9,
    "ip": 10,
    "clients": 15,
    "conn_status": 16,
    "rx_bytes": 30,
    "tx_bytes": 31,
}
ZD_AP_COLUMNS = {
    "name": 2,  # ruckusZDWLANAPDescription
    "status": 3,
    "model": 4,
    "serial": 5,
    "uptime": 6,
    "firmware": 7,
    "ip": 10,
    "clients": 15,
    "rx_bytes": 21,  # the LAN side's, not the kbyte StaRx/TxBytes columns
    "tx_bytes": 25,
}
ZD_RADIO_COLUMNS = {
    "type": 3,
    "channel": 4,
    "tx_power_step": 5,
    "clients": 8,
    "rx_bytes": 11,
    "tx_bytes": 14,
    "tx_fail": 16,
    "tx_retries": 17,
    "resource_util": 40,
}
ZD_CONNECTED = 1  # ruckusZDWLANAPStatus connected(1)
# ruckusZDWLANAPRadioStatsRadioType: 11bg, 11a, 11ng, 11na, 11ac
ZD_BAND_OF_TYPE = {0: "2.4GHz", 1: "5GHz", 2: "2.4GHz", 3: "5GHz", 4: "5GHz"}


def mac_of_index(index: Index) -> str:
    """``6.12.244.213.36.221.0`` (SCG) or ``12.244.213.36.221.0`` -> "0c:f4:d5:24:dd:00"."""
    if len(index) == 7 and index[0] == 6:
        index = index[1:]
    assert len(index) == 6, f"not a MAC index: {index}"
    return mac_text(index)


def _ap(mac: str, row: Row, *, up: bool, radios: dict[str, RadioTruth] | None = None) -> ApTruth:
    return ApTruth(
        mac=mac,
        name=text(row.get("name")),
        up=up,
        model=text(row.get("model")),
        serial=text(row.get("serial")),
        firmware=text(row.get("firmware")),
        ip=ipv4(row.get("ip")),
        uptime_seconds=hundredths(row.get("uptime")),
        clients=number(row.get("clients")),
        receive_bytes_total=number(row.get("rx_bytes")),
        transmit_bytes_total=number(row.get("tx_bytes")),
        radios=radios or {},
    )


def smartzone_truth(path: Path) -> ControllerTruth:
    """Every AP of a SmartZone/SCG walk: SCG-tree rows first, then SZ-tree rows."""
    aps: dict[str, ApTruth] = {}
    for entry in (SCG_AP, SZ_AP):
        for index, row in read_rows(path, entry, SMARTZONE_AP_COLUMNS).items():
            mac = mac_of_index(index)
            # Free text: "Connect" is joined, anything else ("Disconnect") is not.
            aps.setdefault(mac, _ap(mac, row, up=text(row.get("conn_status")) == "Connect"))
    return ControllerTruth(aps)


def scg_index_lengths(path: Path) -> dict[int, int]:
    """How many ruckusSCGAPTable rows have an index of each length (sub-ids)."""
    lengths: dict[int, int] = defaultdict(int)
    for index in read_rows(path, SCG_AP, {"name": SMARTZONE_AP_COLUMNS["name"]}):
        lengths[len(index)] += 1
    return dict(lengths)


def scg_obsolete_clients(path: Path) -> dict[str, int]:
    """ruckusWLANAPNumSta of the obsolete SCG AP table, by AP MAC."""
    rows = read_rows(path, SCG_OLD_AP, {"clients": 15})
    return {mac_of_index(index): int(row["clients"]) for index, row in rows.items()}


def _zd_radio(slot: int, row: Row) -> RadioTruth:
    radio_type = number(row.get("type"))
    return RadioTruth(
        slot=str(slot),
        band=ZD_BAND_OF_TYPE.get(radio_type, "unknown") if radio_type is not None else "unknown",
        clients=number(row.get("clients")),
        channel=number(row.get("channel")),
        tx_power_dbm=None,  # a step below maximum (full/half), not dBm
        noise_floor_dbm=None,  # no noise column
        channel_utilization_ratio=hundredths(row.get("resource_util")),
        retries_total=number(row.get("tx_retries")),
        failures_total=number(row.get("tx_fail")),
        receive_bytes_total=number(row.get("rx_bytes")),
        transmit_bytes_total=number(row.get("tx_bytes")),
    )


def zonedirector_truth(path: Path) -> ControllerTruth:
    """Every AP of a ZoneDirector walk with its radios, keyed by AP MAC."""
    radios: dict[str, dict[str, RadioTruth]] = defaultdict(dict)
    for index, row in read_rows(path, ZD_RADIO, ZD_RADIO_COLUMNS).items():
        radio = _zd_radio(index[-1], row)
        radios[mac_of_index(index[:-1])][radio.slot] = radio
    aps = {}
    for index, row in read_rows(path, ZD_AP, ZD_AP_COLUMNS).items():
        mac = mac_of_index(index)
        up = row.get("status") == ZD_CONNECTED
        aps[mac] = _ap(mac, row, up=up, radios=radios.get(mac, {}))
    return ControllerTruth(aps)
