"""Counter reconciliation, rule by rule (METRICS.md "Counter semantics")."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wifimon.counters import (
    EXPORT_MODULUS,
    TIMETICKS_WRAP_SECONDS,
    Change,
    CounterReconciler,
    rebooted,
)

KEY = ("ap-1", "wifimon_radio_receive_bytes_total", "1")
WRAP32 = 2**32


def observe(
    counters: CounterReconciler,
    raw: int,
    width: int = 32,
    uptime: float | None = None,
    *,
    max_rate: float | None = None,
    key: object = KEY,
) -> tuple[int, Change]:
    return counters.observe_with_change(
        key, raw, width, uptime, interval_seconds=60.0, max_rate_bytes_per_second=max_rate
    )


def test_observe_returns_the_exported_value_in_the_contracts_argument_order() -> None:
    counters = CounterReconciler()
    assert counters.observe(KEY, WRAP32 - 1_000, 32, 100.0, 60.0, 125e6) == WRAP32 - 1_000
    assert counters.observe(KEY, 500, 32, 160.0, 60.0, 125e6) == WRAP32 + 500


# --- rule 1: first observation


def test_the_first_observation_exports_the_raw_value() -> None:
    assert observe(CounterReconciler(), 12_345) == (12_345, Change.FIRST)


def test_a_first_value_beyond_2_53_is_exported_modulo_2_53() -> None:
    assert observe(CounterReconciler(), 2**60 + 7, width=64)[0] == (2**60 + 7) % EXPORT_MODULUS


# --- rule 2: increase


def test_an_increase_adds_the_difference() -> None:
    counters = CounterReconciler()
    observe(counters, 1_000, uptime=100.0)
    assert observe(counters, 1_500, uptime=160.0) == (1_500, Change.INCREASE)
    assert observe(counters, 1_500, uptime=220.0) == (1_500, Change.INCREASE)


# --- rule 3: reboot


def test_a_reboot_restarts_from_the_device_value() -> None:
    counters = CounterReconciler()
    observe(counters, 9_000, width=64, uptime=3_600.0)
    assert observe(counters, 400, width=64, uptime=30.0) == (400, Change.REBOOT)
    assert observe(counters, 900, width=64, uptime=90.0) == (900, Change.INCREASE)


def test_a_reboot_whose_counter_already_passed_the_old_value_adds_it() -> None:
    # Restarting from 9_500 would look like +500 to Prometheus; 9_500 were counted.
    counters = CounterReconciler()
    observe(counters, 9_000, uptime=3_600.0)
    assert observe(counters, 9_500, uptime=30.0) == (18_500, Change.REBOOT)


def test_a_reboot_is_seen_even_across_polls_without_uptime() -> None:
    counters = CounterReconciler()
    observe(counters, 9_000, width=64, uptime=3_600.0)
    observe(counters, 9_100, width=64, uptime=None)
    assert observe(counters, 50, width=64, uptime=20.0) == (50, Change.REBOOT)


def test_the_497_day_sysuptime_wrap_is_not_a_reboot() -> None:
    counters = CounterReconciler()
    observe(counters, 1_000, uptime=TIMETICKS_WRAP_SECONDS - 20)
    assert observe(counters, 2_000, uptime=40.0) == (2_000, Change.INCREASE)
    assert rebooted(TIMETICKS_WRAP_SECONDS - 20, 40.0, 60.0) is False
    assert rebooted(TIMETICKS_WRAP_SECONDS - 20, 3_640.0, 60.0) is True  # far past a wrap
    assert rebooted(86_400.0, 40.0, 60.0) is True


# --- rule 4: Counter32 wrap


def test_a_counter32_decrease_without_reboot_is_a_wrap() -> None:
    counters = CounterReconciler()
    observe(counters, WRAP32 - 1_000, uptime=100.0)
    assert observe(counters, 500, uptime=160.0) == (WRAP32 + 500, Change.WRAP)


def test_a_wrap_is_kept_without_uptime_too() -> None:
    counters = CounterReconciler()
    observe(counters, WRAP32 - 10)
    assert observe(counters, 5) == (WRAP32 + 5, Change.WRAP)


def test_a_wrap_the_link_could_not_carry_is_a_reset() -> None:
    # 100 Mbit/s = 12.5 MB/s carries 750 MB in 60 s; this "wrap" would be ~4.29 GB.
    counters = CounterReconciler()
    observe(counters, 3_000_000_000, uptime=100.0)
    assert observe(counters, 1_000, uptime=160.0, max_rate=12.5e6) == (1_000, Change.RESET)


def test_a_wrap_within_the_link_rate_is_traffic() -> None:
    counters = CounterReconciler()
    observe(counters, WRAP32 - 100_000_000, uptime=100.0)
    exported, change = observe(counters, 200_000_000, uptime=160.0, max_rate=12.5e6)
    assert (exported, change) == (WRAP32 + 200_000_000, Change.WRAP)


# --- rule 5: Counter64 decrease


def test_a_counter64_decrease_without_reboot_is_a_reset() -> None:
    counters = CounterReconciler()
    observe(counters, 2**40, width=64, uptime=100.0)
    assert observe(counters, 77, width=64, uptime=160.0) == (77, Change.RESET)


# --- rule 6: width change


def test_a_width_change_is_a_reset() -> None:
    counters = CounterReconciler()
    observe(counters, 5_000, width=32, uptime=100.0)
    assert observe(counters, 800, width=64, uptime=160.0) == (800, Change.RESET)


# --- rule 7: exported values wrap at 2^53


def test_exported_values_wrap_at_2_53() -> None:
    counters = CounterReconciler()
    observe(counters, EXPORT_MODULUS - 10, width=64)
    assert observe(counters, EXPORT_MODULUS + 5, width=64) == (5, Change.INCREASE)


# --- input checks


@pytest.mark.parametrize(("raw", "width"), [(-1, 32), (2**64, 32), (2**64, 64), (5, 16)])
def test_values_that_do_not_fit_the_width_are_rejected(raw: int, width: int) -> None:
    with pytest.raises(ValueError, match="bit"):
        observe(CounterReconciler(), raw, width=width)


# --- forgetting and persisting


def test_forget_and_retain_drop_state_of_vanished_series() -> None:
    counters = CounterReconciler()
    for key in ("a", "b", "c", "d"):
        observe(counters, 10, key=key)
    counters.forget(["a", "missing"])
    counters.retain(["b", "c"])
    assert len(counters) == 2
    assert observe(counters, 3, key="d") == (3, Change.FIRST)  # forgotten: starts afresh


def test_state_survives_a_json_round_trip() -> None:
    counters = CounterReconciler()
    observe(counters, WRAP32 - 10, uptime=100.0, key=("ap-1", "rx"))
    observe(counters, 5, uptime=160.0, key=("ap-1", "rx"))
    observe(counters, 70, width=64, key="plain")
    restored = CounterReconciler()
    restored.import_state(json.loads(json.dumps(counters.export_state())))
    assert observe(restored, 15, uptime=220.0, key=("ap-1", "rx")) == (WRAP32 + 15, Change.INCREASE)
    assert observe(restored, 1, width=64, uptime=20.0, key="plain") == (1, Change.RESET)


def test_unreadable_state_is_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    good = CounterReconciler()
    observe(good, 10, key="ok")
    data = good.export_state()
    series = data["series"]
    assert isinstance(series, dict)
    series['"bad"'] = [1, 2, 3]
    series['"negative"'] = [-1, 32, None, 0]
    series["not json"] = [1, 32, None, 1]
    counters = CounterReconciler()
    counters.import_state(data)
    assert len(counters) == 1
    assert "skipped 3" in caplog.text
    counters.import_state({"version": 99})
    assert len(counters) == 0


# --- properties


@dataclass
class Device:
    """A simulated device counter that can wrap and reboot."""

    width: int
    raw: int
    uptime: float = 1_000.0

    def carry(self, traffic: int) -> None:
        self.raw = (self.raw + traffic) % 2**self.width
        self.uptime += 60.0

    def reboot(self, traffic_since: int) -> None:
        # Any lower uptime will do; "decreased" is how a reboot is recognised.
        # (Two reboots whose uptimes do not decrease cannot be told apart.)
        self.raw = traffic_since
        self.uptime /= 2


def prometheus_increase(values: list[int]) -> int:
    """What PromQL's ``increase()`` sees: a drop is a reset, counted from zero."""
    return sum(b - a if b >= a else b for a, b in itertools.pairwise(values))


