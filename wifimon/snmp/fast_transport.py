"""SNMP v1/v2c/v3 over one asyncio UDP socket with the lean codecs.

Same ``Transport`` contract and the same GET/walk semantics as
``PysnmpTransport``: both inherit them from ``pdus.RequestLogic`` and only
say how one PDU is exchanged, so they cannot drift apart.

SNMPv3 (USM) is native for every protocol pair in ``NATIVE_AUTH`` x
``NATIVE_PRIV`` (``v3_codec``, ``usm``, ``v3_requests``); the rest (3DES) is
handed to an internal ``PysnmpTransport``, created the first time one is
polled. An agent's engine is discovered once (one probe) and its clock
tracked; when the agent restarts, its NotInTimeWindow report (same engine
id) or UnknownEngineID report (new engine id) resynchronises us and the
request is sent once more, so polling recovers without an operator.

A v1/v2c reply is accepted only when its request id is one we wait for and
its source address and port, SNMP version and community all match that
request; a v3 reply when its msgID is one we wait for, it comes from the
request's address and ``V3Request.judge`` believes it (digest, engine id,
user, time window, decryption, request id, context). Anything else
(including undecodable datagrams) is dropped and counted in
``stats.dropped_replies``, and the request keeps waiting, ending as TIMEOUT.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wifimon.snmp.ber import (
    TAG_GET_BULK_REQUEST,
    TAG_GET_REQUEST,
    BerError,
)
from wifimon.snmp.pdus import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_GET_VARBINDS,
    RECEIVE_BUFFER_BYTES,
    Reply,
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
    VarBind,
    WalkRows,
)
from wifimon.snmp.usm import UsmError, UsmKeys, check_credentials, localize
from wifimon.snmp.v2c_codec import (
    VERSION_1,
    VERSION_2C,
    Response,
    decode_response,
    encode_get,
    encode_getbulk,
    encode_getnext,
)
from wifimon.snmp.v3_codec import (
    ScopedPdu,
    V3Message,
    decode_message,
    encode_discovery,
    is_v3_message,
)
from wifimon.snmp.v3_requests import (
    AgentClock,
    DecryptionFailed,
    Outcome,
    PduRequest,
    Report,
    V3Request,
    discovered_clock,
    judge_discovery,
    security_flags,
)

if TYPE_CHECKING:
    from wifimon.snmp.pysnmp_transport import PysnmpTransport

_MAX_DATAGRAM = 65535
_REQUEST_ID_BITS = 31  # ids 0..2^31-1 always fit the Integer32 request-id
_Encoder = Callable[[int], bytes]  # request id -> the request datagram
_Judge = Callable[[V3Message, bytes], Outcome | None]  # None: drop the datagram
_KEY_CACHE_LIMIT = 100_000

# SNMPv3 protocols handled natively (each proven against net-snmp snmpd in
# tests/e2e/test_fast_v3.py); anything else goes through pysnmp.
NATIVE_AUTH = frozenset({None, "md5", "sha", "sha224", "sha256", "sha384", "sha512"})
NATIVE_PRIV = frozenset({None, "des", "aes", "aes128", "aes192", "aes256"})
# Reports after which the request is resent at once (not counted as a retry)
_RESYNC_REPORTS = frozenset({"NotInTimeWindow", "UnknownEngineID"})


@dataclass(slots=True)
class _Waiter:
    """One request on the wire: what its reply must look like, and who waits."""

    address: tuple[str, int]
    version: int
    community: bytes
    future: asyncio.Future[Response | None] = field(repr=False)


@dataclass(slots=True)
class _V3Waiter:
    """One SNMPv3 attempt on the wire: where the reply must come from, how to
    judge it, and who waits (None: this attempt timed out)."""

    address: tuple[str, int]
    judge: _Judge = field(repr=False)
    future: asyncio.Future[Outcome | None] = field(repr=False)


def is_native_v3(credentials: SnmpCredentials) -> bool:
    """Whether FastTransport speaks SNMPv3 with ``credentials`` itself."""
    return credentials.auth_protocol in NATIVE_AUTH and credentials.priv_protocol in NATIVE_PRIV


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: FastTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.owner._received(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors on an unconnected socket carry no request: let it time out
        pass


class FastTransport(RequestLogic):
    """``Transport`` for SNMP v1/v2c/v3 over real UDP (IPv4) with the lean codecs.

    ``concurrency`` bounds the request PDUs in flight across all targets
    (SNMPv3 ones delegated to pysnmp are bounded by the delegate's own
    semaphore of the same size); ``max_get_varbinds`` is the most OIDs put
    in one GET PDU. A target's host name is resolved once, the first time it
    is polled; an SNMPv3 agent's engine is discovered once per address, and
    a user's keys are localised once per engine.
    """

    def __init__(
        self,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_get_varbinds: int = DEFAULT_MAX_GET_VARBINDS,
        receive_buffer_bytes: int = RECEIVE_BUFFER_BYTES,
    ) -> None:
        super().__init__(concurrency, max_get_varbinds, receive_buffer_bytes)
        self._pending: dict[int, _Waiter] = {}
        self._addresses: dict[tuple[str, int], tuple[str, int]] = {}
        self._socket: socket.socket | None = None
        self._datagrams: asyncio.DatagramTransport | None = None
        self._open_lock = asyncio.Lock()
        self._v3: PysnmpTransport | None = None
        self._v3_pending: dict[int, _V3Waiter] = {}
        self._clocks: dict[tuple[str, int], AgentClock] = {}
        self._discovering: dict[tuple[str, int], asyncio.Lock] = {}
        self._keys: dict[tuple[SnmpCredentials, bytes], UsmKeys] = {}

    # -- Transport ---------------------------------------------------------

    @property
    def dropped_replies(self) -> int:
        """Replies dropped so far (see the module docstring)."""
        return self.stats.dropped_replies

    async def get(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        if _delegated(target.credentials):
            return await self._delegate().get(target, oids)
        return await self.get_oids(target, oids)

    async def walk(
        self, target: SnmpTarget, root: Oid, max_rows: int = 100_000, *, unordered: bool = False
    ) -> list[VarBind]:
        if _delegated(target.credentials):
            return await self._delegate().walk(target, root, max_rows, unordered=unordered)
        return await self.walk_subtree(target, root, max_rows, unordered=unordered)

    async def walk_columns(
        self, target: SnmpTarget, roots: Sequence[Oid], max_rows: int, *, unordered: bool = False
    ) -> dict[Oid, WalkRows]:
        if _delegated(target.credentials):
            return await self._delegate().walk_columns(target, roots, max_rows, unordered=unordered)
        return await super().walk_columns(target, roots, max_rows, unordered=unordered)

    async def get_and_walk_columns(
        self, target: SnmpTarget, oids: Sequence[Oid], roots: Sequence[Oid], max_rows: int
    ) -> tuple[list[VarBind], dict[Oid, WalkRows]]:
        if _delegated(target.credentials):
            return await self._delegate().get_and_walk_columns(target, oids, roots, max_rows)
        return await super().get_and_walk_columns(target, oids, roots, max_rows)

    async def close(self) -> None:
        waiters: list[_Waiter | _V3Waiter] = [*self._pending.values(), *self._v3_pending.values()]
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(SnmpError(ErrorReason.OTHER, "transport closed"))
        self._pending.clear()
        self._v3_pending.clear()
        if self._datagrams is not None:
            self._datagrams.close()  # closes the socket too
            self._datagrams = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._v3 is not None:
            await self._v3.close()
            self._v3 = None

    def receive_buffer_size(self) -> int | None:
        """The kernel's receive buffer of the socket in bytes (Linux reports 2x the request)."""
        if self._socket is None or self._socket.fileno() == -1:
            return None
        return int(self._socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))

    # -- GET and walk PDUs -------------------------------------------------

    async def _get_pdu(self, target: SnmpTarget, oids: Sequence[Oid]) -> Reply:
        if target.credentials.version == "3":
            return await self._v3_exchange(target, PduRequest(TAG_GET_REQUEST, oids))
        version, community = _wire_credentials(target)
        return await self._exchange(
            target, lambda request_id: encode_get(version, community, request_id, oids)
        )

    async def _walk_pdu(
        self, target: SnmpTarget, cursors: Sequence[Oid], wanted: int, leading: Sequence[Oid] = ()
    ) -> Reply:
        oids = [*leading, *cursors] if leading else cursors
        if target.credentials.version == "3":
            pdu = PduRequest(TAG_GET_BULK_REQUEST, oids, len(leading), wanted)
            return await self._v3_exchange(target, pdu)
        version, community = _wire_credentials(target)
        if version == VERSION_1:  # SNMPv1 has no GETBULK
            return await self._exchange(
                target, lambda request_id: encode_getnext(version, community, request_id, cursors)
            )
        return await self._exchange(
            target,
            lambda request_id: encode_getbulk(community, request_id, len(leading), wanted, oids),
        )

    # -- the wire ----------------------------------------------------------

    async def _exchange(self, target: SnmpTarget, encode: _Encoder) -> Response:
        address = self._addresses.get((target.host, target.port))
        if address is None:
            address = await self._resolve(target)
        sock = self._socket if self._socket is not None else await self._open()
        version, community = _wire_credentials(target)
        async with self._slots:
            request_id = self._new_request_id()
            try:
                message = encode(request_id)
            except BerError as exc:  # e.g. an OID sub-identifier out of range
                raise SnmpError(ErrorReason.OTHER, f"{where(target)}: {exc}") from None
            loop = asyncio.get_running_loop()
            try:
                for attempt in range(max(0, target.retries) + 1):
                    if attempt:
                        self.stats.retries += 1
                    future: asyncio.Future[Response | None] = loop.create_future()
                    self._pending[request_id] = _Waiter(address, version, community, future)
                    self._send(sock, message, address, target)
                    expiry = loop.call_later(target.timeout, _expire, future)
                    try:
                        response = await future
                    finally:
                        expiry.cancel()
                    if response is not None:
                        return response
            finally:
                self._pending.pop(request_id, None)
        raise SnmpError(ErrorReason.TIMEOUT, f"{where(target)}: no response")

    def _send(
        self, sock: socket.socket, message: bytes, address: tuple[str, int], target: SnmpTarget
    ) -> None:
        self.stats.requests += 1
        try:
            sock.sendto(message, address)
        except BlockingIOError:
            # the send buffer is full: a lost datagram, the retry covers it
            pass
        except OSError as exc:
            raise SnmpError(
                ErrorReason.UNREACHABLE, f"{where(target)}: send failed ({type(exc).__name__})"
            ) from None

    def _received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if is_v3_message(data):
            self._received_v3(data, addr)
            return
        try:
            response = decode_response(data)
        except BerError:
            self.stats.dropped_replies += 1
            return
        waiter = self._pending.get(response.request_id)
        if (
            waiter is None
            or waiter.future.done()
            or addr[:2] != waiter.address
            or response.version != waiter.version
            or response.community != waiter.community
        ):
            self.stats.dropped_replies += 1
            return
        waiter.future.set_result(response)

    def _new_request_id(self) -> int:
        while True:
            request_id = secrets.randbits(_REQUEST_ID_BITS)  # unguessable: no spoofing
            if request_id not in self._pending and request_id not in self._v3_pending:
                return request_id

    # -- SNMPv3 ------------------------------------------------------------

    async def _v3_exchange(self, target: SnmpTarget, pdu: PduRequest) -> ScopedPdu:
        """One request PDU to a v3 target: discovery if needed, the target's
        attempts, and one resend after a clock resynchronisation."""
        credentials = target.credentials
        try:
            check_credentials(credentials)
        except UsmError as exc:  # a fixed text, never the password
            raise SnmpError(
                ErrorReason.AUTH, f"{where(target)}: credentials refused ({exc})"
            ) from None
        address = self._addresses.get((target.host, target.port)) or await self._resolve(target)
        sock = self._socket if self._socket is not None else await self._open()
        async with self._slots:
            clock = self._clocks.get(address) or await self._discover(target, address, sock)
            attempts, resynced = max(0, target.retries) + 1, False
            failures: list[str] = []
            while len(failures) < attempts:
                if failures:
                    self.stats.retries += 1
                request = V3Request(
                    self._localized(credentials, clock.engine_id),
                    clock,
                    security_flags(credentials),
                    credentials.context.encode(),
                    self._new_request_id(),
                    pdu,
                )
                outcome = await self._v3_attempt(target, address, sock, request)
                if isinstance(outcome, ScopedPdu):
                    return outcome
                if isinstance(outcome, Report) and outcome.kind in _RESYNC_REPORTS and not resynced:
                    resynced = True
                    clock = await self._resync(target, address, sock, outcome)
                    continue
                failures.append(_failure_name(outcome))
        raise _v3_error(target, failures[-1])

    async def _v3_attempt(
        self, target: SnmpTarget, address: tuple[str, int], sock: socket.socket, request: V3Request
    ) -> Outcome | None:
        try:
            message = request.encode()
        except (BerError, UsmError) as exc:  # e.g. an OID sub-identifier out of range
            raise SnmpError(ErrorReason.OTHER, f"{where(target)}: {exc}") from None
        return await self._await_v3(
            target, address, sock, message, msg_id=request.request_id, judge=request.judge
        )

    async def _await_v3(
        self,
        target: SnmpTarget,
        address: tuple[str, int],
        sock: socket.socket,
        message: bytes,
        *,
        msg_id: int,
        judge: _Judge,
    ) -> Outcome | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome | None] = loop.create_future()
        self._v3_pending[msg_id] = _V3Waiter(address, judge, future)
        try:
            self._send(sock, message, address, target)
            expiry = loop.call_later(target.timeout, _expire, future)
            try:
                return await future
            finally:
                expiry.cancel()
        finally:
            self._v3_pending.pop(msg_id, None)

    async def _discover(
        self, target: SnmpTarget, address: tuple[str, int], sock: socket.socket
    ) -> AgentClock:
        """RFC 3414 4: learn the agent's engine id, boots and time from the
        Report a probe gets; once per agent, however many requests wait."""
        lock = self._discovering.setdefault(address, asyncio.Lock())
        async with lock:
            clock = self._clocks.get(address)
            if clock is not None:
                return clock
            for attempt in range(max(0, target.retries) + 1):
                if attempt:
                    self.stats.retries += 1
                msg_id = self._new_request_id()
                probe = encode_discovery(msg_id)
                report = await self._await_v3(
                    target, address, sock, probe, msg_id=msg_id, judge=_judge_probe
                )
                if isinstance(report, Report):
                    clock = discovered_clock(report)
                    if clock is None:
                        raise _v3_error(target, report.kind)
                    self._clocks[address] = clock
                    return clock
        raise SnmpError(ErrorReason.TIMEOUT, f"{where(target)}: no response")

    async def _resync(
        self, target: SnmpTarget, address: tuple[str, int], sock: socket.socket, report: Report
    ) -> AgentClock:
        """Follow an agent that restarted: adopt the clock of an authentic
        NotInTimeWindow report, or the engine an UnknownEngineID report names,
        else discover it again."""
        clock = self._clocks.get(address)
        message = report.message
        if report.kind == "NotInTimeWindow" and report.authentic and clock is not None:
            clock.resync(message.engine_boots, message.engine_time)
            return clock
        fresh = discovered_clock(report)
        if fresh is not None:
            self._clocks[address] = fresh
            return fresh
        self._clocks.pop(address, None)
        return await self._discover(target, address, sock)

    def _localized(self, credentials: SnmpCredentials, engine_id: bytes) -> UsmKeys:
        keys = self._keys.get((credentials, engine_id))
        if keys is None:
            keys = localize(credentials, engine_id)  # ~2 ms per password: once per engine
            if len(self._keys) >= _KEY_CACHE_LIMIT:
                self._keys.clear()
            self._keys[(credentials, engine_id)] = keys
        return keys

    def _received_v3(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        try:
            message = decode_message(data)
        except BerError:
            self.stats.dropped_replies += 1
            return
        waiter = self._v3_pending.get(message.msg_id)
        if waiter is None or waiter.future.done() or addr[:2] != waiter.address:
            self.stats.dropped_replies += 1
            return
        outcome = waiter.judge(message, data)
        if outcome is None:
            self.stats.dropped_replies += 1
            return
        waiter.future.set_result(outcome)

    async def _resolve(self, target: SnmpTarget) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                target.host, target.port, family=socket.AF_INET, type=socket.SOCK_DGRAM
            )
        except (OSError, UnicodeError):
            raise SnmpError(
                ErrorReason.UNREACHABLE, f"{where(target)}: cannot resolve address"
            ) from None
        host, port = infos[0][4][:2]
        address = (str(host), int(port))
        self._addresses[(target.host, target.port)] = address
        return address

    async def _open(self) -> socket.socket:
        async with self._open_lock:
            if self._socket is not None:
                return self._socket
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                enlarge_receive_buffer(sock, self._receive_buffer_bytes)
                sock.setblocking(False)
                loop = asyncio.get_running_loop()
                datagrams, _ = await loop.create_datagram_endpoint(
                    lambda: _Protocol(self), sock=sock
                )
            except BaseException:
                sock.close()
                raise
            self._socket = sock
            self._datagrams = datagrams
            return sock

    def _delegate(self) -> PysnmpTransport:
        if self._v3 is None:
            # Imported on first use: pysnmp costs ~30 MB of RSS, and only
            # 3DES users need it.
            from wifimon.snmp.pysnmp_transport import PysnmpTransport  # noqa: PLC0415

            self._v3 = PysnmpTransport(
                self._concurrency, self._max_get_varbinds, self._receive_buffer_bytes
            )
            self._v3.stats = self.stats  # one set of counters for every target
        return self._v3


