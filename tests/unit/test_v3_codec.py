"""The native SNMPv3 path agrees with pysnmp, bit for bit, on arbitrary input.

pysnmp is the reference throughout: its pyasn1 specs (``SNMPv3Message``,
``ScopedPDU``, ``UsmSecurityParameters``) encode and decode the messages, its
USM services localise keys, sign (``authenticate_outgoing_message``), verify
(``authenticate_incoming_message``), encrypt and decrypt. Messages built and
secured by pysnmp are judged by ours to the same PDU, ours are verified and
decrypted by pysnmp to the same PDU, keys match for every protocol pair, and
mutated messages never raise anything but ``BerError`` and are never believed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import univ
from pysnmp.entity import config
from pysnmp.proto.api import v2c
from pysnmp.proto.mpmod.rfc3412 import ScopedPDU, SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import SnmpUSMSecurityModel, UsmSecurityParameters

from tests.unit.test_ber_codec import _mutate, oids, pysnmp_value, varbinds
from wifimon.snmp.ber import BerError
from wifimon.snmp.types import Oid, SnmpCredentials, SnmpValue, ValueKind, VarBind
from wifimon.snmp.usm import (
    AUTH_PROTOCOLS,
    UsmError,
    UsmKeys,
    decrypt,
    encrypt,
    localize,
    localize_key,
    master_key,
)
from wifimon.snmp.v3_codec import (
    FLAG_AUTH,
    FLAG_PRIV,
    FLAG_REPORTABLE,
    TAG_REPORT,
    ScopedPdu,
    V3Message,
    decode_message,
    decode_scoped_pdu,
    encode_discovery,
    encode_message,
    encode_scoped_pdu,
    is_v3_message,
)
from wifimon.snmp.v3_requests import (
    TIME_WINDOW_S,
    AgentClock,
    DecryptionFailed,
    PduRequest,
    Report,
    V3Request,
    judge_discovery,
)

AUTH_OIDS: dict[str, Any] = {
    "md5": config.USM_AUTH_HMAC96_MD5,
    "sha": config.USM_AUTH_HMAC96_SHA,
    "sha224": config.USM_AUTH_HMAC128_SHA224,
    "sha256": config.USM_AUTH_HMAC192_SHA256,
    "sha384": config.USM_AUTH_HMAC256_SHA384,
    "sha512": config.USM_AUTH_HMAC384_SHA512,
}
# what wifimon's priv names mean in pysnmp (pysnmp_transport._PRIV_PROTOCOLS)
PRIV_OIDS: dict[str, Any] = {
    "des": config.USM_PRIV_CBC56_DES,
    "aes": config.USM_PRIV_CFB128_AES,
    "aes128": config.USM_PRIV_CFB128_AES,
    "aes192": config.USM_PRIV_CFB192_AES,
    "aes256": config.USM_PRIV_CFB256_AES,
}
AUTH_SERVICES = SnmpUSMSecurityModel.AUTH_SERVICES
PRIV_SERVICES = SnmpUSMSecurityModel.PRIV_SERVICES
PDU_CLASSES = {0xA2: v2c.ResponsePDU, TAG_REPORT: v2c.ReportPDU}
PDU_TAG_OF = {
    v2c.GetRequestPDU.tagSet: 0xA0,
    v2c.GetNextRequestPDU.tagSet: 0xA1,
    v2c.ResponsePDU.tagSet: 0xA2,
    v2c.GetBulkRequestPDU.tagSet: 0xA5,
    v2c.ReportPDU.tagSet: TAG_REPORT,
}

# --- strategies -------------------------------------------------------------

# pysnmp finds the digest placeholder by searching for zeros, so the fields
# before it must not contain a run of zero octets that long.
no_zero_runs = st.binary(max_size=32).filter(lambda octets: b"\0\0\0" not in octets)
engine_ids = st.binary(min_size=5, max_size=32).filter(lambda octets: b"\0\0\0" not in octets)
user_names = st.text("abcdefghijklmnopqrstuvwxyz-0123456789", min_size=1, max_size=32)
# ASCII: pysnmp encodes a str password as Latin-1, net-snmp and wifimon as UTF-8
passwords = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=8, max_size=40)
int31 = st.integers(0, 2**31 - 1)
auth_names = st.sampled_from(sorted(AUTH_PROTOCOLS))
priv_names = st.sampled_from([None, *sorted(PRIV_OIDS)])
request_ids = st.integers(-(2**31), 2**31 - 1)


# --- pysnmp as the reference --------------------------------------------------


def pysnmp_pdu(tag: int, request_id: int, status: int, index: int, binds: list[VarBind]) -> Any:
    pdu = PDU_CLASSES[tag]()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_error_status(pdu, status)
    v2c.apiPDU.set_error_index(pdu, index)
    v2c.apiPDU.set_varbinds(
        pdu, [(v2c.ObjectIdentifier(bind.oid), pysnmp_value(bind.value)) for bind in binds]
    )
    return pdu


def pysnmp_scoped(context_engine_id: bytes, context_name: bytes, pdu: Any) -> bytes:
    scoped = ScopedPDU()
    scoped.setComponentByPosition(0, context_engine_id)
    scoped.setComponentByPosition(1, context_name)
    scoped.setComponentByPosition(2)
    scoped.getComponentByPosition(2).setComponentByType(
        pdu.tagSet, pdu, verifyConstraints=False, matchTags=False, matchConstraints=False
    )
    return bytes(encoder.encode(scoped))


def pysnmp_read_scoped(data: bytes) -> ScopedPdu:
    """pysnmp's reading of a ScopedPDU, as wifimon's ``ScopedPdu``."""
    scoped, _ = decoder.decode(data, asn1Spec=ScopedPDU())  # DES padding may follow
    pdu = scoped[2].getComponent()
    binds = [
        VarBind(tuple(int(part) for part in name.asTuple()), _to_value(value))
        for name, value in v2c.apiPDU.get_varbinds(pdu)
    ]
    return ScopedPdu(
        bytes(scoped[0]),
        bytes(scoped[1]),
        PDU_TAG_OF[pdu.tagSet],
        int(pdu[0]),
        int(pdu[1]),
        int(pdu[2]),
        binds,
    )


def _to_value(value: Any) -> SnmpValue:
    from wifimon.snmp.pysnmp_transport import to_snmp_value  # noqa: PLC0415

    return to_snmp_value(value)


@functools.lru_cache(maxsize=512)
def pysnmp_keys(auth: str, auth_pw: str, priv: str | None, priv_pw: str, engine: bytes) -> Any:
    """(localised auth key, localised priv key) as pysnmp's USM computes them."""
    auth_oid = AUTH_OIDS[auth]
    service = AUTH_SERVICES[auth_oid]
    auth_key = bytes(
        service.localize_key(service.hash_passphrase(auth_pw), univ.OctetString(engine))
    )
    if priv is None:
        return auth_key, b""
    priv_service = PRIV_SERVICES[PRIV_OIDS[priv]]
    master = priv_service.hash_passphrase(auth_oid, priv_pw)
    return auth_key, bytes(priv_service.localize_key(auth_oid, master, univ.OctetString(engine)))


