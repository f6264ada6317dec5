"""Write the city's SNMP agents as snmpsim data: one ``.snmprec`` per agent.

Each controller answers the OIDs of its shipped profile (Cisco AireOS:
bsnAP*/cLAp* tables; Aruba: wlsxWlan* tables) and each stand-alone AP the
standard MIBs the ``generic`` profile reads (SNMPv2-MIB, IF-MIB,
IEEE802dot11-MIB). Identity and configuration are plain static values;
every value that lives (state, uptime, clients, counters, utilisation,
noise) is routed to the ``wifimon_city`` variation module with a
``quantities.Query`` naming the AP and the quantity.

A dead AP keeps its identity row on its controller, reported not joined
and without radio or counter rows; a dead stand-alone AP gets no file, so
its agent does not answer at all. snmpsim looks up GETNEXT by binary search
in the file, so rows are written in OID order.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

from wifimon.simulator.city import (
    ARUBA,
    CISCO,
    SSIDS,
    AccessPoint,
    City,
    Controller,
    build_city,
    radio_index,
)
from wifimon.simulator.load import Clock
from wifimon.simulator.quantities import Query

MODULE = "wifimon_city"
COMMUNITY_PREFIX = "city"

Row = tuple[tuple[int, ...], str, str]

# Tags of the snmprec format (snmpsim/grammar/snmprec.py).
INTEGER, OCTETS, OID, IPADDRESS, COUNTER32, GAUGE32, TIMETICKS, COUNTER64 = (
    "2", "4x", "6", "64", "65", "66", "67", "70",
)  # fmt: skip


def _oid(text: str, *index: int) -> tuple[int, ...]:
    return (*(int(part) for part in text.split(".")), *index)


def static(oid: tuple[int, ...], tag: str, value: object) -> Row:
    """A fixed value; octet strings are always hex-encoded (UTF-8 names,
    binary MACs)."""
    if tag == OCTETS:
        data = value if isinstance(value, bytes) else str(value).encode()
        return oid, tag, data.hex()
    return oid, tag, str(value)


def live(oid: tuple[int, ...], tag: str, query: Query | str) -> Row:
    """A value the variation module computes at request time."""
    text = query if isinstance(query, str) else query.text()
    return oid, f"{tag}:{MODULE}", text


def mac_index(mac: str) -> tuple[int, ...]:
    """``02:00:5e:10:00:2a`` -> ``(2, 0, 94, 16, 0, 42)``: a MacAddress index."""
    return tuple(int(part, 16) for part in mac.split(":"))


def write_snmprec(path: Path, rows: Iterator[Row] | list[Row]) -> None:
    """Write ``rows`` sorted by OID, atomically (snmpsim may be reading)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="ascii", newline="\n") as out:
        for oid, tag, value in sorted(rows):
            out.write(f"{'.'.join(map(str, oid))}|{tag}|{value}\n")
    partial.replace(path)


def community(name: str) -> str:
    """The community (data file path) of controller or stand-alone AP ``name``."""
    return f"{COMMUNITY_PREFIX}/{name}"


def write_agents(city: City, data_dir: Path) -> dict[str, str]:
    """Write every agent of ``city`` under ``data_dir``; returns the
    community of each controller and live stand-alone AP by name."""
    communities: dict[str, str] = {}
    for controller in city.controllers:
        aps = city.controller_aps(controller.name)
        rows = (
            cisco_rows(controller, aps)
            if controller.vendor == CISCO
            else aruba_rows(controller, aps)
        )
        write_snmprec(data_dir / f"{community(controller.name)}.snmprec", rows)
        communities[controller.name] = community(controller.name)
    for ap in city.standalone_aps():
        target = data_dir / f"{community(ap.ap)}.snmprec"
        if ap.dead:
            target.unlink(missing_ok=True)  # a dead agent does not answer
            continue
        write_snmprec(target, generic_rows(ap))
        communities[ap.ap] = community(ap.ap)
    return communities


