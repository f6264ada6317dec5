"""A ``RequestLogic`` transport over recorded varbinds whose datagrams get lost.

It is the real GET/walk/retry-budget logic of ``wifimon.snmp.pdus`` with the
wire replaced by a seeded coin: each attempt of a request PDU is answered
with probability ``1 - loss`` (one coin per attempt, like a request and its
reply crossing a lossy path), else it is lost; a PDU whose ``retries + 1``
attempts are all lost fails with TIMEOUT, as the real transports do after
their timeouts. No time passes, so thousands of polls run in seconds, and
the same seed gives the same losses.

Example::

    transport = LossyTransport({"wlc": load_agent("healthy")}, loss=0.36, seed=7)
    transport.silence("wlc", after=10)   # answers 10 PDUs, then none
"""

from __future__ import annotations

import asyncio
import bisect
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from wifimon.snmp.pdus import RequestLogic
from wifimon.snmp.types import (
    ErrorReason,
    Oid,
    SnmpError,
    SnmpTarget,
    SnmpValue,
    ValueKind,
    VarBind,
    WalkRows,
)

END_OF_MIB_VIEW = SnmpValue(ValueKind.END_OF_MIB_VIEW, None)
NO_SUCH_OBJECT = SnmpValue(ValueKind.NO_SUCH_OBJECT, None)


@dataclass(frozen=True, slots=True)
class Reply:
    """A response PDU as ``RequestLogic`` reads it."""

    varbinds: list[VarBind]
    error_status: int = 0
    error_index: int = 0


@dataclass
class _Agent:
    varbinds: list[VarBind]
    oids: list[Oid] = field(init=False)
    by_oid: dict[Oid, VarBind] = field(init=False)
    answers_left: int | None = None  # None: answers forever (up to the coin)

    def __post_init__(self) -> None:
        self.varbinds = sorted(self.varbinds, key=lambda varbind: varbind.oid)
        self.oids = [varbind.oid for varbind in self.varbinds]
        self.by_oid = {varbind.oid: varbind for varbind in self.varbinds}

    def get(self, oids: Sequence[Oid]) -> Reply:
        return Reply([self.by_oid.get(oid, VarBind(oid, NO_SUCH_OBJECT)) for oid in oids])

    def bulk(self, cursors: Sequence[Oid], wanted: int, leading: Sequence[Oid] = ()) -> Reply:
        # Non-repeaters: one GETNEXT each, first in the reply.
        nexts = [self._successors(oid, 1, pad=True)[0] for oid in leading]
        if len(cursors) == 1:
            return Reply([*nexts, *self._successors(cursors[0], wanted, pad=False)])
        # RFC 3416 4.2.3: repetition r holds the next OID of every cursor,
        # varbind i of repetition r at r * n + i.
        columns = [self._successors(cursor, wanted, pad=True) for cursor in cursors]
        return Reply([*nexts, *[column[r] for r in range(wanted) for column in columns]])

    def _successors(self, cursor: Oid, wanted: int, *, pad: bool) -> list[VarBind]:
        start = bisect.bisect_right(self.oids, cursor)
        rows = self.varbinds[start : start + wanted]
        if len(rows) < wanted:  # past the last object: endOfMibView, as RFC 3416 says
            last = rows[-1].oid if rows else cursor
            ends = wanted - len(rows) if pad else 1
            rows = [*rows, *[VarBind(last, END_OF_MIB_VIEW)] * ends]
        return rows


class LossyTransport(RequestLogic):
    """``Transport`` serving ``agents`` (target name -> varbinds) with ``loss``
    (0..1) of the attempts lost, drawn from ``random.Random(seed)``."""

    def __init__(
        self, agents: Mapping[str, Sequence[VarBind]], loss: float = 0.0, seed: int = 0
    ) -> None:
        super().__init__()
        self.loss = loss
        self._random = random.Random(seed)
        self._agents = {name: _Agent(list(varbinds)) for name, varbinds in agents.items()}
        self.pdus_by_target: dict[str, int] = {}

    def silence(self, name: str, after: int = 0) -> None:
        """Target ``name`` answers ``after`` more attempts, then never again."""
        self._agents[name].answers_left = after

    async def get(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        return await self.get_oids(target, oids)

    async def walk(
        self, target: SnmpTarget, root: Oid, max_rows: int = 100_000, *, unordered: bool = False
    ) -> list[VarBind]:
        return await self.walk_subtree(target, root, max_rows, unordered=unordered)

    async def walk_columns(
        self, target: SnmpTarget, roots: Sequence[Oid], max_rows: int, *, unordered: bool = False
    ) -> dict[Oid, WalkRows]:
        return await super().walk_columns(target, roots, max_rows, unordered=unordered)

    async def get_and_walk_columns(
        self, target: SnmpTarget, oids: Sequence[Oid], roots: Sequence[Oid], max_rows: int
    ) -> tuple[list[VarBind], dict[Oid, WalkRows]]:
        return await super().get_and_walk_columns(target, oids, roots, max_rows)

    async def close(self) -> None:
        pass

    async def _get_pdu(self, target: SnmpTarget, oids: Sequence[Oid]) -> Reply:
        agent = await self._round(target)
        return agent.get(oids)

    async def _walk_pdu(
        self, target: SnmpTarget, cursors: Sequence[Oid], wanted: int, leading: Sequence[Oid] = ()
    ) -> Reply:
        agent = await self._round(target)
        return agent.bulk(cursors, 1 if target.credentials.version == "1" else wanted, leading)

    async def _round(self, target: SnmpTarget) -> _Agent:
        """The target's own attempts at one PDU, as a real transport makes them."""
        await asyncio.sleep(0)  # yield like real I/O: concurrent walks interleave
        agent = self._agents.get(target.name)
        for attempt in range(target.retries + 1):
            self.stats.requests += 1
            self.pdus_by_target[target.name] = self.pdus_by_target.get(target.name, 0) + 1
            if attempt:
                self.stats.retries += 1
            if agent is None or self._random.random() < self.loss:
                continue
            if agent.answers_left is not None:
                if agent.answers_left <= 0:
                    continue
                agent.answers_left -= 1
            return agent
        raise SnmpError(ErrorReason.TIMEOUT, f"{target.name}: no response")
