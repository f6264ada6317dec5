"""`wifimon demo` end to end: the living city against the simulator's ground truth.

One demo runs for the whole module, as a real child process
(``python -m wifimon.demo``): snmpsim serving a 60-AP Mulhouse on
127.0.0.1, ``wifimon run`` polling it every 2 s, the simulated clock at 30x.
Its start is chosen from the model so that, within about 40 s, the flaky AP
reboots and a Cisco AP's 32-bit uplink counter wraps. The test reads
``/metrics`` right after each poll, then stops the demo with SIGTERM and
checks what it left behind. Every expectation comes from
``wifimon.simulator.truth``: exact AP states, and per district the least
and most clients any read inside the poll's window can show.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.daemon import Scrape
from tests.support.prometheus import free_tcp_port
from wifimon.simulator import truth
from wifimon.simulator.agents import read_settings
from wifimon.simulator.city import CISCO, AccessPoint, City, build_city
from wifimon.simulator.load import BASELINE_BYTES_S, BYTES_PER_CLIENT_S, Clock, next_reboot
from wifimon.simulator.quantities import uplink_bytes

pytestmark = pytest.mark.e2e

APS, SEED, SPEED, INTERVAL = 60, 7, 30.0, 2.0
REFERENCE = 1_709_712_000.0  # Wednesday 2024-03-06 09:00 CET: a busy weekday morning
LEAD_S = 400.0  # simulated seconds from the start to the flaky AP's reboot
WINDOW_S = 1200.0  # simulated seconds watched (40 s of wall time at 30x)
READ_WINDOW_WALL_S = 3.0  # a poll read each AP at most this long before our scrape
_GENERATION = re.compile(r"\bgeneration=(\d+)\b.*\brendered_generation=(\d+)\b")


@dataclass(frozen=True)
class Poll:
    """One scrape, taken right after a new poll was published."""

    generation: int
    wall: float
    scrape: Scrape


@dataclass
class DemoRun:
    city: City
    clock: Clock
    origin: float
    reboot: float
    wrapping: AccessPoint
    wrap: float
    polls: list[Poll]
    exit_code: int
    output: str
    pids: dict[str, int]
    work: Path

    def window(self, poll: Poll) -> tuple[float, float]:
        """Simulated times within which that poll read every AP."""
        return self.clock.at(poll.wall - READ_WINDOW_WALL_S), self.clock.at(poll.wall)


def choose_start(city: City) -> tuple[float, float, AccessPoint, float]:
    """(start, reboot, wrapping AP, wrap time): the first daytime reboot of
    the flaky AP after REFERENCE with a Cisco uplink wrap in the window."""
    flaky = city.ap(city.rebooting_ap)
    candidates = [ap for ap in city.aps if ap.vendor == CISCO and not ap.dead and ap != flaky]
    reboot = next_reboot(flaky, REFERENCE)
    for _ in range(200):  # bounded: 200 reboots are 25 simulated days
        origin = reboot - LEAD_S
        for ap in candidates:
            wrap = truth.next_wrap(city, ap, origin + 150, origin + WINDOW_S - 250)
            if wrap is not None:
                return origin, reboot, ap, wrap
        reboot += flaky.reboot_period_s
    raise AssertionError("no window with both a reboot and a wrap: the model changed?")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        body: bytes = response.read()
        return body.decode()


def _generation(base: str) -> int | None:
    try:
        match = _GENERATION.search(_get(f"{base}/healthz"))
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    return min(int(match.group(1)), int(match.group(2))) if match else None


def _watch(base: str, clock: Clock, until_sim: float, demo: subprocess.Popen[bytes]) -> list[Poll]:
    polls: list[Poll] = []
    deadline = time.monotonic() + 120  # a generous bound; normally ~45 s
    seen = 0
    while time.monotonic() < deadline and clock.at(time.time()) < until_sim:
        assert demo.poll() is None, "the demo exited early"
        generation = _generation(base)
        if generation is not None and generation > seen:
            seen = generation
            scrape = Scrape(_get(f"{base}/metrics"))
            polls.append(Poll(generation, time.time(), scrape))
        time.sleep(0.1)
    return polls


def _stop(demo: subprocess.Popen[bytes]) -> int:
    os.kill(demo.pid, signal.SIGTERM)
    try:
        return demo.wait(60)
    except subprocess.TimeoutExpired:
        os.kill(demo.pid, signal.SIGKILL)
        demo.wait(10)
        raise AssertionError("the demo ignored SIGTERM") from None


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    city = build_city(APS, SEED)
    origin, reboot, wrapping, wrap = choose_start(city)
    work = tmp_path_factory.mktemp("demo")
    port = free_tcp_port()
    argv = [
        sys.executable, "-m", "wifimon.demo", "--aps", str(APS), "--seed", str(SEED),
        "--speed", str(SPEED), "--start", str(origin), "--interval", str(INTERVAL),
        "--refresh", "1", "--listen", f"127.0.0.1:{port}", "--work-dir", str(work / "city"),
    ]  # fmt: skip
    log = work / "demo.out"
    with log.open("wb") as output:
        demo = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
    try:
        settings = work / "city" / "city.json"
        for _ in range(300):  # the demo writes it before starting anything
            if settings.exists() and (work / "city" / "processes.json").exists():
                break
            time.sleep(0.1)
        _, clock = read_settings(settings)
        polls = _watch(f"http://127.0.0.1:{port}", clock, origin + WINDOW_S, demo)
        code = _stop(demo)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    pids = json.loads((work / "city" / "processes.json").read_text())
    output_text = log.read_text(errors="replace")
    return DemoRun(
        city, clock, origin, reboot, wrapping, wrap, polls, code, output_text, pids, work
    )


def _up(poll: Poll, ap: str) -> float | None:
    return poll.scrape.optional("wifimon_ap_up", ap=ap)


def test_the_city_comes_up_and_is_polled_throughout(run: DemoRun) -> None:
    assert len(run.polls) >= 12, run.output[-3000:]
    last = run.polls[-1].scrape
    assert len(last.series("wifimon_ap_up")) == APS
    assert "metrics: http://127.0.0.1:" in run.output
    controllers = {c.name for c in run.city.controllers}
    for name in controllers:
        assert last.value("wifimon_target_up", target=name) == 1


def test_ap_states_match_the_ground_truth_exactly(run: DemoRun) -> None:
    checked = 0
    for poll in run.polls[1:]:  # the first poll may be from before the clock settled
        start, end = run.window(poll)
        possible = truth.up_states(run.city, start, end)
        for ap in run.city.aps:
            exported = _up(poll, ap.ap)
            assert exported is not None, ap.ap
            assert bool(exported) in possible[ap.ap], (ap.ap, poll.generation)
            checked += len(possible[ap.ap]) == 1
    assert checked > APS * 10  # nearly every comparison was of a single exact state


def test_dead_aps_are_reported_down(run: DemoRun) -> None:
    dead = [ap for ap in run.city.aps if ap.dead]
    assert {ap.vendor for ap in dead} == {"cisco-aireos", "aruba-controller", "generic"}
    for poll in run.polls:
        for ap in dead:
            assert _up(poll, ap.ap) == 0, ap.ap


def test_clients_per_district_within_the_simulation_bounds(run: DemoRun) -> None:
    for poll in run.polls[1:]:
        start, end = run.window(poll)
        bounds = truth.client_bounds(run.city, start, end)
        for district, (low, high) in bounds.items():
            exported = sum(
                s.value for s in poll.scrape.series("wifimon_ap_clients", district=district)
            )
            assert low <= exported <= high, (district, poll.generation, low, exported, high)
    assert sum(high for _, high in bounds.values()) > 100  # a busy morning, not an empty city


def _increase(before: float, after: float) -> float:
    return after - before if after >= before else after  # a reset counts its new value


def peak_rate(ap: AccessPoint) -> float:
    """Bytes per simulated second an AP can carry at most (load <= 1.2)."""
    return 1.2 * BYTES_PER_CLIENT_S * ap.capacity * ap.factor * 1.05 + BASELINE_BYTES_S


def test_no_traffic_spike_anywhere_even_across_reboots(run: DemoRun) -> None:
    for previous, poll in itertools.pairwise(run.polls[1:]):
        elapsed = (poll.wall - previous.wall + READ_WINDOW_WALL_S) * SPEED
        for ap in run.city.aps:
            for name in ("wifimon_ap_receive_bytes_total", "wifimon_ap_transmit_bytes_total"):
                before = previous.scrape.optional(name, ap=ap.ap)
                after = poll.scrape.optional(name, ap=ap.ap)
                if before is None or after is None:
                    continue
                assert 0 <= _increase(before, after) <= peak_rate(ap) * elapsed, (ap.ap, name)


def test_the_flaky_ap_reboots_with_an_uptime_reset_and_no_spike(run: DemoRun) -> None:
    flaky = run.city.ap(run.city.rebooting_ap)
    states = [_up(poll, flaky.ap) for poll in run.polls]
    assert 0 in states, "the reboot's downtime was never seen"
    uptimes = [poll.scrape.value("wifimon_ap_uptime_seconds", ap=flaky.ap) for poll in run.polls]
    resets = [i for i in range(1, len(uptimes)) if uptimes[i] < uptimes[i - 1]]
    assert len(resets) == 1, uptimes
    first_after = run.polls[resets[0]]
    assert 0 <= uptimes[resets[0]] <= run.clock.at(first_after.wall) - run.reboot + 1
    name = "wifimon_ap_receive_bytes_total"
    before = run.polls[resets[0] - 1].scrape.value(name, ap=flaky.ap)
    # While it boots it counts nothing and its controller shows no counters...
    later = run.polls[resets[0] :]
    counted = [poll for poll in later if poll.scrape.optional(name, ap=flaky.ap) is not None]
    assert counted, "it never counted again"
    assert counted[0] is not first_after
    # ...then its counter restarts (Prometheus sees a reset) from a small value.
    poll = counted[0]
    restarted = poll.scrape.value(name, ap=flaky.ap)
    assert restarted < before
    counting_from = run.reboot + flaky.reboot_downtime_s
    assert restarted <= peak_rate(flaky) * (run.clock.at(poll.wall) - counting_from + 1)
    for series in poll.scrape.series("wifimon_radio_transmit_bytes_total", ap=flaky.ap):
        assert series.value <= peak_rate(flaky) * (run.clock.at(poll.wall) - counting_from + 1)


def test_the_32_bit_wrap_produces_no_reset(run: DemoRun) -> None:
    ap = run.wrapping
    name = "wifimon_ap_receive_bytes_total"
    values = [(poll, poll.scrape.value(name, ap=ap.ap)) for poll in run.polls]
    assert all(b >= a for (_, a), (_, b) in itertools.pairwise(values)), values
    around = [(p, v) for p, v in values if run.clock.at(p.wall - READ_WINDOW_WALL_S) > run.wrap]
    before = [(p, v) for p, v in values if run.clock.at(p.wall) < run.wrap]
    assert before, "no poll before the wrap"
    assert around, "no poll after the wrap"
    (first_poll, first), (last_poll, last) = before[-1], around[0]
    # The device's own counter went down (it wrapped) between those polls...
    raw = [
        uplink_bytes(truth.state_at(run.city, ap, run.clock.at(p.wall)), receive=True) % 2**32
        for p in (first_poll, last_poll)
    ]
    assert raw[1] < raw[0]
    # ...and the export grew by the unwrapped traffic of that interval.
    low = truth.uplink_received(run.city, ap, run.window(last_poll)[0]) - truth.uplink_received(
        run.city, ap, run.clock.at(first_poll.wall)
    )
    high = truth.uplink_received(run.city, ap, run.clock.at(last_poll.wall)) - (
        truth.uplink_received(run.city, ap, run.window(first_poll)[0])
    )
    assert low <= last - first <= high


def test_the_demo_stops_cleanly_and_leaves_nothing(run: DemoRun) -> None:
    assert run.exit_code == 0, run.output[-3000:]
    assert set(run.pids) == {"snmpsim", "wifimon"}
    for name, pid in run.pids.items():
        assert not Path(f"/proc/{pid}").exists(), f"{name} (pid {pid}) is still running"
    marker = str(run.work / "city")
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            assert marker not in command, f"left behind: {command}"
