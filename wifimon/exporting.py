"""The seam to the output side.

Exporters live in the separate ``wifimon_exporters`` package and are found
through the ``wifimon.exporters`` entry-point group, so the core never imports
them. The daemon hands each one the newest ``Snapshot`` after every poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from typing import Protocol

from wifimon.snapshot import Snapshot

ENTRY_POINT_GROUP = "wifimon.exporters"

log = logging.getLogger("wifimon.exporting")


class Exporter(Protocol):
    """An output. ``publish`` must return quickly: it never does I/O inline."""

    async def start(self) -> None: ...

    def publish(self, snapshot: Snapshot) -> None: ...

    async def stop(self) -> None: ...


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
