"""The load model: diurnal and weekly shape, counters that integrate load,
reboots, wraps, and the ground truth built on them."""

from __future__ import annotations

import itertools
import math
import time

from wifimon.simulator import truth
from wifimon.simulator.city import AccessPoint, build_city
from wifimon.simulator.load import (
    EPOCH,
    Clock,
    last_reboot,
    load_integral,
    next_reboot,
    relative_load,
    state,
)
from wifimon.simulator.quantities import (
    Query,
    answer,
    cell_clients,
    parse_query,
    radio_clients,
    ssid_clients,
    uplink_bytes,
    visible,
)

SEED = 1
CITY = build_city(300, SEED)
WEDNESDAY = EPOCH + 2 * 86400  # 2024-01-03 00:00 CET
SATURDAY, SUNDAY = EPOCH + 5 * 86400, EPOCH + 6 * 86400


def _first(kind: str) -> AccessPoint:
    return next(ap for ap in CITY.aps if ap.kind == kind and not ap.dead)


def _load(ap: AccessPoint, day: float, hour: float) -> float:
    return relative_load(SEED, ap, day + hour * 3600 + ap.shift_s)


def test_station_has_commuter_peaks_and_quiet_nights() -> None:
    station = _first("station")
    morning, noon, night = (_load(station, WEDNESDAY, h) for h in (8, 13, 3))
    assert morning > 1.5 * noon > 10 * night
    assert _load(station, WEDNESDAY, 17.5) > 1.5 * noon


def test_centre_has_midday_and_evening_peaks_and_busy_weekends() -> None:
    square = _first("square")
    assert _load(square, WEDNESDAY, 12.5) > _load(square, WEDNESDAY, 9.5)
    assert _load(square, WEDNESDAY, 19) > _load(square, WEDNESDAY, 15)
    assert _load(square, SATURDAY, 15) > _load(square, WEDNESDAY, 15)


def test_weekend_tourists_at_museums_and_empty_campuses() -> None:
    museum, campus = _first("museum"), _first("campus")
    assert _load(museum, SUNDAY, 14) > 1.5 * _load(museum, WEDNESDAY + 7 * 86400, 14)
    assert _load(campus, WEDNESDAY, 10) > 5 * _load(campus, SUNDAY, 10)


def test_load_integral_is_the_integral_of_the_load() -> None:
    ap = _first("station")
    for start in (WEDNESDAY + 1234.0, SATURDAY + 80_000.0, EPOCH + 27.5 * 86400):
        numeric = sum(relative_load(SEED, ap, start + i + 0.5) for i in range(7200))
        exact = load_integral(SEED, ap, start + 7200) - load_integral(SEED, ap, start)
        assert math.isclose(numeric, exact, rel_tol=1e-6)


def test_values_are_pure_functions_of_seed_ap_and_time() -> None:
    ap = CITY.ap(CITY.wrapping_ap)
    moments = [WEDNESDAY + 3600 * h for h in range(0, 48, 5)]
    forward = [state(SEED, ap, t) for t in moments]
    backward = [state(SEED, ap, t) for t in reversed(moments)][::-1]
    assert forward == backward
    assert state(SEED, ap, moments[3]) != state(SEED + 1, ap, moments[3])


def test_counters_grow_with_load_and_fall_only_at_scheduled_reboots() -> None:
    ap = CITY.ap(CITY.rebooting_ap)
    start = WEDNESDAY + 6 * 3600
    previous = state(SEED, ap, start)
    resets = []
    for t in range(int(start) + 60, int(start) + 12 * 3600, 60):
        current = state(SEED, ap, t)
        if current.uptime_s < previous.uptime_s:
            resets.append(t)
        elif current.counting:
            assert current.down_bytes >= previous.down_bytes
            assert current.up_bytes >= previous.up_bytes
        previous = current
    scheduled = truth.reboots_between(ap, start, start + 12 * 3600)
    assert len(resets) == len(scheduled) == 4
    for reset, reboot in zip(resets, scheduled, strict=True):
        assert reboot <= reset < reboot + 60


