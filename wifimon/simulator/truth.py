"""Ground truth at a moment: what the simulated agents answer, and so what
the daemon must export, computed straight from the model.

For tests and the live view. Exact for any whole simulated second; a
daemon reads each AP at some instant of its poll round, so comparisons
over a poll use ``client_bounds`` (the least and most each AP reported in
a window) rather than a guessed tolerance.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from wifimon.simulator.city import CISCO, GENERIC, AccessPoint, City
from wifimon.simulator.load import ApState, last_reboot, state
from wifimon.simulator.quantities import uplink_bytes

COUNTER32 = 2**32


@dataclass(frozen=True, slots=True)
class ApTruth:
    """What the daemon must report for one AP at one moment.

    ``up`` is ``wifimon_ap_up``; ``clients`` is ``wifimon_ap_clients`` or
    None where the AP's agent reports no client count (stand-alone APs,
    dead APs); ``uptime_s`` the device's uptime, e.g. ``3600.0``.
    """

    ap: str
    district: str
    up: bool
    clients: int | None
    uptime_s: float | None


def reports_clients(ap: AccessPoint) -> bool:
    """Controllers count clients; the standard MIBs a stand-alone AP
    answers have no client count; a dead AP has no rows to count."""
    return ap.vendor != GENERIC and not ap.dead


def reported_up(ap: AccessPoint, st: ApState) -> bool:
    """``wifimon_ap_up``: joined, for a controller's AP; answering, for a
    stand-alone one (its agent answers while the AP reboots)."""
    return st.up if ap.controller else not ap.dead


def ap_truth(city: City, ap: AccessPoint, t: float) -> ApTruth:
    st = state(city.seed, ap, math.floor(t))
    clients = st.clients if reports_clients(ap) and st.counting else None
    uptime = None if ap.dead else st.uptime_s
    return ApTruth(ap.ap, ap.district, reported_up(ap, st), clients, uptime)


def city_truth(city: City, t: float) -> dict[str, ApTruth]:
    """Every AP at simulated time ``t``, by AP id."""
    return {ap.ap: ap_truth(city, ap, t) for ap in city.aps}


def district_clients(city: City, t: float) -> dict[str, int]:
    """Clients the daemon can see per district at ``t`` (reporting APs only)."""
    totals: dict[str, int] = defaultdict(int)
    for truth in city_truth(city, t).values():
        totals[truth.district] += truth.clients or 0
    return dict(totals)


def _instants(ap: AccessPoint, start: float, end: float) -> Iterable[int]:
    """Whole seconds in [start, end] where an AP's client count can reach an
    extreme: the ends, both sides of each minute (the jitter changes) and
    of each reboot edge. Between them the count is a rounded linear function."""
    first, last = math.ceil(start), math.floor(end)
    points = {first, last}
    for minute in range(math.ceil(first / 60) * 60, last + 1, 60):
        points.update((minute - 1, minute))
    reboot = last_reboot(ap, last)
    for edge in (reboot, reboot + ap.reboot_downtime_s):
        if first <= edge <= last:
            points.update((math.floor(edge) - 1, math.floor(edge), math.ceil(edge)))
    return sorted(p for p in points if first <= p <= last)


def client_bounds(city: City, start: float, end: float) -> dict[str, tuple[int, int]]:
    """Per district, the least and most clients a poll anywhere in
    [start, end] can report: the sums of each reporting AP's extremes."""
    bounds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ap in city.aps:
        if not reports_clients(ap):
            continue
        counts = [state(city.seed, ap, t).clients for t in _instants(ap, start, end)]
        bounds[ap.district][0] += min(counts)
        bounds[ap.district][1] += max(counts)
    return {district: (low, high) for district, (low, high) in bounds.items()}


def up_states(city: City, start: float, end: float) -> dict[str, set[bool]]:
    """Per AP, the states it is in at some moment of [start, end] (two
    states only for an AP that reboots inside the window)."""
    found: dict[str, set[bool]] = {}
    for ap in city.aps:
        found[ap.ap] = {reported_up(ap, state(city.seed, ap, t)) for t in _instants(ap, start, end)}
    return found


def uplink_wraps(city: City, ap: AccessPoint, t: float) -> int:
    """How many times the AP's 32-bit uplink receive counter has wrapped
    since its last boot."""
    return uplink_received(city, ap, t) // COUNTER32


def state_at(city: City, ap: AccessPoint, t: float) -> ApState:
    """The AP's state at ``t``, in whole seconds as the agents answer."""
    return state(city.seed, ap, math.floor(t))


def uplink_received(city: City, ap: AccessPoint, t: float) -> int:
    """Bytes the AP's uplink received since its last boot, not wrapped."""
    return uplink_bytes(state_at(city, ap, t), receive=True)


def next_wrap(city: City, ap: AccessPoint, after: float, until: float) -> float | None:
    """The first whole second in (after, until] at which the AP's Counter32
    uplink (Cisco ``cLApEthernetIfRxTotalBytes``) wraps, or None; a reboot
    in between is not a wrap."""
    if ap.vendor != CISCO or ap.dead:
        return None
    low, high = math.floor(after), math.floor(until)
    boot = last_reboot(ap, high) + ap.reboot_downtime_s  # counting again from here
    low = max(low, math.ceil(boot))  # count wraps since the last boot only
    if high <= low or uplink_wraps(city, ap, high) == uplink_wraps(city, ap, low):
        return None
    start_wraps = uplink_wraps(city, ap, low)
    while high - low > 1:  # bisection: wraps only grow between boots
        middle = (low + high) // 2
        if uplink_wraps(city, ap, middle) > start_wraps:
            high = middle
        else:
            low = middle
    return float(high)


def reboots_between(ap: AccessPoint, start: float, end: float) -> list[float]:
    """Starts of the AP's scheduled reboots in (start, end]."""
    found = []
    reboot = last_reboot(ap, end)
    while reboot > start and not ap.dead:
        found.append(reboot)
        reboot -= ap.reboot_period_s
    return sorted(found)
