"""The profile language: index parsing, lookups, aggregation, validation."""

from __future__ import annotations

import textwrap

import pytest

from wifimon.profiles.evaluate import PollData, observe
from wifimon.profiles.registry import ProfileError, ProfileRegistry, parse_profile
from wifimon.profiles.schema import Profile
from wifimon.profiles.tables import Table, parse_index
from wifimon.profiles.transforms import channel_from_frequency, leading_int
from wifimon.snmp.types import SnmpValue, ValueKind, VarBind, parse_oid

MAC = (0, 58, 152, 176, 46, 112)


def integer(value: int, kind: ValueKind = ValueKind.INTEGER) -> SnmpValue:
    return SnmpValue(kind, value)


def octets(value: bytes) -> SnmpValue:
    return SnmpValue(ValueKind.OCTET_STRING, value)


def profile(text: str) -> Profile:
    return parse_profile(textwrap.dedent(text), "test.yaml")


def poll_data(prof: Profile, rows: dict[str, list[tuple[tuple[int, ...], SnmpValue]]]) -> PollData:
    """``rows`` maps "table.column" to (index sub-ids, value) pairs."""
    tables = {name: Table(spec) for name, spec in prof.tables.items()}
    for ref, cells in rows.items():
        table_name, column = ref.split(".")
        root = prof.tables[table_name].columns[column]
        tables[table_name].add_column(
            column, [VarBind(root + index, value) for index, value in cells]
        )
    for table in tables.values():
        table.apply_where()
    return PollData(scalars={}, system={}, tables=tables)


CONTROLLER = """
    name: test-controller
    description: a controller for tests
    vendor: Test
    kind: controller
    match: {sys_object_id: ["1.3.6.1.4.1.99999"]}
    tables:
      ap:
        index: {mac: mac_prefixed}
        columns: {name: 1.9.1.1, state: 1.9.1.2}
      radio:
        index: {mac: mac, slot: int}
        columns: {clients: 1.9.2.1, channel: 1.9.2.2, level: 1.9.2.3}
      power:
        index: {mac: mac, slot: int}
        columns: {p1: 1.9.3.1, p2: 1.9.3.2}
      noise:
        index: {mac: mac, slot: int, channel: int}
        columns: {dbm: 1.9.4.1}
    ap:
      from: ap
      mac: {index: mac, transform: mac}
      up: {value: ap.state, map: {1: 1}, default: 0}
      fields:
        name: {value: ap.name, transform: string}
        clients: {value: radio.clients, aggregate: sum}
    radio:
      from: radio
      ap: {index: mac, transform: mac}
      radio: {index: slot}
      let:
        channel_number: radio.channel
        level: radio.level
      band: {field: channel_number, transform: band_from_channel}
      fields:
        channel: {field: channel_number}
        tx_power_dbm: {pick: level, choices: [power.p1, power.p2]}
        noise_floor_dbm: {value: noise.dbm, at: [mac, slot, channel_number]}
    """


def test_index_parsing_cuts_components_and_rejects_leftovers() -> None:
    assert parse_index(("mac", "int"), (*MAC, 1)) == (bytes(MAC), 1)
    assert parse_index(("mac_prefixed",), (6, *MAC)) == (bytes(MAC),)
    assert parse_index(("mac_prefixed",), MAC) == (bytes(MAC),)  # SZ agents without length
    assert parse_index(("string", "int"), (3, 97, 98, 99, 7)) == (b"abc", 7)
    assert parse_index(("int",), (1, 2)) is None  # sub-ids left over: malformed
    assert parse_index(("mac",), (1, 2, 3)) is None
    assert parse_index(("string",), (5, 97)) is None  # length beyond the OID
    assert parse_index(("mac",), (300, 1, 2, 3, 4, 5)) is None  # not a byte


def test_controller_profile_joins_tables_by_index_prefix() -> None:
    prof = profile(CONTROLLER)
    data = poll_data(
        prof,
        {
            "ap.name": [((6, *MAC), octets(b"place-reunion\x00"))],
            "ap.state": [((6, *MAC), integer(1))],
            "radio.clients": [
                ((*MAC, 0), integer(4, ValueKind.COUNTER32)),
                ((*MAC, 1), integer(9)),
            ],
            "radio.channel": [((*MAC, 0), integer(6)), ((*MAC, 1), integer(36))],
            "radio.level": [((*MAC, 0), integer(2)), ((*MAC, 1), integer(1))],
            "power.p1": [((*MAC, 0), integer(20)), ((*MAC, 1), integer(23))],
            "power.p2": [((*MAC, 0), integer(17)), ((*MAC, 1), integer(-1))],
            "noise.dbm": [
                ((*MAC, 0, 1), integer(-80)),
                ((*MAC, 0, 6), integer(-91)),
                ((*MAC, 1, 36), integer(-95)),
            ],
        },
    )
    observation = observe(prof, data)
    (ap,) = observation.aps
    assert ap.mac == "00:3a:98:b0:2e:70"
    assert ap.up is True
    assert ap.values["name"].value == "place-reunion"
    assert ap.values["clients"].value == 13
    two, five = ap.radios["0"], ap.radios["1"]
    assert (two.band, two.values["channel"].value, two.values["tx_power_dbm"].value) == (
        "2.4GHz",
        6,
        17,
    )
    assert two.values["noise_floor_dbm"].value == -91  # the serving channel's row, not channel 1
    assert (five.band, five.values["tx_power_dbm"].value, five.values["noise_floor_dbm"].value) == (
        "5GHz",
        23,
        -95,
    )
    assert observation.missing == 0


