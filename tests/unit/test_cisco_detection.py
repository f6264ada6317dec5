"""Which profile a Cisco agent gets: AireOS, Catalyst 9800, or neither.

Every Cisco product shares the sysObjectID prefix 1.3.6.1.4.1.9.1, so the
choice rests on the product OID and sysDescr (wifi-mibs.md §1). The choice
is made the way the poller makes it (``choose_profile`` over the system
group), with every built-in profile loaded, so a claim added by another
profile that steals these agents fails here.
"""

from __future__ import annotations

import pytest

from wifimon.poller import choose_profile
from wifimon.profiles.registry import ProfileRegistry, default_registry
from wifimon.snmp.types import SnmpValue, ValueKind, parse_oid

CISCO_PRODUCTS = "1.3.6.1.4.1.9.1"
C9800_DESCR = (
    "Cisco IOS Software [Cupertino], C9800 Software (C9800_IOSXE-K9), Version 17.9.4a, "
    "RELEASE SOFTWARE (fc1)\r\nTechnical Support: http://www.cisco.com/techsupport"
)
# CISCO-PRODUCTS-MIB names of the Catalyst 9800 family.
C9800_PRODUCTS = {
    2391: "ciscoC9800CLK9",
    2530: "ciscoC980040K9",
    2531: "ciscoAIRCT9880K9",
    2669: "ciscoC980080K9",
    2860: "ciscoC9800LCK9",
    2861: "ciscoC9800LFK9",
    3323: "ciscoCW9800M",
    3324: "ciscoCW9800H1",
    3325: "ciscoCW9800H2",
}
ISR_DESCR = (
    "Cisco IOS Software [Bengaluru], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), "
    "Version 17.6.5, RELEASE SOFTWARE (fc2)"
)


@pytest.fixture(scope="module")
def registry() -> ProfileRegistry:
    return default_registry()


def chosen(registry: ProfileRegistry, sys_object_id: str, sys_descr: str) -> str:
    system = {
        "object_id": SnmpValue(ValueKind.OBJECT_ID, parse_oid(sys_object_id)),
        "descr": SnmpValue(ValueKind.OCTET_STRING, sys_descr.encode()),
    }
    return choose_profile(registry, "auto", system).name


@pytest.mark.parametrize("product", sorted(C9800_PRODUCTS), ids=C9800_PRODUCTS.get)
def test_every_catalyst_9800_product_picks_the_9800_profile(
    registry: ProfileRegistry, product: int
) -> None:
    assert chosen(registry, f"{CISCO_PRODUCTS}.{product}", C9800_DESCR) == "cisco-catalyst-9800"


def test_the_9800_sysdescr_of_a_real_report_is_recognised(registry: ProfileRegistry) -> None:
    # netdisco/snmp-info#436: a C9800-40 on IOS-XE 16.12 (Gibraltar).
    descr = (
        "Cisco IOS Software [Gibraltar], C9800 Software (C9800_IOSXE-K9), Version 16.12.4a, "
        "RELEASE SOFTWARE (fc1)"
    )
    assert chosen(registry, f"{CISCO_PRODUCTS}.2530", descr) == "cisco-catalyst-9800"


def test_the_aireos_5508_still_picks_the_aireos_profile(registry: ProfileRegistry) -> None:
    # The real AIR-CT5508-K9 recording: cisco5500Wlc and "Cisco Controller".
    assert chosen(registry, f"{CISCO_PRODUCTS}.1069", "Cisco Controller") == "cisco-aireos"


def test_an_aireos_controller_with_a_9800_range_oid_is_not_taken_for_a_9800(
    registry: ProfileRegistry,
) -> None:
    # The product OID alone is not enough: a 9800 always says C9800 in sysDescr.
    assert chosen(registry, f"{CISCO_PRODUCTS}.2531", "Cisco Controller") == "cisco-aireos"


@pytest.mark.parametrize(
    ("sys_object_id", "sys_descr"),
    [
        (f"{CISCO_PRODUCTS}.1861", ISR_DESCR),  # ciscoISR4331
        (f"{CISCO_PRODUCTS}.2530", ISR_DESCR),  # a 9800 product OID without the text
        (f"{CISCO_PRODUCTS}.1208", "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M)"),
    ],
    ids=["isr4331", "9800-oid-ios-text", "catalyst-2960"],
)
def test_an_ios_router_or_switch_falls_to_generic(
    registry: ProfileRegistry, sys_object_id: str, sys_descr: str
) -> None:
    assert chosen(registry, sys_object_id, sys_descr) == "generic"
