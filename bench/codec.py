"""µs per varbind to decode a 25-varbind GETBULK response: wifimon's codec vs pysnmp's.

A figure, not a test: ``.venv/bin/python bench/codec.py``. The response is a
typical ifXTable walk step (Counter64 counters, interface names, Gauge32
speeds). "warm" is the steady state of a poller (decoded OIDs cached from the
previous poll); "cold" clears that cache before every decode.

The same response as SNMPv3 authPriv (HMAC-SHA-256-192 + AES-128), signed
and encrypted by pysnmp's USM services: wifimon's ``v3_codec`` +
``V3Request.judge`` (verify the digest, decrypt, decode) against pysnmp's
pyasn1 decoder + its USM services doing the same.
"""

from __future__ import annotations

import timeit
from typing import Any

from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import univ
from pysnmp.entity import config
from pysnmp.proto.api import v2c
from pysnmp.proto.mpmod.rfc3412 import ScopedPDU, SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import SnmpUSMSecurityModel, UsmSecurityParameters

from wifimon.snmp import ber
from wifimon.snmp.pysnmp_transport import to_snmp_value
from wifimon.snmp.types import SnmpCredentials
from wifimon.snmp.usm import localize
from wifimon.snmp.v2c_codec import decode_response
from wifimon.snmp.v3_codec import FLAG_AUTH, FLAG_PRIV, ScopedPdu, decode_message
from wifimon.snmp.v3_requests import AgentClock, PduRequest, V3Request

VARBINDS = 25
IF_X_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)


ENGINE_ID = bytes.fromhex("80001f8880e9bd0c1d12667a51")
BOOTS, ENGINE_TIME, REQUEST_ID = 3, 1000, 123_456
V3_CREDENTIALS = SnmpCredentials(
    "3",
    user="monitor",
    auth_protocol="sha256",
    auth_password="bench-auth-password",  # noqa: S106 - a benchmark's made-up key
    priv_protocol="aes128",
    priv_password="bench-priv-password",  # noqa: S106
)
AUTH = SnmpUSMSecurityModel.AUTH_SERVICES[config.USM_AUTH_HMAC192_SHA256]
PRIV = SnmpUSMSecurityModel.PRIV_SERVICES[config.USM_PRIV_CFB128_AES]


def build_binds() -> list[tuple[Any, Any]]:
    binds: list[tuple[Any, Any]] = []
    for row in range(VARBINDS):
        column = (6, 10, 1, 15, 18)[row % 5]
        oid = v2c.ObjectIdentifier((*IF_X_ENTRY, column, 1000 + row))
        value: Any
        if column in (6, 10):
            value = v2c.Counter64(12_345_678_901 * (row + 1))
        elif column == 15:
            value = v2c.Gauge32(1000)
        else:
            value = v2c.OctetString(f"radio{row}-wlan".encode())
        binds.append((oid, value))
    return binds


def build_pdu() -> Any:
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, REQUEST_ID)
    v2c.apiPDU.set_varbinds(pdu, build_binds())
    return pdu


def build_response() -> bytes:
    pdu = build_pdu()
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, b"public")
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def decode_with_pysnmp(data: bytes) -> list[Any]:
    message, _ = decoder.decode(data, asn1Spec=v2c.Message())
    pdu = v2c.apiMessage.get_pdu(message)
    return [
        (tuple(int(part) for part in name.asTuple()), to_snmp_value(value))
        for name, value in v2c.apiPDU.get_varbinds(pdu)
    ]


