"""Real datagram loss in a network namespace: exact values or an honest timeout.

A namespace of the module's own holds two snmpsim agents (the Cisco 5508
recording of snmpsim-data, 226 APs; and the small hand-made controller of
``tests/e2e/agents/healthy.snmprec``), each listening on several ports, and
nftables drops a random share of the datagrams to and from some of those
ports. The poller runs inside the namespace too, as a child process
(``tests/support/poll_rounds.py``: the daemon's ``PollRound`` over
``FastTransport``, clock frozen so rounds are comparable), and every lossy
round is compared value for value with a loss-free round of the same agent.

At 20 % loss each way a request and its reply both get through with 0.64,
so a request fails all three attempts (``retries: 2``) with 0.36**3 = 4.7 %;
one Cisco poll of about 400 requests (100 rows per GETBULK) then fails
with 1 - 0.953**400 > 99.99 % unless a failed request may be sent again
while the target is alive (the retry budget of ``wifimon.snmp.pdus``).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.agents import CACHE_DIR, decompressed_recording
from tests.support.faulty_agents import AGENTS_DIR
from tests.support.netns import Namespace, namespace_exists, network_namespace
from wifimon.snmp.pdus import UNPROVEN_SILENT_ROUNDS

pytestmark = pytest.mark.e2e

HOST = "127.0.0.1"
SMALL_COMMUNITY = "healthy-under-loss"
# Ports inside the namespace (nothing else listens there): one per fault.
CISCO_CLEAN, CISCO_LOSSY = 16161, 16162
SMALL_CLEAN, SMALL_LOSSY, SMALL_HALF, SMALL_HOLE = 16171, 16172, 16173, 16174
ATTEMPTS = 3  # retries: 2, as poll.retries defaults

Round = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class LossyNet:
    namespace: Namespace
    cisco_community: str
    workdir: Path


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LossyNet]:
    workdir = tmp_path_factory.mktemp("packet-loss")
    cisco = decompressed_recording("network/appliance/cisco-controller")
    small_data = workdir / "small-data"
    small_data.mkdir()
    shutil.copyfile(AGENTS_DIR / "healthy.snmprec", small_data / f"{SMALL_COMMUNITY}.snmprec")
    with ExitStack() as stack:
        namespace = stack.enter_context(network_namespace())
        cisco_dir = workdir / "cisco"
        small_dir = workdir / "small"
        cisco_dir.mkdir()
        small_dir.mkdir()
        stack.enter_context(
            namespace.snmpsim(
                cisco.data_dir,
                cisco_dir,
                cisco.community,
                [CISCO_CLEAN, CISCO_LOSSY],
                CACHE_DIR / "index",
            )
        )
        stack.enter_context(
            namespace.snmpsim(
                small_data,
                small_dir,
                SMALL_COMMUNITY,
                [SMALL_CLEAN, SMALL_LOSSY, SMALL_HALF, SMALL_HOLE],
                small_dir / "index",
            )
        )
        yield LossyNet(namespace, cisco.community, workdir)


def target(name: str, port: int, community: str, settings: Mapping[str, float]) -> dict[str, Any]:
    """A target of the poll spec; ``settings`` has timeout, budget and
    optionally repetitions (rows per GETBULK, default 25)."""
    return {
        "name": name,
        "host": HOST,
        "port": port,
        "community": community,
        "timeout": settings["timeout"],
        "retries": ATTEMPTS - 1,
        "budget": settings["budget"],
        "max_repetitions": int(settings.get("repetitions", 25)),
    }


def poll_rounds(net: LossyNet, rounds: int, *targets: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``tests.support.poll_rounds`` inside the namespace; its parsed output."""
    spec = net.workdir / f"spec-{targets[0]['name']}-{rounds}.json"
    spec.write_text(json.dumps({"rounds": rounds, "targets": list(targets)}))
    result = net.namespace.run(
        [sys.executable, "-m", "tests.support.poll_rounds", str(spec)], timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output: dict[str, Any] = json.loads(result.stdout)
    return output


def renamed(values: list[list[Any]], old: str, new: str) -> list[list[Any]]:
    """``values`` of target ``old`` as target ``new`` would export them."""
    return [
        [metric, [new if label == old else label for label in labels], value]
        for metric, labels, value in values
    ]


def assert_up_and_exact(
    output: dict[str, Any], names: list[str], expected: list[list[Any]], reference_name: str
) -> None:
    """Every poll up and exact, except as the design allows in the first
    round: a target never polled before is presumed alive only for
    UNPROVEN_SILENT_ROUNDS silent rounds (so dead APs at start-up are
    reported quickly). At 20 % loss each way its first request fails them
    all with (0.36**3)**2 = 0.22 %, so at most one target may be down in the
    first round, with one timeout; it must be up and exact from then on."""
    spared = [
        name
        for name in names
        if output["rounds"][0][name]["up"] == 0
        and output["rounds"][0][name]["errors"] == {"timeout": 1}
    ]
    assert len(spared) <= 1, spared
    for number, polled in enumerate(output["rounds"]):
        for name in names:
            if number == 0 and name in spared:
                continue
            assert polled[name]["up"] == 1, (number, name, polled[name]["errors"])
            # errors are counters: the spared target's first timeout stays
            assert polled[name]["errors"] == ({"timeout": 1} if name in spared else {})
            values = renamed(polled[name]["values"], name, reference_name)
            assert values == expected, (number, name)


def test_20_percent_loss_each_way_never_downs_the_cisco_controller(net: LossyNet) -> None:
    """The 226-AP controller polled 3 rounds through 20 % loss each way: about
    400 requests a poll (100 rows per GETBULK), every poll up and exact."""
    common = {"timeout": 0.3, "budget": 60.0, "repetitions": 100}
    (reference,) = poll_rounds(
        net, 1, target("wlc-5508", CISCO_CLEAN, net.cisco_community, common)
    )["rounds"]
    expected = reference["wlc-5508"]["values"]
    assert len(expected) > 7000
    net.namespace.drop_udp(CISCO_LOSSY, percent=20)
    output = poll_rounds(net, 3, target("wlc-5508", CISCO_LOSSY, net.cisco_community, common))
    assert_up_and_exact(output, ["wlc-5508"], expected, "wlc-5508")
    dropped = net.namespace.dropped(CISCO_LOSSY)
    stats = output["stats"]
    # The loss was real, and every lost datagram was made good by a resend.
    assert dropped > 100
    assert stats["retries"] > 0
    print(f"\n20% loss, Cisco 5508: 3 polls, {stats}, {dropped} datagrams dropped")


def test_20_percent_loss_each_way_over_60_polls_never_downs_a_target(net: LossyNet) -> None:
    """6 controllers (the small one, 2 rows per GETBULK: 111 requests a poll)
    polled 10 rounds through 20 % loss each way: every poll up and exact."""
    common = {"timeout": 0.3, "budget": 60.0, "repetitions": 2}
    (reference,) = poll_rounds(net, 1, target("wlc-0", SMALL_CLEAN, SMALL_COMMUNITY, common))[
        "rounds"
    ]
    net.namespace.drop_udp(SMALL_LOSSY, percent=20)
    names = [f"wlc-{number}" for number in range(6)]
    output = poll_rounds(
        net, 10, *(target(name, SMALL_LOSSY, SMALL_COMMUNITY, common) for name in names)
    )
    assert_up_and_exact(output, names, reference["wlc-0"]["values"], "wlc-0")
    dropped = net.namespace.dropped(SMALL_LOSSY)
    assert dropped > 1000
    print(f"\n20% loss, 6 x 10 polls: {output['stats']}, {dropped} datagrams dropped")


def test_50_percent_loss_each_way_gives_exact_values_or_an_honest_timeout(
    net: LossyNet,
) -> None:
    """At 50 % each way (75 % of attempts lost) a poll may run out of budget:
    then the target is down with reason timeout, its APs are kept at down
    and no value differs from what the agent serves; never a wrong value."""
    common = {"timeout": 0.1, "budget": 4.0}
    (reference,) = poll_rounds(net, 1, target("wlc-0", SMALL_CLEAN, SMALL_COMMUNITY, common))[
        "rounds"
    ]
    expected = {
        (metric, tuple(labels)): value for metric, labels, value in reference["wlc-0"]["values"]
    }
    net.namespace.drop_udp(SMALL_HALF, percent=50)
    names = [f"wlc-{number}" for number in range(3)]
    output = poll_rounds(
        net, 8, *(target(name, SMALL_HALF, SMALL_COMMUNITY, common) for name in names)
    )
    outcomes = {"exact": 0, "timeout": 0}
    for polled in output["rounds"]:
        for name in names:
            values = renamed(polled[name]["values"], name, "wlc-0")
            if polled[name]["up"] == 1:
                assert values == reference["wlc-0"]["values"]
                outcomes["exact"] += 1
                continue
            assert set(polled[name]["errors"]) == {"timeout"}
            outcomes["timeout"] += 1
            for metric, labels, value in values:
                if metric == "wifimon_ap_up":
                    assert value == 0
                elif metric != "wifimon_controller_aps":
                    assert expected.get((metric, tuple(labels)), value) == value, metric
    assert sum(outcomes.values()) == 24
    print(f"\n50% loss: {outcomes} over 24 polls, {output['stats']}")


def test_a_black_holed_agent_costs_only_its_own_attempts(net: LossyNet) -> None:
    """Everything to one port dropped: that target is down (timeout) after
    the unproven rounds of a never-polled target in its first poll and one
    round in each later one (it is known down then); its neighbour stays
    exact."""
    # A budget above the silent rounds (6 x 3 x 0.2 s), so they, not the
    # budget, end the first poll.
    common = {"timeout": 0.2, "budget": 10.0}
    (reference,) = poll_rounds(net, 1, target("healthy", SMALL_CLEAN, SMALL_COMMUNITY, common))[
        "rounds"
    ]
    net.namespace.drop_udp(SMALL_HOLE, percent=100)
    rounds = 3
    output = poll_rounds(
        net,
        rounds,
        target("healthy", SMALL_CLEAN, SMALL_COMMUNITY, common),
        target("hole", SMALL_HOLE, SMALL_COMMUNITY, common),
    )
    for number, polled in enumerate(output["rounds"], start=1):
        assert polled["healthy"]["up"] == 1
        assert polled["healthy"]["values"] == reference["healthy"]["values"]
        assert polled["hole"]["up"] == 0
        assert polled["hole"]["errors"] == {"timeout": number}
    assert net.namespace.dropped(SMALL_HOLE) == (UNPROVEN_SILENT_ROUNDS + rounds - 1) * ATTEMPTS


def test_a_namespace_is_deleted_even_when_the_block_fails() -> None:
    names: list[str] = []

    def fail_inside() -> None:
        with network_namespace() as namespace:
            names.append(namespace.name)
            assert namespace_exists(namespace.name)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()
    assert not namespace_exists(names[0])
