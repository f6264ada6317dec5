"""What waits for InfluxDB: a bounded memory queue in front of the disk spool.

Two modes, so that order is kept without ever inserting before spooled data:

- memory mode (the spool is empty): new lines join batches in memory, at
  most ``queue_size`` points; the writer sends the oldest batch once it is
  full or ``flush_interval`` old.
- spool mode (the spool holds points): memory is empty and new lines go
  straight to the spool; the writer replays the spool's oldest records.

A failed write, a full memory queue (a slow server) or a stop *spills*:
the batch in flight if it came from memory (it is the oldest), then every
memory batch, go to the spool in order. When the writer has replayed the
spool to its end, memory mode resumes. A memory batch still in flight when
a spill happens is spooled too and acknowledged in the spool if it then
succeeds, so it is neither lost nor sent twice.

A batch the server refuses for good (``reject``) leaves the outbox as an
accepted one does, acknowledged in the spool if it has a place there, but
is counted as rejected: the channel has parked its lines on disk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from wifimon_exporters.influx_spool import DropReport, Spool, SpoolRead
from wifimon_exporters.influx_stats import InfluxStats

log = logging.getLogger("wifimon.exporters.influxdb")


@dataclass(slots=True)
class _Batch:
    lines: list[str]
    created: float  # monotonic time of its first line


@dataclass(slots=True)
class Flight:
    """One write request on its way. ``read`` is its place in the spool, if it has one."""

    body: bytes
    points: int
    lines: list[str] | None  # set while it came from memory
    read: SpoolRead | None = None
    dropped: bool = False  # its spool segment was dropped while it flew


class Outbox:
    """Thread-safe; ``condition`` also wakes the writer when something arrives."""

    def __init__(
        self,
        spool: Spool,
        stats: InfluxStats,
        *,
        batch_size: int,
        queue_size: int,
        flush_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spool, self.stats = spool, stats
        self.batch_size, self.queue_size = batch_size, queue_size
        self.flush_interval = flush_interval
        self.clock = clock
        self.condition = threading.Condition()
        self.memory: deque[_Batch] = deque()
        self.memory_points = 0
        self.flight: Flight | None = None
        self.flush_all = False  # at stop: memory batches are due at once
        self._spool_failing = False
        self._spool_full_logged = False
        # Gauges read without the lock by the event loop (self-metrics), so
        # that it never waits behind an fsync; refreshed under the lock.
        self.queued = 0
        self.spool_points = 0
        self.spool_bytes = 0

    # --- the encoder's side ----------------------------------------------

    def put(self, lines: list[str]) -> None:
        """Queue ``lines`` (oldest first); never waits for the network."""
        if not lines:
            return
        with self.condition:
            if not self.spool.empty or self.memory_points + len(lines) > self.queue_size:
                if self.spool.empty:
                    log.warning(
                        "InfluxDB writes lag %d points behind; spooling to disk",
                        self.memory_points + len(lines),
                    )
                self._spill()
                self._spool_lines(lines)
            else:
                self._remember(lines)
            self.refresh_gauges()
            self.condition.notify_all()

    def _remember(self, lines: list[str]) -> None:
        now = self.clock()
        start = 0
        if self.memory and len(self.memory[-1].lines) < self.batch_size:
            last = self.memory[-1]
            start = self.batch_size - len(last.lines)
            last.lines.extend(lines[:start])
        for begin in range(start, len(lines), self.batch_size):
            self.memory.append(_Batch(lines[begin : begin + self.batch_size], now))
        self.memory_points += len(lines)

    # --- the writer's side -----------------------------------------------

    def due_in(self) -> float | None:
        """Seconds until something may be sent (0 now), None when nothing waits."""
        with self.condition:  # re-entrant: take() asks while holding it
            if self.flight is not None:
                return None
            if not self.spool.empty:
                return 0.0
            if not self.memory:
                return None
            head = self.memory[0]
            if len(head.lines) >= self.batch_size or self.flush_all:
                return 0.0
            return max(0.0, head.created + self.flush_interval - self.clock())

    def take(self) -> Flight | None:
        """The next request to send, oldest data first; None if nothing is due."""
        with self.condition:
            if self.due_in() != 0.0:
                return None
            if not self.spool.empty:
                read = self.spool.peek(self.batch_size)
                self._count_corrupt()
                if read is None:
                    return None
                self.flight = Flight(read.body, read.points, None, read)
            else:
                batch = self.memory.popleft()
                self.memory_points -= len(batch.lines)
                body = "\n".join(batch.lines).encode("utf-8")
                self.flight = Flight(body, len(batch.lines), batch.lines)
            self.refresh_gauges()
            return self.flight

    def complete(self, flight: Flight, accepted: bool, now: float) -> None:
        """Account the outcome of ``flight``; a failed memory batch is spilled."""
        with self.condition:
            try:
                if accepted:
                    self._accepted(flight, now)
                elif flight.dropped:
                    self.stats.dropped["spool_full"] += flight.points
                elif flight.read is None:
                    self._spill()  # still self.flight: it goes first
            finally:
                # Even if the spool failed us, the next flight must be able to start.
                self.flight = None
                self._count_corrupt()
                self.refresh_gauges()
                self.condition.notify_all()

    def reject(self, flight: Flight) -> None:
        """``flight`` will never be accepted (its lines are parked): let the next one go."""
        with self.condition:
            try:
                self.stats.rejected += flight.points
                self._settle(flight)
            finally:
                self.flight = None
                self._count_corrupt()
                self.refresh_gauges()
                self.condition.notify_all()

    def _accepted(self, flight: Flight, now: float) -> None:
        self.stats.written += flight.points
        self.stats.last_success = now
        if flight.lines is None:
            self.stats.replayed += flight.points
        self._settle(flight)

    def _settle(self, flight: Flight) -> None:
        """``flight`` is done with: off the spool too, if it is still there."""
        if flight.read is not None and not flight.dropped:
            self.spool.ack(flight.read)
        if self.spool.empty:
            self._spool_full_logged = False  # a later full spool is news again

    # --- spilling ----------------------------------------------------------

    def spill(self) -> None:
        """Move everything in memory to the spool (at stop, or on demand)."""
        with self.condition:
            self._spill()
            self.refresh_gauges()

    def refresh_gauges(self) -> None:
        with self.condition:
            flying = self.flight.points if self.flight and self.flight.read is None else 0
            self.queued = self.memory_points + flying
            self.spool_points, self.spool_bytes = self.spool.points, self.spool.bytes

    def _spill(self) -> None:
        flight = self.flight
        if flight is not None and flight.lines is not None and flight.read is None:
            # The oldest data of all: the spool is empty in memory mode.
            flight.read = self._spool_lines(flight.lines)
        while self.memory:
            batch = self.memory.popleft()
            self.memory_points -= len(batch.lines)
            self._spool_lines(batch.lines)

    def _spool_lines(self, lines: list[str]) -> SpoolRead | None:
        """Append ``lines`` as records of at most ``batch_size`` points; the
        place of the first record, for a flight that may yet succeed."""
        first: SpoolRead | None = None
        for begin in range(0, len(lines), self.batch_size):
            chunk = lines[begin : begin + self.batch_size]
            try:
                seq, offset, report = self.spool.append(chunk)
            except OSError as error:
                self._unwritable(len(chunk), error)
                continue
            self._spool_ok()
            self.stats.spooled += len(chunk)
            if first is None:
                first = SpoolRead(seq, offset, 1, len(chunk), b"")
            self._dropped(report)
        return first

    def _dropped(self, report: DropReport) -> None:
        if not report.points:
            return
        lost = report.points
        flight = self.flight
        if flight is not None and flight.read is not None and flight.read.seq in report.segments:
            # Its fate is decided by its answer: counted as dropped only if it fails.
            flight.dropped = True
            lost -= flight.points
        self.stats.dropped["spool_full"] += lost
        if not self._spool_full_logged:
            log.error(
                "InfluxDB spool is full (%d bytes): dropping the oldest points",
                self.spool.max_bytes,
            )
            self._spool_full_logged = True

    def _unwritable(self, points: int, error: OSError) -> None:
        self.stats.dropped["spool_unwritable"] += points
        if not self._spool_failing:
            log.error("cannot write the InfluxDB spool (%s); points are being lost", error)
        self._spool_failing = True

    def _spool_ok(self) -> None:
        if self._spool_failing:
            log.info("writing the InfluxDB spool works again")
        self._spool_failing = False

    def _count_corrupt(self) -> None:
        if self.spool.corrupt_points:
            self.stats.dropped["spool_corrupt"] += self.spool.corrupt_points
            self.spool.corrupt_points = 0
