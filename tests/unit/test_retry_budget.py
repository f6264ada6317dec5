"""Datagram loss costs time, never a target: the per-target retry budget.

Every test drives the real ``PollRound`` (poller, ``pdus.RequestLogic`` with
its retry budget, profile evaluation, normaliser) over ``LossyTransport``,
which loses each attempt of a request with a seeded probability and lets no
time pass. 20 % loss each way is a round-trip loss of 1 - 0.8 * 0.8 = 0.36
per attempt; with ``retries: 2`` one request then fails all its three
attempts with 0.36**3 = 4.7 %, so a poll of 111 requests (the fixture
controller walked 2 rows per GETBULK, a controller's columns one by one)
would fail 99.5 % of the time if one failed request failed the target.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from tests.support.faulty_agents import load_agent
from tests.support.lossy_transport import LossyTransport
from wifimon.counters import CounterReconciler
from wifimon.normalise import TargetRole
from wifimon.poller import poll_target
from wifimon.profiles.registry import default_registry
from wifimon.scheduler import PollRound, PollTarget
from wifimon.snapshot import TargetSnapshot
from wifimon.snmp.pdus import (
    SILENT_ROUNDS_BEFORE_DOWN,
    UNPROVEN_SILENT_ROUNDS,
    RetryBudget,
    retry_budget,
)
from wifimon.snmp.types import ErrorReason, SnmpCredentials, SnmpError, SnmpTarget

REGISTRY = default_registry()
HEALTHY = load_agent("healthy")
NOW = 1_750_000_000.0
INTERVAL = 60.0
ROUND_TRIP_LOSS = 1 - 0.8 * 0.8  # 20 % of requests and 20 % of replies dropped
RETRIES = 2
ATTEMPTS = RETRIES + 1
PDUS_PER_POLL = 111  # measured below, without loss
MID_POLL = 20  # PDUs answered before a target falls silent in the middle of a poll
DURATION = "wifimon_target_poll_duration_seconds"
ERRORS = "wifimon_target_poll_errors_total"

Values = dict[tuple[str, tuple[str, ...]], float]


def snmp_target(name: str, retries: int = RETRIES) -> SnmpTarget:
    credentials = SnmpCredentials("2c", community="lossy-community")
    return SnmpTarget(name, "127.0.0.1", 161, credentials, 1.0, retries, max_repetitions=2)


def poll_target_of(name: str) -> PollTarget:
    return PollTarget(
        snmp_target(name), "auto", TargetRole(name, controller=True, inventory=()), 30.0
    )


def values_of(snapshot: TargetSnapshot) -> Values:
    return {
        (sample.metric.name, sample.labels): sample.value
        for sample in snapshot.samples
        if sample.metric.name != DURATION
    }


def run_rounds(
    transport: LossyTransport, names: Sequence[str], rounds: int
) -> list[dict[str, Values]]:
    """``rounds`` poll rounds of ``names`` on a fake clock: per round, target -> values."""
    clock = [NOW]
    poller = PollRound(transport, REGISTRY, CounterReconciler(), INTERVAL, clock=lambda: clock[0])
    targets = [poll_target_of(name) for name in names]

    async def main() -> list[dict[str, Values]]:
        results = []
        for _ in range(rounds):
            result = await poller.run(targets)
            results.append({snap.target: values_of(snap) for snap in result.snapshots})
            clock[0] += INTERVAL
        return results

    return asyncio.run(main())


def up(values: Values, name: str) -> float:
    return values[("wifimon_target_up", (name,))]


def test_the_fixture_poll_takes_111_requests_without_loss() -> None:
    transport = LossyTransport({"wlc": HEALTHY})
    (values,) = [r["wlc"] for r in run_rounds(transport, ["wlc"], 1)]
    assert up(values, "wlc") == 1
    assert (transport.stats.requests, transport.stats.retries) == (PDUS_PER_POLL, 0)


def test_without_the_budget_one_request_lost_three_times_fails_the_poll() -> None:
    """The fault being fixed: a request's own attempts alone do not survive loss."""
    transport = LossyTransport({"wlc": HEALTHY}, loss=ROUND_TRIP_LOSS, seed=1)

    async def poll_without_budget() -> ErrorReason | None:
        try:
            # Another target's budget is in scope: it must not serve "wlc".
            with retry_budget(RetryBudget("another-target", presumed_alive=True)):
                await transport.walk(snmp_target("wlc"), (1, 3, 6, 1), 100_000)
        except SnmpError as error:
            return error.reason
        return None

    reasons = [asyncio.run(poll_without_budget()) for _ in range(20)]
    assert reasons.count(ErrorReason.TIMEOUT) >= 15