def system_rows(descr: str, object_id: str, name: str, uptime: Query | str) -> list[Row]:
    base = "1.3.6.1.2.1.1"
    return [
        static(_oid(f"{base}.1.0"), OCTETS, descr),
        static(_oid(f"{base}.2.0"), OID, object_id),
        live(_oid(f"{base}.3.0"), TIMETICKS, uptime),
        static(_oid(f"{base}.4.0"), OCTETS, "Ville de Mulhouse, reseau Wi-Fi public (simulation)"),
        static(_oid(f"{base}.5.0"), OCTETS, name),
        static(_oid(f"{base}.6.0"), OCTETS, "Mulhouse"),
        static(_oid(f"{base}.7.0"), INTEGER, 72),
    ]


# --- Cisco AireOS ----------------------------------------------------------

AIRESPACE = "1.3.6.1.4.1.14179.2"
LWAPP = "1.3.6.1.4.1.9.9.513.1"
# 2.4 GHz radios step down from 17 dBm, 5 GHz ones from 20 dBm (levels 1..8).
POWER_TABLES = ((17, 14, 11, 8, 5, 2, -1, -4), (20, 17, 14, 11, 8, 5, 2, -1))
POWER_COLUMNS = (2, 3, 4, 5, 6, 7, 8, 28)  # bsnAPIfDot11TxPowerLevel1..8 (8 is column 28)
CHANNELS_2G = (1, 6, 11)


def cisco_rows(controller: Controller, aps: list[AccessPoint]) -> list[Row]:
    rows = system_rows(
        "Cisco Controller",
        "1.3.6.1.4.1.9.1.2170",  # cisco5520WLC
        controller.name,
        f"controller={controller.name}",
    )
    for wlan, ssid in enumerate(SSIDS, 1):
        rows.append(static(_oid(f"{AIRESPACE}.1.1.1.1", wlan), GAUGE32, wlan))
        rows.append(static(_oid(f"{AIRESPACE}.1.1.1.2", wlan), OCTETS, ssid))
    for ap in aps:
        rows += _cisco_ap(ap)
        if not ap.dead:
            for radio in (0, 1):
                rows += _cisco_radio(ap, radio)
    return rows


def _cisco_ap(ap: AccessPoint) -> list[Row]:
    mac = mac_index(ap.mac)
    table = f"{AIRESPACE}.2.1.1"

    def q(name: str, **extra: int) -> Query:
        return Query(ap.ap, name, **extra)

    rows = [
        static(_oid(f"{table}.1", *mac), OCTETS, bytes(mac)),
        static(_oid(f"{table}.3", *mac), OCTETS, ap.name),
        static(_oid(f"{table}.4", *mac), OCTETS, ap.site),
        static(_oid(f"{table}.8", *mac), OCTETS, ap.firmware),
        static(_oid(f"{table}.16", *mac), OCTETS, ap.model),
        static(_oid(f"{table}.17", *mac), OCTETS, ap.serial),
        static(_oid(f"{table}.19", *mac), IPADDRESS, ap.ip),
    ]
    if ap.dead:  # known to the controller, not joined: disassociating(2)
        return [*rows, static(_oid(f"{table}.6", *mac), INTEGER, 2)]
    return [
        *rows,
        live(_oid(f"{table}.6", *mac), INTEGER, q("status", on=1, off=2)),
        static(_oid(f"{LWAPP}.1.1.1.5", *mac), OCTETS, ap.name),
        live(_oid(f"{LWAPP}.1.1.1.6", *mac), TIMETICKS, q("uptime")),
        live(_oid(f"{LWAPP}.1.1.1.54", *mac), GAUGE32, q("clients")),
        static(_oid(f"{LWAPP}.2.2.1.2", *mac, 0), OCTETS, "GigabitEthernet0"),
        # cLApEthernetIfRx/TxTotalBytes: Counter32 only, so they wrap.
        live(_oid(f"{LWAPP}.2.2.1.13", *mac, 0), COUNTER32, q("uplink_rx", bits=32)),
        live(_oid(f"{LWAPP}.2.2.1.14", *mac, 0), COUNTER32, q("uplink_tx", bits=32)),
    ]


