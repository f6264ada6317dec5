"""Ask an SNMPv3 agent for its engine id, with no user and no keys.

RFC 3414 discovery: a noAuthNoPriv GET with an empty engine id, which every
v3 agent answers with a Report carrying its ``msgAuthoritativeEngineID``
whatever users it has. The transports use it after a v3 request timed out,
to tell a silent agent (no answer) from one that answers but has a new
engine id (replaced or reset: forget what was discovered and ask again) or
one that drops our encrypted requests (our privacy key is wrong).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

# msgID goes in the 4 bytes after "3011020 4"; the rest is a fixed GET with no varbinds.
_HEAD = bytes.fromhex("303e02010330110204")
_TAIL = bytes.fromhex(
    "020300ffe3040104020103"  # maxSize 65507, flags reportable, USM
    "0410300e0400020100020100040004000400"  # empty USM security parameters
    "301404000400a00e020400000001020100020100"
    "3000"
)


def discovery_probe(msg_id: int) -> bytes:
    """The probe datagram with ``msg_id`` (0..2**31-1)."""
    return _HEAD + msg_id.to_bytes(4, "big") + _TAIL


def engine_id_of(datagram: bytes, msg_id: int) -> bytes | None:
    """The authoritative engine id in a reply to probe ``msg_id``, else None."""
    # Imported here: pysnmp costs ~30 MB of RSS, and only a diagnosis needs it.
    from pyasn1.codec.ber import decoder  # noqa: PLC0415
    from pyasn1.error import PyAsn1Error  # noqa: PLC0415
    from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message  # noqa: PLC0415
    from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters  # noqa: PLC0415

    try:
        message: Any = decoder.decode(datagram, asn1Spec=SNMPv3Message())[0]
        if int(message["msgGlobalData"]["msgID"]) != msg_id:
            return None
        security: Any = decoder.decode(
            bytes(message["msgSecurityParameters"]), asn1Spec=UsmSecurityParameters()
        )[0]
        engine_id = bytes(security["msgAuthoritativeEngineId"])
    except (PyAsn1Error, KeyError, TypeError, ValueError):
        return None
    return engine_id or None


class _Reply(asyncio.DatagramProtocol):
    def __init__(self, msg_id: int, found: asyncio.Future[bytes]) -> None:
        self.msg_id = msg_id
        self.found = found

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        engine_id = engine_id_of(data, self.msg_id)
        if engine_id is not None and not self.found.done():
            self.found.set_result(engine_id)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable on a connected socket: nobody listens there
        if not self.found.done():
            self.found.set_exception(exc)


async def discover_engine_id(address: tuple[str, int], timeout: float) -> bytes | None:
    """The engine id the agent at ``address`` (an IP and port) reports, or
    None when nothing answers within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    msg_id = secrets.randbelow(2**31 - 1) + 1
    found: asyncio.Future[bytes] = loop.create_future()
    try:
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Reply(msg_id, found), remote_addr=address
        )
    except OSError:
        return None
    try:
        transport.sendto(discovery_probe(msg_id))
        return await asyncio.wait_for(found, timeout)
    except (TimeoutError, OSError):
        return None
    finally:
        transport.close()