def test_20_percent_loss_each_way_over_500_polls_never_downs_the_target() -> None:
    """500 polls, 111 requests each: every poll up, every value exact."""
    polls = 500
    reference = run_rounds(LossyTransport({"wlc": HEALTHY}), ["wlc"], polls)
    lossy = LossyTransport({"wlc": HEALTHY}, loss=ROUND_TRIP_LOSS, seed=20)
    results = run_rounds(lossy, ["wlc"], polls)
    downs = [number for number, result in enumerate(results) if up(result["wlc"], "wlc") != 1]
    assert downs == []
    assert results == reference
    # Each PDU costs 1 / (1 - 0.36) = 1.56 attempts on average: the extra
    # requests are the resends loss makes necessary, no more.
    sent_per_pdu = lossy.stats.requests / (polls * PDUS_PER_POLL)
    assert 1.5 < sent_per_pdu < 1.63
    assert lossy.stats.retries == lossy.stats.requests - polls * PDUS_PER_POLL


def test_a_silent_target_costs_the_silent_rounds_once_then_one_round_per_poll() -> None:
    """A black hole next to a lossy target. First poll: never seen, so it is
    presumed alive for the unproven rounds only; then it is known down and
    one round of its own attempts confirms it. The other target's answers
    never count for it."""
    transport = LossyTransport({"wlc": HEALTHY}, loss=ROUND_TRIP_LOSS, seed=3)
    first, second = run_rounds(transport, ["wlc", "black-hole"], 2)
    for result, errors in ((first, 1), (second, 2)):
        assert up(result["wlc"], "wlc") == 1
        assert up(result["black-hole"], "black-hole") == 0
        assert result["black-hole"][(ERRORS, ("black-hole", "timeout"))] == errors
    assert transport.pdus_by_target["black-hole"] == (UNPROVEN_SILENT_ROUNDS + 1) * ATTEMPTS
    assert UNPROVEN_SILENT_ROUNDS < SILENT_ROUNDS_BEFORE_DOWN


def test_a_target_that_was_up_gets_the_silent_rounds_before_it_is_down() -> None:
    transport = LossyTransport({"wlc": HEALTHY})
    transport.silence("wlc", after=PDUS_PER_POLL)  # one good poll, then nothing
    first, second, third = run_rounds(transport, ["wlc"], 3)
    assert up(first["wlc"], "wlc") == 1
    assert up(second["wlc"], "wlc") == 0
    assert up(third["wlc"], "wlc") == 0
    sent = transport.pdus_by_target["wlc"] - PDUS_PER_POLL
    # Poll 2: presumed alive, SILENT_ROUNDS_BEFORE_DOWN rounds of the first
    # request; poll 3: it was down, so one round only.
    assert sent == SILENT_ROUNDS_BEFORE_DOWN * ATTEMPTS + ATTEMPTS


def test_a_target_that_dies_mid_poll_is_down_after_the_silent_rounds() -> None:
    transport = LossyTransport({"wlc": HEALTHY})
    transport.silence("wlc", after=MID_POLL)

    async def poll() -> ErrorReason:
        with pytest.raises(SnmpError) as failure:
            # As the scheduler polls a controller: its columns walked apart
            await poll_target(
                transport, snmp_target("wlc"), REGISTRY, "auto", columns_together=False
            )
        return failure.value.reason

    assert asyncio.run(poll()) is ErrorReason.TIMEOUT
    sent_after_silence = transport.pdus_by_target["wlc"] - MID_POLL
    # The silent rounds are shared by the walks in flight (at most 4), not
    # granted to each: a dead target costs a few rounds, not 4 x 6.
    assert sent_after_silence >= SILENT_ROUNDS_BEFORE_DOWN * ATTEMPTS
    assert sent_after_silence <= (SILENT_ROUNDS_BEFORE_DOWN + 3) * ATTEMPTS