def pysnmp_message(
    header: tuple[int, int, int],
    security: tuple[bytes, int, int, bytes, int, bytes],
    data: bytes,
) -> bytes:
    """An SNMPv3Message built by pysnmp; ``data`` a ScopedPDU, or ciphertext with FLAG_PRIV."""
    msg_id, max_size, flags = header
    engine_id, boots, engine_time, user, digest_length, priv_params = security
    params = UsmSecurityParameters()
    for position, value in enumerate(
        (engine_id, boots, engine_time, user, bytes(digest_length), priv_params)
    ):
        params.setComponentByPosition(position, value)
    message = SNMPv3Message()
    message.setComponentByPosition(0, 3)
    global_data = message.setComponentByPosition(1).getComponentByPosition(1)
    for position, value in enumerate((msg_id, max_size, bytes((flags,)), 3)):
        global_data.setComponentByPosition(position, value)
    message.setComponentByPosition(2, encoder.encode(params))
    msg_data = message.setComponentByPosition(3).getComponentByPosition(3)
    if flags & FLAG_PRIV:
        msg_data.setComponentByPosition(1, data)
    else:
        msg_data.setComponentByPosition(0, decoder.decode(data, asn1Spec=ScopedPDU())[0])
    return bytes(encoder.encode(message))


def pysnmp_read_message(data: bytes) -> tuple[Any, Any]:
    message, rest = decoder.decode(data, asn1Spec=SNMPv3Message())
    assert not rest
    params, rest = decoder.decode(bytes(message[2]), asn1Spec=UsmSecurityParameters())
    assert not rest
    return message, params


