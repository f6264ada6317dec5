"""SNMP v1/v2c/v3 over pysnmp 7's asyncio engine, behind the ``Transport`` seam.

pysnmp is untyped; everything it returns is ``Any`` and stays in this module.

Why not the hlapi coroutines (``get_cmd``, ``bulk_cmd``, ``bulk_walk_cmd``)?
They run every request varbind through ``make_varbinds``, which resolves it
against the MIB even with ``lookupMib=False`` (that option only skips the
response side). We call the two layers they wrap — the LCD configurator and
the RFC 3413 command generators — with raw numeric varbinds, so no MIB is
consulted at poll time, and we own the future each request completes, which
keeps cancellation, retry counting and error mapping in our hands.

pysnmp caches an agent's engine id per address for five minutes and keeps
sending to the old one when the agent is replaced or reset (a new engine
id): net-snmp then drops every request. So a v3 request that times out asks
the agent for its engine id (``v3_probe``); when that changed, the cached
one is dropped and the request sent once more. (A restart with the same
engine id needs nothing: the agent's NotInTimeWindow report resynchronises
pysnmp.)
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import CommunityData, UdpTransportTarget, UsmUserData
from pysnmp.hlapi.v3arch.asyncio.lcd import CommandGeneratorLcdConfigurator
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.error import StatusInformation

from wifimon.snmp.pdus import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_GET_VARBINDS,
    RECEIVE_BUFFER_BYTES,
    RequestLogic,
    enlarge_receive_buffer,
    where,
)
from wifimon.snmp.types import (
    ErrorReason,
    Oid,
    SnmpCredentials,
    SnmpError,
    SnmpTarget,
    SnmpValue,
    TransportStats,
    ValueKind,
    VarBind,
)
from wifimon.snmp.v3_probe import discover_engine_id

_AUTH_PROTOCOLS: dict[str, Any] = {
    "md5": config.USM_AUTH_HMAC96_MD5,
    "sha": config.USM_AUTH_HMAC96_SHA,
    "sha224": config.USM_AUTH_HMAC128_SHA224,
    "sha256": config.USM_AUTH_HMAC192_SHA256,
    "sha384": config.USM_AUTH_HMAC256_SHA384,
    "sha512": config.USM_AUTH_HMAC384_SHA512,
}
# aes192/aes256 use Reeder key extension ("AES-256-C" in net-snmp, what Cisco
# and most vendors ship); pysnmp calls it USM_PRIV_CFB256_AES.
_PRIV_PROTOCOLS: dict[str, Any] = {
    "des": config.USM_PRIV_CBC56_DES,
    "3des": config.USM_PRIV_CBC168_3DES,
    "aes": config.USM_PRIV_CFB128_AES,
    "aes128": config.USM_PRIV_CFB128_AES,
    "aes192": config.USM_PRIV_CFB192_AES,
    "aes256": config.USM_PRIV_CFB256_AES,
}

_KIND_BY_TAG: dict[Any, ValueKind] = {
    rfc1902.Integer32.tagSet: ValueKind.INTEGER,
    rfc1902.OctetString.tagSet: ValueKind.OCTET_STRING,  # also Bits
    univ.Null.tagSet: ValueKind.NULL,
    rfc1902.ObjectIdentifier.tagSet: ValueKind.OBJECT_ID,
    rfc1902.IpAddress.tagSet: ValueKind.IP_ADDRESS,
    rfc1902.Counter32.tagSet: ValueKind.COUNTER32,
    rfc1902.Gauge32.tagSet: ValueKind.GAUGE32,  # also Unsigned32
    rfc1902.TimeTicks.tagSet: ValueKind.TIMETICKS,
    rfc1902.Opaque.tagSet: ValueKind.OPAQUE,
    rfc1902.Counter64.tagSet: ValueKind.COUNTER64,
    rfc1905.NoSuchObject.tagSet: ValueKind.NO_SUCH_OBJECT,
    rfc1905.NoSuchInstance.tagSet: ValueKind.NO_SUCH_INSTANCE,
    rfc1905.EndOfMibView.tagSet: ValueKind.END_OF_MIB_VIEW,
}
_BYTES_KINDS = frozenset({ValueKind.OCTET_STRING, ValueKind.IP_ADDRESS, ValueKind.OPAQUE})

# Reports that belong to SNMPv3 engine discovery / time sync; pysnmp resends
# after them on purpose, so they are not retries.
_DISCOVERY_INDICATIONS = (errind.UnknownEngineID, errind.NotInTimeWindow)
_AUTH_INDICATIONS = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.DecryptionError,
    errind.AuthenticationFailure,
    errind.AuthenticationError,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.UnsupportedAuthProtocol,
    errind.UnsupportedPrivProtocol,
    errind.NoAuthentication,
    *_DISCOVERY_INDICATIONS,  # discovery never converged: the agent rejects us
)
_DECODE_INDICATIONS = (
    errind.DeserializationError,
    errind.DataMismatch,
    errind.EngineIDMismatch,
    errind.EmptyResponse,
)

_LCD = CommandGeneratorLcdConfigurator()


def to_snmp_value(value: Any) -> SnmpValue:
    """Map a decoded pysnmp/pyasn1 value onto wifimon's ``SnmpValue``."""
    kind = _KIND_BY_TAG.get(value.tagSet)
    if kind is None:
        raise SnmpError(ErrorReason.DECODE, f"unsupported SNMP type {type(value).__name__}")
    if kind.is_numeric:
        return SnmpValue(kind, int(value))
    if kind in _BYTES_KINDS:
        return SnmpValue(kind, bytes(value.asOctets()))
    if kind is ValueKind.OBJECT_ID:
        return SnmpValue(kind, tuple(int(part) for part in value.asTuple()))
    return SnmpValue(kind, None)


