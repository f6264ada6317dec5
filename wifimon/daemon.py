"""The long-running daemon: poll on its own clock, publish, persist, reload.

It polls every ``interval`` whether or not anyone scrapes (InfluxDB needs
the data too), publishes one immutable snapshot per round to every
exporter, saves known APs and counter state after each round, stops
cleanly on SIGTERM/SIGINT and reloads on SIGHUP: a bad new config is
logged and counted and the old one keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wifimon.config import Config, ConfigError, load_config
from wifimon.counters import CounterReconciler
from wifimon.exporting import (
    STATE_DIR_KEY,
    Exporter,
    exporter_samples,
    load_exporter_factories,
)
from wifimon.geo.district_metrics import DistrictMetrics
from wifimon.memory import limit_malloc_arenas, release_free_memory, tune_garbage_collector
from wifimon.profiles.registry import ProfileRegistry, default_registry
from wifimon.scheduler import PollRound, PollTarget
from wifimon.selfmetrics import DaemonMetrics, state_file_samples
from wifimon.sharding import WHOLE_FLEET, Shard
from wifimon.snapshot import Snapshot, TargetSnapshot
from wifimon.snmp.fast_transport import FastTransport
from wifimon.snmp.v3_diagnosis import DiagnosingTransport
from wifimon.state import PersistedState, StateStore
from wifimon.targets import build_targets, known_from_state, known_to_state

log = logging.getLogger("wifimon.daemon")


@dataclass
class _Running:
    """What a (re)load produces; swapped in one assignment on reload."""

    config: Config
    targets: list[PollTarget]


class Daemon:
    def __init__(
        self,
        config_path: Path,
        registry: ProfileRegistry | None = None,
        shard: Shard | None = None,
        config: Config | None = None,
    ) -> None:
        """``config``: ``config_path`` already loaded (a 10,000-AP inventory
        takes seconds to check, so the CLI's check is not repeated)."""
        self.config_path = config_path
        self.registry = registry or default_registry()
        self.shard = shard  # from the command line; overrides the config's `shard`
        if config is None:
            config = load_config(config_path, known_profiles=set(self.registry.profiles))
        self.running = _Running(config, build_targets(config, shard))
        self.metrics = DaemonMetrics(reload_timestamp=time.time())
        self._count_shard(config)
        self.store = StateStore(Path(config.state_dir))
        state = self.store.load()
        self.counters = CounterReconciler()
        self.counters.import_state(state.counters)
        # Wrong SNMPv3 privacy keys look like a dead agent on the wire; the
        # wrapper tells them apart so the error says ``auth``.
        self.transport = DiagnosingTransport(FastTransport(concurrency=config.poll.concurrency))
        self.rounds = PollRound(
            self.transport,
            self.registry,
            self.counters,
            config.poll.interval,
            known=known_from_state(state),
            max_rows=config.poll.walk_max_rows,
        )
        self.snapshot = Snapshot()
        self.districts = DistrictMetrics()  # coverage per district, with districts_geojson
        self.exporters: list[Exporter] = []
        self._stop = asyncio.Event()
        self._reload_requested = False
        self._wake = asyncio.Event()

    # --- lifecycle -------------------------------------------------------

    def current(self) -> Snapshot:
        return self.snapshot

    async def run(self) -> None:
        self._install_signals()
        await self._start_exporters()
        log.info(
            "wifimon started",
            extra={
                "targets": len(self.running.targets),
                "shard": str(self.metrics.shard),
                "interval": self.running.config.poll.interval,
            },
        )
        try:
            await self._loop()
        finally:
            await self._shutdown()

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        self._reload_requested = True
        self._wake.set()

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)

    async def _start_exporters(self) -> None:
        sections = self.running.config.exporter_settings()
        factories = load_exporter_factories(sections)
        for name, settings in sections.items():
            factory = factories.get(name)
            if factory is None:
                log.error("exporter not installed", extra={"exporter": name})
                continue
            exporter = factory(
                {**settings, STATE_DIR_KEY: self.running.config.state_dir}, self.current
            )
            await exporter.start()
            self.exporters.append(exporter)

    async def _shutdown(self) -> None:
        await asyncio.to_thread(self._save_state)
        for exporter in self.exporters:
            await exporter.stop()
        await self.transport.close()
        log.info("wifimon stopped")

    # --- the clock -------------------------------------------------------

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while not self._stop.is_set():
            poll = asyncio.create_task(self._round())
            next_tick += self.running.config.poll.interval
            while True:
                await self._wait(poll, next_tick)
                if self._stop.is_set():
                    poll.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await poll
                    return
                if poll.done():
                    break
                if loop.time() >= next_tick:
                    # Still polling at the next tick: skip that tick, count it.
                    self.metrics.overruns += 1
                    log.warning("poll overrun: the previous round is still running")
                    next_tick += self.running.config.poll.interval
            while not self._stop.is_set() and loop.time() < next_tick:
                if self._reload_requested:
                    self._reload()
                await self._wait(None, next_tick)

    async def _wait(self, task: asyncio.Task[None] | None, deadline: float) -> None:
        """Sleep until ``task`` ends, ``deadline`` passes or a signal wakes us."""
        timeout = max(0.0, deadline - asyncio.get_running_loop().time())
        wake = asyncio.create_task(self._wake.wait())
        waiters: set[asyncio.Task[object]] = {wake}
        if task is not None:
            waiters.add(task)
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        wake.cancel()
        self._wake.clear()

    async def _round(self) -> None:
        try:
            await self._poll_and_publish()
        except Exception:  # a bug must not stop the clock; the next round retries
            log.exception("poll round failed")

    async def _poll_and_publish(self) -> None:
        running = self.running
        result = await self.rounds.run(running.targets, jitter=running.config.poll.jitter)
        self.metrics.rounds.observe(result.duration)
        self._publish(result.snapshots)
        await asyncio.to_thread(self._save_state)
        # The round's replies, samples and state JSON are garbage now.
        await asyncio.to_thread(release_free_memory)
        log.debug("poll round done", extra={"seconds": round(result.duration, 3)})

    def _publish(self, snapshots: list[TargetSnapshot] | None = None) -> None:
        """Publish a new snapshot; without ``snapshots``, only the daemon's
        own metrics change (e.g. right after a reload)."""
        if snapshots is None:
            snapshots = list(self.snapshot.targets.values())
        now = time.time()
        stats = self.transport.stats
        daemon = self.metrics.samples(
            now,
            (h.up for h in self.rounds.health.values()),
            stats.requests,
            stats.retries,
            stats.dropped_replies,
        )
        daemon.extend(exporter_samples(self.exporters, now))
        polled = (ap for target in self.running.targets for ap in target.role.inventory)
        daemon.extend(self.districts.samples(self.running.config, polled, snapshots, now))
        daemon.extend(
            state_file_samples(
                now, self.store.write_errors_by_reason, self.store.load_errors_by_reason
            )
        )
        self.snapshot = Snapshot(
            targets={snap.target: snap for snap in snapshots},
            daemon=tuple(daemon),
            histograms={"wifimon_poll_duration_seconds": self.metrics.rounds.value()},
            generation=self.snapshot.generation + 1,
        )
        for exporter in self.exporters:
            exporter.publish(self.snapshot)

    def _count_shard(self, config: Config) -> None:
        self.metrics.shard = self.shard or config.shard or WHOLE_FLEET
        if self.metrics.shard == WHOLE_FLEET:
            self.metrics.fleet_targets = len(self.running.targets)
        else:
            self.metrics.fleet_targets = len(build_targets(config, WHOLE_FLEET))

    def _save_state(self) -> None:
        self.store.save(
            PersistedState(known_to_state(self.rounds.known), self.counters.export_state())
        )

    # --- reload ----------------------------------------------------------

    def _reload(self) -> None:
        self._reload_requested = False
        try:
            config = load_config(self.config_path, known_profiles=set(self.registry.profiles))
            targets = build_targets(config, self.shard)
        except ConfigError as error:
            self.metrics.count_reload(False, time.time())
            log.error("reload failed, keeping the running config", extra={"errors": str(error)})
            self._publish()
            return
        self.running = _Running(config, targets)
        self._count_shard(config)
        self.rounds.forget_targets({t.snmp.name for t in targets})
        self.metrics.count_reload(True, time.time())
        log.info("config reloaded", extra={"targets": len(targets)})
        self._publish()


def run_daemon(
    config_path: Path,
    on_ready: Callable[[Daemon], None] | None = None,
    shard: Shard | None = None,
    *,
    config: Config | None = None,
    registry: ProfileRegistry | None = None,
) -> None:
    limit_malloc_arenas()  # before the exporters' threads start

    async def main() -> None:
        daemon = Daemon(config_path, registry, shard=shard, config=config)
        tune_garbage_collector()
        if on_ready is not None:
            on_ready(daemon)
        await daemon.run()

    asyncio.run(main())