def test_missing_values_and_malformed_rows_are_counted_not_invented() -> None:
    prof = profile(CONTROLLER)
    data = poll_data(
        prof,
        {
            "ap.name": [((6, *MAC), octets(b"ap")), ((6, 1, 2), octets(b"broken index"))],
            "ap.state": [((6, *MAC), integer(2))],
            "radio.channel": [((*MAC, 0), integer(11))],
        },
    )
    observation = observe(prof, data)
    (ap,) = observation.aps
    assert ap.up is False
    radio = ap.radios["0"]
    assert "tx_power_dbm" not in radio.values
    assert "noise_floor_dbm" not in radio.values
    # ap.clients (no radio rows with clients), level, tx power, noise: 4 gaps; 1 malformed row.
    assert observation.missing == 5


def test_unmapped_enum_uses_default() -> None:
    prof = profile(CONTROLLER)
    data = poll_data(prof, {"ap.state": [((6, *MAC), integer(7))]})
    assert observe(prof, data).aps[0].up is False


def test_where_filters_rows_and_first_prefers_64_bit() -> None:
    prof = profile(
        """
        name: test-ap
        description: a stand-alone AP for tests
        vendor: Test
        kind: ap
        tables:
          ifs:
            index: {ifindex: int}
            columns: {type: 1.5.1, hc: 1.5.2, low: 1.5.3}
            where: {type: [6]}
        ap:
          fields:
            receive_bytes_total:
              first: [{value: ifs.hc, aggregate: sum}, {value: ifs.low, aggregate: sum}]
        """
    )
    data = poll_data(
        prof,
        {
            "ifs.type": [((1,), integer(24)), ((2,), integer(6)), ((3,), integer(6))],
            "ifs.low": [
                ((1,), integer(5, ValueKind.COUNTER32)),
                ((2,), integer(7, ValueKind.COUNTER32)),
            ],
        },
    )
    value = observe(prof, data).aps[0].values["receive_bytes_total"]
    assert (value.value, value.kind) == (7, ValueKind.COUNTER32)  # loopback (24) filtered out
    data = poll_data(
        prof,
        {"ifs.type": [((2,), integer(6))], "ifs.hc": [((2,), integer(2**40, ValueKind.COUNTER64))]},
    )
    assert observe(prof, data).aps[0].values["receive_bytes_total"].kind is ValueKind.COUNTER64


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("clients: {value: radio.clients, aggregate: sum}", "clients: radio.clients"),
            "aggregate",
        ),
        (("name: {value: ap.name, transform: string}", "name: {value: ap.nam}"), "no column 'nam'"),
        (("name: {value: ap.name, transform: string}", "colour: ap.name"), "not a catalogue field"),
        (("at: [mac, slot, channel_number]", "at: [mac, slot, chanel]"), "'chanel'"),
        (("ap: {index: mac, transform: mac}", "ap: {index: macc}"), "'macc' is not an index"),
        (("from: radio", "from: radios"), "no table named 'radios'"),
        (("transform: band_from_channel", "transform: band"), "band_from_channel"),
        (("kind: controller", "kind: switch"), "kind"),
        (("vendor: Test", "vendor: Test\n    colour: red"), "colour"),
        (("1.9.2.3", "one.nine"), "level: an OID is dotted numbers"),
    ],
)
def test_profile_errors_name_the_key_path(change: tuple[str, str], message: str) -> None:
    broken = textwrap.dedent(CONTROLLER).replace(*change, 1)
    with pytest.raises(ProfileError) as caught:
        parse_profile(broken, "broken.yaml")
    assert message in str(caught.value)
    assert "broken.yaml" in str(caught.value)


def test_equal_claims_on_a_sysobjectid_are_an_error() -> None:
    first = profile(CONTROLLER)
    second = profile(CONTROLLER.replace("name: test-controller", "name: other"))
    with pytest.raises(ProfileError, match="equal specificity"):
        ProfileRegistry([first, second])


def test_most_specific_claim_wins() -> None:
    base = profile(CONTROLLER)
    narrow = profile(
        CONTROLLER.replace("name: test-controller", "name: narrow").replace(
            '["1.3.6.1.4.1.99999"]', '["1.3.6.1.4.1.99999.1.7"]'
        )
    )
    registry = ProfileRegistry([base, narrow])
    assert registry.select(parse_oid("1.3.6.1.4.1.99999.1.7.2"), "").name == "narrow"  # type: ignore[union-attr]
    assert registry.select(parse_oid("1.3.6.1.4.1.99999.2"), "").name == "test-controller"  # type: ignore[union-attr]
    assert registry.select(parse_oid("1.3.6.1.4.1.9999"), "") is None  # a prefix ends on a sub-id


