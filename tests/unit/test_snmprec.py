"""Reading snmpsim .snmprec recordings into sorted varbinds."""

from __future__ import annotations

import bz2
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wifimon.snmp.snmprec import load_snmprec, parse_snmprec, parse_snmprec_line
from wifimon.snmp.types import SnmpValue, ValueKind, VarBind, format_oid

K = ValueKind


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1.3.6.1.2.1.1.7.0|2|-72", SnmpValue(K.INTEGER, -72)),
        ("1.3.6.1.2.1.1.5.0|4|ap-17 north", SnmpValue(K.OCTET_STRING, b"ap-17 north")),
        ("1.3.6.1.2.1.2.2.1.6.1|4x|001a2b3c4d5e", SnmpValue(K.OCTET_STRING, b"\x00\x1a+<M^")),
        ("1.3.6.1.2.1.1.9.0|5|", SnmpValue(K.NULL, None)),
        (
            "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.14179",
            SnmpValue(K.OBJECT_ID, (1, 3, 6, 1, 4, 1, 14179)),
        ),
        ("1.3.6.1.2.1.4.20.1.1.1|64|10.0.0.1", SnmpValue(K.IP_ADDRESS, b"\x0a\x00\x00\x01")),
        ("1.3.6.1.2.1.4.20.1.1.1|64x|c0a80001", SnmpValue(K.IP_ADDRESS, b"\xc0\xa8\x00\x01")),
        ("1.3.6.1.2.1.4.20.1.1.1|64|J}M}", SnmpValue(K.IP_ADDRESS, b"J}M}")),
        ("1.3.6.1.2.1.2.2.1.10.1|65|4294967295", SnmpValue(K.COUNTER32, 2**32 - 1)),
        ("1.3.6.1.2.1.2.2.1.5.1|66|1000000000", SnmpValue(K.GAUGE32, 1_000_000_000)),
        ("1.3.6.1.2.1.1.3.0|67|8640000", SnmpValue(K.TIMETICKS, 8_640_000)),
        ("1.3.6.1.4.1.2021.10.1.6.1|68x|9f780441", SnmpValue(K.OPAQUE, b"\x9fx\x04A")),
        ("1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615", SnmpValue(K.COUNTER64, 2**64 - 1)),
        ("1.3.6.1.2.1.1.1.0|128|", SnmpValue(K.NO_SUCH_OBJECT, None)),
        ("1.3.6.1.2.1.1.1.0|129|", SnmpValue(K.NO_SUCH_INSTANCE, None)),
        ("1.3.6.1.2.1.1.1.0|130|", SnmpValue(K.END_OF_MIB_VIEW, None)),
    ],
)
def test_each_tag_parses_to_its_kind_and_python_value(line: str, expected: SnmpValue) -> None:
    varbind = parse_snmprec_line(line)
    assert varbind is not None
    assert varbind.value == expected


def test_non_hex_strings_keep_their_original_bytes() -> None:
    # snmpsim reads files as ISO-8859-1, so every byte maps to one character
    varbind = parse_snmprec_line("1.3.6.1.2.1.1.1.0|4|caf\xe9 \u00ff")
    assert varbind is not None
    assert varbind.value.value == b"caf\xe9 \xff"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1.3.6.1.2.1.2.2.1.10.1|65:numeric|rate=100,initial=5000", SnmpValue(K.COUNTER32, 5000)),
        ("1.3.6.1.2.1.1.3.0|67:numeric|rate=100", SnmpValue(K.TIMETICKS, 0)),
        ("1.3.6.1.4.1.9.1|2:numeric|min=1,max=2,wrap=1,initial=2", SnmpValue(K.INTEGER, 2)),
        ("1.3.6.1.4.1.9.2|66:numeric|min=0,initial=2.0", SnmpValue(K.GAUGE32, 2)),
        ("1.3.6.1.4.1.9.3|4:writecache|value=PS 2", SnmpValue(K.OCTET_STRING, b"PS 2")),
        ("1.3.6.1.4.1.9.4|4:writecache|", SnmpValue(K.OCTET_STRING, b"")),
    ],
)
def test_variation_lines_take_initial_or_fixed_value_else_zero(
    line: str, expected: SnmpValue
) -> None:
    varbind = parse_snmprec_line(line)
    assert varbind is not None
    assert varbind.value == expected


def test_comments_and_blank_lines_are_skipped_and_output_is_sorted() -> None:
    text = "\n".join(
        [
            "# recorded from a test AP",
            "1.3.6.1.2.1.1.5.0|4|ap",
            "",
            "   ",
            "1.3.6.1.2.1.1.10.0|2|1",  # numerically after .5.0, though not as text
            "1.3.6.1.2.1.1.1.0|4|descr",
        ]
    )
    oids = [varbind.oid for varbind in parse_snmprec(text)]
    assert oids == [
        (1, 3, 6, 1, 2, 1, 1, 1, 0),
        (1, 3, 6, 1, 2, 1, 1, 5, 0),
        (1, 3, 6, 1, 2, 1, 1, 10, 0),
    ]


