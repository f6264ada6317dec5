"""A fake ``Transport`` that answers from recorded varbinds, for unit tests.

It behaves like a well-behaved agent serving the recording: a GET of a
missing OID yields noSuchInstance (the object exists, that instance does
not) or noSuchObject (v2c/v3), or noSuchObject for SNMPv1 as the real
transport reports v1's noSuchName; a walk returns the subtree in OID order.
``stats.requests`` counts the PDUs the real transport would send to a
perfect agent, so tests can check request budgets too.

Example::

    transport = RecordedTransport({"ap-1": load_snmprec(path)})
    transport.time_out("ap-1")       # every request to ap-1 now times out
"""

from __future__ import annotations

import asyncio
import bisect
import math
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import NoReturn

from wifimon.snmp.pdus import column_repetitions, shares_first_request
from wifimon.snmp.types import (
    ErrorReason,
    Oid,
    SnmpError,
    SnmpTarget,
    SnmpValue,
    TransportStats,
    ValueKind,
    VarBind,
    WalkRows,
)


class _Agent:
    """One recording, indexed for exact lookups and for walks by bisection."""

    def __init__(self, varbinds: Sequence[VarBind]) -> None:
        ordered = sorted(varbinds, key=lambda varbind: varbind.oid)
        self.oids: list[Oid] = [varbind.oid for varbind in ordered]
        self.varbinds = ordered
        self.by_oid = {varbind.oid: varbind for varbind in ordered}

    def get(self, oid: Oid, version: str) -> VarBind:
        found = self.by_oid.get(oid)
        if found is not None:
            return found
        return VarBind(oid, SnmpValue(self._missing_kind(oid, version), None))

    def _missing_kind(self, oid: Oid, version: str) -> ValueKind:
        if version == "1" or len(oid) < 2:
            return ValueKind.NO_SUCH_OBJECT
        # The object is known when something is recorded under its OID minus
        # the last sub-identifier (a sibling instance, e.g. another ifIndex).
        parent = oid[:-1]
        after = bisect.bisect_right(self.oids, parent)
        has_sibling = after < len(self.oids) and self.oids[after][: len(parent)] == parent
        return ValueKind.NO_SUCH_INSTANCE if has_sibling else ValueKind.NO_SUCH_OBJECT

    def subtree(self, root: Oid, max_rows: int) -> list[VarBind]:
        rows: list[VarBind] = []
        start = bisect.bisect_right(self.oids, root)
        for varbind in self.varbinds[start:]:
            if len(rows) >= max_rows or varbind.oid[: len(root)] != root:
                break
            if varbind.value.kind.is_exception:
                break  # the real transport stops a walk at an exception value too
            rows.append(varbind)
        return rows


