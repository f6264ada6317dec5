"""What wifimon must export for Aruba agents, computed from the raw walk file.

The end-to-end tests' independent oracle for the ``aruba-controller`` and
``aruba-instant`` profiles: it reads the ``.snmprec`` text itself and applies
the rules of ../shared/reference/wifi-mibs.md §4 with plain code of its own.
It shares nothing with wifimon (no profile, no evaluator, no transport), so a
mistake in the profiles or in the profile language shows up as a difference.

A ``.snmprec`` line is ``OID|TAG|VALUE``; a TAG ending in ``x`` carries a
hex-encoded value. Rows are ``column OID . index``: the AP's MAC as six
sub-identifiers, then the radio number, then (per-BSSID tables) the BSSID.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

Index = tuple[int, ...]
Value = int | bytes

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

NUMERIC_TAGS = {"2", "65", "66", "67", "70"}
TEXT_TAGS = {"4", "64"}


@dataclass(frozen=True)
class RadioTruth:
    """One radio as wifimon must export it; ``None``: no series may exist."""

    radio: str
    band: str
    clients: int | None
    channel: int | None
    tx_power_dbm: float | None
    noise_floor_dbm: int | None
    channel_utilization_ratio: float | None
    retries_total: int | None
    failures_total: int | None
    receive_bytes_total: int | None
    transmit_bytes_total: int | None


@dataclass(frozen=True)
class ApTruth:
    """One AP row; ``mac`` is its Ethernet MAC, e.g. "00:00:5e:00:53:11"."""

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
        totals: dict[str, int] = defaultdict(int)
        for ap in self.aps.values():
            for radio in ap.radios.values():
                if radio.clients is not None:
                    totals[radio.band] += radio.clients
        return dict(totals)


def _decode(tag: str, text: str) -> Value:
    hexed = tag.endswith("x")
    base = tag.removesuffix("x")
    if base in NUMERIC_TAGS and not hexed:
        return int(text)
    if base in TEXT_TAGS:
        return bytes.fromhex(text) if hexed else text.encode("latin-1")
    raise ValueError(f"snmprec tag {tag!r} is not handled by this reader")


def read_columns(path: Path, columns: dict[str, str]) -> dict[str, dict[Index, Value]]:
    """``{name: {row index: value}}`` for each ``name: column OID``."""
    by_prefix = {f"{oid}.": name for name, oid in columns.items()}
    found: dict[str, dict[Index, Value]] = {name: {} for name in columns}
    with path.open(encoding="latin-1") as lines:
        for line in lines:
            oid, _, rest = line.rstrip("\n").partition("|")
            parts = oid.split(".")
            # Column OIDs here are 12-16 sub-ids long: try each cut once.
            for cut in range(12, 17):
                name = by_prefix.get(".".join(parts[:cut]) + ".")
                if name is not None:
                    tag, _, text = rest.partition("|")
                    found[name][tuple(int(p) for p in parts[cut:])] = _decode(tag, text)
                    break
    return found


def mac_text(index: Iterable[int]) -> str:
    return ":".join(f"{part:02x}" for part in list(index)[:6])


def _text(value: Value | None) -> str:
    return value.decode("latin-1").strip() if isinstance(value, bytes) else ""


def _int(value: Value | None) -> int | None:
    return value if isinstance(value, int) else None


def _ip(value: Value | None) -> str:
    if not isinstance(value, bytes):
        return ""
    if len(value) == 4:
        return ".".join(str(byte) for byte in value)
    return value.decode("ascii")  # snmprec may spell an IpAddress as dotted text


def _band_of_channel(channel: int | None) -> str:
    if channel is not None and 1 <= channel <= 14:
        return "2.4GHz"
    if channel is not None and 32 <= channel <= 177:
        return "5GHz"
    return "unknown"


def _rows(table: dict[Index, Value], prefix: Index) -> list[Value]:
    return [value for index, value in table.items() if index[: len(prefix)] == prefix]


def _total(values: list[Value]) -> int | None:
    numbers = [value for value in values if isinstance(value, int)]
    return sum(numbers) if numbers else None


def _scaled(value: int | None, factor: float) -> float | None:
    return None if value is None else value * factor


# --- ArubaOS controllers ------------------------------------------------------


def _controller_radio(data: dict[str, dict[Index, Value]], index: Index) -> RadioTruth:
    phy = _int(data["radio_type"].get(index))
    channel = _int(data["radio_channel"].get(index))
    tenth = _int(data["radio_power_tenth_dbm"].get(index))
    half = _int(data["radio_power_half_dbm"].get(index))
    noise = _int(data["noise"].get(index))
    rx = _int(data["radio_rx"].get(index))
    tx = _int(data["radio_tx"].get(index))
    return RadioTruth(
        radio=str(index[6]),
        band=BAND_OF_PHY.get(phy or 0) or _band_of_channel(channel),
        clients=_int(data["radio_clients"].get(index)),
        channel=channel,
        tx_power_dbm=tenth / 10 if tenth is not None else _scaled(half, 0.5),
        noise_floor_dbm=None if noise is None else -noise,
        channel_utilization_ratio=_scaled(_int(data["busy_percent"].get(index)), 0.01),
        retries_total=_int(data["retries"].get(index)),
        failures_total=_int(data["failed"].get(index)),
        receive_bytes_total=rx if rx is not None else _total(_rows(data["bssid_rx64"], index)),
        transmit_bytes_total=tx if tx is not None else _total(_rows(data["bssid_tx64"], index)),
    )


def _ssid_clients(data: dict[str, dict[Index, Value]], mac: Index) -> dict[str, int]:
    clients: dict[str, int] = defaultdict(int)
    for index, essid in data["essid"].items():
        count = _int(data["bssid_clients"].get(index))
        if index[:6] == mac and count is not None:
            clients[_text(essid)] += count
    return dict(clients)


def _uplink(data: dict[str, dict[Index, Value]], mac: Index, direction: str) -> int | None:
    ports = _total(_rows(data[f"port_{direction}"], mac))
    return ports if ports is not None else _int(data[f"wired_{direction}"].get(mac))


def _radio_rows(
    data: dict[str, dict[Index, Value]], columns: Iterable[str], mac: Index
) -> list[Index]:
    """A radio exists when any column of the radio table has a row for it."""
    rows = {index for column in columns for index in data[column] if index[:6] == mac}
    return sorted(rows)


def _controller_ap(data: dict[str, dict[Index, Value]], mac: Index) -> ApTruth:
    rows = _radio_rows(data, CONTROLLER_RADIO_TABLE, mac)
    radios = [_controller_radio(data, index) for index in rows]
    uptime = _int(data["ap_uptime"].get(mac))
    return ApTruth(
        mac=mac_text(mac),
        name=_text(data["ap_name"].get(mac)),
        up=data["ap_status"].get(mac) == UP,
        model=_text(data["ap_model"].get(mac)),
        serial=_text(data["ap_serial"].get(mac)),
        firmware=_text(data["ap_firmware"].get(mac)),
        ip=_ip(data["ap_ip"].get(mac)),
        uptime_seconds=_scaled(uptime, 0.01),
        clients=_total(_rows(data["radio_clients"], mac)),
        receive_bytes_total=_uplink(data, mac, "rx"),
        transmit_bytes_total=_uplink(data, mac, "tx"),
        radios={radio.radio: radio for radio in radios},
        ssid_clients=_ssid_clients(data, mac),
    )


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
    match = INSTANT_CHANNEL_TEXT.fullmatch(_text(value))
    channel = int(match.group(1)) if match else None
    return channel if channel in CHANNELS_24 | CHANNELS_5 else None


def _instant_radio(data: dict[str, dict[Index, Value]], index: Index) -> RadioTruth:
    channel = instant_channel(data["radio_channel"].get(index))
    noise = _int(data["noise"].get(index))
    return RadioTruth(
        radio=str(index[6]),
        band=_band_of_channel(channel),
        clients=_int(data["radio_clients"].get(index)),
        channel=channel,
        tx_power_dbm=_int(data["radio_power"].get(index)),
        noise_floor_dbm=None if noise is None else -noise,
        channel_utilization_ratio=_scaled(_int(data["busy_percent"].get(index)), 0.01),
        retries_total=None,  # AI-AP-MIB has no 802.11 retry/failure counters
        failures_total=None,
        receive_bytes_total=_int(data["radio_rx"].get(index)),
        transmit_bytes_total=_int(data["radio_tx"].get(index)),
    )


def _instant_ap(data: dict[str, dict[Index, Value]], mac: Index) -> ApTruth:
    rows = _radio_rows(data, INSTANT_RADIO_TABLE, mac)
    radios = [_instant_radio(data, index) for index in rows]
    uptime = _int(data["ap_uptime"].get(mac))
    return ApTruth(
        mac=mac_text(mac),
        name=_text(data["ap_name"].get(mac)),
        up=data["ap_status"].get(mac) == UP,
        model=_text(data["ap_model"].get(mac)),
        serial=_text(data["ap_serial"].get(mac)),
        firmware=_text(data["version"].get((0,))),
        ip=_ip(data["ap_ip"].get(mac)),
        uptime_seconds=_scaled(uptime, 0.01),
        clients=_total(_rows(data["radio_clients"], mac)),
        receive_bytes_total=None,  # no wired-side counters in AI-AP-MIB
        transmit_bytes_total=None,
        radios={radio.radio: radio for radio in radios},
    )


def instant_truth(path: Path) -> ControllerTruth:
    """Every AP of an Aruba Instant virtual controller walk, keyed by MAC."""
    data = read_columns(path, INSTANT_COLUMNS)
    aps = (_instant_ap(data, mac) for mac in data["ap_status"])
    return ControllerTruth({ap.mac: ap for ap in aps})
