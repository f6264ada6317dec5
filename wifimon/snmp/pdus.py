"""What both transports share above the wire: GET chunking, walks, errors.

A transport only says how one request PDU is exchanged (``_get_pdu``,
``_walk_pdu``); ``RequestLogic`` turns those into the ``Transport`` contract:
GETs split into chunks, tooBig halving, SNMPv1's noSuchName, and walks that
stop at the end of the subtree, at an OID going backwards or repeating
(counted as ``cut``) or at the row limit; a table's columns are walked
together, one GETBULK chain carrying every open column (``walk_columns``),
whose first request may also carry a GET of scalars (``get_and_walk_columns``).
One copy, so the pysnmp and the lean transports cannot drift apart.

It also spends the target's ``RetryBudget`` (see there): under datagram loss
a request that used up its own attempts is sent again, and a walk resumes
from its last OID, while the target is proven alive, so a lossy path does
not turn one unlucky request into a dead target.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Protocol

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

DEFAULT_CONCURRENCY = 256
DEFAULT_MAX_GET_VARBINDS = 30
# Measured: with ~100 requests in flight the default receive buffer overflows
# and replies are lost; 4 MiB holds every reply of a full concurrency burst.
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024

TOO_BIG = 1
NO_SUCH_NAME = 2
AUTHORIZATION_ERROR = 16
ERROR_STATUS_NAMES = {
    1: "tooBig",
    2: "noSuchName",
    3: "badValue",
    4: "readOnly",
    5: "genErr",
    6: "noAccess",
    16: "authorizationError",
}

# Rounds (a request's own ``retries + 1`` attempts) a live target may stay
# silent before it counts as down; see RetryBudget for the arithmetic.
SILENT_ROUNDS_BEFORE_DOWN = 6
# The same for a target never polled before (first round after a start) until
# it first answers: short enough that a dead AP or a wrong SNMPv3 privacy key
# is reported within its time budget, not cut off by it.
UNPROVEN_SILENT_ROUNDS = 2

# The most varbinds one GETBULK of a table's columns asks for: the
# repetitions per request are this divided by the columns still open.
COLUMN_VARBINDS_PER_REPLY = 60
# A chain's first GETBULK may ask for more when the rows it will find are
# known from the last poll of the same target: the reply then ends every
# column at once (e.g. 12 columns x 7 = 84 varbinds, about 2 kB).
LEARNED_VARBINDS_PER_REPLY = 150

WALK_END = "end"  # the subtree or the MIB view ended: the walk is complete
WALK_CUT = "cut"  # the agent went backwards or looped: the walk stopped early


class Reply(Protocol):
    """A response PDU as a transport decoded it."""

    @property
    def error_status(self) -> int: ...

    @property
    def error_index(self) -> int: ...

    @property
    def varbinds(self) -> list[VarBind]: ...


@dataclass(slots=True)
class RetryBudget:
    """The patience one poll of one target has earned, shared by its requests.

    A request first gets its own ``retries + 1`` attempts: one *round*. If
    they all go unanswered but the target is taken to be alive (it answered
    another request of this poll, or is not known to be down from its last
    poll: ``presumed_alive``), the silence is datagram loss, not death, so
    the request gets another round (a walk resumes from its last OID, a GET
    chunk is sent again alone: nothing is fetched twice). The target counts
    as down only once it has stayed silent for ``silent_rounds_allowed``
    rounds in a row over all its requests, or one request has failed that
    many rounds. A target known to be down that does not answer gets no
    extra round, so a dead or black-holed one costs the long silence once,
    then one round per poll. A target never polled before is presumed
    alive too, but until it first answers only for ``unproven_rounds_allowed``
    rounds (when set): dead APs at start-up cost two rounds, not the budget.
    The scheduler's time budget bounds it all.

    With a round-trip loss ``q`` per attempt and ``a`` attempts per round, a
    round fails with ``f = q**a`` and a poll of ``n`` requests is wrongly
    declared down with about ``2 * n * f**silent_rounds_allowed``: for 20 %
    loss each way (q = 0.36), a = 3, n = 50 that is 1e-6 instead of 0.9.

    ``target`` is the target's name, e.g. ``"wlc-centre"``; ``answers`` the
    replies it sent in this poll; ``silent_rounds`` the rounds that failed
    since its last reply; ``rescued`` the extra rounds granted so far.
    """

    target: str
    presumed_alive: bool = False
    silent_rounds_allowed: int = SILENT_ROUNDS_BEFORE_DOWN
    unproven_rounds_allowed: int | None = None
    answers: int = 0
    silent_rounds: int = 0
    rescued: int = 0

    @property
    def alive(self) -> bool:
        return self.answers > 0 or self.presumed_alive

    def answered(self) -> None:
        self.answers += 1
        self.silent_rounds = 0

    def may_retry(self, failed_rounds: int) -> bool:
        """Whether a request whose ``failed_rounds``-th round just went
        unanswered gets one more round (which is then counted as rescued)."""
        self.silent_rounds += 1
        limit = self.silent_rounds_allowed
        if self.answers == 0 and self.unproven_rounds_allowed is not None:
            limit = min(limit, self.unproven_rounds_allowed)
        if self.alive and failed_rounds < limit and self.silent_rounds < limit:
            self.rescued += 1
            return True
        return False


_RETRY_BUDGET: ContextVar[RetryBudget | None] = ContextVar("wifimon_retry_budget", default=None)


@contextmanager
def retry_budget(budget: RetryBudget) -> Iterator[RetryBudget]:
    """Spend ``budget`` on every request to its target made inside this block
    (also in tasks started in it): the poller opens one per target poll."""
    token = _RETRY_BUDGET.set(budget)
    try:
        yield budget
    finally:
        _RETRY_BUDGET.reset(token)


def _budget_for(target: SnmpTarget) -> RetryBudget | None:
    budget = _RETRY_BUDGET.get()
    return budget if budget is not None and budget.target == target.name else None


def where(target: SnmpTarget) -> str:
    # Name and address only: credentials never go into messages.
    return f"{target.name} ({target.host}:{target.port})"


def error_for_status(status: int, index: int, place: str) -> SnmpError:
    name = ERROR_STATUS_NAMES.get(status, f"error-status {status}")
    message = f"{place}: {name} at varbind {index}"
    if status == NO_SUCH_NAME:
        return SnmpError(ErrorReason.NO_SUCH_OBJECT, message)
    if status == AUTHORIZATION_ERROR:
        return SnmpError(ErrorReason.AUTH, message)
    return SnmpError(ErrorReason.OTHER, message)


def chunks(oids: Sequence[Oid], size: int) -> list[Sequence[Oid]]:
    return [oids[start : start + size] for start in range(0, len(oids), size)]


def enlarge_receive_buffer(sock: socket.socket, size: int) -> None:
    # SO_RCVBUF is silently capped at net.core.rmem_max; SO_RCVBUFFORCE is not,
    # but needs CAP_NET_ADMIN, so fall back when we lack it.
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    if force is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, size)
        except PermissionError:
            pass
        else:
            return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def walk_step(
    varbinds: Sequence[VarBind], root: Oid, cursor: Oid, seen: set[Oid] | None = None
) -> tuple[list[VarBind], str | None]:
    """The varbinds of one reply that belong to the walk, and whether and how
    it is over (``WALK_END``, ``WALK_CUT`` or None to go on).

    ``seen`` (unordered walks) holds every OID accepted so far: a backward
    step is then followed, and only a repeat, a loop, ends the walk.
    """
    accepted: list[VarBind] = []
    for varbind in varbinds:
        if varbind.value.kind.is_exception or varbind.oid[: len(root)] != root:
            return accepted, WALK_END
        if varbind.oid == cursor:
            continue  # a repeated varbind: ignore it
        if seen is not None:
            if varbind.oid in seen:
                return accepted, WALK_CUT  # the agent is looping
            seen.add(varbind.oid)
        elif varbind.oid < cursor:
            return accepted, WALK_CUT  # the agent went backwards: stop before looping
        accepted.append(varbind)
        cursor = varbind.oid
    return accepted, None


def checked_get_reply(
    target: SnmpTarget, oids: Sequence[Oid], varbinds: list[VarBind]
) -> list[VarBind]:
    if [varbind.oid for varbind in varbinds] != list(oids):
        raise SnmpError(ErrorReason.DECODE, f"{where(target)}: reply does not match request")
    return varbinds


class RequestLogic:
    """GETs and walks over a subclass's single-PDU exchanges.

    ``concurrency`` bounds the request PDUs in flight; ``max_get_varbinds``
    is the most OIDs put in one GET PDU; ``receive_buffer_bytes`` sizes the
    UDP socket's receive buffer.
    """

    def __init__(
        self,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_get_varbinds: int = DEFAULT_MAX_GET_VARBINDS,
        receive_buffer_bytes: int = RECEIVE_BUFFER_BYTES,
    ) -> None:
        if concurrency < 1 or max_get_varbinds < 1:
            raise ValueError("concurrency and max_get_varbinds must be at least 1")
        self.stats = TransportStats()
        self._concurrency = concurrency
        self._max_get_varbinds = max_get_varbinds
        self._receive_buffer_bytes = receive_buffer_bytes
        self._slots = asyncio.Semaphore(concurrency)
        # Rows the last chain of the same columns at the same target found:
        # (target name, first root, columns) -> rows. See _first_repetitions.
        self._chain_rows: dict[tuple[str, Oid, int], int] = {}

    async def _get_pdu(self, target: SnmpTarget, oids: Sequence[Oid]) -> Reply:
        raise NotImplementedError

    async def _walk_pdu(
        self, target: SnmpTarget, cursors: Sequence[Oid], wanted: int, leading: Sequence[Oid] = ()
    ) -> Reply:
        """GETNEXT of ``cursors`` for SNMPv1, GETBULK of ``wanted``
        repetitions of them otherwise (varbind i of repetition r at r*n+i),
        after ``leading`` as non-repeaters (one GETNEXT each, their answers
        first; only ever given for SNMPv2c and v3)."""
        raise NotImplementedError

    async def _persevering(self, target: SnmpTarget, send: Callable[[], Awaitable[Reply]]) -> Reply:
        """One request PDU: ``send`` it (its own attempts), and again while
        the target's ``RetryBudget`` allows (the resend counts as a retry)."""
        budget = _budget_for(target)
        failed_rounds = 0
        while True:
            try:
                reply = await send()
            except SnmpError as error:
                failed_rounds += 1
                if error.reason is not ErrorReason.TIMEOUT or budget is None:
                    raise
                if not budget.may_retry(failed_rounds):
                    raise
                self.stats.retries += 1
                continue
            if budget is not None:
                budget.answered()
            return reply

    async def get_oids(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        results: list[VarBind] = []
        # Chunks go one after another: an access point answers one PDU at a
        # time anyway, and parallel bursts to one agent get dropped.
        for chunk in chunks(oids, self._max_get_varbinds):
            results.extend(await self._get_chunk(target, chunk))
        return results

    async def _get_chunk(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        response = await self._persevering(target, partial(self._get_pdu, target, oids))
        status, index = response.error_status, response.error_index
        if status == 0:
            return checked_get_reply(target, oids, response.varbinds)
        if status == TOO_BIG and len(oids) > 1:
            half = len(oids) // 2
            return [
                *await self._get_chunk(target, oids[:half]),
                *await self._get_chunk(target, oids[half:]),
            ]
        if status == NO_SUCH_NAME and 1 <= index <= len(oids):
            # SNMPv1 fails the whole PDU for one missing object: report that
            # one as noSuchObject, as v2c would, and ask again for the rest.
            missing = index - 1
            rest = [*oids[:missing], *oids[missing + 1 :]]
            values = await self._get_chunk(target, rest) if rest else []
            values.insert(
                missing, VarBind(oids[missing], SnmpValue(ValueKind.NO_SUCH_OBJECT, None))
            )
            return values
        raise error_for_status(status, index, where(target))

    async def walk_subtree(
        self, target: SnmpTarget, root: Oid, max_rows: int, *, unordered: bool
    ) -> WalkRows:
        rows = WalkRows()
        seen: set[Oid] | None = set() if unordered else None
        cursor = root
        repetitions = max(1, target.max_repetitions)
        while len(rows) < max_rows:
            wanted = min(repetitions, max_rows - len(rows))
            response = await self._persevering(
                target, partial(self._walk_pdu, target, [cursor], wanted)
            )
            if response.error_status == TOO_BIG and wanted > 1:
                repetitions = wanted // 2
                continue
            if response.error_status == NO_SUCH_NAME:
                return rows  # how SNMPv1 says "end of MIB view"
            if response.error_status:
                raise error_for_status(response.error_status, response.error_index, where(target))
            fresh, end = walk_step(response.varbinds, root, cursor, seen)
            rows.extend(fresh[: max_rows - len(rows)])
            if end is not None or not fresh:
                rows.cut = end == WALK_CUT
                break
            cursor = rows[-1].oid
        else:
            rows.cut = True  # max_rows reached: an endless or oversized table
        if unordered:
            rows.sort(key=lambda varbind: varbind.oid)
        return rows

    async def walk_columns(
        self, target: SnmpTarget, roots: Sequence[Oid], max_rows: int, *, unordered: bool = False
    ) -> dict[Oid, WalkRows]:
        """Walk every column in ``roots`` (e.g. a table's columns) with one
        GETBULK chain: rows as ``walk_subtree`` gives them, per root."""
        if unordered or target.credentials.version == "1":
            # Out-of-order agents need a walk's own seen-set; SNMPv1 has no GETBULK.
            return {
                root: await self.walk_subtree(target, root, max_rows, unordered=unordered)
                for root in roots
            }
        walk = _ColumnWalk(roots, max_rows)
        await self._walk_open_columns(target, walk, max(1, target.max_repetitions))
        self._remember_rows(target, roots, walk)
        return walk.rows

    async def get_and_walk_columns(
        self, target: SnmpTarget, oids: Sequence[Oid], roots: Sequence[Oid], max_rows: int
    ) -> tuple[list[VarBind], dict[Oid, WalkRows]]:
        """``get_oids(oids)`` and ``walk_columns(roots)`` with the first
        request shared: a GETBULK whose non-repeaters are the scalars'
        parents (GETNEXT of sysName finds sysName.0), so a directly polled
        AP costs one request instead of two. Only for SNMPv2c/v3 and
        scalar instances ending in .0 (nothing can sit between x and x.0);
        anything unusual in that first reply (an error status, a reply cut
        short) and it is done the plain way instead. A GETNEXT that finds
        another object than the instance reads as noSuchObject."""
        walk = _ColumnWalk(roots, max_rows)
        if not (shares_first_request(target, oids) and walk.open):
            return await self.get_oids(target, oids), await self.walk_columns(
                target, roots, max_rows
            )
        repetitions = max(1, target.max_repetitions)
        batch = list(walk.open)
        wanted = min(self._first_repetitions(target, batch), walk.remaining(batch))
        cursors = [walk.cursors[root] for root in batch]
        parents = [oid[:-1] for oid in oids]
        response = await self._persevering(
            target, partial(self._walk_pdu, target, cursors, wanted, parents)
        )
        varbinds, count = response.varbinds, len(oids)
        if response.error_status or len(varbinds) <= count:
            return await self.get_oids(target, oids), await self.walk_columns(
                target, roots, max_rows
            )
        values = [_as_got(o, v) for o, v in zip(oids, varbinds[:count], strict=True)]
        walk.advance(batch, varbinds[count:])
        await self._walk_open_columns(target, walk, repetitions, first=False)
        self._remember_rows(target, roots, walk)
        return values, walk.rows

    def _first_repetitions(self, target: SnmpTarget, roots: Sequence[Oid]) -> int:
        """Repetitions of a chain's first GETBULK: what fits the usual reply,
        or, when the same chain found ``rows`` last time, ``rows + 1`` (every
        column and its end in one reply: an AP with 6 interfaces is then one
        request, not two) within ``target.max_repetitions`` and
        LEARNED_VARBINDS_PER_REPLY."""
        usual = column_repetitions(max(1, target.max_repetitions), len(roots))
        rows = self._chain_rows.get((target.name, roots[0], len(roots)))
        if rows is None:
            return usual
        learned = min(rows + 1, max(1, target.max_repetitions))
        return usual if learned * len(roots) > LEARNED_VARBINDS_PER_REPLY else learned

    def _remember_rows(self, target: SnmpTarget, roots: Sequence[Oid], walk: _ColumnWalk) -> None:
        if roots:
            rows = max(len(rows) for rows in walk.rows.values())
            self._chain_rows[(target.name, roots[0], len(roots))] = rows

    async def _walk_open_columns(
        self, target: SnmpTarget, walk: _ColumnWalk, repetitions: int, *, first: bool = True
    ) -> None:
        width = len(walk.open)
        while walk.open:
            batch = walk.open[:width]
            if first:
                wanted = min(self._first_repetitions(target, batch), walk.remaining(batch))
                first = False
            else:
                wanted = min(column_repetitions(repetitions, len(batch)), walk.remaining(batch))
            cursors = [walk.cursors[root] for root in batch]
            response = await self._persevering(
                target, partial(self._walk_pdu, target, cursors, wanted)
            )
            status = response.error_status
            if status == TOO_BIG and (wanted > 1 or len(batch) > 1):
                if wanted > 1:
                    repetitions = wanted // 2
                else:
                    width = max(1, len(batch) // 2)
                continue
            if status == NO_SUCH_NAME:
                walk.finish(batch, WALK_END)
                continue
            if status:
                raise error_for_status(status, response.error_index, where(target))
            walk.advance(batch, response.varbinds)


def shares_first_request(target: SnmpTarget, oids: Sequence[Oid]) -> bool:
    """Whether a GET of ``oids`` can ride as GETNEXT non-repeaters of a
    GETBULK (``RequestLogic.get_and_walk_columns``)."""
    if target.credentials.version == "1" or not oids:
        return False
    return all(len(oid) >= 2 and oid[-1] == 0 for oid in oids)


def _as_got(oid: Oid, varbind: VarBind) -> VarBind:
    """What a GET of ``oid`` says, from a GETNEXT of its parent."""
    if varbind.oid == oid and not varbind.value.kind.is_exception:
        return varbind
    return VarBind(oid, SnmpValue(ValueKind.NO_SUCH_OBJECT, None))


def column_repetitions(repetitions: int, columns: int) -> int:
    """GETBULK repetitions for ``columns`` walked together: at most
    ``repetitions``, and a reply of at most about COLUMN_VARBINDS_PER_REPLY."""
    return max(1, min(repetitions, COLUMN_VARBINDS_PER_REPLY // max(1, columns)))


class _ColumnWalk:
    """The state of walking several columns together: each column's rows,
    cursor, and whether it is still open, advanced by ``walk_step``."""

    def __init__(self, roots: Sequence[Oid], max_rows: int) -> None:
        self.max_rows = max_rows
        self.rows: dict[Oid, WalkRows] = {root: WalkRows() for root in roots}
        self.cursors: dict[Oid, Oid] = {root: root for root in self.rows}
        self.open: list[Oid] = [root for root in self.rows]
        if max_rows <= 0:
            self.finish(self.open, WALK_CUT)  # as walk_subtree: no room, cut

    def remaining(self, batch: Sequence[Oid]) -> int:
        return max(self.max_rows - len(self.rows[root]) for root in batch)

    def finish(self, batch: Sequence[Oid], end: str) -> None:
        for root in list(batch):
            self.rows[root].cut = end == WALK_CUT
            self.open.remove(root)

    def advance(self, batch: Sequence[Oid], varbinds: Sequence[VarBind]) -> None:
        """Take one reply to a GETBULK of ``batch``'s cursors."""
        width = len(batch)
        progressed = False
        for position, root in enumerate(batch):
            rows = self.rows[root]
            room = self.max_rows - len(rows)
            # As a walk of this column alone would see it: at most ``room``.
            mine = varbinds[position::width][:room]
            if not mine:
                continue  # a reply cut short by the agent: ask again
            progressed = True
            fresh, end = walk_step(mine, root, self.cursors[root])
            rows.extend(fresh)
            if end is not None or not fresh:
                self.finish([root], end or WALK_END)
            elif len(rows) >= self.max_rows:
                self.finish([root], WALK_CUT)  # an endless or oversized table
            else:
                self.cursors[root] = rows[-1].oid
        if not progressed:
            self.finish(batch, WALK_END)  # an empty reply ends a walk, as alone
