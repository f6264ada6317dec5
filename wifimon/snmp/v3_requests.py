"""SNMPv3 requests and the judgement of their replies, without the wire.

``AgentClock`` is what a command generator knows of one agent's engine (RFC
3414 2.3): its id, boots and time, the time advancing locally between
messages. ``V3Request`` builds one signed and encrypted request from it and
``V3Request.judge`` decides what a datagram carrying the request's msgID
means: a believable Response, a Report (discovery, time window,
authentication failures), or nothing (None: drop it and keep waiting).

Nothing is believed before it is authenticated: a Response must carry our
security level, our engine id and user, a correct digest, a time inside the
150 s window, then decrypt and decode, and echo our request id and context.
Reports come unauthenticated when the agent could not authenticate us; they
only ever make the transport rediscover, retry or fail, never return data.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from wifimon.snmp.ber import BerError
from wifimon.snmp.types import Oid, SnmpCredentials
from wifimon.snmp.usm import SaltCounter, UsmError, UsmKeys, decrypt, encrypt
from wifimon.snmp.v3_codec import (
    FLAG_AUTH,
    FLAG_PRIV,
    FLAG_REPORTABLE,
    MAX_INT32,
    TAG_REPORT,
    ScopedPdu,
    V3Message,
    decode_scoped_pdu,
    encode_message,
    encode_scoped_pdu,
)

TIME_WINDOW_S = 150  # RFC 3414 2.2.3
_TAG_RESPONSE = 0xA2
_USM_STATS = (1, 3, 6, 1, 6, 3, 15, 1, 1)
# usmStats* counters a Report carries, by their last arc (RFC 3414 5)
REPORT_KINDS = {
    1: "UnsupportedSecurityLevel",
    2: "NotInTimeWindow",
    3: "UnknownUserName",
    4: "UnknownEngineID",
    5: "WrongDigest",
    6: "DecryptionError",
}


@dataclass(slots=True)
class AgentClock:
    """One agent's engine as we know it: ``engine_id`` (e.g. 17 octets from
    net-snmp), ``boots`` (restarts, e.g. 3) and ``engine_time`` (seconds
    since the last boot, e.g. 1042) as of ``synced_at`` (our monotonic
    clock, seconds); ``latest_time`` is RFC 3414's latestReceivedEngineTime."""

    engine_id: bytes
    boots: int
    engine_time: int
    synced_at: float = field(default_factory=time.monotonic)
    latest_time: int = -1
    salts: SaltCounter = field(default_factory=SaltCounter, repr=False)

    def __post_init__(self) -> None:
        if self.latest_time < 0:
            self.latest_time = self.engine_time

    def now(self) -> int:
        """The agent's engine time now, estimated from the last synchronisation."""
        elapsed = int(time.monotonic() - self.synced_at)
        return min(self.engine_time + max(0, elapsed), MAX_INT32)

    def accepts(self, boots: int, engine_time: int) -> bool:
        """RFC 3414 3.2.7b for an authentic message: adopt a newer clock and say
        whether the message is inside the time window."""
        if boots > self.boots or (boots == self.boots and engine_time > self.latest_time):
            self.boots, self.engine_time, self.latest_time = boots, engine_time, engine_time
            self.synced_at = time.monotonic()
        return not (
            boots >= MAX_INT32
            or boots < self.boots
            or (boots == self.boots and engine_time < self.latest_time - TIME_WINDOW_S)
        )

    def resync(self, boots: int, engine_time: int) -> None:
        """Adopt the clock of an authentic NotInTimeWindow report."""
        self.boots, self.engine_time, self.latest_time = boots, engine_time, engine_time
        self.synced_at = time.monotonic()


@dataclass(frozen=True, slots=True)
class Report:
    """A Report PDU answering our request: ``kind`` is a ``REPORT_KINDS``
    value or "Other"; ``authentic`` whether its digest was verified;
    ``message`` carries the agent's engine id, boots and time."""

    kind: str
    authentic: bool
    message: V3Message


@dataclass(frozen=True, slots=True)
class DecryptionFailed:
    """An authentic Response we cannot decrypt: our privacy key is wrong."""


Outcome = ScopedPdu | Report | DecryptionFailed


def security_flags(credentials: SnmpCredentials) -> int:
    """msgFlags' level bits for ``credentials`` (0, FLAG_AUTH or FLAG_AUTH|FLAG_PRIV)."""
    if credentials.auth_protocol is None:
        return 0
    return FLAG_AUTH | (FLAG_PRIV if credentials.priv_protocol is not None else 0)


@dataclass(frozen=True, slots=True)
class PduRequest:
    """The PDU to send: ``pdu_tag`` 0xA0 GET, 0xA1 GETNEXT, 0xA5 GETBULK."""

    pdu_tag: int
    oids: Sequence[Oid]
    field2: int = 0
    field3: int = 0


