"""Hourly district rollups for planners: ``wifimon_district_hourly``.

Years of per-AP points make long-range planner queries slow on any InfluxDB
version, and server-side downsampling differs between 1.x, 2.x and 3.x. So
the daemon writes one line per district and hour itself, computed from the
hour's polls (the same definitions as the demo city's history):

- ``aps``: APs in the district (the most any poll of the hour reported);
- ``aps_up``: the mean number of APs up per poll, rounded;
- ``availability_ratio``: AP-polls up over AP-polls, 0..1;
- ``clients_mean`` / ``clients_max``: the district's clients summed over its
  APs, averaged over / highest of the hour's polls;
- ``receive_bytes`` / ``transmit_bytes``: the increase of the APs' uplink
  counters within the hour (a counter that went down counts its new value,
  as ``increase()`` does); APs that report no uplink counters add nothing;
- ``ap_polls`` / ``up_polls``: AP-polls of the hour and those that found the
  AP up (``availability_ratio`` is their quotient).

Shards (``--shard 2/3``) each poll a part of a district, so each writes its
own partial line for the district and hour. A sharded daemon's lines carry
the tag ``shard`` (its index, e.g. ``2``) so they coexist instead of
overwriting one another; readers sum a district's lines of one hour (see
``influx_queries``), availability as sum(up_polls) / sum(ap_polls). An
unsharded daemon's lines have no ``shard`` tag, so an HA pair of unsharded
daemons still writes one series. The shard comes from the daemon's
``wifimon_shard_info`` sample in every snapshot (``shard_tag``); a closed
hour is tagged with the shard the daemon has when it closes it.

A line is stamped with the start of its hour and emitted when the first poll
of a later hour arrives. The open hour and the last counter readings are
saved under ``state_dir`` after every poll, so a restart neither loses the
hour nor counts a counter twice. A reading older than ``MAX_GAP_SECONDS``
starts afresh instead of pouring a long gap's traffic into one hour.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from wifimon.snapshot import Sample
from wifimon_exporters.influx_files import write_atomically
from wifimon_exporters.influx_lines import LineBuilder, Tags
from wifimon_exporters.influx_schema import ROLLUP_FIELDS, ROLLUP_MEASUREMENT, ROLLUP_TAGS

log = logging.getLogger("wifimon.exporters.influxdb")

HOUR = 3600
MAX_GAP_SECONDS = 3600.0
FORMAT_VERSION = 1
_UPLINK = {"wifimon_ap_receive_bytes_total": 0, "wifimon_ap_transmit_bytes_total": 1}


def shard_tag(daemon: Iterable[Sample]) -> str | None:
    """The ``shard`` tag from the daemon's ``wifimon_shard_info{index,count}``
    sample: ``"2"`` for shard 2/3, ``""`` for the whole fleet (1/1), None
    when ``daemon`` holds no such sample (the last known tag then stays)."""
    for sample in daemon:
        if sample.metric.name == "wifimon_shard_info":
            labels = dict(zip(sample.metric.labels, sample.labels, strict=True))
            return "" if labels["count"] == "1" else labels["index"]
    return None


@dataclass
class DistrictHour:
    """Running sums of one district over the polls of one hour."""

    polls: int = 0
    aps: int = 0
    ap_polls: int = 0
    up_polls: int = 0
    clients_sum: int = 0
    clients_max: int = 0
    receive_bytes: int = 0
    transmit_bytes: int = 0

    def fields(self) -> dict[str, int | float]:
        return {
            "aps": self.aps,
            "aps_up": round(self.up_polls / self.polls),
            "availability_ratio": self.up_polls / self.ap_polls if self.ap_polls else 0.0,
            "clients_mean": self.clients_sum / self.polls,
            "clients_max": self.clients_max,
            "receive_bytes": self.receive_bytes,
            "transmit_bytes": self.transmit_bytes,
            "ap_polls": self.ap_polls,
            "up_polls": self.up_polls,
        }


@dataclass
class _Poll:
    """One poll's totals of one district."""

    aps: int = 0
    up: int = 0
    clients: int = 0