def test_a_rebooting_ap_restarts_its_uptime_and_counts_again_after_its_downtime() -> None:
    ap = CITY.ap(CITY.rebooting_ap)
    reboot = next_reboot(ap, WEDNESDAY + 10 * 3600)
    assert last_reboot(ap, reboot) == reboot
    before, during = state(SEED, ap, reboot - 1), state(SEED, ap, reboot + 90)
    assert before.up
    assert before.counting
    assert before.uptime_s > 3 * 3600 - 200
    # Booting: not joined, nothing counted (its agent hides those rows),
    # but its uptime already restarted, so no poll can pair new counters
    # with the old uptime.
    assert not during.up
    assert not during.counting
    assert during.uptime_s == 90
    counting = state(SEED, ap, reboot + ap.reboot_downtime_s + 30)
    assert counting.up
    assert counting.uptime_s == ap.reboot_downtime_s + 30
    assert 0 < counting.down_bytes < 30 * 1e6
    hidden = Query(ap.ap, "clients")
    assert not visible(during, hidden)
    assert visible(during, Query(ap.ap, "uptime"))
    assert visible(counting, hidden)


def test_the_32_bit_uplink_counter_wraps_without_a_reboot() -> None:
    ap = CITY.ap(CITY.wrapping_ap)
    start = WEDNESDAY + 7 * 3600
    wrap = truth.next_wrap(CITY, ap, start, start + 6 * 3600)
    assert wrap is not None
    query = Query(ap.ap, "uplink_rx", bits=32)
    assert answer(SEED, ap, query, wrap) < answer(SEED, ap, query, wrap - 1)
    assert state(SEED, ap, wrap).uptime_s > state(SEED, ap, wrap - 1).uptime_s
    unwrapped = uplink_bytes(state(SEED, ap, wrap), receive=True)
    assert unwrapped >= 2**32


def test_splits_add_up_and_queries_round_trip() -> None:
    ap = CITY.ap(CITY.wrapping_ap)
    for t in range(int(WEDNESDAY), int(WEDNESDAY) + 86400, 1800):
        st = state(SEED, ap, t)
        assert radio_clients(st, 0) + radio_clients(st, 1) == st.clients
        for radio in (0, 1):
            cells = [cell_clients(ap, st, radio, wlan) for wlan in (1, 2)]
            assert sum(cells) == radio_clients(st, radio)
        assert ssid_clients(ap, st, 1) + ssid_clients(ap, st, 2) == st.clients
    query = Query("mul-0001", "noise", radio=1, sign=1, scan=2)
    assert parse_query(query.text()) == query


def test_dead_aps_stay_dead() -> None:
    dead = next(ap for ap in CITY.aps if ap.dead)
    assert all(not state(SEED, dead, WEDNESDAY + h * 3600).up for h in range(0, 200, 7))


def test_clock_maps_wall_time_to_simulated_time() -> None:
    clock = Clock(origin=WEDNESDAY, wall_start=1000.0, speed=60.0)
    assert clock.at(1010.0) == WEDNESDAY + 600
    assert clock.wall(WEDNESDAY + 600) == 1010.0
    live = Clock(origin=WEDNESDAY, wall_start=time.time(), speed=1.0)
    assert live.now() == math.floor(live.now())


def test_client_bounds_hold_every_second_of_a_window() -> None:
    start = WEDNESDAY + 8 * 3600 + 17.0
    end = start + 150
    bounds = truth.client_bounds(CITY, start, end)
    for t in range(int(start) + 1, int(end) + 1, 7):
        for district, count in truth.district_clients(CITY, t).items():
            low, high = bounds[district]
            assert low <= count <= high


def test_up_states_show_both_states_only_around_a_reboot() -> None:
    ap = CITY.ap(CITY.rebooting_ap)
    reboot = next_reboot(ap, WEDNESDAY)
    assert truth.up_states(CITY, reboot - 30, reboot + 30)[ap.ap] == {True, False}
    assert truth.up_states(CITY, reboot + 10, reboot + 100)[ap.ap] == {False}
    steady = truth.up_states(CITY, reboot + 600, reboot + 700)
    assert all(len(states) == 1 for states in steady.values())
    assert list(itertools.islice(truth.city_truth(CITY, reboot + 60).values(), 1))