def test_a_walk_resumes_after_a_lost_round_instead_of_starting_again() -> None:
    """Rows exact, and only the lost round is sent again."""
    root = (1, 3, 6, 1, 4, 1, 14179)
    clean = LossyTransport({"wlc": HEALTHY})
    expected = asyncio.run(clean.walk(snmp_target("wlc", retries=0), root))

    lossy = LossyTransport({"wlc": HEALTHY}, loss=0.3, seed=11)

    async def walk() -> tuple[list[object], RetryBudget]:
        with retry_budget(RetryBudget("wlc", presumed_alive=True)) as budget:
            rows = await lossy.walk(snmp_target("wlc", retries=0), root)
        return list(rows), budget

    rows, budget = asyncio.run(walk())
    assert rows == expected
    assert budget.rescued > 0
    # With retries 0 every lost attempt is a round the budget granted.
    assert lossy.stats.requests == clean.stats.requests + budget.rescued
    assert lossy.stats.retries == budget.rescued


def test_errors_other_than_silence_are_never_retried() -> None:
    class Refusing(LossyTransport):
        async def _get_pdu(self, target: SnmpTarget, oids: Sequence[tuple[int, ...]]) -> object:  # type: ignore[override]
            self.stats.requests += 1
            raise SnmpError(ErrorReason.AUTH, "refused")

    transport = Refusing({"wlc": HEALTHY})

    async def get() -> None:
        with retry_budget(RetryBudget("wlc", presumed_alive=True)):
            await transport.get(snmp_target("wlc"), [(1, 3, 6, 1, 2, 1, 1, 5, 0)])

    with pytest.raises(SnmpError) as failure:
        asyncio.run(get())
    assert failure.value.reason is ErrorReason.AUTH
    assert transport.stats.requests == 1


def test_a_first_poll_that_answered_once_gets_the_full_silent_rounds() -> None:
    """The unproven limit ends with the first answer of the first poll."""
    transport = LossyTransport({"wlc": HEALTHY})
    transport.silence("wlc", after=MID_POLL)  # answers part of its first poll, then nothing

    async def poll() -> None:
        with pytest.raises(SnmpError):
            await poll_target(
                transport,
                snmp_target("wlc"),
                REGISTRY,
                "auto",
                first_poll=True,
                columns_together=False,  # a controller's columns walked apart
            )

    asyncio.run(poll())
    assert transport.pdus_by_target["wlc"] - MID_POLL >= SILENT_ROUNDS_BEFORE_DOWN * ATTEMPTS


def test_a_direct_ap_walks_its_columns_in_one_chain_a_controller_column_by_column() -> None:
    """Same agent, same values: as a directly polled AP (tables of a few rows)
    every column of its profile goes in one chain, fewest requests; as a controller (thousands of
    rows) one chain per column keeps the wall time short. The scheduler
    chooses by the target's role."""
    controller = LossyTransport({"wlc": HEALTHY})
    run_rounds(controller, ["wlc"], 1)  # a controller role: column by column
    assert controller.stats.requests == PDUS_PER_POLL

    separate, together = LossyTransport({"wlc": HEALTHY}), LossyTransport({"wlc": HEALTHY})

    async def poll(transport: LossyTransport, columns_together: bool) -> object:
        outcome = await poll_target(
            transport, snmp_target("wlc"), REGISTRY, "auto", columns_together=columns_together
        )
        return outcome.observation

    assert asyncio.run(poll(separate, False)) == asyncio.run(poll(together, True))
    assert separate.stats.requests == PDUS_PER_POLL
    assert together.stats.requests < PDUS_PER_POLL / 2
