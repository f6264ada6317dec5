"""One destination bucket: its outbox (memory + spool) and the thread that writes it.

The writer thread sends the outbox's oldest batch once it is due, one
request at a time. A failure is logged once per kind (not per attempt) and
retried with exponential backoff up to ``max_retry_delay``; refusals that no
retry fixes (bad token, unknown bucket) wait the full ``max_retry_delay``
every time. Meanwhile the outbox spools. A batch the server refuses for good
(HTTP 400 or 422: malformed, field type conflict) is parked in the
``rejected_dir`` folder instead, counted, logged once per status, and the
next batch goes at once: one bad batch never holds the others back. At stop, memory
batches still due are sent while the server is healthy, for at most one
``timeout``; the rest waits in the spool for the next start.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from pathlib import Path

from wifimon_exporters.influx_outbox import Flight, Outbox
from wifimon_exporters.influx_rejected import RejectedStore
from wifimon_exporters.influx_spool import Spool
from wifimon_exporters.influx_stats import InfluxStats
from wifimon_exporters.influx_writer import Sender, WriteOutcome

log = logging.getLogger("wifimon.exporters.influxdb")

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_AFTER_SECONDS = 600.0  # a server's Retry-After is obeyed up to this
JOIN_GRACE_SECONDS = 5.0


class Channel:
    """Spool folder ``spool_dir``, sent with ``sender``; ``start``/``stop`` its thread."""

    def __init__(
        self,
        name: str,
        sender: Sender,
        spool_dir: Path,
        stats: InfluxStats,
        *,
        rejected_dir: Path,
        batch_size: int,
        queue_size: int,
        flush_interval: float,
        spool_max_bytes: int,
        timeout: float,
        max_retry_delay: float,
    ) -> None:
        self.name, self.sender, self.stats = name, sender, stats
        self.timeout, self.max_retry_delay = timeout, max_retry_delay
        self.spool = Spool(spool_dir, spool_max_bytes)
        self.rejected = RejectedStore(rejected_dir)
        self.outbox = Outbox(
            self.spool,
            stats,
            batch_size=batch_size,
            queue_size=queue_size,
            flush_interval=flush_interval,
        )
        self._thread = threading.Thread(target=self._write_loop, name=f"influx-{name}", daemon=True)
        self._stopping = False
        self._stop_deadline = 0.0
        self._failures = 0
        self._reported: str | None = None
        self._rejections_reported: set[int] = set()  # statuses already logged
        self._retry_at = 0.0

    def recover(self) -> None:
        """Index what a previous run spooled; an unusable folder is logged, not raised."""
        try:
            self.spool.open()
        except OSError as error:
            # Polling and the other exporters matter more: run without a
            # spool; what cannot be spooled is counted as spool_unwritable.
            log.error("InfluxDB spool in %s unusable: %s", self.spool.directory, error)
        self.outbox.refresh_gauges()
        if not self.spool.empty:
            log.info(
                "replaying %d spooled InfluxDB points (%d bytes) left by the previous run",
                self.spool.points,
                self.spool.bytes,
            )

    def start(self) -> None:
        self._thread.start()

    def begin_stop(self) -> None:
        """Send what memory holds while the server is healthy, for at most one timeout."""
        with self.outbox.condition:
            self._stopping = True
            self.outbox.flush_all = True
            self._stop_deadline = time.monotonic() + self.timeout
            self.outbox.condition.notify_all()

    def finish_stop(self) -> None:
        """Wait for the thread, then spool whatever is left in memory."""
        if self._thread.is_alive():
            self._thread.join(self.timeout + JOIN_GRACE_SECONDS)
        self.outbox.spill()
        self.spool.close()
        self.sender.close()
        if not self.spool.empty:
            log.info(
                "%d InfluxDB points stay spooled in %s for the next start",
                self.spool.points,
                self.spool.directory,
            )

    # --- the writer thread ----------------------------------------------------

    def _write_loop(self) -> None:
        failing = False  # one log line per run of failures, not one per batch
        while self._wait_until_due():
            try:
                self._write_one()
            except OSError as error:  # the spool's disk failing must not end the writer
                if not failing:
                    log.error("InfluxDB writer: spool error (%s); trying again later", error)
                failing = True
                self._retry_at = time.monotonic() + self.max_retry_delay
            except Exception:  # a bug must not end the writer either; show where
                log.exception("InfluxDB writer: unexpected error; trying again later")
                self._retry_at = time.monotonic() + self.max_retry_delay
            else:
                if failing:
                    log.info("InfluxDB writer: spool usable again")
                failing = False

    def _write_one(self) -> None:
        flight = self.outbox.take()
        if flight is None:
            return
        outcome = self.sender.write(flight.body)
        if outcome.unacceptable:
            self._reject(flight, outcome)
            return
        self.outbox.complete(flight, outcome.ok, time.time())
        self._account(outcome)

    def _reject(self, flight: Flight, outcome: WriteOutcome) -> None:
        """Park ``flight``'s lines and move on; the server answers, so no backoff."""
        self.stats.errors["rejected"] += 1
        try:
            parked, pruned = self.rejected.park(flight.body)
        except OSError as error:
            # Still refused for good: holding it would block everything behind it.
            log.error(
                "cannot keep a rejected InfluxDB batch in %s: %s", self.rejected.directory, error
            )
            where = "lost (it could not be written)"
        else:
            self.stats.rejected_pruned += pruned
            where = f"kept in {parked}"
        self.outbox.reject(flight)
        self._retry_at = 0.0
        if outcome.status in self._rejections_reported:
            log.debug("InfluxDB rejected another batch of %d points: %s", flight.points, where)
            return
        self._rejections_reported.add(outcome.status)
        log.error(
            "%s; the batch of %d points is %s and later batches go on "
            "(further HTTP %d rejections are only counted)",
            self.sender.describe(outcome),
            flight.points,
            where,
            outcome.status,
        )

    def _wait_until_due(self) -> bool:
        """Sleep until a batch is due and no backoff holds it; False: time to stop."""
        with self.outbox.condition:
            while True:
                now = time.monotonic()
                due = self.outbox.due_in()
                if self._stopping and self._should_quit(now, due):
                    return False
                if due is not None and max(due, self._retry_at - now) <= 0:
                    return True
                waits = [w for w in (due, self._retry_at - now) if w is not None and w > 0]
                self.outbox.condition.wait(min(waits) if waits else None)

    def _should_quit(self, now: float, due: float | None) -> bool:
        # At stop, only memory batches are sent, while the server is healthy;
        # the spool is for the next start.
        failing = self._retry_at > now
        return failing or due is None or not self.spool.empty or now > self._stop_deadline

    def _account(self, outcome: WriteOutcome) -> None:
        if outcome.ok:
            if self._failures:
                log.info(
                    "InfluxDB accepts writes again (bucket %s) after %d failed attempts",
                    self.name,
                    self._failures,
                )
            self._failures, self._reported, self._retry_at = 0, None, 0.0
            return
        assert outcome.kind is not None
        self.stats.errors[outcome.kind] += 1
        self._failures += 1
        delay = self._backoff(outcome)
        self._retry_at = time.monotonic() + delay
        if outcome.kind == self._reported:
            log.debug("InfluxDB write failed again (%s)", outcome.kind)
            return
        self._reported = outcome.kind
        advice = "this will not fix itself; " if outcome.permanent else ""
        log.error(
            "%s; %spoints go to the spool (%d waiting), next attempt in %.0f s",
            self.sender.describe(outcome),
            advice,
            self.spool.points,
            delay,
        )

    def _backoff(self, outcome: WriteOutcome) -> float:
        if outcome.permanent:
            delay = self.max_retry_delay
        else:
            exponential = FIRST_RETRY_SECONDS * 2 ** min(self._failures - 1, 20)
            # Jitter spreads the retries of many daemons after a shared outage.
            delay = min(self.max_retry_delay, exponential) * random.uniform(0.75, 1.0)  # noqa: S311
        if outcome.retry_after:
            delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER_SECONDS))
        return delay
