"""What keeps a city-scale fleet cheap must not change what is exported.

The fast paths (counter arithmetic, state keys, label texts kept between
renders) are checked against the general code they shortcut; the scheduler's
round shape (first round unspread, targets in flight bounded) is checked on
the real ``PollRound`` over a fake transport.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence

import pytest

from wifimon.catalogue import metric
from wifimon.counters import CounterReconciler, _key_to_json
from wifimon.normalise import KnownAp, TargetRole
from wifimon.profiles.registry import default_registry
from wifimon.scheduler import PollRound, PollTarget
from wifimon.snapshot import Sample, Snapshot, TargetSnapshot
from wifimon.snmp.types import (
    ErrorReason,
    Oid,
    SnmpCredentials,
    SnmpError,
    SnmpTarget,
    TransportStats,
    VarBind,
    WalkRows,
)
from wifimon_exporters.exposition import render


def test_the_counter_fast_path_exports_what_the_rules_say() -> None:
    """Random raw values, wraps, reboots and width changes: ``observe`` (with
    its shortcut for plain increases) and ``observe_with_change`` (always the
    full rules) export the same values."""
    chooser = random.Random(7)
    fast, reference = CounterReconciler(), CounterReconciler()
    raw, uptime, width = 0, 1000.0, 32
    for step in range(5000):
        move = chooser.random()
        if move < 0.7:
            raw += chooser.randrange(0, 10**6)
        elif move < 0.8:
            raw = chooser.randrange(0, 2**32)  # a wrap or a clear
        elif move < 0.85:
            uptime = 5.0  # a reboot
        elif move < 0.87:
            width = 96 - width  # a firmware update added the 64-bit column
        raw %= 2**width
        uptime += 60.0
        key = ("wifimon_radio_retries_total", ("ap1", "site", "district", "1", "5GHz"))
        expected, _ = reference.observe_with_change(
            key, raw, width, uptime, interval_seconds=60.0, max_rate_bytes_per_second=None
        )
        assert fast.observe(key, raw, width, uptime, 60.0) == expected, f"step {step}"


@pytest.mark.parametrize(
    "key",
    [
        ("wifimon_ap_receive_bytes_total", ("ap-1", "Centre", "Nord")),
        ('odd"name\\', ("é", "\u2028", "line\nbreak", "")),
        ("wifimon_x", ()),
        ("wifimon_x", (1, 2)),
        "plain",
        (1, (2.5, None)),
    ],
)
def test_saved_counter_keys_are_the_json_of_the_key(key: object) -> None:
    assert _key_to_json(key) == json.dumps(key)


# --- the round's shape ---------------------------------------------------------


class _GatedTransport:
    """Every request waits for ``open``; records how many polls wait at once."""

    def __init__(self) -> None:
        self.stats = TransportStats()
        self.waiting = 0
        self.most_waiting = 0
        self.gate = asyncio.Event()

    async def get(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        await self.gate.wait()
        self.waiting -= 1
        raise SnmpError(ErrorReason.TIMEOUT, "no agent here")

    async def get_and_walk_columns(
        self, target: SnmpTarget, oids: Sequence[Oid], roots: Sequence[Oid], max_rows: int
    ) -> tuple[list[VarBind], dict[Oid, WalkRows]]:
        # The profile is known ("generic"): the system group rides in the walk.
        return await self.get(target, oids), {}

    async def walk(
        self, target: SnmpTarget, root: Oid, max_rows: int = 100_000, *, unordered: bool = False
    ) -> list[VarBind]:
        raise AssertionError("no walk without a system group")

    async def close(self) -> None:
        pass


def _targets(count: int) -> list[PollTarget]:
    targets = []
    for number in range(count):
        name = f"ap-{number}"
        snmp = SnmpTarget(name, "127.0.0.1", 161, SnmpCredentials(version="2c", community="x"))
        role = TargetRole(name, controller=False, inventory=(KnownAp(ap=name),))
        targets.append(PollTarget(snmp, "generic", role, budget=300.0))
    return targets


def test_targets_polled_at_once_are_bounded_and_all_polled() -> None:
    async def scenario() -> tuple[int, list[TargetSnapshot]]:
        transport = _GatedTransport()
        rounds = PollRound(
            transport,
            default_registry(),
            CounterReconciler(),
            60.0,
            targets_in_flight=3,
        )
        running = asyncio.create_task(rounds.run(_targets(10)))
        while transport.waiting < 3:
            await asyncio.sleep(0)
        for _ in range(100):  # give any further target every chance to start
            await asyncio.sleep(0)
        transport.gate.set()
        return transport.most_waiting, (await running).snapshots

    most_waiting, snapshots = asyncio.run(scenario())
    assert most_waiting == 3
    assert sorted(snap.target for snap in snapshots) == sorted(f"ap-{n}" for n in range(10))


def test_targets_down_at_their_last_poll_take_no_slot() -> None:
    """Dead APs mostly wait for timeouts: they must not hold up live ones."""

    async def scenario() -> int:
        transport = _GatedTransport()
        rounds = PollRound(
            transport,
            default_registry(),
            CounterReconciler(),
            60.0,
            targets_in_flight=3,
        )
        transport.gate.set()
        await rounds.run(_targets(10))  # every target times out: all down now
        transport.gate.clear()
        transport.most_waiting = 0
        running = asyncio.create_task(rounds.run(_targets(10)))
        for _ in range(1000):  # bounded: with slots, only 3 would ever wait
            if transport.waiting == 10:
                break
            await asyncio.sleep(0)
        transport.gate.set()
        await running
        return transport.most_waiting

    assert asyncio.run(scenario()) == 10


def test_the_first_round_starts_every_target_at_once_later_ones_spread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a start nothing is exported yet: no jitter then. Later rounds
    spread the targets over ``jitter`` seconds."""
    delays: list[float] = []

    async def no_sleep(delay: float) -> None:
        delays.append(delay)

    async def rounds_of(jitter: float) -> list[list[float]]:
        transport = _GatedTransport()
        transport.gate.set()
        rounds = PollRound(transport, default_registry(), CounterReconciler(), 60.0)
        monkeypatch.setattr("wifimon.scheduler.asyncio.sleep", no_sleep)
        seen = []
        for _ in range(2):
            delays.clear()
            await rounds.run(_targets(20), jitter=jitter)
            seen.append(list(delays))
        return seen

    first, second = asyncio.run(rounds_of(30.0))
    assert first == []
    assert len(second) == 20
    assert all(0 <= delay <= 30.0 for delay in second)


# --- rendering ----------------------------------------------------------------


def _snapshot(sites: Sequence[str]) -> Snapshot:
    up = metric("wifimon_ap_up")
    samples = tuple(Sample(up, (f"ap{n}", site, "North"), 1, 0.0) for n, site in enumerate(sites))
    return Snapshot({"t": TargetSnapshot("t", 0.0, samples)}, (), {}, 1)


def test_label_texts_kept_from_an_earlier_render_are_the_right_ones() -> None:
    first = render(_snapshot(["a", 'b"quoted']))
    second = render(_snapshot(["a", "c\\d"]))
    assert b'wifimon_ap_up{ap="ap1",site="b\\"quoted",district="North"} 1\n' in first
    assert b'wifimon_ap_up{ap="ap0",site="a",district="North"} 1\n' in second
    assert b'wifimon_ap_up{ap="ap1",site="c\\\\d",district="North"} 1\n' in second
    assert b"quoted" not in second