events = st.lists(
    st.tuples(st.booleans(), st.integers(0, WRAP32 - 1)),  # (reboot?, traffic)
    max_size=40,
)


@given(width=st.sampled_from([32, 64]), start=st.integers(0, WRAP32 - 1), steps=events)
def test_prometheus_sees_exactly_the_true_traffic(
    width: int, start: int, steps: list[tuple[bool, int]]
) -> None:
    device, counters = Device(width, start), CounterReconciler()
    exported = [observe(counters, device.raw, width, device.uptime)[0]]
    for reboot, traffic in steps:
        device.reboot(traffic) if reboot else device.carry(traffic)
        value, change = observe(counters, device.raw, width, device.uptime)
        if value < exported[-1]:
            assert change in (Change.REBOOT, Change.RESET)
        exported.append(value)
    assert prometheus_increase(exported) == sum(traffic for _, traffic in steps)


@given(
    start=st.integers(0, WRAP32 - 1),
    increments=st.lists(st.integers(0, WRAP32 - 1), max_size=60),
)
def test_wrapped_counter32_deltas_add_up_to_the_true_traffic(
    start: int, increments: list[int]
) -> None:
    device, counters = Device(32, start), CounterReconciler()
    # The link can carry the largest increment (plus a byte against float
    # rounding): every wrap is plausible.
    max_rate = (max(increments, default=0) + 1) / 60.0
    first = observe(counters, device.raw, 32, device.uptime, max_rate=max_rate)[0]
    values = [first]
    for traffic in increments:
        device.carry(traffic)
        values.append(observe(counters, device.raw, 32, device.uptime, max_rate=max_rate)[0])
    assert values == sorted(values)  # never decreases without a reboot
    assert values[-1] - first == sum(increments)


def test_a_sum_of_counter32_columns_wraps_exactly_when_one_column_wraps() -> None:
    """Two BSSID byte counters summed: one wraps; the sum falls by < 2^32."""
    reconciler = CounterReconciler()
    first = (2**32 - 100) + 3_000_000_000
    after = 400 + 3_000_500_000  # column one wrapped (+500), column two +500_000
    assert reconciler.observe("k", first, 32, 10.0, 60.0) == first
    assert reconciler.observe("k", after, 32, 70.0, 60.0) == first + 500 + 500_000
