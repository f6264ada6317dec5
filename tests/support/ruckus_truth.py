"""What wifimon must export for Ruckus controllers, computed from the raw walk.

The end-to-end tests' independent oracle for the ``ruckus-smartzone`` and
``ruckus-zonedirector`` profiles: it reads the ``.snmprec`` text itself and
applies the rules of ../shared/reference/wifi-mibs.md §5 with plain code of
its own. It shares nothing with wifimon (no profile, no evaluator, no
transport), so a mistake in the profiles or in the profile language shows up
as a difference instead of being repeated.

A ``.snmprec`` line is ``OID|TAG|VALUE`` (TAG ending in ``x``: hex value);
``#`` starts a comment. Table rows are ``entry OID . column . index``.
Ruckus AP tables are indexed by the AP MAC: 6 sub-ids as the MIBs say, or
``6.<6 sub-ids>`` as the real SmartCell Gateway sends it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

Index = tuple[int, ...]
Value = int | bytes
Row = dict[str, Value]

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
    "lan_rx_bytes": 21,
    "lan_tx_bytes": 25,
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

NUMERIC_TAGS = {"2", "65", "66", "67", "70"}  # INTEGER, Counter32, Gauge32, TimeTicks, Counter64
BYTES_TAGS = {"4", "64"}  # OCTET STRING, IpAddress


@dataclass(frozen=True)
class RadioTruth:
    """One ZoneDirector radio; ``None``: no value in the walk, no series."""

    radio: str
    band: str
    clients: int | None
    channel: int | None
    channel_utilization_ratio: float | None
    receive_bytes_total: int | None
    transmit_bytes_total: int | None
    retries_total: int | None
    failures_total: int | None


@dataclass(frozen=True)
class ApTruth:
    """One AP as its controller reports it; ``mac`` e.g. "0c:f4:d5:24:dd:00"."""

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


@dataclass(frozen=True)
class ControllerTruth:
    aps: dict[str, ApTruth]

    @property
    def up_count(self) -> int:
        return sum(ap.up for ap in self.aps.values())

    def clients_by_band(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for ap in self.aps.values():
            for radio in ap.radios.values():
                totals[radio.band] += radio.clients or 0
        return dict(totals)


def _decode(tag: str, text: str) -> Value:
    hexed = tag.endswith("x")
    base = tag.removesuffix("x")
    if base in NUMERIC_TAGS and not hexed:
        return int(text)
    if base in BYTES_TAGS:
        return bytes.fromhex(text) if hexed else text.encode("latin-1")
    raise ValueError(f"snmprec tag {tag!r} is not handled by this reader")


def read_entry(path: Path, entry: str, columns: dict[str, int]) -> dict[Index, Row]:
    """``{index: {column name: value}}`` for the ``columns`` of table ``entry``."""
    by_number = {str(number): name for name, number in columns.items()}
    prefix = entry + "."
    rows: dict[Index, Row] = defaultdict(dict)
    with path.open(encoding="latin-1") as lines:
        for line in lines:
            if not line.startswith(prefix):
                continue
            oid, tag, text = line.rstrip("\n").split("|", 2)
            column, _, index = oid[len(prefix) :].partition(".")
            name = by_number.get(column)
            if name is not None:
                rows[tuple(int(part) for part in index.split("."))][name] = _decode(tag, text)
    return dict(rows)


def mac_of_index(index: Index) -> str:
    """``6.12.244.213.36.221.0`` (SCG) or ``12.244.213.36.221.0`` -> "0c:f4:d5:24:dd:00"."""
    if len(index) == 7 and index[0] == 6:
        index = index[1:]
    assert len(index) == 6, f"not a MAC index: {index}"
    return ":".join(f"{part:02x}" for part in index)


def _text(value: Value | None) -> str:
    return value.decode("utf-8").strip() if isinstance(value, bytes) else ""


def _int(value: Value | None) -> int | None:
    return value if isinstance(value, int) else None


def _ip(value: Value | None) -> str:
    return ".".join(str(byte) for byte in value) if isinstance(value, bytes) else ""


def _hundredths(value: Value | None) -> float | None:
    return value / 100 if isinstance(value, int) else None


def _smartzone_ap(mac: str, row: Row) -> ApTruth:
    return ApTruth(
        mac=mac,
        name=_text(row.get("name")),
        # Free text: "Connect" is joined, anything else ("Disconnect") is not.
        up=_text(row.get("conn_status")) == "Connect",
        model=_text(row.get("model")),
        serial=_text(row.get("serial")),
        firmware=_text(row.get("firmware")),
        ip=_ip(row.get("ip")),
        uptime_seconds=_hundredths(row.get("uptime")),
        clients=_int(row.get("clients")),
        receive_bytes_total=_int(row.get("rx_bytes")),
        transmit_bytes_total=_int(row.get("tx_bytes")),
    )


def smartzone_truth(path: Path) -> ControllerTruth:
    """Every AP of a SmartZone/SCG walk: SCG-tree rows first, then SZ-tree rows."""
    aps: dict[str, ApTruth] = {}
    for entry in (SCG_AP, SZ_AP):
        for index, row in read_entry(path, entry, SMARTZONE_AP_COLUMNS).items():
            mac = mac_of_index(index)
            aps.setdefault(mac, _smartzone_ap(mac, row))
    return ControllerTruth(aps)


def scg_index_lengths(path: Path) -> dict[int, int]:
    """How many ruckusSCGAPTable rows have an index of each length (sub-ids)."""
    lengths: dict[int, int] = defaultdict(int)
    for index in read_entry(path, SCG_AP, {"name": SMARTZONE_AP_COLUMNS["name"]}):
        lengths[len(index)] += 1
    return dict(lengths)


def scg_obsolete_clients(path: Path) -> dict[str, int]:
    """ruckusWLANAPNumSta of the obsolete SCG AP table, by AP MAC."""
    rows = read_entry(path, SCG_OLD_AP, {"clients": 15})
    return {mac_of_index(index): int(row["clients"]) for index, row in rows.items()}


def _zd_radio(number: int, row: Row) -> RadioTruth:
    util = _int(row.get("resource_util"))
    radio_type = _int(row.get("type"))
    return RadioTruth(
        radio=str(number),
        band=ZD_BAND_OF_TYPE.get(radio_type, "unknown") if radio_type is not None else "unknown",
        clients=_int(row.get("clients")),
        channel=_int(row.get("channel")),
        channel_utilization_ratio=None if util is None else util / 100,
        receive_bytes_total=_int(row.get("rx_bytes")),
        transmit_bytes_total=_int(row.get("tx_bytes")),
        retries_total=_int(row.get("tx_retries")),
        failures_total=_int(row.get("tx_fail")),
    )


def zonedirector_truth(path: Path) -> ControllerTruth:
    """Every AP of a ZoneDirector walk with its radios, keyed by AP MAC."""
    radios: dict[str, dict[str, RadioTruth]] = defaultdict(dict)
    for index, row in read_entry(path, ZD_RADIO, ZD_RADIO_COLUMNS).items():
        radio = _zd_radio(index[-1], row)
        radios[mac_of_index(index[:-1])][radio.radio] = radio
    aps = {}
    for index, row in read_entry(path, ZD_AP, ZD_AP_COLUMNS).items():
        mac = mac_of_index(index)
        aps[mac] = ApTruth(
            mac=mac,
            name=_text(row.get("name")),
            up=row.get("status") == ZD_CONNECTED,
            model=_text(row.get("model")),
            serial=_text(row.get("serial")),
            firmware=_text(row.get("firmware")),
            ip=_ip(row.get("ip")),
            uptime_seconds=_hundredths(row.get("uptime")),
            clients=_int(row.get("clients")),
            receive_bytes_total=_int(row.get("lan_rx_bytes")),
            transmit_bytes_total=_int(row.get("lan_tx_bytes")),
            radios=radios.get(mac, {}),
        )
    return ControllerTruth(aps)
