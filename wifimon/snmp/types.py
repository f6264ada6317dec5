"""The narrow seam between wifimon and any SNMP implementation.

Everything above the transport speaks in numeric OIDs (tuples of ints) and
plain Python values tagged with their SMI type; nothing is resolved by MIB
name at poll time (pysnmp's MIB lookup costs about half its throughput).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

Oid = tuple[int, ...]


def parse_oid(text: str) -> Oid:
    """Turn ``"1.3.6.1.2.1.1.5.0"`` (a leading dot is allowed) into a tuple."""
    stripped = text.strip().lstrip(".")
    if not stripped:
        raise ValueError("empty OID")
    try:
        parts = tuple(int(part) for part in stripped.split("."))
    except ValueError:
        raise ValueError(f"not a numeric OID: {text!r}") from None
    if any(part < 0 for part in parts):
        raise ValueError(f"negative sub-identifier in OID: {text!r}")
    return parts


def format_oid(oid: Oid) -> str:
    return ".".join(str(part) for part in oid)


class ValueKind(enum.Enum):
    """SMI types as they appear on the wire (snmprec tag in the comment)."""

    INTEGER = "integer"  # 2, also Integer32
    OCTET_STRING = "octets"  # 4
    NULL = "null"  # 5
    OBJECT_ID = "oid"  # 6
    IP_ADDRESS = "ip"  # 64
    COUNTER32 = "counter32"  # 65
    GAUGE32 = "gauge32"  # 66, also Unsigned32
    TIMETICKS = "timeticks"  # 67
    OPAQUE = "opaque"  # 68
    COUNTER64 = "counter64"  # 70
    NO_SUCH_OBJECT = "noSuchObject"  # 128
    NO_SUCH_INSTANCE = "noSuchInstance"  # 129
    END_OF_MIB_VIEW = "endOfMibView"  # 130

    @property
    def is_exception(self) -> bool:
        return self in _EXCEPTIONS

    @property
    def is_numeric(self) -> bool:
        return self in _NUMERIC


_EXCEPTIONS = frozenset(
    {ValueKind.NO_SUCH_OBJECT, ValueKind.NO_SUCH_INSTANCE, ValueKind.END_OF_MIB_VIEW}
)
_NUMERIC = frozenset(
    {
        ValueKind.INTEGER,
        ValueKind.COUNTER32,
        ValueKind.GAUGE32,
        ValueKind.TIMETICKS,
        ValueKind.COUNTER64,
    }
)


@dataclass(frozen=True, slots=True)
class SnmpValue:
    """One decoded value.

    ``value`` is an ``int`` for numeric kinds, ``bytes`` for OCTET STRING,
    IpAddress (4 bytes) and Opaque, an ``Oid`` for OBJECT IDENTIFIER and
    ``None`` for NULL and the three exception kinds.
    """

    kind: ValueKind
    value: int | bytes | Oid | None


@dataclass(frozen=True, slots=True)
class VarBind:
    oid: Oid
    value: SnmpValue


class WalkRows(list[VarBind]):
    """A walk's rows. ``cut`` is True when the agent's answers ended the walk
    early (an OID going backwards or repeating, or the row limit reached),
    so the table may be incomplete and the poller counts a gap."""

    cut: bool = False


class ErrorReason(enum.Enum):
    """The closed set of poll error reasons of METRICS.md."""

    TIMEOUT = "timeout"
    AUTH = "auth"
    NO_SUCH_OBJECT = "no_such_object"
    DECODE = "decode"
    UNREACHABLE = "unreachable"
    OTHER = "other"


class SnmpError(Exception):
    """A request failed; ``reason`` is what the self-metrics count."""

    def __init__(self, reason: ErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


SnmpVersion = Literal["1", "2c", "3"]
AuthProtocol = Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"]
PrivProtocol = Literal["des", "3des", "aes", "aes128", "aes192", "aes256"]


@dataclass(frozen=True, slots=True)
class SnmpCredentials:
    """How to talk to an agent. Secret fields never reach ``repr``."""

    version: SnmpVersion
    community: str = field(default="", repr=False)
    user: str = ""
    auth_protocol: AuthProtocol | None = None
    auth_password: str = field(default="", repr=False)
    priv_protocol: PrivProtocol | None = None
    priv_password: str = field(default="", repr=False)
    context: str = ""


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    """One agent: where it is, how to authenticate, how patient to be.

    ``timeout`` is seconds per request attempt (e.g. 5.0), ``retries`` the
    extra attempts after the first (e.g. 2).
    """

    name: str
    host: str
    port: int
    credentials: SnmpCredentials
    timeout: float = 5.0
    retries: int = 2
    max_repetitions: int = 25


@dataclass(slots=True)
class TransportStats:
    """Counters the transport keeps for the self-metrics."""

    requests: int = 0
    retries: int = 0
    dropped_replies: int = 0  # datagrams not matching any request, or undecodable


class Transport(Protocol):
    """What the poller needs from SNMP: get some OIDs, walk a subtree.

    Implementations raise ``SnmpError`` for a failed request. ``get`` returns
    one VarBind per requested OID, in order; a missing object comes back with
    an exception kind, not as an error. ``walk`` returns the subtree in OID
    order, stops at the end of the subtree, at ``endOfMibView``, at a
    non-increasing OID (a broken agent) or after ``max_rows`` varbinds.
    With ``unordered`` (agents known to list a table out of OID order), a
    backward step inside the subtree is followed instead, and only an OID
    seen before ends the walk; the rows come back in OID order.
    ``walk_columns`` walks several subtrees (a table's columns) together,
    each with ``walk``'s semantics and ``max_rows``, and returns their rows
    per root, in the order of ``roots``. ``get_and_walk_columns`` is
    ``get(oids)`` then ``walk_columns(roots)`` (ordered), in fewer requests
    where the protocol allows (a missing scalar may then read noSuchObject
    where a GET would say noSuchInstance).
    """

    stats: TransportStats

    async def get(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]: ...

    async def walk(
        self, target: SnmpTarget, root: Oid, max_rows: int = 100_000, *, unordered: bool = False
    ) -> list[VarBind]: ...

    async def walk_columns(
        self, target: SnmpTarget, roots: Sequence[Oid], max_rows: int, *, unordered: bool = False
    ) -> dict[Oid, WalkRows]: ...

    async def get_and_walk_columns(
        self, target: SnmpTarget, oids: Sequence[Oid], roots: Sequence[Oid], max_rows: int
    ) -> tuple[list[VarBind], dict[Oid, WalkRows]]: ...

    async def close(self) -> None: ...
