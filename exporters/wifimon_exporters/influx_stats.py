"""The InfluxDB exporter's own counters, as catalogue samples for the snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field

from wifimon.catalogue import INFLUX_DROP_REASONS, INFLUX_WRITE_ERROR_KINDS, metric
from wifimon.snapshot import Sample


def _zeros(keys: tuple[str, ...]) -> dict[str, int]:
    return dict.fromkeys(keys, 0)


@dataclass
class InfluxStats:
    """Totals since start; gauges (queued, spool size) are filled in by the exporter.

    Written under the outbox lock or by the one writer thread; read without a
    lock for the self-metrics, which may then lag one update behind.
    """

    written: int = 0
    spooled: int = 0
    replayed: int = 0
    rejected: int = 0  # refused for good by the server, parked in rejected/
    rejected_pruned: int = 0  # of those, removed again by rejected/'s bound
    dropped: dict[str, int] = field(default_factory=lambda: _zeros(INFLUX_DROP_REASONS))
    errors: dict[str, int] = field(default_factory=lambda: _zeros(INFLUX_WRITE_ERROR_KINDS))
    last_success: float = 0.0

    def samples(self, now: float, queued: int, spool_points: int, spool_bytes: int) -> list[Sample]:
        def one(name: str, value: float, *labels: str) -> Sample:
            return Sample(metric(name), labels, value, now)

        out = [
            one("wifimon_influxdb_points_written_total", self.written),
            one("wifimon_influxdb_points_queued", queued),
            one("wifimon_influxdb_points_spooled_total", self.spooled),
            one("wifimon_influxdb_points_replayed_total", self.replayed),
            one("wifimon_influxdb_spool_points", spool_points),
            one("wifimon_influxdb_spool_bytes", spool_bytes),
            one("wifimon_influxdb_points_rejected_total", self.rejected),
            one("wifimon_influxdb_rejected_points_pruned_total", self.rejected_pruned),
        ]
        out += [
            one("wifimon_influxdb_points_dropped_total", count, reason)
            for reason, count in self.dropped.items()
        ]
        out += [
            one("wifimon_influxdb_write_errors_total", count, kind)
            for kind, count in self.errors.items()
        ]
        if self.last_success:
            out.append(
                one("wifimon_influxdb_last_write_success_timestamp_seconds", self.last_success)
            )
        return out
