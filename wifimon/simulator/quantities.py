"""What a simulated agent answers for one live cell, derived from ``load.state``.

Every split is done on integers so the parts always add up: radio clients
sum to the AP's clients, SSID cells to their radio. Byte counters are
floors of monotonic functions, so each one is monotonic between reboots.
A live snmprec row names its cell with a query such as
``ap=mul-0042,q=radio_tx,r=1,bits=64`` (see ``Query``).

Stdlib only: snmpsim's interpreter imports this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from wifimon.simulator.city import AccessPoint, stable_unit
from wifimon.simulator.load import (
    BAND_SHARE,
    UPLINK_OVERHEAD,
    ApState,
    controller_uptime_s,
    state,
)

WLAN_PUBLIC, WLAN_EDUROAM = 1, 2
FRAME_BYTES = 1200  # mean frame size, to turn bytes into frames for retries


@dataclass(frozen=True, slots=True)
class Query:
    """One live cell: ``name`` e.g. ``"radio_tx"``, ``radio`` 0 (2.4 GHz)
    or 1 (5 GHz), ``wlan`` 1 or 2, ``bits`` the counter width (32/64),
    ``on``/``off`` the status codes, ``sign`` -1 for dBm, +1 for vendors
    that report the noise magnitude, ``scan`` which scanned channel (0 is
    the serving one)."""

    ap: str
    name: str
    radio: int = 0
    wlan: int = WLAN_PUBLIC
    bits: int = 64
    on: int = 1
    off: int = 2
    sign: int = -1
    scan: int = 0

    def text(self) -> str:
        """The snmprec value naming this cell, e.g. ``ap=mul-0001,q=clients``."""
        parts = [f"ap={self.ap}", f"q={self.name}"]
        defaults = Query(self.ap, self.name)
        for key in ("radio", "wlan", "bits", "on", "off", "sign", "scan"):
            if getattr(self, key) != getattr(defaults, key):
                parts.append(f"{key}={getattr(self, key)}")
        return ",".join(parts)


def parse_query(text: str) -> Query:
    """The inverse of ``Query.text``; raises ``ValueError`` on a bad query."""
    fields = dict(part.split("=", 1) for part in text.split(","))
    ap, name = fields.pop("ap"), fields.pop("q")
    numbers = {key: int(value) for key, value in fields.items()}
    return Query(ap, name, **numbers)


def radio_clients(st: ApState, radio: int) -> int:
    on_2g = round(st.clients * BAND_SHARE[0])
    return on_2g if radio == 0 else st.clients - on_2g


def cell_clients(ap: AccessPoint, st: ApState, radio: int, wlan: int) -> int:
    on_radio = radio_clients(st, radio)
    eduroam = round(on_radio * ap.eduroam_share)
    return eduroam if wlan == WLAN_EDUROAM else on_radio - eduroam


def ssid_clients(ap: AccessPoint, st: ApState, wlan: int) -> int:
    return sum(cell_clients(ap, st, radio, wlan) for radio in (0, 1))


def radio_bytes(st: ApState, radio: int, transmit: bool) -> int:
    """Wireless bytes of one radio since boot: it transmits what clients
    download and receives what they upload."""
    total = st.down_bytes if transmit else st.up_bytes
    return math.floor(total * BAND_SHARE[radio])


def cell_bytes(ap: AccessPoint, st: ApState, radio: int, wlan: int, transmit: bool) -> int:
    share = ap.eduroam_share if wlan == WLAN_EDUROAM else 1 - ap.eduroam_share
    total = st.down_bytes if transmit else st.up_bytes
    return math.floor(total * BAND_SHARE[radio] * share)


def uplink_bytes(st: ApState, receive: bool) -> int:
    """Wired bytes since boot: the uplink receives what clients download."""
    if receive:
        return math.floor(st.down_bytes * UPLINK_OVERHEAD[0])
    return math.floor(st.up_bytes * UPLINK_OVERHEAD[1])


def retries(ap: AccessPoint, st: ApState, radio: int) -> int:
    """Frames sent again: more of them in crowded air."""
    frames = radio_bytes(st, radio, transmit=True) / FRAME_BYTES
    return math.floor(frames * (0.06 + 0.12 * ap.density))


def failures(ap: AccessPoint, st: ApState, radio: int) -> int:
    return math.floor(retries(ap, st, radio) * 0.04)


def utilisation_percent(seed: int, ap: AccessPoint, st: ApState, radio: int, t: float) -> int:
    """Channel busy time: neighbours (density) plus own load; 2.4 GHz is
    always busier (few channels, Bluetooth, microwaves)."""
    base = (12 if radio == 0 else 4) + 18 * ap.density
    wobble = 4 * stable_unit(seed, ap.ap, "util", radio, math.floor(t / 60)) - 2
    return max(0, min(98, round(base + 55 * st.load * BAND_SHARE[radio] * 1.6 + wobble)))


def noise_dbm(  # noqa: PLR0917 - mirrors the query's fields
    seed: int, ap: AccessPoint, st: ApState, radio: int, t: float, scan: int = 0
) -> int:
    """Noise floor, dBm: higher where the air is crowded and busy."""
    floor = -92.0 if radio == 0 else -96.0
    floor += (6 if radio == 0 else 4) * ap.density + 3 * st.load
    floor += 2 * stable_unit(seed, ap.ap, "noise", radio, scan, math.floor(t / 60)) - 1
    return round(floor) + (scan * 2 if scan else 0)


def uptime_ticks(seconds: float) -> int:
    """TimeTicks (1/100 s), wrapping at 2^32 as the type does."""
    return math.floor(seconds * 100) % 2**32


def _counter(value: int, bits: int) -> int:
    return value % (1 << bits)


_Getter = Callable[[int, AccessPoint, ApState, Query, float], int]

_GETTERS: dict[str, _Getter] = {
    "status": lambda seed, ap, st, q, t: q.on if st.up else q.off,
    "uptime": lambda seed, ap, st, q, t: uptime_ticks(st.uptime_s),
    "clients": lambda seed, ap, st, q, t: st.clients,
    "radio_clients": lambda seed, ap, st, q, t: radio_clients(st, q.radio),
    "cell_clients": lambda seed, ap, st, q, t: cell_clients(ap, st, q.radio, q.wlan),
    "uplink_rx": lambda seed, ap, st, q, t: _counter(uplink_bytes(st, True), q.bits),
    "uplink_tx": lambda seed, ap, st, q, t: _counter(uplink_bytes(st, False), q.bits),
    "radio_rx": lambda seed, ap, st, q, t: _counter(radio_bytes(st, q.radio, False), q.bits),
    "radio_tx": lambda seed, ap, st, q, t: _counter(radio_bytes(st, q.radio, True), q.bits),
    "cell_rx": lambda seed, ap, st, q, t: _counter(
        cell_bytes(ap, st, q.radio, q.wlan, False), q.bits
    ),
    "cell_tx": lambda seed, ap, st, q, t: _counter(
        cell_bytes(ap, st, q.radio, q.wlan, True), q.bits
    ),
    "retries": lambda seed, ap, st, q, t: _counter(retries(ap, st, q.radio), q.bits),
    "failures": lambda seed, ap, st, q, t: _counter(failures(ap, st, q.radio), q.bits),
    "util": lambda seed, ap, st, q, t: utilisation_percent(seed, ap, st, q.radio, t),
    "noise": lambda seed, ap, st, q, t: q.sign * -noise_dbm(seed, ap, st, q.radio, t, q.scan),
}
QUANTITIES = frozenset(_GETTERS)
# What an agent still answers for a rebooting AP: it is known, not joined,
# and its uptime restarted; everything it counts or measures is hidden.
WHILE_REBOOTING = frozenset({"status", "uptime"})


def visible(st: ApState, query: Query) -> bool:
    """Whether the agent answers ``query`` at all in state ``st``."""
    return st.counting or query.name in WHILE_REBOOTING


def answer(seed: int, ap: AccessPoint, query: Query, t: float) -> int:
    """The integer an agent answers for ``query`` at simulated time ``t``."""
    return answer_from(seed, ap, state(seed, ap, t), query, t)


def answer_from(seed: int, ap: AccessPoint, st: ApState, query: Query, t: float) -> int:
    """``answer`` with the AP's state at ``t`` already computed (agents
    answer a dozen cells of one AP per request)."""
    return _GETTERS[query.name](seed, ap, st, query, t)


def controller_uptime_ticks(boot_phase_s: float, t: float) -> int:
    return uptime_ticks(controller_uptime_s(boot_phase_s, t))