def _decode_varbinds(raw: Any, where: str) -> list[VarBind]:
    try:
        return [
            VarBind(tuple(int(part) for part in name.asTuple()), to_snmp_value(value))
            for name, value in raw
        ]
    except (PyAsn1Error, TypeError, ValueError) as exc:
        raise SnmpError(ErrorReason.DECODE, f"{where}: undecodable varbind") from exc


def _is_failure(indication: Any) -> bool:
    return isinstance(indication, errind.ErrorIndication) and not isinstance(
        indication, _DISCOVERY_INDICATIONS
    )


def _error_for_indication(indication: Any, where: str) -> SnmpError:
    # errind messages are fixed texts from pysnmp; they never carry secrets.
    name = type(indication).__name__ if isinstance(indication, errind.ErrorIndication) else "?"
    if isinstance(indication, errind.RequestTimedOut):
        return SnmpError(ErrorReason.TIMEOUT, f"{where}: no response")
    if isinstance(indication, _AUTH_INDICATIONS):
        return SnmpError(ErrorReason.AUTH, f"{where}: authentication failed ({name})")
    if isinstance(indication, _DECODE_INDICATIONS) or indication == "badResponse":
        return SnmpError(ErrorReason.DECODE, f"{where}: bad response ({name})")
    return SnmpError(ErrorReason.OTHER, f"{where}: {name}: {indication}")


def _auth_data(credentials: SnmpCredentials) -> Any:
    if credentials.version != "3":
        return CommunityData(credentials.community, mpModel=0 if credentials.version == "1" else 1)
    auth = credentials.auth_protocol
    priv = credentials.priv_protocol
    return UsmUserData(
        credentials.user,
        authKey=credentials.auth_password if auth else None,
        privKey=credentials.priv_password if priv else None,
        authProtocol=_AUTH_PROTOCOLS[auth] if auth else None,
        privProtocol=_PRIV_PROTOCOLS[priv] if priv else None,
    )


class _UdpSocket(udp.UdpAsyncioTransport):  # type: ignore[misc]  # pysnmp is untyped
    """pysnmp's asyncio UDP transport on a socket we made, counting datagrams sent."""

    def __init__(self, stats: TransportStats) -> None:
        super().__init__()
        self.stats = stats
        self.send_error: Exception | None = None

    def send_message(self, outgoingMessage: Any, transportAddress: Any) -> None:  # noqa: N803
        self.stats.requests += 1
        super().send_message(outgoingMessage, transportAddress)

    def error_received(self, exc: Exception) -> None:
        # asyncio hands a failed sendto() (bad address, no route) to this hook
        # instead of raising; pysnmp ignores it and would report a timeout.
        self.send_error = exc

    def take_send_error(self) -> Exception | None:
        error, self.send_error = self.send_error, None
        return error


