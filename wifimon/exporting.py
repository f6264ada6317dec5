"""The seam to the output side.

Exporters live in the separate ``wifimon_exporters`` package and are found
through the ``wifimon.exporters`` entry-point group, so the core never imports
them. The daemon hands each one the newest ``Snapshot`` after every poll.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Protocol

from wifimon.snapshot import Snapshot

ENTRY_POINT_GROUP = "wifimon.exporters"


class Exporter(Protocol):
    """An output. ``publish`` must return quickly: it never does I/O inline."""

    async def start(self) -> None: ...

    def publish(self, snapshot: Snapshot) -> None: ...

    async def stop(self) -> None: ...


# An exporter is built from its own config section (already validated, as a
# plain mapping) and a callable that returns the newest snapshot.
ExporterFactory = Callable[[Mapping[str, object], Callable[[], Snapshot]], Exporter]


def load_exporter_factories() -> dict[str, ExporterFactory]:
    """Every installed exporter by name, e.g. ``{"prometheus": create}``."""
    factories: dict[str, ExporterFactory] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        factories[entry.name] = entry.load()
    return factories