def _expire(future: asyncio.Future[Response | None] | asyncio.Future[Outcome | None]) -> None:
    if not future.done():
        future.set_result(None)  # None: this attempt timed out


def _delegated(credentials: SnmpCredentials) -> bool:
    return credentials.version == "3" and not is_native_v3(credentials)


def _judge_probe(message: V3Message, datagram: bytes) -> Report | None:
    return judge_discovery(message)


def _failure_name(outcome: Outcome | None) -> str:
    if outcome is None:
        return "timeout"
    if isinstance(outcome, DecryptionFailed):
        return "DecryptionError"
    if isinstance(outcome, Report):
        return outcome.kind
    return "Other"


def _v3_error(target: SnmpTarget, failure: str) -> SnmpError:
    if failure == "timeout":
        return SnmpError(ErrorReason.TIMEOUT, f"{where(target)}: no response")
    if failure == "Other":  # a Report that is not one of USM's (e.g. an unknown context)
        return SnmpError(ErrorReason.OTHER, f"{where(target)}: the agent reported an error")
    # fixed names (usmStats counters), never a key or password
    return SnmpError(ErrorReason.AUTH, f"{where(target)}: authentication failed ({failure})")


def _wire_credentials(target: SnmpTarget) -> tuple[int, bytes]:
    credentials = target.credentials
    version = VERSION_1 if credentials.version == "1" else VERSION_2C
    return version, credentials.community.encode()