def _retry_counting(base: Any, stats: TransportStats) -> Any:
    """A command generator that counts every attempt after a failed one."""

    class RetryCounting(base):  # type: ignore[misc]  # pysnmp is untyped
        def process_response_pdu(self, *args: Any) -> None:
            status_information = args[9]  # positional, as pysnmp's dispatcher calls it
            if status_information and _is_failure(status_information["errorIndication"]):
                # pysnmp resends unless retries ran out; the reply callback
                # takes this back in that case (see _Engine.exchange).
                stats.retries += 1
            super().process_response_pdu(*args)

    return RetryCounting()


@dataclass(frozen=True, slots=True)
class _Request:
    """One request PDU: GET of ``oids``, or GETNEXT/GETBULK after each of ``oids``."""

    pdu: Literal["get", "next", "bulk"]
    oids: Sequence[Oid]
    max_repetitions: int = 0
    non_repeaters: int = 0  # GETBULK: the first this many of ``oids`` get one GETNEXT each


@dataclass(frozen=True, slots=True)
class _Response:
    error_status: int
    error_index: int
    varbinds: list[VarBind]


@dataclass(frozen=True, slots=True)
class _Route:
    """Where the pysnmp engine knows a target by: its LCD target-address name."""

    address_name: str
    context_name: bytes
    address: tuple[str, int]  # resolved IP and port, e.g. ("10.1.0.2", 161)


def _v3_keys(credentials: SnmpCredentials) -> tuple[str | None, str, str | None, str]:
    return (
        credentials.auth_protocol,
        credentials.auth_password,
        credentials.priv_protocol,
        credentials.priv_password,
    )


def _route_key(target: SnmpTarget) -> tuple[object, ...]:
    return (target.host, target.port, target.credentials, target.timeout, target.retries)