def test_a_repeated_oid_keeps_the_last_record_like_snmpsim() -> None:
    text = "1.3.6.1.2.1.1.5.0|2|1\n1.3.6.1.2.1.1.5.0|4|\n"
    assert parse_snmprec(text) == [
        VarBind((1, 3, 6, 1, 2, 1, 1, 5, 0), SnmpValue(K.OCTET_STRING, b""))
    ]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("1.3.6.1.2.1.1.5.0|4", "OID|TAG|VALUE"),
        ("1.3.6.1.2.1.1.5.0|99|x", "unknown tag"),
        ("1.3.6.1.2.1.1.5.0|integer|1", "unknown tag"),
        ("iso.3.6|2|1", "not a numeric OID"),
        ("1.3.6.1.2.1.1.5.0|2|many", "many"),
        ("1.3.6.1.2.1.1.5.0|65|-1", "out of range"),
        ("1.3.6.1.2.1.1.5.0|2|2147483648", "out of range"),
        ("1.3.6.1.2.1.1.5.0|4x|Juniper", "non-hexadecimal"),
        ("1.3.6.1.2.1.1.5.0|2x|01", "hex value not allowed"),
        ("1.3.6.1.2.1.1.5.0|64|10.0.0", "Expected 4 octets"),
        ("1.3.6.1.2.1.1.5.0|64x|0a00", "4 bytes"),
        ("1.3.6.1.2.1.1.5.0|:sql|table=t", "subtree"),
        ("1.3.6.1.2.1.1.5.0|65:numeric|initial=inf", "finite"),
    ],
)
def test_a_bad_line_raises_value_error_naming_source_and_line(bad_line: str, message: str) -> None:
    text = f"# header\n1.3.6.1.2.1.1.1.0|4|ok\n{bad_line}\n"
    with pytest.raises(ValueError, match=r"^ap\.snmprec:3: ") as caught:
        parse_snmprec(text, source="ap.snmprec")
    assert message in str(caught.value)


def test_bz2_recordings_are_read_transparently(tmp_path: Path) -> None:
    text = "1.3.6.1.2.1.1.5.0|4|ap-1\n1.3.6.1.2.1.1.3.0|67|42\n"
    plain = tmp_path / "ap.snmprec"
    plain.write_text(text, encoding="iso-8859-1")
    compressed = tmp_path / "ap-copy.snmprec.bz2"
    compressed.write_bytes(bz2.compress(text.encode("iso-8859-1")))
    assert load_snmprec(compressed) == load_snmprec(plain)
    assert len(load_snmprec(plain)) == 2


def test_a_bad_line_in_a_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.snmprec.bz2"
    path.write_bytes(bz2.compress(b"#x\n1.3.6.1.2.1.1.1.0|4x|Juniper\n"))
    with pytest.raises(ValueError, match=r"broken\.snmprec\.bz2:2: "):
        load_snmprec(path)


# -- a property: whatever we can write as snmprec, we read back unchanged ----

_oids = st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=12).map(
    lambda parts: (1, 3, *parts)
)
_values = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(lambda n: SnmpValue(K.INTEGER, n)),
    st.integers(0, 2**32 - 1).map(lambda n: SnmpValue(K.COUNTER32, n)),
    st.integers(0, 2**32 - 1).map(lambda n: SnmpValue(K.GAUGE32, n)),
    st.integers(0, 2**32 - 1).map(lambda n: SnmpValue(K.TIMETICKS, n)),
    st.integers(0, 2**64 - 1).map(lambda n: SnmpValue(K.COUNTER64, n)),
    st.binary(max_size=40).map(lambda b: SnmpValue(K.OCTET_STRING, b)),
    st.binary(min_size=4, max_size=4).map(lambda b: SnmpValue(K.IP_ADDRESS, b)),
    st.binary(max_size=20).map(lambda b: SnmpValue(K.OPAQUE, b)),
    _oids.map(lambda oid: SnmpValue(K.OBJECT_ID, oid)),
    st.just(SnmpValue(K.NULL, None)),
)
_TAGS = {
    K.INTEGER: "2",
    K.OCTET_STRING: "4x",
    K.NULL: "5",
    K.OBJECT_ID: "6",
    K.IP_ADDRESS: "64x",
    K.COUNTER32: "65",
    K.GAUGE32: "66",
    K.TIMETICKS: "67",
    K.OPAQUE: "68x",
    K.COUNTER64: "70",
}


def _record(varbind: VarBind) -> str:
    value = varbind.value.value
    if isinstance(value, bytes):
        text = value.hex()
    elif isinstance(value, tuple):
        text = format_oid(value)
    else:
        text = "" if value is None else str(value)
    return f"{format_oid(varbind.oid)}|{_TAGS[varbind.value.kind]}|{text}"


@given(st.dictionaries(_oids, _values, max_size=30))
def test_written_records_read_back_sorted_and_unchanged(
    records: dict[tuple[int, ...], SnmpValue],
) -> None:
    varbinds = [VarBind(oid, value) for oid, value in records.items()]
    parsed = parse_snmprec("\n".join(_record(varbind) for varbind in varbinds))
    assert parsed == sorted(varbinds, key=lambda varbind: varbind.oid)
