"""What wifimon must export for a Cisco AireOS recording, computed from the raw file.

This is the end-to-end tests' independent oracle: it reads the ``.snmprec``
text itself and applies the rules of ../shared/reference/wifi-mibs.md §3 with
a few lines of plain code each. It shares nothing with wifimon (no profile,
no evaluator, no transport), so a mistake in wifimon's profile language or
in the Cisco profile shows up as a difference instead of being repeated.

A ``.snmprec`` line is ``OID|TAG|VALUE``; a TAG ending in ``x`` carries a
hex-encoded value. Table rows are ``column OID . index``; Cisco's AP tables
are indexed by the AP's base radio MAC as 6 sub-identifiers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

Index = tuple[int, ...]
Value = int | bytes

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

NUMERIC_TAGS = {"2", "65", "66", "67", "70"}  # INTEGER, Counter32, Gauge32, TimeTicks, Counter64
BYTES_TAGS = {"4", "64"}  # OCTET STRING, IpAddress


@dataclass(frozen=True)
class RadioTruth:
    """One radio (``bsnAPIfTable`` row) as wifimon must export it.

    ``None`` means the recording has no value, so no series may be exported.
    """

    slot: str
    band: str
    clients: int | None
    channel: int | None
    tx_power_dbm: int | None
    noise_floor_dbm: int | None
    channel_utilization_ratio: float | None
    retries_total: int | None
    failures_total: int | None
    receive_bytes_total: int | None
    transmit_bytes_total: int | None


@dataclass(frozen=True)
class ApTruth:
    """One AP (``bsnAPTable`` row); ``mac`` is its base radio MAC, e.g. "00:3a:98:b0:2e:70"."""

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
    ssid_clients: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ControllerTruth:
    aps: dict[str, ApTruth]

    @property
    def up_count(self) -> int:
        return sum(ap.up for ap in self.aps.values())

    def clients_by_band(self) -> dict[str, int]:
        """Sum of ``bsnApIfNoOfUsers`` over every radio, by band."""
        totals: dict[str, int] = defaultdict(int)
        for ap in self.aps.values():
            for radio in ap.radios.values():
                totals[radio.band] += radio.clients or 0
        return dict(totals)

    def mac_of_name(self, name: str) -> str | None:
        """The MAC of the only AP called ``name``; None if absent or ambiguous."""
        found = [ap.mac for ap in self.aps.values() if ap.name == name]
        return found[0] if len(found) == 1 else None


def _decode(tag: str, text: str) -> Value:
    hexed = tag.endswith("x")
    base = tag[:-1] if hexed else tag
    if base in NUMERIC_TAGS and not hexed:
        return int(text)
    if base in BYTES_TAGS:
        return bytes.fromhex(text) if hexed else text.encode()
    raise ValueError(f"snmprec tag {tag!r} is not handled by this reader")


def read_columns(path: Path, columns: dict[str, str]) -> dict[str, dict[Index, Value]]:
    """``{name: {row index: value}}`` for each ``name: column OID`` of ``columns``."""
    wanted = {f"{oid}.": name for name, oid in columns.items()}
    by_length: dict[int, dict[str, str]] = defaultdict(dict)
    for prefix, name in wanted.items():
        by_length[len(prefix)][prefix] = name
    found: dict[str, dict[Index, Value]] = {name: {} for name in columns}
    with path.open(encoding="latin-1") as lines:
        for line in lines:
            oid, _, rest = line.partition("|")
            for length, prefixes in by_length.items():
                column = prefixes.get(oid[:length])
                if column is not None:
                    tag, _, text = rest.rstrip("\n").partition("|")
                    index = tuple(int(part) for part in oid[length:].split("."))
                    found[column][index] = _decode(tag, text)
                    break
    return found


def mac_text(index: Index) -> str:
    return ":".join(f"{part:02x}" for part in index[:6])


def _text(value: Value | None) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else ""


def _int(value: Value | None) -> int | None:
    return value if isinstance(value, int) else None


def _ip(value: Value | None) -> str:
    return ".".join(str(byte) for byte in value) if isinstance(value, bytes) else ""


def _sum(values: Iterable[Value]) -> int | None:
    numbers = [value for value in values if isinstance(value, int)]
    return sum(numbers) if numbers else None


def _rows_of(table: dict[Index, Value], mac: Index) -> Iterator[tuple[Index, Value]]:
    return ((index, value) for index, value in table.items() if index[:6] == mac)


def _radio(data: dict[str, dict[Index, Value]], index: Index) -> RadioTruth:
    mac = index[:6]
    if_type = _int(data["radio_type"].get(index))
    channel = _int(data["radio_channel"].get(index))
    level = _int(data["radio_power_level"].get(index))
    utilization = _int(data["utilization"].get(index))
    same_type = [  # cLApWlanStats rows: mac . radio type . WLAN
        row for row in _rows_of(data["wlan_rx_bytes"], mac) if row[0][6] == if_type
    ]
    same_type_tx = [row for row in _rows_of(data["wlan_tx_bytes"], mac) if row[0][6] == if_type]
    return RadioTruth(
        slot=str(index[6]),
        band=BAND_OF_IF_TYPE.get(if_type or 0, "unknown"),
        clients=_int(data["radio_users"].get(index)),
        channel=channel,
        tx_power_dbm=(
            _int(data[f"tx_power_{level}"].get(index)) if level in TX_POWER_COLUMN else None
        ),
        noise_floor_dbm=_int(data["noise"].get((*index, channel))) if channel else None,
        channel_utilization_ratio=None if utilization is None else utilization / 100,
        retries_total=_int(data["retries"].get(index)),
        failures_total=_int(data["failures"].get(index)),
        receive_bytes_total=_sum(value for _, value in same_type),
        transmit_bytes_total=_sum(value for _, value in same_type_tx),
    )


def _ssid_clients(data: dict[str, dict[Index, Value]], mac: Index) -> dict[str, int]:
    ssids = {index[0]: _text(value) for index, value in data["ssid"].items()}
    clients: dict[str, int] = defaultdict(int)
    for index, value in _rows_of(data["wlan_clients"], mac):
        wlan = index[7]
        if wlan in ssids and isinstance(value, int):
            clients[ssids[wlan]] += value
    return dict(clients)


def _ap(data: dict[str, dict[Index, Value]], mac: Index) -> ApTruth:
    uptime = _int(data["uptime"].get(mac))
    radios = [_radio(data, index) for index in data["radio_type"] if index[:6] == mac]
    return ApTruth(
        mac=mac_text(mac),
        name=_text(data["ap_name"][mac]),
        up=data["ap_status"].get(mac) == ASSOCIATED,
        model=_text(data["ap_model"].get(mac)),
        serial=_text(data["ap_serial"].get(mac)),
        firmware=_text(data["ap_firmware"].get(mac)),
        ip=_ip(data["ap_ip"].get(mac)),
        uptime_seconds=None if uptime is None else uptime / 100,
        clients=_int(data["clients"].get(mac)),
        receive_bytes_total=_sum(v for _, v in _rows_of(data["uplink_rx"], mac)),
        transmit_bytes_total=_sum(v for _, v in _rows_of(data["uplink_tx"], mac)),
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
    partial = target.with_name(target.name + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open(encoding="latin-1") as reader, partial.open("w", encoding="latin-1") as out:
        for line in reader:
            oid = line.partition("|")[0] + "."
            if oid.startswith(roots) and suffix in oid:
                continue
            out.write(line)
    partial.replace(target)
    return target