class _Engine:
    """One pysnmp ``SnmpEngine`` with its UDP socket and configured targets."""

    def __init__(self, stats: TransportStats, udp_socket: _UdpSocket) -> None:
        self.snmp_engine: Any = SnmpEngine()
        self.udp_socket = udp_socket
        config.add_transport(self.snmp_engine, udp.DOMAIN_NAME, udp_socket)
        self.stats = stats
        self.get_generator = _retry_counting(cmdgen.GetCommandGenerator, stats)
        self.next_generator = _retry_counting(cmdgen.NextCommandGeneratorSingleRun, stats)
        self.bulk_generator = _retry_counting(cmdgen.BulkCommandGeneratorSingleRun, stats)
        self.routes: dict[tuple[object, ...], _Route] = {}
        # pysnmp keeps one key set per v3 user name (its USM table is keyed by
        # engine ID and user); a second set would silently replace the first.
        self.v3_keys: dict[str, tuple[str | None, str, str | None, str]] = {}
        self.pending: set[asyncio.Future[Any]] = set()

    def claim(self, target: SnmpTarget) -> bool:
        """Take ``target`` unless its v3 user name is already used here with
        other keys (the same user with per-site passwords is common)."""
        credentials = target.credentials
        if credentials.version != "3":
            return True
        keys = _v3_keys(credentials)
        return self.v3_keys.setdefault(credentials.user, keys) == keys

    async def route(self, target: SnmpTarget) -> _Route:
        route = self.routes.get(_route_key(target))
        if route is None:
            route = await self._configure(target)
            self.routes[_route_key(target)] = route
        return route

    async def _configure(self, target: SnmpTarget) -> _Route:
        credentials = target.credentials
        if credentials.version == "3":
            self._check_v3_keys(target)
        try:
            address = await UdpTransportTarget.create(
                (target.host, target.port), timeout=target.timeout, retries=target.retries
            )
        except PySnmpError:
            raise SnmpError(
                ErrorReason.UNREACHABLE, f"{where(target)}: cannot resolve address"
            ) from None
        context = credentials.context.encode() if credentials.version == "3" else b""
        try:
            address_name, _ = _LCD.configure(
                self.snmp_engine, _auth_data(credentials), address, context
            )
        except PySnmpError as exc:
            # e.g. a v3 password under 8 characters; pysnmp's text may quote values
            raise SnmpError(
                ErrorReason.AUTH, f"{where(target)}: credentials refused ({type(exc).__name__})"
            ) from None
        if credentials.version == "3":
            self.v3_keys.setdefault(credentials.user, _v3_keys(credentials))
        host, port = address.transport_address[:2]
        return _Route(str(address_name), context, (str(host), int(port)))

    def _check_v3_keys(self, target: SnmpTarget) -> None:
        credentials = target.credentials
        known = self.v3_keys.get(credentials.user)
        if known is not None and known != _v3_keys(credentials):
            raise SnmpError(
                ErrorReason.AUTH,
                f"{where(target)}: v3 user {credentials.user!r} is already in use "
                "with other keys or protocols by another target",
            )

    async def exchange(self, target: SnmpTarget, request: _Request) -> _Response:
        """Send one request PDU and wait for its reply (pysnmp does the retries);
        for v3, once more if the agent turns out to have a new engine id."""
        try:
            return await self._exchange_once(target, request)
        except SnmpError as error:
            if error.reason is not ErrorReason.TIMEOUT or target.credentials.version != "3":
                raise
            if not await self._forget_replaced_engine(target):
                raise
        return await self._exchange_once(target, request)

    async def _forget_replaced_engine(self, target: SnmpTarget) -> bool:
        """True when the agent now reports an engine id other than the one
        pysnmp cached for its address; the cached one is then forgotten."""
        route = await self.route(target)
        cache = self._engine_id_cache()
        cached = {
            bytes(entry["securityEngineId"])
            for key, entry in cache.items()
            if tuple(key[1])[:2] == route.address
        }
        if not cached:
            return False  # never discovered: nothing stale to forget
        self.stats.requests += 1
        current = await discover_engine_id(route.address, target.timeout)
        if current is None or current in cached:
            return False
        for key in [key for key in cache if tuple(key[1])[:2] == route.address]:
            del cache[key]
        return True

    def _engine_id_cache(self) -> dict[Any, Any]:
        # pysnmp's v3 message processing model keeps discovered engine ids in
        # a private dict keyed by (transport domain, address); no API clears it.
        model = self.snmp_engine.message_processing_subsystems[3]
        cache: dict[Any, Any] = model._SnmpV3MessageProcessingModel__engineIdCache
        return cache

    async def _exchange_once(self, target: SnmpTarget, request: _Request) -> _Response:
        route = await self.route(target)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_reply(*args: Any) -> None:
            indication = args[2]
            if _is_failure(indication):
                self.stats.retries -= 1  # the final failed attempt was not resent
            if not future.done():  # done when the caller was cancelled
                future.set_result(args[2:6])

        self.pending.add(future)
        try:
            self._send(target, request, route, on_reply, future)
            indication, status, index, raw = await future
        finally:
            self.pending.discard(future)
        if indication:
            raise _error_for_indication(indication, where(target))
        return _Response(int(status), int(index), _decode_varbinds(raw, where(target)))

    def _send(
        self,
        target: SnmpTarget,
        request: _Request,
        route: _Route,
        on_reply: Callable[..., None],
        future: asyncio.Future[Any],
    ) -> None:
        self.udp_socket.take_send_error()  # forget what earlier sends left
        try:
            self._send_pdu(request, route, on_reply)
        except StatusInformation as status:
            raise _error_for_indication(status["errorIndication"], where(target)) from None
        except (PySnmpError, PyAsn1Error) as exc:
            raise SnmpError(ErrorReason.OTHER, f"{where(target)}: {type(exc).__name__}") from None
        send_error = self.udp_socket.take_send_error()
        if send_error is not None:
            future.cancel()  # pysnmp will time the request out on its own
            reason = type(send_error).__name__
            raise SnmpError(ErrorReason.UNREACHABLE, f"{where(target)}: send failed ({reason})")

    def _send_pdu(self, request: _Request, route: _Route, on_reply: Callable[..., None]) -> None:
        head = (self.snmp_engine, route.address_name, None, route.context_name)
        varbinds = [(rfc1902.ObjectName(oid), univ.Null("")) for oid in request.oids]
        if request.pdu == "get":
            self.get_generator.send_varbinds(*head, varbinds, on_reply)
        elif request.pdu == "next":
            self.next_generator.send_varbinds(*head, varbinds, on_reply)
        else:
            self.bulk_generator.send_varbinds(
                *head, request.non_repeaters, request.max_repetitions, varbinds, on_reply
            )

    def close(self) -> None:
        for future in self.pending:
            if not future.done():
                future.set_exception(SnmpError(ErrorReason.OTHER, "transport closed"))
        self.snmp_engine.close_dispatcher()


