"""Anonymising recorded walks: identifiers go, joins and numbers stay.

A small profile (``TEST_PROFILE``) stands for any vendor: an AP table
indexed by MAC, a radio table indexed by MAC and slot whose BSSID column is
read as a MAC, and an SSID table indexed by a length-prefixed MAC and an
SSID string. Numbers in the rows act as markers: they are never changed, so
a test can find "the row that was AP 3" after every MAC has been replaced.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from wifimon.anonymise import (
    KEPT_IPS,
    ValueClass,
    anonymise,
    classify,
    fake_ip,
    fake_mac,
    fake_text,
    plan_for,
    segments,
)
from wifimon.profiles.registry import default_registry, parse_profile
from wifimon.recorder import snmprec_text
from wifimon.snmp.types import Oid, SnmpValue, ValueKind, VarBind, parse_oid

KEY = b"test-salt"
ENTERPRISE = "1.3.6.1.4.1.99999"
AP_NAME, AP_SERIAL, AP_IP, AP_MODEL, AP_CLIENTS, AP_PEER = (
    parse_oid(f"{ENTERPRISE}.1.1.1.{column}") for column in (2, 3, 4, 5, 6, 7)
)
RADIO_BSSID, RADIO_CHANNEL = (parse_oid(f"{ENTERPRISE}.1.2.1.{column}") for column in (2, 3))
SSID_CLIENTS = parse_oid(f"{ENTERPRISE}.1.3.1.2")
IP_AD_ENT_ADDR = parse_oid("1.3.6.1.2.1.4.20.1.1")  # ipAddrTable, indexed by the address
SYS_NAME = parse_oid("1.3.6.1.2.1.1.5.0")
SYS_DESCR = parse_oid("1.3.6.1.2.1.1.1.0")

TEST_PROFILE = parse_profile(
    f"""
name: test-vendor
description: a controller of every index kind the anonymiser must know
vendor: Test
kind: controller
match: {{sys_object_id: ["{ENTERPRISE}"]}}
tables:
  ap:
    index: {{mac: mac}}
    columns:
      name: {ENTERPRISE}.1.1.1.2
      serial: {ENTERPRISE}.1.1.1.3
      ip: {ENTERPRISE}.1.1.1.4
      model: {ENTERPRISE}.1.1.1.5
      clients: {ENTERPRISE}.1.1.1.6
  radio:
    index: {{mac: mac, slot: int}}
    columns:
      bssid: {ENTERPRISE}.1.2.1.2
      channel: {ENTERPRISE}.1.2.1.3
  ssid:
    index: {{mac: mac_prefixed, ssid: string}}
    columns:
      clients: {ENTERPRISE}.1.3.1.2
ap:
  from: ap
  mac: {{index: mac, transform: mac}}
  fields:
    name: {{value: ap.name, transform: string}}
    serial: {{value: ap.serial, transform: string}}
    ip: {{value: ap.ip, transform: ip}}
    model: {{value: ap.model, transform: string}}
    clients: ap.clients
radio:
  from: radio
  ap: {{index: mac, transform: mac}}
  radio: {{index: slot}}
  let:
    bssid: {{value: radio.bssid, transform: mac}}
  fields:
    channel: radio.channel
ssid:
  from: ssid
  ap: {{index: mac, transform: mac}}
  ssid: {{index: ssid, transform: string}}
  fields:
    clients: ssid.clients
