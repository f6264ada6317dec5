"""A UDP relay between poller and agent that misbehaves on purpose, seeded.

``udp_relay(agent, requests=Faults(...), replies=Faults(...), seed=1)``
listens on 127.0.0.1 and forwards each client's datagrams to ``agent``
through a socket of that client's own, and the agent's answers back, with
faults chosen per direction by ``random.Random(seed)``:

- ``delay_ms``: every datagram waits a random 0..delay_ms (which reorders);
- ``reorder``: the share held back until the next datagram of that direction
  has gone (or 50 ms passed);
- ``duplicate``: the share sent twice;
- ``corrupt``: the share with one byte flipped among the bytes that frame or
  identify an SNMP message (BER tags and lengths, version, community, PDU
  type, request id). Bytes inside values are left alone on purpose: SNMP
  v1/v2c carries no integrity check, so a flipped value byte could not be
  told from a real value (on real networks the UDP checksum catches it;
  SNMPv3 with authentication does too);
- ``truncate``: the share cut short at a random length;
- ``drop``: the share lost.

``relay.stats[direction]`` counts what was done to each direction
("requests", "replies"). Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import cast

from wifimon.snmp.ber import BerError, read_header

HOST = "127.0.0.1"
HOLD_AT_MOST_S = 0.05

Send = Callable[[bytes], None]


@dataclass(frozen=True)
class Faults:
    """What to do to one direction; shares are 0..1, e.g. ``duplicate=0.2``."""

    delay_ms: float = 0.0
    reorder: float = 0.0
    duplicate: float = 0.0
    corrupt: float = 0.0
    truncate: float = 0.0
    drop: float = 0.0


def framing_offsets(data: bytes) -> list[int]:
    """Offsets of the bytes that frame or identify a v1/v2c message: the
    tag and length of the message, of the PDU and of the request id, and the
    whole version, community and request id. Empty if it does not parse."""
    offsets: list[int] = []
    try:
        _, start, stop = read_header(data, 0, len(data))
        offsets.extend(range(start))
        pos = start
        for _ in range(2):  # version, community: all of them
            _, _, end = read_header(data, pos, stop)
            offsets.extend(range(pos, end))
            pos = end
        _, pdu_start, pdu_end = read_header(data, pos, stop)
        offsets.extend(range(pos, pdu_start))
        _, _, id_end = read_header(data, pdu_start, pdu_end)
        offsets.extend(range(pdu_start, id_end))
    except (BerError, IndexError):
        return []
    return offsets


@dataclass
class _Direction:
    name: str
    faults: Faults
    random: random.Random
    stats: Counter[str]
    held: list[tuple[bytes, Send]] = field(default_factory=list)

    def pass_on(self, data: bytes, send: Send) -> None:
        faults, coin = self.faults, self.random.random
        self.stats["received"] += 1
        if coin() < faults.drop:
            self.stats["dropped"] += 1
            return
        data = self._damaged(data)
        copies = 2 if coin() < faults.duplicate else 1
        self.stats["duplicated"] += copies - 1
        if coin() < faults.reorder and not self.held:
            self.stats["reordered"] += 1
            self.held.append((data, send))
            asyncio.get_running_loop().call_later(HOLD_AT_MOST_S, self._release)
            return
        for _ in range(copies):
            self._later(data, send)
        self._release()  # what was held back goes after this one

    def _damaged(self, data: bytes) -> bytes:
        faults, coin = self.faults, self.random.random
        if coin() < faults.truncate and len(data) > 1:
            self.stats["truncated"] += 1
            return data[: self.random.randrange(1, len(data))]
        if coin() < faults.corrupt:
            offsets = framing_offsets(data)
            if offsets:
                self.stats["corrupted"] += 1
                at = self.random.choice(offsets)
                flipped = data[at] ^ self.random.randrange(1, 256)
                return data[:at] + bytes((flipped,)) + data[at + 1 :]
        return data

    def _later(self, data: bytes, send: Send) -> None:
        delay = self.random.uniform(0, self.faults.delay_ms) / 1000 if self.faults.delay_ms else 0
        if delay:
            self.stats["delayed"] += 1
            asyncio.get_running_loop().call_later(delay, _send_quietly, send, data)
        else:
            _send_quietly(send, data)

    def _release(self) -> None:
        held, self.held = self.held, []
        for data, send in held:
            self._later(data, send)


def _send_quietly(send: Send, data: bytes) -> None:
    # OSError: the relay is closing; a lost datagram, as on a real network
    with contextlib.suppress(OSError):
        send(data)


class _Upstream(asyncio.DatagramProtocol):
    """The relay's socket towards the agent for one client."""

    def __init__(self, relay: UdpRelay, client: tuple[str, int]) -> None:
        self.relay, self.client = relay, client
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.relay.replies.pass_on(data, self.relay.reply_sender(self.client))


class UdpRelay(asyncio.DatagramProtocol):
    """The client-facing socket; ``address`` is where pollers send to."""

    def __init__(self, agent: tuple[str, int], requests: Faults, replies: Faults, seed: int):
        coin = random.Random(seed)
        self.agent = agent
        self.stats: dict[str, Counter[str]] = {"requests": Counter(), "replies": Counter()}
        self.requests = _Direction("requests", requests, coin, self.stats["requests"])
        self.replies = _Direction("replies", replies, coin, self.stats["replies"])
        self.transport: asyncio.DatagramTransport | None = None
        self.upstreams: dict[tuple[str, int], asyncio.Task[_Upstream]] = {}
        self.address: tuple[str, int] = (HOST, 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        self.address = self.transport.get_extra_info("sockname")[:2]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        client = (addr[0], addr[1])
        upstream = self.upstreams.get(client)
        if upstream is None:
            upstream = asyncio.get_running_loop().create_task(self._open_upstream(client))
            self.upstreams[client] = upstream
        upstream.add_done_callback(
            lambda task: self.requests.pass_on(data, self._request_sender(task.result()))
        )

    def reply_sender(self, client: tuple[str, int]) -> Send:
        def send(data: bytes) -> None:
            if self.transport is not None:
                self.transport.sendto(data, client)

        return send

    def _request_sender(self, upstream: _Upstream) -> Send:
        def send(data: bytes) -> None:
            if upstream.transport is not None:
                upstream.transport.sendto(data, self.agent)

        return send

    async def _open_upstream(self, client: tuple[str, int]) -> _Upstream:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_datagram_endpoint(
            lambda: _Upstream(self, client), local_addr=(HOST, 0)
        )
        return protocol

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        for task in self.upstreams.values():
            if not task.done():
                task.cancel()
                continue
            upstream = task.result()
            if upstream.transport is not None:
                upstream.transport.close()


@asynccontextmanager
async def udp_relay(
    agent: tuple[str, int],
    requests: Faults = Faults(),
    replies: Faults = Faults(),
    seed: int = 0,
) -> AsyncIterator[UdpRelay]:
    """A ``UdpRelay`` to ``agent`` for the block; closed after."""
    loop = asyncio.get_running_loop()
    _, relay = await loop.create_datagram_endpoint(
        lambda: UdpRelay(agent, requests, replies, seed), local_addr=(HOST, 0)
    )
    try:
        yield relay
    finally:
        await relay.close()