VAP_AP = """
    name: test-vap-ap
    description: a stand-alone AP whose radios are known only through its VAPs
    vendor: Test
    kind: ap
    tables:
      vap:
        index: {vap: int}
        columns: {radio: 1.7.1, clients: 1.7.2, channel: 1.7.3, state: 1.7.4, freq: 1.7.5}
    ap:
      fields:
        clients: {value: vap.clients, aggregate: sum}
    radio:
      from: vap
      radio: {value: vap.radio, transform: string}
      band: {value: vap.radio, map: {ng: 2.4GHz, na: 5GHz}, default: unknown}
      fields:
        clients: vap.clients
        channel: {value: vap.channel, mask: 255}
        tx_power_dbm: {value: vap.state, map: {Connect: 1, Disconnect: 0}}
    ssid:
      from: vap
      ssid: {value: vap.radio, transform: string}
      fields:
        clients: {value: vap.freq, transform: channel_from_frequency}
    """


def test_rows_naming_one_radio_merge_counts_summed_and_the_rest_kept() -> None:
    prof = profile(VAP_AP)
    data = poll_data(
        prof,
        {
            "vap.radio": [((1,), octets(b"ng")), ((2,), octets(b"ng")), ((3,), octets(b"na"))],
            "vap.clients": [((1,), integer(3)), ((2,), integer(4)), ((3,), integer(5))],
            "vap.channel": [((1,), integer(0x0106)), ((2,), integer(0x0106)), ((3,), integer(36))],
            "vap.state": [
                ((1,), octets(b"Connect")),
                ((2,), octets(b"Odd")),
                ((3,), octets(b"Disconnect")),
            ],
            "vap.freq": [((1,), integer(2412)), ((2,), integer(2484)), ((3,), integer(5180))],
        },
    )
    observation = observe(prof, data)
    (ap,) = observation.aps
    two, five = ap.radios["ng"], ap.radios["na"]
    assert (two.band, five.band) == ("2.4GHz", "5GHz")
    assert two.values["clients"].value == 7  # 3 + 4: two SSIDs on one radio
    assert two.values["channel"].value == 6  # mask 255 keeps the low byte; not summed
    assert two.values["tx_power_dbm"].value == 1  # free text mapped; "Odd" is a gap
    assert five.values["tx_power_dbm"].value == 0
    assert ap.ssids["ng"]["clients"].value == 1 + 14  # channel numbers from MHz, summed
    assert ap.ssids["na"]["clients"].value == 36
    assert observation.missing == 1


def test_channel_from_frequency_follows_the_ieee_plan() -> None:
    cases = {2412: 1, 2437: 6, 2472: 13, 2484: 14, 5180: 36, 5825: 165, 5955: 1, 7115: 233}
    for mhz, channel in cases.items():
        assert channel_from_frequency(mhz) == channel, mhz
    assert channel_from_frequency(900) is None


def test_leading_int_reads_the_number_a_text_starts_with() -> None:
    assert leading_int(b"116E") == 116
    assert leading_int(b" 53S") == 53
    assert leading_int(36) == 36
    assert leading_int(b"auto") is None


def test_a_bare_mac_starting_with_6_is_not_mistaken_for_a_length_prefix() -> None:
    bare = (6, 1, 2, 3, 4, 5)
    assert parse_index(("mac_prefixed", "int"), (*bare, 9)) == (bytes(bare), 9)
    assert parse_index(("mac_prefixed", "int"), (6, *bare, 9)) == (bytes(bare), 9)


def test_placeholder_values_listed_as_missing_count_as_gaps() -> None:
    prof = profile(
        """
        name: test-placeholders
        description: an AP reporting placeholders for unknown values
        vendor: Test
        kind: ap
        tables:
          radio:
            index: {slot: int}
            columns: {power: 1.8.1, mac: 1.8.2}
        ap:
          mac: {value: radio.mac, aggregate: first, missing: [ffffffffffff], transform: mac}
        radio:
          from: radio
          radio: {index: slot}
          fields:
            tx_power_dbm: {value: radio.power, missing: [255]}
        """
    )
    data = poll_data(
        prof,
        {
            "radio.power": [((0,), integer(255)), ((1,), integer(20))],
            "radio.mac": [((0,), octets(bytes([255] * 6))), ((1,), octets(bytes(MAC)))],
        },
    )
    observation = observe(prof, data)
    (ap,) = observation.aps
    assert ap.mac is None  # the first row's MAC is the placeholder: no identity
    assert "tx_power_dbm" not in ap.radios["0"].values
    assert ap.radios["1"].values["tx_power_dbm"].value == 20
    assert observation.missing == 2
