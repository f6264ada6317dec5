"""From a poll round to the district samples: coverage ratio, area, unassigned APs.

The daemon calls ``DistrictMetrics.samples`` once per published round. It
reads which APs are up from the round's ``wifimon_ap_up`` samples (the same
numbers every exporter sees), so an AP that stops answering leaves a hole in
its district's coverage in the very round that marks it down.

The coverage model is rebuilt only when the config object changes (start,
reload); the up set of a target is re-read only when that target was polled
again; an unchanged up set costs a dictionary look-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from wifimon.catalogue import metric
from wifimon.config import Config
from wifimon.geo.districts import UNASSIGNED, log_unassigned
from wifimon.normalise import KnownAp
from wifimon.snapshot import Sample, TargetSnapshot

if TYPE_CHECKING:  # imported when districts are first used: shapely and pyproj are big
    from wifimon.geo.coverage import CoverageModel, CoveringAp

COVERAGE = metric("wifimon_district_coverage_ratio")
AREA = metric("wifimon_district_area_square_meters")
UNASSIGNED_APS = metric("wifimon_district_unassigned_aps")
AP_UP = metric("wifimon_ap_up")


def covering_aps(config: Config, polled: Iterable[KnownAp]) -> list[CoveringAp]:
    """The APs with coordinates among ``polled`` (the inventory this daemon
    polls: with sharding, only its own part), with their radius in metres."""
    from wifimon.geo.coverage import CoveringAp  # noqa: PLC0415 - see TYPE_CHECKING

    wanted = {entry.ap for entry in polled}
    default = config.coverage.default_radius_m
    return [
        CoveringAp(ap.ap, ap.longitude, ap.latitude, ap.coverage_radius_m or default)
        for ap in config.access_points
        if ap.ap in wanted and ap.latitude is not None and ap.longitude is not None
    ]


def unassigned_aps(config: Config) -> list[str]:
    """The ids of the APs with coordinates that no district polygon holds."""
    return [
        ap.ap
        for ap in config.access_points
        if ap.district == UNASSIGNED and ap.latitude is not None and ap.longitude is not None
    ]


class DistrictMetrics:
    """District samples for each round; empty without ``districts_geojson``."""

    def __init__(self) -> None:
        self._config: Config | None = None
        self._model: CoverageModel | None = None
        self._unassigned = 0
        # target -> (start of the poll read, APs it reported up)
        self._up_by_target: dict[str, tuple[float, frozenset[str]]] = {}

    def samples(
        self,
        config: Config,
        inventory: Iterable[KnownAp],
        rounds: Sequence[TargetSnapshot],
        now: float,
    ) -> list[Sample]:
        """``inventory``: the APs of the running targets; ``rounds``: each
        target's newest poll, e.g. the ``snapshots`` the daemon publishes."""
        if config is not self._config:
            self._rebuild(config, inventory)
        model = self._model
        if model is None:
            return []
        ratios = model.ratios(self._up(rounds))
        out = [Sample(COVERAGE, (name,), ratio, now) for name, ratio in ratios.items()]
        out += [Sample(AREA, (name,), area, now) for name, area in model.areas().items()]
        out.append(Sample(UNASSIGNED_APS, (), self._unassigned, now))
        return out

    def _rebuild(self, config: Config, inventory: Iterable[KnownAp]) -> None:
        self._config = config
        districts = config.districts
        self._model = None
        if districts is not None:
            from wifimon.geo.coverage import CoverageModel  # noqa: PLC0415 - see TYPE_CHECKING

            self._model = CoverageModel(districts, covering_aps(config, inventory))
        outside = unassigned_aps(config) if districts is not None else []
        self._unassigned = len(outside)
        # Here rather than in load_config: once per (re)load of the running
        # daemon, not again for every check of the file.
        log_unassigned(outside, str(config.districts_geojson))

    def _up(self, rounds: Sequence[TargetSnapshot]) -> frozenset[str]:
        seen: dict[str, tuple[float, frozenset[str]]] = {}
        for snap in rounds:
            cached = self._up_by_target.get(snap.target)
            if cached is None or cached[0] != snap.started:
                cached = (snap.started, up_aps(snap.samples))
            seen[snap.target] = cached
        self._up_by_target = seen  # forgets targets no longer polled
        return frozenset().union(*(up for _, up in seen.values()))


def up_aps(samples: Iterable[Sample]) -> frozenset[str]:
    """The ``ap`` label of every ``wifimon_ap_up`` sample at 1."""
    return frozenset(s.labels[0] for s in samples if s.metric.name == AP_UP.name and s.value == 1)