def _cisco_radio(ap: AccessPoint, radio: int) -> list[Row]:
    mac, slot = mac_index(ap.mac), radio_index(CISCO, radio)
    spec = ap.radios[radio]
    band_type = radio + 1  # bsnAPIfType dot11b(1) / dot11a(2), also cLApWlanStats' index
    level = 1 + POWER_TABLES[radio].index(spec.tx_power_dbm)
    ap_if = f"{AIRESPACE}.2.2.1"

    def q(name: str, **extra: int) -> Query:
        return Query(ap.ap, name, radio=radio, **extra)

    rows = [
        static(_oid(f"{ap_if}.1", *mac, slot), GAUGE32, slot),
        static(_oid(f"{ap_if}.2", *mac, slot), INTEGER, band_type),
        static(_oid(f"{ap_if}.4", *mac, slot), INTEGER, spec.channel),
        static(_oid(f"{ap_if}.6", *mac, slot), INTEGER, level),
        static(_oid(f"{ap_if}.12", *mac, slot), INTEGER, 2),  # radio up(2)
        # bsnApIfNoOfUsers is typed Counter32 but is a count (wifi-mibs.md).
        live(_oid(f"{ap_if}.15", *mac, slot), COUNTER32, q("radio_clients")),
        live(_oid(f"{AIRESPACE}.2.6.1.3", *mac, slot), COUNTER32, q("retries", bits=32)),
        live(_oid(f"{AIRESPACE}.2.6.1.33", *mac, slot), COUNTER32, q("failures", bits=32)),
        live(_oid(f"{AIRESPACE}.2.13.1.3", *mac, slot), INTEGER, q("util")),
    ]
    for column, power in zip(POWER_COLUMNS, POWER_TABLES[radio], strict=True):
        rows.append(static(_oid(f"{AIRESPACE}.2.8.1.{column}", *mac, slot), INTEGER, power))
    for scan, channel in enumerate(_scanned_channels(spec.channel, radio)):
        rows.append(
            live(
                _oid(f"{AIRESPACE}.2.15.1.21", *mac, slot, channel), INTEGER, q("noise", scan=scan)
            )
        )
    for wlan in (1, 2):
        stats = f"{LWAPP}.9.1.1"
        rows += [
            live(_oid(f"{stats}.2", *mac, band_type, wlan), COUNTER64, q("cell_tx", wlan=wlan)),
            live(_oid(f"{stats}.4", *mac, band_type, wlan), COUNTER64, q("cell_rx", wlan=wlan)),
            live(_oid(f"{stats}.6", *mac, band_type, wlan), GAUGE32, q("cell_clients", wlan=wlan)),
        ]
    return rows


def _scanned_channels(serving: int, radio: int) -> list[int]:
    """The serving channel first, then two the radio also scans."""
    others = [c for c in (CHANNELS_2G if radio == 0 else (36, 52, 100, 116)) if c != serving]
    return [serving, *others[:2]]


# --- Aruba mobility controller ----------------------------------------------

WLSX = "1.3.6.1.4.1.14823.2.2.1.5"


def aruba_rows(controller: Controller, aps: list[AccessPoint]) -> list[Row]:
    rows = system_rows(
        "ArubaOS (MODEL: Aruba7210), Version 8.10.0.6 (88081)",
        "1.3.6.1.4.1.14823.1.1.32",  # a7210
        controller.name,
        f"controller={controller.name}",
    )
    for ap in aps:
        rows += _aruba_ap(ap)
        if not ap.dead:  # a down AP has no radio rows on ArubaOS
            for radio in (0, 1):
                rows += _aruba_radio(ap, radio)
    return rows


