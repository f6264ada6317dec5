"""Delayed, reordered, duplicated and corrupted datagrams: exact results or none.

snmpsim serves the small hand-made controller (``tests/e2e/agents/
healthy.snmprec``) on 127.0.0.1; ``tests/support/udp_relay.py`` sits between
it and the poller (the daemon's ``PollRound`` over ``FastTransport``, clock
frozen, via ``tests/support/poll_rounds.py``) and misbehaves with a fixed
seed. Every round is compared value for value with a direct poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.faulty_agents import serve_recordings
from tests.support.poll_rounds import poll
from tests.support.udp_relay import Faults, UdpRelay, framing_offsets, udp_relay
from wifimon.snmp.v2c_codec import encode_get

pytestmark = pytest.mark.e2e

COMMUNITY = "relay-c0mmunity-51a2"
ROUNDS = 4
TARGETS = 3


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    with serve_recordings(tmp_path_factory.mktemp("relay"), {COMMUNITY: "healthy"}) as address:
        yield address


def spec(address: tuple[str, int], rounds: int, targets: int) -> dict[str, Any]:
    host, port = address
    return {
        "rounds": rounds,
        "targets": [
            {
                "name": f"wlc-{number}",
                "host": host,
                "port": port,
                "community": COMMUNITY,
                "timeout": 0.5,
                "retries": 2,
                "budget": 30.0,
                "max_repetitions": 5,
            }
            for number in range(targets)
        ],
    }


def reference(agent: tuple[str, int]) -> dict[str, Any]:
    (polled,) = asyncio.run(poll(spec(agent, 1, TARGETS)))["rounds"]
    assert isinstance(polled, dict)
    return polled


def through_relay(
    agent: tuple[str, int], requests: Faults, replies: Faults, seed: int
) -> tuple[dict[str, Any], UdpRelay]:
    async def main() -> tuple[dict[str, Any], UdpRelay]:
        async with udp_relay(agent, requests, replies, seed) as relay:
            return await poll(spec(relay.address, ROUNDS, TARGETS)), relay

    return asyncio.run(main())


def assert_every_round_exact(output: dict[str, Any], expected: dict[str, Any]) -> None:
    assert len(output["rounds"]) == ROUNDS
    for number, polled in enumerate(output["rounds"]):
        for name, summary in expected.items():
            assert polled[name]["up"] == 1, (number, name, polled[name]["errors"])
            assert polled[name]["values"] == summary["values"], (number, name)


def test_delayed_reordered_and_duplicated_datagrams_give_exact_results(
    agent: tuple[str, int],
) -> None:
    faults = Faults(delay_ms=40, reorder=0.2, duplicate=0.2)
    output, relay = through_relay(agent, faults, faults, seed=8)
    assert_every_round_exact(output, reference(agent))
    for direction in ("requests", "replies"):
        stats = relay.stats[direction]
        assert stats["reordered"] > 10, stats
        assert stats["duplicated"] > 10, stats
        assert stats["delayed"] > 100, stats
    # A duplicated reply finds its request already answered: dropped, counted.
    assert output["stats"]["dropped_replies"] >= relay.stats["replies"]["duplicated"]


def test_corrupted_and_truncated_replies_are_dropped_counted_and_retried(
    agent: tuple[str, int],
) -> None:
    output, relay = through_relay(agent, Faults(), Faults(corrupt=0.15, truncate=0.1), seed=13)
    assert_every_round_exact(output, reference(agent))
    damaged = relay.stats["replies"]["corrupted"] + relay.stats["replies"]["truncated"]
    assert damaged > 20, relay.stats["replies"]
    stats = output["stats"]
    # Never believed: each damaged reply was dropped (and counted), and its
    # request sent again.
    assert stats["dropped_replies"] >= damaged
    assert stats["retries"] >= damaged


def test_corrupted_requests_are_answered_by_nobody_or_dropped_and_retried(
    agent: tuple[str, int],
) -> None:
    output, relay = through_relay(agent, Faults(corrupt=0.15, truncate=0.1), Faults(), seed=21)
    assert_every_round_exact(output, reference(agent))
    damaged = relay.stats["requests"]["corrupted"] + relay.stats["requests"]["truncated"]
    assert damaged > 20, relay.stats["requests"]
    assert output["stats"]["retries"] >= damaged


def test_the_relay_flips_only_framing_and_identity_bytes() -> None:
    request = encode_get(1, b"public", 0x1234, [(1, 3, 6, 1, 2, 1, 1, 5, 0)])
    offsets = framing_offsets(request)
    # 2 (message) + 3 (version) + 8 (community) + 2 (PDU) + 4 (request id)
    assert offsets == list(range(19))
    assert request[offsets[-1]] == 0x34
    assert framing_offsets(b"\x30\x05garbage") == []


def test_the_relay_itself_passes_datagrams_unchanged_without_faults(
    agent: tuple[str, int],
) -> None:
    output, relay = through_relay(agent, Faults(), Faults(), seed=0)
    assert_every_round_exact(output, reference(agent))
    assert output["stats"]["retries"] == 0
    assert output["stats"]["dropped_replies"] == 0
    assert relay.stats["requests"]["received"] == relay.stats["replies"]["received"]
