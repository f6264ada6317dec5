"""The InfluxDB exporter: every poll written through the v2 write API, nothing lost.

Stages, none on the event loop:

- ``publish`` only appends the snapshot to an inbox (O(1), never waits);
- the *encoder* thread turns each snapshot into line protocol (new polls
  only, see ``influx_encoder``), updates the hourly district rollups and
  saves their open hour, and hands the lines to a channel's outbox;
- each channel's *writer* thread (``influx_channel``) sends its outbox's
  oldest batch (``batch_size`` points, or fewer once ``flush_interval``
  old; gzip) with a ``timeout``, backing off and spooling on failure.

There is one channel for ``bucket`` and, when ``rollup_bucket`` names
another bucket (one with a longer retention), a second one for the rollups.
Each outbox keeps up to ``queue_size`` points in memory and spools the rest
to disk under ``<state_dir>/influxdb/``: on a failed or slow write and at
stop. Spooled points are replayed in order once the server answers again,
also after a restart. A batch the server refuses for good (HTTP 400/422) is
parked in ``<state_dir>/influxdb/rejected/`` (``rejected-rollups/`` for the
rollup bucket) and the next one sent. The token is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path

from wifimon.config.schema import InfluxDbExporter
from wifimon.config.secret import Secret
from wifimon.exporting import STATE_DIR_KEY, Exporter
from wifimon.snapshot import Sample, Snapshot
from wifimon_exporters.influx_channel import Channel
from wifimon_exporters.influx_encoder import SnapshotEncoder
from wifimon_exporters.influx_files import remove_stale_temp_files
from wifimon_exporters.influx_rollups import DistrictRollup
from wifimon_exporters.influx_stats import InfluxStats
from wifimon_exporters.influx_writer import InfluxWriter, Sender, safe_url

log = logging.getLogger("wifimon.exporters.influxdb")

# Snapshots waiting for the encoder. It only falls behind if the disk stalls;
# past this, the oldest snapshot is dropped and its samples counted.
MAX_PENDING_SNAPSHOTS = 16
SenderFactory = Callable[[str], Sender]  # bucket -> sender


class InfluxExporter:
    """``start`` recovers the spools and the open rollup hour, then runs the threads.

    ``raw`` is the channel of ``bucket``; ``rollups`` that of the rollups,
    the same object unless ``rollup_bucket`` names another bucket.
    """

    def __init__(
        self, config: InfluxDbExporter, directory: Path, senders: SenderFactory | None = None
    ) -> None:
        self.config = config
        self.directory = directory
        self.stats = InfluxStats()
        make_sender = senders or self._influx_sender
        self.raw = self._channel(config.bucket, make_sender, "")
        self.rollups = self.raw
        if config.rollup_bucket and config.rollup_bucket != config.bucket:
            self.rollups = self._channel(config.rollup_bucket, make_sender, "-rollups")
        self.channels = [self.raw] if self.rollups is self.raw else [self.raw, self.rollups]
        self.rollup = DistrictRollup(directory / "rollup.json")
        self.encoder = SnapshotEncoder(self.rollup)
        self._inbox: deque[Snapshot] = deque()
        self._inbox_ready = threading.Condition()
        self._stopping = False
        self._encoder_thread = threading.Thread(
            target=self._encode_loop, name="influx-encode", daemon=True
        )

    def _influx_sender(self, bucket: str) -> Sender:
        token = self.config.token.reveal() if isinstance(self.config.token, Secret) else ""
        return InfluxWriter(
            self.config.url,
            self.config.org,
            bucket,
            token=token,
            timeout=self.config.timeout,
            gzip=self.config.gzip,
        )

    def _channel(self, bucket: str, make_sender: SenderFactory, suffix: str) -> Channel:
        """The channel of ``bucket``, its folders ``spool<suffix>`` and ``rejected<suffix>``."""
        config = self.config
        return Channel(
            bucket,
            make_sender(bucket),
            self.directory / f"spool{suffix}",
            self.stats,
            rejected_dir=self.directory / f"rejected{suffix}",
            batch_size=config.batch_size,
            queue_size=config.queue_size,
            flush_interval=config.flush_interval,
            spool_max_bytes=config.spool_max_bytes,
            timeout=config.timeout,
            max_retry_delay=config.max_retry_delay,
        )

    # --- the Exporter protocol -------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self._recover)
        self._encoder_thread.start()
        for channel in self.channels:
            channel.start()
        buckets = ", ".join(channel.name for channel in self.channels)
        log.info("writing to InfluxDB at %s, bucket %s", safe_url(self.config.url), buckets)

    def publish(self, snapshot: Snapshot) -> None:
        with self._inbox_ready:
            self._inbox.append(snapshot)
            if len(self._inbox) > MAX_PENDING_SNAPSHOTS:
                lost = self._inbox.popleft()
                self.stats.dropped["queue_full"] += sum(1 for _ in lost.samples())
                log.error(
                    "InfluxDB encoder is %d snapshots behind: dropped the oldest",
                    MAX_PENDING_SNAPSHOTS,
                )
            self._inbox_ready.notify()

    async def stop(self) -> None:
        await asyncio.to_thread(self._stop)

    def samples(self, now: float) -> list[Sample]:
        """Self-metrics for the daemon's snapshot (``wifimon_influxdb_*``)."""
        outboxes = [channel.outbox for channel in self.channels]
        return self.stats.samples(
            now,
            queued=sum(outbox.queued for outbox in outboxes),
            spool_points=sum(outbox.spool_points for outbox in outboxes),
            spool_bytes=sum(outbox.spool_bytes for outbox in outboxes),
        )

    @property
    def pending_snapshots(self) -> int:
        """Published snapshots the encoder has not taken yet."""
        with self._inbox_ready:
            return len(self._inbox)

    @property
    def idle(self) -> bool:
        """Nothing waits anywhere: inbox, memory or spool (for tests and benchmarks)."""
        return not self.pending_snapshots and all(
            channel.outbox.queued == 0 and channel.spool.empty for channel in self.channels
        )

    # --- start and stop ----------------------------------------------------

    def _recover(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            remove_stale_temp_files(self.directory)
        except OSError as error:
            log.error("InfluxDB state folder %s unusable: %s", self.directory, error)
        for channel in self.channels:
            channel.recover()
        self.rollup.load()

    def _stop(self) -> None:
        with self._inbox_ready:
            self._stopping = True
            self._inbox_ready.notify_all()
        if self._encoder_thread.is_alive():
            self._encoder_thread.join()  # every published snapshot reaches an outbox
        for channel in self.channels:
            channel.begin_stop()
        for channel in self.channels:
            channel.finish_stop()

    # --- the encoder thread -------------------------------------------------

    def _encode_loop(self) -> None:
        while True:
            with self._inbox_ready:
                self._inbox_ready.wait_for(lambda: self._inbox or self._stopping)
                if not self._inbox:
                    return
                snapshot = self._inbox.popleft()
            try:
                rollups, lines = self.encoder.encode(snapshot)
                self.rollups.outbox.put(rollups)
                self.raw.outbox.put(lines)
                self.rollup.save()
            except Exception:  # a bug here must not stop every later write
                log.exception("cannot encode snapshot %d for InfluxDB", snapshot.generation)


def create(settings: Mapping[str, object], current: Callable[[], Snapshot]) -> Exporter:
    """Entry point ``wifimon.exporters: influxdb``; ``settings`` is the
    ``exporters.influxdb`` section plus the daemon's ``state_dir``."""
    del current  # every poll is pushed; nothing is read on demand
    state_dir = settings.get(STATE_DIR_KEY)
    if state_dir is None:
        raise ValueError("the influxdb exporter needs the daemon's state_dir")
    section = {key: value for key, value in settings.items() if key != STATE_DIR_KEY}
    config = InfluxDbExporter.model_validate(section)
    return InfluxExporter(config, Path(str(state_dir)) / "influxdb")
