"""Cost of district coverage for the demo city: build once, then per poll.

    .venv/bin/python bench/coverage.py 300 10000

For each city size: placing every AP in its quartier (point in polygon),
building the coverage model (project, buffer, clip: once per config load),
the first poll, a poll with nothing changed (cache hit), a poll where one AP
went down, and a poll where one AP in every district went down. Each figure
is the median of a few runs, in milliseconds, on this machine's one core.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from wifimon.geo.coverage import CoverageModel, CoveringAp
from wifimon.simulator.city import build_city
from wifimon.simulator.coverage_history import demo_districts
from wifimon.simulator.inventory import COVERAGE_RADIUS_M


def median_ms(action: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(size: int) -> dict[str, float]:
    city = build_city(size, 1)
    districts = demo_districts()
    positions = [(ap.longitude, ap.latitude) for ap in city.aps]
    aps = [CoveringAp(ap.ap, ap.longitude, ap.latitude, COVERAGE_RADIUS_M) for ap in city.aps]
    alive = frozenset(ap.ap for ap in city.aps if not ap.dead)
    one_down = alive - {min(alive)}
    first_per_district: dict[str, str] = {}
    for ap in city.aps:
        if ap.ap in alive:
            first_per_district.setdefault(ap.district, ap.ap)
    each_district_down = alive - set(first_per_district.values())
    figures = {
        "locate": median_ms(lambda: districts.locate(positions)),
        "build": median_ms(lambda: CoverageModel(districts, aps), runs=3),
    }

    def first_poll() -> None:
        CoverageModel(districts, aps).ratios(alive)

    figures["build+first"] = median_ms(first_poll, runs=3)
    model = CoverageModel(districts, aps)
    model.ratios(alive)
    figures["unchanged"] = median_ms(lambda: model.ratios(alive))

    def flip(down: frozenset[str]) -> Callable[[], None]:
        def run() -> None:
            model.ratios(down)
            model.ratios(alive)  # back, so every run recomputes

        return run

    figures["one AP down"] = median_ms(flip(one_down)) / 2
    figures["one AP down per district"] = median_ms(flip(each_district_down)) / 2
    return figures


def main(argv: list[str]) -> int:
    for size in [int(a) for a in argv] or [300, 10_000]:
        figures = measure(size)
        shown = ", ".join(f"{name} {value:.1f} ms" for name, value in figures.items())
        print(f"{size} APs: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
