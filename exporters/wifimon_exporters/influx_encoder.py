"""From published snapshots to the lines of each poll, written once each.

The daemon republishes the targets' last results with only its own metrics
changed (after a reload, for instance); a target's samples are encoded only
when its poll is newer than the last one encoded, so every poll lands
exactly once. The rollup sees each poll's samples too and hands back the
lines of any hour that poll closed, to be written first (they are older),
to the rollup bucket, tagged with the shard the snapshot's
``wifimon_shard_info`` names (none for an unsharded daemon).
"""

from __future__ import annotations

from wifimon.catalogue import metric
from wifimon.snapshot import Snapshot, TargetSnapshot, samples_of
from wifimon_exporters.influx_lines import LineBuilder
from wifimon_exporters.influx_rollups import DistrictRollup, shard_tag


class SnapshotEncoder:
    def __init__(self, rollup: DistrictRollup | None) -> None:
        self.rollup = rollup
        self._encoded: dict[str, float] = {}  # target -> start of its last encoded poll

    def fresh_targets(self, snapshot: Snapshot) -> list[TargetSnapshot]:
        """The targets of ``snapshot`` polled since the last encode."""
        fresh = [
            target
            for target in snapshot.targets.values()
            if target.started > self._encoded.get(target.target, float("-inf"))
        ]
        for target in fresh:
            self._encoded[target.target] = target.started
        return fresh

    def encode(self, snapshot: Snapshot) -> tuple[list[str], list[str]]:
        """Line protocol for what is new in ``snapshot``: the rollup hours it
        closed, then its fresh polls and the daemon's own metrics."""
        fresh = self.fresh_targets(snapshot)
        builder = LineBuilder()
        for target in fresh:
            for sample in target.samples:
                builder.add_sample(sample)
        for sample in snapshot.daemon:
            builder.add_sample(sample)
        if snapshot.daemon:
            stamp = int(max(sample.timestamp for sample in snapshot.daemon))
            for name, value in snapshot.histograms.items():
                builder.add_histogram(metric(name), value, stamp)
        rollups: list[str] = []
        shard = shard_tag(snapshot.daemon)
        if self.rollup is not None and shard is not None:
            self.rollup.shard = shard
        if self.rollup is not None and fresh:
            poll_time = min(target.started for target in fresh)
            rollups = self.rollup.observe(samples_of(fresh), poll_time)
        return rollups, list(builder.lines())
