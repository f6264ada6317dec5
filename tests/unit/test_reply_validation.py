"""Odd answers never break a poll: arbitrary values in, a result and counted gaps out.

Hypothesis replaces values of the hand-made Cisco controller with odd ones
(every SMI type in the wrong place, NULLs, the three exception values,
integers far outside their types, empty and non-UTF-8 strings, odd OIDs) and
adds rows with odd indexes, then polls it through the real poller, profile
evaluation and normaliser, over ``RecordedTransport`` and over
``LossyTransport`` (the real walk logic of ``pdus.RequestLogic``). The poll
must return a result every time: no exception escapes, none reaches the
scheduler's last-resort handler, every exported number is finite.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.faulty_agents import column, load_agent
from tests.support.lossy_transport import LossyTransport
from wifimon.counters import CounterReconciler
from wifimon.normalise import TargetRole
from wifimon.profiles.registry import default_registry
from wifimon.scheduler import PollRound, PollTarget
from wifimon.snmp.recorded import RecordedTransport
from wifimon.snmp.types import (
    SnmpCredentials,
    SnmpTarget,
    SnmpValue,
    Transport,
    ValueKind,
    VarBind,
)

REGISTRY = default_registry()
HEALTHY = load_agent("healthy")
NAME = "wlc-odd"
NUMERIC = [
    ValueKind.INTEGER,
    ValueKind.COUNTER32,
    ValueKind.GAUGE32,
    ValueKind.TIMETICKS,
    ValueKind.COUNTER64,
]
WITHOUT_VALUE = [
    ValueKind.NULL,
    ValueKind.NO_SUCH_OBJECT,
    ValueKind.NO_SUCH_INSTANCE,
    ValueKind.END_OF_MIB_VIEW,
]
COLUMNS = [
    column(table, name)
    for table, name in (
        ("ap", "name"),
        ("ap", "serial"),
        ("ap", "status"),
        ("lwapp_ap", "uptime"),
        ("lwapp_ap", "clients"),
        ("radio", "channel"),
    )
]

odd_text = st.one_of(
    st.binary(max_size=40),  # empty, NUL bytes, invalid UTF-8
    st.text(max_size=20).map(lambda text: text.encode("utf-8", "surrogatepass")),
)
odd_values = st.one_of(
    st.builds(SnmpValue, st.sampled_from(NUMERIC), st.integers(-(2**80), 2**80)),
    st.builds(SnmpValue, st.just(ValueKind.OCTET_STRING), odd_text),
    st.builds(SnmpValue, st.sampled_from([ValueKind.IP_ADDRESS, ValueKind.OPAQUE]), odd_text),
    st.builds(
        SnmpValue,
        st.just(ValueKind.OBJECT_ID),
        st.lists(st.integers(0, 2**32), max_size=12).map(tuple),
    ),
    st.sampled_from(WITHOUT_VALUE).map(lambda kind: SnmpValue(kind, None)),
)
replacements = st.lists(st.tuples(st.integers(0, len(HEALTHY) - 1), odd_values), max_size=25)
extra_rows = st.lists(
    st.tuples(st.sampled_from(COLUMNS), st.lists(st.integers(0, 2**32), max_size=8), odd_values),
    max_size=8,
)


def odd_agent(
    replaced: list[tuple[int, SnmpValue]], added: list[tuple[tuple[int, ...], list[int], SnmpValue]]
) -> list[VarBind]:
    walk = list(HEALTHY)
    for position, value in replaced:
        walk[position] = VarBind(walk[position].oid, value)
    by_oid = {vb.oid: vb for vb in walk}
    for root, index, value in added:
        oid = (*root, *index)
        by_oid[oid] = VarBind(oid, value)
    return sorted(by_oid.values(), key=lambda vb: vb.oid)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def scheduler_log() -> Iterator[list[logging.LogRecord]]:
    logger = logging.getLogger("wifimon.scheduler")
    handler = _Records()
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


def poll_twice(transport: Transport) -> list[list[tuple[str, float]]]:
    """Two rounds (the second reconciles counters against the first)."""
    snmp = SnmpTarget(NAME, "127.0.0.1", 161, SnmpCredentials("2c", community="x"), 1.0, 1, 3)
    target = PollTarget(snmp, "auto", TargetRole(NAME, controller=True, inventory=()), 5.0)
    rounds = PollRound(transport, REGISTRY, CounterReconciler(), 60.0, clock=lambda: 1.75e9)
    results = []
    for _ in range(2):
        (snapshot,) = asyncio.run(rounds.run([target])).snapshots
        results.append([(sample.metric.name, sample.value) for sample in snapshot.samples])
    return results


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replaced=replacements, added=extra_rows, walk_logic=st.booleans())
def test_odd_values_never_break_a_poll(
    replaced: list[tuple[int, SnmpValue]],
    added: list[tuple[tuple[int, ...], list[int], SnmpValue]],
    walk_logic: bool,
) -> None:
    agent = odd_agent(replaced, added)
    transport: Transport = (
        LossyTransport({NAME: agent}) if walk_logic else RecordedTransport({NAME: agent})
    )
    with scheduler_log() as records:
        results = poll_twice(transport)
    assert not [r for r in records if r.getMessage() == "poll failed unexpectedly"]
    for samples in results:
        assert dict(samples)["wifimon_target_up"] in (0, 1)
        assert [value for _, value in samples if not math.isfinite(value)] == []


def test_the_row_limit_cuts_walks_and_counts_gaps_but_keeps_the_target_up() -> None:
    """``poll.walk_max_rows`` reached on every walk of more than 2 rows: up, gaps counted."""
    snmp = SnmpTarget(NAME, "127.0.0.1", 161, SnmpCredentials("2c", community="x"), 1.0, 1, 3)
    target = PollTarget(snmp, "auto", TargetRole(NAME, controller=True, inventory=()), 5.0)
    transport = LossyTransport({NAME: HEALTHY})
    rounds = PollRound(
        transport, REGISTRY, CounterReconciler(), 60.0, max_rows=2, clock=lambda: 1.75e9
    )
    (snapshot,) = asyncio.run(rounds.run([target])).snapshots
    values = {sample.metric.name: sample.value for sample in snapshot.samples}
    assert values["wifimon_target_up"] == 1
    assert values["wifimon_target_missing_values_total"] > 0
