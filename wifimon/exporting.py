"""The seam to the output side.

Exporters live in the separate ``wifimon_exporters`` package and are found
through the ``wifimon.exporters`` entry-point group, so the core never imports
them. The daemon hands each one the newest ``Snapshot`` after every poll, and
adds the self-metrics of those that have some (``SelfReporting``) to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from wifimon.config.errors import ConfigIssue
from wifimon.snapshot import Sample, Snapshot

ENTRY_POINT_GROUP = "wifimon.exporters"
# An exporter whose settings point at files of their own (e.g. Prometheus'
# web config) offers a check under this group, so ``check-config`` finds a
# broken one before ``run`` would: ``check(settings) -> list[ConfigIssue]``.
CHECK_ENTRY_POINT_GROUP = "wifimon.exporter_checks"
# Each exporter's settings also hold the daemon's ``state_dir`` under this key
# (a ``Path``) for what must survive a restart; an exporter keeps its files in
# a sub-folder named after itself, e.g. ``<state_dir>/influxdb``.
STATE_DIR_KEY = "state_dir"

log = logging.getLogger("wifimon.exporting")


class Exporter(Protocol):
    """An output. ``publish`` must return quickly: it never does I/O inline."""

    async def start(self) -> None: ...

    def publish(self, snapshot: Snapshot) -> None: ...

    async def stop(self) -> None: ...


@runtime_checkable
class SelfReporting(Protocol):
    """An exporter with metrics of its own (daemon-entity catalogue entries,
    e.g. ``wifimon_influxdb_points_written_total``); the daemon adds them to
    the daemon samples of every snapshot it publishes."""

    def samples(self, now: float) -> Iterable[Sample]: ...


def exporter_samples(exporters: Iterable[Exporter], now: float) -> list[Sample]:
    """The self-metrics of every exporter that has some, stamped ``now``."""
    found: list[Sample] = []
    for exporter in exporters:
        if isinstance(exporter, SelfReporting):
            found.extend(exporter.samples(now))
    return found


# An exporter is built from its own config section (already validated, as a
# plain mapping) and a callable that returns the newest snapshot.
ExporterFactory = Callable[[Mapping[str, object], Callable[[], Snapshot]], Exporter]


def installed_exporters() -> set[str]:
    """Names of the installed exporters, e.g. ``{"prometheus", "stdout"}``."""
    return {entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)}


def load_exporter_factories(names: Iterable[str] | None = None) -> dict[str, ExporterFactory]:
    """Installed exporters by name, e.g. ``{"prometheus": create}``; only
    ``names`` when given, so a broken exporter nobody configured cannot stop
    the daemon. One that fails to import is logged and left out."""
    wanted = None if names is None else set(names)
    factories: dict[str, ExporterFactory] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if wanted is not None and entry.name not in wanted:
            continue
        try:
            factories[entry.name] = entry.load()
        except Exception:  # an exporter's own import error must not hide the others
            log.exception("exporter failed to load", extra={"exporter": entry.name})
    return factories


def check_exporter_settings(sections: Mapping[str, Mapping[str, object]]) -> list[ConfigIssue]:
    """What the installed checks find wrong in the configured exporters'
    ``sections`` (e.g. ``{"prometheus": {"web_config_file": Path(...)}}``);
    ``[]`` when nothing is."""
    issues: list[ConfigIssue] = []
    for entry in entry_points(group=CHECK_ENTRY_POINT_GROUP):
        if entry.name in sections:
            check: Callable[[Mapping[str, object]], list[ConfigIssue]] = entry.load()
            issues.extend(check(sections[entry.name]))
    return issues
