"""Values that live: every quantity of an AP as a pure function of (seed, AP, time).

Load follows the local clock: each site kind has a weekly rhythm (commuter
peaks at the station, midday and evening in the centre, weekend tourists at
museums and the zoo, office hours on the campuses, evenings at home), scaled
per day by a 28-day "weather" cycle drawn from the seed. Between hourly
knots the load is linear, so its integral (the traffic counters) has a
closed form: any counter at any moment costs O(1), with no state, in
snmpsim's process, in the history writer and in the tests alike.

Time is simulated Unix time in seconds; ``Clock`` maps wall time onto it
(``--speed``). The model keeps Central European winter time all year
(UTC+1, no daylight saving): one hour off the real clock in summer, but
the weekly rhythm stays a clean periodic function.

Stdlib only: snmpsim's interpreter imports this module.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

from wifimon.simulator.city import AccessPoint, stable_unit

HOUR, DAY = 3600, 86400
CYCLE_DAYS = 28
CYCLE = CYCLE_DAYS * DAY
EPOCH = 1_704_063_600  # Monday 2024-01-01 00:00 CET: day 0 of every 28-day cycle

BYTES_PER_CLIENT_S = 40_000  # mean downstream per client at full load: 320 kbit/s
UPSTREAM_SHARE = 0.18  # clients send about a fifth of what they receive
BASELINE_BYTES_S = 2_000  # beacons, management and keep-alives: counters never stall
BAND_SHARE = (0.3, 0.7)  # clients and traffic on 2.4 GHz and 5 GHz radios
UPLINK_OVERHEAD = (1.03, 1.05)  # wired bytes per wireless byte (rx, tx): CAPWAP, ARP...
JITTER_CLIENTS = 1.0  # clients jump by up to this + 8% of the expected count each minute

# fmt: off
# Load per hour of day, percent of an AP's full load: (weekday, Saturday, Sunday).
PROFILES: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = {
    "station": (
        (4, 2, 2, 2, 5, 20, 60, 100, 95, 55, 40, 42, 50, 45, 40, 48, 75, 98, 90, 55, 35, 25, 15, 8),
        (8, 4, 3, 2, 3, 8, 18, 30, 40, 48, 55, 58, 60, 58, 55, 55, 58, 60, 55, 45, 35, 28, 20, 12),
        (8, 4, 3, 2, 2, 5, 10, 18, 25, 32, 40, 45, 48, 48, 48, 50, 55, 58, 55, 45, 35, 25, 15, 10),
    ),
    "square": (
        (6, 3, 2, 1, 1, 2, 6, 15, 25, 35, 45, 70, 85, 70, 50, 48, 55, 70, 85, 80, 70, 50, 28, 12),
        (15, 8, 4, 2, 1, 2, 5, 10, 25, 45, 70, 85, 90, 88, 90, 95, 95, 90, 85, 80, 70, 55, 40, 25),
        (18, 10, 5, 2, 1, 1, 3, 6, 12, 25, 45, 60, 65, 65, 70, 75, 75, 70, 60, 50, 40, 28, 18, 10),
    ),
    "market": (
        (2, 1, 1, 1, 1, 3, 15, 45, 70, 80, 85, 75, 50, 25, 12, 10, 10, 8, 5, 3, 2, 2, 2, 2),
        (2, 1, 1, 1, 1, 5, 25, 65, 90, 100, 100, 90, 60, 30, 15, 10, 8, 6, 4, 3, 2, 2, 2, 2),
        (2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2),
    ),
    "museum": (
        (1, 1, 1, 1, 1, 1, 1, 2, 5, 25, 45, 55, 50, 50, 55, 55, 50, 40, 15, 5, 3, 2, 1, 1),
        (1, 1, 1, 1, 1, 1, 1, 2, 8, 45, 80, 90, 85, 90, 100, 100, 95, 75, 30, 8, 4, 2, 1, 1),
        (1, 1, 1, 1, 1, 1, 1, 2, 8, 50, 85, 95, 90, 95, 100, 100, 95, 70, 25, 6, 3, 2, 1, 1),
    ),
    "campus": (
        (2, 1, 1, 1, 1, 2, 5, 25, 70, 95, 100, 90, 70, 90, 100, 95, 85, 60, 30, 15, 10, 6, 4, 3),
        (2, 1, 1, 1, 1, 1, 2, 4, 8, 12, 15, 15, 12, 12, 12, 10, 8, 6, 5, 4, 3, 3, 2, 2),
        (2, 1, 1, 1, 1, 1, 1, 2, 4, 6, 8, 8, 8, 8, 8, 6, 5, 4, 4, 3, 3, 2, 2, 2),
    ),
    "zoo": (
        (1, 1, 1, 1, 1, 1, 1, 2, 5, 30, 50, 55, 50, 55, 60, 55, 40, 20, 5, 2, 1, 1, 1, 1),
        (1, 1, 1, 1, 1, 1, 1, 3, 10, 55, 90, 100, 95, 100, 100, 95, 75, 40, 10, 3, 1, 1, 1, 1),
        (1, 1, 1, 1, 1, 1, 1, 3, 10, 60, 95, 100, 95, 100, 100, 95, 75, 40, 10, 3, 1, 1, 1, 1),
    ),
    "park": (
        (3, 2, 1, 1, 1, 2, 5, 10, 15, 20, 25, 35, 45, 40, 40, 50, 65, 75, 70, 55, 35, 20, 10, 5),
        (5, 3, 2, 1, 1, 2, 4, 8, 20, 40, 60, 75, 80, 85, 95, 100, 95, 85, 70, 50, 30, 18, 10, 6),
        (5, 3, 2, 1, 1, 2, 4, 8, 22, 45, 65, 80, 80, 85, 95, 100, 95, 80, 65, 45, 28, 15, 8, 5),
    ),
    "library": (
        (1, 1, 1, 1, 1, 1, 1, 1, 2, 40, 50, 55, 45, 50, 60, 65, 70, 60, 30, 5, 2, 1, 1, 1),
        (1, 1, 1, 1, 1, 1, 1, 1, 3, 55, 75, 80, 70, 70, 80, 85, 80, 50, 10, 3, 1, 1, 1, 1),
        (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    ),
    "residential": (
        (15, 8, 5, 4, 4, 6, 20, 35, 25, 18, 18, 22, 30, 25, 20, 22, 35, 55, 75, 90, 100, 90, 60, 30),  # noqa: E501 - one row of the table
        (25, 15, 8, 5, 4, 5, 10, 25, 45, 60, 65, 70, 70, 65, 60, 60, 65, 70, 80, 90, 95, 85, 60, 40),  # noqa: E501 - one row of the table
        (30, 18, 10, 6, 4, 4, 8, 20, 40, 55, 65, 70, 75, 70, 65, 65, 70, 75, 85, 95, 95, 80, 55, 30),  # noqa: E501 - one row of the table
    ),
}
# fmt: on


@dataclass(frozen=True, slots=True)
class Clock:
    """Simulated time: ``origin`` (Unix s) at wall time ``wall_start``,
    advancing ``speed`` simulated seconds per wall second, e.g.
    ``Clock(1_709_730_000.0, time.time(), 60.0)``."""

    origin: float
    wall_start: float
    speed: float = 1.0

    def now(self) -> float:
        """Simulated Unix time now, whole seconds (every agent answers
        the same value for a whole simulated second)."""
        return float(math.floor(self.at(time.time())))

    def at(self, wall: float) -> float:
        return self.origin + (wall - self.wall_start) * self.speed

    def wall(self, simulated: float) -> float:
        """Wall time at which the simulation reaches ``simulated``."""
        return self.wall_start + (simulated - self.origin) / self.speed


def _weekday_profile(kind: str, weekday: int) -> tuple[int, ...]:
    weekdays, saturday, sunday = PROFILES[kind]
    return (weekdays, weekdays, weekdays, weekdays, weekdays, saturday, sunday)[weekday]


def day_factor(seed: int, day: int) -> float:
    """The city's mood on day ``day`` (0..27) of the cycle: weather, events
    (0.8..1.2)."""
    return 0.8 + 0.4 * stable_unit(seed, "day", day)


@dataclass(frozen=True, slots=True)
class _Table:
    """Knots of one kind's load over a 28-day cycle, and their integrals."""

    left: tuple[float, ...]  # load at the start of each hour of the cycle (0..1)
    right: tuple[float, ...]  # load at its end (same day's factor)
    prefix: tuple[float, ...]  # integral from the cycle start to each hour (load x s)
    total: float