class RecordedTransport:
    """Serves ``agents`` (target name → varbinds) through the ``Transport`` API.

    ``max_get_varbinds`` mirrors the real transport's GET chunking so that
    ``stats.requests`` counts the same PDUs.
    """

    def __init__(self, agents: Mapping[str, Sequence[VarBind]], max_get_varbinds: int = 30) -> None:
        self.stats = TransportStats()
        self.closed = False
        self._agents = {name: _Agent(varbinds) for name, varbinds in agents.items()}
        self._failures: dict[str, ErrorReason] = {}
        self._max_get_varbinds = max_get_varbinds

    def add_agent(self, name: str, varbinds: Sequence[VarBind]) -> None:
        self._agents[name] = _Agent(varbinds)

    def time_out(self, name: str) -> None:
        """Make every request to target ``name`` fail with TIMEOUT, after its retries."""
        self._failures[name] = ErrorReason.TIMEOUT

    def fail_auth(self, name: str) -> None:
        """Make every request to target ``name`` fail with AUTH (e.g. a wrong v3 key)."""
        self._failures[name] = ErrorReason.AUTH

    def fail(self, name: str, reason: ErrorReason) -> None:
        """Make every request to target ``name`` fail with ``reason``."""
        self._failures[name] = reason

    def heal(self, name: str) -> None:
        """Let target ``name`` answer again."""
        self._failures.pop(name, None)

    async def get(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        pdus = max(1, math.ceil(len(oids) / self._max_get_varbinds))
        agent = await self._answering_agent(target, pdus)
        return [agent.get(oid, target.credentials.version) for oid in oids]

    async def walk(
        self, target: SnmpTarget, root: Oid, max_rows: int = 100_000, *, unordered: bool = False
    ) -> list[VarBind]:
        del unordered  # recordings are served in OID order
        agent = self._agents.get(target.name)
        rows = agent.subtree(root, max_rows) if agent is not None else []
        together = _WALKED_TOGETHER.get()
        if together is not None:
            together.append(len(rows))  # walk_columns counts the PDUs of all at once
            await self._answering_agent(target, 0)
        else:
            await self._answering_agent(target, self._walk_pdus(target, len(rows), max_rows))
        return rows

    async def walk_columns(
        self, target: SnmpTarget, roots: Sequence[Oid], max_rows: int, *, unordered: bool = False
    ) -> dict[Oid, WalkRows]:
        """Each column through ``walk`` (so a test subclass's faults apply),
        with ``stats.requests`` counting the GETBULKs of the columns walked
        together, as ``RequestLogic.walk_columns`` sends them."""
        lengths: list[int] = []
        token = _WALKED_TOGETHER.set(lengths)
        try:
            columns: dict[Oid, WalkRows] = {}
            for root in dict.fromkeys(roots):
                rows = await self.walk(target, root, max_rows, unordered=unordered)
                columns[root] = rows if isinstance(rows, WalkRows) else WalkRows(rows)
        finally:
            _WALKED_TOGETHER.reset(token)
        if unordered or target.credentials.version == "1":
            self.stats.requests += sum(self._walk_pdus(target, n, max_rows) for n in lengths)
        else:
            self.stats.requests += _column_walk_pdus(target, lengths, max_rows)
        return columns

    async def get_and_walk_columns(
        self, target: SnmpTarget, oids: Sequence[Oid], roots: Sequence[Oid], max_rows: int
    ) -> tuple[list[VarBind], dict[Oid, WalkRows]]:
        """``get`` then ``walk_columns``; when ``RequestLogic`` would send the
        GET inside the first GETBULK, its PDUs are not counted."""
        before = self.stats.requests
        values = await self.get(target, oids)
        get_pdus = self.stats.requests - before
        walked = await self.walk_columns(target, roots, max_rows)
        if shares_first_request(target, oids) and roots and max_rows > 0:
            self.stats.requests -= get_pdus
        return values, walked

    async def close(self) -> None:
        self.closed = True

    @staticmethod
    def _walk_pdus(target: SnmpTarget, rows: int, max_rows: int) -> int:
        per_pdu = 1 if target.credentials.version == "1" else max(1, target.max_repetitions)
        if rows >= max_rows:
            return max(1, math.ceil(rows / per_pdu))
        # one more PDU is needed to see the walk has left the subtree
        return rows // per_pdu + 1

    async def _answering_agent(self, target: SnmpTarget, pdus: int) -> _Agent:
        await asyncio.sleep(0)  # yield like real I/O, so cancellation and ordering are realistic
        if self.closed:
            raise SnmpError(ErrorReason.OTHER, "transport closed")
        agent = self._agents.get(target.name)
        failure = self._failures.get(target.name)
        if agent is None or failure is not None:
            # nobody answers at an unknown address
            self._fail(target, failure or ErrorReason.TIMEOUT)
        self.stats.requests += pdus
        return agent

    def _fail(self, target: SnmpTarget, reason: ErrorReason) -> NoReturn:
        if reason in (ErrorReason.TIMEOUT, ErrorReason.AUTH):
            # pysnmp resends after a timeout or an auth report until retries run out
            self.stats.requests += 1 + target.retries
            self.stats.retries += target.retries
        else:
            self.stats.requests += 1
        raise SnmpError(reason, f"{target.name}: recorded failure ({reason.value})")


# Inside RecordedTransport.walk_columns: the row counts of its columns' walks.
_WALKED_TOGETHER: ContextVar[list[int] | None] = ContextVar(
    "recorded_walked_together", default=None
)


def _column_walk_pdus(target: SnmpTarget, lengths: Sequence[int], max_rows: int) -> int:
    """GETBULKs a perfect agent needs for columns of ``lengths`` rows walked
    together: each request asks every open column for the same repetitions,
    and a column closes once a reply shows its end or it holds ``max_rows``."""
    fetched = [0] * len(lengths)
    open_columns = [column for column in range(len(lengths)) if max_rows > 0]
    pdus = 0
    while open_columns:
        pdus += 1
        repetitions = column_repetitions(target.max_repetitions, len(open_columns))
        for column in list(open_columns):
            wanted = min(repetitions, max_rows - fetched[column])
            if fetched[column] + wanted > lengths[column] or fetched[column] + wanted >= max_rows:
                open_columns.remove(column)
            fetched[column] += wanted
    return pdus