class DistrictRollup:
    """Feed it every poll's samples with ``observe``; it returns closed hours' lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shard = ""  # the ``shard`` tag of the lines: "" (none) unless sharded
        self.hour: int | None = None
        self.districts: dict[str, DistrictHour] = {}
        # "<ap>\x1f<0|1>" -> [counter value, poll time]
        self.readings: dict[str, list[float]] = {}
        self._save_failing = False  # log a failing disk once, not every poll

    def observe(self, samples: Iterable[Sample], poll_time: float) -> list[str]:
        """Account one poll (all its targets' samples); lines of any hour it closes."""
        hour = int(poll_time // HOUR) * HOUR
        closed = self._close() if self.hour is not None and hour > self.hour else []
        if self.hour is None or hour > self.hour:
            self.hour = hour
        polls: dict[str, _Poll] = {}
        for sample in samples:
            self._account(sample, polls)
        for district, poll in polls.items():
            if poll.aps:
                self._add_poll(self.districts.setdefault(district, DistrictHour()), poll)
        return closed

    def _account(self, sample: Sample, polls: dict[str, _Poll]) -> None:
        name = sample.metric.name
        if name not in ("wifimon_ap_up", "wifimon_ap_clients") and name not in _UPLINK:
            return
        ap, _, district = sample.labels[:3]
        if name == "wifimon_ap_up":
            poll = polls.setdefault(district, _Poll())
            poll.aps += 1
            poll.up += int(sample.value == 1)
        elif name == "wifimon_ap_clients":
            polls.setdefault(district, _Poll()).clients += int(sample.value)
        else:
            increase = self._increase(f"{ap}\x1f{_UPLINK[name]}", int(sample.value), sample)
            hour = self.districts.setdefault(district, DistrictHour())
            if _UPLINK[name] == 0:
                hour.receive_bytes += increase
            else:
                hour.transmit_bytes += increase

    def _increase(self, key: str, value: int, sample: Sample) -> int:
        before = self.readings.get(key)
        self.readings[key] = [value, sample.timestamp]
        if before is None or sample.timestamp - before[1] > MAX_GAP_SECONDS:
            return 0
        if sample.timestamp <= before[1]:
            return 0  # the same poll seen twice: nothing new
        return value - int(before[0]) if value >= before[0] else value

    @staticmethod
    def _add_poll(hour: DistrictHour, poll: _Poll) -> None:
        hour.polls += 1
        hour.aps = max(hour.aps, poll.aps)
        hour.ap_polls += poll.aps
        hour.up_polls += poll.up
        hour.clients_sum += poll.clients
        hour.clients_max = max(hour.clients_max, poll.clients)

    def _close(self) -> list[str]:
        assert self.hour is not None
        builder = LineBuilder()
        for district, hour in sorted(self.districts.items()):
            if not hour.polls:
                continue  # traffic seen, but no AP state: no honest availability
            key = (ROLLUP_MEASUREMENT, self._tags(district), self.hour)
            for name, value in hour.fields().items():
                builder.add(key, name, value, ROLLUP_FIELDS[name])
        self.districts = {}
        return list(builder.lines())

    def _tags(self, district: str) -> Tags:
        """E.g. ``(("district", "Gare"), ("shard", "2"))``; empty values left out."""
        values = (district, self.shard)
        return tuple((key, value) for key, value in zip(ROLLUP_TAGS, values, strict=True) if value)

    # --- persistence -------------------------------------------------------

    def save(self) -> None:
        """Write the open hour and the readings atomically; failures are logged."""
        document = {
            "version": FORMAT_VERSION,
            "hour": self.hour,
            "districts": {name: asdict(hour) for name, hour in self.districts.items()},
            "readings": self.readings,
        }
        try:
            write_atomically(self.path, json.dumps(document, allow_nan=False).encode())
        except (OSError, ValueError) as error:
            if not self._save_failing:
                log.error("cannot save the open rollup hour to %s: %s", self.path, error)
            self._save_failing = True
            return
        if self._save_failing:
            log.info("the open rollup hour is saved again to %s", self.path)
        self._save_failing = False

    def load(self) -> None:
        """Restore what ``save`` wrote; an unreadable file is logged and ignored."""
        try:
            document = json.loads(self.path.read_bytes())
            if document.get("version") != FORMAT_VERSION:
                raise ValueError("unknown version")
            names = {f.name for f in fields(DistrictHour)}
            districts = {
                name: DistrictHour(**{k: int(v) for k, v in hour.items() if k in names})
                for name, hour in document["districts"].items()
            }
            readings = {k: [float(v[0]), float(v[1])] for k, v in document["readings"].items()}
            hour = document["hour"]
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
            log.error("ignoring unreadable rollup state %s: %s", self.path, error)
            return
        self.hour = None if hour is None else int(hour)
        self.districts, self.readings = districts, readings
