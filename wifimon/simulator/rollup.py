"""Sums over APs for the history files: controller and target series, and
the planners' hourly district rollup (``wifimon_district_hourly``).

Fed one AP at a time (all its moments in order), it keeps per-step sums
per district and controller, never per AP, so memory follows the number
of steps, not the size of the city.

``wifimon_district_hourly`` fields (METRICS.md): ``aps`` APs in the
district; ``aps_up`` the mean number up in the hour, rounded;
``availability_ratio`` that mean over ``aps``; ``clients_mean`` and
``clients_max`` of the district's reported clients over the hour's
samples; ``receive_bytes``/``transmit_bytes`` the uplink traffic counted
in the hour (counter increases, a reset counting its new value, as
``increase()`` does).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from wifimon.simulator.city import AccessPoint, City
from wifimon.simulator.exported import Exported

HOUR = 3600
_COUNTERS = {"wifimon_ap_receive_bytes_total": 0, "wifimon_ap_transmit_bytes_total": 1}


class Rollup:
    def __init__(self, city: City, moments: list[float]) -> None:
        self.city, self.moments = city, moments
        size = len(moments)
        self.up: dict[str, list[int]] = defaultdict(lambda: [0] * size)
        self.clients: dict[str, list[int]] = defaultdict(lambda: [0] * size)
        self.traffic: dict[str, list[list[int]]] = defaultdict(lambda: [[0] * size, [0] * size])
        self.controller_up: dict[str, list[int]] = defaultdict(lambda: [0] * size)
        self.aps: dict[str, int] = defaultdict(int)
        for ap in city.aps:
            self.aps[ap.district] += 1
        self._current = ""
        self._last = [-1, -1]

    def add(self, ap: AccessPoint, index: int, samples: list[Exported]) -> None:
        """Account for ``ap``'s samples at ``moments[index]`` (APs one after another)."""
        if ap.ap != self._current:
            self._current, self._last = ap.ap, [-1, -1]
        for sample in samples:
            value = int(sample.value)
            if sample.name == "wifimon_ap_up" and value:
                self.up[ap.district][index] += 1
                if ap.controller:
                    self.controller_up[ap.controller][index] += 1
            elif sample.name == "wifimon_ap_clients":
                self.clients[ap.district][index] += value
            elif sample.name in _COUNTERS:
                slot = _COUNTERS[sample.name]
                before = self._last[slot]
                if before >= 0:
                    self.traffic[ap.district][slot][index] += (
                        value - before if value >= before else value
                    )
                self._last[slot] = value

    def samples(self) -> Iterator[tuple[float, Exported]]:
        """Controller and target series, each series' moments in order."""
        for controller in self.city.controllers:
            total = len(self.city.controller_aps(controller.name))
            up = self.controller_up[controller.name]
            for state in ("up", "down"):
                for index, moment in enumerate(self.moments):
                    count = up[index] if state == "up" else total - up[index]
                    yield (
                        moment,
                        Exported("wifimon_controller_aps", (controller.name, state), count),
                    )
            for moment in self.moments:
                yield moment, Exported("wifimon_target_up", (controller.name,), 1)
        for ap in self.city.standalone_aps():
            for moment in self.moments:
                yield moment, Exported("wifimon_target_up", (ap.ap,), 0 if ap.dead else 1)

    def hourly_lines(self) -> Iterator[str]:
        """``wifimon_district_hourly`` line protocol, one line per district and hour."""
        hours: dict[int, list[int]] = defaultdict(list)
        for index, moment in enumerate(self.moments):
            hours[int(moment // HOUR) * HOUR].append(index)
        for district in sorted(self.aps):
            aps = self.aps[district]
            for hour, indexes in sorted(hours.items()):
                yield self._hour_line(district, aps, hour, indexes)

    def _hour_line(self, district: str, aps: int, hour: int, indexes: list[int]) -> str:
        up = [self.up[district][i] for i in indexes]
        clients = [self.clients[district][i] for i in indexes]
        rx, tx = (sum(self.traffic[district][slot][i] for i in indexes) for slot in (0, 1))
        mean_up = sum(up) / len(up)
        tag = (
            district.replace("\\", "\\\\")
            .replace(",", "\\,")
            .replace("=", "\\=")
            .replace(" ", "\\ ")
        )
        fields = (
            f"aps={aps}i,aps_up={round(mean_up)}i,availability_ratio={mean_up / aps!r},"
            f"clients_mean={sum(clients) / len(clients)!r},clients_max={max(clients)}i,"
            f"receive_bytes={rx}i,transmit_bytes={tx}i"
        )
        return f"wifimon_district_hourly,district={tag} {fields} {hour * 1_000_000_000}\n"