def _aruba_ap(ap: AccessPoint) -> list[Row]:
    mac = mac_index(ap.mac)
    table = f"{WLSX}.2.1.4.1"
    rows = [
        static(_oid(f"{table}.2", *mac), IPADDRESS, ap.ip),
        static(_oid(f"{table}.3", *mac), OCTETS, ap.name),
        static(_oid(f"{table}.6", *mac), OCTETS, ap.serial),
        static(_oid(f"{table}.13", *mac), OCTETS, ap.model.removeprefix("AP-")),
        static(_oid(f"{table}.34", *mac), OCTETS, ap.firmware),
    ]
    if ap.dead:
        return [
            *rows,
            static(_oid(f"{table}.12", *mac), TIMETICKS, 0),
            static(_oid(f"{table}.19", *mac), INTEGER, 2),  # down(2)
        ]
    return [
        *rows,
        live(_oid(f"{table}.12", *mac), TIMETICKS, Query(ap.ap, "uptime")),
        live(_oid(f"{table}.19", *mac), INTEGER, Query(ap.ap, "status", on=1, off=2)),
        live(_oid(f"{WLSX}.3.1.10.1.6", *mac, 1), COUNTER64, Query(ap.ap, "uplink_rx")),
        live(_oid(f"{WLSX}.3.1.10.1.10", *mac, 1), COUNTER64, Query(ap.ap, "uplink_tx")),
    ]


def _aruba_radio(ap: AccessPoint, radio: int) -> list[Row]:
    mac, index = mac_index(ap.mac), radio_index(ARUBA, radio)
    spec = ap.radios[radio]

    def q(name: str, **extra: int) -> Query:
        return Query(ap.ap, name, radio=radio, **extra)

    rows = [
        static(_oid(f"{WLSX}.2.1.5.1.2", *mac, index), INTEGER, 3 if radio == 0 else 1),
        static(_oid(f"{WLSX}.2.1.5.1.3", *mac, index), INTEGER, spec.channel),
        static(_oid(f"{WLSX}.2.1.5.1.4", *mac, index), INTEGER, 2 * spec.tx_power_dbm),
        live(_oid(f"{WLSX}.2.1.5.1.7", *mac, index), GAUGE32, q("radio_clients")),
        static(_oid(f"{WLSX}.2.1.5.1.17", *mac, index), INTEGER, 10 * spec.tx_power_dbm),
        live(_oid(f"{WLSX}.3.1.6.1.9", *mac, index), INTEGER, q("noise", sign=1)),
        live(_oid(f"{WLSX}.3.1.6.1.23", *mac, index), COUNTER32, q("failures", bits=32)),
        live(_oid(f"{WLSX}.3.1.6.1.24", *mac, index), COUNTER32, q("retries", bits=32)),
        live(_oid(f"{WLSX}.3.1.6.1.37", *mac, index), INTEGER, q("util")),
        live(_oid(f"{WLSX}.3.1.9.1.2", *mac, index), COUNTER64, q("radio_rx")),
        live(_oid(f"{WLSX}.3.1.9.1.4", *mac, index), COUNTER64, q("radio_tx")),
    ]
    for wlan, ssid in enumerate(SSIDS, 1):
        bssid = (0x02 | (radio * 2 + wlan - 1) << 2, *mac[1:])  # locally administered
        bss = f"{WLSX}.2.1.7.1"
        rows.append(static(_oid(f"{bss}.2", *mac, index, *bssid), OCTETS, ssid))
        rows.append(
            live(_oid(f"{bss}.12", *mac, index, *bssid), GAUGE32, q("cell_clients", wlan=wlan))
        )
    return rows


# --- stand-alone APs (generic profile) ------------------------------------

IF_TABLE, IF_X_TABLE, DOT11 = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1", "1.2.840.10036"


