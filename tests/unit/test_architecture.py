"""Rules of the codebase that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from wifimon.catalogue import CATALOGUE
from wifimon.profiles.registry import default_registry

ROOT = Path(__file__).resolve().parents[2]

# Client-level tables (stations, sessions): a public network's personal data.
CLIENT_TABLE_PREFIXES = (
    "1.3.6.1.4.1.14179.2.1.4",  # Airespace bsnMobileStationTable
    "1.3.6.1.4.1.14179.2.1.6",  # bsnMobileStationStatsTable
    "1.3.6.1.4.1.9.9.599.1.3",  # CISCO-LWAPP-DOT11-CLIENT-MIB
    "1.3.6.1.4.1.14823.2.2.1.4.1.2",  # WLSX-USER-MIB wlsxUserTable (Aruba controllers)
    "1.3.6.1.4.1.14823.2.2.1.5.2.2",  # WLSX-WLAN-MIB wlsxWlanStationInfoGroup
    "1.3.6.1.4.1.14823.2.2.1.5.3.2",  # WLSX-WLAN-MIB wlsxWlanStationStatsGroup
    "1.3.6.1.4.1.14823.2.3.3.1.2.4",  # AI-AP-MIB aiClientTable (Aruba Instant)
    "1.3.6.1.4.1.14823.2.3.3.1.2.5",  # AI-AP-MIB aiVoiceClientTable
    "1.3.6.1.4.1.25053.1.2.2.1.1.3.1",  # RUCKUS-ZD-WLAN-MIB ruckusZDWLANStaTable
    "1.3.6.1.4.1.25053.1.2.2.1.1.3.2",  # ruckusZDWiredStaTable
    "1.3.6.1.4.1.2011.6.139.18",  # HUAWEI-WLAN-STATION-MIB (hwWlanStationTable and statistics)
    "1.3.6.1.4.1.41112.1.4.7",  # UBNT-AirMAX-MIB ubntStaTable
    "1.3.6.1.4.1.14988.1.1.1.2",  # MIKROTIK-MIB mtxrWlRtabTable
    "1.3.6.1.4.1.14988.1.1.1.5",  # MIKROTIK-MIB mtxrWlCMRtabTable (CAPsMAN)
    "1.3.6.1.4.1.14988.1.1.21.4",  # MIKROTIK-MIB mtxrWifiRegistrationTable (RouterOS 7)
    "1.3.6.1.4.1.14988.1.1.5.1",  # MIKROTIK-MIB mtxrHotspotActiveUsersTable
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_never_imports_an_exporter() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "wifimon").rglob("*.py")
        if any(name.split(".")[0] == "wifimon_exporters" for name in _imports(path))
    ]
    assert offenders == []


def test_exporters_never_see_an_oid_or_a_profile() -> None:
    for path in (ROOT / "exporters").rglob("*.py"):
        forbidden = {
            name for name in _imports(path) if name.startswith(("wifimon.snmp", "wifimon.profiles"))
        }
        assert not forbidden, f"{path.name} imports {forbidden}"


def test_metric_names_follow_prometheus_conventions() -> None:
    for entry in CATALOGUE:
        assert re.fullmatch(r"wifimon_[a-z0-9_]+", entry.name), entry.name
        assert entry.name.endswith("_total") == (entry.kind.value == "counter"), entry.name
        assert (
            not {"mac", "ip", "client", "user"} & set(entry.labels)
            or entry.name == "wifimon_ap_info"
        )


def test_no_profile_reads_client_tables() -> None:
    for profile in default_registry().profiles.values():
        for table_name, table in profile.tables.items():
            for oid in table.columns.values():
                dotted = ".".join(map(str, oid))
                assert not dotted.startswith(CLIENT_TABLE_PREFIXES), (profile.name, table_name)