def credentials_for(auth: str, priv: str | None, user: str = "monitor") -> SnmpCredentials:
    return SnmpCredentials(
        "3",
        user=user,
        auth_protocol=auth,  # type: ignore[arg-type]
        auth_password="auth-password-1",
        priv_protocol=priv,  # type: ignore[arg-type]
        priv_password="priv-password-2" if priv else "",
    )


# --- key localisation -----------------------------------------------------------


def test_rfc3414_a3_vectors() -> None:
    engine = bytes.fromhex("000000000000000000000002")
    md5 = localize_key("md5", master_key("md5", b"maplesyrup"), engine)
    sha = localize_key("sha1", master_key("sha1", b"maplesyrup"), engine)
    assert md5.hex() == "526f5eed9fcce26f8964c2930787d82b"
    assert sha.hex() == "6695febc9288e36282235fc7151f128497b38f3f"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(auth_names, priv_names, passwords, passwords, engine_ids)
def test_localised_keys_equal_pysnmps_for_every_protocol_pair(
    auth: str, priv: str | None, auth_pw: str, priv_pw: str, engine: bytes
) -> None:
    credentials = SnmpCredentials(
        "3",
        user="u",
        auth_protocol=auth,  # type: ignore[arg-type]
        auth_password=auth_pw,
        priv_protocol=priv,  # type: ignore[arg-type]
        priv_password=priv_pw,
    )
    keys = localize(credentials, engine)
    assert (keys.auth_key, keys.priv_key) == pysnmp_keys(auth, auth_pw, priv, priv_pw, engine)


@pytest.mark.parametrize("priv", ["aes192", "aes256"])
@pytest.mark.parametrize("auth", ["md5", "sha"])
def test_short_hashes_extend_aes_keys_as_pysnmps_reeder_variant(auth: str, priv: str) -> None:
    # MD5 (16) and SHA-1 (20) octets are too short for AES-192/256: the key is extended
    engine = bytes.fromhex("80001f8880e9bd0c1d12667a5100000000")
    keys = localize(credentials_for(auth, priv), engine)
    assert (keys.auth_key, keys.priv_key) == pysnmp_keys(
        auth, "auth-password-1", priv, "priv-password-2", engine
    )
    assert len(keys.priv_key) == {"aes192": 24, "aes256": 32}[priv]


def test_short_passwords_and_priv_without_auth_are_refused_without_quoting() -> None:
    with pytest.raises(UsmError) as short:
        localize(SnmpCredentials("3", user="u", auth_protocol="sha", auth_password="short7!"), b"e")
    assert "short7!" not in str(short.value)
    with pytest.raises(UsmError):
        localize(SnmpCredentials("3", user="u", priv_protocol="aes", priv_password="x" * 9), b"e")


def test_keys_never_reach_repr() -> None:
    keys = localize(credentials_for("sha", "aes"), b"engine-id")
    assert keys.auth_key.hex() not in repr(keys)
    assert repr(keys.priv_key) not in repr(keys)


# --- scopedPDU and message framing -------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    no_zero_runs,
    no_zero_runs,
    st.sampled_from(sorted(PDU_CLASSES)),
    request_ids,
    st.integers(0, 18),
    st.integers(0, 30),
    varbinds,
)
def test_scoped_pdus_encoded_by_pysnmp_decode_identically(  # noqa: PLR0917 - one per strategy
    engine: bytes,
    name: bytes,
    tag: int,
    request_id: int,
    status: int,
    index: int,
    binds: list[VarBind],
) -> None:
    data = pysnmp_scoped(engine, name, pysnmp_pdu(tag, request_id, status, index, binds))
    expected = ScopedPdu(engine, name, tag, request_id, status, index, binds)
    assert pysnmp_read_scoped(data) == expected
    assert decode_scoped_pdu(data) == expected


