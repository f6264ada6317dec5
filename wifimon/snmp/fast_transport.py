"""SNMP v1/v2c over one asyncio UDP socket with the lean codec (``v2c_codec``).

Same ``Transport`` contract and the same GET/walk semantics as
``PysnmpTransport``: both inherit them from ``pdus.RequestLogic`` and only
say how one PDU is exchanged, so they cannot drift apart. SNMPv3 targets are
handed to an internal ``PysnmpTransport``, created the first time one is
polled.

A reply is accepted only when its request id is one we wait for and its
source address and port, SNMP version and community all match that request;
anything else (including undecodable datagrams) is dropped and counted in
``stats.dropped_replies``, and the request keeps waiting, ending as TIMEOUT.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wifimon.snmp.ber import BerError
from wifimon.snmp.pdus import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_GET_VARBINDS,
    RECEIVE_BUFFER_BYTES,
    RequestLogic,
    enlarge_receive_buffer,
    where,
)
from wifimon.snmp.pysnmp_transport import PysnmpTransport
from wifimon.snmp.types import (
    ErrorReason,
    Oid,
    SnmpError,
    SnmpTarget,
    VarBind,
)
from wifimon.snmp.v2c_codec import (
    VERSION_1,
    VERSION_2C,
    Response,
    decode_response,
    encode_get,
    encode_getbulk,
    encode_getnext,
)

_MAX_DATAGRAM = 65535
_REQUEST_ID_BITS = 31  # ids 0..2^31-1 always fit the Integer32 request-id
_Encoder = Callable[[int], bytes]  # request id -> the request datagram


@dataclass(slots=True)
class _Waiter:
    """One request on the wire: what its reply must look like, and who waits."""

    address: tuple[str, int]
    version: int
    community: bytes
    future: asyncio.Future[Response | None] = field(repr=False)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: FastTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.owner._received(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors on an unconnected socket carry no request: let it time out
        pass


class FastTransport(RequestLogic):
    """``Transport`` for SNMP v1/v2c over real UDP (IPv4) with the lean codec.

    ``concurrency`` bounds the request PDUs in flight across all targets
    (SNMPv3 ones are bounded by the delegate's own semaphore of the same
    size); ``max_get_varbinds`` is the most OIDs put in one GET PDU. A
    target's host name is resolved once, the first time it is polled.
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

    # -- Transport ---------------------------------------------------------

    @property
    def dropped_replies(self) -> int:
        """Replies dropped so far (see the module docstring)."""
        return self.stats.dropped_replies

    async def get(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        if target.credentials.version == "3":
            return await self._delegate().get(target, oids)
        return await self.get_oids(target, oids)

    async def walk(
        self, target: SnmpTarget, root: Oid, max_rows: int = 100_000, *, unordered: bool = False
    ) -> list[VarBind]:
        if target.credentials.version == "3":
            return await self._delegate().walk(target, root, max_rows, unordered=unordered)
        return await self.walk_subtree(target, root, max_rows, unordered=unordered)

    async def close(self) -> None:
        for waiter in self._pending.values():
            if not waiter.future.done():
                waiter.future.set_exception(SnmpError(ErrorReason.OTHER, "transport closed"))
        self._pending.clear()
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

    async def _get_pdu(self, target: SnmpTarget, oids: Sequence[Oid]) -> Response:
        version, community = _wire_credentials(target)
        return await self._exchange(
            target, lambda request_id: encode_get(version, community, request_id, oids)
        )

    async def _walk_pdu(self, target: SnmpTarget, cursor: Oid, wanted: int) -> Response:
        version, community = _wire_credentials(target)
        if version == VERSION_1:  # SNMPv1 has no GETBULK
            return await self._exchange(
                target, lambda request_id: encode_getnext(version, community, request_id, [cursor])
            )
        return await self._exchange(
            target, lambda request_id: encode_getbulk(community, request_id, 0, wanted, [cursor])
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
            if request_id not in self._pending:
                return request_id

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
            self._v3 = PysnmpTransport(
                self._concurrency, self._max_get_varbinds, self._receive_buffer_bytes
            )
            self._v3.stats = self.stats  # one set of counters for every target
        return self._v3


def _expire(future: asyncio.Future[Response | None]) -> None:
    if not future.done():
        future.set_result(None)  # None: this attempt timed out


def _wire_credentials(target: SnmpTarget) -> tuple[int, bytes]:
    credentials = target.credentials
    version = VERSION_1 if credentials.version == "1" else VERSION_2C
    return version, credentials.community.encode()
