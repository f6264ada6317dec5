"""The recorder without a network: what it walks, what it writes, how it
takes secrets. Recording over real UDP is in tests/e2e/test_record.py."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.devices.golden import discover, expected_path, serialise
from wifimon.poller import poll_target
from wifimon.profiles.registry import default_registry
from wifimon.recorder import (
    CredentialOptions,
    Progress,
    RecordUsageError,
    credentials_from_options,
    record,
    snmprec_line,
    snmprec_text,
    walk_roots,
    write_snmprec,
)
from wifimon.snmp.recorded import RecordedTransport
from wifimon.snmp.snmprec import load_snmprec, parse_snmprec
from wifimon.snmp.types import SnmpCredentials, SnmpTarget, SnmpValue, ValueKind, VarBind

C9800_CASE = next(case for case in discover() if case.name == "cisco-catalyst-9800-c9800-40")
TARGET = SnmpTarget("wlc", "127.0.0.1", 161, SnmpCredentials("2c", community="x"))


# --- writing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "line"),
    [
        (SnmpValue(ValueKind.OCTET_STRING, b"wlc-1"), "1.3.6|4|wlc-1"),
        (SnmpValue(ValueKind.OCTET_STRING, b"\x00\x3a\x98"), "1.3.6|4x|003a98"),
        (SnmpValue(ValueKind.OCTET_STRING, b" padded "), "1.3.6|4x|2070616464656420"),
        (SnmpValue(ValueKind.OCTET_STRING, b"a|b"), "1.3.6|4x|617c62"),
        (SnmpValue(ValueKind.OCTET_STRING, b""), "1.3.6|4|"),
        (SnmpValue(ValueKind.IP_ADDRESS, b"\x0a\x0a\x02\x0c"), "1.3.6|64x|0a0a020c"),
        (SnmpValue(ValueKind.OBJECT_ID, (1, 3, 6, 1, 4, 1, 9)), "1.3.6|6|1.3.6.1.4.1.9"),
        (SnmpValue(ValueKind.COUNTER64, 2**64 - 1), f"1.3.6|70|{2**64 - 1}"),
        (SnmpValue(ValueKind.INTEGER, -82), "1.3.6|2|-82"),
        (SnmpValue(ValueKind.NULL, None), "1.3.6|5|"),
    ],
)
def test_values_are_written_as_snmpsim_records_them(value: SnmpValue, line: str) -> None:
    assert snmprec_line(VarBind((1, 3, 6), value)) == line


def test_an_exception_value_is_not_recordable() -> None:
    with pytest.raises(ValueError, match="noSuchInstance"):
        snmprec_line(VarBind((1, 3, 6), SnmpValue(ValueKind.NO_SUCH_INSTANCE, None)))


NUMBER_KINDS = {
    ValueKind.INTEGER: st.integers(-(2**31), 2**31 - 1),
    ValueKind.COUNTER32: st.integers(0, 2**32 - 1),
    ValueKind.GAUGE32: st.integers(0, 2**32 - 1),
    ValueKind.TIMETICKS: st.integers(0, 2**32 - 1),
    ValueKind.COUNTER64: st.integers(0, 2**64 - 1),
}
VALUES = st.one_of(
    *(
        kind_values.map(lambda n, k=kind: SnmpValue(k, n))
        for kind, kind_values in NUMBER_KINDS.items()
    ),
    st.binary(max_size=40).map(lambda raw: SnmpValue(ValueKind.OCTET_STRING, raw)),
    st.binary(min_size=4, max_size=4).map(lambda raw: SnmpValue(ValueKind.IP_ADDRESS, raw)),
    st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=12).map(
        lambda parts: SnmpValue(ValueKind.OBJECT_ID, tuple(parts))
    ),
)
OIDS = st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=20).map(tuple)


@given(st.dictionaries(OIDS, VALUES, max_size=30))
def test_whatever_is_written_reads_back_identically(
    records: dict[tuple[int, ...], SnmpValue],
) -> None:
    varbinds = [VarBind(oid, value) for oid, value in records.items()]
    assert parse_snmprec(snmprec_text(varbinds)) == sorted(varbinds, key=lambda vb: vb.oid)


def test_the_file_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "device.snmprec"
    path.write_text("earlier recording\n")
    bad = VarBind((1, 3, 6), SnmpValue(ValueKind.END_OF_MIB_VIEW, None))
    with pytest.raises(ValueError, match="endOfMibView"):
        write_snmprec(path, [VarBind((1, 3, 5), SnmpValue(ValueKind.INTEGER, 1)), bad])
    assert path.read_text() == "earlier recording\n"
    assert [p.name for p in tmp_path.iterdir()] == ["device.snmprec"]  # no partial file left


# --- what is walked ----------------------------------------------------------------


def test_each_profile_column_is_walked_once_under_its_first_table() -> None:
    generic = default_registry().get("generic")
    roots = walk_roots(generic)
    # "interfaces" repeats the uplink's octet columns: they are walked once, for "uplink"
    assert (1, 3, 6, 1, 2, 1, 2, 2, 1, 10) in roots["uplink"]
    walked = [root for table_roots in roots.values() for root in table_roots]
    assert len(walked) == len(set(walked))
    assert "interfaces" not in roots


def test_subtrees_replace_the_profile_columns_and_nested_ones_are_walked_once() -> None:
    generic = default_registry().get("generic")
    roots = walk_roots(generic, [(1, 3, 6, 1, 2, 1, 2), (1, 3, 6, 1, 2, 1, 2, 2, 1, 6)])
    assert roots == {"1.3.6.1.2.1.2": [(1, 3, 6, 1, 2, 1, 2)]}


# --- credentials from options -------------------------------------------------------


def test_a_community_comes_from_the_environment() -> None:
    options = CredentialOptions(community_env="COMMUNITY", snmp_version="1")
    credentials = credentials_from_options(options, {"COMMUNITY": "s3cret"})
    assert (credentials.version, credentials.community) == ("1", "s3cret")


def test_v3_secrets_come_from_a_variable_or_a_file(tmp_path: Path) -> None:
    (tmp_path / "priv").write_text("priv-pass-1\n")
    options = CredentialOptions(
        v3_user="monitor",
        auth_protocol="sha256",
        auth_password_env="AUTH",
        priv_protocol="aes128",
        priv_password_file=tmp_path / "priv",
    )
    credentials = credentials_from_options(options, {"AUTH": "auth-pass-1"})
    assert credentials.user == "monitor"
    assert (credentials.auth_password, credentials.priv_password) == ("auth-pass-1", "priv-pass-1")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (CredentialOptions(), "say how to authenticate"),
        (CredentialOptions(community_env="UNSET"), "UNSET .* unset or empty"),
        (CredentialOptions(community_env="C", v3_user="u"), "not both"),
        (CredentialOptions(community_env="C", priv_password_env="C"), "not both"),
        (CredentialOptions(auth_protocol="sha"), "need --v3-user"),
        (CredentialOptions(v3_user="u", auth_protocol="sha"), "go together"),
        (CredentialOptions(v3_user="u", auth_password_env="C"), "go together"),
        (
            CredentialOptions(v3_user="u", priv_protocol="aes", priv_password_env="C"),
            "go together|needs authentication",
        ),
        (
            CredentialOptions(v3_user="u", auth_password_env="C", auth_password_file=Path("x")),
            "not both",
        ),
    ],
)
def test_options_that_cannot_work_are_refused_without_showing_a_secret(
    options: CredentialOptions, message: str
) -> None:
    with pytest.raises(RecordUsageError, match=message) as refused:
        credentials_from_options(options, {"C": "the-secret-value"})
    assert "the-secret-value" not in str(refused.value)


# --- progress ----------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_prints_a_line_per_table_when_not_on_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(stream, tables=2, clock=iter([0.0, 0.5, 1.25]).__next__)
    progress.add(30)
    progress.table_done("ap")
    progress.add(12)
    progress.table_done("radio")
    progress.finish()
    assert stream.getvalue().splitlines() == [
        "recording: 1/2 tables, 30 varbinds, 0.5 s (ap done)",
        "recording: 2/2 tables, 42 varbinds, 1.2 s (radio done)",
    ]


def test_progress_redraws_one_line_on_a_terminal() -> None:
    stream = Terminal()
    progress = Progress(stream, tables=1, clock=itertools.count(0.0, 1.0).__next__)
    progress.add(1000)
    progress.table_done("ap")
    progress.finish()
    text = stream.getvalue()
    assert text.endswith("\n")
    assert text.count("\n") == 1  # the line is redrawn, never repeated
    assert text.rstrip().rsplit("\r", 1)[-1].startswith("recording: 1/1 tables, 1,000 varbinds")


# --- recording through the Transport seam ------------------------------------------


def test_recording_the_9800_walk_and_polling_the_recording_gives_the_golden_output() -> None:
    registry = default_registry()
    walk = load_snmprec(C9800_CASE.walk)
    stream = io.StringIO()
    recording = asyncio.run(record(RecordedTransport({"wlc": walk}), TARGET, registry, stream))
    assert recording.profile.name == "cisco-catalyst-9800"
    assert stream.getvalue().count(" done)\n") == recording.tables == 12
    # Everything the profile reads was recorded, and the walk's only other
    # rows are columns no profile needs (bsnAPLocation, cLApLocation...).
    assert set(recording.varbinds) <= set(walk)
    replay = RecordedTransport({"wlc": recording.varbinds})
    outcome = asyncio.run(poll_target(replay, TARGET, registry, "auto"))
    assert serialise(outcome.observation) == json.loads(expected_path(C9800_CASE).read_text())