@settings(deadline=None)  # a loaded CI machine must not fail a correct example
@given(
    no_zero_runs,
    no_zero_runs,
    st.sampled_from([0xA0, 0xA1, 0xA5]),
    request_ids,
    int31,
    int31,
    st.lists(oids, max_size=30),
)
def test_pysnmp_decodes_our_scoped_requests_to_the_same_fields(  # noqa: PLR0917 - one per strategy
    engine: bytes,
    name: bytes,
    tag: int,
    request_id: int,
    second: int,
    third: int,
    wanted: list[Oid],
) -> None:
    fields = (second, third) if tag == 0xA5 else (0, 0)
    data = encode_scoped_pdu(
        engine, name, tag, request_id, wanted, field2=fields[0], field3=fields[1]
    )
    nulls = [VarBind(oid, SnmpValue(ValueKind.NULL, None)) for oid in wanted]
    expected = ScopedPdu(engine, name, tag, request_id, *fields, nulls)
    assert pysnmp_read_scoped(data) == expected
    assert decode_scoped_pdu(data) == expected


@settings(max_examples=200, deadline=None)
@given(int31, st.integers(484, 2**31 - 1), st.integers(0, 7), engine_ids, int31, int31)
def test_messages_agree_with_pysnmp_both_ways(  # noqa: PLR0917 - one per strategy
    msg_id: int, max_size: int, flags: int, engine: bytes, boots: int, engine_time: int
) -> None:
    scoped = encode_scoped_pdu(engine, b"", 0xA0, msg_id, [(1, 3, 6, 1, 2, 1, 1, 5, 0)])
    priv_params = b"saltsalt" if flags & FLAG_PRIV else b""
    payload = b"\x01\x02ciphertext" if flags & FLAG_PRIV else scoped
    digest_length = 12 if flags & FLAG_AUTH else 0
    security = (engine, boots, engine_time, b"user")
    ours, offset = encode_message(
        msg_id,
        flags,
        security,
        priv_params,
        payload,
        digest_length=digest_length,
        max_size=max_size,
    )
    theirs = pysnmp_message(
        (msg_id, max_size, flags), (*security, digest_length, priv_params), payload
    )
    assert ours == theirs
    assert ours[offset : offset + digest_length] == bytes(digest_length)
    decoded = decode_message(theirs)
    assert decoded == V3Message(
        msg_id, max_size, flags, 3, engine, boots, engine_time, b"user", bytes(digest_length),
        priv_params, offset, payload, bool(flags & FLAG_PRIV),
    )  # fmt: skip
    message, params = pysnmp_read_message(ours)
    assert (int(message[1][0]), int(message[1][1]), bytes(message[1][2])) == (
        msg_id,
        max_size,
        bytes((flags,)),
    )
    assert (bytes(params[0]), int(params[1]), int(params[2]), bytes(params[3])) == (
        engine,
        boots,
        engine_time,
        b"user",
    )


def test_the_discovery_probe_is_what_net_snmp_tests_send() -> None:
    probe = encode_discovery(1)
    message = decode_message(probe)
    assert (message.flags, message.engine_id, message.user_name) == (FLAG_REPORTABLE, b"", b"")
    assert decode_scoped_pdu(message.scoped) == ScopedPdu(b"", b"", 0xA0, 1, 0, 0, [])
    pysnmp_read_message(probe)
    assert is_v3_message(probe)
    assert not is_v3_message(bytes.fromhex("302502010104067075626c6963a218"))


# --- secured messages, both ways -----------------------------------------------------

SYS_NAME: Oid = (1, 3, 6, 1, 2, 1, 1, 5, 0)


def pysnmp_secured_reply(  # noqa: PLR0917 - the fields of one message
    auth: str,
    priv: str | None,
    engine: bytes,
    clock: tuple[int, int],
    msg_id: int,
    pdu: Any,
    salt: int = 7,
) -> bytes:
    """A reply signed and encrypted by pysnmp's USM services with pysnmp's keys."""
    boots, engine_time = clock
    auth_key, priv_key = pysnmp_keys(auth, "auth-password-1", priv, "priv-password-2", engine)
    scoped = pysnmp_scoped(engine, b"", pdu)
    flags, priv_params, payload = FLAG_AUTH, b"", scoped
    if priv is not None:
        service = PRIV_SERVICES[PRIV_OIDS[priv]]
        service.local_int = salt
        cipher, salt_octets = service.encrypt_data(
            univ.OctetString(priv_key), (boots, engine_time, None), scoped
        )
        flags, priv_params, payload = FLAG_AUTH | FLAG_PRIV, bytes(salt_octets), bytes(cipher)
    digest_length = AUTH_PROTOCOLS[auth][1]
    whole = pysnmp_message(
        (msg_id, 65507, flags),
        (engine, boots, engine_time, b"monitor", digest_length, priv_params),
        payload,
    )
    signed = AUTH_SERVICES[AUTH_OIDS[auth]].authenticate_outgoing_message(
        univ.OctetString(auth_key), whole
    )
    return bytes(signed)