def build_v3_response() -> tuple[bytes, V3Request]:
    """The response signed and encrypted by pysnmp, and our request it answers."""
    keys = localize(V3_CREDENTIALS, ENGINE_ID)
    scoped = ScopedPDU()
    scoped.setComponentByPosition(0, ENGINE_ID)
    scoped.setComponentByPosition(1, b"")
    pdu = build_pdu()
    scoped.setComponentByPosition(2)
    scoped.getComponentByPosition(2).setComponentByType(
        pdu.tagSet, pdu, verifyConstraints=False, matchTags=False, matchConstraints=False
    )
    cipher, salt = PRIV.encrypt_data(
        univ.OctetString(keys.priv_key), (BOOTS, ENGINE_TIME, None), encoder.encode(scoped)
    )
    params = UsmSecurityParameters()
    for position, field in enumerate(
        (ENGINE_ID, BOOTS, ENGINE_TIME, b"monitor", bytes(keys.digest_length), salt)
    ):
        params.setComponentByPosition(position, field)
    message = SNMPv3Message()
    message.setComponentByPosition(0, 3)
    header = message.setComponentByPosition(1).getComponentByPosition(1)
    for position, field in enumerate((REQUEST_ID, 65507, bytes((FLAG_AUTH | FLAG_PRIV,)), 3)):
        header.setComponentByPosition(position, field)
    message.setComponentByPosition(2, encoder.encode(params))
    message.setComponentByPosition(3).getComponentByPosition(3).setComponentByPosition(1, cipher)
    signed = AUTH.authenticate_outgoing_message(
        univ.OctetString(keys.auth_key), encoder.encode(message)
    )
    clock = AgentClock(ENGINE_ID, BOOTS, ENGINE_TIME)
    request = V3Request(
        keys, clock, FLAG_AUTH | FLAG_PRIV, b"", REQUEST_ID, PduRequest(0xA5, [IF_X_ENTRY], 0, 25)
    )
    return bytes(signed), request


def decode_v3_with_pysnmp(data: bytes, keys: tuple[Any, Any]) -> list[Any]:
    message, _ = decoder.decode(data, asn1Spec=SNMPv3Message())
    params, _ = decoder.decode(bytes(message[2]), asn1Spec=UsmSecurityParameters())
    AUTH.authenticate_incoming_message(keys[0], params[4], data)
    plain = PRIV.decrypt_data(keys[1], (params[1], params[2], params[5]), message[3].getComponent())
    scoped, _ = decoder.decode(plain, asn1Spec=ScopedPDU())
    return [
        (tuple(int(part) for part in name.asTuple()), to_snmp_value(value))
        for name, value in v2c.apiPDU.get_varbinds(scoped[2].getComponent())
    ]


def decode_cold(data: bytes) -> None:
    ber._oid_cache.clear()
    decode_response(data)


def per_varbind_us(function: Any, data: bytes, number: int) -> float:
    best = min(timeit.repeat(lambda: function(data), number=number, repeat=5))
    return best / number / VARBINDS * 1e6


def main() -> None:
    data = build_response()
    assert len(decode_response(data).varbinds) == VARBINDS
    ours_warm = per_varbind_us(decode_response, data, 2000)
    ours_cold = per_varbind_us(decode_cold, data, 2000)
    theirs = per_varbind_us(decode_with_pysnmp, data, 50)
    print(f"25-varbind GETBULK response, {len(data)} bytes; µs per varbind (best of 5)")
    print(f"  wifimon v2c_codec (OID cache warm): {ours_warm:7.2f}")
    print(f"  wifimon v2c_codec (OID cache cold): {ours_cold:7.2f}")
    print(f"  pysnmp/pyasn1 decoder + mapping:    {theirs:7.2f}")
    print(f"  speed-up: {theirs / ours_warm:.0f}x warm, {theirs / ours_cold:.0f}x cold")

    secured, request = build_v3_response()
    outcome = request.judge(decode_message(secured), secured)
    assert isinstance(outcome, ScopedPdu)
    assert len(outcome.varbinds) == VARBINDS
    pysnmp_keys = (univ.OctetString(request.keys.auth_key), univ.OctetString(request.keys.priv_key))
    assert len(decode_v3_with_pysnmp(secured, pysnmp_keys)) == VARBINDS
    v3_ours = per_varbind_us(lambda d: request.judge(decode_message(d), d), secured, 2000)
    v3_theirs = per_varbind_us(lambda d: decode_v3_with_pysnmp(d, pysnmp_keys), secured, 50)
    print(
        f"the same as SNMPv3 authPriv SHA-256/AES-128, {len(secured)} bytes: "
        "verify, decrypt, decode"
    )
    print(f"  wifimon v3_codec + V3Request.judge: {v3_ours:7.2f}")
    print(f"  pysnmp/pyasn1 + its USM services:   {v3_theirs:7.2f}")
    print(f"  speed-up: {v3_theirs / v3_ours:.0f}x")


if __name__ == "__main__":
    main()