""",
    "test-vendor.yaml",
)
PLAN = plan_for(TEST_PROFILE)


def octets(raw: bytes | str) -> SnmpValue:
    return SnmpValue(ValueKind.OCTET_STRING, raw.encode() if isinstance(raw, str) else raw)


def number(value: int, kind: ValueKind = ValueKind.GAUGE32) -> SnmpValue:
    return SnmpValue(kind, value)


def address(raw: bytes) -> SnmpValue:
    return SnmpValue(ValueKind.IP_ADDRESS, raw)


@dataclass(frozen=True)
class Ap:
    """One AP of a generated recording; ``marker`` tags its rows."""

    mac: bytes
    ip: bytes
    name: str
    serial: str
    marker: int


def ap_rows(ap: Ap) -> list[VarBind]:
    mac = tuple(ap.mac)
    return [
        VarBind(AP_NAME + mac, octets(ap.name)),
        VarBind(AP_SERIAL + mac, octets(ap.serial)),
        VarBind(AP_IP + mac, address(ap.ip)),
        VarBind(AP_MODEL + mac, octets("AIR-AP1852I-E-K9")),
        VarBind(AP_CLIENTS + mac, number(ap.marker)),
        VarBind(AP_PEER + mac, octets(ap.mac)),  # a column no profile describes
        VarBind((*RADIO_BSSID, *mac, 1), octets(ap.mac)),
        VarBind((*RADIO_CHANNEL, *mac, 1), number(100 + ap.marker, ValueKind.INTEGER)),
        VarBind((*SSID_CLIENTS, 6, *mac, 4, *b"City"), number(200 + ap.marker)),
        VarBind(IP_AD_ENT_ADDR + tuple(ap.ip), address(ap.ip)),
    ]


def recording(aps: list[Ap]) -> list[VarBind]:
    system = [
        VarBind(SYS_DESCR, octets("Test Controller 1.0")),
        VarBind(SYS_NAME, octets("wlc-harbour.example.net")),
    ]
    return system + [row for ap in aps for row in ap_rows(ap)]


def identifiers(varbind: VarBind) -> set[bytes]:
    """The MACs and addresses in ``varbind``: its value and its index components."""
    found = {varbind.value.value} if isinstance(varbind.value.value, bytes) else set()
    entry = PLAN.entry_of(varbind.oid)
    if entry is not None:
        layout = PLAN.layouts[entry]
        parts = segments(layout.kinds, varbind.oid[len(entry) + 1 :]) or []
        found |= {bytes(part[-6:] if kind != "ip" else part) for kind, part in parts}
    return found


def value_at(varbinds: list[VarBind], oid: Oid) -> SnmpValue:
    (found,) = [varbind.value for varbind in varbinds if varbind.oid == oid]
    return found


def row_with(varbinds: list[VarBind], column: Oid, marker: int) -> Oid:
    """The index (sub-ids after ``column``) of the row whose value is ``marker``."""
    (found,) = [
        vb.oid[len(column) :]
        for vb in varbinds
        if vb.oid[: len(column)] == column and vb.value.value == marker
    ]
    return found


# --- fake values -----------------------------------------------------------------


def test_a_fake_mac_is_locally_administered_unicast_and_keyed() -> None:
    mac = bytes.fromhex("003a98b02e70")
    fake = fake_mac(KEY, mac)
    assert len(fake) == 6
    assert fake[0] == 0x02  # locally administered, not multicast: never a burned-in MAC
    assert fake_mac(KEY, mac) == fake
    assert fake_mac(b"another salt", mac) != fake
    assert fake_mac(KEY, mac, attempt=1) != fake


def test_a_fake_address_is_in_the_benchmarking_range() -> None:
    for last in range(50):
        fake = fake_ip(KEY, bytes([10, 10, 2, last]))
        assert fake[0] == 198  # 198.18.0.0/15
        assert fake[1] in (18, 19)


def test_a_fake_text_says_what_it_replaces() -> None:
    assert fake_text(KEY, "serial", b"FCW1424U0HZ").startswith(b"serial-")
    assert len(fake_text(KEY, "name", b"a" * 32)) == len("name-") + 10


# --- the plan a profile gives ----------------------------------------------------


def test_the_plan_of_the_aireos_profile_names_its_private_and_public_columns() -> None:
    plan = plan_for(default_registry().get("cisco-aireos"))
    bsn_ap = "1.3.6.1.4.1.14179.2.2.1.1"
    assert plan.text_columns[parse_oid(f"{bsn_ap}.3")] == "name"
    assert plan.text_columns[parse_oid(f"{bsn_ap}.17")] == "serial"
    assert plan.text_columns[parse_oid(f"{bsn_ap}.19")] == "ip"
    assert parse_oid(f"{bsn_ap}.16") in plan.public_columns  # model
    assert parse_oid("1.3.6.1.4.1.14179.2.1.1.1.2") in plan.public_columns  # SSID
    assert plan.layouts[parse_oid(bsn_ap)].kinds == ("mac",)
    assert plan.layouts[parse_oid("1.3.6.1.4.1.14179.2.2.15.1")].kinds == ("mac", "int", "int")


def test_the_generic_profile_reads_ifphysaddress_as_a_mac() -> None:
    plan = plan_for(default_registry().get("generic"))
    assert parse_oid("1.3.6.1.2.1.2.2.1.6") in plan.mac_columns


def test_index_segments_follow_the_profile_index_kinds() -> None:
    mac = (0, 58, 152, 176, 46, 112)
    assert segments(("mac", "int"), (*mac, 1)) == [("mac", mac), ("int", (1,))]
    assert segments(("mac_prefixed",), (6, *mac)) == [("mac_prefixed", (6, *mac))]
    assert segments(("mac_prefixed",), mac) == [("mac_prefixed", mac)]
    assert segments(("string",), (3, 97, 98, 99)) == [("string", (3, 97, 98, 99))]
    assert segments(("mac",), mac[:5]) is None  # too short
    assert segments(("mac",), (*mac, 9)) is None  # sub-ids left over
    assert segments(("mac",), (0, 58, 152, 176, 46, 300)) is None  # not an octet


# --- classification ----------------------------------------------------------------


def test_values_are_classified_by_column_and_shape() -> None:
    mac = (0, 58, 152, 176, 46, 112)
    cases = {
        VarBind(AP_NAME + mac, octets("Museum-Hall-2")): ValueClass.TEXT,
        VarBind(AP_MODEL + mac, octets("AIR-AP1852I-E-K9")): ValueClass.KEEP,
        VarBind(AP_IP + mac, address(b"\x0a\x0a\x02\x0c")): ValueClass.IP,
        VarBind(AP_CLIENTS + mac, number(7)): ValueClass.KEEP,
        VarBind(AP_PEER + mac, octets(bytes(mac))): ValueClass.MAC,
        VarBind(AP_PEER + mac, octets("00:3A:98:B0:2E:70")): ValueClass.MAC_TEXT,
        VarBind(AP_PEER + mac, octets("some free text")): ValueClass.FREE_TEXT,
        VarBind((*RADIO_BSSID, *mac, 0), octets("ABCDEF")): ValueClass.MAC,  # a MAC column
        VarBind(SYS_DESCR, octets("Cisco Controller")): ValueClass.KEEP,
    }
    for varbind, expected in cases.items():
        assert classify(varbind, PLAN)[0] is expected, varbind


# --- anonymise: examples -------------------------------------------------------------

AP_ONE = Ap(bytes.fromhex("003a98b02e70"), b"\x0a\x0a\x02\x0c", "Museum-Hall-2", "FCW1424U0HZ", 1)
AP_TWO = Ap(bytes.fromhex("2834a2ddc2c0"), b"\x0a\x0a\x1e\x07", "Harbour-Pier", "FGL1814X4L2", 2)


def test_a_mac_maps_to_one_fake_in_every_index_and_value() -> None:
    result = anonymise(recording([AP_ONE, AP_TWO]), PLAN, KEY).varbinds
    for ap in (AP_ONE, AP_TWO):
        ap_index = row_with(result, AP_CLIENTS, ap.marker)
        radio_index = row_with(result, RADIO_CHANNEL, 100 + ap.marker)
        ssid_index = row_with(result, SSID_CLIENTS, 200 + ap.marker)
        assert ap_index != tuple(ap.mac)
        assert radio_index == (*ap_index, 1)
        assert ssid_index == (6, *ap_index, 4, *b"City")  # the length prefix and SSID stay
        assert value_at(result, RADIO_BSSID + radio_index).value == bytes(ap_index)
        assert value_at(result, AP_PEER + ap_index).value == bytes(ap_index)


def test_names_serials_and_addresses_are_replaced_and_the_rest_kept() -> None:
    result = anonymise(recording([AP_ONE]), PLAN, KEY).varbinds
    index = row_with(result, AP_CLIENTS, 1)
    assert value_at(result, AP_NAME + index).value == fake_text(KEY, "name", b"Museum-Hall-2")
    assert value_at(result, AP_SERIAL + index).value == fake_text(KEY, "serial", b"FCW1424U0HZ")
    fake_address = value_at(result, AP_IP + index)
    assert fake_address.kind is ValueKind.IP_ADDRESS
    assert isinstance(fake_address.value, bytes)
    assert fake_address.value != AP_ONE.ip
    # the ipAddrTable row moved to the fake address, and its value with it
    assert value_at(result, IP_AD_ENT_ADDR + tuple(fake_address.value)) == fake_address
    assert value_at(result, AP_MODEL + index).value == b"AIR-AP1852I-E-K9"
    assert value_at(result, SYS_DESCR).value == b"Test Controller 1.0"
    assert value_at(result, SYS_NAME).value == fake_text(KEY, "name", b"wlc-harbour.example.net")


def test_a_known_name_in_a_column_nobody_described_is_replaced_too() -> None:
    mac = tuple(AP_ONE.mac)
    walk = [*recording([AP_ONE]), VarBind(AP_PEER + mac, octets("Museum-Hall-2"))]
    result = anonymise(walk, PLAN, KEY)
    index = row_with(result.varbinds, AP_CLIENTS, 1)
    assert value_at(result.varbinds, AP_PEER + index).value == fake_text(
        KEY, "name", b"Museum-Hall-2"
    )
    assert result.kept_text == []


def test_unknown_free_text_is_kept_and_reported_for_review() -> None:
    extra = VarBind(parse_oid(f"{ENTERPRISE}.9.1.0"), octets("Rack 4, Harbour street 12"))
    result = anonymise([*recording([AP_ONE]), extra], PLAN, KEY)
    assert value_at(result.varbinds, extra.oid) == extra.value
    assert result.kept_text == [extra.oid]


def test_mac_text_keeps_its_separator_and_case() -> None:
    mac = tuple(AP_ONE.mac)
    walk = [*recording([AP_ONE]), VarBind(AP_PEER + mac, octets("00-3A-98-B0-2E-70"))]
    result = anonymise(walk, PLAN, KEY).varbinds
    index = row_with(result, AP_CLIENTS, 1)
    expected = "-".join(f"{byte:02X}" for byte in index).encode()
    assert value_at(result, AP_PEER + index).value == expected


def test_no_address_and_empty_text_are_kept() -> None:
    mac = tuple(AP_ONE.mac)
    walk = [
        VarBind(AP_IP + mac, address(bytes(4))),  # 0.0.0.0: an AP in layer-2 mode
        VarBind(AP_NAME + mac, octets("")),
        VarBind(AP_CLIENTS + mac, number(1)),
    ]
    result = anonymise(walk, PLAN, KEY).varbinds
    index = row_with(result, AP_CLIENTS, 1)
    assert value_at(result, AP_IP + index).value == bytes(4)
    assert value_at(result, AP_NAME + index).value == b""


def test_a_fake_never_equals_an_original_of_the_same_recording() -> None:
    # Plant the fake that AP_ONE's MAC would get as a second AP's real MAC.
    clash = Ap(fake_mac(KEY, AP_ONE.mac), b"\x0a\x00\x00\x01", "Other", "FCW0000X0AA", 2)
    result = anonymise(recording([AP_ONE, clash]), PLAN, KEY).varbinds
    indexes = {row_with(result, AP_CLIENTS, ap.marker) for ap in (AP_ONE, clash)}
    assert len(indexes) == 2
    assert not {bytes(index) for index in indexes} & {AP_ONE.mac, clash.mac}


def test_a_row_whose_index_does_not_parse_is_left_out() -> None:
    broken = VarBind((*AP_NAME, 0, 58, 152), octets("Half-a-MAC"))
    result = anonymise([*recording([AP_ONE]), broken], PLAN, KEY)
    assert result.dropped == 1
    assert b"Half-a-MAC" not in snmprec_text(result.varbinds).encode()


# --- anonymise: properties ---------------------------------------------------------

MACS = st.binary(min_size=6, max_size=6)
ADDRESSES = st.binary(min_size=4, max_size=4).filter(lambda raw: raw not in KEPT_IPS)
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
SERIALS = st.text(alphabet=UPPER + "0123456789", min_size=8, max_size=8).map(lambda s: "FCW" + s)
NAMES = st.text(alphabet=UPPER, min_size=6, max_size=12).map(lambda s: "AP-" + s)


@st.composite
def fleets(draw: st.DrawFn) -> list[Ap]:
    count = draw(st.integers(min_value=1, max_value=8))
    macs = draw(st.lists(MACS, min_size=count, max_size=count, unique=True))
    ips = draw(st.lists(ADDRESSES, min_size=count, max_size=count, unique=True))
    names = draw(st.lists(NAMES, min_size=count, max_size=count, unique=True))
    serials = draw(st.lists(SERIALS, min_size=count, max_size=count, unique=True))
    rows = zip(macs, ips, names, serials, strict=True)
    return [Ap(*fields, marker=marker) for marker, fields in enumerate(rows, start=1)]


@settings(max_examples=150, deadline=None)
@given(fleet=fleets(), salt=st.binary(min_size=1, max_size=32), seed=st.integers())
def test_joins_survive_output_is_stable_and_no_identifier_remains(
    fleet: list[Ap], salt: bytes, seed: int
) -> None:
    walk = recording(fleet)
    result = anonymise(walk, PLAN, salt)
    shuffled = random.Random(seed).sample(walk, len(walk))
    assert anonymise(shuffled, PLAN, salt) == result  # stable, whatever the walk order

    out = result.varbinds
    fakes = set()
    for ap in fleet:
        index = row_with(out, AP_CLIENTS, ap.marker)
        fakes.add(index)
        # the same MAC maps to the same fake in every table, index and value
        assert row_with(out, RADIO_CHANNEL, 100 + ap.marker) == (*index, 1)
        assert row_with(out, SSID_CLIENTS, 200 + ap.marker) == (6, *index, 4, *b"City")
        assert value_at(out, (*RADIO_BSSID, *index, 1)).value == bytes(index)
        assert value_at(out, AP_PEER + index).value == bytes(index)
    assert len(fakes) == len(fleet)  # no two APs merged

    originals = {ap.mac for ap in fleet} | {ap.ip for ap in fleet}
    leaked = [vb for vb in out if identifiers(vb) & originals]
    assert leaked == []
    text = snmprec_text(out)
    for ap in fleet:
        assert ap.serial not in text
        assert ap.name not in text