@dataclass(frozen=True, slots=True)
class V3Request:
    """One attempt of a request: ``keys`` localised to ``clock.engine_id``,
    ``context`` the context name, ``request_id`` used as msgID too."""

    keys: UsmKeys
    clock: AgentClock
    level: int
    context: bytes
    request_id: int
    pdu: PduRequest

    def encode(self) -> bytes:
        """The signed (and encrypted) message, at the agent's current time."""
        keys, clock = self.keys, self.clock
        scoped = encode_scoped_pdu(
            clock.engine_id,
            self.context,
            self.pdu.pdu_tag,
            self.request_id,
            self.pdu.oids,
            field2=self.pdu.field2,
            field3=self.pdu.field3,
        )
        boots, engine_time = clock.boots, clock.now()
        priv_params = b""
        if self.level & FLAG_PRIV:
            scoped, priv_params = encrypt(keys, boots, engine_time, clock.salts.take(), scoped)
        message, offset = encode_message(
            self.request_id,
            self.level | FLAG_REPORTABLE,
            (clock.engine_id, boots, engine_time, keys.user),
            priv_params,
            scoped,
            digest_length=keys.digest_length,
        )
        if not self.level & FLAG_AUTH:
            return message
        digest = keys.digest(message)
        return message[:offset] + digest + message[offset + len(digest) :]

    def judge(self, message: V3Message, datagram: bytes) -> Outcome | None:
        """What ``message`` (decoded from ``datagram``, with our msgID) means; None to drop."""
        level = message.flags & (FLAG_AUTH | FLAG_PRIV)
        if level == FLAG_PRIV or message.encrypted != bool(level & FLAG_PRIV):
            return None  # privacy without authentication, or flags lying about the data
        authentic = False
        if level & FLAG_AUTH:
            if not self._is_authentic(message, datagram):
                return None
            authentic = True
        try:
            pdu = self._scoped_pdu(message)
        except (BerError, UsmError):
            return DecryptionFailed() if authentic and message.encrypted else None
        if pdu.pdu_tag == TAG_REPORT:
            return Report(_report_kind(pdu), authentic, message)
        if pdu.pdu_tag != _TAG_RESPONSE or level != self.level:
            return None
        if message.engine_id != self.clock.engine_id or not self._is_ours(pdu):
            return None
        if authentic and not self.clock.accepts(message.engine_boots, message.engine_time):
            return None  # replayed or delayed beyond the time window
        return pdu

    def _is_authentic(self, message: V3Message, datagram: bytes) -> bool:
        keys = self.keys
        if keys.hash_name is None or message.engine_id != keys.engine_id:
            return False
        if message.user_name != keys.user or len(message.auth_params) != keys.digest_length:
            return False
        start = message.auth_offset
        zeroed = (
            datagram[:start] + bytes(keys.digest_length) + datagram[start + keys.digest_length :]
        )
        return keys.is_authentic(zeroed, message.auth_params)

    def _scoped_pdu(self, message: V3Message) -> ScopedPdu:
        if not message.encrypted:
            return decode_scoped_pdu(message.scoped)
        if self.keys.priv_protocol is None:
            raise UsmError("encrypted reply to an unencrypted request")
        plain = decrypt(
            self.keys,
            message.engine_boots,
            message.engine_time,
            message.priv_params,
            message.scoped,
        )
        return decode_scoped_pdu(plain, padded=self.keys.priv_protocol == "des")

    def _is_ours(self, pdu: ScopedPdu) -> bool:
        return (
            pdu.request_id == self.request_id
            and pdu.context_engine_id == self.clock.engine_id
            and pdu.context_name == self.context
        )


def _report_kind(pdu: ScopedPdu) -> str:
    if pdu.varbinds:
        oid = pdu.varbinds[0].oid
        if oid[: len(_USM_STATS)] == _USM_STATS and len(oid) == len(_USM_STATS) + 2:
            return REPORT_KINDS.get(oid[len(_USM_STATS)], "Other")
    return "Other"


def discovered_clock(report: Report) -> AgentClock | None:
    """The agent's engine from an UnknownEngineID Report, if it names one."""
    message = report.message
    if report.kind != "UnknownEngineID" or not message.engine_id:
        return None
    return AgentClock(message.engine_id, message.engine_boots, message.engine_time)


def judge_discovery(message: V3Message) -> Report | None:
    """A discovery probe's answer: an unauthenticated plaintext Report, or None."""
    if message.flags & (FLAG_AUTH | FLAG_PRIV) or message.encrypted:
        return None
    try:
        pdu = decode_scoped_pdu(message.scoped)
    except BerError:
        return None
    if pdu.pdu_tag != TAG_REPORT:
        return None
    return Report(_report_kind(pdu), False, message)