def our_request(
    auth: str, priv: str | None, engine: bytes, clock: tuple[int, int], msg_id: int
) -> V3Request:
    keys = localize(credentials_for(auth, priv), engine)
    level = FLAG_AUTH | (FLAG_PRIV if priv else 0)
    agent = AgentClock(engine, *clock)
    return V3Request(keys, agent, level, b"", msg_id, PduRequest(0xA0, [SYS_NAME]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    auth_names,
    priv_names,
    engine_ids,
    st.integers(0, 2**31 - 2),  # boots 2^31-1 is latched: never in the time window
    int31,
    varbinds,
    int31,
)
def test_replies_secured_by_pysnmp_are_believed_with_the_same_varbinds(  # noqa: PLR0917 - one per strategy
    auth: str,
    priv: str | None,
    engine: bytes,
    boots: int,
    engine_time: int,
    binds: list[VarBind],
    msg_id: int,
) -> None:
    request = our_request(auth, priv, engine, (boots, engine_time), msg_id)
    reply = pysnmp_secured_reply(
        auth, priv, engine, (boots, engine_time), msg_id, pysnmp_pdu(0xA2, msg_id, 0, 0, binds)
    )
    outcome = request.judge(decode_message(reply), reply)
    assert outcome == ScopedPdu(engine, b"", 0xA2, msg_id, 0, 0, binds)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(auth_names, priv_names, engine_ids, int31, int31, int31, st.lists(oids, max_size=30))
def test_pysnmp_verifies_and_decrypts_our_requests(  # noqa: PLR0917 - one per strategy
    auth: str,
    priv: str | None,
    engine: bytes,
    boots: int,
    engine_time: int,
    msg_id: int,
    wanted: list[Oid],
) -> None:
    keys = localize(credentials_for(auth, priv), engine)
    level = FLAG_AUTH | (FLAG_PRIV if priv else 0)
    request = V3Request(
        keys,
        AgentClock(engine, boots, engine_time),
        level,
        b"ctx",
        msg_id,
        PduRequest(0xA5, wanted, 0, 25),
    )
    data = request.encode()
    message, params = pysnmp_read_message(data)
    auth_key, priv_key = pysnmp_keys(auth, "auth-password-1", priv, "priv-password-2", engine)
    AUTH_SERVICES[AUTH_OIDS[auth]].authenticate_incoming_message(
        univ.OctetString(auth_key), params[4], data
    )  # raises unless the digest is right
    assert bytes(message[1][2]) == bytes((level | FLAG_REPORTABLE,))
    assert (bytes(params[0]), int(params[1]), bytes(params[3])) == (engine, boots, b"monitor")
    assert int(params[2]) - engine_time in (0, 1)  # the clock may tick during the test
    msg_data = message[3]
    if priv is None:
        scoped = bytes(encoder.encode(msg_data.getComponent()))
    else:
        scoped = bytes(
            PRIV_SERVICES[PRIV_OIDS[priv]].decrypt_data(
                univ.OctetString(priv_key),
                (int(params[1]), int(params[2]), params[5]),
                msg_data.getComponent(),
            )
        )
    nulls = [VarBind(oid, SnmpValue(ValueKind.NULL, None)) for oid in wanted]
    assert pysnmp_read_scoped(scoped) == ScopedPdu(engine, b"ctx", 0xA5, msg_id, 0, 25, nulls)


# --- judging replies --------------------------------------------------------------------

ENGINE = bytes.fromhex("80001f8880e9bd0c1d12667a51")


def _reply(request: V3Request, auth: str, priv: str | None, **changes: Any) -> bytes:
    clock = changes.pop("clock", (request.clock.boots, request.clock.engine_time))
    pdu = changes.pop("pdu", None) or pysnmp_pdu(0xA2, request.request_id, 0, 0, [])
    return pysnmp_secured_reply(
        auth, priv, changes.pop("engine", ENGINE), clock, request.request_id, pdu
    )


def test_a_reply_signed_with_other_keys_or_for_another_request_is_dropped() -> None:
    request = our_request("sha256", "aes", ENGINE, (3, 1000), 77)
    other = our_request("sha256", "aes", ENGINE, (3, 1000), 78)
    good = _reply(request, "sha256", "aes")
    assert isinstance(request.judge(decode_message(good), good), ScopedPdu)
    # wrong request id inside the (authentic) PDU
    wrong_id = _reply(request, "sha256", "aes", pdu=pysnmp_pdu(0xA2, 78, 0, 0, []))
    assert request.judge(decode_message(wrong_id), wrong_id) is None
    # signed for another engine
    elsewhere = _reply(request, "sha256", "aes", engine=b"another-engine")
    assert request.judge(decode_message(elsewhere), elsewhere) is None
    # a different auth protocol's digest
    md5 = _reply(request, "md5", "aes")
    assert request.judge(decode_message(md5), md5) is None
    assert other.judge(decode_message(good), good) is None


def test_an_authentic_reply_we_cannot_decrypt_is_a_decryption_failure() -> None:
    request = our_request("sha", "aes", ENGINE, (3, 1000), 5)
    # same auth password, another privacy password: authentic but undecryptable
    keys = request.keys
    wrong_priv = UsmKeys(
        keys.user,
        keys.engine_id,
        keys.hash_name,
        keys.digest_length,
        "des",
        keys.auth_key,
        bytes(16),
    )
    confused = V3Request(wrong_priv, request.clock, request.level, b"", 5, request.pdu)
    reply = _reply(request, "sha", "aes")
    assert confused.judge(decode_message(reply), reply) == DecryptionFailed()


def test_replies_outside_the_time_window_are_dropped_and_newer_clocks_adopted() -> None:
    request = our_request("sha", None, ENGINE, (3, 1000), 9)
    older_boots = _reply(request, "sha", None, clock=(2, 5000))
    assert request.judge(decode_message(older_boots), older_boots) is None
    too_old = _reply(request, "sha", None, clock=(3, 1000 - TIME_WINDOW_S - 1))
    assert request.judge(decode_message(too_old), too_old) is None
    newer = _reply(request, "sha", None, clock=(4, 12))
    assert isinstance(request.judge(decode_message(newer), newer), ScopedPdu)
    assert (request.clock.boots, request.clock.engine_time) == (4, 12)


def test_an_agent_with_latched_boots_is_never_in_the_time_window() -> None:
    request = our_request("sha", None, ENGINE, (2**31 - 1, 1000), 10)
    latched = _reply(request, "sha", None)
    assert request.judge(decode_message(latched), latched) is None


def test_reports_are_classified_and_an_authentic_one_is_marked() -> None:
    request = our_request("sha", "des", ENGINE, (3, 1000), 11)
    counter = v2c.Counter32(1)
    not_in_time = pysnmp_pdu(TAG_REPORT, 11, 0, 0, [])
    v2c.apiPDU.set_varbinds(not_in_time, [((1, 3, 6, 1, 6, 3, 15, 1, 1, 2, 0), counter)])
    signed = pysnmp_secured_reply("sha", None, ENGINE, (4, 3), 11, not_in_time)
    outcome = request.judge(decode_message(signed), signed)
    assert isinstance(outcome, Report)
    assert (outcome.kind, outcome.authentic, outcome.message.engine_boots) == (
        "NotInTimeWindow",
        True,
        4,
    )
    for arc, kind in [(3, "UnknownUserName"), (4, "UnknownEngineID"), (5, "WrongDigest")]:
        report = pysnmp_pdu(TAG_REPORT, 0, 0, 0, [])
        v2c.apiPDU.set_varbinds(report, [((1, 3, 6, 1, 6, 3, 15, 1, 1, arc, 0), counter)])
        plain = pysnmp_message(
            (11, 65507, 0), (ENGINE, 4, 3, b"", 0, b""), pysnmp_scoped(ENGINE, b"", report)
        )
        outcome = request.judge(decode_message(plain), plain)
        assert isinstance(outcome, Report)
        assert (outcome.kind, outcome.authentic) == (kind, False)
        assert judge_discovery(decode_message(plain)) == outcome


def test_an_unauthenticated_response_to_an_authenticated_request_is_dropped() -> None:
    request = our_request("sha", None, ENGINE, (3, 1000), 13)
    pdu = pysnmp_pdu(0xA2, 13, 0, 0, [VarBind(SYS_NAME, SnmpValue(ValueKind.INTEGER, 1))])
    plain = pysnmp_message(
        (13, 65507, 0), (ENGINE, 3, 1000, b"monitor", 0, b""), pysnmp_scoped(ENGINE, b"", pdu)
    )
    assert request.judge(decode_message(plain), plain) is None


def test_des_and_aes_round_trip_and_check_their_parameters() -> None:
    for priv in ("des", "aes", "aes192", "aes256"):
        keys = localize(credentials_for("sha", priv), ENGINE)
        cipher, salt = encrypt(keys, 3, 1000, 99, b"scoped-pdu-octets")
        assert decrypt(keys, 3, 1000, salt, cipher)[:17] == b"scoped-pdu-octets"
        with pytest.raises(UsmError):
            decrypt(keys, 3, 1000, salt[:7], cipher)
    des = localize(credentials_for("sha", "des"), ENGINE)
    with pytest.raises(UsmError):
        decrypt(des, 3, 1000, b"8octets!", b"seven77")


# --- mutation fuzzing ------------------------------------------------------------------


EVERY_KIND = [
    VarBind((1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 1), SnmpValue(ValueKind.INTEGER, -5)),
    VarBind((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 1), SnmpValue(ValueKind.OCTET_STRING, b"eth0")),
    VarBind((1, 3, 6, 1, 2, 1, 1, 2, 0), SnmpValue(ValueKind.OBJECT_ID, (1, 3, 6, 1, 4, 1, 8072))),
    VarBind((1, 3, 6, 1, 2, 1, 4, 20, 1, 1), SnmpValue(ValueKind.IP_ADDRESS, b"\x7f\0\0\1")),
    VarBind((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1), SnmpValue(ValueKind.COUNTER32, 2**32 - 1)),
    VarBind((1, 3, 6, 1, 2, 1, 2, 2, 1, 5, 1), SnmpValue(ValueKind.GAUGE32, 10**9)),
    VarBind((1, 3, 6, 1, 2, 1, 1, 3, 0), SnmpValue(ValueKind.TIMETICKS, 123456)),
    VarBind((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1), SnmpValue(ValueKind.COUNTER64, 2**64 - 1)),
    VarBind((1, 3, 6, 1, 2, 1, 1, 99, 0), SnmpValue(ValueKind.NO_SUCH_OBJECT, None)),
    VarBind((1, 3, 6, 1, 2, 1, 1, 5, 1), SnmpValue(ValueKind.NO_SUCH_INSTANCE, None)),
    VarBind((1, 3, 6, 1, 6, 3, 99), SnmpValue(ValueKind.END_OF_MIB_VIEW, None)),
]


@functools.lru_cache(maxsize=64)
def _secured_original(auth: str, priv: str | None) -> tuple[V3Request, bytes]:
    request = our_request(auth, priv, ENGINE, (3, 1000), 4242)
    return request, _reply(request, auth, priv, pdu=pysnmp_pdu(0xA2, 4242, 0, 0, EVERY_KIND))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(auth_names, priv_names, st.data())
def test_mutated_secured_replies_raise_only_ber_error_and_are_never_believed(
    auth: str, priv: str | None, data: st.DataObject
) -> None:
    request, original = _secured_original(auth, priv)
    assert request.judge(decode_message(original), original) == ScopedPdu(
        ENGINE, b"", 0xA2, 4242, 0, 0, EVERY_KIND
    )
    mutated = _mutate(original, data)
    try:
        message = decode_message(mutated)
    except BerError:
        return
    outcome = request.judge(message, mutated)  # anything but None, a Report or a PDU fails
    if mutated != original:
        assert outcome is None or isinstance(outcome, Report)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_ber_error(data: bytes) -> None:
    for decode in (decode_message, decode_scoped_pdu):
        with contextlib.suppress(BerError):
            decode(data)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80))
def test_random_content_after_a_valid_v3_prefix_raises_only_ber_error(tail: bytes) -> None:
    probe = encode_discovery(1)
    with contextlib.suppress(BerError):
        decode_message(probe[:40] + tail)


def test_hash_names_are_the_rfc7860_truncations() -> None:
    lengths = {name: length for name, (_, length) in AUTH_PROTOCOLS.items()}
    assert lengths == {"md5": 12, "sha": 12, "sha224": 16, "sha256": 24, "sha384": 32, "sha512": 48}
    for hash_name, _ in AUTH_PROTOCOLS.values():
        hashlib.new(hash_name)