def generic_rows(ap: AccessPoint) -> list[Row]:
    rows = system_rows(
        f"Linux {ap.name.lower()} 5.15.150 #0 SMP OpenWrt 23.05.3",
        "1.3.6.1.4.1.8072.3.2.10",  # net-snmp on Linux, as OpenWrt's snmpd reports
        ap.name,
        Query(ap.ap, "uptime"),
    )
    rows.append(static(_oid("1.3.6.1.2.1.2.1.0"), INTEGER, 3))  # ifNumber
    rows += _interface(ap, 1, "eth0", 6, "uplink")
    for radio in (0, 1):
        if_index = radio_index(ap.vendor, radio)
        rows += _interface(ap, if_index, f"wlan{radio}", 71, "radio", radio)
        phy = "4.5.1.1" if radio == 0 else "4.11.1.1"  # dot11PhyDSSS / dot11PhyOFDM channel
        rows += [
            static(_oid(f"{DOT11}.{phy}", if_index), INTEGER, ap.radios[radio].channel),
            static(_oid(f"{DOT11}.3.1.2.1.3", if_index), OCTETS, ap.model),
            static(_oid(f"{DOT11}.3.1.2.1.4", if_index), OCTETS, ap.firmware),
            live(
                _oid(f"{DOT11}.2.2.1.3", if_index),
                COUNTER32,
                Query(ap.ap, "failures", radio=radio, bits=32),
            ),
            live(
                _oid(f"{DOT11}.2.2.1.4", if_index),
                COUNTER32,
                Query(ap.ap, "retries", radio=radio, bits=32),
            ),
        ]
    return rows


def _interface(  # noqa: PLR0917 - one row of IF-MIB, its columns in order
    ap: AccessPoint, if_index: int, name: str, if_type: int, role: str, radio: int = 0
) -> list[Row]:
    """ifTable + ifXTable of one interface; the wire brings in what
    clients download, a radio receives what they upload."""
    rx, tx = ("uplink_rx", "uplink_tx") if role == "uplink" else ("radio_rx", "radio_tx")
    mac = ap.mac if role == "uplink" else _radio_mac(ap.mac, radio)
    return [
        static(_oid(f"{IF_TABLE}.1", if_index), INTEGER, if_index),
        static(_oid(f"{IF_TABLE}.2", if_index), OCTETS, name),
        static(_oid(f"{IF_TABLE}.3", if_index), INTEGER, if_type),
        static(_oid(f"{IF_TABLE}.5", if_index), GAUGE32, 1_000_000_000),
        static(_oid(f"{IF_TABLE}.6", if_index), OCTETS, bytes(mac_index(mac))),
        static(_oid(f"{IF_TABLE}.7", if_index), INTEGER, 1),
        static(_oid(f"{IF_TABLE}.8", if_index), INTEGER, 1),
        live(_oid(f"{IF_TABLE}.10", if_index), COUNTER32, Query(ap.ap, rx, radio=radio, bits=32)),
        live(_oid(f"{IF_TABLE}.16", if_index), COUNTER32, Query(ap.ap, tx, radio=radio, bits=32)),
        static(_oid(f"{IF_X_TABLE}.1", if_index), OCTETS, name),
        live(_oid(f"{IF_X_TABLE}.6", if_index), COUNTER64, Query(ap.ap, rx, radio=radio)),
        live(_oid(f"{IF_X_TABLE}.10", if_index), COUNTER64, Query(ap.ap, tx, radio=radio)),
    ]


def _radio_mac(mac: str, radio: int) -> str:
    first, rest = mac.split(":", 1)
    return f"{int(first, 16) | (4 + 4 * radio):02x}:{rest}"


# --- what the variation module needs to rebuild the city --------------------

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding `wifimon`
VARIATION_SOURCE = Path(__file__).resolve().parent / "variation" / f"{MODULE}.py"


def write_settings(path: Path, aps: int, seed: int, clock: Clock) -> None:
    """The JSON the variation module's ``init`` reads: where the model is,
    which city, which clock."""
    settings = {
        "root": str(PACKAGE_ROOT),
        "aps": aps,
        "seed": seed,
        "clock": {"origin": clock.origin, "wall_start": clock.wall_start, "speed": clock.speed},
    }
    path.write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")


def read_settings(path: Path) -> tuple[City, Clock]:
    """The city and clock a running demo serves (for tests and the live view)."""
    settings = json.loads(path.read_text(encoding="utf-8"))
    city = build_city(int(settings["aps"]), int(settings["seed"]))
    return city, Clock(**settings["clock"])


def install_variation_module(directory: Path) -> Path:
    """Copy the module alone into ``directory`` (snmpsim loads every ``.py``
    of a modules folder, and the package folder also has ``__init__.py``)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / VARIATION_SOURCE.name
    shutil.copyfile(VARIATION_SOURCE, target)
    return target
