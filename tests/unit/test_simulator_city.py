"""The demo city: deterministic from its seed, Mulhouse-shaped, mixed vendors, private."""

from __future__ import annotations

import ipaddress
import math
import time
from collections import Counter

import pytest

from wifimon.simulator import city as city_module
from wifimon.simulator.city import (
    ARUBA,
    CENTRE,
    CISCO,
    DEFAULT_APS,
    GENERIC,
    MIN_APS,
    build_city,
)

DOCUMENTATION_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24")]


def test_the_same_seed_builds_the_same_city_and_another_seed_another() -> None:
    first = build_city(120, 3)
    city_module._build_city.cache_clear()  # build it again, not from the cache
    again = build_city(120, 3)
    assert again is not first
    assert again.aps == first.aps
    assert again.controllers == first.controllers
    assert build_city(120, 4).aps != first.aps


def test_default_size_and_scaling_to_thousands() -> None:
    assert len(build_city().aps) == DEFAULT_APS
    started = time.perf_counter()
    big = build_city(4000, 1)
    assert len(big.aps) == 4000
    assert time.perf_counter() - started < 5
    # A controller never serves more than 1000 APs; every AP's controller exists.
    names = {controller.name for controller in big.controllers}
    counts = Counter(ap.controller for ap in big.aps if ap.controller)
    assert set(counts) == names
    assert max(counts.values()) <= 1000


def test_too_small_or_too_large_is_refused() -> None:
    with pytest.raises(ValueError, match="access points"):
        build_city(MIN_APS - 1, 1)


def test_mixed_vendors_dead_aps_a_flaky_and_a_wrapping_ap() -> None:
    city = build_city()
    assert {c.vendor for c in city.controllers} == {CISCO, ARUBA}
    standalone = city.standalone_aps()
    assert standalone
    assert {ap.vendor for ap in standalone} == {GENERIC}
    dead = [ap for ap in city.aps if ap.dead]
    assert {ap.vendor for ap in dead} == {CISCO, ARUBA, GENERIC}
    assert len(dead) <= 0.03 * len(city.aps)
    for special in (city.rebooting_ap, city.wrapping_ap):
        assert city.ap(special).vendor == CISCO
        assert not city.ap(special).dead
    assert city.ap(city.rebooting_ap).reboot_period_s == 3 * 3600
    assert city.ap(city.wrapping_ap).kind == "station"


def _distance_m(lat: float, lon: float) -> float:
    north = (lat - CENTRE[0]) * 111_320
    east = (lon - CENTRE[1]) * 111_320 * math.cos(math.radians(CENTRE[0]))
    return math.hypot(north, east)


def test_mulhouse_geography_with_a_dense_centre() -> None:
    city = build_city()
    for ap in city.aps:
        assert 47.72 < ap.latitude < 47.78
        assert 7.28 < ap.longitude < 7.37
    by_district = Counter(ap.district for ap in city.aps)
    assert len(by_district) >= 14
    assert by_district.most_common(1)[0][0] == "Centre"
    near = sum(_distance_m(ap.latitude, ap.longitude) < 800 for ap in city.aps)
    inside = near / (math.pi * 0.8**2)  # APs per km2 within 800 m of Place de la Reunion
    outside = (len(city.aps) - near) / 22  # the rest of the city's ~22 km2
    assert inside > 4 * outside
    assert {"gare-centrale", "kmo", "place-de-la-reunion"} <= {ap.site for ap in city.aps}


def test_identities_are_unique_and_never_real() -> None:
    city = build_city(2000, 5)
    assert len({ap.ap for ap in city.aps}) == len(city.aps)
    assert len({ap.mac for ap in city.aps}) == len(city.aps)
    for ap in city.aps:
        first = int(ap.mac.split(":")[0], 16)
        assert first & 0b10, ap.mac  # locally administered...
        assert not first & 0b1, ap.mac  # ...unicast
        if ap.ip:
            assert any(ipaddress.ip_address(ap.ip) in net for net in DOCUMENTATION_NETS)
