"""Counter reconciliation: raw SNMP counters in, exported counters out.

METRICS.md "Counter semantics", rule by rule (``advance`` implements them):

1. First observation of a series: export the raw value (mod 2^53).
2. The raw value grew: add the difference.
3. The device rebooted (its uptime went down) or the counter reset: the
   exported counter restarts from the device's raw value, so Prometheus sees
   a reset and ``rate()`` counts the raw value as the traffic since then. If
   the raw value is already at or above the exported one, a restart would
   not look like a reset to Prometheus, so the raw value is added instead;
   either way exactly ``raw`` units are counted since the reset.
4. A Counter32 went down without a reboot: it wrapped at 2^32; add
   ``raw + 2^32 - previous``, unless that is more than the link could carry
   in the interval (``max_rate * interval``), which makes it a reset (3).
5. A Counter64 went down without a reboot: a reset (3); 64-bit counters do
   not wrap in a device's lifetime.
6. A series whose width changes (a firmware update added the 64-bit column)
   is treated as reset (3): the two columns count from different origins.
7. Exported values wrap at 2^53, as snmp_exporter's do: float64 (what
   Prometheus stores) is exact only up to there, so ``rate()`` sees one
   clean reset instead of rounding noise.

A device's uptime (sysUpTime, TimeTicks) itself wraps at 2^32 hundredths of
a second, after 497 days; a fall that matches that wrap is not a reboot.
Limits: without uptime, a Counter32 cleared on the device looks like a wrap
unless ``max_rate`` rules it out; a reboot whose new uptime is not below the
last one seen (two polls apart, say) cannot be told from normal counting.

Example: a Counter32 seen at 4_294_967_000 and, 60 s later, at 704 wrapped
and is exported as 4_294_967_000 + 1000.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _json_string

log = logging.getLogger("wifimon.counters")

EXPORT_MODULUS = 2**53
"""Exported counters wrap here: the largest range float64 holds exactly."""

TIMETICKS_WRAP_SECONDS = 2**32 / 100
"""sysUpTime is a 32-bit count of 1/100 s: it wraps after 497.1 days."""

STATE_VERSION = 1


class Change(enum.Enum):
    """What one observation did to the exported counter."""

    FIRST = "first"  # rule 1
    INCREASE = "increase"  # rule 2 (zero included)
    REBOOT = "reboot"  # rule 3, uptime went down
    WRAP = "wrap"  # rule 4, a plausible Counter32 wrap
    RESET = "reset"  # rules 4-6: an implausible wrap, a Counter64 decrease, a width change


@dataclass(frozen=True, slots=True)
class CounterState:
    """What the reconciler remembers about one series.

    ``raw``: the device's last value, e.g. ``4_294_967_000``;
    ``width_bits``: 32 or 64; ``uptime_seconds``: the device's last known
    uptime, e.g. ``86_400.0`` (None if never reported); ``exported``: the last
    exported value, ``0 <= exported < 2^53``.
    """

    raw: int
    width_bits: int
    uptime_seconds: float | None
    exported: int


def _check(raw: int, width_bits: int) -> None:
    if width_bits not in (32, 64):
        raise ValueError(f"counter width must be 32 or 64 bits, got {width_bits}")
    # A 32-bit "counter" may be the sum of several Counter32 columns (an AP's
    # ports or BSSIDs), so it can exceed 2^32. Rule 4 stays exact for it: the
    # sum's fall after one component wraps is that component's wrap, as long
    # as the whole sum grows by less than 2^32 per interval.
    limit = 2**64
    if not 0 <= raw < limit:
        raise ValueError(f"raw value {raw} does not fit a {width_bits}-bit counter")


def rebooted(previous: float | None, current: float | None, interval_seconds: float) -> bool:
    """True when uptime went down, unless that is sysUpTime's own 497-day wrap.

    >>> rebooted(3600.0, 5.0, 60.0)
    True
    >>> rebooted(TIMETICKS_WRAP_SECONDS - 30, 30.0, 60.0)
    False
    """
    if previous is None or current is None or current >= previous:
        return False
    # After a TimeTicks wrap the uptime advanced by about one interval.
    advanced = current + TIMETICKS_WRAP_SECONDS - previous
    return not 0 <= advanced <= 2 * interval_seconds


def _restart(previous_exported: int, raw: int) -> int:
    """Rule 3: the counter restarted from zero and has counted ``raw`` since."""
    if raw < previous_exported:
        return raw % EXPORT_MODULUS  # Prometheus sees the reset and counts `raw`
    return (previous_exported + raw) % EXPORT_MODULUS  # no visible reset: add it


def advance(
    previous: CounterState | None,
    raw: int,
    width_bits: int,
    uptime_seconds: float | None,
    *,
    interval_seconds: float,
    max_rate_bytes_per_second: float | None = None,
) -> tuple[CounterState, Change]:
    """Apply rules 1-7 to one new raw observation; returns the new state and why.

    ``interval_seconds`` is the time since the previous observation, e.g.
    ``60.0``; ``max_rate_bytes_per_second`` the most the link can carry (for
    byte counters; None for frame counters or when unknown).
    """
    _check(raw, width_bits)
    if previous is None:
        return CounterState(raw, width_bits, uptime_seconds, raw % EXPORT_MODULUS), Change.FIRST
    if previous.width_bits != width_bits:
        change, delta = Change.RESET, 0
    else:
        change, delta = _classify(
            previous, raw, uptime_seconds, interval_seconds, max_rate_bytes_per_second
        )
    if change in (Change.INCREASE, Change.WRAP):
        exported = (previous.exported + delta) % EXPORT_MODULUS
    else:
        exported = _restart(previous.exported, raw)
    # Keep the last uptime seen, so a poll without one does not hide a later reboot.
    uptime = uptime_seconds if uptime_seconds is not None else previous.uptime_seconds
    return CounterState(raw, width_bits, uptime, exported), change


def _classify(
    previous: CounterState,
    raw: int,
    uptime_seconds: float | None,
    interval_seconds: float,
    max_rate: float | None,
) -> tuple[Change, int]:
    """Which rule applies, and the traffic to add for INCREASE and WRAP."""
    if rebooted(previous.uptime_seconds, uptime_seconds, interval_seconds):
        return Change.REBOOT, 0
    if raw >= previous.raw:
        return Change.INCREASE, raw - previous.raw
    if previous.width_bits == 64:
        return Change.RESET, 0
    delta = raw + 2**32 - previous.raw
    if max_rate is not None and delta > max_rate * interval_seconds:
        return Change.RESET, 0  # more than the link could carry: never traffic
    return Change.WRAP, delta


class CounterReconciler:
    """Exported counter values for many series, keyed by any hashable identity.

    >>> counters = CounterReconciler()
    >>> counters.observe(("ap1", "rx"), 4_294_967_000, 32, 100.0, 60.0)
    4294967000
    >>> counters.observe(("ap1", "rx"), 704, 32, 160.0, 60.0)
    4294968000
    """

    def __init__(self) -> None:
        self._series: dict[Hashable, CounterState] = {}

    def __len__(self) -> int:
        return len(self._series)

    def observe(  # noqa: PLR0917 - the contract's order; the normaliser passes all six
        self,
        key: Hashable,
        raw_value: int,
        width_bits: int,
        uptime_seconds: float | None,
        interval_seconds: float,
        max_rate_bytes_per_second: float | None = None,
    ) -> int:
        """The value to export for ``key`` after observing ``raw_value``.

        ``width_bits`` is 32 or 64; ``uptime_seconds`` the device's uptime
        (None if unknown); ``interval_seconds`` the time since the previous
        observation, e.g. 60.0; ``max_rate_bytes_per_second`` the link's
        capacity for byte counters, e.g. 125e6 for 1 Gbit/s, else None.
        """
        previous = self._series.get(key)
        if (
            previous is not None
            and previous.width_bits == width_bits
            and previous.raw <= raw_value < 2**64
            and not rebooted(previous.uptime_seconds, uptime_seconds, interval_seconds)
        ):
            # Rule 2, what almost every observation is: the same arithmetic as
            # advance(), without its classification (10^5 series per round).
            exported = (previous.exported + raw_value - previous.raw) % EXPORT_MODULUS
            uptime = uptime_seconds if uptime_seconds is not None else previous.uptime_seconds
            self._series[key] = CounterState(raw_value, width_bits, uptime, exported)
            return exported
        return self.observe_with_change(
            key,
            raw_value,
            width_bits,
            uptime_seconds,
            interval_seconds=interval_seconds,
            max_rate_bytes_per_second=max_rate_bytes_per_second,
        )[0]

    def observe_with_change(
        self,
        key: Hashable,
        raw_value: int,
        width_bits: int,
        uptime_seconds: float | None,
        *,
        interval_seconds: float,
        max_rate_bytes_per_second: float | None = None,
    ) -> tuple[int, Change]:
        """Like ``observe``, also saying which rule applied (for logs and tests)."""
        state, change = advance(
            self._series.get(key),
            raw_value,
            width_bits,
            uptime_seconds,
            interval_seconds=interval_seconds,
            max_rate_bytes_per_second=max_rate_bytes_per_second,
        )
        self._series[key] = state
        return state.exported, change

    def forget(self, keys: Iterable[Hashable]) -> None:
        """Drop the state of ``keys`` (series that disappeared); unknown keys are fine."""
        for key in keys:
            self._series.pop(key, None)

    def retain(self, keys: Iterable[Hashable]) -> None:
        """Keep only the state of ``keys``, e.g. the series of the last poll."""
        keep = set(keys)
        self._series = {key: state for key, state in self._series.items() if key in keep}

    def export_state(self) -> dict[str, object]:
        """A JSON-able copy of the state.

        Keys must be str, int, float, bool, None or (nested) tuples of them;
        tuples are stored as JSON arrays and come back as tuples.
        """
        series = {
            _key_to_json(key): [state.raw, state.width_bits, state.uptime_seconds, state.exported]
            for key, state in self._series.items()
        }
        return {"version": STATE_VERSION, "series": series}

    def import_state(self, data: object) -> None:
        """Replace the state with one from ``export_state``; bad entries are skipped, logged."""
        self._series = {}
        if not data:  # nothing saved yet: a first start
            return
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            log.warning("ignoring counter state of an unknown format")
            return
        series = data.get("series")
        entries = series.items() if isinstance(series, dict) else ()
        skipped = 0
        for text, fields in entries:
            try:
                self._series[_key_from_json(json.loads(text))] = _state_from_json(fields)
            except (ValueError, TypeError):
                skipped += 1
        if skipped:
            log.warning("skipped %d unreadable counter state entries", skipped)


def _key_to_json(key: Hashable) -> str:
    """``json.dumps(key)``, 4x faster for the usual key, a metric name and
    a tuple of label values (10^5 of them per save): same text."""
    if (
        type(key) is tuple
        and len(key) == 2  # (metric name, labels)
        and type(key[0]) is str
        and type(key[1]) is tuple
        and all(type(label) is str for label in key[1])
    ):
        labels = ", ".join(map(_json_string, key[1]))
        return f"[{_json_string(key[0])}, [{labels}]]"
    return json.dumps(key)


def _key_from_json(value: object) -> Hashable:
    if isinstance(value, list):
        return tuple(_key_from_json(item) for item in value)
    if isinstance(value, dict):
        raise TypeError("a counter key cannot be a mapping")
    return value  # str, int, float, bool or None


def _state_from_json(fields: object) -> CounterState:
    if not isinstance(fields, list) or len(fields) != 4:
        raise ValueError(f"bad counter state {fields!r}")
    raw, width, uptime, exported = fields
    if not isinstance(raw, int) or not isinstance(width, int) or not isinstance(exported, int):
        raise TypeError(f"bad counter state {fields!r}")
    if uptime is not None and not isinstance(uptime, int | float):
        raise TypeError(f"bad uptime {uptime!r}")
    _check(raw, width)
    if not 0 <= exported < EXPORT_MODULUS:
        raise ValueError(f"exported value {exported} out of range")
    return CounterState(raw, width, None if uptime is None else float(uptime), exported)