@lru_cache(maxsize=64)
def _table(seed: int, kind: str) -> _Table:
    left, right, prefix = [], [], [0.0]
    for day in range(CYCLE_DAYS):
        factor = day_factor(seed, day)
        today = _weekday_profile(kind, day % 7)
        tomorrow = _weekday_profile(kind, (day + 1) % 7)
        for hour in range(24):
            end = today[hour + 1] if hour < 23 else tomorrow[0]
            left.append(today[hour] / 100 * factor)
            right.append(end / 100 * factor)
            prefix.append(prefix[-1] + (left[-1] + right[-1]) / 2 * HOUR)
    return _Table(tuple(left), tuple(right), tuple(prefix[:-1]), prefix[-1])


def _position(ap: AccessPoint, t: float) -> tuple[float, int, float]:
    """(cycles, hour of the cycle, seconds into that hour) of ``t`` in the AP's rhythm."""
    local = t - EPOCH - ap.shift_s
    cycles = math.floor(local / CYCLE)
    offset = local - cycles * CYCLE
    hour = min(int(offset // HOUR), CYCLE_DAYS * 24 - 1)
    return cycles, hour, offset - hour * HOUR


def relative_load(seed: int, ap: AccessPoint, t: float) -> float:
    """The AP site's load at ``t`` before the AP's own factor, 0..1.2."""
    table = _table(seed, ap.kind)
    _, hour, into = _position(ap, t)
    left, right = table.left[hour], table.right[hour]
    return left + (right - left) * into / HOUR


def load_integral(seed: int, ap: AccessPoint, t: float) -> float:
    """Integral of ``relative_load`` from the epoch to ``t`` (load x seconds)."""
    table = _table(seed, ap.kind)
    cycles, hour, into = _position(ap, t)
    left, right = table.left[hour], table.right[hour]
    partial = left * into + (right - left) * into * into / (2 * HOUR)
    return cycles * table.total + table.prefix[hour] + partial


# --- reboots -------------------------------------------------------------


def last_reboot(ap: AccessPoint, t: float) -> float:
    """Start of the AP's last scheduled reboot at or before ``t``."""
    k = math.floor((t - ap.reboot_phase_s) / ap.reboot_period_s)
    return ap.reboot_phase_s + k * ap.reboot_period_s


def next_reboot(ap: AccessPoint, after: float) -> float:
    """Start of the AP's first scheduled reboot after ``after``."""
    return last_reboot(ap, after) + ap.reboot_period_s


# --- the state of an AP at a moment ---------------------------------------


@dataclass(frozen=True, slots=True)
class ApState:
    """One AP at one moment, in the device's own terms.

    ``up``: operational (joined its controller; False while it reboots);
    ``counting``: its radios serve clients and count traffic (False while it
    reboots: agents then hide those values); ``uptime_s`` since its last
    reboot, e.g. ``86_400.0``; ``clients`` associated now;
    ``down_bytes``/``up_bytes`` wireless bytes to/from clients since it
    started counting after that reboot; ``load`` its current load, 0..1.5.
    """

    up: bool
    counting: bool
    uptime_s: float
    clients: int
    down_bytes: float
    up_bytes: float
    load: float


DEAD = ApState(False, False, 0.0, 0, 0.0, 0.0, 0.0)


def expected_clients(seed: int, ap: AccessPoint, t: float) -> float:
    """Mean clients the AP's site draws at ``t`` (before the minute's jitter)."""
    return ap.capacity * ap.factor * relative_load(seed, ap, t)


def clients_at(seed: int, ap: AccessPoint, t: float) -> int:
    """Associated clients at ``t`` when up: the expectation plus a jitter
    that changes every simulated minute."""
    expected = expected_clients(seed, ap, t)
    swing = (2 * stable_unit(seed, ap.ap, "clients", math.floor(t / 60)) - 1) * (
        JITTER_CLIENTS + 0.08 * expected
    )
    return max(0, round(expected + swing))


def _bytes_between(seed: int, ap: AccessPoint, start: float, end: float) -> float:
    """Downstream bytes the AP carried in [start, end]."""
    per_load = BYTES_PER_CLIENT_S * ap.capacity * ap.factor
    loaded = load_integral(seed, ap, end) - load_integral(seed, ap, start)
    return per_load * loaded + BASELINE_BYTES_S * (end - start)


def state(seed: int, ap: AccessPoint, t: float) -> ApState:
    """The AP at simulated time ``t`` (pass whole seconds, as agents do)."""
    if ap.dead:
        return DEAD
    reboot = last_reboot(ap, t)
    counting_from = reboot + ap.reboot_downtime_s
    if t < counting_from:  # rebooting: booted at `reboot`, not serving yet
        return ApState(False, False, t - reboot, 0, 0.0, 0.0, 0.0)
    down = _bytes_between(seed, ap, counting_from, t)
    clients = clients_at(seed, ap, t)
    load = clients / ap.capacity
    return ApState(True, True, t - reboot, clients, down, down * UPSTREAM_SHARE, load)


def controller_uptime_s(boot_phase_s: float, t: float) -> float:
    """A controller reboots for upgrades every 180 days."""
    period = 180 * DAY
    return (t - boot_phase_s) % period