class PysnmpTransport(RequestLogic):
    """``Transport`` over real UDP (IPv4) with pysnmp.

    One engine and socket serve every target, except that each further key
    set for an SNMPv3 user name already in use gets an engine of its own.

    ``concurrency`` bounds the request PDUs in flight across all targets;
    ``max_get_varbinds`` is the most OIDs put in one GET PDU. A target's host
    name is resolved once, the first time it is polled.
    """

    def __init__(
        self,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_get_varbinds: int = DEFAULT_MAX_GET_VARBINDS,
        receive_buffer_bytes: int = RECEIVE_BUFFER_BYTES,
    ) -> None:
        super().__init__(concurrency, max_get_varbinds, receive_buffer_bytes)
        self._setup_lock = asyncio.Lock()
        self._engines: list[_Engine] = []
        self._engine_of: dict[tuple[object, ...], _Engine] = {}

    async def get(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        return await self.get_oids(target, oids)

    async def walk(
        self, target: SnmpTarget, root: Oid, max_rows: int = 100_000, *, unordered: bool = False
    ) -> list[VarBind]:
        return await self.walk_subtree(target, root, max_rows, unordered=unordered)

    async def close(self) -> None:
        for engine in self._engines:
            engine.close()
        self._engines.clear()
        self._engine_of.clear()

    def receive_buffer_size(self) -> int | None:
        """The kernel's receive buffer of the socket in bytes (Linux reports 2x the request)."""
        if not self._engines or self._engines[0].udp_socket.transport is None:
            return None
        sock = self._engines[0].udp_socket.transport.get_extra_info("socket")
        return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))

    async def _get_pdu(self, target: SnmpTarget, oids: Sequence[Oid]) -> _Response:
        return await self._exchange(target, _Request("get", oids))

    async def _walk_pdu(
        self, target: SnmpTarget, cursors: Sequence[Oid], wanted: int, leading: Sequence[Oid] = ()
    ) -> _Response:
        if target.credentials.version == "1":  # SNMPv1 has no GETBULK
            return await self._exchange(target, _Request("next", cursors))
        oids = [*leading, *cursors]
        return await self._exchange(target, _Request("bulk", oids, wanted, len(leading)))

    async def _exchange(self, target: SnmpTarget, request: _Request) -> _Response:
        engine = self._engine_of.get(_route_key(target)) or await self._engine_for(target)
        async with self._slots:
            return await engine.exchange(target, request)

    async def _engine_for(self, target: SnmpTarget) -> _Engine:
        # Created lazily: pysnmp's dispatcher binds to the running event loop.
        async with self._setup_lock:
            engine = self._engine_of.get(_route_key(target))
            if engine is None:
                engine = next((e for e in self._engines if e.claim(target)), None)
            if engine is None:
                engine = _Engine(self.stats, await self._open_socket())
                engine.claim(target)
                self._engines.append(engine)
            self._engine_of[_route_key(target)] = engine
            return engine

    async def _open_socket(self) -> _UdpSocket:
        # Our own socket, handed to asyncio, because pysnmp's open_client_mode()
        # creates its socket in a background task we could not configure.
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            enlarge_receive_buffer(sock, self._receive_buffer_bytes)
            sock.setblocking(False)
            udp_socket = _UdpSocket(self.stats)
            loop = asyncio.get_running_loop()
            await loop.create_datagram_endpoint(lambda: udp_socket, sock=sock)
        except BaseException:
            sock.close()
            raise
        return udp_socket
