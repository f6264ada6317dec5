"""A table's columns walked together give exactly what walking each alone gives.

``RequestLogic.walk_columns`` sends one GETBULK chain carrying every open
column of a table (RFC 3416 4.2.3: varbind i of repetition r at r*n+i); the
poller uses it instead of one walk per column. These tests hold it to
``walk_subtree`` column by column: over every golden device recording, and
with Hypothesis over random ragged tables served by agents with quirks
(exception values, a column going backwards or repeating, tooBig, replies
cut short), and under datagram loss with the retry budget. A GET riding
as non-repeaters in the first GETBULK (``get_and_walk_columns``) is held
to a GET followed by the walk in the same way.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.devices.golden import Case, discover
from tests.support.faulty_agents import load_agent
from tests.support.lossy_transport import LossyTransport
from wifimon.poller import PollOutcome, poll_target
from wifimon.profiles.registry import default_registry
from wifimon.profiles.schema import Profile
from wifimon.snmp.pdus import TOO_BIG, RequestLogic, RetryBudget, retry_budget
from wifimon.snmp.recorded import RecordedTransport
from wifimon.snmp.snmprec import load_snmprec
from wifimon.snmp.types import (
    Oid,
    SnmpCredentials,
    SnmpTarget,
    SnmpValue,
    ValueKind,
    VarBind,
    WalkRows,
)

CASES = discover()
REGISTRY = default_registry()
TABLE: Oid = (1, 3, 6, 1, 4, 1, 99999, 1, 1)
END_OF_MIB_VIEW = SnmpValue(ValueKind.END_OF_MIB_VIEW, None)

Walked = dict[Oid, tuple[list[VarBind], bool]]


def target(version: str = "2c", max_repetitions: int = 25, retries: int = 0) -> SnmpTarget:
    credentials = SnmpCredentials(version, community="public")  # type: ignore[arg-type]
    return SnmpTarget("agent", "127.0.0.1", 161, credentials, 1.0, retries, max_repetitions)


def plain(walked: dict[Oid, WalkRows]) -> Walked:
    return {root: (list(rows), rows.cut) for root, rows in walked.items()}


async def alone(
    transport: RequestLogic, agent: SnmpTarget, roots: Sequence[Oid], max_rows: int
) -> Walked:
    walked: Walked = {}
    for root in roots:
        rows = await transport.walk_subtree(agent, root, max_rows, unordered=False)
        walked[root] = (list(rows), rows.cut)
    return walked


@cache
def recording(case: Case) -> list[VarBind]:
    return load_snmprec(case.walk)


def case_tables(case: Case) -> list[tuple[list[Oid], bool]]:
    profile = REGISTRY.get(case.profile)
    return [
        (list(spec.columns.values()), spec.unordered)
        for spec in profile.tables.values()
        if spec.columns
    ]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@pytest.mark.parametrize(
    ("version", "max_repetitions", "max_rows"), [("2c", 25, 100_000), ("2c", 3, 5)]
)
def test_columns_walked_together_equal_walks_alone_over_golden_recordings(
    case: Case, version: str, max_repetitions: int, max_rows: int
) -> None:
    agent = target(version, max_repetitions)
    # One of each for every table: indexing a recording of thousands of APs is slow.
    separate = LossyTransport({"agent": recording(case)})
    together = LossyTransport({"agent": recording(case)})
    recorded = RecordedTransport({"agent": recording(case)})
    for roots, unordered in case_tables(case):

        async def both(roots: list[Oid] = roots, unordered: bool = unordered) -> tuple[Walked, ...]:
            before = (separate.stats.requests, together.stats.requests, recorded.stats.requests)
            expected: Walked = {}
            for root in roots:
                rows = await separate.walk_subtree(agent, root, max_rows, unordered=unordered)
                expected[root] = (list(rows), rows.cut)
            walked = await together.walk_columns(agent, roots, max_rows, unordered=unordered)
            served = await recorded.walk_columns(agent, roots, max_rows, unordered=unordered)
            alone_pdus, together_pdus, recorded_pdus = (
                separate.stats.requests - before[0],
                together.stats.requests - before[1],
                recorded.stats.requests - before[2],
            )
            # The fake counts the PDUs the real logic sends to a perfect agent.
            assert recorded_pdus == together_pdus
            if len(roots) > 1 and not unordered:
                assert together_pdus < alone_pdus
            recorded_rows = {root: (list(rows), False) for root, rows in served.items()}
            return expected, plain(walked), recorded_rows

        expected, walked, recorded_rows = asyncio.run(both())
        assert walked == expected
        assert recorded_rows == {root: (rows, False) for root, (rows, _) in expected.items()}


def test_the_generic_profile_walks_each_table_in_far_fewer_requests() -> None:
    (case,) = [case for case in CASES if case.name == "generic-linux-ap"]
    agent = target()
    separate = RecordedTransport({"agent": recording(case)})
    together = RecordedTransport({"agent": recording(case)})

    async def run() -> None:
        for roots, unordered in case_tables(case):
            for root in roots:
                await separate.walk(agent, root, unordered=unordered)
            await together.walk_columns(agent, roots, 100_000, unordered=unordered)

    asyncio.run(run())
    assert together.stats.requests == len(case_tables(case))
    assert separate.stats.requests > 2 * together.stats.requests


@dataclass
class ScriptedAgent:
    """A stateless agent: the answer after an OID depends on that OID only.

    ``successor`` overrides the next varbind after some OIDs (a column going
    backwards, or repeating itself); ``too_big_above`` answers tooBig when a
    GETBULK would carry more varbinds; ``reply_cap`` cuts replies to that
    many varbinds, as an agent short of buffer may (RFC 3416 4.2.3).
    """

    varbinds: list[VarBind]
    successor: dict[Oid, VarBind]
    too_big_above: int | None = None
    reply_cap: int | None = None

    def __post_init__(self) -> None:
        self.varbinds.sort(key=lambda varbind: varbind.oid)
        self.oids = [varbind.oid for varbind in self.varbinds]

    def next_after(self, oid: Oid) -> VarBind:
        if oid in self.successor:
            return self.successor[oid]
        position = bisect.bisect_right(self.oids, oid)
        if position == len(self.oids):
            return VarBind(oid, END_OF_MIB_VIEW)
        return self.varbinds[position]

    def get(self, oids: Sequence[Oid]) -> Reply:
        found = {varbind.oid: varbind for varbind in self.varbinds}
        missing = SnmpValue(ValueKind.NO_SUCH_OBJECT, None)
        return Reply([found.get(oid, VarBind(oid, missing)) for oid in oids])

    def bulk(self, cursors: Sequence[Oid], wanted: int, leading: Sequence[Oid] = ()) -> Reply:
        size = len(leading) + wanted * len(cursors)
        if self.too_big_above is not None and size > self.too_big_above:
            return Reply([], TOO_BIG, 0)
        nexts = [self.next_after(oid) for oid in leading]  # non-repeaters: one GETNEXT each
        columns = []
        for cursor in cursors:
            chain, oid = [], cursor
            for _ in range(wanted):
                varbind = self.next_after(oid)
                chain.append(varbind)
                oid = varbind.oid
            columns.append(chain)
        varbinds = [*nexts, *(column[r] for r in range(wanted) for column in columns)]
        cap = self.reply_cap
        return Reply(varbinds if cap is None else varbinds[:cap])


@dataclass(frozen=True, slots=True)
class Reply:
    varbinds: list[VarBind]
    error_status: int = 0
    error_index: int = 0


class ScriptedTransport(RequestLogic):
    def __init__(self, agent: ScriptedAgent) -> None:
        super().__init__()
        self.agent = agent

    async def _get_pdu(self, target: SnmpTarget, oids: Sequence[Oid]) -> Reply:
        self.stats.requests += 1
        return self.agent.get(oids)

    async def _walk_pdu(
        self, target: SnmpTarget, cursors: Sequence[Oid], wanted: int, leading: Sequence[Oid] = ()
    ) -> Reply:
        self.stats.requests += 1
        return self.agent.bulk(cursors, wanted, leading)


VALUE_KINDS = st.sampled_from(
    [ValueKind.INTEGER] * 8
    + [ValueKind.NO_SUCH_INSTANCE, ValueKind.NO_SUCH_OBJECT, ValueKind.END_OF_MIB_VIEW]
)


@st.composite
def scripted_agents(draw: st.DrawFn) -> tuple[ScriptedAgent, list[Oid]]:
    """A table of 1-6 ragged columns (own rows, holes), objects before and
    after it, and maybe quirks in one column."""
    columns = draw(st.integers(1, 6))
    roots = [(*TABLE, column) for column in range(1, columns + 1)]
    varbinds = [VarBind((1, 3, 6, 1, 2, 1, 1, 5, 0), SnmpValue(ValueKind.INTEGER, 1))]
    for root in roots:
        rows = draw(st.lists(st.integers(1, 40), max_size=30, unique=True))
        for row in rows:
            kind = draw(VALUE_KINDS)
            value = row if kind is ValueKind.INTEGER else None
            varbinds.append(VarBind((*root, row), SnmpValue(kind, value)))
    if draw(st.booleans()):
        varbinds.append(VarBind((*TABLE[:-1], 2, 1, 1), SnmpValue(ValueKind.INTEGER, 7)))
    successor: dict[Oid, VarBind] = {}
    in_table = [varbind for varbind in varbinds if varbind.oid[: len(TABLE)] == TABLE]
    if in_table and draw(st.booleans()):  # one column goes backwards or repeats
        quirky = draw(st.sampled_from(in_table))
        column_rows = [v for v in in_table if v.oid[: len(TABLE) + 1] == quirky.oid[:-1]]
        successor[quirky.oid] = draw(st.sampled_from(column_rows))
    agent = ScriptedAgent(
        varbinds,
        successor,
        too_big_above=draw(st.none() | st.integers(1, 20)),
        reply_cap=draw(st.none() | st.integers(1, 12)),
    )
    return agent, roots


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scripted=scripted_agents(),
    max_repetitions=st.integers(1, 30),
    max_rows=st.integers(0, 45),
)
def test_columns_walked_together_equal_walks_alone_over_random_agents(
    scripted: tuple[ScriptedAgent, list[Oid]], max_repetitions: int, max_rows: int
) -> None:
    agent, roots = scripted
    walked_agent = target("2c", max_repetitions)

    async def both() -> tuple[Walked, Walked]:
        expected = await alone(ScriptedTransport(agent), walked_agent, roots, max_rows)
        walked = await ScriptedTransport(agent).walk_columns(walked_agent, roots, max_rows)
        return expected, plain(walked)

    expected, walked = asyncio.run(both())
    assert list(walked) == roots
    assert walked == expected


def test_a_column_going_backwards_is_cut_and_the_others_complete() -> None:
    roots = [(*TABLE, 1), (*TABLE, 2)]
    varbinds = [
        VarBind((*root, row), SnmpValue(ValueKind.INTEGER, row))
        for root in roots
        for row in (1, 2, 3)
    ]
    backwards = {(*TABLE, 1, 2): varbinds[0]}  # after row 2 of column 1, row 1 again
    transport = ScriptedTransport(ScriptedAgent(varbinds, backwards))
    walked = asyncio.run(transport.walk_columns(target(max_repetitions=10), roots, 100))
    assert plain(walked) == {roots[0]: (varbinds[:2], True), roots[1]: (varbinds[3:], False)}
    assert transport.stats.requests == 1


def test_too_big_halves_the_repetitions_then_splits_the_columns() -> None:
    roots = [(*TABLE, column) for column in range(1, 5)]
    varbinds = [
        VarBind((*root, row), SnmpValue(ValueKind.INTEGER, row)) for root in roots for row in (1, 2)
    ]
    transport = ScriptedTransport(ScriptedAgent(varbinds, {}, too_big_above=2))
    walked = asyncio.run(transport.walk_columns(target(max_repetitions=8), roots, 100))
    assert plain(walked) == {
        root: (varbinds[2 * i : 2 * i + 2], False) for i, root in enumerate(roots)
    }


def test_a_lost_round_resumes_the_columns_where_they_were() -> None:
    """Under loss the columns come back exact, and only lost rounds are resent."""
    healthy = load_agent("healthy")
    agent = target(max_repetitions=2)
    tables = REGISTRY.get("cisco-aireos").tables.values()
    roots_of_tables = [list(spec.columns.values()) for spec in tables if spec.columns]

    async def walk(transport: LossyTransport) -> tuple[list[Walked], RetryBudget]:
        with retry_budget(RetryBudget("agent", presumed_alive=True)) as budget:
            walked = [
                plain(await transport.walk_columns(agent, roots, 100_000))
                for roots in roots_of_tables
            ]
        return walked, budget

    clean = LossyTransport({"agent": healthy})
    lossy = LossyTransport({"agent": healthy}, loss=0.3, seed=5)
    expected, _ = asyncio.run(walk(clean))
    walked, budget = asyncio.run(walk(lossy))
    assert walked == expected
    assert budget.rescued > 0
    assert lossy.stats.requests == clean.stats.requests + budget.rescued
    assert lossy.stats.retries == budget.rescued


def test_a_column_that_got_ahead_in_short_replies_stops_at_max_rows() -> None:
    """Replies cut to 3 varbinds give column 1 two rows per reply and column
    2 one, so column 1 reaches the row limit first and must not pass it."""
    roots = [(*TABLE, 1), (*TABLE, 2)]
    varbinds = [
        VarBind((*root, row), SnmpValue(ValueKind.INTEGER, row))
        for root in roots
        for row in range(1, 11)
    ]
    agent = ScriptedAgent(varbinds, {}, reply_cap=3)
    walked_agent = target(max_repetitions=10)

    async def both() -> tuple[Walked, Walked]:
        expected = await alone(ScriptedTransport(agent), walked_agent, roots, 3)
        walked = await ScriptedTransport(agent).walk_columns(walked_agent, roots, 3)
        return expected, plain(walked)

    expected, walked = asyncio.run(both())
    assert walked == expected == {roots[0]: (varbinds[:3], True), roots[1]: (varbinds[10:13], True)}


# --- a GET riding in the walk's first GETBULK (get_and_walk_columns) ---------

SYSTEM_GROUP: Oid = (1, 3, 6, 1, 2, 1, 1)


@st.composite
def scalar_instances(draw: st.DrawFn) -> tuple[list[VarBind], list[Oid]]:
    """Scalars an agent may have (varbinds to add to it) and the .0
    instances to GET: some present, some absent, some absent with a
    neighbour right after them, in any order."""
    present = draw(st.lists(st.integers(1, 9), max_size=5, unique=True))
    served = [
        VarBind((*SYSTEM_GROUP, k, 0), SnmpValue(ValueKind.INTEGER, 100 + k)) for k in present
    ]
    if draw(st.booleans()):  # an object right after an absent instance: x.0.1
        served.append(VarBind((*SYSTEM_GROUP, 10, 0, 1), SnmpValue(ValueKind.INTEGER, 1)))
    asked = draw(st.lists(st.integers(1, 11), min_size=1, max_size=7, unique=True))
    return served, [(*SYSTEM_GROUP, k, 0) for k in asked]


def as_get_says(varbinds: list[VarBind]) -> list[VarBind]:
    # GETNEXT cannot tell noSuchInstance from noSuchObject (Transport says so).
    missing = SnmpValue(ValueKind.NO_SUCH_OBJECT, None)
    return [VarBind(vb.oid, missing) if vb.value.kind.is_exception else vb for vb in varbinds]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scripted=scripted_agents(),
    scalars=scalar_instances(),
    max_repetitions=st.integers(1, 30),
    max_rows=st.integers(0, 45),
)
def test_a_get_riding_in_the_first_getbulk_equals_a_get_then_the_walk(
    scripted: tuple[ScriptedAgent, list[Oid]],
    scalars: tuple[list[VarBind], list[Oid]],
    max_repetitions: int,
    max_rows: int,
) -> None:
    quirky, roots = scripted
    served, asked = scalars
    agent = ScriptedAgent(
        [v for v in quirky.varbinds if v.oid[: len(SYSTEM_GROUP)] != SYSTEM_GROUP] + served,
        quirky.successor,
        quirky.too_big_above,
        quirky.reply_cap,
    )
    polled = target("2c", max_repetitions)

    async def both() -> tuple[tuple[list[VarBind], Walked, int], tuple[list[VarBind], Walked, int]]:
        plain_way = ScriptedTransport(agent)
        values = await plain_way.get_oids(polled, asked)
        walked = await plain_way.walk_columns(polled, roots, max_rows)
        one_way = ScriptedTransport(agent)
        got, together = await one_way.get_and_walk_columns(polled, asked, roots, max_rows)
        return (
            (as_get_says(values), plain(walked), plain_way.stats.requests),
            (got, plain(together), one_way.stats.requests),
        )

    (values, walked, plain_requests), (got, together, requests) = asyncio.run(both())
    assert got == values
    assert together == walked
    well_behaved = agent.too_big_above is None and agent.reply_cap is None
    if well_behaved and max_rows > 0 and not agent.successor:
        assert requests == plain_requests - 1  # the GET cost nothing extra
    else:
        assert requests <= plain_requests + 1  # at worst the first GETBULK is wasted


def test_snmpv1_and_instances_not_ending_in_zero_are_fetched_the_plain_way() -> None:
    roots = [(*TABLE, 1)]
    row = VarBind((*TABLE, 1, 1), SnmpValue(ValueKind.INTEGER, 1))
    name = VarBind((*SYSTEM_GROUP, 5, 0), SnmpValue(ValueKind.INTEGER, 5))
    odd = VarBind((*SYSTEM_GROUP, 9, 1), SnmpValue(ValueKind.INTEGER, 9))
    agent = ScriptedAgent([row, name, odd], {})
    for polled, wanted in [(target("1"), [name]), (target("2c"), [name, odd])]:
        transport = ScriptedTransport(agent)
        asked = [varbind.oid for varbind in wanted]
        got, walked = asyncio.run(transport.get_and_walk_columns(polled, asked, roots, 10))
        assert got == wanted
        assert plain(walked) == {roots[0]: ([row], False)}
        assert transport.stats.requests == 2  # a GET, then the walk (two rows seen)


def test_a_generic_ap_costs_one_request_once_its_profile_and_rows_are_known() -> None:
    """First poll: a GET of the system group, then GETBULKs for every
    column of the profile together (5 interfaces: the usual 5 repetitions
    do not yet see the columns end). From the second poll on, the GET rides
    in the first GETBULK, which asks for the 5 rows it found last time plus
    one, so the whole poll is one request. Same observation every way; a
    wrong guess (the agent now claims another profile) still observes with
    the right one."""
    (case,) = [case for case in CASES if case.name == "generic-linux-ap"]
    agent = target(max_repetitions=25)
    transport = LossyTransport({"agent": recording(case)})

    async def poll(expected: Profile | None) -> tuple[PollOutcome, int]:
        before = transport.stats.requests
        outcome = await poll_target(transport, agent, REGISTRY, "auto", expected_profile=expected)
        return outcome, transport.stats.requests - before

    first, first_requests = asyncio.run(poll(None))
    again, again_requests = asyncio.run(poll(first.profile))
    wrong, wrong_requests = asyncio.run(poll(REGISTRY.get("ubiquiti-unifi")))
    assert first.profile.name == "generic"
    assert (first_requests, again_requests) == (3, 1)
    assert again.observation == first.observation == wrong.observation
    assert wrong.profile is first.profile
    assert wrong_requests >= 2
