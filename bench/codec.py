"""µs per varbind to decode a 25-varbind GETBULK response: wifimon's codec vs pysnmp's.

A figure, not a test: ``.venv/bin/python bench/codec.py``. The response is a
typical ifXTable walk step (Counter64 counters, interface names, Gauge32
speeds). "warm" is the steady state of a poller (decoded OIDs cached from the
previous poll); "cold" clears that cache before every decode.
"""

from __future__ import annotations

import timeit
from typing import Any

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from wifimon.snmp import ber
from wifimon.snmp.pysnmp_transport import to_snmp_value
from wifimon.snmp.v2c_codec import decode_response

VARBINDS = 25
IF_X_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)


def build_response() -> bytes:
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
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, 123_456)
    v2c.apiPDU.set_varbinds(pdu, binds)
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


if __name__ == "__main__":
    main()
