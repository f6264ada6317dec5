"""The district samples of the city's past, as the daemon would have exported them.

Fed one AP at a time like ``rollup.Rollup``, it keeps, per moment, which
APs were up (one bit per AP), then measures each district's coverage with
the daemon's own ``CoverageModel`` over the shipped quartier polygons and
the demo config's radius. Consecutive moments with the same APs up cost a
look-up, so a month of history costs little more than its reboots.

The live demo config gives every AP the same radius
(``inventory.COVERAGE_RADIUS_M``); so does this.
"""

from __future__ import annotations

from collections.abc import Iterator

from wifimon.geo.coverage import CoverageModel, CoveringAp
from wifimon.geo.districts import DistrictMap, read_districts
from wifimon.simulator.city import AccessPoint, City
from wifimon.simulator.exported import Exported
from wifimon.simulator.inventory import COVERAGE_RADIUS_M, DISTRICTS_GEOJSON

COVERAGE = "wifimon_district_coverage_ratio"
AREA = "wifimon_district_area_square_meters"
UNASSIGNED_APS = "wifimon_district_unassigned_aps"


def demo_districts() -> DistrictMap:
    """The shipped quartiers of Mulhouse; a broken file is a bug of the package."""
    districts, issues = read_districts(DISTRICTS_GEOJSON, DISTRICTS_GEOJSON.name)
    if districts is None:
        raise ValueError("; ".join(str(issue) for issue in issues))
    return districts


class CoverageHistory:
    def __init__(self, city: City, moments: list[float]) -> None:
        self.moments = moments
        self.bit = {ap.ap: 1 << index for index, ap in enumerate(city.aps)}
        self.ids = [ap.ap for ap in city.aps]
        self.up_bits = [0] * len(moments)
        self.model = CoverageModel(
            demo_districts(),
            [CoveringAp(ap.ap, ap.longitude, ap.latitude, COVERAGE_RADIUS_M) for ap in city.aps],
        )

    def add(self, ap: AccessPoint, index: int, samples: list[Exported]) -> None:
        """Note ``ap`` as up at ``moments[index]`` if its samples say so."""
        for sample in samples:
            if sample.name == "wifimon_ap_up" and sample.value:
                self.up_bits[index] |= self.bit[ap.ap]

    def _ratios(self) -> list[dict[str, float]]:
        ratios: list[dict[str, float]] = []
        last_bits, last = -1, {}
        for bits in self.up_bits:
            if bits != last_bits:
                up = {ap for ap in self.ids if bits & self.bit[ap]}
                last_bits, last = bits, self.model.ratios(up)
            ratios.append(last)
        return ratios

    def samples(self) -> Iterator[tuple[float, Exported]]:
        """Each series' moments in order, one family after the other."""
        ratios = self._ratios()
        for district in self.model.names:
            for moment, by_district in zip(self.moments, ratios, strict=True):
                yield moment, Exported(COVERAGE, (district,), by_district[district])
        for district, area in self.model.areas().items():
            for moment in self.moments:
                yield moment, Exported(AREA, (district,), round(area))
        for moment in self.moments:
            yield moment, Exported(UNASSIGNED_APS, (), 0)  # every demo AP is in its quartier
